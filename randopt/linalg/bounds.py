"""Probabilistic a-posteriori upper bounds on the top eigenvalue from a Krylov run.

Krylov methods started from a random vector give *lower* bounds (Rayleigh
quotients) for free; the functions here turn the same run into a
probabilistic *upper* bound.

The bound (van Dorsselaer, Hochstenbach and van der Vorst [1]_; Hochstenbach
[2]_; Kuczynski and Wozniakowski [3]_ for the random start).  Let ``B`` be
symmetric of order ``d`` with largest eigenvalue ``lam``, let the start
``v1`` be uniform on the unit sphere (a normalised Gaussian vector) and
``c = ||P v1||`` its component in the eigenspace of ``lam``.  For *any* real
polynomial ``p``,

    p(lam)**2 * c**2  <=  ||p(B) v1||**2 .

``c**2`` is at least a Beta(1/2, (d-1)/2) variable, whose ``delta``-quantile
``s`` has a closed form (``betaincinv``).  If ``p`` is positive and
increasing on ``[t0, inf)`` and ``U >= t0`` solves
``p(U)**2 = ||p(B) v1||**2 / s``, then ``lam > U`` forces ``c**2 < s``, an
event of probability at most ``delta``.  The implication holds pointwise,
so it stays valid although ``p`` (the Lanczos polynomial, or
``t**j (t - theta)`` for the power method) is built from the run itself,
and the least of the bounds of all iterations fails only on the same event:
``P(lam > min_k U_k) <= delta``.  The caller adds the rounding margin of the
recurrence it ran (Paige [4]_).

References
----------
.. [1] J. L. M. van Dorsselaer, M. E. Hochstenbach and H. A. van der Vorst,
       "Computing probabilistic bounds for extreme eigenvalues of symmetric
       matrices with the Lanczos method", SIAM J. Matrix Anal. Appl. 22 (2000).
.. [2] M. E. Hochstenbach, "Probabilistic upper bounds for the matrix
       two-norm", J. Sci. Comput. 57 (2013).
.. [3] J. Kuczynski and H. Wozniakowski, "Estimating the largest eigenvalue
       by the power and Lanczos algorithms with a random start", SIAM J.
       Matrix Anal. Appl. 13 (1992).
.. [4] C. C. Paige, "Accuracy and effectiveness of the Lanczos algorithm for
       the symmetric eigenproblem", Linear Algebra Appl. 34 (1980).
.. [5] N. Halko, P.-G. Martinsson and J. A. Tropp, "Finding structure with
       randomness", SIAM Review 53 (2011), section 4.3.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import brentq
from scipy.special import betaincinv

__all__ = ["EPS", "dixon_upper_bound", "log_beta_quantile", "polynomial_upper_bound"]

#: Machine epsilon of float64, ``2**-52``.
EPS = float(np.finfo(np.float64).eps)


def log_beta_quantile(dim: int, delta: float) -> float:
    """Log of the ``delta``-quantile of ``c**2``, ``c`` a coordinate of a uniform unit vector.

    Parameters
    ----------
    dim : int
        Dimension of the sphere's ambient space (``c**2 ~ Beta(1/2, (dim-1)/2)``).
    delta : float
        Probability in (0, 1).

    Returns
    -------
    float
        ``log s`` with ``P(c**2 < s) <= delta`` (0 for ``dim <= 1``).

    References
    ----------
    .. [1] J. Kuczynski and H. Wozniakowski, SIAM J. Matrix Anal. Appl. 13 (1992).

    Examples
    --------
    >>> from randopt.linalg.bounds import log_beta_quantile
    >>> log_beta_quantile(1, 0.1), bool(log_beta_quantile(100, 1e-6) < -20)
    (0.0, True)
    """
    if dim <= 1:
        return 0.0
    s = float(betaincinv(0.5, 0.5 * (dim - 1), delta))
    if s <= 0.0:  # delta below the float range of the quantile
        # P(c^2 < s) = I_s(1/2, (d-1)/2) <= 2 sqrt(s) / B(1/2, (d-1)/2) <= sqrt(2 d s / pi)
        # (Gautschi: Gamma(d/2) / Gamma((d-1)/2) < sqrt(d/2)); solve for s.
        return 2.0 * math.log(delta) + math.log(math.pi / (2.0 * dim))
    return math.log(s)


def polynomial_upper_bound(
    roots: ArrayLike, counts: ArrayLike | None, log_norm: float, log_s: float
) -> float:
    """Least ``U >= max(roots)`` with ``sum counts*log(U - roots) >= log_norm - log_s/2``.

    Parameters
    ----------
    roots : array_like
        Roots of the monic polynomial ``p = prod (t - r)**count``.
    counts : array_like or None
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

    References
    ----------
    .. [1] J. L. M. van Dorsselaer, M. E. Hochstenbach and H. A. van der Vorst,
           SIAM J. Matrix Anal. Appl. 22 (2000).

    Examples
    --------
    >>> import math
    >>> from randopt.linalg.bounds import polynomial_upper_bound
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
    """Upper bound on ``||B||`` from ``max_i ||B w_i||`` over Gaussian test vectors.

    Parameters
    ----------
    max_norm : float
        ``max_i ||B w_i||`` over ``n_vectors`` standard Gaussian vectors.
    n_vectors : int
        Number of test vectors ``r``.
    delta : float
        Failure probability.

    Returns
    -------
    float
        ``a sqrt(2/pi) max_norm`` with ``a = delta**(-1/r)``
        (``P(||B|| > a sqrt(2/pi) max_i ||B w_i||) <= a**-r``, Halko,
        Martinsson and Tropp [1]_, lemma 4.1, after Dixon).

    References
    ----------
    .. [1] N. Halko, P.-G. Martinsson and J. A. Tropp, SIAM Review 53 (2011).

    Examples
    --------
    >>> from randopt.linalg.bounds import dixon_upper_bound
    >>> round(dixon_upper_bound(1.0, 1, 0.5), 6)
    1.595769
    """
    alpha = delta ** (-1.0 / n_vectors)
    return alpha * math.sqrt(2.0 / math.pi) * max_norm
