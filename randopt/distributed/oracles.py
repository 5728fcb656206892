"""Finite-sum oracles over a row-chunked Dask array (the data of :class:`FiniteSum`).

``f(w) = (1/n) sum_i l(a_i^T w; y_i) + (alpha/2)||w||^2`` with ``X`` and ``y``
Dask arrays chunked by rows:

- the value and full gradient are one map-reduce: each chunk runs the fused
  Numba pass of :mod:`randopt.oracles._kernels` and returns ``d + 1`` numbers;
- a sub-sampled Hessian (or gradient) gathers only the sampled rows ``X[S]``,
  ``y[S]`` to the client and evaluates ``l''`` there, so it costs ``|S| d``
  memory however large ``n`` is;
- the full Hessian (``hessian_sampling="full"``) is a map-reduce of the
  per-chunk Gram matrices ``X_c^T diag(l''_c / n) X_c`` (or of products).

The per-row curvature ``l''`` of all ``n`` rows is not kept (it would be an
``n``-vector on the client): :attr:`Evaluation.curvature` is ``None``, and
``hessian_sampling="nonuniform"`` (which needs it for every row) is refused.
The solvers of :mod:`randopt.optimize` run unchanged on top.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from ..oracles import _kernels
from ._detect import is_dask_array, require_dask
from ._reduce import row_aligned, rowwise_sum
from .rowmatrix import RowMatrix

__all__ = ["DaskData", "dask_binary_labels"]

_EMPTY_IDX = np.empty(0, dtype=np.int64)
_EMPTY_W = np.empty(0, dtype=np.float64)


def _as_kernel_block(block):
    if sp.issparse(block):
        block = sp.csr_matrix(block)
        return block if block.dtype in (np.float32, np.float64) else block.astype(np.float64)
    block = np.asarray(block)
    if block.dtype not in (np.float32, np.float64):
        block = block.astype(np.float64)
    return np.ascontiguousarray(block)


def _fused(X, y, w, code, idx, weights, need_grad, g, D):
    nchunk = _kernels.n_chunks(D.shape[0])
    if sp.issparse(X):
        return _kernels.csr_fused(
            X.data, X.indices, X.indptr, X.shape[1], y, w, code, idx, weights, need_grad, g,
            D, nchunk,
        )
    return _kernels.dense_fused(X, y, w, code, idx, weights, need_grad, g, D, nchunk)


def _gram(X, coef, H):
    nchunk = _kernels.n_chunks(X.shape[0], per_thread=1)
    if sp.issparse(X):
        _kernels.csr_gram(X.data, X.indices, X.indptr, _EMPTY_IDX, coef, H, nchunk)
    else:
        _kernels.dense_gram(X, _EMPTY_IDX, coef, H, nchunk)


def _gram_matvec(X, coef, v, out):
    nchunk = _kernels.n_chunks(X.shape[0])
    if sp.issparse(X):
        _kernels.csr_gram_matvec(X.data, X.indices, X.indptr, _EMPTY_IDX, coef, v, out, nchunk)
    else:
        _kernels.dense_gram_matvec(X, _EMPTY_IDX, coef, v, out, nchunk)


class _ValueGrad:
    """Per chunk: ``[sum_i l_i, sum_i l'_i a_i]`` (``d + 1`` numbers)."""

    def __init__(self, w, code, need_grad):
        self.w, self.code, self.need_grad = w, code, need_grad

    def __call__(self, lo, block, y):
        X = _as_kernel_block(block)
        g = np.zeros(X.shape[1])
        D = np.empty(X.shape[0])
        total = _fused(X, np.asarray(y, dtype=np.float64), self.w, self.code, _EMPTY_IDX,
                       _EMPTY_W, self.need_grad, g, D)
        return np.concatenate([[total], g])


class _FullHessian:
    """Per chunk: ``X_c^T diag(l''_c) X_c`` (``v`` given: its product with ``v``)."""

    def __init__(self, w, code, v=None):
        self.w, self.code, self.v = w, code, v

    def __call__(self, lo, block, y):
        X = _as_kernel_block(block)
        d = X.shape[1]
        g = np.zeros(d)
        D = np.empty(X.shape[0])
        _fused(X, np.asarray(y, dtype=np.float64), self.w, self.code, _EMPTY_IDX, _EMPTY_W,
               False, g, D)
        if self.v is None:
            H = np.empty((d, d))
            _gram(X, D, H)
            return H
        out = np.empty(d)
        _gram_matvec(X, D, self.v, out)
        return out


class DaskData:
    """The data of a finite sum held as row-chunked Dask arrays ``X`` and ``y``."""

    def __init__(self, X: Any, y: Any):
        require_dask()
        # RowMatrix owns the checks of a row-chunked array (shape, chunks, dtype).
        rows = RowMatrix(X, "X")
        self.X = rows.array
        self.shape = rows.shape
        self.dtype = rows.dtype
        self.y = self.align(y, "y")
        if self.y.ndim != 1:
            raise ValueError(f"y must be 1-D, got shape {self.y.shape}")

    def align(self, v, name):
        return row_aligned(v, self.X.chunks[0], name)

    def value_grad(self, w, code, need_grad):
        """``(sum_i l_i, sum_i l'_i a_i)`` over all rows, one pass."""
        out = rowwise_sum(_ValueGrad(w, code, need_grad), [self.X, self.y], (self.shape[1] + 1,))
        out = out.compute()
        if not np.isfinite(out).all():
            raise ValueError("the objective is not finite: X or y contains NaN or infinity?")
        return float(out[0]), out[1:]

    def gather(self, idx):
        """Rows ``idx`` of ``X`` and ``y`` on the client (only those rows travel)."""
        import dask

        order = np.argsort(idx, kind="stable")
        Xs, ys = dask.compute(self.X[idx[order]], self.y[idx[order]])
        inv = np.empty_like(order)
        inv[order] = np.arange(order.shape[0])
        Xs = sp.csr_matrix(Xs)[inv] if sp.issparse(Xs) else np.asarray(Xs)[inv]
        return _as_kernel_block(Xs), np.ascontiguousarray(np.asarray(ys)[inv], dtype=np.float64)

    def sampled(self, w, code, idx, weights, need_grad):
        """``(sum_k weights_k l_k, sum_k weights_k l'_k a_k, l''_k, X_S)`` over the sample."""
        Xs, ys = self.gather(idx)
        g = np.zeros(self.shape[1])
        D = np.empty(idx.shape[0])
        total = _fused(Xs, ys, w, code, _EMPTY_IDX, _EMPTY_W, False, g, D)
        if need_grad:
            total = _fused(Xs, ys, w, code, np.arange(idx.shape[0]), weights, True, g, D)
        return total, g, D, Xs

    def full_hessian(self, w, code):
        d = self.shape[1]
        return rowwise_sum(_FullHessian(w, code), [self.X, self.y], (d, d)).compute()

    def full_hessian_matvec(self, w, code, v):
        d = self.shape[1]
        return rowwise_sum(_FullHessian(w, code, v), [self.X, self.y], (d,)).compute()


def _labels01(block):
    b = np.asarray(block, dtype=np.float64)
    bad = ~(np.isin(b, (0.0, 1.0)) | (b == -1.0))
    if bad.any():
        shown = ", ".join(f"{v:g}" for v in np.unique(b[bad])[:5])
        raise ValueError(
            f"y must hold binary labels in {{0, 1}} or {{-1, +1}}; got values {{{shown}}}. "
            "Map the classes first, e.g. y = (y == positive_class)"
        )
    return (b > 0).astype(np.float64)


def dask_binary_labels(y: Any, row_chunks) -> Any:
    """Binary labels (``{0, 1}`` or ``{-1, +1}``) of a Dask ``y``, mapped to ``{0, 1}`` lazily.

    A mix such as ``{-1, 0, 1}`` cannot be caught chunk by chunk without an
    extra pass, so ``-1`` and ``0`` both map to ``0``; other values raise when
    the chunk is first read.
    """
    if not is_dask_array(y):
        raise TypeError("y must be a Dask array here")
    return row_aligned(y, row_chunks, "y").map_blocks(_labels01, dtype=np.float64)
