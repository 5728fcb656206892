"""Checks of what a user's loss returns (private to randopt.oracles).

A user's loss is code the package has never seen: a wrong shape or a
non-numeric output fails here with the loss named, not deep in a kernel.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def checked_rows(part: Any, shape: tuple, who: str, label: str) -> np.ndarray:
    """``part`` as float64 of ``shape``, or an error naming ``who``."""
    try:
        arr = np.asarray(part, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{who} returned a non-numeric {label}") from None
    if arr.shape != shape:
        raise ValueError(
            f"{who} returned {label} of shape {arr.shape}, expected {shape} (one value per row)"
        )
    return arr


def checked_pointwise(loss_obj: Any, t: np.ndarray, targets: Any) -> tuple:
    """``loss_obj.pointwise(t, targets)`` with its three outputs checked."""
    out = loss_obj.pointwise(t, targets)
    who = f"{type(loss_obj).__name__}.pointwise"
    if not isinstance(out, tuple) or len(out) != 3:
        raise TypeError(f"{who} must return (loss, first, second), got {out!r:.80}")
    return tuple(checked_rows(part, t.shape, who, label)
                 for label, part in zip(("loss", "first", "second"), out, strict=True))
