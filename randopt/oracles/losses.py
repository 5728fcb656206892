"""Per-row losses of linear models, the public face of the finite-sum oracles.

A loss object says what one row contributes to a finite sum
``f(w) = sum_i c_i l(a_i^T w; y_i)`` (:class:`randopt.oracles.FiniteSum`)
and owns the pass over a block of rows that returns the weighted loss sum,
the weighted gradient sum and every row's curvature ``l''_i``. The solvers
see none of it: they talk to the objective. A new loss (a multi-output
softmax, say) is a new :class:`Loss` subclass: it sets the length of the
coefficient vector (:meth:`Loss.n_coefficients`), encodes its targets, runs
its block pass, and says how its per-row curvature forms Hessians
(:meth:`Loss.hessian_matrix`, :meth:`Loss.hessian_matvec`); the default
methods cover every loss with one scalar output per row. Its Gauss-Newton
curvature (:meth:`Loss.gauss_newton_pointwise`, for
:func:`randopt.optimize.gauss_newton`) is ``l''`` for convex losses.

The three built-in losses run their block pass as one fused Numba kernel
over a dense or CSR block (private to this package); the base class's block
pass is plain NumPy on any local operand, so a user loss only needs
:meth:`Loss.pointwise`.

References
----------
.. [1] P. Xu, F. Roosta and M. W. Mahoney, "Second-order optimization for
       non-convex machine learning: an empirical study", SDM (2020) (the
       sigmoid least-squares loss of the ijcnn1 and covtype experiments).
.. [2] P. McCullagh and J. A. Nelder, "Generalized Linear Models", 2nd ed.,
       Chapman and Hall (1989) (logistic and squared losses).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit

from .._validation import check_rhs
from ..operands import Operand
from . import _kernels
from ._loss_checks import checked_pointwise, checked_rows

__all__ = [
    "Loss",
    "SigmoidLeastSquaresLoss",
    "LogisticLoss",
    "HalfSquaredLoss",
    "binary_labels",
]


class Loss:
    """Base class of a per-row loss ``l(t; y)`` of a linear predictor ``t = a^T w``.

    Subclasses implement :meth:`pointwise` (and :meth:`gauss_newton_pointwise`
    for the Gauss-Newton solver); those with a faster pass over a block of
    rows override :meth:`block_pass`. Losses with several outputs
    per row (softmax) also override :meth:`n_coefficients`,
    :meth:`hessian_matrix`, :meth:`hessian_matvec` and
    :meth:`curvature_magnitude`, and store per-row curvature with the row on
    the first axis (``tests/oracles/test_multi_output_loss.py`` writes a
    softmax loss this way and fits it with the unchanged solvers).

    Examples
    --------
    A user loss, the pseudo-Huber loss ``sqrt(1 + (t - y)^2) - 1``, needs its
    derivatives only:

    >>> import numpy as np
    >>> from randopt.oracles import FiniteSum, Loss
    >>> class PseudoHuber(Loss):
    ...     name = "pseudo_huber"
    ...     def pointwise(self, t, y):
    ...         r = t - y
    ...         s = np.sqrt(1.0 + r * r)
    ...         return s - 1.0, r / s, 1.0 / s**3
    >>> f = FiniteSum(np.eye(2), np.array([0.0, 1.0]), PseudoHuber())
    >>> round(f.value(np.zeros(2)), 6)
    0.207107
    """

    #: Short name used in ``repr`` and messages.
    name: str = "loss"

    def n_coefficients(self, n_features: int) -> int:
        """Length of the coefficient vector ``w`` for ``n_features`` columns.

        Parameters
        ----------
        n_features : int

        Returns
        -------
        int
            ``n_features`` for a loss with one output per row.

        Examples
        --------
        >>> from randopt.oracles import LogisticLoss
        >>> LogisticLoss().n_coefficients(5)
        5
        """
        return int(n_features)

    def curvature_shape(self, n_rows: int) -> tuple[int, ...]:
        """Shape of the per-row curvature of ``n_rows`` rows (rows on the first axis).

        Parameters
        ----------
        n_rows : int

        Returns
        -------
        tuple of int
            ``(n_rows,)`` for a loss with one output per row.

        Examples
        --------
        >>> from randopt.oracles import LogisticLoss
        >>> LogisticLoss().curvature_shape(4)
        (4,)
        """
        return (int(n_rows),)

    def encode_targets(self, y: Any, name: str = "y") -> np.ndarray:
        """Validate targets and convert them to what :meth:`block_pass` reads.

        Called once on the whole ``y`` of an in-memory finite sum, and on each
        block of rows for a row-partitioned one (so it must work block-wise).

        Parameters
        ----------
        y : array-like of shape (n_rows,)
        name : str
            Argument name for error messages.

        Returns
        -------
        ndarray of shape (n_rows,), float64

        Examples
        --------
        >>> from randopt.oracles import HalfSquaredLoss
        >>> HalfSquaredLoss().encode_targets([1, 2.5]).tolist()
        [1.0, 2.5]
        """
        arr = np.asarray(y)
        out = check_rhs(arr, arr.shape[0] if arr.ndim else 0, name)
        if out.ndim != 1:
            raise ValueError(f"{name} must be 1-D, got shape {out.shape}")
        return np.ascontiguousarray(out, dtype=np.float64)

    def pointwise(self, t: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Loss, first and second derivative in ``t`` of every row.

        Parameters
        ----------
        t : ndarray of shape (n_rows,)
            Linear predictors ``a_i^T w``.
        y : ndarray of shape (n_rows,)
            Encoded targets (:meth:`encode_targets`).

        Returns
        -------
        loss, first, second : ndarray of shape (n_rows,)
        """
        raise NotImplementedError(f"{type(self).__name__} must implement pointwise(t, y)")

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

        Parameters
        ----------
        block : Operand
            A local operand holding the rows (``n_rows x d``).
        targets : ndarray of shape (n_rows,)
            Encoded targets of those rows.
        coef : ndarray of shape (n_coefficients,)
        row_weight : ndarray of shape (n_rows,) or None
            Weights ``r_i`` of the rows (``None``: all one).
        need_grad : bool
            Whether to form the gradient sum.
        curvature_out : ndarray of shape (n_rows,) or None
            Receives ``l''_i`` (unweighted) when given.

        Returns
        -------
        total : float
            ``sum_i r_i l_i``.
        grad : ndarray of shape (n_coefficients,) or None
            ``sum_i r_i l'_i a_i`` (``None`` unless ``need_grad``).

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.operands import as_operand
        >>> from randopt.oracles import HalfSquaredLoss
        >>> total, grad = HalfSquaredLoss().block_pass(
        ...     as_operand(np.eye(2)), np.array([1.0, 2.0]), np.zeros(2), None, True, None)
        >>> total, grad.tolist()
        (2.5, [-1.0, -2.0])
        """
        t = block.matvec(coef)
        loss, first, second = checked_pointwise(self, t, targets)
        if curvature_out is not None:
            curvature_out[...] = second
        if row_weight is not None:
            loss = row_weight * loss
            first = row_weight * first
        total = float(np.sum(loss))
        grad = np.asarray(block.rmatvec(first), dtype=np.float64) if need_grad else None
        return total, grad

    def hessian_matrix(
        self, rows: Operand, idx: np.ndarray | None, weighted_curvature: np.ndarray
    ) -> np.ndarray:
        """``sum_k h_k a_{idx_k} a_{idx_k}^T``: the data part of a (sampled) Hessian.

        Parameters
        ----------
        rows : Operand
        idx : ndarray of int or None
            Rows of ``rows`` (``None``: all, in order).
        weighted_curvature : ndarray
            ``h_k``: the curvature of each selected row times its weight.

        Returns
        -------
        ndarray of shape (n_coefficients, n_coefficients)

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.operands import as_operand
        >>> from randopt.oracles import LogisticLoss
        >>> LogisticLoss().hessian_matrix(as_operand(np.eye(2)), None, np.array([2.0, 3.0]))
        array([[2., 0.],
               [0., 3.]])
        """
        return rows.gram(idx, np.ascontiguousarray(weighted_curvature, dtype=np.float64))

    def hessian_matvec(
        self,
        rows: Operand,
        idx: np.ndarray | None,
        weighted_curvature: np.ndarray,
        v: np.ndarray,
    ) -> np.ndarray:
        """The product of :meth:`hessian_matrix` with ``v``, without forming it.

        Parameters
        ----------
        rows : Operand
        idx : ndarray of int or None
        weighted_curvature : ndarray
        v : ndarray of shape (n_coefficients,)

        Returns
        -------
        ndarray of shape (n_coefficients,)

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.operands import as_operand
        >>> from randopt.oracles import LogisticLoss
        >>> LogisticLoss().hessian_matvec(
        ...     as_operand(np.eye(2)), None, np.array([2.0, 3.0]), np.ones(2)).tolist()
        [2.0, 3.0]
        """
        return rows.gram_matvec(
            idx, np.ascontiguousarray(weighted_curvature, dtype=np.float64), v
        )

    def gauss_newton_block(
        self, block: Operand, targets: np.ndarray, coef: np.ndarray
    ) -> np.ndarray:
        """Per-row Gauss-Newton curvature of a block of rows, in the form the Hessians read.

        :meth:`hessian_matrix` and :meth:`hessian_matvec` form the (positive
        semi-definite) Gauss-Newton matrix from it in place of ``l''``. The
        default calls :meth:`gauss_newton_pointwise` on ``t = block @ coef``;
        a loss with several outputs per row overrides this method instead.

        Parameters
        ----------
        block : Operand
            A local operand holding the rows (``n_rows x d``).
        targets : ndarray of shape (n_rows,)
            Encoded targets of those rows.
        coef : ndarray of shape (n_coefficients,)

        Returns
        -------
        ndarray of shape ``curvature_shape(n_rows)``
            Unweighted, like the curvature of :meth:`block_pass`.

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.operands import as_operand
        >>> from randopt.oracles import SigmoidLeastSquaresLoss
        >>> SigmoidLeastSquaresLoss().gauss_newton_block(
        ...     as_operand(np.eye(2)), np.array([1.0, 0.0]), np.zeros(2)).tolist()
        [0.125, 0.125]
        """
        t = np.asarray(block.matvec(coef), dtype=np.float64)
        who = f"{type(self).__name__}.gauss_newton_pointwise"
        out = checked_rows(self.gauss_newton_pointwise(t, targets), t.shape, who, "curvature")
        if not np.all(out >= 0):  # NaN fails too
            raise ValueError(
                f"{who} returned negative or NaN values; the Gauss-Newton curvature "
                "phi''(r) r'(t)^2 of a row is >= 0"
            )
        return out

    def gauss_newton_pointwise(self, t: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The Gauss-Newton curvature of every row: ``l''`` without the residual term.

        For a loss ``l(t; y) = phi(r(t; y))`` of a residual ``r`` with a convex
        outer ``phi`` it is ``phi''(r) r'(t)^2 >= 0``: the Hessian
        ``l'' = phi'' r'^2 + phi' r''`` without the term that carries the
        residual's curvature. Convex losses of a linear predictor (logistic,
        squared) are their own residual: there it *is* ``l''``. The base class
        raises NotImplementedError.

        Parameters
        ----------
        t : ndarray of shape (n_rows,)
            Linear predictors ``a_i^T w``.
        y : ndarray of shape (n_rows,)
            Encoded targets.

        Returns
        -------
        ndarray of shape (n_rows,)
            Non-negative.

        References
        ----------
        .. [1] N. N. Schraudolph, "Fast curvature matrix-vector products for
           second-order gradient descent", Neural Comput. 14 (2002), 1723-1738.
        """
        raise NotImplementedError(
            f"{type(self).__name__} has no Gauss-Newton curvature: implement "
            "gauss_newton_pointwise(t, y), returning phi''(r) * (dr/dt)^2 >= 0 per row for a "
            "loss phi(r(t, y)) of a residual r (or gauss_newton_block for several outputs "
            "per row), to use it with gauss_newton"
        )

    def hessian_matrix_cost(self, n_cols: int) -> float:
        """Forming the Hessian of rows with ``n_cols`` columns, in products on the same rows.

        A row adds ``d^2 / 2`` multiply-adds to the lower triangle and ``2 d``
        to a product: ``d / 4`` (multi-output losses override it).

        Parameters
        ----------
        n_cols : int

        Returns
        -------
        float

        Examples
        --------
        >>> from randopt.oracles import LogisticLoss
        >>> LogisticLoss().hessian_matrix_cost(40)
        10.0
        """
        return float(n_cols) / 4.0

    def curvature_magnitude(self, curvature: np.ndarray) -> np.ndarray:
        """A size of each row's curvature, for non-uniform Hessian sampling.

        Parameters
        ----------
        curvature : ndarray with the rows on the first axis

        Returns
        -------
        ndarray of shape (n_rows,)
            ``|l''_i|`` for a scalar curvature.

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import LogisticLoss
        >>> LogisticLoss().curvature_magnitude(np.array([-2.0, 1.0])).tolist()
        [2.0, 1.0]
        """
        return np.abs(curvature)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class _FusedLoss(Loss):
    """A built-in loss whose block pass is one fused Numba kernel (dense or CSR blocks)."""

    _code: int = -1

    def block_pass(self, block, targets, coef, row_weight, need_grad, curvature_out):
        n_rows = block.n_rows
        D = curvature_out if curvature_out is not None else np.empty(n_rows)
        weights = _EMPTY if row_weight is None else np.ascontiguousarray(row_weight, np.float64)
        p = coef.shape[0]
        g = np.empty(p)
        if block.format == "dense":
            # C order for the row-wise kernel (FiniteSum stores its data C-ordered,
            # so this copies only blocks that arrive otherwise).
            X = np.ascontiguousarray(block.local_data())
            total = _kernels.dense_fused(X, targets, coef, self._code, weights, need_grad, g, D)
        elif block.format == "csr":
            X = block.local_data()
            total = _kernels.csr_fused(
                X.data, X.indices, X.indptr, p, targets, coef, self._code, weights,
                need_grad, g, D,
            )
        else:
            # CSC blocks or operators: the NumPy pass of the base class (two products).
            return super().block_pass(block, targets, coef, row_weight, need_grad, curvature_out)
        return float(total), (g if need_grad else None)


_EMPTY = np.empty(0, dtype=np.float64)


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
    _code = _kernels.SIGMOID_LEAST_SQUARES

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
    _code = _kernels.LOGISTIC

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
    _code = _kernels.HALF_SQUARED

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
