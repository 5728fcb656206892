r"""Sum-of-squares certificates for ``max_(||v||=1) sum_i <x_i, v>**q``, valid in floating point.

A certificate is a pair ``(lam, G)``: a float ``lam`` and a symmetric float
matrix ``G`` indexed by the degree-``k`` monomials (``q = 2k``, unscaled
basis ``m(v)``, see :class:`~randopt.norms._sos_basis.MonomialBasis`).  It
proves an upper bound on ``p(v) = sum_i <x_i, v>**q`` over the unit sphere
as follows.  Define the residual form ``r`` by the identity (exact real
arithmetic on the float data ``X``, ``lam``, ``G``)

.. math::

    \lambda \|v\|^q - p(v) = m(v)^T G\, m(v) + r(v).

If ``G`` is positive semidefinite, then on the unit sphere
``p(v) <= lam - r(v) <= lam + sum_alpha |r_alpha| max_(||v|| = 1) |v^alpha|``.
:func:`verify_sos_certificate` bounds each term rigorously:

1. **PSD of G** (Higham [1]_, Thm 10.3; Rump [2]_).  Cholesky run in
   floating point on ``H = fl(G - c I)`` that completes gives ``R`` with
   ``R^T R = H + E``, ``|E| <= g |R|^T |R|``, ``g = gamma_(D+1)``
   (``gamma_m = m u / (1 - m u)``, ``u = 2**-53``), for any order of the
   inner products.  By Cauchy-Schwarz ``||E||_2 <= ||E||_F <= g tr(R^T R)
   <= g (tr H + ||E||_F)``, so ``||E||_2 <= g tr(H) / (1 - g)``.  ``R^T R``
   is PSD, so ``lambda_min(H) >= -||E||_2``; forming ``H`` rounds each
   diagonal entry by at most ``u |h_jj|``.  Hence ``lambda_min(G) >= c -
   g tr(H) / (1 - g) - u max |h_jj| > 0`` when ``c`` exceeds the sum, which
   is how ``c`` is chosen (with ``g`` doubled to allow for blocked LAPACK
   kernels, and Rump's ``4 D (2 (D + 2) + max h_jj) eta`` for underflow).
   A failed factorisation rejects the certificate.
2. **The data.**  ``p_alpha = (q! / alpha!) sum_i x_i**alpha``, computed from
   one entry of ``Z^T Z`` (``Z[i, beta] = x_i**beta``): ``2k - 1`` roundings
   per term and ``n`` terms give ``|err| <= gamma_(n + 2k) sum_i |x_i**alpha|
   <= gamma_(n + 2k) sqrt((Z^T Z)_(beta beta) (Z^T Z)_(gamma gamma)) / (1 -
   gamma_(n + 2k))`` (Cauchy-Schwarz on ``|z_beta|, |z_gamma|``).
3. **The identity.**  ``r_alpha = lam I_alpha - p_alpha - sum_(beta + gamma =
   alpha) G_(beta gamma)`` is evaluated in floating point; each of the at
   most ``c_max`` (``class_size``, doubled for the ordered pairs) terms of the
   last sum and the two subtractions add ``gamma_(2 c_max + 3)`` times the sum
   of the absolute values, bounded and added to ``|r_alpha|``.
4. **The sphere.**  ``|v**alpha| <= prod_j (alpha_j / q)**(alpha_j / 2)`` on
   the unit sphere; the nonnegative sum of ``N`` terms is inflated by
   ``1 + gamma_(N + 2)``, and ``2**-900`` is added for underflow (every
   operation adds at most ``2**-1074`` absolutely, and the data are scaled so
   that the entries are at most 1 and the sums at most ``2**60``).

The bound is on the data *after* the exact power-of-two scaling recorded in
the certificate (``exponent``): ``||X||_(2->q) = 2**-exponent ||2**exponent
X||_(2->q)``, and a scaling that loses bits to underflow is charged
``sqrt(n d) 2**-1074`` on the norm.  :func:`build_certificate` turns any
approximate Gram matrix into a certificate: project it onto the affine set of
matrices whose form is ``lam ||v||**q - p`` (exactly, up to rounding),
estimate its least eigenvalue ``mu`` and shift by ``(t - mu) I`` in the
scaled basis, which adds exactly ``(t - mu) ||v||**q`` to the form; ``t``
covers the margin of step 1 and the error of the eigenvalue estimate
(doubled until the factorisation of step 1 succeeds).  The certificate is
valid whatever the quality of the approximate Gram matrix: a solver that
stops early gives a looser, still valid, bound.

References
----------
.. [1] N. J. Higham, "Accuracy and Stability of Numerical Algorithms", 2nd
       ed., SIAM (2002), chapters 3 and 10.
.. [2] S. M. Rump, "Verification of positive definiteness", BIT Numer. Math.
       46 (2006).
.. [3] P. A. Parrilo, "Semidefinite programming relaxations for semialgebraic
       problems", Math. Program. 96 (2003).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg

from .._validation import check_matrix, check_scalar
from ._sos_basis import MonomialBasis

__all__ = ["SOSCertificate", "build_certificate", "is_positive_definite",
           "verify_sos_certificate"]

_U = 2.0**-53
_ETA = 2.0**-1074
_TINY = 2.0**-900


def _gamma(m: float) -> float:
    if m * _U >= 0.5:
        return math.inf
    return m * _U / (1.0 - m * _U)


def _up(x: float, ulps: int = 4) -> float:
    """``x`` pushed up by a few units in the last place (covers one rounded operation)."""
    return float(x) * (1.0 + ulps * 2.0 * _U) + _ETA if x >= 0 else float(x) * (1 - ulps * 2 * _U)


def _psd_margin(G: np.ndarray) -> float:
    """The shift ``c`` for which a completed Cholesky of ``fl(G - c I)`` proves ``G > 0``."""
    D = G.shape[0]
    diag = np.diag(G)
    g = 2.0 * _gamma(D + 1)
    trace = _up(float(np.sum(np.abs(diag))) * (1 + _gamma(D)))
    scale = _up(float(np.abs(diag).max(initial=0.0)))
    base = g / (1 - g) * trace + 4 * D * (2 * (D + 2) + scale) * _ETA
    # H = G - c I has trace <= trace(|G|) + D c and diagonal <= scale + c; c solves
    # c = base' + (g / (1 - g)) D c + u (scale + c) with a factor 2 of room.
    slope = g / (1 - g) * D + 2 * _U
    if slope >= 0.5:
        return math.inf
    return _up(2.0 * (base + 2 * _U * scale) / (1.0 - 2.0 * slope))


def is_positive_definite(G: Any) -> bool:
    """Prove in floating point that a symmetric matrix is positive definite.

    Runs a Cholesky factorisation of ``fl(G - c I)`` with the margin ``c`` of
    step 1 of the module docstring; completion proves ``lambda_min(G) > 0``.
    ``False`` means "not proven" (indefinite, singular or too close to it).

    Parameters
    ----------
    G : array_like, shape (D, D)
        Symmetric float matrix (only its lower triangle is read).

    Returns
    -------
    bool

    References
    ----------
    Higham (2002), Thm 10.3; Rump (2006), see the module docstring.

    Examples
    --------
    >>> import numpy as np
    >>> is_positive_definite(np.array([[2.0, 1.0], [1.0, 2.0]]))
    True
    >>> is_positive_definite(np.array([[1.0, 1.0], [1.0, 1.0]]))   # singular
    False
    """
    A = check_matrix(G, "G", accept_sparse=False).astype(np.float64)
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"G must be square, got shape {A.shape}")
    A = np.tril(A) + np.tril(A, -1).T
    c = _psd_margin(A)
    if not math.isfinite(c):
        return False
    H = A - c * np.eye(A.shape[0])
    try:
        scipy.linalg.cholesky(H, lower=True, check_finite=True, overwrite_a=True)
    except (np.linalg.LinAlgError, ValueError):
        return False
    return True


@dataclass
class SOSCertificate:
    """A degree-``q`` sum-of-squares certificate for ``max_(||v||=1) ||2**exponent X v||_q**q``.

    ``lam ||v||**q - p(v) - m(v)^T gram m(v)`` has small coefficients (the
    residual bounded by :func:`verify_sos_certificate`), with ``gram`` in the
    unscaled basis of degree-``q/2`` monomials.

    Attributes
    ----------
    q : int
        Even degree.
    exponent : int
        The data are ``2**exponent * X``.
    lam : float
        The multiplier of ``||v||**q``.
    gram : ndarray, shape (D, D)
        The Gram matrix (unscaled monomial basis).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])       # p(v) = v0^4 + v1^4 <= ||v||^4
    >>> cert = SOSCertificate(q=4, exponent=0, lam=1.0, gram=np.diag([0.0, 2.0, 0.0]))
    >>> verify_sos_certificate(X, cert)               # ||v||^4 - p = 2 (v0 v1)^2, singular
    Traceback (most recent call last):
    ...
    ValueError: the Gram matrix of the certificate is not proven positive semidefinite
    >>> cert.gram = np.diag([1e-9, 2.0, 1e-9])        # strictly PD: residual -1e-9 v^4 terms
    >>> bool(verify_sos_certificate(X, cert) >= 1.0)
    True
    """

    q: int
    exponent: int
    lam: float
    gram: np.ndarray


def _scaled(X: np.ndarray, exponent: int) -> tuple[np.ndarray, float]:
    """``2**exponent X`` and the norm error of the rounding (nonzero only on underflow)."""
    Xs = np.ldexp(X, exponent)
    if not np.all(np.isfinite(Xs)):
        raise ValueError(f"2**{exponent} * X overflows; choose a smaller exponent")
    exact = np.array_equal(np.ldexp(Xs, -exponent), X)
    return Xs, 0.0 if exact else math.sqrt(X.size) * _ETA


def _residual_bound(Xs: np.ndarray, basis: MonomialBasis, lam: float, G: np.ndarray) -> float:
    """Rigorous ``sum_alpha |r_alpha| max|v**alpha|`` (steps 2-4 of the module docstring)."""
    n = Xs.shape[0]
    k = basis.k
    Z = basis.features(Xs)
    rb, gb = basis.representative[:, 0], basis.representative[:, 1]
    # Any summation order (BLAS blocking, FMA) obeys the gamma_n bound of step 2.
    ZtZ = Z.T @ Z
    moments = ZtZ[rb, gb]
    sq = np.diag(ZtZ)
    g_data = _gamma(n + 2 * k)
    abs_sum = np.sqrt(sq[rb] * sq[gb]) * (1 + 4 * _U) / (1 - g_data)
    p = basis.power_multinomial * moments
    p_err = basis.power_multinomial * g_data * abs_sum * (1 + 2 * _U) + 2 * _U * np.abs(p)
    off = basis.rows != basis.cols
    w = np.where(off, 2.0, 1.0)
    vals = G[basis.rows, basis.cols]
    N = basis.n_coefficients
    gram_coef = np.bincount(basis.pair_class, weights=w * vals, minlength=N)
    gram_abs = np.bincount(basis.pair_class, weights=w * np.abs(vals), minlength=N)
    lam_I = lam * basis.identity_coefficients
    r = lam_I - p - gram_coef
    g_id = _gamma(2 * basis.class_size + 4)
    r_err = g_id * (np.abs(lam_I) + np.abs(p) + gram_abs) * (1 + 4 * _U)
    bound = (np.abs(r) + p_err + r_err) * basis.monomial_max
    total = float(np.sum(bound)) * (1 + _gamma(N + 2)) * (1 + 4 * _U)
    return _up(total) + _TINY


def verify_sos_certificate(X: Any, certificate: SOSCertificate) -> float:
    """Rigorous upper bound on ``||X||_(2->q)`` from a sum-of-squares certificate.

    Proves ``G = certificate.gram`` positive definite, bounds the residual
    of the polynomial identity and returns ``(lam + residual)**(1/q)``
    scaled back by ``2**-exponent`` and rounded outward (module docstring).

    Parameters
    ----------
    X : array_like, shape (n, d)
        The data (rows ``x_i``); ``p(v) = ||X v||_q**q``.
    certificate : SOSCertificate
        As made by :func:`build_certificate` or by hand.

    Returns
    -------
    float
        An upper bound on ``||X||_(2->q)`` that holds in exact arithmetic.

    Raises
    ------
    ValueError
        When the Gram matrix is not proven positive semidefinite, or its
        size does not match the data.

    References
    ----------
    See the module docstring.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 1.0]])      # p(v) = (v0 + v1)^4, maximum 4 at (1, 1)/sqrt(2)
    >>> B = MonomialBasis(2, 2)
    >>> loose = build_certificate(X, 4, B, 4.0, np.zeros((3, 3)), exponent=0)
    >>> round(verify_sos_certificate(X, loose), 3)   # a poor Gram guess: valid but loose
    1.449
    >>> G = np.array([[3.0, -2, -1], [-2, 4, -2], [-1, -2, 3]])  # 4||v||^4 - p = m^T G m
    >>> tight = build_certificate(X, 4, B, 4.0, G / np.outer(B.scale, B.scale), exponent=0)
    >>> ub = verify_sos_certificate(X, tight)
    >>> bool(2**0.5 <= ub <= 2**0.5 * (1 + 1e-12))
    True
    """
    A = check_matrix(X, "X", accept_sparse=False).astype(np.float64, copy=False)
    if not isinstance(certificate, SOSCertificate):
        raise TypeError(f"certificate must be an SOSCertificate, got {type(certificate).__name__}")
    q = check_scalar(certificate.q, "certificate.q", kind=int, low=2)
    if q % 2:
        raise ValueError(f"certificate.q must be an even integer >= 2, got {q}")
    lam = check_scalar(certificate.lam, "certificate.lam", kind=float)
    exponent = check_scalar(certificate.exponent, "certificate.exponent", kind=int,
                            low=-2200, high=2200)
    basis = MonomialBasis(A.shape[1], q // 2)
    try:
        G = np.asarray(certificate.gram, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"certificate.gram must be a real square matrix ({err})") from None
    if not np.isfinite(G).all():
        raise ValueError("certificate.gram contains NaN or infinity")
    if G.shape != (basis.size, basis.size):
        raise ValueError(
            f"certificate.gram must have shape {(basis.size, basis.size)} for d = {A.shape[1]}"
            f" and q = {q}, got {G.shape}")
    G = np.tril(G) + np.tril(G, -1).T
    if not is_positive_definite(G):
        raise ValueError("the Gram matrix of the certificate is not proven positive semidefinite")
    Xs, norm_err = _scaled(A, exponent)
    with np.errstate(over="ignore", invalid="ignore"):
        power = _up(lam + _residual_bound(Xs, basis, lam, G))
    if not math.isfinite(power):
        # A certificate made for data of another scale: 2**exponent X is far from the
        # range it was solved in and the residual's terms overflow (was: NaN returned).
        raise ValueError(
            "the certificate does not fit X: its residual bound overflows for "
            f"2**certificate.exponent X (exponent {exponent}); build the certificate for "
            "this X (sos_upper_bound)")
    if power <= 0:
        return 0.0
    root = _up(power ** (1.0 / q), 8) + norm_err
    return _up(float(np.ldexp(root, -exponent)), 1)


def build_certificate(X: Any, q: int, basis: MonomialBasis, lam: float, Q: np.ndarray, *,
                      exponent: int, max_tries: int = 40) -> SOSCertificate:
    """Repair an approximate Gram matrix into a verified certificate.

    Parameters
    ----------
    X : ndarray, shape (n, d)
        The data before scaling.
    q : int
        Even degree, ``2 * basis.k``.
    basis : MonomialBasis
    lam : float
        Multiplier of ``||v||**q`` the approximate ``Q`` was solved for.
    Q : ndarray, shape (D, D)
        Approximate Gram matrix of ``lam ||v||**q - p`` in the *scaled* basis.
    exponent : int
        Power-of-two scaling of ``X`` that ``lam`` and ``Q`` refer to.
    max_tries : int, default=40
        Doublings of the eigenvalue margin before giving up.

    Returns
    -------
    SOSCertificate
        ``verify_sos_certificate(X, result)`` bounds the norm.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((20, 2))
    >>> B = MonomialBasis(2, 2)
    >>> cert = build_certificate(X, 4, B, 0.0, np.zeros((3, 3)), exponent=0)
    >>> ub = verify_sos_certificate(X, cert)
    >>> V = np.stack([np.cos(np.linspace(0, np.pi, 2001)), np.sin(np.linspace(0, np.pi, 2001))])
    >>> bool(ub >= np.max(np.sum((X @ V) ** 4, axis=0)) ** 0.25)
    True
    """
    Xs, _ = _scaled(np.asarray(X, dtype=np.float64), exponent)
    Zs = basis.features(Xs) * basis.scale
    P = Zs.T @ Zs
    target = lam * basis.identity_coefficients - basis.coefficients(P)
    Qp = basis.project(np.asarray(Q, dtype=np.float64), target)
    Qp = 0.5 * (Qp + Qp.T)
    mu = float(scipy.linalg.eigh(Qp, eigvals_only=True, subset_by_index=[0, 0])[0])
    D = basis.size
    # The eigensolver is backward stable: its error is a modest multiple of D u ||Q||.
    norm_est = float(np.linalg.norm(Qp, "fro"))
    S = basis.scale
    G0 = S[:, None] * (Qp - mu * np.eye(D)) * S[None, :]
    t = 2 * _psd_margin(G0) + 8 * D * _U * norm_est + _TINY
    for _ in range(max_tries):
        shift = t - mu
        G = S[:, None] * (Qp + shift * np.eye(D)) * S[None, :]
        G = np.tril(G) + np.tril(G, -1).T
        if is_positive_definite(G):
            return SOSCertificate(q=q, exponent=exponent, lam=_up(lam + shift), gram=G)
        t *= 4.0
    raise RuntimeError("could not repair the Gram matrix into a positive definite one")
