"""Convolution kernels, input shapes and paddings: the checks, and the kernel's DFT.

A convolutional layer with kernel ``K`` (``c_out x c_in x kh x kw``, PyTorch's
layout) acting on ``c_in x n1 x n2`` images with circular padding and stride 1
is block doubly-circulant; the 2-D DFT diagonalises it into the
``c_out x c_in`` matrices

    P(u, v) = sum_(a, b) K[:, :, a, b] exp(-2 pi i (u a / n1 + v b / n2))

(Sedghi, Gupta and Long [1]_).  :func:`kernel_dft` builds them by a small
matrix product with the ``kh x kw`` DFT factors, directly in
``(frequency, c_out, c_in)`` order, and by default only on the half grid
``v <= n2 // 2``: a real kernel gives ``P(-u, -v) = conj(P(u, v))``, whose
singular values are the same, so each half-grid frequency off the
self-conjugate lines counts twice (the multiplicities are returned).

Rounding: each computed entry of ``P`` has absolute error at most
``gamma_(kh kw + 8) sum_(a, b) |K[o, i, a, b]|`` (a sum of ``kh kw``
products with unit-modulus factors, each computed to a few ulps), so
``||P_hat(u, v) - P(u, v)||_2 <= gamma_(kh kw + 8) ||S||_F`` with
``S[o, i] = sum_(a, b) |K[o, i, a, b]|`` (:func:`dft_error_bound`).

References
----------
.. [1] H. Sedghi, V. Gupta and P. M. Long, "The singular values of
       convolutional layers", ICLR 2019.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from .._validation import check_choice, check_scalar
from ._rounding import frobenius_upper, gamma

__all__ = [
    "LAYOUTS",
    "check_input_shape",
    "check_kernel",
    "check_padding",
    "dft_error_bound",
    "frequency_gram",
    "kernel_dft",
    "kernel_exponent",
    "serial_blas",
]

#: Accepted kernel layouts and the canonical name of each.
LAYOUTS = {"oihw": "oihw", "pytorch": "oihw", "torch": "oihw", "hwio": "hwio", "tf": "hwio"}


def check_kernel(kernel: Any, layout: str = "oihw", name: str = "kernel") -> np.ndarray:
    """A finite float64 kernel in ``(c_out, c_in, kh, kw)`` order.

    Parameters
    ----------
    kernel : array_like, 4-D
        Torch tensors and anything with ``__array__`` are read with
        :func:`numpy.asarray`.
    layout : {"oihw", "hwio"}, default="oihw"
        ``"oihw"`` (PyTorch; aliases ``"pytorch"``, ``"torch"``) or ``"hwio"``
        (TensorFlow and the ``k x k x m_in x m_out`` of Sedghi et al.;
        alias ``"tf"``).
    name : str, default="kernel"
        Argument name for error messages.

    Returns
    -------
    ndarray of shape (c_out, c_in, kh, kw), float64, C-contiguous
        A new array (the caller's kernel is never written).

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.norms._conv_kernel import check_kernel
    >>> check_kernel(np.ones((3, 3, 2, 4)), layout="hwio").shape
    (4, 2, 3, 3)
    """
    layout = check_choice(layout.lower() if isinstance(layout, str) else layout, "layout",
                          tuple(LAYOUTS))
    if kernel is None or not (hasattr(kernel, "__array__") or isinstance(kernel, (list, tuple))):
        raise TypeError(
            f"{name} must be an array (numpy, torch, ...), got {type(kernel).__name__}"
        )
    K = np.asarray(kernel)
    if K.dtype == object or np.issubdtype(K.dtype, np.complexfloating):
        raise TypeError(f"{name} must hold real numbers, got dtype {K.dtype}")
    if not (np.issubdtype(K.dtype, np.number) or K.dtype == np.bool_):
        raise TypeError(f"{name} must hold real numbers, got dtype {K.dtype}")
    if K.ndim != 4:
        raise ValueError(
            f"{name} must be 4-D, (c_out, c_in, kh, kw) for layout='oihw' or "
            f"(kh, kw, c_in, c_out) for layout='hwio'; got shape {K.shape}"
        )
    if K.size == 0:
        raise ValueError(f"{name} is empty (shape {K.shape})")
    K = K.astype(np.float64)  # always a copy
    if LAYOUTS[layout] == "hwio":
        K = K.transpose(3, 2, 0, 1)
    if not np.isfinite(K).all():
        raise ValueError(f"{name} contains NaN or infinity")
    return np.ascontiguousarray(K)


def _int_pair(value: Any, name: str, low: int) -> tuple[int, int]:
    if isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool):
        value = (value, value)
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    return tuple(check_scalar(v, name, kind=int, low=low) for v in value)  # type: ignore


def check_input_shape(
    input_shape: Any, K: np.ndarray, *, allow_smaller: bool = False
) -> tuple[int, int]:
    """The spatial size ``(n1, n2)`` from ``(n1, n2)``, ``(c_in, n1, n2)`` or an int.

    Parameters
    ----------
    input_shape : int, (n1, n2) or (c_in, n1, n2)
        Integers (``6.9`` is refused, not truncated), at least the kernel's
        ``kh x kw`` unless ``allow_smaller``; a three-element shape must
        agree with the kernel's ``c_in``.
    K : ndarray of shape (c_out, c_in, kh, kw)
        A checked kernel.
    allow_smaller : bool, default=False
        Accept inputs smaller than the kernel.

    Returns
    -------
    (int, int)
        The spatial size ``(n1, n2)``.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.norms._conv_kernel import check_input_shape
    >>> check_input_shape((2, 8, 6), np.ones((4, 2, 3, 3)))
    (8, 6)
    """
    if isinstance(input_shape, (numbers.Integral, np.integer)) and not isinstance(
        input_shape, bool
    ):
        input_shape = (input_shape, input_shape)
    if isinstance(input_shape, (str, bytes)) or not hasattr(input_shape, "__len__"):
        raise TypeError(
            f"input_shape must be (n1, n2) or (c_in, n1, n2), got {input_shape!r}"
        )
    if len(input_shape) not in (2, 3):
        raise ValueError(f"input_shape must be (n1, n2) or (c_in, n1, n2), got {input_shape!r}")
    shape = tuple(check_scalar(s, "input_shape", kind=int, low=1) for s in input_shape)
    if len(shape) == 3:
        if shape[0] != K.shape[1]:
            raise ValueError(
                f"input_shape has {shape[0]} channels but the kernel has c_in = {K.shape[1]} "
                "(check the layout argument)"
            )
        shape = shape[1:]
    kh, kw = K.shape[2:]
    if not allow_smaller and (shape[0] < kh or shape[1] < kw):
        raise ValueError(
            f"input of spatial size {shape} is smaller than the {kh} x {kw} kernel; "
            "check input_shape and the kernel layout"
        )
    return shape  # type: ignore[return-value]


def check_padding(
    padding: Any, stride: Any, K: np.ndarray
) -> tuple[str, tuple[int, int], tuple[int, int]]:
    """``(mode, pads, stride)`` from ``padding`` and ``stride``.

    Parameters
    ----------
    padding : {"circular", "zeros"} or int or (int, int)
        Non-negative integers for explicit zero padding.
    stride : int or (int, int)
        Positive integers.
    K : ndarray of shape (c_out, c_in, kh, kw)
        A checked kernel (``"zeros"`` pads ``kh // 2, kw // 2``).

    Returns
    -------
    mode : {"circular", "zeros"}
    pads : (int, int)
    stride : (int, int)

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.norms._conv_kernel import check_padding
    >>> check_padding("zeros", 2, np.ones((1, 1, 3, 5)))
    ('zeros', (1, 2), (2, 2))
    """
    kh, kw = K.shape[2:]
    stride = _int_pair(stride, "stride", 1)
    if isinstance(padding, str):
        padding = check_choice(padding, "padding", ("circular", "zeros"))
        if padding == "circular":
            return "circular", (0, 0), stride
        return "zeros", (kh // 2, kw // 2), stride
    return "zeros", _int_pair(padding, "padding", 0), stride


def kernel_dft(K: np.ndarray, n1: int, n2: int, *, half: bool = True):
    """``P(u, v)`` for all frequencies, shape ``(n_freq, c_out, c_in)``, and multiplicities.

    Parameters
    ----------
    K : ndarray of shape (c_out, c_in, kh, kw)
        A checked kernel.
    n1, n2 : int
        Size of the periodic grid.
    half : bool, default=True
        Only ``v <= n2 // 2`` (row-major over ``(u, v)``): the other half are
        complex conjugates, with the same singular values.

    Returns
    -------
    F : ndarray of shape (n_freq, c_out, c_in), complex128
    multiplicity : ndarray of shape (n_freq,), int64
        How often each frequency's singular values occur in the full grid.

    References
    ----------
    .. [1] H. Sedghi, V. Gupta and P. M. Long, ICLR 2019, section 2.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.norms._conv_kernel import kernel_dft
    >>> F, mult = kernel_dft(np.ones((2, 3, 1, 1)), 4, 4)
    >>> F.shape, int(mult.sum())
    ((12, 2, 3), 16)
    """
    c_out, c_in, kh, kw = K.shape
    n2h = n2 // 2 + 1 if half else n2
    E1 = np.exp(-2j * np.pi * np.outer(np.arange(n1), np.arange(kh)) / n1)
    E2 = np.exp(-2j * np.pi * np.outer(np.arange(n2h), np.arange(kw)) / n2)
    W = (E1[:, None, :, None] * E2[None, :, None, :]).reshape(n1 * n2h, kh * kw)
    F = (W @ K.reshape(c_out * c_in, kh * kw).T).reshape(n1 * n2h, c_out, c_in)
    if not half:
        return F, np.ones(n1 * n2h, dtype=np.int64)
    mult = np.full((n1, n2h), 2, dtype=np.int64)
    mult[:, 0] = 1
    if n2 % 2 == 0:
        mult[:, -1] = 1
    return F, mult.ravel()


def dft_error_bound(K: np.ndarray) -> float:
    """Bound on ``||P_hat(u, v) - P(u, v)||_2`` for every frequency (module docstring).

    Parameters
    ----------
    K : ndarray of shape (c_out, c_in, kh, kw)
        The kernel whose DFT is computed.

    Returns
    -------
    float
        ``gamma_(kh kw + 8) ||S||_F`` (rounded up), ``S = sum_(a, b) |K_ab|``.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.norms._conv_kernel import dft_error_bound
    >>> 0 < dft_error_bound(np.ones((2, 2, 3, 3))) < 1e-13
    True
    """
    S = np.abs(K).sum(axis=(2, 3))
    kk = K.shape[2] * K.shape[3]
    return gamma(kk + 8) * frobenius_upper(float(np.sqrt(np.sum(S * S))), S.size)


def kernel_exponent(K: np.ndarray) -> int:
    """``e`` with ``2**(e-1) <= max |K| < 2**e`` (0 for a zero kernel).

    Dividing by ``2**e`` is exact and keeps every Gram power in range.

    Parameters
    ----------
    K : ndarray
        A finite kernel.

    Returns
    -------
    int

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.norms._conv_kernel import kernel_exponent
    >>> kernel_exponent(np.full((1, 1, 1, 1), 1e-200))
    -664
    """
    top = float(np.abs(K).max())
    return math.frexp(top)[1] if top > 0 else 0


def serial_blas():
    """A context in which BLAS runs on one thread (threadpoolctl).

    While the Numba kernels run one frequency per thread, multi-threaded BLAS
    calls from inside the parallel loops oversubscribe the cores (OpenBLAS's
    spinning workers starve Numba's), measured 10-50x slower.

    Returns
    -------
    threadpoolctl.threadpool_limits
        A context manager.

    Examples
    --------
    >>> from randopt.norms._conv_kernel import serial_blas
    >>> with serial_blas():
    ...     pass
    """
    return threadpool_limits(limits=1, user_api="blas")


def frequency_gram(F: np.ndarray) -> np.ndarray:
    """Per-frequency Gram matrix on the smaller side (Hermitian PSD).

    Parameters
    ----------
    F : ndarray of shape (n_freq, c_out, c_in), complex

    Returns
    -------
    ndarray of shape (n_freq, c, c), ``c = min(c_out, c_in)``
        ``P^H P`` or ``P P^H``.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.norms._conv_kernel import frequency_gram
    >>> frequency_gram(np.ones((2, 3, 1), dtype=complex)).shape
    (2, 1, 1)
    """
    Fh = np.ascontiguousarray(F.conj().transpose(0, 2, 1))
    if F.shape[2] <= F.shape[1]:
        return np.matmul(Fh, F)
    return np.matmul(F, Fh)
