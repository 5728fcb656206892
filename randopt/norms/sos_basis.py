"""Deprecated alias of :mod:`randopt.norms._sos_basis`, a helper module private to
:mod:`randopt.norms` since issue 17 (helper modules are ``_name.py``; plain modules are
the public ones whose names the package exports).  Removed in the next release.
"""

from .._deprecation import forward_attributes
from . import _sos_basis

__getattr__ = forward_attributes(__name__, _sos_basis)
