"""Deprecated alias of :mod:`randopt.oracles.losses.multiclass` (removed in the next release).

The multiclass losses moved into the losses package; import them from
:mod:`randopt.oracles` or :mod:`randopt.oracles.losses`.

Examples
--------
>>> import warnings
>>> import randopt.oracles.multiclass as old
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     cls = old.SoftmaxLoss
>>> cls.__module__, caught[0].category.__name__
('randopt.oracles.losses.multiclass', 'DeprecationWarning')
"""

from __future__ import annotations

from .._deprecation import forward_attributes
from .losses import multiclass as _moved

__all__ = ["SoftmaxLoss", "OneHotSigmoidLeastSquaresLoss"]  # noqa: F822 (module __getattr__)

__getattr__ = forward_attributes(
    __name__, _moved, [*__all__, "MulticlassLoss"],
    hint=" (also importable from randopt.oracles)",
)
