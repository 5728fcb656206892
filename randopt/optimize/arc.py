"""Adaptive cubic regularisation (ARC) with a sub-sampled (inexact) Hessian.

At ``x_k`` minimise the cubic model ``g^T s + s^T H_k s / 2 + sigma ||s||^3 / 3``
(``H_k`` estimated from a row sample) and accept ``x_k + s`` when
``rho >= eta2``; ``sigma`` adapts like an inverse radius. Defaults follow
the reference code of Xu, Roosta and Mahoney [1]_: ``sigma0 = 1e-4``;
``rho < 1e-4``: reject, ``sigma * 2``; ``1e-4 <= rho < 0.8``: accept,
``sigma / 1.2``; ``rho >= 0.8``: accept, ``sigma / 2``. The sub-problem is
solved by the Lanczos method on a tridiagonal cubic model solved to high
accuracy (Cartis, Gould and Toint [2]_), exactly, or by the Cauchy point.
With a sufficiently accurate sampled Hessian ARC keeps the optimal
``O(max(eps_g^-3/2, eps_H^-3))`` iteration complexity of exact ARC ([1]_).

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

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

from ..oracles.base import Objective
from . import _driver

__all__ = ["arc"]


def arc(
    objective: Objective,
    x0: Any,
    *,
    hessian_sampling: str = "uniform",
    hessian_sample_size: int | float = 0.05,
    gradient_sample_size: int | float | None = None,
    subproblem: str = "lanczos",
    sigma0: float = 1e-4,
    max_sigma: float = np.inf,
    eta1: float = 0.8,
    eta2: float = 1e-4,
    gamma1: float = 2.0,
    gamma2: float = 1.2,
    gtol: float = 1e-6,
    curvature_tol: float | None = None,
    max_iter: int = 1000,
    max_props: float = np.inf,
    max_time: float = np.inf,
    subproblem_tol: float = 1e-9,
    subproblem_maxiter: int = 250,
    hessian_mode: str = "auto",
    callback: Callable[[np.ndarray, dict], dict | None] | None = None,
    random_state: Any = None,
) -> OptimizeResult:
    """Minimise a finite sum by adaptive cubic regularisation with a sub-sampled Hessian.

    Parameters
    ----------
    objective, x0, hessian_sampling, hessian_sample_size, gradient_sample_size
        As in :func:`randopt.optimize.trust_region`.
    subproblem : {"lanczos", "exact", "cauchy"}, default="lanczos"
        Lanczos with the tridiagonal cubic model solved by the secular
        equation, eigendecomposition (global, hard case included), or Cauchy
        point.
    sigma0 : float, default=1e-4
        Initial cubic regularisation weight.
    max_sigma : float, default=inf
    eta1, eta2, gamma1, gamma2 : float
        ``rho < eta2``: reject, ``sigma * gamma1``; ``eta2 <= rho < eta1``:
        accept, ``sigma / gamma2``; ``rho >= eta1``: accept, ``sigma / gamma1``.
    gtol, curvature_tol, max_iter, max_props, max_time, subproblem_tol,
    subproblem_maxiter, hessian_mode, callback, random_state
        As in :func:`randopt.optimize.trust_region`.

    Returns
    -------
    OptimizeResult
        As :func:`randopt.optimize.trust_region`, with a ``sigma`` history
        column instead of ``radius``.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.oracles import LogisticRegression
    >>> from randopt.optimize import arc
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((2000, 5)); y = (X @ np.ones(5) > 0)
    >>> res = arc(LogisticRegression(X, y, alpha=1e-2), np.zeros(5), random_state=0)
    >>> bool(res.success)
    True
    """
    return _driver.run(
        "arc", objective, x0,
        hessian_sampling=hessian_sampling, hessian_sample_size=hessian_sample_size,
        gradient_sample_size=gradient_sample_size, subproblem=subproblem,
        param0=sigma0, param_max=max_sigma, eta1=eta1, eta2=eta2, gamma1=gamma1,
        gamma2=gamma2, gtol=gtol, curvature_tol=curvature_tol, max_iter=max_iter,
        max_props=max_props, max_time=max_time, subproblem_tol=subproblem_tol,
        subproblem_maxiter=subproblem_maxiter, hessian_mode=hessian_mode,
        callback=callback, random_state=random_state,
    )
