"""``as_operand``: the one entry point that turns user input into an :class:`Operand`.

Backends register a factory for a type (or a predicate) with
:func:`register_operand`. A backend whose library should not be imported
until it is needed registers *lazily*, by the top-level module name of the
types it handles (as Dask's own ``Dispatch.register_lazy`` does):
:func:`register_operand_lazy` ("dask", "randopt.operands.dask_array") makes
:func:`as_operand` import ``randopt.operands.dask_array`` the first time it
meets an object whose type comes from the ``dask`` package; that module then
registers its operand. ``import randopt.operands`` imports no such library.

A new backend (CuPy, say) is one module with an :class:`Operand` subclass and
one ``register_operand_lazy`` line; no algorithm changes.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from .._validation import check_bool, check_name
from .base import Operand
from .dense import DenseOperand
from .linear_operator import LinearOperatorOperand
from .sparse import SparseOperand, validated_sparse

__all__ = ["as_operand", "register_operand", "register_operand_lazy"]

#: ``(predicate, factory)`` pairs, most recently registered first.
_FACTORIES: list[tuple[Callable[[Any], bool], Callable[..., Operand]]] = []
#: top-level module name -> module that registers the operand when imported.
_LAZY: dict[str, str] = {}


def register_operand(
    type_or_predicate: type | tuple[type, ...] | Callable[[Any], bool],
    factory: Callable[..., Operand],
) -> None:
    """Make :func:`as_operand` build ``factory(A, name=..., check_finite=...)`` for some inputs.

    Parameters
    ----------
    type_or_predicate : type, tuple of types, or callable
        Inputs that are instances of the type(s), or for which the predicate
        returns True. Later registrations take precedence.
    factory : callable
        ``factory(A, *, name, check_finite) -> Operand``; it validates ``A``.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.operands import as_operand, register_operand
    >>> class Wrapped:
    ...     def __init__(self, a):
    ...         self.a = a
    >>> register_operand(Wrapped, lambda A, *, name, check_finite: as_operand(A.a, name))
    >>> as_operand(Wrapped(np.eye(2))).format
    'dense'
    """
    if isinstance(type_or_predicate, (type, tuple)):
        types = type_or_predicate

        def predicate(A: Any) -> bool:
            return isinstance(A, types)

    elif callable(type_or_predicate):
        predicate = type_or_predicate
    else:
        raise TypeError(
            f"type_or_predicate must be a type, a tuple of types or a callable, "
            f"got {type(type_or_predicate).__name__}"
        )
    if not callable(factory):
        raise TypeError(f"factory must be callable, got {type(factory).__name__}")
    _FACTORIES.insert(0, (predicate, factory))


def register_operand_lazy(toplevel_module_name: str, module_path: str) -> None:
    """Import ``module_path`` when :func:`as_operand` first meets a ``toplevel_module_name`` type.

    The imported module is expected to call :func:`register_operand` for its
    types. Until then neither it nor the library it wraps is imported.

    Parameters
    ----------
    toplevel_module_name : str
        The first component of the input type's ``__module__`` (``"dask"``).
    module_path : str
        The module to import (``"randopt.operands.dask_array"``).

    Examples
    --------
    >>> from randopt.operands import register_operand_lazy
    >>> register_operand_lazy("dask", "randopt.operands.dask_array")  # done at import already
    """
    for value, label in (
        (toplevel_module_name, "toplevel_module_name"),
        (module_path, "module_path"),
    ):
        if not isinstance(value, str) or not value:
            raise TypeError(f"{label} must be a non-empty string, got {value!r}")
    _LAZY[toplevel_module_name] = module_path


def _lazy_module(A: Any) -> str | None:
    for klass in type(A).__mro__:
        top = klass.__module__.split(".")[0]
        if top in _LAZY:
            return top
    return None


def _dense(A: Any, *, name: str, check_finite: bool) -> DenseOperand:
    return DenseOperand(A, name=name, check_finite=check_finite)


def _sparse(A: Any, *, name: str, check_finite: bool) -> SparseOperand:
    return SparseOperand._trusted(validated_sparse(A, name, check_finite=check_finite))


def _operator(A: Any, *, name: str, check_finite: bool) -> LinearOperatorOperand:
    del check_finite  # an operator's entries are never seen
    return LinearOperatorOperand(A, name=name)


def as_operand(
    A: Any, name: str = "A", *, accept_operator: bool = True, check_finite: bool = True
) -> Operand:
    """Validate ``A`` once and wrap it in the :class:`Operand` of its backend.

    Parameters
    ----------
    A : array-like, scipy.sparse matrix or array, LinearOperator, dask.array.Array or Operand
        Dense input keeps float32/float64 and C or F order (integers and
        booleans become float64, other layouts C order); sparse input of any
        format becomes a canonical CSR (CSC is kept), with indices checked
        and duplicates summed on a copy; an ``Operand`` is returned as is.
    name : str, default="A"
        Argument name for error messages.
    accept_operator : bool, default=True
        Whether a ``LinearOperator`` is allowed (a TypeError otherwise).
    check_finite : bool, default=True
        Refuse NaN and infinite entries of local data (one pass). The Dask
        operand defers this check to the first pass that reads the data.

    Returns
    -------
    Operand

    Raises
    ------
    TypeError
        For non-numeric, complex or unsupported input.
    ValueError
        For a wrong shape, an empty matrix, malformed sparse structure or
        non-finite values.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from randopt.operands import as_operand
    >>> as_operand(np.ones((3, 2), dtype=np.float32)).dtype
    dtype('float32')
    >>> as_operand(sp.csc_array(np.eye(3))).format
    'csc'
    """
    check_name(name)
    accept_operator = check_bool(accept_operator, "accept_operator")
    check_finite = check_bool(check_finite, "check_finite")
    if isinstance(A, Operand):
        op = A
    else:
        op = None
        for predicate, factory in _FACTORIES:
            if predicate(A):
                op = factory(A, name=name, check_finite=check_finite)
                break
        if op is None:
            top = _lazy_module(A)
            if top is not None:
                importlib.import_module(_LAZY.pop(top))
                return as_operand(
                    A, name, accept_operator=accept_operator, check_finite=check_finite
                )
            op = _dense(A, name=name, check_finite=check_finite)
    if op.format == "operator" and not accept_operator:
        raise TypeError(
            f"{name} must be an explicit (dense or sparse) matrix, not a LinearOperator"
        )
    return op


register_operand(LinearOperator, _operator)
register_operand(sp.issparse, _sparse)
register_operand_lazy("dask", "randopt.operands.dask_array")
