"""Numbers in the experiments' Markdown tables: one formatter, a dash for a missing value."""

from __future__ import annotations

import math
import numbers
from typing import Any

__all__ = ["MISSING", "fmt"]

#: What a table shows for a value that is None, NaN or infinite (a level never reached).
MISSING = "—"


def fmt(value: Any, spec: str = ".5g") -> str:
    """A table cell: :data:`MISSING` for None or a non-finite number, else ``value`` by ``spec``.

    Parameters
    ----------
    value : number or None
    spec : str, default=".5g"
        A format spec (``".3g"``, ``",.0f"``, ...) or one of the named kinds:
        ``"acc"`` (a fraction as a percentage with two decimals), ``"x"`` (a
        ratio, ``2.5×``) and ``"passes"`` (thousands separated from 100 up,
        three significant digits below).

    Returns
    -------
    str

    Examples
    --------
    >>> from experiments.common.format import fmt
    >>> fmt(0.97321, "acc"), fmt(2.456, "x"), fmt(12345.6, "passes"), fmt(12.345, "passes")
    ('97.32%', '2.5×', '12,346', '12.3')
    >>> fmt(1 / 3), fmt(float("nan")), fmt(None, "acc"), fmt(7, ",.0f")
    ('0.33333', '—', '—', '7')
    """
    if value is None or (isinstance(value, numbers.Real) and not math.isfinite(value)):
        return MISSING
    if spec == "acc":
        return f"{100 * value:.2f}%"
    if spec == "x":
        return f"{value:.2g}×"
    if spec == "passes":
        return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"
    return format(value, spec)
