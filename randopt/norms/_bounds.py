"""A-posteriori bounds shared by the norm estimators.

Krylov methods started from a random vector give *lower* bounds (Rayleigh
quotients) for free; this module turns the same run into a probabilistic
*upper* bound, and holds the Lanczos recurrence used by several estimators.

The upper bound (van Dorsselaer, Hochstenbach and van der Vorst [1]_;
Hochstenbach [2]_).  Let ``B`` be symmetric of order ``d`` with largest
eigenvalue ``lam``, let the start ``v1`` be uniform on the unit sphere (a
normalised Gaussian vector) and ``c = ||P v1||`` its component in the
eigenspace of ``lam``.  For *any* real polynomial ``p``,

    p(lam)**2 * c**2  <=  ||p(B) v1||**2 .

``c**2`` is at least a Beta(1/2, (d-1)/2) variable, whose ``delta``-quantile
``s`` has a closed form (``betaincinv``).  If ``p`` is positive and increasing
on ``[t0, inf)`` and ``U >= t0`` solves ``p(U)**2 = ||p(B) v1||**2 / s``, then
``lam > U`` forces ``c**2 < s``, an event of probability at most ``delta``.
The implication holds pointwise, so it stays valid although ``p`` (the Lanczos
polynomial, or ``t**j (t - theta)`` for the power method) is built from the
run itself, and the least of the bounds of all iterations fails only on the
same event: ``P(lam > min_k U_k) <= delta``.  Lanczos makes ``||p(B) v1||``
tiny as its Ritz values converge, so the bound closes on the largest Ritz
value at the speed of the method itself.  A rounding margin of order
``k * eps * lam`` is added: the computed recurrence is an exact one for a
matrix within that distance (Paige).

References
----------
.. [1] J. L. M. van Dorsselaer, M. E. Hochstenbach and H. A. van der Vorst,
       "Computing probabilistic bounds for extreme eigenvalues of symmetric
       matrices with the Lanczos method", SIAM J. Matrix Anal. Appl. 22 (2000).
.. [2] M. E. Hochstenbach, "Probabilistic upper bounds for the matrix
       two-norm", J. Sci. Comput. 57 (2013).
.. [3] N. Halko, P.-G. Martinsson and J. A. Tropp, "Finding structure with
       randomness", SIAM Review 53 (2011), section 4.3.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import eigh_tridiagonal
from scipy.optimize import brentq
from scipy.special import betaincinv

EPS = np.finfo(np.float64).eps


def log_beta_quantile(dim: int, delta: float) -> float:
    """log of the ``delta``-quantile of ``c**2`` for ``c`` a coordinate of a
    uniform unit vector in ``R**dim`` (``c**2 ~ Beta(1/2, (dim-1)/2)``)."""
    if dim <= 1:
        return 0.0
    s = float(betaincinv(0.5, 0.5 * (dim - 1), delta))
    if s <= 0.0:  # delta below the float range of the quantile
        # P(c^2 < s) = I_s(1/2, (d-1)/2) <= 2 sqrt(s) / B(1/2, (d-1)/2) <= sqrt(2 d s / pi)
        # (Gautschi: Gamma(d/2) / Gamma((d-1)/2) < sqrt(d/2)); solve for s.
        return 2.0 * math.log(delta) + math.log(math.pi / (2.0 * dim))
    return math.log(s)


def polynomial_upper_bound(
    roots: np.ndarray, counts: np.ndarray | None, log_norm: float, log_s: float
) -> float:
    """Least ``U >= max(roots)`` with ``sum counts*log(U - roots) >= log_norm - log_s/2``.

    Parameters
    ----------
    roots : ndarray
        Roots of the monic polynomial ``p = prod (t - r)**count``.
    counts : ndarray or None
        Their multiplicities (None: all 1).
    log_norm : float
        ``log ||p(B) v1||`` (``-inf`` when an invariant subspace was found).
    log_s : float
        Log of the Beta quantile (:func:`log_beta_quantile`).

    Returns
    -------
    float
        The bound on ``lambda_max(B)`` (module docstring), ``max(roots)``
        for ``log_norm = -inf`` and ``inf`` when none is found in range.

    Examples
    --------
    >>> import math
    >>> from randopt.norms._bounds import polynomial_upper_bound
    >>> u = polynomial_upper_bound([1.0], None, math.log(1e-8), math.log(1e-4))
    >>> bool(1.0 < u < 1.0 + 2e-6)
    True
    """
    roots = np.asarray(roots, dtype=np.float64)
    counts = np.ones_like(roots) if counts is None else np.asarray(counts, dtype=np.float64)
    top = float(roots.max())
    if not np.isfinite(log_norm):
        return top
    target = log_norm - 0.5 * log_s
    gaps = top - roots

    def excess(y: float) -> float:
        # exp(y) underflows far left of the root: log(0) = -inf is the right limit there.
        with np.errstate(divide="ignore"):
            return float(np.dot(counts, np.log(gaps + math.exp(y)))) - target

    lo, hi = -50.0, 1.0
    scale = math.log(max(abs(top), 1e-300))
    lo += scale
    hi += scale
    while excess(lo) > 0:
        lo -= 50.0
        if lo < -2000:
            return top
    while excess(hi) < 0:
        hi += 10.0
        if hi > 2000:
            return math.inf
    y = brentq(excess, lo, hi, xtol=1e-13, rtol=1e-13)
    # brentq's answer lies within its tolerance of the root; step right of it.
    return top + math.exp(y + 1e-9)


def dixon_upper_bound(max_norm: float, n_vectors: int, delta: float) -> float:
    """HMT / Dixon: ``P(||B|| > a sqrt(2/pi) max_i ||B w_i||) <= a**-r`` for r
    standard Gaussian test vectors; ``a = delta**(-1/r)`` gives failure ``delta``."""
    alpha = delta ** (-1.0 / n_vectors)
    return alpha * math.sqrt(2.0 / math.pi) * max_norm


def reorthogonalize(basis: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``w`` minus its projection on the rows of ``basis`` (classical Gram-Schmidt, twice).

    Small projections run through ``einsum``: a multi-threaded BLAS call costs
    more in thread wake-ups than the arithmetic below about 10**5 entries.
    """
    small = basis.size < 200_000
    for _ in range(2):
        if small:
            w -= np.einsum("kd,k->d", basis, np.einsum("kd,d->k", basis, w))
        else:
            w -= basis.T @ (basis @ w)
    return w


def lanczos(
    matvec,
    v0: np.ndarray,
    max_iter: int,
    *,
    project=None,
    stop=None,
) -> dict:
    """Symmetric Lanczos with full reorthogonalisation (classical Gram-Schmidt twice).

    ``max_iter`` bounds the steps (and the dimension of the basis).
    ``stop(alpha, beta, log_gamma)`` is called after each step with the
    recurrence so far; it returns True to end the run.  ``project`` (optional)
    maps a vector back onto an invariant subspace the run must stay in.
    Returns ``alpha``, ``beta`` (off-diagonals, ``beta[k-1]`` the last
    residual norm), ``basis`` (k x d) and ``log_gamma = sum log beta``, which is
    ``log ||p_k(B) v1||`` for the monic Lanczos polynomial ``p_k``.
    """
    d = v0.shape[0]
    max_iter = min(max_iter, d)
    basis = np.empty((max_iter, d))
    v = v0 / np.linalg.norm(v0)
    alpha = np.empty(max_iter)
    beta = np.empty(max_iter)
    log_gamma = 0.0
    k = 0
    nmatvec = 0
    scale = 0.0
    while k < max_iter:
        basis[k] = v
        w = np.asarray(matvec(v), dtype=np.float64).ravel()
        nmatvec += 1
        if project is not None:
            w = project(w)
        a = float(v @ w)
        alpha[k] = a
        w = reorthogonalize(basis[: k + 1], w)
        b = float(np.linalg.norm(w))
        beta[k] = b
        scale = max(scale, abs(a) + b)
        k += 1
        if b <= 64 * EPS * max(scale, 1e-300) * math.sqrt(k):
            beta[k - 1] = 0.0
            log_gamma = -math.inf
            break
        log_gamma += math.log(b)
        if stop is not None and stop(alpha[:k], beta[:k], log_gamma):
            break
        v = w / b
    return {
        "alpha": alpha[:k].copy(),
        "beta": beta[:k].copy(),
        "basis": basis[:k],
        "log_gamma": log_gamma,
        "nmatvec": nmatvec,
    }


def ritz(alpha: np.ndarray, beta: np.ndarray, vectors: bool = False):
    """Eigenvalues (ascending) and optionally eigenvectors of the Lanczos tridiagonal."""
    if alpha.shape[0] == 1:
        vals = alpha.copy()
        return (vals, np.ones((1, 1))) if vectors else vals
    if vectors:
        return eigh_tridiagonal(alpha, beta[:-1])
    return eigh_tridiagonal(alpha, beta[:-1], eigvals_only=True)
