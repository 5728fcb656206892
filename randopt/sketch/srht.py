"""The subsampled randomized Hadamard (or DCT) transform, exact blockwise.

The Sylvester-ordered Hadamard matrix factors as ``H_N = H_(N/B) kron H_B``
(``B = BLOCK_ROWS``), so ``P H_N D A`` is a sum over row blocks ``b`` of
``(-1)^popcount(i_hi & b) (H_B D_b A_b)[i_lo]`` for each kept row ``i = i_hi B
+ i_lo``. The per-block signs play the part of the left random signs of the
block SRHT of Balabanov et al. [3]_, but here they reproduce the in-memory
SRHT itself rather than a different sketch. The DCT variant is applied
blockwise as explicit cosine rows (``sketch_size`` dense rows: Gaussian-sketch
cost).

References
----------
.. [1] N. Ailon and B. Chazelle, "The fast Johnson-Lindenstrauss transform and
       approximate nearest neighbors", SIAM J. Comput. 39 (2009).
.. [2] J. A. Tropp, "Improved analysis of the subsampled randomized Hadamard
       transform", Adv. Adapt. Data Anal. 3 (2011).
.. [3] O. Balabanov, M. Beaupere, L. Grigori and V. Lederer, "Block
       subsampled randomized Hadamard transform for low-rank approximation on
       distributed architectures", arXiv:2210.11295 (2022).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.fft
import scipy.sparse as sp

from ..operands.parallel import threads_for
from . import _kernels
from .base import (
    BLOCK_ROWS,
    GLOBAL_STREAM,
    SketchOperator,
    check_sizes,
    covering_blocks,
    draw_seed,
)

__all__ = ["SRHT", "srht"]


def _parity_signs(x: np.ndarray) -> np.ndarray:
    """``(-1)^popcount(x)`` elementwise (numpy < 2 has no bitwise_count)."""
    parity = np.zeros(x.shape, dtype=np.int64)
    x = x.copy()
    while x.any():
        parity ^= x & 1
        x >>= 1
    return np.where(parity, -1.0, 1.0)


class SRHT(SketchOperator):
    """Subsampled randomized Hadamard (or DCT) transform; build it with :func:`srht`.

    Parameters
    ----------
    sketch_size, n_rows, seed : int
        See :class:`~randopt.sketch.SketchOperator`.
    transform : {"hadamard", "dct"}

    Examples
    --------
    >>> from randopt.sketch import srht
    >>> S = srht(16, 100, random_state=0)
    >>> S.n_transformed  # rows after zero-padding to a power of two
    128
    """

    name = "srht"
    _caches = ("_signs",)

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
        pick = self._block_rng(GLOBAL_STREAM).choice(n_out, sketch_size, replace=False)
        self.rows = np.sort(pick)

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

    def _apply_rows(self, M, lo, hi):
        if self.transform == "dct":
            return self._dct_rows(M, lo, hi)
        m, d = self.sketch_size, M.shape[1]
        dtype = M.dtype
        # H_N = H_(N/B) kron H_B (module docstring): kept row i = i_hi * B + i_lo
        # reads row i_lo of each block's own transform, with sign (-1)^popcount(i_hi & b).
        width = min(BLOCK_ROWS, self.n_transformed)
        shift = width.bit_length() - 1
        i_hi, i_lo = self.rows >> shift, self.rows & (width - 1)
        out = np.zeros((d, m), dtype=dtype)
        with threads_for(0 if d < 2 else width * d * dtype.itemsize):
            for b, s0, s1, o0, o1 in covering_blocks(lo, hi):
                blk = M[o0:o1]
                blk = blk.toarray() if sp.issparse(blk) else blk
                X = np.zeros((d, width), dtype=dtype)
                np.multiply(blk.T, self._block_signs(b)[s0:s1].astype(dtype), out=X[:, s0:s1])
                _kernels.fwht_rows(X)
                out += X[:, i_lo] * _parity_signs(i_hi & b).astype(dtype)
        return np.ascontiguousarray(out.T * dtype.type(1.0 / np.sqrt(m)))

    def _dct_rows(self, M, lo, hi):
        # Orthonormal DCT-II: C[i, j] = c_i cos(pi (2j + 1) i / (2n)), c_0 = sqrt(1/n),
        # c_i = sqrt(2/n). The angle is reduced exactly in integers (mod 4n) first.
        n, m = self.n_rows, self.sketch_size
        dtype = M.dtype
        i = self.rows.astype(np.int64)
        scale = np.where(i == 0, np.sqrt(1.0 / n), np.sqrt(2.0 / n)) * np.sqrt(n / m)
        out = np.zeros((m, M.shape[1]), dtype=np.float64)
        step = 4096
        for c0 in range(lo, hi, step):
            c1 = min(hi, c0 + step)
            j = np.arange(c0, c1, dtype=np.int64)
            phase = ((2 * j[None, :] + 1) * i[:, None]) % (4 * n)
            C = np.cos(phase * (np.pi / (2 * n))) * scale[:, None]
            C *= self._signs_of(c0, c1)
            blk = M[c0 - lo : c1 - lo]
            out += C @ blk if not sp.issparse(blk) else np.asarray((blk.T @ C.T).T)
        return out.astype(dtype, copy=False)

    def _signs_of(self, lo, hi):
        if self._signs is not None:
            return self._signs[lo:hi]
        return np.concatenate(
            [self._block_signs(b)[s0:s1] for b, s0, s1, _, _ in covering_blocks(lo, hi)]
        )

    def _apply(self, M):
        m = self.sketch_size
        d = M.shape[1]
        dtype = M.dtype
        if self.transform == "dct":
            DM = (
                M.multiply(self.signs[:, None]).toarray()
                if sp.issparse(M)
                else M * self.signs[:, None].astype(dtype)
            )
            T = scipy.fft.dct(DM, type=2, norm="ortho", axis=0, workers=-1)
            return (T[self.rows] * np.sqrt(self.n_rows / m)).astype(dtype, copy=False)
        signs = self.signs.astype(dtype)
        # The FWHT runs one row of X per thread: a single column gets one thread.
        with threads_for(0 if d < 2 else self.n_transformed * d * dtype.itemsize):
            if sp.issparse(M):
                # Canonical CSR (the operand summed duplicates): the kernel's
                # assignment out[j, i] = s * a_ij is then the entry itself.
                M = M.tocsr()
                X = _kernels.signed_transpose_pad_csr(
                    M.indptr, M.indices, M.data, signs, d, self.n_transformed
                )
            elif M.flags.f_contiguous and not M.flags.c_contiguous:
                X = np.zeros((d, self.n_transformed), dtype=dtype)
                np.multiply(M.T, signs, out=X[:, : self.n_rows])
            else:
                X = _kernels.signed_transpose_pad(M, signs, self.n_transformed)
            _kernels.fwht_rows(X)
        # H/sqrt(N) is orthogonal; sqrt(N/m) makes E[S^T S] = I, hence 1/sqrt(m) overall.
        out = X[:, self.rows].T * dtype.type(1.0 / np.sqrt(m))
        return np.ascontiguousarray(out)

    def toarray(self) -> np.ndarray:
        return self @ np.eye(self.n_rows)


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
    transform : {"hadamard", "dct"}, default="hadamard"
    random_state : None, int, Generator or SeedSequence

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
    m, n = check_sizes(sketch_size, n_rows)
    return SRHT(m, n, draw_seed(random_state), transform)
