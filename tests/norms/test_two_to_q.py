"""2->q norm bracket against brute force over fine grids of unit vectors (d = 2, 3)."""

import importlib.util
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import randopt.norms.two_to_q as two_to_q_module
from randopt.norms import two_to_q_norm
from randopt.norms.result import NormResult

HAS_SOS = importlib.util.find_spec("scs") is not None


def circle(n=200_001):
    t = np.linspace(0.0, np.pi, n)  # v and -v give the same value: a half circle suffices
    return np.stack([np.cos(t), np.sin(t)])


def sphere(n=300_000):
    # Fibonacci lattice: spacing about sqrt(4 pi / n) = 0.0065 rad.
    i = np.arange(n) + 0.5
    phi = np.arccos(1 - 2 * i / n)
    theta = np.pi * (1 + 5**0.5) * i
    return np.stack([np.cos(theta) * np.sin(phi), np.sin(theta) * np.sin(phi), np.cos(phi)])


def brute(X, q, V):
    Y = np.abs(X @ V)
    return (np.max(Y, axis=0) if np.isinf(q) else np.sum(Y**q, axis=0) ** (1 / q)).max()


@pytest.mark.parametrize("q", [3, 4, 6, np.inf])
def test_d2_against_fine_circle(q, rng):
    X = rng.standard_normal((40, 2))
    truth = brute(X, q, circle())  # error O(h^2) ~ 1e-10 relative
    res = two_to_q_norm(X, q, random_state=0)
    assert res.lower <= truth * (1 + 1e-9)
    assert res.upper >= truth * (1 - 1e-12)
    assert res.lower >= truth * (1 - 1e-9)  # the power method finds the maximum here
    assert np.isclose(np.linalg.norm(res.v), 1)
    y = np.abs(X @ res.v)
    got = y.max() if np.isinf(q) else np.sum(y**q) ** (1 / q)
    assert np.isclose(got, res.lower, rtol=1e-13)


def test_q4_spectral_bound_is_exact_for_d2(rng):
    # Binary quartics: nonnegative = sum of squares, so the degree-4 certificate is tight.
    X = rng.standard_normal((30, 2))
    res = two_to_q_norm(X, 4, method="spectral", random_state=0)
    assert res.upper_method == "spectral (q=4)"
    assert res.upper / res.lower - 1 < 1e-8
    assert res.failure_probability == 1e-6 and res.upper_kind == "probabilistic"


@pytest.mark.parametrize("q", [3, 4, 5])
def test_d3_against_fibonacci_sphere(q, rng):
    X = rng.standard_normal((25, 3))
    grid = brute(X, q, sphere())
    res = two_to_q_norm(X, q, random_state=1)
    # grid <= truth <= grid * (1 + 1e-3) for this mesh.
    assert res.upper >= grid
    assert res.lower <= grid * (1 + 1e-3)
    assert res.lower >= grid * (1 - 1e-12)


def test_bounds_reported_and_interpolation(rng):
    X = rng.standard_normal((200, 6))
    res = two_to_q_norm(X, 4, random_state=0)
    spec = np.linalg.norm(X, 2)
    rmax = np.linalg.norm(X, axis=1).max()
    assert np.isclose(res.upper_bounds["spectral norm"], spec, rtol=1e-12)
    assert np.isclose(res.upper_bounds["interpolation"], spec**0.5 * rmax**0.5, rtol=1e-12)
    assert res.upper == min(res.upper_bounds.values())
    assert res.ratio < 1.05
    no_spec = two_to_q_norm(X, 4, method="interpolation", random_state=0)
    assert no_spec.upper_method == "interpolation" and no_spec.failure_probability == 0
    assert isinstance(no_spec, NormResult) and no_spec.upper_kind == "deterministic"
    assert no_spec.norm == no_spec.lower and no_spec.n_matvec > 0 and not no_spec.converged


def test_planted_spike_is_found(rng):
    d = 8
    u = rng.standard_normal(d)
    u /= np.linalg.norm(u)
    X = rng.standard_normal((300, d))
    X[:5] += 20 * u
    res = two_to_q_norm(X, 4, method="spectral", random_state=0)
    assert abs(abs(res.v @ u) - 1) < 1e-2
    assert res.ratio < 1.01


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(1, 30),
    d=st.integers(2, 3),
    q=st.sampled_from([2.5, 3.0, 4.0, 7.0]),
    seed=st.integers(0, 2**31 - 1),
)
def test_bracket_holds_on_random_instances(n, d, q, seed):
    g = np.random.default_rng(seed)
    X = g.standard_normal((n, d)) * g.uniform(0.1, 10, size=(n, 1))
    V = circle(20_001) if d == 2 else sphere(40_000)
    grid = brute(X, q, V)
    res = two_to_q_norm(X, q, random_state=seed)
    assert res.upper >= grid * (1 - 1e-12)
    assert res.lower <= grid * (1 + 1e-2)
    assert res.lower <= res.upper


@pytest.mark.parametrize(
    "X, q, err",
    [
        (np.ones((3, 2)), 2, ValueError),
        (np.ones((3, 2)), 1.5, ValueError),
        (np.ones((3, 2)), np.nan, ValueError),
        (np.ones((3, 2)), "4", TypeError),
        (np.array([[1.0, np.nan]]), 4, ValueError),
        (np.ones(3), 4, ValueError),
    ],
)
def test_bad_input(X, q, err):
    with pytest.raises(err):
        two_to_q_norm(X, q)


@pytest.mark.parametrize(
    "option, value, err",
    [
        ("method", "lasserre", ValueError),
        ("method", None, ValueError),
        ("tol", 0.0, ValueError),
        ("tol", "small", TypeError),
        ("max_iter", 0, ValueError),
        ("max_iter", 2.5, TypeError),
        ("subproblem_max_iter", 0, ValueError),
        ("n_starts", True, TypeError),
        ("failure_probability", 1.0, ValueError),
        ("random_state", "seed", TypeError),
    ],
)
def test_bad_options(option, value, err):
    with pytest.raises(err, match=option if option != "random_state" else "random_state"):
        two_to_q_norm(np.ones((3, 2)), 4, **{option: value})


def test_without_the_solver_sos_raises_and_auto_falls_back(monkeypatch, rng):
    monkeypatch.setattr(two_to_q_module, "sos_available", lambda: False)
    X = rng.standard_normal((50, 4))
    with pytest.raises(ImportError, match=r"pip install 'randopt\[sos\]'"):
        two_to_q_norm(X, 4, method="sos")
    res = two_to_q_norm(X, 4, random_state=0)
    assert res.method == "spectral" and res.sos is None


def test_sos_too_large_is_refused():
    with pytest.raises(ValueError, match="order"):
        two_to_q_norm(np.ones((3, 70)), 4, method="sos")


@pytest.mark.skipif(not HAS_SOS, reason="needs pip install 'randopt[sos]'")
@pytest.mark.parametrize("n, d", [(300, 10), (400, 14)])
def test_sos_closes_the_bracket(n, d):
    # Gaussian data with n >~ d^2: the degree-4 SoS bound meets the local maximum.
    X = np.random.default_rng(d).standard_normal((n, d))
    res = two_to_q_norm(X, 4, random_state=0, tol=1e-6)
    assert res.method == "sos" and res.upper_method == "sos"
    assert res.upper_kind == "deterministic" and res.failure_probability == 0.0
    assert res.converged and res.ratio <= 1 + 1e-6
    spectral = two_to_q_norm(X, 4, method="spectral", random_state=0)
    assert spectral.ratio > 1.005  # what the SoS bound improves on
    # Every local maximum found from many starts lies below the certified bound.
    g = np.random.default_rng(0)
    V = g.standard_normal((d, 200))
    V /= np.linalg.norm(V, axis=0)
    for _ in range(300):
        G = X.T @ (X @ V) ** 3
        V = G / np.linalg.norm(G, axis=0)
    assert np.max(np.sum((X @ V) ** 4, axis=0) ** 0.25) <= res.upper * (1 + 1e-13)


@pytest.mark.skipif(not HAS_SOS, reason="needs pip install 'randopt[sos]'")
@pytest.mark.parametrize("q", [3, 5, 6])
def test_sos_for_other_q(q, rng):
    X = rng.standard_normal((80, 5))
    res = two_to_q_norm(X, q, method="sos", random_state=0)
    expect = "sos" if q == 6 else "sos (degree 4) + interpolation"
    assert expect in res.upper_bounds and res.sos["degree"] == (6 if q == 6 else 4)
    assert res.lower <= res.upper
    if q == 6:
        assert res.ratio <= 1 + 1e-4


@pytest.mark.parametrize("k", [-1060, -500, 0, 500, 1000])
def test_bracket_scales_exactly_with_powers_of_two(k, rng):
    X = rng.standard_normal((60, 3))
    ref = two_to_q_norm(X, 4, random_state=0)
    res = two_to_q_norm(np.ldexp(X, k), 4, random_state=0)
    truth = brute(X, 4, sphere(50_000))
    assert math.ldexp(res.upper, -k) >= truth * (1 - 1e-13)
    if -1000 < k < 1000:
        assert math.ldexp(res.upper, -k) == ref.upper
        assert math.ldexp(res.lower, -k) == ref.lower
