"""Golub-Kahan-Lanczos bidiagonalisation with a probabilistic upper bound and restarts.

The default method of :func:`randopt.norms.spectral_norm`.  Golub-Kahan
bidiagonalisation [1]_ from a Gaussian start on the short side of ``A``,
``A V_k = U_k B_k``, with full reorthogonalisation of the short-side basis
``V_k`` only (one-sided, Simon and Zha [2]_; the long side is never stored,
so a 10**6-row matrix costs a few vectors).  ``T_k = B_k^T B_k`` is the
Lanczos tridiagonal of ``A^T A`` (diagonal ``alpha_j**2 + beta_(j-1)**2``,
off-diagonal ``alpha_j beta_j``); its largest Ritz value ``theta`` gives the
estimate ``sqrt(theta)``, and the Lanczos polynomial, of norm
``prod_j alpha_j beta_j`` on the start vector, gives a probabilistic upper
bound (van Dorsselaer, Hochstenbach and van der Vorst [3]_; see
:mod:`randopt.linalg.bounds`).

Breakdown and restarts.
    A step with ``alpha_j`` or ``beta_j`` at rounding level
    (``<= 64 eps max_i alpha_i sqrt(k)``) means that the basis of the
    current *block* spans an invariant subspace of ``A^T A``: its Ritz values
    are then exact eigenvalues (up to rounding), not a stopping point with a
    wrong answer (a rank-one matrix breaks down after two steps).  The run
    restarts from a fresh Gaussian vector projected onto the orthogonal
    complement of everything found so far, where ``A^T A`` acts invariantly,
    and the upper bound of that block applies to the complement (a uniform
    start on a sphere of dimension ``d - k``, so the Beta quantile of that
    dimension).  The bracket is ``[max_blocks theta, max(exact tops,
    current block's bound)]``; only the current block's bound is
    probabilistic, so the failure probability stays ``delta``.  A block whose
    first product is already at rounding level (the complement is
    numerically null) gives a bound at the rounding level at once, so
    low-rank input costs ``2 rank + 1`` steps, not ``d``.
Rounding.
    ``(16 k + 64 sqrt(k) n_blocks) eps theta_max`` is added to the squared
    upper bound: the computed recurrence is an exact one for a matrix that
    close (Paige), and each restart leaves a coupling below the breakdown
    threshold.  The products themselves round too: ``fl(A v)`` is off by up to
    ``gamma_L || |A| ||`` for ``L`` terms per inner product (``L`` = the long
    side for ``A^T u``), which no ``k eps`` term covers (a tall constant
    matrix, whose Ritz value is exact after two steps in exact arithmetic,
    lost ``4e-14`` relative to them at 3000 x 300): the bound on
    ``sigma_max`` gets ``sqrt(k) (gamma_row + gamma_col) || |A| ||``
    (:meth:`~randopt.norms._products.ScaledProducts.krylov_upper`), at the
    precision the products are delivered in.
Stopping rule.
    ``upper <= (1 + tol) lower_cert``, with ``lower_cert`` the Ritz estimate
    less the rounding loss that the final certification
    (:meth:`~randopt.norms._products.ScaledProducts.certified_pair`) will
    subtract; or ``upper - theta**0.5`` below that loss (a ``tol`` finer than
    float64 can certify: more steps cannot help, and ``converged`` is then
    false; the products' margin is left out of this test, as it only grows with
    more steps); or ``max_iter`` steps (all blocks together); or the whole space
    exhausted.

References
----------
.. [1] G. Golub and W. Kahan, "Calculating the singular values and
       pseudo-inverse of a matrix", SIAM J. Numer. Anal. 2 (1965).
.. [2] H. D. Simon and H. Zha, "Low-rank matrix approximation using the
       Lanczos bidiagonalization process with applications", SIAM J. Sci.
       Comput. 21 (2000).
.. [3] J. L. M. van Dorsselaer, M. E. Hochstenbach and H. A. van der Vorst,
       "Computing probabilistic bounds for extreme eigenvalues of symmetric
       matrices with the Lanczos method", SIAM J. Matrix Anal. Appl. 22 (2000).
.. [4] C. C. Paige, "Accuracy and effectiveness of the Lanczos algorithm for
       the symmetric eigenproblem", Linear Algebra Appl. 34 (1980).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import eigh_tridiagonal

from ..linalg import log_beta_quantile, polynomial_upper_bound, reorthogonalize
from ..linalg.bounds import EPS
from ._products import ScaledProducts, checked, vector_norm
from ._rounding import gamma

__all__ = ["lanczos_bracket"]


def _tridiagonal(alphas: list[float], betas: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """Diagonal and off-diagonal of ``B_j^T B_j`` for one block (the last beta excluded)."""
    a = np.asarray(alphas, dtype=np.float64)
    b = np.asarray(betas[: len(alphas) - 1], dtype=np.float64)
    diag = a**2
    diag[1:] += b**2
    return diag, a[:-1] * b


def _ritz(alphas, betas, vectors: bool = False):
    diag, off = _tridiagonal(alphas, betas)
    if diag.size == 1:
        return (diag, np.ones((1, 1))) if vectors else diag
    if vectors:
        j = diag.size - 1
        vals, vecs = eigh_tridiagonal(diag, off, select="i", select_range=(j, j))
        return vals, vecs
    return eigh_tridiagonal(diag, off, eigvals_only=True)


def lanczos_bracket(
    B: ScaledProducts, rng: np.random.Generator, tol: float, max_iter: int | None,
    delta: float,
) -> dict:
    """Run GKL with restarts on ``B``; bracket and singular vectors in ``B``'s scale.

    Parameters
    ----------
    B : ScaledProducts
        Products with the rescaled matrix (:mod:`randopt.norms._products`).
    rng : numpy.random.Generator
        Source of the random start.
    tol : float
        Relative tolerance of the stopping rule (module docstring).
    max_iter : int or None
        Iteration limit (None: the module's default).
    delta : float
        Failure probability of the probabilistic upper bound.

    Returns
    -------
    dict
        ``lower`` (certified), ``upper`` (probabilistic, failure probability
        ``delta``), ``u``, ``v`` (unit, ``B v = ||B v|| u``), ``nit`` (steps,
        all blocks) and ``n_blocks`` (restarts + 1).

    References
    ----------
    See the module docstring.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.operands import as_operand
    >>> from randopt.norms._products import ScaledProducts
    >>> from randopt.norms._spectral_lanczos import lanczos_bracket
    >>> B = ScaledProducts(as_operand(np.ones((30, 10))), 0)  # rank one, norm sqrt(300)
    >>> out = lanczos_bracket(B, np.random.default_rng(0), 1e-8, None, 1e-6)
    >>> bool(out["lower"] <= 300 ** 0.5 <= out["upper"] <= out["lower"] * (1 + 1e-8))
    True
    >>> out["n_blocks"], out["nit"]
    (2, 3)
    """
    fwd, bwd, d, flipped = B.oriented()
    max_iter = min(d, 500 if max_iter is None else max_iter)
    m, n = B.shape
    V = np.empty((max_iter, d))
    # Rounding loss of the final certification (norms by fsum, product of row length d).
    loss0 = 4 * gamma(3)
    g_row = B.product_gamma
    k = 0
    scale = 0.0
    exact_top = 0.0  # largest Ritz value of the exhausted (invariant) blocks
    best = (-1.0, 0, 0, [], [])  # (theta, start, stop, alphas, betas) of the best block
    upper_sq = math.inf
    n_blocks = 0
    done = False
    while k < max_iter and not done:
        start = k
        n_blocks += 1
        v = rng.standard_normal(d)
        if k:
            v = reorthogonalize(V[:k], v)
        v /= vector_norm(v)
        log_s = log_beta_quantile(d - start, delta)
        alphas: list[float] = []
        betas: list[float] = []
        log_gamma = 0.0
        u_prev = None
        beta = 0.0
        block_upper = math.inf
        upper_sq = math.inf  # nothing is known of the complement yet
        exhausted = False
        while k < max_iter:
            V[k] = v
            u = fwd(v)
            if u_prev is not None:
                u -= beta * u_prev
            alpha = checked(vector_norm(u))
            scale = max(scale, alpha)
            first = k == start
            noise = 64 * EPS * scale * math.sqrt(k + 1)
            if not first and alpha <= noise:
                alphas.append(0.0)  # A v_k lies in span(U): the block is invariant
                k += 1
                exhausted = True
                break
            alphas.append(alpha)
            k += 1
            if alpha == 0.0:
                # B v = 0 for a uniform start on the complement: the complement is null
                # except with probability delta (the polynomial t annihilates v).
                betas.append(0.0)
                log_norm = -math.inf
                stalled = True
            else:
                u /= alpha
                w = bwd(u) - alpha * v
                w = reorthogonalize(V[:k], w)
                beta = checked(vector_norm(w))
                if not first and beta <= noise:
                    betas.append(0.0)
                    exhausted = True
                    break
                betas.append(beta)
                # At a block's first step a rounding-level alpha or beta still gives a
                # valid bound (the polynomial norm gets the noise level, which is
                # larger), but no recurrence to continue: the block ends after it.
                stalled = alpha <= noise or beta <= noise
                log_gamma += math.log(alpha) + math.log(max(beta, noise))
                log_norm = log_gamma
            ritz = _ritz(alphas, betas)
            theta = float(ritz[-1])
            if theta > best[0]:
                best = (theta, start, k, list(alphas), list(betas))
            theta_max = max(exact_top, theta)
            margin = (16 * k + 64 * math.sqrt(k) * n_blocks) * EPS * theta_max
            block_upper = min(block_upper, polynomial_upper_bound(ritz, None, log_norm, log_s))
            upper_sq = max(exact_top, block_upper) + margin
            if theta_max > 0:
                sig = math.sqrt(theta_max)
                upper = B.krylov_upper(math.sqrt(upper_sq), k)
                abs_bound = min(B.abs_bound, math.sqrt(min(m, n)) * upper)
                lower_cert = sig * (1 - loss0) - g_row * abs_bound
                if upper <= (1 + tol) * lower_cert:
                    done = True
                    break
                if math.sqrt(upper_sq) - sig <= sig - lower_cert:
                    # The gap left is the certification's rounding margin, which more
                    # steps cannot shrink: tol is below what float64 can certify.
                    done = True
                    break
            elif upper_sq == 0.0:
                done = True  # the zero operator, with probability 1 - delta
                break
            if stalled:
                exhausted = True
                break
            v = w / beta
            u_prev = u
        if exhausted and not done:
            ritz = _ritz(alphas, betas)
            top = float(ritz[-1])
            if top >= best[0] or best[1] == start:
                best = (top, start, k, list(alphas), list(betas))
            exact_top = max(exact_top, top)
            margin = (16 * k + 64 * math.sqrt(k) * n_blocks) * EPS * exact_top
            if k >= d:  # the whole space is spanned: every eigenvalue is known
                upper_sq = exact_top + margin
                done = True
            else:
                upper_sq = math.inf  # the complement is still unexplored
    theta, b_start, b_stop, b_alphas, b_betas = best
    if b_stop > b_start and len(b_alphas) > 1:
        _, vec = _ritz(b_alphas, b_betas, vectors=True)
        x = V[b_start:b_stop].T @ vec[:, 0]
    else:
        x = V[b_start].copy()
    # The products' rounding (B.krylov_upper): the run is exact for B + E, not for B.
    return {**B.certified_bracket(x, flipped, math.sqrt(upper_sq), k), "nit": k,
            "n_blocks": n_blocks}
