"""The :class:`Loss` protocol: what one data row contributes to a finite sum.

A loss object says what one row contributes to a finite sum
``f(w) = sum_i c_i l(a_i^T w; y_i)`` (:class:`randopt.oracles.FiniteSum`)
and owns the pass over a block of rows that returns the weighted loss sum,
the weighted gradient sum and every row's curvature ``l''_i``. The solvers
see none of it: they talk to the objective. A new loss (a multi-output
softmax, say) is a new :class:`Loss` subclass: it sets the length of the
coefficient vector (:meth:`Loss.n_coefficients`), encodes its targets, runs
its block pass, and says how its per-row curvature forms Hessians
(:meth:`Loss.hessian_matrix`, :meth:`Loss.hessian_product`); the default
methods cover every loss with one scalar output per row. Its Gauss-Newton
curvature (:meth:`Loss.gauss_newton_pointwise`, for
:func:`randopt.optimize.gauss_newton`) is ``l''`` for convex losses.

The base class's block pass is plain NumPy on any local operand, so a user
loss only needs :meth:`Loss.pointwise`. What a user's loss returns is code
the package has never seen: its outputs are checked here, where they enter
(real, finite where the predictors are, one value per row), and an error
names the loss. The targets a user's loss is given are read-only views: a
loss that writes into them fails instead of changing the data.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from ..._validation import check_rhs
from ...operands import Operand
from .._user_outputs import read_only_view as _read_only
from .._user_outputs import real_array

__all__ = ["Loss"]

#: "No row weights" (all one), as the fused kernels read it: one shared empty array.
NO_WEIGHTS = np.empty(0, dtype=np.float64)


def checked_rows(part: Any, t: np.ndarray, who: str, label: str) -> np.ndarray:
    """``part`` as float64 of ``t``'s shape, real and finite where ``t`` is, or an error."""
    arr = real_array(part, who, f"real {label} values (one per row)")
    if arr.shape != t.shape:
        raise ValueError(
            f"{who} returned {label} of shape {arr.shape}, expected {t.shape} (one value per row)"
        )
    arr = np.asarray(arr, dtype=np.float64)
    bad = ~np.isfinite(arr)
    if bad.any() and np.isfinite(t[bad]).any():
        i = int(np.flatnonzero(bad & np.isfinite(t))[0])
        raise ValueError(
            f"{who} returned {float(arr[i])} as the {label} of row {i} at the finite predictor "
            f"t = {float(t[i])!r}; a loss must be finite where its predictor is (if it "
            "overflows at huge predictors, rescale X)"
        )
    return arr


def checked_pointwise(loss_obj: Any, t: np.ndarray, targets: np.ndarray) -> tuple:
    """``loss_obj.pointwise(t, targets)`` on read-only inputs, its three outputs checked."""
    out = loss_obj.pointwise(_read_only(t), _read_only(targets))
    who = f"{type(loss_obj).__name__}.pointwise"
    if not isinstance(out, tuple) or len(out) != 3:
        raise TypeError(f"{who} must return (loss, first, second), got {out!r:.80}")
    return tuple(checked_rows(part, t, who, label)
                 for label, part in zip(("loss", "first", "second"), out, strict=True))


class Loss:
    """Base class of a per-row loss ``l(t; y)`` of a linear predictor ``t = a^T w``.

    Subclasses implement :meth:`pointwise` (and :meth:`gauss_newton_pointwise`
    for the Gauss-Newton solver); those with a faster pass over a block of
    rows override :meth:`block_pass`. Losses with several outputs
    per row (softmax) also override :meth:`n_coefficients`,
    :meth:`hessian_matrix`, :meth:`hessian_matvec` (or, to prepare the
    products of one model once, :meth:`hessian_product`) and
    :meth:`curvature_magnitude`, and store per-row curvature with the row on
    the first axis (``tests/oracles/test_multi_output_loss.py`` writes a
    softmax loss this way and fits it with the unchanged solvers).

    What :meth:`pointwise` (and :meth:`gauss_newton_pointwise`) return is
    checked where it enters: real numbers, one per row, finite wherever the
    predictor is; an error names the loss. They receive read-only arrays.

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
        with np.errstate(over="ignore"):  # an overflowing sum is recomputed by FiniteSum
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

    def hessian_product(
        self, rows: Operand, idx: np.ndarray | None, weighted_curvature: np.ndarray
    ) -> Callable[[np.ndarray], np.ndarray]:
        """The product ``v -> hessian_matrix(rows, idx, weighted_curvature) @ v``, prepared once.

        A Hessian model's products (a Krylov solver's, many per model) call
        what this returns: the rows and the curvature are checked and laid
        out once, here. The default is the operand's Gram product
        (:meth:`randopt.operands.Operand.gram_product`) for a loss with one
        output per row, and :meth:`hessian_matvec` bound to its arguments
        for a loss that overrides that method only.

        Parameters
        ----------
        rows : Operand
        idx : ndarray of int or None
        weighted_curvature : ndarray

        Returns
        -------
        callable
            ``v (shape (n_coefficients,)) -> ndarray of shape (n_coefficients,)``.

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.operands import as_operand
        >>> from randopt.oracles import LogisticLoss
        >>> product = LogisticLoss().hessian_product(as_operand(np.eye(2)), None,
        ...                                          np.array([2.0, 3.0]))
        >>> product(np.ones(2)).tolist()
        [2.0, 3.0]
        """
        if type(self).hessian_matvec is not Loss.hessian_matvec:
            return partial(self.hessian_matvec, rows, idx, weighted_curvature)
        return rows.gram_product(idx, weighted_curvature)


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
        out = checked_rows(self.gauss_newton_pointwise(_read_only(t), _read_only(targets)), t,
                           who, "curvature")
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
