"""Hostile input to hessian_free: every option checked at entry with an error naming it,
objectives without Gauss-Newton products refused, the caller's arrays left alone."""

import numpy as np
import pytest

from randopt.optimize import LevenbergMarquardtDamping, hessian_free
from randopt.oracles import CallableObjective, LogisticObjective, MinibatchObjective
from tests.hostile import readonly


@pytest.fixture
def logistic():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    return LogisticObjective(X, X @ np.ones(3) > 0, alpha=1e-2)


BAD_OPTIONS = [
    ("preset", "martin", ValueError),
    ("preset", None, (TypeError, ValueError)),
    ("damping", 0.0, ValueError),
    ("damping", -1.0, ValueError),
    ("damping", np.inf, ValueError),
    ("damping", np.nan, ValueError),
    ("damping", "10", TypeError),
    ("damping_decrease", 0.0, ValueError),
    ("damping_decrease", 1.5, ValueError),
    ("damping_increase", 0.5, ValueError),
    ("damping_increase", True, TypeError),
    ("rho_low", -0.1, ValueError),
    ("rho_high", 0.1, ValueError),  # below rho_low = 0.25
    ("hessian_sampling", "random", ValueError),
    ("hessian_sample_size", 0, ValueError),
    ("hessian_sample_size", 1.5, ValueError),
    ("hessian_sample_size", "half", ValueError),
    ("hessian_sample_size", [10], TypeError),
    ("gradient_sample_size", -3, ValueError),
    ("hessian_mode", "dense", ValueError),
    ("preconditioner", "jacobi", ValueError),
    ("preconditioner", 3, (TypeError, ValueError)),
    ("warm_start", 1.5, ValueError),
    ("warm_start", -0.1, ValueError),
    ("warm_start", "yes", TypeError),
    ("cg_backtracking", "yes", TypeError),
    ("cg_backtracking", 1.0, TypeError),
    ("cg_min_iter", 0, ValueError),
    ("cg_min_iter", 2.5, TypeError),
    ("cg_max_iter", 4, ValueError),  # below cg_min_iter = 5
    ("cg_max_iter", None, TypeError),
    ("cg_progress_tol", 0.0, ValueError),
    ("cg_progress_tol", 1.0, ValueError),
    ("c1", 0.0, ValueError),
    ("c1", 1.0, ValueError),
    ("backtrack_factor", 1.0, ValueError),
    ("backtrack_factor", 0.0, ValueError),
    ("max_backtracks", -1, ValueError),
    ("max_backtracks", 2.0, TypeError),
    ("gtol", -1e-3, ValueError),
    ("max_iter", -1, ValueError),
    ("max_props", 0.0, ValueError),
    ("max_time", -1.0, ValueError),
    ("callback", "print", TypeError),
    ("random_state", "seed", (TypeError, ValueError)),
]


@pytest.mark.parametrize("name, value, error", BAD_OPTIONS,
                         ids=[f"{n}={v!r}" for n, v, _ in BAD_OPTIONS])
def test_bad_options_name_the_argument(logistic, name, value, error):
    with pytest.raises(error) as info:
        hessian_free(logistic, np.zeros(3), **{name: value})
    assert name in str(info.value) or name == "random_state"


def test_damping_class_checks_its_arguments():
    with pytest.raises(ValueError, match="damping"):
        LevenbergMarquardtDamping(damping=0.0)
    with pytest.raises(ValueError, match="rho_high"):
        LevenbergMarquardtDamping(rho_low=0.5, rho_high=0.4)


def test_objective_without_gauss_newton_products_is_refused():
    f = CallableObjective(lambda x: float(x @ x), lambda x: 2 * x,
                          hessp=lambda x, v: 2 * v, n_features=2)
    with pytest.raises(TypeError, match="Gauss-Newton"):
        hessian_free(f, np.ones(2))
    with pytest.raises(TypeError, match="Gauss-Newton"):
        hessian_free((lambda x: float(x @ x), lambda x: 2 * x, lambda x, v: 2 * v), np.ones(2))
    with pytest.raises(TypeError, match="objective"):
        hessian_free("not an objective", np.ones(2))
    hvp_only = MinibatchObjective(lambda x, i: 0.0, lambda x, i: np.zeros(2),
                                  hvp=lambda x, v, i: v, n_samples=3, n_features=2)
    with pytest.raises(TypeError, match="Gauss-Newton"):
        hessian_free(hvp_only, np.ones(2))


def test_nonuniform_sampling_of_a_minibatch_objective_is_refused():
    f = MinibatchObjective(lambda x, i: 0.0, lambda x, i: np.zeros(2),
                           gnvp=lambda x, v, i: v, n_samples=3, n_features=2)
    with pytest.raises(TypeError, match="nonuniform|uniform"):
        hessian_free(f, np.ones(2), hessian_sampling="nonuniform")


@pytest.mark.parametrize("x0, error", [
    (np.zeros(4), ValueError), (np.zeros((3, 1)), ValueError),
    (np.array([0.0, np.nan, 0.0]), ValueError), (np.array(["a", "b", "c"]), TypeError),
])
def test_bad_x0(logistic, x0, error):
    with pytest.raises(error, match="x0"):
        hessian_free(logistic, x0)


def test_non_finite_start_is_refused():
    f = MinibatchObjective(lambda x, i: np.inf, lambda x, i: np.zeros(2),
                           gnvp=lambda x, v, i: v, n_samples=3, n_features=2)
    with pytest.raises(ValueError, match="x0"):
        hessian_free(f, np.ones(2))


def test_caller_arrays_are_not_written(logistic):
    x0 = readonly(np.zeros(3))
    res = hessian_free(logistic, x0, max_iter=3, random_state=0)
    assert not x0.any() and res.x is not x0


def test_overflowing_trials_are_rejected_not_returned():
    """A model whose value overflows away from the start: the line search backs off."""
    def fun(x, i):
        return float(np.exp(np.minimum(50 * x[0], 800)) + x @ x)

    def grad(x, i):
        return np.array([50 * np.exp(min(50 * x[0], 800)), 0.0]) + 2 * x

    f = MinibatchObjective(fun, grad, gnvp=lambda x, v, i: 2 * v, n_samples=4, n_features=2)
    res = hessian_free(f, np.array([-0.1, 1.0]), damping=1e-6, max_iter=20, random_state=0)
    assert np.isfinite(res.fun) and np.all(np.isfinite(res.x))
    assert res.fun <= fun(np.array([-0.1, 1.0]), None)
