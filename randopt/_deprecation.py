"""Deprecated aliases of moved modules (kept for one release, then removed).

A module that moved keeps its old name as a small module whose attribute
look-ups are forwarded, with a :class:`DeprecationWarning`, by
:func:`forward_attributes`; one implementation for every such alias.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

__all__ = ["forward_attributes"]


def forward_attributes(
    old: str, target: ModuleType, names: Iterable[str] | None = None, *, hint: str = ""
) -> Callable[[str], Any]:
    """A module ``__getattr__`` forwarding ``old``'s names to ``target`` with a warning.

    Parameters
    ----------
    old : str
        The deprecated module's name (``__name__`` of the alias module).
    target : module
        Where the names live now.
    names : iterable of str, optional
        The names forwarded (default: every public name of ``target``).
    hint : str, default=""
        Appended to the warning (e.g. where else the names can be imported from).

    Returns
    -------
    callable
        ``__getattr__(name)`` for the alias module (PEP 562).

    Examples
    --------
    >>> import math, warnings
    >>> getattr_ = forward_attributes("oldmath", math, ["pi"])
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     value = getattr_("pi")
    >>> round(value, 2), caught[0].category.__name__
    (3.14, 'DeprecationWarning')
    >>> getattr_("tau")
    Traceback (most recent call last):
    ...
    AttributeError: module 'oldmath' has no attribute 'tau'
    """
    allowed = None if names is None else frozenset(names)

    def __getattr__(name: str) -> Any:
        # Private names and probes for optional attributes (pytest's "pytestmark")
        # get an AttributeError, not a warning.
        known = hasattr(target, name) if allowed is None else name in allowed
        if name.startswith("_") or not known:
            raise AttributeError(f"module {old!r} has no attribute {name!r}")
        warnings.warn(
            f"{old}.{name} moved to {target.__name__}.{name}{hint}; the alias {old} is "
            "removed in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(target, name)

    return __getattr__
