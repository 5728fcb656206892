"""Numba kernels of the CSR products ``A x``, ``A^T u`` and ``A^T diag(c) A v``.

Every kernel comes twice: a serial one (``*_serial``) and a parallel one
(``*_parallel``) that runs the same row routine on chunks of rows
``[bounds[c], bounds[c + 1])``, one ``prange`` iteration each
(:func:`nnz_bounds` splits the rows so that every chunk holds about the same
number of stored entries). Two dispatchers, not one compiled twice, because
Numba's disk cache keys a function by its name and line, not its flags.

``A x`` splits rows between threads, never a row's sum: the same bits on any
number of threads; ``A^T u`` is ``A x``'s kernel on a transposed copy (see
``SparseOperand.rmatvec``), or a one-thread scatter of the rows of ``A``
(``rmatvec_serial``, the same bits). The Gram product scatters the rows of
``A`` into one private ``d``-vector per chunk, summed in chunk order
afterwards: the same bits for the same thread count, and on several
threads bits that differ from the one-thread result by the rounding of a
re-ordered sum. That was chosen over two gathering passes (``A v``, then
``A^T`` from the transposed copy), which would give the same bits on every
thread count, by measurement on the rcv1-like 20,000 x 47,000 design (1.5 M
entries; best of 40 rounds on the shared 2-core machine): 2.41 ms fused
against 2.33 ms for the two passes on 2 threads, 3.31 against 3.51 ms on
one, without needing the copy (18 MB, 20-70 ms to make).

Indices are read through ``uint64`` casts: Numba adds a negative-index
wrap-around (two conditional moves per access) to every signed index, which
measured 3.1 ms against 1.8 ms for SciPy's ``csr_matvec`` on those entries;
the entry checks of :func:`~randopt.operands.validated_sparse` guarantee
every index is in range, so the cast changes no value. Sums run in storage
order without re-association, as SciPy's loops do (a re-associated dot
product measured 3.7 against 3.8 ms for the Gram pass, within the noise,
and would give up SciPy's bits). Everything accumulates in float64 whatever the data's
dtype. Compiled on first call, cached on disk (``cache=True``); nothing
compiles at import.
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["nnz_bounds", "matvec_serial", "matvec_parallel", "rmatvec_serial",
           "gram_matvec_serial", "gram_matvec_parallel"]

_U = nb.uint64


@nb.njit(cache=True, nogil=True)
def nnz_bounds(indptr, n_chunks):
    """Row boundaries ``b[0] = 0 < ... <= b[n_chunks] = n``, about equal stored entries each."""
    n = indptr.shape[0] - 1
    nnz = np.int64(indptr[n])
    bounds = np.empty(n_chunks + 1, dtype=np.int64)
    bounds[0] = 0
    for c in range(1, n_chunks):
        target = (nnz * c) // n_chunks
        bounds[c] = max(bounds[c - 1], np.searchsorted(indptr, target, side="left"))
    bounds[n_chunks] = n
    for c in range(1, n_chunks):
        bounds[c] = min(bounds[c], n)
    return bounds


@nb.njit(cache=True, nogil=True)
def _matvec_rows(indptr, indices, data, x, out, lo, hi):
    for i in range(lo, hi):
        t = 0.0
        for p in range(_U(indptr[i]), _U(indptr[i + 1])):
            t += data[p] * x[_U(indices[p])]
        out[i] = t


@nb.njit(cache=True, nogil=True)
def matvec_serial(indptr, indices, data, x, out):
    """``out = A x`` for the CSR arrays of ``A``, on one thread."""
    _matvec_rows(indptr, indices, data, x, out, 0, indptr.shape[0] - 1)


@nb.njit(cache=True, nogil=True, parallel=True)
def matvec_parallel(indptr, indices, data, x, out, bounds):
    """``out = A x``, one ``prange`` iteration per chunk of rows ``[bounds[c], bounds[c+1])``."""
    for c in nb.prange(bounds.shape[0] - 1):
        _matvec_rows(indptr, indices, data, x, out, bounds[c], bounds[c + 1])


@nb.njit(cache=True, nogil=True)
def _scatter_rows(indptr, indices, data, u, acc, lo, hi):
    # acc += sum_i u[i] a_i over rows [lo, hi), rows in increasing order.
    for i in range(lo, hi):
        t = u[i]
        for p in range(_U(indptr[i]), _U(indptr[i + 1])):
            acc[_U(indices[p])] += t * data[p]


@nb.njit(cache=True, nogil=True)
def rmatvec_serial(indptr, indices, data, u, out):
    """``out = A^T u`` by scattering the CSR rows of ``A``, on one thread."""
    out[:] = 0.0
    _scatter_rows(indptr, indices, data, u, out, 0, indptr.shape[0] - 1)


@nb.njit(cache=True, nogil=True, parallel=True)
def _sum_chunks(acc, out):
    # out[j] = acc[0, j] + acc[1, j] + ..., in chunk order, by column blocks
    # across the threads: the same chunks give the same bits.
    n_chunks, d = acc.shape
    step = 4096
    for b in nb.prange((d + step - 1) // step):
        for j in range(b * step, min(d, (b + 1) * step)):
            s = acc[0, j]
            for c in range(1, n_chunks):
                s += acc[c, j]
            out[j] = s


@nb.njit(cache=True, nogil=True)
def _gram_rows(indptr, indices, data, coef, v, acc, lo, hi):
    # acc += sum_i coef[i] (a_i^T v) a_i over rows [lo, hi): the row is read
    # twice while it sits in cache (one pass over A instead of SciPy's two).
    for i in range(lo, hi):
        t = 0.0
        for p in range(_U(indptr[i]), _U(indptr[i + 1])):
            t += data[p] * v[_U(indices[p])]
        t *= coef[i]
        for p in range(_U(indptr[i]), _U(indptr[i + 1])):
            acc[_U(indices[p])] += t * data[p]


@nb.njit(cache=True, nogil=True)
def gram_matvec_serial(indptr, indices, data, coef, v, out):
    """``out = A^T diag(coef) A v`` in one pass over the CSR arrays, on one thread."""
    out[:] = 0.0
    _gram_rows(indptr, indices, data, coef, v, out, 0, indptr.shape[0] - 1)


@nb.njit(cache=True, nogil=True, parallel=True)
def gram_matvec_parallel(indptr, indices, data, coef, v, out, bounds):
    """``out = A^T diag(coef) A v``: a private accumulator per chunk, summed in chunk order."""
    n_chunks = bounds.shape[0] - 1
    d = out.shape[0]
    acc = np.empty((n_chunks, d))
    for c in nb.prange(n_chunks):
        row = acc[c]
        for j in range(d):
            row[j] = 0.0
        _gram_rows(indptr, indices, data, coef, v, row, bounds[c], bounds[c + 1])
    _sum_chunks(acc, out)
