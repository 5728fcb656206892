"""Finite-sum oracles against finite differences, dense numpy and closed forms."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import check_grad

from randopt.oracles import (
    CallableObjective,
    Evaluation,
    FiniteSum,
    HessianSampler,
    LeastSquaresObjective,
    LogisticObjective,
    SigmoidLeastSquaresObjective,
)
from randopt.sketch import Sample

OBJECTIVES = [SigmoidLeastSquaresObjective, LogisticObjective, LeastSquaresObjective]


def _data(rng, n=300, d=6, kind="dense"):
    X = rng.standard_normal((n, d))
    y = (rng.random(n) < 0.4).astype(float)
    if kind == "csr":
        X = sp.csr_matrix(X * (rng.random((n, d)) < 0.5))
    elif kind == "csc":
        X = sp.csc_matrix(X * (rng.random((n, d)) < 0.5))
    elif kind == "f32":
        X = X.astype(np.float32)
    elif kind == "fortran":
        X = np.asfortranarray(X)
    return X, y


def _dense(X):
    return np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)


def _reference(cls, X, y, w, alpha):
    """Independent numpy value, gradient, Hessian and Hessian weights l''/n."""
    A = _dense(X)
    n = A.shape[0]
    t = A @ w
    s = 0.5 * (1 + np.tanh(t / 2))  # sigmoid without overflow, another formula
    if cls is SigmoidLeastSquaresObjective:
        yy = (y > 0).astype(float)
        loss = np.mean((yy - s) ** 2)
        c = 2 * (s - yy) * s * (1 - s)
        D = 2 * ((s - yy) * s * (1 - s) * (1 - 2 * s) + s**2 * (1 - s) ** 2)
    elif cls is LogisticObjective:
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


@pytest.mark.parametrize("cls", OBJECTIVES)
@pytest.mark.parametrize("kind", ["dense", "csr", "csc", "f32", "fortran"])
def test_value_gradient_hessian_match_numpy_and_finite_differences(cls, kind, rng):
    X, y = _data(rng, kind=kind)
    alpha = 0.05
    obj = cls(X, y, alpha=alpha)
    w = 0.5 * rng.standard_normal(X.shape[1])
    f, g, H, D = _reference(cls, X, y, w, alpha)
    # float64 accumulation of (float32-exact) data: only summation order differs
    assert obj.value(w) == pytest.approx(f, rel=1e-12, abs=1e-12)
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
    """H_S = (1/n) A_S^T diag(omega * l''_S) A_S + alpha I (the documented 1/n)."""
    X, y = _data(rng, kind=kind)
    obj = SigmoidLeastSquaresObjective(X, y, alpha=0.1)
    w = rng.standard_normal(X.shape[1])
    idx = rng.choice(X.shape[0], 40, replace=True)  # unsorted, with repeats
    wts = rng.random(40) * 5
    A = _dense(X)
    _, _, _, D = _reference(SigmoidLeastSquaresObjective, X, y, w, 0.1)  # D = l''/n
    H_ref = A[idx].T @ ((wts * D[idx])[:, None] * A[idx]) + 0.1 * np.eye(X.shape[1])
    np.testing.assert_allclose(obj.hessian(w, sample=Sample(idx, wts)), H_ref, rtol=1e-11)
    v = rng.standard_normal(X.shape[1])
    np.testing.assert_allclose(obj.hessp(w, v, sample=(idx, wts)), H_ref @ v, rtol=1e-11)
    # the same from an Evaluation (reused curvature) and explicit=False
    ev = obj.evaluate(w)
    model = obj.hessian_model(ev, sample=Sample(idx, wts), explicit=False)
    assert model.matrix is None and model.n_rows == 40
    np.testing.assert_allclose(model.toarray(), H_ref, rtol=1e-11)
    # gradient on a sample with the Sample convention: estimate of the mean
    t = A[idx] @ w
    s = 1 / (1 + np.exp(-t))
    c = 2 * (s - y[idx]) * s * (1 - s)
    g_ref = A[idx].T @ (wts * c) / X.shape[0] + 0.1 * w
    np.testing.assert_allclose(obj.gradient(w, sample=(idx, wts)), g_ref, rtol=1e-11)
    # bare indices: plain average over the rows
    g_avg = A[idx].T @ c / len(idx) + 0.1 * w
    np.testing.assert_allclose(obj.gradient(w, sample=idx), g_avg, rtol=1e-11)
    # a sampled gradient leaves the value exact
    ev_s = obj.evaluate(w, gradient_sample=Sample(idx, wts))
    assert ev_s.fun == ev.fun
    np.testing.assert_allclose(ev_s.curvature, ev.curvature, rtol=0, atol=0)


def test_no_overflow_for_huge_margins():
    X = np.array([[1e4, 0.0], [-1e4, 0.0], [800.0, 1.0], [-800.0, 1.0]])
    y = np.array([1, 0, 0, 1])
    w = np.array([1.0, 0.0])
    with np.errstate(all="raise"):
        for cls in (SigmoidLeastSquaresObjective, LogisticObjective):
            obj = cls(X, y)
            f, g = obj.value_and_gradient(w)
            assert np.isfinite(f) and np.isfinite(g).all()
            assert np.isfinite(obj.hessian(w)).all()
    # logistic: log(1 + e^800) - 0 = 800 for row 3; row 4: log(1+e^-800) + 800
    lr = LogisticObjective(X, y)
    assert lr.value(w) == pytest.approx((0 + 0 + 800 + 800) / 4, rel=1e-12)
    # NLS: rows 3 and 4 are wrong with saturated sigmoid: loss 1 each
    assert SigmoidLeastSquaresObjective(X, y).value(w) == pytest.approx(0.5, rel=1e-12)


def test_labels_pm1_are_mapped():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((50, 3))
    y01 = (rng.random(50) < 0.5).astype(float)
    w = rng.standard_normal(3)
    a = SigmoidLeastSquaresObjective(X, y01).value(w)
    b = SigmoidLeastSquaresObjective(X, 2 * y01 - 1).value(w)
    assert a == b
    # and they differ from a wrong mapping (-1 -> 1), so the check can fail
    assert SigmoidLeastSquaresObjective(X, 1 - y01).value(w) != a


@pytest.mark.parametrize("scheme", ["uniform", "nonuniform"])
def test_sampled_hessian_is_unbiased(scheme):
    """Mean of many sampled Hessians -> full Hessian (within 5 standard errors)."""
    rng = np.random.default_rng(7)
    n, d = 200, 4
    X = rng.standard_normal((n, d)) * rng.exponential(1.0, (n, 1))
    y = (rng.random(n) < 0.5).astype(float)
    obj = SigmoidLeastSquaresObjective(X, y)
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
    # The test has the power to see a wrong scale: 1.5 times the mean is rejected.
    assert np.any(np.abs(1.5 * mean - H_full) > 5 * se)
    if scheme == "nonuniform":
        # the importance weights really are 1/(s p_i): recompute p independently
        D = np.abs(obj.hessian_weights(w)) * np.einsum("ij,ij->i", X, X)
        p = D / D.sum()
        S = sampler.draw(ev, np.random.default_rng(0))
        np.testing.assert_allclose(S.weights, 1 / (20 * p[S.indices]), rtol=1e-12)


def test_callable_objective_matches_finite_sum(rng):
    X, y = _data(rng, n=80, d=4)
    fs = LogisticObjective(X, y, alpha=0.1)
    obj = CallableObjective(fs.value, fs.gradient, hessp=fs.hessp, n_features=4)
    w = rng.standard_normal(4)
    assert obj.value(w) == fs.value(w)
    np.testing.assert_allclose(obj.hessian(w), fs.hessian(w), rtol=1e-12, atol=1e-14)
    with pytest.raises(TypeError, match="cannot be sub-sampled"):
        obj.gradient(w, sample=np.arange(3))
    with pytest.raises(ValueError, match="w has length 5, expected 4"):
        obj.evaluate(np.zeros(5))


def test_callers_sparse_matrix_is_not_modified(rng):
    """Unsorted indices and duplicates: the objective works on a copy."""
    data = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    indices = np.array([2, 0, 2, 1, 0])  # row 0 unsorted, with a duplicate column 2
    indptr = np.array([0, 3, 5])
    X = sp.csr_matrix((data, indices, indptr), shape=(2, 3))
    before = (X.data.copy(), X.indices.copy(), X.indptr.copy())
    obj = LeastSquaresObjective(X, np.array([1.0, -1.0]))
    w = np.array([0.5, -1.0, 2.0])
    dense = np.array([[2.0, 0.0, 4.0], [5.0, 4.0, 0.0]])  # duplicates summed
    r = dense @ w - np.array([1.0, -1.0])
    assert obj.value(w) == pytest.approx(0.25 * r @ r, rel=1e-14)
    np.testing.assert_allclose(obj.hessian(w), dense.T @ dense / 2, rtol=1e-14)
    for got, kept in zip((X.data, X.indices, X.indptr), before, strict=True):
        np.testing.assert_array_equal(got, kept)
    assert not X.has_sorted_indices


def test_solver_protocol_validates_its_inputs(rng):
    X, y = _data(rng, n=30, d=3)
    obj = SigmoidLeastSquaresObjective(X, y)
    w = np.zeros(3)
    with pytest.raises(ValueError, match="w has length 4, expected 3"):
        obj.evaluate(np.zeros(4))
    with pytest.raises(ValueError, match="sample indices must lie in"):
        obj.evaluate(w, gradient_sample=Sample(np.array([0, 30]), np.ones(2)))
    with pytest.raises(ValueError, match="sample indices must lie in"):
        obj.hessian_model(w, sample=Sample(np.array([-1]), np.ones(1)))
    with pytest.raises(ValueError, match="sample weights has length 1, expected 2"):
        obj.hessian_model(w, sample=Sample(np.array([0, 1]), np.ones(1)))
    with pytest.raises(TypeError, match="integers"):
        obj.hessian_model(w, sample=np.array([0.5]))
    other = SigmoidLeastSquaresObjective(X[:20], y[:20]).evaluate(w)
    with pytest.raises(ValueError, match="another objective"):
        obj.hessian_model(other)
    with pytest.raises(ValueError, match="another objective"):
        obj.hessian_probabilities(other)
    bad = Evaluation(np.zeros(2), 0.0, None, None)
    with pytest.raises(ValueError, match="w has length 2"):
        obj.hessian_model(bad)
    with pytest.raises(TypeError, match="need_grad"):
        obj.evaluate(w, need_grad="yes")
    with pytest.raises(ValueError, match="NaN"):
        obj.evaluate(np.array([0.0, np.nan, 0.0]))


def test_bad_input_raises_clear_errors(rng):
    X = rng.standard_normal((20, 3))
    with pytest.raises(ValueError, match="binary labels"):
        SigmoidLeastSquaresObjective(X, np.arange(20.0))
    with pytest.raises(ValueError, match="binary labels"):
        LogisticObjective(X, np.full(20, 2.0))
    Xn = X.copy()
    Xn[3, 1] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        SigmoidLeastSquaresObjective(Xn, np.zeros(20))
    with pytest.raises(ValueError, match="y has 19 rows"):
        LeastSquaresObjective(X, np.zeros(19))
    with pytest.raises(ValueError, match="y contains NaN"):
        LeastSquaresObjective(X, np.full(20, np.nan))
    with pytest.raises(TypeError, match="loss must be a randopt.oracles.Loss"):
        FiniteSum(X, np.zeros(20), "logistic")
    with pytest.raises(TypeError, match="X"):
        from scipy.sparse.linalg import aslinearoperator

        LeastSquaresObjective(aslinearoperator(X), np.zeros(20))
    obj = LeastSquaresObjective(X, np.zeros(20))
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
    with pytest.raises(ValueError, match="alpha must"):
        LeastSquaresObjective(X, np.zeros(20), alpha=-1)
    with pytest.raises(TypeError, match="alpha must"):
        LeastSquaresObjective(X, np.zeros(20), alpha="big")


@pytest.mark.data
def test_ijcnn1_oracles_match_scipy_sparse(ijcnn1_path):
    """The fused pass on the papers' data set against an independent scipy.sparse computation."""
    from randopt.datasets import load_ijcnn1

    X, y = load_ijcnn1("train", data_home=ijcnn1_path.parent)
    f = SigmoidLeastSquaresObjective(X, y)
    w = np.random.default_rng(0).standard_normal(X.shape[1]) * 0.1
    ev = f.evaluate(w)
    s = 0.5 * (1 + np.tanh(0.5 * (X @ w)))
    t = (np.asarray(y) > 0).astype(float)
    assert ev.fun == pytest.approx(np.mean((t - s) ** 2), rel=1e-12)
    c = 2 * (s - t) * s * (1 - s)
    np.testing.assert_allclose(ev.grad, X.T @ c / X.shape[0], rtol=1e-10, atol=1e-15)
    idx = np.random.default_rng(1).choice(X.shape[0], 2500, replace=False)
    D = 2 * ((s - t) * s * (1 - s) * (1 - 2 * s) + (s * (1 - s)) ** 2)
    Xs = X[idx].toarray()
    H_ref = Xs.T @ (D[idx, None] * Xs) / 2500
    np.testing.assert_allclose(f.hessian(w, sample=idx), H_ref, rtol=1e-10, atol=1e-14)


def test_hessian_model_cost_accounting(rng):
    """n_rows is what one product touches; n_products counts products (d for toarray)."""
    X, y = _data(rng, n=50, d=4)
    obj = LogisticObjective(X, y, alpha=0.1)
    w = rng.standard_normal(4)
    full = obj.hessian_model(w, explicit=False)
    sampled = obj.hessian_model(w, sample=np.array([1, 5, 5, 9]), explicit=False)
    assert (full.n_rows, sampled.n_rows) == (50, 4)
    for _ in range(3):
        sampled.matvec(np.ones(4))
    assert sampled.n_products == 3
    H = sampled.toarray()
    assert sampled.n_products == 3 + 4
    # the matrix formed from products is the explicit sampled Hessian
    np.testing.assert_allclose(
        H, obj.hessian_model(w, sample=np.array([1, 5, 5, 9])).toarray(), rtol=1e-12
    )
    explicit = obj.hessian_model(w)
    assert explicit.matrix is not None and explicit.n_products == 0
