"""Sub-problem solvers of the trust-region and cubic-regularisation methods.

=============  ====  ====  ==============================================
name           TR    ARC   method
=============  ====  ====  ==============================================
``"cg"``       yes   no    Steihaug-Toint truncated CG
``"lanczos"``  yes   yes   Lanczos + exact tridiagonal solve (GLTR-type)
``"exact"``    yes   yes   eigendecomposition + secular equation
``"cauchy"``   yes   yes   Cauchy point
=============  ====  ====  ==============================================
"""

from ._base import Step, Subproblem, boundary_root
from .cauchy import CauchyPoint
from .cg_steihaug import CGSteihaug
from .exact import ExactSubproblem, solve_cubic_eig, solve_trust_region_eig
from .lanczos import LanczosSubproblem

SUBPROBLEMS = {
    "cg": CGSteihaug,
    "lanczos": LanczosSubproblem,
    "exact": ExactSubproblem,
    "cauchy": CauchyPoint,
}

__all__ = [
    "SUBPROBLEMS",
    "CGSteihaug",
    "CauchyPoint",
    "ExactSubproblem",
    "LanczosSubproblem",
    "Step",
    "Subproblem",
    "boundary_root",
    "solve_cubic_eig",
    "solve_trust_region_eig",
]
