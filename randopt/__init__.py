"""randopt: randomized numerical linear algebra and sub-sampled second-order optimization.

Importing randopt compiles nothing and imports no subpackage: each public
name below is imported on first access (PEP 562, as SciPy loads its
subpackages), so ``import randopt.datasets`` does not load the solvers, and
Numba kernels compile (or load from their on-disk cache) on first use.

Layers, bottom to top: ``randopt.operands`` (the matrices the algorithms
read), ``randopt.sketch``, ``randopt.oracles``, ``randopt.optimize``;
``randopt.norms`` on the sketches; ``randopt.estimators`` and
``randopt.datasets`` on top.

Examples
--------
>>> import randopt
>>> randopt.datasets.get_data_home("/data").as_posix()  # imports randopt.datasets
'/data'
>>> randopt.lstsq is randopt.sketch.lstsq
True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Public name -> module that defines it (a subpackage maps to itself).
_LAZY = {
    "datasets": "randopt.datasets",
    "estimators": "randopt.estimators",
    "norms": "randopt.norms",
    "operands": "randopt.operands",
    "optimize": "randopt.optimize",
    "oracles": "randopt.oracles",
    "sketch": "randopt.sketch",
    "SketchedLinearRegression": "randopt.estimators",
    "SubsampledNewtonClassifier": "randopt.estimators",
    "lstsq": "randopt.sketch",
}

__all__ = [
    "SketchedLinearRegression",
    "SubsampledNewtonClassifier",
    "datasets",
    "estimators",
    "lstsq",
    "norms",
    "operands",
    "optimize",
    "oracles",
    "sketch",
    "__version__",
]

if TYPE_CHECKING:  # static tools see the eager imports
    from . import datasets, estimators, norms, operands, optimize, oracles, sketch
    from .estimators import SketchedLinearRegression, SubsampledNewtonClassifier
    from .sketch import lstsq


def __getattr__(name: str) -> Any:
    try:
        module_name = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'randopt' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if module_name == f"randopt.{name}" else getattr(module, name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
