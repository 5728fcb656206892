"""JaxObjective against dense jax.hessian / jax.jacfwd references on a small MLP."""

from contextlib import contextmanager

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")

from jax.flatten_util import ravel_pytree  # noqa: E402

from randopt.optimize import arc, trust_region  # noqa: E402
from randopt.oracles import JaxObjective  # noqa: E402
from randopt.sketch import uniform_sample  # noqa: E402

EPS64 = np.finfo(np.float64).eps
EPS32 = np.finfo(np.float32).eps
N, SIZES = 60, (5, 8, 3)
# A ridge term: without it the network fits the 60 rows and the infimum 0 of the loss is not
# attained (the gradient only decays along a ray), so the solvers' tests have no minimiser.
ALPHA = 1e-2


@contextmanager
def x64_mode(enabled):
    before = jax.config.read("jax_enable_x64")
    jax.config.update("jax_enable_x64", enabled)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", before)


@pytest.fixture(scope="module", autouse=True)
def x64():
    with x64_mode(True):
        yield


def init_mlp(rng, sizes=SIZES):
    return [
        {"W": rng.standard_normal((a, b)) / np.sqrt(a), "b": 0.1 * rng.standard_normal(b)}
        for a, b in zip(sizes[:-1], sizes[1:], strict=True)
    ]


def mlp(params, X):
    h = X
    for layer in params[:-1]:
        h = jnp.tanh(h @ layer["W"] + layer["b"])
    return h @ params[-1]["W"] + params[-1]["b"]


def cross_entropy(logits, y):
    return jnp.mean(jax.nn.logsumexp(logits, axis=1)
                    - jnp.take_along_axis(logits, y[:, None], axis=1)[:, 0])


def loss(params, batch):
    X, y = batch
    return cross_entropy(mlp(params, X), y)


@pytest.fixture(scope="module")
def setup():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, SIZES[0]))
    y = rng.integers(0, SIZES[-1], N)
    params = init_mlp(rng)
    # One compiled call per pass (chunked passes: test_any_sizes_compile_few_programs).
    f = JaxObjective(None, params, (X, y), model=mlp, output_loss=cross_entropy, alpha=ALPHA)
    flat, unravel = ravel_pytree(jax.tree_util.tree_map(jnp.asarray, params))
    x = np.asarray(flat) + 0.3 * rng.standard_normal(flat.shape[0])
    reference = make_reference(unravel)
    return f, X, y, reference, x


def make_reference(unravel):
    """``(q, rows) ->`` value, gradient, Hessian and Gauss-Newton matrix from jax directly."""

    @jax.jit
    def dense(q, X, y):
        def full(p):
            return cross_entropy(mlp(unravel(p), X), y)

        J = jax.jacfwd(lambda p: mlp(unravel(p), X))(q)  # (m, k, d)
        H_out = jax.hessian(lambda o: cross_entropy(o, y))(mlp(unravel(q), X))  # (m, k, m, k)
        G = jnp.einsum("iad,iajb,jbe->de", J, H_out, J)
        return full(q), jax.grad(full)(q), jax.hessian(full)(q), G

    def reference(X, y, x, rows=None):
        """Of the mean loss plus the ridge term (alpha/2) ||x||^2."""
        if rows is not None:
            X, y = X[rows], y[rows]
        value, grad, H, G = dense(jnp.asarray(x), jnp.asarray(X), jnp.asarray(y))
        shift = ALPHA * np.eye(x.shape[0])
        return (float(value) + 0.5 * ALPHA * x @ x, np.asarray(grad) + ALPHA * x,
                np.asarray(H) + shift, np.asarray(G) + shift)

    return reference


def rel_err(a, b):
    return float(np.linalg.norm(np.asarray(a) - b) / np.linalg.norm(b))


def rounding_tol(eps, n_terms):
    # Accumulated rounding of sums of n_terms O(1) terms grows like sqrt(n_terms) eps;
    # a factor 100 covers the depth of the network's products and the chunked sums.
    return 100 * np.sqrt(n_terms) * eps


def test_oracles_match_dense_jax(setup, rng):
    f, X, y, reference, x = setup
    value, grad, H, G = reference(X, y, x)
    tol = rounding_tol(EPS64, N * f.n_features)
    v = rng.standard_normal(f.n_features)
    assert f.value(x) == pytest.approx(value, rel=tol)
    assert rel_err(f.gradient(x), grad) <= tol
    assert rel_err(f.hessp(x, v), H @ v) <= tol
    assert rel_err(f.hessian(x), H) <= tol
    GN = f.gauss_newton_model(x).toarray()
    assert rel_err(GN, G) <= tol
    assert np.linalg.eigvalsh(GN).min() >= -tol * np.linalg.norm(G, 2)
    # ... and on a sample: the mean over its rows.
    sample = uniform_sample(N, 24, random_state=1)
    _, grad_s, H_s, G_s = reference(X, y, x, rows=sample.indices)
    assert rel_err(f.gradient(x, sample), grad_s) <= tol
    assert rel_err(f.hessp(x, v, sample), H_s @ v) <= tol
    model = f.gauss_newton_model(x, sample=sample, explicit=False)
    assert model.n_rows == 24 and rel_err(model.matvec(v), G_s @ v) <= tol
    op = f.hessian_operator(x, sample)
    assert rel_err(op @ v, H_s @ v) <= tol


def test_x0_unravel_and_dtype(setup):
    f, X, y, reference, x = setup
    assert f.x0.dtype == np.float64 and f.dtype == np.float64
    assert (f.n_samples, f.n_features) == (N, 5 * 8 + 8 + 8 * 3 + 3)
    p = f.unravel(x)
    np.testing.assert_array_equal(np.asarray(ravel_pytree(p)[0]), x)
    assert np.asarray(p[0]["W"]).shape == (5, 8)


def _standard_error_check(estimates, exact, tol):
    estimates = np.asarray(estimates)
    se = estimates.std(axis=0, ddof=1) / np.sqrt(estimates.shape[0])
    assert np.all(np.abs(estimates.mean(axis=0) - exact) <= 5 * se + tol)


def test_sampled_estimates_are_unbiased(setup, rng):
    f, X, y, reference, x = setup
    v = rng.standard_normal(f.n_features)
    samples = [uniform_sample(N, 24, random_state=rng) for _ in range(400)]
    tol = rounding_tol(EPS64, N * f.n_features)
    _standard_error_check([f.gradient(x, s) for s in samples], f.gradient(x), tol)
    _standard_error_check([f.hessp(x, v, s) for s in samples], f.hessp(x, v), tol)
    gn = [f.gauss_newton_model(x, sample=s, explicit=False).matvec(v) for s in samples]
    _standard_error_check(gn, f.gauss_newton_model(x, explicit=False).matvec(v), tol)


def test_a_new_draw_does_not_recompile(setup, rng):
    f, X, y, reference, x = setup
    v = rng.standard_normal(f.n_features)
    f.hessp(x, v, uniform_sample(N, 12, random_state=0))
    before = f.n_compilations
    for seed in range(1, 6):
        f.hessp(x, v, uniform_sample(N, 12, random_state=seed))
        f.gradient(x, uniform_sample(N, 12, random_state=seed))
        if seed == 1:
            before += 1  # the gradient on 12 rows, compiled once
    assert f.n_compilations == before


def test_any_sizes_compile_few_programs(rng):
    # Sizes 1..100 in any order: bucketed chunks (1..16, 18, 20, ..., 30, 32 up to batch_size
    # 32), never one program per size; every result is the exact mean over the sample.
    n = 100
    Xb = rng.standard_normal((n, 3))

    def quadratic(p, batch):
        return 0.5 * jnp.mean((batch[0] @ p) ** 2)

    f = JaxObjective(quadratic, jnp.ones(3), (Xb,), batch_size=32)
    x = np.ones(3)
    for size in rng.permutation(np.arange(1, n + 1)):
        sample = uniform_sample(n, int(size), random_state=rng)
        rows = Xb[sample.indices]
        np.testing.assert_allclose(f.hessp(x, np.ones(3), sample), rows.T @ rows.sum(1) / size,
                                   rtol=rounding_tol(EPS64, 3 * n))
    # At most one program per bucket size (24 of them up to 32), not one per size (100).
    assert sum(fn._cache_size() for fn in f._jit["hvp"]) <= len(f._buckets) == 24


def test_round_sample_size(setup):
    f, *_ = setup
    for size in range(1, N + 1):
        r = f.round_sample_size(size)
        assert size <= r <= min(N, 1.125 * size)
        chunks = f._chunk_sizes(r)
        assert len(chunks) == 1 or r == N or chunks[:-1] == [f.batch_size] * (len(chunks) - 1)
    with pytest.raises(ValueError, match="size"):
        f.round_sample_size(N + 1)
    with pytest.raises(TypeError, match="size"):
        f.round_sample_size(2.5)


def test_trust_region_and_arc_on_the_mlp(setup):
    f, X, y, reference, x = setup
    gtol = 1e-6
    f0, g0 = f.value(f.x0), np.linalg.norm(f.gradient(f.x0))
    res = trust_region(f, f.x0, hessian_sampling="full", hessian_mode="hessp", gtol=gtol,
                       random_state=0)
    assert res.status == 0
    # The gradient at the solution from jax directly (not through the adapter).
    assert np.linalg.norm(reference(X, y, res.x)[1]) <= gtol * (1 + 1e-6)
    f_min = res.fun
    # Uniform Hessian samples of 16 rows (27%): slower near the solution (the sampling error
    # does not vanish with the gradient), but a steady decrease.
    res = trust_region(f, f.x0, hessian_sample_size=16, hessian_mode="hessp", max_iter=100,
                       random_state=0)
    assert np.linalg.norm(reference(X, y, res.x)[1]) <= 0.1 * g0
    # ARC: at least half of the possible decrease in 40 trial steps ...
    res = arc(f, f.x0, hessian_sample_size=16, hessian_mode="hessp", max_iter=40,
              random_state=0)
    assert res.fun - f_min < 0.5 * (f0 - f_min)
    # ... and with gradient samples too a decrease (the sample is kept after a rejection, so
    # progress stalls once the sampled gradient is no descent direction).
    res = arc(f, f.x0, hessian_sample_size=16, gradient_sample_size=24, hessian_mode="hessp",
              max_iter=20, random_state=0)
    assert np.isfinite(res.history["loss"]).all() and res.fun < f0


def test_props_accounting(setup):
    # randopt.optimize.loop: value n per trial, gradient 2m at accepted points (m rows of the
    # gradient sample), 2|S| per product on S rows; the Hessian sample has |S| = 16 rows.
    f, *_ = setup
    for m in (None, 24):
        res = trust_region(f, f.x0, hessian_sample_size=16, gradient_sample_size=m,
                           hessian_mode="hessp", max_iter=8, random_state=1)
        rows = N if m is None else m
        n_acc = int(np.sum(res.history["accepted"]))
        first = 2 * N if m is None else N + 2 * m
        assert res.props == first + N * res.nit + 2 * rows * n_acc + 2 * 16 * res.nhev
        assert set(res.history["hessian_rows"][1:]) == {16}


def test_float32_mode(setup, rng):
    f, X, y, reference, x = setup
    v = rng.standard_normal(f.n_features)
    params = f.unravel(x)
    with x64_mode(False):
        f32 = JaxObjective(loss, params, (X, y), alpha=ALPHA)
        assert f32.dtype == np.float32 and f32.x0.dtype == np.float64
        out = f32.hessp(x, v)
        g = f32.gradient(x)
    assert out.dtype == np.float64 and g.dtype == np.float64
    _, grad, H, _ = reference(X, y, x)
    assert rel_err(out, H @ v) <= rounding_tol(EPS32, N * f.n_features)
    assert rel_err(g, grad) <= rounding_tol(EPS32, N * f.n_features)


def test_loss_only_objective_has_no_gauss_newton(setup):
    f, X, y, reference, x = setup
    g = JaxObjective(loss, f.unravel(f.x0), (X, y), alpha=ALPHA)
    assert not g.supports_gauss_newton and g.batch_size == N
    v = np.ones(g.n_features)
    assert rel_err(g.hessp(x, v), reference(X, y, x)[2] @ v) <= rounding_tol(EPS64, N * 75)
    with pytest.raises(TypeError, match="Gauss-Newton"):
        g.gauss_newton_model(x)


def test_bad_input(rng):
    X, y = rng.standard_normal((10, 5)), rng.integers(0, 3, 10)
    params = init_mlp(rng)
    with pytest.raises(TypeError, match="loss must be callable"):
        JaxObjective("loss", params, (X, y))
    with pytest.raises(TypeError, match="together"):
        JaxObjective(None, params, (X, y), model=mlp)
    with pytest.raises(TypeError, match="pass loss"):
        JaxObjective(None, params, (X, y))
    with pytest.raises(TypeError, match="pair"):
        JaxObjective(None, params, (X, y, y), model=mlp, output_loss=cross_entropy)
    with pytest.raises(ValueError, match="leading axis"):
        JaxObjective(loss, params, (X, y[:5]))
    with pytest.raises(ValueError, match="NaN"):
        JaxObjective(loss, params, (np.where(X > 1, np.nan, X), y))
    with pytest.raises(TypeError, match="floating"):
        JaxObjective(loss, {"w": np.arange(3)}, (X, y))
    with pytest.raises(ValueError, match="no arrays"):
        JaxObjective(loss, {}, (X, y))
    with pytest.raises(TypeError, match="real scalar"):
        JaxObjective(lambda p, b: mlp(p, b[0]), params, (X, y))
    f = JaxObjective(loss, params, (X, y))
    with pytest.raises(ValueError, match="x has length"):
        f.unravel(np.zeros(3))
    with pytest.raises(ValueError, match="w has length"):
        f.hessp(np.zeros(3), np.zeros(f.n_features))
