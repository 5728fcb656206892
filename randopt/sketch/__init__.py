"""Layer 1: sketches, row sampling, leverage scores and sketched least squares."""

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

__all__ = [
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
