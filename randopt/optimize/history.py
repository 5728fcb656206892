"""Per-iteration records of the solvers, as a dict of equal-length arrays.

Row 0 is the starting point, so curves start at ``x0``; each later row is one
trial step (accepted or not). ``pandas.DataFrame(result.history)`` works
as is.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["History", "apply_callback"]


class History:
    """Append-only table with fixed core columns and optional extra ones.

    Core columns are given at construction; extra columns (values returned by
    a user callback) may appear at any row: earlier rows are filled with NaN,
    and a row that lacks a known extra key gets NaN too.

    Examples
    --------
    >>> h = History(("loss", "accepted"))
    >>> h.append(loss=1.0, accepted=True)
    >>> h.append(loss=0.5, accepted=False, test_accuracy=0.9)
    >>> d = h.as_dict()
    >>> d["loss"].tolist(), d["test_accuracy"].tolist()[1]
    ([1.0, 0.5], 0.9)
    """

    def __init__(self, columns: tuple[str, ...]) -> None:
        if isinstance(columns, (str, bytes)) or not isinstance(columns, (tuple, list)) or not all(
            isinstance(c, str) for c in columns
        ):
            raise TypeError(f"columns must be a tuple of column names (strings), got {columns!r}")
        self._columns: dict[str, list] = {c: [] for c in columns}
        self._core = tuple(columns)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def append(self, **row: Any) -> None:
        """Append one row: every core column, plus any extra columns.

        Parameters
        ----------
        **row
            Values by column name; the core columns are required.

        Examples
        --------
        >>> h = History(("loss",)); h.append(loss=2.0); len(h)
        1
        """
        cols = self._columns
        for key in self._core:
            cols[key].append(row[key])
        if len(row) > len(self._core):
            for key, value in row.items():
                if key in self._core:
                    continue
                if key not in cols:
                    cols[key] = [math.nan] * self._n
                cols[key].append(value)
        self._n += 1
        for values in cols.values():
            if len(values) < self._n:
                values.append(math.nan)

    def as_dict(self) -> dict[str, np.ndarray]:
        """The table as a dict of equal-length arrays (object arrays for ragged values).

        Returns
        -------
        dict of str to ndarray
            One array per column, in the order the columns appeared.

        Examples
        --------
        >>> h = History(("loss",)); h.append(loss=2.0); h.append(loss=1.0)
        >>> h.as_dict()["loss"].tolist()
        [2.0, 1.0]
        """
        out = {}
        for key, values in self._columns.items():
            try:
                out[key] = np.asarray(values)
            except ValueError:  # ragged callback values: keep them as objects
                arr = np.empty(len(values), dtype=object)
                arr[:] = values
                out[key] = arr
        return out


def apply_callback(callback: Callable | None, x: np.ndarray, row: dict) -> tuple[dict, bool]:
    """``(row with the callback's extra columns, stop?)`` for one history row.

    The callback protocol of every solver: ``callback(x, info)`` returns None, a
    bool (True stops) or a dict of extra columns; raising ``StopIteration`` stops.
    """
    if callback is None:
        return row, False
    try:
        extra = callback(x.copy(), dict(row))
    except StopIteration:
        return row, True
    if isinstance(extra, (bool, np.bool_)):
        return row, bool(extra)
    if isinstance(extra, dict):
        return {**row, **{k: v for k, v in extra.items() if k not in row}}, False
    if extra is not None:
        raise TypeError(
            "callback must return None, a bool (True stops the solver) or a dict of extra "
            f"history columns; got {type(extra).__name__}"
        )
    return row, False
