"""Numba kernels of Gram matrices and products over (a subset of) the rows.

``dense_gram`` / ``csr_gram``: ``H = sum_k coef[k] a_k a_k^T``;
``dense_gram_matvec`` / ``csr_gram_matvec``: ``sum_k coef[k] (a_k^T v) a_k``,
over rows ``idx`` (all rows when ``idx`` is empty); ``dense_row_norms_sq``.
Dense kernels take a C-ordered ``X``, sparse ones the three CSR arrays.
Everything accumulates in float64 whatever the dtype of ``X``, rows summed
in order (serial: reproducible to the last bit). Compiled on first call and
cached on disk (``cache=True``). The callers check ``idx`` and ``coef`` (one
per selected row): the kernels index by them without bounds checks.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["dense_gram", "csr_gram", "dense_gram_matvec", "csr_gram_matvec",
           "dense_row_norms_sq", "mirror_lower"]

# Re-association lets LLVM vectorise the row dot products; no-NaN/no-inf
# assumptions stay off, so non-finite values still propagate.
_FAST = {"reassoc", "contract"}
_U = numba.uint64


@numba.njit(cache=True, fastmath=_FAST)
def dense_gram_matvec(X, idx, coef, v, out):
    """``out = sum_k coef[k] (a_k^T v) a_k`` over rows ``idx`` (all if empty)."""
    full = idx.shape[0] == 0
    n_rows = X.shape[0] if full else idx.shape[0]
    d = X.shape[1]
    acc = np.zeros(d)
    for k in range(n_rows):
        i = k if full else idx[k]
        row = X[i]
        t = 0.0
        for j in range(d):
            t += row[j] * v[j]
        t *= coef[k]
        for j in range(d):
            acc[j] += t * row[j]
    for j in range(d):
        out[j] = acc[j]


@numba.njit(cache=True)
def csr_gram_matvec(data, indices, indptr, idx, coef, v, out):
    """CSR twin of :func:`dense_gram_matvec`.

    Indices are read through ``uint64`` casts (no negative-index wrap-around
    code, see :mod:`randopt.operands._kernels_csr`; the callers' checks keep
    them in range).
    """
    full = idx.shape[0] == 0
    n_rows = indptr.shape[0] - 1 if full else idx.shape[0]
    d = out.shape[0]
    acc = np.zeros(d)
    for k in range(n_rows):
        i = _U(k) if full else _U(idx[k])
        t = 0.0
        for p in range(_U(indptr[i]), _U(indptr[i + _U(1)])):
            t += data[p] * v[_U(indices[p])]
        t *= coef[k]
        for p in range(_U(indptr[i]), _U(indptr[i + _U(1)])):
            acc[_U(indices[p])] += t * data[p]
    for j in range(d):
        out[j] = acc[j]


# --------------------------------------------------------------------------- #
# explicit Gram matrix  sum_k coef[k] a_k a_k^T
# --------------------------------------------------------------------------- #


@numba.njit(cache=True, fastmath=_FAST)
def dense_gram(X, idx, coef, H_out):
    """``H_out = sum_k coef[k] a_k a_k^T`` over rows ``idx`` (all if empty).

    Accumulates the lower triangle only (half the multiply-adds), then mirrors.
    """
    full = idx.shape[0] == 0
    n_rows = X.shape[0] if full else idx.shape[0]
    d = X.shape[1]
    acc = np.zeros((d, d))
    row = np.empty(d)
    for k in range(n_rows):
        i = k if full else idx[k]
        ck = coef[k]
        for j in range(d):
            row[j] = X[i, j]
        for j in range(d):
            t = ck * row[j]
            if t != 0.0:
                for m in range(j + 1):
                    acc[j, m] += t * row[m]
    for j in range(d):
        for m in range(j + 1):
            H_out[j, m] = acc[j, m]
            H_out[m, j] = acc[j, m]


@numba.njit(cache=True)
def csr_gram(data, indices, indptr, idx, coef, H_out):
    """CSR twin of :func:`dense_gram` (cost: sum of squared row lengths)."""
    full = idx.shape[0] == 0
    n_rows = indptr.shape[0] - 1 if full else idx.shape[0]
    d = H_out.shape[0]
    acc = np.zeros((d, d))
    for k in range(n_rows):
        i = k if full else idx[k]
        ck = coef[k]
        for p in range(indptr[i], indptr[i + 1]):
            jp = indices[p]
            t = ck * data[p]
            for q in range(indptr[i], indptr[i + 1]):
                jq = indices[q]
                if jq <= jp:
                    acc[jp, jq] += t * data[q]
    for j in range(d):
        for m in range(j + 1):
            H_out[j, m] = acc[j, m]
            H_out[m, j] = acc[j, m]


@numba.njit(cache=True)
def dense_row_norms_sq(X):
    n, d = X.shape
    out = np.empty(n)
    for i in range(n):
        s = 0.0
        for j in range(d):
            # np.float64, not float(): Numba's float() keeps a float32 a float32.
            v = np.float64(X[i, j])
            s += v * v
        out[i] = s
    return out


@numba.njit(cache=True)
def mirror_lower(H):
    """``H[m, j] = H[j, m]`` for ``m < j``: the lower triangle copied onto the upper one.

    By 32 x 32 tiles, so that the strided side of the copy stays in cache
    (NumPy's ``H += H.T`` measured 0.8 ms at 500 x 500, most of a BLAS Gram
    matrix's cost on a small problem).
    """
    d = H.shape[0]
    tile = 32
    for j0 in range(0, d, tile):
        for m0 in range(0, j0 + 1, tile):
            for j in range(j0, min(d, j0 + tile)):
                for m in range(m0, min(j, m0 + tile)):
                    H[m, j] = H[j, m]
