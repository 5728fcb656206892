"""adaptive_batch_sgd (Hessian-based adaptive batch size) on finite sums."""

import math

import numpy as np
import pytest
from scipy.optimize import minimize

from randopt.optimize import ADAPTIVE_BATCH_STATUS, adaptive_batch_sgd
from randopt.oracles import LeastSquaresObjective, LogisticObjective


def _separable(n=400, d=5, seed=0):
    """Separable logistic data: without a penalty the weights grow and the curvature
    ``sigma(t)(1 - sigma(t))`` of every row falls, so the top eigenvalue falls too."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return LogisticObjective(X, (X[:, 0] > 0).astype(int))


def _noisy_logistic(n=300, d=4, alpha=0.1, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = (X @ rng.standard_normal(d) + rng.standard_normal(n) > 0).astype(int)
    return LogisticObjective(X, y, alpha=alpha)


def _points(f, **kw):
    """Run the solver, keeping the iterate of every history row (through the callback)."""
    xs = []

    def keep(x, info):
        xs.append(x)

    res = adaptive_batch_sgd(f, np.zeros(f.n_features), callback=keep, **kw)
    return res, xs


def test_converges_to_the_minimiser_once_the_batch_is_full():
    # patience=1 grows the batch at every check: after 4 epochs b = n and the method is
    # gradient descent with momentum, which converges linearly on a strongly convex f.
    f = _noisy_logistic()
    ref = minimize(f.value_and_gradient, np.zeros(4), jac=True, method="L-BFGS-B",
                   options={"gtol": 1e-13, "ftol": 0, "maxiter": 1000})
    res = adaptive_batch_sgd(f, np.zeros(4), learning_rate=0.05, batch_size=20, patience=1,
                             epochs=400, gtol=1e-10, random_state=0)
    assert res.status == 0, res.message
    assert res.batch_size == f.n_samples
    # f is alpha-strongly convex: ||x - x*|| <= ||g(x)|| / alpha for both points.
    bound = (np.linalg.norm(res.jac) + np.linalg.norm(ref.jac)) / f.alpha
    assert np.linalg.norm(res.x - ref.x) <= bound
    assert bound <= 1e-8


def test_the_batch_grows_exactly_when_the_top_eigenvalue_falls():
    f = _separable()
    res, xs = _points(f, learning_rate=0.03, batch_size=16, max_batch_size=256,
                      eigen_drop=1.25, epochs=12, hessian_sample_size=1.0, power_tol=1e-12,
                      power_max_iter=300, random_state=0)
    h = res.history
    lam, b, lr = h["top_eigenvalue"], h["batch_size"], h["learning_rate"]
    # The estimates are the top eigenvalue of the (here: full) Hessian at that epoch's end.
    for k in range(1, len(xs)):
        if math.isfinite(lam[k]):
            top = np.linalg.eigvalsh(f.hessian(xs[k]))[-1]
            assert abs(lam[k] - top) <= 1e-8 * top
    # Replay the documented rule on the recorded eigenvalues (row k holds the batch and
    # the learning rate chosen at epoch k's end, for epoch k + 1).
    ref, size, grew = None, 16, 0
    for k in range(1, len(lam)):
        if not math.isfinite(lam[k]):
            assert size == 256  # no checks once the batch is at its cap
        elif ref is None:
            ref = lam[k]
        elif lam[k] <= ref / 1.25:
            ref, size, grew = lam[k], min(256, 2 * size), grew + 1
        assert b[k] == size and lr[k] == pytest.approx(0.03 * size / 16, rel=1e-15)
    assert grew >= 2
    assert np.all(np.diff(lam[np.isfinite(lam)]) < 0)  # the curvature does fall


def test_a_constant_hessian_never_grows_the_batch_unless_patience_says_so():
    rng = np.random.default_rng(2)
    f = LeastSquaresObjective(rng.standard_normal((200, 3)), rng.standard_normal(200))
    top = np.linalg.eigvalsh(f.hessian(np.zeros(3)))[-1]
    res = adaptive_batch_sgd(f, np.zeros(3), learning_rate=0.01, batch_size=10,
                             hessian_sample_size=1.0, epochs=6, power_tol=1e-12,
                             power_max_iter=300, random_state=0)
    assert np.all(res.history["batch_size"] == 10)
    assert np.allclose(res.eigenvalues, top, rtol=1e-8)
    res = adaptive_batch_sgd(f, np.zeros(3), learning_rate=0.01, batch_size=10, patience=2,
                             hessian_sample_size=1.0, epochs=6, random_state=0,
                             scale_learning_rate=False)
    assert res.history["batch_size"].tolist() == [10, 10, 20, 20, 40, 40, 80]
    assert np.all(res.history["learning_rate"] == 0.01)


def test_reproducible_with_a_seed():
    f = _separable()
    kw = dict(learning_rate=0.1, batch_size=8, epochs=3)
    a = adaptive_batch_sgd(f, np.zeros(5), random_state=3, **kw)
    b = adaptive_batch_sgd(f, np.zeros(5), random_state=3, **kw)
    c = adaptive_batch_sgd(f, np.zeros(5), random_state=4, **kw)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.eigenvalues, b.eigenvalues)
    for key in ("loss", "batch_size", "props"):
        assert np.array_equal(a.history[key], b.history[key])
    assert not np.array_equal(a.x, c.x)


def test_props_count_batch_gradients_and_hessian_products():
    f = _separable(n=203)
    res = adaptive_batch_sgd(f, np.zeros(5), learning_rate=0.05, batch_size=10, eigen_drop=1.1,
                             hessian_sample_size=30, epochs=5, random_state=0)
    h = res.history
    b = h["batch_size"]
    # Each epoch runs n // b updates (the leftover rows are skipped); the batch of epoch
    # k is the one recorded at the end of epoch k - 1.
    per_epoch = 203 // b[:-1]
    assert np.array_equal(np.diff(h["updates"]), per_epoch)
    assert res.nit == per_epoch.sum()
    grads = 2.0 * (b[:-1] * per_epoch).sum()
    assert res.props == grads + 2.0 * 30 * res.nhev
    assert np.all(np.diff(h["props"]) > 0)
    assert res.njev == res.nit + res.nfev and res.nfev == len(b)


def test_stops_mid_epoch_on_max_iter_and_max_props():
    f = _separable()
    res = adaptive_batch_sgd(f, np.zeros(5), batch_size=40, max_iter=15, random_state=0)
    assert (res.status, res.nit) == (1, 15) and res.message == ADAPTIVE_BATCH_STATUS[1]
    assert res.nepoch == pytest.approx(1.5)  # 10 updates per epoch
    assert res.history["epoch"].tolist() == [0, 1, 1.5]
    res = adaptive_batch_sgd(f, np.zeros(5), batch_size=40, max_props=500, random_state=0)
    assert res.status == 2 and res.nit == 7  # 80 props per update, the first check at 560
    assert res.fun == pytest.approx(f.value(res.x), rel=1e-15)


def test_callback_adds_columns_and_stops():
    f = _separable()
    res = adaptive_batch_sgd(f, np.zeros(5), epochs=4, random_state=0,
                             callback=lambda x, info: {"norm": float(np.linalg.norm(x)),
                                                       "loss": -1.0})
    assert res.history["norm"][0] == 0.0 and np.all(res.history["loss"] > 0)
    res = adaptive_batch_sgd(f, np.zeros(5), epochs=4, random_state=0,
                             callback=lambda x, info: info["epoch"] >= 2)
    assert res.status == 99 and res.history["epoch"].tolist() == [0, 1, 2]


def test_round_sample_size_is_honoured_and_checked():
    class Buckets(LogisticObjective):
        def round_sample_size(self, size):
            return min(self.n_samples, 1 << (size - 1).bit_length())

    base = _separable()
    f = Buckets(base.operand.local_data(), (base.operand.local_data()[:, 0] > 0).astype(int))
    res = adaptive_batch_sgd(f, np.zeros(5), batch_size=10, hessian_sample_size=20, epochs=2,
                             random_state=0)
    assert set(res.history["batch_size"].tolist()) == {16}
    assert res.props == 2 * 16 * res.nit + 2 * 32 * res.nhev

    class Bad(LogisticObjective):
        def round_sample_size(self, size):
            return size - 1

    g = Bad(np.eye(4), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="round_sample_size"):
        adaptive_batch_sgd(g, np.zeros(4), batch_size=2)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"batch_size": 1.5}, ValueError, "batch_size"),
        ({"batch_size": "8"}, TypeError, "batch_size"),
        ({"batch_size": 50, "max_batch_size": 20}, ValueError, "max_batch_size"),
        ({"learning_rate": 0.0}, ValueError, "learning_rate"),
        ({"learning_rate": math.nan}, ValueError, "learning_rate"),
        ({"momentum": 1.0}, ValueError, "momentum"),
        ({"growth_factor": 1.0}, ValueError, "growth_factor"),
        ({"eigen_drop": 0.5}, ValueError, "eigen_drop"),
        ({"epochs": 0}, ValueError, "epochs"),
        ({"eigen_interval": 1.0}, TypeError, "eigen_interval"),
        ({"patience": 0}, ValueError, "patience"),
        ({"power_tol": 0.0}, ValueError, "power_tol"),
        ({"power_max_iter": 0}, ValueError, "power_max_iter"),
        ({"hessian_sample_size": 10_000}, ValueError, "hessian_sample_size"),
        ({"scale_learning_rate": 1}, TypeError, "scale_learning_rate"),
        ({"max_props": -1.0}, ValueError, "max_props"),
        ({"callback": 3}, TypeError, "callback"),
        ({"random_state": "seed"}, TypeError, "random_state"),
    ],
)
def test_bad_options(kwargs, error, match):
    with pytest.raises(error, match=match):
        adaptive_batch_sgd(_separable(n=100), np.zeros(5), **kwargs)


def test_bad_objectives_and_points():
    quad = (lambda x: float(x @ x), lambda x: 2 * x, lambda x, v: 2 * v)
    with pytest.raises(TypeError, match="no rows to sample"):
        adaptive_batch_sgd(quad, np.zeros(3))
    with pytest.raises(TypeError, match="objective"):
        adaptive_batch_sgd(object(), np.zeros(3))
    with pytest.raises(ValueError, match="x0"):
        adaptive_batch_sgd(_separable(), np.zeros(4))
    x0 = np.ones(5)
    adaptive_batch_sgd(_separable(), x0, epochs=1, random_state=0)
    assert np.array_equal(x0, np.ones(5))  # the caller's array is not written
    # A step that overflows is refused, not returned as NaN.
    rng = np.random.default_rng(0)
    f = LeastSquaresObjective(100 * rng.standard_normal((50, 3)), rng.standard_normal(50))
    with pytest.raises(ValueError, match="iterate after .* updates.*learning_rate"):
        adaptive_batch_sgd(f, np.zeros(3), learning_rate=10.0, batch_size=5, epochs=50,
                           random_state=0)
    with pytest.raises(ValueError, match="at x0"):
        adaptive_batch_sgd(f, np.full(3, 1e200), random_state=0)
