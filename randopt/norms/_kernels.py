"""Numba kernels of the norm estimators (compiled on first use, cached on disk).

One frequency of a convolution is one small dense Hermitian problem; these
kernels run the frequencies in parallel (``prange``), each with its matrices
in cache, instead of sweeping numpy's batched products over all of them once
per operation (the batched form is memory-bound on large channel counts).
Matrix products call BLAS (``zgemm``) through Numba's ``np.dot``.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, parallel=True)
def frequency_grams(F, gram_left, n_power):
    """Per-frequency Gram matrices, top Rayleigh quotients and their vectors.

    ``F`` is ``(n_freq, c_out, c_in)`` complex; ``gram_left`` selects
    ``P^H P`` (else ``P P^H``).  ``n_power`` power steps from the column of
    largest diagonal entry.
    """
    nf = F.shape[0]
    c = F.shape[2] if gram_left else F.shape[1]
    G = np.empty((nf, c, c), dtype=np.complex128)
    X = np.empty((nf, c), dtype=np.complex128)
    rq = np.empty(nf)
    for f in numba.prange(nf):
        P = F[f]
        Ph = np.ascontiguousarray(np.conj(P.T))
        if gram_left:
            Gf = np.dot(Ph, P)
        else:
            Gf = np.dot(P, Ph)
        G[f] = Gf
        best = 0
        for i in range(c):
            if Gf[i, i].real > Gf[best, best].real:
                best = i
        x = Gf[:, best].copy()
        nx = np.sqrt(np.sum(np.abs(x) ** 2))
        if nx > 0:
            x /= nx
        for _ in range(n_power):
            y = np.dot(Gf, x)
            ny = np.sqrt(np.sum(np.abs(y) ** 2))
            if ny == 0:
                break
            x = y / ny
        X[f] = x
        rq[f] = np.real(np.vdot(x, np.dot(Gf, x)))
    return G, X, rq


@numba.njit(cache=True, parallel=True)
def gram_iteration_bounds(G, X, log_target, max_squarings, margin, switch_after):
    """Gram iteration with deflation, one frequency per thread.

    For each frequency, squares ``H = G0 ** (2**t)`` (rescaled by its
    Frobenius norm; the scales kept in ``logscale``) until the upper bound on
    ``log lambda_max(G0)`` is at most ``log_target`` or ``max_squarings``.
    A frequency still above the target after ``switch_after`` squarings gets
    its exact top eigenvalue (``heevd``, about the price of four more
    squarings) instead: the tightest upper bound there is.
    Returns per-frequency upper bounds, Rayleigh lower bounds (both logs of
    eigenvalues of ``G0``), the squarings used and the exact top eigenvalue
    where it was taken (NaN elsewhere).
    """
    nf, c, _ = G.shape
    upper = np.empty(nf)
    lower = np.empty(nf)
    steps = np.zeros(nf, dtype=np.int64)
    exact = np.full(nf, np.nan)
    for f in numba.prange(nf):
        G0 = G[f]
        H = G0.copy()
        x = X[f].copy()
        logscale = 0.0
        best_upper = np.inf
        t = 0
        while True:
            fro = np.sqrt(np.sum(H.real ** 2 + H.imag ** 2))
            if fro <= 0.0:
                best_upper = -np.inf
                break
            H /= fro
            logscale += np.log(fro)
            y = np.dot(H, x)
            ny = np.sqrt(np.sum(np.abs(y) ** 2))
            if ny > 0:
                x = y / ny
            Hx = np.dot(H, x)
            theta = np.real(np.vdot(x, Hx))
            hx2 = np.sum(np.abs(Hx) ** 2)
            # Both differences cancel (||H||_F = 1 sets the scale): add their rounding
            # error so that the deflation bound stays an upper bound.
            eps = 2.220446049250313e-16
            res2 = max(hx2 - theta * theta, 0.0) + 16.0 * c * eps
            mu = np.sqrt(max(1.0 - 2.0 * hx2 + theta * theta, 0.0) + 16.0 * c * eps)
            defl = 0.5 * (theta + mu) + np.sqrt(0.25 * (theta - mu) ** 2 + res2)
            if defl > 1.0:
                defl = 1.0
            bound = (logscale + np.log(max(defl, 1e-300))) / 2.0 ** t + margin
            if bound < best_upper:
                best_upper = bound
            if best_upper <= log_target or t >= max_squarings:
                break
            if t >= switch_after:
                lam = np.linalg.eigvalsh(G0)[c - 1]
                best_upper = min(best_upper, np.log(max(lam, 1e-300)) + margin)
                exact[f] = lam
                break
            H = np.dot(H, H)
            logscale *= 2.0
            t += 1
        upper[f] = best_upper
        lower[f] = np.log(max(np.real(np.vdot(x, np.dot(G0, x))), 1e-300))
        steps[f] = t
    return upper, lower, steps, exact


@numba.njit(cache=True, parallel=True)
def frequency_eigvalsh(G):
    """Eigenvalues (ascending) of each Hermitian ``G[f]``, frequencies in parallel."""
    nf, c, _ = G.shape
    out = np.empty((nf, c))
    for f in numba.prange(nf):
        out[f] = np.linalg.eigvalsh(G[f])
    return out
