"""The :class:`SketchOperator` base class and :func:`make_sketch`.

Each sketch of :mod:`randopt.sketch` is a :class:`SketchOperator` ``S`` of
shape ``(sketch_size, n_rows)``; ``S @ A`` accepts anything
:func:`randopt.operands.as_operand` does (dense C or F order, float32 or
float64, the result keeps the dtype; ``scipy.sparse`` of any format, where
CountSketch and sparse sign cost O(nnz); ``LinearOperator``; row-chunked Dask
arrays) and 1-D vectors.

Who does what: ``S @ A`` turns ``A`` into an operand once and calls
``A.sketch(S)``. The operand decides how to walk its rows (one call
``S.apply_local(A)`` for in-memory data, a sum of ``S.apply_rows(chunk, lo)``
over row chunks for a partitioned matrix, ``(A^T S^T)^T`` for an operator),
and the sketch decides what to do with a block of rows, dispatching its own
Numba kernels on the block's ``format``. The operand layer sits below this
one and knows nothing of sketches; this layer never tests for array types.

The randomness of an operator is drawn in blocks of :data:`BLOCK_ROWS` input
rows, block ``b`` from ``numpy.random.default_rng([seed, b])``. The sketch of a
row range can therefore be regenerated anywhere from ``(seed, block index)``
alone, which is what a row-partitioned (out-of-core or distributed) matrix
needs, and the result is the same however the rows are chunked.
:meth:`SketchOperator.apply_rows` computes the contribution ``S[:, lo:hi] @
A[lo:hi]`` of one row range from those streams only; no operator holds
anything of size ``n_rows`` until an in-memory product asks for it, so a
pickled operator (shipped to Dask workers) is a few hundred bytes plus, for
the SRHT, its ``sketch_size`` row indices.

References
----------
.. [1] N. Halko, P. G. Martinsson and J. A. Tropp, "Finding structure with
       randomness", SIAM Review 53 (2011).
.. [2] J. A. Tropp, A. Yurtsever, M. Udell and V. Cevher, "Streaming low-rank
       matrix approximation with an application to scientific simulation",
       SIAM J. Sci. Comput. 41 (2019).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from scipy.sparse.linalg import LinearOperator

from .._validation import check_positive_int, check_random_state
from ..operands import Operand, as_operand

__all__ = ["BLOCK_ROWS", "SketchOperator", "make_sketch"]


def _sketch_not_finite(op: Operand, product: str = "S @ A") -> ValueError:
    """The error for a sketch of ``op`` that came out NaN or infinite, naming the cause.

    A local operand's data were checked finite at entry (an operator's products
    are checked as they come), so there the cause is overflow of the sketch's
    sums (entries near the float64 limit); a row-partitioned operand (Dask)
    checks its chunks while the sketch reads them, so NaN is possible too.
    """
    if op.is_local:
        cause = (
            "A is finite, but its entries are too close to the float64 limit for the "
            "sketch's sums, which overflow; rescale A by a power of two first"
        )
    else:
        cause = (
            "A contains NaN or infinity, or its entries are too close to the float64 "
            "limit for this sketch (rescale A by a power of two)"
        )
    return ValueError(f"{product} is not finite: {cause}")

#: Rows per block of generated randomness (see the module docstring).
BLOCK_ROWS = 1 << 16
# Stream index for randomness that belongs to no row block (SRHT's row subset).
GLOBAL_STREAM = (1 << 32) - 1


def check_sizes(sketch_size: Any, n_rows: Any) -> tuple[int, int]:
    """``sketch_size`` and ``n_rows`` as positive ints (the constructors' shared check)."""
    return check_positive_int(sketch_size, "sketch_size"), check_positive_int(n_rows, "n_rows")


def draw_seed(random_state: Any) -> int:
    """One 63-bit seed from ``random_state``: every block stream derives from it."""
    return int(check_random_state(random_state).integers(0, 2**63 - 1))


def covering_blocks(lo: int, hi: int) -> Iterator[tuple[int, int, int, int, int]]:
    """``(b, s0, s1, o0, o1)``: block ``b``'s rows ``s0:s1`` are rows ``o0:o1`` of ``[lo, hi)``."""
    for b in range(lo // BLOCK_ROWS, -(-hi // BLOCK_ROWS)):
        start = b * BLOCK_ROWS
        r0, r1 = max(lo, start), min(hi, start + BLOCK_ROWS)
        yield b, r0 - start, r1 - start, r0 - lo, r1 - lo


def _as_2d(A: Any) -> tuple[Any, bool]:
    """``A`` as a matrix, and whether it was a vector (``S @ v``)."""
    if np.ndim(A) != 1:
        return A, False
    return (A if hasattr(A, "shape") else np.asarray(A))[:, None], True


class SketchOperator:
    """A random linear map from ``n_rows`` to ``sketch_size`` dimensions.

    Subclasses implement ``_apply(M)`` for the whole in-memory matrix ``M``
    (a C/F-ordered ndarray or a canonical CSR/CSC matrix),
    ``_apply_rows(M, lo, hi)`` for the contribution of rows ``[lo, hi)`` and
    ``toarray()``. The base class turns inputs into operands and handles
    vectors (module docstring). ``S.T`` and :meth:`aslinearoperator` give
    SciPy views.

    Parameters
    ----------
    sketch_size : int
        Rows ``m`` of the sketch.
    n_rows : int
        Rows ``n`` of the matrices it applies to.
    seed : int
        Seed of every block stream.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.sketch import gaussian
    >>> S = gaussian(20, 100, random_state=0)
    >>> S.shape, S.sketch_size, S.n_rows
    ((20, 100), 20, 100)
    >>> bool(np.allclose(S @ np.eye(100), S.toarray()))
    True
    """

    # Attributes that cache O(n_rows) state; dropped when pickled (see __getstate__).
    _caches: tuple[str, ...] = ()

    name = "sketch"

    def __init__(self, sketch_size: int, n_rows: int, seed: int):
        self.shape = (sketch_size, n_rows)
        self.seed = int(seed)

    @property
    def sketch_size(self) -> int:
        """Rows ``m`` of the sketch."""
        return self.shape[0]

    @property
    def n_rows(self) -> int:
        """Rows ``n`` of the matrices the sketch applies to."""
        return self.shape[1]

    def _block_rng(self, block: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, block])

    def __getstate__(self) -> dict:
        # Caches are rebuilt from the seed: a pickled operator stays O(sketch_size).
        state = self.__dict__.copy()
        for name in self._caches:
            state[name] = None
        return state

    def __matmul__(self, A: Any) -> np.ndarray:
        A2, vector = _as_2d(A)
        # NaN or infinity in A would come out as a silently NaN sketch: refuse
        # it at the entry (one pass; the Dask operand checks while it reads).
        op = as_operand(A2, "A")
        if op.n_rows != self.n_rows:
            raise ValueError(f"the sketch has {self.n_rows} columns but A has {op.n_rows} rows")
        out = np.asarray(op.sketch(self))
        if not np.isfinite(out).all():
            raise _sketch_not_finite(op)
        return out[:, 0] if vector else out

    def apply(self, A: Any) -> np.ndarray:
        """``S @ A`` (same as the ``@`` operator).

        Parameters
        ----------
        A : array-like, sparse matrix, LinearOperator, Dask array or Operand
            ``n_rows`` rows; 1-D or 2-D.

        Returns
        -------
        ndarray of shape (sketch_size,) or (sketch_size, d)

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.sketch import countsketch
        >>> S = countsketch(10, 50, random_state=0)
        >>> S.apply(np.ones(50)).shape
        (10,)
        """
        return self @ A

    def apply_local(self, block: Operand) -> np.ndarray:
        """``S @ A`` for a local dense or sparse operand holding all ``n_rows`` rows.

        The entry the operand layer calls from :meth:`Operand.sketch`
        (module docstring); it dispatches on ``block.format``.

        Parameters
        ----------
        block : Operand
            ``format`` ``"dense"``, ``"csr"`` or ``"csc"``, ``n_rows`` rows.

        Returns
        -------
        ndarray of shape (sketch_size, d), of the block's dtype

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.operands import as_operand
        >>> from randopt.sketch import sparse_sign
        >>> S = sparse_sign(8, 30, nnz_per_col=2, random_state=0)
        >>> A = np.ones((30, 2))
        >>> bool(np.allclose(S.apply_local(as_operand(A)), S.toarray() @ A))
        True
        """
        if block.n_rows != self.n_rows:
            raise ValueError(f"the sketch has {self.n_rows} columns but A has {block.n_rows} rows")
        return np.asarray(self._apply(_local_matrix(block)))

    def apply_rows(self, A_rows: Any, lo: int) -> np.ndarray:
        """The contribution ``S[:, lo:lo+k] @ A_rows`` of the ``k`` rows of ``A`` from ``lo``.

        The needed columns of ``S`` are regenerated from ``(seed, block
        index)`` for the blocks that rows ``[lo, lo + k)`` touch, so summing
        the contributions of any row partition of ``A`` gives ``S @ A`` (equal
        up to the order of floating-point additions). This is the task each
        row chunk of a Dask array runs (:mod:`randopt.operands.dask_array`).

        Parameters
        ----------
        A_rows : ndarray of shape (k,) or (k, d), sparse matrix, or local Operand
            Rows ``lo`` to ``lo + k`` of the operand.
        lo : int
            Index of the first of those rows.

        Returns
        -------
        ndarray of shape (sketch_size,) or (sketch_size, d)

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.sketch import sparse_sign
        >>> A = np.random.default_rng(0).standard_normal((1000, 3))
        >>> S = sparse_sign(40, 1000, random_state=0)
        >>> parts = S.apply_rows(A[:300], 0) + S.apply_rows(A[300:], 300)
        >>> bool(np.allclose(parts, S @ A, rtol=0, atol=1e-12))
        True
        """
        if isinstance(lo, (bool, np.bool_)) or not isinstance(lo, (int, np.integer)):
            raise TypeError(f"lo must be an integer row index, got {lo!r}")
        A2, vector = _as_2d(A_rows)
        op = as_operand(A2, "A_rows", accept_operator=False, check_finite=False)
        lo = int(lo)
        hi = lo + op.n_rows
        if lo < 0 or hi > self.n_rows:
            raise ValueError(
                f"rows [{lo}, {hi}) lie outside the {self.n_rows} columns of the sketch"
            )
        out = np.asarray(self._apply_rows(_local_matrix(op), lo, hi))
        if not np.isfinite(out).all():
            # The rows were not read before (no extra pass): NaN in would be NaN out.
            raise ValueError(
                "S @ A_rows is not finite: A_rows contains NaN or infinity, or its entries "
                "are too close to the float64 limit (rescale by a power of two)"
            )
        return out[:, 0] if vector else out

    def _apply(self, M: Any) -> np.ndarray:
        return self._apply_rows(M, 0, self.n_rows)

    def _apply_rows(self, M: Any, lo: int, hi: int) -> np.ndarray:
        raise NotImplementedError

    def toarray(self) -> np.ndarray:
        """The explicit ``(sketch_size, n_rows)`` matrix (small sketches only).

        Returns
        -------
        ndarray of shape (sketch_size, n_rows), float64
        """
        raise NotImplementedError

    def aslinearoperator(self) -> LinearOperator:
        """``S`` as a SciPy ``LinearOperator`` (its adjoint forms ``S`` explicitly once).

        Returns
        -------
        scipy.sparse.linalg.LinearOperator

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.sketch import gaussian
        >>> L = gaussian(5, 30, random_state=0).aslinearoperator()
        >>> L.shape, L.rmatvec(np.ones(5)).shape
        ((5, 30), (30,))
        """
        dense = None

        def matvec(x):
            return self @ np.asarray(x).ravel()

        def rmatvec(y):
            nonlocal dense
            if dense is None:
                dense = self.toarray()
            return dense.T @ np.asarray(y).ravel()

        return LinearOperator(self.shape, matvec=matvec, rmatvec=rmatvec, dtype=np.float64)

    @property
    def T(self) -> LinearOperator:
        """The adjoint ``S^T`` as a ``LinearOperator``."""
        return self.aslinearoperator().T

    def __repr__(self) -> str:
        return f"{type(self).__name__}(sketch_size={self.shape[0]}, n_rows={self.shape[1]})"


def _local_matrix(block: Operand) -> Any:
    if block.format not in ("dense", "csr", "csc"):
        raise TypeError(
            f"a sketch applies to explicit dense or sparse rows, got a {block.format!r} operand"
        )
    return block.local_data()


def make_sketch(
    kind: str, sketch_size: int, n_rows: int, *, random_state: Any = None, **kwargs: Any
) -> SketchOperator:
    """Build a sketch by name.

    Parameters
    ----------
    kind : {"gaussian", "srht", "countsketch", "sparse_sign"}
    sketch_size, n_rows : int
        Shape of the sketch.
    random_state : None, int, Generator or SeedSequence
    **kwargs
        Options of the constructor (``transform`` for the SRHT,
        ``nnz_per_col`` for sparse sign).

    Returns
    -------
    SketchOperator

    Examples
    --------
    >>> from randopt.sketch import make_sketch
    >>> make_sketch("sparse_sign", 16, 100, nnz_per_col=4, random_state=0)
    SparseSketch(sparse_sign, sketch_size=16, n_rows=100, nnz_per_col=4)
    """
    # Imported here: the constructors' modules import this one.
    from .gaussian import gaussian
    from .sparse import countsketch, sparse_sign
    from .srht import srht

    factories = {
        "gaussian": gaussian,
        "srht": srht,
        "countsketch": countsketch,
        "sparse_sign": sparse_sign,
    }
    if not isinstance(kind, str) or kind not in factories:
        raise ValueError(
            f"unknown sketch: kind must be one of {sorted(factories)}, got {kind!r}"
        )
    factory = factories[kind]
    return factory(sketch_size, n_rows, random_state=random_state, **kwargs)
