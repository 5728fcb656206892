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

from .operators import (  # noqa: E402
    BLOCK_ROWS,
    SketchOperator,
    countsketch,
    gaussian,
    make_sketch,
    sparse_sign,
    srht,
)

__all__ += [
    "BLOCK_ROWS",
    "SketchOperator",
    "countsketch",
    "gaussian",
    "make_sketch",
    "sparse_sign",
    "srht",
]

from .leverage import leverage_scores, numerical_rank  # noqa: E402
from .lstsq import LstsqResult, auto_sketch, lstsq  # noqa: E402

__all__ += ["leverage_scores", "numerical_rank", "LstsqResult", "auto_sketch", "lstsq"]
