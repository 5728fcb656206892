"""L2-regularised logistic regression (a convex finite sum, for checks).

    f(w) = (1/n) sum_i [ log(1 + exp(a_i^T w)) - y_i a_i^T w ] + (alpha/2) ||w||^2,

labels ``y_i in {0, 1}`` (``{-1, +1}`` mapped). The log-partition is computed
as ``max(t, 0) + log1p(exp(-|t|))``, which never overflows.
"""

from __future__ import annotations

from typing import Any

from . import _kernels
from .base import FiniteSum

__all__ = ["LogisticRegression"]


class LogisticRegression(FiniteSum):
    """Logistic loss of a linear model without bias, plus ``(alpha/2)||w||^2``.

    Parameters
    ----------
    X : array-like or sparse matrix of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        Binary labels in ``{0, 1}`` or ``{-1, +1}``.
    alpha : float, default=0
        Ridge parameter; ``alpha > 0`` makes the problem strongly convex.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.oracles import LogisticRegression
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]]); y = np.array([1, -1])
    >>> f = LogisticRegression(X, y, alpha=0.1)
    >>> f.gradient(np.zeros(2))
    array([-0.25,  0.25])
    """

    _loss_code = _kernels.LOGISTIC

    def __init__(self, X: Any, y: Any, alpha: float = 0.0) -> None:
        super().__init__(X, y, alpha)
        self.y = self._labels(y)
