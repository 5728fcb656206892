"""Norm estimators with certified bounds.

Spectral norms of matrices and operators (:func:`spectral_norm`), of
convolutional layers (:func:`conv_spectral_norm`, :func:`conv_singular_values`),
Lipschitz bounds of networks (:func:`lipschitz_bound`), 2->q norms
(:func:`two_to_q_norm`, certified by sum-of-squares:
:func:`sos_upper_bound`), Hessian spectra (:func:`hessian_eigenvalues`,
:func:`hessian_trace`, :func:`spectral_density`) and spectral control of
weights (:func:`spectral_clip`, :class:`SpectralNormalizer`,
:func:`conv_normalize`).  Numba kernels compile on first use.
"""

from .clip import SpectralNormalizer, spectral_clip
from .conv import conv_spectral_norm
from .conv_operator import conv_operator
from .conv_singular import conv_singular_values
from .convnorm import conv_normalize
from .hessian import hessian_eigenvalues, hessian_trace, spectral_density
from .lipschitz import lipschitz_bound
from .result import (
    ConvNormalizeResult,
    DensityResult,
    EigenvalueResult,
    NormResult,
    SOSResult,
    TraceResult,
)
from .sos import sos_upper_bound
from .sos_certificate import SOSCertificate, verify_sos_certificate
from .spectral import spectral_norm
from .two_to_q import two_to_q_norm

__all__ = [
    "ConvNormalizeResult",
    "DensityResult",
    "EigenvalueResult",
    "NormResult",
    "SOSResult",
    "TraceResult",
    "SpectralNormalizer",
    "conv_normalize",
    "conv_operator",
    "conv_singular_values",
    "conv_spectral_norm",
    "hessian_eigenvalues",
    "hessian_trace",
    "lipschitz_bound",
    "SOSCertificate",
    "sos_upper_bound",
    "verify_sos_certificate",
    "spectral_clip",
    "spectral_density",
    "spectral_norm",
    "two_to_q_norm",
]
