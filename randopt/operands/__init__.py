"""The operand layer: one protocol for "a matrix the algorithms read".

:func:`as_operand` validates its input once and returns an :class:`Operand`
(:class:`DenseOperand`, :class:`SparseOperand`, :class:`LinearOperatorOperand`,
or the Dask operand of :mod:`randopt.operands.dask_array`, registered lazily so
that importing this package never imports Dask). Every layer above reaches its
matrix through the methods of :class:`Operand` only.

Examples
--------
>>> import numpy as np
>>> from randopt.operands import as_operand
>>> op = as_operand(np.arange(6.0).reshape(3, 2))
>>> op.matvec(np.ones(2)).tolist()
[1.0, 5.0, 9.0]
"""

from .base import Operand
from .dense import DenseOperand
from .linear_operator import LinearOperatorOperand
from .registry import as_operand, register_operand, register_operand_lazy
from .sparse import SparseOperand, validated_sparse

__all__ = [
    "Operand",
    "DenseOperand",
    "SparseOperand",
    "LinearOperatorOperand",
    "as_operand",
    "register_operand",
    "register_operand_lazy",
    "validated_sparse",
]
