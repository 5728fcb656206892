"""A convolutional layer as a :class:`scipy.sparse.linalg.LinearOperator` (FFT products).

PyTorch's ``conv2d`` semantics (a cross-correlation),
``y[o, i, j] = sum K[o, c, a, b] x_pad[c, s i + a, s j + b]``, on images of
shape ``(c_in, n1, n2)`` flattened in C order.  ``padding="circular"`` is the
periodic convolution on the ``n1 x n2`` torus; zero padding embeds the image
in a larger zero grid, on which the product is a circular convolution
followed by a restriction to the valid, strided outputs.  Products use real
FFTs and the kernel's DFT (:func:`randopt.norms._conv_kernel.kernel_dft`):
``O(c_in c_out n1 n2 + (c_in + c_out) n1 n2 log(n1 n2))`` each.

References
----------
.. [1] H. Sedghi, V. Gupta and P. M. Long, "The singular values of
       convolutional layers", ICLR 2019.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.sparse.linalg import LinearOperator

from ._conv_kernel import check_input_shape, check_kernel, check_padding, kernel_dft

__all__ = ["ConvOperator", "conv_operator"]


class ConvOperator(LinearOperator):
    """The layer as a LinearOperator on flattened ``(c_in, n1, n2)`` images.

    Parameters
    ----------
    K : ndarray of shape (c_out, c_in, kh, kw)
        A checked kernel (:func:`randopt.norms._conv_kernel.check_kernel`).
    input_shape : (int, int)
    mode : {"circular", "zeros"}
    pads, stride : (int, int)
        As returned by :func:`randopt.norms._conv_kernel.check_padding`.

    References
    ----------
    .. [1] H. Sedghi, V. Gupta and P. M. Long, ICLR 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.norms.conv_operator import ConvOperator
    >>> T = ConvOperator(np.ones((1, 1, 1, 1)), (2, 3), "circular", (0, 0), (1, 1))
    >>> T.shape, (T @ np.arange(6.0)).tolist()
    ((6, 6), [0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    """

    def __init__(self, K: np.ndarray, input_shape: tuple[int, int], mode: str,
                 pads: tuple[int, int], stride: tuple[int, int]):
        c_out, c_in, kh, kw = K.shape
        n1, n2 = input_shape
        self.mode, self.pads, self.stride = mode, pads, stride
        self.in_shape = (c_in, n1, n2)
        self.grid = (n1 + 2 * pads[0], n2 + 2 * pads[1])
        g1, g2 = self.grid
        if mode == "circular":
            o1, o2 = -(-n1 // stride[0]), -(-n2 // stride[1])
            self.valid = (n1, n2)
        else:
            if g1 < kh or g2 < kw:
                raise ValueError(
                    f"the padded input {self.grid} is smaller than the {kh} x {kw} kernel"
                )
            self.valid = (g1 - kh + 1, g2 - kw + 1)
            o1 = (self.valid[0] - 1) // stride[0] + 1
            o2 = (self.valid[1] - 1) // stride[1] + 1
        self.out_shape = (c_out, o1, o2)
        F, _ = kernel_dft(K, g1, g2)
        self.F = F.reshape(g1, g2 // 2 + 1, c_out, c_in)
        super().__init__(np.float64, (c_out * o1 * o2, c_in * n1 * n2))

    def _matvec(self, x):
        c_in, n1, n2 = self.in_shape
        g1, g2 = self.grid
        x = np.asarray(x, dtype=np.float64).reshape(c_in, n1, n2)
        if self.mode != "circular":
            p1, p2 = self.pads
            xp = np.zeros((c_in, g1, g2))
            xp[:, p1 : p1 + n1, p2 : p2 + n2] = x
            x = xp
        X = np.fft.rfft2(x)  # (c_in, g1, g2h)
        Y = np.einsum("uvoi,iuv->ouv", self.F.conj(), X)
        y = np.fft.irfft2(Y, s=(g1, g2))
        y = y[:, : self.valid[0] : self.stride[0], : self.valid[1] : self.stride[1]]
        return y.ravel()

    def _rmatvec(self, y):
        c_in, n1, n2 = self.in_shape
        g1, g2 = self.grid
        y = np.asarray(y, dtype=np.float64).reshape(self.out_shape)
        full = np.zeros((self.out_shape[0], g1, g2))
        full[:, : self.valid[0] : self.stride[0], : self.valid[1] : self.stride[1]] = y
        Y = np.fft.rfft2(full)
        X = np.einsum("uvoi,ouv->iuv", self.F, Y)
        x = np.fft.irfft2(X, s=(g1, g2))
        if self.mode != "circular":
            p1, p2 = self.pads
            x = x[:, p1 : p1 + n1, p2 : p2 + n2]
        return x.ravel()

    def _matmat(self, X):
        return np.column_stack([self._matvec(c) for c in np.asarray(X).T])

    def _rmatmat(self, Y):
        return np.column_stack([self._rmatvec(c) for c in np.asarray(Y).T])

    def _adjoint(self):
        return _ConvAdjoint(self)


class _ConvAdjoint(LinearOperator):
    def __init__(self, op: ConvOperator):
        self.op = op
        super().__init__(np.float64, (op.shape[1], op.shape[0]))

    def _matvec(self, y):
        return self.op._rmatvec(y)

    def _rmatvec(self, x):
        return self.op._matvec(x)


def conv_operator(
    kernel: Any,
    input_shape: Any,
    *,
    padding: Any = "circular",
    stride: Any = 1,
    layout: str = "oihw",
) -> ConvOperator:
    """The convolutional layer as a :class:`scipy.sparse.linalg.LinearOperator`.

    Parameters
    ----------
    kernel : array_like, shape (c_out, c_in, kh, kw)
        Kernel (``layout="hwio"``: ``(kh, kw, c_in, c_out)``).
    input_shape : (n1, n2) or (c_in, n1, n2)
        Spatial size of the input (integers).
    padding : {"circular", "zeros"} or int or (int, int), default="circular"
        ``"circular"``: periodic on the ``n1 x n2`` torus; ``"zeros"``:
        ``kh // 2, kw // 2`` zeros ("same" for odd kernels); an int or pair
        gives the zero padding explicitly.
    stride : int or (int, int), default=1
    layout : {"oihw", "hwio"}, default="oihw"

    Returns
    -------
    ConvOperator
        Shape ``(c_out o1 o2, c_in n1 n2)``; products with real FFTs.

    References
    ----------
    .. [1] H. Sedghi, V. Gupta and P. M. Long, "The singular values of
           convolutional layers", ICLR 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.norms import conv_operator
    >>> K = np.ones((2, 1, 3, 3))
    >>> T = conv_operator(K, (5, 5))
    >>> T.shape
    (50, 25)
    >>> float((T @ np.ones(25))[0])
    9.0
    """
    K = check_kernel(kernel, layout)
    n1, n2 = check_input_shape(input_shape, K)
    mode, pads, stride = check_padding(padding, stride, K)
    return ConvOperator(K, (n1, n2), mode, pads, stride)
