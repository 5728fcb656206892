"""Hessian spectra against dense eigh / trace."""

from fractions import Fraction

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
    assert res.n_matvec > 0


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
    res = hessian_trace(lambda v: H @ v, 200, method="hutch++", n_probes=60, random_state=0)
    assert np.isclose(res.trace, np.trace(H), rtol=1e-10)
    assert res.ci[0] <= np.trace(H) <= res.ci[1] and res.n_matvec == 60


def test_trace_hutchinson_interval(rng):
    d = rng.uniform(1, 2, 300)
    Q, _ = np.linalg.qr(rng.standard_normal((300, 300)))
    H = (Q * d) @ Q.T
    true = np.trace(H)
    res = hessian_trace(H, method="hutchinson", n_probes=200, random_state=0)
    lo, hi = res.ci
    assert lo <= true <= hi
    assert abs(res.trace - true) <= 4 * res.std_error
    early = hessian_trace(H, n_probes=1000, rtol=0.05, random_state=0)
    assert early.n_matvec < 1000 and early.n_probes == early.n_matvec
    assert early.ci[1] - early.ci[0] <= 2 * 0.05 * abs(early.trace) * (1 + 1e-12)


def test_trace_interval_on_a_diagonal_hessian_has_the_rounding_width(rng):
    # Regression: Rademacher probes of a diagonal H all equal sum(d) up to rounding, so the
    # sample interval had zero width and could miss the exact trace.
    d = rng.uniform(1, 2, 300) / 3
    res = hessian_trace(np.diag(d), n_probes=5, random_state=0)
    exact = sum(Fraction(x) for x in d)
    assert Fraction(res.ci[0]) <= exact <= Fraction(res.ci[1])
    assert 0 < res.ci[1] - res.ci[0] <= 1e-12 * abs(res.trace)


@pytest.mark.parametrize("kind", ["rank-one", "full"])
def test_trace_interval_coverage(kind):
    # Regression: the 95% interval covered 87% of the time on a rank-one Hessian at 10 probes.
    # 400 independent runs: a true coverage of 95% falls below 92% with probability < 1e-3.
    g = np.random.default_rng(0)
    if kind == "rank-one":
        u = g.standard_normal(60)
        H = np.outer(u, u)
    else:
        B = g.standard_normal((60, 60))
        H = B @ B.T / 60
    true = np.trace(H)
    hits = 0
    for seed in range(400):
        res = hessian_trace(H, n_probes=10, random_state=seed)
        hits += res.ci[0] <= true <= res.ci[1]
    assert hits / 400 >= 0.92


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


@pytest.mark.parametrize(
    "call, err, match",
    [
        (lambda H: hessian_trace(H, n_probes=1), ValueError, "n_probes"),
        (lambda H: hessian_trace(H, n_probes=None), TypeError, "n_probes"),
        (lambda H: hessian_trace(H, confidence=1.0), ValueError, "confidence"),
        (lambda H: hessian_trace(H, confidence=float("nan")), ValueError, "confidence"),
        (lambda H: hessian_trace(H, rtol=-0.1), ValueError, "rtol"),
        (lambda H: hessian_trace(H, method=None), ValueError, "method"),
        (lambda H: hessian_eigenvalues(H, k=0), ValueError, "k"),
        (lambda H: hessian_eigenvalues(H, k=2.0), TypeError, "k"),
        (lambda H: hessian_eigenvalues(H, max_iter=0), ValueError, "max_iter"),
        (lambda H: hessian_eigenvalues(H, tol=-1.0), ValueError, "tol"),
        (lambda H: hessian_eigenvalues(H, return_eigenvectors="yes"), TypeError,
         "return_eigenvectors"),
        (lambda H: spectral_density(H, n_steps=0), ValueError, "n_steps"),
        (lambda H: spectral_density(H, sigma=0.0), ValueError, "sigma"),
        (lambda H: spectral_density(H, sigma="wide"), TypeError, "sigma"),
        (lambda H: spectral_density(H, grid=[0.0, np.nan]), ValueError, "grid"),
        (lambda H: hessian_trace(lambda v: v, 4.5), TypeError, "dim"),
        (lambda H: hessian_trace(H, n_samples=10), TypeError, "n_samples"),
        (lambda H: hessian_eigenvalues(H, maxiter=10), TypeError, "maxiter"),
    ],
)
def test_bad_options(call, err, match, sym):
    with pytest.raises(err, match=match):
        call(sym)


@pytest.mark.parametrize("scale", [1e-200, 1e200])
def test_extreme_scales(scale, sym):
    ev = np.linalg.eigvalsh(sym)
    res = hessian_eigenvalues(sym * scale, k=2, random_state=0)
    np.testing.assert_allclose(res.eigenvalues / scale, ev[::-1][:2], rtol=1e-8)
    assert np.all(np.isfinite(res.residuals))
    tr = hessian_trace(sym * scale, n_probes=20, random_state=0)
    assert np.isfinite(tr.std_error) and tr.std_error > 0
    assert tr.ci[0] <= np.trace(sym) * scale <= tr.ci[1]
    # The same run as on the unscaled Hessian (rescaling by a power of two is exact).
    dens = spectral_density(sym * scale, n_vectors=2, n_steps=20, random_state=0)
    ref = spectral_density(sym, n_vectors=2, n_steps=20, random_state=0)
    np.testing.assert_allclose(np.concatenate(dens.nodes) / scale, np.concatenate(ref.nodes),
                               rtol=1e-9, atol=1e-9 * ev[-1])
    assert abs(np.trapezoid(dens.density, dens.grid) - 1) < 1e-3
