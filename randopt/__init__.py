"""randopt: randomized numerical linear algebra and sub-sampled second-order optimization.

Importing randopt compiles nothing: Numba kernels compile (or load from their
on-disk cache) on first use.
"""

from . import datasets, norms, optimize, oracles, sketch
from .estimators import SketchedLinearRegression, SubsampledNewtonClassifier
from .sketch import lstsq

__version__ = "0.1.0"

__all__ = [
    "SketchedLinearRegression",
    "SubsampledNewtonClassifier",
    "datasets",
    "lstsq",
    "norms",
    "optimize",
    "oracles",
    "sketch",
    "__version__",
]
