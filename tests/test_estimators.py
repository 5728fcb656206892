"""Tests of the scikit-learn estimators (randopt/estimators.py).

References: scikit-learn's LogisticRegression and Ridge (same objectives),
scipy.optimize.minimize on an independent numpy implementation of the
sigmoid least-squares loss, finite differences, and sklearn's own
``check_estimator`` suite.
"""

import warnings

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp
from scipy.special import expit
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from randopt.estimators import SketchedLinearRegression, SubsampledNewtonClassifier
from randopt.oracles import FiniteSum, LogisticLoss, SigmoidLeastSquaresLoss
from randopt.sketch import Sample

# --------------------------------------------------------------------------- check_estimator

_CHECKED = [
    # The defaults (non-convex NLS loss, no penalty, 5% uniform Hessian samples).
    SubsampledNewtonClassifier(random_state=0),
    # Logistic loss with a penalty (a unique minimiser), ARC, non-uniform sampling.
    SubsampledNewtonClassifier(
        loss="logistic", solver="arc", hessian_sampling="nonuniform", hessian_sample_size=0.5,
        alpha=1e-2, tol=1e-10, max_iter=500, random_state=0,
    ),
    SketchedLinearRegression(random_state=0),
    SketchedLinearRegression(method="sketch", random_state=0),
]


def _expected_failed_checks(estimator):
    if isinstance(estimator, SubsampledNewtonClassifier) and estimator.alpha == 0:
        why = (
            "with alpha=0 on the check's data (15 rows, 30 features: linearly separable) the "
            "loss has no finite "
            "minimiser (its infimum is approached as ||coef|| grows): the fitted model is "
            "wherever the iteration stops, and the run on repeated rows stops elsewhere than "
            "the weighted run. With alpha > 0 (the second instance) the check passes."
        )
        return {
            "check_sample_weight_equivalence_on_dense_data": why,
            "check_sample_weight_equivalence_on_sparse_data": why,
        }
    if isinstance(estimator, SketchedLinearRegression) and estimator.method == "sketch":
        return {
            "check_non_transformer_estimators_n_iter": (
                "sketch-and-solve is a direct method: it takes no iterations, and n_iter_ "
                "truthfully reports 0 (max_iter only applies to the iterative methods)"
            )
        }
    return {}


@parametrize_with_checks(_CHECKED, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        # Non-convergence on the checks' tiny separable sets is expected and reported.
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


# --------------------------------------------------------------------------- helpers


def _classification(rng, n=1500, d=5, sparse=False):
    X = rng.standard_normal((n, d))
    w = rng.standard_normal(d)
    y = (X @ w + 0.4 + rng.logistic(size=n) > 0).astype(int)
    if sparse:
        X[rng.random(X.shape) < 0.5] = 0.0
        X = sp.csr_matrix(X)
    return X, y


def _nls_reference(X, t, sw, alpha):
    """Independent numpy objective of the weighted sigmoid least squares with intercept."""
    X = X.toarray() if sp.issparse(X) else X
    A = np.hstack([X, np.ones((X.shape[0], 1))])
    omega = sw / sw.mean()
    mask = np.ones(A.shape[1])
    mask[-1] = 0.0

    def fun(w):
        s = expit(A @ w)
        r = s - t
        f = np.mean(omega * r**2) + 0.5 * alpha * np.sum((mask * w) ** 2)
        g = A.T @ (omega * 2 * r * s * (1 - s)) / A.shape[0] + alpha * mask * w
        return f, g

    return fun, A


# --------------------------------------------------------------------------- the objective


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("loss", [SigmoidLeastSquaresLoss(), LogisticLoss()], ids=str)
def test_weighted_objective_matches_finite_differences(rng, sparse, loss):
    """The public objective the classifier builds: weights, intercept column, masked penalty."""
    X, y = _classification(rng, n=200, d=4, sparse=sparse)
    X = sp.hstack([X, np.ones((200, 1))], format="csr") if sparse else np.hstack(
        [X, np.ones((200, 1))]
    )
    sw = rng.uniform(0.0, 3.0, 200)
    alpha = 0.3
    mask = np.array([True, True, True, True, False])
    f = FiniteSum(X, y, loss, alpha=alpha, sample_weight=sw, penalty_mask=mask)
    w = 0.5 * rng.standard_normal(5)
    ev = f.evaluate(w)
    # Independent value: weighted mean of the per-row loss plus the penalty without intercept.
    Xd = X.toarray() if sparse else X
    t = Xd @ w
    if isinstance(loss, SigmoidLeastSquaresLoss):
        rows = (y - expit(t)) ** 2
    else:
        rows = np.logaddexp(0.0, t) - y * t
    expected = np.sum(sw * rows) / sw.sum() + 0.5 * alpha * np.sum(w[:-1] ** 2)
    assert ev.fun == pytest.approx(expected, rel=1e-12)
    # Central differences of the value for the gradient and the Hessian.
    h = 1e-5
    eye = np.eye(5)
    fd_grad = np.array([(f.value(w + h * e) - f.value(w - h * e)) / (2 * h) for e in eye])
    np.testing.assert_allclose(ev.grad, fd_grad, rtol=1e-6, atol=1e-9)
    fd_hess = np.column_stack(
        [(f.gradient(w + h * e) - f.gradient(w - h * e)) / (2 * h) for e in eye]
    )
    H = f.hessian_model(ev, explicit=True).toarray()
    np.testing.assert_allclose(H, fd_hess, rtol=1e-6, atol=1e-8)
    # Products agree with the explicit matrix.
    Hp = f.hessian_model(ev, explicit=False)
    v = rng.standard_normal(5)
    np.testing.assert_allclose(Hp.matvec(v), H @ v, rtol=1e-12, atol=1e-14)
    # A sample of every row with unit weights is the full Hessian.
    every = Sample(np.arange(200), np.ones(200))
    np.testing.assert_allclose(
        f.hessian_model(ev, sample=every).toarray(), H, rtol=1e-12, atol=1e-14
    )


# --------------------------------------------------------------------------- classifier


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize(
    "solver,sampling", [("tr", "full"), ("tr", "uniform"), ("arc", "nonuniform")]
)
def test_logistic_matches_sklearn_with_weights(rng, sparse, solver, sampling):
    X, y = _classification(rng, sparse=sparse)
    sw = rng.uniform(0.0, 2.0, y.shape[0])
    alpha = 1e-2
    # sklearn minimises C sum_i s_i l_i + ||w||^2 / 2: the same minimiser for C = 1/(alpha sum s).
    ref = LogisticRegression(C=1.0 / (alpha * sw.sum()), tol=1e-12, max_iter=10_000)
    ref.fit(X, y, sample_weight=sw)
    clf = SubsampledNewtonClassifier(
        loss="logistic", solver=solver, hessian_sampling=sampling, hessian_sample_size=0.1,
        alpha=alpha, tol=1e-10, random_state=0,
    ).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(clf.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(clf.intercept_, ref.intercept_, atol=1e-6)
    np.testing.assert_allclose(
        clf.predict_proba(X), ref.predict_proba(X), atol=1e-6
    )
    assert clf.coef_.shape == (1, X.shape[1]) and clf.intercept_.shape == (1,)


def test_nls_reaches_a_stationary_point_of_the_reference_loss(rng):
    X, y = _classification(rng, n=800, d=4)
    sw = rng.uniform(0.5, 2.0, 800)
    alpha = 1e-3
    clf = SubsampledNewtonClassifier(
        loss="nls", hessian_sampling="uniform", hessian_sample_size=0.1, alpha=alpha,
        tol=1e-9, max_iter=500, random_state=0,
    ).fit(X, y, sample_weight=sw)
    fun, _ = _nls_reference(X, y.astype(float), sw, alpha)
    w = np.append(clf.coef_[0], clf.intercept_)
    assert np.linalg.norm(fun(w)[1]) <= 1e-8
    # scipy's trust-exact-free quasi-Newton from the same start finds the same minimiser.
    ref = scipy.optimize.minimize(
        fun, np.zeros(5), jac=True, method="BFGS", options={"gtol": 1e-10, "maxiter": 5000}
    )
    np.testing.assert_allclose(w, ref.x, atol=1e-5)
    assert fun(w)[0] <= ref.fun + 1e-12


def test_integer_weights_equal_repeated_rows(rng):
    X, y = _classification(rng, n=300, d=3)
    counts = rng.integers(0, 4, 300)
    params = dict(loss="nls", hessian_sampling="full", alpha=1e-2, tol=1e-11, random_state=0)
    weighted = SubsampledNewtonClassifier(**params).fit(X, y, sample_weight=counts)
    repeated = SubsampledNewtonClassifier(**params).fit(
        np.repeat(X, counts, axis=0), np.repeat(y, counts)
    )
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, atol=1e-8)
    np.testing.assert_allclose(weighted.intercept_, repeated.intercept_, atol=1e-8)


@pytest.mark.parametrize("labels", [("no", "yes"), (-3, 7), (True, False)])
def test_any_two_labels(rng, labels):
    X, y01 = _classification(rng, n=400, d=3)
    y = np.where(y01 == 1, labels[1], labels[0])
    clf = SubsampledNewtonClassifier(loss="logistic", alpha=1e-3, tol=1e-8, random_state=0)
    clf.fit(X, y)
    np.testing.assert_array_equal(clf.classes_, np.unique(y))
    pred = clf.predict(X)
    assert set(np.unique(pred)) <= set(np.unique(y))
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(proba[:, 1], expit(clf.decision_function(X)), rtol=1e-15)
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba), rtol=1e-10)
    np.testing.assert_array_equal(pred, clf.classes_[(proba[:, 1] > 0.5).astype(int)])
    assert clf.score(X, y) > 0.7


def test_without_intercept_and_history(rng):
    X, y = _classification(rng, n=500, d=3)
    clf = SubsampledNewtonClassifier(fit_intercept=False, random_state=0, tol=1e-8).fit(X, y)
    np.testing.assert_array_equal(clf.intercept_, [0.0])
    np.testing.assert_allclose(clf.decision_function(X), X @ clf.coef_[0], rtol=1e-14)
    h = clf.history_
    lengths = {len(v) for v in h.values()}
    assert lengths == {clf.n_iter_ + 1}
    for key in ("loss", "grad_norm", "radius", "accepted", "time", "props"):
        assert key in h
    # Monotone: accepted steps strictly decrease the loss, rejected ones keep it.
    accepted = np.asarray(h["accepted"][1:], dtype=bool)
    steps = np.diff(h["loss"])
    assert accepted.any() and np.all(steps[accepted] < 0) and np.all(steps[~accepted] == 0)
    # The recorded loss is the objective at the fitted coefficients (independent numpy).
    s = expit(X @ clf.coef_[0])
    assert h["loss"][-1] == pytest.approx(np.mean((y - s) ** 2), rel=1e-12)
    assert h["grad_norm"][-1] <= 1e-8 < h["grad_norm"][0]
    assert "sigma" in SubsampledNewtonClassifier(solver="arc", random_state=0).fit(X, y).history_


def test_same_seed_same_fit_and_fewer_rows_in_samples(rng):
    X, y = _classification(rng, n=2000, d=4)
    a = SubsampledNewtonClassifier(hessian_sample_size=50, random_state=3).fit(X, y)
    b = SubsampledNewtonClassifier(hessian_sample_size=50, random_state=3).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    rows = a.history_["hessian_rows"][1:]
    assert rows.max() == 50


def test_convergence_warning_when_stopped_early(rng):
    X, y = _classification(rng, n=300, d=3)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        clf = SubsampledNewtonClassifier(max_iter=1, tol=1e-12, random_state=0).fit(X, y)
    assert clf.n_iter_ == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        SubsampledNewtonClassifier(
            loss="logistic", alpha=1e-2, hessian_sampling="full", tol=1e-6, random_state=0
        ).fit(X, y)


def test_classifier_rejects_bad_input(rng):
    X, y = _classification(rng, n=60, d=3)
    with pytest.raises(ValueError, match="Only binary classification is supported"):
        SubsampledNewtonClassifier().fit(X, np.arange(60) % 3)
    with pytest.raises(ValueError, match="class"):
        SubsampledNewtonClassifier().fit(X, np.ones(60))
    with pytest.raises(ValueError, match="Unknown label type"):
        SubsampledNewtonClassifier().fit(X, rng.standard_normal(60))
    with pytest.raises(ValueError, match="loss must be one of"):
        SubsampledNewtonClassifier(loss="hinge").fit(X, y)
    with pytest.raises(ValueError, match="hessian_sampling"):
        SubsampledNewtonClassifier(hessian_sampling="leverage").fit(X, y)
    with pytest.raises(ValueError, match="alpha"):
        SubsampledNewtonClassifier(alpha=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="hessian_sample_size"):
        SubsampledNewtonClassifier(hessian_sample_size=2.5).fit(X, y)
    with pytest.raises(ValueError, match="NaN|infinity"):
        SubsampledNewtonClassifier().fit(np.full((60, 3), np.nan), y)
    with pytest.raises(ValueError, match="(?i)negative"):
        SubsampledNewtonClassifier().fit(X, y, sample_weight=-np.ones(60))
    with pytest.raises(ValueError, match="sample_weight has length 59"):
        SubsampledNewtonClassifier().fit(X, y, sample_weight=np.ones(59))
    with pytest.raises(TypeError, match="fit_intercept must be True or False"):
        SubsampledNewtonClassifier(fit_intercept="no").fit(X, y)
    with pytest.raises(ValueError, match="solver must be one of"):
        SubsampledNewtonClassifier(solver="newton").fit(X, y)
    with pytest.raises(TypeError, match="max_iter must be an integer"):
        SubsampledNewtonClassifier(max_iter=10.0).fit(X, y)
    with pytest.raises(ValueError, match="max_iter must lie in"):
        SubsampledNewtonClassifier(max_iter=0).fit(X, y)
    with pytest.raises(ValueError, match="tol must"):
        SubsampledNewtonClassifier(tol=float("nan")).fit(X, y)
    with pytest.raises(TypeError, match="alpha must be a real number"):
        SubsampledNewtonClassifier(alpha="0.1").fit(X, y)
    with pytest.raises(ValueError, match="gradient_sample_size"):
        SubsampledNewtonClassifier(gradient_sample_size=0).fit(X, y)


def test_pipeline_gridsearch_clone(rng):
    X, y = _classification(rng, n=600, d=4)
    pipe = Pipeline(
        [("scale", StandardScaler()), ("clf", SubsampledNewtonClassifier(random_state=0))]
    )
    grid = GridSearchCV(
        pipe, {"clf__loss": ["nls", "logistic"], "clf__alpha": [0.0, 1e-2]}, cv=3
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        grid.fit(X, y)
    # Every candidate generalises, and the grid's parameters reach the estimator:
    # the refitted model is the one fitted directly with the best parameters.
    assert np.all(grid.cv_results_["mean_test_score"] > 0.7)
    best = grid.best_params_
    direct = SubsampledNewtonClassifier(
        loss=best["clf__loss"], alpha=best["clf__alpha"], random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        direct.fit(StandardScaler().fit_transform(X), y)
    np.testing.assert_array_equal(grid.best_estimator_[-1].coef_, direct.coef_)
    # the loss option changes the fit (it is not ignored)
    other = "nls" if best["clf__loss"] == "logistic" else "logistic"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        changed = clone(direct).set_params(loss=other).fit(StandardScaler().fit_transform(X), y)
    assert np.abs(changed.coef_ - direct.coef_).max() > 1e-3
    est = SubsampledNewtonClassifier(loss="logistic", solver="arc", alpha=0.5)
    twin = clone(est)
    assert twin.get_params() == est.get_params() and twin is not est


# --------------------------------------------------------------------------- regressor


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("alpha", [0.0, 5.0])
@pytest.mark.parametrize("n_targets", [1, 3])
def test_regression_matches_ridge_with_weights(rng, sparse, alpha, n_targets):
    n, d = 2000, 8
    X = rng.standard_normal((n, d)) + 2.0  # off-centre columns: the intercept matters
    if sparse:
        X[rng.random(X.shape) < 0.6] = 0.0
        X = sp.csr_matrix(X)
    W = rng.standard_normal((d, n_targets))
    y = X @ W + 1.5 + 0.1 * rng.standard_normal((n, n_targets))
    if n_targets == 1:
        y = y[:, 0]
    sw = rng.uniform(0.0, 2.0, n)
    ref = Ridge(alpha=alpha, solver="svd" if not sparse else "auto", tol=1e-12)
    ref.fit(X if not sparse else X.toarray(), y, sample_weight=sw)
    reg = SketchedLinearRegression(alpha=alpha, random_state=0).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(reg.coef_, ref.coef_, atol=1e-9)
    np.testing.assert_allclose(reg.intercept_, ref.intercept_, atol=1e-9)
    assert reg.coef_.shape == ref.coef_.shape
    assert np.shape(reg.intercept_) == np.shape(ref.intercept_)
    np.testing.assert_allclose(reg.predict(X), ref.predict(X), atol=1e-8)


@pytest.mark.parametrize("method", ["precondition", "ihs"])
@pytest.mark.parametrize("sketch", ["gaussian", "countsketch", "sparse_sign"])
def test_regression_methods_are_exact(rng, method, sketch):
    X = rng.standard_normal((3000, 10))
    y = X @ rng.standard_normal(10) + rng.standard_normal(3000)
    ref = np.linalg.lstsq(np.hstack([X, np.ones((3000, 1))]), y, rcond=None)[0]
    reg = SketchedLinearRegression(method=method, sketch=sketch, random_state=1).fit(X, y)
    np.testing.assert_allclose(reg.coef_, ref[:-1], atol=1e-9)
    assert reg.intercept_ == pytest.approx(ref[-1], abs=1e-9)
    assert reg.n_iter_ >= 1


def test_default_sketch_size_is_the_documented_rule(rng):
    """sketch_size=None: clip(n // 20, 12 d, 48 d) rows for "auto", 12 d otherwise."""
    n, d = 5000, 10
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d)
    auto = SketchedLinearRegression(random_state=0).fit(X, y)
    assert auto.result_.sketch_size == 250  # n // 20, inside [12 d, 48 d]
    wide = SketchedLinearRegression(random_state=0).fit(rng.standard_normal((n, 35)), y)
    assert wide.result_.sketch_size == 12 * 35
    gauss = SketchedLinearRegression(sketch="gaussian", random_state=0).fit(X, y)
    assert gauss.result_.sketch_size == 12 * d


def test_sketch_and_solve_is_near_optimal(rng):
    n, d = 5000, 10
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + rng.standard_normal(n)
    exact = SketchedLinearRegression(fit_intercept=False, random_state=0).fit(X, y)
    approx = SketchedLinearRegression(
        method="sketch", sketch="gaussian", sketch_size=400, fit_intercept=False,
        random_state=0,
    ).fit(X, y)
    r_opt = np.linalg.norm(X @ exact.coef_ - y) ** 2
    r_sk = np.linalg.norm(X @ approx.coef_ - y) ** 2
    # Gaussian sketch of m rows: E r_sk = r_opt (1 + d / (m - d - 1)), about 2.6% here.
    assert r_opt <= r_sk <= r_opt * (1 + 3 * d / (400 - d - 1))
    assert approx.n_iter_ == 0


def test_regression_warns_and_validates(rng):
    X = rng.standard_normal((500, 20)) @ np.diag(np.logspace(0, 6, 20))
    y = rng.standard_normal(500)
    with pytest.warns(ConvergenceWarning, match="Increase max_iter"):
        SketchedLinearRegression(
            method="ihs", sketch_size=25, max_iter=1, tol=1e-15, random_state=0
        ).fit(X, y)
    with pytest.raises(ValueError, match="method"):
        SketchedLinearRegression(method="qr").fit(X, y)
    with pytest.raises(ValueError, match="alpha"):
        SketchedLinearRegression(alpha=-1).fit(X, y)
    with pytest.raises(ValueError, match="NaN|infinity"):
        SketchedLinearRegression().fit(X, np.full(500, np.inf))
    with pytest.raises(TypeError, match="fit_intercept must be True or False"):
        SketchedLinearRegression(fit_intercept="no").fit(X, y)
    with pytest.raises(ValueError, match="sketch must be one of"):
        SketchedLinearRegression(sketch="fourier").fit(X, y)
    with pytest.raises(ValueError, match="solver must be one of"):
        SketchedLinearRegression(solver="gmres").fit(X, y)
    with pytest.raises(ValueError, match="tol must lie in"):
        SketchedLinearRegression(tol=0.0).fit(X, y)
    with pytest.raises(TypeError, match="sketch_size must be an integer"):
        SketchedLinearRegression(sketch_size=100.5).fit(X, y)
    with pytest.raises(TypeError, match="max_iter must be an integer"):
        SketchedLinearRegression(max_iter="10").fit(X, y)
    with pytest.raises(ValueError, match="sample_weight must have a positive sum"):
        SketchedLinearRegression().fit(X, y, sample_weight=np.zeros(500))


def test_regression_in_gridsearch(rng):
    X = rng.standard_normal((800, 5))
    y = X @ np.arange(1.0, 6.0) + 0.5 * rng.standard_normal(800)
    grid = GridSearchCV(
        Pipeline([("scale", StandardScaler()), ("reg", SketchedLinearRegression(random_state=0))]),
        {"reg__alpha": [0.0, 1.0, 1e4]},
        cv=3,
    ).fit(X, y)
    assert grid.best_params_["reg__alpha"] in (0.0, 1.0)
    assert grid.score(X, y) > 0.95
