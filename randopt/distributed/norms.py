"""A row-chunked Dask array as the operand of :func:`randopt.norms.spectral_norm`.

:func:`~randopt.norms.spectral_norm` reaches its matrix only through products
``A x`` and ``A^T y`` and three deterministic bounds; :class:`SpectralOperand`
provides them over the row chunks of a Dask array, so the Lanczos, power and
randomized methods run unchanged. Products with ``A^T`` are reductions
returning ``d``-vectors; products with ``A`` return ``n``-vectors to the
client (one or two of them are alive at a time in Golub-Kahan-Lanczos, which
is ``8 n`` bytes each: well below the ``8 n d`` of the data).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .rowmatrix import RowMatrix

__all__ = ["SpectralOperand"]

_DENSE_LIMIT = 10**8


class SpectralOperand:
    """``mv``, ``rmv``, ``deterministic_upper`` and ``dense`` over a row-chunked Dask array."""

    explicit = True
    rowwise = True

    def __init__(self, A: Any):
        self.matrix = RowMatrix(A)
        self.A = self.matrix.array
        self.shape = self.matrix.shape

    def mv(self, x: np.ndarray) -> np.ndarray:
        return self.matrix.matvec(np.asarray(x, dtype=np.float64))

    def rmv(self, y: np.ndarray) -> np.ndarray:
        return np.asarray(self.matrix.rmatvec(np.asarray(y, dtype=np.float64)))

    def deterministic_upper(self) -> float:
        # min(||A||_F, sqrt(||A||_1 ||A||_inf)), all three from one pass.
        fro, one, inf = self.matrix.abs_sums()
        if not (math.isfinite(fro) and math.isfinite(one) and math.isfinite(inf)):
            raise ValueError("A contains NaN or infinity; remove or impute those entries first")
        eps = np.finfo(np.float64).eps
        return min(fro, math.sqrt(one * inf)) * (1 + 4 * eps * max(self.shape))

    def dense(self) -> np.ndarray:
        m, n = self.shape
        if m * n > _DENSE_LIMIT:
            raise ValueError(
                f"method='exact' would densify a {m} x {n} matrix; use method='lanczos'"
            )
        return self.matrix.compute()
