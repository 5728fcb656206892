"""Tests of the scikit-learn estimators (randopt/estimators/).

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
from scipy.special import expit, logsumexp, softmax
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

from randopt.estimators import SketchedLinearRegression, SubsampledNewtonClassifier
from randopt.oracles import FiniteSum, LogisticLoss, SigmoidLeastSquaresLoss
from randopt.sketch import Sample

EPS = np.finfo(np.float64).eps

# --------------------------------------------------------------------------- check_estimator

_CHECKED = [
    # The defaults: non-convex NLS loss, no penalty, hessian_sample_size="auto" (which on
    # the checks' small data uses the exact Hessian: a deterministic path, so the fit with
    # integer sample weights follows the same iterates as the fit on repeated rows).
    SubsampledNewtonClassifier(),
    # Logistic (softmax for K > 2) with a penalty, ARC, non-uniform sampling.
    SubsampledNewtonClassifier(
        loss="logistic", solver="arc", hessian_sampling="nonuniform", alpha=1e-2, tol=1e-10,
        max_iter=500, random_state=0,
    ),
    SketchedLinearRegression(),
    SketchedLinearRegression(method="sketch", random_state=0),
]


@parametrize_with_checks(_CHECKED)
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


def _multiclass(rng, n=900, d=4, k=3, sparse=False):
    X = rng.standard_normal((n, d))
    y = np.argmax(X @ rng.standard_normal((d, k)) + rng.gumbel(size=(n, k)), axis=1)
    if sparse:
        X[rng.random(X.shape) < 0.5] = 0.0
        X = sp.csr_matrix(X)
    return X, y


def _design(X):
    X = X.toarray() if sp.issparse(X) else np.asarray(X)
    return np.hstack([X, np.ones((X.shape[0], 1))])


def _softmax_oracles(X, y, coef, intercept, alpha, sw=None):
    """Independent numpy value, gradient norm and strong-convexity constant of the
    weighted mean softmax cross-entropy + (alpha/2)||coef||^2 (intercepts unpenalised).

    The constant is the smallest eigenvalue of the Hessian on the complement of its
    null space: adding the same vector to every class's column of W leaves the loss
    unchanged, so that space holds the common shift of the intercepts (unpenalised) and,
    with alpha = 0, the common shift of the coefficients too.
    """
    A = _design(X)
    n, k = A.shape[0], coef.shape[0]
    c = np.full(n, 1.0 / n) if sw is None else sw / sw.sum()
    W = np.vstack([coef.T, intercept])  # (d + 1, K)
    T = A @ W
    P = softmax(T, axis=1)
    Y = np.eye(k)[y]
    f = c @ (logsumexp(T, axis=1) - np.sum(Y * T, axis=1)) + 0.5 * alpha * np.sum(coef**2)
    mask = np.ones_like(W)
    mask[-1] = 0.0
    G = A.T @ (c[:, None] * (P - Y)) + alpha * mask * W
    # H[(j, a), (l, b)] = sum_i c_i A_ij A_il (P_ia [a = b] - P_ia P_ib) + alpha [penalised]
    H = np.empty((A.shape[1], k, A.shape[1], k))
    for a in range(k):
        for b in range(k):
            curvature = c * P[:, a] * ((a == b) - P[:, b])
            H[:, a, :, b] = A.T @ (A * curvature[:, None])
    p = W.size
    H = H.reshape(p, p) + np.diag(alpha * mask.ravel())
    lam = np.linalg.eigvalsh(H)
    null = 1 if alpha > 0 else W.shape[0]
    return f, float(np.linalg.norm(G)), float(lam[null])


def _binary_oracles(X, y, w, loss, alpha, sw):
    """Independent numpy gradient norm and smallest Hessian eigenvalue of the weighted
    binary objective at w = [coef, intercept]."""
    A = _design(X)
    c = sw / sw.sum()
    s = expit(A @ w)
    ds = s * (1 - s)
    if loss == "logistic":
        first, second = s - y, ds
    else:
        first, second = 2 * (s - y) * ds, 2 * ds**2 + 2 * (s - y) * ds * (1 - 2 * s)
    mask = np.ones_like(w)
    mask[-1] = 0.0
    g = A.T @ (c * first) + alpha * mask * w
    H = A.T @ (A * (c * second)[:, None]) + np.diag(alpha * mask)
    return float(np.linalg.norm(g)), float(np.linalg.eigvalsh(H)[0])


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


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("loss", ["nls", "logistic"])
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("solver,sampling", [("tr", "uniform"), ("arc", "nonuniform")])
def test_integer_weights_equal_repeated_rows(rng, seed, loss, n_classes, solver, sampling):
    """hessian_sample_size="auto" (the default): on small data the schedule takes the
    exact Hessian, so the weighted fit and the fit on repeated rows follow the same
    iterates whatever the seed, as scikit-learn's sample-weight-equivalence check asks."""
    X, y = _classification(rng, n=300, d=3) if n_classes == 2 else _multiclass(rng, n=300, d=3)
    counts = rng.integers(0, 4, 300)
    params = dict(loss=loss, solver=solver, hessian_sampling=sampling, tol=1e-10,
                  random_state=seed)
    weighted = SubsampledNewtonClassifier(**params).fit(X, y, sample_weight=counts)
    repeated = SubsampledNewtonClassifier(**params).fit(
        np.repeat(X, counts, axis=0), np.repeat(y, counts)
    )
    # The exact Hessian at every iterate: all rows, no draws.
    assert np.all(weighted.history_["hessian_rows"][1:] == 300)
    assert np.all(repeated.history_["hessian_rows"][1:] == counts.sum())
    assert weighted.n_iter_ == repeated.n_iter_
    # Both stop with ||g|| <= tol at a minimiser with curvature >= mu: each is within
    # tol / mu of it (to first order), so they differ by at most 2 tol / mu.
    sw = counts.astype(float)
    if n_classes == 3 and loss == "logistic":
        mu = _softmax_oracles(X, y, weighted.coef_, weighted.intercept_, 0.0, sw)[2]
    else:
        # Binary, or one-hot NLS: its Hessian is block diagonal, one binary NLS block per
        # class (the loss is a sum of one-vs-rest terms).
        targets = [y] if n_classes == 2 else [(y == k).astype(float) for k in range(3)]
        mu = min(
            _binary_oracles(X, t, np.append(c, b), loss, 0.0, sw)[1]
            for t, c, b in zip(targets, weighted.coef_, weighted.intercept_, strict=True)
        )
    assert mu > 0
    bound = 2 * 1e-10 / mu
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=0, atol=bound)
    np.testing.assert_allclose(weighted.intercept_, repeated.intercept_, rtol=0, atol=bound)


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


@pytest.mark.parametrize("n_classes", [2, 3])
def test_convergence_warning_only_when_stopped_early(rng, n_classes):
    X, y = _classification(rng, n=300, d=3) if n_classes == 2 else _multiclass(rng, n=300, d=3)
    for loss in ("nls", "logistic"):
        with pytest.warns(ConvergenceWarning, match="max_iter"):
            clf = SubsampledNewtonClassifier(loss=loss, max_iter=1, tol=1e-12,
                                             random_state=0).fit(X, y)
        assert clf.n_iter_ == 1 and clf.status_ == 1
        # A fit that reaches tol (the defaults, on data with a finite minimiser) is silent.
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            clf = SubsampledNewtonClassifier(loss=loss, random_state=0).fit(X, y)
        assert clf.status_ == 0 and clf.history_["grad_norm"][-1] <= clf.tol


def test_classifier_rejects_bad_input(rng):
    X, y = _classification(rng, n=60, d=3)
    with pytest.raises(ValueError, match="needs samples of at least two classes in y; got 1 "
                       "class"):
        SubsampledNewtonClassifier().fit(X, np.ones(60))
    with pytest.raises(ValueError, match="hessian_sample_size"):
        SubsampledNewtonClassifier(hessian_sample_size="big").fit(X, y)
    with pytest.raises(ValueError, match="multilabel|multiclass-multioutput|1d array"):
        SubsampledNewtonClassifier().fit(X, np.column_stack([y, y]))
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


def test_binary_fit_unchanged_vs_pinned_reference():
    """Two classes keep the binary losses: the exact-Hessian fits of main (pinned)."""
    rng = np.random.default_rng(2024)
    X = rng.standard_normal((400, 3))
    y = (X @ np.array([1.0, -2.0, 0.5]) + 0.3 + rng.logistic(size=400) > 0).astype(int)
    sw = rng.uniform(0.5, 2.0, 400)
    pinned = {  # printed by main's SubsampledNewtonClassifier(..., tol=1e-10) before K > 2
        "nls": [1.128897174797304, -1.9535946286970507, 0.2934483673989179, 0.59100881925764],
        "logistic": [1.1969693708900442, -2.0868629018344595, 0.33072089925903236,
                     0.640847683358692],
    }
    for loss, alpha in (("nls", 0.0), ("logistic", 1e-3)):
        for solver in ("tr", "arc"):
            clf = SubsampledNewtonClassifier(loss=loss, solver=solver, alpha=alpha,
                                             hessian_sampling="full", tol=1e-10)
            clf.fit(X, y, sample_weight=sw)
            assert clf.coef_.shape == (1, 3) and clf.intercept_.shape == (1,)
            assert clf.decision_function(X).shape == (400,)
            w = np.append(clf.coef_[0], clf.intercept_)
            # Both fits end with ||g|| <= 1e-10 near the same minimiser of curvature mu.
            _, mu = _binary_oracles(X, y, w, loss, alpha, sw)
            np.testing.assert_allclose(w, pinned[loss], rtol=0, atol=2 * 1e-10 / mu)


def test_multinomial_matches_sklearn_on_digits():
    """loss="logistic" with K = 10 is scikit-learn's multinomial LogisticRegression."""
    X, y = load_digits(return_X_y=True)
    X = X / 16.0  # pixels in [0, 1]: the raw 0..16 scale only slows both solvers down
    n = X.shape[0]
    C = 1.0  # scikit-learn's default: alpha = 1 / (C n)
    alpha = 1.0 / (C * n)
    with threadpool_limits(1):
        ref = LogisticRegression(C=C, solver="newton-cholesky", tol=1e-10, max_iter=100)
        ref.fit(X, y)
        clf = SubsampledNewtonClassifier(loss="logistic", alpha=alpha, tol=1e-10,
                                         random_state=0).fit(X, y)
    assert clf.coef_.shape == (10, 64) and clf.intercept_.shape == (10,)
    f_ours, g_ours, mu = _softmax_oracles(X, y, clf.coef_, clf.intercept_, alpha)
    f_ref, g_ref, _ = _softmax_oracles(X, y, ref.coef_, ref.intercept_, alpha)
    # Near the minimiser f - f* <= ||g||^2 / (2 mu); mu/2 allows for the Hessian's change
    # between the points; the mean of n terms adds n eps |f| of rounding.
    rounding = n * np.finfo(float).eps * abs(f_ref)
    assert abs(f_ours - f_ref) <= (g_ours**2 + g_ref**2) / mu + rounding
    # The minimiser (up to the common intercept shift) and the probabilities.
    bound = 2 * (g_ours + g_ref) / mu
    np.testing.assert_allclose(clf.coef_, ref.coef_, rtol=0, atol=bound)
    np.testing.assert_allclose(clf.intercept_ - clf.intercept_.mean(),
                               ref.intercept_ - ref.intercept_.mean(), rtol=0, atol=bound)
    P = clf.predict_proba(X)
    np.testing.assert_allclose(P, ref.predict_proba(X), rtol=0,
                               atol=bound * np.abs(_design(X)).sum(axis=1).max())
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=0, atol=1e-14)


def test_multiclass_nls_is_one_vs_rest(rng):
    """The one-hot sigmoid least squares is a sum of K binary NLS objectives: its fit is
    the one-vs-rest fit of the binary classifier, class by class."""
    X, y = _multiclass(rng, n=600, d=4, k=3)
    params = dict(loss="nls", hessian_sampling="full", tol=1e-10)
    clf = SubsampledNewtonClassifier(**params).fit(X, y)
    ovr = OneVsRestClassifier(SubsampledNewtonClassifier(**params)).fit(X, y)
    ones = np.ones(600)
    for k, binary in enumerate(ovr.estimators_):
        w = np.append(clf.coef_[k], clf.intercept_[k])
        _, mu = _binary_oracles(X, (y == k).astype(float), w, "nls", 0.0, ones)
        assert mu > 0  # a strict local minimiser of the class-k objective
        bound = 2 * 1e-10 / mu
        np.testing.assert_allclose(clf.coef_[k], binary.coef_[0], rtol=0, atol=bound)
        np.testing.assert_allclose(clf.intercept_[k], binary.intercept_[0], rtol=0, atol=bound)
    np.testing.assert_array_equal(clf.predict(X), ovr.predict(X))
    assert clf.score(X, y) == ovr.score(X, y) > 0.6
    # predict_proba: the K sigmoids normalised to one (the ranking of the scores).
    S = expit(clf.decision_function(X))
    np.testing.assert_allclose(clf.predict_proba(X), S / S.sum(axis=1, keepdims=True),
                               rtol=1e-13)


@pytest.mark.parametrize("loss", ["nls", "logistic"])
def test_multiclass_api_and_stable_probabilities(rng, loss):
    X, y_idx = _multiclass(rng, n=500, d=3, k=4)
    labels = np.array(["ant", "bee", "cat", "dog"])
    y = labels[y_idx]
    clf = SubsampledNewtonClassifier(loss=loss, alpha=1e-3, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, labels)
    assert clf.coef_.shape == (4, 3) and clf.intercept_.shape == (4,)
    D = clf.decision_function(X)
    np.testing.assert_allclose(D, X @ clf.coef_.T + clf.intercept_, rtol=1e-14)
    np.testing.assert_array_equal(clf.predict(X), labels[np.argmax(D, axis=1)])
    P = clf.predict_proba(X)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=0, atol=1e-14)
    np.testing.assert_array_equal(np.argmax(P, axis=1), np.argmax(D, axis=1))
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(P), rtol=1e-12)
    ref = softmax(D, axis=1) if loss == "logistic" else expit(D) / expit(D).sum(1, keepdims=True)
    if loss == "logistic":
        # The softmax's representative sums to zero over the K = 4 classes, to the
        # rounding of the centring and of the sum (each about K eps max|entry|).
        bound = 2 * 4 * EPS * (np.abs(clf.coef_).max() + np.abs(clf.intercept_).max())
        np.testing.assert_allclose(clf.coef_.sum(axis=0), 0.0, rtol=0, atol=bound)
        np.testing.assert_allclose(clf.intercept_.sum(), 0.0, rtol=0, atol=bound)
    np.testing.assert_allclose(P, ref, rtol=1e-13)
    # Huge scores: log-probabilities stay finite and exact (no log(0), no 0/0).
    big = 1e6 * X[:20]
    logp = clf.predict_log_proba(big)
    assert np.isfinite(logp).all()
    Db = clf.decision_function(big)
    if loss == "logistic":
        expected = Db - Db.max(axis=1, keepdims=True)  # the rest of log-softmax underflows
        np.testing.assert_allclose(logp, expected, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(np.exp(logp).sum(axis=1), 1.0, rtol=1e-12)


def test_multiclass_sparse_equals_dense_and_weights(rng):
    X, y = _multiclass(rng, n=800, d=5, k=3, sparse=True)
    sw = rng.uniform(0.0, 2.0, 800)
    params = dict(loss="logistic", alpha=1e-2, hessian_sampling="full", tol=1e-10)
    a = SubsampledNewtonClassifier(**params).fit(X, y, sample_weight=sw)
    b = SubsampledNewtonClassifier(**params).fit(X.toarray(), y, sample_weight=sw)
    _, g, mu = _softmax_oracles(X, y, a.coef_, a.intercept_, 1e-2, sw)
    assert g <= 1e-10
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=0, atol=4 * 1e-10 / mu)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=0,
                               atol=1e-8)


@pytest.mark.parametrize(
    "solver,sampling,size", [("tr", "uniform", 0.2), ("arc", "nonuniform", 0.2),
                             ("tr", "uniform", "auto")],
)
def test_multiclass_sampled_fits_reach_the_minimiser(rng, solver, sampling, size):
    X, y = _multiclass(rng, n=3000, d=5, k=4)
    alpha = 1e-3
    clf = SubsampledNewtonClassifier(
        loss="logistic", solver=solver, hessian_sampling=sampling, hessian_sample_size=size,
        alpha=alpha, tol=1e-9, max_iter=300, random_state=0,
    ).fit(X, y)
    exact = SubsampledNewtonClassifier(loss="logistic", alpha=alpha, hessian_sampling="full",
                                       tol=1e-11).fit(X, y)
    f, g, mu = _softmax_oracles(X, y, clf.coef_, clf.intercept_, alpha)
    f_star, g_star, _ = _softmax_oracles(X, y, exact.coef_, exact.intercept_, alpha)
    assert clf.status_ == 0 and g <= 1e-9
    np.testing.assert_allclose(clf.coef_, exact.coef_, rtol=0, atol=2 * (g + g_star) / mu)
    assert f - f_star <= (g**2 + g_star**2) / mu + 3000 * np.finfo(float).eps * f_star


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
    # A one-shot solve counts as one iteration (n_iter_ >= 1); the raw count is 0.
    assert approx.n_iter_ == 1 and approx.result_.nit == 0


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
