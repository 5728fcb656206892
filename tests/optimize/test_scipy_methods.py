"""``scipy.optimize.minimize(..., method=minimize_trust_region)`` against SciPy's trust-ncg."""

import numpy as np
import pytest
from scipy.optimize import minimize, rosen, rosen_der, rosen_hess, rosen_hess_prod
from scipy.special import expit

from randopt.optimize import minimize_arc, minimize_trust_region


def logistic_problem(seed=0, n=800, d=15, alpha=1e-3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.logspace(0, -2, d)
    y = np.where(X @ rng.standard_normal(d) + rng.logistic(size=n) > 0, 1.0, -1.0)

    def fun(w, X, y, alpha):
        z = y * (X @ w)
        return np.mean(np.logaddexp(0, -z)) + 0.5 * alpha * w @ w

    def jac(w, X, y, alpha):
        z = y * (X @ w)
        return -(X.T @ (y * expit(-z))) / len(y) + alpha * w

    def hessp(w, v, X, y, alpha):
        s = expit(y * (X @ w))
        return X.T @ (s * (1 - s) * (X @ v)) / len(y) + alpha * v

    def hess(w, X, y, alpha):
        s = expit(y * (X @ w))
        return (X.T * (s * (1 - s))) @ X / len(y) + alpha * np.eye(len(w))

    return fun, jac, hessp, hess, (X, y, alpha)


def distance_tolerance(hess_at_opt, gtol):
    """Both runs stop at ||g|| <= gtol: each is within gtol / lambda_min of x* (to first order)."""
    return 2.5 * gtol / np.linalg.eigvalsh(hess_at_opt)[0]


@pytest.mark.parametrize("method", [minimize_trust_region, minimize_arc])
def test_rosenbrock_matches_trust_ncg(method):
    x0 = np.array([1.3, 0.7, 0.8, 1.9, 1.2])  # SciPy's tutorial start (4-D has a 2nd minimum)
    gtol = 1e-9
    ref = minimize(rosen, x0, jac=rosen_der, hessp=rosen_hess_prod, method="trust-ncg",
                   options={"gtol": gtol})
    res = minimize(rosen, x0, jac=rosen_der, hessp=rosen_hess_prod, method=method,
                   options={"gtol": gtol})
    assert ref.success and res.success
    tol = distance_tolerance(rosen_hess(np.ones(5)), gtol)
    assert np.linalg.norm(res.x - ref.x) <= 2 * tol
    assert np.linalg.norm(res.x - 1.0) <= tol
    assert res.nit >= 1 and res.nfev >= res.nit and res.njev >= 1 and res.nhev >= 1


@pytest.mark.parametrize("second", ["hessp", "hess"])
@pytest.mark.parametrize("options", [{}, {"subproblem_tol": "ew"}])
def test_logistic_matches_trust_ncg(second, options):
    fun, jac, hessp, hess, args = logistic_problem()
    d = args[0].shape[1]
    gtol = 1e-8
    ref = minimize(fun, np.zeros(d), args=args, jac=jac, hessp=hessp, method="trust-ncg",
                   options={"gtol": gtol})
    kw = {"hessp": hessp} if second == "hessp" else {"hess": hess}
    res = minimize(fun, np.zeros(d), args=args, jac=jac, method=minimize_trust_region,
                   options={"gtol": gtol, **options}, **kw)
    assert res.success and ref.success
    assert np.linalg.norm(res.jac) <= gtol
    assert np.linalg.norm(res.x - ref.x) <= distance_tolerance(hess(ref.x, *args), gtol)
    assert abs(res.fun - ref.fun) <= 1e-12 * abs(ref.fun) + gtol**2


def test_tol_maxiter_and_scipy_option_names():
    x0 = np.zeros(3)
    res = minimize(rosen, x0, jac=rosen_der, hessp=rosen_hess_prod, method=minimize_trust_region,
                   tol=1e-10)
    assert np.linalg.norm(res.jac) <= 1e-10
    res = minimize(rosen, x0, jac=rosen_der, hessp=rosen_hess_prod, method=minimize_trust_region,
                   options={"maxiter": 3, "initial_trust_radius": 0.1, "max_trust_radius": 1.0,
                            "eta": 0.1, "disp": False})
    assert res.nit == 3 and res.status == 1
    assert res.history["radius"][0] == 0.1 and res.history["radius"].max() <= 1.0
    # gtol given beats minimize's tol, as for SciPy's own methods
    res = minimize(rosen, x0, jac=rosen_der, hessp=rosen_hess_prod, method=minimize_trust_region,
                   tol=1e-2, options={"gtol": 1e-10})
    assert np.linalg.norm(res.jac) <= 1e-10


def test_jac_true_and_callbacks():
    def fg(x):
        return rosen(x), rosen_der(x)

    seen, results = [], []
    res = minimize(fg, np.zeros(3), jac=True, hessp=rosen_hess_prod,
                   method=minimize_trust_region, callback=lambda xk: seen.append(xk.copy()))
    assert res.success and len(seen) == res.nit

    def new_style(intermediate_result):
        results.append(intermediate_result.fun)
        if len(results) == 4:
            raise StopIteration

    res = minimize(rosen, np.zeros(3), jac=rosen_der, hessp=rosen_hess_prod,
                   method=minimize_trust_region, callback=new_style)
    assert len(results) == 4 and res.status == 99 and res.nit == 4


@pytest.mark.parametrize("kwargs, err, match", [
    (dict(options={"gtoll": 1e-6}), TypeError, "unknown option 'gtoll'"),
    (dict(options={"maxiter": 3, "max_iter": 4}), TypeError, "repeats"),
    (dict(options={"subproblem_tol": "fast"}), ValueError, "subproblem_tol"),
    (dict(jac=None), ValueError, "jac"),
    (dict(jac="2-point"), ValueError, "jac"),
    (dict(hessp=None), ValueError, "hessp"),
    (dict(hessp="cs"), ValueError, "hessp"),
    (dict(bounds=[(0, 1)] * 3), ValueError, "bounds"),
    (dict(constraints=[{"type": "eq", "fun": np.sum}]), ValueError, "constraints"),
    (dict(callback=3), TypeError, "callback"),
])
def test_bad_arguments_raise_clearly(kwargs, err, match):
    call = dict(jac=rosen_der, hessp=rosen_hess_prod, method=minimize_trust_region)
    call.update(kwargs)
    with pytest.raises(err, match=match):
        minimize(rosen, np.zeros(3), **call)


@pytest.mark.parametrize("constraints", [np.ones(2), {"type": "eq", "fun": np.sum}, [()]])
def test_any_nonempty_constraints_are_refused_by_name(constraints):
    # called directly: minimize may rewrite what it passes on
    with pytest.raises(ValueError, match="constraints must be empty"):
        minimize_arc(rosen, np.zeros(2), jac=rosen_der, hessp=rosen_hess_prod,
                     constraints=constraints)


def test_arc_rejects_trust_region_options():
    with pytest.raises(TypeError, match="initial_trust_radius"):
        minimize(rosen, np.zeros(3), jac=rosen_der, hessp=rosen_hess_prod, method=minimize_arc,
                 options={"initial_trust_radius": 1.0})
