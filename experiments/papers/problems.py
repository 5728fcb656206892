"""The data of the reproduction: ijcnn1, covtype or an ijcnn1-shaped synthetic problem, and
the papers' objective on them (non-linear least squares, no bias, no regulariser).

ijcnn1 without its file in ``RANDOPT_DATA`` falls back to a synthetic data set
of the same shape (:func:`randopt.datasets.make_ijcnn1_like`) and says so;
covtype without its file raises :class:`DataMissing`, whose message explains
how to get it. ``quick=True`` keeps a random subset of ``QUICK_ROWS`` rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

__all__ = ["COVTYPE_HELP", "DATASETS", "QUICK_ROWS", "DataMissing", "Problem", "load_problem",
           "make_objective"]

DATASETS = ("ijcnn1", "covtype", "synthetic")
QUICK_ROWS = 3_000
COVTYPE_HELP = (
    "covtype is not in the data folder {folder}.\n"
    "Download covtype.libsvm.binary.scale.bz2 (about 15 MB) from\n"
    "  https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/binary/"
    "covtype.libsvm.binary.scale.bz2\n"
    "and put it, still bz2-compressed, in that folder (or point RANDOPT_DATA at a folder "
    "that holds it), then run this command again."
)
# Densify data this narrow: dense rows run the fused kernels faster than CSR.
_DENSE_MAX_FEATURES = 64


class DataMissing(Exception):
    """A required data file is absent; the message says how to get it.

    Examples
    --------
    >>> from experiments.papers.problems import DataMissing
    >>> issubclass(DataMissing, Exception)
    True
    """


@dataclass
class Problem:
    """Train and test data of one data set, where they came from, and notes for the reader.

    Parameters
    ----------
    name : str
        The data set's name (``--dataset``).
    X, y : array or sparse matrix of shape (n, d), ndarray of shape (n,)
        Training features and labels in {-1, +1}.
    X_test, y_test : array or sparse matrix, ndarray
        Test features (same width) and labels.
    source : str
        Where the data came from (printed in the summary).
    synthetic : bool
        Whether the data are synthetic (a stand-in when a file is missing).
    notes : list of str, default=[]
        Remarks for the summary (a fallback, a ``--quick`` subset).

    Examples
    --------
    >>> import numpy as np
    >>> from experiments.papers.problems import Problem
    >>> X, y = np.ones((4, 2)), np.array([1.0, -1.0, 1.0, -1.0])
    >>> Problem("toy", X, y, X, y, "four rows", synthetic=True).shape
    (4, 2)
    """

    name: str
    X: Any
    y: np.ndarray
    X_test: Any
    y_test: np.ndarray
    source: str
    synthetic: bool
    notes: list[str] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, int]:
        """``(n, d)`` of the training data."""
        return self.X.shape


def make_objective(X: Any, y: np.ndarray) -> Any:
    """The papers' objective: ``f(x) = (1/n) sum_i (b_i - sigmoid(a_i^T x))^2``, b in {0, 1}.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n, d)
        Features.
    y : ndarray of shape (n,)
        Labels in {-1, +1}.

    Returns
    -------
    randopt.oracles.FiniteSum
        ``FiniteSum(X, y, SigmoidLeastSquaresLoss())``: ``n_samples``,
        ``n_features``, ``evaluate`` and ``hessian_model`` for the solvers.

    Examples
    --------
    >>> import numpy as np
    >>> from experiments.papers.problems import make_objective
    >>> f = make_objective(np.eye(2), np.array([1.0, -1.0]))
    >>> round(float(f.evaluate(np.zeros(2)).fun), 6)  # (1/2)(1/2^2 + 1/2^2)
    0.25
    """
    from randopt.oracles import FiniteSum, SigmoidLeastSquaresLoss

    return FiniteSum(X, y, SigmoidLeastSquaresLoss())


def _synthetic_ijcnn1(seed: int = 0) -> tuple[Any, np.ndarray, Any, np.ndarray]:
    """ijcnn1-shaped train set and a 91,701-row test set from the same planted model."""
    from randopt.datasets import make_binary_classification, make_ijcnn1_like

    X, y, coef, intercept = make_ijcnn1_like(random_state=seed, return_coef=True)
    # Test features drawn as make_ijcnn1_like draws them (13 of 22 entries stored per row on
    # average); labels from the train set's planted model P(y=+1|x) = sigmoid(x coef + b).
    X_test = make_binary_classification(91_701, 22, density=13 / 22, random_state=seed + 1)[0]
    rng = np.random.default_rng([seed, 2])
    p = expit(np.asarray(X_test @ coef).ravel() + intercept)
    y_test = np.where(rng.random(p.shape[0]) < p, 1.0, -1.0)
    return X, y, X_test, y_test


def _with_constant_column(X: Any) -> Any:
    ones = np.ones((X.shape[0], 1))
    return sp.hstack([X, ones], format="csr") if sp.issparse(X) else np.hstack([X, ones])


def load_problem(dataset: str, *, quick: bool = False, seed: int = 0) -> Problem:
    """Load train and test data of ``dataset`` (see the module docstring).

    Parameters
    ----------
    dataset : {"ijcnn1", "covtype", "synthetic"}
        The data set.
    quick : bool, default=False
        Keep a random subset of ``QUICK_ROWS`` training and test rows.
    seed : int, default=0
        Seed of the subset and of the synthetic data.

    Returns
    -------
    Problem

    Raises
    ------
    DataMissing
        covtype's file is not in the data folder.

    Examples
    --------
    >>> from experiments.papers.problems import load_problem
    >>> problem = load_problem("synthetic", quick=True)
    >>> problem.shape, problem.synthetic  # a constant feature is appended
    ((3000, 23), True)
    """
    from randopt import datasets

    notes: list[str] = []
    synthetic = False
    if dataset == "ijcnn1":
        try:
            X, y = datasets.load_ijcnn1("train", download=False)
            X_test, y_test = datasets.load_ijcnn1("test", download=False)
            source = f"ijcnn1 (LIBSVM) from {datasets.get_data_home()}"
        except FileNotFoundError as err:
            X, y, X_test, y_test = _synthetic_ijcnn1(seed)
            synthetic = True
            source = "SYNTHETIC stand-in for ijcnn1 (randopt.datasets.make_ijcnn1_like)"
            notes.append(
                "The ijcnn1 files were not found, so this ran on a SYNTHETIC data set of the "
                "same shape (49,990 x 22 train, 91,701 test rows, ijcnn1's density and class "
                "balance, planted logistic labels). Its numbers are NOT those of ijcnn1. "
                f"({err})"
            )
    elif dataset == "covtype":
        try:
            X, y = datasets.load_covtype("train", download=False)
            X_test, y_test = datasets.load_covtype("test", download=False)
        except FileNotFoundError as err:
            raise DataMissing(
                COVTYPE_HELP.format(folder=datasets.get_data_home()) + f"\n({err})"
            ) from err
        source = f"covtype.binary (LIBSVM, 80/20 split) from {datasets.get_data_home()}"
    elif dataset == "synthetic":
        X, y, X_test, y_test = _synthetic_ijcnn1(seed)
        synthetic = True
        source = "synthetic, ijcnn1-shaped (randopt.datasets.make_ijcnn1_like)"
    else:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, got {dataset!r}")

    if quick:
        rng = np.random.default_rng(seed)
        keep = np.sort(rng.choice(X.shape[0], min(QUICK_ROWS, X.shape[0]), replace=False))
        keep_test = np.sort(
            rng.choice(X_test.shape[0], min(QUICK_ROWS, X_test.shape[0]), replace=False)
        )
        X, y, X_test, y_test = X[keep], y[keep], X_test[keep_test], y_test[keep_test]
        notes.append(
            f"--quick: a random subset of {X.shape[0]:,} training and {X_test.shape[0]:,} "
            "test rows and a small budget; for CI, not for conclusions."
        )
    if X.shape[1] <= _DENSE_MAX_FEATURES:
        X = X.toarray() if sp.issparse(X) else np.ascontiguousarray(X)
        X_test = X_test.toarray() if sp.issparse(X_test) else np.ascontiguousarray(X_test)
    if synthetic:
        # The synthetic features are centred and the planted model has an intercept (ijcnn1's
        # first ten features are one-hot, which gives its linear model an implicit bias): without
        # a constant feature the model could not fit the 9.7% class balance.
        X, X_test = _with_constant_column(X), _with_constant_column(X_test)
        source += ", with a constant feature appended"
    return Problem(dataset, X, np.asarray(y), X_test, np.asarray(y_test), source, synthetic,
                   notes)
