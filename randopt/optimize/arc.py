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
:class:`randopt.optimize.CubicRegularizationPolicy`.

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

from .loop import newton_loop
from .policies import CubicRegularizationPolicy

__all__ = ["arc"]


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
    subproblem_tol: float = 1e-9,
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
    x0 : array-like of shape (d,)
        Starting point.
    hessian_sampling : {"auto", "uniform", "nonuniform", "full"}, default="auto"
        As in :func:`randopt.optimize.trust_region` (``"auto"``: uniform
        for finite sums, full otherwise; with ``hessian_sample_size="auto"``
        the schedule may switch to the exact Hessian).
    hessian_sample_size : "auto", int or float, default="auto"
        Rows per Hessian sample (count or fraction; the papers use 0.05), or
        ``"auto"``: the :class:`randopt.optimize.AdaptiveSampleSize`
        schedule, as in :func:`randopt.optimize.trust_region`.
    gradient_sample_size : int or float, optional
        Rows of a uniform gradient sample (default: full gradient).
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
    eta1, eta2, gamma1, gamma2 : float, default=0.8, 1e-4, 2.0, 1.2
        ``rho < eta2``: reject, ``sigma * gamma1``; ``eta2 <= rho < eta1``:
        accept, ``sigma / gamma2``; ``rho >= eta1``: accept, ``sigma / gamma1``.
    gtol : float, default=1e-6
        Stop when the gradient norm is at most ``gtol``.
    curvature_tol : float, optional
        Also require ``lambda_min(H) >= -curvature_tol``; otherwise step
        along the leftmost eigenvector (to the cubic model's minimiser on it).
    max_iter : int, default=1000
        Maximum trial steps.
    max_props : float, default=inf
        Maximum propagations.
    max_time : float, default=inf
        Maximum seconds.
    subproblem_tol : float, default=1e-9
        Relative tolerance of the Lanczos solver, in ``(0, 1)``.
    subproblem_max_iter : int, default=250
        Maximum Hessian-vector products per sub-problem.
    hessian_mode : {"auto", "explicit", "hessp"}, default="auto"
        As in :func:`randopt.optimize.trust_region`.
    callback : callable, optional
        As in :func:`randopt.optimize.trust_region`.
    random_state : None, int or numpy.random.Generator
        Source of every random draw.

    Returns
    -------
    scipy.optimize.OptimizeResult
        As :func:`randopt.optimize.trust_region`, with a ``sigma`` history
        column instead of ``radius``.

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
