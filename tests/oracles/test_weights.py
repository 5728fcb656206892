"""Sample weights and the penalty mask of FiniteSum against repeated rows and numpy."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit

from randopt.oracles import (
    FiniteSum,
    HalfSquaredLoss,
    HessianSampler,
    LogisticLoss,
    SigmoidLeastSquaresLoss,
)
from randopt.sketch import Sample

LOSSES = [SigmoidLeastSquaresLoss(), LogisticLoss(), HalfSquaredLoss()]


def _problem(rng, sparse, n=60, d=4):
    X = rng.standard_normal((n, d))
    if sparse:
        X[rng.random(X.shape) < 0.5] = 0.0
        X = sp.csr_matrix(X)
    y = (rng.random(n) < 0.5).astype(float)
    counts = rng.integers(0, 4, n)
    counts[0] = 2  # not all equal, at least one row repeated
    return X, y, counts


def _repeat(X, counts):
    rows = np.repeat(np.arange(X.shape[0]), counts)
    return X[rows]


@pytest.mark.parametrize("loss", LOSSES, ids=lambda l: l.name)
@pytest.mark.parametrize("sparse", [False, True])
def test_integer_weights_equal_repeated_rows(rng, loss, sparse):
    X, y, counts = _problem(rng, sparse)
    mask = np.array([1, 1, 0, 1], dtype=bool)
    opts = dict(alpha=0.3, penalty_mask=mask)
    weighted = FiniteSum(X, y, loss, sample_weight=counts, **opts)
    repeated = FiniteSum(_repeat(X, counts), np.repeat(y, counts), loss, **opts)
    w = 0.7 * rng.standard_normal(4)
    ev_w, ev_r = weighted.evaluate(w), repeated.evaluate(w)
    assert ev_w.fun == pytest.approx(ev_r.fun, rel=1e-13)
    np.testing.assert_allclose(ev_w.grad, ev_r.grad, rtol=1e-12, atol=1e-15)
    H = weighted.hessian(w)
    np.testing.assert_allclose(H, repeated.hessian(w), rtol=1e-12, atol=1e-15)
    v = rng.standard_normal(4)
    np.testing.assert_allclose(weighted.hessp(w, v), H @ v, rtol=1e-12, atol=1e-15)
    # A sample of every row with unit weights is the full weighted Hessian.
    every = Sample(np.arange(X.shape[0]), np.ones(X.shape[0]))
    np.testing.assert_allclose(weighted.hessian(w, sample=every), H, rtol=1e-12, atol=1e-15)


def test_weighted_objective_against_numpy(rng):
    X, y, _ = _problem(rng, False)
    sw = rng.uniform(0.0, 3.0, X.shape[0])
    mask = np.array([1.0, 0.0, 1.0, 1.0])
    alpha = 0.2
    f = FiniteSum(X, y, SigmoidLeastSquaresLoss(), alpha=alpha, sample_weight=sw,
                  penalty_mask=mask)
    w = rng.standard_normal(4)
    s = expit(X @ w)
    c = sw / sw.sum()
    value = c @ (y - s) ** 2 + 0.5 * alpha * np.sum((mask * w) ** 2)
    grad = X.T @ (c * 2 * (s - y) * s * (1 - s)) + alpha * mask * w
    assert f.value(w) == pytest.approx(value, rel=1e-13)
    np.testing.assert_allclose(f.gradient(w), grad, rtol=1e-12)
    # Finite differences of the gradient check the weighted Hessian independently.
    h = 1e-6
    fd = np.column_stack([(f.gradient(w + h * e) - f.gradient(w - h * e)) / (2 * h)
                          for e in np.eye(4)])
    np.testing.assert_allclose(f.hessian(w), fd, rtol=1e-6, atol=1e-9)
    # The masked coordinate has no penalty on the diagonal.
    unpenalised = FiniteSum(X, y, SigmoidLeastSquaresLoss(), sample_weight=sw)
    np.testing.assert_allclose(np.diag(f.hessian(w) - unpenalised.hessian(w)),
                               alpha * mask, atol=1e-14)
    # Sampled gradient: sum_k omega_k c_i l'_i a_i.
    idx = np.array([3, 3, 10, 59])
    omega = np.array([2.0, 1.0, 0.5, 4.0])
    g_s = f.gradient(w, sample=Sample(idx, omega))
    ref = X[idx].T @ (omega * c[idx] * 2 * (s - y)[idx] * (s * (1 - s))[idx])
    np.testing.assert_allclose(g_s, ref + alpha * mask * w, rtol=1e-12)


def test_weighted_nonuniform_probabilities_and_unbiasedness(rng):
    X, y, _ = _problem(rng, False, n=80)
    sw = rng.uniform(0.0, 2.0, 80)
    sw[:5] = 0.0  # rows that do not count are never sampled
    f = FiniteSum(X, y, LogisticLoss(), sample_weight=sw)
    w = rng.standard_normal(4)
    ev = f.evaluate(w)
    s = expit(X @ w)
    p = sw * s * (1 - s) * np.einsum("ij,ij->i", X, X)
    np.testing.assert_allclose(f.hessian_probabilities(ev), p / p.sum(), rtol=1e-12)
    sampler = HessianSampler(f, "nonuniform", 10)
    draws = np.array([f.hessian(w, sample=sampler.draw(ev, rng)) for _ in range(3000)])
    assert not np.isin(np.arange(5), sampler.draw(ev, rng).indices).any()
    se = draws.std(axis=0) / np.sqrt(draws.shape[0])
    assert np.all(np.abs(draws.mean(axis=0) - f.hessian(w)) <= 5 * se + 1e-14)


def test_equal_weights_are_the_unweighted_objective(rng):
    X, y, _ = _problem(rng, True)
    w = rng.standard_normal(4)
    plain = FiniteSum(X, y, LogisticLoss())
    scaled = FiniteSum(X, y, LogisticLoss(), sample_weight=np.full(X.shape[0], 7.0))
    assert scaled.sample_weight is None
    assert scaled.value(w) == plain.value(w)
    np.testing.assert_array_equal(scaled.hessian(w), plain.hessian(w))


def test_weight_and_mask_validation(rng):
    X, y, _ = _problem(rng, False, n=10)
    loss = LogisticLoss()
    with pytest.raises(ValueError, match="sample_weight must be non-negative"):
        FiniteSum(X, y, loss, sample_weight=np.r_[-1.0, np.ones(9)])
    with pytest.raises(ValueError, match="sample_weight contains NaN"):
        FiniteSum(X, y, loss, sample_weight=np.r_[np.nan, np.ones(9)])
    with pytest.raises(ValueError, match="positive sum"):
        FiniteSum(X, y, loss, sample_weight=np.zeros(10))
    with pytest.raises(ValueError, match="sample_weight has 9 rows"):
        FiniteSum(X, y, loss, sample_weight=np.ones(9))
    with pytest.raises(ValueError, match="sample_weight must be 1-D"):
        FiniteSum(X, y, loss, sample_weight=np.ones((10, 2)))
    with pytest.raises(ValueError, match="penalty_mask has length 3, expected 4"):
        FiniteSum(X, y, loss, penalty_mask=np.ones(3))
    with pytest.raises(ValueError, match="penalty_mask must hold booleans or 0/1"):
        FiniteSum(X, y, loss, penalty_mask=np.array([1.0, 0.5, 1.0, 1.0]))
    caller = np.array([1.0, 2.0] * 5)
    kept = caller.copy()
    f = FiniteSum(X, y, loss, sample_weight=caller, alpha=1.0)
    f.hessian(np.ones(4))
    np.testing.assert_array_equal(caller, kept)
