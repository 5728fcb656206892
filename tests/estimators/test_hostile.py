"""Hostile input for randopt.estimators (issue 10; moved beside the module by issue 17).

SketchedLinearRegression and SubsampledNewtonClassifier are fed bad parameters
(every one named in its error), NaN/complex data, bad weights, read-only arrays and
extreme scales. The shared helpers are in ``tests/hostile.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from randopt.estimators import SketchedLinearRegression, SubsampledNewtonClassifier
from tests.hostile import A0, B0, N, readonly

YC = (B0 > 0).astype(int)


@pytest.mark.parametrize(
    "params, name",
    [({"fit_intercept": "no"}, "fit_intercept"), ({"fit_intercept": 1}, "fit_intercept"),
     ({"fit_intercept": None}, "fit_intercept"), ({"alpha": -1.0}, "alpha"),
     ({"alpha": np.nan}, "alpha"), ({"tol": "a"}, "tol"), ({"max_iter": 2.5}, "max_iter"),
     ({"max_iter": 0}, "max_iter"), ({"random_state": "a"}, "random_state"),
     ({"random_state": True}, "random_state")],
)
@pytest.mark.parametrize("estimator", ["classifier", "regressor"])
def test_estimator_options(estimator, params, name):
    if estimator == "classifier":
        model, y = SubsampledNewtonClassifier(**params), YC
    else:
        if name == "max_iter" and params[name] == 0:
            params = {"max_iter": -1}
        model, y = SketchedLinearRegression(**params), B0
    with pytest.raises((TypeError, ValueError), match=name):
        model.fit(A0, y)


@pytest.mark.parametrize(
    "params, name",
    [({"loss": "no"}, "loss"), ({"solver": "no"}, "solver"),
     ({"hessian_sampling": None}, "hessian_sampling"),
     ({"hessian_sample_size": 2.0}, "hessian_sample_size")],
)
def test_classifier_choices(params, name):
    with pytest.raises((TypeError, ValueError), match=name):
        SubsampledNewtonClassifier(**params).fit(A0, YC)


@pytest.mark.parametrize(
    "params, name",
    [({"sketch": "no"}, "sketch"), ({"method": 3}, "method"), ({"solver": None}, "solver"),
     ({"sketch_size": 2.5}, "sketch_size"), ({"tol": 0.0}, "tol")],
)
def test_regressor_choices(params, name):
    with pytest.raises((TypeError, ValueError), match=name):
        SketchedLinearRegression(**params).fit(A0, B0)


def test_estimators_on_hostile_data():
    for model, y in ((SubsampledNewtonClassifier(max_iter=5, random_state=0), YC),
                     (SketchedLinearRegression(random_state=0), B0)):
        with pytest.raises(ValueError, match="NaN"):
            model.fit(np.where(A0 > 1, np.nan, A0), y)
        with pytest.raises(ValueError, match="sample_weight"):
            model.fit(A0, y, sample_weight=-np.ones(N))
        with pytest.raises(ValueError, match="Complex"):
            model.fit(A0 + 1j, y)
    reg = SketchedLinearRegression(random_state=0, fit_intercept=False)
    for scale in (1e-300, 1e300):
        coef = reg.fit(A0 * scale, B0).coef_ * scale
        np.testing.assert_allclose(coef, np.linalg.lstsq(A0, B0, rcond=None)[0], rtol=1e-8)


def test_regressor_does_not_write_inputs():
    SketchedLinearRegression(random_state=0).fit(readonly(A0), readonly(B0))


def test_hessian_overflow_names_the_data():
    # |x| ~ 1e300: the loss's curvature is finite but X^T D X overflows; the error
    # must say that X is the cause (not only that "the Hessian" is bad).
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3)) * 1e300
    y = (rng.random(200) < 0.5).astype(int)
    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(
        ValueError, match=r"X's Hessian X\^T D X overflows"
    ):
        SubsampledNewtonClassifier(random_state=0).fit(X, y)
