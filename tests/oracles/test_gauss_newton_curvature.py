"""Gauss-Newton matrices of finite sums against independent dense references.

The reference for the non-linear least squares is ``J^T J`` of a central
finite-difference Jacobian of the residual vector (so that neither the loss's
formula nor the Gram kernels enter it); for the convex losses it is the
Hessian. Sub-sampled matrices are checked for unbiasedness by exact
enumeration of the sampling distribution, not by Monte Carlo.
"""

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from randopt.operands import as_operand
from randopt.oracles import (
    CallableObjective,
    FiniteSum,
    HalfSquaredLoss,
    LogisticLoss,
    Loss,
    SigmoidLeastSquaresLoss,
)
from randopt.sketch import Sample

EPS = np.finfo(np.float64).eps
SIGMA2_MAX = 1 / (6 * np.sqrt(3))  # max |sigmoid''|
SIGMA3_MAX = 1 / 8  # max |sigmoid'''| (at t = 0)


def sigmoid(t):
    return 0.5 * (1 + np.tanh(t / 2))  # another formula than the package's expit


def _problem(rng, n=40, d=5, kind="dense", weighted=True):
    X = rng.standard_normal((n, d))
    if kind == "csr":
        X = sp.csr_matrix(X * (rng.random((n, d)) < 0.6))
    y = (rng.random(n) < 0.4).astype(float)
    sw = rng.integers(1, 4, n).astype(float) if weighted else None
    mask = np.array([True] * (d - 1) + [False])
    return X, y, sw, mask


def _residuals(A, y, c, w):
    """``R(w)`` with ``sum_i c_i (sigmoid(a_i^T w) - y_i)^2 = ||R||^2 / 2``."""
    return np.sqrt(2 * c) * (sigmoid(A @ w) - y)


def _fd_gauss_newton(A, y, c, w, rows=None, omega=None):
    """``J^T J`` from a central-difference Jacobian, and a bound on its error."""
    n, d = A.shape
    h = EPS ** (1 / 3)
    J = np.empty((n, d))
    for j in range(d):
        e = np.zeros(d)
        e[j] = h
        J[:, j] = (_residuals(A, y, c, w + e) - _residuals(A, y, c, w - e)) / (2 * h)
    # Truncation h^2/6 |R'''| (R_i''' = sqrt(2 c_i) sigmoid''' a_ij^3) plus rounding eps/h.
    bound = np.sqrt(2 * c)[:, None] * (h**2 / 6 * SIGMA3_MAX * np.abs(A) ** 3 + 4 * EPS / h)
    if rows is not None:
        J = J[rows] * np.sqrt(omega)[:, None]
        bound = bound[rows] * np.sqrt(omega)[:, None]
    err = 2 * np.linalg.norm(J) * np.linalg.norm(bound) + np.linalg.norm(bound) ** 2
    return J.T @ J, err


@pytest.mark.parametrize("kind", ["dense", "csr"])
def test_nls_gauss_newton_is_jacobian_gram(rng, kind):
    X, y, sw, mask = _problem(rng, kind=kind)
    alpha = 0.3
    f = FiniteSum(X, y, SigmoidLeastSquaresLoss(), alpha=alpha, sample_weight=sw,
                  penalty_mask=mask)
    A = X.toarray() if sp.issparse(X) else X
    c = sw / sw.sum()
    w = rng.standard_normal(A.shape[1])
    JtJ, err = _fd_gauss_newton(A, y, c, w)
    G = f.gauss_newton_model(w).toarray()
    np.testing.assert_allclose(G, JtJ + alpha * np.diag(mask), rtol=0, atol=err)
    # Products, and an Evaluation in place of the point, give the same matrix.
    v = rng.standard_normal(A.shape[1])
    model = f.gauss_newton_model(f.evaluate(w), explicit=False)
    assert model.matrix is None
    np.testing.assert_allclose(model.matvec(v), G @ v, rtol=1e-13, atol=1e-15)
    # A weighted row sample: the rows of J scaled by sqrt(omega_k).
    idx = np.array([3, 3, 7, 0, 21])
    omega = np.array([2.0, 1.5, 8.0, 0.5, 3.0])
    JtJ_s, err_s = _fd_gauss_newton(A, y, c, w, rows=idx, omega=omega)
    G_s = f.gauss_newton_model(w, sample=Sample(idx, omega)).toarray()
    np.testing.assert_allclose(G_s, JtJ_s + alpha * np.diag(mask), rtol=0, atol=err_s)


def test_nls_gauss_newton_drops_the_residual_term(rng):
    X, y, sw, _ = _problem(rng, weighted=True)
    f = FiniteSum(X, y, SigmoidLeastSquaresLoss(), sample_weight=sw)
    w = 2.0 * rng.standard_normal(X.shape[1])
    s = sigmoid(X @ w)
    c = sw / sw.sum()
    # H - G = sum_i c_i 2 (s_i - y_i) sigmoid''(t_i) a_i a_i^T, sigmoid'' = s (1 - s)(1 - 2 s).
    D = 2 * c * (s - y) * s * (1 - s) * (1 - 2 * s)
    diff = X.T @ (D[:, None] * X)
    H, G = f.hessian(w), f.gauss_newton_model(w).toarray()
    scale = np.abs(X).max() ** 2 * X.shape[0] * EPS * 10
    np.testing.assert_allclose(H - G, diff, rtol=0, atol=scale)
    # G is positive semi-definite where this H is indefinite.
    assert np.linalg.eigvalsh(G).min() >= -scale
    assert np.linalg.eigvalsh(H).min() < -1e3 * scale


@pytest.mark.parametrize("loss", [LogisticLoss(), HalfSquaredLoss()])
def test_convex_losses_gauss_newton_is_the_hessian(rng, loss):
    X, y, sw, mask = _problem(rng, n=200)
    f = FiniteSum(X, y, loss, alpha=0.1, sample_weight=sw, penalty_mask=mask)
    w = rng.standard_normal(X.shape[1])
    H = f.hessian(w)
    # Same terms, summed by other code paths: n rounding errors of the largest term.
    np.testing.assert_allclose(f.gauss_newton_model(w).toarray(), H, rtol=0,
                               atol=X.shape[0] * EPS * np.abs(H).max())
    sample = Sample(np.array([1, 5, 5, 9]), np.array([10.0, 20.0, 20.0, 5.0]))
    H_s = f.hessian(w, sample=sample)
    np.testing.assert_allclose(f.gauss_newton_model(w, sample=sample).toarray(), H_s,
                               rtol=0, atol=8 * EPS * np.abs(H_s).max())


def test_uniform_samples_are_unbiased_by_enumeration(rng):
    # Every subset of s rows, weight n / s: the mean of G_S over all subsets is G.
    n, s = 7, 3
    X, y, sw, _ = _problem(rng, n=n, d=3)
    f = FiniteSum(X, y, SigmoidLeastSquaresLoss(), alpha=0.2, sample_weight=sw)
    w = rng.standard_normal(3)
    subsets = list(itertools.combinations(range(n), s))
    mean = sum(f.gauss_newton_model(w, sample=np.array(S)).toarray() for S in subsets)
    mean /= len(subsets)
    G = f.gauss_newton_model(w).toarray()
    np.testing.assert_allclose(mean, G, rtol=0, atol=len(subsets) * EPS * np.abs(G).max())


@pytest.mark.parametrize("weighted", [False, True])
def test_nonuniform_probabilities_and_unbiasedness(rng, weighted):
    X, y, sw, _ = _problem(rng, n=30, d=4, weighted=weighted)
    f = FiniteSum(X, y, SigmoidLeastSquaresLoss(), alpha=0.05, sample_weight=sw)
    w = rng.standard_normal(4)
    p = f.gauss_newton_probabilities(f.evaluate(w))
    # p_i ~ c_i G_i ||a_i||^2 with G_i = 2 sigmoid'(t_i)^2, from dense NumPy.
    s = sigmoid(X @ w)
    c = np.ones(30) if sw is None else sw
    ref = c * 2 * (s * (1 - s)) ** 2 * np.sum(X**2, axis=1)
    np.testing.assert_allclose(p, ref / ref.sum(), rtol=1e-12)
    # One draw with probabilities p, weight 1 / p_i: E[G_S] = sum_i p_i G_{i} / p_i = G.
    G = f.gauss_newton_model(w).toarray()
    expectation = sum(
        p[i] * f.gauss_newton_model(w, sample=Sample(np.array([i]), np.array([1 / p[i]])))
        .toarray() for i in range(30)
    )
    np.testing.assert_allclose(expectation, G, rtol=0, atol=30 * 8 * EPS * np.abs(G).max())
    # The Hessian's probabilities use |l''| instead: different at this point.
    assert not np.allclose(f.hessian_probabilities(f.evaluate(w)), p)


def test_gauss_newton_on_dask_data_matches_in_memory(rng):
    da = pytest.importorskip("dask.array")
    dask = pytest.importorskip("dask")
    X, y, sw, mask = _problem(rng, n=60)
    local = FiniteSum(X, y, SigmoidLeastSquaresLoss(), alpha=0.1, sample_weight=sw,
                      penalty_mask=mask)
    with dask.config.set(scheduler="synchronous"):
        remote = FiniteSum(da.from_array(X, chunks=(25, -1)), da.from_array(y, chunks=25),
                           SigmoidLeastSquaresLoss(), alpha=0.1,
                           sample_weight=da.from_array(sw, chunks=25), penalty_mask=mask)
        w = rng.standard_normal(X.shape[1])
        v = rng.standard_normal(X.shape[1])
        G = local.gauss_newton_model(w).toarray()
        tol = 60 * EPS * np.abs(G).max()
        np.testing.assert_allclose(remote.gauss_newton_model(w).toarray(), G, atol=tol, rtol=0)
        np.testing.assert_allclose(remote.gauss_newton_model(w, explicit=False).matvec(v),
                                   G @ v, atol=tol * np.abs(v).sum(), rtol=0)
        sample = Sample(np.array([59, 2, 30]), np.array([20.0, 20.0, 20.0]))
        np.testing.assert_allclose(remote.gauss_newton_model(w, sample=sample).toarray(),
                                   local.gauss_newton_model(w, sample=sample).toarray(),
                                   atol=tol, rtol=0)
        with pytest.raises(TypeError, match="nonuniform"):
            remote.gauss_newton_probabilities(remote.evaluate(w))


class PseudoHuber(Loss):
    name = "pseudo_huber"

    def pointwise(self, t, y):
        r = t - y
        s = np.sqrt(1.0 + r * r)
        return s - 1.0, r / s, 1.0 / s**3


def test_user_loss_without_gauss_newton_is_refused_by_name():
    f = FiniteSum(np.eye(2), np.zeros(2), PseudoHuber())
    assert f.supports_gauss_newton is False
    with pytest.raises(TypeError, match="PseudoHuber.gauss_newton_pointwise"):
        f.gauss_newton_model(np.zeros(2))
    with pytest.raises(TypeError, match="PseudoHuber.gauss_newton_pointwise"):
        f.gauss_newton_probabilities(f.evaluate(np.zeros(2)))
    with pytest.raises(NotImplementedError, match="PseudoHuber has no Gauss-Newton"):
        PseudoHuber().gauss_newton_pointwise(np.zeros(2), np.zeros(2))
    with pytest.raises(TypeError, match="supports_gauss_newton is False"):
        CallableObjective(lambda w: 0.0, lambda w: w, lambda w, v: v,
                          n_features=2).gauss_newton_model(np.zeros(2))


def test_user_loss_gauss_newton_is_used_and_checked():
    class Good(PseudoHuber):
        def gauss_newton_pointwise(self, t, y):
            return 1.0 / np.sqrt(1.0 + (t - y) ** 2) ** 3

    class WrongShape(PseudoHuber):
        def gauss_newton_pointwise(self, t, y):
            return np.ones(t.shape[0] + 1)

    class Negative(PseudoHuber):
        def gauss_newton_pointwise(self, t, y):
            return -np.ones_like(t)

    X, y = np.array([[1.0, 0.0], [1.0, 2.0], [0.0, 1.0]]), np.array([0.5, -1.0, 2.0])
    w = np.array([0.3, -0.2])
    good = FiniteSum(X, y, Good())
    assert good.supports_gauss_newton
    np.testing.assert_allclose(good.gauss_newton_model(w).toarray(), good.hessian(w),
                               rtol=1e-14)
    with pytest.raises(ValueError, match="WrongShape.gauss_newton_pointwise returned curvature"):
        FiniteSum(X, y, WrongShape()).gauss_newton_model(w)
    with pytest.raises(ValueError, match="Negative.gauss_newton_pointwise returned negative"):
        FiniteSum(X, y, Negative()).gauss_newton_model(w)


def test_block_override_alone_counts_as_support():
    class BlockOnly(PseudoHuber):
        def gauss_newton_block(self, block, targets, coef):
            return np.full(block.n_rows, 2.0)

    f = FiniteSum(np.eye(3), np.zeros(3), BlockOnly())
    assert f.supports_gauss_newton
    np.testing.assert_array_equal(f.gauss_newton_model(np.zeros(3)).toarray(),
                                  np.eye(3) * 2 / 3)


def test_bad_input_and_no_writes(rng):
    X, y, sw, _ = _problem(rng)
    X0, y0, sw0 = X.copy(), y.copy(), sw.copy()
    f = FiniteSum(X, y, SigmoidLeastSquaresLoss(), sample_weight=sw)
    w = rng.standard_normal(X.shape[1])
    w0 = w.copy()
    f.gauss_newton_model(w, sample=np.array([1, 2]))
    f.gauss_newton_probabilities(f.evaluate(w))
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(sw, sw0)
    np.testing.assert_array_equal(w, w0)
    with pytest.raises(TypeError, match="explicit must be True or False"):
        f.gauss_newton_model(w, explicit="yes")
    with pytest.raises(ValueError, match="sample indices must lie in"):
        f.gauss_newton_model(w, sample=np.array([0, X.shape[0]]))
    with pytest.raises(ValueError, match="w"):
        f.gauss_newton_model(np.zeros(X.shape[1] + 1))
    with pytest.raises(TypeError, match="ev must be an Evaluation"):
        f.gauss_newton_probabilities(w)


def test_loss_gauss_newton_block_matches_pointwise(rng):
    A = rng.standard_normal((6, 3))
    y = (rng.random(6) < 0.5).astype(float)
    w = rng.standard_normal(3)
    loss = SigmoidLeastSquaresLoss()
    out = loss.gauss_newton_block(as_operand(A), y, w)
    s = sigmoid(A @ w)
    np.testing.assert_allclose(out, 2 * (s * (1 - s)) ** 2, rtol=1e-13)
    assert out.shape == loss.curvature_shape(6)
