"""Multiclass losses of linear models: softmax cross-entropy and one-hot sigmoid least squares.

A ``K``-class linear model scores row ``a_i`` (length ``d``) with the logits
``t_i = W^T a_i`` (``K`` of them) and pays ``l(t_i; y_i)`` for its class
``y_i in {0, ..., K - 1}``. In a :class:`~randopt.oracles.FiniteSum` the
objective is ``sum_i c_i l(W^T a_i; y_i) + (alpha/2) ||m * w||^2``.

Coefficient layout
------------------
``w = W.ravel()`` with ``W`` of shape ``(d, K)`` in C order:
``w[j K + k] = W[j, k]``, the weight of feature ``j`` in the logit of class
``k``. The logits of a block of rows are then one matrix product ``X W``
and the gradient one product ``X^T R``. scikit-learn's ``coef_`` of shape
``(K, d)`` is ``W.T``: ``coef_ = w.reshape(d, K).T`` and
``w = coef_.T.ravel()``. With an intercept column (the last feature the
column of ones) the intercepts are ``W[-1] = w[-K:]``, and a
``penalty_mask`` with zeros in its last ``K`` entries leaves them
unpenalised.

Hessian
-------
With ``C_i`` the ``K x K`` Hessian of ``l`` in the logits of row ``i`` and
``h_i`` the row's weight, the data part of the Hessian in ``w`` is

    H = sum_i h_i (a_i a_i^T) kron C_i,
    H[j K + k, l K + m] = sum_i h_i a_ij a_il C_i[k, m]

(``numpy.kron`` ordering, for the layout above). The per-row curvature is
stored as ``K`` numbers per row (rows on the first axis, shape ``(n, K)``),
never as ``n`` matrices ``K x K``: the softmax probabilities ``p_i``
(``C_i = diag(p_i) - p_i p_i^T``), or the diagonal of a diagonal ``C_i``.
Products ``H v`` cost two passes over the selected rows (``T = X_S V``, each
row's ``C_i t_i``, then ``X_S^T U``: ``4 |S| d K`` flops), and the explicit
matrix is assembled from ``K (K + 1) / 2`` weighted Gram matrices
``X_S^T diag(c) X_S`` (``K`` for a diagonal curvature): one BLAS product per
block of dense rows, the operand layer's Gram kernel
(:meth:`randopt.operands.Operand.gram`) for CSR rows.

References
----------
.. [1] C. M. Bishop, "Pattern Recognition and Machine Learning", Springer
       (2006), sec. 4.3.4 (multiclass logistic regression and its Hessian).
.. [2] P. Xu, F. Roosta and M. W. Mahoney, "Second-order optimization for
       non-convex machine learning: an empirical study", SDM (2020) (the
       sigmoid least-squares loss).
.. [3] P. Xu, J. Yang, F. Roosta, C. Re and M. W. Mahoney, "Sub-sampled Newton
       methods with non-uniform sampling", NeurIPS (2016).
.. [4] N. N. Schraudolph, "Fast curvature matrix-vector products for
       second-order gradient descent", Neural Computation 14 (2002),
       1723-1738 (the Gauss-Newton matrix).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from ..._validation import check_positive_int, check_rhs
from ...operands import Operand
from . import _multiclass_kernels as _kernels
from .base import NO_WEIGHTS, Loss

__all__ = ["MulticlassLoss", "SoftmaxLoss", "OneHotSigmoidLeastSquaresLoss"]


def _block_rows(n_cols: int) -> int:
    """Rows per block of the dense pass: about 512 KiB of float64 rows.

    A block of that size stays in the core's L2 cache between the two
    products that read it (logits ``X_b W``, then the gradient ``X_b^T R``),
    so the pass reads ``X`` from memory once: 43 ms against 85 ms with the two
    products over the whole matrix at 300,000 x 55, K = 7 (one thread).
    """
    return int(min(4096, max(64, (1 << 19) // (8 * max(n_cols, 1)))))


def _logit_pass(T, y, code, weights, gauss_newton, R, C, L, E=None, top=None) -> float:
    """The kernels' pass over a block of logits ``T``: exponents, ``numpy.exp``, the rest.

    ``E`` (like ``T``) and ``top`` (one per row) are work arrays, allocated when None.
    """
    E = np.empty_like(T) if E is None else E
    top = np.empty(T.shape[0], dtype=np.intp) if top is None else top
    _kernels.logit_exponents(T, code, E, top)
    np.exp(E, out=E)  # of arguments <= 0: at worst an underflow to 0 (callers ignore it)
    return _kernels.logit_rows(T, E, top, y, code, weights, gauss_newton, R, C, L)


class MulticlassLoss(Loss):
    """Shared machinery of the ``K``-output losses (layout: the module docstring)."""

    _code: int = -1

    def __init__(self, n_classes: int) -> None:
        self.n_classes = check_positive_int(n_classes, "n_classes", minimum=2)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n_classes={self.n_classes})"

    def hessian_matrix_cost(self, n_cols: int) -> float:
        """Forming the ``dK x dK`` Hessian, in Hessian-vector products on the same rows.

        A row adds ``K (K + 1) / 2`` blocks of ``d^2`` multiply-adds to the
        matrix and ``2 d K`` to a product: ``(K + 1) d / 4``, halved because
        the blocked GEMM of :meth:`hessian_matrix` does about twice as many
        multiply-adds per second as a product's two thin ones (measured: 87 ms
        against 1.9 ms, 45 products, for 15,000 x 55 rows and ``K = 7``).
        :meth:`randopt.oracles.FiniteSum.hessian_matrix_cost` reads it.

        Parameters
        ----------
        n_cols : int
            Columns ``d`` of the data.

        Returns
        -------
        float

        Examples
        --------
        >>> from randopt.oracles import SoftmaxLoss
        >>> SoftmaxLoss(7).hessian_matrix_cost(55)
        55.0
        """
        return (self.n_classes + 1) * float(n_cols) / 8.0

    # -- shapes and targets ------------------------------------------------- #
    def n_coefficients(self, n_features: int) -> int:
        """Length ``n_features * n_classes`` of ``w`` (``W`` of shape (d, K), C order).

        Parameters
        ----------
        n_features : int

        Returns
        -------
        int

        Examples
        --------
        >>> from randopt.oracles import SoftmaxLoss
        >>> SoftmaxLoss(3).n_coefficients(5)
        15
        """
        return int(n_features) * self.n_classes

    def curvature_shape(self, n_rows: int) -> tuple[int, ...]:
        """``(n_rows, n_classes)``: ``K`` curvature numbers per row.

        Parameters
        ----------
        n_rows : int

        Returns
        -------
        tuple of int

        Examples
        --------
        >>> from randopt.oracles import SoftmaxLoss
        >>> SoftmaxLoss(3).curvature_shape(4)
        (4, 3)
        """
        return (int(n_rows), self.n_classes)

    def encode_targets(self, y: Any, name: str = "y") -> np.ndarray:
        """Validate class indices ``0..n_classes-1`` (integers, or integral floats).

        Parameters
        ----------
        y : array-like of shape (n_rows,)
        name : str, default="y"
            Argument name for error messages.

        Returns
        -------
        ndarray of shape (n_rows,), intp

        Examples
        --------
        >>> from randopt.oracles import SoftmaxLoss
        >>> SoftmaxLoss(3).encode_targets([2, 0, 1.0]).tolist()
        [2, 0, 1]
        """
        arr = np.asarray(y)
        values = check_rhs(arr, arr.shape[0] if arr.ndim else 0, name)
        if values.ndim != 1:
            raise ValueError(
                f"{name} must be a 1-D array of class indices, got shape {values.shape} "
                "(for one-hot rows pass y.argmax(axis=1))"
            )
        K = self.n_classes
        lo, hi = float(values.min()), float(values.max())
        if lo < 0 or hi > K - 1 or not np.array_equal(values, np.floor(values)):
            raise ValueError(
                f"{name} must hold class indices, integers in [0, {K - 1}] for "
                f"n_classes={K}; got values in [{lo:g}, {hi:g}]"
                + ("" if np.array_equal(values, np.floor(values)) else ", not all integers")
                + ". Map the labels first, e.g. classes, y = numpy.unique(labels, "
                "return_inverse=True)"
            )
        return values.astype(np.intp)

    def _targets_of(self, targets: Any, n_rows: int) -> np.ndarray:
        """Encoded targets as the kernels read them (encoding anything else)."""
        arr = np.asarray(targets)
        if arr.dtype != np.intp:
            arr = self.encode_targets(arr, "targets")
        if arr.shape != (n_rows,):
            raise ValueError(f"targets must have shape ({n_rows},), got {arr.shape}")
        return np.ascontiguousarray(arr)

    def _coef_matrix(self, coef: Any, n_cols: int, name: str = "coef") -> np.ndarray:
        """``coef`` as the C-ordered ``(d, K)`` matrix ``W``."""
        arr = np.asarray(coef, dtype=np.float64)
        p = n_cols * self.n_classes
        if arr.shape != (p,):
            raise ValueError(
                f"{name} must have shape ({p},) = n_features * n_classes "
                f"({n_cols} * {self.n_classes}), got {arr.shape}"
            )
        return np.ascontiguousarray(arr.reshape(n_cols, self.n_classes))

    def _weighted(self, weighted_curvature: Any, n_rows: int) -> np.ndarray:
        Q = np.ascontiguousarray(weighted_curvature, dtype=np.float64)
        if Q.shape != (n_rows, self.n_classes):
            raise ValueError(
                f"weighted_curvature must have shape ({n_rows}, {self.n_classes}), one row "
                f"of {self.n_classes} per selected row; got {Q.shape}"
            )
        return Q

    # -- passes --------------------------------------------------------------- #
    def pointwise(self, t: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Loss, gradient in the logits and curvature of every row.

        Parameters
        ----------
        t : ndarray of shape (n_rows, n_classes)
            Logits ``W^T a_i``, one row per row of data.
        y : ndarray of shape (n_rows,)
            Class indices.

        Returns
        -------
        loss : ndarray of shape (n_rows,)
        first : ndarray of shape (n_rows, n_classes)
            ``dl/dt``.
        second : ndarray of shape (n_rows, n_classes)
            The curvature in this loss's representation (class docstring).
        """
        T = np.ascontiguousarray(t, dtype=np.float64)
        if T.ndim != 2 or T.shape[1] != self.n_classes:
            raise ValueError(
                f"t must have shape (n_rows, {self.n_classes}), got {np.shape(t)}"
            )
        n = T.shape[0]
        yy = self._targets_of(y, n)
        loss = np.empty(n)
        first, second = np.empty((n, self.n_classes)), np.empty((n, self.n_classes))
        with np.errstate(under="ignore"):
            _logit_pass(T, yy, self._code, NO_WEIGHTS, False, first, second, loss)
        return loss, first, second

    def block_pass(
        self,
        block: Operand,
        targets: np.ndarray,
        coef: np.ndarray,
        row_weight: np.ndarray | None,
        need_grad: bool,
        curvature_out: np.ndarray | None,
    ) -> tuple[float, np.ndarray | None]:
        """Weighted loss sum, gradient sum and per-row curvature over a block of rows.

        One pass over the rows: a fused Numba kernel for CSR rows; for dense
        rows, blocks of about 512 KiB, each read by two BLAS products (logits,
        gradient) around a Numba pass over its logits, so that the rows come
        from memory once.

        Parameters
        ----------
        block : Operand
            A local operand holding the rows (``n_rows x d``).
        targets : ndarray of shape (n_rows,)
            Class indices (:meth:`encode_targets`).
        coef : ndarray of shape (d * n_classes,)
        row_weight : ndarray of shape (n_rows,) or None
        need_grad : bool
        curvature_out : ndarray of shape (n_rows, n_classes) or None
            Receives the unweighted curvature when given.

        Returns
        -------
        total : float
            ``sum_i r_i l_i``.
        grad : ndarray of shape (d * n_classes,) or None
            ``sum_i r_i a_i (dl/dt_i)^T``, raveled like ``w``.

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.operands import as_operand
        >>> from randopt.oracles import SoftmaxLoss
        >>> total, grad = SoftmaxLoss(2).block_pass(
        ...     as_operand(np.eye(2)), np.array([0, 1]), np.zeros(4), None, True, None)
        >>> round(total, 6), grad.tolist()
        (1.386294, [-0.5, 0.5, 0.5, -0.5])
        """
        return self._pass(block, targets, coef, row_weight, need_grad, curvature_out, False)

    def gauss_newton_block(
        self, block: Operand, targets: np.ndarray, coef: np.ndarray
    ) -> np.ndarray:
        """The per-row Gauss-Newton curvature, in the representation of the Hessian's.

        Parameters
        ----------
        block : Operand
            A local operand holding the rows.
        targets : ndarray of shape (n_rows,)
            Class indices.
        coef : ndarray of shape (d * n_classes,)

        Returns
        -------
        ndarray of shape (n_rows, n_classes)
            What :meth:`hessian_matrix` and :meth:`hessian_matvec` read
            (after the rows' weights are applied); unweighted, non-negative.

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.operands import as_operand
        >>> from randopt.oracles import OneHotSigmoidLeastSquaresLoss
        >>> OneHotSigmoidLeastSquaresLoss(2).gauss_newton_block(  # 2 sigmoid'(0)^2
        ...     as_operand(np.ones((1, 1))), np.array([0]), np.zeros(2)).tolist()
        [[0.125, 0.125]]
        """
        out = np.empty(self.curvature_shape(block.n_rows))
        self._pass(block, targets, coef, None, False, out, True)
        return out

    def _pass(self, block, targets, coef, row_weight, need_grad, curvature_out, gauss_newton):
        n, d, K = block.n_rows, block.n_cols, self.n_classes
        W = self._coef_matrix(coef, d)
        y = self._targets_of(targets, n)
        if curvature_out is None:
            C = np.empty((n, K))
        else:
            C = curvature_out
            if C.shape != (n, K):
                raise ValueError(f"curvature_out must have shape ({n}, {K}), got {C.shape}")
        weights = (NO_WEIGHTS if row_weight is None
                   else np.ascontiguousarray(row_weight, np.float64))
        if weights.shape not in ((0,), (n,)):
            raise ValueError(f"row_weight must have shape ({n},), got {weights.shape}")
        need_grad = bool(need_grad)
        gn = bool(gauss_newton)
        code = self._code
        if block.format == "csr":
            X = block.local_data()
            G = np.empty((d, K))
            total = _kernels.csr_fused(
                X.data, X.indices, X.indptr, W, y, code, weights, need_grad, gn, G, C
            )
        elif block.format == "dense":
            with np.errstate(under="ignore"):
                total, G = self._dense_pass(block.local_data(), W, y, weights, need_grad, gn, C)
        else:
            # CSC rows or operators: the operand's two products around the logit pass.
            R = np.empty((n, K))
            with np.errstate(under="ignore"):
                total = _logit_pass(block.matvec(W), y, code, weights, gn, R, C, NO_WEIGHTS)
            G = block.rmatvec(R) if need_grad else None
        return float(total), (np.asarray(G, dtype=np.float64).ravel() if need_grad else None)

    def _dense_pass(self, X, W, y, weights, need_grad, gn, C):
        """The dense pass, by blocks of :func:`_block_rows` rows (see there)."""
        n, d = X.shape
        K = self.n_classes
        G = np.zeros((d, K))
        total = 0.0
        step = max(1, min(_block_rows(d), n))
        R, E, top = np.empty((step, K)), np.empty((step, K)), np.empty(step, dtype=np.intp)
        for lo in range(0, n, step):
            hi = min(lo + step, n)
            m = hi - lo
            Xb = X[lo:hi]
            w_b = weights if weights.shape[0] == 0 else weights[lo:hi]
            total += _logit_pass(
                Xb @ W, y[lo:hi], self._code, w_b, gn, R[:m], C[lo:hi], NO_WEIGHTS, E[:m],
                top[:m],
            )
            if need_grad:
                G += Xb.T @ R[:m]
        return total, G

    # -- Hessians ------------------------------------------------------------- #
    def _curvature_times(self, Q: np.ndarray, T: np.ndarray) -> np.ndarray:
        """Row-wise ``C_i t_i`` for the weighted curvature ``Q`` and logit directions ``T``."""
        raise NotImplementedError

    def _curvature_blocks(self, Q: np.ndarray) -> list[tuple[int, int, np.ndarray]]:
        """``(k, m, c)``: the blocks ``k <= m`` of ``C_i`` as row weights ``c_i = C_i[k, m]``."""
        raise NotImplementedError

    def hessian_matrix(
        self, rows: Operand, idx: np.ndarray | None, weighted_curvature: np.ndarray
    ) -> np.ndarray:
        """``sum_k (a a^T) kron C_k`` over the selected rows, as a ``dK x dK`` matrix.

        Parameters
        ----------
        rows : Operand
        idx : ndarray of int or None
            Rows of ``rows`` (``None``: all, in order).
        weighted_curvature : ndarray of shape (n_selected, n_classes)
            Each selected row's curvature times its weight.

        Returns
        -------
        ndarray of shape (d * n_classes, d * n_classes)
            Symmetric, in the layout of the module docstring.

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.operands import as_operand
        >>> from randopt.oracles import SoftmaxLoss
        >>> SoftmaxLoss(2).hessian_matrix(as_operand(np.ones((1, 1))), None,
        ...                               np.array([[0.5, 0.5]]))
        array([[ 0.25, -0.25],
               [-0.25,  0.25]])
        """
        d, K = rows.n_cols, self.n_classes
        n_sel = rows.n_rows if idx is None else np.shape(idx)[0]
        Q = self._weighted(weighted_curvature, n_sel)
        weights = self._curvature_blocks(Q)
        # Blocks (k, m) contiguous, then one transpose to the (j, k, l, m) layout:
        # faster than writing each block through a strided view of H.
        blocks = np.zeros((K, K, d, d))
        if rows.format == "dense":
            sel = rows if idx is None else rows.take_rows(idx)
            grams = _weighted_grams(sel.local_data(), [c for _, _, c in weights])
        else:
            # X^T diag(c) X by the operand's Gram kernel (CSR rows read in place).
            grams = [rows.gram(idx, np.ascontiguousarray(c)) for _, _, c in weights]
        for (k, m, _), gram in zip(weights, grams, strict=True):
            blocks[k, m] = blocks[m, k] = gram
        return np.ascontiguousarray(blocks.transpose(2, 0, 3, 1)).reshape(d * K, d * K)

    def hessian_matvec(
        self,
        rows: Operand,
        idx: np.ndarray | None,
        weighted_curvature: np.ndarray,
        v: np.ndarray,
    ) -> np.ndarray:
        """The product of :meth:`hessian_matrix` with ``v``, without forming it.

        ``T = X_S V`` (``V = v.reshape(d, K)``), each row's ``C_i t_i``, then
        ``X_S^T U``: two matrix products over the selected rows.

        Parameters
        ----------
        rows : Operand
        idx : ndarray of int or None
        weighted_curvature : ndarray of shape (n_selected, n_classes)
        v : ndarray of shape (d * n_classes,)

        Returns
        -------
        ndarray of shape (d * n_classes,)

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.operands import as_operand
        >>> from randopt.oracles import SoftmaxLoss
        >>> SoftmaxLoss(2).hessian_matvec(as_operand(np.ones((1, 1))), None,
        ...                               np.array([[0.5, 0.5]]), np.array([1.0, 0.0])).tolist()
        [0.25, -0.25]
        """
        return self._product(rows, idx, weighted_curvature)(v)

    def hessian_product(self, rows, idx, weighted_curvature):
        """:meth:`Loss.hessian_product`: the sampled rows gathered and the curvature checked once.

        Each product is ``T = X_S V``, each row's ``C_i t_i``, then ``X_S^T U``
        (a subclass that overrides :meth:`hessian_matvec` only gets it bound).
        """
        if type(self).hessian_matvec is not MulticlassLoss.hessian_matvec:
            return partial(self.hessian_matvec, rows, idx, weighted_curvature)
        return self._product(rows, idx, weighted_curvature)

    def _product(self, rows, idx, weighted_curvature):
        # Gather the rows first: a kernel indexing 15,000 of 300,000 rows x 55 in place
        # took 9.5 ms (scattered reads), the gather 2 ms and the product below 1.6 ms.
        sel = rows if idx is None else rows.take_rows(idx)
        Q = self._weighted(weighted_curvature, sel.n_rows)
        d, K = rows.n_cols, self.n_classes
        times = self._curvature_times
        if sel.format != "dense":

            def product(v: np.ndarray) -> np.ndarray:
                U = times(Q, sel.matvec(self._coef_matrix(v, d, "v")))
                return np.asarray(sel.rmatvec(U), dtype=np.float64).ravel()

            return product
        # By blocks of rows that stay in cache between their two products, as in the
        # dense block pass: 1.6 ms against 3.7 ms for the two products over all 15,000
        # rows, and 2.4 ms for a fused Numba row loop.
        X = sel.local_data()
        step = _block_rows(d)
        blocks = [(X[lo : lo + step], Q[lo : lo + step]) for lo in range(0, sel.n_rows, step)]

        def dense_product(v: np.ndarray) -> np.ndarray:
            V = self._coef_matrix(v, d, "v")
            out = np.zeros((d, K))
            for Xb, Qb in blocks:
                out += Xb.T @ times(Qb, Xb @ V)
            return out.ravel()

        return dense_product


def _weighted_grams(X: np.ndarray, weights: list[np.ndarray]) -> list[np.ndarray]:
    """``X^T diag(c) X`` for every ``c`` of ``weights``, as one BLAS product per row block.

    ``X_b^T [c_1 X_b | ... | c_P X_b]`` over blocks of rows whose scaled copies
    take 2 MiB: 90 ms against 120 ms for ``P`` Numba Gram passes
    (:meth:`randopt.operands.Operand.gram`) and 140 ms for ``P`` BLAS ``syrk``
    (15,000 x 55, K = 7: ``P`` = 28, one thread). The blocks are symmetrised
    (the GEMM does not sum ``(j, l)`` and ``(l, j)`` in the same order).
    """
    n, d = X.shape
    P = len(weights)
    step = max(16, (1 << 21) // (8 * P * d))
    W = np.stack(weights, axis=1)  # (n, P)
    M = np.zeros((d, P * d))
    Z = np.empty((min(step, n), P, d))
    for lo in range(0, n, step):
        hi = min(lo + step, n)
        Xb, Zb = X[lo:hi], Z[: hi - lo]
        np.multiply(W[lo:hi, :, None], Xb[:, None, :], out=Zb)
        M += Xb.T @ Zb.reshape(hi - lo, P * d)
    M = M.reshape(d, P, d)
    return [0.5 * (M[:, c, :] + M[:, c, :].T) for c in range(P)]


def _sum_of_others(Q: np.ndarray) -> np.ndarray:
    """``O[i, k] = sum_{m != k} Q[i, m]``, summed (not ``Q.sum(1) - Q[:, k]``).

    ``1 - p_k`` of a probability ``p_k`` near one is the sum of the other
    probabilities; the subtraction would round it to zero.
    """
    K = Q.shape[1]
    out = np.empty_like(Q)
    for k in range(K):
        out[:, k] = Q[:, np.arange(K) != k].sum(axis=1)
    return out


def _inverse_row_sums(Q: np.ndarray) -> np.ndarray:
    """``1 / sum_k Q[i, k]``, and 0 for rows of weight 0."""
    s = Q.sum(axis=1)
    return np.divide(1.0, s, out=np.zeros_like(s), where=s != 0)


class SoftmaxLoss(MulticlassLoss):
    """Softmax cross-entropy ``l(t; y) = logsumexp(t) - t_y`` of ``K`` logits.

    The multinomial logistic (maximum-entropy) loss of [1]_. With
    ``p = softmax(t)``: ``dl/dt = p - e_y`` and the Hessian in the logits is
    ``C = diag(p) - p p^T``, positive semi-definite (the sum is convex) with
    the null direction ``1``: adding one vector to the weights of every class
    (``W + u 1^T``) changes no loss, so with ``alpha > 0`` the minimiser has
    ``W 1 = 0``, as scikit-learn's multinomial ``LogisticRegression``. The
    curvature kept per row is ``p`` (shape ``(n, K)``); a weighted row ``h p``
    stands for ``h C = diag(h p) - (h p)(h p)^T / sum_k h p_k``, since ``p``
    sums to one. The value is ``(t_max - t_y) + log1p(sum_{k != top}
    exp(t_k - t_max))``: no overflow for any finite logits, and exact to
    rounding for losses near zero and huge ones alike.

    For non-uniform Hessian sampling each row's size is ``trace(C) = sum_k
    p_k (1 - p_k)``, so that rows are drawn with probability ``~ ||a||^2
    trace(C)``, the squared row norms of the Hessian's square root
    ``a kron C^{1/2}`` ([3]_). The Gauss-Newton matrix is the Hessian (the
    logits are linear in ``w``).

    Parameters
    ----------
    n_classes : int
        ``K >= 2``. (Two-class problems fit faster with
        :class:`~randopt.oracles.LogisticLoss`, one logit per row.)

    Attributes
    ----------
    n_classes : int

    References
    ----------
    .. [1] C. M. Bishop, "Pattern Recognition and Machine Learning",
       Springer (2006), sec. 4.3.4.
    .. [3] P. Xu, J. Yang, F. Roosta, C. Re and M. W. Mahoney, "Sub-sampled
       Newton methods with non-uniform sampling", NeurIPS (2016).

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.oracles import FiniteSum, SoftmaxLoss
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> f = FiniteSum(X, [0, 1, 2], SoftmaxLoss(3), alpha=0.1)
    >>> f.n_features
    6
    >>> round(f.value(np.zeros(6)), 6)  # log(3): uniform probabilities
    1.098612
    >>> loss, first, p = SoftmaxLoss(3).pointwise(np.array([[1e300, 0.0, -1e300]]), [0])
    >>> float(loss[0]), p.tolist()
    (0.0, [[1.0, 0.0, 0.0]])
    """

    name = "softmax"
    _code = _kernels.SOFTMAX

    def _curvature_times(self, Q, T):
        # (diag(q) - q q^T / s) t = q * (t - (q . t) / s)
        c = np.einsum("ik,ik->i", Q, T) * _inverse_row_sums(Q)
        return Q * (T - c[:, None])

    def _curvature_blocks(self, Q):
        inv = _inverse_row_sums(Q)
        others = _sum_of_others(Q)
        K = self.n_classes
        blocks = []
        for k in range(K):
            # diagonal: q_k (s - q_k) / s; off-diagonal: -q_k q_m / s
            blocks.append((k, k, Q[:, k] * others[:, k] * inv))
            for m in range(k + 1, K):
                blocks.append((k, m, -(Q[:, k] * Q[:, m]) * inv))
        return blocks

    def curvature_magnitude(self, curvature: np.ndarray) -> np.ndarray:
        """``trace(diag(p) - p p^T) = sum_k p_k (1 - p_k)`` of each row.

        Parameters
        ----------
        curvature : ndarray of shape (n_rows, n_classes)
            The probabilities ``p`` (:attr:`Evaluation.curvature`).

        Returns
        -------
        ndarray of shape (n_rows,)

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import SoftmaxLoss
        >>> SoftmaxLoss(2).curvature_magnitude(np.array([[0.5, 0.5], [1.0, 0.0]])).tolist()
        [0.5, 0.0]
        """
        Q = self._weighted(curvature, np.shape(curvature)[0])
        return np.abs(np.einsum("ik,ik->i", Q, _sum_of_others(Q)) * _inverse_row_sums(Q))


class OneHotSigmoidLeastSquaresLoss(MulticlassLoss):
    """``l(t; y) = sum_k (sigmoid(t_k) - [y = k])^2``: sigmoid least squares on one-hot targets.

    ``K`` one-vs-rest copies of the binary
    :class:`~randopt.oracles.SigmoidLeastSquaresLoss` of [2]_ (the same
    scaling: no factor 1/2), non-convex. With ``s_k = sigmoid(t_k)`` and the
    residual ``r_k = s_k - [y = k]``: ``dl/dt_k = 2 r_k s_k (1 - s_k)``, and
    the Hessian in the logits is diagonal,
    ``C_kk = 2 [r_k s_k (1 - s_k)(1 - 2 s_k) + s_k^2 (1 - s_k)^2]``, of either
    sign. The curvature kept per row is that diagonal (shape ``(n, K)``); its
    Gauss-Newton part ``2 s_k^2 (1 - s_k)^2 >= 0`` ([4]_) is what
    :meth:`gauss_newton_block` returns. Sigmoids are evaluated in the stable
    forms ``1 / (1 + e^{-t})`` and ``e^t / (1 + e^t)``, and ``r_k`` of the
    true class as ``-(1 - s_k)``, without cancellation.

    For non-uniform Hessian sampling each row's size is ``sum_k |C_kk|``
    (as ``|l''|`` of the binary loss).

    Parameters
    ----------
    n_classes : int
        ``K >= 2``.

    Attributes
    ----------
    n_classes : int

    References
    ----------
    .. [2] P. Xu, F. Roosta and M. W. Mahoney, "Second-order optimization for
       non-convex machine learning: an empirical study", SDM (2020).
    .. [4] N. N. Schraudolph, "Fast curvature matrix-vector products for
       second-order gradient descent", Neural Computation 14 (2002), 1723-1738.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.oracles import OneHotSigmoidLeastSquaresLoss
    >>> loss, first, second = OneHotSigmoidLeastSquaresLoss(2).pointwise(
    ...     np.zeros((1, 2)), [1])
    >>> float(loss[0]), first.tolist(), second.tolist()
    (0.5, [[0.25, -0.25]], [[0.125, 0.125]])
    """

    name = "one_hot_sigmoid_least_squares"
    _code = _kernels.ONE_HOT_SIGMOID_LEAST_SQUARES

    def _curvature_times(self, Q, T):
        return Q * T

    def _curvature_blocks(self, Q):
        return [(k, k, Q[:, k]) for k in range(self.n_classes)]

    def curvature_magnitude(self, curvature: np.ndarray) -> np.ndarray:
        """``sum_k |C_kk|`` of each row.

        Parameters
        ----------
        curvature : ndarray of shape (n_rows, n_classes)

        Returns
        -------
        ndarray of shape (n_rows,)

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import OneHotSigmoidLeastSquaresLoss
        >>> OneHotSigmoidLeastSquaresLoss(2).curvature_magnitude(
        ...     np.array([[0.1, -0.2]])).round(12).tolist()
        [0.3]
        """
        Q = self._weighted(curvature, np.shape(curvature)[0])
        return np.abs(Q).sum(axis=1)
