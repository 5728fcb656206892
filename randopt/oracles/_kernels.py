"""Numba kernels of the finite-sum oracles.

One pass over the rows of ``X`` gives the value, the gradient and the
per-row second derivatives ``l''(a_i^T w)`` (the Hessian weights ``D``) of a
generalised linear model ``f(w) = (1/n) sum_i l(a_i^T w; y_i)``. Separate
kernels give Hessian-vector products and the explicit Gram matrix
``sum_i c_i a_i a_i^T`` on a row sample. Dense kernels take C-ordered ``X``;
sparse kernels take the three CSR arrays. Everything accumulates in float64,
whatever the dtype of ``X`` (float32 or float64).

The kernels compile on first call (``cache=True`` keeps the machine code on
disk); nothing is compiled at import time.

Loss codes (``code`` argument):

0. non-linear least squares ``(y - sigmoid(t))^2``, ``y in {0, 1}``;
1. logistic ``log(1 + exp(t)) - y t``, ``y in {0, 1}``;
2. squared error ``(t - y)^2 / 2``.
"""

from __future__ import annotations

import math

import numba
import numpy as np

NLS, LOGISTIC, SQUARED = 0, 1, 2


# Re-association lets LLVM vectorise the row dot products (a 25% faster
# fused pass on ijcnn1); no-NaN/no-inf assumptions stay off, so non-finite
# values still propagate to the callers' checks.
_FAST = {"reassoc", "contract"}


@numba.njit(cache=True, inline="always")
def _row_terms(code, t, y):
    """Loss, first and second derivative of one row at margin ``t``."""
    if code == SQUARED:
        r = t - y
        return 0.5 * r * r, r, 1.0
    # Sigmoid s and its complement q = 1 - s without overflow or cancellation.
    if t >= 0.0:
        e = math.exp(-t)
        s = 1.0 / (1.0 + e)
        q = e / (1.0 + e)
    else:
        e = math.exp(t)
        s = e / (1.0 + e)
        q = 1.0 / (1.0 + e)
    sq = s * q
    if code == NLS:
        r = s - y
        return r * r, 2.0 * r * sq, 2.0 * (r * sq * (q - s) + sq * sq)
    # logistic: softplus(t) - y t, softplus(t) = max(t, 0) + log1p(exp(-|t|))
    softplus = (t if t > 0.0 else 0.0) + math.log1p(math.exp(-abs(t)))
    return softplus - y * t, s - y, sq


def n_chunks(n_rows: int, per_thread: int = 4) -> int:
    """Row chunks of a pass: the kernels accumulate per chunk, in row order.

    The kernels are serial. ``parallel=True`` with ``prange`` over these
    chunks was measured on the project's shared 2-core machine: a parallel
    region waits for its slowest thread, and with the other core busy the
    fused ijcnn1 pass took 16 ms instead of 1.9 ms serial (and compiling the
    parallel versions took ~3 s each, against the test budget). One chunk
    per call keeps the summation order fixed (reproducible to the last bit).
    """
    del n_rows, per_thread
    return 1


# --------------------------------------------------------------------------- #
# value + gradient + Hessian weights in one pass
# --------------------------------------------------------------------------- #


@numba.njit(cache=True, fastmath=_FAST)
def dense_fused(X, y, w, code, idx, weights, need_grad, g_out, D_out, nchunk):
    """``sum_k weights[k] l_k``, ``sum_k weights[k] l'_k a_k`` and ``l''_k``.

    Rows ``k`` run over ``idx`` (or over all rows when ``idx`` is empty, with
    unit weights). ``g_out`` (length d) receives the weighted gradient sum when
    ``need_grad``; ``D_out`` (length len(idx), or n) the second derivatives.
    Returns the weighted loss sum.
    """
    full = idx.shape[0] == 0
    n_rows = X.shape[0] if full else idx.shape[0]
    d = X.shape[1]
    part = np.zeros((nchunk, d))
    vals = np.zeros(nchunk)
    for c in range(nchunk):
        lo = (c * n_rows) // nchunk
        hi = ((c + 1) * n_rows) // nchunk
        pc = np.zeros(d)
        acc = 0.0
        for k in range(lo, hi):
            i = k if full else idx[k]
            wk = 1.0 if full else weights[k]
            row = X[i]
            t = 0.0
            for j in range(d):
                t += row[j] * w[j]
            loss, grad, curv = _row_terms(code, t, y[i])
            acc += wk * loss
            D_out[k] = curv
            if need_grad:
                gk = wk * grad
                for j in range(d):
                    pc[j] += gk * row[j]
        part[c] = pc
        vals[c] = acc
    total = 0.0
    for c in range(nchunk):
        total += vals[c]
    for j in range(d):
        s = 0.0
        for c in range(nchunk):
            s += part[c, j]
        g_out[j] = s
    return total


@numba.njit(cache=True)
def csr_fused(
    data, indices, indptr, n_cols, y, w, code, idx, weights, need_grad, g_out, D_out, nchunk
):
    """CSR twin of :func:`dense_fused`."""
    full = idx.shape[0] == 0
    n_rows = indptr.shape[0] - 1 if full else idx.shape[0]
    part = np.zeros((nchunk, n_cols))
    vals = np.zeros(nchunk)
    for c in range(nchunk):
        lo = (c * n_rows) // nchunk
        hi = ((c + 1) * n_rows) // nchunk
        pc = part[c]
        acc = 0.0
        for k in range(lo, hi):
            i = k if full else idx[k]
            wk = 1.0 if full else weights[k]
            t = 0.0
            for p in range(indptr[i], indptr[i + 1]):
                t += data[p] * w[indices[p]]
            loss, grad, curv = _row_terms(code, t, y[i])
            acc += wk * loss
            D_out[k] = curv
            if need_grad:
                gk = wk * grad
                for p in range(indptr[i], indptr[i + 1]):
                    pc[indices[p]] += gk * data[p]
        vals[c] = acc
    total = 0.0
    for c in range(nchunk):
        total += vals[c]
    for j in range(n_cols):
        s = 0.0
        for c in range(nchunk):
            s += part[c, j]
        g_out[j] = s
    return total


# --------------------------------------------------------------------------- #
# Hessian-vector products  sum_k coef[k] (a_k^T v) a_k
# --------------------------------------------------------------------------- #


@numba.njit(cache=True, fastmath=_FAST)
def dense_gram_matvec(X, idx, coef, v, out, nchunk):
    """``out = sum_k coef[k] (a_k^T v) a_k`` over rows ``idx`` (all if empty)."""
    full = idx.shape[0] == 0
    n_rows = X.shape[0] if full else idx.shape[0]
    d = X.shape[1]
    part = np.zeros((nchunk, d))
    for c in range(nchunk):
        lo = (c * n_rows) // nchunk
        hi = ((c + 1) * n_rows) // nchunk
        pc = np.zeros(d)
        for k in range(lo, hi):
            i = k if full else idx[k]
            row = X[i]
            t = 0.0
            for j in range(d):
                t += row[j] * v[j]
            t *= coef[k]
            for j in range(d):
                pc[j] += t * row[j]
        part[c] = pc
    for j in range(d):
        s = 0.0
        for c in range(nchunk):
            s += part[c, j]
        out[j] = s


@numba.njit(cache=True)
def csr_gram_matvec(data, indices, indptr, idx, coef, v, out, nchunk):
    """CSR twin of :func:`dense_gram_matvec`."""
    full = idx.shape[0] == 0
    n_rows = indptr.shape[0] - 1 if full else idx.shape[0]
    d = out.shape[0]
    part = np.zeros((nchunk, d))
    for c in range(nchunk):
        lo = (c * n_rows) // nchunk
        hi = ((c + 1) * n_rows) // nchunk
        pc = part[c]
        for k in range(lo, hi):
            i = k if full else idx[k]
            t = 0.0
            for p in range(indptr[i], indptr[i + 1]):
                t += data[p] * v[indices[p]]
            t *= coef[k]
            for p in range(indptr[i], indptr[i + 1]):
                pc[indices[p]] += t * data[p]
    for j in range(d):
        s = 0.0
        for c in range(nchunk):
            s += part[c, j]
        out[j] = s


# --------------------------------------------------------------------------- #
# explicit Gram matrix  sum_k coef[k] a_k a_k^T
# --------------------------------------------------------------------------- #


@numba.njit(cache=True, fastmath=_FAST)
def dense_gram(X, idx, coef, H_out, nchunk):
    """``H_out = sum_k coef[k] a_k a_k^T`` over rows ``idx`` (all if empty).

    Accumulates the lower triangle only (half the multiply-adds), then mirrors.
    """
    full = idx.shape[0] == 0
    n_rows = X.shape[0] if full else idx.shape[0]
    d = X.shape[1]
    part = np.zeros((nchunk, d, d))
    for c in range(nchunk):
        lo = (c * n_rows) // nchunk
        hi = ((c + 1) * n_rows) // nchunk
        pc = part[c]
        row = np.empty(d)
        for k in range(lo, hi):
            i = k if full else idx[k]
            ck = coef[k]
            for j in range(d):
                row[j] = X[i, j]
            for j in range(d):
                t = ck * row[j]
                if t != 0.0:
                    for m in range(j + 1):
                        pc[j, m] += t * row[m]
    for j in range(d):
        for m in range(j + 1):
            s = 0.0
            for c in range(nchunk):
                s += part[c, j, m]
            H_out[j, m] = s
            H_out[m, j] = s


@numba.njit(cache=True)
def csr_gram(data, indices, indptr, idx, coef, H_out, nchunk):
    """CSR twin of :func:`dense_gram` (cost: sum of squared row lengths)."""
    full = idx.shape[0] == 0
    n_rows = indptr.shape[0] - 1 if full else idx.shape[0]
    d = H_out.shape[0]
    part = np.zeros((nchunk, d, d))
    for c in range(nchunk):
        lo = (c * n_rows) // nchunk
        hi = ((c + 1) * n_rows) // nchunk
        pc = part[c]
        for k in range(lo, hi):
            i = k if full else idx[k]
            ck = coef[k]
            for p in range(indptr[i], indptr[i + 1]):
                jp = indices[p]
                t = ck * data[p]
                for q in range(indptr[i], indptr[i + 1]):
                    jq = indices[q]
                    if jq <= jp:
                        pc[jp, jq] += t * data[q]
    for j in range(d):
        for m in range(j + 1):
            s = 0.0
            for c in range(nchunk):
                s += part[c, j, m]
            H_out[j, m] = s
            H_out[m, j] = s


@numba.njit(cache=True)
def dense_row_norms_sq(X):
    n, d = X.shape
    out = np.empty(n)
    for i in range(n):
        s = 0.0
        for j in range(d):
            s += float(X[i, j]) * float(X[i, j])
        out[i] = s
    return out
