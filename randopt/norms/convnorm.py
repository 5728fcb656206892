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

import math
from typing import Any

import numpy as np

from .._validation import check_scalar
from ._conv_kernel import check_input_shape, check_kernel, kernel_dft
from .conv_singular import conv_singular_values
from .result import ConvNormalizeResult

__all__ = ["conv_normalize"]


def conv_normalize(
    kernel: Any, input_shape: Any, *, layout: str = "oihw", eps: float = 1e-12
) -> ConvNormalizeResult:
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
    ConvNormalizeResult
        A :class:`~randopt.norms.NormResult` (``norm``: the largest singular value
        after; no bracket, see the class) with
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
    # Work on 2**-e K with max |entry| in [1/2, 1): the energies ``E = sum |P|^2`` neither
    # overflow (a kernel of 1e300 gave a zero kernel) nor underflow (a kernel of 1e-300
    # lost its normalisation).  With ``K = 2**e K'`` and ``sqrt(eps) = m 2**f``
    # (``g = f - e``), ``P / sqrt(E + eps) = P' / sqrt(E' + m**2 4**g)``, evaluated as
    # ``2**-g P' / sqrt(4**-g E' + m**2)`` when ``g >= 0`` (eps dominates: nothing
    # overflows) and as written otherwise (the eps term can only underflow, harmlessly).
    # The multipliers of the unscaled P are ``2**-e`` times those of P' (exact).
    amax = float(np.abs(K).max())
    e = math.frexp(amax)[1] if amax > 0 else 0
    F, _ = kernel_dft(np.ldexp(K, -e), n1, n2, half=False)  # (n1 * n2, c_out, c_in)
    row_energy = np.einsum("foi,foi->fo", F.real, F.real)
    row_energy += np.einsum("foi,foi->fo", F.imag, F.imag)
    m, f = math.frexp(math.sqrt(eps))
    g = f - e
    with np.errstate(divide="ignore", over="ignore", under="ignore"):
        if eps > 0 and g >= 0:
            inv = np.ldexp(1.0 / np.sqrt(np.ldexp(row_energy, -2 * g) + m * m), -g)
        else:
            denom = np.sqrt(row_energy + math.ldexp(m * m, 2 * g) if eps > 0 else row_energy)
            # a frequency where an output channel vanishes (eps = 0) keeps multiplier 0
            inv = np.where(denom > 0, 1.0 / np.where(denom > 0, denom, 1.0), 0.0)
        # even in the frequency: the result stays real
        Fn = F * inv[:, :, None]
        scale = np.ldexp(inv, -e)
    spatial = np.fft.ifft2(Fn.reshape(n1, n2, c_out, c_in).transpose(2, 3, 0, 1), axes=(2, 3))
    new_kernel = np.ascontiguousarray(spatial.real)
    before = conv_singular_values(K, (n1, n2))
    # Gram eigenvalues of 2**-h Fn (max |entry| in [1/2, 1)), scaled back: squaring Fn
    # itself under- or overflows far from 1.
    fmax = float(np.abs(Fn).max())
    h = math.frexp(fmax)[1] if fmax > 0 else 0
    Fs = np.ldexp(Fn.real, -h) + 1j * np.ldexp(Fn.imag, -h)
    after = np.sqrt(np.maximum(np.linalg.eigvalsh(
        np.matmul(Fs.conj().transpose(0, 2, 1), Fs) if c_in <= c_out
        else np.matmul(Fs, Fs.conj().transpose(0, 2, 1))), 0.0)).ravel()
    after = np.sort(after)[::-1]
    positive = after[after > 1e-12 * after[0]] if after[0] > 0 else after[:0]
    cond = float(positive[0] / positive[-1]) if positive.size else np.inf
    with np.errstate(over="ignore", under="ignore"):
        after = np.ldexp(after, h)
    return ConvNormalizeResult(
        norm=float(after[0]), lower=0.0, upper=math.inf, upper_kind="none",
        failure_probability=0.0, n_matvec=0, nit=0, converged=True, method="fft",
        kernel=new_kernel,
        scale=scale.T.reshape(c_out, n1, n2),
        singular_values=after,
        singular_values_before=before,
        condition_number=cond,
    )
