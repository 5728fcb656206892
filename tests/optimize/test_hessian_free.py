"""Hessian-free optimization (damped sub-sampled Gauss-Newton): the closed-form minimiser of
a zero-residual least-squares problem, scipy's logistic-regression minimum, the damping rule
on a constructed rho sequence, Martens' CG stopping rule on a known spectrum, the presets,
the warm start and the cost accounting."""

import math

import numpy as np
import pytest
from scipy.optimize import minimize

from randopt.optimize import STATUS_MESSAGES, LevenbergMarquardtDamping, hessian_free
from randopt.optimize.hessian_free import HF_PRESETS, progress_cg
from randopt.oracles import (
    FiniteSum,
    LogisticObjective,
    Loss,
    MinibatchObjective,
    SigmoidLeastSquaresLoss,
)

EPS = np.finfo(np.float64).eps


class SigmoidRegressionLoss(SigmoidLeastSquaresLoss):
    """``(y - sigmoid(t))^2`` with real targets in [0, 1]: zero residuals are possible."""

    def encode_targets(self, y, name="y"):
        return Loss.encode_targets(self, y, name)


def _sigmoid(t):
    return 0.5 * (1 + np.tanh(t / 2))


def _zero_residual(rng, n=400, d=4):
    X = rng.standard_normal((n, d))
    w_star = np.array([0.8, -1.2, 0.5, 0.3])[:d]
    return X, w_star, FiniteSum(X, _sigmoid(X @ w_star), SigmoidRegressionLoss())


@pytest.mark.parametrize("preset", ["martens", "paper"])
@pytest.mark.parametrize("sampling", [("full", 1.0), ("uniform", 0.25)])
def test_nonlinear_least_squares_reaches_the_closed_form_minimiser(rng, preset, sampling):
    X, w_star, f = _zero_residual(rng)
    res = hessian_free(f, np.zeros(4), preset=preset, hessian_sampling=sampling[0],
                       hessian_sample_size=sampling[1], gtol=1e-11, max_iter=500,
                       random_state=0)
    assert res.status == 0, res.message
    # Zero residual: the Hessian at w* is the Gauss-Newton matrix, positive definite with
    # smallest eigenvalue mu, and ||x - w*|| <= ||g(x)|| / mu to first order (x2 margin).
    mu = np.linalg.eigvalsh(f.hessian(w_star))[0]
    assert mu > 0
    assert np.linalg.norm(res.x - w_star) <= 2 * np.linalg.norm(res.jac) / mu
    assert res.fun <= 1e-20
    # accepted steps never increase f
    loss, acc = res.history["loss"], res.history["accepted"]
    assert np.all(np.diff(loss)[acc[1:]] <= 100 * EPS * loss[0])


def test_gnvp_minibatch_objective_matches_the_finite_sum(rng):
    """A MinibatchObjective offering only gnvp (no hvp) reaches the same minimiser."""
    X, w_star, _ = _zero_residual(rng)
    y = _sigmoid(X @ w_star)

    def fun(w, i):
        return float(np.mean((y[i] - _sigmoid(X[i] @ w)) ** 2))

    def grad(w, i):
        s = _sigmoid(X[i] @ w)
        return X[i].T @ (-2 * (y[i] - s) * s * (1 - s)) / len(i)

    def gnvp(w, v, i):
        s = _sigmoid(X[i] @ w)
        J = (s * (1 - s))[:, None] * X[i]
        return 2 * J.T @ (J @ v) / len(i)

    f = MinibatchObjective(fun, grad, gnvp=gnvp, n_samples=X.shape[0], n_features=4,
                           batch_size=128)
    res = hessian_free(f, np.zeros(4), hessian_sample_size=0.25, gtol=1e-10, random_state=1)
    assert res.status == 0, res.message
    J = (_sigmoid(X @ w_star) * (1 - _sigmoid(X @ w_star)))[:, None] * X
    mu = np.linalg.eigvalsh(2 * J.T @ J / X.shape[0])[0]
    assert np.linalg.norm(res.x - w_star) <= 2 * np.linalg.norm(res.jac) / mu


@pytest.mark.parametrize("preset", ["martens", "paper"])
def test_logistic_regression_reaches_scipys_minimum(rng, preset):
    n, d, alpha = 3000, 8, 1e-2
    X = rng.standard_normal((n, d)) * np.logspace(0, 1, d)
    y = X @ rng.standard_normal(d) + rng.logistic(size=n) > 0
    f = LogisticObjective(X, y, alpha=alpha)
    ref = minimize(f.value, np.zeros(d), jac=f.gradient, method="L-BFGS-B",
                   options=dict(gtol=1e-12, ftol=1e-15, maxiter=10_000))
    res = hessian_free(f, np.zeros(d), preset=preset, hessian_sample_size=0.1, gtol=1e-9,
                       random_state=0)
    assert res.status == 0, res.message
    # strongly convex with modulus >= alpha: ||x - x*|| <= ||g(x)|| / alpha for both points
    gsum = np.linalg.norm(res.jac) + np.linalg.norm(f.gradient(ref.x))
    assert np.linalg.norm(res.x - ref.x) <= gsum / alpha
    L = np.linalg.eigvalsh(f.hessian(ref.x))[-1]
    assert abs(res.fun - ref.fun) <= L * (gsum / alpha) ** 2 + 100 * EPS * ref.fun


def test_damping_rule_on_a_constructed_rho_sequence():
    rhos = [0.9, 0.75, 0.5, 0.25, 0.1, -math.inf, math.nan, 0.7500001, 1.0, 2.0]
    lm = LevenbergMarquardtDamping(damping=10.0)
    lm.start()
    got = [lm.update(r) for r in rhos]
    expected, lam = [], 10.0
    for rho in rhos:  # Martens' rule, strict inequalities, NaN a failure
        if not rho >= 0.25:
            lam *= 1.5
        elif rho > 0.75:
            lam *= 2 / 3
        expected.append(lam)
    assert got == expected
    assert got[:5] == [10 * (2 / 3)] * 4 + [10 * (2 / 3) * 1.5]
    # custom factors and thresholds
    lm = LevenbergMarquardtDamping(1.0, decrease=0.5, increase=4.0, rho_low=0.1, rho_high=0.2)
    lm.start()
    assert [lm.update(r) for r in (0.15, 0.21, 0.05, 0.1)] == [1.0, 0.5, 2.0, 2.0]


def test_the_solver_follows_the_damping_rule_it_records(rng):
    X, w_star, f = _zero_residual(rng, n=300)
    res = hessian_free(f, np.full(4, 3.0), damping=10.0, hessian_sample_size=0.1,
                       gtol=1e-10, max_iter=60, random_state=2)
    h = res.history
    lam, rho = h["damping"], h["rho"]
    assert lam[0] == lam[1] == 10.0
    for k in range(1, len(lam) - 1):
        step = 1.5 if not rho[k] >= 0.25 else (2 / 3 if rho[k] > 0.75 else 1.0)
        assert lam[k + 1] == lam[k] * step
    # a step is taken only when the line search accepts it; rejected rows have t = 0
    assert np.all((h["step_size"][1:] > 0) == h["accepted"][1:])
    assert np.any(rho[1:] > 0.75)


def _plain_cg_values(lam, b, n_iter):
    """q(x_i) of unpreconditioned CG on diag(lam) x = b, i = 0..n_iter, by hand."""
    x, r = np.zeros_like(b), b.copy()
    p, vals = r.copy(), [0.0]
    for _ in range(n_iter):
        Ap = lam * p
        a = (r @ r) / (p @ Ap)
        x = x + a * p
        r_new = r - a * Ap
        p = r_new + (r_new @ r_new) / (r @ r) * p
        r = r_new
        vals.append(-b @ x + 0.5 * x @ (lam * x))
    return np.array(vals)


@pytest.mark.parametrize("tol", [5e-4, 1e-2])
def test_cg_stops_by_martens_progress_rule_on_a_known_spectrum(tol):
    lam = np.logspace(0, 3, 200)  # condition number 1e3: CG needs many iterations
    b = np.random.default_rng(0).standard_normal(200)
    vals = _plain_cg_values(lam, b, 250)
    stop = None
    for i in range(1, 251):
        k = max(10, math.ceil(0.1 * i))
        if i >= 5 and i > k and vals[i - k] < 0 and (vals[i] - vals[i - k]) / vals[i] < tol * k:
            stop = i
            break
    assert stop is not None and 11 <= stop < 250
    res = progress_cg(lambda v: lam * v, b, progress_tol=tol)
    assert (res.status, res.nit, res.nhev) == ("progress", stop, stop)
    assert abs(res.value - vals[stop]) <= 1e-10 * abs(vals[stop])
    # the kept iterates: ceil(5 * 1.3^j), then the last
    marks, m = [], 5.0
    while math.ceil(m) <= stop:
        marks.append(math.ceil(m))
        m *= 1.3
    assert [i for i, _, _ in res.iterates] == sorted(set(marks + [stop]))
    for i, x, q in res.iterates:
        assert abs(q - (-b @ x + 0.5 * x @ (lam * x))) <= 1e-10 * abs(q)
        assert abs(q - vals[i]) <= 1e-9 * abs(vals[i])
    # max_iter binds first, min_iter is respected
    short = progress_cg(lambda v: lam * v, b, max_iter=stop - 1, progress_tol=tol)
    assert (short.status, short.nit) == ("max_iter", stop - 1)
    long = progress_cg(lambda v: lam * v, b, min_iter=stop + 7, max_iter=250,
                       progress_tol=tol)
    assert long.nit == stop + 7


def test_cg_on_three_eigenvalues_converges_in_three_steps():
    lam = np.repeat([1.0, 10.0, 100.0], 5)
    b = np.arange(1.0, 16.0)
    three = progress_cg(lambda v: lam * v, b, max_iter=3)
    np.testing.assert_allclose(three.x, b / lam, rtol=1e-12)  # exact in 3 steps
    res = progress_cg(lambda v: lam * v, b, max_iter=50)
    # then the residual is at round-off (cond * eps): converged, one step later at most
    assert res.status == "converged" and res.nit in (3, 4)
    np.testing.assert_allclose(res.x, b / lam, rtol=1e-12)
    # a warm start costs one product and starts from its value
    warm = progress_cg(lambda v: lam * v, b, x0=0.5 * b / lam, max_iter=50)
    assert warm.nhev == warm.nit + 1 and warm.nit <= 4
    np.testing.assert_allclose(warm.x, b / lam, rtol=1e-10)


def test_presets_warm_start_and_backtracking(rng):
    X, w_star, f = _zero_residual(rng, n=300)
    x0 = np.full(4, 2.0)
    paper = hessian_free(f, x0, preset="paper", hessian_sample_size=0.2, gtol=1e-9,
                         random_state=0)
    h = paper.history
    # no CG-backtracking: the last CG iterate is taken; warm start from the previous one
    assert np.array_equal(h["cg_iterate"][1:], h["inner_iterations"][1:])
    assert np.array_equal(h["hessian_products"][2:], h["inner_iterations"][2:] + 1)
    assert h["hessian_products"][1] == h["inner_iterations"][1]  # from zero at first
    cold = hessian_free(f, x0, warm_start=0.0, hessian_sample_size=0.2, gtol=1e-9,
                        random_state=0)
    assert np.array_equal(cold.history["hessian_products"], cold.history["inner_iterations"])
    martens = hessian_free(f, x0, hessian_sample_size=0.2, gtol=1e-9, random_state=0)
    hm = martens.history
    assert np.all(hm["cg_iterate"][1:] <= hm["inner_iterations"][1:])
    assert martens.status == paper.status == cold.status == 0
    assert HF_PRESETS["paper"] == dict(damping=10.0, preconditioner="gradient",
                                       warm_start=1.0, cg_backtracking=False)
    assert paper.history["damping"][1] == 10.0 and martens.history["damping"][1] == 1.0
    # an explicit option overrides the preset
    mixed = hessian_free(f, x0, preset="paper", cg_backtracking=True,
                         hessian_sample_size=0.2, gtol=1e-9, random_state=0)
    assert mixed.status == 0


def test_cost_accounting_and_result_fields(rng):
    X, w_star, f = _zero_residual(rng, n=500)
    n = f.n_samples
    res = hessian_free(f, np.full(4, 2.0), preset="paper", preconditioner="none",
                       hessian_sample_size=0.2, gtol=1e-9, random_state=3)
    h = res.history
    for key in ("iteration", "loss", "grad_norm", "damping", "accepted", "step_norm",
                "inner_iterations", "hessian_rows", "hessian_reused", "time", "props",
                "hessian_products", "rho", "step_size", "cg_iterate", "passes"):
        assert key in h
    accepted = int(h["accepted"].sum())
    values = res.nfev - 1 - accepted  # trial values (x0's and the accepted points' apart)
    # x0's gradient 2n, each trial value n, each accepted gradient 2n, 2|S| per product
    expected = 2 * n + n * values + 2 * n * accepted + np.sum(
        2 * h["hessian_rows"] * h["hessian_products"])
    assert res.props == expected == h["props"][-1]
    np.testing.assert_allclose(h["passes"], h["props"] / n)
    assert set(h["hessian_rows"][1:]) == {100}
    assert res.nhev == h["hessian_products"].sum()
    assert res.njev == 1 + accepted and res.nit == len(h["loss"]) - 1
    assert res.message == STATUS_MESSAGES[res.status] and res.success
    again = hessian_free(f, np.full(4, 2.0), preset="paper", preconditioner="none",
                         hessian_sample_size=0.2, gtol=1e-9, random_state=3)
    np.testing.assert_array_equal(again.history["loss"], h["loss"])


def _props_without_per_example(res, n):
    h = res.history
    acc = int(h["accepted"].sum())
    return (2 * n + n * (res.nfev - 1 - acc) + 2 * n * acc
            + np.sum(2 * h["hessian_rows"] * h["hessian_products"]))


def test_martens_preconditioner_cost(rng):
    X, w_star, f = _zero_residual(rng, n=200)
    res = hessian_free(f, np.full(4, 2.0), preconditioner="martens", hessian_sample_size=0.2,
                       max_iter=3, random_state=0)
    assert res.props - _props_without_per_example(res, 200) == 3 * 2 * 40


def test_gradient_sampling_and_auto_sizes(rng):
    X, w_star, f = _zero_residual(rng, n=600)
    res = hessian_free(f, np.full(4, 1.0), gradient_sample_size=0.5, hessian_sample_size=0.2,
                       max_iter=20, random_state=0)
    assert res.nit == 20 or res.status == 0
    auto = hessian_free(f, np.full(4, 1.0), hessian_sample_size="auto", gtol=1e-9,
                        random_state=0)
    assert auto.status == 0
    assert "AdaptiveSampleSize" in auto.hessian_sampling


def test_callback_stops_and_budgets(rng):
    X, w_star, f = _zero_residual(rng, n=200)
    res = hessian_free(f, np.full(4, 2.0), callback=lambda x, info: info["iteration"] >= 2,
                       random_state=0)
    assert res.status == 99 and res.nit == 2
    res = hessian_free(f, np.full(4, 2.0), max_props=5 * 200, random_state=0)
    assert res.status == 2 and res.history["props"][-2] < 5 * 200
    res = hessian_free(f, np.full(4, 2.0), max_iter=0)
    assert res.status == 1 and res.nit == 0


def test_minibatch_helpers_of_martens_backtracking_and_preconditioner(rng):
    """sampled_value and gradient_second_moment against the rows' terms by hand."""
    A = rng.standard_normal((50, 3))
    b = rng.standard_normal(50)
    alpha = 0.3
    f = MinibatchObjective(lambda x, i: 0.5 * np.mean((A[i] @ x - b[i]) ** 2),
                           lambda x, i: A[i].T @ (A[i] @ x - b[i]) / len(i),
                           gnvp=lambda x, v, i: A[i].T @ (A[i] @ v) / len(i),
                           n_samples=50, n_features=3, batch_size=7, alpha=alpha)
    x = rng.standard_normal(3)
    rows = np.array([3, 9, 9, 40])
    r = A @ x - b
    per_row = A * r[:, None] + alpha * x  # gradient of 0.5 r_i^2 + alpha/2 ||x||^2
    np.testing.assert_allclose(f.gradient_second_moment(x, rows),
                               np.mean(per_row[rows] ** 2, axis=0), rtol=1e-12)
    np.testing.assert_allclose(f.sampled_value(x, rows),
                               0.5 * np.mean(r[rows] ** 2) + 0.5 * alpha * x @ x, rtol=1e-12)
    # the solver uses them: it converges to the least-squares solution
    res = hessian_free(f, np.zeros(3), hessian_sample_size=0.4, gtol=1e-10, random_state=0)
    x_star = np.linalg.solve(A.T @ A / 50 + alpha * np.eye(3), A.T @ b / 50)
    mu = np.linalg.eigvalsh(A.T @ A / 50)[0] + alpha
    assert res.status == 0
    assert np.linalg.norm(res.x - x_star) <= 2 * np.linalg.norm(res.jac) / mu
