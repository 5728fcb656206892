"""hessian_free on a JaxObjective given model and output_loss (Gauss-Newton products through
JAX): a two-layer network fitted to targets it can represent exactly (zero residual)."""

import contextlib

import numpy as np
import pytest

jax = pytest.importorskip("jax")


@contextlib.contextmanager
def x64_mode(enabled):
    before = jax.config.read("jax_enable_x64")
    jax.config.update("jax_enable_x64", enabled)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", before)


def test_network_with_zero_residual_reaches_a_global_minimum():
    from randopt.optimize import hessian_free
    from randopt.oracles import JaxObjective

    jnp = jax.numpy
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 3))
    W_true = rng.standard_normal((3, 4)) / 2
    v_true = rng.standard_normal(4)
    y = np.tanh(X @ W_true) @ v_true

    def model(p, inputs):
        return jnp.tanh(inputs @ p["W"]) @ p["v"]

    def mse(out, t):
        return 0.5 * jnp.mean((out - t) ** 2)

    with x64_mode(True):
        params = {"W": jnp.asarray(W_true + 0.3 * rng.standard_normal((3, 4))),
                  "v": jnp.asarray(v_true + 0.3 * rng.standard_normal(4))}
        f = JaxObjective(None, params, (X, y), model=model, output_loss=mse, batch_size=64)
        for preset in ("martens", "paper"):
            res = hessian_free(f, f.x0, preset=preset, hessian_sample_size=0.2, gtol=1e-9,
                               max_iter=300, random_state=0)
            # zero residual: every minimiser has f = 0; near one, f ~ ||g||^2 / (2 mu)
            assert res.status == 0, (preset, res.message)
            assert res.fun <= 1e-12
            assert res.history["loss"][-1] < 1e-6 * res.history["loss"][0]
