"""A ``dask.array.Array`` chunked by rows as an operand: every pass a reduction over chunks.

Importing this module imports Dask and registers :class:`DaskOperand` with
:func:`~randopt.operands.as_operand`; the registry imports it lazily, the first
time it meets a Dask array (``pip install 'randopt[dask]'``).

Each method is one pass over the data, one task per row chunk, returning only
``d``-sized results to the client (:mod:`._reduce`): every task turns its
chunk (an ndarray or a scipy.sparse matrix) into a local operand and calls
the same method there, so the Numba kernels of the in-memory operands run on
the workers. ``S A`` sums ``S.apply_rows(chunk, lo)`` over the chunks: the
sketch regenerates, from its seed, the columns each chunk needs, and the
operator travels as a few hundred bytes. Vectors of ``n`` entries (``A x``,
row norms) stay chunked like the rows of ``A`` where the method says so.

Validation costs no extra pass: shape, chunking and dtype are checked here,
sparse chunks are checked by :func:`~randopt.operands.as_operand` inside their
task, and non-finite entries show in the first reduction that reads them (the
callers check their small results, e.g. ``S A``).
"""

from __future__ import annotations

from typing import Any

import dask.array as da
import numpy as np

from ._reduce import SPLIT_EVERY, row_aligned, rowwise_partials, rowwise_sum
from .base import Operand
from .registry import as_operand, register_operand

__all__ = ["DaskOperand"]


def _block(block: Any) -> Operand:
    """A chunk as a local operand (structure checked, finiteness left to the caller)."""
    return as_operand(block, "a chunk of A", accept_operator=False, check_finite=False)


class _Method:
    """Picklable task: ``getattr(chunk_operand, method)(*args)``."""

    def __init__(self, method: str, *args: Any):
        self.method, self.args = method, args

    def __call__(self, lo: int, block: Any) -> np.ndarray:
        return getattr(_block(block), self.method)(*self.args)


class _OnOperand:
    """Picklable task of :meth:`DaskOperand.map_row_blocks`: ``func(lo, operand, *rest)``."""

    def __init__(self, func):
        self.func = func

    def __call__(self, lo: int, block: Any, *rest: Any) -> np.ndarray:
        return self.func(lo, _block(block), *rest)


def _rmatvec(lo: int, blk: Operand, u: np.ndarray) -> np.ndarray:
    return blk.rmatvec(u)


class _Residual:
    def __init__(self, x: np.ndarray):
        self.x = x

    def __call__(self, lo: int, blk: Operand, b: np.ndarray) -> np.ndarray:
        g, rnorm = blk.residual_normal(self.x, b)
        r2 = np.square(np.asarray(rnorm, dtype=np.float64))
        if g.ndim == 1:
            return np.concatenate([g, [r2]])
        return np.concatenate([g, r2.reshape(1, -1)])


class _Sketch:
    """Per-chunk task: the chunk's contribution ``S[:, lo:hi] A[lo:hi]`` to ``S A``."""

    def __init__(self, S: Any):
        self.S = S

    def __call__(self, lo: int, blk: Operand) -> np.ndarray:
        return self.S.apply_rows(blk, lo)


class _Gram:
    def __call__(self, lo: int, blk: Operand, coef: np.ndarray) -> np.ndarray:
        return blk.gram(None, coef)


class _GramMatvec:
    def __init__(self, v: np.ndarray):
        self.v = v

    def __call__(self, lo: int, blk: Operand, coef: np.ndarray) -> np.ndarray:
        return blk.gram_matvec(None, coef, self.v)


def _abs_partial(lo: int, blk: Operand) -> np.ndarray:
    # [sum of squares, absolute column sums..., largest absolute row sum]
    a = abs(blk.local_data())
    # Accumulate in float64 whatever the data's dtype: the norms layer's
    # rounding margins assume float64 sums.
    cols = np.asarray(a.sum(axis=0, dtype=np.float64), dtype=np.float64).ravel()
    rows = np.asarray(a.sum(axis=1, dtype=np.float64), dtype=np.float64).ravel()
    return np.concatenate([[blk.row_norms_sq().sum()], cols, [rows.max()]])


class _RowNorms:
    def __init__(self, right: np.ndarray | None):
        self.right = right

    def __call__(self, block: Any) -> np.ndarray:
        return _block(block).row_norms_sq(self.right)


class _Matvec:
    def __init__(self, x: np.ndarray):
        self.x = x

    def __call__(self, block: Any) -> np.ndarray:
        return _block(block).matvec(self.x)


class DaskOperand(Operand):
    """A row-chunked ``dask.array.Array`` of shape (n, d) as an :class:`~randopt.operands.Operand`.

    Build it with :func:`~randopt.operands.as_operand`. Column chunks are
    merged (every task needs whole rows); chunks may be ndarrays or
    scipy.sparse matrices. Persist ``A`` first (``A = A.persist()``) when the
    cluster's memory holds it: every method re-reads the chunks.

    Parameters
    ----------
    array : dask.array.Array
        Validated by :meth:`from_array`.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from randopt.operands import as_operand
    >>> A = np.arange(12.0).reshape(6, 2)
    >>> op = as_operand(da.from_array(A, chunks=(4, 2)))
    >>> op.format, op.is_local
    ('dask', False)
    >>> bool(np.allclose(op.normal_matvec(np.ones(2)), A.T @ (A @ np.ones(2))))
    True
    """

    format = "dask"
    is_local = False

    def __init__(self, array: da.Array):
        self.array = array
        self.shape = (int(array.shape[0]), int(array.shape[1]))
        self.dtype = np.dtype(np.float32 if array.dtype == np.float32 else np.float64)
        self.row_chunks = tuple(int(c) for c in array.chunks[0])

    @classmethod
    def from_array(cls, A: Any, *, name: str = "A", check_finite: bool = True) -> DaskOperand:
        """Check a Dask array's shape, chunking and dtype (no pass over the data).

        Parameters
        ----------
        A : dask.array.Array of shape (n, d)
        name : str
            Argument name for error messages.
        check_finite : bool
            Accepted for the registry's signature; non-finite entries are
            caught by the first reduction that reads them (module docstring).

        Returns
        -------
        DaskOperand
        """
        del check_finite
        if A.ndim != 2:
            raise ValueError(f"{name} must be 2-D, got an array of shape {A.shape}")
        if any(np.isnan(c) for c in A.shape):
            raise ValueError(
                f"{name} has unknown chunk sizes; call {name}.compute_chunk_sizes() first"
            )
        if min(A.shape) == 0:
            raise ValueError(
                f"{name} is empty (shape {A.shape}); it needs at least one row and column"
            )
        if np.issubdtype(A.dtype, np.complexfloating):
            raise TypeError(
                f"{name} has complex dtype {A.dtype}; only real float32/float64 is supported"
            )
        if A.dtype.kind not in "fiub":
            raise TypeError(f"{name} must hold real numbers, got dtype {A.dtype}")
        if len(A.chunks[1]) > 1:
            A = A.rechunk({1: -1})
        return cls(A)

    def __repr__(self) -> str:
        return (
            f"DaskOperand(shape={self.shape}, dtype={self.dtype}, "
            f"row chunks={len(self.row_chunks)})"
        )

    def align(self, v: Any, name: str = "v") -> da.Array:
        return row_aligned(v, self.row_chunks, name)

    def _sum(self, func, arrays, out_shape, split_every: int = SPLIT_EVERY) -> np.ndarray:
        return np.asarray(rowwise_sum(func, arrays, out_shape, split_every).compute())

    def map_row_blocks(self, func, *row_aligned_arrays: Any, out_shape: tuple[int, ...]):
        args = [self.align(a, f"row_aligned[{k}]") for k, a in enumerate(row_aligned_arrays)]
        return self._sum(_OnOperand(func), [self.array, *args], tuple(out_shape))

    def matvec_lazy(self, x: np.ndarray) -> da.Array:
        """``A x`` as a lazy Dask array chunked like the rows of ``A``.

        Parameters
        ----------
        x : ndarray of shape (d,) or (d, k)

        Returns
        -------
        dask.array.Array of shape (n,) or (n, k), float64
        """
        x = np.asarray(x, dtype=np.float64)
        return self.array.map_blocks(
            _Matvec(x),
            drop_axis=1 if x.ndim == 1 else None,
            chunks=(self.row_chunks,) if x.ndim == 1 else (self.row_chunks, (x.shape[1],)),
            dtype=np.float64,
            meta=np.empty((0,) * x.ndim, dtype=np.float64),
        )

    def matvec(self, x: np.ndarray) -> np.ndarray:
        """``A x``, computed: an ``n``-vector on the client (see :meth:`matvec_lazy`).

        Parameters
        ----------
        x : ndarray of shape (d,) or (d, k)

        Returns
        -------
        ndarray of shape (n,) or (n, k), float64
        """
        return np.asarray(self.matvec_lazy(x).compute())

    def rmatvec(self, u: Any) -> np.ndarray:
        u = self.align(u, "u")
        shape = (self.n_cols,) if u.ndim == 1 else (self.n_cols, u.shape[1])
        return self._sum(_OnOperand(_rmatvec), [self.array, u], shape)

    def normal_matvec(self, V: np.ndarray) -> np.ndarray:
        V = np.ascontiguousarray(V, dtype=np.float64)
        return self._sum(_Method("normal_matvec", V), [self.array], V.shape)

    def residual_normal(self, x: np.ndarray, b: Any) -> tuple[np.ndarray, Any]:
        x = np.ascontiguousarray(x, dtype=np.float64)
        b = self.align(b, "b")
        shape = (self.n_cols + 1,) if x.ndim == 1 else (self.n_cols + 1, x.shape[1])
        out = self._sum(_OnOperand(_Residual(x)), [self.array, b], shape)
        if x.ndim == 1:
            return out[:-1], float(np.sqrt(out[-1]))
        return out[:-1], np.sqrt(out[-1])

    def sketch_lazy(self, S: Any, *, split_every: int = SPLIT_EVERY) -> da.Array:
        """Lazy ``S A``: the sum over chunks of ``S.apply_rows(chunk, lo)``.

        Parameters
        ----------
        S : SketchOperator
            With ``S.shape[1] == n``.
        split_every : int, default=8
            Fan-in of the reduction tree that sums the per-chunk sketches.

        Returns
        -------
        dask.array.Array of shape (S.shape[0], d), of this operand's dtype
            Equal to the in-memory ``S @ A`` of the same seed up to the order
            of floating-point additions.

        Examples
        --------
        >>> import numpy as np, dask.array as da
        >>> from randopt.operands import as_operand
        >>> from randopt.sketch import sparse_sign
        >>> A = np.random.default_rng(0).standard_normal((10000, 4))
        >>> S = sparse_sign(40, 10000, random_state=0)
        >>> SA = as_operand(da.from_array(A, chunks=(3000, 4))).sketch_lazy(S).compute()
        >>> bool(np.allclose(SA, S @ A, rtol=1e-12, atol=1e-12))
        True
        """
        if S.shape[1] != self.n_rows:
            raise ValueError(f"the sketch has {S.shape[1]} columns but A has {self.n_rows} rows")
        out = rowwise_sum(
            _OnOperand(_Sketch(S)), [self.array], (S.shape[0], self.n_cols), split_every
        )
        return out.astype(self.dtype) if self.dtype != np.float64 else out

    def sketch(self, S: Any) -> np.ndarray:
        # The sketch is small: compute it (with the active Dask scheduler).
        return np.asarray(self.sketch_lazy(S).compute())

    def take_rows(self, idx: np.ndarray) -> Operand:
        """Rows ``idx`` gathered to the client (only those rows travel), as a local operand.

        Parameters
        ----------
        idx : ndarray of int

        Returns
        -------
        Operand
            Dense or CSR, ``len(idx)`` rows in the order of ``idx``.
        """
        idx = np.asarray(idx)
        if idx.ndim != 1 or not (np.issubdtype(idx.dtype, np.integer) or idx.size == 0):
            raise TypeError(
                f"idx must be a 1-D integer array, got {idx.dtype} of shape {idx.shape}"
            )
        idx = idx.astype(np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= self.n_rows):
            raise ValueError(f"idx must hold row indices in [0, {self.n_rows})")
        order = np.argsort(idx, kind="stable")
        picked = _block(self.array[idx[order]].compute())
        inverse = np.empty_like(order)
        inverse[order] = np.arange(order.shape[0])
        return picked.take_rows(inverse)

    def row_norms_sq(self, right: np.ndarray | None = None) -> da.Array:
        """Squared row norms of ``A`` (or ``A @ right``), lazy and chunked like the rows of ``A``.

        Parameters
        ----------
        right : ndarray of shape (d, k), optional

        Returns
        -------
        dask.array.Array of shape (n,), float64
        """
        P = None if right is None else np.asarray(right, dtype=np.float64)
        return self.array.map_blocks(_RowNorms(P), drop_axis=1, dtype=np.float64, meta=np.empty(0))

    def abs_sums(self) -> tuple[float, float, float]:
        d = self.n_cols
        parts = np.asarray(
            rowwise_partials(_OnOperand(_abs_partial), [self.array], (d + 2,)).compute()
        )
        fro = float(np.sqrt(parts[:, 0].sum()))
        return fro, float(parts[:, 1 : d + 1].sum(axis=0).max()), float(parts[:, -1].max())

    def to_dense(self) -> np.ndarray:
        return _block(self.array.compute()).to_dense()

    def gram(self, idx: np.ndarray | None, coef: np.ndarray) -> np.ndarray:
        if idx is not None:
            return self.take_rows(idx).gram(None, coef)
        coef = np.asarray(coef, dtype=np.float64)
        if coef.shape != (self.n_rows,):
            raise ValueError(f"coef must have shape ({self.n_rows},), got {coef.shape}")
        return self.map_row_blocks(_Gram(), coef, out_shape=(self.n_cols, self.n_cols))

    def gram_matvec(self, idx: np.ndarray | None, coef: np.ndarray, v: np.ndarray) -> np.ndarray:
        if idx is not None:
            return self.take_rows(idx).gram_matvec(None, coef, v)
        coef = np.asarray(coef, dtype=np.float64)
        if coef.shape != (self.n_rows,):
            raise ValueError(f"coef must have shape ({self.n_rows},), got {coef.shape}")
        v = np.ascontiguousarray(v, dtype=np.float64)
        return self.map_row_blocks(_GramMatvec(v), coef, out_shape=(self.n_cols,))


register_operand(da.Array, DaskOperand.from_array)
