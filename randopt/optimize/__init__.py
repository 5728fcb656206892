"""Layer 3: Newton-type solvers with sub-sampled Hessians.

:func:`trust_region` and :func:`arc` (adaptive cubic regularisation) with
full, uniform or non-uniform Hessian sampling and pluggable sub-problem
solvers (:mod:`randopt.optimize.subproblems`), after Xu, Roosta and Mahoney,
"Newton-type methods for non-convex optimization under inexact Hessian
information", Math. Program. 184 (2020). Both are one loop
(:func:`newton_loop`) with a step-size policy (:class:`TrustRegionPolicy`,
:class:`CubicRegularizationPolicy`). Also :func:`pion_update`, a
spectrum-preserving weight update.
"""

from . import subproblems
from .adaptive_batch import ADAPTIVE_BATCH_STATUS, adaptive_batch_sgd
from .arc import arc
from .gauss_newton import gauss_newton
from .history import History
from .loop import STATUS_MESSAGES, newton_loop
from .pion import pion_update
from .policies import CubicRegularizationPolicy, TrustRegionPolicy
from .sample_size import AdaptiveSampleSize
from .trust_region import trust_region

__all__ = [
    "ADAPTIVE_BATCH_STATUS",
    "AdaptiveSampleSize",
    "CubicRegularizationPolicy",
    "History",
    "STATUS_MESSAGES",
    "TrustRegionPolicy",
    "adaptive_batch_sgd",
    "arc",
    "gauss_newton",
    "newton_loop",
    "pion_update",
    "subproblems",
    "trust_region",
]
