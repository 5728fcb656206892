"""All singular values of a circular 2-D convolution (Sedghi, Gupta and Long).

The singular values of the layer are the union, over the frequencies, of the
singular values of the per-frequency matrices ``P(u, v)``
(:mod:`randopt.norms._conv_kernel`) [1]_.  ``method="gram"`` takes them from
the eigenvalues of the smaller per-frequency Gram matrix (Hermitian
``heevd`` in a Numba kernel, one frequency per thread; absolute accuracy
about ``eps ||K||**2 / sigma`` on the small values), ``method="svd"`` from a
per-frequency SVD (full relative accuracy).  The kernel is divided by a
power of two near its largest entry first (exact), so tiny and huge kernels
neither underflow nor overflow in the Gram matrices.

References
----------
.. [1] H. Sedghi, V. Gupta and P. M. Long, "The singular values of
       convolutional layers", ICLR 2019, theorem 6.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_choice
from ._conv_kernel import (
    check_input_shape,
    check_kernel,
    frequency_gram,
    kernel_dft,
    kernel_exponent,
    serial_blas,
)

__all__ = ["conv_singular_values"]


def conv_singular_values(
    kernel: Any, input_shape: Any, *, layout: str = "oihw", method: str = "gram"
) -> np.ndarray:
    """All singular values of a circular 2-D convolution (Sedghi et al.).

    Parameters
    ----------
    kernel : array_like, shape (c_out, c_in, kh, kw)
        Convolution kernel (``layout="hwio"``: ``(kh, kw, c_in, c_out)``).
    input_shape : (n1, n2) or (c_in, n1, n2)
        Spatial size of the (periodic) input, integers.
    layout : {"oihw", "hwio"}, default="oihw"
    method : {"gram", "svd"}, default="gram"
        ``"gram"``: eigenvalues of the smaller per-frequency Gram matrix
        (fast).  ``"svd"``: per-frequency SVD, full relative accuracy.

    Returns
    -------
    ndarray, shape (n1 * n2 * min(c_out, c_in),)
        Singular values sorted in descending order (the operator has
        ``c_out * n1 * n2`` rows and ``c_in * n1 * n2`` columns; the other
        singular values are zero).

    References
    ----------
    .. [1] H. Sedghi, V. Gupta and P. M. Long, "The singular values of
           convolutional layers", ICLR 2019, theorem 6.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.norms import conv_singular_values
    >>> K = np.random.default_rng(0).standard_normal((4, 3, 3, 3))
    >>> s = conv_singular_values(K, (8, 8))
    >>> s.shape
    (192,)
    >>> s1 = conv_singular_values(K, (8, 8), method="svd")
    >>> bool(np.allclose(s, s1, rtol=0, atol=1e-12 * s1[0]))
    True
    """
    K = check_kernel(kernel, layout)
    n1, n2 = check_input_shape(input_shape, K)
    method = check_choice(method, "method", ("gram", "svd"))
    exponent = kernel_exponent(K)
    F, mult = kernel_dft(np.ldexp(K, -exponent), n1, n2)
    if method == "svd":
        with serial_blas():
            s = np.linalg.svd(F, compute_uv=False)
    else:
        from . import _kernels

        with serial_blas():
            lam = _kernels.frequency_eigvalsh(frequency_gram(F))
        s = np.sqrt(np.maximum(lam, 0.0))
    s = np.repeat(s, mult, axis=0).ravel()
    s.sort()
    return np.ldexp(s[::-1], exponent)
