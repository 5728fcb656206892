"""skglm's ``GeneralizedLinearEstimator`` with the logistic datafit and an L2 penalty.

skglm's ``Logistic`` datafit is the mean loss, so the penalty strength is
``lmbd / n``. skglm 0.5's ``L2`` penalty works only with its ``LBFGS``
solver, which ``GeneralizedLinearEstimator`` cannot drive in 0.5 (the
solver lacks ``fit_intercept`` and ``warm_start``); the L2 penalty is
therefore ``L1_plus_L2(lmbd / n, l1_ratio=0)`` (exactly ``(lmbd/(2n))
||w||^2``), which skglm's own solvers take: ``prox_newton`` (``ProxNewton``,
its Newton method) and ``cd`` (``AndersonCD``, working-set coordinate
descent with Anderson acceleration), both with ``fit_intercept=False``.

Curves are sampled by tolerance (benchopt's ``"tolerance"`` strategy), as
skglm's working-set solvers are meant to be used: ``tol`` (skglm's
optimality violation) from 1 down by a factor 10 per run to ``1e-15``, with
``max_iter=1000`` outer iterations. (With ``max_iter`` sampling and a tiny
``tol``, a single outer iteration already solves its working set to
``tol``, which takes seconds to minutes.) Timed: the whole ``fit`` (it
converts CSR input to CSC itself). Warm-up: a fit on the first 100 rows
in ``set_objective`` (Numba compiles skglm's kernels for this input's type:
10 to 100 s; benchopt 1.10 starts the timeout clock before ``warm_up``).
"""

from __future__ import annotations

from benchopt import BaseSolver, safe_import_context
from benchopt.stopping_criterion import SufficientProgressCriterion

with safe_import_context() as import_ctx:
    import warnings

    import numpy as np
    from numba.core.errors import NumbaPerformanceWarning
    from skglm import GeneralizedLinearEstimator
    from skglm.datafits import Logistic
    from skglm.penalties import L1_plus_L2
    from skglm.solvers import AndersonCD, ProxNewton
    from sklearn.exceptions import ConvergenceWarning

    SOLVERS = {"prox_newton": ProxNewton, "cd": AndersonCD}

#: tolerance sequence: 1, 0.1, ..., down to MIN_TOL
MIN_TOL = 1e-15


class Solver(BaseSolver):
    """GeneralizedLinearEstimator(Logistic(), L1_plus_L2(lmbd/n, 0), ProxNewton or AndersonCD)."""

    name = "skglm"
    # benchopt's default patience (3 flat evaluations) stops non-monotone or
    # stalling curves early; every solver of this benchmark uses patience 5
    stopping_criterion = SufficientProgressCriterion(patience=5, strategy="tolerance")
    parameters = {"solver": ["prox_newton", "cd"]}
    parameter_template = "{solver}"

    def set_objective(self, X, y, lmbd):
        self.X, self.y, self.lmbd = X, y, lmbd
        self.beta = np.zeros(X.shape[1])
        # Warm-up here, not in warm_up(): benchopt 1.10 starts a solver's timeout
        # clock before warm_up(), and compiling skglm's kernels takes 10-100 s.
        m = min(X.shape[0], 100)
        self._fit(X[:m], y[:m], lmbd * m / X.shape[0], tol=1e-4)

    def get_next(self, stop_val):
        return max(min(stop_val, 10.0) / 10.0, MIN_TOL)

    def _fit(self, X, y, lmbd, tol):
        solver = SOLVERS[self.solver](max_iter=1000, tol=tol, fit_intercept=False)
        penalty = L1_plus_L2(lmbd / X.shape[0], l1_ratio=0.0)
        estimator = GeneralizedLinearEstimator(Logistic(), penalty, solver)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            # skglm's own kernels note a non-contiguous '@' when Numba compiles them
            warnings.simplefilter("ignore", NumbaPerformanceWarning)
            estimator.fit(X, y)
        return np.asarray(estimator.coef_, dtype=np.float64).ravel()

    def run(self, tol):
        self.beta = self._fit(self.X, self.y, self.lmbd, tol)

    def get_result(self):
        return {"beta": self.beta}
