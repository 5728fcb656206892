"""JaxObjective on the device: JAX products, the compiled CG hook, input gradients and FGSM."""

import math

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")

from randopt.linalg import conjugate_gradient  # noqa: E402
from randopt.oracles import JaxObjective  # noqa: E402
from randopt.sketch import uniform_sample  # noqa: E402

EPS64 = np.finfo(np.float64).eps


@pytest.fixture(scope="module", autouse=True)
def x64():
    before = jax.config.read("jax_enable_x64")
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", before)


def mlp(params, X):
    return jnp.tanh(X @ params["W"] + params["b"]) @ params["V"]


def cross_entropy(logits, y):
    return jnp.mean(jax.nn.logsumexp(logits, axis=1)
                    - jnp.take_along_axis(logits, y[:, None], axis=1)[:, 0])


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 4))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int32)
    params = {"W": rng.standard_normal((4, 6)) / 2, "b": 0.1 * rng.standard_normal(6),
              "V": rng.standard_normal((6, 2)) / 2}
    f = JaxObjective(None, params, (X, y), model=mlp, output_loss=cross_entropy, alpha=1e-2,
                     batch_size=32)
    return f, rng


def _models(f, sample):
    return {"hessian": f.hessian_model(f.x0, sample=sample, explicit=False),
            "gauss_newton": f.gauss_newton_model(f.x0, sample=sample, explicit=False)}


@pytest.mark.parametrize("sample", [[1, 5, 7, 20], "uniform", None])
def test_products_of_jax_arrays_are_jax_arrays_without_transfers(problem, sample):
    f, rng = problem
    if sample == "uniform":
        sample = uniform_sample(f.n_samples, 40, random_state=0)  # two chunks of <= 32 rows
    for model in _models(f, sample).values():
        v = rng.standard_normal(f.n_features)
        vj = jax.device_put(v)
        model.matvec(vj)  # the first product moves the point and the rows to the device
        before = model.n_products
        with jax.transfer_guard("disallow"):  # any implicit transfer raises
            out = model.matvec(vj)
            out = model.matvec(out)
        assert isinstance(out, jax.Array) and model.n_products == before + 2
        ref = model.matvec(model.matvec(v))
        assert isinstance(ref, np.ndarray) and ref.dtype == np.float64
        assert np.allclose(np.asarray(out), ref, rtol=1e3 * EPS64, atol=1e3 * EPS64)


def test_numpy_products_are_unchanged(problem):
    # the NumPy path is MinibatchObjective's: compare with the base class's own model
    f, rng = problem
    from randopt.oracles import MinibatchObjective
    v = rng.standard_normal(f.n_features)
    for name, product in (("hvp", f._hvp), ("gnvp", f._gnvp)):
        base = MinibatchObjective._product_model(f, f.x0, [3, 4, 9], False, product, name)
        ours = f._product_model(f.x0, [3, 4, 9], False, product, name)
        assert np.array_equal(base.matvec(v), ours.matvec(v))


def test_a_device_product_checks_the_shape(problem):
    f, _ = problem
    model = f.hessian_model(f.x0, sample=[1, 2], explicit=False)
    with pytest.raises(ValueError, match="shape"):
        model.matvec(jnp.ones(f.n_features + 1))


@pytest.mark.parametrize("kind", ["hessian", "gauss_newton"])
@pytest.mark.parametrize("options", [
    {"rtol": 1e-10, "max_iter": 200}, {"radius": 0.3}, {"radius": 30.0, "rtol": 1e-10},
    {"x0": "random", "rtol": 1e-10, "max_iter": 200}, {"max_iter": 2}, {"atol": 1e-3},
])
def test_the_compiled_cg_follows_the_numpy_iteration(problem, kind, options):
    f, rng = problem
    sample = uniform_sample(f.n_samples, 24, random_state=1)
    model = _models(f, sample)[kind]
    b = -f.gradient(f.x0)
    if options.get("x0") == "random":
        options = {**options, "x0": 1e-2 * rng.standard_normal(f.n_features)}
    before = model.n_products
    res = conjugate_gradient(model.matvec, b, **options)
    assert model.n_products == before + res.nhev
    ref = conjugate_gradient(lambda v: model.matvec(v), b, **options)  # not a bound method
    assert isinstance(res.x, np.ndarray) and res.x.dtype == np.float64
    # the last step may land on either side of rtol (another order of rounding)
    assert res.status == ref.status and abs(res.nit - ref.nit) <= 1
    assert res.nhev - res.nit == ref.nhev - ref.nit
    # the same float64 recurrences in another order of operations: rounding, amplified by
    # the iteration count and the conditioning of the small sampled curvature
    scale = 1e6 * EPS64
    assert np.linalg.norm(res.x - ref.x) <= scale * max(1.0, np.linalg.norm(ref.x))
    assert math.isclose(res.decrease, ref.decrease, rel_tol=scale, abs_tol=scale)


def test_the_compiled_cg_keeps_jax_right_hand_sides_on_the_device(problem):
    f, _ = problem
    model = f.gauss_newton_model(f.x0, sample=[0, 1, 2, 3, 4, 5], explicit=False)
    b = -f.gradient(f.x0)
    res = conjugate_gradient(model.matvec, jax.device_put(b), rtol=1e-8)
    ref = conjugate_gradient(model.matvec, b, rtol=1e-8)
    assert isinstance(res.x, jax.Array)
    assert np.allclose(np.asarray(res.x), ref.x, rtol=1e-12, atol=1e-12)


def test_a_non_finite_product_in_the_compiled_cg_raises():
    # sqrt of negative parameters: every Hessian product at this point is NaN
    g = JaxObjective(lambda p, batch: jnp.mean(batch[0] @ p) + jnp.sum(jnp.sqrt(p)),
                     jnp.ones(3), (np.ones((4, 3)),))
    m = g.hessian_model(-np.ones(3), sample=[0, 1], explicit=False)
    for options in ({"radius": 1.0}, {}):
        with pytest.raises(ValueError, match="NaN or infinity"):
            conjugate_gradient(m.matvec, np.ones(3), **options)


def test_a_sample_over_one_call_falls_back_to_the_numpy_iteration(problem):
    f, _ = problem
    model = f.hessian_model(f.x0, sample=uniform_sample(f.n_samples, 40, random_state=0),
                            explicit=False)
    assert model.conjugate_gradient(np.ones(f.n_features)) is None
    res = conjugate_gradient(model.matvec, np.ones(f.n_features), max_iter=3)
    assert res.nit <= 3


# -- input gradients and FGSM, against closed forms on a linear model ---------------- #

def _linear(alpha=0.0):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((12, 3))
    y = rng.standard_normal(12)
    f = JaxObjective(None, jnp.zeros(3), (X, y), model=lambda p, X: X @ p,
                     output_loss=lambda o, t: 0.5 * jnp.mean((o - t) ** 2), alpha=alpha)
    return f, X, y, rng.standard_normal(3)


def test_input_gradient_is_the_closed_form():
    f, X, y, w = _linear()
    rows = np.array([1, 4, 5, 9])
    # d/dx_i (1/2m) sum_j (x_j^T w - y_j)^2 = (x_i^T w - y_i) w / m
    expected = ((X[rows] @ w - y[rows]) / rows.size)[:, None] * w[None, :]
    got = f.input_gradient(w, rows)
    assert got.shape == (4, 3)
    assert np.allclose(got, expected, rtol=1e2 * EPS64, atol=1e2 * EPS64)
    assert np.allclose(f.input_gradient(w), ((X @ w - y) / 12)[:, None] * w, atol=1e-15)


@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_fgsm_gradient_is_the_gradient_at_the_sign_perturbed_inputs(alpha):
    f, X, y, w = _linear(alpha)
    rows, eps = np.array([0, 2, 3, 7, 11]), 0.25
    residual = X[rows] @ w - y[rows]
    X_adv = X[rows] + eps * np.sign(residual[:, None] * w[None, :])
    expected = X_adv.T @ (X_adv @ w - y[rows]) / rows.size + alpha * w
    got = f.fgsm_gradient(w, rows, eps)
    assert np.allclose(got, expected, rtol=1e2 * EPS64, atol=1e2 * EPS64)
    # epsilon 0 is the clean batch gradient
    assert np.allclose(f.fgsm_gradient(w, rows, 0.0), f.gradient(w, rows), atol=1e-14)
