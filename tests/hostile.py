"""Shared hostile-input helpers for the test suites (one name, one meaning).

The hostile suites (``tests/<pkg>/test_hostile*.py``) feed every public entry point
what a careless or hostile user can build and require a ``ValueError``/``TypeError``
naming the argument, or the reference answer; never a crash, a NaN, a silently wrong
number or a write into the caller's data. The helpers they share live here:

Caller's data
    :func:`readonly` (a write-protected copy), :func:`snapshot` and :func:`unchanged`
    (did a call write into the caller's array or sparse matrix?).
Malformed and non-canonical sparse matrices
    :func:`malformed_csr` (an index out of range, built past scipy's checks),
    :func:`malformed_indptr`, :func:`noncanonical_csr` / :func:`noncanonical_dense`
    (unsorted indices and a duplicate entry, and the dense matrix they stand for).
Bad matrices and option values
    :func:`bad_matrices` (NaN, inf, empty, wrong ndim, complex, object, strings, None,
    malformed CSR, ...), :func:`legitimate_inputs` (every dtype, layout and sparse
    format that must give the float64 answer), :data:`BAD_SCALARS` and
    :func:`is_legit` (bad option values, and which of them an option may accept).

Import them as ``from tests.hostile import readonly, snapshot, unchanged`` (the
repository root is put on ``sys.path`` by ``tests/conftest.py``, so this works with
``pytest`` and ``python -m pytest`` alike, under ``--import-mode=importlib``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = [
    "A0",
    "B0",
    "BAD_SCALARS",
    "D",
    "N",
    "Y01",
    "Snapshot",
    "bad_matrices",
    "is_legit",
    "legitimate_inputs",
    "malformed_csr",
    "malformed_indptr",
    "noncanonical_csr",
    "noncanonical_dense",
    "readonly",
    "snapshot",
    "unchanged",
]

SPARSE_FORMATS = (
    "csr_matrix", "csc_matrix", "coo_matrix", "bsr_matrix", "lil_matrix", "dok_matrix",
    "dia_matrix", "csr_array", "csc_array", "coo_array", "bsr_array", "lil_array",
    "dok_array", "dia_array",
)
"""Every scipy.sparse class, the sparse matrices and the newer sparse arrays."""

BAD_SCALARS: list[Any] = [None, "3", np.array([3]), np.nan, -1, 0, True, 6.9]
"""Values that no numeric option accepts as such (see :func:`is_legit` for exceptions)."""


# ----------------------------------------------------------------------- caller's data
def readonly(a: Any) -> np.ndarray:
    """A write-protected copy of ``a``: a function that writes into it raises."""
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


@dataclass(frozen=True)
class Snapshot:
    """The stored content of an array or sparse matrix at one moment (see :func:`snapshot`)."""

    kind: str
    shape: tuple[int, ...] | None
    parts: tuple[np.ndarray, ...]


def _storage(M: Any) -> tuple[str, tuple[int, ...] | None, tuple[np.ndarray, ...]]:
    if sp.issparse(M):
        if M.format in ("csr", "csc", "bsr"):
            parts = (M.data, M.indices, M.indptr)
        elif M.format == "coo":
            parts = (M.data, np.asarray(M.row), np.asarray(M.col))
        else:  # lil, dok, dia: compare the values they stand for
            parts = (M.toarray(),)
        return M.format, tuple(M.shape), tuple(np.array(p, copy=True) for p in parts)
    if isinstance(M, np.ndarray):
        return "ndarray", M.shape, (np.array(M, copy=True),)
    return type(M).__name__, None, (np.array(M, copy=True, dtype=object),)


def snapshot(M: Any) -> Snapshot:
    """Record the stored content of ``M`` (dense array, list, or any scipy.sparse format).

    A sparse matrix in CSR/CSC/BSR form is recorded as its ``data``, ``indices`` and
    ``indptr`` (so that sorting or summing duplicates *in place* counts as a write, even
    though the matrix it stands for is the same); COO as ``data``, ``row``, ``col``; the
    other formats as the dense matrix. Pair it with :func:`unchanged`.
    """
    return Snapshot(*_storage(M))


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind in "fc":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


def unchanged(before: Snapshot, M: Any) -> bool:
    """Whether ``M`` still holds what :func:`snapshot` recorded in ``before``.

    Use it as ``before = snapshot(X); f(X); assert unchanged(before, X)``. NaN equals
    NaN here (a NaN the caller stored must stay, not count as a change).
    """
    if not isinstance(before, Snapshot):
        raise TypeError(f"before must be a Snapshot from snapshot(M), got {type(before)!r}")
    after = snapshot(M)
    return (before.kind, before.shape) == (after.kind, after.shape) and len(
        before.parts
    ) == len(after.parts) and all(
        _same(x, y) for x, y in zip(before.parts, after.parts, strict=True)
    )


# ------------------------------------------------------------------- sparse structure
def malformed_csr(A: Any, index: int, position: int = 0) -> sp.csr_matrix:
    """A CSR copy of ``A`` whose ``position``-th stored column index is set to ``index``.

    scipy checks the indices at construction only; written afterwards, an index out of
    range (``index >= A.shape[1]`` or negative) reaches any kernel that trusts it.
    """
    M = sp.csr_matrix(np.array(A, dtype=np.float64, copy=True))
    M.indices[position] = index
    return M


def malformed_indptr(A: Any, row: int, value: int) -> sp.csr_matrix:
    """A CSR copy of ``A`` whose ``indptr[row]`` is set to ``value`` (non-monotone or past nnz)."""
    M = sp.csr_matrix(np.array(A, dtype=np.float64, copy=True))
    M.indptr[row] = value
    return M


def noncanonical_csr(A: np.ndarray) -> sp.csr_matrix:
    """A CSR matrix equal to :func:`noncanonical_dense` ``(A)`` in non-canonical form.

    Row 0 holds unsorted column indices and a duplicate (2, 0, 2, 1 with values 1, 2,
    3, 4: entry (0, 2) is 1 + 3); row 1 holds (1, 4) = 5; the rows from 2 on are
    ``A[2:]``. ``A`` needs at least 2 rows and 5 columns.
    """
    n, d = A.shape
    rest = sp.csr_matrix(A[2:])
    data = np.r_[1.0, 2.0, 3.0, 4.0, 5.0, rest.data]
    ind = np.r_[2, 0, 2, 1, 4, rest.indices]
    ptr = np.r_[0, 4, 5 + rest.indptr]
    return sp.csr_matrix((data, ind, ptr), shape=(n, d))


def noncanonical_dense(A: np.ndarray) -> np.ndarray:
    """The dense matrix that :func:`noncanonical_csr` ``(A)`` stands for."""
    n, d = A.shape
    M = np.zeros((n, d))
    M[0, 2], M[0, 0], M[0, 1], M[1, 4] = 4.0, 2.0, 4.0, 5.0
    M[2:] = A[2:]
    return M


# ----------------------------------------------------------------- matrices and scalars
def bad_matrices(A: np.ndarray, b: np.ndarray) -> dict[str, tuple[Callable[[], Any], type]]:
    """Matrices every matrix-taking entry point must refuse, with the error expected.

    ``A`` is a valid float64 matrix (some entries above 1) and ``b`` a vector (the "1d"
    case). Each value is ``(make, exception type)``; ``make()`` builds a fresh input.
    """
    d = A.shape[1]
    return {
        "nan": (lambda: np.where(A > 1, np.nan, A), ValueError),
        "inf": (lambda: np.where(A > 1, np.inf, A), ValueError),
        "empty": (lambda: np.zeros((0, d)), ValueError),
        "1d": (lambda: b.copy(), ValueError),
        "3d": (lambda: A[None], ValueError),
        "complex": (lambda: A + 1j, TypeError),
        "object": (lambda: A.astype(object), TypeError),
        "strings": (lambda: A.astype(str), TypeError),
        "none": (lambda: None, TypeError),
        "csr_out_of_range": (lambda: malformed_csr(A, 10**6), ValueError),
        "csr_negative": (lambda: malformed_csr(A, -1), ValueError),
        "csr_nan": (lambda: sp.csr_matrix(np.where(A > 1, np.nan, A)), ValueError),
        "csr_complex": (lambda: sp.csr_array(A + 1j), TypeError),
        "csr_empty": (lambda: sp.csr_matrix((0, d)), ValueError),
    }


def legitimate_inputs(A: np.ndarray) -> dict[str, tuple[Callable[[], Any], Callable]]:
    """Inputs that must give the same answer as their float64 reference.

    Each value is ``(make, to_reference)``: ``make()`` builds the input ``M`` and
    ``to_reference(M)`` the dense matrix it stands for (every dtype, layout, view,
    read-only copy, non-canonical CSR/CSC and every scipy.sparse format of ``A``).
    """
    cases: dict[str, tuple[Callable[[], Any], Callable]] = {
        "int": (lambda: (A * 3).astype(np.int64), lambda M: M.astype(float)),
        "bool": (lambda: A > 0, lambda M: M.astype(float)),
        "float16": (lambda: A.astype(np.float16), lambda M: M.astype(float)),
        "float32": (lambda: A.astype(np.float32), lambda M: M.astype(float)),
        "list": (lambda: A.tolist(), np.asarray),
        "fortran": (lambda: np.asfortranarray(A), np.asarray),
        "strided_view": (lambda: np.repeat(A, 2, axis=1)[:, ::2], np.asarray),
        "readonly": (lambda: readonly(A), np.asarray),
        "one_col": (lambda: A[:, :1].copy(), np.asarray),
        "noncanonical_csr": (lambda: noncanonical_csr(A), lambda M: noncanonical_dense(A)),
        "noncanonical_csc": (lambda: noncanonical_csr(A).tocsc(),
                             lambda M: noncanonical_dense(A)),
    }
    for fmt in SPARSE_FORMATS:
        cases[fmt] = ((lambda f=fmt: getattr(sp, f)(A.copy())), lambda M: M.toarray())
    return cases


def is_legit(value: Any, legit: tuple) -> bool:
    """Whether the option ``value`` is one of the ``legit`` values (same type and value)."""
    return any(type(value) is type(x) and value == x for x in legit if x is not None) or (
        value is None and None in legit
    )


# ------------------------------------------------------------ the linear suites' problem
N, D = 40, 5
"""Rows and columns of :data:`A0`, the problem the operand/sketch/oracle/solver suites share."""
_RNG = np.random.default_rng(20261201)
A0: np.ndarray = _RNG.standard_normal((N, D))
"""A well-conditioned ``N x D`` float64 matrix with some entries above 1."""
B0: np.ndarray = _RNG.standard_normal(N)
"""A right-hand side of length ``N``."""
Y01: np.ndarray = (B0 > 0).astype(float)
"""Binary 0/1 labels of length ``N``."""
