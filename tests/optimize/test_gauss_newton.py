"""The Gauss-Newton solver: quadratic convergence on zero residuals, the line search
against a hand-written reference, the fixed point of trust region, the cost accounting, a
matrix-free user model, and bad input."""

import math

import numpy as np
import pytest

from randopt.datasets import make_binary_classification
from randopt.optimize import STATUS_MESSAGES, gauss_newton, trust_region
from randopt.oracles import (
    CallableObjective,
    Evaluation,
    FiniteSum,
    HessianModel,
    Loss,
    Objective,
    SigmoidLeastSquaresLoss,
    SigmoidLeastSquaresObjective,
)

EPS = np.finfo(np.float64).eps
SIGMA2_MAX = 1 / (6 * np.sqrt(3))  # max |sigmoid''|


class SigmoidRegressionLoss(SigmoidLeastSquaresLoss):
    """``(y - sigmoid(t))^2`` with real targets in [0, 1]: zero residuals are possible."""

    def encode_targets(self, y, name="y"):
        return Loss.encode_targets(self, y, name)


def _sigmoid(t):
    return 0.5 * (1 + np.tanh(t / 2))


def test_zero_residual_converges_quadratically(rng):
    n, d = 400, 4
    X = rng.standard_normal((n, d))
    w_star = np.array([0.8, -1.2, 0.5, 0.3])
    f = FiniteSum(X, _sigmoid(X @ w_star), SigmoidRegressionLoss())
    iterates = []
    res = gauss_newton(f, np.zeros(d), hessian_sampling="full", gtol=0.0, max_iter=12,
                       cg_tol=1e-13, cg_max_iter=d,
                       callback=lambda x, info: iterates.append(x) and None)
    errors = np.array([np.linalg.norm(x - w_star) for x in iterates])
    assert errors[-1] < 1e-13
    # Zero residual, unit steps: ||e+|| <= ||J(x)^+|| L / 2 ||e||^2 with L the Lipschitz
    # constant of the residual Jacobian J = diag(sqrt(2/n) sigmoid'(X x)) X, which is at most
    # max|sigmoid''| sqrt(2 mean ||a_i||^4); CG's residual (cg_tol) adds cond(G) cg_tol ||e||.
    L = SIGMA2_MAX * np.sqrt(2 * np.mean(np.sum(X**2, axis=1) ** 2))
    checked = 0
    for k in range(len(iterates) - 1):
        if errors[k] > 0.5 or errors[k + 1] < 1e-12:
            continue  # outside the local regime / at the rounding floor
        t = X @ iterates[k]
        J = np.sqrt(2 / n) * (_sigmoid(t) * (1 - _sigmoid(t)))[:, None] * X
        sv = np.linalg.svd(J, compute_uv=False)
        bound = L / (2 * sv[-1]) * errors[k] ** 2 + (sv[0] / sv[-1]) ** 2 * 1e-13 * errors[k]
        assert errors[k + 1] <= bound + 1e-14
        assert res.history["step_size"][k + 1] == 1.0
        checked += 1
    assert checked >= 2  # the bound was exercised on at least two steps


def _ijcnn1_like(n=4000, seed=0):
    X, y = make_binary_classification(n, 22, density=13 / 22, class_balance=0.097,
                                      random_state=seed)[:2]
    X = np.hstack([X.toarray(), np.ones((n, 1))])
    return SigmoidLeastSquaresObjective(X, y)


@pytest.mark.parametrize("sampling", ["full", "uniform", "nonuniform"])
def test_reaches_the_trust_region_solution(sampling):
    f = _ijcnn1_like()
    d = f.n_features
    tr = trust_region(f, np.zeros(d), hessian_sampling="full", gtol=1e-10)
    gn = gauss_newton(f, np.zeros(d), hessian_sampling=sampling, hessian_sample_size=0.1,
                      gtol=1e-9, max_iter=300, random_state=0)
    assert tr.status == 0 and gn.status == 0
    # Both at points with small gradients near the same local minimum, where the Hessian
    # is positive definite with smallest eigenvalue mu: ||x - x*|| <= ||g|| / mu and
    # f - f* <= ||g||^2 / (2 mu) (to first order), plus rounding of f.
    mu = np.linalg.eigvalsh(f.hessian(tr.x))[0]
    assert mu > 0
    gsum = np.linalg.norm(tr.jac) + np.linalg.norm(gn.jac)
    assert np.linalg.norm(gn.x - tr.x) <= 2 * gsum / mu
    assert abs(gn.fun - tr.fun) <= gsum**2 / mu + 100 * EPS * tr.fun
    assert np.all(np.diff(gn.history["loss"])[gn.history["accepted"][1:]] <= 100 * EPS)


def test_props_accounting_and_result_fields():
    f = _ijcnn1_like(n=1500)
    n = f.n_samples
    res = gauss_newton(f, np.zeros(f.n_features), hessian_sampling="uniform",
                       hessian_sample_size=0.2, gtol=1e-8, random_state=3)
    h = res.history
    assert list(h)[:11] == ["iteration", "loss", "grad_norm", "step_size", "accepted",
                            "step_norm", "inner_iterations", "hessian_rows", "hessian_reused",
                            "time", "props"]
    trials = res.nfev - 1
    # x0's gradient 2n, each trial value n, each accepted gradient 2n, 2|S| per product.
    expected = 2 * n + n * trials + 2 * n * h["accepted"].sum() + np.sum(
        2 * h["hessian_rows"] * h["inner_iterations"])
    assert res.props == expected == h["props"][-1]
    assert set(h["hessian_rows"][1:]) == {300}
    assert res.nhev == h["inner_iterations"].sum()
    assert res.njev == res.nfev and res.nit == len(h["loss"]) - 1
    assert res.message == STATUS_MESSAGES[res.status] and res.success
    # The same seed gives the same run, another seed another.
    again = gauss_newton(f, np.zeros(f.n_features), hessian_sampling="uniform",
                         hessian_sample_size=0.2, gtol=1e-8, random_state=3)
    np.testing.assert_array_equal(again.history["loss"], h["loss"])
    other = gauss_newton(f, np.zeros(f.n_features), hessian_sampling="uniform",
                         hessian_sample_size=0.2, gtol=1e-8, random_state=4)
    assert not np.array_equal(other.history["loss"], h["loss"])


class PseudoHuber(Loss):
    """``sqrt(1 + (t - y)^2) - 1``: convex, so Gauss-Newton = Newton, whose unit step from
    far away overshoots (``x -> -x^3`` in one dimension)."""

    def pointwise(self, t, y):
        r = t - y
        s = np.sqrt(1.0 + r * r)
        return s - 1.0, r / s, 1.0 / s**3

    def gauss_newton_pointwise(self, t, y):
        return 1.0 / np.sqrt(1.0 + (t - y) ** 2) ** 3


def _reference_newton_armijo(x, n_iter, c1=1e-4, beta=0.5, max_backtracks=20):
    """Newton on sqrt(1 + x^2) - 1 with Armijo backtracking, by hand: (losses, steps)."""
    def f(z):
        return math.sqrt(1 + z * z) - 1

    losses, steps = [f(x)], []
    for _ in range(n_iter):
        g, h = x / math.sqrt(1 + x * x), (1 + x * x) ** -1.5
        p = -g / h
        t = 1.0
        for _ in range(max_backtracks):
            if f(x + t * p) <= f(x) + c1 * t * g * p:
                break
            t *= beta
        x += t * p
        losses.append(f(x))
        steps.append(t)
    return np.array(losses), np.array(steps)


def test_line_search_against_reference():
    f = FiniteSum(np.ones((1, 1)), np.zeros(1), PseudoHuber())
    res = gauss_newton(f, np.array([3.0]), gtol=0.0, max_iter=5)
    losses, steps = _reference_newton_armijo(3.0, 5)
    assert steps[0] == 0.125  # -27, -12 and -4.5 fail the test, -0.75 passes it
    np.testing.assert_allclose(res.history["loss"], losses, rtol=1e-12, atol=1e-300)
    np.testing.assert_array_equal(res.history["step_size"][1:], steps)
    assert res.history["accepted"][1:].all()
    # Without backtracking the overshoot is rejected, and the deterministic run stops.
    stuck = gauss_newton(f, np.array([3.0]), hessian_sampling="full", max_backtracks=0)
    assert stuck.status == 4 and stuck.nit == 1 and not stuck.history["accepted"][1]
    assert stuck.x.tolist() == [3.0] and stuck.nfev == 2


class RosenbrockResiduals(Objective):
    """A user model in products only: r(x) = (10 (x2 - x1^2), 1 - x1), f = ||r||^2 / 2.

    Zero residual at (1, 1); the Gauss-Newton matrix J^T J comes as products only.
    """

    n_features, n_samples = 2, 1
    supports_gauss_newton = True
    matrix_free = True

    def __init__(self):
        self.explicit_requests = []

    @staticmethod
    def _parts(x):
        r = np.array([10 * (x[1] - x[0] ** 2), 1 - x[0]])
        J = np.array([[-20 * x[0], 10.0], [-1.0, 0.0]])
        return r, J

    def evaluate(self, w, *, need_grad=True, gradient_sample=None):
        x = np.asarray(w, dtype=float)
        r, J = self._parts(x)
        return Evaluation(x, 0.5 * float(r @ r), J.T @ r if need_grad else None, None)

    def hessian_model(self, w_or_eval, *, sample=None, explicit=True):
        raise AssertionError("the Gauss-Newton solver never asks for the Hessian")

    def gauss_newton_model(self, w_or_eval, *, sample=None, explicit=True):
        self.explicit_requests.append(explicit)
        x = w_or_eval.x if isinstance(w_or_eval, Evaluation) else np.asarray(w_or_eval)
        J = self._parts(x)[1]
        return HessianModel(2, 1, matvec=lambda v: J.T @ (J @ v))


def test_matrix_free_user_model():
    obj = RosenbrockResiduals()
    res = gauss_newton(obj, np.array([-1.2, 1.0]), gtol=1e-12, max_iter=100)
    assert res.status == 0
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-10)
    assert obj.explicit_requests and not any(obj.explicit_requests)  # products only
    assert res.hessian_sampling == "HessianSampler('full', size=1 of 1)"


def test_nonuniform_uses_gauss_newton_probabilities(monkeypatch):
    f = _ijcnn1_like(n=1000)
    calls = {"gn": 0}
    original = type(f).gauss_newton_probabilities

    def spy(self, ev):
        calls["gn"] += 1
        return original(self, ev)

    monkeypatch.setattr(type(f), "gauss_newton_probabilities", spy)
    monkeypatch.setattr(type(f), "hessian_probabilities",
                        lambda self, ev: pytest.fail("Hessian probabilities used"))
    res = gauss_newton(f, np.zeros(f.n_features), hessian_sampling="nonuniform",
                       hessian_sample_size=100, max_iter=3, random_state=0)
    assert calls["gn"] == res.nit == 3
    assert res.history["hessian_rows"][1:].tolist() == [100, 100, 100]


def test_stopping_rules():
    f = _ijcnn1_like(n=500)
    x0 = np.zeros(f.n_features)
    assert gauss_newton(f, x0, max_iter=0).status == 1
    assert gauss_newton(f, x0, max_props=1.0).status == 2
    stop = gauss_newton(f, x0, callback=lambda x, info: info["iteration"] == 2)
    assert stop.status == 99 and stop.nit == 2
    extra = gauss_newton(f, x0, max_iter=2, callback=lambda x, info: {"norm": float(x @ x)})
    assert extra.history["norm"].shape == (3,) and extra.history["norm"][0] == 0.0


def test_bad_input():
    f = _ijcnn1_like(n=300)
    x0 = np.zeros(f.n_features)
    with pytest.raises(TypeError, match="supports_gauss_newton"):
        gauss_newton(CallableObjective(np.sum, lambda x: np.ones_like(x), lambda x, v: v,
                                       n_features=2), np.zeros(2))
    with pytest.raises(TypeError, match="supports_gauss_newton"):
        gauss_newton((np.sum, lambda x: np.ones_like(x), lambda x, v: v), np.zeros(2))
    for kwargs, match in [
        (dict(c1=0.0), "c1"), (dict(c1=1.0), "c1"), (dict(backtrack_factor=1.0),
                                                      "backtrack_factor"),
        (dict(max_backtracks=-1), "max_backtracks"), (dict(cg_tol=0.0), "cg_tol"),
        (dict(cg_max_iter=0), "cg_max_iter"), (dict(gtol=-1.0), "gtol"),
        (dict(hessian_sampling="sketch"), "hessian_sampling"),
        (dict(hessian_sample_size=0.0), "hessian_sample_size"),
        (dict(hessian_sample_size="Auto"), "hessian_sample_size must be 'auto'"),
    ]:
        with pytest.raises(ValueError, match=match):
            gauss_newton(f, x0, **kwargs)
    with pytest.raises(TypeError, match="callback"):
        gauss_newton(f, x0, callback=3)
    with pytest.raises(ValueError, match="x0"):
        gauss_newton(f, np.full(f.n_features, np.nan))
    with pytest.raises(ValueError, match="x0"):
        gauss_newton(f, np.zeros(f.n_features + 1))
    sampled = RosenbrockResiduals()
    sampled.supports_sampling, sampled.n_samples = True, 2  # rows, but no probabilities
    with pytest.raises(TypeError, match="gauss_newton_probabilities"):
        gauss_newton(sampled, np.zeros(2), hessian_sampling="nonuniform", hessian_sample_size=1)
    x = np.full(f.n_features, 0.1)
    gauss_newton(f, x, max_iter=2)
    assert np.all(x == 0.1)  # the caller's x0 is not written


def test_auto_sample_size_follows_the_schedule_and_reaches_the_minimiser():
    """``"auto"`` in gauss_newton: the trust-region methods' schedule (floor, growth)."""
    from randopt.optimize import AdaptiveSampleSize

    f = _ijcnn1_like(n=20_000)
    d = f.n_features
    exact = gauss_newton(f, np.zeros(d), hessian_sampling="full", gtol=1e-9)
    res = gauss_newton(f, np.zeros(d), hessian_sample_size="auto", gtol=1e-9, random_state=0)
    assert res.success and "AdaptiveSampleSize" in res.hessian_sampling
    rows = res.history["hessian_rows"][1:]
    schedule = AdaptiveSampleSize(f.n_samples, d, products=min(d, 20))  # cg_max_iter
    first = schedule.start(grad_norm=float(np.linalg.norm(f.gradient(np.zeros(d)))))
    assert rows[0] == (f.n_samples if first is None else first)
    assert np.all(np.diff(rows) >= 0)
    assert not res.history["hessian_reused"].any()
    G = f.gauss_newton_model(exact.x, explicit=True).toarray()
    lam_min = np.linalg.eigvalsh(G)[0]
    assert np.linalg.norm(res.x - exact.x) <= 2 * 2e-9 / lam_min
