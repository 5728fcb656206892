"""Ridge least squares as a finite sum (convex, quadratic: for checks).

    f(w) = (1/(2n)) ||X w - y||^2 + (alpha/2) ||w||^2,

whose Hessian ``X^T X / n + alpha I`` does not depend on ``w``.
"""

from __future__ import annotations

from . import _kernels
from .base import FiniteSum

__all__ = ["LeastSquares"]


class LeastSquares(FiniteSum):
    """``(1/(2n)) ||X w - y||^2 + (alpha/2)||w||^2`` with real targets ``y``.

    Parameters
    ----------
    X : array-like or sparse matrix of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    alpha : float, default=0

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.oracles import LeastSquares
    >>> f = LeastSquares(np.eye(2), np.array([1.0, 2.0]))
    >>> f.value(np.zeros(2))
    1.25
    """

    _loss_code = _kernels.SQUARED
