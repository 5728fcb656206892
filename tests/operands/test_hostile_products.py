"""The Numba product kernels of the operands: ``A x``, ``A^T u``, ``A^T D A v``, residual pass.

Every product is checked against SciPy / NumPy with a tolerance from the
sums' conditioning: two computations of ``s = sum_k t_k`` in any order
differ by at most ``2 gamma_m sum_k |t_k|``, ``gamma_m = m eps / (1 - m eps)``
for sums of ``m`` products ([Higham, "Accuracy and Stability of Numerical
Algorithms", 2002, sec. 3.1]), so the bound is computed from ``|A|``,
``|x|`` with the longest row and column. Inputs are hostile: empty rows and
columns, unsorted indices with duplicates, int32 and int64 indices, float32
values, read-only and strided arrays, one row, no stored entry; the caller's
arrays are never written. The parallel kernels run on small inputs by
lowering the operands' parallel threshold (monkeypatched), on 2 threads when
Numba has them.
"""

from __future__ import annotations

import subprocess
import sys

import numba
import numpy as np
import pytest
import scipy.sparse as sp

from randopt.operands import as_operand
from tests.hostile import noncanonical_csr, noncanonical_dense, readonly, snapshot, unchanged

EPS = np.finfo(np.float64).eps
THREADS = min(2, numba.config.NUMBA_NUM_THREADS)


def gamma(m: int) -> float:
    return m * EPS / (1.0 - m * EPS)


def sparse_design(n: int, d: int, density: float, seed: int, *, index_dtype=np.int32):
    """CSR with Zipf-like columns, some empty rows and columns, values of mixed sign/scale."""
    rng = np.random.default_rng(seed)
    M = sp.random(n, d, density=density, format="csr", random_state=seed,
                  data_rvs=lambda k: rng.standard_normal(k) * 10.0 ** rng.integers(-3, 4, k))
    M = M.tolil()
    M[:, 0] = rng.standard_normal((n, 1))  # one dense column (a Zipf head)
    M[n // 3, :] = 0.0  # an empty row
    M[:, d - 1] = 0.0  # an empty column
    M = sp.csr_matrix(M)
    M.eliminate_zeros()
    M.indices = M.indices.astype(index_dtype)
    M.indptr = M.indptr.astype(index_dtype)
    return M


def bound(A_abs: np.ndarray, x_abs: np.ndarray, m: int) -> np.ndarray:
    return 2.0 * gamma(m) * (A_abs @ x_abs) + np.finfo(np.float64).tiny


def longest(M) -> tuple[int, int]:
    M = sp.csr_matrix(M)
    return int(np.diff(M.indptr).max(initial=0)), int(np.diff(M.tocsc().indptr).max(initial=0))


@pytest.fixture(params=["serial", "parallel"])
def mode(request, monkeypatch):
    """Run the serial kernels, or the parallel ones on THREADS threads even for small inputs."""
    if request.param == "parallel":
        monkeypatch.setattr("randopt.operands.sparse.PARALLEL_MIN_BYTES", 0)
        monkeypatch.setattr("randopt.operands.dense.PARALLEL_MIN_BYTES", 0)
        monkeypatch.setattr("randopt.operands.parallel.PARALLEL_MIN_BYTES", 0)
        monkeypatch.setattr("randopt.operands.parallel.row_chunks", lambda n: THREADS)
        monkeypatch.setattr("randopt.operands.dense.row_chunks", lambda n: THREADS)
    previous = numba.get_num_threads()
    numba.set_num_threads(THREADS if request.param == "parallel" else 1)
    yield request.param
    numba.set_num_threads(previous)


CASES = {
    "int32": lambda: sparse_design(300, 70, 0.05, 0),
    "int64": lambda: sparse_design(257, 90, 0.08, 1, index_dtype=np.int64),
    "one-row": lambda: sp.csr_matrix(np.array([[0.0, 2.5, -1.0, 0.0]])),
    "no-entry": lambda: sp.csr_matrix((5, 3)),
    "float32": lambda: sparse_design(200, 40, 0.1, 2).astype(np.float32),
}


@pytest.mark.parametrize("case", CASES)
def test_csr_products_match_scipy_within_the_summation_bound(case, mode):
    M = CASES[case]()
    op = as_operand(M)
    n, d = M.shape
    rng = np.random.default_rng(3)
    x, u, c = rng.standard_normal(d), rng.standard_normal(n), rng.random(n)
    Ad = M.toarray().astype(np.float64)
    A_abs = np.abs(Ad)
    row, col = longest(M)

    np.testing.assert_array_less(np.abs(op.matvec(x) - Ad @ x), bound(A_abs, np.abs(x), row))
    np.testing.assert_array_less(np.abs(op.rmatvec(u) - Ad.T @ u),
                                 bound(A_abs.T, np.abs(u), col))
    ref = Ad.T @ (c * (Ad @ x))
    # Each t_i = c_i a_i^T x has error gamma_row; the outer sum adds gamma_col.
    tol = 2.0 * gamma(row + col + 1) * (A_abs.T @ (c * (A_abs @ np.abs(x))))
    got = op.gram_product(None, c)(x)
    np.testing.assert_array_less(np.abs(got - ref), tol + np.finfo(np.float64).tiny)
    got = op.normal_matvec(x)
    tol = 2.0 * gamma(row + col + 1) * (A_abs.T @ (A_abs @ np.abs(x)))
    np.testing.assert_array_less(np.abs(got - Ad.T @ (Ad @ x)), tol + np.finfo(float).tiny)
    g, r = op.residual_normal(x, u)
    res = u - Ad @ x
    tol = 2.0 * gamma(row + col + 2) * (A_abs.T @ (np.abs(u) + A_abs @ np.abs(x)))
    np.testing.assert_array_less(np.abs(g - Ad.T @ res), tol + np.finfo(float).tiny)
    assert r == pytest.approx(np.linalg.norm(res), rel=gamma(n + row + 2), abs=1e-300)
    for out, shape in ((op.matvec(x), (n,)), (op.rmatvec(u), (d,)),
                       (op.gram_product(None, c)(x), (d,))):
        assert out.dtype == np.float64 and out.shape == shape


def test_csr_summation_order_is_scipys_and_rows_never_split(monkeypatch):
    """``A x`` and ``A^T u`` sum in SciPy's order on any number of threads: SciPy's bits.

    ``A^T u`` scatters on its first call and gathers from a transposed copy
    after: the same bits. The Gram product is SciPy's bits on one thread; on
    several it is deterministic (the same bits call after call).
    """
    M = sparse_design(5000, 300, 0.02, 4)
    op = as_operand(M)
    rng = np.random.default_rng(5)
    x, u, c = rng.standard_normal(300), rng.standard_normal(5000), rng.random(5000)
    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        np.testing.assert_array_equal(op.matvec(x), M @ x)
        np.testing.assert_array_equal(op.rmatvec(u), M.T @ u)
        np.testing.assert_array_equal(op.gram_product(None, c)(x), M.T @ (c * (M @ x)))
        monkeypatch.setattr("randopt.operands.sparse.PARALLEL_MIN_BYTES", 0)
        numba.set_num_threads(THREADS)
        if THREADS > 1:  # the parallel kernels must be the ones that run
            for name in ("matvec_serial", "gram_matvec_serial"):
                monkeypatch.setattr(f"randopt.operands._kernels_csr.{name}", _refuse)
        np.testing.assert_array_equal(op.matvec(x), M @ x)
        for _ in range(3):
            np.testing.assert_array_equal(op.rmatvec(u), M.T @ u)
        first = op.gram_product(None, c)(x)
        for _ in range(3):
            np.testing.assert_array_equal(op.gram_product(None, c)(x), first)
    finally:
        numba.set_num_threads(previous)


def _refuse(*args):
    raise AssertionError("this kernel should not run here")


def test_a_wide_matrix_with_few_entries_scatters_on_one_thread(monkeypatch):
    """Private d-vectors per thread would cost more than the Gram pass: the serial one runs."""
    M = sp.random(20, 20_000, density=0.01, format="csr", random_state=0)
    op = as_operand(M)
    monkeypatch.setattr("randopt.operands.sparse.PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr("randopt.operands._kernels_csr.gram_matvec_parallel", _refuse)
    previous = numba.get_num_threads()
    numba.set_num_threads(THREADS)
    try:
        u = np.linspace(-1.0, 1.0, 20)
        for _ in range(3):  # a scatter, then gathers from the transposed copy
            np.testing.assert_array_equal(op.rmatvec(u), M.T @ u)
        v = np.cos(np.arange(20_000.0))
        np.testing.assert_allclose(op.gram_product(None, np.ones(20))(v), M.T @ (M @ v),
                                   rtol=1e-12, atol=1e-13)
    finally:
        numba.set_num_threads(previous)


def test_unsorted_indices_and_duplicates_are_summed_before_the_kernels(mode):
    A = np.arange(1.0, 31.0).reshape(5, 6) % 7 - 3.0
    M = noncanonical_csr(A)
    before = snapshot(M)
    op = as_operand(M)
    ref = noncanonical_dense(A)
    x, u, c = np.linspace(-1, 1, 6), np.linspace(2, -1, 5), np.arange(1.0, 6.0)
    np.testing.assert_allclose(op.matvec(x), ref @ x, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(op.rmatvec(u), ref.T @ u, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(op.gram_product(None, c)(x), ref.T @ (c * (ref @ x)),
                               rtol=1e-13, atol=1e-13)
    assert unchanged(before, M)


def test_read_only_and_strided_inputs_and_no_writes_to_the_caller(mode):
    M = sparse_design(400, 60, 0.05, 6)
    M.data.flags.writeable = False
    M.indices.flags.writeable = False
    M.indptr.flags.writeable = False
    before = snapshot(M)
    op = as_operand(M)
    rng = np.random.default_rng(7)
    X2 = rng.standard_normal((60, 3))
    x_strided = X2[:, 1]  # not contiguous
    u, c = readonly(rng.standard_normal(400)), readonly(rng.random(400))
    x_int = np.arange(60) % 5 - 2  # integers become float64
    keep = [np.array(a, copy=True) for a in (X2, u, c)]
    Ad = M.toarray()
    np.testing.assert_allclose(op.matvec(x_strided), Ad @ x_strided, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(op.matvec(x_int), Ad @ x_int, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(op.rmatvec(u), Ad.T @ u, rtol=1e-12, atol=1e-9)
    product = op.gram_product(None, c)
    np.testing.assert_allclose(product(x_strided), Ad.T @ (c * (Ad @ x_strided)),
                               rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(op.normal_matvec(readonly(x_int)), Ad.T @ (Ad @ x_int),
                               rtol=1e-12, atol=1e-6)
    assert unchanged(before, M)
    for a, k in zip((X2, u, c), keep, strict=True):
        np.testing.assert_array_equal(a, k)


@pytest.mark.parametrize("k", [1, 3, 40])
def test_csr_blocks_of_columns(k, mode):
    """2-D operands: a one-column block takes the vector kernel, wide blocks SciPy's products."""
    M = sparse_design(300, 70, 0.05, 8)
    op = as_operand(M)
    V = np.random.default_rng(9).standard_normal((70, k))
    Ad = M.toarray()
    row, col = longest(M)
    tol = 2.0 * gamma(row + col + 1) * (np.abs(Ad).T @ (np.abs(Ad) @ np.abs(V)))
    got = op.normal_matvec(V)
    assert got.shape == (70, k)
    np.testing.assert_array_less(np.abs(got - Ad.T @ (Ad @ V)), tol + 1e-300)
    np.testing.assert_allclose(op.matvec(V), Ad @ V, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(op.rmatvec(Ad @ V), Ad.T @ (Ad @ V), rtol=1e-12, atol=1e-9)


def test_wrong_lengths_are_refused_naming_the_argument(mode):
    op = as_operand(sparse_design(50, 20, 0.1, 10))
    for bad in (np.ones(19), np.ones(21), np.ones((20, 2, 1))):
        with pytest.raises(ValueError, match=r"\bx\b"):
            op.matvec(bad)
    with pytest.raises(ValueError, match=r"\bu\b"):
        op.rmatvec(np.ones(49))
    with pytest.raises(ValueError, match=r"\bV\b"):
        op.normal_matvec(np.ones(19))
    product = op.gram_product(None, np.ones(50))
    for bad in (np.ones(19), np.ones((20, 1)), [1.0] * 21):
        with pytest.raises(ValueError, match=r"\bv\b"):
            product(bad)


def test_non_finite_vectors_propagate_without_a_crash(mode):
    op = as_operand(sp.csr_matrix(np.array([[1.0, 0.0], [2.0, 3.0], [0.0, 0.0]])))
    out = op.matvec(np.array([np.nan, 1.0]))
    assert np.isnan(out[0]) and np.isnan(out[1]) and out[2] == 0.0
    out = op.rmatvec(np.array([np.inf, 0.0, 1.0]))
    assert out[0] == np.inf and out[1] == 0.0


@pytest.mark.parametrize("shape", [(301, 17), (40, 500), (5, 3)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dense_fused_passes_match_blas(shape, dtype, mode):
    rng = np.random.default_rng(11)
    A = rng.standard_normal(shape).astype(dtype)
    op = as_operand(A)
    Af = A.astype(np.float64)
    x, b = rng.standard_normal(shape[1]), rng.standard_normal(shape[0])
    n, d = shape
    A_abs = np.abs(Af)
    g, r = op.residual_normal(x, b)
    res = b - Af @ x
    tol = 2.0 * gamma(n + d + 2) * (A_abs.T @ (np.abs(b) + A_abs @ np.abs(x)))
    np.testing.assert_array_less(np.abs(g - Af.T @ res), tol)
    assert r == pytest.approx(np.linalg.norm(res), rel=gamma(n + d + 2))
    tol = 2.0 * gamma(n + d + 1) * (A_abs.T @ (A_abs @ np.abs(x)))
    np.testing.assert_array_less(np.abs(op.normal_matvec(x) - Af.T @ (Af @ x)), tol)


def test_dense_serial_twin_gives_the_one_chunk_bits():
    from randopt.operands import _kernels_normal as kn

    rng = np.random.default_rng(12)
    for shape in [(203, 57), (9, 500), (1, 1)]:
        A = rng.standard_normal(shape)
        x, b = rng.standard_normal(shape[1]), rng.standard_normal(shape[0])
        np.testing.assert_array_equal(kn.residual_normal_dense_serial(A, x, b),
                                      kn.residual_normal_dense_c(A, x, b, 1))


def test_nnz_bounds_split_rows_by_stored_entries():
    from randopt.operands._kernels_csr import nnz_bounds

    indptr = np.array([0, 100, 101, 102, 103, 203], dtype=np.int32)
    np.testing.assert_array_equal(nnz_bounds(indptr, 2), [0, 2, 5])
    np.testing.assert_array_equal(nnz_bounds(np.zeros(4, np.int64), 3), [0, 0, 0, 3])
    b = nnz_bounds(np.array([0, 5]), 4)  # more chunks than rows
    assert b[0] == 0 and b[-1] == 1 and np.all(np.diff(b) >= 0)


def test_importing_the_operands_compiles_no_kernel():
    code = (
        "import randopt.operands as o\n"
        "from randopt.operands import _kernels_csr, _kernels_gram, _kernels_normal\n"
        "ks = [getattr(m, f) for m in (_kernels_csr, _kernels_gram, _kernels_normal)"
        " for f in m.__all__]\n"
        "assert ks and all(not k.signatures for k in ks), [k for k in ks if k.signatures]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("make", [lambda A: A, np.asfortranarray, sp.csr_matrix, sp.csc_matrix],
                         ids=["C", "F", "csr", "csc"])
@pytest.mark.parametrize("d", [3, 100])
def test_an_empty_row_selection_sums_to_zero(make, d):
    """No rows selected: the zero matrix and the zero product (once: reads past coef's end)."""
    op = as_operand(make(np.arange(1.0, 4.0 * d + 1.0).reshape(4, d)))
    empty = np.array([], dtype=np.int64)
    np.testing.assert_array_equal(op.gram(empty, np.array([])), np.zeros((d, d)))
    product = op.gram_product(empty, np.array([]))
    np.testing.assert_array_equal(product(np.ones(d)), np.zeros(d))
    np.testing.assert_array_equal(op.gram_matvec(empty, np.array([]), np.ones(d)), np.zeros(d))


@pytest.mark.parametrize("shape", [(200, 65), (50, 300), (17_000, 66)])  # > 1 block
@pytest.mark.parametrize("layout", ["C", "F", "float32"])
@pytest.mark.parametrize("idx", [None, "sample"])
def test_wide_dense_gram_by_blas_matches_the_reference_and_is_symmetric(shape, layout, idx):
    rng = np.random.default_rng(13)
    A = rng.standard_normal(shape)
    A = {"C": A, "F": np.asfortranarray(A), "float32": A.astype(np.float32)}[layout]
    rows = None if idx is None else rng.integers(0, shape[0], 2 * shape[0] // 3)
    Af = np.asarray(A, dtype=np.float64)[slice(None) if rows is None else rows]
    c = rng.standard_normal(Af.shape[0])  # curvature of either sign
    H = as_operand(A).gram(rows, c)
    ref = Af.T @ (c[:, None] * Af)
    tol = 2.0 * gamma(Af.shape[0]) * (np.abs(Af).T @ (np.abs(c)[:, None] * np.abs(Af)))
    np.testing.assert_array_less(np.abs(H - ref), tol + 1e-300)
    np.testing.assert_array_equal(H, H.T)
