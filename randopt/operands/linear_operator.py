"""A ``scipy.sparse.linalg.LinearOperator`` as an operand: products only.

Everything beyond ``A x`` and ``A^T u`` is built from products with blocks of
identity columns (rows: ``A^T E``; columns: ``A E``), so it is exact but costs
one product per row or column touched: :meth:`LinearOperatorOperand.take_rows`
of ``k`` rows costs ``k`` adjoint products, :meth:`~LinearOperatorOperand.abs_sums`
and :meth:`~LinearOperatorOperand.to_dense` cost ``d`` products.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.sparse.linalg import LinearOperator

from .._validation import check_matrix
from ._rows import as_index
from .base import Operand
from .dense import DenseOperand

__all__ = ["LinearOperatorOperand"]

# Identity columns per product in the blocked passes.
_COLS = 256


class LinearOperatorOperand(Operand):
    """A ``LinearOperator`` of shape (n, d) as an :class:`~randopt.operands.Operand`.

    Parameters
    ----------
    operator : scipy.sparse.linalg.LinearOperator
        Validated by :func:`~randopt.operands.as_operand` (2-D, non-empty, real).

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.sparse.linalg import aslinearoperator
    >>> from randopt.operands import as_operand
    >>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> op = as_operand(aslinearoperator(A))
    >>> op.format, op.take_rows(np.array([1])).to_dense().tolist()
    ('operator', [[3.0, 4.0]])
    """

    format = "operator"
    is_local = True

    def __init__(self, operator: Any, *, name: str = "A"):
        operator = check_matrix(operator, name, accept_operator=True)
        if not isinstance(operator, LinearOperator):
            raise TypeError(
                f"{name} must be a scipy LinearOperator, got {type(operator).__name__}"
            )
        self._name = name
        self.operator = operator
        self.shape = (int(operator.shape[0]), int(operator.shape[1]))
        dtype = np.dtype(operator.dtype) if operator.dtype is not None else np.dtype(np.float64)
        self.dtype = dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)

    def _checked(self, out: Any, rows: int, k: int | None, what: str) -> np.ndarray:
        # A user's operator is the one input never seen before its products:
        # its outputs are checked (shape, finiteness) so that a wrong one fails
        # here with its name instead of deep inside a solver.
        want = (rows,) if k is None else (rows, k)
        if np.iscomplexobj(out):
            # float64 conversion would drop the imaginary part silently.
            raise TypeError(
                f"{self._name}.{what} returned complex values; randopt's operators are real"
            )
        try:
            arr = np.asarray(out, dtype=np.float64)
        except (TypeError, ValueError) as exc:

            raise TypeError(f"{self._name}.{what} returned a non-numeric result ({exc})") from None
        if arr.shape != want:
            if arr.size == int(np.prod(want)):
                arr = arr.reshape(want)
            else:
                raise ValueError(
                    f"{self._name}.{what} returned shape {arr.shape}, expected {want}; "
                    "the LinearOperator's shape and its products disagree"
                )
        if not np.isfinite(arr).all():
            raise ValueError(f"{self._name}.{what} returned NaN or infinity")
        return arr

    def matvec(self, x: np.ndarray) -> np.ndarray:
        L = self.operator
        x = self._right(x)
        try:
            out = L.matmat(x) if x.ndim == 2 else L.matvec(x)
        except ValueError as exc:
            raise ValueError(f"{self._name}.matvec failed: {exc}") from None
        return self._checked(out, self.n_rows, x.shape[1] if x.ndim == 2 else None, "matvec")

    def rmatvec(self, u: Any) -> np.ndarray:
        L = self.operator
        u = self._left(u)
        try:
            out = L.rmatmat(u) if u.ndim == 2 else L.rmatvec(u)
        except ValueError as exc:
            raise ValueError(f"{self._name}.rmatvec failed: {exc}") from None
        return self._checked(out, self.n_cols, u.shape[1] if u.ndim == 2 else None, "rmatvec")

    def sketch(self, S: Any) -> np.ndarray:
        # S A = (A^T S^T)^T: an operator offers products only.
        return self.rmatvec(np.asarray(S.toarray()).T).T.astype(self.dtype, copy=False)

    def _rows_dense(self, rows: np.ndarray) -> np.ndarray:
        out = np.empty((rows.shape[0], self.n_cols))
        for lo in range(0, rows.shape[0], _COLS):
            part = rows[lo : lo + _COLS]
            E = np.zeros((self.n_rows, part.shape[0]))
            E[part, np.arange(part.shape[0])] = 1.0
            out[lo : lo + part.shape[0]] = self.rmatvec(E).T
        return out

    def take_rows(self, idx: np.ndarray) -> DenseOperand:
        return DenseOperand._trusted(self._rows_dense(as_index(idx, self.n_rows)))

    def row_norms_sq(self, right: np.ndarray | None = None) -> np.ndarray:
        out = np.empty(self.n_rows)
        for lo in range(0, self.n_rows, _COLS):
            B = self._rows_dense(np.arange(lo, min(self.n_rows, lo + _COLS)))
            if right is not None:
                B = B @ np.asarray(right, dtype=np.float64)
            out[lo : lo + B.shape[0]] = np.einsum("ij,ij->i", B, B)
        return out

    def _column_blocks(self):
        for lo in range(0, self.n_cols, _COLS):
            hi = min(self.n_cols, lo + _COLS)
            E = np.zeros((self.n_cols, hi - lo))
            E[np.arange(lo, hi), np.arange(hi - lo)] = 1.0
            yield lo, hi, self.matvec(E)

    def abs_sums(self) -> tuple[float, float, float]:
        fro2, one, rows = 0.0, 0.0, np.zeros(self.n_rows)
        for _, _, C in self._column_blocks():
            a = np.abs(C)
            fro2 += float(np.einsum("ij,ij->", a, a))
            one = max(one, float(a.sum(axis=0).max()))
            rows += a.sum(axis=1)
        return float(np.sqrt(fro2)), one, float(rows.max())

    def to_dense(self) -> np.ndarray:
        out = np.empty(self.shape)
        for lo, hi, C in self._column_blocks():
            out[:, lo:hi] = C
        return out

    def gram(self, idx: np.ndarray | None, coef: np.ndarray) -> np.ndarray:
        rows = np.arange(self.n_rows) if idx is None else idx
        return self.take_rows(rows).gram(None, coef)

    def gram_matvec(self, idx: np.ndarray | None, coef: np.ndarray, v: np.ndarray) -> np.ndarray:
        c = np.asarray(coef, dtype=np.float64)
        if idx is None:
            # sum_i c_i a_i (a_i^T v) = A^T (c * (A v)): two products, no rows formed.
            if c.shape != (self.n_rows,):
                raise ValueError(f"coef must have shape ({self.n_rows},), got {c.shape}")
            return self.rmatvec(c * self.matvec(np.asarray(v, dtype=np.float64)))
        return self.take_rows(idx).gram_matvec(None, c, v)
