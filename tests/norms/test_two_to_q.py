"""2->q norm bracket against brute force over fine grids of unit vectors (d = 2, 3)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from randopt.norms import two_to_q_norm


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
    res = two_to_q_norm(X, 4, random_state=0)
    assert res.upper_method == "spectral (q=4)"
    assert res.upper / res.lower - 1 < 1e-8
    assert res.failure_probability == 1e-6


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
    no_spec = two_to_q_norm(X, 4, spectral_bound=False, random_state=0)
    assert no_spec.upper_method == "interpolation" and no_spec.failure_probability == 0


def test_planted_spike_is_found(rng):
    d = 8
    u = rng.standard_normal(d)
    u /= np.linalg.norm(u)
    X = rng.standard_normal((300, d))
    X[:5] += 20 * u
    res = two_to_q_norm(X, 4, random_state=0)
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
        (np.ones((3, 2)), np.nan, TypeError),
        (np.ones((3, 2)), "4", TypeError),
        (np.array([[1.0, np.nan]]), 4, ValueError),
        (np.ones(3), 4, ValueError),
    ],
)
def test_bad_input(X, q, err):
    with pytest.raises(err):
        two_to_q_norm(X, q)
