"""Inexact Newton-CG: forcing terms and Nystrom preconditioning in the solvers.

Forcing terms: Eisenstat and Walker (SIAM J. Sci. Comput. 17, 1996) choice 2,
and ``min(0.5, sqrt(||g||))`` (Nocedal and Wright, eq. (7.3)). Preconditioner:
Frangella, Tropp and Udell (SIMAX 2023). The default (a fixed 1e-9) must stay
today's arithmetic; the optimum must not change with the inner accuracy.
"""

import math

import numpy as np
import pytest

from randopt.optimize import (
    EisenstatWalker,
    NystromSchedule,
    SqrtForcing,
    arc,
    gauss_newton,
    trust_region,
)
from randopt.optimize.forcing import FixedForcing, as_forcing_term
from randopt.optimize.subproblems import CGSteihaug
from randopt.oracles import LogisticObjective, SigmoidLeastSquaresObjective

EPS = np.finfo(np.float64).eps


@pytest.fixture(scope="module")
def ill_logistic():
    rng = np.random.default_rng(0)
    n, d = 3000, 60
    X = rng.standard_normal((n, d)) * np.logspace(0, -3, d)
    y = X @ rng.standard_normal(d) + 0.5 * rng.logistic(size=n) > 0
    return LogisticObjective(X, y, alpha=1e-5)


def optimum_tolerance(obj, x, gtol):
    """||x - x*|| <= ||g(x)|| / lambda_min(H) for a strongly convex objective, plus gtol's."""
    H = obj.hessian_model(obj.evaluate(x), explicit=True).toarray()
    return 2 * gtol / np.linalg.eigvalsh(H)[0]


def test_fixed_forcing_is_the_float_itself():
    f = as_forcing_term(1e-9)
    f.start(1e-6)
    assert isinstance(f, FixedForcing) and f.at(123.0) == 1e-9 and f.at(1e-12) == 1e-9


def test_numeric_size_history_records_the_fixed_tolerance(ill_logistic):
    # the papers' setting (a numeric sample size): subproblem_tol="auto" is their 1e-9;
    # with the default "auto" size it is Eisenstat-Walker (tests/optimize/test_auto_defaults.py)
    res = trust_region(ill_logistic, np.zeros(60), random_state=0, max_iter=5,
                       hessian_sample_size=0.5)
    tol = res.history["subproblem_tol"]
    assert math.isnan(tol[0]) and set(tol[1:].tolist()) == {1e-9}
    same = trust_region(ill_logistic, np.zeros(60), random_state=0, max_iter=5,
                        hessian_sample_size=0.5, subproblem_tol=1e-9)
    assert np.array_equal(res.x, same.x)


def test_sqrt_rule_follows_the_gradient(ill_logistic):
    res = trust_region(ill_logistic, np.zeros(60), subproblem_tol="sqrt", gtol=1e-9,
                       random_state=0)
    h = res.history
    g_prev = h["grad_norm"][:-1]  # the iterate each iteration started from
    expected = np.clip(np.minimum(0.5, np.sqrt(g_prev)), EPS, 1 - EPS)
    assert np.array_equal(h["subproblem_tol"][1:], expected)


def test_eisenstat_walker_sequence():
    f = EisenstatWalker(gamma=0.9, alpha=2.0, eta0=0.5, eta_max=0.9)
    f.start(0.0)
    g = [1.0, 0.5, 0.45, 1e-3]
    etas = [f.at(x) for x in g]
    assert etas[0] == 0.5
    assert etas[1] == pytest.approx(0.9 * 0.25)
    # ratio 0.9: 0.9 * 0.81 = 0.729 (the safeguard 0.9 * 0.225^2 = 0.0456 < 0.1 is inactive)
    assert etas[2] == pytest.approx(0.729)
    # a sudden drop: 0.9 (1e-3/0.45)^2 ~ 4e-6, safeguarded by 0.9 * 0.729^2 = 0.478 > 0.1
    assert etas[3] == pytest.approx(0.9 * 0.729**2)
    assert f.at(1e-3) == etas[3]  # the same iterate keeps its tolerance


def test_eisenstat_walker_does_not_oversolve_past_gtol():
    f = EisenstatWalker()
    f.start(1e-6)
    f.at(1.0)
    f.at(0.1)
    assert f.at(1e-5) == pytest.approx(0.5 * 1e-6 / 1e-5)


@pytest.mark.parametrize("rule", ["ew", "sqrt", EisenstatWalker(gamma=0.5), SqrtForcing(0.1)])
def test_forcing_terms_reach_the_same_optimum_with_fewer_products(ill_logistic, rule):
    gtol = 1e-9
    ref = trust_region(ill_logistic, np.zeros(60), hessian_sampling="full", gtol=gtol,
                       subproblem_tol=1e-9)  # the papers' fixed tolerance
    res = trust_region(ill_logistic, np.zeros(60), hessian_sampling="full", gtol=gtol,
                       subproblem_tol=rule)
    assert res.success and ref.success
    assert np.linalg.norm(res.x - ref.x) <= optimum_tolerance(ill_logistic, ref.x, gtol)
    assert res.nhev < ref.nhev / 2


@pytest.mark.parametrize("solver, kwargs", [
    (trust_region, {}),
    (trust_region, {"preconditioner": "nystrom"}),
    (trust_region, {"hessian_sample_size": 0.2, "preconditioner": NystromSchedule(lazy=False)}),
    (trust_region, {"preconditioner": NystromSchedule(lazy=False, criterion="error")}),
    (arc, {}),
    (gauss_newton, {"cg_tol": "ew", "preconditioner": "nystrom"}),
])
def test_products_counted_per_iteration(ill_logistic, solver, kwargs):
    if solver is not gauss_newton:
        kwargs = {"subproblem_tol": "ew", **kwargs}
    res = solver(ill_logistic, np.zeros(60), gtol=1e-8, random_state=1, max_iter=60, **kwargs)
    h = res.history
    assert res.nhev == h["hessian_products"].sum()
    # props: 2 |S| per product, every one of them (builds included)
    n = ill_logistic.n_samples
    hess_props = np.sum(2 * h["hessian_rows"] * h["hessian_products"])
    value_props = n * (res.nfev - 1) + 2 * n * (1 + h["accepted"].sum())
    assert res.props == pytest.approx(hess_props + value_props, rel=1e-12)


def test_nystrom_preconditioner_cuts_products_at_fixed_tolerance(ill_logistic):
    gtol = 1e-9
    kw = dict(hessian_sampling="full", hessian_mode="hessp", gtol=gtol)
    plain = trust_region(ill_logistic, np.zeros(60), **kw)
    schedule = NystromSchedule(lazy=False)
    pre = trust_region(ill_logistic, np.zeros(60), preconditioner=schedule, random_state=0,
                       **kw)
    assert pre.success and schedule.n_builds >= 1
    assert np.linalg.norm(pre.x - plain.x) <= optimum_tolerance(ill_logistic, plain.x, gtol)
    cg_products = pre.history["inner_iterations"].sum()
    assert cg_products < plain.nhev / 3
    # reused across iterates: fewer builds than iterations
    assert schedule.n_builds < pre.nit


def test_identity_preconditioner_changes_nothing(ill_logistic):
    kw = dict(hessian_sampling="full", gtol=1e-8, subproblem_tol="ew")
    plain = trust_region(ill_logistic, np.zeros(60), **kw)
    ident = trust_region(ill_logistic, np.zeros(60), preconditioner=lambda r: r, **kw)
    assert np.array_equal(plain.x, ident.x) and plain.nhev == ident.nhev


def test_schedule_rebuilds_when_cg_slows_down():
    s = NystromSchedule(lazy=False)
    s.reset(1.0)
    assert s.stale
    s.preconditioner, s.stale = object(), False
    s.observe("converged", 10, 1.0, math.exp(-10))  # 1 iteration per e-fold: baseline
    s.observe("converged", 15, 1.0, math.exp(-10))  # 1.5: within the factor 2
    assert not s.stale
    s.observe("boundary", 50, 1.0, 0.5)  # a Steihaug exit says nothing
    assert not s.stale
    s.observe("converged", 30, 1.0, math.exp(-10))  # 3 per e-fold: rebuild
    assert s.stale
    lazy = NystromSchedule(initial_rank=8)
    lazy.reset(1.0)
    lazy.observe("converged", 10, 1.0, 1e-9)
    assert not lazy.stale  # cheap plain CG: no build
    lazy.observe("converged", 40, 1.0, 1e-9)
    assert lazy.stale and lazy.rank_cap == 32


def test_nystrom_on_an_indefinite_model_falls_back_to_plain_cg():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((400, 10))
    obj = SigmoidLeastSquaresObjective(X, X[:, 0] > 0, alpha=1e-4)
    x0 = 3 * rng.standard_normal(10)
    res = trust_region(obj, x0, hessian_sampling="full",
                       preconditioner=NystromSchedule(lazy=False), random_state=0, gtol=1e-7)
    plain = trust_region(obj, x0, hessian_sampling="full", gtol=1e-7)
    assert res.success
    assert abs(res.fun - plain.fun) <= 1e-6 * max(1.0, abs(plain.fun))


def test_preconditioned_cg_steihaug_instance_option(ill_logistic):
    from randopt.linalg import NystromPreconditioner

    ev = ill_logistic.evaluate(np.zeros(60))
    H = ill_logistic.hessian_model(ev, explicit=True)
    P = NystromPreconditioner.from_operator(H.toarray(), shift=1e-5, random_state=0)
    sub = CGSteihaug(preconditioner=P).set_model(ev.grad, H, tol=1e-10)
    plain = CGSteihaug().set_model(ev.grad, H, tol=1e-10)
    big = 1e6
    a, b = sub.solve(radius=big), plain.solve(radius=big)
    x = np.linalg.solve(H.toarray(), -ev.grad)
    assert a.n_iter < b.n_iter
    assert np.linalg.norm(a.s - x) <= 1e-10 * np.linalg.cond(H.toarray()) * np.linalg.norm(x)
