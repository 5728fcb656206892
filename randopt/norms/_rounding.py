"""Floating-point error bounds that make "certified" bounds hold after rounding.

Every bound that :mod:`randopt.norms` calls exact or deterministic, and every
lower bound, is computed in float64 and then widened by the worst-case
rounding error of the computation that produced it (Higham [1]_, chapters 2-3),
then rounded outward with :func:`numpy.nextafter`.  Notation: ``u = 2**-53``
is the unit roundoff of float64 and ``gamma_k = k u / (1 - k u)``.

Sums of non-negative terms.
    Any summation order (recursive, pairwise, blocked, BLAS with or without
    FMA) of ``N`` non-negative float64 terms returns ``s_hat`` with
    ``|s_hat - s| <= gamma_(N-1) s`` ([1]_, eq. 4.4 with the depth of the
    summation tree at most ``N - 1``), so ``s <= s_hat / (1 - gamma_(N-1))``.
Frobenius norm ``sqrt(sum a_ij**2)``.
    Each square has relative error ``<= u`` plus, on gradual underflow, an
    absolute error ``<= 2**-1075`` (addition in the subnormal range is
    exact), so with ``N`` entries
    ``||A||_F**2 <= (s_hat + N 2**-1074) / (1 - gamma_N)``; the computed
    square root ``f_hat = sqrt(s_hat)(1 + d)``, ``|d| <= u``, gives
    ``sqrt(s_hat) <= f_hat (1 + 2u)``.  Overflow (``f_hat = inf``) leaves no
    finite bound.
Hoelder bound ``sqrt(||A||_1 ||A||_inf)``.
    The column and row sums are sums of ``m`` (resp. ``n``) absolute values
    (exact), so each true sum is at most the computed one over
    ``1 - gamma_(m-1)`` (resp. ``gamma_(n-1)``); one product and one square
    root add a relative ``(1 + u)**2``.
Products ``y = A v``.
    Each entry is an inner product of at most ``d`` (row length) terms, so
    ``|fl(A v) - A v| <= gamma_d |A| |v|`` componentwise ([1]_, eq. 3.11),
    hence ``||fl(A v) - A v|| <= gamma_d || |A| |v| || <= gamma_d || |A| ||_2 ||v||``,
    and ``|| |A| ||_2`` is at most ``||A||_F`` (the same Frobenius norm) and
    ``sqrt(||A||_1 ||A||_inf)`` (Hoelder: ``|A|`` has the same absolute
    sums).  This is what every Rayleigh-quotient lower bound
    ``||A v|| / ||v||`` subtracts; the norms ``||y||`` and ``||v||``
    themselves are sums of squares (above), summed by :func:`math.fsum`
    (one rounding) at certification.

The few floating-point operations that evaluate these formulas are covered
by a final factor ``1 + 8u`` (at most five roundings each) and an outward
``nextafter``.

References
----------
.. [1] N. J. Higham, "Accuracy and stability of numerical algorithms",
       2nd ed., SIAM (2002), sections 2.2, 3.1, 3.5 and 4.2.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "UNIT_ROUNDOFF",
    "gamma",
    "round_down",
    "round_up",
    "frobenius_upper",
    "hoelder_upper",
    "norm_upper",
    "product_error",
    "rayleigh_lower",
    "scaled",
]

#: Unit roundoff of float64, ``2**-53``.
UNIT_ROUNDOFF = 2.0**-53
#: Twice the largest absolute rounding error of one float64 operation in the
#: subnormal range (``2**-1075``): covers one underflowing square or product.
_TINY = 2.0**-1074
# The handful of roundings in each formula below: (1 + u)**5 <= 1 + 8u.
_EVAL = 1.0 + 8.0 * UNIT_ROUNDOFF


def gamma(k: int | float) -> float:
    """``gamma_k = k u / (1 - k u)`` for float64, ``inf`` once ``k u >= 1/2``.

    Parameters
    ----------
    k : int or float
        Number of rounding errors.

    Returns
    -------
    float
        ``gamma_k``, itself rounded up by ``1 + 8u``.

    References
    ----------
    .. [1] N. J. Higham, "Accuracy and stability of numerical algorithms",
           2nd ed., SIAM (2002), lemma 3.1.

    Examples
    --------
    >>> from randopt.norms._rounding import gamma
    >>> bool(abs(gamma(10**6) / (10**6 * 2.0**-53) - 1) < 1e-9)
    True
    """
    ku = float(k) * UNIT_ROUNDOFF
    if ku >= 0.5:
        return math.inf
    return ku / (1.0 - ku) * _EVAL


def scaled(x: float, exponent: int) -> float:
    """``x * 2**exponent`` (exact in the normal range), ``+-inf`` on overflow.

    Parameters
    ----------
    x : float
    exponent : int

    Returns
    -------
    float

    Examples
    --------
    >>> from randopt.norms._rounding import scaled
    >>> scaled(3.0, -1), scaled(1e300, 100)
    (1.5, inf)
    """
    try:
        return math.ldexp(float(x), int(exponent))
    except OverflowError:
        return math.copysign(math.inf, x)


def round_up(x: float) -> float:
    """The next float64 above ``x`` (``x`` itself for 0 and infinities).

    Parameters
    ----------
    x : float

    Returns
    -------
    float

    Examples
    --------
    >>> from randopt.norms._rounding import round_up
    >>> round_up(1.0) > 1.0
    True
    """
    x = float(x)
    if x == 0.0 or not math.isfinite(x):
        return x
    return float(np.nextafter(x, math.inf))


def round_down(x: float) -> float:
    """The next float64 below ``x``, clipped at 0 (``0`` for ``x <= 0``).

    Parameters
    ----------
    x : float

    Returns
    -------
    float

    Examples
    --------
    >>> from randopt.norms._rounding import round_down
    >>> round_down(1.0) < 1.0, round_down(-3.0)
    (True, 0.0)
    """
    x = float(x)
    if x <= 0.0 or math.isnan(x):
        return 0.0
    if not math.isfinite(x):
        return x
    return float(np.nextafter(x, 0.0))


def frobenius_upper(fro_hat: float, n_terms: int, *, compensated: bool = False) -> float:
    """Upper bound on ``||A||_F`` from its computed value over ``n_terms`` entries.

    Parameters
    ----------
    fro_hat : float
        The computed ``sqrt(sum a_ij**2)`` (any summation order, float64).
    n_terms : int
        Number of summed squares (an upper bound suffices).
    compensated : bool, default=False
        The sum was correctly rounded (:func:`math.fsum`): its error is one
        rounding, ``gamma_2`` with the squares, whatever ``N``.

    Returns
    -------
    float
        ``sqrt((fro_hat (1 + 2u))**2 + N 2**-1074) / sqrt(1 - gamma_(N+1))``,
        rounded up; ``inf`` for an overflowed ``fro_hat``.

    Examples
    --------
    >>> from randopt.norms._rounding import frobenius_upper
    >>> fro = 999.999999999614  # a computed ||full((3000, 3000), 1/3)||_F (true: 1000)
    >>> frobenius_upper(fro, 3000 * 3000) >= 1000.0
    True
    """
    fro_hat = float(fro_hat)
    if not math.isfinite(fro_hat):
        return math.inf
    g = gamma(2 if compensated else n_terms + 1)
    if not math.isfinite(g):
        return math.inf
    root = fro_hat * (1.0 + 2.0 * UNIT_ROUNDOFF)
    # sqrt(root**2 + N 2**-1074) without squaring into the subnormal range.
    floor = math.sqrt(float(n_terms)) * 2.0**-537
    value = math.hypot(root, floor) / math.sqrt(1.0 - g)
    return round_up(value * _EVAL)


def hoelder_upper(one_hat: float, inf_hat: float, n_rows: int, n_cols: int) -> float:
    """Upper bound on ``sqrt(||A||_1 ||A||_inf)`` from the computed column and row sums.

    Parameters
    ----------
    one_hat, inf_hat : float
        Computed largest absolute column and row sums (float64 sums).
    n_rows, n_cols : int
        Shape of ``A`` (terms per column sum and per row sum).

    Returns
    -------
    float
        An upper bound on ``||A||_2`` (Hoelder), rounded up.

    Examples
    --------
    >>> from randopt.norms._rounding import hoelder_upper
    >>> hoelder_upper(4.0, 4.0, 4, 4) > 4.0
    True
    """
    one_hat, inf_hat = float(one_hat), float(inf_hat)
    if not (math.isfinite(one_hat) and math.isfinite(inf_hat)):
        return math.inf
    g_col, g_row = gamma(max(n_rows - 1, 1)), gamma(max(n_cols - 1, 1))
    if not (math.isfinite(g_col) and math.isfinite(g_row)):
        return math.inf
    one = one_hat / (1.0 - g_col)
    inf = inf_hat / (1.0 - g_row)
    # sqrt(one) * sqrt(inf) does not overflow where one * inf would.
    return round_up(math.sqrt(one) * math.sqrt(inf) * _EVAL)


def norm_upper(norm_hat: float, n_terms: int, *, compensated: bool = False) -> float:
    """Upper bound on the exact Euclidean norm of a vector from its computed norm.

    Parameters
    ----------
    norm_hat : float
        The computed norm.
    n_terms : int
        Length of the vector.
    compensated : bool, default=False
        As in :func:`frobenius_upper`.

    Returns
    -------
    float

    Examples
    --------
    >>> from randopt.norms._rounding import norm_upper
    >>> norm_upper(1.0, 10) > 1.0
    True
    """
    return frobenius_upper(norm_hat, n_terms, compensated=compensated)


def product_error(row_length: int, abs_bound: float, v_norm: float) -> float:
    """Bound on ``||fl(A v) - A v||``: ``gamma_d ||A||_F ||v||`` (see the module docstring).

    Parameters
    ----------
    row_length : int
        Terms per inner product ``d``.
    abs_bound : float
        Upper bound on ``|| |A| ||_2`` (e.g. ``||A||_F``).
    v_norm : float
        Upper bound on ``||v||``.

    Returns
    -------
    float

    Examples
    --------
    >>> from randopt.norms._rounding import product_error
    >>> 0 < product_error(100, 10.0, 1.0) < 1e-12
    True
    """
    return round_up(gamma(row_length) * float(abs_bound) * float(v_norm) * _EVAL)


def rayleigh_lower(
    y_norm_hat: float, n_rows: int, v_norm_hat: float, n_cols: int, row_length: int,
    abs_bound: float, absolute: float = 0.0, compensated: bool = False,
) -> float:
    """Certified lower bound on ``||A v|| / ||v||`` from the computed ``||fl(A v)||``, ``||v||``.

    ``||A v|| >= ||fl(A v)|| - gamma_d ||A||_F ||v|| - absolute`` with
    ``||fl(A v)|| >= y_norm_hat (1 - gamma_(n+1)) - sqrt(n) 2**-537`` (a
    norm computed from ``n`` squares: the argument of :func:`frobenius_upper`
    from below) and ``||v|| <= norm_upper(v_norm_hat)``;
    ``absolute`` covers underflow in the product (see the caller).

    Parameters
    ----------
    y_norm_hat : float
        Computed ``||fl(A v)||``.
    n_rows : int
        Length of ``A v``.
    v_norm_hat : float
        Computed ``||v||``.
    n_cols : int
        Length of ``v``.
    row_length : int
        Terms per inner product of the product.
    abs_bound : float
        Upper bound on ``|| |A| ||_2`` (``inf`` gives 0).
    absolute : float, default=0.0
        Further absolute error of ``||fl(A v)||``.
    compensated : bool, default=False
        Both norms were computed with a correctly rounded sum of the squares
        (:func:`math.fsum`): ``gamma_2`` replaces ``gamma_(n+1)``.

    Returns
    -------
    float
        The certified lower bound, rounded down (0 when nothing is certified).

    Examples
    --------
    >>> from randopt.norms._rounding import rayleigh_lower
    >>> 0.999999 < rayleigh_lower(1.0, 10, 1.0, 10, 10, 1.0) < 1.0
    True
    """
    v_up = norm_upper(v_norm_hat, n_cols, compensated=compensated)
    if not (v_up > 0 and math.isfinite(v_up)):
        return 0.0
    # ||y||**2 >= s_hat / (1 + gamma_n) - n 2**-1074 and s_hat >= (y_hat / (1 + u))**2.
    g = gamma(2 if compensated else n_rows + 1)
    y_low = float(y_norm_hat) * (1.0 - g) / _EVAL - math.sqrt(float(n_rows)) * 2.0**-537
    err = product_error(row_length, abs_bound, v_up) + float(absolute)
    return round_down((y_low - err) / v_up / _EVAL)
