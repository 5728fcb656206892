"""Numba kernels of the sketching layer; Python logic lives in the modules that call them.

Every kernel is compiled lazily (no signatures, so importing compiles nothing)
and cached on disk (``cache=True``), so the compile cost is paid once per
machine. Scatter-adds run over row chunks into per-thread buffers that are
summed afterwards: no two threads ever write the same memory.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..operands.parallel import row_chunks, threads_for

_OPTS = {"cache": True, "nogil": True, "fastmath": False}
_PAR = {"cache": True, "nogil": True, "parallel": True}


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

    ``A`` is a 2-D C- or F-ordered ndarray or a canonical CSR/CSC matrix (its
    indices checked by :func:`randopt.operands.as_operand`); the result is a
    dense (m, d) array of A's dtype.
    """
    nbytes = A.nbytes if isinstance(A, np.ndarray) else A.data.nbytes + A.indices.nbytes
    with threads_for(nbytes):
        if isinstance(A, np.ndarray):
            if A.flags.c_contiguous:
                return _embed_dense_c(A, rows, vals, m, row_chunks(A.shape[0]))
            return _embed_dense_f(A.T, rows, vals, m).T
        if A.format == "csr":
            return _embed_csr(
                A.indptr, A.indices, A.data, rows, vals, m, A.shape[1], row_chunks(A.shape[0])
            )
        return _embed_csc(A.indptr, A.indices, A.data, rows, vals, m).T
