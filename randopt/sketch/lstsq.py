"""Sketched least squares: sketch-and-solve, sketch-and-precondition, iterative Hessian sketch.

Solves ``min_x ||A x - b||^2 + alpha ||x||^2`` for a tall ``A`` (dense,
sparse or ``LinearOperator``) and one or several right-hand sides.

Sketch-and-precondition (Blendenpik [1]_, LSRN [2]_) factors a sketch
``S A = Q R`` (or ``U Sigma V^T`` when ``S A`` is rank deficient) and solves the
preconditioned problem ``min_y ||A P y - b||`` with ``P = R^{-1}`` (or
``V_r Sigma_r^{-1}``), ``x = P y``. Because ``S`` embeds ``range(A)`` with
distortion ``eps``, ``A P`` has condition number at most ``(1+eps)/(1-eps)``
whatever the conditioning of ``A``, and an iterative solver converges at the
rate ``eps`` per iteration. The default solver is conjugate gradients on the
preconditioned normal equations ``P^T (A^T A + alpha I) P y = P^T A^T b``,
whose product ``A^T (A v)`` is computed in a single fused pass over ``A``
(half the memory traffic of LSQR's two products); because ``A P`` is so well
conditioned, squaring it costs no accuracy. LSQR and LSMR on ``A P`` are
available as ``solver="lsqr"|"lsmr"``. The iteration starts from the
sketch-and-solve solution.

Stopping rule (``solver="cg"``): with ``s_k = P^T (A^T (b - A x_k) - alpha x_k)``
the preconditioned normal-equation residual and ``y_k = P^{-1} x_k``, stop
when ``||s_k|| <= tol * ||y_k||``. Since ``P^T (A^T A + alpha I) P`` has
eigenvalues in ``[(1+eps)^-2, (1-eps)^-2]``, ``||s_k||`` is within a factor
``(1 +- eps)^2`` of ``||y* - y_k||``, i.e. of ``||A (x* - x_k)||`` (the error in
the fitted values); the test therefore bounds the relative error of the fit
by about ``tol``, and the error of ``x`` itself by ``cond(A) * tol`` at worst,
the same order as a backward-stable direct solver's.

Row-partitioned data: ``A`` (and ``b``) may be ``dask.array.Array`` objects
chunked by rows (``pip install 'randopt[dask]'``). The sketch ``S A`` is then
a sum of per-chunk sketches computed where the chunks live
(:mod:`randopt.distributed.sketch`), the QR of ``S A`` runs on the client, and
every CG iteration is one fused reduction ``A^T (A v)`` over the chunks
(:class:`randopt.distributed.RowMatrix`); LSQR/LSMR take two reductions per
iteration and keep ``n``-vectors on the client. Results agree with the
in-memory solver of the same seed to rounding (``tests/dask``).

References
----------
.. [1] H. Avron, P. Maymounkov and S. Toledo, "Blendenpik: supercharging
       LAPACK's least-squares solver", SIAM J. Sci. Comput. 32 (2010).
.. [2] X. Meng, M. A. Saunders and M. W. Mahoney, "LSRN: a parallel iterative
       solver for strongly over- or underdetermined systems", SIAM J. Sci.
       Comput. 36 (2014).
.. [3] V. Rokhlin and M. Tygert, "A fast randomized algorithm for
       overdetermined linear least-squares regression", PNAS 105 (2008).
.. [4] M. Pilanci and M. J. Wainwright, "Iterative Hessian sketch: fast and
       accurate solution approximation for constrained least-squares", JMLR 17
       (2016).
.. [5] P. Drineas, M. W. Mahoney, S. Muthukrishnan and T. Sarlos, "Faster least
       squares approximation", Numer. Math. 117 (2011).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, lsmr, lsqr

from .._validation import (
    check_matrix,
    check_positive_int,
    check_random_state,
    check_rhs,
    is_operator,
)
from ..distributed._detect import is_dask_array
from ..distributed.rowmatrix import RowMatrix, as_row_matrix
from ._kernels import normal_product, residual_normal
from .leverage import leverage_scores, numerical_rank
from .operators import make_sketch
from .sampling import sample_rows

__all__ = ["lstsq", "LstsqResult", "auto_sketch"]

_SKETCHES = ("gaussian", "srht", "countsketch", "sparse_sign", "leverage")


@dataclass
class LstsqResult:
    """Result of :func:`lstsq`.

    Attributes
    ----------
    x : ndarray of shape (d,) or (d, k)
        The solution.
    residual_norm : float or ndarray of shape (k,)
        ``||A x - b||`` (computed from the returned ``x``, not estimated).
    iterations : int
        Iterations of the iterative phase (0 for sketch-and-solve).
    converged : bool
        Whether the stopping rule was met (always True for sketch-and-solve).
    method, sketch : str
        The method, and the sketch used (``"none"`` when the problem was
        small enough to factor ``A`` itself).
    sketch_size : int
    rank : int
        Numerical rank of the sketched matrix.
    message : str
    history : ndarray
        Relative preconditioned normal-equation residual per iteration
        (``max`` over right-hand sides).
    timings : dict
        Seconds spent sketching, factoring and iterating.
    """

    x: np.ndarray
    residual_norm: Any
    iterations: int
    converged: bool
    method: str
    sketch: str
    sketch_size: int
    rank: int
    message: str
    history: np.ndarray = field(repr=False, default_factory=lambda: np.empty(0))
    timings: dict = field(repr=False, default_factory=dict)


def auto_sketch(shape: tuple[int, int], sparse: bool) -> tuple[str, int, dict]:
    """The sketch, size and options that ``sketch="auto"`` picks for an (n, d) matrix.

    Rule: a sparse sign sketch with ``nnz_per_col = 4`` and
    ``sketch_size = clip(n // 20, 12 d, 48 d)`` rows (at most ``n``; at ``n``
    the matrix itself is factored).

    Why: each CG iteration is one pass over ``A``; a sketch of ``m`` rows has
    distortion about ``sqrt(d / m)``, and measured iteration counts to
    ``tol=1e-14`` at cond 1e8 are 24, 19 and 15 for ``m = 12 d, 24 d, 48 d``.
    The price of a larger sketch is its QR, ``2 m d^2`` flops, and the
    scatter-add's output buffer (``m d`` per thread) falling out of cache. For
    ``d = 100`` the QR of a ``48 d`` sketch costs milliseconds, so the cap
    applies; for ``d = 500`` with ``n = 10^5`` it would cost several passes,
    so ``n // 20`` keeps ``m`` near ``12 d``. Sparse sign with 4 non-zeros
    costs about the same as CountSketch (the scatter is bound by reading
    ``A``) and, unlike CountSketch, embeds coherent matrices (rows of leverage
    near one). ``python -m experiments.bench_sketch --auto`` prints the grid
    of sketches and sizes this was chosen from.
    """
    n, d = shape
    size = min(n, max(12 * d, min(48 * d, n // 20)))
    return "sparse_sign", size, {"nnz_per_col": 4}


class _Preconditioner:
    """``P`` (d x r) from a factorisation of the sketched (and ridge-augmented) matrix."""

    def __init__(self, SA: np.ndarray, alpha: float, shape: tuple[int, int], Sb=None):
        d = SA.shape[1]
        M = SA if alpha == 0 else np.vstack([SA, np.sqrt(alpha) * np.eye(d)])
        if Sb is not None:
            # QR of [S A | S b] gives Q^T S b in R's last columns, so Q is never formed.
            rhs = Sb.reshape(Sb.shape[0], -1)
            if alpha:
                rhs = np.vstack([rhs, np.zeros((d, rhs.shape[1]))])
            M = np.hstack([M, rhs])
        R_full = scipy.linalg.qr(M, mode="r", check_finite=False)[0]
        k = min(R_full.shape[0], d)
        R = R_full[:k, :d]
        Ur, s, Vt = scipy.linalg.svd(R, check_finite=False)
        self.singular_values = s
        self.rank = numerical_rank(s, shape) if alpha == 0 else d
        self.full_rank = self.rank == d
        if self.full_rank:
            self.R = np.ascontiguousarray(R)
        else:
            r = self.rank
            self.P = Vt[:r].T / s[:r]
            # y = P^+ x for x in range(P): y = Sigma_r V_r^T x.
            self.Pinv = Vt[:r] * s[:r, None]
        self.y0 = None
        if Sb is not None:
            z = R_full[:k, d:]
            if not self.full_rank:
                z = Ur[:, : self.rank].T @ z
            self.y0 = z[:, 0] if Sb.ndim == 1 else z

    def apply(self, y):  # x = P y
        if self.full_rank:
            return scipy.linalg.solve_triangular(self.R, y, check_finite=False)
        return self.P @ y

    def apply_t(self, z):  # P^T z
        if self.full_rank:
            return scipy.linalg.solve_triangular(self.R, z, trans="T", check_finite=False)
        return self.P.T @ z

    def inverse(self, x):  # y with P y = x (x in range(P))
        if self.full_rank:
            return self.R @ x
        return self.Pinv @ x

    def solve_sketched(self):
        """``y`` of the sketch-and-solve solution ``x = P y`` for the ``S b`` given."""
        return self.y0


def _resolve_sketch(sketch, sketch_size, shape, sparse, nnz_per_col):
    n, d = shape
    if sketch == "auto":
        kind, size, opts = auto_sketch(shape, sparse)
    else:
        if sketch not in _SKETCHES:
            raise ValueError(f"sketch must be 'auto' or one of {_SKETCHES}, got {sketch!r}")
        kind, size, opts = sketch, min(n, 12 * d), {}
        if kind == "sparse_sign":
            opts = {"nnz_per_col": 4}
    if nnz_per_col is not None:
        if kind != "sparse_sign":
            raise ValueError("nnz_per_col applies to sketch='sparse_sign' only")
        opts = {"nnz_per_col": check_positive_int(nnz_per_col, "nnz_per_col")}
    if sketch_size is not None:
        size = check_positive_int(sketch_size, "sketch_size")
        if size < d and size < n:
            raise ValueError(
                f"sketch_size={size} is smaller than the {d} columns of A; the sketch must have "
                f"at least d rows (a few times d, e.g. {4 * d}, for a good preconditioner)"
            )
    if kind == "srht" and size > n:
        size = n
    if kind == "sparse_sign":
        opts = {"nnz_per_col": min(opts["nnz_per_col"], size)}
    return kind, size, opts


class _RowSampler:
    """Leverage-score row sampling as a sketch: ``S = diag(sqrt(w)) E_idx``."""

    name = "leverage"

    def __init__(self, A, size, rng):
        if isinstance(A, RowMatrix):
            A = A.array
        if is_operator(A):
            raise TypeError("sketch='leverage' needs an explicit matrix, not a LinearOperator")
        scores = leverage_scores(A, method="approx", random_state=rng)
        if is_dask_array(scores):
            scores = np.asarray(scores.compute())
        self.idx, w = sample_rows(scores / scores.sum(), size, random_state=rng)
        self.root = np.sqrt(w)

    def __matmul__(self, M):
        if isinstance(M, RowMatrix):
            M = M.array
        # Only the sampled rows of a Dask array travel to the client.
        picked = M[self.idx].compute() if is_dask_array(M) else M[self.idx]
        rows = _dense(picked) if M.ndim == 2 else np.asarray(picked, dtype=np.float64)
        return rows * (self.root[:, None] if rows.ndim == 2 else self.root)


def _draw_sketch(A, kind, size, opts, rng):
    """The sketch to apply to ``A``, or None when sketching cannot shrink ``A``."""
    n = A.shape[0]
    if size >= n and kind != "srht":
        return None
    if kind == "leverage":
        return _RowSampler(A, size, rng)
    return make_sketch(kind, size, n, random_state=rng, **opts)


def _apply(S, M):
    if isinstance(M, RowMatrix):
        if S is None:
            return M.compute()
        return M.sketch(S) if hasattr(S, "apply_rows") else S @ M
    return _dense(M) if S is None else np.asarray(S @ M, dtype=np.float64)


def _dense(A):
    if is_dask_array(A):
        A = A.compute()
    if sp.issparse(A):
        return A.toarray().astype(np.float64, copy=False)
    if is_operator(A):
        return np.asarray(A @ np.eye(A.shape[1]), dtype=np.float64)
    return np.asarray(A, dtype=np.float64)


def _matvec(A, x):
    if isinstance(A, RowMatrix):
        return A.matvec(x)
    return np.asarray(A @ x, dtype=np.float64)


def _rmatvec(A, r):
    if isinstance(A, RowMatrix):
        return A.rmatvec(r)
    if is_operator(A):
        return np.asarray(A.rmatmat(r) if r.ndim == 2 else A.rmatvec(r), dtype=np.float64)
    return np.asarray(A.T @ r, dtype=np.float64)


def _normal(A, V, alpha):
    if isinstance(A, RowMatrix):
        out = A.normal(V)
    elif is_operator(A):
        out = _rmatvec(A, _matvec(A, V))
    else:
        out = normal_product(A, V)
    if alpha:
        out = out + alpha * V
    return out


def _residual(A, b, x):
    """``(A^T (b - A x), ||b - A x||)``, in one pass where a fused kernel applies."""
    if isinstance(A, RowMatrix):
        return A.residual(b, x)
    out = None if is_operator(A) else residual_normal(A, x, b)
    if out is not None:
        return out
    r = b - _matvec(A, x)
    return _rmatvec(A, r), np.linalg.norm(r, axis=0)


def _cg(A, b, alpha, pre, y, tol, maxiter, restarts=1):
    """CG on ``P^T (A^T A + alpha I) P y = P^T A^T b`` from ``y``; columns run in lock-step.

    CG's recursively updated residual drifts from the true one by rounding,
    most when the warm start ``x0`` is large (ill-conditioned ``A``). When the
    recursion meets the stopping rule, the true residual is computed (the same
    pass yields ``||b - A x||`` for the result) and, if it exceeds ``100 tol``
    (drift, not the rounding floor of the true residual itself, measured near
    ``1e-12`` at cond 1e8), CG restarts from it, at most ``restarts`` times.

    Returns ``y, iterations, converged, history, residual_norm``.
    """
    history = []
    it = 0
    for attempt in range(restarts + 1):
        x = pre.apply(y)
        g, rnorm = _residual(A, b, x)
        s = pre.apply_t(g - (alpha * x if alpha else 0.0))
        gamma = np.sum(s * s, axis=0)
        ynorm = np.sqrt(np.sum(y * y, axis=0))
        done = (np.sqrt(gamma) <= tol * ynorm) | (gamma == 0)
        if attempt > 0 and np.all(np.sqrt(gamma) <= 100 * tol * ynorm):
            return y, it, True, np.asarray(history), rnorm
        if np.all(done) or it >= maxiter:
            return y, it, bool(np.all(done)), np.asarray(history), rnorm
        p = s.copy()
        while True:
            ynorm = np.sqrt(np.sum(y * y, axis=0))
            history.append(float(np.max(np.sqrt(gamma) / np.where(ynorm > 0, ynorm, 1.0))))
            done |= (np.sqrt(gamma) <= tol * ynorm) | (gamma == 0)
            if np.all(done) or it >= maxiter:
                break
            q = pre.apply_t(_normal(A, pre.apply(p), alpha))
            pq = np.sum(p * q, axis=0)
            step = np.where(done | (pq <= 0), 0.0, gamma / np.where(pq > 0, pq, 1.0))
            y = y + step * p
            s = s - step * q
            gamma_new = np.sum(s * s, axis=0)
            beta = np.where(done, 0.0, gamma_new / np.where(gamma > 0, gamma, 1.0))
            p = s + beta * p
            gamma = np.where(done, gamma, gamma_new)
            it += 1
    # Out of restarts: the recursion met the rule but the true residual did not,
    # which happens at the rounding floor of ill-conditioned problems.
    x = pre.apply(y)
    _, rnorm = _residual(A, b, x)
    return y, it, True, np.asarray(history), rnorm


def _krylov(A, b, alpha, pre, y0, tol, maxiter, solver):
    """LSQR/LSMR on the preconditioned operator ``[A P; sqrt(alpha) P]``, column by column."""
    n, d = A.shape
    r = pre.rank
    damp = np.sqrt(alpha)

    def mv(y):
        return _matvec(A, pre.apply(y))

    def rmv(z):
        return pre.apply_t(_rmatvec(A, z))

    op = LinearOperator((n, r), matvec=mv, rmatvec=rmv, dtype=np.float64)
    routine = lsqr if solver == "lsqr" else lsmr
    cols = b[:, None] if b.ndim == 1 else b
    Y0 = y0[:, None] if y0.ndim == 1 else y0
    ys, its, ok = [], 0, True
    for j in range(cols.shape[1]):
        # Ridge with a damped solver: (AP)^T(AP) + alpha I differs from P^T(A^TA + alpha I)P,
        # so the damping is folded into the operator below instead.
        if alpha:
            opj = LinearOperator(
                (n + d, r),
                matvec=lambda y: np.concatenate([mv(y), damp * pre.apply(y)]),
                rmatvec=lambda z: pre.apply_t(_rmatvec(A, z[:n]) + damp * z[n:]),
                dtype=np.float64,
            )
            rhs = np.concatenate([cols[:, j], np.zeros(d)])
        else:
            opj, rhs = op, cols[:, j]
        limit = {"iter_lim": maxiter} if solver == "lsqr" else {"maxiter": maxiter}
        out = routine(opj, rhs, atol=tol, btol=tol, x0=Y0[:, j], **limit)
        ys.append(out[0])
        its = max(its, int(out[2]))
        # istop 0, 1, 2, 4, 5 mean solved (to tol or to machine precision) for both.
        ok &= int(out[1]) in (0, 1, 2, 4, 5)
    Y = np.column_stack(ys)
    return (Y[:, 0] if b.ndim == 1 else Y), its, bool(ok), np.empty(0)


def lstsq(
    A: Any,
    b: Any,
    *,
    method: str = "precondition",
    sketch: str = "auto",
    sketch_size: int | None = None,
    alpha: float = 0.0,
    tol: float = 1e-14,
    maxiter: int | None = None,
    solver: str = "cg",
    nnz_per_col: int | None = None,
    random_state: Any = None,
) -> LstsqResult:
    """Least squares ``min ||A x - b||^2 + alpha ||x||^2`` by randomized sketching.

    Parameters
    ----------
    A : array-like, sparse matrix or LinearOperator of shape (n, d)
        A tall matrix (float32 or float64, C or F order). The fused
        ``A^T (A v)`` pass applies to C-ordered arrays and CSR matrices; other
        inputs use two products per iteration.
    b : array-like of shape (n,) or (n, k)
        One or ``k`` right-hand sides.
    method : {"precondition", "sketch", "ihs"}, default="precondition"
        ``"precondition"``: sketch-and-precondition to full accuracy (module
        docstring). ``"sketch"``: sketch-and-solve, ``x = argmin ||S(Ax - b)||``;
        for a Gaussian sketch of ``m`` rows the expected squared residual is
        ``||r*||^2 (1 + d / (m - d - 1))`` [5]_, so ``12 d`` rows give a
        residual within about 4.5% of the optimum (``eps = sqrt(1 +
        d/(m-d-1)) - 1``) and ``48 d`` rows within 1.1%; the sparse sketches
        measure within the same bound (tests).
        ``"ihs"``: iterative Hessian sketch [4]_, ``x += (A^T S_t^T S_t A + alpha
        I)^{-1} A^T (b - A x)`` with a fresh sketch ``S_t`` each iteration, to
        the same stopping rule as ``"precondition"``.
    sketch : {"auto", "gaussian", "srht", "countsketch", "sparse_sign", "leverage"}
        ``"auto"`` picks by :func:`auto_sketch`. ``"leverage"`` samples rows
        with probabilities proportional to approximate leverage scores and
        rescales them.
    sketch_size : int, optional
        Rows of the sketch (default: :func:`auto_sketch`'s rule for
        ``sketch="auto"``, else ``12 d``; capped at ``n``, and at ``n`` or more
        ``A`` itself is factored and no sketch is drawn). At least ``d``.
    alpha : float, default=0.0
        Ridge penalty.
    tol : float, default=1e-14
        Relative tolerance of the stopping rule (module docstring).
    maxiter : int, optional
        Iteration limit (default 200 for CG and IHS, ``2 d`` for LSQR/LSMR).
    solver : {"cg", "lsqr", "lsmr"}, default="cg"
        Iterative solver of ``"precondition"``.
    nnz_per_col : int, optional
        Non-zeros per column of a sparse sign sketch.
    random_state : None, int or Generator

    Returns
    -------
    LstsqResult
        With ``x``, ``residual_norm``, ``iterations``, ``converged``,
        ``sketch``, ``sketch_size``, ``rank``, ``message``, ``history`` and
        ``timings``.

    References
    ----------
    .. [1] Avron, Maymounkov and Toledo, Blendenpik (2010).
    .. [2] Meng, Saunders and Mahoney, LSRN (2014).
    .. [4] Pilanci and Wainwright, iterative Hessian sketch (2016).
    .. [5] Drineas, Mahoney, Muthukrishnan and Sarlos (2011).

    Examples
    --------
    >>> import numpy as np
    >>> import randopt
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((20000, 50)); b = rng.standard_normal(20000)
    >>> res = randopt.lstsq(A, b, random_state=0)
    >>> ref = np.linalg.lstsq(A, b, rcond=None)[0]
    >>> bool(np.allclose(res.x, ref, rtol=0, atol=1e-12)), res.converged
    (True, True)
    """
    t0 = time.perf_counter()
    if is_dask_array(A):
        A = as_row_matrix(A)
        n, d = A.shape
        b = _check_dask_rhs(b, A)
    else:
        if is_dask_array(b):
            b = b.compute()
        A = check_matrix(A, "A", accept_operator=True)
        n, d = A.shape
        b = check_rhs(b, n, "b")
    if method not in ("precondition", "sketch", "ihs"):
        raise ValueError(f"method must be 'precondition', 'sketch' or 'ihs', got {method!r}")
    if solver not in ("cg", "lsqr", "lsmr"):
        raise ValueError(f"solver must be 'cg', 'lsqr' or 'lsmr', got {solver!r}")
    if not np.isfinite(alpha) or alpha < 0:
        raise ValueError(f"alpha must be a finite number >= 0, got {alpha}")
    if not (np.isfinite(tol) and 0 < tol < 1):
        raise ValueError(f"tol must lie in (0, 1), got {tol}")
    if maxiter is None:
        maxiter = 200 if solver == "cg" or method == "ihs" else 2 * d + 50
    maxiter = check_positive_int(maxiter, "maxiter", minimum=0)
    rng = check_random_state(random_state)
    alpha = float(alpha)
    kind, size, opts = _resolve_sketch(sketch, sketch_size, (n, d), sp.issparse(A), nnz_per_col)

    S = _draw_sketch(A, kind, size, opts, rng)
    used = "none" if S is None else S.name
    SA = _apply(S, A)
    Sb = b if S is None else _apply(S, b)
    if isinstance(A, RowMatrix):
        # Every entry of A and b enters the sketch with a non-zero weight: a
        # non-finite entry shows here, at no extra pass over the data.
        if not np.isfinite(SA).all():
            raise ValueError("A contains NaN or infinity; remove or impute those entries first")
        Sb = _dense(Sb)
        if not np.isfinite(Sb).all():
            raise ValueError("b contains NaN or infinity")
        if not (method == "precondition" and solver == "cg"):
            b = _dense(b)  # LSQR, LSMR, IHS and sketch-and-solve work with n-vectors
    t1 = time.perf_counter()
    pre = _Preconditioner(SA, alpha, (n, d), Sb)
    y = pre.solve_sketched()
    t2 = time.perf_counter()
    history = np.empty(0)
    if method == "sketch":
        x = pre.apply(y)
        its, converged = 0, True
        message = "sketch-and-solve" if S is not None else "solved exactly (sketch_size >= n)"
    elif method == "precondition":
        if solver == "cg":
            y, its, converged, history, rnorm = _cg(A, b, alpha, pre, y, tol, maxiter)
        else:
            y, its, converged, history = _krylov(A, b, alpha, pre, y, tol, maxiter, solver)
        x = pre.apply(y)
        message = (
            f"converged: preconditioned residual <= tol={tol:g} after {its} iterations"
            if converged
            else f"stopped at maxiter={maxiter} before reaching tol={tol:g}"
        )
    else:
        x, its, converged, history = _ihs(
            A, b, alpha, pre, pre.apply(y), kind, size, opts, tol, maxiter, rng
        )
        message = (
            f"IHS converged after {its} iterations"
            if converged
            else f"IHS stopped at maxiter={maxiter} before reaching tol={tol:g}"
        )
    t3 = time.perf_counter()
    if not (method == "precondition" and solver == "cg"):
        if isinstance(A, RowMatrix):
            rnorm = A.residual(b, x)[1]
        else:
            rnorm = np.linalg.norm(b - _matvec(A, x), axis=0)
    return LstsqResult(
        x=x,
        residual_norm=float(rnorm) if np.ndim(rnorm) == 0 else rnorm,
        iterations=int(its),
        converged=bool(converged),
        method=method,
        sketch=used,
        sketch_size=int(SA.shape[0]),
        rank=int(pre.rank),
        message=message,
        history=history,
        timings={
            "sketch": t1 - t0,
            "factor": t2 - t1,
            "iterate": t3 - t2,
            "total": time.perf_counter() - t0,
        },
    )


def _check_dask_rhs(b, A: RowMatrix):
    """A right-hand side for a row-partitioned ``A``: a Dask array with ``A``'s row chunks."""
    if b is None:
        raise TypeError("b is None; pass a 1-D or 2-D array")
    if not is_dask_array(b):
        b = check_rhs(b, A.shape[0], "b")
    else:
        if b.ndim not in (1, 2):
            raise ValueError(f"b must be 1-D or 2-D, got shape {b.shape}")
        if b.shape[0] != A.shape[0]:
            raise ValueError(
                f"b has {b.shape[0]} rows but the matrix has {A.shape[0]}; shapes must match"
            )
        if b.dtype.kind not in "fiub":
            raise TypeError(f"b must hold real numbers, got dtype {b.dtype}")
        if b.size == 0:
            raise ValueError(f"b is empty (shape {b.shape})")
    return A.align(b.astype(np.float64) if b.dtype != np.float64 else b, "b")


def _ihs(A, b, alpha, pre, x, kind, size, opts, tol, maxiter, rng):
    """Iterative Hessian sketch with a fresh sketch every iteration.

    Besides ``||P^T g|| <= tol ||P^{-1} x||`` it stops, as converged, at the
    rounding floor ``eps cond(S A) (||A x|| + ||r||)`` of the preconditioned
    gradient: rounding in ``A^T r`` acts as a perturbation of ``A`` of relative
    size ``eps``, which ``P^T`` amplifies by up to ``cond(S A)`` (the analogue
    of LSQR's "machine precision" stops, istop 4 and 5).
    """
    history = []
    converged = False
    its = 0
    eps = np.finfo(np.float64).eps
    for its in range(maxiter + 1):
        r = b - _matvec(A, x)
        g = _rmatvec(A, r) - (alpha * x if alpha else 0.0)
        step_y = pre.apply_t(g)
        ynorm = np.linalg.norm(pre.inverse(x), axis=0)
        snorm = np.linalg.norm(step_y, axis=0)
        rel = snorm / np.where(ynorm > 0, ynorm, 1.0)
        history.append(float(np.max(rel)))
        s = pre.singular_values
        floor = eps * s[0] / s[pre.rank - 1] * (ynorm + np.linalg.norm(r, axis=0))
        if np.all((rel <= tol) | (snorm <= floor)):
            converged = True
            break
        if its == maxiter:
            break
        x = x + pre.apply(step_y)
        pre = _Preconditioner(_apply(_draw_sketch(A, kind, size, opts, rng), A), alpha, A.shape)
    return x, its, converged, np.asarray(history)
