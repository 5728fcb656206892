"""Common interface of the trust-region and cubic sub-problem solvers.

At an iterate with gradient ``g`` and (sub-sampled) Hessian ``H`` the
solvers minimise the quadratic model ``m(s) = g^T s + s^T H s / 2`` over
``||s|| <= radius`` (trust region) or the cubic model
``m(s) + sigma ||s||^3 / 3`` (ARC). A solver object belongs to one
``(g, H)`` pair and may keep work (a factorisation, a Krylov basis) between
calls with different radii or sigmas, as happens after rejected steps.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ...oracles.base import HessianModel

__all__ = ["Step", "Subproblem", "boundary_root", "cubic_model_value"]


class Step(NamedTuple):
    """A sub-problem solution.

    ``decrease = -m(s) >= 0`` is the model decrease (cubic term included for
    ARC), ``hits_boundary`` whether ``||s|| = radius`` (TR), ``n_products``
    the Hessian-vector products this call spent (0 when it reused earlier
    work), ``n_iter`` the inner (CG/Lanczos/Newton) iterations.
    """

    s: np.ndarray
    decrease: float
    hits_boundary: bool
    n_products: int
    n_iter: int


class Subproblem:
    """Base class; subclasses implement :meth:`solve_trust_region` and/or
    :meth:`solve_cubic`.

    Parameters
    ----------
    grad : ndarray of shape (d,)
    hess : HessianModel
    tol : float
        Relative tolerance of the inner iteration (on the model gradient,
        relative to ``||g||``).
    maxiter : int
        Maximum inner iterations (Hessian-vector products).
    rng : numpy.random.Generator
        For random restarts (Lanczos in the hard case).
    """

    name = "base"
    supports_cubic = False
    supports_trust_region = False
    needs_matrix = False

    def __init__(
        self,
        grad: np.ndarray,
        hess: HessianModel,
        *,
        tol: float = 1e-9,
        maxiter: int = 250,
        rng: np.random.Generator | None = None,
    ) -> None:
        self.g = grad
        self.H = hess
        self.gnorm = float(np.linalg.norm(grad))
        self.tol = float(tol)
        self.maxiter = int(maxiter)
        self.rng = rng if rng is not None else np.random.default_rng(0)

    def solve_trust_region(self, radius: float) -> Step:
        raise NotImplementedError(f"{self.name} does not solve trust-region sub-problems")

    def solve_cubic(self, sigma: float) -> Step:
        raise NotImplementedError(f"{self.name} does not solve cubic sub-problems")


def boundary_root(z: np.ndarray, p: np.ndarray, radius: float) -> float:
    """The ``tau >= 0`` with ``||z + tau p|| = radius`` (for ``||z|| <= radius``)."""
    a = float(p @ p)
    b = 2.0 * float(z @ p)
    c = float(z @ z) - radius * radius
    disc = math.sqrt(max(b * b - 4.0 * a * c, 0.0))
    # Cancellation-free form of (-b + disc) / (2a) (Golub & Van Loan, p. 97).
    if b >= 0:
        return -2.0 * c / (b + disc) if (b + disc) > 0 else 0.0
    return (-b + disc) / (2.0 * a)


def cubic_model_value(g: np.ndarray, s: np.ndarray, Hs: np.ndarray, sigma: float) -> float:
    """``g^T s + s^T H s / 2 + sigma ||s||^3 / 3`` given ``H s``."""
    ns = float(np.linalg.norm(s))
    return float(g @ s) + 0.5 * float(s @ Hs) + sigma * ns**3 / 3.0
