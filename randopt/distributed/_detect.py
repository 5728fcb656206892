"""Recognise Dask arrays without importing Dask (``import randopt`` never imports it)."""

from __future__ import annotations

from typing import Any

__all__ = ["is_dask_array", "require_dask"]


def is_dask_array(A: Any) -> bool:
    """Whether ``A`` is a ``dask.array.Array`` (checked by type, Dask stays unimported)."""
    t = type(A)
    return t.__name__ == "Array" and t.__module__.split(".")[0] == "dask"


def require_dask():
    """Import ``dask.array``, or fail saying which extra to install."""
    try:
        import dask.array as da
    except ImportError as exc:  # pragma: no cover - the extra is installed in CI
        raise ImportError(
            "Dask arrays need the optional dependency: pip install 'randopt[dask]'"
        ) from exc
    return da
