"""Deprecated alias of :mod:`randopt.norms._spectral_exact`, a helper module private to
:mod:`randopt.norms` since issue 17 (helper modules are ``_name.py``; plain modules are
the public ones whose names the package exports).  Removed in the next release.
"""

from .._deprecation import forward_attributes
from . import _spectral_exact

__getattr__ = forward_attributes(__name__, _spectral_exact)
