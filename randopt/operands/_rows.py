"""Checks of the row selections and coefficients the operands' Gram methods take."""

from __future__ import annotations

from typing import Any

import numpy as np

EMPTY_IDX = np.empty(0, dtype=np.int64)
# Rows per block of the blocked passes (row norms of A P, absolute sums): a
# block of A P stays in cache-sized memory whatever n is.
BLOCK = 1 << 14


def as_index(idx: Any, n: int) -> np.ndarray:
    if idx is None:
        return EMPTY_IDX
    arr = np.asarray(idx)
    if arr.ndim != 1 or not (np.issubdtype(arr.dtype, np.integer) or arr.size == 0):
        raise TypeError(f"idx must be a 1-D integer array, got {arr.dtype} of shape {arr.shape}")
    arr = np.ascontiguousarray(arr, dtype=np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise ValueError(f"idx must hold row indices in [0, {n}), got [{arr.min()}, {arr.max()}]")
    return arr


def as_coef(coef: Any, count: int) -> np.ndarray:
    c = np.ascontiguousarray(coef, dtype=np.float64)
    if c.shape != (count,):
        raise ValueError(f"coef must have shape ({count},), one per selected row; got {c.shape}")
    return c
