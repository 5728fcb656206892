"""Numba kernels of the sketching layer; Python logic lives in the modules that call them.

Every kernel is compiled lazily (no signatures, so importing compiles nothing)
and cached on disk (``cache=True``), so the compile cost is paid once per
machine. Scatter-adds run over row chunks into per-thread buffers that are
summed afterwards: no two threads ever write the same memory.
"""

from __future__ import annotations

from contextlib import contextmanager

import numba as nb
import numpy as np

_OPTS = {"cache": True, "nogil": True, "fastmath": False}
_PAR = {"cache": True, "nogil": True, "parallel": True}
# Reassociating the dot-product reductions lets LLVM vectorise them; the
# result changes only by rounding (the sums are not compensated anyway).
_PAR_FAST = {**_PAR, "fastmath": {"reassoc", "contract", "nsz", "arcp"}}


@nb.njit(**_OPTS)
def _fwht_inplace(x):
    """Unnormalised fast Walsh-Hadamard transform of a length-2^k vector, in place.

    Levels whose butterflies stay inside 2^11-element (16 KiB) blocks run
    block by block while the block is in L1 cache; only the remaining
    log2(n) - 11 levels stream over the whole vector.
    """
    n = x.shape[0]
    blk = min(n, 2048)
    for start in range(0, n, blk):
        h = 1
        while h < blk:
            for i in range(start, start + blk, 2 * h):
                for j in range(i, i + h):
                    a = x[j]
                    b = x[j + h]
                    x[j] = a + b
                    x[j + h] = a - b
            h *= 2
    h = blk
    while h < n:
        for i in range(0, n, 2 * h):
            for j in range(i, i + h):
                a = x[j]
                b = x[j + h]
                x[j] = a + b
                x[j + h] = a - b
        h *= 2


@nb.njit(**_PAR)
def fwht_rows(X):
    """FWHT of every row of the C-contiguous ``X`` (rows of length 2^k), in place."""
    for r in nb.prange(X.shape[0]):
        _fwht_inplace(X[r])


@nb.njit(**_PAR)
def signed_transpose_pad(A, signs, n_pad):
    """Return ``(diag(signs) A)^T`` zero-padded to ``n_pad`` columns, C-contiguous."""
    n, d = A.shape
    out = np.zeros((d, n_pad), dtype=A.dtype)
    chunk = 256
    for c in nb.prange((n + chunk - 1) // chunk):
        lo = c * chunk
        hi = min(n, lo + chunk)
        for i in range(lo, hi):
            s = signs[i]
            for j in range(d):
                out[j, i] = s * A[i, j]
    return out


@nb.njit(**_PAR)
def signed_transpose_pad_csr(indptr, indices, data, signs, d, n_pad):
    """As :func:`signed_transpose_pad` for a CSR matrix."""
    n = indptr.shape[0] - 1
    out = np.zeros((d, n_pad), dtype=data.dtype)
    # Each row i writes column i of ``out`` only, so rows can run in parallel.
    for i in nb.prange(n):
        s = signs[i]
        for k in range(indptr[i], indptr[i + 1]):
            out[indices[k], i] = s * data[k]
    return out


# Below 16 MiB of input (about 2 ms of one thread) a parallel region costs more
# than it saves: launching it takes microseconds, but a thread with no chunk, or
# one the OS has not scheduled yet, holds the region's barrier: measured at 20 ms
# with the OpenMP layer on a loaded 2-core machine, against 0.2 ms on one thread.
_PARALLEL_MIN_BYTES = 1 << 24


@contextmanager
def threads_for(nbytes):
    if nbytes >= _PARALLEL_MIN_BYTES:
        yield nb.get_num_threads()
        return
    previous = nb.get_num_threads()
    nb.set_num_threads(1)
    try:
        yield 1
    finally:
        nb.set_num_threads(previous)


def _n_chunks(n_rows):
    return max(1, min(nb.get_num_threads(), n_rows // 4096))


@nb.njit(**_PAR)
def _embed_dense_c(A, rows, vals, m, n_chunks):
    n, d = A.shape
    z = rows.shape[1]
    buf = np.zeros((n_chunks, m, d), dtype=A.dtype)
    step = (n + n_chunks - 1) // n_chunks
    for c in nb.prange(n_chunks):
        out = buf[c]
        for i in range(c * step, min(n, (c + 1) * step)):
            for t in range(z):
                r = rows[i, t]
                v = vals[i, t]
                for j in range(d):
                    out[r, j] += v * A[i, j]
    res = buf[0]
    for c in range(1, n_chunks):
        res += buf[c]
    return res


@nb.njit(**_PAR)
def _embed_dense_f(AT, rows, vals, m):
    # AT is the C-contiguous transpose of a Fortran-ordered A: AT[j] is column j.
    d, n = AT.shape
    z = rows.shape[1]
    out = np.zeros((d, m), dtype=AT.dtype)
    for j in nb.prange(d):
        col = AT[j]
        o = out[j]
        for i in range(n):
            a = col[i]
            for t in range(z):
                o[rows[i, t]] += vals[i, t] * a
    return out


@nb.njit(**_PAR)
def _embed_csr(indptr, indices, data, rows, vals, m, d, n_chunks):
    n = indptr.shape[0] - 1
    z = rows.shape[1]
    buf = np.zeros((n_chunks, m, d), dtype=data.dtype)
    step = (n + n_chunks - 1) // n_chunks
    for c in nb.prange(n_chunks):
        out = buf[c]
        for i in range(c * step, min(n, (c + 1) * step)):
            for t in range(z):
                r = rows[i, t]
                v = vals[i, t]
                for k in range(indptr[i], indptr[i + 1]):
                    out[r, indices[k]] += v * data[k]
    res = buf[0]
    for c in range(1, n_chunks):
        res += buf[c]
    return res


@nb.njit(**_PAR)
def _embed_csc(indptr, indices, data, rows, vals, m):
    d = indptr.shape[0] - 1
    z = rows.shape[1]
    out = np.zeros((d, m), dtype=data.dtype)
    for j in nb.prange(d):
        o = out[j]
        for k in range(indptr[j], indptr[j + 1]):
            i = indices[k]
            a = data[k]
            for t in range(z):
                o[rows[i, t]] += vals[i, t] * a
    return out


def sparse_embed(A, rows, vals, m):
    """``S @ A`` for a sparse S given by columns: ``S[rows[i, t], i] = vals[i, t]``.

    ``A`` is a 2-D C- or F-ordered ndarray or a CSR/CSC matrix; the result is a
    dense (m, d) array of A's dtype.
    """
    nbytes = A.nbytes if isinstance(A, np.ndarray) else A.data.nbytes + A.indices.nbytes
    with threads_for(nbytes):
        if isinstance(A, np.ndarray):
            if A.flags.c_contiguous:
                return _embed_dense_c(A, rows, vals, m, _n_chunks(A.shape[0]))
            return _embed_dense_f(A.T, rows, vals, m).T
        if A.format == "csr":
            return _embed_csr(
                A.indptr, A.indices, A.data, rows, vals, m, A.shape[1], _n_chunks(A.shape[0])
            )
        return _embed_csc(A.indptr, A.indices, A.data, rows, vals, m).T


@nb.njit(**_PAR_FAST)
def _residual_normal_dense_c(A, x, b, n_chunks):
    # Returns [A^T r, ||r||^2] for r = b - A x, in one pass over A. Rows go four
    # at a time: four independent dot products per sweep over x, and one update
    # of g per four rows (measured 10-25% faster than row by row).
    n, d = A.shape
    buf = np.zeros((n_chunks, d + 1), dtype=np.float64)
    step = (n + n_chunks - 1) // n_chunks
    for c in nb.prange(n_chunks):
        g = buf[c]
        hi = min(n, (c + 1) * step)
        i = c * step
        while i + 4 <= hi:
            a0 = A[i]
            a1 = A[i + 1]
            a2 = A[i + 2]
            a3 = A[i + 3]
            t0 = 0.0
            t1 = 0.0
            t2 = 0.0
            t3 = 0.0
            for j in range(d):
                xj = x[j]
                t0 += a0[j] * xj
                t1 += a1[j] * xj
                t2 += a2[j] * xj
                t3 += a3[j] * xj
            t0 = b[i] - t0
            t1 = b[i + 1] - t1
            t2 = b[i + 2] - t2
            t3 = b[i + 3] - t3
            g[d] += t0 * t0 + t1 * t1 + t2 * t2 + t3 * t3
            for j in range(d):
                g[j] += t0 * a0[j] + t1 * a1[j] + t2 * a2[j] + t3 * a3[j]
            i += 4
        while i < hi:
            a0 = A[i]
            t0 = 0.0
            for j in range(d):
                t0 += a0[j] * x[j]
            t0 = b[i] - t0
            g[d] += t0 * t0
            for j in range(d):
                g[j] += t0 * a0[j]
            i += 1
    res = buf[0]
    for c in range(1, n_chunks):
        res += buf[c]
    return res


@nb.njit(**_PAR_FAST)
def _normal_csr(indptr, indices, data, V, n_chunks):
    n = indptr.shape[0] - 1
    d, k = V.shape
    buf = np.zeros((n_chunks, d, k), dtype=np.float64)
    step = (n + n_chunks - 1) // n_chunks
    for c in nb.prange(n_chunks):
        g = buf[c]
        t = np.empty(k, dtype=np.float64)
        for i in range(c * step, min(n, (c + 1) * step)):
            for q in range(k):
                t[q] = 0.0
            for p in range(indptr[i], indptr[i + 1]):
                a = data[p]
                j = indices[p]
                for q in range(k):
                    t[q] += a * V[j, q]
            for p in range(indptr[i], indptr[i + 1]):
                a = data[p]
                j = indices[p]
                for q in range(k):
                    g[j, q] += a * t[q]
    res = buf[0]
    for c in range(1, n_chunks):
        res += buf[c]
    return res


def normal_product(A, V):
    """``A^T (A V)`` for ``V`` of shape (d,) or (d, k).

    A vector and a C-ordered ``A``, or any ``V`` and a CSR ``A``, take one
    fused pass over ``A``. For several dense columns BLAS's two matrix
    products are faster than the fused loop (measured in
    ``experiments/bench_sketch.py``), and other layouts use two products too.
    """
    if isinstance(A, np.ndarray):
        if V.ndim == 1 and A.flags.c_contiguous:
            # A^T (A v) = -A^T (0 - A v): the residual kernel with b = 0 (reading
            # the zeros adds 1/d to the traffic).
            with threads_for(A.nbytes):
                out = _residual_normal_dense_c(A, V, np.zeros(A.shape[0]), _n_chunks(A.shape[0]))
            return -out[:-1]
        return np.asarray(A.T @ (A @ V), dtype=np.float64)
    if A.format == "csr":
        V2 = V.reshape(V.shape[0], -1) if V.ndim == 1 else np.ascontiguousarray(V)
        with threads_for(A.data.nbytes + A.indices.nbytes):
            out = _normal_csr(A.indptr, A.indices, A.data, V2, _n_chunks(A.shape[0]))
        return out[:, 0] if V.ndim == 1 else out
    return np.asarray(A.T @ (A @ V), dtype=np.float64)


def residual_normal(A, x, b):
    """``(A^T r, ||r||)`` for ``r = b - A x``; one fused pass for a C-ordered ``A`` and vectors.

    Returns None for other inputs (the caller then uses two products).
    """
    if isinstance(A, np.ndarray) and A.flags.c_contiguous and x.ndim == 1:
        with threads_for(A.nbytes):
            out = _residual_normal_dense_c(A, x, b, _n_chunks(A.shape[0]))
        return out[:-1], np.sqrt(out[-1])
    return None
