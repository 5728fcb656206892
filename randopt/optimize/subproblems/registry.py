"""Sub-problem solvers by name, and the check that a user's solver fits the interface."""

from __future__ import annotations

from typing import Any

from ..._validation import check_bool
from ._base import Subproblem
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

_FLAGS = ("supports_trust_region", "supports_cubic", "needs_matrix")


def as_subproblem(subproblem: Any, name: str = "subproblem") -> Any:
    """A sub-problem solver instance from a name, a class or an instance.

    Parameters
    ----------
    subproblem : str, class or object
        One of ``"cg"``, ``"lanczos"``, ``"exact"``, ``"cauchy"``; a class
        implementing the interface of :class:`Subproblem` (built here without
        arguments); or an instance of one (used as is, for solvers with
        options of their own). Subclassing :class:`Subproblem` is not
        required: the attributes ``supports_trust_region``,
        ``supports_cubic``, ``needs_matrix`` (bools) and the methods
        ``set_model`` and ``solve`` are.
    name : str, default="subproblem"
        Argument name for error messages.

    Returns
    -------
    object
        The solver instance.

    Raises
    ------
    ValueError
        For an unknown name.
    TypeError
        For anything that does not implement the interface.

    Examples
    --------
    >>> from randopt.optimize.subproblems import CGSteihaug, as_subproblem
    >>> type(as_subproblem("cg")).__name__, type(as_subproblem(CGSteihaug)).__name__
    ('CGSteihaug', 'CGSteihaug')
    """
    if isinstance(subproblem, str):
        if subproblem not in SUBPROBLEMS:
            allowed = ", ".join(repr(k) for k in SUBPROBLEMS)
            raise ValueError(
                f"{name} must be one of {allowed}, a Subproblem class or an instance; "
                f"got {subproblem!r}"
            )
        return SUBPROBLEMS[subproblem]()
    if isinstance(subproblem, type):
        _check_interface(subproblem, name)
        try:
            instance = subproblem()
        except TypeError as exc:
            raise TypeError(
                f"{name} class {subproblem.__name__} must be constructible without arguments "
                f"({exc}); pass an instance to give it options"
            ) from None
        return instance
    _check_interface(subproblem, name)
    return subproblem


def _check_interface(obj: Any, name: str) -> None:
    label = obj.__name__ if isinstance(obj, type) else type(obj).__name__
    missing = [a for a in _FLAGS if not hasattr(obj, a)]
    missing += [m for m in ("set_model", "solve") if not callable(getattr(obj, m, None))]
    if missing:
        raise TypeError(
            f"{name} must be one of {tuple(SUBPROBLEMS)}, a Subproblem class or an instance; "
            f"{label} lacks {', '.join(missing)} (see randopt.optimize.subproblems.Subproblem)"
        )
    for flag in _FLAGS:
        check_bool(getattr(obj, flag), f"{name}.{flag}")
