"""Random sketching operators: Gaussian, SRHT, CountSketch and sparse sign.

Each constructor returns a :class:`SketchOperator` ``S`` of shape
``(sketch_size, n_rows)``; ``S @ A`` accepts a 1-D or 2-D ndarray (C or
Fortran order, float32 or float64, the result keeps the dtype), a
``scipy.sparse`` matrix (CountSketch and sparse sign cost O(nnz)) and a
``scipy.sparse.linalg.LinearOperator``.

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

The SRHT stays exact blockwise: the Sylvester-ordered Hadamard matrix factors
as ``H_N = H_(N/B) kron H_B`` (``B = BLOCK_ROWS``), so ``P H_N D A`` is a sum
over row blocks ``b`` of ``(-1)^popcount(i_hi & b) (H_B D_b A_b)[i_lo]`` for
each kept row ``i = i_hi B + i_lo``. The per-block signs play the part of the
left random signs of the block SRHT of Balabanov et al. [5]_, but here they
reproduce the in-memory SRHT itself rather than a different sketch. The DCT
variant is applied blockwise as explicit cosine rows (``sketch_size`` dense
rows: Gaussian-sketch cost).

References
----------
.. [1] N. Halko, P. G. Martinsson and J. A. Tropp, "Finding structure with
       randomness", SIAM Review 53 (2011).
.. [2] N. Ailon and B. Chazelle, "The fast Johnson-Lindenstrauss transform and
       approximate nearest neighbors", SIAM J. Comput. 39 (2009); J. A. Tropp,
       "Improved analysis of the subsampled randomized Hadamard transform",
       Adv. Adapt. Data Anal. 3 (2011).
.. [3] K. L. Clarkson and D. P. Woodruff, "Low rank approximation and
       regression in input sparsity time", STOC 2013.
.. [4] J. Nelson and H. L. Nguyen, "OSNAP: faster numerical linear algebra
       algorithms via sparser subspace embeddings", FOCS 2013; J. A. Tropp
       et al., "Streaming low-rank matrix approximation with an application to
       scientific simulation", SIAM J. Sci. Comput. 41 (2019).
.. [5] O. Balabanov, M. Beaupere, L. Grigori and V. Lederer, "Block
       subsampled randomized Hadamard transform for low-rank approximation on
       distributed architectures", arXiv:2210.11295 (2022).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.fft
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from .._validation import check_positive_int, check_random_state, is_operator
from . import _kernels

__all__ = [
    "BLOCK_ROWS",
    "SketchOperator",
    "GaussianSketch",
    "SRHT",
    "SparseSketch",
    "gaussian",
    "srht",
    "countsketch",
    "sparse_sign",
    "make_sketch",
]

#: Rows per block of generated randomness (see the module docstring).
BLOCK_ROWS = 1 << 16
# Stream index for randomness that belongs to no row block (SRHT's row subset).
_GLOBAL_STREAM = (1 << 32) - 1


def _check_sizes(sketch_size: Any, n_rows: Any) -> tuple[int, int]:
    m = check_positive_int(sketch_size, "sketch_size")
    n = check_positive_int(n_rows, "n_rows")
    return m, n


def _as_operand(A: Any, n_rows: int) -> tuple[Any, bool]:
    """Validate an operand of ``S @ A``; returns it (2-D) and whether it was a vector."""
    if is_operator(A):
        if A.shape[0] != n_rows:
            raise ValueError(
                f"the sketch has {n_rows} columns but the operator has {A.shape[0]} rows"
            )
        return A, False
    if sp.issparse(A):
        if A.shape[0] != n_rows:
            raise ValueError(f"the sketch has {n_rows} columns but A has {A.shape[0]} rows")
        if A.format not in ("csr", "csc"):
            A = A.tocsr()
        if A.dtype not in (np.float32, np.float64):
            if np.issubdtype(A.dtype, np.complexfloating):
                raise TypeError("A has a complex dtype; sketches are real")
            A = A.astype(np.float64)
        return A, False
    arr = np.asarray(A)
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError("A has a complex dtype; sketches are real")
    if arr.dtype not in (np.float32, np.float64):
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
            raise TypeError(f"A must hold real numbers, got dtype {arr.dtype}")
        arr = arr.astype(np.float64)
    if arr.ndim not in (1, 2):
        raise ValueError(f"A must be 1-D or 2-D, got shape {arr.shape}")
    if arr.shape[0] != n_rows:
        raise ValueError(f"the sketch has {n_rows} columns but A has {arr.shape[0]} rows")
    vector = arr.ndim == 1
    if vector:
        arr = arr[:, None]
    if not (arr.flags.c_contiguous or arr.flags.f_contiguous):
        arr = np.ascontiguousarray(arr)
    return arr, vector


def _as_row_block(A: Any) -> tuple[Any, bool]:
    """Validate the operand of :meth:`SketchOperator.apply_rows` (any number of rows)."""
    if sp.issparse(A) or isinstance(A, np.ndarray):
        n = A.shape[0]
    else:
        n = np.shape(A)[0] if np.ndim(A) else 0
    return _as_operand(A, n)


def _covering_blocks(lo: int, hi: int):
    """``(b, s0, s1, o0, o1)``: block ``b``'s rows ``s0:s1`` are rows ``o0:o1`` of ``[lo, hi)``."""
    for b in range(lo // BLOCK_ROWS, -(-hi // BLOCK_ROWS)):
        start = b * BLOCK_ROWS
        r0, r1 = max(lo, start), min(hi, start + BLOCK_ROWS)
        yield b, r0 - start, r1 - start, r0 - lo, r1 - lo


def _parity_signs(x: np.ndarray) -> np.ndarray:
    """``(-1)^popcount(x)`` elementwise (numpy < 2 has no bitwise_count)."""
    parity = np.zeros(x.shape, dtype=np.int64)
    x = x.copy()
    while x.any():
        parity ^= x & 1
        x >>= 1
    return np.where(parity, -1.0, 1.0)


def _is_dask_array(A: Any) -> bool:
    from ..distributed._detect import is_dask_array

    return is_dask_array(A)


class SketchOperator:
    """A random linear map from ``n_rows`` to ``sketch_size`` dimensions.

    Subclasses implement ``_apply(A)`` for a validated 2-D dense or sparse
    operand, ``_apply_rows(A, lo, hi)`` for the contribution of rows
    ``[lo, hi)`` and ``toarray()``; the base class handles vectors, operators,
    Dask arrays and validation. ``S.T`` and :meth:`aslinearoperator` give
    SciPy views.
    """

    # Attributes that cache O(n_rows) state; dropped when pickled (see __getstate__).
    _caches: tuple[str, ...] = ()

    name = "sketch"

    def __init__(self, sketch_size: int, n_rows: int, seed: int):
        self.shape = (sketch_size, n_rows)
        self.seed = int(seed)

    @property
    def sketch_size(self) -> int:
        return self.shape[0]

    @property
    def n_rows(self) -> int:
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
        if _is_dask_array(A):
            from ..distributed.sketch import sketch_dask

            # The sketch is small: compute it (with the active Dask scheduler).
            return np.asarray(sketch_dask(self, A).compute())
        A, vector = _as_operand(A, self.n_rows)
        if is_operator(A):
            # S L = (L^T S^T)^T: the operator only offers products.
            out = np.asarray(A.rmatmat(self.toarray().T)).T
        else:
            out = self._apply(A)
        out = np.asarray(out)
        return out[:, 0] if vector else out

    def apply(self, A: Any) -> np.ndarray:
        """``S @ A`` (same as the ``@`` operator)."""
        return self @ A

    def apply_rows(self, A_rows: Any, lo: int) -> np.ndarray:
        """The contribution ``S[:, lo:lo+k] @ A_rows`` of the ``k`` rows of ``A`` from ``lo``.

        The needed columns of ``S`` are regenerated from ``(seed, block
        index)`` for the blocks that rows ``[lo, lo + k)`` touch, so summing
        the contributions of any row partition of ``A`` gives ``S @ A`` (equal
        up to the order of floating-point additions). This is the task each
        row chunk of a Dask array runs (:mod:`randopt.distributed.sketch`).

        Parameters
        ----------
        A_rows : ndarray of shape (k,) or (k, d), or sparse matrix
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
        A, vector = _as_row_block(A_rows)
        if isinstance(lo, (bool, np.bool_)) or not isinstance(lo, (int, np.integer)):
            raise TypeError(f"lo must be an integer row index, got {lo!r}")
        lo = int(lo)
        hi = lo + A.shape[0]
        if lo < 0 or hi > self.n_rows:
            raise ValueError(
                f"rows [{lo}, {hi}) lie outside the {self.n_rows} columns of the sketch"
            )
        if is_operator(A):
            raise TypeError("apply_rows needs an explicit (dense or sparse) row block")
        if A.shape[0] == 0:
            out = np.zeros((self.sketch_size, A.shape[1]), dtype=A.dtype)
        else:
            out = np.asarray(self._apply_rows(A, lo, hi))
        return out[:, 0] if vector else out

    def _apply_rows(self, A, lo: int, hi: int) -> np.ndarray:
        raise NotImplementedError

    def toarray(self) -> np.ndarray:
        raise NotImplementedError

    def aslinearoperator(self) -> LinearOperator:
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
        return self.aslinearoperator().T

    def __repr__(self) -> str:
        return f"{type(self).__name__}(sketch_size={self.shape[0]}, n_rows={self.shape[1]})"


class GaussianSketch(SketchOperator):
    """Dense i.i.d. N(0, 1/m) entries; see :func:`gaussian`."""

    name = "gaussian"
    _cache_limit = 1 << 24  # entries kept in memory between applications (128 MiB)
    _caches = ("_dense",)

    def __init__(self, sketch_size: int, n_rows: int, seed: int):
        super().__init__(sketch_size, n_rows, seed)
        self._dense: np.ndarray | None = None

    def _block(self, b: int, dtype) -> np.ndarray:
        m, n = self.shape
        lo, hi = b * BLOCK_ROWS, min(n, (b + 1) * BLOCK_ROWS)
        G = self._block_rng(b).standard_normal((m, hi - lo))
        G *= 1.0 / np.sqrt(m)
        return G.astype(dtype, copy=False)

    def toarray(self) -> np.ndarray:
        if self._dense is not None:
            return self._dense
        n_blocks = -(-self.n_rows // BLOCK_ROWS)
        G = np.hstack([self._block(b, np.float64) for b in range(n_blocks)])
        if G.size <= self._cache_limit:
            self._dense = G
        return G

    def _apply(self, A):
        m, n = self.shape
        dtype = A.dtype
        if self._dense is not None or m * n <= self._cache_limit:
            G = self.toarray()
            if dtype != G.dtype:
                G = G.astype(dtype)
            return np.asarray(G @ A) if not sp.issparse(A) else np.asarray((A.T @ G.T).T)
        out = np.zeros((m, A.shape[1]), dtype=dtype)
        for b in range(-(-n // BLOCK_ROWS)):
            lo, hi = b * BLOCK_ROWS, min(n, (b + 1) * BLOCK_ROWS)
            G = self._block(b, dtype)
            blk = A[lo:hi]
            out += G @ blk if not sp.issparse(blk) else np.asarray((blk.T @ G.T).T)
        return out

    def _apply_rows(self, A, lo, hi):
        out = np.zeros((self.sketch_size, A.shape[1]), dtype=A.dtype)
        for b, s0, s1, o0, o1 in _covering_blocks(lo, hi):
            G = self._block(b, A.dtype)[:, s0:s1]
            blk = A[o0:o1]
            out += G @ blk if not sp.issparse(blk) else np.asarray((blk.T @ G.T).T)
        return out


class SRHT(SketchOperator):
    """Subsampled randomized Hadamard (or DCT) transform; see :func:`srht`."""

    name = "srht"

    def __init__(self, sketch_size: int, n_rows: int, seed: int, transform: str):
        super().__init__(sketch_size, n_rows, seed)
        if transform not in ("hadamard", "dct"):
            raise ValueError(f"transform must be 'hadamard' or 'dct', got {transform!r}")
        self.transform = transform
        n_out = n_rows if transform == "dct" else 1 << max(0, (n_rows - 1).bit_length())
        if sketch_size > n_out:
            raise ValueError(
                f"sketch_size={sketch_size} exceeds the {n_out} rows of the transformed matrix"
            )
        self.n_transformed = n_out
        self._signs: np.ndarray | None = None
        # The row subset is global: drawn from a stream no data block uses.
        pick = self._block_rng(_GLOBAL_STREAM).choice(n_out, sketch_size, replace=False)
        self.rows = np.sort(pick)

    _caches = ("_signs",)

    def _block_signs(self, b: int) -> np.ndarray:
        nb = min(BLOCK_ROWS, self.n_rows - b * BLOCK_ROWS)
        return self._block_rng(b).choice(np.array([-1.0, 1.0]), size=nb)

    @property
    def signs(self) -> np.ndarray:
        """The diagonal ``D`` of random signs (formed on first use: O(n_rows) memory)."""
        if self._signs is None:
            n_blocks = -(-self.n_rows // BLOCK_ROWS)
            self._signs = np.concatenate([self._block_signs(b) for b in range(n_blocks)])
        return self._signs

    def _apply_rows(self, A, lo, hi):
        if self.transform == "dct":
            return self._dct_rows(A, lo, hi)
        m, d = self.sketch_size, A.shape[1]
        dtype = A.dtype
        # H_N = H_(N/B) kron H_B (module docstring): kept row i = i_hi * B + i_lo
        # reads row i_lo of each block's own transform, with sign (-1)^popcount(i_hi & b).
        width = min(BLOCK_ROWS, self.n_transformed)
        shift = width.bit_length() - 1
        i_hi, i_lo = self.rows >> shift, self.rows & (width - 1)
        out = np.zeros((d, m), dtype=dtype)
        with _kernels.threads_for(0 if d < 2 else width * d * dtype.itemsize):
            for b, s0, s1, o0, o1 in _covering_blocks(lo, hi):
                blk = A[o0:o1]
                blk = blk.toarray() if sp.issparse(blk) else blk
                X = np.zeros((d, width), dtype=dtype)
                np.multiply(blk.T, self._block_signs(b)[s0:s1].astype(dtype), out=X[:, s0:s1])
                _kernels.fwht_rows(X)
                out += X[:, i_lo] * _parity_signs(i_hi & b).astype(dtype)
        return np.ascontiguousarray(out.T * dtype.type(1.0 / np.sqrt(m)))

    def _dct_rows(self, A, lo, hi):
        # Orthonormal DCT-II: C[i, j] = c_i cos(pi (2j + 1) i / (2n)), c_0 = sqrt(1/n),
        # c_i = sqrt(2/n). The angle is reduced exactly in integers (mod 4n) first.
        n, m = self.n_rows, self.sketch_size
        dtype = A.dtype
        i = self.rows.astype(np.int64)
        scale = np.where(i == 0, np.sqrt(1.0 / n), np.sqrt(2.0 / n)) * np.sqrt(n / m)
        out = np.zeros((m, A.shape[1]), dtype=np.float64)
        step = 4096
        for c0 in range(lo, hi, step):
            c1 = min(hi, c0 + step)
            j = np.arange(c0, c1, dtype=np.int64)
            phase = ((2 * j[None, :] + 1) * i[:, None]) % (4 * n)
            C = np.cos(phase * (np.pi / (2 * n))) * scale[:, None]
            C *= self._signs_of(c0, c1)
            blk = A[c0 - lo : c1 - lo]
            out += C @ blk if not sp.issparse(blk) else np.asarray((blk.T @ C.T).T)
        return out.astype(dtype, copy=False)

    def _signs_of(self, lo, hi):
        if self._signs is not None:
            return self._signs[lo:hi]
        return np.concatenate(
            [self._block_signs(b)[s0:s1] for b, s0, s1, _, _ in _covering_blocks(lo, hi)]
        )

    def _apply(self, A):
        m = self.sketch_size
        d = A.shape[1]
        dtype = A.dtype
        if self.transform == "dct":
            DA = (
                A.multiply(self.signs[:, None]).toarray()
                if sp.issparse(A)
                else A * self.signs[:, None].astype(dtype)
            )
            T = scipy.fft.dct(DA, type=2, norm="ortho", axis=0, workers=-1)
            return (T[self.rows] * np.sqrt(self.n_rows / m)).astype(dtype, copy=False)
        signs = self.signs.astype(dtype)
        # The FWHT runs one row of X per thread: a single column gets one thread.
        with _kernels.threads_for(0 if d < 2 else self.n_transformed * d * dtype.itemsize):
            if sp.issparse(A):
                A = A.tocsr()
                X = _kernels.signed_transpose_pad_csr(
                    A.indptr, A.indices, A.data, signs, d, self.n_transformed
                )
            elif A.flags.f_contiguous and not A.flags.c_contiguous:
                X = np.zeros((d, self.n_transformed), dtype=dtype)
                np.multiply(A.T, signs, out=X[:, : self.n_rows])
            else:
                X = _kernels.signed_transpose_pad(A, signs, self.n_transformed)
            _kernels.fwht_rows(X)
        # H/sqrt(N) is orthogonal; sqrt(N/m) makes E[S^T S] = I, hence 1/sqrt(m) overall.
        out = X[:, self.rows].T * dtype.type(1.0 / np.sqrt(m))
        return np.ascontiguousarray(out)

    def toarray(self) -> np.ndarray:
        return self @ np.eye(self.n_rows)


class SparseSketch(SketchOperator):
    """``nnz_per_col`` signed non-zeros per column; CountSketch when it is one."""

    def __init__(self, sketch_size: int, n_rows: int, seed: int, nnz_per_col: int, name: str):
        super().__init__(sketch_size, n_rows, seed)
        if nnz_per_col > sketch_size:
            raise ValueError(f"nnz_per_col={nnz_per_col} exceeds sketch_size={sketch_size}")
        self.nnz_per_col = nnz_per_col
        self.name = name
        self._rows: np.ndarray | None = None
        self._vals: np.ndarray | None = None

    _caches = ("_rows", "_vals")

    def _block_pattern(self, b: int) -> tuple[np.ndarray, np.ndarray]:
        """Row indices and values of the non-zeros of the columns of block ``b``."""
        m, z = self.shape[0], self.nnz_per_col
        # OSNAP-style: non-zero t of every column lies in the t-th of z row bands,
        # so the z positions are distinct without rejection sampling.
        edges = (np.arange(z + 1) * m) // z
        widths = np.diff(edges)
        nb = min(BLOCK_ROWS, self.n_rows - b * BLOCK_ROWS)
        g = self._block_rng(b)
        offs = (g.random((nb, z)) * widths).astype(np.int64)
        rows = (edges[:-1] + offs).astype(np.int64, copy=False)
        vals = np.where(g.random((nb, z)) < 0.5, -1.0, 1.0) / np.sqrt(z)
        return rows, vals

    def _pattern(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        parts = [
            tuple(x[s0:s1] for x in self._block_pattern(b))
            for b, s0, s1, _, _ in _covering_blocks(lo, hi)
        ]
        rows = np.ascontiguousarray(np.vstack([p[0] for p in parts]))
        vals = np.ascontiguousarray(np.vstack([p[1] for p in parts]))
        return rows, vals

    @property
    def rows(self) -> np.ndarray:
        """``(n_rows, nnz_per_col)`` row indices of the non-zeros (formed on first use)."""
        if self._rows is None:
            self._rows, self._vals = self._pattern(0, self.n_rows)
        return self._rows

    @property
    def vals(self) -> np.ndarray:
        """``(n_rows, nnz_per_col)`` values ``±1/sqrt(nnz_per_col)`` (formed on first use)."""
        if self._vals is None:
            self._rows, self._vals = self._pattern(0, self.n_rows)
        return self._vals

    def _apply_rows(self, A, lo, hi):
        rows, vals = self._pattern(lo, hi)
        vals = vals if A.dtype == np.float64 else vals.astype(A.dtype)
        return _kernels.sparse_embed(A, rows, vals, self.sketch_size)

    def _apply(self, A):
        vals = self.vals if A.dtype == np.float64 else self.vals.astype(A.dtype)
        return _kernels.sparse_embed(A, self.rows, vals, self.sketch_size)

    def tosparse(self) -> sp.csr_matrix:
        n, z = self.rows.shape
        cols = np.repeat(np.arange(n), z)
        return sp.csr_matrix((self.vals.ravel(), (self.rows.ravel(), cols)), shape=self.shape)

    def toarray(self) -> np.ndarray:
        return self.tosparse().toarray()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.name}, sketch_size={self.shape[0]}, "
            f"n_rows={self.shape[1]}, nnz_per_col={self.nnz_per_col})"
        )


def _seed(random_state: Any) -> int:
    return int(check_random_state(random_state).integers(0, 2**63 - 1))


def gaussian(sketch_size: int, n_rows: int, *, random_state: Any = None) -> GaussianSketch:
    """Gaussian sketch: i.i.d. N(0, 1/sketch_size) entries.

    The best embedding per row (``sketch_size = d + 10`` already gives a
    subspace embedding of distortion about ``sqrt(d / sketch_size)``) at the
    highest cost, O(sketch_size * nnz(A)).

    Parameters
    ----------
    sketch_size : int
        Rows of the sketch, ``m``.
    n_rows : int
        Rows of the matrices it applies to, ``n``.
    random_state : None, int or Generator
        Seed; the same seed gives the same sketch.

    Returns
    -------
    GaussianSketch
        ``S`` with ``S.shape == (sketch_size, n_rows)``.

    References
    ----------
    .. [1] Halko, Martinsson and Tropp (2011), section 10.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.sketch import gaussian
    >>> A = np.random.default_rng(0).standard_normal((1000, 5))
    >>> S = gaussian(50, 1000, random_state=0)
    >>> (S @ A).shape
    (50, 5)
    """
    m, n = _check_sizes(sketch_size, n_rows)
    return GaussianSketch(m, n, _seed(random_state))


def srht(
    sketch_size: int, n_rows: int, *, transform: str = "hadamard", random_state: Any = None
) -> SRHT:
    """Subsampled randomized trigonometric transform ``S = sqrt(N/m) P F D``.

    ``D`` is a diagonal of random signs, ``F`` the orthonormal Walsh-Hadamard
    transform (``transform="hadamard"``, input zero-padded to the next power
    of two ``N``; a Numba FWHT parallel over columns) or the orthonormal DCT-II
    (``"dct"``, no padding, scipy.fft), and ``P`` picks ``m`` rows uniformly
    without replacement. ``sketch_size`` of order ``(d + log n) log d`` rows
    embed a d-dimensional subspace [2]_. Cost O(N d log N) for an (n, d) A.

    Parameters
    ----------
    sketch_size, n_rows : int
        Shape of the sketch.
    transform : {"hadamard", "dct"}
    random_state : None, int or Generator

    Returns
    -------
    SRHT

    References
    ----------
    .. [1] Ailon and Chazelle (2009).
    .. [2] Tropp (2011), "Improved analysis of the subsampled randomized
           Hadamard transform".

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.sketch import srht
    >>> S = srht(64, 1000, random_state=0)
    >>> (S @ np.ones((1000, 3))).shape
    (64, 3)
    """
    m, n = _check_sizes(sketch_size, n_rows)
    return SRHT(m, n, _seed(random_state), transform)


def countsketch(sketch_size: int, n_rows: int, *, random_state: Any = None) -> SparseSketch:
    """CountSketch (Clarkson-Woodruff sparse embedding): one ±1 per column.

    Row ``i`` of A is added, with a random sign, to one random row of the
    sketch: O(nnz(A)) work, a Numba scatter-add. A subspace embedding needs
    ``sketch_size`` of order ``d^2`` in the worst case (collisions of
    high-leverage rows); in practice a few times ``d`` suffice for incoherent
    matrices. Prefer :func:`sparse_sign` when rows may be coherent.

    Parameters
    ----------
    sketch_size, n_rows : int
    random_state : None, int or Generator

    Returns
    -------
    SparseSketch

    References
    ----------
    .. [1] Clarkson and Woodruff (2013).

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.sketch import countsketch
    >>> S = countsketch(40, 1000, random_state=0)
    >>> (S @ np.ones(1000)).shape
    (40,)
    """
    m, n = _check_sizes(sketch_size, n_rows)
    return SparseSketch(m, n, _seed(random_state), 1, "countsketch")


def sparse_sign(
    sketch_size: int, n_rows: int, *, nnz_per_col: int = 8, random_state: Any = None
) -> SparseSketch:
    """Sparse sign embedding (SJLT/OSNAP): ``nnz_per_col`` entries ``±1/sqrt(z)`` per column.

    The ``z`` non-zeros of each column fall in distinct row bands (OSNAP's
    block construction), so they never collide. With ``z`` of 4 to 8 and
    ``sketch_size`` a small multiple of ``d`` it embeds as well as a Gaussian
    sketch at ``z`` times CountSketch's cost, O(z nnz(A)), and, unlike
    CountSketch, copes with coherent rows [1]_.

    Parameters
    ----------
    sketch_size, n_rows : int
    nnz_per_col : int, default=8
        Non-zeros per column, ``z``; at most ``sketch_size``.
    random_state : None, int or Generator

    Returns
    -------
    SparseSketch

    References
    ----------
    .. [1] Nelson and Nguyen (2013); Tropp et al. (2019), section 3.3.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.sketch import sparse_sign
    >>> S = sparse_sign(40, 1000, nnz_per_col=4, random_state=0)
    >>> S.toarray().astype(bool).sum(axis=0).max()
    np.int64(4)
    """
    m, n = _check_sizes(sketch_size, n_rows)
    z = check_positive_int(nnz_per_col, "nnz_per_col")
    return SparseSketch(m, n, _seed(random_state), z, "sparse_sign")


_FACTORIES = {
    "gaussian": gaussian,
    "srht": srht,
    "countsketch": countsketch,
    "sparse_sign": sparse_sign,
}


def make_sketch(
    kind: str, sketch_size: int, n_rows: int, *, random_state: Any = None, **kwargs
) -> SketchOperator:
    """Build a sketch by name: gaussian, srht, countsketch or sparse_sign."""
    try:
        factory = _FACTORIES[kind]
    except (KeyError, TypeError):
        raise ValueError(f"unknown sketch {kind!r}; choose one of {sorted(_FACTORIES)}") from None
    return factory(sketch_size, n_rows, random_state=random_state, **kwargs)
