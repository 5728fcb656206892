"""Certified SoS bounds on 2->q norms: brute force, local search, corrupted Gram matrices.

Tolerances.  A brute-force maximum over a grid is a *lower* bound on the true
maximum, computed with relative rounding error at most ``(n + q) u``; the
certified upper bound must therefore exceed it by no tolerance at all beyond
``1e-13`` (that rounding).  Tightness (the other direction) is checked
against the solver tolerance ``tol`` used and the grid resolution.
"""

import importlib.util
import math
import os
import sys

import numpy as np
import pytest

from randopt.norms._sos_basis import MonomialBasis
from randopt.norms.sos import sos_available, sos_size, sos_upper_bound
from randopt.norms.sos_certificate import (
    SOSCertificate,
    build_certificate,
    is_positive_definite,
    verify_sos_certificate,
)

if importlib.util.find_spec("scs") is None:  # the test extra installs it: CI must not skip
    if os.environ.get("CI"):
        pytest.fail("CI must install the 'sos' extra (cvxpy, which brings SCS)",
                    pytrace=False)
    pytest.skip("the SoS bound needs SCS: pip install 'randopt[sos]'", allow_module_level=True)

ROUND = 1e-13  # relative rounding of a brute-force evaluation (n + q) u for n <= 1e3


def power_method(X, V, q, iters=2000):
    """Boyd's iteration from the columns of V: local maxima of ||X v||_q on the sphere."""
    V = V / np.linalg.norm(V, axis=0)
    for _ in range(iters):
        Y = X @ V
        G = X.T @ (np.sign(Y) * np.abs(Y) ** (q - 1))
        V = G / np.linalg.norm(G, axis=0)
    return np.sum(np.abs(X @ V) ** q, axis=0) ** (1 / q), V


def circle(n=100_001):
    t = np.linspace(0.0, np.pi, n)
    return np.stack([np.cos(t), np.sin(t)])


def fibonacci_sphere(n=200_000):
    i = np.arange(n) + 0.5
    phi = np.arccos(1 - 2 * i / n)
    theta = np.pi * (1 + 5**0.5) * i
    return np.stack([np.cos(theta) * np.sin(phi), np.sin(theta) * np.sin(phi), np.cos(phi)])


def brute(X, q, V):
    """Grid maximum, then local refinement of the 20 best grid points (still a lower bound)."""
    vals = np.sum(np.abs(X @ V) ** q, axis=0) ** (1 / q)
    best = V[:, np.argsort(vals)[-20:]]
    refined, _ = power_method(X, best, q, iters=200)
    return max(vals.max(), refined.max())


@pytest.mark.parametrize("q", [4, 6])
def test_d2_matches_brute_force(q, rng):
    # Nonnegative binary forms are sums of squares (Hilbert): the bound is tight.
    X = rng.standard_normal((30, 2)) * rng.uniform(0.1, 3.0, size=(30, 1))
    truth = brute(X, q, circle())
    res = sos_upper_bound(X, q, tol=1e-8)
    assert res.upper >= truth * (1 - ROUND)
    assert res.upper <= truth * (1 + 1e-7)


def test_d3_quartic_matches_brute_force(rng):
    # Nonnegative ternary quartics are sums of squares (Hilbert 1888): tight again.
    X = rng.standard_normal((25, 3))
    truth = brute(X, 4, fibonacci_sphere())
    res = sos_upper_bound(X, 4, tol=1e-8)
    assert res.upper >= truth * (1 - ROUND)
    assert res.upper <= truth * (1 + 1e-7)


@pytest.mark.parametrize("n, d, q", [(200, 8, 4), (400, 12, 4), (60, 4, 6)])
def test_upper_exceeds_every_local_maximum(n, d, q):
    g = np.random.default_rng(d)
    X = g.standard_normal((n, d))
    local, _ = power_method(X, g.standard_normal((d, 300)), q, iters=300)
    res = sos_upper_bound(X, q, v=None, tol=1e-7)
    assert res.upper >= local.max() * (1 - ROUND)
    # Gaussian data with n >~ d^2: SoS is tight (the best local maximum is the norm).
    assert res.upper <= local.max() * (1 + 1e-5)
    # The vector read off the Gram matrix's kernel is (near) the maximiser.
    hint = np.sum(np.abs(X @ res.v) ** q) ** (1 / q)
    assert hint >= local.max() * (1 - 1e-2)


def test_warm_start_from_maximiser_is_faster_and_as_tight():
    g = np.random.default_rng(3)
    X = g.standard_normal((400, 14))
    local, V = power_method(X, g.standard_normal((14, 50)), 4, iters=300)
    v = V[:, np.argmax(local)]
    cold = sos_upper_bound(X, 4, tol=1e-6)
    warm = sos_upper_bound(X, 4, v=v, tol=1e-6)
    assert warm.upper <= local.max() * (1 + 1e-6) * (1 + 1e-9)
    assert cold.upper >= local.max() * (1 - ROUND) and warm.upper >= local.max() * (1 - ROUND)
    assert warm.nit <= cold.nit


def test_early_stop_still_certifies(rng):
    X = rng.standard_normal((300, 10))
    local, _ = power_method(X, rng.standard_normal((10, 100)), 4, iters=300)
    res = sos_upper_bound(X, 4, max_iter=1)
    assert res.nit == 1
    assert res.upper >= local.max() * (1 - ROUND)  # valid, however loose


@pytest.mark.parametrize("k", [-1070, -700, -40, 0, 40, 700, 1000])
def test_every_scale_of_float64(k):
    g = np.random.default_rng(7)
    X = g.standard_normal((40, 3))
    ref = sos_upper_bound(X, 4, tol=1e-9)
    Xk = np.ldexp(X, k)
    res = sos_upper_bound(Xk, 4, tol=1e-9)
    truth = brute(X, 4, fibonacci_sphere(50_000))
    assert math.ldexp(res.upper, -k) >= truth * (1 - ROUND) or res.upper == math.inf
    if -1000 < k < 1000:  # no entry lost to underflow: same answer, to solver accuracy
        assert math.ldexp(res.upper, -k) == pytest.approx(ref.upper, rel=1e-8)


def test_certificate_round_trip_and_corruption(rng):
    X = rng.standard_normal((60, 4))
    res = sos_upper_bound(X, 4, tol=1e-8)
    cert = res.certificate
    assert verify_sos_certificate(X, cert) == res.upper
    G = cert.gram
    w, U = np.linalg.eigh(G)
    # 1. Make the Gram matrix indefinite: the check must reject it.
    bad = G - (w[0] + 1e-3 * w[-1]) * np.outer(U[:, 0], U[:, 0])
    with pytest.raises(ValueError, match="not proven positive semidefinite"):
        verify_sos_certificate(X, SOSCertificate(cert.q, cert.exponent, cert.lam, bad))
    # 2. A PSD Gram matrix of the wrong form: still a valid bound, paid for by the residual.
    wrong = G + 0.05 * w[-1] * np.outer(U[:, -1], U[:, -1])
    loose = verify_sos_certificate(X, SOSCertificate(cert.q, cert.exponent, cert.lam, wrong))
    V = rng.standard_normal((4, 200_000))
    truth = brute(X, 4, V / np.linalg.norm(V, axis=0))
    assert loose >= truth * (1 - ROUND)
    assert loose > res.upper * (1 + 1e-4)
    # 3. A multiplier lam below the maximum cannot be certified by any PSD matrix.
    low = SOSCertificate(cert.q, cert.exponent, 0.9 * cert.lam, G)
    assert verify_sos_certificate(X, low) >= truth * (1 - ROUND)
    # 4. The caller's arrays are never written to.
    before = G.copy()
    verify_sos_certificate(X, cert)
    np.testing.assert_array_equal(G, before)


def test_is_positive_definite_against_eigenvalues(rng):
    D = 40
    U, _ = np.linalg.qr(rng.standard_normal((D, D)))
    for lam_min, expected in [(1e-3, True), (1e-8, True), (-1e-10, False), (0.0, False),
                              (1e-16, False)]:
        w = np.linspace(1.0, 2.0, D)
        w[0] = lam_min
        G = (U * w) @ U.T
        G = 0.5 * (G + G.T)
        assert is_positive_definite(G) is expected, lam_min
    assert is_positive_definite(np.eye(3) * 2.0**-1000)  # scale-free margin
    with pytest.raises(ValueError, match="square"):
        is_positive_definite(np.ones((2, 3)))


def test_monomial_basis_identities():
    B = MonomialBasis(4, 2)
    assert B.size == sos_size(4, 4) == 10 and B.n_coefficients == math.comb(7, 4)
    v = np.random.default_rng(0).standard_normal(4)
    m = B.scale * B.features(v[None, :])[0]
    assert m @ m == pytest.approx(np.dot(v, v) ** 2, rel=1e-14)
    # A(Q) recovers the form: evaluate m^T Q m against the coefficients at a point.
    Q = np.random.default_rng(1).standard_normal((10, 10))
    Q = Q + Q.T
    coef = B.coefficients(Q)
    alpha_vals = B.features(v[None, :])[0]
    mono4 = alpha_vals[B.representative[:, 0]] * alpha_vals[B.representative[:, 1]]
    assert coef @ mono4 == pytest.approx(m @ Q @ m, rel=1e-12)
    # Projection lands on the affine set and is idempotent.
    target = np.random.default_rng(2).standard_normal(B.n_coefficients)
    P = B.project(Q, target)
    np.testing.assert_allclose(B.coefficients(P), target, atol=1e-12)
    np.testing.assert_allclose(B.project(P, target), P, atol=1e-12)
    # Largest monomial on the sphere: v0 v1 v2 v3 <= 1/16, v0^2 v1^2 <= 1/4.
    assert B.monomial_max.min() == pytest.approx(1 / 16)


def test_bad_options(monkeypatch):
    X = np.ones((3, 2))
    with pytest.raises(ValueError, match="even"):
        sos_upper_bound(X, 5)
    with pytest.raises(TypeError):
        sos_upper_bound(X, 4.0)
    with pytest.raises(ValueError):
        sos_upper_bound(X, 2)
    with pytest.raises(ValueError, match="tol"):
        sos_upper_bound(X, 4, tol=0)
    with pytest.raises(ValueError, match="max_iter"):
        sos_upper_bound(X, 4, max_iter=0)
    with pytest.raises(ValueError, match="v must be"):
        sos_upper_bound(X, 4, v=np.ones(3))
    with pytest.raises(ValueError, match="order"):
        sos_upper_bound(np.ones((2, 70)), 4)
    with pytest.raises(ValueError):
        sos_upper_bound(np.array([[1.0, np.inf]]), 4)
    with pytest.raises(TypeError, match="SOSCertificate"):
        verify_sos_certificate(X, {"lam": 1.0})
    with pytest.raises(ValueError, match="shape"):
        verify_sos_certificate(X, SOSCertificate(4, 0, 1.0, np.eye(2)))
    assert sos_upper_bound(np.zeros((3, 2)), 4).upper == 0.0
    monkeypatch.setitem(sys.modules, "scs", None)
    assert not sos_available()
    with pytest.raises(ImportError, match=r"randopt\[sos\]"):
        sos_upper_bound(X, 4)


def test_build_certificate_from_nothing_is_valid(rng):
    X = rng.standard_normal((15, 3))
    B = MonomialBasis(3, 2)
    cert = build_certificate(X, 4, B, 0.0, np.zeros((B.size, B.size)), exponent=0)
    truth = brute(X, 4, fibonacci_sphere(50_000))
    assert verify_sos_certificate(X, cert) >= truth * (1 - ROUND)
