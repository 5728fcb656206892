"""Spectral norm ``||A||_2`` of dense, sparse and implicit matrices, with bounds.

Four methods, all returning a certified lower bound and an upper bound:

``"lanczos"`` (default)
    Golub-Kahan-Lanczos bidiagonalisation [1]_ from a Gaussian start, with full
    reorthogonalisation of the short-side basis (one-sided, Simon and Zha
    [2]_; the long side is never stored, so a 10**6-row matrix costs a few
    vectors).  The Ritz values of ``B_k^T B_k`` are those of Lanczos on
    ``A^T A``, whose Lanczos polynomial has norm
    ``prod_j alpha_j beta_(j+1)``; :mod:`randopt.norms._bounds` turns it into a
    probabilistic upper bound (van Dorsselaer, Hochstenbach and van der Vorst
    [3]_).  **Stopping rule**: the relative bracket ``(upper - lower)/lower``
    falls to ``tol``, or ``maxiter`` steps.
``"power"``
    Power iteration on ``A^T A`` (the classic estimator).  Stopping rule: the
    relative change of the Rayleigh quotient ``||A x||`` falls to ``tol``
    between steps.  Its a-posteriori upper bound (polynomial
    ``t**j (t - theta)``) is valid but slow to close: power iteration
    converges to a value it cannot certify.
``"randomized"``
    Randomised subspace iteration [4]_ on a Gaussian sketch
    (:func:`randopt.sketch.gaussian`): range finder, then a small SVD.  Upper
    bound: ``||A||**2 <= ||Q^T A||**2 + ||(I - QQ^T) A||**2`` with the
    residual bounded by Halko-Martinsson-Tropp's estimate from ``r``
    Gaussian test vectors, ``P(||E|| > a sqrt(2/pi) max_i ||E w_i||) <= a**-r``
    [4]_ (tight only when ``A`` is numerically low-rank), or by the
    power-method polynomial bound of the block's first column, whichever is
    smaller.  Stopping rule: relative change of the top Ritz value below
    ``tol``.
``"exact"``
    Dense SVD (LAPACK ``gesdd``); sparse and implicit inputs are densified up
    to ``10**8`` entries.

Every ``lower`` is a Rayleigh quotient ``||A v|| / ||v||`` evaluated at the
end, shrunk by a relative rounding margin ``4 (n + 2) eps`` (the order of the
product's forward error), so that rounding cannot lift it above ``||A||``.
For explicit matrices the deterministic bounds ``||A||_F`` and
``sqrt(||A||_1 ||A||_inf)`` are also tried and used when they
are smaller (their failure probability is zero).

References
----------
.. [1] G. Golub and W. Kahan, "Calculating the singular values and
       pseudo-inverse of a matrix", SIAM J. Numer. Anal. 2 (1965).
.. [2] H. D. Simon and H. Zha, "Low-rank matrix approximation using the
       Lanczos bidiagonalization process with applications", SIAM J. Sci.
       Comput. 21 (2000).
.. [3] J. L. M. van Dorsselaer, M. E. Hochstenbach and H. A. van der Vorst,
       "Computing probabilistic bounds for extreme eigenvalues of symmetric
       matrices with the Lanczos method", SIAM J. Matrix Anal. Appl. 22 (2000).
.. [4] N. Halko, P.-G. Martinsson and J. A. Tropp, "Finding structure with
       randomness", SIAM Review 53 (2011), algorithms 4.4 and section 4.3.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.linalg import eigh_tridiagonal
from scipy.optimize import OptimizeResult

from .._validation import check_matrix, check_positive_int, check_random_state, is_operator
from ..distributed._detect import is_dask_array
from ._bounds import (
    EPS,
    dixon_upper_bound,
    log_beta_quantile,
    polynomial_upper_bound,
    reorthogonalize,
)

__all__ = ["spectral_norm", "SpectralNormResult"]

_METHODS = ("lanczos", "power", "randomized", "exact")
_DENSE_LIMIT = 10**8


class SpectralNormResult(OptimizeResult):
    """Result of :func:`spectral_norm` (an :class:`scipy.optimize.OptimizeResult`).

    Attributes
    ----------
    norm : float
        The estimate (the certified lower bound for iterative methods).
    lower : float
        Certified lower bound ``||A v||`` (a Rayleigh quotient).
    upper : float
        Upper bound; ``failure_probability`` is the probability (over the
        method's random start) that it is wrong, 0 for exact bounds.
    upper_kind : str
        ``"exact"``, ``"deterministic"`` (Frobenius / Holder) or
        ``"probabilistic"`` (Lanczos polynomial or HMT test vectors).
    failure_probability : float
    u, v : ndarray
        Unit vectors with ``A v ~ norm * u`` (left and right singular vectors).
    nit, nmatvec : int
        Iterations and products with ``A`` or ``A^T``.
    converged : bool
        The stopping rule was met before ``maxiter``.
    method : str
    """


class _Matrix:
    """Products with A and A^T, in float64, for dense, sparse and implicit A."""

    def __init__(self, A: Any):
        self.shape = A.shape
        self.explicit = not is_operator(A)
        if self.explicit:
            if sp.issparse(A):
                A = A.astype(np.float64) if A.dtype != np.float64 else A
                self.AT = A.T.tocsr()
            else:
                A = np.asarray(A, dtype=np.float64)
                self.AT = A.T
        self.A = A

    def mv(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.A @ x, dtype=np.float64).reshape(self.shape[0], *x.shape[1:])

    def rmv(self, y: np.ndarray) -> np.ndarray:
        if self.explicit:
            out = self.AT @ y
        else:
            out = self.A.rmatmat(y) if y.ndim == 2 else self.A.rmatvec(y)
        return np.asarray(out, dtype=np.float64).reshape(self.shape[1], *y.shape[1:])

    def deterministic_upper(self) -> float:
        if not self.explicit:
            return math.inf
        A = self.A
        if sp.issparse(A):
            fro = float(sp.linalg.norm(A))
            absA = abs(A)
            one = float(absA.sum(axis=0).max())
            inf = float(absA.sum(axis=1).max())
        else:
            fro = float(np.linalg.norm(A))
            absA = np.abs(A)
            one = float(absA.sum(axis=0).max())
            inf = float(absA.sum(axis=1).max())
        return min(fro, math.sqrt(one * inf)) * (1 + 4 * EPS * max(self.shape))

    def dense(self) -> np.ndarray:
        m, n = self.shape
        if m * n > _DENSE_LIMIT:
            raise ValueError(
                f"method='exact' would densify a {m} x {n} matrix; use method='lanczos'"
            )
        if not self.explicit:
            return np.asarray(self.A @ np.eye(n), dtype=np.float64)
        return self.A.toarray() if sp.issparse(self.A) else self.A


def _check_input(A: Any) -> Any:
    if isinstance(A, np.ndarray) or sp.issparse(A) or is_operator(A) or hasattr(A, "__array__"):
        return check_matrix(A, "A", accept_operator=True)
    if isinstance(A, (list, tuple)):
        return check_matrix(np.asarray(A), "A")
    raise TypeError(
        f"A must be a dense array, scipy.sparse matrix or LinearOperator, got {type(A).__name__}"
    )


def _check_options(method: str, tol: float, maxiter: Any, failure_probability: float):
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    if not isinstance(tol, numbers.Real) or not (0 < tol < 1) or not math.isfinite(tol):
        raise ValueError(f"tol must be a number in (0, 1), got {tol!r}")
    if maxiter is not None:
        maxiter = check_positive_int(maxiter, "maxiter")
    if not isinstance(failure_probability, numbers.Real) or not (0 < failure_probability < 1):
        raise ValueError(
            f"failure_probability must lie in (0, 1), got {failure_probability!r}"
        )
    return maxiter


def spectral_norm(
    A: Any,
    *,
    method: str = "lanczos",
    tol: float = 1e-6,
    maxiter: int | None = None,
    random_state: Any = None,
    return_info: bool = False,
    failure_probability: float = 1e-6,
    block_size: int | None = None,
    n_test_vectors: int = 10,
) -> float | SpectralNormResult:
    """Largest singular value of a matrix, with a certified bracket.

    Parameters
    ----------
    A : array_like, scipy.sparse matrix or LinearOperator, shape (m, n)
        Real matrix; torch tensors and other ``__array__`` objects are read
        with ``numpy.asarray``.  A ``dask.array.Array`` chunked by rows is
        used through reductions over its chunks
        (:mod:`randopt.distributed.norms`).  A ``LinearOperator`` needs ``matvec`` and
        ``rmatvec``.
    method : {"lanczos", "power", "randomized", "exact"}, default="lanczos"
        See the module docstring for each method's stopping rule and bound.
    tol : float, default=1e-6
        Relative accuracy.  ``"lanczos"`` stops when
        ``(upper - lower) <= tol * lower`` (a bracket holding with probability
        ``1 - failure_probability``); ``"power"`` and ``"randomized"`` stop
        when the estimate changes by less than ``tol`` (relative).
    maxiter : int, optional
        Iteration cap; default ``min(min(m, n), 500)`` for Lanczos, 1000
        power steps, 100 subspace iterations.
    random_state : None, int or numpy.random.Generator
        Start vector / sketch seed.
    return_info : bool, default=False
        Return a :class:`SpectralNormResult` instead of a float.
    failure_probability : float, default=1e-6
        Probability (over the random start) allowed for a probabilistic
        ``upper`` to be below ``||A||``.
    block_size : int, optional
        Sketch size for ``"randomized"`` (default ``min(m, n, 10)``).
    n_test_vectors : int, default=10
        Gaussian test vectors for the HMT residual bound (``"randomized"``).

    Returns
    -------
    float or SpectralNormResult
        The norm estimate (the lower bound, for iterative methods), or the
        full result with ``lower``, ``upper``, ``failure_probability``,
        ``upper_kind``, ``u``, ``v``, ``nit``, ``nmatvec``, ``converged``.

    References
    ----------
    See the module docstring.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.norms import spectral_norm
    >>> A = np.random.default_rng(0).standard_normal((300, 200))
    >>> res = spectral_norm(A, random_state=0, return_info=True)
    >>> bool(res.lower <= np.linalg.norm(A, 2) <= res.upper)
    True
    >>> bool(abs(res.norm / np.linalg.norm(A, 2) - 1) < 1e-6)
    True
    """
    maxiter = _check_options(method, tol, maxiter, failure_probability)
    if is_dask_array(A):
        # Row-chunked Dask array: products become reductions over the chunks.
        from ..distributed.norms import SpectralOperand

        op = SpectralOperand(A)
    else:
        op = _Matrix(_check_input(A))
    rng = check_random_state(random_state)
    if method == "exact":
        res = _exact(op)
    elif method == "lanczos":
        res = _lanczos(op, rng, tol, maxiter, failure_probability)
    elif method == "power":
        res = _power(op, rng, tol, maxiter, failure_probability)
    else:
        res = _randomized(op, rng, tol, maxiter, failure_probability, block_size, n_test_vectors)
    if method != "exact":
        det = op.deterministic_upper()
        if det < res["upper"]:
            res["upper"], res["upper_kind"], res["failure_probability"] = det, "deterministic", 0.0
    res["upper"] = max(res["upper"], res["lower"])
    res["method"] = method
    result = SpectralNormResult(res)
    return result if return_info else float(result.norm)


def _vnorm(x: np.ndarray) -> float:
    """Euclidean norm of a vector without a (multi-threaded) BLAS call: the thread
    wake-ups cost more than the arithmetic on vectors this size."""
    return math.sqrt(float(np.einsum("i,i->", x, x)))


def _finish(op: _Matrix, v: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Certified lower bound ``||A v|| / ||v||`` and the singular vector pair."""
    v = v / np.linalg.norm(v)
    Av = op.mv(v)
    norm_Av = float(np.linalg.norm(Av))
    u = Av / norm_Av if norm_Av > 0 else Av
    # The computed ||A v|| may exceed the exact one by rounding; a margin of the
    # order of the product's forward error keeps the bound a bound.
    return norm_Av * (1 - 4 * (op.shape[1] + 2) * EPS), u, v


def _exact(op: _Matrix) -> dict:
    D = op.dense()
    U, s, Vt = np.linalg.svd(D, full_matrices=False)
    sigma = float(s[0])
    return {
        "norm": sigma, "lower": sigma, "upper": sigma, "upper_kind": "exact",
        "failure_probability": 0.0, "u": U[:, 0], "v": Vt[0], "nit": 0, "nmatvec": 0,
        "converged": True,
    }


def _oriented(op: _Matrix):
    """(forward, backward, d) with the start vector in the shorter dimension d."""
    m, n = op.shape
    if m >= n:
        return op.mv, op.rmv, n, False
    return op.rmv, op.mv, m, True


def _lanczos(op, rng, tol, maxiter, delta) -> dict:
    fwd, bwd, d, flipped = _oriented(op)
    maxiter = min(d, maxiter or 500)
    log_s = log_beta_quantile(d, delta)
    V = np.empty((maxiter, d))
    v = rng.standard_normal(d)
    v /= _vnorm(v)
    alphas = np.empty(maxiter)
    betas = np.empty(maxiter)
    u_prev = None
    beta = 0.0
    log_gamma = 0.0
    best_upper = math.inf
    converged = False
    nmatvec = 0
    k = 0
    theta = 0.0
    breakdown = False
    while k < maxiter:
        V[k] = v
        u = fwd(v)
        if u_prev is not None:
            u -= beta * u_prev
        alpha = float(_vnorm(u))
        nmatvec += 1
        scale = max(alpha, float(alphas[:k].max()) if k else 0.0)
        if k and alpha <= 64 * EPS * scale * math.sqrt(k + 1):
            # A v is rounding noise once the previous directions are removed: the
            # Krylov space is (numerically) exhausted.  The bounds of the previous
            # steps stand; a noise-level alpha would not give a valid new one.
            converged = True
            break
        alphas[k] = alpha
        k += 1
        if alpha == 0.0:  # A v_1 = 0 for a Gaussian v_1: A = 0 with probability one
            betas[k - 1] = 0.0
            best_upper = dixon_upper_bound(0.0, 1, delta)
            converged = True
            break
        else:
            u /= alpha
            w = bwd(u) - alpha * v
            nmatvec += 1
            w = reorthogonalize(V[:k], w)
            beta = float(_vnorm(w))
            betas[k - 1] = beta
            # At a breakdown the computed beta is rounding noise: the polynomial norm
            # gets the noise level instead (the bound stays valid), and the run ends.
            floor = 64 * EPS * alphas[:k].max() * math.sqrt(k)
            log_gamma += math.log(alpha) + math.log(max(beta, floor))
            if beta <= floor:
                breakdown = True
        # T_k = B_k^T B_k: diagonal alpha_j^2 + beta_(j-1)^2, off-diagonal alpha_j beta_j.
        diag = alphas[:k] ** 2
        diag[1:] += betas[: k - 1] ** 2
        off = alphas[: k - 1] * betas[: k - 1]
        ritz = eigh_tridiagonal(diag, off, eigvals_only=True) if k > 1 else diag
        theta = float(ritz[-1])
        upper_sq = polynomial_upper_bound(ritz, None, log_gamma, log_s)
        upper_sq += 16 * k * EPS * theta
        best_upper = min(best_upper, math.sqrt(upper_sq))
        if best_upper - math.sqrt(theta) <= tol * math.sqrt(theta) or breakdown:
            converged = True
            break
        v = w / beta
        u_prev = u
    diag = alphas[:k] ** 2
    diag[1:] += betas[: k - 1] ** 2
    off = alphas[: k - 1] * betas[: k - 1]
    if k > 1:
        _, vec = eigh_tridiagonal(diag, off, select="i", select_range=(k - 1, k - 1))
        x = V[:k].T @ vec[:, 0]
    else:
        x = V[0].copy()
    lower, u_vec, v_vec = _oriented_finish(op, x, flipped)
    return {
        "norm": lower, "lower": lower, "upper": max(best_upper, lower),
        "upper_kind": "probabilistic", "failure_probability": delta,
        "u": u_vec, "v": v_vec, "nit": k, "nmatvec": nmatvec + 1, "converged": converged,
    }


def _oriented_finish(op, x, flipped):
    if not flipped:
        return _finish(op, x)
    # x approximates a left singular vector; v = A^T x / ||A^T x|| then gives
    # ||A v|| >= ||A^T x|| (Cauchy-Schwarz) and the exact pair A v = ||A v|| u.
    x = x / np.linalg.norm(x)
    ATx = op.rmv(x)
    nrm = float(np.linalg.norm(ATx))
    if nrm == 0.0:
        return 0.0, x, ATx
    return _finish(op, ATx / nrm)


def _power(op, rng, tol, maxiter, delta) -> dict:
    fwd, bwd, d, flipped = _oriented(op)
    maxiter = maxiter or 1000
    log_s = log_beta_quantile(d, delta)
    x = rng.standard_normal(d)
    x /= np.linalg.norm(x)
    log_norm = 0.0  # log ||B^j x_0||, B = A^T A (oriented)
    best_upper = math.inf
    prev = 0.0
    converged = False
    nmatvec = 0
    it = 0
    for it in range(1, maxiter + 1):
        y = fwd(x)
        z = bwd(y)
        nmatvec += 2
        theta = float(y @ y)  # Rayleigh quotient x^T B x
        zn = float(np.linalg.norm(z))
        # The residual as a vector (sqrt(zn^2 - theta^2) cancels catastrophically once
        # it nears sqrt(eps) zn), plus its rounding error: a larger residual only
        # loosens the bound.
        res = float(np.linalg.norm(z - theta * x)) + 4 * (max(op.shape) + 2) * EPS * zn
        # p(t) = t**(it-1) (t - theta): p(B) x_0 = ||B^(it-1) x_0|| (B - theta) x.
        upper_sq = polynomial_upper_bound(
            np.array([0.0, theta]), np.array([it - 1, 1]), log_norm + math.log(res), log_s
        )
        upper_sq += 16 * it * EPS * theta
        best_upper = min(best_upper, math.sqrt(upper_sq))
        sigma = math.sqrt(theta)
        if zn == 0.0:
            converged = True
            break
        if abs(sigma - prev) <= tol * sigma or best_upper - sigma <= tol * sigma:
            converged = True
            x_last = x
            break
        prev = sigma
        log_norm += math.log(zn)
        x = z / zn
    else:
        x_last = x
    if zn == 0.0:
        x_last = x
    lower, u_vec, v_vec = _oriented_finish(op, x_last, flipped)
    return {
        "norm": lower, "lower": lower, "upper": max(best_upper, lower),
        "upper_kind": "probabilistic", "failure_probability": delta,
        "u": u_vec, "v": v_vec, "nit": it, "nmatvec": nmatvec + 1, "converged": converged,
    }


def _randomized(op, rng, tol, maxiter, delta, block_size, n_test) -> dict:
    from ..sketch import gaussian

    m, n = op.shape
    k = min(m, n, 10) if block_size is None else check_positive_int(block_size, "block_size")
    k = min(k, m, n)
    n_test = check_positive_int(n_test, "n_test_vectors")
    maxiter = maxiter or 100
    S = gaussian(k, n, random_state=rng)
    A = op.A
    if getattr(op, "rowwise", False):
        Y = op.mv(S.toarray().T)  # A Omega directly: A^T is not row-chunked
    else:
        AT = A.T if not is_operator(A) else A.adjoint()
        # Y = A Omega with Omega = S^T: the sketch applied to A^T, transposed.
        Y = np.asarray(S @ AT, dtype=np.float64).T
    nmatvec = k
    # Half the failure budget each for the two upper bounds (both are computed).
    log_s = log_beta_quantile(n, delta / 2)
    # Subspace iteration orthonormalised on the short side only (the m x k side is
    # never factored: one QR of n x k per step).  The first column of Qz is then
    # (A^T A)^j w / ||.|| for w = omega_1 / ||omega_1||: the power method, whose
    # norms the QR diagonals carry (log_first).
    log_first = -math.log(float(np.linalg.norm(S.toarray()[0])))
    j = 0
    prev = 0.0
    converged = False
    it = 0
    sigma = 0.0
    for it in range(1, maxiter + 1):  # noqa: B007 (it is reported)
        Qz, Rz = np.linalg.qr(op.rmv(Y))  # orth(A^T Y), n x k
        log_first += math.log(abs(Rz[0, 0])) if Rz[0, 0] != 0 else -math.inf
        j += 1
        Y = op.mv(Qz)
        nmatvec += 2 * k
        # Rayleigh-Ritz on range(Qz): the singular values of A Qz.
        lam, W = np.linalg.eigh(Y.T @ Y)
        sigma = math.sqrt(max(float(lam[-1]), 0.0))
        if abs(sigma - prev) <= tol * sigma:
            converged = True
            break
        prev = sigma
    lower, u_vec, v_vec = _finish(op, Qz @ W[:, -1])
    nmatvec += 1
    # ||A||^2 <= ||Q^T A||^2 + ||(I - QQ^T) A||^2 for orthonormal Q (Pythagoras), the
    # residual bounded from Gaussian test vectors (HMT).
    Q, _ = np.linalg.qr(Y)
    norm_QA = float(np.linalg.norm(op.rmv(Q), 2))
    Wt = rng.standard_normal((n, n_test))
    AW = op.mv(Wt)
    nmatvec += n_test + k
    E = AW - Q @ (Q.T @ AW)
    resid = dixon_upper_bound(float(np.linalg.norm(E, axis=0).max()), n_test, delta / 2)
    upper = math.sqrt(norm_QA**2 + resid**2) * (1 + 8 * EPS * max(m, n))
    # ||(A^T A)^j w|| >= sigma^(2j) c with c^2 >= s except with probability delta / 2.
    if math.isfinite(log_first):
        up_poly = math.exp((log_first - 0.5 * log_s) / (2 * j))
        upper = min(upper, up_poly * (1 + 8 * EPS * max(m, n) * (j + 1)))
    return {
        "norm": lower, "lower": lower, "upper": max(upper, lower),
        "upper_kind": "probabilistic", "failure_probability": delta,
        "u": u_vec, "v": v_vec, "nit": it, "nmatvec": nmatvec, "converged": converged,
    }
