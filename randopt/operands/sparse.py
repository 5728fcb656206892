"""In-memory sparse matrices (CSR or CSC, float32 or float64) as operands.

:func:`validated_sparse` is the entry check of every ``scipy.sparse`` input,
matrix or array, of any format: the compressed structure (``indptr``,
``indices``) and COO coordinates are checked against the shape *before* any
conversion or kernel reads them (a wrong index would otherwise make a Numba
kernel read or write out of bounds), and duplicate entries are summed on a
copy. The caller's matrix is never modified.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba as nb
import numpy as np
import scipy.sparse as sp

from . import _kernels_csr, _kernels_gram, _kernels_normal
from ._rows import BLOCK, EMPTY_IDX, as_index
from .base import Operand
from .parallel import PARALLEL_MIN_BYTES, row_chunks, threads_for

__all__ = ["SparseOperand", "validated_sparse", "FUSED_BLOCK_BYTES"]

#: Largest ``d x k`` float64 accumulator (bytes) for which :meth:`SparseOperand.normal_matvec`
#: fuses a block of ``k`` columns into one pass (a core's L2 cache on the 2-core machine).
FUSED_BLOCK_BYTES = 1 << 20


def _real_dtype(dtype: np.dtype, name: str) -> np.dtype:
    if np.issubdtype(dtype, np.complexfloating):
        raise TypeError(
            f"{name} has complex dtype {dtype}; only real float32/float64 is supported"
        )
    if dtype in (np.float32, np.float64):
        return np.dtype(dtype)
    if np.issubdtype(dtype, np.number) or dtype == np.bool_:
        return np.dtype(np.float64)
    raise TypeError(f"{name} must hold real numbers, got dtype {dtype}")


def _check_index_array(arr: Any, what: str, name: str) -> np.ndarray:
    a = np.asarray(arr)
    if a.ndim != 1 or not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"{name} is malformed: {what} must be a 1-D integer array")
    return a


def _check_compressed(A: Any, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Check a CSR/CSC structure; returns ``(data, indices, indptr, canonical)``."""
    major, minor = A.shape if A.format == "csr" else A.shape[::-1]
    indptr = _check_index_array(A.indptr, "indptr", name)
    indices = _check_index_array(A.indices, "indices", name)
    data = np.asarray(A.data)
    if indptr.shape[0] != major + 1:
        raise ValueError(
            f"{name} is malformed: indptr has {indptr.shape[0]} entries, expected {major + 1}"
        )
    nnz = int(indptr[-1])
    if indptr[0] != 0 or np.any(np.diff(indptr) < 0):
        raise ValueError(f"{name} is malformed: indptr must start at 0 and never decrease")
    if data.ndim != 1 or nnz > indices.shape[0] or nnz > data.shape[0]:
        raise ValueError(
            f"{name} is malformed: indptr[-1] = {nnz} exceeds the {indices.shape[0]} stored "
            f"indices or the {data.shape[0]} stored values"
        )
    indices, data = indices[:nnz], data[:nnz]
    if nnz and (indices.min() < 0 or indices.max() >= minor):
        raise ValueError(
            f"{name} is malformed: its {'column' if A.format == 'csr' else 'row'} indices must "
            f"lie in [0, {minor}), found [{indices.min()}, {indices.max()}]"
        )
    # Canonical: strictly increasing indices within every row (sorted, no duplicates).
    canonical = True
    if nnz > 1:
        increasing = np.diff(indices) > 0
        starts = indptr[1:-1]
        starts = starts[(starts > 0) & (starts < nnz)] - 1
        increasing[starts] = True  # a new row may start lower
        canonical = bool(increasing.all())
    return data, indices, indptr, canonical


def validated_sparse(A: Any, name: str = "A", *, check_finite: bool = True) -> sp.spmatrix:
    """Check any ``scipy.sparse`` matrix or array; return a canonical CSR or CSC matrix.

    Parameters
    ----------
    A : scipy.sparse matrix or array, any format
    name : str
        Argument name for error messages.
    check_finite : bool, default=True
        Refuse NaN and infinite stored values.

    Returns
    -------
    scipy.sparse.csr_matrix or csc_matrix
        float32 or float64, indices sorted, duplicates summed. It shares the
        caller's arrays when they were already canonical; otherwise it is a
        copy (the caller's matrix is never written).

    Raises
    ------
    ValueError
        For a wrong shape, out-of-range or negative indices, a bad ``indptr``,
        or (``check_finite``) non-finite values.
    TypeError
        For complex or non-numeric values.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> A = sp.csr_matrix((np.array([1.0, 2.0]), np.array([0, 0]), np.array([0, 2])),
    ...                   shape=(1, 2))
    >>> validated_sparse(A).toarray().tolist()   # the duplicate is summed, on a copy
    [[3.0, 0.0]]
    >>> A.nnz
    2
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string (the argument name), got {name!r}")
    if not sp.issparse(A):
        raise TypeError(f"{name} must be a scipy.sparse matrix or array, got {type(A).__name__}")
    if len(A.shape) != 2:
        raise ValueError(f"{name} must be 2-D, got {len(A.shape)}-D sparse input")
    n, d = (int(s) for s in A.shape)
    if n <= 0 or d <= 0:
        raise ValueError(
            f"{name} is empty (shape {A.shape}); it needs at least one row and column"
        )
    dtype = _real_dtype(np.dtype(A.dtype), name)
    fmt = A.format
    if fmt == "coo":
        coords = A.coords if hasattr(A, "coords") else (A.row, A.col)
        for axis, (c, size) in enumerate(zip(coords, (n, d), strict=True)):
            c = _check_index_array(c, "coordinates", name)
            if c.size and (c.min() < 0 or c.max() >= size):
                raise ValueError(
                    f"{name} is malformed: its {'row' if axis == 0 else 'column'} coordinates "
                    f"must lie in [0, {size})"
                )
        if np.asarray(A.data).shape[0] != coords[0].shape[0]:
            raise ValueError(f"{name} is malformed: data and coordinates differ in length")
    elif fmt == "bsr":
        blocks = np.asarray(A.indices)
        r, c = A.blocksize
        if blocks.size and (blocks.min() < 0 or blocks.max() >= d // c):
            raise ValueError(f"{name} is malformed: block column indices out of range")
        if np.asarray(A.indptr).shape[0] != n // r + 1:
            raise ValueError(f"{name} is malformed: indptr has the wrong length")
    if fmt not in ("csr", "csc"):
        # A conversion builds new arrays: the caller's matrix is untouched.
        A = A.tocsr()
        fmt = "csr"
    data, indices, indptr, canonical = _check_compressed(A, name)
    if check_finite and data.size and not np.isfinite(data).all():
        raise ValueError(f"{name} contains NaN or infinity; remove or impute those entries first")
    cls = sp.csr_matrix if fmt == "csr" else sp.csc_matrix
    if canonical:
        out = cls((data.astype(dtype, copy=False), indices, indptr), shape=(n, d), copy=False)
    else:
        out = cls((data.astype(dtype, copy=True), indices.copy(), indptr.copy()), shape=(n, d))
        out.sum_duplicates()  # sorts and sums, in place on the copy
    out.has_canonical_format = True
    return out


class SparseOperand(Operand):
    """A CSR or CSC matrix as an :class:`~randopt.operands.Operand`.

    Build it with :func:`~randopt.operands.as_operand` (which runs
    :func:`validated_sparse`). A CSR matrix times a vector (``A x``,
    ``A^T u``, the Gram product, ``A^T (A v)``) runs the Numba kernels of
    ``_kernels_csr``, on all Numba threads from
    :data:`~randopt.operands.parallel.PARALLEL_MIN_BYTES` of stored entries
    on (the Gram product scatters into one private ``d``-vector per thread,
    ``8 d`` bytes each; ``A^T u`` keeps a transposed copy from its second
    call on, see :meth:`rmatvec`); blocks of columns use
    SciPy's products or the fused ``A^T (A V)`` pass (see
    :meth:`normal_matvec`). CSC uses SciPy's products and, for row access and
    Gram matrices, a CSR copy made once on first use.

    Parameters
    ----------
    matrix : scipy.sparse.csr_matrix or csc_matrix
        A validated, canonical matrix; read, never written.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from randopt.operands import as_operand
    >>> op = as_operand(sp.coo_array(np.array([[1.0, 0.0], [0.0, 2.0]])))
    >>> op.format, op.normal_matvec(np.ones(2)).tolist()
    ('csr', [1.0, 4.0])
    """

    is_local = True

    def __init__(self, matrix: Any, *, name: str = "A", check_finite: bool = True):
        # Public constructor: the structure is validated here, because the
        # Numba kernels trust indices and indptr (an out-of-range index would
        # read or write out of bounds).
        if not sp.issparse(matrix):
            raise TypeError(
                f"{name} must be a scipy.sparse matrix or array, got {type(matrix).__name__}"
            )
        self._init(validated_sparse(matrix, name, check_finite=check_finite))

    @classmethod
    def _trusted(cls, matrix: sp.spmatrix) -> SparseOperand:
        """Wrap a matrix :func:`validated_sparse` has already returned."""
        self = cls.__new__(cls)
        self._init(matrix)
        return self

    def _init(self, matrix: sp.spmatrix) -> None:
        self._matrix = matrix
        self._csr_copy: sp.csr_matrix | None = None
        # ``matrix.T`` builds (and validates) a new sparse object on every call,
        # which costs more than the product itself on small matrices: keep one
        # (used by CSC operands and by blocks of several columns).
        self._transpose = matrix.T
        # Row chunks of the parallel kernels, per thread count (CSR only).
        self._bounds: dict[int, np.ndarray] = {}
        # A^T as a CSR copy, made at the second rmatvec (see rmatvec).
        self._rmatvec_called = False
        self._transposed_csr: sp.csr_matrix | None = None
        self._transposed_bounds: dict[int, np.ndarray] = {}
        self._ones: np.ndarray | None = None
        self.format = matrix.format
        self.shape = (int(matrix.shape[0]), int(matrix.shape[1]))
        self.dtype = matrix.dtype

    @property
    def nnz(self) -> int:
        """Stored entries."""
        return int(self._matrix.nnz)

    @property
    def nbytes(self) -> int:
        """Bytes of the stored values and indices (what a pass reads)."""
        return int(self._matrix.data.nbytes + self._matrix.indices.nbytes)

    def _csr(self) -> sp.csr_matrix:
        if self.format == "csr":
            return self._matrix
        if self._csr_copy is None:
            self._csr_copy = self._matrix.tocsr()
        return self._csr_copy

    def _chunks(self, scatter: bool) -> np.ndarray | None:
        """Row chunks for the parallel CSR kernels, or None to run the serial ones.

        Parallel only from :data:`~randopt.operands.parallel.PARALLEL_MIN_BYTES`
        of stored entries on and with more than one Numba thread (the rule of
        :func:`~randopt.operands.parallel.threads_for`); the chunks, about
        equal in stored entries, are computed once per thread count. A
        ``scatter`` kernel (the Gram product) also zeroes and sums
        one private ``d``-vector per thread: it runs in parallel only while
        those ``2 threads d`` memory operations stay below a quarter of the
        ``nnz`` updates of the pass (a very wide matrix with few entries per
        column runs serially).
        """
        if self.nbytes < PARALLEL_MIN_BYTES:
            return None
        threads = nb.get_num_threads()
        if threads == 1 or (scatter and 8 * threads * self.shape[1] > self.nnz):
            return None
        bounds = self._bounds.get(threads)
        if bounds is None:
            A = self._matrix
            bounds = self._bounds[threads] = _kernels_csr.nnz_bounds(A.indptr, threads)
        return bounds

    def matvec(self, x: np.ndarray) -> np.ndarray:
        """``A x``; a vector times a CSR matrix runs the Numba kernel.

        The kernel sums each row in storage order, as SciPy's ``csr_matvec``
        does: the same bits, on any number of threads (rows are split across
        threads, never a row's sum). A block of columns, or a CSC matrix,
        goes to SciPy's product.

        Parameters
        ----------
        x : ndarray of shape (d,) or (d, k)

        Returns
        -------
        ndarray of shape (n,) or (n, k), float64
        """
        x = self._right(x)
        if self.format != "csr" or x.ndim != 1:
            return np.asarray(self._matrix @ x, dtype=np.float64)
        A = self._matrix
        xv = np.ascontiguousarray(x, dtype=np.float64)
        out = np.empty(self.shape[0])
        bounds = self._chunks(scatter=False)
        if bounds is None:
            _kernels_csr.matvec_serial(A.indptr, A.indices, A.data, xv, out)
        else:
            _kernels_csr.matvec_parallel(A.indptr, A.indices, A.data, xv, out, bounds)
        return out

    def rmatvec(self, u: Any) -> np.ndarray:
        """``A^T u``; a vector and a CSR matrix run the Numba kernels.

        The first product scatters the rows of ``A`` (one thread, no copy).
        From the second on, ``A^T`` is kept as a CSR copy (``nnz`` values and
        indices plus ``d + 1`` pointers: 18 MB for 1.5 M float64 entries with
        int32 indices) whose rows the ``A x`` kernel gathers, on all threads
        for large matrices: iterative methods take hundreds of products, and
        gathering measured 9 ms against 27 ms for scattering at
        1,000,000 x 10,000 with 10**6 entries (short rows make a scatter pay
        per row), level at 20,000 x 47,000 with 1.5 M. Either way each entry
        of the result sums its column in increasing row order, SciPy's order
        for ``A.T @ u``: the same bits on any number of threads.

        Parameters
        ----------
        u : ndarray of shape (n,) or (n, k)

        Returns
        -------
        ndarray of shape (d,) or (d, k), float64
        """
        u = self._left(u)
        if self.format != "csr" or u.ndim != 1:
            return np.asarray(self._transpose @ u, dtype=np.float64)
        uv = np.ascontiguousarray(u, dtype=np.float64)
        out = np.empty(self.shape[1])
        if self._transposed_csr is None:
            if not self._rmatvec_called:
                self._rmatvec_called = True
                A = self._matrix
                _kernels_csr.rmatvec_serial(A.indptr, A.indices, A.data, uv, out)
                return out
            AT = self._transposed_csr = self._matrix.T.tocsr()
            AT.sort_indices()  # (tocsr of a CSC view lists rows in order already)
        AT = self._transposed_csr
        bounds = self._transposed_chunks()
        if bounds is None:
            _kernels_csr.matvec_serial(AT.indptr, AT.indices, AT.data, uv, out)
        else:
            _kernels_csr.matvec_parallel(AT.indptr, AT.indices, AT.data, uv, out, bounds)
        return out

    def _transposed_chunks(self) -> np.ndarray | None:
        """Chunks of the rows of ``A^T`` (the columns of ``A``), as :meth:`_chunks`'s."""
        threads = nb.get_num_threads()
        if self.nbytes < PARALLEL_MIN_BYTES or threads == 1:
            return None
        bounds = self._transposed_bounds.get(threads)
        if bounds is None:
            indptr = self._transposed_csr.indptr
            bounds = self._transposed_bounds[threads] = _kernels_csr.nnz_bounds(indptr, threads)
        return bounds

    def normal_matvec(self, V: np.ndarray) -> np.ndarray:
        """``A^T (A V)``, in one fused Numba pass over a CSR matrix where that pays.

        A vector (or one column) goes through the Gram kernel of
        :meth:`gram_product` with unit weights (multiplying by 1.0 is exact).
        A block of ``k`` columns is fused while its ``d x k`` accumulator fits
        in :data:`FUSED_BLOCK_BYTES` (a core's L2 cache); beyond that the
        fused pass's scattered updates miss the cache and SciPy's two
        products are faster (measured 92 ms against 62 ms at k = 4 on the
        rcv1-like 20,000 x 47,000 design, 14 against 19 ms on a
        200,000 x 200 one at 1%), so they run instead. CSC matrices use
        SciPy's two products.

        Parameters
        ----------
        V : ndarray of shape (d,) or (d, k)

        Returns
        -------
        ndarray of shape (d,) or (d, k), float64
        """
        A = self._matrix
        V = self._right(V, "V")
        if self.format != "csr":
            return np.asarray(A.T @ (A @ V), dtype=np.float64)
        if V.ndim == 1 or V.shape[1] == 1:
            out = self._gram_matvec_all(self._unit_weights(), V.reshape(-1))
            return out if V.ndim == 1 else out[:, None]
        if self.shape[1] * V.shape[1] * 8 > FUSED_BLOCK_BYTES:
            return np.asarray(self._transpose @ (A @ V), dtype=np.float64)
        V2 = np.ascontiguousarray(V, dtype=np.float64)
        with threads_for(self.nbytes):
            return _kernels_normal.normal_csr(
                A.indptr, A.indices, A.data, V2, row_chunks(A.shape[0])
            )

    def _unit_weights(self) -> np.ndarray:
        if self._ones is None:
            self._ones = np.ones(self.shape[0])
        return self._ones

    def sketch(self, S: Any) -> np.ndarray:
        return S.apply_local(self)

    def take_rows(self, idx: np.ndarray) -> SparseOperand:
        rows = as_index(idx, self.n_rows)
        picked = self._csr()[rows]
        picked.sort_indices()
        return SparseOperand._trusted(picked)

    def local_data(self) -> sp.spmatrix:
        return self._matrix

    def row_norms_sq(self, right: np.ndarray | None = None) -> np.ndarray:
        A = self._csr()
        if right is None:
            sq = sp.csr_matrix(
                (np.square(A.data, dtype=np.float64), A.indices, A.indptr), shape=A.shape
            )
            return np.asarray(sq.sum(axis=1), dtype=np.float64).ravel()
        P = np.asarray(right, dtype=np.float64)
        out = np.empty(self.n_rows)
        for lo in range(0, self.n_rows, BLOCK):
            B = np.asarray(A[lo : lo + BLOCK] @ P)
            out[lo : lo + BLOCK] = np.einsum("ij,ij->i", B, B)
        return out

    def abs_sums(self) -> tuple[float, float, float]:
        A = abs(self._matrix).astype(np.float64)
        fro = float(np.sqrt(np.sum(np.square(A.data))))
        one = float(np.asarray(A.sum(axis=0)).max())
        inf = float(np.asarray(A.sum(axis=1)).max())
        return fro, one, inf

    def to_dense(self) -> np.ndarray:
        return self._matrix.toarray().astype(np.float64, copy=False)

    def _kernel_rows(self, idx: np.ndarray | None, coef: np.ndarray):
        """``(A, rows, coef)`` for the Gram kernels, checked; ``A`` in CSR.

        ``rows`` empty means all rows of ``A``: an empty selection ``idx``
        becomes a CSR ``A`` of no rows (a sum over no rows, zero), never "all".
        """
        rows = EMPTY_IDX if idx is None else as_index(idx, self.shape[0])
        count = self.shape[0] if idx is None else rows.shape[0]
        c = np.ascontiguousarray(coef, dtype=np.float64)
        if c.shape != (count,):
            raise ValueError(
                f"coef must have shape ({count},), one per selected row; got {c.shape}"
            )
        A = self._csr()
        if idx is not None and count == 0:
            A = A[:0]
        return A, rows, c

    def gram(self, idx: np.ndarray | None, coef: np.ndarray) -> np.ndarray:
        A, rows, c = self._kernel_rows(idx, coef)
        H = np.empty((self.shape[1], self.shape[1]))
        _kernels_gram.csr_gram(A.data, A.indices, A.indptr, rows, c, H)
        return H

    def _gram_matvec_all(self, coef: np.ndarray, v: np.ndarray) -> np.ndarray:
        """``A^T diag(coef) A v`` over all rows of a CSR matrix (arguments checked)."""
        A = self._matrix
        vv = np.ascontiguousarray(v, dtype=np.float64)
        out = np.empty(self.shape[1])
        bounds = self._chunks(scatter=True)
        if bounds is None:
            _kernels_csr.gram_matvec_serial(A.indptr, A.indices, A.data, coef, vv, out)
        else:
            _kernels_csr.gram_matvec_parallel(A.indptr, A.indices, A.data, coef, vv, out, bounds)
        return out

    def gram_product(
        self, idx: np.ndarray | None, coef: np.ndarray
    ) -> Callable[[np.ndarray], np.ndarray]:
        """The product ``v -> sum_k coef[k] a_{idx[k]} (a_{idx[k]}^T v)``, prepared once.

        One pass over the CSR rows per product (SciPy's ``A.T @ (c * (A @ v))``
        takes two), in the Numba kernels of ``_kernels_csr``. All rows
        (``idx`` None) of a large enough matrix run on all Numba threads:
        each chunk of rows accumulates into a private ``d``-vector and the
        chunks are summed in order. The result is deterministic for a given
        thread count, and bitwise SciPy's on one thread; across thread counts
        it differs only by the rounding of a re-ordered sum (a relative
        ``n eps`` of ``sum_k |coef_k (a_k^T v) a_k|``, the accuracy of any
        order), which the Krylov solvers that consume it do not resolve. A
        row subset ``idx`` runs one thread.

        Parameters
        ----------
        idx : ndarray of int or None
            Rows (all when None).
        coef : ndarray of float64, one per selected row

        Returns
        -------
        callable
            ``v (shape (d,)) -> ndarray of shape (d,), float64``.
        """
        A, rows, c = self._kernel_rows(idx, coef)
        d = self.shape[1]
        if idx is None and self.format == "csr":
            gram_all = self._gram_matvec_all

            def product_all(v: np.ndarray) -> np.ndarray:
                if np.shape(v) != (d,):
                    raise ValueError(f"v must have shape ({d},), got {np.shape(v)}")
                return gram_all(c, v)

            return product_all
        data, indices, indptr = A.data, A.indices, A.indptr
        kernel = _kernels_gram.csr_gram_matvec

        def product(v: np.ndarray) -> np.ndarray:
            vv = np.ascontiguousarray(v, dtype=np.float64)
            if vv.shape != (d,):
                raise ValueError(f"v must have shape ({d},), got {vv.shape}")
            out = np.empty(d)
            kernel(data, indices, indptr, rows, c, vv, out)
            return out

        return product
