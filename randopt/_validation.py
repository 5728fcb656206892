"""Input checks shared by every layer.

All public functions funnel their arguments through here so that bad input
fails early, with one wording, naming the argument and saying what to do.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

__all__ = [
    "check_random_state",
    "check_matrix",
    "check_rhs",
    "check_vector",
    "check_probabilities",
    "check_sample_size",
    "check_positive_int",
    "check_scalar",
    "check_bool",
    "check_choice",
    "check_shape",
    "check_name",
    "is_operator",
]

_FLOATS = (np.float32, np.float64)


def check_random_state(random_state: Any = None) -> np.random.Generator:
    """Turn ``random_state`` into a :class:`numpy.random.Generator`.

    Accepts ``None`` (fresh entropy), an integer seed, a
    :class:`numpy.random.SeedSequence`, a ``Generator`` (returned as is, so
    that callers share its stream) or a legacy ``RandomState`` (a seed is
    drawn from it, which keeps scikit-learn's convention reproducible).
    """
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, (bool, np.bool_)):
        raise TypeError(
            f"random_state must be None, an int seed, a SeedSequence, Generator or "
            f"RandomState, not the bool {random_state!r}"
        )
    if isinstance(random_state, (numbers.Integral, np.random.SeedSequence)):
        if isinstance(random_state, numbers.Integral) and random_state < 0:
            raise ValueError(f"random_state must be a non-negative integer, got {random_state}")
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    raise TypeError(
        "random_state must be None, an int, a numpy SeedSequence, Generator or "
        f"RandomState; got {type(random_state).__name__}"
    )


def is_operator(A: Any) -> bool:
    return isinstance(A, LinearOperator)


def _check_dtype(dtype: np.dtype, name: str) -> np.dtype:
    if np.issubdtype(dtype, np.complexfloating):
        raise TypeError(
            f"{name} has complex dtype {dtype}; only real float32/float64 is supported"
        )
    if dtype == np.float32 or dtype == np.float64:
        return dtype
    if np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.bool_):
        return np.dtype(np.float64)
    if np.issubdtype(dtype, np.floating):  # float16, longdouble
        return np.dtype(np.float64)
    raise TypeError(f"{name} must hold real numbers, got dtype {dtype}")


def check_matrix(
    A: Any,
    name: str = "A",
    *,
    accept_sparse: bool = True,
    accept_operator: bool = False,
    check_finite: bool = True,
    dtype: Any = None,
) -> np.ndarray | sp.csr_matrix | sp.csc_matrix | LinearOperator:
    """Validate a 2-D real matrix.

    Dense input (anything with ``__array__``, torch tensors included) becomes a
    float32/float64 ndarray, keeping its memory order; sparse input becomes CSR
    (CSC is kept: both give O(nnz) products); a ``LinearOperator`` passes
    through when ``accept_operator``.
    """
    if A is None:
        raise TypeError(f"{name} is None; pass a 2-D array, sparse matrix or LinearOperator")
    if is_operator(A):
        if not accept_operator:
            raise TypeError(
                f"{name} must be an explicit (dense or sparse) matrix, not a LinearOperator"
            )
        if len(A.shape) != 2 or min(A.shape) == 0:
            raise ValueError(f"{name} has shape {A.shape}; expected a non-empty 2-D operator")
        _check_dtype(np.dtype(A.dtype) if A.dtype is not None else np.dtype(np.float64), name)
        return A
    if sp.issparse(A):
        if not accept_sparse:
            raise TypeError(
                f"{name} is a sparse matrix; pass a dense array (e.g. {name}.toarray())"
            )
        if A.ndim != 2:
            raise ValueError(f"{name} must be 2-D, got {A.ndim}-D sparse input")
        if min(A.shape) == 0:
            raise ValueError(
                f"{name} is empty (shape {A.shape}); it needs at least one row and column"
            )
        want = np.dtype(dtype) if dtype is not None else _check_dtype(A.dtype, name)
        if A.format not in ("csr", "csc"):
            A = A.tocsr()
        if A.dtype != want:
            A = A.astype(want)
        if check_finite and A.nnz and not np.isfinite(A.data).all():
            raise ValueError(
                f"{name} contains NaN or infinity; remove or impute those entries first"
            )
        # The sparse-array API (csr_array) and csr_matrix share the methods used here.
        return A
    if not hasattr(A, "__array__") and not isinstance(A, (list, tuple)):
        raise TypeError(f"{name} must be array-like, got {type(A).__name__}")
    arr = np.asarray(A)
    if arr.dtype == object:
        raise TypeError(f"{name} has dtype object; pass a numeric array")
    want = np.dtype(dtype) if dtype is not None else _check_dtype(arr.dtype, name)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got an array of shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(
            f"{name} is empty (shape {arr.shape}); it needs at least one row and column"
        )
    if arr.dtype != want:
        arr = arr.astype(want, order="K")
    if not (arr.flags.c_contiguous or arr.flags.f_contiguous):
        arr = np.ascontiguousarray(arr)
    if check_finite and not _all_finite(arr):
        raise ValueError(f"{name} contains NaN or infinity; remove or impute those entries first")
    return arr


def _all_finite(arr: np.ndarray) -> bool:
    # A sum is finite when every term is (one pass, no boolean temporary); only
    # when it is not, possibly by overflow, is the exact elementwise test run.
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.sum(arr, dtype=np.float64)
    return bool(np.isfinite(total)) or bool(np.isfinite(arr).all())


def check_vector(
    x: Any, name: str = "x", *, size: int | None = None, dtype: Any = np.float64
) -> np.ndarray:
    """Validate a finite 1-D real vector (of length ``size`` if given)."""
    if x is None:
        raise TypeError(f"{name} is None; pass a 1-D array")
    arr = np.asarray(x)
    if arr.dtype == object:
        raise TypeError(f"{name} has dtype object; pass a numeric array")
    _check_dtype(arr.dtype, name)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if size is not None and arr.shape[0] != size:
        raise ValueError(f"{name} has length {arr.shape[0]}, expected {size}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    arr = np.ascontiguousarray(arr, dtype=dtype)
    if not _all_finite(arr):
        raise ValueError(f"{name} contains NaN or infinity")
    return arr


def check_rhs(b: Any, n_rows: int, name: str = "b", dtype: Any = np.float64) -> np.ndarray:
    """Validate a right-hand side: a vector of length ``n_rows`` or an (n_rows, k) matrix."""
    if sp.issparse(b):
        b = b.toarray()
    arr = np.asarray(b)
    if arr.dtype == object:
        raise TypeError(f"{name} has dtype object; pass a numeric array")
    _check_dtype(arr.dtype, name)
    if arr.ndim not in (1, 2):
        raise ValueError(f"{name} must be 1-D or 2-D, got shape {arr.shape}")
    if arr.shape[0] != n_rows:
        raise ValueError(
            f"{name} has {arr.shape[0]} rows but the matrix has {n_rows}; shapes must match"
        )
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    arr = np.asarray(arr, dtype=dtype)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinity")
    return arr


def check_probabilities(p: Any, name: str = "probabilities", *, rtol: float = 1e-8) -> np.ndarray:
    """Validate a probability vector: finite, non-negative, summing to one."""
    arr = check_vector(p, name)
    if arr.min() < 0:
        raise ValueError(f"{name} has negative entries (min {arr.min():.3g}); all must be >= 0")
    total = arr.sum()
    if not abs(total - 1.0) <= rtol * max(1, arr.size) ** 0.5 + 1e-12:
        raise ValueError(
            f"{name} sum to {total!r}, not 1; normalise them (p / p.sum()) before sampling"
        )
    return arr


def check_positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_sample_size(size: Any, n: int, name: str = "sample_size") -> int:
    """Resolve a sample size given as a count (int >= 1) or a fraction in (0, 1]."""
    if isinstance(size, (bool, np.bool_)):
        raise TypeError(f"{name} must be an int count or a float fraction, got {size!r}")
    if isinstance(size, numbers.Integral):
        if not 1 <= size <= n:
            raise ValueError(f"{name} must be between 1 and {n} rows, got {size}")
        return int(size)
    if isinstance(size, numbers.Real):
        if not (0.0 < size <= 1.0) or not np.isfinite(size):
            raise ValueError(f"{name} as a fraction must lie in (0, 1], got {size}")
        return max(1, int(np.ceil(size * n)))
    raise TypeError(f"{name} must be an int count or a float fraction, got {type(size).__name__}")


def check_scalar(
    value: Any,
    name: str,
    *,
    kind: type = float,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    allow_inf: bool = False,
    allow_none: bool = False,
) -> Any:
    """Validate a real (``kind=float``) or integer (``kind=int``) scalar option.

    The one check for every scalar parameter of the package: booleans, strings,
    arrays, NaN and (unless ``allow_inf``) infinities are refused with a
    ``TypeError``/``ValueError`` that names ``name`` and the allowed range.
    Returns a Python ``float`` or ``int`` (``None`` passes when ``allow_none``).

    Examples
    --------
    >>> check_scalar(0.5, "tol", low=0, low_inclusive=False)
    0.5
    >>> check_scalar(3, "max_iter", kind=int, low=1)
    3
    """
    if value is None and allow_none:
        return None
    if kind is int:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be an integer, got {value!r}")
        out: Any = int(value)
    elif kind is float:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name} must be a real number, got {value!r}")
        out = float(value)
        if out != out:
            raise ValueError(f"{name} must be a number, got NaN")
        if not allow_inf and out in (float("inf"), float("-inf")):
            raise ValueError(f"{name} must be finite, got {out}")
    else:  # pragma: no cover - programming error
        raise TypeError(f"kind must be int or float, got {kind!r}")
    lo_ok = low is None or (out >= low if low_inclusive else out > low)
    hi_ok = high is None or (out <= high if high_inclusive else out < high)
    if not (lo_ok and hi_ok):
        left = "-inf" if low is None else f"{low!r}"
        right = "inf" if high is None else f"{high!r}"
        lb = "[" if (low is not None and low_inclusive) else "("
        rb = "]" if (high is not None and high_inclusive) else ")"
        raise ValueError(f"{name} must lie in {lb}{left}, {right}{rb}, got {value!r}")
    return out


def check_bool(value: Any, name: str) -> bool:
    """Validate a boolean option (``True``/``False`` or a NumPy bool; not ``"no"`` or 0)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_choice(value: Any, name: str, choices: Any) -> Any:
    """Validate an option that takes one of ``choices`` (compared by equality, strings exact)."""
    choices = tuple(choices)
    if isinstance(value, str) or value is None or isinstance(value, (bool, numbers.Number)):
        for c in choices:
            if type(c) is type(value) and c == value:
                return value
    allowed = ", ".join(repr(c) for c in choices)
    raise ValueError(f"{name} must be one of {allowed}; got {value!r}")


def check_shape(shape: Any, name: str = "shape", *, ndim: int = 2, minimum: int = 1) -> tuple:
    """Validate a shape: a tuple or list of ``ndim`` integers, each ``>= minimum``.

    Floats such as ``(6.9, 5.9)`` are refused rather than truncated.

    Examples
    --------
    >>> check_shape((3, 2), "shape")
    (3, 2)
    """
    if isinstance(shape, (str, bytes)) or not isinstance(shape, (tuple, list)):
        raise TypeError(
            f"{name} must be a tuple of {ndim} integers, got {type(shape).__name__} {shape!r}"
        )
    if len(shape) != ndim:
        raise ValueError(f"{name} must have {ndim} entries, got {len(shape)}: {shape!r}")
    return tuple(
        check_scalar(s, f"{name}[{i}]", kind=int, low=minimum) for i, s in enumerate(shape)
    )


def check_name(name: Any) -> str:
    """An argument name for error messages must be a string."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a string (the argument name), got {name!r}")
    return name
