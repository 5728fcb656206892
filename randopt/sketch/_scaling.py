"""Exact power-of-two rescaling of data at the ends of the float64 range.

Leverage scores and sampling probabilities do not depend on the scale of ``A``,
and a least-squares solution is linear in ``b``; multiplying by a power of two
is exact in binary (short of subnormals). Data near the float64 limit (or
subnormal) are brought to unit scale before a factorisation or an iteration
whose squares would overflow or underflow, and the result is scaled back.
Ordinary data, whose exponents lie within ``SAFE_EXPONENT`` of zero, are left
as they are, so their results are bit for bit those of the unscaled data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["SAFE_EXPONENT", "times_power_of_two", "to_unit_scale"]

#: Entries within ``2**(+-500)`` of one: a QR or the squared norms of a CG over such
#: data neither over- nor underflow.
SAFE_EXPONENT = 500


def times_power_of_two(A: np.ndarray, k: Any) -> np.ndarray:
    """``A * 2**k`` in place (``k`` an int, or one int per column), exactly.

    In steps of at most ``2**1000``, each finite (``2**1060`` itself is not),
    so subnormal data can be lifted to unit scale.
    """
    shift = np.array(k, dtype=np.int64)
    while np.any(shift):
        step = np.clip(shift, -1000, 1000)
        A *= np.ldexp(1.0, step)
        shift = shift - step
    return A


def to_unit_scale(A: np.ndarray, axis: int | None = None) -> tuple[np.ndarray, Any]:
    """``(A 2**-k, k)`` with ``max |A|`` (per column for ``axis=0``) near one, if extreme.

    ``k`` is 0 where the exponent of the maximum lies within ``SAFE_EXPONENT``;
    when every ``k`` is 0, ``A`` itself is returned (no copy: the ordinary case
    costs one pass), else a scaled float64 copy (``A`` is never written).
    """
    if A.size == 0:
        return A, 0
    amax = np.max(np.abs(A), axis=axis)
    exponent = np.where(amax > 0, np.frexp(amax)[1], 0)
    exponent = np.where(np.abs(exponent) <= SAFE_EXPONENT, 0, exponent)
    if not np.any(exponent):
        return A, 0
    return times_power_of_two(np.array(A, dtype=np.float64), -exponent), exponent
