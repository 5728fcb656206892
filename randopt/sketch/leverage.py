"""Statistical leverage scores, exact and fast approximate.

The leverage score of row ``i`` of an (n, d) matrix ``A`` of rank ``r`` is
``l_i = ||U[i]||^2`` for any orthonormal basis ``U`` of ``range(A)``; the scores
lie in [0, 1] and sum to ``r``.

References
----------
.. [1] P. Drineas, M. Magdon-Ismail, M. W. Mahoney and D. P. Woodruff, "Fast
       approximation of matrix coherence and statistical leverage", JMLR 13
       (2012).
.. [2] M. W. Mahoney, "Randomized algorithms for matrices and data",
       Found. Trends Mach. Learn. 3 (2011).
.. [3] Y. Fan, Y. Guo and T. Lin, "A novel randomized XR-based preconditioned
       CholeskyQR algorithm", arXiv:2111.11148 (2021); O. Balabanov,
       "Randomized Cholesky QR factorizations", arXiv:2210.09953 (2022).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg

from .._validation import (
    check_choice,
    check_positive_int,
    check_random_state,
    check_shape,
    check_vector,
)
from ..operands import Operand, as_operand
from ._scaling import to_unit_scale
from .base import _sketch_not_finite
from .gaussian import gaussian
from .sparse import sparse_sign

__all__ = ["leverage_scores", "numerical_rank"]


def numerical_rank(singular_values: np.ndarray, shape: tuple[int, int]) -> int:
    """Rank by LAPACK's default cut-off: ``s > s_max * max(shape) * eps``.

    Parameters
    ----------
    singular_values : ndarray
        In decreasing order.
    shape : tuple of int
        Shape of the matrix they belong to.

    Returns
    -------
    int

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.sketch import numerical_rank
    >>> numerical_rank(np.array([1.0, 1e-3, 1e-17]), (100, 3))
    2
    """
    shape = check_shape(shape, "shape")
    if np.size(singular_values) == 0 and singular_values is not None:
        return 0
    s = check_vector(singular_values, "singular_values")
    if s.size and (s.min() < 0 or np.any(np.diff(s) > 0)):
        raise ValueError("singular_values must be non-negative and in decreasing order")
    if s[0] == 0:
        return 0
    return int(np.count_nonzero(s > s[0] * max(shape) * np.finfo(np.float64).eps))


def _row_sq_norms(M: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", M, M)


def _exact_local(op: Operand) -> np.ndarray:
    # Scores do not depend on A's scale: a QR of entries near the float64 limit would
    # overflow, one of subnormal entries lose the small singular values.
    A = to_unit_scale(op.to_dense())[0]
    n, d = A.shape
    if n < d:
        # range(A) is all of R^n when A has full row rank; the SVD settles rank.
        U, s, _ = scipy.linalg.svd(A, full_matrices=False, check_finite=False)
        r = numerical_rank(s, A.shape)
        return _row_sq_norms(U[:, :r])
    Q, R = scipy.linalg.qr(A, mode="economic", check_finite=False, overwrite_a=True)
    # R has A's singular values; its SVD detects rank without a pivoted QR of A.
    Ur, s, _ = scipy.linalg.svd(R, check_finite=False)
    r = numerical_rank(s, A.shape)
    if r == d:
        return _row_sq_norms(Q)
    return _row_sq_norms(Q @ Ur[:, :r])


def _sketch_basis(op: Operand, m: int, rng) -> tuple[np.ndarray, int]:
    """``P = V_r Sigma_r^{-1}`` from ``S A`` (``A P`` nearly orthonormal [1]_) and the rank."""
    n, d = op.shape
    S = sparse_sign(m, n, nnz_per_col=min(4, m), random_state=rng)
    SA = np.asarray(op.sketch(S), dtype=np.float64)
    if not np.isfinite(SA).all():
        raise _sketch_not_finite(op, "the sketch S A of the leverage scores")
    # QR first: the SVD then works on a d x d matrix instead of m x d.
    R = scipy.linalg.qr(SA, mode="r", check_finite=False)[0][: min(m, d)]
    _, s, Vt = scipy.linalg.svd(R, full_matrices=False, check_finite=False)
    r = numerical_rank(s, (n, d))
    return Vt[:r].T / s[:r], r


def _gram_of_product(lo: int, block: Operand, P: np.ndarray) -> np.ndarray:
    B = block.matvec(P)
    return B.T @ B


def _exact_partitioned(op: Operand, rng) -> Any:
    """Exact scores with passes over the rows only: randomized Cholesky QR [3]_.

    ``A P`` with ``P`` from a sketch of ``A`` has condition number close to
    one, so the Cholesky factor ``L`` of its Gram matrix (one pass, summed
    over row blocks) is accurate, and ``Q = A P L^{-T}`` is orthonormal to
    rounding: the scores are the squared row norms of ``A (P L^{-T})``, one
    more pass, in the operand's row layout.
    """
    n, d = op.shape
    P, r = _sketch_basis(op, min(n, 4 * d + 16), rng)
    if r == 0:
        return op.row_norms_sq(np.zeros((d, 1)))
    G = op.map_row_blocks(_GramOfProduct(P), out_shape=(r, r))
    L = scipy.linalg.cholesky(G, lower=True, check_finite=False)
    basis = scipy.linalg.solve_triangular(L, P.T, lower=True, check_finite=False).T
    return op.row_norms_sq(basis)


class _GramOfProduct:
    """Picklable per-block task: ``(A_blk P)^T (A_blk P)``."""

    def __init__(self, P: np.ndarray):
        self.P = P

    def __call__(self, lo: int, block: Operand) -> np.ndarray:
        return _gram_of_product(lo, block, self.P)


def _approx(op: Operand, m: int, jl_dim: int, rng) -> Any:
    n, d = op.shape
    P, r = _sketch_basis(op, m, rng)
    if r == 0:
        return op.row_norms_sq(np.zeros((d, 1)))
    # A V_r diag(1/s_r) is nearly orthonormal [1]; a JL projection with jl_dim
    # columns estimates its row norms in O(nnz(A) jl_dim) instead of O(nnz(A) r).
    if jl_dim < r:
        P = P @ gaussian(jl_dim, r, random_state=rng).toarray().T
    # A score never exceeds one; the estimate may (by the sketch's distortion).
    return np.minimum(op.row_norms_sq(P), 1.0)


def leverage_scores(
    A: Any,
    *,
    method: str = "exact",
    sketch_size: int | None = None,
    jl_dim: int = 64,
    random_state: Any = None,
) -> Any:
    """Leverage scores of the rows of ``A``.

    Parameters
    ----------
    A : array-like, sparse matrix, dask.array.Array or Operand of shape (n, d)
        An explicit matrix (not a ``LinearOperator``).
    method : {"exact", "approx"}, default="exact"
        ``"exact"``: thin QR of ``A`` (densified if sparse), then the SVD of
        ``R`` to find the numerical rank ``r`` (cut-off ``s_max max(n, d)
        eps``); the scores sum to ``r``. Cost O(n d^2). For row-partitioned
        data (Dask) the same scores come from passes over the rows only:
        randomized Cholesky QR [3]_ (a sketch, a Gram matrix of ``A P``, the
        row norms of ``A P L^{-T}``).

        ``"approx"``: the algorithm of Drineas, Magdon-Ismail, Mahoney and
        Woodruff [1]_: a sparse sign sketch ``S A`` (``sketch_size`` rows,
        4 non-zeros per column), ``A R^+`` from the QR and SVD of ``S A``
        (rank-revealing), and a Gaussian JL projection to ``jl_dim`` columns
        (when ``jl_dim`` is below the rank) to read off row norms. Cost
        O(nnz(A) (4 + min(jl_dim, d)) + sketch_size d^2). Estimates are
        clipped to 1 (no score exceeds it). When the sketch would not have
        fewer rows than ``A`` (``sketch_size >= n``) the exact scores are
        returned.
    sketch_size : int, optional
        Rows of the first sketch (``"approx"`` only), at least ``d``;
        default ``min(n, 10 d)``.
    jl_dim : int, default=64
        Columns of the JL projection (``"approx"`` only).
    random_state : None, int, Generator or SeedSequence

    Returns
    -------
    scores : ndarray of shape (n,)
        For a ``dask.array.Array`` ``A`` chunked by rows, a lazy Dask array
        chunked like ``A``: the passes run over the chunks, the small
        factorisations on the client, and the scores of each chunk where it
        lives (``.compute()`` them, or keep them distributed).

    Notes
    -----
    Accuracy of ``"approx"``. A sketch of subspace distortion ``eps`` (about
    ``sqrt(d / sketch_size)``) gives every score within a factor
    ``(1 +- eps)^{-2}``; the JL step multiplies each by a ``chi2(k)/k`` factor
    (relative standard deviation ``sqrt(2/k)``, ``k = jl_dim``). Measured on
    20,000-row matrices with heavy-tailed row norms (seed 0): d = 20, defaults:
    median relative error 0.105, all scores within [0.73, 1.71] times the
    exact ones; d = 100, defaults: median 0.139, within [0.52, 2.09];
    ``sketch_size = 40 d`` and no JL step: median 0.024 to 0.034, within
    [0.84, 1.21].

    References
    ----------
    .. [1] Drineas, Magdon-Ismail, Mahoney and Woodruff, JMLR 13 (2012),
           Algorithm 1.
    .. [3] Fan, Guo and Lin (2021); Balabanov (2022).

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.sketch import leverage_scores
    >>> A = np.random.default_rng(0).standard_normal((500, 10))
    >>> round(float(leverage_scores(A).sum()), 10)
    10.0
    >>> bool(leverage_scores(A, method="approx", random_state=0).max() <= 1.0)
    True
    """
    op = as_operand(A, "A", accept_operator=False)
    check_choice(method, "method", ("exact", "approx"))
    n, d = op.shape
    rng = check_random_state(random_state)
    if method == "approx":
        jl = check_positive_int(jl_dim, "jl_dim")
        m = min(n, 10 * d)
        if sketch_size is not None:
            m = check_positive_int(sketch_size, "sketch_size")
            if m < d and m < n:
                raise ValueError(
                    f"sketch_size={m} is smaller than the {d} columns of A; a subspace "
                    f"embedding needs at least d rows (the default is min(n, 10 d) = "
                    f"{min(n, 10 * d)})"
                )
        if m < n:
            return _approx(op, m, jl, rng)
        # A sketch of n or more rows saves nothing: the exact scores cost the same.
    if op.is_local:
        return _exact_local(op)
    return _exact_partitioned(op, rng)
