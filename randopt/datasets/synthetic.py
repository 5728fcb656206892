"""Synthetic binary classification data from a planted logistic model.

:func:`make_binary_classification` draws data of any shape (covtype's by
default) whose logistic and sigmoid least-squares losses have a known
population minimiser; :func:`make_ijcnn1_like` draws data shaped like
ijcnn1's training set, for use when the real file is absent.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from .._validation import check_bool, check_positive_int, check_random_state, check_scalar

__all__ = ["make_binary_classification", "make_ijcnn1_like"]

# ijcnn1's training set: 4,853 of 49,990 rows positive, exactly 13 of 22 entries stored per row.
_IJCNN1_POSITIVE_FRACTION = 4_853 / 49_990
_IJCNN1_DENSITY = 13 / 22

_UNIT_UNIFORM_HALF_WIDTH = np.sqrt(3.0)  # U(-sqrt 3, sqrt 3) has mean 0 and variance 1


def _dense_uniform(n_samples: int, n_features: int, rng: np.random.Generator) -> np.ndarray:
    """C-ordered array of independent U(-sqrt 3, sqrt 3) entries (mean 0, variance 1)."""
    # Uniform draws cost a quarter of Gaussian ones (0.15 s against 0.6 s at covtype's size).
    X = rng.random((n_samples, n_features))
    X -= 0.5
    X *= 2.0 * _UNIT_UNIFORM_HALF_WIDTH
    return X


def _sparse_uniform(
    n_samples: int, n_features: int, density: float, rng: np.random.Generator
) -> sp.csr_matrix:
    """CSR matrix whose entries are, independently, U(-sqrt 3, sqrt 3) with probability
    ``density`` and 0 otherwise."""
    rows_per_block = max(1, (1 << 22) // n_features)  # bounds each block of draws to 32 MB
    indptr = np.zeros(n_samples + 1, dtype=np.int64)
    index_blocks, data_blocks = [], []
    for start in range(0, n_samples, rows_per_block):
        stop = min(n_samples, start + rows_per_block)
        draws = rng.random((stop - start, n_features))
        mask = draws < density
        indptr[start + 1 : stop + 1] = np.count_nonzero(mask, axis=1)
        flat = np.flatnonzero(mask)  # row-major, so column indices come out sorted per row
        index_blocks.append(flat % n_features)
        # Given draw < density, draw / density is U(0, 1) and independent of the pattern:
        # one draw decides both whether an entry is stored and its value.
        data_blocks.append(draws.ravel()[flat])
    np.cumsum(indptr, out=indptr)
    nnz = int(indptr[-1])
    index_dtype = np.int32 if nnz < np.iinfo(np.int32).max else np.int64
    indices = np.concatenate(index_blocks).astype(index_dtype, copy=False)
    data = np.concatenate(data_blocks)
    data *= 1.0 / density
    data -= 0.5
    data *= 2.0 * _UNIT_UNIFORM_HALF_WIDTH
    return sp.csr_matrix(
        (data, indices, indptr.astype(index_dtype, copy=False)), shape=(n_samples, n_features)
    )


def make_binary_classification(
    n_samples: int = 464_810,
    n_features: int = 54,
    *,
    density: float = 1.0,
    class_balance: float = 0.5,
    noise: float = 0.5,
    return_coef: bool = False,
    random_state: Any = None,
) -> tuple[np.ndarray | sp.csr_matrix, np.ndarray] | tuple[
    np.ndarray | sp.csr_matrix, np.ndarray, np.ndarray, float
]:
    """Draw a binary classification problem from a planted logistic model.

    The entries of X are independent and uniform on [-sqrt 3, sqrt 3] (mean
    0, variance 1; bounded, like the scaled features of the LIBSVM sets),
    each stored with probability ``density`` and 0 otherwise (CSR when
    ``density < 1``). A direction ``w`` is drawn uniformly on
    the sphere and scaled so that the margin ``m = x @ w`` has unit variance;
    labels are ``y = sign(m + b + noise * e)`` with ``e`` standard logistic.
    The offset ``b`` is set so that exactly ``round(class_balance *
    n_samples)`` labels are +1. Hence ``P(y = +1 | x) = sigmoid(x @ coef +
    intercept)`` with ``coef = w / noise`` and ``intercept = b / noise``: the
    logistic loss and the (non-convex) sigmoid least-squares loss
    ``mean(((1 + y) / 2 - sigmoid(X @ v + c)) ** 2)`` have their population
    minimiser at ``(coef, intercept)``. With ``noise=0`` the classes are
    linearly separable and no finite minimiser exists (``coef`` is then ``w``).

    The defaults give covtype.binary's training shape (464,810 x 54).

    Parameters
    ----------
    n_samples : int, default=464_810
        Number of rows.
    n_features : int, default=54
        Number of columns.
    density : float in (0, 1], default=1.0
        Expected fraction of stored entries; 1 gives a dense array, less a CSR matrix.
    class_balance : float in (0, 1), default=0.5
        Fraction of rows labelled +1 (at least one row of each class is kept).
    noise : float >= 0, default=0.5
        Scale of the logistic label noise relative to the unit-variance margin
        (0: separable; 0.5: about 78% Bayes accuracy at balance 0.5).
    return_coef : bool, default=False
        Also return the planted ``coef`` and ``intercept``.
    random_state : None, int, Generator or RandomState, default=None
        Seed; the same seed gives the same data.

    Returns
    -------
    X : ndarray (C order) or scipy.sparse.csr_matrix of shape (n_samples, n_features)
        float64 features.
    y : ndarray of shape (n_samples,)
        float64 labels in {-1, +1}.
    coef : ndarray of shape (n_features,)
        Only with ``return_coef``: the planted coefficients.
    intercept : float
        Only with ``return_coef``: the planted intercept.

    References
    ----------
    .. [1] P. Xu, F. Roosta and M. W. Mahoney, "Second-order optimization for
       non-convex machine learning: an empirical study", SDM 2020 (the
       sigmoid least-squares loss).

    Examples
    --------
    >>> from randopt.datasets import make_binary_classification
    >>> X, y = make_binary_classification(1000, 5, class_balance=0.25, random_state=0)
    >>> X.shape, int((y == 1).sum())
    ((1000, 5), 250)
    """
    n_samples = check_positive_int(n_samples, "n_samples", minimum=2)
    n_features = check_positive_int(n_features, "n_features")
    density = check_scalar(density, "density", low=0.0, high=1.0, low_inclusive=False)
    class_balance = check_scalar(
        class_balance, "class_balance", low=0.0, high=1.0, low_inclusive=False,
        high_inclusive=False,
    )
    noise = check_scalar(noise, "noise", low=0.0)
    return_coef = check_bool(return_coef, "return_coef")
    rng = check_random_state(random_state)

    direction = rng.standard_normal(n_features)
    direction /= np.linalg.norm(direction)
    if density == 1.0:
        X = _dense_uniform(n_samples, n_features, rng)
        w = direction
    else:
        X = _sparse_uniform(n_samples, n_features, density, rng)
        w = direction / np.sqrt(density)  # Var(x @ w) = density * ||w||^2 = 1
    score = X @ w
    if noise > 0:
        score += noise * rng.logistic(size=n_samples)

    n_pos = min(max(round(class_balance * n_samples), 1), n_samples - 1)
    # The n_pos largest scores are +1; the offset b puts the threshold between the classes.
    split = n_samples - n_pos
    part = np.argpartition(score, split - 1)
    lowest_pos = score[part[split:]].min()
    highest_neg = score[part[:split]].max()
    b = -0.5 * (lowest_pos + highest_neg)
    y = -np.ones(n_samples)
    y[part[split:]] = 1.0
    if not return_coef:
        return X, y
    scale = noise if noise > 0 else 1.0
    return X, y, w / scale, float(b / scale)


def make_ijcnn1_like(
    random_state: Any = None, *, return_coef: bool = False
) -> tuple[sp.csr_matrix, np.ndarray] | tuple[sp.csr_matrix, np.ndarray, np.ndarray, float]:
    """Draw a stand-in for ijcnn1's training set: 49,990 x 22 CSR, ~9.7% positive.

    Uses :func:`make_binary_classification` with ijcnn1's shape, its share of
    positive labels (4,853 / 49,990) and its density (13 of 22 entries stored
    per row on average; the real file stores exactly 13 per row). The feature
    values are uniform, not ijcnn1's. Use it where the real file is absent.

    Parameters
    ----------
    random_state : None, int, Generator or RandomState, default=None
        Seed; the same seed gives the same data.
    return_coef : bool, default=False
        Also return the planted ``coef`` and ``intercept``.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (49990, 22)
        float64 features.
    y : ndarray of shape (49990,)
        float64 labels in {-1, +1}, 4,853 of them +1.
    coef, intercept
        Only with ``return_coef``; see :func:`make_binary_classification`.

    Examples
    --------
    >>> from randopt.datasets import make_ijcnn1_like
    >>> X, y = make_ijcnn1_like(random_state=0)
    >>> X.shape, int((y == 1).sum())
    ((49990, 22), 4853)
    """
    return make_binary_classification(
        49_990,
        22,
        density=_IJCNN1_DENSITY,
        class_balance=_IJCNN1_POSITIVE_FRACTION,
        return_coef=return_coef,
        random_state=random_state,
    )
