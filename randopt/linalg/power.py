"""Power iteration on a symmetric positive semi-definite operator given by its products.

``x <- B x / ||B x||`` from a start vector; the Rayleigh quotient
``theta = x^T B x`` rises to the largest eigenvalue (for ``B`` positive
semi-definite) at the rate ``(lambda_2 / lambda_1)**(2k)`` (Golub and Van
Loan [2]_, section 8.2.1).  From a random start (Kuczynski and
Wozniakowski [1]_) the run also gives a probabilistic upper bound: for the
polynomial ``p(t) = t**(j-1) (t - theta_j)``,
``||p(B) x_0|| = ||B^(j-1) x_0|| ||B x_j - theta_j x_j||``, which
:func:`randopt.linalg.bounds.polynomial_upper_bound` turns into a bound that
fails with a chosen probability; the caller, who knows how its products
round, adds that error through ``residual_error``.

Used by the spectral norm estimators (``B = A^T A``) and by adaptive batch
SGD's curvature estimate.

References
----------
.. [1] J. Kuczynski and H. Wozniakowski, "Estimating the largest eigenvalue
       by the power and Lanczos algorithms with a random start", SIAM J.
       Matrix Anal. Appl. 13 (1992).
.. [2] G. H. Golub and C. F. Van Loan, "Matrix computations", 4th ed., Johns
       Hopkins (2013), section 8.2.
.. [3] J. L. M. van Dorsselaer, M. E. Hochstenbach and H. A. van der Vorst,
       "Computing probabilistic bounds for extreme eigenvalues of symmetric
       matrices with the Lanczos method", SIAM J. Matrix Anal. Appl. 22 (2000).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_random_state, check_scalar, check_vector
from .bounds import EPS, log_beta_quantile, polynomial_upper_bound

__all__ = ["PowerResult", "power_iteration"]


@dataclass(frozen=True)
class PowerResult:
    """Outcome of :func:`power_iteration`.

    Attributes
    ----------
    eigenvalue : float
        The last Rayleigh quotient ``x^T B x`` (0 when ``B x = 0``).
    vector : ndarray
        The unit iterate ``x`` of that quotient.
    next_vector : ndarray
        ``B x / ||B x||``, the next iterate (a warm start for a later run;
        ``vector`` when ``B x = 0``).
    upper : float
        Probabilistic upper bound on the largest eigenvalue (``inf`` unless
        ``failure_probability`` was given).
    n_matvec : int
        Products with ``B`` (one per iteration).
    nit : int
        Iterations.
    converged : bool
        The stopping rule (not the iteration limit) ended the run.
    """

    eigenvalue: float
    vector: np.ndarray
    next_vector: np.ndarray
    upper: float
    n_matvec: int
    nit: int
    converged: bool


def power_iteration(
    matvec: Callable[[np.ndarray], np.ndarray],
    start: np.ndarray | None = None,
    *,
    dim: int | None = None,
    tol: float | None = 1e-2,
    max_iter: int = 20,
    rayleigh: Callable[[np.ndarray, np.ndarray], float] | None = None,
    failure_probability: float | None = None,
    residual_error: Callable[[float], float] | None = None,
    stop: Callable[[float, float], bool] | None = None,
    norm: Callable[[np.ndarray], float] | None = None,
    random_state: Any = None,
) -> PowerResult:
    """Largest eigenvalue of a symmetric positive semi-definite ``B`` by power iteration.

    Parameters
    ----------
    matvec : callable
        ``matvec(x) -> B x``.
    start : ndarray, optional
        Start vector (normalised here); None: a Gaussian one (``dim`` required).
        The upper bound needs a random start (None, or a Gaussian vector).
    dim : int, optional
        Order of ``B`` when ``start`` is None.
    tol : float or None, default=1e-2
        Stop when two consecutive Rayleigh quotients differ by at most
        ``tol`` times the latest (None: no such test).
    max_iter : int, default=20
        Largest number of products.
    rayleigh : callable, optional
        ``rayleigh(x, Bx) -> theta`` (default ``x @ Bx``); a caller with a
        more accurate form (``||A x||**2`` for ``B = A^T A``) passes it.
    failure_probability : float, optional
        Compute the upper bound of the module docstring, failing with at
        most this probability.
    residual_error : callable, optional
        ``residual_error(||B x||)``: a bound on the rounding error of the
        computed residual ``B x - theta x`` (default ``0``), and
        ``16 j eps theta`` is added to the bound after ``j`` steps.
    stop : callable, optional
        ``stop(theta, upper) -> bool`` after each step; True ends the run.
    norm : callable, optional
        Euclidean norm of the products (default :func:`numpy.linalg.norm`).
    random_state : None, int or numpy.random.Generator
        Source of a random start.

    Returns
    -------
    PowerResult

    References
    ----------
    .. [1] J. Kuczynski and H. Wozniakowski, SIAM J. Matrix Anal. Appl. 13 (1992).
    .. [2] G. H. Golub and C. F. Van Loan, "Matrix computations", 4th ed. (2013),
           section 8.2.1.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.linalg import power_iteration
    >>> res = power_iteration(np.diag([3.0, 1.0]).dot, dim=2, tol=1e-12, max_iter=100,
    ...                       failure_probability=1e-6, random_state=0)
    >>> round(res.eigenvalue, 8), bool(3.0 <= res.upper < 3.2)
    (3.0, True)
    """
    if not callable(matvec):
        raise TypeError(f"matvec must be callable, got {type(matvec).__name__}")
    max_iter = check_scalar(max_iter, "max_iter", kind=int, low=1)
    tol = check_scalar(tol, "tol", low=0.0, allow_none=True)
    failure_probability = check_scalar(failure_probability, "failure_probability", low=0.0,
                                       high=1.0, low_inclusive=False, high_inclusive=False,
                                       allow_none=True)
    if start is None:
        if dim is None:
            raise ValueError("power_iteration needs `dim` when `start` is None")
        dim = check_scalar(dim, "dim", kind=int, low=1)
        start = check_random_state(random_state).standard_normal(dim)
    x = check_vector(start, "start")
    if not np.any(x):
        raise ValueError("start is the zero vector; pass a nonzero start or None")
    x = x / np.linalg.norm(x)
    bound = failure_probability is not None
    log_s = log_beta_quantile(x.shape[0], failure_probability) if bound else 0.0
    log_norm = 0.0  # log ||B^(j-1) x_0||
    upper = math.inf
    theta = math.nan
    prev = math.nan
    nxt = x
    it = 0
    converged = False
    for it in range(1, max_iter + 1):  # noqa: B007 (it is reported)
        z = matvec(x)
        theta = float(x @ z) if rayleigh is None else float(rayleigh(x, z))
        zn = float(np.linalg.norm(z)) if norm is None else float(norm(z))
        if zn == 0.0:
            # B x = 0 for a random start: B = 0 except with probability zero.
            theta, upper, nxt, converged = 0.0, 0.0 if bound else upper, x, True
            break
        if bound:
            # The residual as a vector (sqrt(zn^2 - theta^2) cancels catastrophically once
            # it nears sqrt(eps) zn), plus its rounding error: a larger one only loosens.
            r = z - theta * x
            res = float(np.linalg.norm(r)) if norm is None else float(norm(r))
            if residual_error is not None:
                res += residual_error(zn)
            up = polynomial_upper_bound(
                np.array([0.0, theta]), np.array([it - 1, 1]), log_norm + math.log(res), log_s
            )
            upper = min(upper, up + 16 * it * EPS * theta)
        nxt = z / zn
        if tol is not None and math.isfinite(prev) and abs(theta - prev) <= tol * abs(theta):
            converged = True
        if stop is not None and stop(theta, upper):
            converged = True
        if converged or it == max_iter:
            break
        prev = theta
        log_norm += math.log(zn)
        x = nxt
    return PowerResult(eigenvalue=theta, vector=x, next_vector=nxt, upper=upper,
                       n_matvec=it, nit=it, converged=converged)
