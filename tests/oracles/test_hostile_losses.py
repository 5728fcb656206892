"""Hostile user losses, the caller's data, and values at float64's extremes (issue 20).

- A user :class:`~randopt.oracles.Loss` returning NaN/inf, complex values or
  objects: an error naming the loss (never a silent NaN, a dropped imaginary
  part, or "X's Hessian overflows ... rescale X" for the loss's own NaN).
- ``FiniteSum(X, y, loss)`` never hands the caller's ``y`` to user code
  writably, and later edits of the caller's arrays change nothing.
- No public oracle returns a non-finite value from finite input: sums that
  overflow only in between are computed with scaling, a value beyond float64
  raises a ValueError naming ``X`` and how to rescale it.
- Non-uniform sampling probabilities are a distribution even for all-zero X.
"""

import warnings

import numpy as np
import pytest

from randopt.oracles import (
    FiniteSum,
    HalfSquaredLoss,
    LeastSquaresObjective,
    LogisticObjective,
    Loss,
)
from tests.hostile import snapshot, unchanged

RNG = np.random.default_rng(0)
X = RNG.standard_normal((30, 3))
Y = RNG.standard_normal(30)
W = np.array([0.3, -0.2, 0.1])


class _Squared(Loss):
    """``(t - y)^2 / 2`` with hooks for a hostile twist."""

    name = "user_squared"

    def __init__(self, twist=None):
        self.twist = twist

    def pointwise(self, t, y):
        r = t - y
        out = [0.5 * r * r, r, np.ones_like(r)]
        if self.twist is not None:
            out = self.twist(out, t, y)
        return tuple(out)


@pytest.mark.parametrize("position", [0, 1, 2])
def test_user_loss_returning_nan_is_named(position):
    def nan_at(out, t, y):
        out[position] = out[position].copy()
        out[position][3] = np.nan
        return out

    f = FiniteSum(X, Y, _Squared(nan_at))
    with pytest.raises(ValueError, match=r"_Squared\.pointwise returned nan"):
        f.value_and_gradient(W)


def test_user_loss_returning_complex_values_is_refused():
    def complex_loss(out, t, y):
        return [out[0] + 1j * t, out[1], out[2]]

    f = FiniteSum(X, Y, _Squared(complex_loss))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a ComplexWarning would mean a dropped imaginary part
        with pytest.raises(TypeError, match=r"_Squared\.pointwise.*complex"):
            f.value(W)


def test_user_loss_returning_objects_is_refused():
    f = FiniteSum(X, Y, _Squared(lambda out, t, y: [None, out[1], out[2]]))
    with pytest.raises(TypeError, match=r"_Squared\.pointwise"):
        f.value(W)


def test_nan_curvature_of_a_user_loss_is_the_loss_fault_not_the_data():
    class NanCurvature(Loss):
        def pointwise(self, t, y):
            r = t - y
            return 0.5 * r * r, r, np.ones_like(r)

        def block_pass(self, block, targets, coef, row_weight, need_grad, curvature_out):
            total, g = super().block_pass(block, targets, coef, row_weight, need_grad,
                                          curvature_out)
            if curvature_out is not None:
                curvature_out[0] = np.nan  # a loss that fills its curvature itself
            return total, g

    f = FiniteSum(X, Y, NanCurvature())
    with pytest.raises(ValueError, match="NanCurvature") as info:
        f.hessian(W)
    assert "rescale X" not in str(info.value)


def test_a_loss_writing_into_its_targets_cannot_change_the_callers_y():
    class Vandal(Loss):
        def pointwise(self, t, y):
            y[:] = 0.0  # a hostile loss writes into what it is given
            r = t - y
            return 0.5 * r * r, r, np.ones_like(r)

    y = Y.copy()
    before = snapshot(y)
    f = FiniteSum(X, y, Vandal())
    with pytest.raises(ValueError, match="read-only"):
        f.value(W)
    assert unchanged(before, y)


def test_a_loss_writing_into_its_targets_in_the_overflow_rescue_is_stopped():
    # Each row's loss is 1e308: their sum overflows, so the mean is recomputed from a
    # second pointwise call, which must get read-only targets too (the kept copy).
    class LateVandal(Loss):
        calls = 0

        def pointwise(self, t, y):
            self.calls += 1
            if self.calls > 1:
                y[:] = 0.0
            return np.full(t.shape, 1e308), np.zeros_like(t), np.zeros_like(t)

    f = FiniteSum(np.eye(2), np.array([1.0, 2.0]), LateVandal())
    with pytest.raises(ValueError, match="read-only"):
        f.value(np.zeros(2))
    np.testing.assert_array_equal(f._targets, [1.0, 2.0])


def test_later_edits_of_the_callers_arrays_change_nothing():
    y, weights = Y.copy(), RNG.random(30) + 0.5
    f = FiniteSum(X, y, HalfSquaredLoss(), sample_weight=weights)
    ref = f.value(W)
    y[:] = 100.0
    weights[:] = 1.0
    assert f.value(W) == ref


def test_least_squares_beyond_float64_raises_naming_x():
    f = LeastSquaresObjective(X * 1e200, Y)
    with pytest.raises(ValueError, match=r"rescale X"):
        f.value(W)
    with pytest.raises(ValueError, match=r"rescale X"):
        f.gradient(W)


def test_sums_that_overflow_only_in_between_are_computed():
    # Each row's loss is 5e305; their sum over 1000 rows is not a float64, their mean is.
    A = np.full((1000, 1), 1e153)
    f = LeastSquaresObjective(A, np.zeros(1000))
    value, grad = f.value_and_gradient(np.ones(1))
    np.testing.assert_allclose(value, 0.5e306, rtol=1e-12)
    np.testing.assert_allclose(grad, [1e306], rtol=1e-12)


def test_sample_weights_whose_sum_overflows_give_the_rescaled_objective():
    weights = np.arange(1, 31, dtype=float)
    ref = LogisticObjective(X, Y > 0, sample_weight=weights).value(W)
    got = LogisticObjective(X, Y > 0, sample_weight=weights * 1e306).value(W)
    np.testing.assert_allclose(got, ref, rtol=1e-12)


@pytest.mark.parametrize("A", [np.zeros((20, 3)), np.full((20, 3), 1e200)])
def test_hessian_probabilities_stay_a_distribution(A):
    f = LeastSquaresObjective(A, np.zeros(20))
    p = f.hessian_probabilities(f.evaluate(np.zeros(3)))
    assert np.isfinite(p).all() and np.all(p >= 0)
    np.testing.assert_allclose(p.sum(), 1.0)
    np.testing.assert_allclose(p, np.full(20, 1 / 20))


def test_a_loss_writing_into_its_rows_cannot_change_the_callers_x():
    class RowVandal(Loss):
        def pointwise(self, t, y):
            r = t - y
            return 0.5 * r * r, r, np.ones_like(r)

        def block_pass(self, block, targets, coef, row_weight, need_grad, curvature_out):
            block.local_data()[0, 0] = 1e9  # a hostile loss writes into the rows it reads
            return super().block_pass(block, targets, coef, row_weight, need_grad,
                                      curvature_out)

    A = X.copy()
    before = snapshot(A)
    with pytest.raises(ValueError, match="read-only"):
        FiniteSum(A, Y, RowVandal()).value(W)
    assert unchanged(before, A)


def test_a_loss_on_dask_chunks_cannot_write_into_the_callers_arrays():
    da = pytest.importorskip("dask.array")

    class ChunkVandal(Loss):
        def pointwise(self, t, y):
            r = t - y
            return 0.5 * r * r, r, np.ones_like(r)

        def block_pass(self, block, targets, coef, row_weight, need_grad, curvature_out):
            block.local_data()[0, 0] = 1e9  # the chunk of a from_array is a view of A
            return super().block_pass(block, targets, coef, row_weight, need_grad,
                                      curvature_out)

    A, y = X.copy(), Y.copy()
    before, before_y = snapshot(A), snapshot(y)
    f = FiniteSum(da.from_array(A, chunks=(10, 3)), da.from_array(y, chunks=10), ChunkVandal())
    with pytest.raises(ValueError, match="read-only"):
        f.value(W)
    assert unchanged(before, A) and unchanged(before_y, y)
