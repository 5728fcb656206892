"""``S @ A`` for a row-chunked Dask array: a sum over chunks of ``S[:, lo:hi] @ A[lo:hi]``.

Every task regenerates the columns of ``S`` that its chunk needs from the
operator's seed and the indices of the :data:`randopt.sketch.BLOCK_ROWS`-row
blocks the chunk touches (:meth:`randopt.sketch.SketchOperator.apply_rows`);
the operator itself travels as a few hundred bytes (its caches are dropped
when pickled). Chunks need not align with the blocks. The partial sketches,
``sketch_size x d`` each, are summed by a tree reduction, so the result equals
the in-memory ``S @ A`` of the same seed up to the order of floating-point
additions (relative differences of order 1e-15, checked in ``tests/dask``).
"""

from __future__ import annotations

from typing import Any

from ._detect import is_dask_array, require_dask
from ._reduce import SPLIT_EVERY, rowwise_sum

__all__ = ["sketch_dask"]


class _ChunkSketch:
    """Picklable per-chunk task: the chunk's contribution to ``S @ A``."""

    def __init__(self, S):
        self.S = S

    def __call__(self, lo, block):
        return self.S.apply_rows(block, lo)


def sketch_dask(S: Any, A: Any, *, split_every: int = SPLIT_EVERY) -> Any:
    """Lazy ``S @ A`` for a Dask array ``A`` chunked by rows.

    Parameters
    ----------
    S : randopt.sketch.SketchOperator
        Any sketch of :mod:`randopt.sketch` with ``S.shape[1] == A.shape[0]``.
    A : dask.array.Array of shape (n,) or (n, d)
        Chunked along rows (column chunks are merged: each task needs whole
        rows). Chunks may hold ndarrays or scipy.sparse matrices.
    split_every : int, default=8
        Fan-in of the reduction tree that sums the per-chunk sketches.

    Returns
    -------
    dask.array.Array of shape (sketch_size,) or (sketch_size, d), float64
        Call ``.compute()`` (``S @ A`` does this for you).

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from randopt.sketch import sparse_sign
    >>> from randopt.distributed import sketch_dask
    >>> A = np.random.default_rng(0).standard_normal((10000, 4))
    >>> S = sparse_sign(40, 10000, random_state=0)
    >>> SA = sketch_dask(S, da.from_array(A, chunks=(3000, 4))).compute()
    >>> bool(np.allclose(SA, S @ A, rtol=1e-12, atol=1e-12))
    True
    """
    da = require_dask()
    if not is_dask_array(A):
        raise TypeError(f"A must be a dask.array.Array, got {type(A).__name__}")
    if A.ndim not in (1, 2):
        raise ValueError(f"A must be 1-D or 2-D, got shape {A.shape}")
    if A.shape[0] != S.n_rows:
        raise ValueError(f"the sketch has {S.n_rows} columns but A has {A.shape[0]} rows")
    if any(c == 0 for c in A.shape):
        raise ValueError(f"A is empty (shape {A.shape})")
    if A.dtype.kind not in "fiub":
        raise TypeError(f"A must hold real numbers, got dtype {A.dtype}")
    vector = A.ndim == 1
    A2 = A[:, None] if vector else A
    if len(A2.chunks[1]) > 1:
        A2 = A2.rechunk({1: -1})
    out = rowwise_sum(
        _ChunkSketch(S), [A2], (S.sketch_size, A2.shape[1]), split_every=split_every
    )
    if A.dtype == "float32":
        out = out.astype("float32")
    del da
    return out[:, 0] if vector else out
