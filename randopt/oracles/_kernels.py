"""Numba kernels of the finite-sum oracles.

One pass over a block of rows of ``X`` gives the (row-weighted) loss sum,
gradient sum and the per-row second derivatives ``l''(a_i^T w)`` of a
generalised linear model with one of the built-in losses of
:mod:`randopt.oracles.losses`. The dense kernel takes a C-ordered ``X``, the
sparse one the three CSR arrays. Everything accumulates in float64, whatever
the dtype of ``X`` (float32 or float64). Gram matrices and Hessian-vector
products of rows live in the operand layer (:meth:`randopt.operands.Operand.gram`).
These kernels are private to :mod:`randopt.oracles`: the public face is the
loss objects.

The kernels compile on first call (``cache=True`` keeps the machine code on
disk); nothing is compiled at import time.

Loss codes (``code`` argument), one per built-in loss class:

0. ``SIGMOID_LEAST_SQUARES``: ``(y - sigmoid(t))^2``, ``y in {0, 1}``;
1. ``LOGISTIC``: ``log(1 + exp(t)) - y t``, ``y in {0, 1}``;
2. ``HALF_SQUARED``: ``(t - y)^2 / 2``.
"""

from __future__ import annotations

import math

import numba
import numpy as np

SIGMOID_LEAST_SQUARES, LOGISTIC, HALF_SQUARED = 0, 1, 2


# Re-association lets LLVM vectorise the row dot products (a 25% faster
# fused pass on ijcnn1); no-NaN/no-inf assumptions stay off, so non-finite
# values still propagate to the callers' checks.
_FAST = {"reassoc", "contract"}


@numba.njit(cache=True, inline="always")
def _row_terms(code, t, y):
    """Loss, first and second derivative of one row at margin ``t``."""
    if code == HALF_SQUARED:
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
    if code == SIGMOID_LEAST_SQUARES:
        r = s - y
        return r * r, 2.0 * r * sq, 2.0 * (r * sq * (q - s) + sq * sq)
    # logistic: softplus(t) - y t, softplus(t) = max(t, 0) + log1p(exp(-|t|))
    softplus = (t if t > 0.0 else 0.0) + math.log1p(math.exp(-abs(t)))
    return softplus - y * t, s - y, sq


# --------------------------------------------------------------------------- #
# value + gradient + Hessian weights in one pass
# --------------------------------------------------------------------------- #


@numba.njit(cache=True, fastmath=_FAST)
def dense_fused(X, y, w, code, row_weight, need_grad, g_out, D_out):
    """``sum_i r_i l_i``, ``sum_i r_i l'_i a_i`` and every ``l''_i`` in one pass.

    ``X`` is C-ordered (float32 or float64); ``r = row_weight`` or all ones
    when ``row_weight`` is empty. ``g_out`` (length d) receives the weighted
    gradient sum when ``need_grad``; ``D_out`` (length n) the unweighted
    second derivatives. Returns the weighted loss sum. Rows are summed in
    order (serial: reproducible to the last bit).
    """
    unit = row_weight.shape[0] == 0
    n, d = X.shape
    g = np.zeros(d)
    total = 0.0
    for i in range(n):
        wi = 1.0 if unit else row_weight[i]
        row = X[i]
        t = 0.0
        for j in range(d):
            t += row[j] * w[j]
        loss, grad, curv = _row_terms(code, t, y[i])
        total += wi * loss
        D_out[i] = curv
        if need_grad:
            gi = wi * grad
            for j in range(d):
                g[j] += gi * row[j]
    for j in range(d):
        g_out[j] = g[j]
    return total


@numba.njit(cache=True)
def csr_fused(data, indices, indptr, n_cols, y, w, code, row_weight, need_grad, g_out, D_out):
    """CSR twin of :func:`dense_fused` (indices need not be sorted)."""
    unit = row_weight.shape[0] == 0
    n = indptr.shape[0] - 1
    g = np.zeros(n_cols)
    total = 0.0
    for i in range(n):
        wi = 1.0 if unit else row_weight[i]
        t = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            t += data[p] * w[indices[p]]
        loss, grad, curv = _row_terms(code, t, y[i])
        total += wi * loss
        D_out[i] = curv
        if need_grad:
            gi = wi * grad
            for p in range(indptr[i], indptr[i + 1]):
                g[indices[p]] += gi * data[p]
    for j in range(n_cols):
        g_out[j] = g[j]
    return total
