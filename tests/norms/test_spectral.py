"""spectral_norm against numpy.linalg.norm(A, 2) and dense SVD."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.linalg import LinearOperator, aslinearoperator

from randopt.norms import spectral_norm

METHODS = ["lanczos", "power", "randomized", "exact"]


@pytest.mark.parametrize("shape", [(120, 80), (80, 120), (40, 40)])
@pytest.mark.parametrize("method", METHODS)
def test_bracket_contains_the_norm(shape, method, rng):
    A = rng.standard_normal(shape)
    true = np.linalg.norm(A, 2)
    res = spectral_norm(A, method=method, random_state=0, return_info=True)
    assert res.lower <= true * (1 + 1e-12)
    assert res.upper >= true * (1 - 1e-12)
    # The returned vectors are a singular pair: A v = lower * u.
    np.testing.assert_allclose(A @ res.v, res.lower * res.u, atol=1e-10 * true)
    assert np.isclose(np.linalg.norm(res.v), 1.0)


@pytest.mark.parametrize("shape", [(300, 200), (200, 300)])
def test_lanczos_meets_tol_with_certified_bracket(shape, rng):
    A = rng.standard_normal(shape)
    true = np.linalg.norm(A, 2)
    res = spectral_norm(A, tol=1e-8, random_state=1, return_info=True)
    assert res.converged
    assert res.upper_kind == "probabilistic"
    assert res.failure_probability == 1e-6
    assert (res.upper - res.lower) <= 1e-8 * res.lower * (1 + 1e-9)
    assert abs(res.norm / true - 1) <= 1e-8


def test_exact_matches_svd_and_sparse_and_operator_agree(rng):
    A = sp.random(400, 150, density=0.05, random_state=3, format="csr")
    dense = A.toarray()
    true = np.linalg.norm(dense, 2)
    assert np.isclose(spectral_norm(A, method="exact"), true, rtol=1e-13)
    assert np.isclose(spectral_norm(A.tocoo(), random_state=0), true, rtol=1e-6)
    assert np.isclose(spectral_norm(aslinearoperator(dense), random_state=0), true, rtol=1e-6)
    res = spectral_norm(A, method="randomized", random_state=0, return_info=True)
    assert res.lower <= true * (1 + 1e-12) <= res.upper * (1 + 1e-12)


def test_low_rank_randomized_is_tight(rng):
    A = rng.standard_normal((300, 5)) @ rng.standard_normal((5, 200))
    true = np.linalg.norm(A, 2)
    res = spectral_norm(A, method="randomized", random_state=0, return_info=True)
    assert abs(res.lower / true - 1) < 1e-10
    assert res.upper / true - 1 < 1e-6  # HMT residual bound is ~0 for an exact rank-5 matrix


def test_rank_deficient_and_zero_and_float32(rng):
    A = np.outer(rng.standard_normal(50), rng.standard_normal(30))
    res = spectral_norm(A, random_state=0, return_info=True)
    assert np.isclose(res.lower, np.linalg.norm(A, 2), rtol=1e-12)
    assert res.upper <= res.lower * (1 + 1e-10)
    assert spectral_norm(np.zeros((5, 4)), random_state=0) == 0.0
    A32 = rng.standard_normal((60, 40)).astype(np.float32)
    assert np.isclose(spectral_norm(A32, random_state=0), np.linalg.norm(A32.astype(float), 2))


def test_reproducible(rng):
    A = rng.standard_normal((70, 50))
    r1 = spectral_norm(A, method="power", random_state=5, return_info=True)
    r2 = spectral_norm(A, method="power", random_state=5, return_info=True)
    assert r1.lower == r2.lower and r1.upper == r2.upper and r1.nit == r2.nit


@settings(max_examples=25, deadline=None)
@given(
    m=st.integers(1, 40),
    n=st.integers(1, 40),
    seed=st.integers(0, 2**31 - 1),
    method=st.sampled_from(["lanczos", "power", "randomized"]),
    decay=st.floats(0.0, 3.0),
)
def test_bounds_hold_on_random_instances(m, n, seed, method, decay):
    g = np.random.default_rng(seed)
    U, _ = np.linalg.qr(g.standard_normal((m, min(m, n))))
    V, _ = np.linalg.qr(g.standard_normal((n, min(m, n))))
    s = np.exp(-decay * np.arange(min(m, n))) * g.uniform(0.5, 2)
    A = (U * s) @ V.T
    true = np.linalg.norm(A, 2)
    res = spectral_norm(A, method=method, random_state=seed, return_info=True)
    assert res.lower <= true * (1 + 1e-10) + 1e-300
    assert res.upper >= true * (1 - 1e-10)


@pytest.mark.parametrize(
    "bad, err",
    [
        (np.array([[1.0, np.nan]]), ValueError),
        (np.array([[1.0, np.inf]]), ValueError),
        (np.ones(3), ValueError),
        (np.ones((0, 3)), ValueError),
        ("abc", TypeError),
        (np.ones((2, 2), dtype=complex), TypeError),
    ],
)
def test_bad_input(bad, err):
    with pytest.raises(err):
        spectral_norm(bad)


def test_bad_options(rng):
    A = rng.standard_normal((5, 5))
    with pytest.raises(ValueError, match="method"):
        spectral_norm(A, method="svd")
    with pytest.raises(ValueError, match="tol"):
        spectral_norm(A, tol=0)
    with pytest.raises(ValueError, match="failure_probability"):
        spectral_norm(A, failure_probability=1.5)
    with pytest.raises(ValueError, match="lanczos"):
        big = LinearOperator((20000, 20000), matvec=lambda x: x, rmatvec=lambda x: x)
        spectral_norm(big, method="exact")
