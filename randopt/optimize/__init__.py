"""Layer 3: Newton-type solvers with sub-sampled Hessians.

:func:`trust_region` and :func:`arc` (adaptive cubic regularisation) with
full, uniform or non-uniform Hessian sampling and pluggable sub-problem
solvers (:mod:`randopt.optimize.subproblems`), after Xu, Roosta and Mahoney,
"Newton-type methods for non-convex optimization under inexact Hessian
information", Math. Program. 184 (2020); and :func:`pion_update`, a
spectrum-preserving weight update.
"""

from . import subproblems
from .arc import arc
from .history import History
from .pion import pion_update
from .trust_region import trust_region

__all__ = ["arc", "trust_region", "pion_update", "subproblems", "History"]
