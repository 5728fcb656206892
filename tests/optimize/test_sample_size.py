"""The "auto" Hessian sample size: the cost model, the growth rules, and the loop's use of them."""

import math

import numpy as np
import pytest

from randopt.optimize import AdaptiveSampleSize, arc, trust_region
from randopt.optimize.sample_size import EVAL_COST, GATHER_COST
from randopt.oracles import (
    FiniteSum,
    LogisticLoss,
    LogisticObjective,
    SigmoidLeastSquaresObjective,
)

# --------------------------------------------------------------------------- #
# the schedule on its own: numbers against the closed forms of the docstring
# --------------------------------------------------------------------------- #


def _chernoff_floor(q, eps=0.5, delta=0.05):
    """Roosta-Khorasani & Mahoney's Lemma 1 sample size with kappa = q."""
    return math.ceil(2 * q * math.log(q / delta) / eps**2)


@pytest.mark.parametrize("d", [1, 22, 54, 201, 999])
def test_floor_is_the_matrix_chernoff_size(d):
    s = AdaptiveSampleSize(10**8, d)
    assert s.floor == _chernoff_floor(min(d, 250))
    # the dimension the sub-problem explores bounds q
    assert AdaptiveSampleSize(10**8, d, products=5).floor == _chernoff_floor(min(d, 5))
    assert AdaptiveSampleSize(100, d).floor == min(100, _chernoff_floor(min(d, 250)))


def test_costs_follow_the_model():
    n, d, k = 1000, 30, 7
    explicit = AdaptiveSampleSize(n, d)
    assert explicit.pass_cost() == n * (2 * d + EVAL_COST)
    assert explicit.hessian_cost(None) == n * d * d / 2
    assert explicit.hessian_cost(40) == 40 * (d * d / 2 + GATHER_COST * d)
    products = AdaptiveSampleSize(n, d, explicit=False, products=k)
    assert products.hessian_cost(None) == 2 * k * n * d
    assert products.hessian_cost(40) == k * 40 * (2 + GATHER_COST) * d
    # data not in memory: every draw pays one more pass (the gather)
    remote = AdaptiveSampleSize(n, d, local=False)
    assert remote.hessian_cost(40) == explicit.hessian_cost(40) + explicit.pass_cost()
    assert remote.hessian_cost(None) == explicit.hessian_cost(None)
    # sparse rows: m stored entries instead of d
    sparse = AdaptiveSampleSize(n, d, row_length=3.0)
    assert sparse.pass_cost() == n * (6 + EVAL_COST) and sparse.hessian_cost(None) == n * 4.5


def test_first_size_exact_when_cheap_else_floor_or_budget():
    # ijcnn1's shape: the exact Hessian costs 22^2/2 / (44 + 20) = 3.8 passes <= 4
    assert AdaptiveSampleSize(49_990, 22).start(grad_norm=1.0) is None
    n, d = 49_990, 22
    budget = 0.25 * n * (2 * d + EVAL_COST) / (d * d / 2 + GATHER_COST * d)
    assert AdaptiveSampleSize(n, d, exact_cost=3.7).start(grad_norm=1.0) == math.ceil(budget)
    # n below the floor: exact whatever the cost
    s = AdaptiveSampleSize(1_000, 100)
    assert s.start(grad_norm=1.0) is None and s.floor == 1_000
    # 500,000 x 201: the floor (13,345 rows) is above the quarter-pass budget
    big = AdaptiveSampleSize(500_000, 201)
    assert big.start(grad_norm=1.0) == _chernoff_floor(201) == 13_345
    # 50,000 x 201: the floor would cost 14 passes; it is held at exact_cost = 4 passes
    n, d = 50_000, 201
    four = 4 * n * (2 * d + EVAL_COST) / (d * d / 2 + GATHER_COST * d)
    assert AdaptiveSampleSize(n, d).start(grad_norm=1.0) == math.ceil(four) < 13_345
    # covtype's shape: the budget (a quarter pass) is above the floor
    n, d = 464_810, 54
    cov = AdaptiveSampleSize(n, d)
    budget = 0.25 * n * (2 * d + EVAL_COST) / (d * d / 2 + GATHER_COST * d)
    assert cov.start(grad_norm=1.0) == math.ceil(budget) > cov.floor


def test_gradient_rule_is_capped_by_cost_and_rejections_double():
    n, d = 10**6, 50
    s = AdaptiveSampleSize(n, d)
    s0 = s.start(grad_norm=1.0)
    cap = n * (2 * d + EVAL_COST) / (d * d / 2 + GATHER_COST * d)  # one pass
    # ||g|| halves: 1/s - 1/n shrinks 4x (error ~ ||g||), below the one-pass cap
    s.observe(rho=0.9, accepted=True, grad_norm=0.5)
    expected = 1 / ((1 / s0 - 1 / n) / 4 + 1 / n)
    assert s.rows == math.ceil(expected) and expected < cap
    # ||g|| / ||g0|| = 1e-3 would ask for ~n rows: the cap holds it at one pass
    s.observe(rho=0.9, accepted=True, grad_norm=1e-3)
    assert s.rows == math.ceil(cap)
    # a rejection doubles, beyond the cap; sizes never shrink
    s.observe(rho=-1.0, accepted=False, grad_norm=1e-3)
    assert s.rows == math.ceil(2 * cap)
    s.observe(rho=0.9, accepted=True, grad_norm=0.4e-3)  # a fast step: no rate growth
    assert s.rows == math.ceil(2 * cap)


def test_slow_convergence_grows_the_sample():
    n, d = 10**6, 50
    s = AdaptiveSampleSize(n, d, max_cost=0.25)  # no room for the gradient rule
    s0 = s.start(grad_norm=1.0)
    s.observe(rho=0.9, accepted=True, grad_norm=0.6)  # rate 0.6 > 1/2: (0.6/0.5)^2
    assert s.rows == math.ceil(s0 * 1.44)
    s.observe(rho=0.9, accepted=True, grad_norm=0.54)  # rate 0.9: capped at growth = 2
    assert s.rows == math.ceil(s0 * 1.44 * 2)
    s.observe(rho=0.9, accepted=True, grad_norm=0.1)  # fast: unchanged
    assert s.rows == math.ceil(s0 * 1.44 * 2)
    off = AdaptiveSampleSize(n, d, max_cost=0.25, rate_target=0.0)
    off.start(grad_norm=1.0)
    off.observe(rho=0.9, accepted=True, grad_norm=0.99)
    assert off.rows == s0


def test_switches_to_exact_once_a_sample_costs_as_much_and_stays():
    n, d = 200_000, 40
    s = AdaptiveSampleSize(n, d)
    s.start(grad_norm=1.0)
    switch = n * d / (d + 2 * GATHER_COST)  # s (d^2/2 + 10 d) = n d^2 / 2
    sizes = []
    while s.rows is not None:
        sizes.append(s.rows)
        s.observe(rho=-1.0, accepted=False, grad_norm=1.0)
    assert sizes[-1] < switch <= 2 * sizes[-1]
    assert all(b == 2 * a for a, b in zip(sizes, sizes[1:], strict=False))
    s.observe(rho=1.0, accepted=True, grad_norm=1e-9)
    assert s.rows is None and s.next_size() is None and s.sizes == [n]


def test_products_are_learned_from_the_solver():
    n, d = 10**6, 500
    s = AdaptiveSampleSize(n, d, explicit=False, products=100)
    s.start(grad_norm=1.0)
    assert s.hessian_cost(1) == 100 * (2 + GATHER_COST) * d
    s.observe(rho=0.1, accepted=False, grad_norm=1.0, n_products=6)  # same model
    s.observe(rho=0.9, accepted=True, grad_norm=1.0, n_products=4)
    s.observe(rho=0.9, accepted=True, grad_norm=1.0, n_products=20)
    # the larger of the mean ((6 + 4 + 20) / 2 models = 15) and the last model's 20
    assert s.hessian_cost(1) == 20 * (2 + GATHER_COST) * d
    s.observe(rho=0.9, accepted=True, grad_norm=1.0, n_products=3)
    assert s.hessian_cost(1) == 11 * (2 + GATHER_COST) * d  # mean (10 + 20 + 3) / 3 > 3


def test_infinite_initial_gradient_is_accepted():
    s = AdaptiveSampleSize(10**6, 50)
    s0 = s.start(grad_norm=math.inf)
    s.observe(rho=0.9, accepted=True, grad_norm=1.0)  # becomes the reference
    assert s.rows == s0
    s.observe(rho=0.9, accepted=True, grad_norm=0.1)
    assert s.rows > s0


@pytest.mark.parametrize(
    "kwargs,name",
    [({"n_samples": 0}, "n_samples"), ({"n_features": 2.5}, "n_features"),
     ({"budget": 0.0}, "budget"), ({"budget": 2.0, "max_cost": 1.0}, "max_cost"),
     ({"exact_cost": -1.0}, "exact_cost"), ({"growth": 0.5}, "growth"),
     ({"rate_target": 1.5}, "rate_target"), ({"explicit": "yes"}, "explicit"),
     ({"row_length": 0.0}, "row_length"), ({"products": 0}, "products")],
)
def test_bad_options_name_the_argument(kwargs, name):
    args = {"n_samples": 100, "n_features": 3, **kwargs}
    with pytest.raises((TypeError, ValueError), match=name):
        AdaptiveSampleSize(args.pop("n_samples"), args.pop("n_features"), **args)


def test_bad_trial_outcomes_name_the_argument():
    s = AdaptiveSampleSize(10**6, 50)
    with pytest.raises(ValueError, match="grad_norm"):
        s.start(grad_norm=math.nan)
    s.start(grad_norm=1.0)
    with pytest.raises(ValueError, match="grad_norm"):
        s.observe(rho=0.5, accepted=True, grad_norm=-1.0)
    with pytest.raises((TypeError, ValueError), match="n_products"):
        s.observe(rho=0.5, accepted=True, grad_norm=1.0, n_products=-1)


# --------------------------------------------------------------------------- #
# the solvers with hessian_sample_size="auto"
# --------------------------------------------------------------------------- #


@pytest.fixture(scope="module")
def nls_mid():
    """Non-convex NLS, 20,000 x 40: sampled by "auto" (floor 2,140 rows; exact costs 8 passes)."""
    rng = np.random.default_rng(0)
    n, d = 20_000, 40
    X = rng.standard_normal((n, d)) * np.linspace(0.2, 2, d)
    y = (X @ rng.standard_normal(d) + rng.standard_normal(n) > 0).astype(float)
    obj = SigmoidLeastSquaresObjective(X, y)
    ref = trust_region(obj, np.zeros(d), hessian_sampling="full", gtol=1e-12)
    assert ref.success
    return obj, ref


@pytest.mark.parametrize("fn", [trust_region, arc])
def test_auto_samples_grows_and_reaches_the_minimiser(nls_mid, fn):
    obj, ref = nls_mid
    n, d = obj.n_samples, obj.n_features
    res = fn(obj, np.zeros(d), gtol=1e-9, random_state=0)
    assert res.success, res.message
    rows = res.history["hessian_rows"][1:]
    assert rows[0] == AdaptiveSampleSize(n, d).floor == 2140
    assert np.all(np.diff(rows) >= 0) and rows[-1] > rows[0]  # grew, never shrank
    assert "AdaptiveSampleSize" in res.hessian_sampling
    # the same local minimiser as the exact-Hessian run: ||x - x*|| <= ||g|| / lambda_min
    lam_min = np.linalg.eigvalsh(obj.hessian(ref.x))[0]
    assert lam_min > 0
    assert np.linalg.norm(res.x - ref.x) <= 2 * (1e-9 + 1e-12) / lam_min


def test_a_rejection_draws_a_larger_sample_at_the_same_iterate(nls_mid):
    obj, ref = nls_mid
    # from x0 = 0.5 the first models are poor: rejections grow the sample to exact
    res = trust_region(obj, np.full(obj.n_features, 0.5), gtol=1e-9, random_state=0)
    assert res.success and res.fun == pytest.approx(ref.fun, rel=1e-12)
    h = res.history
    rejected = np.flatnonzero(~h["accepted"][1:-1]) + 1
    assert rejected.size > 0 and h["hessian_rows"][-1] == obj.n_samples
    for k in rejected:  # the next trial uses the doubled sample (or the exact Hessian)
        assert h["hessian_rows"][k + 1] in (2 * h["hessian_rows"][k], obj.n_samples)
        assert h["loss"][k + 1] == h["loss"][k] or h["accepted"][k + 1]


def test_numeric_sizes_are_unchanged_by_the_schedule(nls_mid):
    obj, _ = nls_mid
    res = trust_region(obj, np.zeros(obj.n_features), hessian_sample_size=0.05, max_iter=20,
                       random_state=0)
    assert (res.history["hessian_rows"][1:] == 1000).all()
    assert res.hessian_sampling == "HessianSampler('uniform', size=1000 of 20000)"


@pytest.mark.parametrize("fn", [trust_region, arc])
@pytest.mark.parametrize("scheme", ["auto", "uniform", "nonuniform"])
def test_small_problems_take_the_exact_deterministic_path(fn, scheme):
    """n = 200 is below the floor: every seed follows the exact-Hessian run, draw for draw."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((200, 6))
    y = (X @ np.ones(6) + rng.standard_normal(200) > 0).astype(float)
    obj = LogisticObjective(X, y, alpha=1e-3)
    full = fn(obj, np.zeros(6), hessian_sampling="full", gtol=1e-10, random_state=0)
    for seed in (0, 1):
        res = fn(obj, np.zeros(6), hessian_sampling=scheme, gtol=1e-10, random_state=seed)
        np.testing.assert_array_equal(res.x, full.x)
        np.testing.assert_array_equal(res.history["loss"], full.history["loss"])
        assert (res.history["hessian_rows"][1:] == 200).all()


def test_weighted_rows_and_repeated_rows_follow_the_same_iterates():
    """The classifier's sample-weight check: both fits exact, so the same path."""
    rng = np.random.default_rng(7)
    X = rng.standard_normal((60, 4))
    y = (rng.random(60) < 0.5).astype(float)
    counts = rng.integers(0, 4, 60)
    mask = np.array([True, True, True, False])
    weighted = FiniteSum(X, y, LogisticLoss(), alpha=1e-2, sample_weight=counts,
                         penalty_mask=mask)
    repeated = FiniteSum(np.repeat(X, counts, axis=0), np.repeat(y, counts), LogisticLoss(),
                         alpha=1e-2, penalty_mask=mask)
    a = trust_region(weighted, np.zeros(4), gtol=1e-10, random_state=0)
    b = trust_region(repeated, np.zeros(4), gtol=1e-10, random_state=1)
    assert a.nit == b.nit
    # the same iterates up to the rounding of sums in another order: a few ulps of f,
    # amplified by at most the condition number of the Hessian
    eps = np.finfo(float).eps
    cond = np.linalg.cond(repeated.hessian(b.x))
    np.testing.assert_allclose(a.history["loss"], b.history["loss"], rtol=1e3 * eps)
    assert np.linalg.norm(a.x - b.x) <= 1e3 * cond * eps * np.linalg.norm(b.x)


class _Rounded(LogisticObjective):
    """Rounds every sample up to a multiple of 1,000 rows (as a compiled model would)."""

    def round_sample_size(self, size):
        return min(self.n_samples, -(-size // 1000) * 1000)


def test_sizes_pass_through_round_sample_size():
    rng = np.random.default_rng(2)
    n, d = 40_000, 60
    X = rng.standard_normal((n, d))
    y = (X @ rng.standard_normal(d) > 0).astype(float)
    obj = _Rounded(X, y, alpha=1e-2)
    res = trust_region(obj, np.zeros(d), gtol=1e-8, random_state=0)
    rows = res.history["hessian_rows"][1:]
    assert res.success and rows[0] == -(-AdaptiveSampleSize(n, d).floor // 1000) * 1000
    assert np.all(rows % 1000 == 0)
    # fixed sizes are rounded too
    res = trust_region(obj, np.zeros(d), hessian_sample_size=1234, max_iter=2, random_state=0)
    assert (res.history["hessian_rows"][1:] == 2000).all()

    class Bad(LogisticObjective):
        def round_sample_size(self, size):
            return size - 1

    with pytest.raises(ValueError, match="round_sample_size"):
        trust_region(Bad(X, y), np.zeros(d), hessian_sample_size=100, max_iter=1)


class _MatrixFree(SigmoidLeastSquaresObjective):
    """An objective whose Hessian exists only as products; records what the loop asks."""

    matrix_free = True

    def hessian_model(self, w_or_eval, *, sample=None, explicit=True):
        self.asked.append(explicit)
        return super().hessian_model(w_or_eval, sample=sample, explicit=explicit)


@pytest.mark.parametrize("sub,explicit", [("cg", False), ("lanczos", False), ("exact", True)])
def test_matrix_free_objectives_get_products_unless_the_solver_needs_the_matrix(sub, explicit):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((300, 5))
    obj = _MatrixFree(X, (X[:, 0] > 0).astype(float))
    obj.asked = []
    res = trust_region(obj, np.zeros(5), subproblem=sub, gtol=1e-8, random_state=0)
    assert res.success and obj.asked and set(obj.asked) == {explicit}


@pytest.mark.parametrize("bad,error", [("Auto", ValueError), ("full", ValueError),
                                       ("", ValueError), (None, TypeError), (True, TypeError),
                                       ([0.1], TypeError)])
def test_a_bad_size_names_the_argument_and_auto(bad, error):
    obj = LogisticObjective(np.eye(3), [0, 1, 1])
    with pytest.raises(error, match="hessian_sample_size must be 'auto'"):
        trust_region(obj, np.zeros(3), hessian_sample_size=bad)
    with pytest.raises(error, match="hessian_sample_size must be 'auto'"):
        arc(obj, np.zeros(3), hessian_sampling="nonuniform", hessian_sample_size=bad)


# --------------------------------------------------------------------------- #
# lazy Hessians (rule 7) and the explicit-vs-products choice by cost
# --------------------------------------------------------------------------- #


def test_reuse_limit_is_the_hessian_cost_in_passes():
    n, d = 49_990, 22
    s = AdaptiveSampleSize(n, d)
    passes = (n * d * d / 2) / (n * (2 * d + EVAL_COST))  # 3.78: the docstring's formulas
    assert s.reuse_limit() == math.floor(passes) == 3
    assert AdaptiveSampleSize(n, d, max_reuse=1).reuse_limit() == 1
    assert AdaptiveSampleSize(n, d, reuse_rho=None).reuse_limit() == 0
    # a model cheaper than a pass is never reused
    assert AdaptiveSampleSize(10**6, 201).start(grad_norm=1.0) is not None
    big = AdaptiveSampleSize(10**6, 201)
    big.start(grad_norm=1.0)
    assert big.hessian_cost(big.rows) < big.pass_cost() and big.reuse_limit() == 0


def test_reuse_needs_a_good_prediction_a_fast_gradient_and_a_fresh_enough_model():
    s = AdaptiveSampleSize(49_990, 22)  # exact, reuse limit 3
    s.start(grad_norm=1.0)
    s.next_size()
    s.observe(rho=0.5, accepted=True, grad_norm=0.1)  # rho below reuse_rho
    assert not s.reuse()
    s.next_size()
    s.observe(rho=0.95, accepted=True, grad_norm=0.05)  # the gradient fell by 2 only
    assert not s.reuse()
    s.next_size()
    s.observe(rho=0.95, accepted=False, grad_norm=0.05)  # rejected
    assert not s.reuse()
    g = 0.05
    for _ in range(3):  # the limit: three reuses of one model
        g *= 0.1
        s.observe(rho=0.99, accepted=True, grad_norm=g)
        assert s.reuse()
    s.observe(rho=0.99, accepted=True, grad_norm=g * 0.1)
    assert not s.reuse() and s.n_reused == 3
    s.next_size()  # a fresh model restarts the count
    s.observe(rho=0.99, accepted=True, grad_norm=g * 0.01)
    assert s.reuse()
    # with step lengths: never after the first accepted step, nor after a longer one
    t = AdaptiveSampleSize(49_990, 22)
    t.start(grad_norm=1.0)
    t.next_size()
    t.observe(rho=0.99, accepted=True, grad_norm=0.1, step_norm=1.0)
    assert not t.reuse()
    t.next_size()
    t.observe(rho=0.99, accepted=True, grad_norm=0.01, step_norm=2.0)
    assert not t.reuse()
    t.next_size()
    t.observe(rho=0.99, accepted=True, grad_norm=0.001, step_norm=0.5)
    assert t.reuse()


def test_a_rejected_step_on_a_reused_sample_does_not_grow_it():
    s = AdaptiveSampleSize(10**6, 50, budget=2.0, max_cost=2.0, max_reuse=2)
    s.start(grad_norm=1.0)
    s.next_size()
    s.observe(rho=0.99, accepted=True, grad_norm=0.1)
    rows = s.rows
    assert s.reuse()
    s.observe(rho=-1.0, accepted=False, grad_norm=0.1)
    assert s.rows == rows and not s.reuse()
    s.next_size()
    s.observe(rho=-1.0, accepted=False, grad_norm=0.1)  # a fresh model's failure grows it
    assert s.rows == min(2 * rows, 10**6) or s.rows is None


@pytest.fixture(scope="module")
def logistic_reused():
    """5,000 x 22 logistic: its exact Hessian costs 3.8 passes, so "auto" is exact, reusing."""
    rng = np.random.default_rng(5)
    n, d = 5000, 22
    X = rng.standard_normal((n, d))
    y = (X @ rng.standard_normal(d) + rng.standard_normal(n) > 0).astype(float)
    return LogisticObjective(X, y, alpha=1e-3)


@pytest.mark.parametrize("fn", [trust_region, arc])
def test_auto_reuses_the_exact_hessian_and_reaches_the_minimiser(logistic_reused, fn):
    obj = logistic_reused
    n, d = obj.n_samples, obj.n_features
    # the papers' fixed tolerance: the explicit exact Hessian, which rule 7 reuses
    # (the default forcing term takes so few products that the model is products)
    res = fn(obj, np.zeros(d), gtol=1e-10, random_state=0, subproblem_tol=1e-9)
    assert res.success, res.message
    h = res.history
    reused = h["hessian_reused"]
    assert reused.any() and not reused[0]
    assert (h["hessian_rows"][1:] == n).all()
    g, acc = h["grad_norm"], h["accepted"]
    for k in np.flatnonzero(reused):
        # a reused model follows an accepted step whose gradient fell >= 5x
        assert k >= 2 and acc[k - 1]
        prev = np.flatnonzero(acc[: k - 1])
        before = g[prev[-1]] if prev.size else g[0]
        assert g[k - 1] <= 0.2 * before
        # ... and was no longer than the accepted step before it
        assert prev.size and prev[-1] >= 1 and h["step_norm"][k - 1] <= h["step_norm"][prev[-1]]
    # never more than reuse_limit (3) trials in a row on one model
    run = 0
    for r in reused:
        run = run + 1 if r else 0
        assert run <= 3
    # accounting: a trial's products count 2 n each, reused or not
    props = h["props"]
    for k in range(1, len(props)):
        expected = n + 2 * n * h["inner_iterations"][k] + (2 * n if acc[k] else 0)
        assert props[k] - props[k - 1] == pytest.approx(expected)
    # the minimiser of the dense Newton iteration, to ||g|| / lambda_min
    w = np.zeros(d)
    for _ in range(30):
        w -= np.linalg.solve(obj.hessian(w), obj.gradient(w))
    lam_min = np.linalg.eigvalsh(obj.hessian(w))[0]
    assert np.linalg.norm(res.x - w) <= 2 * (1e-10 + np.linalg.norm(obj.gradient(w))) / lam_min
    # deterministic: the same run again
    again = fn(obj, np.zeros(d), gtol=1e-10, random_state=1, subproblem_tol=1e-9)
    np.testing.assert_array_equal(again.x, res.x)


def test_numeric_sizes_never_reuse(logistic_reused):
    obj = logistic_reused
    for size in (0.5, obj.n_samples):
        res = trust_region(obj, np.zeros(obj.n_features), hessian_sample_size=size,
                           gtol=1e-10, random_state=0)
        assert res.success and not res.history["hessian_reused"].any()


def test_hessian_matrix_cost_hook():
    from randopt.oracles import FiniteSum, SoftmaxLoss

    X = np.ones((4, 40))
    assert LogisticObjective(X, [0, 1, 1, 0]).hessian_matrix_cost() == 40 / 4
    assert FiniteSum(X, [0, 1, 2, 0], SoftmaxLoss(3)).hessian_matrix_cost() == (3 + 1) * 40 / 8
    assert _MatrixFree(X, [0.0, 1.0, 1.0, 0.0]).hessian_matrix_cost() == 40.0
    s = AdaptiveSampleSize(1000, 40, matrix_cost=25.0)
    assert s.hessian_cost(None) == 1000 * 2 * 40 * 25.0  # 2 m c_H per row
    assert AdaptiveSampleSize(1000, 40).hessian_cost(None) == 1000 * 40 * 40 / 2


class _Recording(FiniteSum):
    def hessian_model(self, w_or_eval, *, sample=None, explicit=True):
        self.asked.append(explicit)
        return super().hessian_model(w_or_eval, sample=sample, explicit=explicit)


def test_multiclass_auto_switches_to_products_once_cg_takes_fewer():
    from randopt.oracles import SoftmaxLoss

    rng = np.random.default_rng(2)
    n, d, K = 1500, 60, 5
    X = np.hstack([rng.standard_normal((n, d)), np.ones((n, 1))])
    y = rng.integers(0, K, n)
    obj = _Recording(X, y, SoftmaxLoss(K), alpha=1e-2)
    obj.asked = []
    # a fixed tight tolerance: the prior (250 products) exceeds the matrix's cost
    res = trust_region(obj, np.zeros(obj.n_features), gtol=1e-9, random_state=0,
                       subproblem_tol=1e-9)
    assert res.success
    cost = obj.hessian_matrix_cost()
    assert cost == (K + 1) * (d + 1) / 8
    # the first model: the prior (250 products) exceeds the cost; then the observed mean
    assert obj.asked[0] is True and obj.asked[-1] is False
    assert res.nhev / len(obj.asked) < cost
    assert "products" in res.hessian_sampling
    explicit = trust_region(obj, np.zeros(obj.n_features), hessian_mode="explicit", gtol=1e-9,
                            random_state=0)
    lam_min = np.linalg.eigvalsh(obj.hessian(explicit.x))[0]
    assert np.linalg.norm(res.x - explicit.x) <= 2 * 2e-9 / lam_min
