"""lstsq, leverage scores, spectral norm and the finite-sum oracles on Dask arrays."""

import numpy as np
import pytest

da = pytest.importorskip("dask.array")

import randopt  # noqa: E402
from randopt.norms import spectral_norm  # noqa: E402
from randopt.optimize import arc, trust_region  # noqa: E402
from randopt.oracles import (  # noqa: E402
    FiniteSum,
    LogisticLoss,
    LogisticObjective,
    SigmoidLeastSquaresObjective,
)
from randopt.sketch import leverage_scores  # noqa: E402

N, D = 200_000, 20


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((N, D)) * np.logspace(0, 3, D)  # cond(A) about 1e3
    A[:4] *= 50.0  # a few high-leverage rows
    b = A @ rng.standard_normal(D) + rng.standard_normal(N)
    return A, b, da.from_array(A, chunks=(45_000, D)), da.from_array(b, chunks=(60_000,))


@pytest.mark.parametrize(
    "opts", [{}, {"sketch": "srht"}, {"solver": "lsqr"}, {"alpha": 2.0}, {"method": "ihs"}]
)
def test_lstsq_matches_in_memory_and_numpy(problem, opts, synchronous):
    A, b, Ad, bd = problem
    res = randopt.lstsq(Ad, bd, random_state=0, **opts)
    mem = randopt.lstsq(A, b, random_state=0, **opts)
    alpha = opts.get("alpha", 0.0)
    ref = np.linalg.solve(A.T @ A + alpha * np.eye(D), A.T @ b)
    assert res.converged and res.nit == mem.nit
    assert np.abs(res.x - mem.x).max() <= 1e-11 * np.abs(mem.x).max()
    assert np.abs(res.x - ref).max() <= 1e-9 * np.abs(ref).max()
    assert abs(res.residual_norm - np.linalg.norm(b - A @ res.x)) <= 1e-9 * res.residual_norm


def test_lstsq_on_cluster(problem, client):
    A, b, Ad, bd = problem
    res = randopt.lstsq(Ad, bd, random_state=0)
    ref = np.linalg.lstsq(A, b, rcond=None)[0]
    assert res.converged
    assert np.abs(res.x - ref).max() <= 1e-9 * np.abs(ref).max()
    # b may also be an in-memory vector.
    assert np.allclose(randopt.lstsq(Ad, b, random_state=0).x, res.x, rtol=0, atol=1e-12)


def test_lstsq_rejects_nonfinite(problem, synchronous):
    A, b, _, _ = problem
    bad = A.copy()
    bad[123_456, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        randopt.lstsq(da.from_array(bad, chunks=(50_000, D)), b, random_state=0)
    with pytest.raises(ValueError, match="rows"):
        randopt.lstsq(da.from_array(A, chunks=(50_000, D)), b[:-1], random_state=0)


@pytest.mark.parametrize("method", ["exact", "approx"])
def test_leverage_scores(problem, method, synchronous):
    A, _, Ad, _ = problem
    got = leverage_scores(Ad, method=method, random_state=0)
    assert isinstance(got, da.Array)
    got = got.compute()
    mem = leverage_scores(A, method=method, random_state=0)
    assert np.abs(got - mem).max() <= 1e-10 * mem.max()
    if method == "exact":
        Q = np.linalg.qr(A)[0]
        assert np.abs(got - np.einsum("ij,ij->i", Q, Q)).max() < 1e-10


@pytest.mark.parametrize("method", ["lanczos", "randomized", "power"])
def test_spectral_norm(problem, method, synchronous):
    A, _, Ad, _ = problem
    exact = np.linalg.norm(A, 2)
    res = spectral_norm(Ad, method=method, random_state=0)
    mem = spectral_norm(A, method=method, random_state=0)
    assert abs(res.norm - mem.norm) <= 1e-10 * exact
    assert res.lower <= exact * (1 + 1e-12) and exact <= res.upper * (1 + 1e-12)
    assert abs(res.norm / exact - 1) < 1e-4


@pytest.fixture(scope="module")
def classification():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((60_000, 8))
    y = (X @ rng.standard_normal(8) + 0.5 * rng.standard_normal(60_000) > 0).astype(float)
    return X, y, da.from_array(X, chunks=(13_000, 8)), da.from_array(2 * y - 1, chunks=20_000)


@pytest.mark.parametrize("cls", [SigmoidLeastSquaresObjective, LogisticObjective])
def test_oracles_match_in_memory(classification, cls, synchronous):
    X, y, Xd, yd = classification
    f, fd = cls(X, y, alpha=1e-3), cls(Xd, yd, alpha=1e-3)
    w = np.linspace(-0.3, 0.3, 8)
    assert abs(fd.value(w) - f.value(w)) < 1e-13
    assert np.abs(fd.gradient(w) - f.gradient(w)).max() < 1e-13
    assert np.abs(fd.hessian(w) - f.hessian(w)).max() < 1e-13
    idx = np.array([59_999, 3, 3, 40_000, 17])
    assert np.abs(fd.hessian(w, sample=idx) - f.hessian(w, sample=idx)).max() < 1e-13
    assert np.allclose(fd.hessp(w, w, sample=idx), f.hessp(w, w, sample=idx), atol=1e-13)
    assert np.allclose(fd.gradient(w, sample=idx), f.gradient(w, sample=idx), atol=1e-13)
    # Finite differences of the Dask value check the Dask gradient independently.
    e = np.eye(8)[2] * 1e-6
    fdiff = (fd.value(w + e) - fd.value(w - e)) / 2e-6
    assert abs(fdiff - fd.gradient(w)[2]) < 1e-7
    with pytest.raises(TypeError, match="uniform"):
        trust_region(fd, np.zeros(8), hessian_sampling="nonuniform", max_iter=2)


def test_weighted_masked_oracles_match_in_memory(classification, synchronous):
    X, y, Xd, yd = classification
    sw = np.random.default_rng(5).uniform(0.0, 2.0, X.shape[0])
    mask = np.arange(8) != 3
    opts = dict(alpha=1e-2, penalty_mask=mask)
    f = FiniteSum(X, y, LogisticLoss(), sample_weight=sw, **opts)
    w = np.linspace(-0.3, 0.3, 8)
    for weights in (sw, da.from_array(sw, chunks=25_000)):
        fd = FiniteSum(Xd, yd, LogisticLoss(), sample_weight=weights, **opts)
        assert abs(fd.value(w) - f.value(w)) < 1e-13
        assert np.abs(fd.gradient(w) - f.gradient(w)).max() < 1e-13
        assert np.abs(fd.hessian(w) - f.hessian(w)).max() < 1e-13
        assert np.abs(fd.hessp(w, w) - f.hessp(w, w)).max() < 1e-13
        idx = np.array([59_999, 3, 3, 40_000, 17])
        assert np.abs(fd.hessian(w, sample=idx) - f.hessian(w, sample=idx)).max() < 1e-13
        assert np.abs(fd.gradient(w, sample=idx) - f.gradient(w, sample=idx)).max() < 1e-13
    # The masked coordinate is unpenalised: its diagonal entry has no alpha.
    plain = FiniteSum(X, y, LogisticLoss(), sample_weight=sw)
    assert np.allclose(np.diag(fd.hessian(w) - plain.hessian(w)), 1e-2 * mask, atol=1e-15)
    with pytest.raises(ValueError, match="non-negative"):
        FiniteSum(Xd, yd, LogisticLoss(), sample_weight=-sw)


def test_bad_labels_in_dask_targets_raise_on_first_pass(classification, synchronous):
    _, _, Xd, _ = classification
    f = SigmoidLeastSquaresObjective(Xd, da.full(Xd.shape[0], 2.0, chunks=20_000))
    with pytest.raises(ValueError, match="binary labels"):
        f.value(np.zeros(8))


@pytest.mark.parametrize("solver", [trust_region, arc])
def test_subsampled_solvers_on_cluster(classification, solver, client):
    X, y, Xd, yd = classification
    res = solver(SigmoidLeastSquaresObjective(Xd, yd), np.zeros(8), random_state=0, max_iter=15)
    mem = solver(SigmoidLeastSquaresObjective(X, y), np.zeros(8), random_state=0, max_iter=15)
    assert res.nit == mem.nit
    assert np.abs(res.x - mem.x).max() < 1e-9
    assert abs(res.fun - mem.fun) < 1e-12
