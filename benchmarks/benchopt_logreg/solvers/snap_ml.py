"""Snap ML's ``LogisticRegression`` (CPU), as in benchopt's ``benchmark_logreg_l2``.

``regularizer = lmbd`` (Snap ML minimises ``sum_i loss_i + (lmbd/2)
||w||^2``: checked against the reference minimum in the tests),
``fit_intercept=False``, ``tol=1e-12``, the dual solver when ``n >= d`` (its
own recommendation, and benchopt's choice), ``n_jobs`` = the benchmark's
thread count. Timed: the whole ``fit``.

Snap ML's library sets the process's flush-to-zero and denormals-are-zero
flags when it loads (it is built with fast-math): it is imported at the
first ``set_objective``, and in a benchopt run the solvers after it share
those flags (no value of this objective is subnormal at these scales). The
tests run this solver in a subprocess.
"""

from __future__ import annotations

from benchopt import BaseSolver, safe_import_context
from benchopt.stopping_criterion import SufficientProgressCriterion

with safe_import_context() as import_ctx:
    import importlib.util
    import os
    import warnings

    import numpy as np

    # Imported in set_objective, not here: snapml's library is built with fast-math
    # and sets the flush-to-zero and denormals-are-zero flags of the whole process
    # when it loads, so every later subnormal becomes 0 (benchopt and pytest import
    # this file to list the solvers). Only its presence is checked here.
    if importlib.util.find_spec("snapml") is None:
        raise ImportError("snapml is not installed (pip install snapml)")


def _snapml_logistic_regression():
    with warnings.catch_warnings():  # snapml imports numpy.core (deprecated in NumPy 2)
        warnings.simplefilter("ignore", DeprecationWarning)
        from snapml import LogisticRegression
    return LogisticRegression


class Solver(BaseSolver):
    """snapml.LogisticRegression(regularizer=lmbd, fit_intercept=False, tol=1e-12)."""

    name = "snapml"
    # benchopt's default patience (3 flat evaluations) stops non-monotone or
    # stalling curves early; every solver of this benchmark uses patience 5
    stopping_criterion = SufficientProgressCriterion(patience=5, strategy="iteration")
    requirements = ["pip::snapml"]

    def set_objective(self, X, y, lmbd):
        self.X, self.y, self.lmbd = X, y, lmbd
        threads = int(os.environ.get("RANDOPT_BENCH_THREADS", "1"))
        self.clf = _snapml_logistic_regression()(
            fit_intercept=False, regularizer=lmbd, penalty="l2", tol=1e-12,
            dual=X.shape[0] >= X.shape[1], n_jobs=threads,
        )
        self.beta = np.zeros(X.shape[1])

    def run(self, n_iter):
        if n_iter == 0:
            self.beta = np.zeros(self.X.shape[1])
            return
        self.clf.max_iter = n_iter
        self.clf.fit(self.X, self.y)
        self.beta = np.asarray(self.clf.coef_, dtype=np.float64).ravel()

    def get_result(self):
        return {"beta": self.beta}
