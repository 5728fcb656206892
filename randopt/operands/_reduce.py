"""Map-reduce over the row chunks of Dask arrays: the one primitive the Dask operand uses.

``rowwise_partials(func, arrays, out_shape)`` runs ``func(lo, *chunks)`` on every
row chunk (``lo`` is the chunk's first row, the chunks of all ``arrays`` are
the same rows) and stacks the small results; ``rowwise_sum`` sums them with
Dask's tree reduction, so the client receives one ``out_shape`` array whatever
the number of chunks, and a worker never holds more than a few chunks' results.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import dask.array as da
import numpy as np

__all__ = ["rowwise_sum", "rowwise_partials", "row_aligned", "SPLIT_EVERY"]

#: Partial results combined per task of the reduction tree.
SPLIT_EVERY = 8
_LETTERS = "abcdefgh"


def row_aligned(X: Any, row_chunks: tuple[int, ...], name: str) -> da.Array:
    """``X`` (Dask or NumPy, 1-D or 2-D) as a Dask array with the given row chunks.

    Columns are gathered into one chunk: every task sees whole rows.
    """
    n = sum(row_chunks)
    if np.ndim(X) not in (1, 2):
        raise ValueError(f"{name} must be 1-D or 2-D, got shape {np.shape(X)}")
    if X.shape[0] != n:
        raise ValueError(f"{name} has {X.shape[0]} rows but the matrix has {n}; shapes must match")
    if not isinstance(X, da.Array):
        X = np.asarray(X)
        chunks = (row_chunks,) if X.ndim == 1 else (row_chunks, (X.shape[1],))
        return da.from_array(X, chunks=chunks)
    target = (row_chunks,) if X.ndim == 1 else (row_chunks, (X.shape[1],))
    return X if X.chunks == target else X.rechunk(target)


def _call(offsets, *blocks, func, out_shape):
    out = np.asarray(func(int(offsets[0]), *blocks), dtype=np.float64)
    if out.shape != out_shape:
        raise ValueError(f"func returned shape {out.shape}, expected {out_shape}")
    return out.reshape((1, *out_shape))


def rowwise_partials(
    func: Callable[..., np.ndarray], arrays: Sequence[da.Array], out_shape: tuple[int, ...]
) -> da.Array:
    """Lazy ``(n_chunks, *out_shape)`` stack of ``func(lo_c, X1[c], X2[c], ...)``, float64.

    Parameters
    ----------
    func : callable
        ``func(lo, *blocks) -> ndarray of out_shape``; must be picklable.
    arrays : sequence of dask.array.Array
        1-D or 2-D, with the same row chunks and one column chunk each.
    out_shape : tuple of int

    Returns
    -------
    dask.array.Array
    """
    row_chunks = arrays[0].chunks[0]
    starts = np.concatenate([[0], np.cumsum(row_chunks)[:-1]]).astype(np.int64)
    offsets = da.from_array(starts, chunks=1)
    args: list[Any] = [offsets, "i"]
    for k, X in enumerate(arrays):
        if X.chunks[0] != row_chunks:
            raise ValueError("arrays must share their row chunks (use row_aligned)")
        args += [X, "i" if X.ndim == 1 else "i" + _LETTERS[k]]
    out_ind = "i" + "pqrs"[: len(out_shape)]
    new_axes = dict(zip(out_ind[1:], out_shape, strict=True))
    return da.blockwise(
        functools.partial(_call, func=func, out_shape=tuple(out_shape)),
        out_ind,
        *args,
        new_axes=new_axes,
        adjust_chunks={"i": 1},
        concatenate=True,
        # The offsets have one entry per chunk, the data chunks many rows: the
        # arrays share a block structure, not chunk sizes, so no rechunking.
        align_arrays=False,
        dtype=np.float64,
        meta=np.empty((0,) * len(out_ind), dtype=np.float64),
    )


def rowwise_sum(
    func: Callable[..., np.ndarray],
    arrays: Sequence[da.Array],
    out_shape: tuple[int, ...],
    split_every: int = SPLIT_EVERY,
) -> da.Array:
    """Lazy ``sum over row chunks c of func(lo_c, X1[c], X2[c], ...)``, float64.

    Parameters
    ----------
    func, arrays, out_shape
        As for :func:`rowwise_partials`.
    split_every : int
        Fan-in of the reduction tree.

    Returns
    -------
    dask.array.Array of shape ``out_shape`` (call ``.compute()``).
    """
    return rowwise_partials(func, arrays, out_shape).sum(axis=0, split_every=split_every)
