"""Spectral-norm control of weights: Gouk et al.'s projection and Miyato et al.'s
spectral normalisation, for dense matrices and convolution kernels.

``spectral_clip`` (Gouk, Frank, Pfahringer and Cree [1]_) rescales ``W`` to
``W / max(1, ||W|| / max_norm)`` after each optimiser step, with ``||W||``
the exact norm (dense: LAPACK; convolution: :func:`conv_spectral_norm`,
which for circular padding is exact and otherwise an upper bound, so the
constraint always holds).  ``mode="svd"`` for dense matrices gives the
Frobenius-nearest matrix in the spectral ball instead: the singular values
clipped at ``max_norm``.

``SpectralNormalizer`` (Miyato, Kataoka, Koyama and Yoshida [2]_) keeps the
power-iteration vector between calls and does one step per call, which is
cheap when ``W`` changes slowly (training); ``sigma_`` is then a Rayleigh
quotient, a lower bound on ``||W||``.  For a convolution kernel the vector
is an input image and the step uses the convolution operator itself
(FFT), so ``sigma_`` bounds the layer's true norm from below, unlike
PyTorch's ``spectral_norm``, which iterates on the reshaped
``c_out x (c_in kh kw)`` matrix (pytorch issues #99149, #13505).

References
----------
.. [1] H. Gouk, E. Frank, B. Pfahringer and M. J. Cree, "Regularisation of
       neural networks by enforcing Lipschitz continuity", Mach. Learn. 110
       (2021).
.. [2] T. Miyato, T. Kataoka, M. Koyama and Y. Yoshida, "Spectral
       normalization for generative adversarial networks", ICLR 2018.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import check_choice, check_matrix, check_random_state, check_scalar
from ._conv_kernel import LAYOUTS, check_input_shape, check_kernel, check_padding, kernel_exponent
from .conv import conv_spectral_norm
from .conv_operator import ConvOperator
from .spectral import spectral_norm

__all__ = ["spectral_clip", "SpectralNormalizer"]


def _shrink(A: np.ndarray, e: int, norm_s: float, c: float, abs_terms: float) -> np.ndarray:
    """``A / max(1, ||A|| / c)`` given an upper bound ``norm_s`` on ``||2**-e A||``.

    Evaluated so that nothing leaves the float range: with ``c = c_m 2**c_e``
    (``c_m`` in [1/2, 1)), ``||A|| > c`` iff ``norm_s > c_m 2**(c_e - e)`` (a comparison
    that saturates correctly), and then ``A c / ||A|| = 2**c_e (2**-e A) (c_m / norm_s)``:
    the factors are of moderate size and the final power of two puts the result where
    ``c`` is.  (``A / inf`` gave a zero matrix for a norm beyond the float range.)
    The constraint ``||result|| <= c`` survives rounding: the factor is shrunk by
    ``2**-52 (sqrt(abs_terms) + 3)`` relative (entrywise rounding ``u |x|`` has spectral
    norm at most ``u ||x||_F``) and by ``abs_terms 2**-1075`` absolute (entries rounded
    in the subnormal range); a ``c`` below what can be kept gives the zero matrix.
    """
    out = np.array(A, dtype=np.float64)  # a copy: the caller's array is never returned
    if norm_s == 0.0:
        return out
    c_m, c_e = math.frexp(c)
    with np.errstate(over="ignore", under="ignore"):
        if not norm_s > float(np.ldexp(c_m, c_e - e)):
            return out
        rel = 2.0**-52 * (math.sqrt(abs_terms) + 3)
        target = c_m * (1 - rel) - abs_terms * float(np.ldexp(1.0, -1075 - c_e))
        if not target > 0:
            return np.zeros_like(out)
        return np.ldexp(np.ldexp(A, -e) * (target / norm_s), c_e)


def spectral_clip(
    W: Any,
    max_norm: float,
    *,
    input_shape: Any = None,
    layout: str = "oihw",
    padding: Any = "circular",
    stride: Any = 1,
    mode: str = "scale",
) -> np.ndarray:
    """Project weights onto ``{W : ||W||_2 <= max_norm}`` (Gouk et al.).

    Parameters
    ----------
    W : array_like
        Dense ``(out, in)`` matrix, or a 4-D convolution kernel (then
        ``input_shape`` is required).
    max_norm : float
        The allowed spectral norm (Lipschitz constant of the layer).
    input_shape : (n1, n2) or (c_in, n1, n2), optional
        Input size of a convolution kernel.
    layout, padding, stride
        As in :func:`randopt.norms.conv_spectral_norm`.
    mode : {"scale", "svd"}, default="scale"
        ``"scale"``: ``W / max(1, ||W|| / max_norm)`` [1]_ (dense or conv).
        ``"svd"``: clip the singular values (dense only; the Euclidean
        projection).

    Returns
    -------
    ndarray
        The projected weights, float64, same shape (and layout) as ``W``.
        ``"scale"`` divides by the certified *upper* bound on ``||W||`` (dense
        SVD with its margin, or :func:`conv_spectral_norm`), so the
        constraint holds.

    References
    ----------
    .. [1] H. Gouk, E. Frank, B. Pfahringer and M. J. Cree, "Regularisation of
           neural networks by enforcing Lipschitz continuity", Mach. Learn. 110
           (2021).

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.norms import spectral_clip
    >>> W = np.random.default_rng(0).standard_normal((20, 10))
    >>> bool(np.linalg.norm(spectral_clip(W, 1.0), 2) <= 1.0 + 1e-12)
    True
    """
    c = check_scalar(max_norm, "max_norm", low=0.0, low_inclusive=False)
    mode = check_choice(mode, "mode", ("scale", "svd"))
    arr = np.asarray(W) if hasattr(W, "__array__") or isinstance(W, (list, tuple)) else None
    if arr is None:
        raise TypeError(f"W must be an array, got {type(W).__name__}")
    if arr.ndim == 4:
        if input_shape is None:
            raise ValueError(
                "W is a 4-D convolution kernel: pass input_shape=(n1, n2) (the layer's "
                "norm depends on the input size)"
            )
        if mode != "scale":
            raise ValueError("mode='svd' is for dense matrices; use mode='scale' for kernels")
        K = check_kernel(arr, layout, name="W")
        method = "exact" if padding == "circular" and stride in (1, (1, 1)) else "gram"
        # The upper bound: the constraint holds whatever the padding.
        e = kernel_exponent(K)
        norm_s = conv_spectral_norm(np.ldexp(K, -e), input_shape, method=method,
                                    padding=padding, stride=stride).upper
        # ||conv(E)|| <= sum |E_ij| (each tap is a shift): K.size terms
        return _shrink(np.asarray(arr, dtype=np.float64), e, norm_s, c, float(K.size) ** 2)
    A = check_matrix(arr, "W", accept_sparse=False).astype(np.float64, copy=False)
    if mode == "scale":
        top = float(np.abs(A).max())
        e = math.frexp(top)[1] if top > 0 else 0
        norm_s = spectral_norm(np.ldexp(A, -e), method="exact").upper
        return _shrink(A, e, norm_s, c, float(A.shape[0] * A.shape[1]))
    # In the scale of 2**-e A (exact), clipped at c 2**-e less the rounding of the SVD
    # and of the product U diag(s) V^T (relative, 8 (m + n) eps) and of a result in the
    # subnormal range (m n 2**-1075 absolute): the constraint holds after rounding, and
    # nothing over- or underflows on the way.
    top = float(np.abs(A).max())
    e = math.frexp(top)[1] if top > 0 else 0
    U, sv, Vt = np.linalg.svd(np.ldexp(A, -e), full_matrices=False)
    m, n = A.shape
    with np.errstate(over="ignore", under="ignore"):
        c_s = float(np.ldexp(c, -e))
        if sv[0] <= c_s:
            return np.array(A, dtype=np.float64)
        c_s = c_s * (1 - 8 * (m + n) * 2.0**-52) - m * n * float(np.ldexp(1.0, -1075 - e))
        if not c_s > 0:
            return np.zeros_like(A)
        return np.ldexp((U * np.minimum(sv, c_s)) @ Vt, e)


class SpectralNormalizer:
    """Miyato et al.'s spectral normalisation with a persistent power vector.

    Parameters
    ----------
    n_power_iterations : int, default=1
        Power steps per call.
    input_shape : (n1, n2) or (c_in, n1, n2), optional
        Required for 4-D convolution kernels: the power vector is then an
        input image and the step runs on the convolution operator.
    layout, padding, stride
        As in :func:`randopt.norms.conv_spectral_norm`.
    eps : float, default=1e-12
        Floor on ``sigma`` before dividing (0 for none: weights of norm below
        ``eps`` are otherwise scaled by ``1 / eps``, not normalised).
    random_state : None, int or Generator
        Seed of the initial vector.

    Attributes
    ----------
    sigma_ : float
        Latest estimate ``||W v||`` with ``||v|| = 1``: a lower bound on the
        spectral norm of the ``W`` it was computed for.
    v_ : ndarray
        Persistent right vector (input-shaped for kernels).
    n_calls_ : int

    References
    ----------
    .. [1] T. Miyato, T. Kataoka, M. Koyama and Y. Yoshida, "Spectral
           normalization for generative adversarial networks", ICLR 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.norms import SpectralNormalizer
    >>> W = np.random.default_rng(0).standard_normal((30, 20))
    >>> sn = SpectralNormalizer(random_state=0)
    >>> for _ in range(50):
    ...     Wn = sn(W)
    >>> bool(abs(np.linalg.norm(Wn, 2) - 1) < 1e-3)
    True
    """

    def __init__(
        self,
        n_power_iterations: int = 1,
        *,
        input_shape: Any = None,
        layout: str = "oihw",
        padding: Any = "circular",
        stride: Any = 1,
        eps: float = 1e-12,
        random_state: Any = None,
    ):
        self.n_power_iterations = check_scalar(n_power_iterations, "n_power_iterations",
                                               kind=int, low=1)
        if input_shape is not None:
            if isinstance(input_shape, (str, bytes)) or not hasattr(input_shape, "__len__") \
                    or len(input_shape) not in (2, 3):
                raise TypeError(
                    f"input_shape must be (n1, n2) or (c_in, n1, n2), got {input_shape!r}")
            input_shape = tuple(check_scalar(n, "input_shape", kind=int, low=1)
                                for n in input_shape)
        self.input_shape = input_shape
        self.layout = check_choice(layout, "layout", tuple(LAYOUTS))
        self.padding = padding
        self.stride = stride
        self.eps = check_scalar(eps, "eps", low=0.0)
        self._rng = check_random_state(random_state)
        self.v_: np.ndarray | None = None
        self.sigma_: float = math.nan
        self.n_calls_ = 0

    def _operator(self, W: Any):
        """``(operator of 2**-e W, W as float64, e)``: the power steps run on the rescaled
        weights (exact), so that no square under- or overflows."""
        arr = np.asarray(W)
        if arr.ndim == 4:
            if self.input_shape is None:
                raise ValueError(
                    "a 4-D kernel needs input_shape: the layer's norm depends on the input "
                    "size (reshaping the kernel, as torch's spectral_norm does, bounds nothing)"
                )
            K = check_kernel(arr, self.layout, name="W")
            shape = check_input_shape(self.input_shape, K)
            mode, pads, stride = check_padding(self.padding, self.stride, K)
            e = kernel_exponent(K)
            op = ConvOperator(np.ldexp(K, -e), shape, mode, pads, stride)
            return op, np.asarray(arr, dtype=np.float64), e
        A = check_matrix(arr, "W", accept_sparse=False).astype(np.float64, copy=False)
        top = float(np.abs(A).max())
        e = math.frexp(top)[1] if top > 0 else 0
        return np.ldexp(A, -e), A, e

    def estimate(self, W: Any) -> float:
        """Advance the power vector on ``W`` and return ``sigma_`` (no rescaling of ``W``).

        Parameters
        ----------
        W : array_like
            Dense matrix, or a 4-D kernel (with ``input_shape``).

        Returns
        -------
        float
            ``||W v||`` for the advanced unit vector ``v`` (a lower bound on
            ``||W||_2`` up to rounding).
        """
        op, _, e = self._operator(W)
        n = op.shape[1]
        if self.v_ is None or self.v_.size != n:
            v = self._rng.standard_normal(n)
        else:
            v = self.v_.ravel()
        v = v / np.linalg.norm(v)
        for _ in range(self.n_power_iterations):
            w = op.T @ (op @ v)
            nw = float(np.linalg.norm(w))
            if nw == 0.0:
                break
            v = w / nw
        sigma_s = float(np.linalg.norm(op @ v))
        with np.errstate(over="ignore", under="ignore"):
            # beyond the float range: inf (math.ldexp raised OverflowError)
            self.sigma_ = float(np.ldexp(sigma_s, e))
        self._scaled = (sigma_s, e)
        self.v_ = v
        self.n_calls_ += 1
        return self.sigma_

    def __call__(self, W: Any) -> np.ndarray:
        """``W / sigma`` with ``sigma`` from one (or ``n_power_iterations``) step.

        Parameters
        ----------
        W : array_like
            Dense matrix, or a 4-D kernel (with ``input_shape``).

        Returns
        -------
        ndarray
            ``W / max(sigma_, eps)``, float64, the shape of ``W``.
        """
        self.estimate(W)
        _, arr, _ = self._operator(W)
        # W / max(sigma, eps) in the scale of 2**-e W (exact): a sigma beyond the float
        # range (inf) or below it (0) would otherwise give 0 or a 1 / eps blow-up.
        sigma_s, e = self._scaled
        with np.errstate(over="ignore", under="ignore"):
            denom = max(sigma_s, float(np.ldexp(self.eps, -e)))
            if denom == 0.0:
                return np.array(arr, dtype=np.float64)
            return np.ldexp(arr, -e) / denom
