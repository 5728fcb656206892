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
sketch-and-solve solution. ``R`` comes from CholeskyQR2 of the sketch when
it is well conditioned (Level-3 BLAS only, robust to a loaded machine), from
Householder QR otherwise (:mod:`._precondition`).

For ridge problems (``alpha > 0``) with many features, ``preconditioner=
"nystrom"`` replaces the sketch of ``A`` by a randomized Nystrom
approximation of ``A^T A`` built from block products ``A^T (A V)``
(Frangella, Tropp and Udell [6]_), with the same CG and stopping rule; see
:func:`lstsq`.

Stopping rule (``solver="cg"``): with ``s_k = P^T (A^T (b - A x_k) - alpha x_k)``
the preconditioned normal-equation residual and ``y_k = P^{-1} x_k``, stop
when ``||s_k|| <= tol * ||y_k||``. Since ``P^T (A^T A + alpha I) P`` has
eigenvalues in ``[(1+eps)^-2, (1-eps)^-2]``, ``||s_k||`` is within a factor
``(1 +- eps)^2`` of ``||y* - y_k||``, i.e. of ``||A (x* - x_k)||`` (the error in
the fitted values); the test therefore bounds the relative error of the fit
by about ``tol``, and the error of ``x`` itself by ``cond(A) * tol`` at worst,
the same order as a backward-stable direct solver's.

Any operand: ``A`` is turned into a :class:`randopt.operands.Operand` once,
at entry, and reached through its methods only, so the same code runs on
dense, sparse, ``LinearOperator`` and row-partitioned data. For a
``dask.array.Array`` chunked by rows (``pip install 'randopt[dask]'``) the
sketch ``S A`` is a sum of per-chunk sketches computed where the chunks live,
the QR of ``S A`` runs on the client, and every CG iteration is one fused
reduction ``A^T (A v)`` over the chunks; LSQR/LSMR take two reductions per
iteration and keep ``n``-vectors on the client. Results agree with the
in-memory solver of the same seed to rounding (``tests/dask``).

Modules: this one (the driver, the choice of sketch and preconditioner),
:mod:`._precondition` (the factorisation of ``S A``, the split Nystrom
preconditioner), :mod:`._solvers` (CG through
:func:`randopt.linalg.conjugate_gradient`, LSQR/LSMR, IHS), :mod:`._scaling`
(right-hand sides near the ends of the float64 range are solved at unit scale).

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
.. [6] Z. Frangella, J. A. Tropp and M. Udell, "Randomized Nystrom
       preconditioning", SIAM J. Matrix Anal. Appl. 44 (2023), 718-752.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.sparse.linalg import LinearOperator

from .._validation import (
    check_choice,
    check_positive_int,
    check_random_state,
    check_scalar,
    check_shape,
)
from ..linalg import NystromPreconditioner
from ..operands import Operand, as_operand
from ._precondition import NystromSplitPreconditioner, Preconditioner
from ._scaling import times_power_of_two, to_unit_scale
from ._solvers import cg, ihs, krylov
from .base import _sketch_not_finite, make_sketch
from .leverage import leverage_scores
from .sampling import sample_rows

__all__ = ["lstsq", "LstsqResult", "auto_sketch"]

_SKETCHES = ("gaussian", "srht", "countsketch", "sparse_sign", "leverage")
_PRECONDITIONERS = ("auto", "qr", "nystrom")
#: Columns per block product ``A^T (A V)`` while building a Nystrom preconditioner: BLAS-3
#: speed, and an ``n x 64`` temporary for dense ``A`` instead of ``n x rank``.
_NYSTROM_BLOCK = 64
#: ``nystrom_rank="auto"`` stops doubling at ``lam_r <= _NYSTROM_RANK_TOL * alpha``.
_NYSTROM_RANK_TOL = 1.0
#: Largest rank of ``nystrom_rank="auto"`` (the default of ``from_operator``).
_NYSTROM_MAX_RANK = 512
#: A sketch of at most this many ``m d^2`` flops (0.1 s on one core) is factored on one
#: BLAS thread. A second thread saves little at that size, and on a loaded machine its
#: barriers cost far more: a 4800 x 100 factorisation measured 13 ms on one thread
#: against 0.8-1.3 s on two (2 cores at load 15).
_ONE_BLAS_THREAD_FLOPS = 10**9
_blas_controller = None


@dataclass
class LstsqResult:
    """Result of :func:`lstsq`.

    Attributes
    ----------
    x : ndarray of shape (d,) or (d, k)
        The solution.
    residual_norm : float or ndarray of shape (k,)
        ``||A x - b||`` (computed from the returned ``x``, not estimated).
    nit : int
        Iterations of the iterative phase (0 for sketch-and-solve). Named
        ``nit`` as in every solver result of randopt and SciPy; the old name
        ``iterations`` is a deprecated alias, removed in the next release.
    converged : bool
        Whether the stopping rule was met (always True for sketch-and-solve).
    method, sketch : str
        The method, and the sketch used (``"none"`` when the problem was
        small enough to factor ``A`` itself).
    sketch_size : int
    rank : int
        Numerical rank of the sketched matrix.
    message : str
    preconditioner : str
        ``"qr"`` (factorisation of the sketch) or ``"nystrom"``; for the
        latter ``sketch`` is ``"nystrom"`` and ``sketch_size`` the rank of the
        Nystrom approximation.
    history : ndarray
        Relative preconditioned normal-equation residual per iteration (CG:
        ``||s|| / ||y||`` of the recursion; for several right-hand sides, of
        the block of them, each relative to its own ``||y_j||``).
    timings : dict
        Seconds spent sketching, factoring and iterating (``"nystrom"``: the
        products and the approximation are under ``"sketch"``, ``"factor"``
        is 0).

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.sketch.lstsq import lstsq  # also randopt.lstsq
    >>> A = np.random.default_rng(0).standard_normal((2000, 5))
    >>> res = lstsq(A, A @ np.ones(5), random_state=0)
    >>> res.converged, res.x.round(8).tolist()
    (True, [1.0, 1.0, 1.0, 1.0, 1.0])
    """

    x: np.ndarray
    residual_norm: Any
    nit: int
    converged: bool
    method: str
    sketch: str
    sketch_size: int
    rank: int
    message: str
    history: np.ndarray = field(repr=False, default_factory=lambda: np.empty(0))
    timings: dict = field(repr=False, default_factory=dict)
    preconditioner: str = "qr"

    @property
    def iterations(self) -> int:
        """Deprecated alias of :attr:`nit` (removed in the next release)."""
        warnings.warn(
            "LstsqResult.iterations is deprecated; use LstsqResult.nit (the name every "
            "randopt and SciPy solver result uses)",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.nit


def auto_sketch(shape: tuple[int, int]) -> tuple[str, int, dict]:
    """The sketch, size and options that ``sketch="auto"`` picks for an (n, d) matrix.

    Rule: a sparse sign sketch with ``nnz_per_col = 4`` and
    ``sketch_size = clip(n // 20, 12 d, 48 d)`` rows (at most ``n``; at ``n``
    the matrix itself is factored), for dense and sparse ``A`` alike.

    Why: each CG iteration is one pass over ``A``; a sketch of ``m`` rows has
    distortion about ``sqrt(d / m)``, and measured iteration counts to
    ``tol=1e-14`` at cond 1e8 are 24, 19 and 15 for ``m = 12 d, 24 d, 48 d``.
    The price of a larger sketch is its QR, ``2 m d^2`` flops, and the
    scatter-add's output buffer (``m d`` per thread) falling out of cache. For
    ``d = 100`` the QR of a ``48 d`` sketch costs milliseconds, so the cap
    applies; for ``d = 500`` with ``n = 10^5`` it would cost several passes,
    so ``n // 20`` keeps ``m`` near ``12 d``. Sparse sign with 4 non-zeros
    costs about the same as CountSketch (the scatter is bound by reading
    ``A``, dense or sparse) and, unlike CountSketch, embeds coherent matrices
    (rows of leverage near one). ``python -m benchmarks.bench_sketch --auto``
    prints the grid of sketches and sizes this was chosen from.

    Parameters
    ----------
    shape : tuple of int
        ``(n, d)``.

    Returns
    -------
    kind : str
    sketch_size : int
    options : dict
        Keyword arguments of the sketch's constructor.

    Examples
    --------
    >>> from randopt.sketch import auto_sketch
    >>> auto_sketch((100_000, 50))
    ('sparse_sign', 2400, {'nnz_per_col': 4})
    """
    n, d = check_shape(shape, "shape")
    size = min(n, max(12 * d, min(48 * d, n // 20)))
    return "sparse_sign", size, {"nnz_per_col": 4}


def _resolve_sketch(sketch, sketch_size, shape, nnz_per_col):
    n, d = shape
    if sketch == "auto":
        kind, size, opts = auto_sketch(shape)
    else:
        if not isinstance(sketch, str) or sketch not in _SKETCHES:
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

    def __init__(self, op: Operand, size: int, rng: np.random.Generator):
        if op.format == "operator":
            raise TypeError("sketch='leverage' needs an explicit matrix, not a LinearOperator")
        scores = np.asarray(leverage_scores(op, method="approx", random_state=rng))
        self.idx, w = sample_rows(scores / scores.sum(), size, random_state=rng)
        self.root = np.sqrt(w)

    def __matmul__(self, M: Any) -> np.ndarray:
        # Only the sampled rows travel (to the client, for a partitioned M).
        if isinstance(M, Operand):
            return M.take_rows(self.idx).to_dense() * self.root[:, None]
        rows = np.asarray(M[self.idx], dtype=np.float64)
        return rows * (self.root[:, None] if rows.ndim == 2 else self.root)


def _draw_sketch(op: Operand, kind, size, opts, rng):
    """The sketch to apply to ``op``, or None when sketching cannot shrink it."""
    n = op.n_rows
    if size >= n and kind != "srht":
        return None
    if kind == "leverage":
        return _RowSampler(op, size, rng)
    return make_sketch(kind, size, n, random_state=rng, **opts)


def _sketched(S, op: Operand) -> np.ndarray:
    SA = op.to_dense() if S is None else np.asarray(S @ op, dtype=np.float64)
    # Every entry of A enters S A with a non-zero weight: a non-finite entry of
    # data whose backend defers the check (Dask) shows here, at no extra pass;
    # for data checked at entry, it is the sketch's sums that overflowed.
    if not np.isfinite(SA).all():
        raise _sketch_not_finite(op, "the sketch S A")
    return SA


def _unit_rhs(b: Any) -> tuple[Any, Any]:
    """``b`` with each column scaled by a power of two to ``max |b_j|`` near one, if extreme.

    The solution is linear in ``b``, ``x(b 2**k) = x(b) 2**k``, exactly in
    binary; a right-hand side near the float64 limit (or subnormal) would
    overflow the squared norms of the iteration (``||s||^2`` at ``|b| ~ 1e160``)
    or lose its digits, so it is solved at unit scale and the result scaled
    back. Returns ``(b 2**-k, k)``; a partitioned ``b`` (Dask) is returned as
    is, with ``k = 0``.
    """
    if not isinstance(b, np.ndarray):
        return b, 0
    return to_unit_scale(b, axis=0)


def _right_hand_side(b: Any, op: Operand) -> Any:
    """``b`` checked by its own backend and laid out like the rows of ``A``."""
    if b is None:
        raise TypeError("b is None; pass a 1-D or 2-D array")
    if not hasattr(b, "shape"):
        b = np.asarray(b)
    if len(b.shape) not in (1, 2):
        raise ValueError(f"b must be 1-D or 2-D, got shape {b.shape}")
    vector = len(b.shape) == 1
    B = b[:, None] if vector else b
    rhs = as_operand(B, "b", accept_operator=False)
    if rhs.n_rows != op.n_rows:
        raise ValueError(
            f"b has {rhs.n_rows} rows but the matrix has {op.n_rows}; shapes must match"
        )
    B = op.align(rhs.to_dense() if rhs.is_local else B.astype(np.float64), "b")
    return B[:, 0] if vector else B


def _stored_entries(op: Operand) -> int:
    """Entries a pass over ``A`` reads: ``nnz`` for a sparse matrix, ``n d`` otherwise."""
    if op.format in ("csr", "csc"):
        return int(op.local_data().nnz)
    return op.n_rows * op.n_cols


def _choose_preconditioner(choice: str, method: str, alpha: float, op: Operand, size: int) -> str:
    """``"qr"`` or ``"nystrom"`` for ``preconditioner=choice`` (see :func:`lstsq`)."""
    if choice == "nystrom":
        if method != "precondition":
            raise ValueError(
                f"preconditioner='nystrom' applies to method='precondition' only, got "
                f"method={method!r} (sketch-and-solve and IHS need the sketch's QR)"
            )
        if alpha == 0:
            raise ValueError(
                "preconditioner='nystrom' needs alpha > 0 (it preconditions A^T A + alpha I; "
                "its rank is chosen against alpha), got alpha=0.0; use preconditioner='qr'"
            )
        return "nystrom"
    if choice == "qr" or method != "precondition" or alpha == 0:
        return "qr"
    # Flops: the factorisation of an m x d sketch (CholeskyQR2: three m d^2 products)
    # against the block products A^T (A V) of the largest Nystrom rank (4 nnz(A) each).
    n, d = op.shape
    largest_rank = min(d, _NYSTROM_MAX_RANK)
    qr_flops = 3 * min(size, n) * d * d
    return "nystrom" if 4 * _stored_entries(op) * largest_rank < qr_flops else "qr"


def _nystrom_preconditioner(
    op: Operand, alpha: float, rank: Any, rng: np.random.Generator
) -> NystromSplitPreconditioner:
    """The split preconditioner of ``A^T A + alpha I`` from a randomized Nystrom approximation.

    Built by :meth:`randopt.linalg.NystromPreconditioner.from_operator` from
    block products ``A^T (A V) + alpha V`` (one pass over ``A`` per block of
    :data:`_NYSTROM_BLOCK` columns); ``rank="auto"`` doubles from 16 until the
    smallest eigenvalue of the approximation is at most ``alpha`` (Frangella, Tropp
    and Udell 2023, section 5.4.2: ``rank_tol=1``) or the rank reaches ``min(d, 512)``.
    """
    d = op.n_cols

    def matmat(V: np.ndarray) -> np.ndarray:
        out = np.empty((d, V.shape[1]))
        for lo in range(0, V.shape[1], _NYSTROM_BLOCK):
            block = np.ascontiguousarray(V[:, lo : lo + _NYSTROM_BLOCK])
            out[:, lo : lo + block.shape[1]] = op.normal_matvec(block) + alpha * block
        return out

    H = LinearOperator(
        (d, d), matvec=lambda v: matmat(v.reshape(d, 1))[:, 0], matmat=matmat, dtype=np.float64
    )
    approx = NystromPreconditioner.from_operator(
        H,
        shift=alpha,
        rank=rank,
        rank_tol=_NYSTROM_RANK_TOL,
        max_rank=min(d, _NYSTROM_MAX_RANK),
        random_state=rng,
    )
    pre = NystromSplitPreconditioner(approx.U, approx.eigenvalues, alpha)
    pre.n_products = approx.n_products
    return pre


def _blas_threads_for(flops: float) -> contextlib.AbstractContextManager:
    """One BLAS thread for a factorisation of at most :data:`_ONE_BLAS_THREAD_FLOPS`."""
    global _blas_controller
    if flops > _ONE_BLAS_THREAD_FLOPS:
        return contextlib.nullcontext()
    if _blas_controller is None:  # threadpoolctl scans the loaded libraries once
        from threadpoolctl import ThreadpoolController

        _blas_controller = ThreadpoolController()
    return _blas_controller.limit(limits=1, user_api="blas")


def _solution_overflow() -> ValueError:
    # Finite data whose solution lies beyond float64 (e.g. A ~ 1e-310, b ~ 1).
    return ValueError(
        "the least-squares solution overflows float64 (|x| beyond 1.8e308): A is too "
        "small, or b too large, for a representable x; rescale A or b (by a power of two) "
        "and scale x back"
    )


def lstsq(
    A: Any,
    b: Any,
    *,
    method: str = "precondition",
    sketch: str = "auto",
    sketch_size: int | None = None,
    alpha: float = 0.0,
    tol: float = 1e-14,
    max_iter: int | None = None,
    solver: str = "cg",
    nnz_per_col: int | None = None,
    random_state: Any = None,
    preconditioner: str = "auto",
    nystrom_rank: int | str = "auto",
) -> LstsqResult:
    """Least squares ``min ||A x - b||^2 + alpha ||x||^2`` by randomized sketching.

    Parameters
    ----------
    A : array-like, sparse matrix, LinearOperator, dask.array.Array or Operand, shape (n, d)
        A tall matrix (float32 or float64, C or F order), anything
        :func:`randopt.operands.as_operand` takes. The fused ``A^T (A v)``
        pass applies to C-ordered arrays and CSR matrices (and to the chunks
        of a Dask array); other inputs use two products per iteration.
    b : array-like of shape (n,) or (n, k)
        One or ``k`` right-hand sides (a Dask array for a Dask ``A``).
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
        Ridge penalty, ``>= 0``.
    tol : float, default=1e-14
        Relative tolerance of the stopping rule (module docstring), in (0, 1).
    max_iter : int, optional
        Iteration limit (default 200 for CG and IHS, ``2 d + 50`` for LSQR/LSMR).
    solver : {"cg", "lsqr", "lsmr"}, default="cg"
        Iterative solver of ``"precondition"``.
    nnz_per_col : int, optional
        Non-zeros per column of a sparse sign sketch.
    random_state : None, int, Generator or SeedSequence
    preconditioner : {"auto", "qr", "nystrom"}, default="auto"
        Preconditioner of ``method="precondition"``. ``"qr"``: the
        factorisation of the sketch ``S A`` (module docstring); CholeskyQR2
        when ``S A`` is well conditioned, Householder QR otherwise.
        ``"nystrom"`` (ridge only, ``alpha > 0``): the randomized Nystrom
        preconditioner of ``H = A^T A + alpha I`` [6]_, built from block
        products ``A^T (A V)``, no sketch of ``A``, applied in split form ``P
        = U (Lambda + alpha I)^{-1/2} U^T + (lam_r + alpha)^{-1/2} (I - U
        U^T)``; ``P H P`` has condition number at most ``(lam_r + alpha +
        ||E||) / alpha`` (``E`` the approximation's error, [6]_ Proposition
        5.3), whatever ``cond(A)``, and is near one when the spectrum of
        ``A^T A`` decays past ``alpha`` within the rank. CG starts from
        ``x = 0`` and stops by the same rule, ``||P (A^T r - alpha x)|| <= tol
        ||P^{-1} x||``: the relative error of ``x`` in the ``H``-norm, within
        the condition number of ``P H P``. ``"auto"``: ``"nystrom"`` when
        ``alpha > 0`` and even the largest automatic rank ``r = min(d, 512)``
        costs fewer flops in products, ``4 nnz(A) r``, than the factorisation
        of the sketch, ``3 m d^2`` for ``m`` rows (many features: e.g. dense
        ``d = 1000`` with ``n <= 10^4``), else ``"qr"``; then Nystrom is never
        much slower than QR and faster by the ratio of the two when the
        spectrum decays (measured: ``python -m benchmarks.bench_lstsq``). It
        pays for ridge problems whose effective dimension ``tr(A^T A (A^T A +
        alpha I)^{-1})`` is well below ``d``; without decay its rank reaches
        ``min(d, 512)`` and CG takes up to ``O(sqrt(||A||^2 / alpha))``
        iterations.
    nystrom_rank : int or "auto", default="auto"
        Rank of the Nystrom approximation (``1 <= nystrom_rank <= d``), or
        ``"auto"``: start at 16 and double (the sketch grows, [6]_ Algorithm
        5.1) until its smallest eigenvalue ``lam_r <= alpha`` (then ``P H P``
        has condition number at most ``2 + ||E|| / alpha``) or the rank
        reaches ``min(d, 512)``. Used by ``preconditioner="nystrom"`` only.

    Returns
    -------
    LstsqResult
        With ``x``, ``residual_norm``, ``nit``, ``converged``,
        ``sketch``, ``sketch_size``, ``rank``, ``message``, ``history`` and
        ``timings``.

    Raises
    ------
    ValueError
        Bad arguments (named); non-finite data; finite data whose sketch
        overflows (entries near 1.8e308: rescale ``A``); a solution or residual
        norm beyond float64 (e.g. ``A ~ 1e-310``). A right-hand side near either
        end of the float64 range is not an error: it is solved at unit scale
        (an exact power-of-two rescaling) and the result scaled back.

    References
    ----------
    .. [1] Avron, Maymounkov and Toledo, Blendenpik (2010).
    .. [2] Meng, Saunders and Mahoney, LSRN (2014).
    .. [4] Pilanci and Wainwright, iterative Hessian sketch (2016).
    .. [5] Drineas, Mahoney, Muthukrishnan and Sarlos (2011).
    .. [6] Z. Frangella, J. A. Tropp and M. Udell, "Randomized Nystrom
           preconditioning", SIAM J. Matrix Anal. Appl. 44 (2023), 718-752.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.sketch.lstsq import lstsq  # also randopt.lstsq
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((20000, 50)); b = rng.standard_normal(20000)
    >>> res = lstsq(A, b, random_state=0)
    >>> ref = np.linalg.lstsq(A, b, rcond=None)[0]
    >>> bool(np.allclose(res.x, ref, rtol=0, atol=1e-12)), res.converged
    (True, True)

    A ridge problem with a decaying spectrum, preconditioned by Nystrom:

    >>> X = rng.standard_normal((3000, 200)) * 0.9 ** np.arange(200)
    >>> y = rng.standard_normal(3000)
    >>> res = lstsq(X, y, alpha=1e-3, preconditioner="nystrom", random_state=0)
    >>> aug = np.vstack([X, np.sqrt(1e-3) * np.eye(200)])  # the ridge as least squares
    >>> ref = np.linalg.lstsq(aug, np.r_[y, np.zeros(200)], rcond=None)[0]
    >>> res.preconditioner, res.converged, res.nit < 10
    ('nystrom', True, True)
    >>> bool(np.linalg.norm(res.x - ref) <= 1e-11 * np.linalg.norm(ref))
    True
    """
    t0 = time.perf_counter()
    op = as_operand(A, "A")
    n, d = op.shape
    b = _right_hand_side(b, op)
    check_choice(method, "method", ("precondition", "sketch", "ihs"))
    check_choice(solver, "solver", ("cg", "lsqr", "lsmr"))
    alpha = check_scalar(alpha, "alpha", low=0.0)
    tol = check_scalar(tol, "tol", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    if max_iter is None:
        max_iter = 200 if solver == "cg" or method == "ihs" else 2 * d + 50
    max_iter = check_scalar(max_iter, "max_iter", kind=int, low=0)
    rng = check_random_state(random_state)
    kind, size, opts = _resolve_sketch(sketch, sketch_size, (n, d), nnz_per_col)
    check_choice(preconditioner, "preconditioner", _PRECONDITIONERS)
    if not (isinstance(nystrom_rank, str) and nystrom_rank == "auto"):
        if isinstance(nystrom_rank, str):
            raise ValueError(f"nystrom_rank must be 'auto' or an int, got {nystrom_rank!r}")
        nystrom_rank = check_scalar(nystrom_rank, "nystrom_rank", kind=int, low=1, high=d)
    chosen = _choose_preconditioner(preconditioner, method, alpha, op, size)

    if chosen == "nystrom":
        b, b_exponent = _unit_rhs(b)
        if solver != "cg":
            b = np.asarray(b, dtype=np.float64)
        pre = _nystrom_preconditioner(op, alpha, nystrom_rank, rng)
        used, m = "nystrom", pre.nystrom_rank
        t1 = time.perf_counter()
        y = np.zeros((d,) + np.shape(b)[1:])
    else:
        S = _draw_sketch(op, kind, size, opts, rng)
        used = "none" if S is None else S.name
        SA = _sketched(S, op)
        m = SA.shape[0]
        b, b_exponent = _unit_rhs(b)
        Sb = np.asarray(b if S is None else S @ b, dtype=np.float64)
        if not np.isfinite(Sb).all():
            # b at unit scale cannot overflow the sketch: NaN met while reading (Dask).
            raise ValueError("b contains NaN or infinity")
        if not (method == "precondition" and solver == "cg"):
            # LSQR, LSMR, IHS and sketch-and-solve work with n-vectors on the client.
            b = np.asarray(b, dtype=np.float64)
        t1 = time.perf_counter()
        with _blas_threads_for(SA.shape[0] * d * d):
            pre = Preconditioner(SA, alpha, (n, d), Sb)
        y = pre.solve_sketched()
    if not np.isfinite(pre.apply(y)).all():
        # The sketched solution is already beyond float64: the iteration would only
        # meet infinities in its first pass over A.
        raise _solution_overflow()
    t2 = time.perf_counter()
    history = np.empty(0)
    rnorm = None
    if method == "sketch":
        x = pre.apply(y)
        its, converged = 0, True
        message = "sketch-and-solve" if S is not None else "solved exactly (sketch_size >= n)"
    elif method == "precondition":
        if solver == "cg":
            y, its, converged, history, rnorm = cg(op, b, alpha, pre, y, tol, max_iter)
        else:
            y, its, converged, history = krylov(op, b, alpha, pre, y, tol, max_iter, solver)
        x = pre.apply(y)
        message = (
            f"converged: preconditioned residual <= tol={tol:g} after {its} iterations"
            if converged
            else f"stopped at max_iter={max_iter} before reaching tol={tol:g}"
        )
    else:

        def fresh_sketch() -> np.ndarray:
            return _sketched(_draw_sketch(op, kind, size, opts, rng), op)

        x, its, converged, history = ihs(
            op, b, alpha, pre, pre.apply(y), tol, max_iter, fresh_sketch
        )
        message = (
            f"IHS converged after {its} iterations"
            if converged
            else f"IHS stopped at max_iter={max_iter} before reaching tol={tol:g}"
        )
    t3 = time.perf_counter()
    if not np.isfinite(x).all():
        raise _solution_overflow()
    if rnorm is None:
        # b is an in-memory n-vector on these paths; the product matches the
        # rounding of numpy.linalg.lstsq's own residual (BLAS, not the fused pass).
        rnorm = np.linalg.norm(b - op.matvec(x), axis=0)
    if np.any(b_exponent):
        with np.errstate(over="ignore"):  # an overflow is reported just below
            x = times_power_of_two(np.array(x, dtype=np.float64), b_exponent)
            rnorm = times_power_of_two(np.array(rnorm, dtype=np.float64), b_exponent)
        if not np.isfinite(x).all():  # x was checked finite above: only the scaling can
            raise _solution_overflow()
    if not np.isfinite(rnorm).all():
        raise ValueError(
            "the residual norm ||A x - b|| overflows float64 (b's entries are near the "
            "float64 limit); rescale b by a power of two and scale x and the residual back"
        )
    return LstsqResult(
        x=x,
        residual_norm=float(rnorm) if np.ndim(rnorm) == 0 else np.asarray(rnorm),
        nit=int(its),
        converged=bool(converged),
        method=method,
        sketch=used,
        sketch_size=int(m),
        rank=int(pre.rank),
        message=message,
        history=history,
        timings={
            "sketch": t1 - t0,
            "factor": t2 - t1,
            "iterate": t3 - t2,
            "total": time.perf_counter() - t0,
        },
        preconditioner=chosen,
    )
