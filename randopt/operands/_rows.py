"""Row selections of the operands (``take_rows``, the Gram methods) and the block size."""

from __future__ import annotations

from typing import Any

import numpy as np

EMPTY_IDX = np.empty(0, dtype=np.int64)
# Rows per block of the blocked passes (row norms of A P, absolute sums): a
# block of A P stays in cache-sized memory whatever n is.
BLOCK = 1 << 14


def as_index(idx: Any, n: int) -> np.ndarray:
    """``idx`` as int64 row indices in ``[0, n)`` (``None``: the empty array, all rows)."""
    if idx is None:
        return EMPTY_IDX
    arr = np.asarray(idx)
    if arr.ndim != 1 or not (np.issubdtype(arr.dtype, np.integer) or arr.size == 0):
        raise TypeError(f"idx must be a 1-D integer array, got {arr.dtype} of shape {arr.shape}")
    arr = np.ascontiguousarray(arr, dtype=np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise ValueError(f"idx must hold row indices in [0, {n}), got [{arr.min()}, {arr.max()}]")
    return arr
