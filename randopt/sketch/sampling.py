"""Row sampling with importance weights.

Every sub-sample in randopt is drawn here. A draw returns ``(indices,
weights)`` such that ``sum(weights * f[indices])`` is an unbiased estimator of
``sum(f)`` for any vector ``f``: the Horvitz-Thompson weights ``1 / (s p_i)``
with replacement, ``1 / pi_i`` for Poisson sampling without replacement.

References
----------
.. [1] P. Drineas, R. Kannan and M. W. Mahoney, "Fast Monte Carlo algorithms for
       matrices I: approximating matrix multiplication", SIAM J. Comput. 36 (2006).
.. [2] M. W. Mahoney, "Randomized algorithms for matrices and data",
       Found. Trends Mach. Learn. 3 (2011).
.. [3] D. G. Horvitz and D. J. Thompson, "A generalization of sampling without
       replacement from a finite universe", J. Amer. Statist. Assoc. 47 (1952).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .._validation import (
    check_bool,
    check_positive_int,
    check_probabilities,
    check_random_state,
    check_sample_size,
    check_scalar,
)
from ..operands import as_operand

__all__ = [
    "Sample",
    "sample_rows",
    "uniform_probabilities",
    "row_norm_probabilities",
    "leverage_probabilities",
    "uniform_sample",
    "row_norm_sample",
    "leverage_sample",
    "inclusion_probabilities",
]


class Sample(NamedTuple):
    """Sampled row indices (sorted) and their importance weights.

    ``sum(weights * f[indices])`` estimates ``sum(f)`` without bias; divide the
    weights by ``n`` to estimate a mean.

    Attributes
    ----------
    indices : ndarray of int64, shape (s,)
        Sampled rows, sorted (repeated when drawn with replacement).
    weights : ndarray of float64, shape (s,)
        Importance weights ``1 / (s p_i)`` (with replacement) or ``1 / pi_i``
        (Poisson sampling).

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.sketch import uniform_sample
    >>> s = uniform_sample(10, 5, random_state=0)
    >>> s.size, float(s.weights.sum())
    (5, 10.0)
    """

    indices: np.ndarray
    weights: np.ndarray

    @property
    def size(self) -> int:
        return int(self.indices.shape[0])


#: Largest number of draws with replacement (beyond it the index array alone
#: would not fit in memory).
_MAX_DRAWS = 1 << 40
#: Below this sum of squared row norms subnormal rounding may have hit the squares.
_SAFE_TOTAL = 2.0**-900


def inclusion_probabilities(probabilities: np.ndarray, expected_size: float) -> np.ndarray:
    """Poisson-sampling inclusion probabilities ``pi_i = min(1, c p_i)``.

    ``c`` is chosen so that ``sum(pi) == expected_size``: rows whose scaled
    probability would exceed one are capped and the rest rescaled, repeatedly
    (at most as many rounds as there are capped rows, typically two or three).

    Parameters
    ----------
    probabilities : array-like of shape (n,)
        Sampling probabilities: non-negative, summing to one.
    expected_size : float
        Expected sample size ``sum(pi)``, in (0, number of rows with ``p_i > 0``].

    Returns
    -------
    ndarray of shape (n,)
        Inclusion probabilities in [0, 1] summing to ``expected_size``.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.sketch import inclusion_probabilities
    >>> inclusion_probabilities(np.array([0.7, 0.1, 0.1, 0.1]), 2).round(6).tolist()
    [1.0, 0.333333, 0.333333, 0.333333]
    """
    p = check_probabilities(probabilities)
    expected_size = check_scalar(expected_size, "expected_size", low=0, low_inclusive=False)
    n_pos = int(np.count_nonzero(p))
    if expected_size > n_pos:
        raise ValueError(
            f"expected_size={expected_size} exceeds the {n_pos} rows "
            "with non-zero probability"
        )
    pi = np.zeros_like(p)
    capped = np.zeros(p.shape, dtype=bool)
    budget = float(expected_size)
    while True:
        free = ~capped
        mass = p[free].sum()
        if mass <= 0:
            break
        scaled = p * (budget / mass)
        over = free & (scaled >= 1.0)
        if not over.any():
            pi[free] = scaled[free]
            break
        capped |= over
        pi[over] = 1.0
        budget = expected_size - capped.sum()
        if budget <= 0:
            break
    return pi


def sample_rows(
    probabilities: Any,
    size: int,
    *,
    replace: bool = True,
    random_state: Any = None,
) -> Sample:
    """Draw rows with the given probabilities and return importance weights.

    Parameters
    ----------
    probabilities : array-like of shape (n,)
        Non-negative, summing to one.
    size : int
        With replacement, the number of draws. Without replacement, the
        *expected* number of distinct rows (Poisson sampling).
    replace : bool, default=True
        ``True``: ``size`` i.i.d. draws, weight ``1 / (size * p_i)`` per draw
        (a row drawn twice appears twice). ``False``: each row is kept
        independently with probability ``pi_i = min(1, c p_i)``, ``sum(pi) =
        size``, weight ``1 / pi_i`` (Bernoulli sampling when ``p`` is uniform).
        Rows with ``pi_i = 1`` are always kept with weight one.
    random_state : None, int, Generator or RandomState
        Seed or generator; a fixed seed gives the same sample.

    Returns
    -------
    Sample
        ``(indices, weights)``, indices sorted ascending (for cache-friendly
        gathers), so that ``sum(weights * f[indices])`` is an unbiased
        estimator of ``sum(f)``.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.sketch import sample_rows
    >>> f = np.arange(10.0)
    >>> idx, w = sample_rows(np.full(10, 0.1), 4, random_state=0)
    >>> idx.shape, w.shape
    ((4,), (4,))
    """
    p = check_probabilities(probabilities)
    n = p.shape[0]
    replace = check_bool(replace, "replace")
    rng = check_random_state(random_state)
    if replace:
        s = check_positive_int(size, "size")
        if s > _MAX_DRAWS:
            raise ValueError(f"size must be at most {_MAX_DRAWS} draws, got {s}")
        cdf = np.cumsum(p)
        # Sorted queries walk the cdf in order (cache-friendly, and the indices
        # come out sorted); side="right" never returns a row of zero probability.
        u = rng.random(s)
        u.sort()
        u *= cdf[-1]
        idx = np.searchsorted(cdf, u, side="right")
        np.minimum(idx, n - 1, out=idx)
        return Sample(idx.astype(np.int64, copy=False), 1.0 / (s * p[idx]))
    s = check_positive_int(size, "size")
    if s > n:
        raise ValueError(f"size must be at most n={n} without replacement, got {s}")
    pi = inclusion_probabilities(p, s)
    keep = np.flatnonzero(rng.random(n) < pi)
    return Sample(keep.astype(np.int64, copy=False), 1.0 / pi[keep])


def uniform_probabilities(n: int) -> np.ndarray:
    """The uniform distribution on ``n`` rows.

    Parameters
    ----------
    n : int
        Number of rows, at least 1.

    Returns
    -------
    ndarray of shape (n,)
        ``1 / n`` everywhere.

    Examples
    --------
    >>> from randopt.sketch import uniform_probabilities
    >>> uniform_probabilities(4).tolist()
    [0.25, 0.25, 0.25, 0.25]
    """
    n = check_positive_int(n, "n")
    return np.full(n, 1.0 / n)


def row_norm_probabilities(A: Any) -> np.ndarray:
    """``p_i = ||a_i||^2 / ||A||_F^2`` (length-squared sampling, [1]_).

    Parameters
    ----------
    A : array-like, sparse matrix, LinearOperator, dask.array.Array or Operand of shape (n, d)

    Returns
    -------
    ndarray of shape (n,)
        Non-negative, summing to one.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.sketch import row_norm_probabilities
    >>> row_norm_probabilities(np.array([[3.0, 4.0], [0.0, 5.0]])).tolist()
    [0.5, 0.5]
    """
    op = as_operand(A, "A")
    r = np.asarray(op.row_norms_sq(), dtype=np.float64)
    total = r.sum()
    if not (np.isfinite(total) and total >= _SAFE_TOTAL):
        # The squares under- or overflowed (entries near 1e-160 or 1e+154 and
        # beyond): recompute them on A scaled by a power of two, which is exact
        # in binary and leaves the probabilities unchanged.
        amax = op.abs_sums()[2]  # max absolute row sum >= every |a_ij|
        if amax == 0:
            raise ValueError("A is all zeros; row-norm probabilities are undefined")
        exponent = int(np.frexp(amax)[1]) if np.isfinite(amax) else 1000
        d = op.n_cols
        # At most 2**1000: for subnormal entries (exponent below -1022) 2**-exponent
        # itself would overflow; 2**1000 already lifts them to ~2**-74, squares ~2**-148.
        scale = np.ldexp(1.0, min(-exponent, 1000))
        r = np.asarray(op.row_norms_sq(np.eye(d) * scale), dtype=np.float64)
        total = r.sum()
    return r / total


def leverage_probabilities(
    A: Any, *, method: str = "exact", random_state: Any = None
) -> np.ndarray:
    """``p_i = l_i / sum(l)`` from :func:`randopt.sketch.leverage_scores` ([2]_).

    Parameters
    ----------
    A : array-like, sparse matrix, LinearOperator, dask.array.Array or Operand of shape (n, d)
    method : {"exact", "approx"}, default="exact"
        As in :func:`randopt.sketch.leverage_scores`.
    random_state : None, int, Generator or RandomState, default=None
        Source of the sketch of ``method="approx"``.

    Returns
    -------
    ndarray of shape (n,)
        Non-negative, summing to one.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.sketch import leverage_probabilities
    >>> leverage_probabilities(np.eye(3)[:, :2]).round(6).tolist()
    [0.5, 0.5, 0.0]
    """
    from .leverage import leverage_scores

    scores = leverage_scores(A, method=method, random_state=random_state)
    total = scores.sum()
    if isinstance(total, (float, np.floating)) and not total > 0:
        # The scores sum to rank(A): zero only for an all-zero A (0 / 0 otherwise).
        raise ValueError(
            "A is all zeros (rank 0): every leverage score is 0 and leverage "
            "probabilities are undefined"
        )
    return scores / total


def uniform_sample(
    n: int, size: Any, *, replace: bool = False, random_state: Any = None
) -> Sample:
    """Uniform sample of ``size`` rows (an int count or a fraction of ``n``).

    Without replacement this is simple random sampling of exactly ``size``
    rows, weight ``n / size`` each: the usual "mini-batch average".

    Parameters
    ----------
    n : int
        Number of rows.
    size : int or float
        A count in [1, n] or a fraction in (0, 1] of ``n``.
    replace : bool, default=False
        Draw with replacement.
    random_state : None, int, Generator or RandomState, default=None

    Returns
    -------
    Sample
        Sorted indices and weights ``n / size``.

    Examples
    --------
    >>> from randopt.sketch import uniform_sample
    >>> s = uniform_sample(100, 0.1, random_state=0)
    >>> s.size, float(s.weights[0])
    (10, 10.0)
    """
    n = check_positive_int(n, "n")
    s = check_sample_size(size, n, "size")
    replace = check_bool(replace, "replace")
    rng = check_random_state(random_state)
    if replace:
        idx = np.sort(rng.integers(0, n, size=s))
    else:
        idx = np.sort(rng.choice(n, size=s, replace=False))
    return Sample(idx.astype(np.int64, copy=False), np.full(s, n / s))


def row_norm_sample(
    A: Any, size: Any, *, replace: bool = True, random_state: Any = None
) -> Sample:
    """Row-norm-squared sampling of ``A`` (``size``: count or fraction of rows) ([1]_).

    Parameters
    ----------
    A : array-like, sparse matrix, LinearOperator, dask.array.Array or Operand of shape (n, d)
    size : int or float
        A count in [1, n] or a fraction in (0, 1] of the rows.
    replace : bool, default=True
        With replacement (weights ``1 / (s p_i)``) or Poisson sampling.
    random_state : None, int, Generator or RandomState, default=None

    Returns
    -------
    Sample

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.sketch import row_norm_sample
    >>> A = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 2.0]])
    >>> sorted(set(row_norm_sample(A, 3, random_state=0).indices.tolist()))  # never row 1
    [0, 2]
    """
    p = row_norm_probabilities(A)
    s = check_sample_size(size, p.shape[0], "size")
    return sample_rows(p, s, replace=replace, random_state=random_state)


def leverage_sample(
    A: Any,
    size: Any,
    *,
    replace: bool = True,
    method: str = "exact",
    random_state: Any = None,
) -> Sample:
    """Leverage-score sampling of the rows of ``A`` (``size``: count or fraction) ([2]_).

    Parameters
    ----------
    A : array-like, sparse matrix, LinearOperator, dask.array.Array or Operand of shape (n, d)
    size : int or float
        A count in [1, n] or a fraction in (0, 1] of the rows.
    replace : bool, default=True
        With replacement (weights ``1 / (s p_i)``) or Poisson sampling.
    method : {"exact", "approx"}, default="exact"
        How the leverage scores are computed (:func:`randopt.sketch.leverage_scores`).
    random_state : None, int, Generator or RandomState, default=None
        Source of the approximate scores' sketch and of the draws.

    Returns
    -------
    Sample

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.sketch import leverage_sample
    >>> A = np.vstack([np.eye(2), np.zeros((3, 2))])
    >>> sorted(set(leverage_sample(A, 5, random_state=0).indices.tolist()))  # zero rows never
    [0, 1]
    """
    rng = check_random_state(random_state)
    p = leverage_probabilities(A, method=method, random_state=rng)
    s = check_sample_size(size, p.shape[0], "size")
    return sample_rows(p, s, replace=replace, random_state=rng)
