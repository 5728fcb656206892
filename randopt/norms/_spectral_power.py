"""Power iteration on ``A^T A`` with an a-posteriori probabilistic upper bound.

The classic estimator of ``||A||_2`` (method ``"power"`` of
:func:`randopt.norms.spectral_norm`): ``x <- A^T A x / ||A^T A x||`` from a
Gaussian start on the short side.  The Rayleigh quotient ``||A x||`` rises
monotonically to ``||A||``.  Upper bound: for the polynomial
``p(t) = t**(j-1) (t - theta)`` with ``theta = ||A x_j||**2``,
``||p(A^T A) x_0|| = ||(A^T A)^(j-1) x_0|| ||A^T A x_j - theta x_j||``, and
the argument of :mod:`randopt.linalg.bounds` (van Dorsselaer, Hochstenbach
and van der Vorst [1]_) turns it into an upper bound that fails with
probability at most ``failure_probability``.  It is valid at every step but
closes slowly: power iteration converges to a value it cannot certify
quickly (Lanczos does, on the same products).

Stopping rule: the relative change of ``||A x||`` between steps falls to
``tol``, or the bracket does, or ``max_iter`` steps (default 1000).

References
----------
.. [1] J. L. M. van Dorsselaer, M. E. Hochstenbach and H. A. van der Vorst,
       "Computing probabilistic bounds for extreme eigenvalues of symmetric
       matrices with the Lanczos method", SIAM J. Matrix Anal. Appl. 22 (2000).
.. [2] J. Kuczynski and H. Wozniakowski, "Estimating the largest eigenvalue
       by the power and Lanczos algorithms with a random start", SIAM J.
       Matrix Anal. Appl. 13 (1992).
"""

from __future__ import annotations

import math

import numpy as np

from ..linalg import power_iteration
from ..linalg.bounds import EPS
from ._products import ScaledProducts, checked, vector_norm

__all__ = ["power_bracket"]


def power_bracket(
    B: ScaledProducts, rng: np.random.Generator, tol: float, max_iter: int | None,
    delta: float,
) -> dict:
    """Power iteration on ``B``: bracket and singular vectors in ``B``'s scale.

    Parameters
    ----------
    B : ScaledProducts
        Products with the rescaled matrix (:mod:`randopt.norms._products`).
    rng : numpy.random.Generator
        Source of the random start.
    tol : float
        Relative tolerance of the stopping rule (module docstring).
    max_iter : int or None
        Iteration limit (None: the module's default).
    delta : float
        Failure probability of the probabilistic upper bound.

    Returns
    -------
    dict
        ``lower`` (certified), ``upper`` (probabilistic), ``u``, ``v``, ``nit``.

    References
    ----------
    See the module docstring.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.operands import as_operand
    >>> from randopt.norms._products import ScaledProducts
    >>> from randopt.norms._spectral_power import power_bracket
    >>> B = ScaledProducts(as_operand(np.diag([3.0, 1.0, 0.5])), 0)
    >>> out = power_bracket(B, np.random.default_rng(0), 1e-10, None, 1e-6)
    >>> bool(out["lower"] <= 3.0 <= out["upper"]), round(out["lower"], 8)
    (True, 3.0)
    """
    fwd, bwd, d, flipped = B.oriented()
    products: dict[str, float] = {}

    def gram_matvec(x: np.ndarray) -> np.ndarray:
        y = fwd(x)
        products["theta"] = checked(float(y @ y))  # x^T C x as ||B x||**2: no cancellation
        return bwd(y)

    state = {"prev": 0.0}

    def stop(theta: float, upper_sq: float) -> bool:
        sigma = math.sqrt(theta)
        if abs(sigma - state["prev"]) <= tol * sigma or math.sqrt(upper_sq) - sigma <= tol * sigma:
            return True
        state["prev"] = sigma
        return False

    run = power_iteration(
        gram_matvec, rng.standard_normal(d), tol=None,
        max_iter=1000 if max_iter is None else max_iter,
        rayleigh=lambda x, z: products["theta"], failure_probability=delta,
        # rounding of the computed residual C x - theta x (one product of each side)
        residual_error=lambda zn: 4 * (max(B.shape) + 2) * EPS * zn,
        stop=stop, norm=lambda z: checked(vector_norm(z)),
    )
    # Out of iterations: certify the next iterate (one product better, already paid for).
    x = run.vector if run.converged else run.next_vector
    # The products' own rounding (ScaledProducts.krylov_upper), at their precision.
    return {**B.certified_bracket(x, flipped, math.sqrt(run.upper), run.nit), "nit": run.nit}
