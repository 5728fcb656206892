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
from .arc import arc
from .history import History
from .loop import STATUS_MESSAGES, newton_loop
from .pion import pion_update
from .policies import CubicRegularizationPolicy, TrustRegionPolicy
from .trust_region import trust_region

__all__ = [
    "CubicRegularizationPolicy",
    "History",
    "STATUS_MESSAGES",
    "TrustRegionPolicy",
    "arc",
    "newton_loop",
    "pion_update",
    "subproblems",
    "trust_region",
]
