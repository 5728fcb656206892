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

The data enters through :func:`randopt.operands.as_operand` once. A pass
over data in memory is one call of the loss's fused block pass on the whole
operand; a Hessian is the loss's form of the operand's Gram kernels
(``gram``, and ``gram_product`` prepared once per model, so that a product
runs model -> Gram product -> kernel with one check of ``v``). Data that is
not in this process's memory runs the same loss passes on its row blocks
(:meth:`~randopt.operands.Operand.map_row_blocks`, where the data lives);
the per-row curvature of all ``n`` rows is then not kept
(:attr:`Evaluation.curvature` is ``None``): sampled Hessians gather their
rows and recompute it, and non-uniform sampling is refused. A user's loss is
handed read-only rows and targets (its outputs are checked where they enter,
:mod:`randopt.oracles.losses.base`); the targets and sample weights are
private copies, so later edits of the caller's arrays change nothing.

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

import math
from typing import Any

import numpy as np

from .._validation import check_bool, check_scalar, check_vector
from ..operands import Operand, as_operand
from ..sketch import Sample
from ._user_outputs import read_only_view
from ._worker_passes import (
    CurvaturePass,
    RowPass,
    is_user_code,
    read_only_rows,
    row_curvature,
    scale_rows,
    weight_summary,
)
from .base import Evaluation, HessianModel, Objective
from .hessian_sampling import sampling_probabilities
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
        # A user's loss (code outside randopt) sees the rows it is given: read-only ones.
        self.operand = self._as_row_operand(X, is_user_code(loss))
        op = self.operand
        self.n_samples = op.n_rows
        self.n_features = loss.n_coefficients(op.n_cols)
        self._encode_blocks = not op.is_local
        y = op.align(y, "y")
        if self._encode_blocks:
            self._targets = y
        else:
            # The loss reads a read-only view of the caller's y (encode_targets may be user
            # code) and the objective keeps a private copy: later edits change nothing here.
            y = read_only_view(y)
            targets = loss.encode_targets(y, "y")
            if np.may_share_memory(targets, y):
                targets = np.array(targets, copy=True)
            self._targets = targets
        self.alpha = check_scalar(alpha, "alpha", low=0.0)
        self._weights, self._weight_sum = _check_sample_weight(op, sample_weight)
        self._mask = self._check_penalty_mask(penalty_mask)
        self._row_norms_sq: Any = None

    # -- construction helpers ------------------------------------------------- #
    @staticmethod
    def _as_row_operand(X: Any, protect: bool) -> Operand:
        op = as_operand(X, "X", accept_operator=False)
        # The fused row passes read rows: CSR for sparse data, C order for dense.
        if op.format == "csc":
            # tocsr builds new arrays: a private copy already, no second one to protect it.
            return as_operand(op.local_data().tocsr(), "X")
        if op.format == "dense" and not op.local_data().flags.c_contiguous:
            op = as_operand(np.ascontiguousarray(op.local_data()), "X")
        return read_only_rows(op) if protect else op

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
    def is_local(self) -> bool:
        """Whether ``X`` is in this process's memory (``False`` for a Dask array).

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import LogisticObjective
        >>> LogisticObjective(np.eye(2), [0, 1]).is_local
        True
        """
        return bool(self.operand.is_local)

    @property
    def row_length(self) -> float:
        """Mean stored entries per row: ``n_features`` scaled by a sparse ``X``'s density.

        ``max(n_features * nnz / (n_samples * n_cols), 1)`` for sparse data,
        ``n_features`` otherwise (see :attr:`Objective.row_length`).

        Examples
        --------
        >>> import numpy as np
        >>> from scipy import sparse
        >>> from randopt.oracles import LogisticObjective
        >>> LogisticObjective(sparse.eye(4, 8, format="csr"), [0, 1, 0, 1]).row_length
        1.0
        """
        d = float(self.n_features)
        nnz = getattr(self.operand, "nnz", None)
        if nnz is None:
            return d
        cells = float(self.operand.n_rows) * float(self.operand.n_cols)
        return max(d * float(nnz) / cells, 1.0) if cells else d

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
            return self._finite_gradient(self.evaluate(w).grad)
        w = self._check_w(w)
        g = self._sampled_gradient(w, sample)
        pen_grad = self._penalty(w)[1]
        return self._finite_gradient(g + pen_grad if pen_grad is not None else g)

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
            not in this process's memory). Sums that overflow float64 only in
            between are recomputed with scaling; a value or gradient beyond
            float64's range is returned as it is (a solver rejects such a trial
            point), and the public oracles (:meth:`value`, :meth:`gradient`,
            ...) raise a ValueError naming ``X`` there.

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import SigmoidLeastSquaresObjective
        >>> f = SigmoidLeastSquaresObjective(np.eye(3), np.array([1, 0, 1]))
        >>> ev = f.evaluate(np.zeros(3))
        >>> ev.fun, ev.grad.round(4).tolist()
        (0.25, [-0.0833, 0.0833, -0.0833])
        """
        w = check_vector(w, "w", size=self.n_features)
        need_grad = check_bool(need_grad, "need_grad")
        sample = self._check_sample(gradient_sample)
        op, loss = self.operand, self.loss
        full_grad = need_grad and sample is None
        if op.is_local:
            # One call into the loss's fused pass over the whole (in-memory) data.
            curvature = np.empty(loss.curvature_shape(self.n_samples))
            total, g = loss.block_pass(op, self._targets, w, self._weights, full_grad, curvature)
        else:
            curvature = None
            row_pass = RowPass(loss, w, full_grad, self._encode_blocks)
            out = op.map_row_blocks(row_pass, *self._row_args(),
                                    out_shape=(1 + self.n_features,))
            total, g = out[0], out[1:]
        scale = self._weight_sum
        pen, pen_grad = self._penalty(w)
        fun = float(total) / scale + pen
        if need_grad:
            g = g / scale if sample is None else self._sampled_gradient(w, sample)
            if pen_grad is not None:
                g += pen_grad
        else:
            g = None
        if not math.isfinite(fun) or (g is not None and not np.isfinite(g).all()):
            fun, g = self._overflowed(w, need_grad, sample, fun, g)
        return Evaluation(w, fun, g, curvature)

    def _overflowed(self, w: np.ndarray, need_grad: bool, sample: Sample | None, fun: float,
                    g: np.ndarray | None) -> tuple[float, np.ndarray | None]:
        """``(fun, g)`` recomputed with scaling where the pass's sums overflowed float64.

        The fused pass sums ``r_i l_i`` before dividing by the weights' sum;
        a sum can overflow where the objective does not. Recomputed (local
        data, one output per row) from the per-row terms at ``t = X w``,
        each sum scaled by its largest term. What is still not finite (the
        true value beyond float64's range, or ``X w`` itself overflowing) is
        returned as it is: the solvers reject such a trial point, the public
        oracles raise :meth:`_not_finite`'s error naming ``X``.
        """
        op, loss = self.operand, self.loss
        if not op.is_local or tuple(loss.curvature_shape(1)) != (1,):
            return fun, g
        with np.errstate(over="ignore", invalid="ignore"):
            t = op.matvec(w)
            if not np.isfinite(t).all():
                return fun, g
            # (A user loss's outputs were checked by the pass itself; it is handed read-only
            # views, as in that pass, so that it cannot change the kept targets.)
            losses, first, _ = (np.asarray(a, dtype=np.float64) for a in
                                loss.pointwise(read_only_view(t), read_only_view(self._targets)))
            # c_i = r_i / sum(r) <= 1: the weighted terms stay finite.
            c = (np.full(t.shape[0], 1.0 / self.n_samples) if self._weights is None
                 else self._weights / self._weight_sum)
            pen, pen_grad = self._penalty(w)
            if not math.isfinite(fun) and np.isfinite(losses).all():
                fun = _scaled_sum(c * losses) + pen
            if g is not None and sample is None and not np.isfinite(g).all() \
                    and np.isfinite(first).all():
                u = c * first
                top = float(np.max(np.abs(u))) or 1.0
                g = top * op.rmatvec(u / top)
                if pen_grad is not None:
                    g += pen_grad
        return fun, g

    def _not_finite(self, what: str) -> ValueError:
        if is_user_code(self.loss):
            # A user loss's pointwise outputs are checked; its own Hessian forms are not.
            return ValueError(
                f"the {what} of this {type(self).__name__} at w is not finite: "
                f"{type(self.loss).__name__} (a user loss) gave NaN or infinity there, or X's "
                "entries are too large (rescale X, e.g. by a power of two)"
            )
        return ValueError(
            f"the {what} of this {type(self).__name__} at w is beyond float64's range (X @ w, "
            f"the {self.loss.name} loss or its sums overflow): rescale X, e.g. by a power of "
            "two or with sklearn.preprocessing.StandardScaler (or start from a smaller w)"
        )

    def _evaluation_at(self, w_or_eval: Any) -> Evaluation:
        if not isinstance(w_or_eval, Evaluation):
            w = check_vector(w_or_eval, "w", size=self.n_features)
            if not self.operand.is_local:
                # No curvature to keep: the Hessian passes recompute it.
                return Evaluation(w, float("nan"), None, None)
            return self.evaluate(w, need_grad=False)
        ev = w_or_eval
        w = check_vector(ev.x, "w", size=self.n_features)
        return Evaluation(w, ev.fun, ev.grad, self._own_curvature(ev))

    def _own_curvature(self, ev: Evaluation) -> Any:
        """``ev.curvature``, refused when it has another objective's row count."""
        curv = ev.curvature
        if curv is not None and np.shape(curv)[0] != self.n_samples:
            raise ValueError(
                f"the Evaluation holds curvature of {np.shape(curv)[0]} rows, expected "
                f"{self.n_samples}: it comes from another objective"
            )
        return curv

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
        # Inline in both public methods (not a shared helper): one frame less on every
        # model the solvers ask for. A product then runs model -> loss -> kernel.
        rows, idx, h, n_rows, explicit = self._curvature_rows(w_or_eval, sample, explicit, False)
        if rows is None:
            return self._full_model_by_blocks(h, explicit, False)
        if explicit:
            return self._matrix_model(self.loss.hessian_matrix(rows, idx, h), n_rows, h)
        return HessianModel._trusted(self.n_features, n_rows, shift=self._shift(),
                                     matvec=self.loss.hessian_product(rows, idx, h))

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
        # Inline in both public methods (not a shared helper): one frame less on every
        # model the solvers ask for. A product then runs model -> loss -> kernel.
        rows, idx, h, n_rows, explicit = self._curvature_rows(w_or_eval, sample, explicit, True)
        if rows is None:
            return self._full_model_by_blocks(h, explicit, True)
        if explicit:
            return self._matrix_model(self.loss.hessian_matrix(rows, idx, h), n_rows, h)
        return HessianModel._trusted(self.n_features, n_rows, shift=self._shift(),
                                     matvec=self.loss.hessian_product(rows, idx, h))

    def _curvature_rows(self, w_or_eval, sample, explicit, gauss_newton) -> tuple:
        """``(rows, idx, h, n_rows, explicit)`` of ``sum_k h_k a_{i_k} a_{i_k}^T``, checked.

        ``h`` is the weighted curvature (``l''`` or Gauss-Newton) of the
        selected rows; ``rows`` is None for data not in memory (then ``h`` is
        the point ``w``: the blocks recompute the curvature).
        """
        ev = w_or_eval if isinstance(w_or_eval, Evaluation) else None
        w = check_vector(w_or_eval if ev is None else ev.x, "w", size=self.n_features)
        sample = self._check_sample(sample)
        explicit = check_bool(explicit, "explicit")
        loss, op = self.loss, self.operand
        if not op.is_local:
            if sample is None:
                return None, None, w, self.n_samples, explicit
            curvature = None
        elif gauss_newton:  # G is recomputed on the rows used: an Evaluation holds l''
            curvature = None if sample is not None else loss.gauss_newton_block(
                op, self._targets, w)
        elif ev is None:
            curvature = self.evaluate(w, need_grad=False).curvature
        else:
            curvature = self._own_curvature(ev)
        if sample is None:
            rows, idx, weights, n_rows, curv = op, None, self._weights, self.n_samples, curvature
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
        return rows, idx, h, n_rows, explicit

    def _shift(self) -> Any:
        """The penalty's diagonal ``alpha m`` added to each product (None without a penalty)."""
        return self._penalty_diagonal() if self.alpha else None

    def _full_model_by_blocks(self, w: np.ndarray, explicit: bool, gauss_newton: bool):
        """The exact Hessian (or Gauss-Newton matrix) of data not in memory, by blocks."""
        op, d, scale = self.operand, self.n_features, self._weight_sum
        args = self._row_args()

        def run(v, shape):
            block_pass = CurvaturePass(self.loss, w, self._encode_blocks, gauss_newton, v)
            return op.map_row_blocks(block_pass, *args, out_shape=shape) / scale

        if explicit:
            return self._matrix_model(run(None, (d, d)), self.n_samples, None)
        return HessianModel._trusted(d, self.n_samples, matvec=lambda v: run(v, (d,)),
                                     shift=self._shift())

    def _matrix_model(self, matrix: Any, n_rows: int, h: Any) -> HessianModel:
        """The model of a formed matrix plus the penalty, its finiteness checked once.

        ``h`` (the weighted per-row curvature, when at hand) tells whose fault
        a non-finite matrix is: the loss's (non-finite curvature) or the
        data's (``X^T D X`` overflowed).
        """
        d = self.n_features
        H = np.array(matrix, dtype=np.float64)
        if not np.isfinite(H).all():
            if h is not None and not np.isfinite(h).all():
                raise ValueError(
                    f"{type(self.loss).__name__} gave NaN or infinite curvature (second "
                    "derivatives) at this point, so the Hessian is not finite: check the loss's "
                    "pointwise (or gauss_newton_pointwise) there"
                )
            raise ValueError(
                "X's Hessian X^T D X overflows float64 (entries of X too large for their "
                "squares to be summed, e.g. |x| ~ 1e155 and beyond): rescale X, e.g. by a "
                "power of two or with sklearn.preprocessing.StandardScaler"
            )
        if self.alpha:
            H.flat[:: d + 1] += self._penalty_diagonal()
        return HessianModel._trusted(d, n_rows, matrix=H)

    def hessian_matrix_cost(self) -> float:
        """:meth:`Objective.hessian_matrix_cost`, as the loss prices its Hessian blocks."""
        return (super().hessian_matrix_cost() if self.matrix_free
                else max(float(self.loss.hessian_matrix_cost(self.operand.shape[1])), 1.0))

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
        saturated model) they fall back to ``c_i ||a_i||^2``, and when every
        row of ``X`` vanishes (or their squared norms overflow) to the uniform
        distribution (:func:`~randopt.oracles.hessian_sampling.sampling_probabilities`).

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
        return sampling_probabilities(self.loss.curvature_magnitude(curvature), base)


def _check_sample_weight(op: Any, sample_weight: Any) -> tuple[Any, float]:
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
    if not math.isfinite(total):
        # Only the ratios s_i / sum(s) matter: scale by a power of two until the sum fits.
        sw = sw * 2.0 ** -(math.frexp(high)[1] + math.ceil(math.log2(op.n_rows)))
        total = op.map_row_blocks(weight_summary, sw, out_shape=(4,))[0]
    return sw, float(total)


def _scaled_sum(terms: np.ndarray) -> float:
    """``sum(terms)`` of finite terms, scaled by the largest: only the result may overflow."""
    top = float(np.max(np.abs(terms))) if terms.size else 0.0
    if top == 0.0:
        return 0.0
    return top * float(np.sum(terms / top))
