"""Layer 2: objectives and their (sub-sampled) first- and second-order oracles.

Finite sums ``f(w) = sum_i c_i l(a_i^T w; y_i) + (alpha/2)||m * w||^2`` of a
public loss object of :mod:`randopt.oracles.losses`
(:class:`SigmoidLeastSquaresLoss`, :class:`LogisticLoss`,
:class:`HalfSquaredLoss`, :class:`SoftmaxLoss`,
:class:`OneHotSigmoidLeastSquaresLoss`, or a user :class:`Loss`) over any data the operand
layer holds (dense, CSR, row-chunked Dask), with sample weights and a
penalty mask (:class:`FiniteSum`); user objectives given as callables
(:class:`CallableObjective`); and the Hessian sampling schemes (full,
uniform, non-uniform) used by :mod:`randopt.optimize`.
"""

from .base import Evaluation, HessianModel, Objective, as_sample
from .callable_objective import CallableObjective
from .finite_sum import FiniteSum
from .hessian_sampling import SCHEMES, HessianSampler, rounded_sample_size
from .jax_objective import JaxObjective  # imports JAX only when instantiated
from .losses import (
    HalfSquaredLoss,
    LogisticLoss,
    Loss,
    MulticlassLoss,
    OneHotSigmoidLeastSquaresLoss,
    SigmoidLeastSquaresLoss,
    SoftmaxLoss,
    binary_labels,
)
from .minibatch import MinibatchObjective
from .objectives import LeastSquaresObjective, LogisticObjective, SigmoidLeastSquaresObjective

__all__ = [
    "OneHotSigmoidLeastSquaresLoss",
    "SoftmaxLoss",
    "CallableObjective",
    "JaxObjective",
    "MinibatchObjective",
    "Evaluation",
    "FiniteSum",
    "HalfSquaredLoss",
    "HessianModel",
    "HessianSampler",
    "LeastSquaresObjective",
    "LogisticLoss",
    "LogisticObjective",
    "Loss",
    "MulticlassLoss",
    "Objective",
    "SCHEMES",
    "SigmoidLeastSquaresLoss",
    "SigmoidLeastSquaresObjective",
    "as_sample",
    "binary_labels",
    "rounded_sample_size",
]
