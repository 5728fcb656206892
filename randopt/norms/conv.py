"""Singular values and spectral norms of 2-D multichannel convolutions.

A convolutional layer with kernel ``K`` (``c_out x c_in x kh x kw``) acting on
``c_in x n1 x n2`` images is a linear map; with circular (periodic) padding
and stride 1 it is block doubly-circulant, and Sedghi, Gupta and Long [1]_
show that its singular values are the union, over the ``n1 * n2`` frequencies
``(u, v)``, of the singular values of the ``c_out x c_in`` matrices

    P(u, v) = sum_(a, b) K[:, :, a, b] exp(-2 pi i (u a / n1 + v b / n2)).

The operator here is PyTorch's ``conv2d`` (a cross-correlation); flipping the
kernel conjugates every ``P`` and leaves the singular values unchanged.

What this module adds to the straightforward ``fft2`` + ``numpy.linalg.svd``:

* ``P`` is built by a small matrix product with the ``kh x kw`` DFT factors,
  directly in ``(frequency, c_out, c_in)`` order, and only on the half grid
  ``v <= n2 // 2``: a real kernel gives ``P(-u, -v) = conj(P(u, v))``, whose
  singular values are the same, so each half-grid frequency off the
  self-conjugate lines counts twice;
* exact values come from the eigenvalues of the smaller per-frequency Gram
  matrix (Hermitian ``heevd`` instead of ``gesdd``); ``method="svd"`` keeps
  full relative accuracy for the small singular values;
* the spectral norm by Gram iteration (Delattre, Barthelemy, Araujo and
  Allauzen [2]_): ``||P||_2 <= ||G_t||_F ** (1 / 2**(t+1))`` for the iterates
  ``G_0 = P^H P``, ``G_(t+1) = G_t ** 2`` (rescaled, with the scales kept in
  logarithms, in float64), combined with a deflation bound (below), with an
  ``O(c^2)`` screen (``||P|| <= min(||P||_F, sqrt(||P||_1 ||P||_inf))``) and
  with exact top eigenvalues at the most promising frequencies as the
  certified lower bound; each frequency stops squaring as soon as its bound
  is within ``tol`` of that lower bound, and a frequency still undecided
  after a few squarings (at once for ``c >= 256``) gets its exact top
  eigenvalue instead, so ``"gram"`` never costs much more than ``"exact"``.
  The frequencies run in parallel in Numba kernels
  (:mod:`randopt.norms._kernels`), with BLAS on one thread meanwhile.
  Deflation: for Hermitian PSD ``H``, a unit ``x``,
  ``theta = x^H H x``, ``r = H x - theta x`` and ``mu >= ||H_22||_F`` (the
  compression of ``H`` to the complement of ``x``, whose squared Frobenius
  norm is ``||H||_F^2 - 2 ||H x||^2 + theta^2``),
  ``lambda_max(H) <= (theta + mu)/2 + sqrt(((theta - mu)/2)^2 + ||r||^2)``;
  on ``H = G_0 ** (2**t)`` this is tight to second order in ``||r||``;
* the reshaping bound of Singla and Feizi [3]_,
  ``sqrt(kh kw) * min_j ||R_j||_2`` over four matrix reshapings of ``K``
  (valid for every padding and stride);
* power iteration / Lanczos on the convolution operator itself (FFT-based
  products), for zero padding and strides too, with the bounds of
  :func:`randopt.norms.spectral_norm`.

Zero padding and strides: the layer is a restriction of the circular
convolution on the padded grid, so ``"gram"`` and ``"exact"`` of that
circular operator are *upper bounds* there (reported as such).

References
----------
.. [1] H. Sedghi, V. Gupta and P. M. Long, "The singular values of
       convolutional layers", ICLR 2019.
.. [2] B. Delattre, Q. Barthelemy, A. Araujo and A. Allauzen, "Efficient bound
       of Lipschitz constant for convolutional layers by Gram iteration",
       ICML 2023.
.. [3] S. Singla and S. Feizi, "Fantastic four: differentiable bounds on
       singular values of convolution layers", ICLR 2021.
.. [4] H. Gouk, E. Frank, B. Pfahringer and M. J. Cree, "Regularisation of
       neural networks by enforcing Lipschitz continuity", Machine Learning
       110 (2021).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult
from scipy.sparse.linalg import LinearOperator
from threadpoolctl import threadpool_limits

from .._validation import check_positive_int
from ._bounds import EPS
from .spectral import spectral_norm

__all__ = [
    "check_kernel",
    "conv_operator",
    "conv_singular_values",
    "conv_spectral_norm",
    "kernel_dft",
]

_LAYOUTS = {"oihw": "oihw", "pytorch": "oihw", "torch": "oihw", "hwio": "hwio", "tf": "hwio"}
_NORM_METHODS = ("gram", "exact", "power", "lanczos", "reshape")


def check_kernel(kernel: Any, layout: str = "oihw", name: str = "kernel") -> np.ndarray:
    """A finite float64 kernel in ``(c_out, c_in, kh, kw)`` order.

    ``layout="oihw"`` (PyTorch, the default) or ``"hwio"`` (TensorFlow and the
    ``k x k x m_in x m_out`` of Sedghi et al.); torch tensors and anything with
    ``__array__`` are read with ``numpy.asarray``.
    """
    if not isinstance(layout, str) or layout.lower() not in _LAYOUTS:
        raise ValueError(f"layout must be 'oihw' (PyTorch) or 'hwio', got {layout!r}")
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
    K = K.astype(np.float64)
    if _LAYOUTS[layout.lower()] == "hwio":
        K = K.transpose(3, 2, 0, 1)
    if not np.isfinite(K).all():
        raise ValueError(f"{name} contains NaN or infinity")
    return np.ascontiguousarray(K)


def _check_input_shape(input_shape: Any, K: np.ndarray, *, allow_smaller: bool = False):
    if isinstance(input_shape, numbers.Integral):
        input_shape = (input_shape, input_shape)
    try:
        shape = tuple(int(s) for s in input_shape)
    except TypeError:
        raise TypeError(
            f"input_shape must be (n1, n2) or (c_in, n1, n2), got {input_shape!r}"
        ) from None
    if len(shape) == 3:
        if shape[0] != K.shape[1]:
            raise ValueError(
                f"input_shape has {shape[0]} channels but the kernel has c_in = {K.shape[1]} "
                "(check the layout argument)"
            )
        shape = shape[1:]
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"input_shape must be (n1, n2) or (c_in, n1, n2), got {input_shape!r}")
    kh, kw = K.shape[2:]
    if not allow_smaller and (shape[0] < kh or shape[1] < kw):
        raise ValueError(
            f"input of spatial size {shape} is smaller than the {kh} x {kw} kernel; "
            "check input_shape and the kernel layout"
        )
    return shape


def kernel_dft(K: np.ndarray, n1: int, n2: int, *, half: bool = True):
    """``P(u, v)`` for all frequencies, shape ``(n_freq, c_out, c_in)``.

    With ``half=True`` only ``v <= n2 // 2`` (row-major over ``(u, v)``), and
    the multiplicity of each frequency in the full grid is returned as well.
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


def _serial_blas():
    """BLAS on one thread while the Numba kernels run one frequency per thread:
    multi-threaded BLAS calls from inside parallel loops oversubscribe the cores
    (OpenBLAS's spinning workers starve Numba's), measured 10-50x slower."""
    return threadpool_limits(limits=1, user_api="blas")


def _gram(F: np.ndarray) -> np.ndarray:
    """Per-frequency Gram matrix on the smaller side (Hermitian PSD)."""
    if F.shape[2] <= F.shape[1]:
        Fh = np.ascontiguousarray(F.conj().transpose(0, 2, 1))
        return np.matmul(Fh, F)
    Fh = np.ascontiguousarray(F.conj().transpose(0, 2, 1))
    return np.matmul(F, Fh)


def conv_singular_values(
    kernel: Any, input_shape: Any, *, layout: str = "oihw", method: str = "gram"
) -> np.ndarray:
    """All singular values of a circular 2-D convolution (Sedghi et al.).

    Parameters
    ----------
    kernel : array_like, shape (c_out, c_in, kh, kw)
        Convolution kernel (``layout="hwio"``: ``(kh, kw, c_in, c_out)``).
    input_shape : (n1, n2) or (c_in, n1, n2)
        Spatial size of the (periodic) input.
    layout : {"oihw", "hwio"}, default="oihw"
    method : {"gram", "svd"}, default="gram"
        ``"gram"``: eigenvalues of the smaller per-frequency Gram matrix
        (fast; absolute accuracy about ``sqrt(eps) * ||K||`` on the smallest
        values).  ``"svd"``: per-frequency SVD, full relative accuracy.

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
    """
    K = check_kernel(kernel, layout)
    n1, n2 = _check_input_shape(input_shape, K)
    if method not in ("gram", "svd"):
        raise ValueError(f"method must be 'gram' or 'svd', got {method!r}")
    F, mult = kernel_dft(K, n1, n2)
    if method == "svd":
        with _serial_blas():
            s = np.linalg.svd(F, compute_uv=False)
    else:
        from . import _kernels

        with _serial_blas():
            lam = _kernels.frequency_eigvalsh(_gram(F))
        s = np.sqrt(np.maximum(lam, 0.0))
    s = np.repeat(s, mult, axis=0).ravel()
    s.sort()
    return s[::-1].copy()


def _check_padding(padding: Any, stride: Any, K: np.ndarray):
    kh, kw = K.shape[2:]
    if isinstance(stride, numbers.Integral):
        stride = (stride, stride)
    stride = tuple(check_positive_int(s, "stride") for s in stride)
    if len(stride) != 2:
        raise ValueError(f"stride must be an int or a pair, got {stride!r}")
    if isinstance(padding, str):
        if padding not in ("circular", "zeros"):
            raise ValueError(
                f"padding must be 'circular', 'zeros' or an int / pair, got {padding!r}"
            )
        if padding == "circular":
            return "circular", (0, 0), stride
        return "zeros", (kh // 2, kw // 2), stride
    if isinstance(padding, numbers.Integral):
        padding = (padding, padding)
    pads = tuple(int(p) for p in padding)
    if len(pads) != 2 or min(pads) < 0:
        raise ValueError(f"padding must be non-negative, got {padding!r}")
    return "zeros", pads, stride


class _ConvOperator(LinearOperator):
    """The layer as a LinearOperator on flattened ``(c_in, n1, n2)`` images."""

    def __init__(self, K, input_shape, mode, pads, stride):
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
                raise ValueError("the padded input is smaller than the kernel")
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
        return _Adjoint(self)


class _Adjoint(LinearOperator):
    def __init__(self, op):
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
) -> LinearOperator:
    """The convolutional layer as a :class:`scipy.sparse.linalg.LinearOperator`.

    Acts on images ``x`` of shape ``(c_in, n1, n2)`` flattened in C order and
    returns ``y`` of shape ``(c_out, o1, o2)`` flattened, with PyTorch's
    ``conv2d`` semantics ``y[o, i, j] = sum K[o, c, a, b] x_pad[c, s i + a, s j + b]``.
    ``padding="circular"`` is the periodic convolution on the ``n1 x n2``
    torus; ``"zeros"`` pads ``kh // 2, kw // 2`` zeros ("same" for odd
    kernels); an int or pair gives the zero padding explicitly.  Products
    use real FFTs, ``O(c_in c_out n1 n2 + (c_in + c_out) n1 n2 log(n1 n2))``.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.norms import conv_operator
    >>> K = np.ones((2, 1, 3, 3))
    >>> T = conv_operator(K, (5, 5))
    >>> T.shape
    (50, 25)
    """
    K = check_kernel(kernel, layout)
    n1, n2 = _check_input_shape(input_shape, K)
    mode, pads, stride = _check_padding(padding, stride, K)
    return _ConvOperator(K, (n1, n2), mode, pads, stride)


def _reshape_bound(K: np.ndarray) -> tuple[float, list[float]]:
    c_out, c_in, kh, kw = K.shape
    mats = [
        K.transpose(0, 2, 1, 3).reshape(c_out * kh, c_in * kw),
        K.transpose(0, 3, 1, 2).reshape(c_out * kw, c_in * kh),
        K.reshape(c_out, c_in * kh * kw),
        K.transpose(0, 2, 3, 1).reshape(c_out * kh * kw, c_in),
    ]
    norms = []
    for R in mats:
        G = R.T @ R if R.shape[1] <= R.shape[0] else R @ R.T
        norms.append(math.sqrt(max(float(np.linalg.eigvalsh(G)[-1]), 0.0)))
    factor = math.sqrt(kh * kw) * (1 + 8 * EPS * max(K.shape))
    return factor * min(norms), norms


def _gram_iteration(F: np.ndarray, rtol: float, max_squarings: int):
    """Upper and lower bounds on ``max_f ||F[f]||_2`` by pruned Gram iteration.

    1. Per frequency, ``G_0`` and a Rayleigh quotient after a few power steps.
    2. Exact top eigenvalue at the frequencies with the largest cheap bound
       ``min(||P||_F, sqrt(||P||_1 ||P||_inf))``: a certified lower bound ``L``
       on ``||T||^2`` (it is an eigenvalue of ``T^T T``); frequencies whose
       cheap bound is below ``L (1 + rtol)^2`` are done.
    3. Per frequency, Gram squarings until its upper bound is at most
       ``L (1 + rtol)^2``: most frequencies stop after one or two.  One still
       above after ``switch_after`` squarings (a near-tie with the maximum)
       gets its exact top eigenvalue instead, so the whole never costs more
       than the exact computation.

    Returns ``(upper, lower, per_frequency_upper, log_lower, G0, info)``
    (per-frequency values are logs of eigenvalues of ``G_0``).
    """
    from . import _kernels

    F = np.ascontiguousarray(F, dtype=np.complex128)
    nf_all = F.shape[0]
    gram_left = F.shape[2] <= F.shape[1]
    c = min(F.shape[1], F.shape[2])
    margin = math.log1p(8 * c * EPS * (max_squarings + 2))
    # O(c^2) screen: ||P||_2 <= min(||P||_F, sqrt(||P||_1 ||P||_inf)).  The exact top
    # eigenvalue at the most promising frequencies (3, or 1 for c >= 256) is a certified
    # lower bound;
    # frequencies whose cheap bound is below it never get a Gram matrix.
    absF = np.abs(F)
    cheap = np.minimum(
        np.sqrt(np.einsum("foi,foi->f", absF, absF)),
        np.sqrt(absF.sum(axis=1).max(axis=1) * absF.sum(axis=2).max(axis=1)),
    )
    cheap_log = 2 * np.log(np.maximum(cheap, 1e-300)) + margin
    top = np.argsort(cheap)[-(3 if c < 256 else 1):]
    log_lower = math.log(max(float(np.linalg.eigvalsh(_gram(F[top]))[:, -1].max()), 1e-300))
    log_target0 = log_lower + 2 * math.log1p(rtol)
    keep = cheap_log > (log_target0 if rtol > 0 else log_lower)
    survivors = np.flatnonzero(keep)
    screened_upper = float(cheap_log[~keep].max()) if survivors.size < nf_all else -math.inf
    F = F[survivors]
    if F.shape[0] == 0:
        freq_upper_all = cheap_log
        info = {"squarings": 0, "mean_squarings": 0.0, "n_frequencies": int(nf_all),
                "gram_frequencies": 0, "exact_frequencies": 0}
        log_upper = max(float(cheap_log.max()), log_lower)
        return (math.exp(0.5 * log_upper), math.exp(0.5 * log_lower), freq_upper_all,
                log_lower, None, np.full(nf_all, np.nan), info)
    G0, X, rq = _kernels.frequency_grams(F, gram_left, 8)
    # A squaring costs 8 c^3 flops, a Hermitian eigensolve about 30 c^3 at c = 64 but
    # relatively less for large c (blocked tridiagonalisation): from c = 256 on, an
    # undecided frequency goes straight to the eigensolver (measured: faster there).
    switch_after = 4 if c < 256 else 0
    log_target = log_lower + 2 * math.log1p(rtol)
    freq_upper, freq_lower, steps, exact = _kernels.gram_iteration_bounds(
        G0, X, log_target, max_squarings, margin, switch_after
    )
    log_lower = max(log_lower, float(freq_lower.max()))
    log_upper = max(float(freq_upper.max()), screened_upper, log_lower)
    info = {
        "squarings": int(steps.max()),
        "mean_squarings": float(steps.mean()),
        "n_frequencies": int(nf_all),
        "gram_frequencies": int(F.shape[0]),
        "exact_frequencies": int(np.isfinite(exact).sum()),
    }
    # Per-frequency results refer to the survivors of the screen (G0's rows).
    return (math.exp(0.5 * log_upper), math.exp(0.5 * log_lower), freq_upper, log_lower, G0,
            exact, info)


def conv_spectral_norm(
    kernel: Any,
    input_shape: Any,
    *,
    method: str = "gram",
    padding: Any = "circular",
    stride: Any = 1,
    layout: str = "oihw",
    tol: float = 1e-4,
    maxiter: int | None = None,
    random_state: Any = None,
    return_info: bool = False,
) -> float | OptimizeResult:
    """Spectral norm (largest singular value) of a convolutional layer.

    Parameters
    ----------
    kernel : array_like, shape (c_out, c_in, kh, kw)
        Kernel in PyTorch layout (``layout="hwio"``: ``(kh, kw, c_in, c_out)``).
    input_shape : (n1, n2) or (c_in, n1, n2)
        Spatial size of the input.
    method : {"gram", "exact", "power", "lanczos", "reshape"}, default="gram"
        ``"gram"``: Gram-iteration upper bound [2]_ with deflation and
        frequency pruning, in float64, so it is never below the true norm; the
        iteration stops when ``upper <= (1 + tol) * lower``.  ``"exact"``:
        Sedghi et al.'s theorem [1]_, with the Gram bounds used to skip the
        frequencies that cannot hold the maximum.  ``"power"`` /
        ``"lanczos"``: :func:`randopt.norms.spectral_norm` on the operator
        (:func:`conv_operator`), any padding and stride.  ``"reshape"``:
        ``sqrt(kh kw) min_j ||R_j||`` of Singla and Feizi [3]_.
    padding : {"circular", "zeros"} or int or (int, int), default="circular"
    stride : int or (int, int), default=1
    layout : {"oihw", "hwio"}, default="oihw"
    tol : float, default=1e-4
        Relative bracket width for ``"gram"``; accuracy for ``"power"``,
        ``"lanczos"``.
    maxiter : int, optional
        Squarings for ``"gram"`` (default 30), iterations otherwise.
    random_state : None, int or Generator
        For ``"power"`` and ``"lanczos"``.
    return_info : bool, default=False
        Return an :class:`~scipy.optimize.OptimizeResult` with ``norm``,
        ``lower``, ``upper``, ``exact`` (whether ``norm`` is the exact value
        of *this* layer), ``upper_is_bound``, ``method`` and method details.

    Returns
    -------
    float or OptimizeResult
        ``"gram"`` and ``"reshape"`` return their upper bound as ``norm``;
        ``"exact"`` the exact value (circular, stride 1) or an upper bound
        (otherwise); ``"power"`` / ``"lanczos"`` the certified lower bound.

    References
    ----------
    .. [1] H. Sedghi, V. Gupta and P. M. Long, ICLR 2019.
    .. [2] B. Delattre, Q. Barthelemy, A. Araujo and A. Allauzen, ICML 2023.
    .. [3] S. Singla and S. Feizi, ICLR 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.norms import conv_spectral_norm, conv_singular_values
    >>> K = np.random.default_rng(0).standard_normal((8, 8, 3, 3))
    >>> exact = conv_singular_values(K, (16, 16))[0]
    >>> bound = conv_spectral_norm(K, (16, 16), method="gram")
    >>> bool(exact <= bound <= exact * (1 + 1e-4))
    True
    """
    if method not in _NORM_METHODS:
        raise ValueError(f"method must be one of {_NORM_METHODS}, got {method!r}")
    if not isinstance(tol, numbers.Real) or not (0 < tol < 1):
        raise ValueError(f"tol must lie in (0, 1), got {tol!r}")
    K = check_kernel(kernel, layout)
    n1, n2 = _check_input_shape(input_shape, K)
    mode, pads, stride = _check_padding(padding, stride, K)
    circular_exact = mode == "circular" and stride == (1, 1)
    info: dict[str, Any] = {"method": method, "padding": mode, "stride": stride}
    if method == "reshape":
        bound, norms = _reshape_bound(K)
        info.update(norm=bound, upper=bound, lower=0.0, exact=False, upper_is_bound=True,
                    reshaping_norms=norms)
    elif method in ("power", "lanczos"):
        op = _ConvOperator(K, (n1, n2), mode, pads, stride)
        res = spectral_norm(op, method=method, tol=tol, maxiter=maxiter,
                            random_state=random_state, return_info=True)
        info.update(norm=res.lower, lower=res.lower, upper=res.upper, exact=False,
                    upper_is_bound=True, failure_probability=res.failure_probability,
                    upper_kind=res.upper_kind, nit=res.nit, nmatvec=res.nmatvec,
                    vector=res.v.reshape(K.shape[1], n1, n2))
    else:
        g1, g2 = n1 + 2 * pads[0], n2 + 2 * pads[1]
        F, _ = kernel_dft(K, g1, g2)
        max_sq = 30 if maxiter is None else check_positive_int(maxiter, "maxiter")
        rtol = tol if method == "gram" else 0.0
        with _serial_blas():
            upper, lower, freq_upper, log_lower, G0, exact_lam, details = _gram_iteration(
                F, rtol, max_sq
            )
        info.update(details)
        if method == "gram":
            info.update(norm=upper, upper=upper, lower=lower if circular_exact else 0.0)
            info.update(exact=False, upper_is_bound=True)
        else:
            # Exact: every frequency was either shown to lie below the best lower
            # bound (itself an exact eigenvalue) or gets its exact top eigenvalue.
            from . import _kernels

            known = np.isfinite(exact_lam)
            rest = np.flatnonzero(~known & (freq_upper > log_lower)) if G0 is not None else []
            lam = [math.exp(log_lower)]
            if known.any():
                lam.append(float(exact_lam[known].max()))
            if len(rest):
                with _serial_blas():
                    top = _kernels.frequency_eigvalsh(np.ascontiguousarray(G0[rest]))
                lam.append(float(top[:, -1].max()))
            value = math.sqrt(max(max(lam), 0.0))
            candidates = np.flatnonzero(known | (freq_upper > log_lower))
            info["exact_frequencies"] = int(candidates.size)
            info.update(norm=value, upper=value, lower=value if circular_exact else 0.0,
                        exact=circular_exact, upper_is_bound=True)
    result = OptimizeResult(info)
    return result if return_info else float(result.norm)
