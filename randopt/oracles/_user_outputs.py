"""Checks of what a user's callable returns, where it enters (private to randopt.oracles).

A user's ``fun``, ``grad``, ``hessp``, ``hess``, ``hvp``, a JAX loss's passes
or a :class:`~randopt.oracles.HessianModel`'s ``matvec`` are code the package
has never seen: their outputs are checked once, where they enter, for type
(a real number or array: no complex value losing its imaginary part, no
``None`` or string), shape and finiteness, and an error names the callable,
instead of a NaN travelling into a solver or a NumPy error from deep inside
it ("ufunc 'isfinite' not supported").
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["read_only_view", "real_array", "check_scalar_output", "check_vector_output",
           "check_matrix_output"]


def read_only_view(a: Any) -> np.ndarray:
    """A read-only view of ``a`` (no copy): what user code is handed of the package's arrays."""
    view = np.asarray(a).view()
    view.flags.writeable = False
    return view


def real_array(value: Any, who: str, expected: str) -> np.ndarray:
    """``value`` as a real (float, int) ndarray, or a TypeError naming ``who``."""
    if value is None or isinstance(value, (str, bytes)):
        raise TypeError(f"{who} must return {expected}, got {value!r:.40}")
    try:
        arr = np.asarray(value)
    except Exception:  # a foreign object NumPy cannot take (ragged, failing __array__)
        raise TypeError(
            f"{who} must return {expected}, got a {type(value).__name__} that is not an array"
        ) from None
    if arr.dtype.kind == "c":
        raise TypeError(
            f"{who} must return {expected}, got complex values (dtype {arr.dtype}): the "
            "imaginary part would be lost"
        )
    if arr.dtype.kind not in "fiu":  # bool, object, strings, datetimes
        raise TypeError(
            f"{who} must return {expected}, got a {type(value).__name__} of dtype {arr.dtype}"
        )
    return arr


def check_scalar_output(value: Any, who: str, finite: bool = True) -> float:
    """The real number a user callable ``who`` returned, as a float (finite unless not ``finite``).

    A solver's trial point may leave a model's domain: its value may be
    non-finite there (``finite=False``), and the solver rejects the point.

    Examples
    --------
    >>> from randopt.oracles._user_outputs import check_scalar_output
    >>> check_scalar_output(2, "fun")
    2.0
    >>> check_scalar_output(float("nan"), "fun")
    Traceback (most recent call last):
    ...
    ValueError: fun returned nan: the value is not finite
    """
    arr = real_array(value, who, "a real scalar")
    if arr.ndim != 0:
        raise TypeError(f"{who} must return a real scalar, got an array of shape {arr.shape}")
    out = float(arr)
    if finite and not np.isfinite(out):
        raise ValueError(f"{who} returned {out}: the value is not finite")
    return out


def check_vector_output(value: Any, who: str, d: int, finite: bool = True) -> np.ndarray:
    """What a user callable ``who`` returned, as a private float64 array of shape ``(d,)``.

    Finite unless not ``finite`` (a gradient at a solver's trial point, which
    the solver rejects when it is not).

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.oracles._user_outputs import check_vector_output
    >>> check_vector_output([1, 2], "grad", 2).tolist()
    [1.0, 2.0]
    >>> check_vector_output(np.ones(3), "grad", 2)
    Traceback (most recent call last):
    ...
    ValueError: grad returned an array of shape (3,), but grad must return an array of shape (2,)
    """
    arr = real_array(value, who, f"a real array of shape ({d},)")
    if arr.shape != (d,):
        raise ValueError(
            f"{who} returned an array of shape {arr.shape}, but {who} must return an array of "
            f"shape ({d},)"
        )
    # A private copy: the callable's buffer (e.g. a read-only view of a device array, or
    # an array it keeps and changes later) is neither kept nor altered.
    out = np.array(arr, dtype=np.float64)
    if finite and not np.isfinite(out).all():
        first = int(np.flatnonzero(~np.isfinite(out))[0])
        raise ValueError(f"{who} returned NaN or infinity (at index {first})")
    return out


def check_matrix_output(value: Any, who: str, d: int) -> np.ndarray:
    """What ``who`` returned (or a matrix argument), as float64 of shape ``(d, d)``, finite.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.oracles._user_outputs import check_matrix_output
    >>> check_matrix_output(np.eye(2), "hess", 2).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    arr = real_array(value, who, f"a real array of shape ({d}, {d})")
    if arr.shape != (d, d):
        raise ValueError(f"{who} has shape {arr.shape}, but it must have shape ({d}, {d})")
    out = np.array(arr, dtype=np.float64)
    if not np.isfinite(out).all():
        raise ValueError(f"{who} contains NaN or infinity")
    return out
