"""Finite sums of a per-row loss over a data matrix, with weights and a penalty mask.

    f(w) = sum_i c_i l(a_i^T w; y_i) + (alpha/2) ||m * w||^2,

with row coefficients ``c_i = s_i / sum_j s_j`` for sample weights ``s``
(``c_i = 1/n`` without weights: the mean loss), so that integer weights give
the objective of the data with row ``i`` repeated ``s_i`` times; ``m`` is the
0/1 penalty mask (an intercept column is left unpenalised with ``m_j = 0``).
This is scikit-learn's normalisation of a weighted mean; its
``LogisticRegression(C)`` minimises ``C sum_i s_i l_i + ||w||^2 / 2``, the
same minimiser for ``alpha = 1 / (C sum_i s_i)``.

The Hessian is ``sum_i c_i l''_i a_i a_i^T + alpha diag(m)``. On a row sample
``S = (indices i_k, weights omega_k)`` (the convention of
:class:`randopt.sketch.Sample`: ``sum_k omega_k g_{i_k}`` estimates
``sum_i g_i``) the sub-sampled Hessian is

    H_S = sum_k omega_k c_{i_k} l''_{i_k} a_{i_k} a_{i_k}^T + alpha diag(m),

which is ``(1/n) sum_k omega_k l''_{i_k} a_{i_k} a_{i_k}^T + alpha diag(m)``
without sample weights, and for a uniform sample of ``s`` rows
(``omega_k = n / s``) the sample mean ``(1/s) sum_k l''_{i_k} a a^T``.

The data enters through :func:`randopt.operands.as_operand` once; every pass
runs through the operand (:meth:`~randopt.operands.Operand.map_row_blocks`
with the loss's block pass, ``take_rows``, ``gram``, ``gram_matvec``), so
dense, CSR and row-chunked distributed data share this code. When the data
is not in this process's memory the per-row curvature of all ``n`` rows is
not kept (:attr:`Evaluation.curvature` is ``None``): sampled Hessians then
gather their rows and recompute it, and non-uniform sampling is refused.

References
----------
.. [1] P. Xu, F. Roosta and M. W. Mahoney, "Newton-type methods for non-convex
       optimization under inexact Hessian information", Math. Program. 184
       (2020), 35-70.
.. [2] P. Xu, J. Yang, F. Roosta, C. Re and M. W. Mahoney, "Sub-sampled Newton
       methods with non-uniform sampling", NeurIPS (2016).
.. [3] P. Xu, F. Roosta and M. W. Mahoney, "Second-order optimization for
       non-convex machine learning: an empirical study", SDM (2020); code
       github.com/git-xp/Non-Convex-Newton (the Gauss-Newton methods).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_bool, check_scalar, check_vector
from ..operands import Operand, as_operand
from ..sketch import Sample
from ._row_passes import (
    CurvaturePass,
    RowPass,
    check_curvature_finite,
    check_sample_weight,
    row_curvature,
    row_probabilities,
    scale_rows,
)
from .base import Evaluation, HessianModel, Objective
from .losses import Loss

__all__ = ["FiniteSum"]


class FiniteSum(Objective):
    """``f(w) = sum_i c_i l(a_i^T w; y_i) + (alpha/2) ||m * w||^2`` over the rows of ``X``.

    See the module docstring for the row coefficients ``c_i`` (the weighted
    mean) and the sub-sampled Hessians.

    Parameters
    ----------
    X : array-like, sparse matrix or Dask array of shape (n_samples, n_features)
        Data, one row per term. Dense data is used C-ordered (F-ordered input
        is copied), sparse data as CSR (never modifying the caller's matrix);
        float32 is kept (the passes accumulate in float64).
    y : array-like of shape (n_samples,)
        Targets, validated and encoded by ``loss``
        (:meth:`Loss.encode_targets`).
    loss : Loss
        The per-row loss, e.g. :class:`SigmoidLeastSquaresLoss`,
        :class:`LogisticLoss` or :class:`HalfSquaredLoss`.
    alpha : float, default=0
        Ridge parameter (``>= 0``).
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative row weights with a positive sum; ``None`` weighs every
        row 1. Integer weights equal repeating rows.
    penalty_mask : array-like of shape (n_coefficients,), optional
        Boolean or 0/1 mask ``m`` of the penalised coefficients (``None``:
        all penalised).

    Attributes
    ----------
    operand : Operand
        The data, as the operand layer holds it.
    loss : Loss
    alpha : float
    n_samples, n_features : int
        Rows, and length of ``w`` (``loss.n_coefficients(X.shape[1])``).

    Examples
    --------
    Integer sample weights equal repeated rows:

    >>> import numpy as np
    >>> from randopt.oracles import FiniteSum, LogisticLoss
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((5, 2)); y = np.array([0, 1, 1, 0, 1])
    >>> counts = np.array([1, 3, 0, 2, 1])
    >>> weighted = FiniteSum(X, y, LogisticLoss(), alpha=0.1, sample_weight=counts)
    >>> repeated = FiniteSum(np.repeat(X, counts, axis=0), np.repeat(y, counts),
    ...                      LogisticLoss(), alpha=0.1)
    >>> w = np.array([0.3, -0.2])
    >>> bool(np.isclose(weighted.value(w), repeated.value(w)))
    True
    >>> bool(np.allclose(weighted.hessian(w), repeated.hessian(w)))
    True
    """

    supports_sampling = True

    def __init__(
        self,
        X: Any,
        y: Any,
        loss: Loss,
        *,
        alpha: float = 0.0,
        sample_weight: Any = None,
        penalty_mask: Any = None,
    ) -> None:
        if not isinstance(loss, Loss):
            raise TypeError(
                "loss must be a randopt.oracles.Loss instance (e.g. LogisticLoss()), "
                f"got {loss!r}"
            )
        self.loss = loss
        self.operand = self._as_row_operand(X)
        op = self.operand
        self.n_samples = op.n_rows
        self.n_features = loss.n_coefficients(op.n_cols)
        self._encode_blocks = not op.is_local
        y = op.align(y, "y")
        self._targets = y if self._encode_blocks else loss.encode_targets(y, "y")
        self.alpha = check_scalar(alpha, "alpha", low=0.0)
        self._weights, self._weight_sum = check_sample_weight(op, sample_weight)
        self._mask = self._check_penalty_mask(penalty_mask)
        self._row_norms_sq: Any = None

    # -- construction helpers ------------------------------------------------- #
    @staticmethod
    def _as_row_operand(X: Any) -> Operand:
        op = as_operand(X, "X", accept_operator=False)
        # The fused row passes read rows: CSR for sparse data, C order for dense.
        if op.format == "csc":
            op = as_operand(op.local_data().tocsr(), "X")
        elif op.format == "dense" and not op.local_data().flags.c_contiguous:
            op = as_operand(np.ascontiguousarray(op.local_data()), "X")
        return op

    def _check_penalty_mask(self, penalty_mask: Any) -> np.ndarray | None:
        if penalty_mask is None:
            return None
        mask = np.asarray(penalty_mask)
        if mask.dtype == bool:
            mask = mask.astype(np.float64)
        mask = check_vector(mask, "penalty_mask", size=self.n_features)
        if not np.all((mask == 0.0) | (mask == 1.0)):
            raise ValueError("penalty_mask must hold booleans or 0/1 values")
        return None if mask.all() else np.array(mask, copy=True)

    def __repr__(self) -> str:
        op = self.operand
        extra = ", weighted" if self._weights is not None else ""
        if self._mask is not None:
            extra += f", {int(self._mask.sum())} of {self.n_features} penalised"
        return (
            f"{type(self).__name__}(loss={self.loss.name}, n_samples={self.n_samples}, "
            f"n_features={self.n_features}, {op.format} {op.dtype}, alpha={self.alpha:g}{extra})"
        )

    # -- attributes ------------------------------------------------------------ #
    @property
    def sample_weight(self) -> Any:
        """The row weights (``None`` when every row weighs the same).

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import LogisticObjective
        >>> f = LogisticObjective(np.eye(2), [0, 1], sample_weight=[1.0, 3.0])
        >>> f.sample_weight.tolist(), LogisticObjective(np.eye(2), [0, 1]).sample_weight
        ([1.0, 3.0], None)
        """
        return self._weights

    @property
    def penalty_mask(self) -> np.ndarray:
        """The 0/1 mask of the penalised coefficients.

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import LogisticObjective
        >>> LogisticObjective(np.eye(2), [0, 1], penalty_mask=[True, False]).penalty_mask
        array([1., 0.])
        """
        return np.ones(self.n_features) if self._mask is None else self._mask.copy()

    @property
    def row_norms_sq(self) -> Any:
        """``||a_i||^2`` for every row (computed once, by the operand).

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import LogisticObjective
        >>> LogisticObjective(np.array([[3.0, 4.0], [1.0, 0.0]]), [0, 1]).row_norms_sq.tolist()
        [25.0, 1.0]
        """
        if self._row_norms_sq is None:
            self._row_norms_sq = self.operand.row_norms_sq()
        return self._row_norms_sq

    # -- passes ------------------------------------------------------------------ #
    def _row_args(self) -> tuple:
        return (self._targets,) if self._weights is None else (self._targets, self._weights)

    def _penalty(self, w: np.ndarray) -> tuple[float, np.ndarray | None]:
        """``(alpha/2) ||m w||^2`` and its gradient ``alpha m w``."""
        if not self.alpha:
            return 0.0, None
        wm = w if self._mask is None else w * self._mask
        return 0.5 * self.alpha * float(wm @ wm), self.alpha * wm

    def _penalty_diagonal(self) -> np.ndarray | float:
        return self.alpha if self._mask is None else self.alpha * self._mask

    def _gather(self, v: Any, idx: np.ndarray) -> np.ndarray:
        """Entries ``idx`` of a row-aligned vector, as a NumPy array."""
        if self.operand.is_local:
            return v[idx]
        # Row-partitioned data reads its chunks once each in sorted order.
        order = np.argsort(idx, kind="stable")
        out = np.empty(idx.shape[0], dtype=np.float64)
        out[order] = np.asarray(v[idx[order]], dtype=np.float64)
        return out

    def _sample_rows(self, sample: Sample) -> tuple[Operand, np.ndarray, np.ndarray]:
        """The sampled rows as a local operand, their encoded targets and row weights."""
        idx = sample.indices
        rows = self.operand.take_rows(idx)
        targets = self._gather(self._targets, idx)
        if self._encode_blocks:
            targets = self.loss.encode_targets(targets)
        weights = sample.weights
        if self._weights is not None:
            weights = weights * self._gather(self._weights, idx)
        return rows, np.ascontiguousarray(targets), weights

    def _sampled_gradient(self, w: np.ndarray, sample: Sample) -> np.ndarray:
        """``sum_k omega_k c_{i_k} l'_{i_k} a_{i_k}`` over the sampled rows (no penalty)."""
        rows, targets, weights = self._sample_rows(sample)
        _, g = self.loss.block_pass(rows, targets, w, weights, True, None)
        return g / self._weight_sum

    def gradient(self, w: Any, sample: Any = None) -> np.ndarray:
        """:meth:`Objective.gradient`; a sampled one reads the sampled rows only
        (``2 |S|`` propagations for an SGD step, not a pass for the exact value)."""
        sample = self._check_sample(sample)
        if sample is None:
            return self.evaluate(w).grad
        w = self._check_w(w)
        g = self._sampled_gradient(w, sample)
        pen_grad = self._penalty(w)[1]
        return g + pen_grad if pen_grad is not None else g

    def evaluate(
        self, w: Any, *, need_grad: bool = True, gradient_sample: Any = None
    ) -> Evaluation:
        """Value, gradient and every row's ``l''_i`` at ``w`` in one pass over ``X``.

        With ``gradient_sample`` the value and the curvature still use every
        row (the solvers need the exact value for their acceptance test), the
        gradient only the sampled rows, re-weighted: ``sum_k omega_k c_{i_k}
        l'_{i_k} a_{i_k}`` plus the penalty's gradient.

        Parameters
        ----------
        w : array-like of shape (n_features,)
        need_grad : bool, default=True
        gradient_sample : Sample, (indices, weights) or indices, optional

        Returns
        -------
        Evaluation
            ``curvature`` holds ``l''_i`` of all rows (``None`` when the data is
            not in this process's memory).

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import SigmoidLeastSquaresObjective
        >>> f = SigmoidLeastSquaresObjective(np.eye(3), np.array([1, 0, 1]))
        >>> ev = f.evaluate(np.zeros(3))
        >>> ev.fun, ev.grad.round(4).tolist()
        (0.25, [-0.0833, 0.0833, -0.0833])
        """
        w = self._check_w(w)
        need_grad = self._check_need_grad(need_grad)
        sample = self._check_sample(gradient_sample)
        op = self.operand
        full_grad = need_grad and sample is None
        curvature = np.empty(self.loss.curvature_shape(self.n_samples)) if op.is_local else None
        row_pass = RowPass(self.loss, w, full_grad, self._encode_blocks, curvature)
        out = op.map_row_blocks(row_pass, *self._row_args(), out_shape=(1 + self.n_features,))
        scale = self._weight_sum
        pen, pen_grad = self._penalty(w)
        fun = float(out[0]) / scale + pen
        g = None
        if need_grad:
            g = out[1:] / scale if sample is None else self._sampled_gradient(w, sample)
            if pen_grad is not None:
                g += pen_grad
        return Evaluation(w, fun, g, curvature)

    def _evaluation_at(self, w_or_eval: Any) -> Evaluation:
        w, ev = self._check_point(w_or_eval)
        if ev is None:
            if not self.operand.is_local:
                # No curvature to keep: the Hessian passes recompute it.
                return Evaluation(w, float("nan"), None, None)
            return self.evaluate(w, need_grad=False)
        curv = ev.curvature
        if curv is not None and np.shape(curv)[0] != self.n_samples:
            raise ValueError(
                f"the Evaluation holds curvature of {np.shape(curv)[0]} rows, expected "
                f"{self.n_samples}: it comes from another objective"
            )
        return Evaluation(w, ev.fun, ev.grad, curv)

    def hessian_model(
        self,
        w_or_eval: Any,
        *,
        sample: Any = None,
        explicit: bool = True,
    ) -> HessianModel:
        """The (sub-sampled) Hessian at a point, as a matrix or as products.

        ``sample=None`` is the exact Hessian ``sum_i c_i l''_i a_i a_i^T +
        alpha diag(m)``; a sample ``(i_k, omega_k)`` gives ``sum_k omega_k
        c_{i_k} l''_{i_k} a_{i_k} a_{i_k}^T + alpha diag(m)`` (``c_i = 1/n``
        without sample weights; module docstring). Forming the matrix costs
        one pass over the sampled rows (``|S| d^2 / 2`` multiply-adds);
        products cost ``2 |S| d`` each.

        Parameters
        ----------
        w_or_eval : array-like of shape (n_features,) or Evaluation
            An :class:`Evaluation` of this objective reuses its curvature.
        sample : Sample, (indices, weights) or indices, optional
        explicit : bool, default=True

        Returns
        -------
        HessianModel

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import LeastSquaresObjective
        >>> f = LeastSquaresObjective(np.diag([1.0, 2.0, 3.0]), np.zeros(3))
        >>> f.hessian_model(np.zeros(3), sample=[2]).toarray().diagonal().tolist()
        [0.0, 0.0, 9.0]
        """
        return self._curvature_model(w_or_eval, sample, explicit, gauss_newton=False)

    @property
    def supports_gauss_newton(self) -> bool:  # type: ignore[override]
        """Whether the loss implements :meth:`Loss.gauss_newton_pointwise` (or ``_block``)."""
        cls = type(self.loss)
        return (cls.gauss_newton_pointwise is not Loss.gauss_newton_pointwise
                or cls.gauss_newton_block is not Loss.gauss_newton_block)

    def gauss_newton_model(
        self,
        w_or_eval: Any,
        *,
        sample: Any = None,
        explicit: bool = True,
    ) -> HessianModel:
        """The (sub-sampled) Gauss-Newton matrix at a point, as a matrix or as products.

        :meth:`hessian_model` with the loss's Gauss-Newton curvature ``G_i``
        (:meth:`Loss.gauss_newton_block`) in place of ``l''_i``: ``sum_k
        omega_k c_{i_k} G_{i_k} a_{i_k} a_{i_k}^T + alpha diag(m)``, positive
        semi-definite, at the same cost plus one product ``X_S w`` for the
        predictors of the rows used (an :class:`Evaluation` holds ``l''``,
        not ``G``). For convex losses (logistic, squared) it is the Hessian.

        Parameters
        ----------
        w_or_eval : array-like of shape (n_features,) or Evaluation
        sample : Sample, (indices, weights) or indices, optional
            ``None``: every row.
        explicit : bool, default=True

        Returns
        -------
        HessianModel

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import SigmoidLeastSquaresObjective
        >>> f = SigmoidLeastSquaresObjective(np.eye(2), [1, 0])
        >>> f.gauss_newton_model(np.zeros(2)).toarray()  # 2 sigmoid'(0)^2 / n
        array([[0.0625, 0.    ],
               [0.    , 0.0625]])
        """
        if not self.supports_gauss_newton:
            name = type(self.loss).__name__
            raise TypeError(
                f"{type(self).__name__} of {name} has no Gauss-Newton matrix "
                f"(supports_gauss_newton is False): implement {name}.gauss_newton_pointwise"
            )
        return self._curvature_model(w_or_eval, sample, explicit, gauss_newton=True)

    def _curvature_model(self, w_or_eval, sample, explicit, gauss_newton) -> HessianModel:
        """``sum_k h_k a_{i_k} a_{i_k}^T + alpha diag(m)``, ``h`` from ``l''`` or Gauss-Newton."""
        if gauss_newton:  # G is recomputed on the rows used: an Evaluation holds l''
            w, curvature = self._check_point(w_or_eval)[0], None
        else:
            ev = self._evaluation_at(w_or_eval)
            w, curvature = ev.x, ev.curvature
        sample = self._check_sample(sample)
        explicit = check_bool(explicit, "explicit")
        loss, op = self.loss, self.operand
        if sample is None and not op.is_local:
            return self._full_model_by_blocks(w, explicit, gauss_newton)
        if sample is None:
            rows, idx, weights, n_rows = op, None, self._weights, self.n_samples
            curv = loss.gauss_newton_block(op, self._targets, w) if gauss_newton else curvature
        elif curvature is not None:
            rows, idx, n_rows = op, sample.indices, sample.size
            curv = curvature[idx]
            weights = sample.weights
            if self._weights is not None:
                weights = weights * self._weights[idx]
            if not explicit:
                # Products read the sampled rows once each: gather them once, not per product.
                rows, idx = op.take_rows(idx), None
        else:
            rows, targets, weights = self._sample_rows(sample)
            idx, n_rows = None, sample.size
            curv = row_curvature(loss, rows, targets, w, gauss_newton)
        h = curv / self._weight_sum
        if weights is not None:
            h = scale_rows(h, weights)
        return self._model(n_rows, explicit, lambda: loss.hessian_matrix(rows, idx, h),
                           lambda v: loss.hessian_matvec(rows, idx, h, v))

    def _full_model_by_blocks(self, w: np.ndarray, explicit: bool, gauss_newton: bool):
        """The exact Hessian (or Gauss-Newton matrix) of data not in memory, by blocks."""
        op, d, scale = self.operand, self.n_features, self._weight_sum
        args = self._row_args()

        def run(v, shape):
            block_pass = CurvaturePass(self.loss, w, self._encode_blocks, gauss_newton, v)
            return op.map_row_blocks(block_pass, *args, out_shape=shape) / scale

        return self._model(self.n_samples, explicit, lambda: run(None, (d, d)),
                           lambda v: run(v, (d,)))

    def _model(self, n_rows: int, explicit: bool, matrix, matvec) -> HessianModel:
        d = self.n_features
        shift = self._penalty_diagonal() if self.alpha else None
        if explicit:
            H = np.array(matrix(), dtype=np.float64)
            check_curvature_finite(H)
            if shift is not None:
                H.flat[:: d + 1] += shift
            return HessianModel(d, n_rows, matrix=H)

        def product(v: np.ndarray) -> np.ndarray:
            out = matvec(v)
            check_curvature_finite(out)
            return out + shift * v if shift is not None else out

        return HessianModel(d, n_rows, matvec=product)

    def hessian_matrix_cost(self) -> float:
        """:meth:`Objective.hessian_matrix_cost`, as the loss prices its Hessian blocks."""
        return (super().hessian_matrix_cost() if self.matrix_free
                else max(float(self.loss.hessian_matrix_cost(self.operand.n_cols)), 1.0))

    def hessian_weights(self, w: Any) -> np.ndarray:
        """The Hessian weights ``D_i = c_i l''(a_i^T w)``: ``H = X^T diag(D) X + alpha diag(m)``.

        Parameters
        ----------
        w : array-like of shape (n_features,)

        Returns
        -------
        ndarray of shape (n_samples,)

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import LogisticObjective
        >>> LogisticObjective(np.eye(2), [0, 1]).hessian_weights(np.zeros(2)).tolist()
        [0.125, 0.125]
        """
        if not self.operand.is_local:
            raise TypeError(
                "hessian_weights of data that is not in memory would be an n-vector on the "
                "client; use hessian_model"
            )
        curv = self.evaluate(w, need_grad=False).curvature / self._weight_sum
        return curv if self._weights is None else scale_rows(curv, self._weights)

    def hessian_probabilities(self, ev: Evaluation) -> np.ndarray:
        """Non-uniform Hessian sampling probabilities ``p_i ~ c_i |l''_i| ||a_i||^2``.

        These are the row-norm-squared probabilities of the Hessian's square
        root ``diag(c |l''|)^{1/2} X`` ([2]_); when every weight vanishes (a
        saturated model) they fall back to ``c_i ||a_i||^2``.

        Parameters
        ----------
        ev : Evaluation
            An evaluation of this objective (it holds the curvature).

        Returns
        -------
        ndarray of shape (n_samples,)
            Non-negative, summing to one.

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import LeastSquaresObjective
        >>> f = LeastSquaresObjective(np.diag([1.0, 1.0, 2.0]), np.zeros(3))
        >>> f.hessian_probabilities(f.evaluate(np.zeros(3))).tolist()
        [0.16666666666666666, 0.16666666666666666, 0.6666666666666666]
        """
        return self._row_probabilities(ev, gauss_newton=False)

    def gauss_newton_probabilities(self, ev: Evaluation) -> np.ndarray:
        """Non-uniform Gauss-Newton sampling probabilities ``p_i ~ c_i G_i ||a_i||^2``.

        :meth:`hessian_probabilities` with the Gauss-Newton curvature ``G_i``
        (:meth:`Loss.gauss_newton_block`) in place of ``|l''_i|``: the
        row-norm-squared probabilities of the Gauss-Newton matrix's square
        root ``diag(c G)^{1/2} X``, as the reference code of the module's
        [3] samples its non-uniform Gauss-Newton method. Costs one product ``X w``.

        Parameters
        ----------
        ev : Evaluation
            An evaluation of this objective (its point is used).

        Returns
        -------
        ndarray of shape (n_samples,)
            Non-negative, summing to one.

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import LogisticObjective
        >>> f = LogisticObjective(np.diag([1.0, 1.0, 2.0]), [0, 1, 1])
        >>> f.gauss_newton_probabilities(f.evaluate(np.zeros(3))).tolist()
        [0.16666666666666666, 0.16666666666666666, 0.6666666666666666]
        """
        if not self.supports_gauss_newton:
            self.gauss_newton_model(ev)  # raises the TypeError naming the loss
        return self._row_probabilities(ev, gauss_newton=True)

    def _row_probabilities(self, ev: Evaluation, gauss_newton: bool) -> np.ndarray:
        """``p_i ~ c_i |h_i| ||a_i||^2`` (fallback ``c_i ||a_i||^2``), ``h`` as in the model."""
        if not isinstance(ev, Evaluation):
            raise TypeError(f"ev must be an Evaluation, got {type(ev).__name__}")
        ev = self._evaluation_at(ev)
        if ev.curvature is None:
            raise TypeError(
                "hessian_sampling='nonuniform' needs the curvature of all n rows in this "
                "process; with data that is not in memory (Dask) use hessian_sampling='uniform'"
            )
        curvature = ev.curvature if not gauss_newton else self.loss.gauss_newton_block(
            self.operand, self._targets, ev.x)
        base = np.asarray(self.row_norms_sq, dtype=np.float64)
        if self._weights is not None:
            base = base * self._weights
        return row_probabilities(self.loss.curvature_magnitude(curvature), base)
