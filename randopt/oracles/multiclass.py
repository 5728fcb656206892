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

import numpy as np

from . import _kernels_multiclass as _kernels
from ._multiclass_base import MulticlassLoss

__all__ = ["SoftmaxLoss", "OneHotSigmoidLeastSquaresLoss"]


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
