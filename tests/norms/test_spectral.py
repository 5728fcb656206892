"""spectral_norm against exact references: rank-one and rank-two integer matrices whose norms
are known in rational arithmetic, numpy.linalg.norm(A, 2) and dense SVD."""

from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.sparse.linalg import LinearOperator, aslinearoperator

from randopt.norms import NormResult, spectral_norm

METHODS = ["lanczos", "power", "randomized", "exact"]
FIELDS = ("norm", "lower", "upper", "upper_kind", "failure_probability", "n_matvec", "nit",
          "converged", "method")


def exact_bracket_holds(res, norm_sq: Fraction) -> bool:
    """lower**2 <= ||A||**2 <= upper**2, in exact rational arithmetic."""
    return Fraction(res.lower) ** 2 <= norm_sq <= Fraction(res.upper) ** 2


def integer_rank_two(g, m, n, k):
    """2**k (s1 a1 b1^T + s2 a2 b2^T) with integer a1 _|_ a2, b1 _|_ b2: ||A||^2 exactly."""
    a1 = g.integers(-9, 10, m)
    b1 = g.integers(-9, 10, n)
    a1[0] = a1[0] or 1
    b1[0] = b1[0] or 1
    c, e = g.integers(-9, 10, m), g.integers(-9, 10, n)
    a2 = (a1 @ a1) * c - (a1 @ c) * a1  # integer and orthogonal to a1
    b2 = (b1 @ b1) * e - (b1 @ e) * b1
    s1, s2 = int(g.integers(1, 4)), int(g.integers(0, 2))
    A = s1 * np.outer(a1, b1) + s2 * np.outer(a2, b2)
    sq = max(Fraction(s1**2 * int(a1 @ a1) * int(b1 @ b1)),
             Fraction(s2**2 * int(a2 @ a2) * int(b2 @ b2)))
    assert np.abs(A).max() < 2**52  # exact in float64
    return np.ldexp(A.astype(np.float64), k), sq * Fraction(2) ** (2 * k)


def test_result_type_and_fields(rng):
    res = spectral_norm(rng.standard_normal((30, 20)), random_state=0)
    assert isinstance(res, NormResult)
    for field in FIELDS:
        assert field in res
    assert res.method == "lanczos" and res.n_matvec > 0 and res.nit > 0


@pytest.mark.parametrize("shape", [(120, 80), (80, 120), (40, 40)])
@pytest.mark.parametrize("method", METHODS)
def test_bracket_contains_the_norm(shape, method, rng):
    A = rng.standard_normal(shape)
    true = np.linalg.norm(A, 2)
    res = spectral_norm(A, method=method, random_state=0)
    # numpy's value has a relative error of a few eps; the bracket's margins are larger.
    assert res.lower <= true * (1 + 4e-16)
    assert res.upper >= true * (1 - 4e-16)
    # The returned vectors are a singular pair: A v = ||A v|| u.
    np.testing.assert_allclose(A @ res.v, np.linalg.norm(A @ res.v) * res.u, atol=1e-12 * true)
    assert np.isclose(np.linalg.norm(res.v), 1.0)
    if res.converged:
        assert res.upper - res.lower <= 1e-6 * res.lower


@pytest.mark.parametrize("shape", [(300, 200), (200, 300)])
def test_lanczos_meets_tol_with_certified_bracket(shape, rng):
    A = rng.standard_normal(shape)
    true = np.linalg.norm(A, 2)
    res = spectral_norm(A, tol=1e-8, random_state=1)
    assert res.converged
    assert res.upper_kind == "probabilistic"
    assert res.failure_probability == 1e-6
    assert res.upper - res.lower <= 1e-8 * res.lower
    assert res.lower <= true <= res.upper
    # Certification costs a rounding margin, far below tol.
    assert 0 <= 1 - res.lower / true <= 1e-12


@pytest.mark.parametrize("method", METHODS)
def test_low_rank_breakdown_restarts(method):
    # Regression: Lanczos stopped after one step, "converged", at 3.33 (rank one 30 x 10,
    # true 92.47) and 4.21 (ones((20, 20)), true 20).
    g = np.random.default_rng(7)
    a, b = g.integers(-9, 10, 30).astype(float), g.integers(-9, 10, 10).astype(float)
    for A, sq in [(np.outer(a, b), Fraction(int(a @ a) * int(b @ b))),
                  (np.ones((20, 20)), Fraction(400))]:
        res = spectral_norm(A, method=method, random_state=0)
        assert exact_bracket_holds(res, sq)
        assert res.converged
        assert res.upper <= res.lower * (1 + 1e-6)


def test_lanczos_low_rank_costs_about_twice_the_rank(rng):
    A = rng.standard_normal((400, 5)) @ rng.standard_normal((5, 300))
    res = spectral_norm(A, tol=1e-10, random_state=0)
    true = np.linalg.norm(A, 2)
    assert res.converged and res.lower <= true <= res.upper
    assert res.nit <= 2 * 5 + 3  # five singular values, then a null complement


@pytest.mark.parametrize("fmt", ["dense", "csr", "operator"])
def test_lanczos_breakdown_on_repeated_singular_values(fmt):
    # Two distinct singular values: the Krylov space is exhausted after two steps; the
    # run must restart on the complement and certify it rather than stop there.
    D = np.diag([3.0] * 4 + [1.0] * 16)
    Q = np.linalg.qr(np.random.default_rng(3).standard_normal((20, 20)))[0]
    A = {"dense": D, "csr": sp.csr_matrix(D), "operator": aslinearoperator(Q @ D)}[fmt]
    res = spectral_norm(A, tol=1e-10, random_state=0)
    assert res.converged
    assert res.lower <= 3.0 * (1 + 1e-15) and res.upper >= 3.0 * (1 - 1e-15)
    assert res.upper - res.lower <= 1e-10 * res.lower
    assert res.nit < 20


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("make", [np.zeros, lambda s: sp.csr_matrix(s)])
def test_zero_matrix_has_bracket_zero(method, make):
    res = spectral_norm(make((5, 4)), method=method, random_state=0)
    assert (res.norm, res.lower, res.upper) == (0.0, 0.0, 0.0)
    assert res.converged and res.failure_probability == 0.0


def test_zero_operator():
    Z = aslinearoperator(np.zeros((6, 4)))
    res = spectral_norm(Z, random_state=0)
    assert (res.lower, res.upper) == (0.0, 0.0) and res.converged


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("scale", [1e155, 1e-155, 1e-200, 1e300, 1e-300])
def test_extreme_scales(method, scale, rng):
    # Regression: math domain error / inf / NaN / an upper bound of 0 at these scales.
    base = rng.standard_normal((40, 25))
    true = np.linalg.norm(base, 2)
    A = base * scale
    res = spectral_norm(A, method=method, random_state=0)
    for value in (res.norm, res.lower, res.upper):
        assert np.isfinite(value) and value > 0
    # The rescaled problem is the same problem: same relative bracket.
    assert res.lower / scale <= true * (1 + 1e-13)
    assert res.upper / scale >= true * (1 - 1e-13)
    assert abs(res.norm / scale / true - 1) < (1e-10 if method in ("lanczos", "exact") else 1e-2)


@settings(max_examples=40, deadline=None)
@given(
    m=st.integers(1, 25),
    n=st.integers(1, 25),
    k=st.integers(-1000, 1000),
    seed=st.integers(0, 2**31 - 1),
    method=st.sampled_from(METHODS),
    sparse=st.booleans(),
)
def test_certified_bracket_holds_exactly_across_the_exponent_range(m, n, k, seed, method,
                                                                     sparse):
    g = np.random.default_rng(seed)
    A, sq = integer_rank_two(g, m, n, k)
    assume(np.isfinite(A).all() and sq < Fraction(np.finfo(np.float64).max) ** 2)
    res = spectral_norm(sp.csr_matrix(A) if sparse else A, method=method, random_state=seed)
    assert np.isfinite(res.upper) and np.isfinite(res.lower)
    assert exact_bracket_holds(res, sq)
    if sq > 0:
        assert res.upper > 0 and res.lower > 0


@settings(max_examples=25, deadline=None)
@given(
    m=st.integers(1, 40),
    n=st.integers(1, 40),
    seed=st.integers(0, 2**31 - 1),
    method=st.sampled_from(["lanczos", "power", "randomized"]),
    decay=st.floats(0.0, 3.0),
    k=st.integers(-900, 900),
)
def test_bounds_hold_on_random_instances(m, n, seed, method, decay, k):
    g = np.random.default_rng(seed)
    U, _ = np.linalg.qr(g.standard_normal((m, min(m, n))))
    V, _ = np.linalg.qr(g.standard_normal((n, min(m, n))))
    s = np.exp(-decay * np.arange(min(m, n))) * g.uniform(0.5, 2)
    A = (U * s) @ V.T
    true = np.linalg.norm(A, 2)
    res = spectral_norm(np.ldexp(A, k), method=method, random_state=seed)
    assert np.ldexp(res.lower, -k) <= true * (1 + 4e-16)
    assert np.ldexp(res.upper, -k) >= true * (1 - 4e-16)
    if res.converged:
        assert res.upper - res.lower <= 1e-6 * res.lower


def test_frobenius_fallback_is_rounded_outward():
    # Regression: the Frobenius bound of full((3000, 3000), 1/3) was 999.999999999614, below
    # the true norm 3000 * fl(1/3), with failure probability 0.
    c = 1 / 3
    A = np.full((3000, 3000), c)
    true = Fraction(c) * 3000
    res = spectral_norm(A, method="power", max_iter=1, random_state=0)
    assert res.upper_kind == "deterministic" and res.failure_probability == 0.0
    assert Fraction(res.lower) <= true <= Fraction(res.upper)
    assert res.upper <= 1000 * (1 + 1e-8)


def test_hoelder_bound_wins_on_a_permutation():
    P = np.eye(60)[np.random.default_rng(0).permutation(60)] * 3.0
    res = spectral_norm(P, method="power", max_iter=1, random_state=0)
    assert res.upper_kind == "deterministic"
    assert res.lower <= 3.0 <= res.upper <= 3.0 * (1 + 1e-12)


def test_exact_matches_svd_and_sparse_and_operator_agree(rng):
    A = sp.random(400, 150, density=0.05, random_state=3, format="csr")
    dense = A.toarray()
    true = np.linalg.norm(dense, 2)
    res = spectral_norm(A, method="exact")
    assert res.upper_kind == "exact" and res.converged
    assert res.lower <= true <= res.upper and res.upper - res.lower <= 1e-11 * true
    assert np.isclose(spectral_norm(A.tocoo(), random_state=0).norm, true, rtol=1e-6)
    op = spectral_norm(aslinearoperator(dense), random_state=0)
    assert np.isclose(op.norm, true, rtol=1e-6) and op.lower <= true <= op.upper
    res = spectral_norm(A, method="randomized", random_state=0)
    assert res.lower <= true <= res.upper


def test_low_rank_randomized_is_tight(rng):
    A = rng.standard_normal((300, 5)) @ rng.standard_normal((5, 200))
    true = np.linalg.norm(A, 2)
    res = spectral_norm(A, method="randomized", random_state=0)
    assert abs(res.lower / true - 1) < 1e-10
    assert res.upper / true - 1 < 1e-6  # HMT residual bound is ~0 for an exact rank-5 matrix


def test_float32_and_caller_array_untouched(rng):
    A32 = rng.standard_normal((60, 40)).astype(np.float32)
    keep = A32.copy()
    res = spectral_norm(A32, random_state=0)
    true = np.linalg.norm(A32.astype(float), 2)
    assert res.lower <= true <= res.upper and np.isclose(res.norm, true, rtol=1e-6)
    np.testing.assert_array_equal(A32, keep)


def test_reproducible(rng):
    A = rng.standard_normal((70, 50))
    for method in METHODS:
        r1 = spectral_norm(A, method=method, random_state=5)
        r2 = spectral_norm(A, method=method, random_state=5)
        assert r1.lower == r2.lower and r1.upper == r2.upper and r1.nit == r2.nit


def test_converged_is_false_when_the_bracket_misses_tol(rng):
    A = rng.standard_normal((200, 150))
    res = spectral_norm(A, max_iter=3, random_state=0)
    assert not res.converged
    assert res.upper - res.lower > 1e-6 * res.lower


@pytest.mark.parametrize(
    "bad, err",
    [
        (np.array([[1.0, np.nan]]), ValueError),
        (np.array([[1.0, np.inf]]), ValueError),
        (np.ones(3), ValueError),
        (np.ones((0, 3)), ValueError),
        ("abc", TypeError),
        (None, TypeError),
        (np.ones((2, 2), dtype=complex), TypeError),
    ],
)
def test_bad_input(bad, err):
    with pytest.raises(err, match="A"):
        spectral_norm(bad)


@pytest.mark.parametrize(
    "kwargs, err",
    [
        ({"method": "svd"}, ValueError),
        ({"method": None}, ValueError),
        ({"tol": 0}, ValueError),
        ({"tol": 1.0}, ValueError),
        ({"tol": float("nan")}, ValueError),
        ({"tol": "1e-6"}, TypeError),
        ({"tol": None}, TypeError),
        ({"tol": np.array([1e-6, 1e-3])}, TypeError),
        ({"max_iter": 0}, ValueError),
        ({"max_iter": -3}, ValueError),
        ({"max_iter": 2.5}, TypeError),
        ({"max_iter": "10"}, TypeError),
        ({"failure_probability": 1.5}, ValueError),
        ({"failure_probability": 0.0}, ValueError),
        ({"failure_probability": float("nan")}, ValueError),
        ({"block_size": 0}, ValueError),
        ({"n_test_vectors": 0}, ValueError),
        ({"n_test_vectors": None}, TypeError),
        ({"random_state": "seed"}, TypeError),
    ],
)
def test_bad_options(kwargs, err, rng):
    A = rng.standard_normal((5, 5))
    name = next(iter(kwargs))
    with pytest.raises(err, match=name):
        spectral_norm(A, **kwargs)


def test_exact_refuses_to_densify_a_huge_operator():
    big = LinearOperator((20000, 20000), matvec=lambda x: x, rmatvec=lambda x: x)
    with pytest.raises(ValueError, match="lanczos"):
        spectral_norm(big, method="exact")


def test_old_names_are_gone(rng):
    A = rng.standard_normal((5, 5))
    for kwargs in ({"maxiter": 5}, {"return_info": True}):
        with pytest.raises(TypeError):
            spectral_norm(A, **kwargs)


def test_tol_below_the_certifiable_stops_early_and_says_so(rng):
    # The certified bracket keeps rounding margins of about 1e-13 here: a tol of 1e-15
    # cannot be met, which converged must say (the run ends at the latest when the
    # Krylov space fills R^200).
    A = rng.standard_normal((300, 200))
    res = spectral_norm(A, tol=1e-15, random_state=0)
    true = np.linalg.norm(A, 2)
    assert not res.converged
    assert res.lower <= true <= res.upper and res.upper - res.lower <= 1e-11 * true
    assert res.nit <= 200


def test_operator_returning_nan_is_refused():
    bad = LinearOperator((6, 4), matvec=lambda x: np.full(6, np.nan),
                         rmatvec=lambda y: np.full(4, np.nan), dtype=np.float64)
    for method in METHODS:
        with pytest.raises(ValueError, match="NaN"):
            spectral_norm(bad, method=method, random_state=0)


def test_no_bound_is_reported_as_none():
    # An operator (no deterministic bound) of rank one whose run ends right after the
    # restart: the complement is unexplored, so there is no upper bound.
    a = np.arange(1.0, 9.0)
    A = aslinearoperator(np.outer(a, a))
    res = spectral_norm(A, max_iter=2, random_state=0)
    assert res.upper_kind == "none" and res.upper == np.inf and not res.converged
    assert res.lower <= a @ a


@pytest.mark.parametrize("method", METHODS)
def test_norm_beyond_the_float_range_and_subnormal_entries(method):
    # ||full((4, 4), 1.7e308)|| = 6.8e308 is not a float: the largest float is a lower bound
    # and no finite upper bound exists.
    res = spectral_norm(np.full((4, 4), 1.7e308), method=method, random_state=0)
    assert res.lower == np.finfo(np.float64).max and res.upper == np.inf
    assert res.upper_kind == "none" and not res.converged
    # Subnormal entries: ||full((3, 3), 2**-1074)|| = 3 * 2**-1074, bracketed exactly.
    tiny = spectral_norm(np.full((3, 3), 2.0**-1074), method=method, random_state=0)
    assert Fraction(tiny.lower) <= 3 * Fraction(2) ** -1074 <= Fraction(tiny.upper)
    assert tiny.lower > 0
