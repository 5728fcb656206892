"""Every estimator parameter is checked at the start of ``fit``, by name (issue 20).

scikit-learn's convention: ``__init__`` stores, ``fit`` validates. Each parameter of
SketchedLinearRegression and SubsampledNewtonClassifier is given values of the wrong
type and out of range; ``fit`` must raise a TypeError/ValueError naming it, before it
reads the data (a bad parameter with bad data names the parameter, not the data).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from randopt.estimators import SketchedLinearRegression, SubsampledNewtonClassifier

RNG = np.random.default_rng(3)
X = RNG.standard_normal((60, 4))
Y = X @ np.ones(4) + RNG.standard_normal(60)
YC = (Y > 0).astype(int)
X_NAN = np.where(np.arange(X.size).reshape(X.shape) == 0, np.nan, X)

BAD_ANY = [None, "3", np.array([3]), np.nan, np.inf, -1, True, object(), 1 + 1j, [1]]
# Values a parameter legitimately accepts among BAD_ANY.
ACCEPTS = {
    ("SketchedLinearRegression", "max_iter"): [None],
    ("SketchedLinearRegression", "sketch_size"): [None],
    ("SketchedLinearRegression", "random_state"): [None],
    ("SubsampledNewtonClassifier", "gradient_sample_size"): [None],
    ("SubsampledNewtonClassifier", "random_state"): [None],
    ("SketchedLinearRegression", "fit_intercept"): [True],
    ("SubsampledNewtonClassifier", "fit_intercept"): [True],
}
# Values of the right type but out of range (n = 60 rows).
OUT_OF_RANGE = {
    "alpha": [-1e-3, -np.inf], "tol": [-1.0, -1e-300], "max_iter": [0, 2.5],
    "sketch_size": [0, 2.5], "sketch": ["gauss", 3], "method": ["lsq", 3], "solver": ["x", 3],
    "loss": ["hinge", 3], "hessian_sampling": ["leverage", 3], "fit_intercept": [1, "yes"],
    "hessian_sample_size": [0, 61, 1.5, 0.0, "all"], "gradient_sample_size": [0, 61, 1.5, "auto"],
    "random_state": ["a", -1, 2.5],
}


def _cases():
    for est, y in ((SketchedLinearRegression, Y), (SubsampledNewtonClassifier, YC)):
        for name in sorted(est().get_params()):
            legit = ACCEPTS.get((est.__name__, name), [])
            for value in BAD_ANY + OUT_OF_RANGE.get(name, []):
                if any(value is v for v in legit):
                    continue
                yield pytest.param(est, y, name, value, id=f"{est.__name__}-{name}-{value!r}")


@pytest.mark.parametrize("est, y, name, value", list(_cases()))
def test_bad_parameter_is_named_at_fit(est, y, name, value):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises((TypeError, ValueError), match=rf"\b{re.escape(name)}\b"):
            est(**{name: value}).fit(X, y)


@pytest.mark.parametrize("est, y", [(SketchedLinearRegression, Y),
                                    (SubsampledNewtonClassifier, YC)])
def test_parameters_are_checked_before_the_data(est, y):
    for name in sorted(est().get_params()):
        with pytest.raises((TypeError, ValueError), match=rf"\b{name}\b"):
            est(**{name: object()}).fit(X_NAN, y)


@pytest.mark.parametrize("kwargs", [{"hessian_sample_size": 60}, {"hessian_sample_size": 1.0},
                                    {"hessian_sample_size": np.int64(5)},
                                    {"gradient_sample_size": 0.5},
                                    {"gradient_sample_size": np.float32(0.5)}])
def test_classifier_sample_sizes_at_the_edges_are_accepted(kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = SubsampledNewtonClassifier(max_iter=3, random_state=0, **kwargs).fit(X, YC)
    assert np.isfinite(clf.coef_).all()
