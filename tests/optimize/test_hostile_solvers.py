"""Hostile input for the solvers' entry (issue 20): what a user gives each solver is
checked once, at entry, and a failure says what is wrong.

Every solver returns an OptimizeResult with nit, nfev, njev, nhev and a status
and message from one table.
"""

from __future__ import annotations

import numpy as np
import pytest

from randopt.optimize import (
    STATUS_MESSAGES,
    CubicRegularizationPolicy,
    TrustRegionPolicy,
    adaptive_batch_sgd,
    arc,
    gauss_newton,
    newton_loop,
    trust_region,
)
from randopt.oracles import LeastSquaresObjective, LogisticObjective, SigmoidLeastSquaresObjective

_RNG = np.random.default_rng(0)
_X = _RNG.standard_normal((120, 4))
_Y = _X[:, 0] + 0.5 * _RNG.standard_normal(120) > 0


def test_absa_diverging_learning_rate_is_named():
    # the original said "w contains NaN or infinity", naming neither the cause nor the option
    f = LeastSquaresObjective(_X, _X[:, 0].copy())
    with pytest.raises(ValueError, match="learning_rate"):
        adaptive_batch_sgd(f, np.zeros(4), learning_rate=1e300, random_state=0)


@pytest.mark.parametrize("solver", ["trust_region", "arc", "gauss_newton", "newton_loop",
                                    "adaptive_batch_sgd"])
def test_every_solver_reports_the_same_counts_and_status_table(solver):
    f = SigmoidLeastSquaresObjective(_X, _Y, alpha=1e-3)
    x0 = np.zeros(4)
    if solver == "newton_loop":
        res = newton_loop(f, x0, TrustRegionPolicy(), max_iter=3, random_state=0)
    elif solver == "adaptive_batch_sgd":
        res = adaptive_batch_sgd(f, x0, epochs=2, random_state=0)
    else:
        res = {"trust_region": trust_region, "arc": arc,
               "gauss_newton": gauss_newton}[solver](f, x0, max_iter=3, random_state=0)
    for field in ("nit", "nfev", "njev", "nhev", "status", "message", "success", "props",
                  "time", "history", "x", "fun", "jac"):
        assert field in res, field
    for field in ("nit", "nfev", "njev", "nhev"):
        assert isinstance(res[field], int) and res[field] >= 0
    assert res.nfev >= 1 and res.njev >= res.nfev
    assert res.message == STATUS_MESSAGES[res.status]


class _NoHessian:
    n_features = 4
    n_samples = 1

    def evaluate(self, w, gradient_sample=None):  # pragma: no cover - never reached
        raise AssertionError


class _NotAPolicy:
    parameter_name = "radius"
    value = 1.0

    def start(self):  # pragma: no cover - never reached
        pass


def test_protocols_are_checked_once_at_entry_and_name_what_is_missing():
    with pytest.raises(TypeError, match="hessian_model"):
        trust_region(_NoHessian(), np.zeros(4))
    with pytest.raises(TypeError, match="check_subproblem.*exhausted|exhausted"):
        newton_loop(LogisticObjective(_X, _Y), np.zeros(4), _NotAPolicy())


def test_policies_keep_the_radius_and_sigma_finite_and_positive():
    # the sub-problems refuse a radius or sigma of 0 or inf: the policies never make one
    p = TrustRegionPolicy(radius=1e308)
    p.start()
    p.update(0.9)
    assert 0 < p.value < np.inf
    q = CubicRegularizationPolicy(sigma0=1e-300, sigma_min=0.0)
    q.start()
    for _ in range(40):
        q.update(0.9)
    assert 0 < q.value < np.inf


_SOLVERS = {"trust_region": trust_region, "arc": arc, "gauss_newton": gauss_newton,
            "adaptive_batch_sgd": adaptive_batch_sgd}
_BAD = [True, "1", 1 + 1j, float("nan"), np.array([1.0, 2.0])]


def _options(name):
    import inspect

    params = inspect.signature(_SOLVERS[name]).parameters.values()
    return [p.name for p in params if p.kind is p.KEYWORD_ONLY]


@pytest.mark.parametrize("name", sorted(_SOLVERS))
def test_every_option_is_checked_at_entry_and_named(name):
    f = SigmoidLeastSquaresObjective(_X, _Y, alpha=1e-3)
    budget = {"epochs": 1} if name == "adaptive_batch_sgd" else {"max_iter": 1}
    for option in _options(name):
        for value in _BAD:
            if option == "scale_learning_rate" and value is True:
                continue  # the one legitimate value of the list
            kwargs = {**budget, option: value}
            with pytest.raises((TypeError, ValueError), match=rf"\b{option}\b"):
                _SOLVERS[name](f, np.zeros(4), **kwargs)
