"""The loop's contracts: user sub-problem solvers, option checks, refusing bad oracles."""

import math

import numpy as np
import pytest
from scipy.optimize import rosen, rosen_der, rosen_hess_prod

from randopt.optimize import (
    CubicRegularizationPolicy,
    TrustRegionPolicy,
    arc,
    newton_loop,
    trust_region,
)
from randopt.optimize.subproblems import Step, Subproblem
from randopt.oracles import CallableObjective, SigmoidLeastSquaresObjective


def _quadratic(d=6, seed=0):
    """A convex quadratic 0.5 x^T A x - b^T x as callables, and its minimiser."""
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((d, d))
    A = M @ M.T + np.eye(d)
    b = rng.standard_normal(d)
    fun = lambda x: 0.5 * x @ A @ x - b @ x  # noqa: E731
    grad = lambda x: A @ x - b  # noqa: E731
    hessp = lambda x, v: A @ v  # noqa: E731
    return (fun, grad, hessp), A, np.linalg.solve(A, b)


class Dogleg:
    """A user's dogleg solver, written against the documented interface only.

    Not a Subproblem subclass; an instance keeps its own counters, which the
    test reads to check the loop's reuse contract.
    """

    supports_trust_region = True
    supports_cubic = False
    needs_matrix = True

    def __init__(self):
        self.models = 0
        self.solves = 0

    def set_model(self, grad, hess, *, tol, max_iter, random_state):
        self.models += 1
        self.g, self.H = grad, hess.toarray()
        self.newton = np.linalg.solve(self.H, -grad)
        return self

    def solve(self, *, radius=None, sigma=None):
        self.solves += 1
        g, H = self.g, self.H
        if np.linalg.norm(self.newton) <= radius:
            s = self.newton
        else:
            cauchy = -(g @ g) / (g @ H @ g) * g
            if np.linalg.norm(cauchy) >= radius:
                s = -radius * g / np.linalg.norm(g)
            else:  # along cauchy -> newton to the boundary
                p = self.newton - cauchy
                a, b, c = p @ p, 2 * cauchy @ p, cauchy @ cauchy - radius**2
                s = cauchy + (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a) * p
        return Step(s, -(g @ s + 0.5 * s @ H @ s), bool(np.linalg.norm(s) >= radius), 0, 1)


def test_a_user_written_subproblem_class_and_instance():
    objective, A, x_star = _quadratic()
    gtol = 1e-10
    # the class: built by the loop without arguments
    res = trust_region(objective, np.zeros(6), subproblem=Dogleg, radius=0.1, gtol=gtol)
    assert res.success, res.message
    lam_min = np.linalg.eigvalsh(A)[0]
    assert np.linalg.norm(res.x - x_star) <= gtol / lam_min
    # the instance: one set_model per iterate (kept after rejections), one solve per trial
    solver = Dogleg()
    res = trust_region(objective, np.ones(6) * 50, subproblem=solver, radius=100.0, gtol=gtol)
    assert res.success and np.linalg.norm(res.x - x_star) <= gtol / lam_min
    accepted = int(res.history["accepted"].sum())
    assert solver.solves == res.nit
    assert solver.models == accepted  # the last accepted point met gtol: no model built
    # a model the user class cannot minimise
    with pytest.raises(ValueError, match="cannot solve cubic"):
        arc(objective, np.zeros(6), subproblem=Dogleg)


def test_a_subproblem_subclass_with_options_and_its_random_state():
    """A Subproblem subclass: gets tol, max_iter and the solver's own Generator."""
    seen = {}

    class Recording(Subproblem):
        supports_cubic = True

        def __init__(self, scale):
            self.scale = scale

        def set_model(self, grad, hess, **kwargs):
            seen.update(kwargs)
            return super().set_model(grad, hess, **kwargs)

        def solve(self, *, radius=None, sigma=None):
            self._model_kind(radius, sigma)
            # the cubic Cauchy step, damped by a user option
            g, gHg = self.g, float(self.g @ self.H.matvec(self.g))
            gn = self.gnorm
            a = self.scale * 2 * gn**2 / (gHg + math.sqrt(gHg**2 + 4 * sigma * gn**5))
            s = -a * g
            m = -a * gn**2 + 0.5 * a * a * gHg + sigma * (a * gn) ** 3 / 3
            return Step(s, -m, False, 1, 1)

    objective, A, x_star = _quadratic(d=3)
    gen = np.random.default_rng(0)
    res = arc(objective, np.zeros(3), subproblem=Recording(0.9), subproblem_tol=1e-5,
              subproblem_max_iter=7, gtol=1e-9, max_iter=5000, random_state=gen)
    assert res.success, res.message
    assert np.linalg.norm(res.x - x_star) <= 1e-9 / np.linalg.eigvalsh(A)[0]
    assert seen["tol"] == 1e-5 and seen["max_iter"] == 7 and seen["random_state"] is gen


class _NotASolver:
    supports_trust_region = True


class _NeedsArguments(Subproblem):
    supports_trust_region = True

    def __init__(self, required):
        self.required = required


class _BadFlag(Subproblem):
    supports_trust_region = "yes"


@pytest.mark.parametrize("subproblem,error,match", [
    ("dogleg", ValueError, "subproblem must be one of 'cg', 'lanczos'"),
    (_NotASolver, TypeError, "lacks supports_cubic, needs_matrix, set_model, solve"),
    (_NotASolver(), TypeError, "_NotASolver lacks"),
    (_NeedsArguments, TypeError, "constructible without arguments"),
    (_BadFlag, TypeError, "subproblem.supports_trust_region must be True or False"),
    (3, TypeError, "subproblem must be one of"),
])
def test_bad_subproblem(subproblem, error, match):
    objective, _, _ = _quadratic(d=2)
    with pytest.raises(error, match=match):
        trust_region(objective, np.zeros(2), subproblem=subproblem)


@pytest.mark.parametrize("step,error,match", [
    (Step(np.zeros(3), 1.0, False, 0, 1), ValueError, r"step of shape \(3,\), expected \(2,\)"),
    (Step(np.array([np.nan, 0.0]), 1.0, False, 0, 1), ValueError, "NaN or infinity"),
    (Step(np.ones(2), math.nan, False, 0, 1), ValueError, "NaN model decrease"),
    (Step(np.ones(2), 1.0, False, -1, 1), TypeError, "n_products=-1"),
    ((np.ones(2), 1.0), TypeError, "must return a Step"),
])
def test_a_user_solver_returning_garbage_is_refused(step, error, match):
    class Garbage(Subproblem):
        supports_trust_region = True

        def solve(self, *, radius=None, sigma=None):
            return step

    objective, _, _ = _quadratic(d=2)
    with pytest.raises(error, match=match):
        trust_region(objective, np.zeros(2), subproblem=Garbage)


@pytest.mark.parametrize("fn", [trust_region, arc])
@pytest.mark.parametrize("mode", ["hessp", "explicit"])
def test_a_hessp_returning_nan_or_the_wrong_shape_is_refused(fn, mode):
    objective, A, _ = _quadratic(d=3)
    fun, grad, _ = objective

    def nan_after_first_step(x, v):
        # fine at x0 = 0, NaN once the solver moved (Rosenbrock takes many steps)
        return rosen_hess_prod(x, v) if not x.any() else np.full(3, np.nan)

    with pytest.raises(ValueError, match="NaN or infinity"):
        fn((rosen, rosen_der, nan_after_first_step), np.zeros(3), hessian_mode=mode)
    with pytest.raises(ValueError, match=r"hessp\(x, v\) must return an array of shape \(3,\)"):
        fn((fun, grad, lambda x, v: np.ones(2)), np.zeros(3), hessian_mode=mode)
    bad_hess = CallableObjective(fun, grad, hess=lambda x: np.full((3, 3), np.inf), n_features=3)
    with pytest.raises(ValueError, match="Hessian.*NaN or infinity"):
        fn(bad_hess, np.zeros(3), hessian_mode=mode)


@pytest.fixture(scope="module")
def small_finite_sum():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 4))
    return SigmoidLeastSquaresObjective(X, (X[:, 0] > 0).astype(float))


@pytest.mark.parametrize("kwargs,error,match", [
    ({"radius": 0}, ValueError, "radius must lie in"),
    ({"radius": -1.0}, ValueError, "radius must lie in"),
    ({"radius": math.nan}, ValueError, "radius must be a number, got NaN"),
    ({"radius": math.inf}, ValueError, "radius must be finite"),
    ({"radius": "10"}, TypeError, "radius must be a real number"),
    ({"radius": 2.0, "max_radius": 1.0}, ValueError, "max_radius must lie in"),
    ({"eta1": 1.0}, ValueError, "eta1 must lie in"),
    ({"eta1": 0.5, "eta2": 0.6}, ValueError, "eta2 must lie in"),
    ({"gamma1": 1.0}, ValueError, "gamma1 must lie in"),
    ({"gamma2": 0.9}, ValueError, "gamma2 must lie in"),
    ({"gtol": -1e-6}, ValueError, "gtol must lie in"),
    ({"gtol": math.nan}, ValueError, "gtol must be a number"),
    ({"curvature_tol": -1.0}, ValueError, "curvature_tol must lie in"),
    ({"max_iter": 2.5}, TypeError, "max_iter must be an integer"),
    ({"max_iter": -1}, ValueError, "max_iter must lie in"),
    ({"max_props": 0}, ValueError, "max_props must lie in"),
    ({"max_time": "1s"}, TypeError, "max_time must be a real number"),
    ({"subproblem_tol": 0.0}, ValueError, "subproblem_tol must lie in"),
    ({"subproblem_tol": 1.0}, ValueError, "subproblem_tol must lie in"),
    ({"subproblem_max_iter": 0}, ValueError, "subproblem_max_iter must lie in"),
    ({"subproblem_max_iter": True}, TypeError, "subproblem_max_iter must be an integer"),
    ({"hessian_mode": "dense"}, ValueError, "hessian_mode must be one of"),
    ({"hessian_sampling": "random"}, ValueError, "hessian_sampling must be one of"),
    ({"hessian_sample_size": 0}, ValueError, "hessian_sample_size must be between 1 and 200"),
    ({"hessian_sample_size": 201}, ValueError, "hessian_sample_size must be between 1 and 200"),
    ({"gradient_sample_size": 0}, ValueError, "gradient_sample_size"),
    ({"callback": 3}, TypeError, "callback must be callable"),
    ({"random_state": "seed"}, TypeError, "random_state must be"),
    ({"subproblem_maxiter": 10}, TypeError, "subproblem_maxiter"),
])
def test_trust_region_option_checks(small_finite_sum, kwargs, error, match):
    with pytest.raises(error, match=match):
        trust_region(small_finite_sum, np.zeros(4), **kwargs)


@pytest.mark.parametrize("kwargs,error,match", [
    ({"sigma0": 0.0}, ValueError, "sigma0 must lie in"),
    ({"sigma0": -1.0}, ValueError, "sigma0 must lie in"),
    ({"sigma0": math.nan}, ValueError, "sigma0 must be a number"),
    ({"sigma0": None}, TypeError, "sigma0 must be a real number"),
    ({"sigma_min": -1e-9}, ValueError, "sigma_min must lie in"),
    ({"sigma0": 1e-3, "sigma_min": 1e-2}, ValueError, "sigma_min must lie in"),
    ({"sigma0": 1.0, "max_sigma": 0.5}, ValueError, "max_sigma must lie in"),
    ({"subproblem": "cg"}, ValueError, "cannot solve cubic sub-problems; use 'lanczos'"),
])
def test_arc_option_checks(small_finite_sum, kwargs, error, match):
    with pytest.raises(error, match=match):
        arc(small_finite_sum, np.zeros(4), **kwargs)


@pytest.mark.parametrize("returned", ["stop", 1, 0.5, [1]])
def test_a_callback_returning_something_else_than_none_bool_or_dict(small_finite_sum, returned):
    with pytest.raises(TypeError, match="callback must return None, a bool"):
        trust_region(small_finite_sum, np.zeros(4), callback=lambda x, info: returned,
                     random_state=0)


def test_bad_objective_and_x0(small_finite_sum):
    with pytest.raises(ValueError, match="x0 has length 3, expected 4"):
        trust_region(small_finite_sum, np.zeros(3))
    with pytest.raises(ValueError, match="x0 contains NaN"):
        arc(small_finite_sum, np.full(4, np.nan))
    with pytest.raises(TypeError, match="objective must be a randopt.oracles objective"):
        trust_region(lambda x: x @ x, np.zeros(4))
    with pytest.raises(ValueError, match="not finite at x0"):
        trust_region((lambda x: np.nan, lambda x: x, lambda x, v: v), np.zeros(2))


def test_newton_loop_refuses_a_non_policy():
    objective, _, _ = _quadratic(d=2)
    with pytest.raises(TypeError, match="policy must be a TrustRegionPolicy"):
        newton_loop(objective, np.zeros(2), "trust-region")


def test_newton_loop_runs_a_policy_and_resets_it():
    objective, A, x_star = _quadratic(d=4)
    policy = TrustRegionPolicy(radius=0.5)
    first = newton_loop(objective, np.zeros(4), policy, gtol=1e-10)
    second = newton_loop(objective, np.zeros(4), policy, gtol=1e-10)
    assert first.history["radius"][0] == second.history["radius"][0] == 0.5
    np.testing.assert_array_equal(first.x, second.x)
    assert np.linalg.norm(first.x - x_star) <= 1e-10 / np.linalg.eigvalsh(A)[0]
    res = newton_loop(objective, np.zeros(4), CubicRegularizationPolicy(sigma0=1.0),
                      subproblem="exact", gtol=1e-10)
    assert res.success and np.linalg.norm(res.x - x_star) <= 1e-10 / np.linalg.eigvalsh(A)[0]
