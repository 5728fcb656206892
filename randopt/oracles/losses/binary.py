"""The losses of one output per row: sigmoid least squares, logistic and half squared.

Each runs its block pass (:meth:`~randopt.oracles.Loss.block_pass`: the
weighted loss sum, gradient sum and every row's ``l''_i``) as one fused Numba
kernel over a dense (C-ordered) or CSR block, defined here beside the
formulas it evaluates (a row's loss and derivatives at its margin, the same
as :meth:`pointwise`'s). Everything accumulates in float64, whatever the
dtype of ``X``; rows are summed in order (serial: reproducible to the last
bit). The kernels compile on first call (``cache=True`` keeps the machine
code on disk); nothing is compiled at import time. Their Hessians are the
:class:`~randopt.oracles.Loss` defaults (the operand's Gram kernels).

References
----------
.. [1] P. Xu, F. Roosta and M. W. Mahoney, "Second-order optimization for
       non-convex machine learning: an empirical study", SDM (2020) (the
       sigmoid least-squares loss of the ijcnn1 and covtype experiments).
.. [2] P. McCullagh and J. A. Nelder, "Generalized Linear Models", 2nd ed.,
       Chapman and Hall (1989) (logistic and squared losses).
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np
from scipy.special import expit

from ..._validation import check_rhs
from .base import NO_WEIGHTS, Loss

__all__ = ["SigmoidLeastSquaresLoss", "LogisticLoss", "HalfSquaredLoss", "binary_labels"]

# Kernel codes, one per loss class.
_SIGMOID_LEAST_SQUARES, _LOGISTIC, _HALF_SQUARED = 0, 1, 2

# Re-association lets LLVM vectorise the row dot products (a 25% faster
# fused pass on ijcnn1); no-NaN/no-inf assumptions stay off, so non-finite
# values still propagate to the callers' checks.
_FAST = {"reassoc", "contract"}
#: Unsigned index reads (see :func:`_csr_fused`).
_U = numba.uint64


@numba.njit(cache=True, inline="always")
def _row_terms(code, t, y):
    """Loss, first and second derivative of one row at margin ``t``."""
    if code == _HALF_SQUARED:
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
    if code == _SIGMOID_LEAST_SQUARES:
        r = s - y
        return r * r, 2.0 * r * sq, 2.0 * (r * sq * (q - s) + sq * sq)
    # logistic: softplus(t) - y t, softplus(t) = max(t, 0) + log1p(exp(-|t|))
    softplus = (t if t > 0.0 else 0.0) + math.log1p(math.exp(-abs(t)))
    return softplus - y * t, s - y, sq


# --------------------------------------------------------------------------- #
# value + gradient + Hessian weights in one pass
# --------------------------------------------------------------------------- #


@numba.njit(cache=True, fastmath=_FAST)
def _dense_fused(X, y, w, code, row_weight, need_grad, g_out, D_out):
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
def _csr_fused(data, indices, indptr, n_cols, y, w, code, row_weight, need_grad, g_out, D_out):
    """CSR twin of :func:`_dense_fused` (indices need not be sorted).

    Indices are read as ``uint64``: Numba wraps every signed index in a
    negative-index test, which made this pass 3x slower than its loads (the
    operand validated them non-negative at entry).
    """
    unit = row_weight.shape[0] == 0
    n = indptr.shape[0] - 1
    g = np.zeros(n_cols)
    total = 0.0
    for i in range(n):
        wi = 1.0 if unit else row_weight[i]
        t = 0.0
        for p in range(_U(indptr[i]), _U(indptr[i + 1])):
            t += data[p] * w[_U(indices[p])]
        loss, grad, curv = _row_terms(code, t, y[i])
        total += wi * loss
        D_out[i] = curv
        if need_grad:
            gi = wi * grad
            for p in range(_U(indptr[i]), _U(indptr[i + 1])):
                g[_U(indices[p])] += gi * data[p]
    for j in range(n_cols):
        g_out[j] = g[j]
    return total


class _FusedLoss(Loss):
    """A built-in loss whose block pass is one fused Numba kernel (dense or CSR blocks)."""

    _code: int = -1

    def block_pass(self, block, targets, coef, row_weight, need_grad, curvature_out):
        D = curvature_out if curvature_out is not None else np.empty(block.shape[0])
        weights = (NO_WEIGHTS if row_weight is None
                   else np.ascontiguousarray(row_weight, np.float64))
        p = coef.shape[0]
        g = np.empty(p)
        if block.format == "dense":
            # C order for the row-wise kernel (FiniteSum stores its data C-ordered,
            # so this copies only blocks that arrive otherwise).
            X = np.ascontiguousarray(block.local_data())
            total = _dense_fused(X, targets, coef, self._code, weights, need_grad, g, D)
        elif block.format == "csr":
            X = block.local_data()
            total = _csr_fused(
                X.data, X.indices, X.indptr, p, targets, coef, self._code, weights,
                need_grad, g, D,
            )
        else:
            # CSC blocks or operators: the NumPy pass of the base class (two products).
            return super().block_pass(block, targets, coef, row_weight, need_grad, curvature_out)
        return float(total), (g if need_grad else None)


class _BinaryFusedLoss(_FusedLoss):
    """A fused loss of binary targets ``{0, 1}`` or ``{-1, +1}`` (mapped to ``{0, 1}``)."""

    def encode_targets(self, y: Any, name: str = "y") -> np.ndarray:
        """Binary labels mapped to ``{0, 1}`` (see :func:`binary_labels`)."""
        arr = np.asarray(y)
        return binary_labels(arr, arr.shape[0] if arr.ndim else 0, name)


def _sigmoid_pair(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``sigmoid(t)`` and ``1 - sigmoid(t)`` without cancellation."""
    return expit(t), expit(-t)


class SigmoidLeastSquaresLoss(_BinaryFusedLoss):
    """The non-convex loss ``l(t; y) = (y - sigmoid(t))^2`` with binary ``y``.

    With ``s = sigmoid(t)`` the derivatives are ``l' = 2 (s - y) s (1 - s)``
    and ``l'' = 2 [(s - y) s (1 - s) (1 - 2 s) + s^2 (1 - s)^2]``, which
    takes both signs: the Hessian of the sum is indefinite in general. It is
    the loss of the non-convex experiments of [1]_ (ijcnn1, covtype). Its
    Gauss-Newton curvature ``2 sigmoid'(t)^2 = 2 s^2 (1 - s)^2 >= 0`` drops
    the first term of ``l''`` (the residual ``s - y`` times ``sigmoid''``).
    Targets are ``{0, 1}`` or ``{-1, +1}`` (mapped to ``{0, 1}``).

    References
    ----------
    .. [1] P. Xu, F. Roosta and M. W. Mahoney, "Second-order optimization for
       non-convex machine learning: an empirical study", SDM (2020).

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.oracles import SigmoidLeastSquaresLoss
    >>> loss, first, second = SigmoidLeastSquaresLoss().pointwise(
    ...     np.zeros(1), np.ones(1))
    >>> float(loss[0]), float(first[0]), float(second[0])
    (0.25, -0.25, 0.125)
    """

    name = "sigmoid_least_squares"
    _code = _SIGMOID_LEAST_SQUARES

    def pointwise(self, t, y):
        """Loss, ``l'`` and ``l''`` of every row (formulas in the class docstring)."""
        s, q = _sigmoid_pair(np.asarray(t, dtype=np.float64))
        r = s - y
        sq = s * q
        return r * r, 2.0 * r * sq, 2.0 * (r * sq * (q - s) + sq * sq)

    def gauss_newton_pointwise(self, t, y):
        """``2 sigmoid'(t)^2``: ``J^T J`` of the residual ``r = s - y``, times 2 (loss ``r^2``)."""
        s, q = _sigmoid_pair(np.asarray(t, dtype=np.float64))
        sq = s * q
        return 2.0 * sq * sq


class LogisticLoss(_BinaryFusedLoss):
    """The logistic loss ``l(t; y) = log(1 + exp(t)) - y t`` with binary ``y``.

    ``l' = sigmoid(t) - y`` and ``l'' = sigmoid(t) (1 - sigmoid(t)) > 0``:
    the sum is convex, and its Gauss-Newton matrix is its Hessian. The log-partition is computed as
    ``max(t, 0) + log1p(exp(-|t|))``, which never overflows. Targets are
    ``{0, 1}`` or ``{-1, +1}`` (mapped to ``{0, 1}``).

    References
    ----------
    .. [1] P. McCullagh and J. A. Nelder, "Generalized Linear Models", 2nd
       ed., Chapman and Hall (1989), ch. 4.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.oracles import LogisticLoss
    >>> loss, first, second = LogisticLoss().pointwise(np.zeros(1), np.ones(1))
    >>> round(float(loss[0]), 6), float(first[0]), float(second[0])
    (0.693147, -0.5, 0.25)
    """

    name = "logistic"
    _code = _LOGISTIC

    def pointwise(self, t, y):
        """Loss, ``l'`` and ``l''`` of every row (formulas in the class docstring)."""
        t = np.asarray(t, dtype=np.float64)
        s, q = _sigmoid_pair(t)
        return np.logaddexp(0.0, t) - y * t, s - y, s * q

    def gauss_newton_pointwise(self, t, y):
        """``l'' = sigmoid(t) (1 - sigmoid(t))``: convex, so Gauss-Newton is the Hessian."""
        s, q = _sigmoid_pair(np.asarray(t, dtype=np.float64))
        return s * q


class HalfSquaredLoss(_FusedLoss):
    """The squared error ``l(t; y) = (t - y)^2 / 2`` with real targets.

    ``l' = t - y`` and ``l'' = 1``: a finite sum of it is ridge least squares,
    whose Hessian does not depend on ``w`` and equals its Gauss-Newton matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.oracles import HalfSquaredLoss
    >>> loss, first, second = HalfSquaredLoss().pointwise(np.array([3.0]), np.array([1.0]))
    >>> float(loss[0]), float(first[0]), float(second[0])
    (2.0, 2.0, 1.0)
    """

    name = "half_squared"
    _code = _HALF_SQUARED

    def pointwise(self, t, y):
        """Loss, ``l'`` and ``l''`` of every row."""
        r = np.asarray(t, dtype=np.float64) - y
        return 0.5 * r * r, r, np.ones_like(r)

    def gauss_newton_pointwise(self, t, y):
        """``l'' = 1`` (a linear residual: Gauss-Newton is the Hessian)."""
        return np.ones(np.shape(t))


def binary_labels(y: Any, n_samples: int, name: str = "y") -> np.ndarray:
    """Validate binary labels and map them to ``{0, 1}`` (``-1`` becomes ``0``).

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels in ``{0, 1}`` or in ``{-1, +1}`` (a mix of the two is refused).
    n_samples : int
        Expected length.
    name : str, default="y"
        Argument name for error messages.

    Returns
    -------
    ndarray of shape (n_samples,), float64, in ``{0, 1}``

    Examples
    --------
    >>> from randopt.oracles import binary_labels
    >>> binary_labels([-1, 1, 1], 3).tolist()
    [0.0, 1.0, 1.0]
    """
    y = check_rhs(y, n_samples, name)
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {y.shape}")
    values = np.unique(y)
    if np.all(np.isin(values, (0.0, 1.0))):
        return np.array(y, dtype=np.float64)
    if np.all(np.isin(values, (-1.0, 1.0))):
        return (y > 0).astype(np.float64)
    shown = ", ".join(f"{v:g}" for v in values[:5]) + (", ..." if values.size > 5 else "")
    raise ValueError(
        f"{name} must hold binary labels in {{0, 1}} or {{-1, +1}}; got values {{{shown}}}. "
        f"Map the classes first, e.g. y = (y == positive_class)"
    )
