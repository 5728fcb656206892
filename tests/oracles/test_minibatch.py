"""MinibatchObjective (user callables on row subsets) against FiniteSum and dense numpy."""

import os
import py_compile
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import minimize

from randopt.optimize import arc, trust_region
from randopt.oracles import LogisticObjective, MinibatchObjective
from randopt.sketch import Sample, uniform_sample

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "pytorch_minibatch.py"
EPS = np.finfo(np.float64).eps


def _logistic_rows(X, y):
    """The mean logistic loss over rows as minibatch callables (numpy, closed form)."""

    def fun(w, i):
        t = X[i] @ w
        return float(np.mean(np.logaddexp(0.0, t) - y[i] * t))

    def grad(w, i):
        t = X[i] @ w
        return X[i].T @ (0.5 * (1 + np.tanh(t / 2)) - y[i]) / len(i)

    def hvp(w, v, i):
        s = 0.5 * (1 + np.tanh(X[i] @ w / 2))
        return X[i].T @ (s * (1 - s) * (X[i] @ v)) / len(i)

    return fun, grad, hvp


class Counter:
    """Wraps a callable and counts the rows it was called on (the work it did)."""

    def __init__(self, fn):
        self.fn, self.rows, self.calls, self.largest = fn, 0, 0, 0

    def __call__(self, *args):
        idx = args[-1]
        self.rows += len(idx)
        self.calls += 1
        self.largest = max(self.largest, len(idx))
        return self.fn(*args)


@pytest.fixture
def problem(rng):
    n, d = 60, 4
    X = rng.standard_normal((n, d))
    y = (rng.random(n) < 0.5).astype(float)
    return X, y


def _objective(problem, **kw):
    X, y = problem
    fun, grad, hvp = _logistic_rows(X, y)
    return MinibatchObjective(fun, grad, hvp=hvp, n_samples=X.shape[0], n_features=X.shape[1],
                              **kw)


# Both sides sum n terms of size O(1) in a different order (and in chunks): rounding errors
# of order sqrt(n) eps relative each, far below this bound, far above any real difference.
def _tol(n):
    return 100 * np.sqrt(n) * EPS


@pytest.mark.parametrize("batch_size", [None, 7, 60])
def test_oracles_match_finite_sum(problem, rng, batch_size):
    X, y = problem
    ref = LogisticObjective(X, y, alpha=0.1)
    f = _objective(problem, batch_size=batch_size, alpha=0.1)
    w, v = rng.standard_normal(4), rng.standard_normal(4)
    tol = _tol(60)
    assert f.value(w) == pytest.approx(ref.value(w), rel=tol)
    np.testing.assert_allclose(f.gradient(w), ref.gradient(w), rtol=tol, atol=tol)
    np.testing.assert_allclose(f.hessp(w, v), ref.hessp(w, v), rtol=tol, atol=tol)
    np.testing.assert_allclose(f.hessian(w), ref.hessian(w), rtol=tol, atol=tol)
    sample = uniform_sample(60, 11, random_state=1)
    np.testing.assert_allclose(f.gradient(w, sample), ref.gradient(w, sample), rtol=tol,
                               atol=tol)
    np.testing.assert_allclose(f.hessp(w, v, sample), ref.hessp(w, v, sample), rtol=tol,
                               atol=tol)
    op = f.hessian_operator(w, sample)
    np.testing.assert_allclose(op @ v, ref.hessp(w, v, sample), rtol=tol, atol=tol)
    ev = f.evaluate(w)
    assert ev.curvature is None and f.matrix_free and f.supports_sampling
    assert not f.supports_gauss_newton


def test_chunks_never_exceed_batch_size(problem, rng):
    X, y = problem
    fun, grad, hvp = (Counter(c) for c in _logistic_rows(X, y))
    f = MinibatchObjective(fun, grad, hvp=hvp, n_samples=60, n_features=4, batch_size=16)
    w = rng.standard_normal(4)
    f.value_and_gradient(w)
    f.hessp(w, np.ones(4), sample=np.arange(0, 60, 2))
    assert fun.largest <= 16 and grad.largest <= 16 and hvp.largest <= 16
    assert fun.rows == 60 and grad.rows == 60 and hvp.rows == 30
    assert (fun.calls, hvp.calls) == (4, 2)


def test_sampled_gradient_skips_the_full_value_pass(problem, rng):
    X, y = problem
    fun, grad, hvp = (Counter(c) for c in _logistic_rows(X, y))
    f = MinibatchObjective(fun, grad, hvp=hvp, n_samples=60, n_features=4, alpha=0.1)
    w, sample = rng.standard_normal(4), uniform_sample(60, 8, random_state=0)
    g = f.gradient(w, sample)
    assert (fun.rows, grad.rows) == (0, 8)
    np.testing.assert_allclose(g, LogisticObjective(X, y, alpha=0.1).gradient(w, sample),
                               rtol=_tol(60), atol=_tol(60))


def test_value_and_grad_replaces_fun_and_grad(problem, rng):
    X, y = problem
    fun, grad, hvp = _logistic_rows(X, y)
    vg = Counter(lambda w, i: (fun(w, i), grad(w, i)))
    f = MinibatchObjective(None, None, value_and_grad=vg, hvp=hvp, n_samples=60, n_features=4,
                           batch_size=25)
    ref = LogisticObjective(X, y)
    w = rng.standard_normal(4)
    fw, gw = f.value_and_gradient(w)
    assert fw == pytest.approx(ref.value(w), rel=_tol(60))
    np.testing.assert_allclose(gw, ref.gradient(w), rtol=_tol(60), atol=_tol(60))
    assert vg.calls == 3  # 25 + 25 + 10 rows, value and gradient from each call


def _standard_error_check(estimates, exact):
    """Mean of i.i.d. unbiased estimates vs the exact value, within 5 standard errors."""
    estimates = np.asarray(estimates)
    se = estimates.std(axis=0, ddof=1) / np.sqrt(estimates.shape[0])
    assert np.all(np.abs(estimates.mean(axis=0) - exact) <= 5 * se + _tol(60))


def test_sampled_gradient_and_hessian_are_unbiased(problem, rng):
    f = _objective(problem)
    w, v = rng.standard_normal(4), rng.standard_normal(4)
    samples = [uniform_sample(60, 5, random_state=rng) for _ in range(2000)]
    _standard_error_check([f.gradient(w, s) for s in samples], f.gradient(w))
    _standard_error_check([f.hessp(w, v, s) for s in samples], f.hessp(w, v))
    # ... and with replacement (repeated rows), also unbiased.
    samples = [uniform_sample(60, 5, replace=True, random_state=rng) for _ in range(2000)]
    _standard_error_check([f.gradient(w, s) for s in samples], f.gradient(w))


def test_equal_weights_of_another_scale_follow_the_sample_convention(problem, rng):
    # sum_k w_k g_{i_k} estimates sum_i g_i: weights 1 on 6 rows give (6/n) times the mean.
    X, y = problem
    ref = LogisticObjective(X, y)
    f = _objective(problem)
    w, idx = rng.standard_normal(4), np.array([1, 5, 9, 20, 33, 59])
    sample = Sample(idx, np.ones(6))
    np.testing.assert_allclose(f.gradient(w, sample), ref.gradient(w, sample), rtol=_tol(60),
                               atol=_tol(60))


def test_non_uniform_samples_are_refused(problem, rng):
    f = _objective(problem)
    w = rng.standard_normal(4)
    with pytest.raises(TypeError, match="equal weights"):
        f.gradient(w, sample=(np.array([0, 1]), np.array([10.0, 50.0])))
    with pytest.raises(TypeError, match="equal weights"):
        f.hessp(w, np.ones(4), sample=(np.array([0, 1]), np.array([10.0, 50.0])))
    with pytest.raises(TypeError, match="nonuniform"):
        trust_region(f, np.zeros(4), hessian_sampling="nonuniform", hessian_sample_size=0.2,
                     random_state=0)


def test_trust_region_and_arc_reach_the_minimiser(problem):
    X, y = problem
    alpha = 0.05
    ref = LogisticObjective(X, y, alpha=alpha)
    exact = minimize(ref.value, np.zeros(4), jac=ref.gradient, hessp=ref.hessp,
                     method="trust-ncg", options={"gtol": 1e-12})
    f = _objective(problem, alpha=alpha, batch_size=16)
    gtol = 1e-9
    for solver in (trust_region, arc):
        res = solver(f, np.zeros(4), hessian_sample_size=0.2, hessian_mode="hessp", gtol=gtol,
                     random_state=0)
        assert res.status == 0
        # Strong convexity with modulus >= alpha: ||x - x*|| <= ||g(x)|| / alpha.
        assert np.linalg.norm(res.x - exact.x) <= (gtol + 1e-12) / alpha


def test_gradient_samples_decrease_the_loss(problem):
    f = _objective(problem, alpha=0.05)
    res = arc(f, np.zeros(4), hessian_sample_size=0.2, gradient_sample_size=0.5,
              hessian_mode="hessp", max_iter=30, random_state=0)
    loss = np.asarray(res.history["loss"])
    assert np.all(np.isfinite(loss)) and loss[-1] < loss[0]


@pytest.mark.parametrize("gradient_sample_size", [None, 20])
def test_props_count_the_rows_the_callables_touch(problem, gradient_sample_size):
    # The loop's accounting (randopt.optimize.loop): a value over n rows costs n, a gradient
    # over m rows 2m (counted at accepted points only), a product on S rows 2|S|.
    X, y = problem
    fun, grad, hvp = (Counter(c) for c in _logistic_rows(X, y))
    n, s = 60, 12
    f = MinibatchObjective(fun, grad, hvp=hvp, n_samples=n, n_features=4, alpha=0.01)
    res = trust_region(f, np.zeros(4), hessian_sample_size=s, hessian_mode="hessp",
                       gradient_sample_size=gradient_sample_size, max_iter=12, random_state=3)
    m = n if gradient_sample_size is None else gradient_sample_size
    n_accepted = int(np.sum(res.history["accepted"]))
    assert fun.rows == n * res.nfev  # every evaluation's value is exact
    assert grad.rows == m * res.njev
    assert hvp.rows == s * res.nhev
    first = 2 * n if gradient_sample_size is None else n + 2 * m
    expected = first + n * res.nit + 2 * m * n_accepted + 2 * hvp.rows
    assert res.props == expected


def test_gauss_newton_products(problem, rng):
    # For the logistic loss (convex in the output) the Gauss-Newton matrix is the Hessian.
    X, y = problem
    fun, grad, hvp = _logistic_rows(X, y)
    f = MinibatchObjective(fun, grad, gnvp=hvp, n_samples=60, n_features=4, alpha=0.1)
    ref = LogisticObjective(X, y, alpha=0.1)
    w = rng.standard_normal(4)
    assert f.supports_gauss_newton
    np.testing.assert_allclose(f.gauss_newton_model(w).toarray(), ref.hessian(w),
                               rtol=_tol(60), atol=_tol(60))
    sample = uniform_sample(60, 9, random_state=0)
    model = f.gauss_newton_model(w, sample=sample, explicit=False)
    assert model.n_rows == 9 and model.matrix is None
    np.testing.assert_allclose(model.matvec(np.ones(4)), ref.hessp(w, np.ones(4), sample),
                               rtol=_tol(60), atol=_tol(60))
    with pytest.raises(TypeError, match="no hvp"):
        f.hessp(w, np.ones(4))
    with pytest.raises(TypeError, match="Gauss-Newton"):
        _objective(problem).gauss_newton_model(w)


def test_callables_cannot_alter_the_callers_arrays(problem):
    X, y = problem
    fun, grad, hvp = _logistic_rows(X, y)

    def greedy_grad(w, i):
        out = grad(w, i)
        w[:] = 1e9  # writes into its private copy only
        return out

    def index_writer(w, i):
        out = fun(w, i)
        i[:] = 0  # into its private copy: the next call gets its own indices
        return out

    f = MinibatchObjective(fun, greedy_grad, hvp=hvp, n_samples=60, n_features=4)
    w = np.full(4, 0.5)
    f.gradient(w)
    assert np.all(w == 0.5)
    g = MinibatchObjective(index_writer, grad, hvp=hvp, n_samples=60, n_features=4,
                           batch_size=20)
    ref = LogisticObjective(X, y)
    for _ in range(2):  # the full pass's chunks [0, 20), [20, 40), [40, 60), every time
        assert g.value(w) == pytest.approx(ref.value(w), rel=_tol(60))


def test_bad_construction():
    fun, grad = (lambda w, i: 0.0), (lambda w, i: np.zeros(2))
    hvp = lambda w, v, i: v  # noqa: E731
    ok = dict(hvp=hvp, n_samples=5, n_features=2)
    with pytest.raises(TypeError, match="fun must be callable"):
        MinibatchObjective("f", grad, **ok)
    with pytest.raises(TypeError, match="hvp must be callable"):
        MinibatchObjective(fun, grad, n_samples=5, n_features=2, hvp=3)
    with pytest.raises(TypeError, match="value_and_grad"):
        MinibatchObjective(fun, None, **ok)
    with pytest.raises(TypeError, match="second-order"):
        MinibatchObjective(fun, grad, n_samples=5, n_features=2)
    with pytest.raises(ValueError, match="n_samples"):
        MinibatchObjective(fun, grad, hvp=hvp, n_samples=0, n_features=2)
    with pytest.raises(TypeError, match="n_features"):
        MinibatchObjective(fun, grad, hvp=hvp, n_samples=5, n_features=2.5)
    with pytest.raises(ValueError, match="batch_size"):
        MinibatchObjective(fun, grad, batch_size=0, **ok)
    with pytest.raises(ValueError, match="alpha"):
        MinibatchObjective(fun, grad, alpha=-1.0, **ok)
    f = MinibatchObjective(fun, grad, batch_size=100, **ok)
    assert f.batch_size == 5 and "MinibatchObjective(n_samples=5" in repr(f)


@pytest.mark.parametrize(
    "which, output, error, match",
    [
        ("fun", np.ones(3), TypeError, "fun must return a real scalar"),
        ("fun", 1 + 2j, TypeError, "fun must return a real scalar"),
        ("fun", "1.0", TypeError, "fun must return a real scalar"),
        ("grad", np.ones(3), ValueError, r"grad returned an array of shape \(3,\)"),
        ("grad", np.ones((2, 1)), ValueError, r"grad returned an array of shape \(2, 1\)"),
        ("grad", np.ones(2) * 1j, TypeError, "grad must return a real array"),
        ("grad", None, TypeError, "grad must return a real array"),
        ("hvp", np.ones(5), ValueError, r"hvp returned an array of shape \(5,\)"),
        ("hvp", np.array([np.nan, 1.0]), ValueError, "hvp returned NaN"),
        ("vg", 1.0, TypeError, "pair"),
        ("vg", (1.0, np.ones(4)), ValueError, "value_and_grad's gradient"),
    ],
)
def test_bad_outputs_name_the_callable(which, output, error, match):
    good = {"fun": lambda w, i: 0.0, "grad": lambda w, i: np.zeros(2),
            "hvp": lambda w, v, i: v, "vg": None}
    good[which] = lambda *args: output
    f = MinibatchObjective(good["fun"], good["grad"], hvp=good["hvp"],
                           value_and_grad=good["vg"], n_samples=5, n_features=2)
    with pytest.raises(error, match=match):
        if which == "hvp":
            f.hessp(np.zeros(2), np.ones(2))
        else:
            f.value_and_gradient(np.zeros(2))


def test_non_finite_values_reject_the_trial_point(problem):
    # NaN beyond ||x|| = 3 (an overflowing model): the solver rejects those trials and goes on.
    X, y = problem
    fun, grad, hvp = _logistic_rows(X, y)

    def wild(w, i):
        return float("nan") if np.linalg.norm(w) > 3 else fun(w, i)

    f = MinibatchObjective(wild, grad, hvp=hvp, n_samples=60, n_features=4, alpha=0.05)
    res = trust_region(f, np.zeros(4), radius=100.0, hessian_sample_size=0.5,
                       hessian_mode="hessp", gtol=1e-8, random_state=0)
    assert res.status == 0 and np.isfinite(res.fun)
    g = MinibatchObjective(lambda w, i: float("nan"), grad, hvp=hvp, n_samples=60, n_features=4)
    with pytest.raises(ValueError, match="not finite at x0"):
        trust_region(g, np.zeros(4), random_state=0)


def test_bad_samples(problem):
    f = _objective(problem)
    with pytest.raises(ValueError, match="indices"):
        f.gradient(np.zeros(4), sample=[60])
    with pytest.raises(TypeError, match="integers"):
        f.hessp(np.zeros(4), np.ones(4), sample=[0.5])
    with pytest.raises(ValueError, match="w has length"):
        f.value(np.zeros(3))
    with pytest.raises(TypeError, match="explicit"):
        f.hessian_model(np.zeros(4), explicit="yes")


def test_randopt_imports_no_jax():
    code = ("import sys, randopt, randopt.oracles, randopt.optimize; "
            "from randopt.oracles import JaxObjective, MinibatchObjective; "
            "assert 'jax' not in sys.modules, 'jax imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_pytorch_example_compiles():
    py_compile.compile(str(EXAMPLE), doraise=True)


def test_pytorch_example_runs():
    pytest.importorskip("torch")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, str(EXAMPLE), "--quick"], capture_output=True,
                         text=True, env=env, timeout=120, check=True)
    assert "trust_region" in out.stdout
