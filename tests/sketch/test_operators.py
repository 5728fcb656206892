"""Sketch operators: agreement with their explicit matrices, and subspace embedding."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.linalg import aslinearoperator

from randopt.sketch import countsketch, gaussian, make_sketch, sparse_sign, srht

FACTORIES = {
    "gaussian": lambda m, n, s: gaussian(m, n, random_state=s),
    "srht": lambda m, n, s: srht(m, n, random_state=s),
    "srht-dct": lambda m, n, s: srht(m, n, transform="dct", random_state=s),
    "countsketch": lambda m, n, s: countsketch(m, n, random_state=s),
    "sparse_sign": lambda m, n, s: sparse_sign(m, n, nnz_per_col=4, random_state=s),
}


def orthonormal(n, d, rng, coherent=False):
    if coherent:
        # d rows of leverage one: the hardest case for sparse sketches.
        U = np.zeros((n, d))
        U[:d] = np.eye(d)
        return U
    return np.linalg.qr(rng.standard_normal((n, d)))[0]


@pytest.mark.parametrize("name", FACTORIES)
def test_matches_explicit_matrix_for_every_input_kind(name, rng):
    n, d, m = 700, 6, 90
    S = FACTORIES[name](m, n, 3)
    A = rng.standard_normal((n, d))
    dense = S.toarray()
    assert S.shape == dense.shape == (m, n)
    ref = dense @ A
    tol = 1e-12 * np.abs(ref).max()
    for operand in (A, np.asfortranarray(A), sp.csr_matrix(A), sp.csc_matrix(A), sp.coo_matrix(A),
                    aslinearoperator(A)):
        out = S @ operand
        assert out.shape == (m, d)
        np.testing.assert_allclose(out, ref, rtol=0, atol=tol)
    np.testing.assert_allclose(S @ A[:, 0], ref[:, 0], rtol=0, atol=tol)
    out32 = S @ A.astype(np.float32)
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, ref, rtol=0, atol=1e-5 * np.abs(ref).max())


@pytest.mark.parametrize("name", FACTORIES)
def test_same_seed_same_sketch(name):
    A = np.random.default_rng(0).standard_normal((300, 4))
    np.testing.assert_array_equal(FACTORIES[name](40, 300, 7) @ A, FACTORIES[name](40, 300, 7) @ A)
    assert not np.array_equal(FACTORIES[name](40, 300, 7) @ A, FACTORIES[name](40, 300, 8) @ A)


@pytest.mark.parametrize("name", FACTORIES)
@pytest.mark.parametrize("coherent", [False, True])
def test_oblivious_subspace_embedding(name, coherent, rng):
    # Documented size for a distortion of 1/2: 40 d rows (12 d is lstsq's default,
    # whose measured distortion is about 0.3 for d >= 50).
    n, d = 5000, 10
    m = 40 * d
    U = orthonormal(n, d, rng, coherent)
    if name == "countsketch" and coherent:
        # CountSketch needs d^2 / delta rows when leverage is concentrated: two
        # leverage-one rows colliding in one bucket lose a dimension, which
        # happens with probability about d^2 / (2 m) (11% at m = 4 d^2).
        m = 40 * d * d
    for seed in range(5):
        sv = np.linalg.svd(FACTORIES[name](m, n, seed) @ U, compute_uv=False)
        assert 0.5 <= sv.min() and sv.max() <= 1.5, (seed, sv.min(), sv.max())


def test_sparse_sign_columns_have_distinct_nonzeros():
    S = sparse_sign(64, 5000, nnz_per_col=8, random_state=0).tosparse().tocsc()
    counts = np.diff(S.indptr)
    assert np.all(counts == 8)
    np.testing.assert_allclose(np.abs(S.data), 1 / np.sqrt(8))


def test_srht_pads_to_power_of_two_and_is_an_isometry_in_expectation():
    n, m = 1000, 512
    dense = srht(m, n, random_state=0).toarray()
    # Rows of sqrt(N/m) P H D: each column has squared norm exactly N/m * m/N = 1.
    np.testing.assert_allclose((dense**2).sum(axis=0), 1.0, rtol=1e-12)


def test_sparse_matrix_cost_is_in_nnz():
    # A very sparse, very tall matrix: a dense product would need 10^5 x 2000 work.
    A = sp.random(100_000, 2000, density=1e-5, format="csr", random_state=0)
    S = countsketch(50, 100_000, random_state=0)
    ref = (S.tosparse() @ A).toarray()
    np.testing.assert_allclose(S @ A, ref, atol=1e-12)


def test_bad_arguments():
    with pytest.raises(ValueError, match="sketch_size"):
        gaussian(0, 10)
    with pytest.raises(TypeError, match="sketch_size"):
        gaussian(2.5, 10)
    with pytest.raises(ValueError, match="rows"):
        countsketch(5, 10) @ np.ones((11, 2))
    with pytest.raises(TypeError, match="complex"):
        countsketch(5, 10) @ np.ones((10, 2), dtype=complex)
    with pytest.raises(ValueError, match="nnz_per_col"):
        sparse_sign(4, 10, nnz_per_col=5)
    with pytest.raises(ValueError, match="unknown sketch"):
        make_sketch("fourier", 4, 10)
    with pytest.raises(ValueError, match="transform"):
        srht(4, 10, transform="fft")


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 300),
    d=st.integers(1, 5),
    m=st.integers(1, 40),
    name=st.sampled_from(sorted(FACTORIES)),
    dtype=st.sampled_from([np.float32, np.float64]),
    fortran=st.booleans(),
)
def test_property_apply_equals_dense_product(n, d, m, name, dtype, fortran):
    if name.startswith("srht") and m > (n if name == "srht-dct" else 1 << (n - 1).bit_length()):
        return
    if name == "sparse_sign" and m < 4:
        return
    A = np.random.default_rng(n * 31 + d).standard_normal((n, d)).astype(dtype)
    if fortran:
        A = np.asfortranarray(A)
    S = FACTORIES[name](m, n, 1)
    out = S @ A
    assert out.dtype == dtype and out.shape == (m, d)
    ref = S.toarray() @ A.astype(np.float64)
    tol = (1e-4 if dtype == np.float32 else 1e-12) * max(1.0, np.abs(ref).max())
    np.testing.assert_allclose(out, ref, rtol=0, atol=tol)
