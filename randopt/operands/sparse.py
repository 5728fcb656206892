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

import numpy as np
import scipy.sparse as sp

from . import _kernels_gram, _kernels_normal
from ._rows import BLOCK, EMPTY_IDX, as_index
from .base import Operand
from .parallel import row_chunks, threads_for

__all__ = ["SparseOperand", "validated_sparse"]


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
    :func:`validated_sparse`). CSR gets the fused ``A^T (A V)`` Numba pass
    and the Gram kernels; CSC uses SciPy's two products and, for row access
    and Gram matrices, a CSR copy made once on first use.

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
        # which costs more than the product itself on small matrices: keep one.
        # From the second ``rmatvec`` on, the transpose is stored in its own
        # (gather-friendly) compressed format instead of as a view: iterative
        # methods take hundreds of products, and the scatter of a CSR^T (= CSC)
        # product measured 6.0 ms against 4.5 ms for the transposed copy at
        # 10**6 x 10**4, 1e6 stored entries, for a one-off copy of 2 products' cost.
        self._transpose = matrix.T
        self._rmatvec_calls = 0
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

    def matvec(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self._matrix @ self._right(x), dtype=np.float64)

    def rmatvec(self, u: Any) -> np.ndarray:
        self._rmatvec_calls += 1
        if self._rmatvec_calls == 2:
            self._transpose = self._transpose.asformat(self._matrix.format)
        return np.asarray(self._transpose @ self._left(u), dtype=np.float64)

    def normal_matvec(self, V: np.ndarray) -> np.ndarray:
        """``A^T (A V)``: one fused Numba pass for CSR (any number of columns).

        Parameters
        ----------
        V : ndarray of shape (d,) or (d, k)

        Returns
        -------
        ndarray of shape (d,) or (d, k), float64
        """
        A = self._matrix
        V = self._right(V, "V")
        if self.format == "csr":
            V2 = np.ascontiguousarray(V.reshape(V.shape[0], -1), dtype=np.float64)
            with threads_for(self.nbytes):
                out = _kernels_normal.normal_csr(
                    A.indptr, A.indices, A.data, V2, row_chunks(A.shape[0])
                )
            return out[:, 0] if V.ndim == 1 else out
        return np.asarray(A.T @ (A @ V), dtype=np.float64)

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
        """``(rows, coef)`` for the Gram kernels, checked."""
        rows = EMPTY_IDX if idx is None else as_index(idx, self.shape[0])
        count = self.shape[0] if idx is None else rows.shape[0]
        c = np.ascontiguousarray(coef, dtype=np.float64)
        if c.shape != (count,):
            raise ValueError(
                f"coef must have shape ({count},), one per selected row; got {c.shape}"
            )
        return rows, c

    def gram(self, idx: np.ndarray | None, coef: np.ndarray) -> np.ndarray:
        rows, c = self._kernel_rows(idx, coef)
        A = self._csr()
        H = np.empty((self.shape[1], self.shape[1]))
        _kernels_gram.csr_gram(A.data, A.indices, A.indptr, rows, c, H)
        return H

    def gram_product(
        self, idx: np.ndarray | None, coef: np.ndarray
    ) -> Callable[[np.ndarray], np.ndarray]:
        rows, c = self._kernel_rows(idx, coef)
        A = self._csr()
        data, indices, indptr, d = A.data, A.indices, A.indptr, self.shape[1]
        kernel = _kernels_gram.csr_gram_matvec

        def product(v: np.ndarray) -> np.ndarray:
            vv = np.ascontiguousarray(v, dtype=np.float64)
            if vv.shape != (d,):
                raise ValueError(f"v must have shape ({d},), got {vv.shape}")
            out = np.empty(d)
            kernel(data, indices, indptr, rows, c, vv, out)
            return out

        return product
