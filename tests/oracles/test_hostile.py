"""Hostile input for randopt.oracles (issue 10; moved beside the module by issue 17).

The objectives, losses and the Hessian model are fed NaN and infinity, empty and
wrong-ndim data, every dtype and sparse format, bad weights, labels and samples, and
user losses that return the wrong thing. Required: a ValueError or TypeError naming
the argument (or the user's class), or the reference answer; never a crash, a NaN or
a write to the caller's data. The shared helpers are in ``tests/hostile.py``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from randopt import oracles
from tests.hostile import (
    A0,
    B0,
    BAD_SCALARS,
    Y01,
    D,
    N,
    bad_matrices,
    is_legit,
    legitimate_inputs,
    snapshot,
    unchanged,
)

ENTRY = {
    "LogisticObjective": lambda M: oracles.LogisticObjective(M, Y01).value(np.zeros(D)),
    "FiniteSum": lambda M: oracles.FiniteSum(M, Y01, oracles.SigmoidLeastSquaresLoss()),
    "LeastSquaresObjective": lambda M: oracles.LeastSquaresObjective(M, B0),
}
BAD_MATRICES = bad_matrices(A0, B0)


@pytest.mark.parametrize("entry", sorted(ENTRY))
@pytest.mark.parametrize("case", sorted(BAD_MATRICES))
def test_bad_matrix_is_refused_with_its_name(entry, case):
    make, exc = BAD_MATRICES[case]
    with pytest.raises(exc, match=r"\bX\b"):
        ENTRY[entry](make())


LEGIT = legitimate_inputs(A0)


@pytest.mark.parametrize("case", sorted(LEGIT))
def test_legitimate_input_gives_the_reference_and_is_not_written(case):
    make, to_ref = LEGIT[case]
    M = make()
    before = snapshot(M)
    ref = np.asarray(to_ref(M), dtype=np.float64)
    d = ref.shape[1]
    w = np.linspace(-0.2, 0.3, d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sp.SparseEfficiencyWarning)
        f = oracles.LogisticObjective(M, Y01, alpha=0.1)
        g = oracles.LogisticObjective(ref, Y01, alpha=0.1)
        np.testing.assert_allclose(f.value(w), g.value(w), rtol=1e-6)
        np.testing.assert_allclose(f.gradient(w), g.gradient(w), rtol=1e-6, atol=1e-12)
        np.testing.assert_allclose(f.hessian(w), g.hessian(w), rtol=1e-6, atol=1e-12)
        np.testing.assert_allclose(f.hessp(w, np.ones(d)), g.hessp(w, np.ones(d)), rtol=1e-6,
                                   atol=1e-12)
    assert unchanged(before, M), f"{case}: an objective wrote to the caller's matrix"


OPTIONS = {
    # name: (call taking the bad value, values that are legitimately fine)
    "as_sample.n": (lambda v: oracles.as_sample(np.array([0]), v), ()),
    "n_features": (lambda v: oracles.CallableObjective(np.sum, lambda x: x, lambda x, u: u,
                                                       n_features=v), ()),
    "FiniteSum.alpha": (lambda v: oracles.LogisticObjective(A0, Y01, alpha=v), (0, 6.9)),
}


@pytest.mark.parametrize("option", sorted(OPTIONS))
@pytest.mark.parametrize("value", BAD_SCALARS, ids=repr)
def test_bad_option_value_names_the_option(option, value):
    call, legit = OPTIONS[option]
    name = option.split(".")[-1]
    if is_legit(value, legit):
        call(value)  # accepted, and must not crash
        return
    if option == "FiniteSum.alpha" and isinstance(value, int) and value == 0:
        return
    with pytest.raises((TypeError, ValueError), match=rf"\b{name}\b"):
        call(value)


@pytest.mark.parametrize("data", ["dense", "csr"])
def test_oracle_protocol_arguments(data):
    X = A0 if data == "dense" else sp.csr_matrix(A0)
    f = oracles.LogisticObjective(X, Y01)
    w = np.zeros(D)
    for bad, exc in [(np.zeros(D - 1), ValueError), (np.full(D, np.nan), ValueError),
                     (None, TypeError), ("ab", TypeError), (np.zeros((D, 1)), ValueError),
                     (np.zeros(D) + 1j, TypeError), (np.zeros(D, dtype=object), TypeError)]:
        for call in (f.value, f.gradient, f.hessian, f.evaluate, f.hessian_weights,
                     lambda v: f.hessp(v, np.ones(D))):
            with pytest.raises(exc, match=r"\bw\b"):
                call(bad)
        with pytest.raises(exc, match=r"\bv\b"):
            f.hessp(w, bad)
    for sample, exc in [(np.array([N]), ValueError), (np.array([-1]), ValueError),
                        (np.array([1.5]), TypeError), (np.array([], dtype=int), ValueError),
                        ((np.array([0, 1]), np.array([1.0])), ValueError),
                        ((np.array([0]), np.array([np.nan])), ValueError)]:
        for call in (lambda s: f.gradient(w, s), lambda s: f.hessp(w, np.ones(D), s),
                     lambda s: f.hessian(w, s)):
            with pytest.raises(exc, match="sample"):
                call(sample)


def test_oracle_constructor_arguments():
    for kwargs, exc, name in [
        ({"sample_weight": -np.ones(N)}, ValueError, "sample_weight"),
        ({"sample_weight": np.zeros(N)}, ValueError, "sample_weight"),
        ({"sample_weight": np.ones(3)}, ValueError, "sample_weight"),
        ({"sample_weight": np.full(N, np.nan)}, ValueError, "sample_weight"),
        ({"penalty_mask": np.ones(3)}, ValueError, "penalty_mask"),
        ({"penalty_mask": np.full(D, 2.0)}, ValueError, "penalty_mask"),
        ({"alpha": np.inf}, ValueError, "alpha"),
    ]:
        with pytest.raises(exc, match=name):
            oracles.LogisticObjective(A0, Y01, **kwargs)
    for y, exc in [(np.full(N, 2.0), ValueError), (np.full(N, np.nan), ValueError),
                   (B0[:3], ValueError), (np.array(["a"] * N), TypeError)]:
        with pytest.raises(exc, match=r"\by\b"):
            oracles.LogisticObjective(A0, y)
    with pytest.raises(TypeError, match="loss"):
        oracles.FiniteSum(A0, Y01, "logistic")
    # Weights spanning the exponent range give the unweighted loss.
    w = np.linspace(-0.2, 0.3, D)
    ref = oracles.LogisticObjective(A0, Y01).value(w)
    for s in (1e-300, 1e300):
        got = oracles.LogisticObjective(A0, Y01, sample_weight=np.full(N, s)).value(w)
        np.testing.assert_allclose(got, ref, rtol=1e-12)


def test_hessian_model_arguments():
    with pytest.raises(ValueError, match="dim"):
        oracles.HessianModel(-1, 3, matvec=lambda v: v)
    with pytest.raises(TypeError, match="dim"):
        oracles.HessianModel("a", 3, matvec=lambda v: v)
    with pytest.raises(ValueError, match="matrix"):
        oracles.HessianModel(2, 3, matrix=np.ones((3, 3)))
    H = oracles.HessianModel(2, 3, matvec=lambda v: np.ones(5))
    with pytest.raises(ValueError, match="matvec"):
        H.matvec(np.ones(2))
    f = oracles.LogisticObjective(A0, Y01)
    with pytest.raises(ValueError, match=r"\bv\b"):
        f.hessian_model(f.evaluate(np.zeros(D))).matvec(np.ones(3))


def test_user_loss_with_wrong_output_is_named():
    class ShortLoss(oracles.Loss):
        def pointwise(self, t, y):
            return np.ones(3), np.ones(3), np.ones(3)

    class NotATuple(oracles.Loss):
        def pointwise(self, t, y):
            return t

    for loss in (ShortLoss(), NotATuple()):
        obj = oracles.FiniteSum(A0, Y01, loss)
        for call in (obj.value, obj.gradient, obj.hessian):
            with pytest.raises((TypeError, ValueError), match=type(loss).__name__):
                call(np.zeros(D))
