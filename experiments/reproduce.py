"""Deprecated: ``python -m experiments.reproduce`` is now ``python -m experiments.papers``.

Kept for one release: the command runs the reproduction with a
``DeprecationWarning``, and ``main`` and ``parse_args`` imported from here
are those of :mod:`experiments.papers.cli` (with the warning).
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

__all__: list[str] = []

_MOVED = {"main", "parse_args"}


def _warn(stacklevel: int) -> None:
    warnings.warn("experiments.reproduce is deprecated and will be removed in the next "
                  "release; use `python -m experiments.papers` (experiments.papers.cli)",
                  DeprecationWarning, stacklevel=stacklevel)


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        _warn(3)  # the caller's import or attribute access
        from .papers import cli

        return getattr(cli, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    _warn(1)  # attributed to __main__: shown by Python's default warning filters
    from .papers.cli import main

    sys.exit(main())
