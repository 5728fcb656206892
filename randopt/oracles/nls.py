"""Non-linear least squares for binary classification (a non-convex finite sum).

    f(w) = (1/n) sum_i (y_i - sigmoid(a_i^T w))^2 + (alpha/2) ||w||^2,

the non-convex loss of the experiments in [1]_ (ijcnn1, covtype). With
``s_i = sigmoid(a_i^T w)`` the Hessian is ``X^T diag(D) X + alpha I`` with

    D_i = (2/n) [ (s_i - y_i) s_i (1 - s_i) (1 - 2 s_i) + s_i^2 (1 - s_i)^2 ],

which takes both signs, so the Hessian is indefinite in general.

References
----------
.. [1] P. Xu, F. Roosta and M. W. Mahoney, "Newton-type methods for non-convex
       optimization under inexact Hessian information", Math. Program. 184
       (2020), 35-70; "Second-order optimization for non-convex machine
       learning: an empirical study", SDM (2020).
"""

from __future__ import annotations

from typing import Any

from . import _kernels
from .base import FiniteSum

__all__ = ["NonlinearLeastSquares"]


class NonlinearLeastSquares(FiniteSum):
    """Squared loss on the sigmoid of a linear model: ``(y_i - sigmoid(a_i^T w))^2``.

    Parameters
    ----------
    X : array-like or sparse matrix of shape (n_samples, n_features)
        Features, one row per example; no bias column is added.
    y : array-like of shape (n_samples,)
        Binary labels in ``{0, 1}`` or ``{-1, +1}`` (mapped to ``{0, 1}``).
    alpha : float, default=0
        Adds ``(alpha/2) ||w||^2``; the papers use none.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.oracles import NonlinearLeastSquares
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 3)); y = (X[:, 0] > 0).astype(float)
    >>> f = NonlinearLeastSquares(X, y)
    >>> round(f.value(np.zeros(3)), 6)   # sigmoid(0) = 1/2 everywhere
    0.25
    """

    _loss_code = _kernels.NLS

    def __init__(self, X: Any, y: Any, alpha: float = 0.0) -> None:
        super().__init__(X, y, alpha)
        self.y = self._labels(y)
