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
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from .._validation import check_matrix, check_positive_int, check_random_state
from ..distributed._detect import is_dask_array
from .operators import gaussian, sparse_sign

__all__ = ["leverage_scores", "numerical_rank"]


def numerical_rank(singular_values: np.ndarray, shape: tuple[int, int]) -> int:
    """Rank by LAPACK's default cut-off: ``s > s_max * max(shape) * eps``."""
    s = np.asarray(singular_values)
    if s.size == 0 or s[0] == 0:
        return 0
    return int(np.count_nonzero(s > s[0] * max(shape) * np.finfo(np.float64).eps))


def _row_sq_norms(M: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", M, M)


def _exact(A) -> np.ndarray:
    if sp.issparse(A):
        A = A.toarray()
    A = np.asarray(A, dtype=np.float64)
    n, d = A.shape
    if n < d:
        # range(A) is all of R^n when A has full row rank; the SVD settles rank.
        U, s, _ = scipy.linalg.svd(A, full_matrices=False, check_finite=False)
        r = numerical_rank(s, A.shape)
        return _row_sq_norms(U[:, :r])
    Q, R = scipy.linalg.qr(A, mode="economic", check_finite=False, overwrite_a=False)
    # R has A's singular values; its SVD detects rank without a pivoted QR of A.
    Ur, s, _ = scipy.linalg.svd(R, check_finite=False)
    r = numerical_rank(s, A.shape)
    if r == d:
        return _row_sq_norms(Q)
    return _row_sq_norms(Q @ Ur[:, :r])


def _approx(A, sketch_size, jl_dim, rng) -> np.ndarray:
    n, d = A.shape
    m = sketch_size if sketch_size is not None else min(n, 10 * d)
    S = sparse_sign(m, n, nnz_per_col=min(4, m), random_state=rng)
    rows = is_dask_array(A)
    if rows:
        from ..distributed.rowmatrix import RowMatrix

        A = RowMatrix(A)
        SA = A.sketch(S)
        if not np.isfinite(SA).all():
            raise ValueError("A contains NaN or infinity; remove or impute those entries first")
    else:
        SA = np.asarray(S @ A, dtype=np.float64)
    # QR first: the SVD then works on a d x d matrix instead of m x d.
    R = scipy.linalg.qr(SA, mode="r", check_finite=False)[0][: min(m, d)]
    _, s, Vt = scipy.linalg.svd(R, full_matrices=False, check_finite=False)
    r = numerical_rank(s, (n, d))
    if r == 0:
        return np.zeros(n) if not rows else A.array[:, 0].map_blocks(np.zeros_like, dtype=float)
    # A V_r diag(1/s_r) is nearly orthonormal [1]; a JL projection with jl_dim
    # columns estimates its row norms in O(nnz(A) jl_dim) instead of O(nnz(A) r).
    P = Vt[:r].T / s[:r]
    if jl_dim < r:
        P = P @ gaussian(jl_dim, r, random_state=rng).toarray().T
    if rows:
        # The n scores stay distributed, chunked like the rows of A.
        return A.array.map_blocks(
            _chunk_scores, P, drop_axis=1, dtype=np.float64, meta=np.empty(0)
        )
    return _row_sq_norms(np.asarray(A @ P, dtype=np.float64))


def _chunk_scores(block, P):
    return _row_sq_norms(np.asarray(block @ P, dtype=np.float64))


def _densify(block):
    return block.toarray() if sp.issparse(block) else np.asarray(block, dtype=np.float64)


def _exact_dask(A):
    """Exact scores of a row-chunked Dask array: Dask's tall-skinny QR, then ``Q U_r``."""
    from ..distributed._detect import require_dask
    from ..distributed.rowmatrix import RowMatrix

    da = require_dask()
    M = RowMatrix(A)
    n, d = M.shape
    if n < d or min(M.row_chunks) < d:
        # TSQR needs chunks of at least d rows; a wide matrix has few rows anyway.
        return da.from_array(_exact(M.compute()), chunks=(M.row_chunks,))
    X = M.array.map_blocks(_densify, dtype=np.float64, meta=np.empty((0, 0)))
    Q, R = da.linalg.tsqr(X)
    Ur, s, _ = scipy.linalg.svd(np.asarray(R.compute()), check_finite=False)
    if not np.isfinite(s).all():
        raise ValueError("A contains NaN or infinity; remove or impute those entries first")
    r = numerical_rank(s, (n, d))
    return Q.map_blocks(_chunk_scores, Ur[:, :r], drop_axis=1, dtype=np.float64, meta=np.empty(0))


def leverage_scores(
    A: Any,
    *,
    method: str = "exact",
    sketch_size: int | None = None,
    jl_dim: int = 64,
    random_state: Any = None,
) -> np.ndarray:
    """Leverage scores of the rows of ``A``.

    Parameters
    ----------
    A : array-like, sparse matrix or dask.array.Array of shape (n, d)
    method : {"exact", "approx"}, default="exact"
        ``"exact"``: thin QR of ``A`` (densified if sparse), then the SVD of
        ``R`` to find the numerical rank ``r`` (cut-off ``s_max max(n, d)
        eps``); the scores sum to ``r``. Cost O(n d^2).

        ``"approx"``: the algorithm of Drineas, Magdon-Ismail, Mahoney and
        Woodruff [1]_: a sparse sign sketch ``S A`` (``sketch_size`` rows,
        default ``10 d``, 4 non-zeros per column), ``A R^+`` from the QR and
        SVD of ``S A`` (rank-revealing), and a Gaussian JL projection to
        ``jl_dim`` columns (when ``jl_dim`` is below the rank) to read off row
        norms. Cost O(nnz(A) (4 + min(jl_dim, d)) + sketch_size d^2).
    sketch_size : int, optional
        Rows of the first sketch (``"approx"`` only), at least ``d``.
    jl_dim : int, default=64
        Columns of the JL projection (``"approx"`` only).

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
    random_state : None, int or Generator

    Returns
    -------
    scores : ndarray of shape (n,)
        For a ``dask.array.Array`` ``A`` chunked by rows, a lazy Dask array
        chunked like ``A``: the sketch (``"approx"``) or Dask's tall-skinny QR
        (``"exact"``, :func:`dask.array.linalg.tsqr`) runs over the chunks,
        the small factorisations on the client, and the scores of each chunk
        where it lives (``.compute()`` them, or keep them distributed).

    References
    ----------
    .. [1] Drineas, Magdon-Ismail, Mahoney and Woodruff, JMLR 13 (2012),
           Algorithm 1.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.sketch import leverage_scores
    >>> A = np.random.default_rng(0).standard_normal((500, 10))
    >>> round(leverage_scores(A).sum(), 10)
    10.0
    """
    if is_dask_array(A):
        if A.ndim != 2:
            raise ValueError(f"A must be 2-D, got an array of shape {A.shape}")
        if method == "exact":
            return _exact_dask(A)
    else:
        A = check_matrix(A, "A")
    if method == "exact":
        return _exact(A)
    if method == "approx":
        jl = check_positive_int(jl_dim, "jl_dim")
        if sketch_size is not None:
            sketch_size = check_positive_int(sketch_size, "sketch_size")
            if sketch_size < A.shape[1] and sketch_size < A.shape[0]:
                raise ValueError(
                    f"sketch_size={sketch_size} is smaller than the {A.shape[1]} columns of A; "
                    "a subspace embedding needs at least d rows (4 d is the default)"
                )
        return _approx(A, sketch_size, jl, check_random_state(random_state))
    raise ValueError(f"method must be 'exact' or 'approx', got {method!r}")
