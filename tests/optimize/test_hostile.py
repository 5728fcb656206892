"""Hostile input for randopt.optimize (issue 10; moved beside the module by issue 17).

trust_region, arc, their policies and pion_update are fed bad callables, bad option
values, NaN and wrong-length starting points, read-only arrays and extreme scales.
Required: a ValueError or TypeError naming the argument, or the reference answer;
never a crash, a NaN or a write to the caller's data. The shared helpers are in
``tests/hostile.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from randopt import oracles
from randopt.optimize import (
    CubicRegularizationPolicy,
    History,
    TrustRegionPolicy,
    arc,
    pion_update,
    trust_region,
)
from tests.hostile import (
    A0,
    B0,
    BAD_SCALARS,
    Y01,
    D,
    N,
    is_legit,
    noncanonical_csr,
    readonly,
    snapshot,
    unchanged,
)

_LOGISTIC = oracles.LogisticObjective(A0, Y01, alpha=1e-3)


def test_solvers_do_not_write_inputs():
    M = noncanonical_csr(A0)
    x0 = readonly(np.zeros(D))
    w = readonly(np.ones(N))
    before = snapshot(M)
    f = oracles.LogisticObjective(M, Y01, alpha=1e-2, sample_weight=w)
    trust_region(f, x0, max_iter=3, random_state=0)
    arc(f, x0, max_iter=3, random_state=0)
    assert unchanged(before, M)


# --------------------------------------------------------------------------
# Extreme scales
# --------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1e-300, 1e-200, 1e200, 1e300])
def test_pion_update_extreme_scales(scale):
    W, G = A0[:6].T.copy(), B0[:30].reshape(D, 6)
    ref = pion_update(W, G, 0.1)
    np.testing.assert_allclose(pion_update(W * scale, G / scale, 0.1), ref * scale,
                               rtol=1e-10)


@settings(max_examples=25, deadline=None)
@given(k=st.integers(-1000, 1000))
def test_pion_update_scaled_by_powers_of_two(k):
    """The update depends on where the data sits in the exponent range only as it must."""
    W, G = A0[:6].T.copy(), B0[:30].reshape(D, 6)
    new = pion_update(np.ldexp(W, k), G, np.ldexp(0.1, -k))
    np.testing.assert_allclose(np.ldexp(new, -k), pion_update(W, G, 0.1), rtol=1e-10)


# --------------------------------------------------------------------------
# Option values
# --------------------------------------------------------------------------

OPTIONS = {
    # name: (call taking the bad value, values that are legitimately fine)
    "radius": (lambda v: trust_region(_LOGISTIC, np.zeros(D), radius=v, max_iter=2), (6.9,)),
    "gtol": (lambda v: trust_region(_LOGISTIC, np.zeros(D), gtol=v, max_iter=2), (0, 6.9)),
    "tr.max_iter": (lambda v: trust_region(_LOGISTIC, np.zeros(D), max_iter=v), (0,)),
    "sigma0": (lambda v: arc(_LOGISTIC, np.zeros(D), sigma0=v, max_iter=2), (6.9,)),
    "eta1": (lambda v: TrustRegionPolicy(eta1=v), ()),
    "gamma1": (lambda v: CubicRegularizationPolicy(gamma1=v), (6.9,)),
    "hessian_sample_size": (
        lambda v: trust_region(_LOGISTIC, np.zeros(D), hessian_sample_size=v, max_iter=2), ()),
    "hessian_sampling": (
        lambda v: trust_region(_LOGISTIC, np.zeros(D), hessian_sampling=v, max_iter=2), ()),
    "subproblem": (lambda v: trust_region(_LOGISTIC, np.zeros(D), subproblem=v, max_iter=2), ()),
    "callback": (lambda v: trust_region(_LOGISTIC, np.zeros(D), callback=v, max_iter=2),
                 (None,)),
    "lr": (lambda v: pion_update(A0[:4, :3], A0[4:8, :3], v), (6.9,)),
    "return_generators": (
        lambda v: pion_update(A0[:4, :3], A0[4:8, :3], 0.1, return_generators=v), (True,)),
}


@pytest.mark.parametrize("option", sorted(OPTIONS))
@pytest.mark.parametrize("value", BAD_SCALARS, ids=repr)
def test_bad_option_value_names_the_option(option, value):
    call, legit = OPTIONS[option]
    name = option.split(".")[-1]
    if is_legit(value, legit):
        call(value)  # accepted, and must not crash
        return
    with pytest.raises((TypeError, ValueError), match=rf"\b{name}\b"):
        call(value)


# --------------------------------------------------------------------------
# The solver protocol
# --------------------------------------------------------------------------


def _quadratic():
    return (lambda x: float(x @ x), lambda x: 2 * x, lambda x, v: 2 * v)


@pytest.mark.parametrize("solver", [trust_region, arc])
def test_solver_refuses_bad_callables(solver):
    fun, grad, hessp = _quadratic()
    x0 = np.ones(D)
    with pytest.raises(ValueError, match="hessp"):
        solver((fun, grad, lambda x, v: v * np.nan), x0)
    with pytest.raises(ValueError, match="hessp"):
        solver((fun, grad, lambda x, v: np.ones(3)), x0)
    with pytest.raises(ValueError, match="grad"):
        solver((fun, lambda x: np.ones(3), hessp), x0)
    with pytest.raises(TypeError, match="fun"):
        solver((lambda x: "a", grad, hessp), x0)
    with pytest.raises(TypeError, match="fun"):
        solver((lambda x: np.ones(2), grad, hessp), x0)
    with pytest.raises(TypeError, match="callback"):
        solver(_LOGISTIC, np.zeros(D), callback=lambda x, info: 1, max_iter=3)
    with pytest.raises(ValueError, match="x0"):
        solver(_LOGISTIC, np.full(D, np.nan))
    with pytest.raises(ValueError, match="x0"):
        solver(_LOGISTIC, np.zeros(D - 1))
    res = solver((fun, grad, hessp), readonly(np.ones(D)))
    np.testing.assert_allclose(res.x, 0.0, atol=1e-6)


@pytest.mark.parametrize("radius", [-1.0, 0.0, np.nan, np.inf, "1", None, True])
def test_negative_or_bad_radius(radius):
    with pytest.raises((TypeError, ValueError), match="radius"):
        trust_region(_LOGISTIC, np.zeros(D), radius=radius)


def test_pion_update_hostile():
    W, G = A0[:4, :3].copy(), A0[4:8, :3].copy()
    for bad_w, bad_g, exc, name in [
        (W * np.nan, G, ValueError, "W"), (W, G * np.inf, ValueError, "grad"),
        (W, G[:2], ValueError, "grad"), (W.astype(object), G, TypeError, "W"),
        (W + 1j, G, TypeError, "W"), (np.zeros((0, 3)), np.zeros((0, 3)), ValueError, "W"),
    ]:
        with pytest.raises(exc, match=rf"\b{name}\b"):
            pion_update(bad_w, bad_g, 0.1)
    before = (W.copy(), G.copy())
    out = pion_update(readonly(W), readonly(G), 0.1)
    np.testing.assert_allclose(np.linalg.svd(out, compute_uv=False),
                               np.linalg.svd(W, compute_uv=False), rtol=1e-10)
    assert np.array_equal(W, before[0]) and np.array_equal(G, before[1])
    np.testing.assert_allclose(pion_update(np.zeros((4, 3)), G, 0.1), 0.0)


def test_history_arguments():
    with pytest.raises(TypeError, match="columns"):
        History("abc")
    with pytest.raises(TypeError, match="columns"):
        History(3)
