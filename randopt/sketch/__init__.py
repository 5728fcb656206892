"""Layer 1: sketches, row sampling, leverage scores and sketched least squares.

Every function takes its matrix through :func:`randopt.operands.as_operand`,
so dense, sparse, ``LinearOperator`` and row-chunked Dask data are handled by
the operand layer; nothing here tests for array types.
"""

from .base import BLOCK_ROWS, SketchOperator, make_sketch
from .gaussian import GaussianSketch, gaussian
from .leverage import leverage_scores, numerical_rank
from .lstsq import LstsqResult, auto_sketch, lstsq
from .sampling import (
    Sample,
    inclusion_probabilities,
    leverage_probabilities,
    leverage_sample,
    row_norm_probabilities,
    row_norm_sample,
    sample_rows,
    uniform_probabilities,
    uniform_sample,
)
from .sparse import SparseSketch, countsketch, sparse_sign
from .srht import SRHT, srht

__all__ = [
    "BLOCK_ROWS",
    "SketchOperator",
    "GaussianSketch",
    "SRHT",
    "SparseSketch",
    "countsketch",
    "gaussian",
    "make_sketch",
    "sparse_sign",
    "srht",
    "leverage_scores",
    "numerical_rank",
    "LstsqResult",
    "auto_sketch",
    "lstsq",
    "Sample",
    "inclusion_probabilities",
    "leverage_probabilities",
    "leverage_sample",
    "row_norm_probabilities",
    "row_norm_sample",
    "sample_rows",
    "uniform_probabilities",
    "uniform_sample",
]
