"""A multi-output (softmax) loss fits the Loss base class without touching the solvers.

The loss below is written here, in a test, against the public API only: it sets its
coefficient count, target encoding, block pass and Hessian forms. FiniteSum and the
trust-region solver run it unchanged, and the fit equals scikit-learn's multinomial
logistic regression.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import logsumexp, softmax
from sklearn.linear_model import LogisticRegression

from randopt.optimize import trust_region
from randopt.oracles import FiniteSum, HessianSampler, Loss


class Softmax(Loss):
    """Multinomial logistic loss ``logsumexp(t) - t[y]`` with ``t = W^T a``, ``W`` (d, K)."""

    name = "softmax"

    def __init__(self, n_classes):
        self.k = n_classes

    def n_coefficients(self, n_features):
        return n_features * self.k

    def curvature_shape(self, n_rows):
        return (n_rows, self.k, self.k)

    def encode_targets(self, y, name="y"):
        y = np.asarray(y)
        if not np.all(np.isin(y, np.arange(self.k))):
            raise ValueError(f"{name} must hold class indices 0..{self.k - 1}")
        return np.eye(self.k)[y.astype(int)]

    def block_pass(self, block, targets, coef, row_weight, need_grad, curvature_out):
        W = coef.reshape(block.n_cols, self.k)
        T = block.matvec(W)
        P = softmax(T, axis=1)
        r = np.ones(block.n_rows) if row_weight is None else row_weight
        total = float(r @ (logsumexp(T, axis=1) - np.sum(targets * T, axis=1)))
        if curvature_out is not None:
            curvature_out[...] = P[:, :, None] * (np.eye(self.k) - P[:, None, :])
        grad = block.rmatvec(r[:, None] * (P - targets)).ravel() if need_grad else None
        return total, grad

    def hessian_matvec(self, rows, idx, weighted_curvature, v):
        rows = rows if idx is None else rows.take_rows(idx)
        T = rows.matvec(v.reshape(rows.n_cols, self.k))
        return rows.rmatvec(np.einsum("ikl,il->ik", weighted_curvature, T)).ravel()

    def hessian_matrix(self, rows, idx, weighted_curvature):
        rows = rows if idx is None else rows.take_rows(idx)
        A = rows.to_dense()
        p = rows.n_cols * self.k
        return np.einsum("ia,ikl,ib->akbl", A, weighted_curvature, A).reshape(p, p)

    def curvature_magnitude(self, curvature):
        return np.trace(curvature, axis1=1, axis2=2)


def _problem(rng, sparse=False, n=600, d=4, k=3):
    X = rng.standard_normal((n, d))
    y = np.argmax(X @ rng.standard_normal((d, k)) + rng.gumbel(size=(n, k)), axis=1)
    return (sp.csr_matrix(X) if sparse else X), y


@pytest.mark.parametrize("sparse", [False, True])
def test_softmax_oracles_match_finite_differences(rng, sparse):
    X, y = _problem(rng, sparse, n=80)
    sw = rng.uniform(0, 2, 80)
    f = FiniteSum(X, y, Softmax(3), alpha=0.1, sample_weight=sw)
    assert f.n_features == 12
    w = 0.3 * rng.standard_normal(12)
    h = 1e-6
    eye = np.eye(12)
    fd_g = np.array([(f.value(w + h * e) - f.value(w - h * e)) / (2 * h) for e in eye])
    np.testing.assert_allclose(f.gradient(w), fd_g, rtol=1e-6, atol=1e-9)
    fd_h = np.column_stack([(f.gradient(w + h * e) - f.gradient(w - h * e)) / (2 * h)
                            for e in eye])
    H = f.hessian(w)
    np.testing.assert_allclose(H, fd_h, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(f.hessp(w, eye[5]), H[:, 5], rtol=1e-12, atol=1e-14)
    # Sampled Hessians keep the Sample convention (unbiased), non-uniform ones too.
    ev = f.evaluate(w)
    sampler = HessianSampler(f, "nonuniform", 10)
    draws = np.array([f.hessian(ev.x, sample=sampler.draw(ev, rng)) for _ in range(2000)])
    se = draws.std(axis=0) / np.sqrt(len(draws))
    assert np.all(np.abs(draws.mean(axis=0) - H) <= 5 * se + 1e-12)


def test_softmax_fit_by_trust_region_equals_sklearn(rng):
    X, y = _problem(rng)
    n, alpha = X.shape[0], 0.05
    f = FiniteSum(X, y, Softmax(3), alpha=alpha)
    res = trust_region(f, np.zeros(12), hessian_sampling="uniform", hessian_sample_size=0.2,
                       gtol=1e-10, random_state=0)
    assert res.status == 0
    # sklearn minimises C sum_i l_i + ||W||^2 / 2: the same minimiser for C = 1 / (alpha n).
    ref = LogisticRegression(C=1 / (alpha * n), fit_intercept=False, tol=1e-12,
                             max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(res.x.reshape(4, 3), ref.coef_.T, atol=1e-6)
