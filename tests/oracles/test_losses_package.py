"""The losses package: its import paths, the deprecated ``randopt.oracles.multiclass`` alias."""

import importlib
import warnings

import numpy as np
import pytest

import randopt.oracles as oracles
from randopt.oracles import losses


@pytest.mark.parametrize("name", losses.__all__)
def test_every_loss_is_importable_from_both_places(name):
    assert name in oracles.__all__
    assert getattr(losses, name) is getattr(oracles, name)


def test_submodules_hold_their_families():
    assert losses.LogisticLoss.__module__ == "randopt.oracles.losses.binary"
    assert losses.SoftmaxLoss.__module__ == "randopt.oracles.losses.multiclass"
    assert losses.Loss.__module__ == "randopt.oracles.losses.base"


def test_old_multiclass_module_warns_and_forwards():
    old = importlib.import_module("randopt.oracles.multiclass")
    with pytest.warns(DeprecationWarning, match="randopt.oracles.losses.multiclass"):
        cls = old.SoftmaxLoss
    assert cls is oracles.SoftmaxLoss
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from randopt.oracles import SoftmaxLoss  # noqa: F401  (no warning on the new path)
    with pytest.raises(AttributeError):
        old.NoSuchLoss  # noqa: B018


def test_a_loss_overriding_hessian_matvec_only_keeps_its_products():
    class Doubled(losses.Loss):
        def pointwise(self, t, y):
            r = t - y
            return 0.5 * r * r, r, np.ones_like(r)

        def hessian_matrix(self, rows, idx, h):
            return 2.0 * super().hessian_matrix(rows, idx, h)

        def hessian_matvec(self, rows, idx, h, v):
            return 2.0 * super().hessian_matvec(rows, idx, h, v)

    X = np.random.default_rng(0).standard_normal((20, 3))
    f = oracles.FiniteSum(X, np.zeros(20), Doubled())
    v = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(f.hessp(np.zeros(3), v), f.hessian(np.zeros(3)) @ v, rtol=1e-12)
    np.testing.assert_allclose(f.hessian(np.zeros(3)), 2.0 * X.T @ X / 20, rtol=1e-12)
