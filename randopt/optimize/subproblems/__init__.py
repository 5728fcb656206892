"""Sub-problem solvers of the trust-region and cubic-regularisation methods.

=============  ====  ====  ==============================================
name           TR    ARC   method
=============  ====  ====  ==============================================
``"cg"``       yes   no    Steihaug-Toint truncated CG
``"lanczos"``  yes   yes   Lanczos + exact tridiagonal solve (GLTR-type)
``"exact"``    yes   yes   eigendecomposition + secular equation
``"cauchy"``   yes   yes   Cauchy point
=============  ====  ====  ==============================================

Every solver implements the interface documented in :class:`Subproblem`
(``supports_trust_region``, ``supports_cubic``, ``needs_matrix``,
``set_model``, ``solve``); a user-written class or instance that does is
accepted wherever a name is (:func:`as_subproblem`).
"""

from ._base import Step, Subproblem, as_subproblem, boundary_root, cubic_model_value
from .cauchy import CauchyPoint
from .cg_steihaug import CGSteihaug
from .exact import ExactSubproblem, solve_cubic_eig, solve_trust_region_eig
from .lanczos import LanczosSubproblem
from .registry import SUBPROBLEMS

__all__ = [
    "SUBPROBLEMS",
    "CGSteihaug",
    "CauchyPoint",
    "ExactSubproblem",
    "LanczosSubproblem",
    "Step",
    "Subproblem",
    "as_subproblem",
    "boundary_root",
    "cubic_model_value",
    "solve_cubic_eig",
    "solve_trust_region_eig",
]
