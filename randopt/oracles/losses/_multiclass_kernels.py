"""Numba kernels of the multiclass losses of :mod:`randopt.oracles.losses.multiclass`.

A row ``i`` of a ``K``-class linear model has the logits ``t_i = W^T a_i``
(``W`` of shape ``(d, K)``). The kernels return the (row-weighted) loss sum,
write the weighted loss gradient in the logits ``r_i dl/dt_i`` (for the
gradient ``sum_i a_i (r_i dl/dt_i)^T``) and each row's curvature in the
representation of the loss (``K`` numbers per row: the softmax
probabilities, or the diagonal of a diagonal curvature).

``logit_exponents`` and ``logit_rows`` work on a block of logits
``T = X_b W`` that the caller forms with BLAS, one cache-sized block of dense
rows at a time (two matrix products per block read the rows once from
memory), with the exponentials taken by ``numpy.exp`` in between;
``csr_fused`` makes the whole pass over CSR rows itself, reading every stored
entry once for the logits and once for the gradient. Everything accumulates
in float64 whatever the dtype of ``X``. These kernels are private to
:mod:`randopt.oracles.losses` (the public face is the loss objects; the blocked
passes around them live in :mod:`randopt.oracles.losses.multiclass`). They
compile on first call (``cache=True`` keeps the machine code on disk);
nothing is compiled at import time.

Loss codes (``code`` argument), one per multiclass loss class:

0. ``SOFTMAX``: ``logsumexp(t) - t_y``; curvature ``p = softmax(t)``
   (the Hessian in ``t`` is ``diag(p) - p p^T``);
1. ``ONE_HOT_SIGMOID_LEAST_SQUARES``: ``sum_k (sigmoid(t_k) - [y = k])^2``;
   curvature: the diagonal of the Hessian in ``t`` (or, with
   ``gauss_newton``, of its Gauss-Newton part ``2 sigmoid'(t_k)^2``).
"""

from __future__ import annotations

import math

import numba
import numpy as np

#: Unsigned index reads: Numba wraps every signed index in a negative-index test
#: (the operand validated the CSR indices non-negative at entry).
_U = numba.uint64

SOFTMAX, ONE_HOT_SIGMOID_LEAST_SQUARES = 0, 1

# Re-association lets LLVM vectorise the loops over the classes and the
# columns; no-NaN/no-inf assumptions stay off, so non-finite values still
# propagate to the callers' checks.
_FAST = {"reassoc", "contract"}


@numba.njit(cache=True, inline="always")
def _exponents(code, t, e):
    """Write the arguments of the row's exponentials into ``e``; return the top class.

    Softmax: ``t_k - max(t)`` (all ``<= 0``: no overflow); one-hot sigmoids:
    ``-|t_k|`` (the stable sigmoid forms use ``exp(-|t|)`` only).
    """
    K = t.shape[0]
    top = 0
    if code == SOFTMAX:
        for k in range(1, K):
            if t[k] > t[top]:
                top = k
        m = t[top]
        for k in range(K):
            e[k] = t[k] - m
    else:
        for k in range(K):
            e[k] = -abs(t[k])
    return top


@numba.njit(cache=True, inline="always")
def _row_terms(code, t, e, top, y, gauss_newton, r, c):
    """Loss of one row at logits ``t`` (class ``y``); ``r`` <- dl/dt, ``c`` <- curvature.

    ``e`` holds the exponentials of :func:`_exponents`'s arguments, ``top``
    the class it returned.
    """
    K = t.shape[0]
    if y < 0 or y >= K:
        raise ValueError("targets must be class indices in [0, n_classes)")
    if code == SOFTMAX:
        # logsumexp(t) - t_y = (t_max - t_y) + log1p(sum over the other classes):
        # two non-negative terms, exact to rounding for tiny and huge losses alike.
        rest = 0.0
        for k in range(K):
            if k != top:
                rest += e[k]
        inv = 1.0 / (1.0 + rest)
        for k in range(K):
            p = e[k] * inv
            c[k] = p
            r[k] = p
        # p_y - 1 without cancellation when y is the top class: -rest / (1 + rest).
        r[y] = -rest * inv if y == top else r[y] - 1.0
        return (t[top] - t[y]) + math.log1p(rest)
    # one-hot sigmoid least squares: K binary terms (sigmoid(t_k) - [y = k])^2
    loss = 0.0
    for k in range(K):
        # sigmoid s and its complement q = 1 - s from exp(-|t|): no overflow, no cancellation
        ek = e[k]
        if t[k] >= 0.0:
            s = 1.0 / (1.0 + ek)
            q = ek / (1.0 + ek)
        else:
            s = ek / (1.0 + ek)
            q = 1.0 / (1.0 + ek)
        res = -q if k == y else s  # s - [y = k], exactly
        sq = s * q
        loss += res * res
        r[k] = 2.0 * res * sq
        if gauss_newton:
            c[k] = 2.0 * sq * sq
        else:
            c[k] = 2.0 * (res * sq * (q - s) + sq * sq)
    return loss


@numba.njit(cache=True, fastmath=_FAST)
def logit_exponents(T, code, E_out, top_out):
    """:func:`_exponents` of every row of a block of logits ``T`` (n x K).

    The caller exponentiates ``E_out`` in place with ``numpy.exp``, whose SIMD
    loop is 5x faster than a scalar ``math.exp`` per entry (1.8 ms against
    10 ms for 2.1 million exponentials).
    """
    for i in range(T.shape[0]):
        top_out[i] = _exponents(code, T[i], E_out[i])


@numba.njit(cache=True, fastmath=_FAST)
def logit_rows(T, E, top, y, code, row_weight, gauss_newton, R_out, C_out, L_out):
    """Loss sum of a block of logits ``T`` (n x K); per-row outputs in place.

    ``E`` and ``top`` come from :func:`logit_exponents` (``E`` exponentiated).
    ``R_out[i] = r_i dl/dt_i`` (``r = row_weight``, all ones when empty),
    ``C_out[i]`` the unweighted curvature, ``L_out[i]`` the unweighted loss
    (skipped when ``L_out`` is empty). Returns ``sum_i r_i l_i``.
    """
    unit = row_weight.shape[0] == 0
    keep_loss = L_out.shape[0] != 0
    n, K = T.shape
    total = 0.0
    for i in range(n):
        loss = _row_terms(code, T[i], E[i], top[i], y[i], gauss_newton, R_out[i], C_out[i])
        if keep_loss:
            L_out[i] = loss
        if not unit:
            wi = row_weight[i]
            loss *= wi
            for k in range(K):
                R_out[i, k] *= wi
        total += loss
    return total


@numba.njit(cache=True, fastmath=_FAST)
def csr_fused(data, indices, indptr, W, y, code, row_weight, need_grad, gauss_newton,
              G_out, C_out):
    """Loss sum, gradient ``G_out = sum_i r_i a_i (dl/dt_i)^T`` (d x K) and curvature.

    One pass over the CSR rows (indices need not be sorted); ``G_out`` is
    written only when ``need_grad``. Returns ``sum_i r_i l_i``. 2.3x SciPy's
    two products around :func:`logit_rows` (300,000 x 1,000 rows, 2% stored,
    K = 7: 85 ms against 200 ms), which read ``X`` twice.
    """
    unit = row_weight.shape[0] == 0
    n = indptr.shape[0] - 1
    d, K = W.shape
    G = np.zeros((d, K))
    t = np.empty(K)
    e = np.empty(K)
    r = np.empty(K)
    total = 0.0
    for i in range(n):
        for k in range(K):
            t[k] = 0.0
        for p in range(_U(indptr[i]), _U(indptr[i + 1])):
            x = data[p]
            wrow = W[_U(indices[p])]
            for k in range(K):
                t[k] += x * wrow[k]
        top = _exponents(code, t, e)
        for k in range(K):
            e[k] = math.exp(e[k])
        loss = _row_terms(code, t, e, top, y[i], gauss_newton, r, C_out[i])
        wi = 1.0 if unit else row_weight[i]
        total += wi * loss
        if need_grad:
            for p in range(_U(indptr[i]), _U(indptr[i + 1])):
                x = wi * data[p]
                grow = G[_U(indices[p])]
                for k in range(K):
                    grow[k] += x * r[k]
    if need_grad:
        for j in range(d):
            for k in range(K):
                G_out[j, k] = G[j, k]
    return total
