"""The passes :class:`~randopt.oracles.FiniteSum` sends to the row blocks of its data.

:meth:`randopt.operands.Operand.map_row_blocks` runs a picklable callable on
every block of rows (one call for data in this process's memory, one per
chunk on the workers of row-chunked Dask data) and sums what the calls
return. Data in memory takes the loss's pass directly; these callables are
what data that is not in memory computes where it lives: the weighted loss
and gradient sums (:class:`RowPass`), the data part of a Hessian or
Gauss-Newton matrix or its product with a vector (:class:`CurvaturePass`),
and the summary that checks sample weights in one pass
(:func:`weight_summary`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..operands import Operand, as_operand
from ._user_outputs import read_only_view

__all__ = ["RowPass", "CurvaturePass", "is_user_code", "read_only_rows", "row_curvature",
           "scale_rows", "weight_summary"]


def is_user_code(loss: Any) -> bool:
    """Whether ``loss`` is a user's class (code outside randopt), to be handed read-only data."""
    return not type(loss).__module__.startswith("randopt.")


def read_only_rows(op: Operand) -> Operand:
    """A local operand of ``op``'s rows that user code cannot write through.

    Dense rows: a read-only view (no copy); CSR rows: a private copy (SciPy
    may write into its index arrays in place). Other operands are returned as
    they are (they hold no writable matrix).
    """
    if not op.is_local:
        return op
    data = op.local_data() if op.format in ("dense", "csr", "csc") else None
    if data is None:
        return op
    if op.format == "dense":
        if not data.flags.writeable:
            return op
        return as_operand(read_only_view(data), "X")
    return as_operand(data.copy(), "X")


class RowPass:
    """``[sum_i r_i l_i, sum_i r_i l'_i a_i]`` of a block (picklable, for map_row_blocks).

    ``encode`` asks the loss to encode the raw targets block by block (data
    that is not in memory keeps them raw).
    """

    def __init__(self, loss, coef, need_grad, encode):
        self.loss, self.coef, self.need_grad, self.encode = loss, coef, need_grad, encode

    def __call__(self, lo, block, targets, *weights):
        if is_user_code(self.loss):  # the chunks may be views of the caller's arrays
            block, targets = read_only_rows(block), read_only_view(targets)
        if self.encode:
            targets = self.loss.encode_targets(np.asarray(targets))
        row_weight = np.asarray(weights[0], dtype=np.float64) if weights else None
        total, g = self.loss.block_pass(block, targets, self.coef, row_weight, self.need_grad,
                                        None)
        out = np.zeros(1 + self.coef.shape[0])
        out[0] = total
        if g is not None:
            out[1:] = g
        return out


class CurvaturePass:
    """``sum_i r_i h_i a_i a_i^T`` of a block (``v`` given: its product with ``v``).

    ``h_i`` is ``l''_i``, or the Gauss-Newton curvature with ``gauss_newton``.
    """

    def __init__(self, loss, coef, encode, gauss_newton=False, v=None):
        self.loss, self.coef, self.encode, self.v = loss, coef, encode, v
        self.gauss_newton = gauss_newton

    def __call__(self, lo, block, targets, *weights):
        if is_user_code(self.loss):  # the chunks may be views of the caller's arrays
            block, targets = read_only_rows(block), read_only_view(targets)
        if self.encode:
            targets = self.loss.encode_targets(np.asarray(targets))
        curv = row_curvature(self.loss, block, targets, self.coef, self.gauss_newton)
        if weights:
            curv = scale_rows(curv, np.asarray(weights[0], dtype=np.float64))
        if self.v is None:
            return self.loss.hessian_matrix(block, None, curv)
        return self.loss.hessian_matvec(block, None, curv, self.v)


def row_curvature(loss, block, targets, coef, gauss_newton: bool) -> np.ndarray:
    """Every row's ``l''_i`` (or Gauss-Newton curvature ``G_i``) of a local block."""
    if gauss_newton:
        return loss.gauss_newton_block(block, targets, coef)
    curv = np.empty(loss.curvature_shape(block.n_rows))
    loss.block_pass(block, targets, coef, None, False, curv)
    return curv


def scale_rows(values: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``values * scale`` with ``scale`` (one per row) along the first axis."""
    return values * scale.reshape((-1,) + (1,) * (values.ndim - 1))


def weight_summary(lo, block, weights):
    """``[sum, min, max, number of non-finite]`` of a block of sample weights."""
    s = np.asarray(weights, dtype=np.float64)
    finite = np.isfinite(s)
    bad = float(s.size - np.count_nonzero(finite))
    s = s[finite]
    if s.size == 0:
        return np.array([0.0, np.inf, -np.inf, bad])
    with np.errstate(over="ignore"):  # an overflowing sum is rescaled by the caller
        return np.array([s.sum(), s.min(), s.max(), bad])
