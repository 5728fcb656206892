"""The interface every trust-region or cubic sub-problem solver implements.

At an iterate with gradient ``g`` and (sub-sampled) Hessian ``H`` a solver
minimises the quadratic model ``m(s) = g^T s + s^T H s / 2`` over
``||s|| <= radius`` (trust region) or the cubic model
``m(s) + sigma ||s||^3 / 3`` (cubic regularisation, ARC). The outer loop
(:func:`randopt.optimize.newton_loop`) talks to a solver through four class
attributes and two methods, as SciPy's ``_trustregion.py`` talks to its
``BaseQuadraticSubproblem``:

``supports_trust_region``, ``supports_cubic`` : bool
    Which of the two models it can minimise.
``needs_matrix`` : bool
    It reads ``hess.matrix`` / ``hess.toarray()`` (the loop then forms the
    explicit Hessian).
``prefers_matrix`` : bool, optional (default False)
    It takes many products, so ``hessian_mode="auto"`` forms a small explicit
    Hessian (``d <= 1000``) of a finite sum for it.
``set_model(grad, hess, *, tol, max_iter, random_state) -> self``
    Bind the solver to one model. Called once per iterate; the loop then
    calls ``solve`` once per trial radius or sigma at that iterate (several
    after rejected steps), so work kept between calls (a factorisation, a
    Krylov basis) is reused.
``solve(*, radius=None, sigma=None) -> Step``
    Exactly one of ``radius`` (trust region) or ``sigma`` (cubic) is given.

``hess`` offers ``dim``, ``n_rows``, ``matrix`` (an ndarray or None),
``matvec(v)``, ``toarray()`` and ``n_products``, as
:class:`randopt.oracles.HessianModel` does. ``subproblem=`` of
:func:`randopt.optimize.trust_region` and :func:`randopt.optimize.arc`
accepts a name, a class (built without arguments) or an instance (for a
solver with options of its own); subclassing :class:`Subproblem` is
optional.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from ..._validation import check_random_state, check_scalar

__all__ = ["Step", "Subproblem", "boundary_root", "cubic_model_value"]


class Step(NamedTuple):
    """A sub-problem solution.

    Attributes
    ----------
    s : ndarray of shape (d,)
        The step.
    decrease : float
        ``-m(s) >= 0``, the model decrease (cubic term included for ARC).
    hits_boundary : bool
        Whether ``||s|| = radius`` (trust region; always False for ARC).
    n_products : int
        Hessian-vector products this call spent (0 when it reused earlier work).
    n_iter : int
        Inner (CG, Lanczos, Newton) iterations.

    Examples
    --------
    >>> import numpy as np
    >>> Step(np.zeros(2), 0.0, False, 0, 0).decrease
    0.0
    """

    s: np.ndarray
    decrease: float
    hits_boundary: bool
    n_products: int
    n_iter: int


class Subproblem:
    """Base class of the sub-problem solvers (see the module docstring).

    A subclass sets the class attributes and implements :meth:`solve`; it
    may override :meth:`set_model` to reset work it keeps per model (calling
    ``super().set_model``).

    Attributes
    ----------
    g : ndarray of shape (d,)
        Gradient of the current model (after :meth:`set_model`).
    H : HessianModel
        Hessian of the current model.
    gnorm : float
        ``||g||``.
    tol : float
        Relative tolerance of the inner iteration on the model gradient.
    max_iter : int
        Maximum inner iterations (Hessian-vector products) per model.
    rng : numpy.random.Generator
        Source of the random vectors some solvers draw (Lanczos restarts).

    Examples
    --------
    A user-written solver (the steepest-descent step to the boundary) that
    the solvers accept as ``subproblem=BoundarySteepestDescent``:

    >>> import numpy as np
    >>> from randopt.oracles import HessianModel
    >>> from randopt.optimize.subproblems import Step, Subproblem
    >>> class BoundarySteepestDescent(Subproblem):
    ...     supports_trust_region = True
    ...     def solve(self, *, radius=None, sigma=None):
    ...         s = -radius * self.g / self.gnorm
    ...         Hs = self.H.matvec(s)
    ...         return Step(s, -float(self.g @ s + 0.5 * s @ Hs), True, 1, 1)
    >>> H = HessianModel(2, 1, matrix=np.eye(2))
    >>> step = BoundarySteepestDescent().set_model(np.array([3.0, 4.0]), H).solve(radius=1.0)
    >>> step.s.tolist(), round(step.decrease, 12)
    ([-0.6, -0.8], 4.5)
    """

    name = ""  # the registry name of a built-in solver; error messages fall back to the class
    supports_trust_region = False
    supports_cubic = False
    needs_matrix = False
    prefers_matrix = False

    def set_model(
        self,
        grad: np.ndarray,
        hess: Any,
        *,
        tol: float = 1e-9,
        max_iter: int = 250,
        random_state: Any = None,
    ) -> Subproblem:
        """Bind the solver to the model with gradient ``grad`` and Hessian ``hess``.

        Parameters
        ----------
        grad : ndarray of shape (d,)
            Gradient at the iterate.
        hess : HessianModel
            (Sub-sampled) Hessian at the iterate.
        tol : float, default=1e-9
            Relative tolerance of the inner iteration (on the model gradient,
            relative to ``||g||``), in ``(0, 1)``.
        max_iter : int, default=250
            Maximum inner iterations (Hessian-vector products) for this model.
        random_state : None, int or numpy.random.Generator
            Source of randomness (a Generator is used as is, sharing the
            caller's stream).

        Returns
        -------
        Subproblem
            ``self``, so that ``solver.set_model(g, H).solve(radius=r)`` chains.

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import HessianModel
        >>> from randopt.optimize.subproblems import CauchyPoint
        >>> sub = CauchyPoint().set_model(np.ones(2), HessianModel(2, 1, matrix=np.eye(2)))
        >>> bool(sub.gnorm == np.sqrt(2))
        True
        """
        self.g = grad
        self.H = hess
        self.gnorm = float(np.linalg.norm(grad))
        self.tol = check_scalar(tol, "tol", low=0, high=1, low_inclusive=False,
                                high_inclusive=False)
        self.max_iter = check_scalar(max_iter, "max_iter", kind=int, low=1)
        self.rng = check_random_state(random_state)
        return self

    def solve(self, *, radius: float | None = None, sigma: float | None = None) -> Step:
        """Minimise the trust-region (``radius``) or the cubic (``sigma``) model.

        Parameters
        ----------
        radius : float, optional
            Trust-region radius (> 0).
        sigma : float, optional
            Cubic regularisation weight (> 0). Exactly one of the two is given.

        Returns
        -------
        Step
            The step and its model decrease.

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import HessianModel
        >>> from randopt.optimize.subproblems import ExactSubproblem
        >>> H = HessianModel(1, 1, matrix=np.eye(1))
        >>> sub = ExactSubproblem().set_model(np.array([1.0]), H)
        >>> sub.solve(radius=10.0).s.tolist(), sub.solve(sigma=1e-12).s.round(6).tolist()
        ([-1.0], [-1.0])
        """
        raise NotImplementedError(f"{type(self).__name__} must implement solve()")

    def _model_kind(self, radius: float | None, sigma: float | None) -> str:
        """``"trust_region"`` or ``"cubic"``, checking that exactly one parameter is given."""
        if (radius is None) == (sigma is None):
            raise TypeError(
                f"{type(self).__name__}.solve takes exactly one of radius= (trust region) "
                f"or sigma= (cubic regularisation); got radius={radius!r}, sigma={sigma!r}"
            )
        if getattr(self, "H", None) is None:
            raise RuntimeError(f"call {type(self).__name__}.set_model(grad, hess) before solve")
        if radius is not None:
            if not self.supports_trust_region:
                raise ValueError(f"{type(self).__name__} cannot solve trust-region sub-problems")
            return "trust_region"
        if not self.supports_cubic:
            raise ValueError(f"{type(self).__name__} cannot solve cubic sub-problems")
        return "cubic"


def boundary_root(z: np.ndarray, p: np.ndarray, radius: float) -> float:
    """The ``tau >= 0`` with ``||z + tau p|| = radius``, for ``||z|| <= radius``.

    Parameters
    ----------
    z : ndarray of shape (d,)
        A point inside the region.
    p : ndarray of shape (d,)
        A non-zero direction.
    radius : float
        The radius.

    Returns
    -------
    float
        The non-negative root of ``||z + tau p||^2 = radius^2``.

    References
    ----------
    .. [1] G. H. Golub and C. F. Van Loan, "Matrix Computations", 4th ed.
           (2013), p. 97 (cancellation-free quadratic roots).

    Examples
    --------
    >>> import numpy as np
    >>> boundary_root(np.zeros(2), np.array([3.0, 4.0]), 10.0)
    2.0
    """
    a = float(p @ p)
    b = 2.0 * float(z @ p)
    c = float(z @ z) - radius * radius
    disc = math.sqrt(max(b * b - 4.0 * a * c, 0.0))
    # Cancellation-free form of (-b + disc) / (2a).
    if b >= 0:
        return -2.0 * c / (b + disc) if (b + disc) > 0 else 0.0
    return (-b + disc) / (2.0 * a)


def cubic_model_value(g: np.ndarray, s: np.ndarray, Hs: np.ndarray, sigma: float) -> float:
    """The cubic model ``g^T s + s^T H s / 2 + sigma ||s||^3 / 3``, given ``H s``.

    Parameters
    ----------
    g, s, Hs : ndarray of shape (d,)
        Gradient, step and the Hessian-vector product ``H s``.
    sigma : float
        Cubic regularisation weight (0 gives the quadratic model).

    Returns
    -------
    float
        The model value at ``s``.

    Examples
    --------
    >>> import numpy as np
    >>> s = np.array([1.0, 0.0])
    >>> cubic_model_value(np.array([-1.0, 0.0]), s, s, 3.0)
    0.5
    """
    ns = float(np.linalg.norm(s))
    return float(g @ s) + 0.5 * float(s @ Hs) + sigma * ns**3 / 3.0
