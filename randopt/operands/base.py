"""The :class:`Operand` protocol: "a matrix the algorithms read".

Every algorithm of :mod:`randopt` reaches its data matrix ``A`` (n x d) through
this one interface: products ``A x`` and ``A^T u``, the fused passes
``A^T (A V)`` and ``(A^T (b - A x), ||b - A x||)``, a sketch ``S A``, rows,
row norms, Gram matrices of rows and a generic per-row-block reduction
(:meth:`Operand.map_row_blocks`). Implementations own their storage and every
Numba dispatch: :class:`~randopt.operands.DenseOperand`,
:class:`~randopt.operands.SparseOperand`,
:class:`~randopt.operands.LinearOperatorOperand` and, registered lazily, the
Dask operand (:mod:`randopt.operands.dask_array`). Validation happens once, in
:func:`~randopt.operands.as_operand`; the methods trust their own state.

Every product returns float64 NumPy arrays whatever the storage dtype, since
the algorithms above accumulate in float64.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["Operand"]


class Operand(ABC):
    """Abstract base of the matrix operands (see the module docstring).

    Subclasses set ``shape`` (a pair of ints), ``dtype`` (float32 or float64),
    ``format`` and ``is_local``, and implement the abstract methods.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.operands import as_operand
    >>> op = as_operand(np.arange(6.0).reshape(3, 2))
    >>> op.shape, op.format, op.is_local
    ((3, 2), 'dense', True)
    >>> op.normal_matvec(np.ones(2)).tolist()
    [46.0, 61.0]
    """

    shape: tuple[int, int]
    dtype: np.dtype
    #: ``"dense"``, ``"csr"``, ``"csc"``, ``"operator"`` or ``"dask"``.
    format: str
    #: True when the data lives in this process's memory.
    is_local: bool = True

    @property
    def n_rows(self) -> int:
        """Number of rows ``n``."""
        return self.shape[0]

    @property
    def n_cols(self) -> int:
        """Number of columns ``d``."""
        return self.shape[1]

    @property
    def ndim(self) -> int:
        """Always 2 (an operand is a matrix)."""
        return 2

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(shape={self.shape}, dtype={self.dtype}, "
            f"format={self.format!r})"
        )

    # ------------------------------------------------------------------ products
    @abstractmethod
    def matvec(self, x: np.ndarray) -> np.ndarray:
        """``A x``.

        Parameters
        ----------
        x : ndarray of shape (d,) or (d, k)

        Returns
        -------
        ndarray of shape (n,) or (n, k), float64
        """

    @abstractmethod
    def rmatvec(self, u: Any) -> np.ndarray:
        """``A^T u``.

        Parameters
        ----------
        u : ndarray of shape (n,) or (n, k)
            (For the Dask operand also a row-aligned Dask array.)

        Returns
        -------
        ndarray of shape (d,) or (d, k), float64
        """

    def normal_matvec(self, V: np.ndarray) -> np.ndarray:
        """``A^T (A V)``, in one fused pass over ``A`` where the format allows.

        Parameters
        ----------
        V : ndarray of shape (d,) or (d, k)

        Returns
        -------
        ndarray of shape (d,) or (d, k), float64
        """
        return self.rmatvec(self.matvec(self._right(V, "V")))

    def residual_normal(self, x: np.ndarray, b: Any) -> tuple[np.ndarray, Any]:
        """``(A^T r, ||r||)`` for ``r = b - A x``, in one pass where the format allows.

        Parameters
        ----------
        x : ndarray of shape (d,) or (d, k)
        b : ndarray of shape (n,) or (n, k)
            Row-aligned with ``A`` (see :meth:`align`).

        Returns
        -------
        gradient : ndarray of shape (d,) or (d, k), float64
        residual_norm : float or ndarray of shape (k,)
            Column norms for a 2-D ``b``.
        """
        r = np.asarray(self._left(b, "b"), dtype=np.float64) - self.matvec(self._right(x, "x"))
        return self.rmatvec(r), np.linalg.norm(r, axis=0)

    @abstractmethod
    def sketch(self, S: Any) -> np.ndarray:
        """``S A`` for a sketch ``S`` of :mod:`randopt.sketch`.

        The operand decides how to traverse its rows and the sketch what to do
        with a block of them: a local operand calls ``S.apply_local(self)``
        once, a row-partitioned one sums ``S.apply_rows(block, lo)`` over its
        row blocks, an operator forms ``(A^T S^T)^T``. The sketch keeps its
        per-format kernels (dispatched on ``block.format``), so this layer
        knows nothing of sketching.

        Parameters
        ----------
        S : SketchOperator
            With ``S.shape[1] == n``.

        Returns
        -------
        ndarray of shape (S.shape[0], d), of this operand's dtype
        """

    # ---------------------------------------------------------------- row access
    @abstractmethod
    def take_rows(self, idx: np.ndarray) -> Operand:
        """The rows ``idx`` as a local operand (dense, or CSR for sparse data).

        Parameters
        ----------
        idx : ndarray of int
            Row indices in ``[0, n)``, any order, repeats allowed.

        Returns
        -------
        Operand
            ``len(idx)`` rows, in the order of ``idx``.
        """

    def local_data(self) -> Any:
        """The in-memory ndarray or CSR/CSC matrix of a local dense or sparse operand.

        Returns
        -------
        ndarray or scipy.sparse matrix
            The stored data itself, not a copy: do not write to it.

        Raises
        ------
        TypeError
            For operands that hold no explicit local matrix.
        """
        raise TypeError(f"a {self.format!r} operand holds no local matrix; use its products")

    def row_norms_sq(self, right: np.ndarray | None = None) -> Any:
        """Squared row norms ``||a_i||^2`` (or ``||right^T a_i||^2``) of all rows.

        Parameters
        ----------
        right : ndarray of shape (d, k), optional
            When given, the squared row norms of ``A @ right`` (no ``n x k``
            matrix kept beyond one block of rows).

        Returns
        -------
        ndarray of shape (n,), float64
            (A row-aligned Dask array for the Dask operand.)
        """
        raise NotImplementedError

    @abstractmethod
    def abs_sums(self) -> tuple[float, float, float]:
        """``(||A||_F, ||A||_1, ||A||_inf)`` in one pass, as floats.

        Returns
        -------
        tuple of float
            Frobenius norm, maximum absolute column sum, maximum absolute row sum.
        """

    @abstractmethod
    def to_dense(self) -> np.ndarray:
        """The whole matrix as a dense float64 ndarray (small problems only).

        Returns
        -------
        ndarray of shape (n, d), float64
        """

    def _right(self, V: Any, name: str = "x") -> np.ndarray:
        """``V`` as an array of shape ``(d,)`` or ``(d, k)``, or a ValueError naming it.

        Every product checks its argument's length here: the Numba kernels
        index it by the matrix's shape, so a short vector would be read out
        of bounds (garbage numbers or a crash) instead of failing.
        """
        arr = np.asarray(V)
        if arr.ndim not in (1, 2) or arr.shape[0] != self.n_cols:
            raise ValueError(
                f"{name} must have shape ({self.n_cols},) or ({self.n_cols}, k) for a matrix "
                f"with {self.n_cols} columns, got shape {arr.shape}"
            )
        return arr

    def _left(self, u: Any, name: str = "u") -> np.ndarray:
        """``u`` as an array of shape ``(n,)`` or ``(n, k)``, or a ValueError naming it."""
        arr = np.asarray(u)
        if arr.ndim not in (1, 2) or arr.shape[0] != self.n_rows:
            raise ValueError(
                f"{name} must have shape ({self.n_rows},) or ({self.n_rows}, k) for a matrix "
                f"with {self.n_rows} rows, got shape {arr.shape}"
            )
        return arr

    def align(self, v: Any, name: str = "v") -> Any:
        """``v`` in this operand's row layout, its length checked.

        Parameters
        ----------
        v : array-like of shape (n,) or (n, k)
        name : str
            Argument name for the error message.

        Returns
        -------
        ndarray (local operands) or row-aligned Dask array (Dask operand)
        """
        arr = np.asarray(v)
        if arr.ndim not in (1, 2):
            raise ValueError(f"{name} must be 1-D or 2-D, got shape {arr.shape}")
        if arr.shape[0] != self.n_rows:
            raise ValueError(
                f"{name} has {arr.shape[0]} rows but the matrix has {self.n_rows}; "
                "shapes must match"
            )
        return arr

    def map_row_blocks(
        self, func: Callable[..., Any], *row_aligned: Any, out_shape: tuple[int, ...]
    ) -> np.ndarray:
        """Sum over row blocks ``[lo, hi)`` of ``func(lo, block, *blocks_of_row_aligned)``.

        ``block`` is a local operand of those rows and each argument of
        ``row_aligned`` (an n-row array, see :meth:`align`) is cut to the same
        rows. A local operand makes one call ``func(0, self, *row_aligned)``;
        the Dask operand one per row chunk, on the workers, tree-summed.

        Parameters
        ----------
        func : callable
            ``func(lo, block, *blocks) -> array of out_shape``; picklable for Dask.
        *row_aligned : arrays of n rows
        out_shape : tuple of int

        Returns
        -------
        ndarray of shape ``out_shape``, float64
        """
        args = [self.align(a, f"row_aligned[{k}]") for k, a in enumerate(row_aligned)]
        out = np.asarray(func(0, self, *args), dtype=np.float64)
        if out.shape != tuple(out_shape):
            raise ValueError(f"func returned shape {out.shape}, expected {tuple(out_shape)}")
        return out

    # ---------------------------------------------------------------- Gram matrices
    def gram(self, idx: np.ndarray | None, coef: np.ndarray) -> np.ndarray:
        """``sum_k coef[k] a_{idx[k]} a_{idx[k]}^T`` (all rows, in order, when ``idx`` is None).

        Parameters
        ----------
        idx : ndarray of int or None
        coef : ndarray of float64, one per selected row

        Returns
        -------
        ndarray of shape (d, d), float64, symmetric
        """
        rows = self if idx is None else self.take_rows(idx)
        return rows.gram(None, coef)

    def gram_matvec(self, idx: np.ndarray | None, coef: np.ndarray, v: np.ndarray) -> np.ndarray:
        """``sum_k coef[k] a_{idx[k]} (a_{idx[k]}^T v)`` without forming a d x d matrix.

        Parameters
        ----------
        idx : ndarray of int or None
            Rows (all when None).
        coef : ndarray of float64, one per selected row
        v : ndarray of shape (d,)

        Returns
        -------
        ndarray of shape (d,), float64
        """
        return self.gram_product(idx, coef)(v)

    def gram_product(
        self, idx: np.ndarray | None, coef: np.ndarray
    ) -> Callable[[np.ndarray], np.ndarray]:
        """The product ``v -> sum_k coef[k] a_{idx[k]} (a_{idx[k]}^T v)``, prepared once.

        ``idx`` and ``coef`` are checked here, once; each product then checks
        only the length of ``v`` before the kernel runs: the form a Hessian
        of many products (a Krylov solver's) takes.

        Parameters
        ----------
        idx : ndarray of int or None
            Rows (all when None).
        coef : ndarray of float64, one per selected row

        Returns
        -------
        callable
            ``v (shape (d,)) -> ndarray of shape (d,), float64``.

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.operands import as_operand
        >>> product = as_operand(np.eye(3)).gram_product(np.array([0, 2]), np.array([2.0, 5.0]))
        >>> product(np.ones(3)).tolist()
        [2.0, 0.0, 5.0]
        """
        if idx is not None:
            return self.take_rows(idx).gram_product(None, coef)
        # Operands that implement gram_matvec (operators, Dask) bind it.
        return functools.partial(self.gram_matvec, None, coef)
