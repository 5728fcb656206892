"""Finite sums with a fixed built-in loss: the objectives of the experiments and checks.

Each class is :class:`~randopt.oracles.FiniteSum` with its loss fixed, so
``SigmoidLeastSquaresObjective(X, y)`` is ``FiniteSum(X, y,
SigmoidLeastSquaresLoss())`` (same keywords: ``alpha``, ``sample_weight``,
``penalty_mask``). Without weights and mask:

- :class:`SigmoidLeastSquaresObjective`:
  ``f(w) = (1/n) sum_i (y_i - sigmoid(a_i^T w))^2 + (alpha/2) ||w||^2``, the
  non-convex objective of the ijcnn1/covtype experiments of [1]_;
- :class:`LogisticObjective`:
  ``f(w) = (1/n) sum_i [log(1 + exp(a_i^T w)) - y_i a_i^T w] + (alpha/2) ||w||^2``;
- :class:`LeastSquaresObjective`:
  ``f(w) = (1/(2n)) ||X w - y||^2 + (alpha/2) ||w||^2``.

References
----------
.. [1] P. Xu, F. Roosta and M. W. Mahoney, "Newton-type methods for non-convex
       optimization under inexact Hessian information", Math. Program. 184
       (2020), 35-70; "Second-order optimization for non-convex machine
       learning: an empirical study", SDM (2020).
"""

from __future__ import annotations

from typing import Any

from .finite_sum import FiniteSum
from .losses import HalfSquaredLoss, LogisticLoss, SigmoidLeastSquaresLoss

__all__ = ["SigmoidLeastSquaresObjective", "LogisticObjective", "LeastSquaresObjective"]


class SigmoidLeastSquaresObjective(FiniteSum):
    """Mean of ``(y_i - sigmoid(a_i^T w))^2`` plus ``(alpha/2) ||m * w||^2`` (non-convex).

    Parameters
    ----------
    X : array-like, sparse matrix or Dask array of shape (n_samples, n_features)
        Features, one row per example; no bias column is added.
    y : array-like of shape (n_samples,)
        Binary labels in ``{0, 1}`` or ``{-1, +1}`` (mapped to ``{0, 1}``).
    alpha : float, default=0
        The papers use none.
    sample_weight, penalty_mask : optional
        As in :class:`FiniteSum`.

    References
    ----------
    .. [1] P. Xu, F. Roosta and M. W. Mahoney, "Second-order optimization for
       non-convex machine learning: an empirical study", SDM (2020).

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.oracles import SigmoidLeastSquaresObjective
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 3)); y = (X[:, 0] > 0).astype(float)
    >>> f = SigmoidLeastSquaresObjective(X, y)
    >>> round(f.value(np.zeros(3)), 6)   # sigmoid(0) = 1/2 everywhere
    0.25
    """

    def __init__(
        self,
        X: Any,
        y: Any,
        *,
        alpha: float = 0.0,
        sample_weight: Any = None,
        penalty_mask: Any = None,
    ) -> None:
        super().__init__(
            X, y, SigmoidLeastSquaresLoss(), alpha=alpha, sample_weight=sample_weight,
            penalty_mask=penalty_mask,
        )


class LogisticObjective(FiniteSum):
    """Mean logistic loss of a linear model without bias, plus ``(alpha/2) ||m * w||^2``.

    Parameters
    ----------
    X : array-like, sparse matrix or Dask array of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        Binary labels in ``{0, 1}`` or ``{-1, +1}``.
    alpha : float, default=0
        ``alpha > 0`` makes the problem strongly convex.
    sample_weight, penalty_mask : optional
        As in :class:`FiniteSum`.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.oracles import LogisticObjective
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]]); y = np.array([1, -1])
    >>> LogisticObjective(X, y, alpha=0.1).gradient(np.zeros(2)).tolist()
    [-0.25, 0.25]
    """

    def __init__(
        self,
        X: Any,
        y: Any,
        *,
        alpha: float = 0.0,
        sample_weight: Any = None,
        penalty_mask: Any = None,
    ) -> None:
        super().__init__(
            X, y, LogisticLoss(), alpha=alpha, sample_weight=sample_weight,
            penalty_mask=penalty_mask,
        )


class LeastSquaresObjective(FiniteSum):
    """``(1/(2n)) ||X w - y||^2 + (alpha/2) ||m * w||^2`` with real targets ``y``.

    Its Hessian ``X^T X / n + alpha diag(m)`` does not depend on ``w``.

    Parameters
    ----------
    X : array-like, sparse matrix or Dask array of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    alpha : float, default=0
    sample_weight, penalty_mask : optional
        As in :class:`FiniteSum`.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.oracles import LeastSquaresObjective
    >>> LeastSquaresObjective(np.eye(2), np.array([1.0, 2.0])).value(np.zeros(2))
    1.25
    """

    def __init__(
        self,
        X: Any,
        y: Any,
        *,
        alpha: float = 0.0,
        sample_weight: Any = None,
        penalty_mask: Any = None,
    ) -> None:
        super().__init__(
            X, y, HalfSquaredLoss(), alpha=alpha, sample_weight=sample_weight,
            penalty_mask=penalty_mask,
        )
