"""Layer 2: objectives and their (sub-sampled) first- and second-order oracles.

Finite sums ``f(w) = (1/n) sum_i l(a_i^T w; y_i) + (alpha/2)||w||^2`` over
dense or CSR data (value, gradient and Hessian weights from one fused Numba
pass), user objectives given as callables, and the Hessian sampling schemes
(full, uniform, non-uniform) used by :mod:`randopt.optimize`.
"""

from .base import (
    CallableObjective,
    Evaluation,
    FiniteSum,
    HessianModel,
    Objective,
    as_sample,
    binary_labels,
)
from .hessian_sampling import SCHEMES, HessianSampler
from .least_squares import LeastSquares
from .logistic import LogisticRegression
from .nls import NonlinearLeastSquares

__all__ = [
    "CallableObjective",
    "Evaluation",
    "FiniteSum",
    "HessianModel",
    "HessianSampler",
    "LeastSquares",
    "LogisticRegression",
    "NonlinearLeastSquares",
    "Objective",
    "SCHEMES",
    "as_sample",
    "binary_labels",
]
