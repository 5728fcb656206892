"""Spectral norm of a 2-D multichannel convolutional layer, with a certified bracket.

:func:`conv_spectral_norm` gathers the methods, each in its module:

``"gram"`` (default)
    Pruned Gram iteration with deflation (:mod:`randopt.norms._conv_gram`,
    Delattre et al. [2]_): a deterministic upper bound within ``tol`` of the
    exact value, usually cheaper than the exact computation.
``"exact"``
    Sedghi, Gupta and Long's theorem [1]_ (:mod:`randopt.norms._conv_kernel`):
    the largest singular value over the frequencies, with the Gram bounds
    used to skip the frequencies that cannot hold the maximum.
``"reshape"``
    Singla and Feizi's bound [3]_ ``sqrt(kh kw) min_j ||R_j||``, valid for
    every padding and stride.
``"power"``, ``"lanczos"``
    :func:`randopt.norms.spectral_norm` on the layer's operator
    (:func:`randopt.norms.conv_operator`): any padding and stride.

Zero padding and strides: the layer is a restriction of the circular
convolution on the padded grid, so ``"gram"`` and ``"exact"`` of that circular
operator are *upper bounds* there (``lower`` is then 0, except for the
Krylov methods).

Scale: the kernel is divided by a power of two near its largest entry
before anything is computed and the results multiplied back (exact), so a
kernel of entries ``1e-200`` or ``1e200`` gives the same relative accuracy as
one of entries ``1``.  Rounding margins: :mod:`randopt.norms._conv_gram` and
:func:`randopt.norms._conv_kernel.dft_error_bound`.

References
----------
.. [1] H. Sedghi, V. Gupta and P. M. Long, "The singular values of
       convolutional layers", ICLR 2019.
.. [2] B. Delattre, Q. Barthelemy, A. Araujo and A. Allauzen, "Efficient bound
       of Lipschitz constant for convolutional layers by Gram iteration",
       ICML 2023.
.. [3] S. Singla and S. Feizi, "Fantastic four: differentiable bounds on
       singular values of convolution layers", ICLR 2021.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import check_choice, check_random_state, check_scalar
from ._conv_gram import gram_iteration, log_margin, reshape_bound
from ._conv_kernel import (
    check_input_shape,
    check_kernel,
    check_padding,
    dft_error_bound,
    kernel_dft,
    kernel_exponent,
    serial_blas,
)
from ._rounding import round_down, round_up, scaled
from .conv_operator import ConvOperator
from .result import NormResult
from .spectral import spectral_norm

__all__ = ["conv_spectral_norm", "CONV_METHODS"]

#: The methods of :func:`conv_spectral_norm`.
CONV_METHODS = ("gram", "exact", "power", "lanczos", "reshape")


def _exact_top(G0, exact_lam, freq_upper, log_lower) -> float:
    """Largest eigenvalue over the frequencies the Gram bounds could not exclude."""
    from . import _kernels

    known = np.isfinite(exact_lam)
    rest = np.flatnonzero(~known & (freq_upper > log_lower)) if G0 is not None else []
    lam = [math.exp(log_lower)]
    if known.any():
        lam.append(float(exact_lam[known].max()))
    if len(rest):
        with serial_blas():
            top = _kernels.frequency_eigvalsh(np.ascontiguousarray(G0[rest]))
        lam.append(float(top[:, -1].max()))
    return math.sqrt(max(max(lam), 0.0))


def conv_spectral_norm(
    kernel: Any,
    input_shape: Any,
    *,
    method: str = "gram",
    padding: Any = "circular",
    stride: Any = 1,
    layout: str = "oihw",
    tol: float = 1e-4,
    max_iter: int | None = None,
    random_state: Any = None,
) -> NormResult:
    """Spectral norm (largest singular value) of a convolutional layer, with a bracket.

    Parameters
    ----------
    kernel : array_like, shape (c_out, c_in, kh, kw)
        Kernel in PyTorch layout (``layout="hwio"``: ``(kh, kw, c_in, c_out)``).
    input_shape : (n1, n2) or (c_in, n1, n2)
        Spatial size of the input (integers).
    method : {"gram", "exact", "power", "lanczos", "reshape"}, default="gram"
        See the module docstring.
    padding : {"circular", "zeros"} or int or (int, int), default="circular"
        As in :func:`randopt.norms.conv_operator`.
    stride : int or (int, int), default=1
    layout : {"oihw", "hwio"}, default="oihw"
    tol : float in (0, 1), default=1e-4
        Relative bracket width for ``"gram"``; accuracy for ``"power"`` and
        ``"lanczos"``.
    max_iter : int, optional
        Squarings for ``"gram"`` and ``"exact"`` (default 30), iterations of
        ``"power"`` / ``"lanczos"`` otherwise.
    random_state : None, int or numpy.random.Generator
        For ``"power"`` and ``"lanczos"``.

    Returns
    -------
    NormResult
        ``norm``: the upper bound for ``"gram"`` and ``"reshape"``, the
        computed value for ``"exact"``, the certified lower bound for
        ``"power"`` / ``"lanczos"``; ``lower``, ``upper``; ``upper_kind``
        (``"exact"`` for ``"exact"`` on a circular stride-1 layer,
        ``"deterministic"`` for the Gram and reshaping bounds and for
        ``"exact"`` elsewhere, ``"probabilistic"`` for the Krylov methods);
        ``failure_probability``; ``n_matvec`` (layer products, Krylov methods
        only); ``nit`` (largest number of squarings, or Krylov iterations);
        ``converged`` (``upper <= (1 + tol) lower``); ``method``; and
        ``padding``, ``stride``, plus ``reshaping_norms`` (``"reshape"``),
        ``vector`` (Krylov methods: the input image attaining ``lower``),
        ``n_frequencies``, ``gram_frequencies``, ``exact_frequencies``,
        ``mean_squarings`` (``"gram"`` / ``"exact"``).

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
    >>> res = conv_spectral_norm(K, (16, 16), method="gram")
    >>> bool(res.lower <= exact <= res.upper <= res.lower * (1 + 1e-4)), res.converged
    (True, True)
    >>> tiny = conv_spectral_norm(K * 1e-200, (16, 16), method="exact")
    >>> bool(abs(tiny.norm / (exact * 1e-200) - 1) < 1e-12)
    True
    """
    method = check_choice(method, "method", CONV_METHODS)
    tol = check_scalar(tol, "tol", low=0.0, high=1.0, low_inclusive=False,
                       high_inclusive=False)
    max_iter = check_scalar(max_iter, "max_iter", kind=int, low=1, allow_none=True)
    K = check_kernel(kernel, layout)
    n1, n2 = check_input_shape(input_shape, K)
    mode, pads, stride = check_padding(padding, stride, K)
    rng = check_random_state(random_state)
    circular_exact = mode == "circular" and stride == (1, 1)
    extras: dict[str, Any] = {"padding": mode, "stride": stride}
    exponent = kernel_exponent(K)
    if exponent == 0 and not np.any(K):
        return NormResult(norm=0.0, lower=0.0, upper=0.0, upper_kind="exact",
                          failure_probability=0.0, n_matvec=0, nit=0, converged=True,
                          method=method, **extras)
    Ks = np.ldexp(K, -exponent)  # exact: the computation never leaves the normal range
    n_matvec, nit, fail = 0, 0, 0.0
    if method == "reshape":
        upper, norms = reshape_bound(Ks)
        norm, lower, kind = upper, 0.0, "deterministic"
        extras["reshaping_norms"] = [scaled(x, exponent) for x in norms]
    elif method in ("power", "lanczos"):
        op = ConvOperator(Ks, (n1, n2), mode, pads, stride)
        res = spectral_norm(op, method=method, tol=tol, max_iter=max_iter, random_state=rng)
        norm, lower, upper = res.lower, res.lower, res.upper
        kind, fail, n_matvec, nit = res.upper_kind, res.failure_probability, res.n_matvec, res.nit
        extras["vector"] = res.v.reshape(K.shape[1], n1, n2)
    else:
        g1, g2 = n1 + 2 * pads[0], n2 + 2 * pads[1]
        F, _ = kernel_dft(Ks, g1, g2)
        dft_err = dft_error_bound(Ks)
        max_sq = 30 if max_iter is None else max_iter
        rtol = tol if method == "gram" else 0.0
        with serial_blas():
            run = gram_iteration(F, rtol, max_sq)
        upper, lower, freq_upper, log_lower = run.upper, run.lower, run.frequency_upper, \
            run.log_lower
        G0, exact_lam, details = run.gram, run.exact, dict(run.info)
        nit = details.pop("squarings")
        extras.update(details)
        if method == "gram":
            norm = upper = round_up(upper + dft_err)
            kind = "deterministic"
        else:
            # Every frequency was either shown to lie below the best lower bound (itself
            # an exact eigenvalue) or gets its exact top eigenvalue.
            value = _exact_top(G0, exact_lam, freq_upper, log_lower)
            margin = math.exp(0.5 * log_margin(min(F.shape[1:]), max_sq))
            norm = value
            upper = round_up(value * margin + dft_err)
            lower = max(lower, value / margin)
            kind = "exact" if circular_exact else "deterministic"
        lower = round_down(lower - dft_err) if circular_exact else 0.0
    norm = scaled(norm, exponent)
    lower = round_down(scaled(lower, exponent)) if lower > 0 else 0.0
    upper = round_up(scaled(upper, exponent))
    upper = max(upper, lower)
    converged = lower > 0 and upper - lower <= tol * lower
    return NormResult(norm=norm, lower=lower, upper=upper, upper_kind=kind,
                      failure_probability=fail, n_matvec=n_matvec, nit=nit,
                      converged=bool(converged), method=method, **extras)
