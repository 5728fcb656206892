"""The built-in sub-problem solvers by name (:func:`as_subproblem` resolves them)."""

from __future__ import annotations

from ._base import Subproblem, as_subproblem
from .cauchy import CauchyPoint
from .cg_steihaug import CGSteihaug
from .exact import ExactSubproblem
from .lanczos import LanczosSubproblem

__all__ = ["SUBPROBLEMS", "as_subproblem"]

SUBPROBLEMS: dict[str, type[Subproblem]] = {
    "cg": CGSteihaug,
    "lanczos": LanczosSubproblem,
    "exact": ExactSubproblem,
    "cauchy": CauchyPoint,
}
