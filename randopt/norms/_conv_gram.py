"""Deterministic upper bounds on the spectral norm of a convolution: pruned Gram iteration
and the reshaping bound.

Gram iteration (Delattre, Barthelemy, Araujo and Allauzen [1]_).
    For each frequency, ``||P||_2 <= ||G_t||_F ** (1 / 2**(t+1))`` for the
    iterates ``G_0 = P^H P``, ``G_(t+1) = G_t ** 2`` (rescaled by their
    Frobenius norm, with the scales kept in logarithms), combined with a
    deflation bound: for Hermitian PSD ``H``, a unit ``x``,
    ``theta = x^H H x``, ``r = H x - theta x`` and ``mu >= ||H_22||_F`` (the
    compression of ``H`` to the complement of ``x``, of squared Frobenius
    norm ``||H||_F^2 - 2 ||H x||^2 + theta^2``),
    ``lambda_max(H) <= (theta + mu)/2 + sqrt(((theta - mu)/2)^2 + ||r||^2)``;
    on ``H = G_0 ** (2**t)`` this is tight to second order in ``||r||``.
Pruning.
    An ``O(c^2)`` screen ``||P|| <= min(||P||_F, sqrt(||P||_1 ||P||_inf))``
    and exact top eigenvalues at the most promising frequencies (a certified
    lower bound ``L``) remove the frequencies that cannot hold the maximum;
    each survivor squares until its bound is within ``tol`` of ``L``, and one
    still undecided after a few squarings (at once for ``c >= 256``) gets its
    exact top eigenvalue instead.  The frequencies run in parallel in Numba
    kernels (:mod:`randopt.norms._kernels`).  Stopping rule:
    ``upper <= (1 + tol) lower`` or ``max_iter`` squarings (default 30).
Rounding.
    The per-frequency matrices carry the DFT error of
    :func:`randopt.norms._conv_kernel.dft_error_bound`, added to the final
    bound (``||P|| <= ||P_hat|| + ||P - P_hat||``).  A computed product
    ``H H`` of a PSD ``c x c`` matrix has error at most
    ``gamma_c || |H| |H| ||_F <= gamma_c ||H||_F^2 <= gamma_c sqrt(c) ||H^2||_F``
    (since ``||H^2||_F >= ||H||_F^2 / sqrt(c)``), and the ``2**-(t+1)``-th
    root divides the relative error of step ``t`` by ``2**(t+1)``; with the
    Frobenius normalisations, Rayleigh quotients and Hermitian eigensolver
    (backward error ``p(c) u ||G||``) the total relative error of the
    logarithmic bound stays below ``8 c eps (max_iter + 2)`` for ``c`` up to
    ``2**18``, which is the margin added (in logarithms) to every bound and
    subtracted from every lower bound.
Reshaping (Singla and Feizi [2]_).
    ``sqrt(kh kw) min_j ||R_j||_2`` over four reshapings ``R_j`` of ``K``,
    valid for every padding and stride; each ``||R_j||`` from the top
    eigenvalue of its smaller Gram matrix with the margin ``gamma_(8 c)``.

References
----------
.. [1] B. Delattre, Q. Barthelemy, A. Araujo and A. Allauzen, "Efficient bound
       of Lipschitz constant for convolutional layers by Gram iteration",
       ICML 2023.
.. [2] S. Singla and S. Feizi, "Fantastic four: differentiable bounds on
       singular values of convolution layers", ICLR 2021.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..linalg.bounds import EPS
from ._conv_kernel import frequency_gram
from ._rounding import gamma, round_up

__all__ = ["GramIterationResult", "gram_iteration", "log_margin", "reshape_bound"]


def log_margin(c: int, max_squarings: int) -> float:
    """The relative rounding margin (a logarithm) of the Gram-iteration bounds.

    Parameters
    ----------
    c : int
        Order of the per-frequency Gram matrices.
    max_squarings : int
        Most squarings allowed.

    Returns
    -------
    float
        ``log1p(8 c eps (max_squarings + 2))`` (module docstring).

    Examples
    --------
    >>> from randopt.norms._conv_gram import log_margin
    >>> bool(0 < log_margin(64, 30) < 1e-10)
    True
    """
    return math.log1p(8 * c * EPS * (max_squarings + 2))


def reshape_bound(K: np.ndarray) -> tuple[float, list[float]]:
    """Singla and Feizi's ``sqrt(kh kw) min_j ||R_j||_2`` (upper bound) and the four norms.

    Parameters
    ----------
    K : ndarray of shape (c_out, c_in, kh, kw)
        A checked kernel.

    Returns
    -------
    bound : float
        The upper bound, rounded up.
    norms : list of float
        Upper bounds on the four ``||R_j||_2``.

    References
    ----------
    .. [1] S. Singla and S. Feizi, "Fantastic four: differentiable bounds on
           singular values of convolution layers", ICLR 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.norms._conv_gram import reshape_bound
    >>> bound, norms = reshape_bound(np.ones((1, 1, 3, 3)))  # exact norm 9
    >>> bool(9.0 <= bound <= 9.0 * (1 + 1e-12)), len(norms)
    (True, 4)
    """
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
        lam = max(float(np.linalg.eigvalsh(G)[-1]), 0.0)
        # Gram product and eigensolver: |lam_hat - lam| <= gamma_(8c) ||R||^2.
        norms.append(round_up(math.sqrt(lam * (1 + gamma(8 * max(R.shape))))))
    factor = math.sqrt(kh * kw) * (1 + 4 * EPS)
    return round_up(factor * min(norms)), norms


class GramIterationResult(NamedTuple):
    """Outcome of :func:`gram_iteration` (a named tuple: it unpacks as the 7-tuple it was).

    Attributes
    ----------
    upper, lower : float
        Bounds on ``max_f ||F[f]||_2``, the margin :func:`log_margin` included.
    frequency_upper : ndarray
        Per-frequency logs of upper bounds on the eigenvalues of ``G_0`` (the
        survivors of the screen; every frequency when none survive).
    log_lower : float
        Log of the best lower bound on ``max_f ||F[f]||_2**2`` (an exact eigenvalue).
    gram : ndarray or None
        The survivors' Gram matrices ``G_0`` (None when none survive).
    exact : ndarray
        The exact top eigenvalues taken (NaN elsewhere).
    info : dict
        ``squarings``, ``mean_squarings``, ``n_frequencies``, ``gram_frequencies``,
        ``exact_frequencies``.
    """

    upper: float
    lower: float
    frequency_upper: np.ndarray
    log_lower: float
    gram: np.ndarray | None
    exact: np.ndarray
    info: dict


def gram_iteration(F: np.ndarray, rtol: float, max_squarings: int) -> GramIterationResult:
    """Upper and lower bounds on ``max_f ||F[f]||_2`` by pruned Gram iteration.

    1. Per frequency, ``G_0`` and a Rayleigh quotient after a few power steps.
    2. Exact top eigenvalue at the frequencies with the largest cheap bound
       ``min(||P||_F, sqrt(||P||_1 ||P||_inf))``: a lower bound ``L`` on
       ``||T||^2`` (it is an eigenvalue of ``T^T T``); frequencies whose
       cheap bound is below ``L (1 + rtol)^2`` are done.
    3. Per frequency, Gram squarings until its upper bound is at most
       ``L (1 + rtol)^2``; one still above after ``switch_after`` squarings
       gets its exact top eigenvalue instead.

    Parameters
    ----------
    F : ndarray of shape (n_freq, c_out, c_in), complex
        The per-frequency matrices (:func:`randopt.norms._conv_kernel.kernel_dft`).
    rtol : float
        Relative bracket width to stop at (0: exact tops wherever undecided).
    max_squarings : int
        Most squarings per frequency.

    Returns
    -------
    GramIterationResult
        Bounds on ``max_f ||F[f]||_2``, per-frequency values and counts (its
        attributes).

    References
    ----------
    See the module docstring.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.norms._conv_gram import gram_iteration
    >>> F = np.random.default_rng(0).standard_normal((6, 3, 3)) + 0j
    >>> top = max(np.linalg.norm(f, 2) for f in F)
    >>> up, low = gram_iteration(F, 1e-6, 30)[:2]
    >>> bool(low <= top <= up <= low * (1 + 1e-6))
    True
    """
    from . import _kernels

    F = np.ascontiguousarray(F, dtype=np.complex128)
    nf_all = F.shape[0]
    gram_left = F.shape[2] <= F.shape[1]
    c = min(F.shape[1], F.shape[2])
    margin = log_margin(c, max_squarings)
    # O(c^2) screen.  The exact top eigenvalue at the most promising frequencies (3, or
    # 1 for c >= 256) is a lower bound; frequencies whose cheap bound is below it never
    # get a Gram matrix.
    absF = np.abs(F)
    cheap = np.minimum(
        np.sqrt(np.einsum("foi,foi->f", absF, absF)),
        np.sqrt(absF.sum(axis=1).max(axis=1) * absF.sum(axis=2).max(axis=1)),
    )
    # The screen's own sums (c_out c_in terms for the Frobenius norm, fewer for the
    # absolute sums) have relative error gamma_(c_out c_in + 2) on the norm.
    cheap_log = (2 * np.log(np.maximum(cheap, 1e-300)) + margin
                 + 2 * math.log1p(gamma(F.shape[1] * F.shape[2] + 2)))
    top = np.argsort(cheap)[-(3 if c < 256 else 1):]
    log_lower = math.log(max(float(np.linalg.eigvalsh(frequency_gram(F[top]))[:, -1].max()),
                             1e-300))
    log_target0 = log_lower + 2 * math.log1p(rtol)
    keep = cheap_log > (log_target0 if rtol > 0 else log_lower)
    survivors = np.flatnonzero(keep)
    screened_upper = float(cheap_log[~keep].max()) if survivors.size < nf_all else -math.inf
    F = F[survivors]
    if F.shape[0] == 0:
        info = {"squarings": 0, "mean_squarings": 0.0, "n_frequencies": int(nf_all),
                "gram_frequencies": 0, "exact_frequencies": 0}
        log_upper = max(float(cheap_log.max()), log_lower + margin)
        return GramIterationResult(math.exp(0.5 * log_upper),
                                   math.exp(0.5 * (log_lower - margin)), cheap_log, log_lower,
                                   None, np.full(nf_all, np.nan), info)
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
    log_upper = max(float(freq_upper.max()), screened_upper, log_lower + margin)
    info = {
        "squarings": int(steps.max()),
        "mean_squarings": float(steps.mean()),
        "n_frequencies": int(nf_all),
        "gram_frequencies": int(F.shape[0]),
        "exact_frequencies": int(np.isfinite(exact).sum()),
    }
    return GramIterationResult(math.exp(0.5 * log_upper), math.exp(0.5 * (log_lower - margin)),
                               freq_upper, log_lower, G0, exact, info)
