"""In-memory dense matrices (C or Fortran order, float32 or float64) as operands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._validation import check_matrix
from . import _kernels_gram, _kernels_normal
from ._rows import BLOCK, EMPTY_IDX, as_index
from .base import Operand
from .parallel import PARALLEL_MIN_BYTES, row_chunks

__all__ = ["DenseOperand", "GRAM_KERNEL_MAX_COLS"]


#: Widest matrix whose explicit Gram matrix the Numba kernel forms (BLAS beyond).
GRAM_KERNEL_MAX_COLS = 64


def _blas_gram(X: np.ndarray, rows: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``sum_k c[k] x_k x_k^T`` over ``rows`` of ``X`` (all when empty), by BLAS, symmetric."""
    d = X.shape[1]
    count = X.shape[0] if rows.shape[0] == 0 else rows.shape[0]
    H = np.zeros((d, d)) if count == 0 else None
    for lo in range(0, count, BLOCK):
        hi = min(count, lo + BLOCK)
        B = X[lo:hi] if rows.shape[0] == 0 else np.take(X, rows[lo:hi], axis=0)
        part = B.T @ (c[lo:hi, None] * B)
        H = part if H is None else np.add(H, part, out=H)
    # Exactly symmetric, as the kernel's result: its lower triangle mirrored.
    _kernels_gram.mirror_lower(H)
    return H


def _residual_pass(A: np.ndarray, x: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``[A^T (b - A x), ||b - A x||^2]`` for a C-ordered ``A``, float64 ``x`` and ``b``.

    The parallel kernel for inputs of :data:`~randopt.operands.parallel.PARALLEL_MIN_BYTES`
    and more on several threads (:func:`~randopt.operands.parallel.row_chunks`
    chunks), else its serial twin: no parallel region to launch and no thread
    count to set and restore, microseconds a call on small matrices. Both
    give the same bits for one chunk.
    """
    if A.nbytes >= PARALLEL_MIN_BYTES:
        chunks = row_chunks(A.shape[0])
        if chunks > 1:
            return _kernels_normal.residual_normal_dense_c(A, x, b, chunks)
    return _kernels_normal.residual_normal_dense_serial(A, x, b)


class DenseOperand(Operand):
    """A dense ndarray as an :class:`~randopt.operands.Operand`.

    Build it with :func:`~randopt.operands.as_operand`, which validates the
    array once (2-D, real, finite; integers become float64). The memory order
    is kept: the fused Numba passes run on C-ordered data, a Fortran-ordered
    array uses BLAS's two products.

    Parameters
    ----------
    data : ndarray of shape (n, d), float32 or float64, C or F contiguous
        A validated array (see :func:`~randopt.operands.as_operand`); it is
        read, never written.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.operands import as_operand
    >>> op = as_operand(np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
    >>> g, r = op.residual_normal(np.zeros(2), np.ones(3))
    >>> g.tolist(), round(float(r), 6)
    ([9.0, 12.0], 1.732051)
    """

    format = "dense"
    is_local = True

    def __init__(self, data: Any, *, name: str = "A", check_finite: bool = True):
        # Public constructor: the data is validated here (kernels index it
        # directly), so a DenseOperand built by hand is as safe as as_operand's.
        self._init(check_matrix(data, name, accept_sparse=False, check_finite=check_finite))

    @classmethod
    def _trusted(cls, data: np.ndarray) -> DenseOperand:
        """Wrap an array this package has already validated (no second pass)."""
        self = cls.__new__(cls)
        self._init(data)
        return self

    def _init(self, data: np.ndarray) -> None:
        self._data = data
        self.shape = (int(data.shape[0]), int(data.shape[1]))
        self.dtype = data.dtype

    @property
    def nbytes(self) -> int:
        """Bytes of the stored array."""
        return int(self._data.nbytes)

    def matvec(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self._data @ self._right(x), dtype=np.float64)

    def rmatvec(self, u: Any) -> np.ndarray:
        return np.asarray(self._data.T @ self._left(u), dtype=np.float64)

    def normal_matvec(self, V: np.ndarray) -> np.ndarray:
        """``A^T (A V)``: one fused pass for a vector and a C-ordered ``A``.

        For several columns BLAS's two matrix products are faster than the
        fused loop (measured in ``benchmarks/bench_sketch.py``), and a
        Fortran-ordered ``A`` uses two products too.

        Parameters
        ----------
        V : ndarray of shape (d,) or (d, k)

        Returns
        -------
        ndarray of shape (d,) or (d, k), float64
        """
        A = self._data
        V = self._right(V, "V")
        if V.ndim == 1 and A.flags.c_contiguous:
            # A^T (A v) = -A^T (0 - A v): the residual kernel with b = 0 (reading
            # the zeros adds 1/d to the traffic).
            v = np.ascontiguousarray(V, dtype=np.float64)
            return -_residual_pass(A, v, np.zeros(A.shape[0]))[:-1]
        return np.asarray(A.T @ (A @ V), dtype=np.float64)

    def residual_normal(self, x: np.ndarray, b: Any) -> tuple[np.ndarray, Any]:
        """``(A^T r, ||r||)`` for ``r = b - A x``; one fused pass for vectors and C order.

        Parameters
        ----------
        x : ndarray of shape (d,) or (d, k)
        b : ndarray of shape (n,) or (n, k)

        Returns
        -------
        gradient : ndarray, float64
        residual_norm : float or ndarray of shape (k,)
        """
        A = self._data
        x, b = self._right(x, "x"), self._left(b, "b")
        if A.flags.c_contiguous and x.ndim == 1 and b.ndim == 1:
            xv = np.ascontiguousarray(x, dtype=np.float64)
            bv = np.ascontiguousarray(b, dtype=np.float64)
            out = _residual_pass(A, xv, bv)
            return out[:-1], float(np.sqrt(out[-1]))
        return super().residual_normal(x, b)

    def sketch(self, S: Any) -> np.ndarray:
        return S.apply_local(self)

    def take_rows(self, idx: np.ndarray) -> DenseOperand:
        rows = as_index(idx, self.n_rows)
        # np.take gathers rows about twice as fast as fancy indexing (one memcpy per row).
        return DenseOperand._trusted(np.ascontiguousarray(np.take(self._data, rows, axis=0)))

    def local_data(self) -> np.ndarray:
        return self._data

    def row_norms_sq(self, right: np.ndarray | None = None) -> np.ndarray:
        A = self._data
        if right is None:
            if A.flags.c_contiguous:
                return _kernels_gram.dense_row_norms_sq(A)
            return np.einsum("ij,ij->i", A, A, dtype=np.float64)
        P = np.asarray(right, dtype=np.float64)
        out = np.empty(self.n_rows)
        for lo in range(0, self.n_rows, BLOCK):
            B = A[lo : lo + BLOCK] @ P
            out[lo : lo + BLOCK] = np.einsum("ij,ij->i", B, B)
        return out

    def abs_sums(self) -> tuple[float, float, float]:
        fro2, cols, inf = 0.0, np.zeros(self.n_cols), 0.0
        for lo in range(0, self.n_rows, BLOCK):
            blk = np.abs(self._data[lo : lo + BLOCK], dtype=np.float64)
            fro2 += float(np.einsum("ij,ij->", blk, blk))
            cols += blk.sum(axis=0)
            inf = max(inf, float(blk.sum(axis=1).max()))
        return float(np.sqrt(fro2)), float(cols.max()), inf

    def to_dense(self) -> np.ndarray:
        return np.array(self._data, dtype=np.float64, order="K", copy=True)

    def _kernel_rows(self, idx: np.ndarray | None, coef: np.ndarray):
        """``(X, rows, coef)`` for the Gram kernels, which read C-ordered rows.

        ``rows`` empty means all rows of ``X``: an empty selection ``idx``
        becomes a ``0 x d`` ``X`` (a sum over no rows, zero), never "all".
        """
        X = self._data
        rows = EMPTY_IDX if idx is None else as_index(idx, X.shape[0])
        count = X.shape[0] if idx is None else rows.shape[0]
        c = np.ascontiguousarray(coef, dtype=np.float64)
        if c.shape != (count,):
            raise ValueError(
                f"coef must have shape ({count},), one per selected row; got {c.shape}"
            )
        if idx is not None and count == 0:
            return np.ascontiguousarray(X[:0]), EMPTY_IDX, c
        if not X.flags.c_contiguous:
            # Gather the selected rows in C order (all of them when idx is None).
            if idx is not None:
                X, rows = X[rows], EMPTY_IDX
            X = np.ascontiguousarray(X)
        return X, rows, c

    def gram(self, idx: np.ndarray | None, coef: np.ndarray) -> np.ndarray:
        """``sum_k coef[k] a_{idx[k]} a_{idx[k]}^T`` (see :meth:`Operand.gram`).

        Up to :data:`GRAM_KERNEL_MAX_COLS` columns the Numba kernel (lower
        triangle only, rows in order) forms it; wider matrices use BLAS
        (``B^T (c B)`` over blocks of rows, then its lower triangle mirrored):
        measured 3.7 ms against 18.8 ms at 200 x 500 and 0.48 s against 1.15 s
        at 2,000 x 1,000, level at 50,000 x 23 and 50,000 x 55 (the papers'
        shapes, whose bits the kernel keeps).

        Parameters
        ----------
        idx : ndarray of int or None
        coef : ndarray of float64, one per selected row

        Returns
        -------
        ndarray of shape (d, d), float64, symmetric
        """
        X, rows, c = self._kernel_rows(idx, coef)
        d = X.shape[1]
        if d > GRAM_KERNEL_MAX_COLS:
            return _blas_gram(X, rows, c)
        H = np.empty((d, d))
        _kernels_gram.dense_gram(X, rows, c, H)
        return H

    def gram_product(
        self, idx: np.ndarray | None, coef: np.ndarray
    ) -> Callable[[np.ndarray], np.ndarray]:
        X, rows, c = self._kernel_rows(idx, coef)
        d = X.shape[1]
        kernel = _kernels_gram.dense_gram_matvec

        def product(v: np.ndarray) -> np.ndarray:
            vv = np.ascontiguousarray(v, dtype=np.float64)
            if vv.shape != (d,):
                raise ValueError(f"v must have shape ({d},), got {vv.shape}")
            out = np.empty(d)
            kernel(X, rows, c, vv, out)
            return out

        return product
