"""benchopt objective: L2-regularised logistic regression without intercept.

``F(b) = sum_i log(1 + exp(-y_i x_i^T b)) + (lmbd / 2) ||b||^2`` with labels in
{-1, +1}: the objective of benchopt's ``benchmark_logreg_l2`` (a sum over the
rows, not a mean), evaluated stably with ``np.logaddexp(0, -y X b)``.

Every solver runs with the same number of threads: ``set_data`` (called
before any solver, outside the timed region) pins the BLAS/OpenMP pools
(threadpoolctl) and Numba to ``RANDOPT_BENCH_THREADS`` (default 1).
"""

from __future__ import annotations

import os

from benchopt import BaseObjective, safe_import_context

with safe_import_context() as import_ctx:
    import numpy as np

#: Environment variable with the thread count of every solver (default 1).
THREADS_ENV = "RANDOPT_BENCH_THREADS"


def bench_threads() -> int:
    """The thread count every solver runs with: ``RANDOPT_BENCH_THREADS``, default 1."""
    value = os.environ.get(THREADS_ENV, "1")
    try:
        threads = int(value)
    except ValueError:
        threads = 0
    if threads < 1:
        raise ValueError(f"{THREADS_ENV} must be a positive integer, got {value!r}")
    return threads


def pin_threads(threads: int) -> None:
    """Limit BLAS/OpenMP pools and Numba to ``threads`` for the rest of the process."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads)  # not a context: the limit stays for all solvers
    try:
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    except ImportError:  # pragma: no cover - numba is a randopt dependency
        pass


def logreg_l2_value(X, y, lmbd: float, beta) -> float:
    """``sum_i log(1 + exp(-y_i x_i^T b)) + lmbd/2 ||b||^2``, without overflow."""
    beta = np.asarray(beta, dtype=np.float64).ravel()
    margins = y * np.asarray(X @ beta).ravel()
    return float(np.logaddexp(0.0, -margins).sum() + 0.5 * lmbd * (beta @ beta))


class Objective(BaseObjective):
    """The L2 logistic objective; ``skip_reason`` lets a dataset skip itself."""

    name = "L2 Logistic Regression"
    min_benchopt_version = "1.10"

    parameters = {"lmbd": [1.0, 0.01]}

    def skip(self, X=None, y=None, skip_reason=None):
        # A dataset that cannot be built here (e.g. ijcnn1 without RANDOPT_DATA)
        # returns skip_reason instead of data: skip it, do not crash the run.
        if skip_reason is not None:
            return True, skip_reason
        if not set(np.unique(y)) <= {-1.0, 1.0}:
            return True, "labels must be in {-1, +1}"
        return False, None

    def set_data(self, X, y, skip_reason=None):
        self.X, self.y = X, np.asarray(y, dtype=np.float64)
        self.n_threads = bench_threads()
        pin_threads(self.n_threads)

    def get_one_result(self):
        return {"beta": np.zeros(self.X.shape[1])}

    def evaluate_result(self, beta, hessian_products=np.nan, iterations=np.nan):
        # hessian_products / iterations: what randopt's solver records (NaN for
        # the others); the report prints products per iteration from them.
        return {
            "value": logreg_l2_value(self.X, self.y, self.lmbd, beta),
            "hessian_products": float(hessian_products),
            "iterations": float(iterations),
        }

    def get_objective(self):
        return {"X": self.X, "y": self.y, "lmbd": self.lmbd}
