"""The passes of :class:`randopt.oracles.FiniteSum` over blocks of rows, and their helpers.

:meth:`randopt.operands.Operand.map_row_blocks` runs a picklable callable on
every block of rows (in this process, or on the workers of row-chunked
distributed data) and sums what it returns: :class:`RowPass` gives the
weighted loss and gradient sums, :class:`CurvaturePass` the data part of
the Hessian or of the Gauss-Newton matrix (or its product with a vector),
:func:`check_sample_weight` checks the sample weights in one pass.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_vector

__all__ = ["CurvaturePass", "RowPass", "check_curvature_finite", "check_sample_weight",
           "row_curvature", "scale_rows", "weight_summary"]


class RowPass:
    """``[sum_i r_i l_i, sum_i r_i l'_i a_i]`` of a block (picklable, for map_row_blocks).

    With ``curvature`` (local data only) the block's ``l''_i`` land in it at
    rows ``[lo, lo + block.n_rows)``. ``encode`` asks the loss to encode the
    raw targets block by block (data that is not in memory keeps them raw).
    """

    def __init__(self, loss, coef, need_grad, encode, curvature=None):
        self.loss, self.coef, self.need_grad = loss, coef, need_grad
        self.encode, self.curvature = encode, curvature

    def __call__(self, lo, block, targets, *weights):
        if self.encode:
            targets = self.loss.encode_targets(np.asarray(targets))
        row_weight = np.asarray(weights[0], dtype=np.float64) if weights else None
        curv = None
        if self.curvature is not None:
            curv = self.curvature[lo : lo + block.n_rows]
        total, g = self.loss.block_pass(
            block, targets, self.coef, row_weight, self.need_grad, curv
        )
        out = np.zeros(1 + self.coef.shape[0])
        out[0] = total
        if g is not None:
            out[1:] = g
        return out


def row_curvature(loss, block, targets, coef, gauss_newton: bool) -> np.ndarray:
    """Every row's ``l''_i`` (or Gauss-Newton curvature ``G_i``) of a local block."""
    if gauss_newton:
        return loss.gauss_newton_block(block, targets, coef)
    curv = np.empty(loss.curvature_shape(block.n_rows))
    loss.block_pass(block, targets, coef, None, False, curv)
    return curv


class CurvaturePass:
    """``sum_i r_i h_i a_i a_i^T`` of a block (``v`` given: its product with ``v``).

    ``h_i`` is ``l''_i``, or the Gauss-Newton curvature with ``gauss_newton``.
    """

    def __init__(self, loss, coef, encode, gauss_newton=False, v=None):
        self.loss, self.coef, self.encode, self.v = loss, coef, encode, v
        self.gauss_newton = gauss_newton

    def __call__(self, lo, block, targets, *weights):
        if self.encode:
            targets = self.loss.encode_targets(np.asarray(targets))
        curv = row_curvature(self.loss, block, targets, self.coef, self.gauss_newton)
        if weights:
            curv = scale_rows(curv, np.asarray(weights[0], dtype=np.float64))
        if self.v is None:
            return self.loss.hessian_matrix(block, None, curv)
        return self.loss.hessian_matvec(block, None, curv, self.v)


def weight_summary(lo, block, weights):
    """``[sum, min, max, number of non-finite]`` of a block of sample weights."""
    s = np.asarray(weights, dtype=np.float64)
    finite = np.isfinite(s)
    bad = float(s.size - np.count_nonzero(finite))
    s = s[finite]
    if s.size == 0:
        return np.array([0.0, np.inf, -np.inf, bad])
    return np.array([s.sum(), s.min(), s.max(), bad])


def check_sample_weight(op: Any, sample_weight: Any) -> tuple[Any, float]:
    """Row-aligned sample weights of ``op`` (None when all equal) and their sum, checked."""
    if sample_weight is None:
        return None, float(op.n_rows)
    sw = op.align(sample_weight, "sample_weight")
    if sw.ndim != 1:
        raise ValueError(f"sample_weight must be 1-D, got shape {sw.shape}")
    if op.is_local:
        # A private float64 copy: later edits of the caller's array change nothing here.
        sw = np.array(check_vector(sw, "sample_weight"), dtype=np.float64, copy=True)
    total, low, high, bad = op.map_row_blocks(weight_summary, sw, out_shape=(4,))
    if bad:
        raise ValueError("sample_weight contains NaN or infinity")
    if low < 0:
        raise ValueError(f"sample_weight must be non-negative, got a minimum of {low:g}")
    if not total > 0:
        raise ValueError("sample_weight must have a positive sum; all weights are zero")
    if low == high:
        # Equal weights: the normalised objective is the unweighted one.
        return None, float(op.n_rows)
    return sw, float(total)


def scale_rows(values: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``values * scale`` with ``scale`` (one per row) along the first axis."""
    return values * scale.reshape((-1,) + (1,) * (values.ndim - 1))


def check_curvature_finite(values: np.ndarray) -> None:
    """Refuse a Hessian (or product) that overflowed, naming the data."""
    # The loss's curvature is finite for finite data; what overflows is the sum
    # X^T D X itself (entries of |X|^2 scale). Name the data, not the solver.
    if not np.isfinite(values).all():
        raise ValueError(
            "X's Hessian X^T D X overflows float64 (entries of X too large for their squares "
            "to be summed, e.g. |x| ~ 1e155 and beyond): rescale X, e.g. by a power of two "
            "or with sklearn.preprocessing.StandardScaler"
        )


def row_probabilities(magnitude: np.ndarray, base: np.ndarray) -> np.ndarray:
    """``p_i ~ magnitude_i * base_i``, normalised; ``base`` alone when that product vanishes.

    A saturated model (every curvature zero or the sum not finite) falls back
    to the row-norm part, so that a sampler always has a distribution.
    """
    p = magnitude * base
    total = p.sum()
    if not total > 0 or not np.isfinite(total):
        p = base.copy()
        total = p.sum()
    return p / total
