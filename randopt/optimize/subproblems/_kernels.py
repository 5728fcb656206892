"""Numba kernels of the sub-problem solvers: the secular equation and the
reduced (tridiagonal) Lanczos problems.

They replace Python loops whose per-iteration overhead (tens of microseconds
of NumPy calls on vectors of length ~20) would otherwise dominate an outer
iteration on small-``d`` problems. Compiled on first use, cached on disk.
"""

from __future__ import annotations

import math

import numba
import numpy as np

_EPS = np.finfo(np.float64).eps


@numba.njit(cache=True)
def secular(lam, gt, sigma, radius):
    """Solve the TR (``sigma < 0``) or cubic (``radius < 0``) secular equation.

    ``lam`` ascending eigenvalues, ``gt`` the gradient in the eigenbasis.
    Returns ``(y, mu, hard)``: the solution in the eigenbasis, the multiplier
    and whether the hard case was taken. See :mod:`.exact` for the method.
    """
    d = lam.shape[0]
    tr = sigma < 0.0
    lam_min = lam[0]
    lam_abs = 0.0
    gnorm2 = 0.0
    for i in range(d):
        lam_abs = max(lam_abs, abs(lam[i]))
        gnorm2 += gt[i] * gt[i]
    gnorm = math.sqrt(gnorm2)
    tol_eig = 1e3 * _EPS * max(lam_abs, 1e-300)
    mu_low = max(0.0, -lam_min)
    y = np.zeros(d)

    if tr and lam_min > tol_eig:
        ny2 = 0.0
        for i in range(d):
            y[i] = -gt[i] / lam[i]
            ny2 += y[i] * y[i]
        if ny2 <= radius * radius:
            return y, 0.0, False
    if gnorm == 0.0 and lam_min >= 0.0:
        return np.zeros(d), 0.0, False

    # Hard case test.
    g_left2 = 0.0
    for i in range(d):
        if lam[i] <= lam_min + tol_eig:
            g_left2 += gt[i] * gt[i]
    if math.sqrt(g_left2) <= 1e2 * _EPS * max(gnorm, 1e-300) * math.sqrt(d) or gnorm == 0.0:
        ny2 = 0.0
        first_left = -1
        for i in range(d):
            if lam[i] <= lam_min + tol_eig:
                y[i] = 0.0
                if first_left < 0:
                    first_left = i
            else:
                y[i] = -gt[i] / (lam[i] + mu_low)
                ny2 += y[i] * y[i]
        ny = math.sqrt(ny2)
        r = radius if tr else mu_low / sigma
        if ny <= r and (mu_low > 0.0 or tr):
            if r > ny and mu_low > 0.0:
                y[first_left] = math.sqrt(max(r * r - ny2, 0.0))
            return y, mu_low, True

    if tr:
        hi = mu_low + gnorm / radius
    else:
        hi = mu_low + math.sqrt(sigma * gnorm)
    hi = hi * (1.0 + 1e-12) + 1e-300
    lo = mu_low
    mu = hi
    for _ in range(200):
        ny2 = 0.0
        dsum = 0.0
        for i in range(d):
            den = lam[i] + mu
            yi = -gt[i] / den
            y[i] = yi
            ny2 += yi * yi
            dsum += yi * yi / den
        ny = math.sqrt(ny2)
        if ny == 0.0:
            break
        # d||s||/dmu = -sum(gt^2/den^3)/||s|| = -dsum/||s||
        dinv = dsum / (ny2 * ny)  # d(1/||s||)/dmu
        if tr:
            val = 1.0 / ny - 1.0 / radius
            der = dinv
        else:
            val = 1.0 / ny - sigma / mu
            der = dinv + sigma / (mu * mu)
        if val == 0.0:
            break
        if val > 0.0:
            hi = mu
        else:
            lo = mu
        if der > 0.0 and math.isfinite(val):
            new = mu - val / der
        else:
            new = 0.5 * (lo + hi)
        if not (lo < new < hi):
            new = 0.5 * (lo + hi)
        if abs(new - mu) <= 4.0 * _EPS * abs(mu) or hi - lo <= 4.0 * _EPS * hi:
            mu = new
            break
        mu = new
    for i in range(d):
        y[i] = -gt[i] / (lam[i] + mu)
    return y, mu, False


@numba.njit(cache=True)
def reduced_solve(alpha, beta, k, gnorm, sigma, radius):
    """Solve the Lanczos-reduced problem with ``T_k = tridiag(beta, alpha, beta)``.

    The reduced gradient is ``gnorm e_1``. Returns ``(h, mu, model)`` with
    ``model`` the reduced model value at ``h`` (cubic term included).
    """
    T = np.zeros((k, k))
    for i in range(k):
        T[i, i] = alpha[i]
        if i + 1 < k:
            T[i, i + 1] = beta[i]
            T[i + 1, i] = beta[i]
    lam, V = np.linalg.eigh(T)
    gt = np.empty(k)
    for i in range(k):
        gt[i] = V[0, i] * gnorm
    y, mu, hard = secular(lam, gt, sigma, radius)
    h = V @ y
    nh = math.sqrt(np.sum(h * h))
    if sigma < 0.0 and mu > 0.0 and nh > 0.0:
        h *= radius / nh
        nh = radius
    model = gnorm * h[0] + 0.5 * np.dot(h, T @ h)
    if sigma >= 0.0:
        model += sigma * nh * nh * nh / 3.0
    return h, mu, model
