"""A Dask array chunked by rows, seen as a matrix: products and fused passes as reductions.

:class:`RowMatrix` is what :func:`randopt.lstsq`, :func:`randopt.sketch.leverage_scores`
and :func:`randopt.norms.spectral_norm` turn a ``dask.array.Array`` into. Each
method is one pass over the data, one task per row chunk, returning only
``d``-sized results to the client (:func:`._reduce.rowwise_sum`):

- ``normal(V)``: ``A^T (A V)`` (the fused Numba kernel of the sketching layer
  on each chunk), the product of CG on the normal equations;
- ``residual(b, x)``: ``(A^T (b - A x), ||b - A x||)`` in one pass;
- ``rmatvec(r)``: ``A^T r``; ``matvec(x)``: ``A x`` (an ``n``-vector: lazy
  unless asked for);
- ``sketch(S)``: ``S A``.

Validation costs no extra pass: non-finite entries are caught in the sketch
``S A``, into which every entry of ``A`` enters with a non-zero weight.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..sketch._kernels import normal_product, residual_normal
from ._detect import is_dask_array, require_dask
from ._reduce import row_aligned, rowwise_sum

__all__ = ["RowMatrix", "as_row_matrix"]


def _chunk(block):
    """A chunk as an operand of the fused kernels (C-ordered float ndarray or CSR)."""
    import scipy.sparse as sp

    if sp.issparse(block):
        block = block.tocsr()
        return block if block.dtype in (np.float32, np.float64) else block.astype(np.float64)
    block = np.asarray(block)
    if block.dtype not in (np.float32, np.float64):
        block = block.astype(np.float64)
    return np.ascontiguousarray(block)


class _Normal:
    def __init__(self, V):
        self.V = V

    def __call__(self, lo, block):
        return normal_product(_chunk(block), self.V)


class _Residual:
    def __init__(self, x):
        self.x = x

    def __call__(self, lo, block, b):
        A = _chunk(block)
        b = np.asarray(b, dtype=np.float64)
        fused = residual_normal(A, self.x, b) if self.x.ndim == 1 else None
        if fused is not None:
            g, rnorm = fused
            return np.concatenate([g, [rnorm * rnorm]])
        r = b - np.asarray(A @ self.x, dtype=np.float64)
        g = np.asarray(A.T @ r, dtype=np.float64)
        return np.concatenate([g.reshape(g.shape[0], -1), np.sum(r * r, axis=0).reshape(1, -1)])


def _rmatvec(lo, block, r):
    return np.asarray(_chunk(block).T @ np.asarray(r, dtype=np.float64), dtype=np.float64)


class RowMatrix:
    """A row-chunked ``dask.array.Array`` of shape (n, d) with one-pass products.

    Parameters
    ----------
    A : dask.array.Array of shape (n, d)
        Chunked along rows; column chunks are merged. Chunks may be ndarrays
        or scipy.sparse matrices. Persist ``A`` first (``A = A.persist()``)
        when the cluster's memory holds it: every method re-reads the chunks.
    name : str
        Argument name for error messages.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from randopt.distributed import RowMatrix
    >>> A = np.arange(12.0).reshape(6, 2)
    >>> M = RowMatrix(da.from_array(A, chunks=(4, 2)))
    >>> bool(np.allclose(M.normal(np.ones(2)), A.T @ (A @ np.ones(2))))
    True
    """

    def __init__(self, A: Any, name: str = "A"):
        if not is_dask_array(A):
            raise TypeError(f"{name} must be a dask.array.Array, got {type(A).__name__}")
        if A.ndim != 2:
            raise ValueError(f"{name} must be 2-D, got an array of shape {A.shape}")
        if any(np.isnan(c) for c in A.shape):
            raise ValueError(
                f"{name} has unknown chunk sizes; call {name}.compute_chunk_sizes() first"
            )
        if min(A.shape) == 0:
            raise ValueError(f"{name} is empty (shape {A.shape}); it needs rows and columns")
        if np.issubdtype(A.dtype, np.complexfloating):
            raise TypeError(f"{name} has complex dtype {A.dtype}; only real data is supported")
        if A.dtype.kind not in "fiub":
            raise TypeError(f"{name} must hold real numbers, got dtype {A.dtype}")
        if len(A.chunks[1]) > 1:
            A = A.rechunk({1: -1})
        self.array = A
        self.shape = tuple(int(s) for s in A.shape)
        self.dtype = np.dtype(np.float32 if A.dtype == np.float32 else np.float64)
        self.ndim = 2
        self.row_chunks = A.chunks[0]

    def __repr__(self) -> str:
        return f"RowMatrix(shape={self.shape}, row chunks={len(self.row_chunks)})"

    def align(self, X: Any, name: str) -> Any:
        """``X`` (n rows, NumPy or Dask) rechunked to this matrix's row chunks."""
        return row_aligned(X, self.row_chunks, name)

    def sketch(self, S) -> np.ndarray:
        """``S A``, computed."""
        from .sketch import sketch_dask

        return np.asarray(sketch_dask(S, self.array).compute(), dtype=np.float64)

    def normal(self, V: np.ndarray) -> np.ndarray:
        """``A^T (A V)`` for ``V`` of shape (d,) or (d, k), one pass."""
        V = np.ascontiguousarray(V, dtype=np.float64)
        out = rowwise_sum(_Normal(V), [self.array], V.shape)
        return out.compute()

    def residual(self, b: Any, x: np.ndarray) -> tuple[np.ndarray, Any]:
        """``(A^T r, ||r||)`` for ``r = b - A x`` (columnwise norms for 2-D ``b``), one pass."""
        x = np.ascontiguousarray(x, dtype=np.float64)
        b = self.align(b, "b")
        shape = (self.shape[1] + 1,) if x.ndim == 1 else (self.shape[1] + 1, x.shape[1])
        out = rowwise_sum(_Residual(x), [self.array, b], shape).compute()
        return out[:-1], np.sqrt(out[-1])

    def rmatvec(self, r: Any) -> np.ndarray:
        """``A^T r`` for ``r`` of shape (n,) or (n, k), NumPy or Dask."""
        r = self.align(r, "r")
        shape = (self.shape[1],) if r.ndim == 1 else (self.shape[1], r.shape[1])
        return rowwise_sum(_rmatvec, [self.array, r], shape).compute()

    def matvec_lazy(self, x: np.ndarray) -> Any:
        """``A x`` as a lazy Dask array chunked like the rows of ``A``."""
        x = np.asarray(x, dtype=np.float64)
        return self.array.map_blocks(
            lambda blk: np.asarray(_chunk(blk) @ x, dtype=np.float64),
            drop_axis=1 if x.ndim == 1 else None,
            chunks=(self.row_chunks,) if x.ndim == 1 else (self.row_chunks, (x.shape[1],)),
            dtype=np.float64,
            meta=np.empty((0,) * x.ndim, dtype=np.float64),
        )

    def matvec(self, x: np.ndarray) -> np.ndarray:
        """``A x``, computed: an ``n``-vector on the client."""
        return np.asarray(self.matvec_lazy(x).compute())

    def compute(self) -> np.ndarray:
        """The whole matrix in memory (small problems only)."""
        import scipy.sparse as sp

        out = self.array.compute()
        return out.toarray() if sp.issparse(out) else np.asarray(out, dtype=np.float64)

    def abs_sums(self) -> tuple[float, float, float]:
        """``(||A||_F, ||A||_1, ||A||_inf)`` in one pass."""
        da = require_dask()
        A = self.array.astype(np.float64)
        fro = da.sqrt((A * A).sum())
        one = abs(A).sum(axis=0).max()
        inf = abs(A).sum(axis=1).max()
        import dask

        return tuple(float(v) for v in dask.compute(fro, one, inf))


def as_row_matrix(A: Any, name: str = "A") -> RowMatrix:
    """``A`` as a :class:`RowMatrix` (returned as is when it already is one)."""
    require_dask()
    return A if isinstance(A, RowMatrix) else RowMatrix(A, name)
