"""Timing and thread control shared by the benchmarks.

* :func:`measure`: ``repeats`` timed calls after ``warmup`` untimed ones (whose
  seconds are reported apart: first-call compilation, caches), best and
  median. The best is the figure least disturbed by other processes on a
  shared machine (timeit's advice); the median says how noisy the machine was.
* :func:`pinned_threads`: BLAS (threadpoolctl) and Numba pinned to a number of
  threads for the duration of a block, and :func:`threads_line`, the line that
  says so in a benchmark's output.
* :func:`ratio`: baseline time over method time (NaN when undefined), and
  :func:`print_table`: right-aligned columns.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

__all__ = ["Timing", "measure", "pinned_threads", "print_table", "ratio", "threads_line"]


class Timing(NamedTuple):
    """What :func:`measure` returns.

    Attributes
    ----------
    best, median : float
        Seconds of the fastest and of the median timed call.
    warmup : float
        Seconds of the untimed warm-up calls together (0 without warm-up).
    result : object
        The last call's return value.
    """

    best: float
    median: float
    warmup: float
    result: Any


def measure(fn: Callable[[], Any], repeats: int, *, warmup: int = 0,
            clock: Callable[[], float] = time.perf_counter) -> Timing:
    """Call ``fn`` ``warmup`` times untimed, then ``repeats`` times timed.

    Parameters
    ----------
    fn : callable
        No arguments.
    repeats : int
        Timed calls (at least 1).
    warmup : int, default=0
        Calls before them, timed apart.
    clock : callable, default=time.perf_counter
        E.g. ``time.process_time`` for the CPU time of the process.

    Returns
    -------
    Timing

    Examples
    --------
    >>> from benchmarks.timing import measure
    >>> t = measure(lambda: sum(range(1000)), 5, warmup=1)
    >>> t.result, 0 <= t.best <= t.median, t.warmup >= 0
    (499500, True, True)
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    start = clock()
    for _ in range(warmup):
        fn()
    warm = clock() - start if warmup else 0.0
    times, out = [], None
    for _ in range(repeats):
        t0 = clock()
        out = fn()
        times.append(clock() - t0)
    return Timing(min(times), statistics.median(times), warm, out)


@contextmanager
def pinned_threads(threads: int, *, numba: bool = True) -> Iterator[None]:
    """Pin BLAS (threadpoolctl, every library it finds) and Numba to ``threads`` threads.

    Numba's count is capped at its ``NUMBA_NUM_THREADS`` and stays set after
    the block (Numba has no scope for it).

    Parameters
    ----------
    threads : int
    numba : bool, default=True
        Also set Numba's threads.

    Examples
    --------
    >>> from threadpoolctl import threadpool_info
    >>> from benchmarks.timing import pinned_threads
    >>> with pinned_threads(1):
    ...     print({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})
    {1}
    """
    from threadpoolctl import threadpool_limits

    if numba:
        import numba as nb

        nb.set_num_threads(min(threads, nb.config.NUMBA_NUM_THREADS))
    with threadpool_limits(limits=threads):
        yield


def threads_line(threads: int) -> str:
    """The line that says how the threads are pinned (Numba's as set now).

    Parameters
    ----------
    threads : int
        BLAS threads.

    Returns
    -------
    str

    Examples
    --------
    >>> from benchmarks.timing import pinned_threads, threads_line
    >>> with pinned_threads(1):
    ...     print(threads_line(1))
    threads: BLAS 1 (threadpoolctl), Numba 1
    """
    import numba

    return f"threads: BLAS {threads} (threadpoolctl), Numba {numba.get_num_threads()}"


def ratio(baseline: float, seconds: float) -> float:
    """``baseline / seconds``: how many times faster the method is; NaN when either is missing.

    Parameters
    ----------
    baseline, seconds : float

    Returns
    -------
    float

    Examples
    --------
    >>> from benchmarks.timing import ratio
    >>> ratio(3.0, 1.5), ratio(1.0, 0.0), ratio(float("nan"), 1.0)
    (2.0, nan, nan)
    """
    if not (math.isfinite(baseline) and math.isfinite(seconds)) or seconds <= 0:
        return math.nan
    return baseline / seconds


def print_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print rows under a header, each column right-aligned to its widest cell, and a rule.

    Parameters
    ----------
    header : sequence of str
    rows : sequence of sequences
        Cells (printed with ``str``).

    Examples
    --------
    >>> from benchmarks.timing import print_table
    >>> print_table(["solver", "s"], [["numpy", "1.5"], ["ours", "0.25"]])
    solver     s
    ------------
     numpy   1.5
      ours  0.25
    <BLANKLINE>
    """
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    line = "  ".join(f"{h:>{w}}" for h, w in zip(header, widths, strict=True))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(f"{c!s:>{w}}" for c, w in zip(r, widths, strict=True)))
    print()
