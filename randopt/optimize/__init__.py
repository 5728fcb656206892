"""Layer 3: Newton-type solvers with sub-sampled Hessians.

:func:`trust_region` and :func:`arc` (adaptive cubic regularisation) with
full, uniform or non-uniform Hessian sampling and pluggable sub-problem
solvers (:mod:`randopt.optimize.subproblems`), after Xu, Roosta and Mahoney,
"Newton-type methods for non-convex optimization under inexact Hessian
information", Math. Program. 184 (2020). Both are one loop
(:func:`newton_loop`) with a step-size policy (:class:`TrustRegionPolicy`,
:class:`CubicRegularizationPolicy`); :func:`gauss_newton` (line search),
:func:`hessian_free` (damped sub-sampled Gauss-Newton, Martens 2010) and
:func:`adaptive_batch_sgd` keep the same solver state
(:mod:`randopt.optimize.loop`: clock, counts, history, stop tests, one
status table :data:`STATUS_MESSAGES`) and return the same
``OptimizeResult`` fields. What a solver asks of its objective, policy and
sub-problem solver is stated as :mod:`typing.Protocol` classes in
:mod:`randopt.optimize.protocols` and checked once, at entry. Also
:func:`pion_update`, a spectrum-preserving weight update.

Inexact Newton-CG: ``subproblem_tol`` takes a forcing term (``"ew"``,
``"sqrt"``, :mod:`randopt.optimize.forcing`) and ``preconditioner="nystrom"``
a randomized Nystrom preconditioner of the CG solves
(:mod:`randopt.optimize.preconditioning`); :func:`minimize_trust_region`
and :func:`minimize_arc` are ``scipy.optimize.minimize`` methods.
"""

from . import subproblems
from .adaptive_batch import ADAPTIVE_BATCH_STATUS, BatchSchedule, adaptive_batch_sgd
from .arc import arc
from .forcing import EisenstatWalker, ForcingTerm, SqrtForcing
from .gauss_newton import gauss_newton
from .hessian_free import LevenbergMarquardtDamping, hessian_free
from .history import History
from .loop import STATUS_MESSAGES, newton_loop
from .pion import pion_update
from .policies import CubicRegularizationPolicy, TrustRegionPolicy
from .preconditioning import NystromSchedule
from .protocols import HessianLike, ObjectiveLike, PolicyLike, SubproblemLike
from .sample_size import AdaptiveSampleSize
from .scipy_methods import minimize_arc, minimize_trust_region
from .trust_region import trust_region

__all__ = [
    "adaptive_batch_sgd",
    "ADAPTIVE_BATCH_STATUS",
    "AdaptiveSampleSize",
    "BatchSchedule",
    "arc",
    "CubicRegularizationPolicy",
    "EisenstatWalker",
    "ForcingTerm",
    "gauss_newton",
    "hessian_free",
    "HessianLike",
    "History",
    "LevenbergMarquardtDamping",
    "minimize_arc",
    "minimize_trust_region",
    "newton_loop",
    "NystromSchedule",
    "ObjectiveLike",
    "pion_update",
    "PolicyLike",
    "SqrtForcing",
    "STATUS_MESSAGES",
    "SubproblemLike",
    "subproblems",
    "trust_region",
    "TrustRegionPolicy",
]
