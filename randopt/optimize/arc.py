"""Adaptive cubic regularisation (ARC) with a sub-sampled (inexact) Hessian.

At ``x_k`` minimise the cubic model ``g^T s + s^T H_k s / 2 + sigma ||s||^3 / 3``
(``H_k`` estimated from a row sample) and accept ``x_k + s`` when
``rho >= eta2``; ``sigma`` adapts like an inverse radius. Defaults follow
the reference code of Xu, Roosta and Mahoney [1]_: ``sigma0 = 1e-4``;
``rho < 1e-4``: reject, ``sigma * 2``; ``1e-4 <= rho < 0.8``: accept,
``sigma / 1.2``; ``rho >= 0.8``: accept, ``sigma / 2``; ``sigma`` never falls
below ``sigma_min`` (Cartis, Gould and Toint [2]_). The sub-problem is
solved by the Lanczos method on a tridiagonal cubic model solved to high
accuracy (Cartis, Gould and Toint [2]_), exactly, or by the Cauchy point.
With a sufficiently accurate sampled Hessian ARC keeps the optimal
``O(max(eps_g^-3/2, eps_H^-3))`` iteration complexity of exact ARC ([1]_).
The sample size defaults to ``"auto"``
(:class:`randopt.optimize.AdaptiveSampleSize`); the papers' fixed 5% is
``hessian_sample_size=0.05``.
The loop is :func:`randopt.optimize.newton_loop` with a
:class:`CubicRegularizationPolicy`, defined here with the method (as SciPy keeps a
sub-problem class beside its method); the options shared with the other
solvers are documented once (:mod:`randopt.optimize._options`).

References
----------
.. [1] P. Xu, F. Roosta and M. W. Mahoney, "Newton-type methods for non-convex
       optimization under inexact Hessian information", Math. Program. 184
       (2020), 35-70.
.. [2] C. Cartis, N. I. M. Gould and P. L. Toint, "Adaptive cubic
       regularisation methods for unconstrained optimization. Part I",
       Math. Program. 127 (2011), 245-295.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

from .._validation import check_scalar
from ._options import fill_doc
from .loop import RatioTestPolicy, newton_loop
from .subproblems import Step

__all__ = ["arc", "CubicRegularizationPolicy"]


@fill_doc
def arc(
    objective: Any,
    x0: Any,
    *,
    hessian_sampling: str = "auto",
    hessian_sample_size: int | float | str = "auto",
    gradient_sample_size: int | float | None = None,
    subproblem: Any = "lanczos",
    sigma0: float = 1e-4,
    sigma_min: float = 1e-16,
    max_sigma: float = math.inf,
    eta1: float = 0.8,
    eta2: float = 1e-4,
    gamma1: float = 2.0,
    gamma2: float = 1.2,
    gtol: float = 1e-6,
    curvature_tol: float | None = None,
    max_iter: int = 1000,
    max_props: float = math.inf,
    max_time: float = math.inf,
    subproblem_tol: Any = "auto",
    subproblem_max_iter: int = 250,
    hessian_mode: str = "auto",
    callback: Callable[[np.ndarray, dict], Any] | None = None,
    random_state: Any = None,
) -> OptimizeResult:
    """Minimise a finite sum by adaptive cubic regularisation with a sub-sampled Hessian.

    Parameters
    ----------
    objective : Objective or tuple
        As in :func:`randopt.optimize.trust_region`: a :mod:`randopt.oracles`
        objective or a tuple ``(fun, grad, hessp)``.
    %(x0)s
    %(hessian_sampling)s
    hessian_sample_size : "auto", int or float, default="auto"
        Rows per Hessian sample (count or fraction; the papers use 0.05), or
        %(auto_sample_size)s
    %(gradient_sample_size)s
    subproblem : str, Subproblem class or instance, default="lanczos"
        ``"lanczos"`` (Lanczos with the tridiagonal cubic model solved by the
        secular equation), ``"exact"`` (eigendecomposition: global, hard case
        included) or ``"cauchy"`` (Cauchy point); or a solver implementing
        :class:`randopt.optimize.subproblems.Subproblem` with
        ``supports_cubic``.
    sigma0 : float, default=1e-4
        Initial cubic regularisation weight (> 0).
    sigma_min : float, default=1e-16
        Floor of ``sigma`` (``0 <= sigma_min <= sigma0``; 0 removes it).
    max_sigma : float, default=inf
        Ceiling of ``sigma`` (``>= sigma0``).
    %(eta1)s
    %(gamma1)s
    %(gtol)s
    %(curvature_tol)s
    %(max_iter)s
    %(max_props)s
    %(max_time)s
    %(subproblem_tol)s
    %(subproblem_max_iter)s
    %(hessian_mode)s
    %(callback)s
    %(random_state)s

    Returns
    -------
    %(result)s

    References
    ----------
    .. [1] C. Cartis, N. I. M. Gould and P. L. Toint, "Adaptive cubic
           regularisation methods for unconstrained optimization. Part I",
           Math. Program. 127 (2011), 245-295.
    .. [2] P. Xu, F. Roosta and M. W. Mahoney, "Newton-type methods for
           non-convex optimization under inexact Hessian information",
           Math. Program. 184 (2020), 35-70.
    .. [3] R. Bollapragada, R. H. Byrd and J. Nocedal, "Exact and inexact
           subsampled Newton methods for optimization", IMA J. Numer. Anal.
           39 (2019), 545-578 (the ``"auto"`` sample size).

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.oracles import LogisticObjective
    >>> from randopt.optimize import arc
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((2000, 5)); y = (X @ np.ones(5) > 0)
    >>> res = arc(LogisticObjective(X, y, alpha=1e-2), np.zeros(5), random_state=0)
    >>> bool(res.success), bool(res.history["sigma"].min() >= 1e-16)
    (True, True)
    """
    policy = CubicRegularizationPolicy(sigma0=sigma0, sigma_min=sigma_min, max_sigma=max_sigma,
                                       eta1=eta1, eta2=eta2, gamma1=gamma1, gamma2=gamma2)
    return newton_loop(
        objective, x0, policy,
        subproblem=subproblem, hessian_sampling=hessian_sampling,
        hessian_sample_size=hessian_sample_size, gradient_sample_size=gradient_sample_size,
        hessian_mode=hessian_mode, gtol=gtol, curvature_tol=curvature_tol, max_iter=max_iter,
        max_props=max_props, max_time=max_time, subproblem_tol=subproblem_tol,
        subproblem_max_iter=subproblem_max_iter, callback=callback, random_state=random_state,
    )


# A sigma shrunk below the smallest normal float (possible only with sigma_min = 0)
# stays there (a sub-problem refuses sigma = 0).
_TINY = float(np.finfo(np.float64).tiny)


class CubicRegularizationPolicy(RatioTestPolicy):
    """Cubic weight ``sigma``, its update, and cubic-regularisation steps (ARC).

    Parameters
    ----------
    sigma0 : float, default=1e-4
        Initial weight (> 0, finite).
    sigma_min : float, default=1e-16
        Lower floor of ``sigma`` (``0 <= sigma_min <= sigma0``), as in
        Cartis, Gould and Toint's ARC (``sigma_min > 0`` in their
        complexity analysis).
    max_sigma : float, default=inf
        Upper bound of ``sigma`` (``>= sigma0``).
    eta1, eta2 : float, default=0.8, 1e-4
        Ratio thresholds, ``0 < eta2 <= eta1 < 1``.
    gamma1, gamma2 : float, default=2.0, 1.2
        Factors, ``gamma1 > 1``, ``gamma2 >= 1`` (see the module docstring).

    Attributes
    ----------
    value : float
        The current ``sigma`` (``nan`` until :meth:`start`).

    References
    ----------
    .. [1] C. Cartis, N. I. M. Gould and P. L. Toint, "Adaptive cubic
           regularisation methods for unconstrained optimization. Part I",
           Math. Program. 127 (2011), 245-295.
    .. [2] P. Xu, F. Roosta and M. W. Mahoney, "Newton-type methods for
           non-convex optimization under inexact Hessian information",
           Math. Program. 184 (2020), Algorithm 2.

    Examples
    --------
    >>> policy = CubicRegularizationPolicy(sigma0=1.0, sigma_min=0.4)
    >>> policy.start()
    >>> [policy.update(rho) for rho in (0.9, 0.9, -1.0)], policy.value
    ([True, True, False], 0.8)
    """

    parameter_name = "sigma"
    uses = "supports_cubic"
    _model_name = "cubic"
    _alternatives = "; use 'lanczos', 'exact' or 'cauchy'"

    def __init__(
        self,
        sigma0: float = 1e-4,
        sigma_min: float = 1e-16,
        max_sigma: float = math.inf,
        eta1: float = 0.8,
        eta2: float = 1e-4,
        gamma1: float = 2.0,
        gamma2: float = 1.2,
    ) -> None:
        super().__init__(eta1, eta2, gamma1, gamma2)
        self.sigma0 = check_scalar(sigma0, "sigma0", low=0, low_inclusive=False)
        self.sigma_min = check_scalar(sigma_min, "sigma_min", low=0, high=self.sigma0)
        self.max_sigma = check_scalar(max_sigma, "max_sigma", low=self.sigma0, allow_inf=True)

    def start(self) -> None:
        """Reset ``sigma`` to ``sigma0`` (the loop calls this once per run).

        Examples
        --------
        >>> p = CubicRegularizationPolicy(sigma0=2.0); p.start(); p.value
        2.0
        """
        self.value = self.sigma0

    def step(self, solver: Any) -> Step:
        """Ask a solver bound to the current model for a cubic-regularisation step.

        Parameters
        ----------
        solver : Subproblem
            Bound by ``set_model`` to the current gradient and Hessian.

        Returns
        -------
        Step
            ``solver.solve(sigma=value)``.

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import HessianModel
        >>> from randopt.optimize.subproblems import ExactSubproblem
        >>> p = CubicRegularizationPolicy(sigma0=1.0); p.start()
        >>> H = HessianModel(1, 1, matrix=np.eye(1))
        >>> sub = ExactSubproblem().set_model(np.array([2.0]), H)
        >>> np.round(p.step(sub).s, 12).tolist()
        [-1.0]
        """
        return solver.solve(sigma=self.value)

    def eigen_step(self, g: np.ndarray, lam: float, u: np.ndarray) -> tuple[np.ndarray, float]:
        """The minimiser of the cubic model along a direction of negative curvature.

        Parameters
        ----------
        g : ndarray of shape (d,)
            Gradient.
        lam : float
            ``u^T H u < 0``, the curvature along ``u``.
        u : ndarray of shape (d,)
            Unit vector with ``u^T g <= 0``.

        Returns
        -------
        s : ndarray of shape (d,)
            ``t u`` with ``t = -lam / sigma``, which minimises
            ``lam t^2 / 2 + sigma t^3 / 3``.
        decrease : float
            ``-m(s) = -(g^T s + lam t^2 / 2 + sigma t^3 / 3) > 0``.

        Examples
        --------
        >>> import numpy as np
        >>> p = CubicRegularizationPolicy(sigma0=1.0); p.start()
        >>> s, decrease = p.eigen_step(np.zeros(1), -3.0, np.array([1.0]))
        >>> s.tolist(), decrease  # t = 3: 9 * 3 / 2 - 27 / 3
        ([3.0], 4.5)
        """
        t = -lam / self.value
        s = t * u
        return s, -(float(g @ s) + 0.5 * lam * t * t + self.value * t**3 / 3.0)

    def update(self, rho: float) -> bool:
        """Update ``sigma`` from the ratio ``rho``; return whether the step is accepted.

        Parameters
        ----------
        rho : float
            Actual over predicted decrease (``-inf`` for a non-finite trial value).

        Returns
        -------
        bool
            Whether the step is accepted (``rho >= eta2``).

        Examples
        --------
        >>> p = CubicRegularizationPolicy(sigma0=1.0); p.start()
        >>> p.update(0.0), p.value
        (False, 2.0)
        """
        accepted = self.accepts(rho)
        if not accepted:
            self.value = min(self.value * self.gamma1, self.max_sigma)
        elif rho < self.eta1:
            self.value = max(self.value / self.gamma2, self.sigma_min, _TINY)
        else:
            self.value = max(self.value / self.gamma1, self.sigma_min, _TINY)
        return accepted

    def exhausted(self, x_norm: float) -> bool:
        """Whether ``sigma`` overflowed (steps can no longer be computed).

        Parameters
        ----------
        x_norm : float
            ``||x||`` of the current iterate (unused: ``sigma`` has no scale of ``x``).

        Returns
        -------
        bool
            ``sigma`` is infinite.

        Examples
        --------
        >>> p = CubicRegularizationPolicy(); p.start(); p.exhausted(1.0)
        False
        """
        return not math.isfinite(self.value)
