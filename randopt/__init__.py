"""randopt: randomized numerical linear algebra and sub-sampled second-order optimization.

Importing randopt compiles nothing: Numba kernels compile (or load from their
on-disk cache) on first use.
"""

from . import datasets, optimize, oracles, sketch
from .sketch import lstsq

__version__ = "0.1.0"

__all__ = ["datasets", "lstsq", "optimize", "oracles", "sketch", "__version__"]
