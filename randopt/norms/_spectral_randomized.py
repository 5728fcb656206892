"""Randomised subspace iteration for ``||A||_2`` with Halko-Martinsson-Tropp bounds.

Method ``"randomized"`` of :func:`randopt.norms.spectral_norm`: the
randomised range finder with subspace (power) iteration of Halko,
Martinsson and Tropp [1]_ (algorithm 4.4), orthonormalised on the short side
only (one QR of an ``n x k`` block per step), then Rayleigh-Ritz on the
block: the singular values of ``A Q``.

Upper bound: the least of two, each given half the failure budget.

* ``||A||**2 <= ||Q^T A||**2 + ||(I - QQ^T) A||**2`` for orthonormal ``Q``
  (Pythagoras), the residual bounded from ``r`` Gaussian test vectors,
  ``P(||E|| > a sqrt(2/pi) max_i ||E w_i||) <= a**-r`` ([1]_, section 4.3;
  Dixon): tight when ``A`` is numerically low-rank.
* The power-method polynomial bound of the block's first column
  (:mod:`randopt.linalg.bounds`): ``||(A^T A)^j w|| >= sigma**(2j) c`` with
  ``c**2`` at least the Beta quantile, the norms carried by the QR diagonals.

Stopping rule: relative change of the top Ritz value below ``tol``, or
``max_iter`` subspace iterations (default 100).

References
----------
.. [1] N. Halko, P.-G. Martinsson and J. A. Tropp, "Finding structure with
       randomness", SIAM Review 53 (2011), algorithm 4.4 and section 4.3.
.. [2] J. D. Dixon, "Estimating extremal eigenvalues and condition numbers of
       matrices", SIAM J. Numer. Anal. 20 (1983).
"""

from __future__ import annotations

import math

import numpy as np

from ..linalg import dixon_upper_bound, log_beta_quantile
from ..linalg.bounds import EPS
from ._products import ScaledProducts, checked

__all__ = ["randomized_bracket"]


def randomized_bracket(
    B: ScaledProducts, rng: np.random.Generator, tol: float, max_iter: int | None,
    delta: float, block_size: int | None, n_test: int,
) -> dict:
    """Subspace iteration on ``B``: bracket and singular vectors in ``B``'s scale.

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
    block_size : int or None
        Block size (default ``min(m, n, 10)``).
    n_test : int
        Gaussian test vectors of the residual bound.

    Returns
    -------
    dict
        ``lower`` (certified), ``upper`` (probabilistic), ``u``, ``v``, ``nit``.

    References
    ----------
    See the module docstring.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.operands import as_operand
    >>> from randopt.norms._products import ScaledProducts
    >>> from randopt.norms._spectral_randomized import randomized_bracket
    >>> A = np.random.default_rng(1).standard_normal((50, 3)) @ np.eye(3, 20)  # rank 3
    >>> B = ScaledProducts(as_operand(A), 0)
    >>> out = randomized_bracket(B, np.random.default_rng(0), 1e-10, None, 1e-6, 5, 10)
    >>> bool(out["lower"] <= np.linalg.norm(A, 2) <= out["upper"] <= out["lower"] * 1.001)
    True
    """
    m, n = B.shape
    k = min(m, n, 10 if block_size is None else block_size)
    max_iter = 100 if max_iter is None else max_iter
    omega = rng.standard_normal((n, k))
    Y = B.mv(omega)
    checked(float(np.sum(Y)))
    # Half the failure budget each for the two upper bounds (both are computed).
    log_s = log_beta_quantile(n, delta / 2)
    # The first column of Qz is (B^T B)^j w / ||.|| for w = omega_1 / ||omega_1||: the
    # power method, whose norms the QR diagonals carry (log_first).
    log_first = -math.log(float(np.linalg.norm(omega[:, 0])))
    prev = 0.0
    it = 0
    j = 0
    W = np.ones((k, k))
    Qz = np.zeros((n, k))
    for it in range(1, max_iter + 1):  # noqa: B007 (it is reported)
        Qz, Rz = np.linalg.qr(B.rmv(Y))  # orth(B^T Y), n x k
        log_first += math.log(abs(Rz[0, 0])) if Rz[0, 0] != 0 else -math.inf
        j += 1
        Y = B.mv(Qz)
        checked(float(np.sum(Y)))
        lam, W = np.linalg.eigh(Y.T @ Y)
        sigma = math.sqrt(max(float(lam[-1]), 0.0))
        if abs(sigma - prev) <= tol * sigma or sigma == 0.0:
            break
        prev = sigma
    # ||B||^2 <= ||Q^T B||^2 + ||(I - QQ^T) B||^2 for orthonormal Q, the residual
    # bounded from Gaussian test vectors (HMT).
    Q, _ = np.linalg.qr(Y)
    norm_QB = float(np.linalg.norm(B.rmv(Q), 2))
    AW = B.mv(rng.standard_normal((n, n_test)))
    E = AW - Q @ (Q.T @ AW)
    resid = dixon_upper_bound(float(np.linalg.norm(E, axis=0).max()), n_test, delta / 2)
    upper = math.sqrt(norm_QB**2 + resid**2) * (1 + 8 * EPS * max(m, n))
    # ||(B^T B)^j w|| >= sigma^(2j) c with c^2 >= s except with probability delta / 2.
    if math.isfinite(log_first):
        up_poly = math.exp((log_first - 0.5 * log_s) / (2 * j))
        upper = min(upper, up_poly * (1 + 8 * EPS * max(m, n) * (j + 1)))
    # The products' own rounding, at the precision they are delivered in (a float32
    # operator's is 2**29 times float64's): ScaledProducts.krylov_upper.
    return {**B.certified_bracket(Qz @ W[:, -1], False, upper, j + 1), "nit": it}
