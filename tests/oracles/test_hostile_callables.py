"""Hostile outputs of user callables: checked where they enter, errors naming the callable.

Issue 20: a user's ``fun``/``grad``/``hessp``/``hess`` (CallableObjective),
``fun``/``grad``/``hvp`` (MinibatchObjective), a JAX loss (JaxObjective) or a
HessianModel's ``matvec`` returning NaN/inf, ``None``, a wrong shape, a
complex value or a non-numeric object must give a TypeError/ValueError that
names the callable, never a silent NaN, a dropped imaginary part, or a NumPy
error from deep inside. A non-finite value or gradient at a solver's trial
point stays a rejected step (the solver goes on); the public oracles refuse it.
"""

import warnings

import numpy as np
import pytest

from randopt.optimize import trust_region
from randopt.oracles import CallableObjective, HessianModel, MinibatchObjective

D = 3


def _callable(fun=None, grad=None, hessp=None, hess=None):
    fun = fun or (lambda x: 0.5 * float(x @ x))
    grad = grad or (lambda x: x.copy())
    if hessp is None and hess is None:
        hessp = lambda x, v: v.copy()  # noqa: E731
    return CallableObjective(fun, grad, hessp=hessp, hess=hess, n_features=D)


BAD_VECTORS = [
    (np.full(D, np.nan), ValueError, "NaN or infinity"),
    (np.full(D, np.inf), ValueError, "NaN or infinity"),
    (None, TypeError, "must return a real array"),
    (np.ones(D + 1), ValueError, r"shape \(4,\)"),
    (np.ones(D) * (1 + 1j), TypeError, "complex"),
    ("abc", TypeError, "must return a real array"),
    (np.array([object(), 1, 2], dtype=object), TypeError, "dtype object"),
]


@pytest.mark.parametrize("output, exc, match", BAD_VECTORS, ids=repr)
def test_callable_gradient_outputs_are_checked(output, exc, match):
    f = _callable(grad=lambda x: output)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a ComplexWarning would mean a dropped imaginary part
        with pytest.raises(exc, match=match) as info:
            f.gradient(np.ones(D))
    assert "grad" in str(info.value)


@pytest.mark.parametrize("output, exc, match", BAD_VECTORS, ids=repr)
def test_callable_hessp_outputs_are_checked(output, exc, match):
    f = _callable(hessp=lambda x, v: output)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(exc, match=match) as info:
            f.hessp(np.ones(D), np.ones(D))
    assert "hessp" in str(info.value)


@pytest.mark.parametrize("output, exc", [
    (np.full((D, D), np.nan), ValueError), (None, TypeError), (np.eye(D) * 1j, TypeError),
    (np.eye(D + 1), ValueError),
])
def test_callable_hess_outputs_are_checked(output, exc):
    f = _callable(hess=lambda x: output)
    with pytest.raises(exc, match="hess"):
        f.hessian(np.ones(D))


@pytest.mark.parametrize("value, exc", [
    (float("nan"), ValueError), (float("inf"), ValueError), (1 + 2j, TypeError),
    (None, TypeError), ("1.0", TypeError), (np.ones(2), TypeError),
])
def test_callable_value_outputs_are_checked(value, exc):
    f = _callable(fun=lambda x: value)
    with pytest.raises(exc, match="fun"):
        f.value(np.ones(D))


def test_non_finite_trial_points_are_still_rejected_by_the_solver():
    # NaN value and gradient beyond ||x|| = 2: the solver rejects those trial points.
    def fun(x):
        return float("nan") if np.linalg.norm(x) > 2 else 0.5 * float(x @ x - 2 * x.sum())

    def grad(x):
        return np.full(D, np.nan) if np.linalg.norm(x) > 2 else x - 1.0

    f = CallableObjective(fun, grad, hessp=lambda x, v: v.copy(), n_features=D)
    res = trust_region(f, np.zeros(D), radius=50.0, gtol=1e-10)
    np.testing.assert_allclose(res.x, np.ones(D), atol=1e-8)


@pytest.mark.parametrize("which", ["fun", "grad", "hvp"])
def test_minibatch_non_finite_outputs_name_the_callable(which):
    good = {"fun": lambda w, i: 0.0, "grad": lambda w, i: np.zeros(2),
            "hvp": lambda w, v, i: v}
    good[which] = {"fun": lambda w, i: float("nan"),
                   "grad": lambda w, i: np.array([np.inf, 0.0]),
                   "hvp": lambda w, v, i: np.array([np.nan, 0.0])}[which]
    f = MinibatchObjective(good["fun"], good["grad"], hvp=good["hvp"], n_samples=4,
                           n_features=2)
    with pytest.raises(ValueError, match=which):
        if which == "fun":
            f.value(np.zeros(2))
        elif which == "grad":
            f.gradient(np.zeros(2))
        else:
            f.hessp(np.zeros(2), np.ones(2))


def test_minibatch_complex_gradient_is_refused():
    f = MinibatchObjective(lambda w, i: 0.0, lambda w, i: np.ones(2) * 1j,
                           hvp=lambda w, v, i: v, n_samples=4, n_features=2)
    with pytest.raises(TypeError, match="grad.*complex"):
        f.gradient(np.zeros(2))


@pytest.mark.parametrize("output, exc", [
    (None, TypeError), (np.ones(2) * 1j, TypeError), (np.array([np.nan, 1.0]), ValueError),
    (np.ones(3), ValueError), ("ab", TypeError),
])
def test_hessian_model_user_matvec_is_checked(output, exc):
    H = HessianModel(2, 1, matvec=lambda v: output)
    with pytest.raises(exc, match="matvec"):
        H.matvec(np.ones(2))
    with pytest.raises(exc, match="matvec"):
        H.toarray()


def test_hessian_model_user_matvec_cannot_alter_the_callers_vector():
    def matvec(v):
        v *= 3.0  # writes into its argument
        return v

    v = np.array([1.0, 2.0])
    assert HessianModel(2, 1, matvec=matvec).matvec(v).tolist() == [3.0, 6.0]
    assert v.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("matrix, exc", [
    (np.array([[1.0, np.nan], [np.nan, 1.0]]), ValueError),
    (np.eye(2) * 1j, TypeError),
    (np.array([["a", "b"], ["c", "d"]]), TypeError),
])
def test_hessian_model_matrix_is_checked_once_in_the_constructor(matrix, exc):
    with pytest.raises(exc, match="matrix"):
        HessianModel(2, 1, matrix=matrix)


# --------------------------------------------------------------------------- JAX


jax = pytest.importorskip("jax")
jnp = jax.numpy


def _jax_objective(loss):
    from randopt.oracles import JaxObjective

    data = (np.linspace(-1.0, 1.0, 8).reshape(4, 2),)
    return JaxObjective(loss, jnp.zeros(2), data)


def test_jax_loss_returning_nan_is_named():
    # The square root of a negative number: NaN (value, gradient, products) off the domain.
    f = _jax_objective(lambda p, b: jnp.sqrt(1.0 - jnp.sum(p)) + jnp.mean(b[0] @ p))
    with pytest.raises(ValueError, match=r"loss\(params, batch\)"):
        f.value(np.array([2.0, 1.0]))
    with pytest.raises(ValueError, match=r"loss\(params, batch\)"):
        f.gradient(np.array([2.0, 1.0]))
    with pytest.raises(ValueError, match="Hessian-vector product of loss"):
        f.hessp(np.array([2.0, 1.0]), np.ones(2))


def test_jax_loss_of_the_wrong_kind_is_refused_at_construction():
    with pytest.raises(TypeError, match="real scalar"):
        _jax_objective(lambda p, b: b[0] @ p)  # one value per row, not the mean
    with pytest.raises(TypeError, match="real scalar"):
        _jax_objective(lambda p, b: jnp.mean(b[0] @ p) * 1j)


@pytest.mark.parametrize("method", ["sampled_value", "gradient_second_moment"])
@pytest.mark.parametrize(("rows", "error", "match"), [
    (None, TypeError, "got None"),
    ([], ValueError, "non-empty"),
    ([7], ValueError, r"\[0, 4\)"),
    ([0.5], TypeError, "integers"),
])
def test_sampled_methods_need_a_valid_row_sample(method, rows, error, match):
    # no exact form exists for these two methods: a missing sample is a clear error,
    # never an AttributeError from inside
    y = np.arange(4.0)
    f = MinibatchObjective(lambda x, i: 0.5 * np.mean((x[0] - y[i]) ** 2),
                           lambda x, i: np.array([np.mean(x[0] - y[i])]),
                           hvp=lambda x, v, i: v, n_samples=4, n_features=1)
    with pytest.raises(error, match=match):
        getattr(f, method)(np.zeros(1), rows)
