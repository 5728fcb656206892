"""Sparse sketches: CountSketch and the sparse sign embedding (SJLT/OSNAP).

Column ``i`` of ``S`` has ``nnz_per_col`` non-zeros ``+-1/sqrt(z)``, one in each
of ``z`` row bands, so ``S @ A`` is a scatter-add of the rows of ``A``
(:func:`randopt.sketch._kernels.sparse_embed`): O(z nnz(A)) work.

References
----------
.. [1] K. L. Clarkson and D. P. Woodruff, "Low rank approximation and
       regression in input sparsity time", STOC 2013.
.. [2] J. Nelson and H. L. Nguyen, "OSNAP: faster numerical linear algebra
       algorithms via sparser subspace embeddings", FOCS 2013.
.. [3] J. A. Tropp, A. Yurtsever, M. Udell and V. Cevher, "Streaming low-rank
       matrix approximation with an application to scientific simulation",
       SIAM J. Sci. Comput. 41 (2019).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from .._validation import check_positive_int
from . import _kernels
from .base import BLOCK_ROWS, SketchOperator, check_sizes, covering_blocks, draw_seed

__all__ = ["SparseSketch", "countsketch", "sparse_sign"]


class SparseSketch(SketchOperator):
    """``nnz_per_col`` signed non-zeros per column; CountSketch when it is one.

    Build it with :func:`countsketch` or :func:`sparse_sign`.

    Parameters
    ----------
    sketch_size, n_rows, seed : int
        See :class:`~randopt.sketch.SketchOperator`.
    nnz_per_col : int
        Non-zeros per column, at most ``sketch_size``.
    name : str
        ``"countsketch"`` or ``"sparse_sign"``.

    Examples
    --------
    >>> from randopt.sketch import sparse_sign
    >>> S = sparse_sign(16, 100, nnz_per_col=4, random_state=0)
    >>> S.tosparse().nnz
    400
    """

    _caches = ("_rows", "_vals")

    def __init__(self, sketch_size: int, n_rows: int, seed: int, nnz_per_col: int, name: str):
        super().__init__(sketch_size, n_rows, seed)
        if nnz_per_col > sketch_size:
            raise ValueError(f"nnz_per_col={nnz_per_col} exceeds sketch_size={sketch_size}")
        self.nnz_per_col = nnz_per_col
        self.name = name
        self._rows: np.ndarray | None = None
        self._vals: np.ndarray | None = None

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
            for b, s0, s1, _, _ in covering_blocks(lo, hi)
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
        """``(n_rows, nnz_per_col)`` values ``+-1/sqrt(nnz_per_col)`` (formed on first use)."""
        if self._vals is None:
            self._rows, self._vals = self._pattern(0, self.n_rows)
        return self._vals

    def _apply_rows(self, M, lo, hi):
        rows, vals = self._pattern(lo, hi)
        vals = vals if M.dtype == np.float64 else vals.astype(M.dtype)
        return _kernels.sparse_embed(M, rows, vals, self.sketch_size)

    def _apply(self, M):
        vals = self.vals if M.dtype == np.float64 else self.vals.astype(M.dtype)
        return _kernels.sparse_embed(M, self.rows, vals, self.sketch_size)

    def tosparse(self) -> sp.csr_matrix:
        """``S`` as a ``(sketch_size, n_rows)`` CSR matrix.

        Returns
        -------
        scipy.sparse.csr_matrix
        """
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


def countsketch(sketch_size: int, n_rows: int, *, random_state: Any = None) -> SparseSketch:
    """CountSketch (Clarkson-Woodruff sparse embedding): one +-1 per column.

    Row ``i`` of A is added, with a random sign, to one random row of the
    sketch: O(nnz(A)) work, a Numba scatter-add. A subspace embedding needs
    ``sketch_size`` of order ``d^2`` in the worst case (collisions of
    high-leverage rows); in practice a few times ``d`` suffice for incoherent
    matrices. Prefer :func:`sparse_sign` when rows may be coherent.

    Parameters
    ----------
    sketch_size, n_rows : int
        Shape of the sketch.
    random_state : None, int, Generator or SeedSequence

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
    m, n = check_sizes(sketch_size, n_rows)
    return SparseSketch(m, n, draw_seed(random_state), 1, "countsketch")


def sparse_sign(
    sketch_size: int, n_rows: int, *, nnz_per_col: int = 8, random_state: Any = None
) -> SparseSketch:
    """Sparse sign embedding (SJLT/OSNAP): ``nnz_per_col`` entries ``+-1/sqrt(z)`` per column.

    The ``z`` non-zeros of each column fall in distinct row bands (OSNAP's
    block construction), so they never collide. With ``z`` of 4 to 8 and
    ``sketch_size`` a small multiple of ``d`` it embeds as well as a Gaussian
    sketch at ``z`` times CountSketch's cost, O(z nnz(A)), and, unlike
    CountSketch, copes with coherent rows [1]_.

    Parameters
    ----------
    sketch_size, n_rows : int
        Shape of the sketch.
    nnz_per_col : int, default=8
        Non-zeros per column, ``z``; at most ``sketch_size``.
    random_state : None, int, Generator or SeedSequence

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
    >>> int(S.toarray().astype(bool).sum(axis=0).max())
    4
    """
    m, n = check_sizes(sketch_size, n_rows)
    z = check_positive_int(nnz_per_col, "nnz_per_col")
    return SparseSketch(m, n, draw_seed(random_state), z, "sparse_sign")
