"""Krylov building blocks shared by the norms and the optimisers.

One Lanczos process (:class:`Lanczos`, :func:`lanczos`: full
reorthogonalisation, restart on breakdown), one power iteration
(:func:`power_iteration`) and the probabilistic a-posteriori bounds built on
their random starts (:mod:`randopt.linalg.bounds`).  A floor between the
operands and the sketches: it imports nothing of randopt but the root's
validation helpers.
"""

from .bounds import dixon_upper_bound, log_beta_quantile, polynomial_upper_bound
from .cg import CGResult, conjugate_gradient
from .lanczos import Lanczos, LanczosResult, lanczos, reorthogonalize, ritz_values
from .nystrom import NystromPreconditioner, nystrom_approximation
from .power import PowerResult, power_iteration

__all__ = [
    "CGResult",
    "conjugate_gradient",
    "Lanczos",
    "LanczosResult",
    "NystromPreconditioner",
    "PowerResult",
    "dixon_upper_bound",
    "lanczos",
    "log_beta_quantile",
    "nystrom_approximation",
    "polynomial_upper_bound",
    "power_iteration",
    "reorthogonalize",
    "ritz_values",
]
