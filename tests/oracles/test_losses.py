"""The loss objects: derivatives, the fused kernels against the NumPy block pass, user losses."""

import numpy as np
import pytest
import scipy.sparse as sp

from randopt.operands import as_operand
from randopt.oracles import (
    FiniteSum,
    HalfSquaredLoss,
    LogisticLoss,
    Loss,
    SigmoidLeastSquaresLoss,
    binary_labels,
)

LOSSES = [SigmoidLeastSquaresLoss(), LogisticLoss(), HalfSquaredLoss()]


@pytest.mark.parametrize("loss", LOSSES, ids=lambda l: l.name)
def test_pointwise_derivatives_match_finite_differences(loss):
    t = np.linspace(-6, 6, 25)
    y = np.tile([0.0, 1.0], 13)[:25]
    h = 1e-5
    value, first, second = loss.pointwise(t, y)
    lp, fp, _ = loss.pointwise(t + h, y)
    lm, fm, _ = loss.pointwise(t - h, y)
    np.testing.assert_allclose(first, (lp - lm) / (2 * h), rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(second, (fp - fm) / (2 * h), rtol=1e-7, atol=1e-10)
    assert np.all(np.isfinite(value))


class _NumpyTwin(Loss):
    """The same loss through the base class's NumPy block pass (no fused kernel)."""

    def __init__(self, inner):
        self.inner = inner

    def encode_targets(self, y, name="y"):
        return self.inner.encode_targets(y, name)

    def pointwise(self, t, y):
        return self.inner.pointwise(t, y)


@pytest.mark.parametrize("loss", LOSSES, ids=lambda l: l.name)
@pytest.mark.parametrize("kind", ["dense", "csr", "f32"])
def test_fused_block_pass_equals_numpy_pass(rng, loss, kind):
    X = rng.standard_normal((120, 5))
    if kind == "csr":
        X[rng.random(X.shape) < 0.6] = 0.0
        X = sp.csr_matrix(X)
    elif kind == "f32":
        X = X.astype(np.float32)
    y = (rng.random(120) < 0.5).astype(float)
    w = rng.standard_normal(5)
    sw = rng.uniform(0, 2, 120)
    fused = FiniteSum(X, y, loss, alpha=0.1, sample_weight=sw)
    twin = FiniteSum(X, y, _NumpyTwin(loss), alpha=0.1, sample_weight=sw)
    a, b = fused.evaluate(w), twin.evaluate(w)
    assert a.fun == pytest.approx(b.fun, rel=1e-13)
    np.testing.assert_allclose(a.grad, b.grad, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(a.curvature, b.curvature, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(fused.hessian(w), twin.hessian(w), rtol=1e-12, atol=1e-15)
    # and the block pass fills the curvature of exactly the block's rows
    curv = np.full(120, np.nan)
    total, g = loss.block_pass(as_operand(X), loss.encode_targets(y), w, None, False, curv)
    assert g is None and np.isfinite(curv).all()


def test_user_loss_in_a_finite_sum(rng):
    """A loss given by pointwise derivatives only: pseudo-Huber against numpy."""

    class PseudoHuber(Loss):
        name = "pseudo_huber"

        def pointwise(self, t, y):
            r = t - y
            s = np.sqrt(1 + r * r)
            return s - 1, r / s, 1 / s**3

    X = rng.standard_normal((50, 3))
    y = rng.standard_normal(50)
    f = FiniteSum(X, y, PseudoHuber(), alpha=0.5)
    w = rng.standard_normal(3)
    r = X @ w - y
    assert f.value(w) == pytest.approx(np.mean(np.sqrt(1 + r**2) - 1) + 0.25 * w @ w)
    H = X.T @ (X / (1 + r**2)[:, None] ** 1.5) / 50 + 0.5 * np.eye(3)
    np.testing.assert_allclose(f.hessian(w), H, rtol=1e-12)
    with pytest.raises(NotImplementedError, match="pointwise"):
        FiniteSum(X, y, Loss()).value(w)


def test_binary_labels():
    np.testing.assert_array_equal(binary_labels([0, 1, 1], 3), [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(binary_labels([-1, 1], 2), [0.0, 1.0])
    with pytest.raises(ValueError, match="binary labels"):
        binary_labels([-1, 0, 1], 3)
    with pytest.raises(ValueError, match="y has 2 rows"):
        binary_labels([0, 1], 3)
    assert repr(SigmoidLeastSquaresLoss()) == "SigmoidLeastSquaresLoss()"
