"""Hessian spectra against dense eigh / trace."""

import numpy as np
import pytest
from scipy.sparse.linalg import aslinearoperator

from randopt.norms import hessian_eigenvalues, hessian_trace, spectral_density


@pytest.fixture
def sym(rng):
    A = rng.standard_normal((150, 150))
    return 0.5 * (A + A.T)


@pytest.mark.parametrize("which", ["LA", "SA", "LM"])
def test_eigenvalues_match_eigh(sym, which):
    ev = np.linalg.eigvalsh(sym)
    ref = {"LA": ev[::-1], "SA": ev, "LM": ev[np.argsort(-np.abs(ev))]}[which][:3]
    res = hessian_eigenvalues(lambda v: sym @ v, 150, k=3, which=which, random_state=0,
                              return_eigenvectors=True)
    np.testing.assert_allclose(res.eigenvalues, ref, atol=1e-7 * np.abs(ev).max())
    # Residual bound: an eigenvalue of H within ||r|| of each Ritz value.
    for theta, r in zip(res.eigenvalues, res.residuals, strict=True):
        assert np.min(np.abs(ev - theta)) <= r + 1e-12
    assert res.eigenvectors.shape == (150, 3)
    assert res.n_hvp > 0


def test_operator_and_matrix_inputs_and_small_dense_path(sym, rng):
    top = np.linalg.eigvalsh(sym)[-1]
    res = hessian_eigenvalues(aslinearoperator(sym), random_state=0)
    assert np.isclose(res.eigenvalues[0], top)
    assert np.isclose(hessian_eigenvalues(sym, random_state=0).eigenvalues[0], top)
    small = np.diag([3.0, -1.0, 2.0])
    assert hessian_eigenvalues(small, k=3).eigenvalues.tolist() == [3.0, 2.0, -1.0]


def test_trace_hutch_pp_exact_on_low_rank(rng):
    B = rng.standard_normal((200, 10))
    H = B @ B.T
    res = hessian_trace(lambda v: H @ v, 200, method="hutch++", n_samples=60, random_state=0)
    assert np.isclose(res.trace, np.trace(H), rtol=1e-10)


def test_trace_hutchinson_interval(rng):
    d = rng.uniform(1, 2, 300)
    Q, _ = np.linalg.qr(rng.standard_normal((300, 300)))
    H = (Q * d) @ Q.T
    true = np.trace(H)
    res = hessian_trace(H, method="hutchinson", n_samples=200, random_state=0)
    lo, hi = res.ci
    assert lo <= true <= hi
    assert abs(res.trace - true) <= 4 * res.std_error
    # Diagonal H: Rademacher probes are exact.
    D = np.diag(d)
    assert np.isclose(hessian_trace(D, n_samples=5, random_state=0).trace, d.sum(), rtol=1e-12)
    early = hessian_trace(H, n_samples=1000, rtol=0.05, random_state=0)
    assert early.n_hvp < 1000


def test_spectral_density_quadrature_moments(rng):
    # Diagonal H and normalised Rademacher starts: v^T H^p v = tr(H^p) / n exactly, and
    # Gauss quadrature with m nodes integrates t^p exactly for p < 2 m.
    d = np.sort(rng.uniform(-1, 3, 120))
    res = spectral_density(np.diag(d), n_vectors=3, n_steps=10, random_state=0)
    for nodes, w in zip(res.nodes, res.weights, strict=True):
        assert np.isclose(w.sum(), 1.0)
        for p in range(1, 19):
            assert np.isclose(np.sum(w * nodes**p), np.mean(d**p), rtol=1e-8, atol=1e-10)
    assert abs(np.trapezoid(res.density, res.grid) - 1) < 1e-3


def test_spectral_density_resolves_few_distinct_eigenvalues(rng):
    vals = np.repeat([-2.0, 0.5, 4.0], [50, 30, 20])
    Q, _ = np.linalg.qr(rng.standard_normal((100, 100)))
    H = (Q * vals) @ Q.T
    res = spectral_density(lambda v: H @ v, 100, n_vectors=4, n_steps=20, random_state=0)
    nodes = np.concatenate(res.nodes)
    assert np.all(np.min(np.abs(nodes[:, None] - np.array([-2.0, 0.5, 4.0])), axis=1) < 1e-8)
    mass = np.mean([w[np.argmin(np.abs(n - 4.0))] for n, w in zip(res.nodes, res.weights,
                                                                    strict=True)])
    assert abs(mass - 0.2) < 0.15


def test_bad_input(sym):
    with pytest.raises(ValueError, match="square"):
        hessian_eigenvalues(np.ones((3, 4)))
    with pytest.raises(ValueError, match="dim"):
        hessian_eigenvalues(lambda v: v)
    with pytest.raises(ValueError, match="length"):
        hessian_eigenvalues(lambda v: np.ones(3), 5)
    with pytest.raises(ValueError, match="NaN"):
        hessian_trace(lambda v: v * np.nan, 5)
    with pytest.raises(ValueError, match="which"):
        hessian_eigenvalues(sym, which="BE")
    with pytest.raises(ValueError, match="method"):
        hessian_trace(sym, method="girard")
    with pytest.raises(ValueError, match="does not match"):
        hessian_trace(sym, 10)

    class Oracle:
        def hessp(self, w, v):
            return v

    with pytest.raises(TypeError, match="lambda"):
        hessian_trace(Oracle(), 5)
