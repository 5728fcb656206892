"""Hessian analysis of a network (PyHessian-style) through ``objective.hessian_operator``,
checked against the dense ``jax.hessian`` of a small MLP."""

import numpy as np
import pytest

jax = pytest.importorskip("jax")

from jax.flatten_util import ravel_pytree  # noqa: E402

from randopt.norms import hessian_eigenvalues, hessian_trace, spectral_density  # noqa: E402

EPS = np.finfo(np.float64).eps


@pytest.fixture(scope="module")
def x64():
    """float64 inside JAX for this module's tests (the dense reference needs it), restored."""
    before = jax.config.read("jax_enable_x64")
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", before)


@pytest.fixture(scope="module")
def mlp(x64):
    """A 4-6-3 tanh MLP on 60 random rows (51 parameters), a little trained so that the
    Hessian is indefinite, and the dense Hessians of the full and of a minibatch loss."""
    networks = pytest.importorskip("experiments.networks")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 4))
    y = rng.integers(0, 3, 60)
    f = networks.mlp_objective([4, 6, 3], X, y, random_state=0)
    w = f.x0 + 0.5 * rng.standard_normal(f.n_features)
    idx = np.sort(rng.choice(60, 20, replace=False))
    # The reference differentiates the network's own code twice, densely. The batch's
    # rows repeated three times have the batch's mean loss and the full data's shape:
    # one compilation serves both.
    _, unravel = ravel_pytree(f.unravel(f.x0))
    jnp = jax.numpy

    @jax.jit
    @jax.hessian
    def loss(p, rows):
        return networks.softmax_cross_entropy(
            networks.mlp_apply(unravel(p), jnp.asarray(X)[rows]), jnp.asarray(y)[rows])

    def dense(rows):
        H = np.asarray(loss(jnp.asarray(w), rows))
        return 0.5 * (H + H.T)

    return f, w, idx, dense(np.arange(60)), dense(np.tile(idx, 3))


def test_top_and_bottom_eigenvalues_match_the_dense_hessian(mlp):
    f, w, idx, H, H_batch = mlp
    for op, ref in ((f.hessian_operator(w), H), (f.hessian_operator(w, idx), H_batch)):
        lam = np.linalg.eigvalsh(ref)
        scale = np.abs(lam).max()
        top = hessian_eigenvalues(op, k=3, which="LA", tol=1e-12, random_state=0)
        low = hessian_eigenvalues(op, k=2, which="SA", tol=1e-12, random_state=0)
        # Ritz value theta has an eigenvalue within its residual; products of the network
        # and of the dense matrix differ by rounding, O(d eps ||H||).
        slack = 100 * f.n_features * EPS * scale
        assert np.all(np.abs(top.eigenvalues - lam[::-1][:3]) <= top.residuals + slack)
        assert np.all(np.abs(low.eigenvalues - lam[:2]) <= low.residuals + slack)
        assert lam[0] < 0 < lam[-1]  # an indefinite Hessian: both ends are checked


def test_trace_interval_holds_the_dense_trace(mlp):
    f, w, idx, H, H_batch = mlp
    for op, ref in ((f.hessian_operator(w), H), (f.hessian_operator(w, idx), H_batch)):
        for method, probes in (("hutchinson", 200), ("hutch++", 90)):
            res = hessian_trace(op, method=method, n_probes=probes, confidence=0.99,
                                random_state=1)
            assert res.ci[0] <= np.trace(ref) <= res.ci[1]
            assert res.n_matvec == probes


def test_density_moments_match_the_dense_spectrum(mlp):
    f, w, _, H, _ = mlp
    d = f.n_features
    lam = np.linalg.eigvalsh(H)
    K = 30
    res = spectral_density(f.hessian_operator(w), n_vectors=K, n_steps=12, random_state=2)
    nodes, weights = res.nodes, res.weights
    for th, wt in zip(nodes, weights, strict=True):
        # Gauss quadrature of a unit start vector: weights sum to one, nodes are Ritz
        # values, inside the spectrum (interlacing).
        assert abs(wt.sum() - 1) <= 1e3 * EPS
        assert lam[0] - 1e-10 <= th.min() and th.max() <= lam[-1] + 1e-10
    # d * sum_j w_j theta_j^p is z^T H^p z for the run's Rademacher z (exact for
    # p < 2 n_steps): a Hutchinson estimate of tr(H^p), whose variance is
    # 2 (||H^p||_F^2 - sum_i (H^p)_ii^2) per probe.  Chebyshev at 99.9%.
    for p in (1, 2, 3):
        est = np.mean([d * (wt @ th**p) for th, wt in zip(nodes, weights, strict=True)])
        A = np.linalg.matrix_power(H, p)
        sd = np.sqrt(2 * (np.sum(A**2) - np.sum(np.diag(A) ** 2)) / K)
        assert abs(est - np.trace(A)) <= sd / np.sqrt(1e-3) + 1e-9 * np.abs(lam).max() ** p
    # The smoothed density integrates to one and keeps the nodes' mean.
    dens, grid = res.density, res.grid
    assert abs(np.trapezoid(dens, grid) - 1) <= 1e-3
    mean_nodes = np.mean([wt @ th for th, wt in zip(nodes, weights, strict=True)])
    assert abs(np.trapezoid(grid * dens, grid) - mean_nodes) <= 1e-3 * np.abs(lam).max()


def test_lanczos_with_the_full_dimension_recovers_the_extremes(mlp):
    f, w, _, H, _ = mlp
    lam = np.linalg.eigvalsh(H)
    res = spectral_density(f.hessian_operator(w), n_vectors=1, n_steps=f.n_features,
                           random_state=3)
    th = res.nodes[0]
    scale = np.abs(lam).max()
    assert abs(th.max() - lam[-1]) <= 1e-8 * scale and abs(th.min() - lam[0]) <= 1e-8 * scale


def test_the_objective_itself_is_refused_with_the_way_in(mlp):
    f, w, _, _, _ = mlp
    with pytest.raises(TypeError, match="hessian_operator"):
        hessian_eigenvalues(f)
    with pytest.raises(TypeError, match="hessian_operator"):
        hessian_trace(f, f.n_features)
