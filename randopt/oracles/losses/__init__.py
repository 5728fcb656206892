"""Per-row losses of linear models, the public face of the finite-sum oracles.

- :mod:`~randopt.oracles.losses.base`: the :class:`Loss` protocol (a user
  loss subclasses it and implements :meth:`Loss.pointwise`), with the checks
  of what a user's loss returns;
- :mod:`~randopt.oracles.losses.binary`: one output per row,
  :class:`SigmoidLeastSquaresLoss`, :class:`LogisticLoss`,
  :class:`HalfSquaredLoss` (fused Numba block passes) and
  :func:`binary_labels`;
- :mod:`~randopt.oracles.losses.multiclass`: ``K`` outputs per row,
  :class:`SoftmaxLoss` and :class:`OneHotSigmoidLeastSquaresLoss`, with
  their coefficient layout and Hessian forms.

Every name is also importable from :mod:`randopt.oracles`.

Examples
--------
>>> import numpy as np
>>> from randopt.oracles.losses import LogisticLoss
>>> loss, first, second = LogisticLoss().pointwise(np.zeros(1), np.ones(1))
>>> float(first[0]), float(second[0])
(-0.5, 0.25)
"""

from .base import Loss
from .binary import HalfSquaredLoss, LogisticLoss, SigmoidLeastSquaresLoss, binary_labels
from .multiclass import MulticlassLoss, OneHotSigmoidLeastSquaresLoss, SoftmaxLoss

__all__ = [
    "Loss",
    "SigmoidLeastSquaresLoss",
    "LogisticLoss",
    "HalfSquaredLoss",
    "binary_labels",
    "MulticlassLoss",
    "SoftmaxLoss",
    "OneHotSigmoidLeastSquaresLoss",
]
