"""Statistics of run histories shared by the experiments' summaries."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

__all__ = ["finite_median", "first_reach"]


def first_reach(data: dict[str, np.ndarray], target: float) -> tuple[float, float]:
    """Passes and seconds at the first row whose loss is ``<= target`` (NaN, NaN if none).

    Parameters
    ----------
    data : dict of ndarray
        A run's columns (``loss``, ``passes``, ``time``).
    target : float
        The loss level.

    Returns
    -------
    (float, float)

    Examples
    --------
    >>> import numpy as np
    >>> from experiments.common.stats import first_reach
    >>> data = {"loss": np.array([3.0, 2.0, 1.0]), "passes": np.array([1.0, 4.0, 9.0]),
    ...         "time": np.array([0.0, 0.5, 1.0])}
    >>> first_reach(data, 2.5), first_reach(data, 0.5)
    ((4.0, 0.5), (nan, nan))
    """
    hit = np.flatnonzero(data["loss"] <= target)
    if hit.size == 0:
        return math.nan, math.nan
    k = int(hit[0])
    return float(data["passes"][k]), float(data["time"][k])


def finite_median(values: Iterable[float]) -> float:
    """The median of the finite values (NaN when there is none): over seeds, a level that
    some runs never reached.

    Parameters
    ----------
    values : iterable of float

    Returns
    -------
    float

    Examples
    --------
    >>> from experiments.common.stats import finite_median
    >>> finite_median([3.0, float("nan"), 1.0, 2.0]), finite_median([float("nan")])
    (2.0, nan)
    """
    finite = [v for v in values if math.isfinite(v)]
    return float(np.median(finite)) if finite else math.nan
