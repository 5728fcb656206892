"""ConvNorm: channel-wise normalisation of a convolution in the Fourier domain.

Liu, Chen, Qu, et al. [1]_ precondition each output channel ``o`` of a
circular multichannel convolution by ``(sum_i C_(o,i) C_(o,i)^T)^(-1/2)``,
with ``C_(o,i)`` the circulant of the kernel ``K[o, i]``.  Every circulant is
diagonalised by the 2-D DFT, so the preconditioner is the per-frequency
scalar ``(sum_i |P_(o,i)(u, v)|^2 + eps)^(-1/2)``: at every frequency the
rows of the ``c_out x c_in`` matrix ``P(u, v)`` become unit vectors, each
output channel becomes a row-orthonormal operator (a tight frame), and the
layer's singular values are pulled towards 1 (all equal to 1 when
``c_out = 1``; in general ``sum_j sigma_j(u, v)**2 = c_out``).  The
normalised layer is again a circular convolution, with a full-size
``n1 x n2`` kernel, which is returned together with its singular values
(measured with the Sedghi et al. theorem of :mod:`randopt.norms.conv`).

References
----------
.. [1] S. Liu, X. Li, Y. Zhai, C. You, Z. Zhu, C. Fernandez-Granda and Q. Qu,
       "Convolutional normalization: improving deep convolutional network
       robustness and training", NeurIPS 2021.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

from .._validation import check_scalar
from .conv_kernel import check_input_shape, check_kernel, kernel_dft
from .conv_singular import conv_singular_values

__all__ = ["conv_normalize"]


def conv_normalize(
    kernel: Any, input_shape: Any, *, layout: str = "oihw", eps: float = 1e-12
) -> OptimizeResult:
    """ConvNorm's Fourier-domain channel-wise normalisation, and the result's spectrum.

    Parameters
    ----------
    kernel : array_like, shape (c_out, c_in, kh, kw)
        Kernel (``layout="hwio"``: ``(kh, kw, c_in, c_out)``).
    input_shape : (n1, n2) or (c_in, n1, n2)
        Spatial size of the periodic input.
    layout : {"oihw", "hwio"}, default="oihw"
    eps : float, default=1e-12
        Added to ``sum_i |P_(o,i)|^2`` before the inverse square root
        (regularises frequencies where an output channel vanishes).

    Returns
    -------
    OptimizeResult
        ``kernel``: the normalised layer as a ``(c_out, c_in, n1, n2)``
        circular-convolution kernel (PyTorch layout); ``scale``: the
        ``(c_out, n1, n2)`` Fourier multipliers; ``singular_values`` and
        ``singular_values_before`` (descending); ``norm`` and
        ``condition_number`` after (largest / smallest nonzero singular
        value, over the ``n1 n2 min(c_out, c_in)`` values).

    References
    ----------
    .. [1] S. Liu et al., "Convolutional normalization: improving deep
           convolutional network robustness and training", NeurIPS 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.norms import conv_normalize
    >>> K = np.random.default_rng(0).standard_normal((1, 3, 3, 3))
    >>> res = conv_normalize(K, (8, 8))
    >>> bool(np.allclose(res.singular_values, 1.0))
    True
    """
    K = check_kernel(kernel, layout)
    n1, n2 = check_input_shape(input_shape, K)
    eps = check_scalar(eps, "eps", low=0.0)
    c_out, c_in = K.shape[:2]
    F, _ = kernel_dft(K, n1, n2, half=False)  # (n1 * n2, c_out, c_in)
    row_energy = np.einsum("foi,foi->fo", F.real, F.real)
    row_energy += np.einsum("foi,foi->fo", F.imag, F.imag)
    scale = 1.0 / np.sqrt(row_energy + eps)  # even in the frequency: the result stays real
    Fn = F * scale[:, :, None]
    spatial = np.fft.ifft2(Fn.reshape(n1, n2, c_out, c_in).transpose(2, 3, 0, 1), axes=(2, 3))
    new_kernel = np.ascontiguousarray(spatial.real)
    before = conv_singular_values(K, (n1, n2))
    after = np.sqrt(np.maximum(np.linalg.eigvalsh(
        np.matmul(Fn.conj().transpose(0, 2, 1), Fn) if c_in <= c_out
        else np.matmul(Fn, Fn.conj().transpose(0, 2, 1))), 0.0)).ravel()
    after = np.sort(after)[::-1]
    positive = after[after > 1e-12 * max(after[0], 1e-300)]
    cond = float(positive[0] / positive[-1]) if positive.size else np.inf
    return OptimizeResult(
        kernel=new_kernel,
        scale=scale.T.reshape(c_out, n1, n2),
        singular_values=after,
        singular_values_before=before,
        norm=float(after[0]),
        condition_number=cond,
    )
