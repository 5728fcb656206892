"""When a Numba kernel runs on several threads, and how its rows are chunked.

Shared by the kernels of :mod:`randopt.operands` and :mod:`randopt.sketch`.

Examples
--------
>>> from randopt.operands.parallel import row_chunks, threads_for
>>> with threads_for(1024) as k:  # a small input runs on one thread
...     print(k, row_chunks(100))
1 1
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numba as nb

__all__ = ["PARALLEL_MIN_BYTES", "threads_for", "row_chunks"]

#: Below 16 MiB of input (about 2 ms of one thread) a parallel region costs more
#: than it saves: launching it takes microseconds, but a thread with no chunk, or
#: one the OS has not scheduled yet, holds the region's barrier: measured at 20 ms
#: with the OpenMP layer on a loaded 2-core machine, against 0.2 ms on one thread.
PARALLEL_MIN_BYTES = 1 << 24


@contextmanager
def threads_for(nbytes: int) -> Iterator[int]:
    """Run the enclosed Numba calls on all threads only for inputs of ``nbytes`` >= 16 MiB.

    Parameters
    ----------
    nbytes : int
        Bytes of input the enclosed kernels read.

    Yields
    ------
    int
        The number of Numba threads in effect.

    Examples
    --------
    >>> import numba
    >>> from randopt.operands.parallel import threads_for
    >>> with threads_for(1 << 30) as k:
    ...     print(k == numba.get_num_threads())
    True
    """
    if nbytes >= PARALLEL_MIN_BYTES:
        yield nb.get_num_threads()
        return
    previous = nb.get_num_threads()
    nb.set_num_threads(1)
    try:
        yield 1
    finally:
        nb.set_num_threads(previous)


def row_chunks(n_rows: int) -> int:
    """Row chunks of a parallel pass: one per thread, each of at least 4096 rows.

    Parameters
    ----------
    n_rows : int

    Returns
    -------
    int
        At least 1.

    Examples
    --------
    >>> from randopt.operands.parallel import row_chunks
    >>> row_chunks(10)
    1
    """
    return max(1, min(nb.get_num_threads(), n_rows // 4096))
