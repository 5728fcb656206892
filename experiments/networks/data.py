"""The data of the network experiments: train and test rows of scikit-learn's digits or of
the binarized MNIST of the reference code.

* :class:`Split`: features in ``[0, 1]`` and integer labels, train and test;
* :func:`load_digits_split` (scikit-learn's bundled 8 x 8 digits),
  :func:`load_mnist_split` (the binarized MNIST of the reference code,
  :func:`randopt.datasets.load_mnist_binarized`) and :func:`load_split`
  (either, by name, cut to a number of rows).
"""

from __future__ import annotations

import math
import numbers
import os
import sys
from typing import Any, NamedTuple

import numpy as np

__all__ = ["Split", "load_digits_split", "load_mnist_split", "load_split"]


class Split(NamedTuple):
    """Train and test rows of a data set: features in ``[0, 1]`` and integer labels.

    Attributes
    ----------
    X_train, y_train : ndarray of shape (n_train, d), ndarray of shape (n_train,)
    X_test, y_test : ndarray of shape (n_test, d), ndarray of shape (n_test,)
    source : str
        Where the rows came from.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    source: str


def load_digits_split(random_state: int | None = 0, *, test_size: float = 0.25) -> Split:
    """scikit-learn's 8 x 8 digits (1,797 images, 10 classes), pixels scaled to ``[0, 1]``,
    split into train and test rows, stratified by class.

    Parameters
    ----------
    random_state : int or None, default=0
        Seed of the split.
    test_size : float, default=0.25
        Fraction of rows held out, in ``(0, 1)``.

    Returns
    -------
    Split
        float64 pixels (``/ 16``) and int64 labels.

    References
    ----------
    .. [1] E. Alpaydin and C. Kaynak, "Optical recognition of handwritten
       digits", UCI Machine Learning Repository (1998) (``sklearn.datasets.load_digits``).

    Examples
    --------
    >>> from experiments.networks.data import load_digits_split
    >>> s = load_digits_split(0)
    >>> s.X_train.shape, s.X_test.shape, float(s.X_train.max()), sorted(set(s.y_test.tolist()))[-1]
    ((1347, 64), (450, 64), 1.0, 9)
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if not (isinstance(test_size, numbers.Real) and 0 < test_size < 1):
        raise ValueError(f"test_size must be a fraction in (0, 1), got {test_size!r}")
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X / 16.0, y.astype(np.int64), test_size=test_size,
                                              random_state=random_state, stratify=y)
    return Split(np.ascontiguousarray(X_tr), y_tr, np.ascontiguousarray(X_te), y_te,
                 "scikit-learn digits (8 x 8, UCI optdigits test set)")


def load_mnist_split(
    n_train: int | None = None,
    n_test: int | None = None,
    *,
    random_state: int | None = 0,
    data_home: str | os.PathLike[str] | None = None,
) -> Split:
    """Binarized MNIST (:func:`randopt.datasets.load_mnist_binarized`), shuffled, optionally
    a random subset of the training and test rows (the file's rows are sorted by label).

    Parameters
    ----------
    n_train, n_test : int or None
        Rows kept (the first of a random permutation); None keeps all 60,000 /
        10,000.
    random_state : int or None, default=0
        Seed of the shuffles.
    data_home : path, optional
        Folder holding ``mnist_binarized.npz`` (default ``RANDOPT_DATA``).

    Returns
    -------
    Split
        float64 pixels in {0, 1} (784 per row) and int64 labels.

    Raises
    ------
    FileNotFoundError
        The file is not in the data folder (the message says where to put it).

    Examples
    --------
    >>> from experiments.networks.data import load_mnist_split
    >>> s = load_mnist_split(500, 100)  # requires data: mnist_binarized.npz
    >>> s.X_train.shape, s.X_test.shape, len(set(s.y_train.tolist()))
    ((500, 784), (100, 784), 10)
    """
    from randopt.datasets import load_mnist_binarized

    _check_rows(n_train, n_test, 60_000, 10_000)
    rng = np.random.default_rng(random_state)
    parts = []
    for split, rows in (("train", n_train), ("test", n_test)):
        # float32 holds {0, 1} exactly and halves the load; only the kept rows are
        # permuted and widened to float64.
        X, y = load_mnist_binarized(split, data_home=data_home, dtype=np.float32)
        keep = rng.permutation(X.shape[0])[:rows]
        parts += [X[keep].astype(np.float64), y[keep]]
    return Split(*parts, "binarized MNIST of the reference code (git-xp/Non-Convex-Newton)")


def _check_rows(n_train: Any, n_test: Any, max_train: float, max_test: float) -> None:
    """Row counts: None, or integers in [1, max] (a cut of the rows there are)."""
    for name, value, limit in (("n_train", n_train, max_train), ("n_test", n_test, max_test)):
        if value is not None and (isinstance(value, bool) or not isinstance(
                value, numbers.Integral) or not 1 <= value <= limit):
            raise ValueError(f"{name} must be None or an integer in [1, {limit}], got {value!r}")


def load_split(dataset: str, *, n_train: int | None = None, n_test: int | None = None,
               seed: int = 0) -> Split | None:
    """The train/test rows of ``"digits"`` (:func:`load_digits_split`) or ``"mnist"``
    (:func:`load_mnist_split`), the training rows cut to ``n_train``; None (after a message)
    when MNIST's file is missing.

    Parameters
    ----------
    dataset : {"digits", "mnist"}
    n_train, n_test : int, optional
        Rows kept (all when None).
    seed : int, default=0
        Seed of the split (digits) or of the shuffles (MNIST).

    Returns
    -------
    Split or None

    Examples
    --------
    >>> from experiments.networks.data import load_split
    >>> s = load_split("digits", n_train=100)
    >>> s.X_train.shape, s.X_test.shape
    ((100, 64), (450, 64))
    """
    if dataset == "digits":
        split = load_digits_split(seed)
        _check_rows(n_train, n_test, math.inf, math.inf)  # more than there are: all of them
        split = split._replace(X_test=split.X_test[:n_test], y_test=split.y_test[:n_test])
    else:
        try:
            split = load_mnist_split(n_train, n_test, random_state=seed)
        except FileNotFoundError as err:
            print(f"error: {err}", file=sys.stderr)
            return None
    return split._replace(X_train=split.X_train[:n_train], y_train=split.y_train[:n_train])
