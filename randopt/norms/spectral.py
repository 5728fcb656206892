"""Spectral norm ``||A||_2`` of dense, sparse, implicit and distributed matrices, with a
certified bracket.

:func:`spectral_norm` validates its options, wraps ``A`` in an operand
(:func:`randopt.operands.as_operand`: dense, sparse, ``LinearOperator`` or
Dask, all through the same products), rescales it by a power of two and runs
one of four methods, each in its own module with its references and
stopping rule:

``"lanczos"`` (default)
    Golub-Kahan-Lanczos with restarts on breakdown and a probabilistic upper
    bound (:mod:`randopt.norms._spectral_lanczos`).
``"power"``
    Power iteration on ``A^T A`` (:mod:`randopt.norms._spectral_power`).
``"randomized"``
    Randomised subspace iteration with the HMT residual bound
    (:mod:`randopt.norms._spectral_randomized`).
``"exact"``
    Dense SVD (:mod:`randopt.norms._spectral_exact`).

What holds for every method:

* Scale.  The methods run on ``B = 2**-e A`` with ``2**e`` within a small
  factor of ``||A||`` (from ``sqrt(||A||_1 ||A||_inf)`` for explicit
  matrices, one product otherwise) and report ``2**e`` times their results:
  exact in binary, so every finite ``A`` works, ``1e-300`` to ``1e300``
  (:mod:`randopt.norms._products`).
* ``lower`` is a Rayleigh quotient ``||A v|| / ||v||`` evaluated at the end
  and reduced by a rigorous bound on its rounding error
  (``gamma_d || |A| ||_2 ||v||`` for the product, ``d`` the longest row,
  with ``|| |A| ||_2 <= min(||A||_F, sqrt(||A||_1 ||A||_inf))``; the norms
  summed with :func:`math.fsum`; :mod:`randopt.norms._rounding`), so it
  never exceeds ``||A||``.  For a ``LinearOperator``, whose entries are never
  seen, ``|| |A| ||_2 <= ||A||_F <= sqrt(min(m, n)) upper`` is used (the
  lower bound is then as probable as the upper one).
* For explicit matrices the deterministic bounds ``||A||_F`` and
  ``sqrt(||A||_1 ||A||_inf)``, computed in one pass and widened by the
  rounding error of their sums (``gamma_N`` for ``N`` terms, underflow
  included), replace the method's upper bound when smaller (failure
  probability 0, ``upper_kind="deterministic"``).
* The zero matrix gives ``norm = lower = upper = 0`` with
  ``upper_kind="exact"``.
* ``converged`` is true exactly when the returned bracket meets ``tol``:
  ``upper - lower <= tol * lower`` (or both are 0).

References
----------
.. [1] G. Golub and W. Kahan, SIAM J. Numer. Anal. 2 (1965).
.. [2] J. L. M. van Dorsselaer, M. E. Hochstenbach and H. A. van der Vorst,
       SIAM J. Matrix Anal. Appl. 22 (2000).
.. [3] N. Halko, P.-G. Martinsson and J. A. Tropp, SIAM Review 53 (2011).
.. [4] N. J. Higham, "Accuracy and stability of numerical algorithms",
       2nd ed., SIAM (2002).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import check_choice, check_random_state, check_scalar
from ..operands import as_operand
from ._products import ScaledProducts, delivered_unit_roundoff, vector_norm
from ._rounding import UNIT_ROUNDOFF, frobenius_upper, hoelder_upper, round_down, round_up, scaled
from ._spectral_exact import exact_bracket
from ._spectral_lanczos import lanczos_bracket
from ._spectral_power import power_bracket
from ._spectral_randomized import randomized_bracket
from .result import NormResult

__all__ = ["spectral_norm", "SPECTRAL_METHODS"]

#: The methods of :func:`spectral_norm`.
SPECTRAL_METHODS = ("lanczos", "power", "randomized", "exact")
# Smallest positive normal float64: results scaled back below it lose bits.
_NORMAL_MIN = 2.0**-1022
_FLOAT_MAX = float(np.finfo(np.float64).max)


def _unscale(x: float, exponent: int, up: bool) -> float:
    """``x * 2**exponent``, exact unless it lands in the subnormal range (then outward)."""
    if x == 0.0 or not math.isfinite(x):
        return float(x)
    y = scaled(x, exponent)
    if math.isinf(y) and not up:
        return _FLOAT_MAX  # a norm beyond the float range: the largest float is below it
    if y < _NORMAL_MIN:
        return round_up(y) if up else round_down(y)
    return y


def _operator_exponent(op: Any, rng: np.random.Generator) -> tuple[int, int, float]:
    """A power of two near ``||A g||`` for a random unit ``g`` (for operators), the
    products it took, and the unit roundoff the products are delivered in.

    Taken from ``max_i |(A g)_i|`` (within ``sqrt(m)`` of the norm), never from a sum of
    squares: ``np.linalg.norm`` underflows to 0 for ``||A g|| ~ 1e-181`` (the run then
    used exponent 0 and reported the bracket [0, 0] for a non-zero operator) and
    overflows near 1e155.  Retried with the input scaled down (the product overflowed)
    or up (it underflowed to 0).

    Precision: a bound must account for the precision the operator actually computes
    in, not the float64 it returns.  The probe's products ``A g`` and ``A^T h`` (``h``
    Gaussian) of a float32 operator lie on the float32 grid in every entry (a float64
    product does so with probability about ``2**-29`` per entry): then every margin
    uses float32's unit roundoff (:func:`~randopt.norms._products.delivered_unit_roundoff`).
    """
    g = rng.standard_normal(op.n_cols)
    g /= vector_norm(g)
    count = 0
    for shift in (0, 600, -600):
        count += 1
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            y = np.asarray(op.matvec(np.ldexp(g, -shift)), dtype=np.float64)
            top = float(np.abs(y).max()) if y.size else 0.0
        if math.isfinite(top) and top > 0:
            h = rng.standard_normal(op.n_rows)
            with np.errstate(over="ignore", invalid="ignore", under="ignore"):
                x = op.rmatvec(h / vector_norm(h))
            u = max(delivered_unit_roundoff(y), delivered_unit_roundoff(x))
            return math.frexp(top)[1] + shift, count + 1, u
        if top == 0.0 and shift == 0:
            continue  # zero (or underflowed): try a larger input
    return (1024 if not math.isfinite(top) else 0), count, UNIT_ROUNDOFF


def _zero_result(shape: tuple[int, int], method: str) -> NormResult:
    return NormResult(
        norm=0.0, lower=0.0, upper=0.0, upper_kind="exact", failure_probability=0.0,
        n_matvec=0, nit=0, converged=True, method=method,
        u=np.zeros(shape[0]), v=np.zeros(shape[1]),
    )


def spectral_norm(
    A: Any,
    *,
    method: str = "lanczos",
    tol: float = 1e-6,
    max_iter: int | None = None,
    random_state: Any = None,
    failure_probability: float = 1e-6,
    block_size: int | None = None,
    n_test_vectors: int = 10,
) -> NormResult:
    """Largest singular value of a matrix, with a certified bracket.

    Parameters
    ----------
    A : array_like, scipy.sparse matrix, LinearOperator, dask.array.Array or Operand
        Real matrix of shape (m, n), read through
        :func:`randopt.operands.as_operand` (torch tensors and other
        ``__array__`` objects are dense arrays; a ``LinearOperator`` needs
        ``matvec`` and ``rmatvec``).  The bounds account for the precision
        the products are computed in: a ``LinearOperator`` is probed with one
        product each way, and one whose products lie on the float32 (float16)
        grid is treated as computing in that precision (wider rounding
        margins on ``lower`` and ``upper``); every other input is multiplied
        in float64.
    method : {"lanczos", "power", "randomized", "exact"}, default="lanczos"
        See the module docstring; each method's module gives its stopping
        rule and bound.
    tol : float in (0, 1), default=1e-6
        Relative accuracy.  ``"lanczos"`` stops when
        ``upper <= (1 + tol) lower`` (a bracket holding with probability
        ``1 - failure_probability``); ``"power"`` and ``"randomized"`` stop
        when the estimate changes by less than ``tol`` (relative).
    max_iter : int, optional
        Iteration limit: Lanczos steps (all restarts together; default
        ``min(min(m, n), 500)``), power steps (1000) or subspace iterations
        (100).
    random_state : None, int, numpy.random.Generator or SeedSequence
        Start vector / test vectors (see
        :func:`randopt._validation.check_random_state`).
    failure_probability : float in (0, 1), default=1e-6
        Probability (over the method's random start) allowed for a
        probabilistic ``upper`` to be below ``||A||``.
    block_size : int, optional
        Block size of ``"randomized"`` (default ``min(m, n, 10)``).
    n_test_vectors : int, default=10
        Gaussian test vectors of the HMT residual bound (``"randomized"``).

    Returns
    -------
    NormResult
        ``norm`` (the estimate: the certified lower bound for iterative
        methods, the computed singular value for ``"exact"``), ``lower``,
        ``upper``, ``upper_kind`` (``"exact"``, ``"deterministic"``,
        ``"probabilistic"``, or ``"none"`` when no finite bound was reached),
        ``failure_probability`` (0 unless probabilistic), ``n_matvec``
        (products with ``A`` or ``A^T``), ``nit`` (iterations),
        ``converged`` (the bracket meets ``tol``), ``method``, and ``u``,
        ``v``: unit vectors with ``A v = ||A v|| u`` (computed).

    References
    ----------
    .. [1] G. Golub and W. Kahan, "Calculating the singular values and
           pseudo-inverse of a matrix", SIAM J. Numer. Anal. 2 (1965).
    .. [2] J. L. M. van Dorsselaer, M. E. Hochstenbach and H. A. van der
           Vorst, "Computing probabilistic bounds for extreme eigenvalues of
           symmetric matrices with the Lanczos method", SIAM J. Matrix Anal.
           Appl. 22 (2000).
    .. [3] N. Halko, P.-G. Martinsson and J. A. Tropp, "Finding structure with
           randomness", SIAM Review 53 (2011).

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.norms import spectral_norm
    >>> A = np.random.default_rng(0).standard_normal((300, 200))
    >>> res = spectral_norm(A, random_state=0)
    >>> bool(res.lower <= np.linalg.norm(A, 2) <= res.upper), res.converged
    (True, True)
    >>> bool(res.upper <= (1 + 1e-6) * res.lower)
    True
    >>> res = spectral_norm(np.ones((20, 20)), random_state=0)  # rank one, norm 20
    >>> round(res.norm, 12), bool(res.lower <= 20.0 <= res.upper), res.converged
    (20.0, True, True)
    """
    method = check_choice(method, "method", SPECTRAL_METHODS)
    tol = check_scalar(tol, "tol", low=0.0, high=1.0, low_inclusive=False,
                       high_inclusive=False)
    max_iter = check_scalar(max_iter, "max_iter", kind=int, low=1, allow_none=True)
    delta = check_scalar(failure_probability, "failure_probability", low=0.0, high=1.0,
                         low_inclusive=False, high_inclusive=False)
    block_size = check_scalar(block_size, "block_size", kind=int, low=1, allow_none=True)
    n_test = check_scalar(n_test_vectors, "n_test_vectors", kind=int, low=1)
    op = as_operand(A, "A")
    rng = check_random_state(random_state)
    m, n = op.shape
    extra_matvec = 0
    det_upper = math.inf
    if op.format != "operator":
        with np.errstate(over="ignore", under="ignore"):  # handled below: inf / 0 sums
            fro_hat, one_hat, inf_hat = op.abs_sums()
        if one_hat == 0.0 or inf_hat == 0.0:
            # Sums of absolute values vanish only when every entry does.
            return _zero_result(op.shape, method)
        fro_up = frobenius_upper(fro_hat, m * n)
        hoelder_up = hoelder_upper(one_hat, inf_hat, m, n)
        det_upper = min(fro_up, hoelder_up)
        ref = math.sqrt(one_hat) * math.sqrt(inf_hat)
        exponent = math.frexp(ref)[1] if math.isfinite(ref) else 1024
        # || |A| ||_2 <= min(||A||_F, sqrt(||A||_1 ||A||_inf)) bounds the products' rounding
        # error (_rounding); the Hoelder bound stays finite where the squares do not.
        abs_A = det_upper
        abs_B = scaled(abs_A, -exponent) * (1 + 1e-15) if math.isfinite(abs_A) else math.inf
        unit_roundoff = UNIT_ROUNDOFF  # explicit entries: multiplied in float64
    else:
        exponent, extra_matvec, unit_roundoff = _operator_exponent(op, rng)
        abs_B = math.inf
    B = ScaledProducts(op, exponent, abs_B, unit_roundoff)
    if method == "exact":
        res = exact_bracket(B)
        kind, fail = "exact", 0.0
    elif method == "lanczos":
        res = lanczos_bracket(B, rng, tol, max_iter, delta)
        kind, fail = "probabilistic", delta
    elif method == "power":
        res = power_bracket(B, rng, tol, max_iter, delta)
        kind, fail = "probabilistic", delta
    else:
        res = randomized_bracket(B, rng, tol, max_iter, delta, block_size, n_test)
        kind, fail = "probabilistic", delta
    lower = _unscale(res["lower"], exponent, up=False)
    upper = _unscale(res["upper"], exponent, up=True)
    norm = _unscale(res.get("norm", res["lower"]), exponent, up=False)
    if det_upper < upper:
        upper, kind, fail = det_upper, "deterministic", 0.0
    upper = max(upper, lower)
    if not math.isfinite(upper):  # e.g. max_iter spent right after a Lanczos restart
        kind, fail = "none", 0.0
    if lower > 0:
        converged = upper - lower <= tol * lower
    else:
        converged = upper == 0.0
    return NormResult(
        norm=norm, lower=lower, upper=upper, upper_kind=kind, failure_probability=fail,
        n_matvec=B.n_matvec + extra_matvec, nit=res["nit"], converged=bool(converged),
        method=method, u=res["u"], v=res["v"],
    )
