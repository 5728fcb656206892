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
    # For a Gaussian S (m x n, entries N(0, 1/m)) and orthonormal U (n x d), S U is
    # an m x d Gaussian matrix / sqrt(m): its extreme singular values lie in
    # 1 +- (sqrt(d/m) + t/sqrt(m)) with probability >= 1 - 2 exp(-t^2/2)
    # (Vershynin 2012, cor. 5.35). t = 4: failure probability 7e-4 per draw.
    # The SRHT and sparse sign embeddings are proved at the same rate up to log
    # factors (Tropp 2011; Cohen 2016) and measured at it; the test holds them to
    # the Gaussian envelope, so a lost factor (a wrong scaling, a collision of
    # non-zeros, a dropped block) fails it.
    n, d, t = 5000, 10, 4.0
    m = 160 * d
    U = orthonormal(n, d, rng, coherent)
    if name == "countsketch" and coherent:
        # CountSketch needs d^2 / delta rows when leverage is concentrated: two
        # leverage-one rows colliding in one bucket lose a dimension, which
        # happens with probability about d^2 / (2 m) (1.25% at m = 40 d^2).
        m = 40 * d * d
    bound = np.sqrt(d / m) + t / np.sqrt(m)
    for seed in range(5):
        sv = np.linalg.svd(FACTORIES[name](m, n, seed) @ U, compute_uv=False)
        assert 1 - bound <= sv.min() and sv.max() <= 1 + bound, (seed, sv.min(), sv.max(), bound)


def test_embedding_bound_is_tight_enough_to_catch_a_wrong_scale(rng):
    # The envelope above must reject a sketch off by sqrt(2) (e.g. a missing
    # 1/sqrt(z) or a doubled block): 1 + bound < sqrt(2) at these sizes.
    n, d, m, t = 5000, 10, 1600, 4.0
    U = orthonormal(n, d, rng)
    sv = np.linalg.svd(np.sqrt(2) * (gaussian(m, n, random_state=0) @ U), compute_uv=False)
    assert sv.max() > 1 + np.sqrt(d / m) + t / np.sqrt(m)


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


@pytest.mark.parametrize("maker", [countsketch, lambda m, n, random_state: sparse_sign(
    m, n, nnz_per_col=4, random_state=random_state)])
def test_sparse_matrix_cost_is_in_nnz(maker):
    # A very sparse, very tall matrix: 10^5 x 2000 with 2000 non-zeros. Any path
    # that densified A (or formed S) would allocate 1.6 GB (0.8 GB for S); the
    # scatter-add reads the CSR arrays only. Its own memory is O(n z) for the
    # pattern and O(m d) for the result: bounded here by 16 MB, 1% of dense.
    import tracemalloc

    n, d, m = 100_000, 2000, 50
    g = np.random.default_rng(0)
    A = sp.csr_matrix((g.standard_normal(2000), (g.integers(0, n, 2000), g.integers(0, d, 2000))),
                      shape=(n, d))
    S = maker(m, n, random_state=0)
    # First call outside the trace: it forms the O(n z) pattern and loads the
    # compiled kernels (tracing Numba's loader costs seconds).
    first = S @ A
    tracemalloc.start()
    try:
        out = S @ A
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20, peak
    ref = (S.tosparse() @ A).toarray()
    np.testing.assert_allclose(out, ref, atol=1e-12)
    np.testing.assert_array_equal(first, out)


def test_srht_of_csr_with_duplicate_entries_adds_them():
    # Two stored entries at (0, 1): the matrix entry is their sum. The SRHT's
    # scatter assigns entries, so duplicates must be summed before it runs.
    data, indices, indptr = np.array([1.0, 2.0, 4.0]), np.array([1, 1, 0]), np.array([0, 2, 3])
    A = sp.csr_matrix((data, indices, indptr), shape=(2, 2))
    dense = np.array([[0.0, 3.0], [4.0, 0.0]])
    S = srht(2, 2, random_state=0)
    np.testing.assert_allclose(S @ A, S @ dense, rtol=0, atol=1e-15)
    assert A.nnz == 3  # the caller's matrix keeps its duplicates


def test_sketch_of_every_operand_kind_and_malformed_sparse_input(rng):
    from randopt.operands import as_operand

    A = rng.standard_normal((300, 4))
    S = sparse_sign(30, 300, nnz_per_col=4, random_state=0)
    ref = S.toarray() @ A
    for operand in (as_operand(A), as_operand(sp.csr_array(A)), sp.coo_array(A), sp.lil_matrix(A),
                    sp.bsr_matrix(A, blocksize=(2, 2))):
        np.testing.assert_allclose(S @ operand, ref, rtol=0, atol=1e-12 * np.abs(ref).max())
    bad = sp.csr_matrix(A)
    bad.indices = bad.indices.copy()
    bad.indices[3] = 40  # a column index beyond d = 4: would write out of bounds
    with pytest.raises(ValueError, match="indices must lie in"):
        S @ bad
    parts = S.apply_rows(as_operand(A[:100]), 0) + S.apply_rows(A[100:], 100)
    np.testing.assert_allclose(parts, ref, rtol=0, atol=1e-12 * np.abs(ref).max())
    with pytest.raises(TypeError, match="LinearOperator"):
        S.apply_rows(aslinearoperator(A), 0)


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
