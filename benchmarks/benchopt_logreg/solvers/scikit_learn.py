"""scikit-learn's ``LogisticRegression`` with its L2 solvers.

``C = 1 / lmbd``, ``fit_intercept=False``, ``tol=1e-15`` and ``max_iter``
from benchopt's sequence, as in benchopt's ``benchmark_logreg_l2``
(scikit-learn minimises ``C sum_i loss_i + ||w||^2 / 2``, the benchmark's
objective times ``C``). ``saga`` is seeded (``random_state``). Timed: the
whole ``fit``, its input validation included.

Skip rule: ``newton-cholesky`` forms the ``d x d`` Hessian (``8 d^2`` bytes:
17.7 GB at ``d = 47,000``); it is skipped when ``n_features >
MAX_CHOLESKY_FEATURES`` (10,000: 0.8 GB).
"""

from __future__ import annotations

from benchopt import BaseSolver, safe_import_context
from benchopt.stopping_criterion import SufficientProgressCriterion

with safe_import_context() as import_ctx:
    import warnings

    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

#: newton-cholesky is skipped above this many features (its d x d Hessian)
MAX_CHOLESKY_FEATURES = 10_000


class Solver(BaseSolver):
    """LogisticRegression(solver=..., C=1/lmbd, fit_intercept=False, tol=1e-15)."""

    name = "sklearn"
    # benchopt's default patience (3 flat evaluations) stops non-monotone or
    # stalling curves early; every solver of this benchmark uses patience 5
    stopping_criterion = SufficientProgressCriterion(patience=5, strategy="iteration")
    parameters = {"solver": ["lbfgs", "newton-cg", "newton-cholesky", "liblinear", "saga"]}
    parameter_template = "{solver}"
    requirements = ["scikit-learn"]

    def skip(self, X, y, lmbd):
        if self.solver == "newton-cholesky" and X.shape[1] > MAX_CHOLESKY_FEATURES:
            gb = 8 * X.shape[1] ** 2 / 1e9
            return True, (f"newton-cholesky forms the {X.shape[1]} x {X.shape[1]} Hessian "
                          f"({gb:.1f} GB); skipped for n_features > {MAX_CHOLESKY_FEATURES}")
        return False, None

    def set_objective(self, X, y, lmbd):
        self.X, self.y, self.lmbd = X, y, lmbd
        self.clf = LogisticRegression(solver=self.solver, C=1.0 / lmbd, fit_intercept=False,
                                      tol=1e-15, random_state=0)
        self.beta = np.zeros(X.shape[1])

    def run(self, n_iter):
        if n_iter == 0:
            self.beta = np.zeros(self.X.shape[1])
            return
        self.clf.set_params(max_iter=n_iter)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.filterwarnings("ignore", message="Line Search failed")
            self.clf.fit(self.X, self.y)
        self.beta = self.clf.coef_.ravel()

    def get_result(self):
        return {"beta": self.beta}
