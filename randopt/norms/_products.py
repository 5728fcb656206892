"""Products with a power-of-two rescaling ``B = 2**-e A`` of an operand, and certified
Rayleigh quotients.

Why rescale: the iterative methods square their values (Ritz values
``sigma**2``, Lanczos polynomial norms ``prod alpha_j beta_j``), which
overflows for ``||A|| ~ 1e155`` and underflows for ``||A|| ~ 1e-155``.  Scaling
by a power of two is exact in binary floating point, so running on
``B = 2**-e A`` with ``2**e`` near ``||A||`` and scaling the results back by
``2**e`` changes nothing but the exponent range.  The scale is applied on both
sides of the product, ``B x = 2**-e_out (A (2**-e_in x))`` with
``e_in + e_out = e`` and ``|e_in|, |e_out| <= 540``, so that neither the input
vector, the products ``a_ij x_j``, nor the output leave the normal range for
any finite ``A``; for ``|e| <= 500`` the whole factor goes on the shorter of
the two vectors (one multiplication of ``d`` entries instead of two).  The
factors are multiplications by exact powers of two (3x faster than
:func:`numpy.ldexp`, and as exact).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..linalg.bounds import EPS
from ._rounding import UNIT_ROUNDOFF, gamma, rayleigh_lower

__all__ = ["ScaledProducts", "checked", "vector_norm"]

#: Largest ``|e|`` put on one side of a product.
_ONE_SIDED = 500


def checked(value: float) -> float:
    """``value`` if finite, else a ValueError: a product returned NaN or infinity.

    The algorithms check the norms they compute anyway (one scalar per product)
    instead of scanning every product vector.

    Parameters
    ----------
    value : float

    Returns
    -------
    float

    Examples
    --------
    >>> from randopt.norms._products import checked
    >>> checked(2.0)
    2.0
    """
    if not math.isfinite(value):
        raise ValueError(
            "a product with A returned NaN or infinity (an operator that overflows or "
            "fails?); the norm estimators need finite products"
        )
    return value


def exact_sum_norm(x: np.ndarray) -> float:
    """``sqrt(fsum(x**2))``: the squares summed with one rounding (:func:`math.fsum`), so the
    norm's error bound does not grow with the length (used for certification only)."""
    x = np.asarray(x, dtype=np.float64).ravel()
    return math.sqrt(math.fsum((x * x).tolist())) if x.size else 0.0


def vector_norm(x: np.ndarray) -> float:
    """Euclidean norm of a vector without a (multi-threaded) BLAS call: the thread
    wake-ups cost more than the arithmetic on vectors this size."""
    return math.sqrt(float(np.einsum("i,i->", x, x)))


def delivered_unit_roundoff(y: Any) -> float:
    """Unit roundoff of the precision a product ``y`` was computed in (float64, 32 or 16).

    An operator may compute in a lower precision and hand back float64: its
    values then all lie on the coarser grid.  A float64 product of a Gaussian
    vector lands on the float32 grid in every entry with probability about
    ``2**(-29 m)``, so a product that does, and is not all zeros, is taken to
    be computed in that precision.

    Parameters
    ----------
    y : array_like
        A product, as returned (before any cast).

    Returns
    -------
    float
        ``2**-53``, ``2**-24`` or ``2**-11``.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.norms._products import delivered_unit_roundoff
    >>> g = np.random.default_rng(0).standard_normal(5)
    >>> delivered_unit_roundoff(g) == 2.0**-53, delivered_unit_roundoff(g.astype(np.float32))
    (True, 5.960464477539063e-08)
    """
    arr = np.asarray(y)
    for dtype, u in ((np.float16, 2.0**-11), (np.float32, 2.0**-24)):
        if arr.dtype == dtype:
            return u
    arr = np.asarray(arr, dtype=np.float64).ravel()
    finite = arr[np.isfinite(arr) & (arr != 0.0)]
    if finite.size == 0:
        return UNIT_ROUNDOFF
    for dtype, u in ((np.float16, 2.0**-11), (np.float32, 2.0**-24)):
        with np.errstate(over="ignore"):
            if np.array_equal(finite.astype(dtype).astype(np.float64), finite):
                return u
    return UNIT_ROUNDOFF


def _max_col_length(operand: Any) -> int:
    """Most terms in one inner product of ``A^T y`` (the longest stored column)."""
    m = operand.shape[0]
    if operand.format == "csr":
        idx = operand.local_data().indices
        return max(int(np.bincount(idx, minlength=1).max()) if idx.size else 1, 1)
    if operand.format == "csc":
        return max(int(np.diff(operand.local_data().indptr).max()), 1)
    return m


def _max_row_length(operand: Any) -> int:
    """Most terms in one inner product of ``A v``: the longest stored row of a local sparse
    matrix, else the number of columns (the rounding bound grows with it)."""
    n = operand.shape[1]
    if operand.format == "csr":
        return max(int(np.diff(operand.local_data().indptr).max()), 1)
    if operand.format == "csc":
        idx = operand.local_data().indices
        return max(int(np.bincount(idx, minlength=1).max()) if idx.size else 1, 1)
    return n


class ScaledProducts:
    """``B x``, ``B^T y`` for ``B = 2**-exponent A`` over an :class:`~randopt.operands.Operand`.

    Parameters
    ----------
    operand : Operand
        The matrix ``A`` (:func:`randopt.operands.as_operand`).
    exponent : int
        ``e`` of ``B = 2**-e A``.
    abs_bound : float, default=inf
        Upper bound on ``|| |B| ||_2`` (the matrix of absolute values; at most
        ``||B||_F`` and ``sqrt(||B||_1 ||B||_inf)``), ``inf`` when unknown:
        :meth:`certified_pair` bounds the rounding error of the products by
        ``gamma_d || |B| |v| || <= gamma_d || |B| ||_2 ||v||``.
    unit_roundoff : float, default=2**-53
        Unit roundoff of the precision the operand's products are computed in
        (:func:`delivered_unit_roundoff`): every rounding margin uses it.

    Attributes
    ----------
    n_matvec : int
        Products with ``A`` or ``A^T`` so far (one per column).

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.operands import as_operand
    >>> from randopt.norms._products import ScaledProducts
    >>> B = ScaledProducts(as_operand(np.diag([2.0**600, 2.0**599])), 600)
    >>> B.mv(np.ones(2)).tolist(), B.n_matvec
    ([1.0, 0.5], 1)
    >>> lower, u, v = B.certified_pair(np.array([1.0, 0.0]), False, abs_bound=1.2)
    >>> bool(1 - 1e-14 < lower <= 1.0)
    True
    """

    def __init__(self, operand: Any, exponent: int, abs_bound: float = math.inf,
                 unit_roundoff: float = UNIT_ROUNDOFF):
        self.operand = operand
        self.shape = operand.shape
        self.exponent = int(exponent)
        m, n = operand.shape
        # (input factor exponent, output factor exponent) for A x and for A^T y.
        if abs(self.exponent) <= _ONE_SIDED:
            e = self.exponent
            self._mv_split = (e, 0) if n <= m else (0, e)
            self._rmv_split = (e, 0) if m <= n else (0, e)
        else:
            half = self.exponent // 2
            self._mv_split = self._rmv_split = (half, self.exponent - half)
        self._e_in, self._e_out = self._mv_split
        self.abs_bound = float(abs_bound)
        self.row_length = _max_row_length(operand)
        self.col_length = _max_col_length(operand)
        self.n_matvec = 0
        #: Unit roundoff of the products (:func:`delivered_unit_roundoff`; float64 unless
        #: an operator was found to compute in a lower precision).
        self.unit_roundoff = float(unit_roundoff)

    def _float64_terms(self, terms: int) -> float:
        """The ``t`` with float64's ``gamma_t`` equal to ``gamma_terms`` at the products'
        precision; a lower precision also rounds the input vector and the matrix (two
        more terms)."""
        if self.unit_roundoff == UNIT_ROUNDOFF:
            return terms
        return (terms + 2) * (self.unit_roundoff / UNIT_ROUNDOFF)

    def _gamma(self, terms: int) -> float:
        """``gamma_terms`` at the products' precision."""
        return gamma(self._float64_terms(terms))

    @property
    def product_gamma(self) -> float:
        """``gamma_d`` of one product ``B v``: ``||fl(B v) - B v|| <= gamma_d || |B| || ||v||``."""
        return self._gamma(self.row_length)

    def krylov_upper(self, upper: float, n_steps: int) -> float:
        """Bound on ``||B||`` from a bound ``upper`` on the computed recurrence's matrix.

        A Krylov run on computed products is an exact run for ``B + E``
        (Paige); every product ``B v`` or ``B^T u`` of a unit vector is off by at
        most ``gamma_L || |B| ||`` (``L`` terms per inner product), and the ``k``
        columns of the residual matrices give ``||E|| <= sqrt(k) (gamma_row +
        gamma_col) || |B| ||``.  So ``||B|| <= upper + ||E||``, with
        ``|| |B| || <= abs_bound`` or, unknown, ``<= sqrt(min(m, n)) ||B||``
        (then ``||B|| <= upper / (1 - sqrt(k min(m, n)) (gamma_row + gamma_col))``).

        Parameters
        ----------
        upper : float
            Upper bound on ``||B + E||`` (e.g. a Lanczos bound with its own margin).
        n_steps : int
            Products with each side so far (``k``).

        Returns
        -------
        float
            Upper bound on ``||B||`` (``inf`` when the margin is not below 1).
        """
        if not math.isfinite(upper):
            return math.inf
        c = math.sqrt(max(n_steps, 1)) * (self._gamma(self.row_length)
                                          + self._gamma(self.col_length))
        bound = math.inf
        if math.isfinite(self.abs_bound):
            bound = upper + c * self.abs_bound * (1 + 4 * UNIT_ROUNDOFF)
        r = c * math.sqrt(min(self.shape))
        if r < 0.5:
            bound = min(bound, upper / (1 - r) * (1 + 4 * UNIT_ROUNDOFF))
        return bound

    def _count(self, x: np.ndarray) -> None:
        self.n_matvec += 1 if x.ndim == 1 else x.shape[1]

    @staticmethod
    def _times_power_of_two(x: np.ndarray, e: int) -> np.ndarray:
        """``x * 2**-e``: exact (|e| <= 540 keeps the factor a normal float)."""
        return x * (2.0**-e) if e else x

    def mv(self, x: np.ndarray) -> np.ndarray:
        """``B x`` for ``x`` of shape (d,) or (d, k)."""
        self._count(x)
        e_in, e_out = self._mv_split
        y = self.operand.matvec(self._times_power_of_two(x, e_in))
        return self._times_power_of_two(np.asarray(y, dtype=np.float64), e_out)

    def rmv(self, y: np.ndarray) -> np.ndarray:
        """``B^T y`` for ``y`` of shape (n,) or (n, k)."""
        self._count(y)
        e_in, e_out = self._rmv_split
        x = self.operand.rmatvec(self._times_power_of_two(y, e_in))
        return self._times_power_of_two(np.asarray(x, dtype=np.float64), e_out)

    def oriented(self):
        """``(forward, backward, d, flipped)`` with the short side of dimension ``d``."""
        m, n = self.shape
        if m >= n:
            return self.mv, self.rmv, n, False
        return self.rmv, self.mv, m, True

    def certified_ratio(self, v: np.ndarray, *, abs_bound: float) -> tuple[float, np.ndarray,
                                                                           np.ndarray]:
        """Certified lower bound on ``||B v|| / ||v||`` for the vector actually multiplied.

        Returns ``(lower, B v, v)`` with ``v`` the (exactly rescaled) vector
        that entered the product.  The rounding error of the product is
        bounded by ``gamma_d abs_bound ||v||`` (``d`` the longest row) plus, for underflow in the
        products and the rescaling, ``sqrt(m) (d + 1) 2**-1074`` in the scale
        of the product and ``sqrt(m) 2**-1074`` in ``B``'s
        (:mod:`randopt.norms._rounding`).
        """
        self.n_matvec += 1
        m, n = self.shape
        v_in = np.ldexp(v, -self._e_in)
        v_exact = np.ldexp(v_in, self._e_in)  # what was multiplied, in B's scale (exact)
        y = np.ldexp(np.asarray(self.operand.matvec(v_in), dtype=np.float64), -self._e_out)
        checked(float(np.sum(y)))
        # Underflow: d + 1 half-ulps of 2**-1074 per entry in the product's scale, one
        # more per entry when rescaling into B's.
        absolute = (math.ldexp(math.sqrt(m) * (n + 1), -1074 - self._e_out)
                    + math.sqrt(m) * 2.0**-1074)
        lower = rayleigh_lower(exact_sum_norm(y), m, exact_sum_norm(v_exact), n,
                               self._float64_terms(self.row_length), abs_bound, absolute,
                               compensated=True)
        return lower, y, v_exact

    def certified_bracket(self, x: np.ndarray, flipped: bool, upper: float,
                          n_steps: int) -> dict:
        """The end of an iterative method: ``lower``, ``upper``, ``u``, ``v`` in ``B``'s scale.

        ``upper`` bounds the computed recurrence's matrix (``inf`` when unknown);
        the products' own rounding is added (:meth:`krylov_upper`, ``n_steps``
        products each way) and the Rayleigh quotient of ``x`` certified
        (:meth:`certified_pair`), with ``|| |B| ||`` at most :attr:`abs_bound` and
        ``sqrt(min(m, n))`` times the upper bound.
        """
        upper = self.krylov_upper(upper, n_steps)
        abs_bound = min(self.abs_bound, math.sqrt(min(self.shape)) * upper * (1 + 4 * EPS))
        lower, u_vec, v_vec = self.certified_pair(x, flipped, abs_bound=abs_bound)
        return {"lower": lower, "upper": max(upper, lower), "u": u_vec, "v": v_vec}

    def certified_pair(self, x: np.ndarray, flipped: bool, *, abs_bound: float):
        """Certified ``lower`` on ``||B||`` and unit vectors ``u, v`` with ``B v = ||B v|| u``.

        ``x`` approximates a right singular vector (``flipped`` False) or a
        left one (True); then ``v = B^T x / ||B^T x||`` gives
        ``||B v|| >= ||B^T x|| / ||x||`` (Cauchy-Schwarz) and the exact pair.
        """
        if flipped:
            x = x / vector_norm(x)
            x = self.rmv(x)
            if vector_norm(x) == 0.0:
                return 0.0, np.zeros(self.shape[0]), x
        nx = vector_norm(x)
        if nx == 0.0:
            return 0.0, np.zeros(self.shape[0]), x
        lower, y, v = self.certified_ratio(x / nx, abs_bound=abs_bound)
        ny, nv = vector_norm(y), vector_norm(v)
        u = y / ny if ny > 0 else y
        return lower, u, v / nv
