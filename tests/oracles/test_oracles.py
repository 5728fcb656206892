"""Finite-sum oracles against finite differences, dense numpy and closed forms."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import check_grad

from randopt.oracles import (
    CallableObjective,
    HessianSampler,
    LeastSquares,
    LogisticRegression,
    NonlinearLeastSquares,
)
from randopt.sketch import Sample

LOSSES = [NonlinearLeastSquares, LogisticRegression, LeastSquares]


def _data(rng, n=300, d=6, kind="dense"):
    X = rng.standard_normal((n, d))
    y = (rng.random(n) < 0.4).astype(float)
    if kind == "csr":
        X = sp.csr_matrix(X * (rng.random((n, d)) < 0.5))
    elif kind == "f32":
        X = X.astype(np.float32)
    return X, y


def _dense(X):
    return np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)


def _reference(cls, X, y, w, alpha):
    """Independent numpy value, gradient and Hessian."""
    A = _dense(X)
    n = A.shape[0]
    t = A @ w
    s = 0.5 * (1 + np.tanh(t / 2))  # sigmoid without overflow, another formula
    if cls is NonlinearLeastSquares:
        yy = (y > 0).astype(float)
        loss = np.mean((yy - s) ** 2)
        c = 2 * (s - yy) * s * (1 - s)
        D = 2 * ((s - yy) * s * (1 - s) * (1 - 2 * s) + s**2 * (1 - s) ** 2)
    elif cls is LogisticRegression:
        yy = (y > 0).astype(float)
        loss = np.mean(np.logaddexp(0, t) - yy * t)
        c = s - yy
        D = s * (1 - s)
    else:
        loss = 0.5 * np.mean((t - y) ** 2)
        c = t - y
        D = np.ones(n)
    f = loss + 0.5 * alpha * w @ w
    g = A.T @ c / n + alpha * w
    H = A.T @ (D[:, None] * A) / n + alpha * np.eye(A.shape[1])
    return f, g, H, D / n


@pytest.mark.parametrize("cls", LOSSES)
@pytest.mark.parametrize("kind", ["dense", "csr", "f32"])
def test_value_gradient_hessian_match_numpy_and_finite_differences(cls, kind, rng):
    X, y = _data(rng, kind=kind)
    alpha = 0.05
    obj = cls(X, y, alpha=alpha)
    w = 0.5 * rng.standard_normal(X.shape[1])
    f, g, H, D = _reference(cls, X, y, w, alpha)
    tol = 1e-12 if kind != "f32" else 1e-12  # f32 data, float64 accumulation
    assert obj.value(w) == pytest.approx(f, rel=tol, abs=tol)
    np.testing.assert_allclose(obj.gradient(w), g, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(obj.hessian(w), H, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(obj.hessian_weights(w), D, rtol=1e-10, atol=1e-15)
    # finite differences, independent of the formulas above
    assert check_grad(obj.value, obj.gradient, w) < 1e-6 * max(1, np.linalg.norm(g))
    v = rng.standard_normal(X.shape[1])
    eps = 1e-6
    fd = (obj.gradient(w + eps * v) - obj.gradient(w - eps * v)) / (2 * eps)
    np.testing.assert_allclose(obj.hessp(w, v), fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("kind", ["dense", "csr"])
def test_sampled_gradient_and_hessian_equal_dense_computation(kind, rng):
    X, y = _data(rng, kind=kind)
    obj = NonlinearLeastSquares(X, y, alpha=0.1)
    w = rng.standard_normal(X.shape[1])
    idx = np.sort(rng.choice(X.shape[0], 40, replace=True))
    wts = rng.random(40) * 5
    A = _dense(X)
    _, _, _, D = _reference(NonlinearLeastSquares, X, y, w, 0.1)  # D = l''/n
    H_ref = A[idx].T @ ((wts * D[idx])[:, None] * A[idx]) + 0.1 * np.eye(X.shape[1])
    np.testing.assert_allclose(obj.hessian(w, sample=Sample(idx, wts)), H_ref, rtol=1e-11)
    v = rng.standard_normal(X.shape[1])
    np.testing.assert_allclose(obj.hessp(w, v, sample=(idx, wts)), H_ref @ v, rtol=1e-11)
    # gradient on a sample with the Sample convention: estimate of the mean
    t = A[idx] @ w
    s = 1 / (1 + np.exp(-t))
    c = 2 * (s - y[idx]) * s * (1 - s)
    g_ref = A[idx].T @ (wts * c) / X.shape[0] + 0.1 * w
    np.testing.assert_allclose(obj.gradient(w, sample=(idx, wts)), g_ref, rtol=1e-11)
    # bare indices: plain average over the rows
    g_avg = A[idx].T @ c / len(idx) + 0.1 * w
    np.testing.assert_allclose(obj.gradient(w, sample=idx), g_avg, rtol=1e-11)


def test_no_overflow_for_huge_margins():
    X = np.array([[1e4, 0.0], [-1e4, 0.0], [800.0, 1.0], [-800.0, 1.0]])
    y = np.array([1, 0, 0, 1])
    w = np.array([1.0, 0.0])
    with np.errstate(all="raise"):
        for cls in (NonlinearLeastSquares, LogisticRegression):
            obj = cls(X, y)
            f, g = obj.value_and_gradient(w)
            assert np.isfinite(f) and np.isfinite(g).all()
            assert np.isfinite(obj.hessian(w)).all()
    # logistic: log(1 + e^800) - 0 = 800 for row 3; row 4: log(1+e^-800) + 800
    lr = LogisticRegression(X, y)
    assert lr.value(w) == pytest.approx((0 + 0 + 800 + 800) / 4, rel=1e-12)
    # NLS: rows 3 and 4 are wrong with saturated sigmoid: loss 1 each
    assert NonlinearLeastSquares(X, y).value(w) == pytest.approx(0.5, rel=1e-12)


def test_labels_pm1_are_mapped():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((50, 3))
    y01 = (rng.random(50) < 0.5).astype(float)
    w = rng.standard_normal(3)
    a = NonlinearLeastSquares(X, y01).value(w)
    b = NonlinearLeastSquares(X, 2 * y01 - 1).value(w)
    assert a == b


@pytest.mark.parametrize("scheme", ["uniform", "nonuniform"])
def test_sampled_hessian_is_unbiased(scheme):
    """Mean of many sampled Hessians -> full Hessian (within 5 standard errors)."""
    rng = np.random.default_rng(7)
    n, d = 200, 4
    X = rng.standard_normal((n, d)) * rng.exponential(1.0, (n, 1))
    y = (rng.random(n) < 0.5).astype(float)
    obj = NonlinearLeastSquares(X, y)
    w = rng.standard_normal(d)
    ev = obj.evaluate(w)
    H_full = obj.hessian_model(ev).toarray()
    sampler = HessianSampler(obj, scheme, 20)
    draws = np.array(
        [obj.hessian_model(ev, sample=sampler.draw(ev, rng)).toarray() for _ in range(4000)]
    )
    mean = draws.mean(axis=0)
    se = draws.std(axis=0) / np.sqrt(len(draws))
    assert np.all(np.abs(mean - H_full) <= 5 * se + 1e-12)
    if scheme == "nonuniform":
        # the importance weights really are 1/(s p_i): recompute p independently
        D = np.abs(obj.hessian_weights(w)) * np.einsum("ij,ij->i", X, X)
        p = D / D.sum()
        S = sampler.draw(ev, np.random.default_rng(0))
        np.testing.assert_allclose(S.weights, 1 / (20 * p[S.indices]), rtol=1e-12)


def test_callable_objective_matches_finite_sum(rng):
    X, y = _data(rng, n=80, d=4)
    fs = LogisticRegression(X, y, alpha=0.1)
    obj = CallableObjective(fs.value, fs.gradient, hessp=fs.hessp, n_features=4)
    w = rng.standard_normal(4)
    assert obj.value(w) == fs.value(w)
    np.testing.assert_allclose(obj.hessian(w), fs.hessian(w), rtol=1e-12, atol=1e-14)
    with pytest.raises(TypeError, match="cannot be sub-sampled"):
        obj.gradient(w, sample=np.arange(3))


def test_bad_input_raises_clear_errors(rng):
    X = rng.standard_normal((20, 3))
    with pytest.raises(ValueError, match="binary labels"):
        NonlinearLeastSquares(X, np.arange(20.0))
    with pytest.raises(ValueError, match="binary labels"):
        LogisticRegression(X, np.full(20, 2.0))
    Xn = X.copy()
    Xn[3, 1] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        NonlinearLeastSquares(Xn, np.zeros(20))
    with pytest.raises(ValueError, match="y has 19 rows"):
        LeastSquares(X, np.zeros(19))
    obj = LeastSquares(X, np.zeros(20))
    with pytest.raises(ValueError, match="w has length 4, expected 3"):
        obj.value(np.zeros(4))
    with pytest.raises(ValueError, match="sample indices must lie"):
        obj.gradient(np.zeros(3), sample=np.array([0, 20]))
    with pytest.raises(ValueError, match="hessian_sample_size must be between 1 and 20"):
        HessianSampler(obj, "uniform", 0)
    with pytest.raises(ValueError, match="hessian_sample_size must be between 1 and 20"):
        HessianSampler(obj, "uniform", 21)
    with pytest.raises(ValueError, match="fraction must lie in"):
        HessianSampler(obj, "uniform", 1.5)
    with pytest.raises(ValueError, match="hessian_sampling must be one of"):
        HessianSampler(obj, "leverage", 5)
    with pytest.raises(ValueError, match="alpha must be"):
        LeastSquares(X, np.zeros(20), alpha=-1)
