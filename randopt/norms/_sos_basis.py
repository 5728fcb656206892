"""Monomial bases for sum-of-squares certificates of forms ``sum_i <x_i, v>**(2k)``.

A form ``f`` of degree ``2k`` in ``d`` variables is a sum of squares exactly
when ``f(v) = m(v)^T Q m(v)`` for a positive semidefinite ``Q``, where
``m(v)`` lists the ``D = C(d + k - 1, k)`` monomials of degree ``k``.  This
module holds the combinatorics that the solver (:mod:`randopt.norms.sos`)
and the certificate check (:mod:`randopt.norms.sos_certificate`) share:

* the monomials ``v**beta`` (``beta`` stored as a sorted tuple of ``k``
  variable indices) and the *scaled* basis ``m_s(v) = s * m(v)`` with
  ``s_beta = sqrt(k! / beta!)``, for which ``||m_s(v)||**2 = ||v||**(2k)``
  (multinomial theorem): the Gram matrix of ``||v||**(2k)`` is then the
  identity, and shifting a Gram matrix by ``t I`` adds exactly
  ``t ||v||**(2k)`` to its form;
* the linear map ``A`` from symmetric ``D x D`` matrices to the
  coefficients of their form, ``A(Q)_alpha = sum_(beta + gamma = alpha)
  s_beta s_gamma Q_(beta, gamma)`` (ordered pairs), and the projection onto
  ``{Q : A(Q) = c}``.  Each entry of ``Q`` feeds exactly one coefficient,
  so ``A A^T`` is diagonal and the projection costs ``O(D**2)``.

Pairs ``(beta, gamma)`` are enumerated over the lower triangle in
column-major order (``rows >= cols``), the order of the ``svec`` vectors of
the conic solver SCS.

Examples
--------
>>> from randopt.norms._sos_basis import MonomialBasis
>>> B = MonomialBasis(3, 2)
>>> B.size, B.n_coefficients
(6, 15)
"""

from __future__ import annotations

import math
from itertools import combinations_with_replacement

import numpy as np

from .._validation import check_scalar

__all__ = ["MonomialBasis"]


# 20! < 2**63: up to degree 20 a multinomial is an exact int64 quotient of factorials
# (prod c_j! <= (sum c)! as the multinomial is >= 1); higher degrees use Python integers.
_INT64_FACTORIALS = np.array([math.factorial(i) for i in range(21)], dtype=np.int64)


def _multinomial(counts: np.ndarray) -> np.ndarray:
    """``(sum c)! / prod c!`` row-wise for a 2-D array of counts, as float64.

    Computed in exact integers (a quotient of factorials overflows float64 and
    int64 from degree 21 on, although the multinomial itself stays far smaller),
    then rounded once.
    """
    counts = np.asarray(counts, dtype=np.int64).reshape(len(counts), -1)
    total = counts.sum(axis=1)
    out = np.empty(len(counts), dtype=np.float64)
    small = total <= 20
    if small.any():
        num = _INT64_FACTORIALS[total[small]]
        den = np.prod(_INT64_FACTORIALS[counts[small]], axis=1)
        out[small] = num // den  # exact integer quotient, rounded once to float64
    for i in np.flatnonzero(~small):
        value, running = 1, 0
        for c in counts[i].tolist():  # prod_j C(c_1 + ... + c_j, c_j), exact
            running += int(c)
            value *= math.comb(running, int(c))
        out[i] = float(value)  # OverflowError only beyond 1e308: d**k of a degree-k basis
    return out


class MonomialBasis:
    """Degree-``k`` monomials in ``d`` variables and the coefficient map of Gram matrices.

    Parameters
    ----------
    d : int
        Number of variables.
    k : int
        Degree of the monomials (half the degree of the forms).

    Attributes
    ----------
    monomials : ndarray of int, shape (size, k)
        Sorted variable indices of each monomial.
    scale : ndarray, shape (size,)
        ``s_beta = sqrt(k! / beta!)``; ``||s * m(v)||**2 = ||v||**(2k)``.
    size : int
        ``D = C(d + k - 1, k)``.
    rows, cols : ndarray of int, shape (D (D + 1) / 2,)
        The lower triangle (``rows >= cols``) in column-major order.
    pair_class : ndarray of int
        For each pair, the index of the monomial ``alpha = beta + gamma``.
    n_coefficients : int
        Number of monomials of degree ``2k``: ``C(d + 2k - 1, 2k)``.
    class_size : int
        Most unordered pairs feeding one coefficient.
    identity_coefficients : ndarray, shape (n_coefficients,)
        Coefficients of ``||v||**(2k)`` (``k! / gamma!`` at ``alpha = 2 gamma``).
    power_multinomial : ndarray, shape (n_coefficients,)
        ``(2k)! / alpha!``: the coefficient of ``v**alpha`` in ``<x, v>**(2k)`` is
        this times ``x**alpha``.
    monomial_max : ndarray, shape (n_coefficients,)
        ``max_(||v|| = 1) |v**alpha| = prod_j (alpha_j / 2k)**(alpha_j / 2)``
        (Lagrange multipliers), rounded up.
    representative : ndarray of int, shape (n_coefficients, 2)
        One pair ``(beta, gamma)`` with ``beta + gamma = alpha`` per coefficient.

    Examples
    --------
    >>> import numpy as np
    >>> B = MonomialBasis(2, 2)           # monomials v0^2, v0 v1, v1^2
    >>> B.monomials.tolist()
    [[0, 0], [0, 1], [1, 1]]
    >>> v = np.array([0.6, 0.8])
    >>> m = B.scale * B.features(v[None, :])[0]
    >>> round(float(m @ m), 12)           # ||v||^4 = 1
    1.0
    """

    def __init__(self, d: int, k: int) -> None:
        self.d = check_scalar(d, "d", kind=int, low=1)
        self.k = check_scalar(k, "k", kind=int, low=1)
        if (2 * self.k * math.log2(max(self.d, 2)) >= 62
                and self.d * math.log2(2 * self.k + 1) >= 62):
            raise ValueError(
                f"a basis of degree-{self.k} monomials in d = {self.d} variables has too "
                f"many monomials to index (d = {self.d}, k = {self.k})")
        mono = np.array(list(combinations_with_replacement(range(self.d), self.k)),
                        dtype=np.int64).reshape(-1, self.k)
        self.monomials = mono
        self.size = D = mono.shape[0]
        counts = np.stack([(mono == j).sum(axis=1) for j in range(self.d)], axis=1)
        self.scale = np.sqrt(_multinomial(counts))
        cols, rows = np.triu_indices(D)  # (col, row) row-major upper = column-major lower
        self.rows, self.cols = rows, cols
        merged = np.sort(np.hstack([mono[rows], mono[cols]]), axis=1)
        key = self.monomial_keys(merged)
        keys, first, self.pair_class = np.unique(key, return_index=True, return_inverse=True)
        self.pair_class = self.pair_class.ravel()
        self.n_coefficients = N = keys.size
        self.class_size = int(np.bincount(self.pair_class, minlength=N).max())
        alpha = np.stack([(merged[first] == j).sum(axis=1) for j in range(self.d)], axis=1)
        self.power_multinomial = _multinomial(alpha)
        deg = 2 * self.k
        with np.errstate(divide="ignore"):
            logs = np.where(alpha > 0, 0.5 * alpha * np.log(np.maximum(alpha, 1) / deg), 0.0)
        self.monomial_max = np.minimum(np.exp(logs.sum(axis=1)) * (1 + 1e-12), 1.0)
        self.representative = np.stack([rows[first], cols[first]], axis=1)
        self._off = rows != cols
        self._pair_weight = np.where(self._off, 2.0, 1.0) * self.scale[rows] * self.scale[cols]
        self.identity_coefficients = self.coefficients(np.eye(D))
        self._index = {tuple(row): i for i, row in enumerate(mono.tolist())}
        self._normal_diag = np.bincount(
            self.pair_class, weights=np.where(self._off, 2.0, 1.0)
            * (self.scale[rows] * self.scale[cols]) ** 2, minlength=N)


    def monomial_keys(self, sorted_indices: np.ndarray) -> np.ndarray:
        """One int64 per monomial, given as rows of sorted variable indices, collision-free.

        The indices as digits in base ``d`` (the order of the rows) while ``d**degree``
        fits in int64; else the exponent counts as digits in base ``degree + 1``.  A
        basis whose monomials fit neither is refused at construction.

        Parameters
        ----------
        sorted_indices : ndarray of int, shape (n, degree)

        Returns
        -------
        ndarray of int64, shape (n,)
        """
        n, degree = sorted_indices.shape
        key = np.zeros(n, dtype=np.int64)
        if degree * math.log2(max(self.d, 2)) < 62:
            for c in range(degree):
                key = key * self.d + sorted_indices[:, c]
            return key
        for j in range(self.d):
            key = key * (degree + 1) + (sorted_indices == j).sum(axis=1)
        return key

    def index_of(self, monomial: tuple[int, ...]) -> int:
        """Position in :attr:`monomials` of a degree-``k`` monomial (sorted indices).

        Parameters
        ----------
        monomial : tuple of int

        Returns
        -------
        int
        """
        return self._index[tuple(sorted(int(i) for i in monomial))]
    def features(self, X: np.ndarray) -> np.ndarray:
        """Unscaled monomials of each row: ``Z[i, beta] = x_i**beta``.

        Parameters
        ----------
        X : ndarray, shape (n, d)

        Returns
        -------
        ndarray, shape (n, size)

        Examples
        --------
        >>> import numpy as np
        >>> MonomialBasis(2, 2).features(np.array([[2.0, 3.0]])).tolist()
        [[4.0, 6.0, 9.0]]
        """
        Z = X[:, self.monomials[:, 0]].copy()
        for c in range(1, self.k):
            Z *= X[:, self.monomials[:, c]]
        return Z

    def coefficients(self, Q: np.ndarray) -> np.ndarray:
        """Coefficients ``A(Q)`` of the form ``m_s(v)^T Q m_s(v)`` (``Q`` symmetric, scaled).

        Parameters
        ----------
        Q : ndarray, shape (size, size)
            Symmetric; only the lower triangle is read.

        Returns
        -------
        ndarray, shape (n_coefficients,)
            In the order of ``representative``.

        Examples
        --------
        >>> import numpy as np
        >>> B = MonomialBasis(2, 2)
        >>> B.coefficients(np.eye(3)).tolist()   # ||v||^4 = v0^4 + 2 v0^2 v1^2 + v1^4
        [1.0, 0.0, 2.0, 0.0, 1.0]
        """
        return np.bincount(self.pair_class, weights=self._pair_weight * Q[self.rows, self.cols],
                           minlength=self.n_coefficients)

    def project(self, Q: np.ndarray, target: np.ndarray) -> np.ndarray:
        """Nearest (Frobenius) symmetric matrix to ``Q`` whose form has coefficients ``target``.

        Parameters
        ----------
        Q : ndarray, shape (size, size)
            Symmetric.
        target : ndarray, shape (n_coefficients,)

        Returns
        -------
        ndarray, shape (size, size)
            ``Q + A^T (A A^T)^-1 (target - A(Q))``; ``A A^T`` is diagonal.

        Examples
        --------
        >>> import numpy as np
        >>> B = MonomialBasis(2, 2)
        >>> P = B.project(np.zeros((3, 3)), B.coefficients(np.eye(3)))
        >>> bool(np.allclose(B.coefficients(P), B.coefficients(np.eye(3))))
        True
        """
        y = (target - self.coefficients(Q)) / self._normal_diag
        corr = self.scale[self.rows] * self.scale[self.cols] * y[self.pair_class]
        out = Q.copy()
        out[self.rows, self.cols] += corr
        out[self.cols, self.rows] = out[self.rows, self.cols]
        return out
