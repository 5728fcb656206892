"""Every Operand method against dense NumPy products, for every backend."""

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import aslinearoperator

from randopt.operands import Operand, as_operand

N, D = 257, 6
# Products of length <= N of O(1) numbers: rounding far below 1e-12 relative.
TOL = 1e-12


def _matrix(dtype=np.float64):
    rng = np.random.default_rng(7)
    A = rng.standard_normal((N, D))
    A[rng.random((N, D)) < 0.5] = 0.0  # sparse-looking, so sparse backends have zeros
    A[5] = 0.0  # an empty row
    return A.astype(dtype)


def _dask(A, sparse=False):
    da = pytest.importorskip("dask.array")
    X = da.from_array(A, chunks=((60, 100, N - 160), (D,)))
    return X.map_blocks(sp.csr_matrix, dtype=A.dtype) if sparse else X


BACKENDS = {
    "dense-C": lambda A: A,
    "dense-F": lambda A: np.asfortranarray(A),
    "dense-f32": lambda A: A.astype(np.float32),
    "csr": sp.csr_matrix,
    "csr-f32": lambda A: sp.csr_matrix(A.astype(np.float32)),
    "csc": sp.csc_matrix,
    "coo": sp.coo_matrix,
    "csr_array": sp.csr_array,
    "operator": aslinearoperator,
    "dask": _dask,
    "dask-sparse-chunks": lambda A: _dask(A, sparse=True),
}


def _reference(name):
    A = _matrix()
    if name.endswith("f32"):
        A = A.astype(np.float32).astype(np.float64)  # what the operand holds, exactly
    return A


def _close(got, ref, scale=1.0):
    got = np.asarray(got)
    assert got.shape == np.shape(ref)
    np.testing.assert_allclose(got, ref, rtol=0, atol=TOL * max(1.0, np.abs(ref).max()) * scale)


class DenseSketch:
    """An explicit random matrix with the sketch protocol (independent of randopt.sketch)."""

    def __init__(self, m, n):
        self.M = np.random.default_rng(3).standard_normal((m, n))
        self.shape = self.M.shape

    def toarray(self):
        return self.M

    def apply_local(self, op):
        return np.asarray(self.M @ op.local_data())

    def apply_rows(self, op, lo):
        return np.asarray(self.M[:, lo : lo + op.n_rows] @ op.local_data())


@pytest.mark.parametrize("name", BACKENDS)
def test_every_method_matches_dense_numpy(name):
    A = _reference(name)
    op = as_operand(BACKENDS[name](_matrix()))
    assert isinstance(op, Operand)
    assert op.shape == (N, D) and (op.n_rows, op.n_cols) == (N, D)
    assert op.format == {
        "dense-C": "dense",
        "dense-F": "dense",
        "dense-f32": "dense",
        "csr": "csr",
        "csr-f32": "csr",
        "csc": "csc",
        "coo": "csr",
        "csr_array": "csr",
        "operator": "operator",
    }.get(name, "dask")
    assert op.is_local == (not name.startswith("dask"))
    assert op.dtype == (np.float32 if name.endswith("f32") else np.float64)
    rng = np.random.default_rng(1)
    x, X = rng.standard_normal(D), rng.standard_normal((D, 3))
    u, U = rng.standard_normal(N), rng.standard_normal((N, 3))
    _close(op.matvec(x), A @ x)
    _close(op.matvec(X), A @ X)
    _close(op.rmatvec(u), A.T @ u)
    _close(op.rmatvec(U), A.T @ U)
    _close(op.normal_matvec(x), A.T @ (A @ x), N)
    _close(op.normal_matvec(X), A.T @ (A @ X), N)
    g, r = op.residual_normal(x, u)
    _close(g, A.T @ (u - A @ x), N)
    assert r == pytest.approx(np.linalg.norm(u - A @ x), rel=1e-13)
    G, R = op.residual_normal(X, U)
    _close(G, A.T @ (U - A @ X), N)
    _close(R, np.linalg.norm(U - A @ X, axis=0))
    idx = np.array([200, 3, 5, 3, N - 1])
    rows = op.take_rows(idx)
    assert rows.is_local and rows.format in ("dense", "csr")
    _close(rows.to_dense(), A[idx])
    _close(np.asarray(op.row_norms_sq()), (A * A).sum(axis=1))
    P = rng.standard_normal((D, 2))
    _close(np.asarray(op.row_norms_sq(P)), ((A @ P) ** 2).sum(axis=1))
    fro, one, inf = op.abs_sums()
    assert fro == pytest.approx(np.linalg.norm(A), rel=1e-13)
    assert one == pytest.approx(np.abs(A).sum(axis=0).max(), rel=1e-13)
    assert inf == pytest.approx(np.abs(A).sum(axis=1).max(), rel=1e-13)
    dense = op.to_dense()
    assert dense.dtype == np.float64
    _close(dense, A)
    coef = rng.random(N)
    _close(op.gram(None, coef), (A * coef[:, None]).T @ A, N)
    c = rng.random(idx.shape[0])
    _close(op.gram(idx, c), (A[idx] * c[:, None]).T @ A[idx], N)
    _close(op.gram_matvec(None, coef, x), A.T @ (coef * (A @ x)), N)
    _close(op.gram_matvec(idx, c, x), A[idx].T @ (c * (A[idx] @ x)), N)
    S = DenseSketch(9, N)
    _close(op.sketch(S), S.M @ A, N)
    # map_row_blocks: one call for local operands, a tree sum over chunks for Dask.
    total = op.map_row_blocks(
        lambda lo, blk, v: np.concatenate([blk.rmatvec(v), [lo * 0 + blk.n_rows]]),
        u,
        out_shape=(D + 1,),
    )
    _close(total, np.concatenate([A.T @ u, [N]]))
    aligned = np.asarray(op.align(u, "u"))
    _close(aligned, u)
    with pytest.raises(ValueError, match="u has 10 rows"):
        op.align(u[:10], "u")


@pytest.mark.parametrize("name", ["dense-C", "csr", "dask"])
def test_map_row_blocks_sees_every_row_once_with_its_offset(name):
    A = _reference(name)
    op = as_operand(BACKENDS[name](_matrix()))
    # sum over blocks of sum_i (lo + i) * a_i: the offsets must be the true row numbers.
    weighted = op.map_row_blocks(
        lambda lo, blk: blk.rmatvec(np.arange(lo, lo + blk.n_rows, dtype=float)),
        out_shape=(D,),
    )
    _close(weighted, A.T @ np.arange(N, dtype=float), N)


def test_operand_is_returned_as_is_and_operators_can_be_refused():
    op = as_operand(np.eye(3))
    assert as_operand(op) is op
    with pytest.raises(TypeError, match="LinearOperator"):
        as_operand(aslinearoperator(np.eye(3)), accept_operator=False)


@pytest.mark.parametrize(
    "bad, exc, match",
    [
        (np.ones(4), ValueError, "2-D"),
        (np.ones((0, 3)), ValueError, "empty"),
        (np.ones((3, 2), dtype=complex), TypeError, "complex"),
        (np.array([[1.0, np.nan]]), ValueError, "NaN"),
        (sp.csr_matrix(np.array([[1.0, np.inf]])), ValueError, "NaN"),
        (sp.csr_matrix((3, 0)), ValueError, "empty"),
        (sp.csr_matrix(np.ones((2, 2), dtype=complex)), TypeError, "complex"),
        (np.array([["a", "b"]]), TypeError, "A"),
        (None, TypeError, "A is None"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error(bad, exc, match):
    with pytest.raises(exc, match=match):
        as_operand(bad)


def test_check_finite_false_lets_nan_through():
    op = as_operand(np.array([[1.0, np.nan]]), check_finite=False)
    assert np.isnan(op.to_dense()).any()


def _csr(data, indices, indptr, shape):
    # Bypass SciPy's own constructor checks: the malformed structure a user can
    # produce by writing to .indices / .indptr of a valid matrix.
    M = sp.csr_matrix(np.zeros(shape))
    M.data, M.indices, M.indptr = np.asarray(data, float), np.asarray(indices), np.asarray(indptr)
    return M


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: _csr([1.0, 2.0], [0, 5], [0, 1, 2], (2, 3)), "indices must lie in"),
        (lambda: _csr([1.0, 2.0], [0, -1], [0, 1, 2], (2, 3)), "indices must lie in"),
        (lambda: _csr([1.0, 2.0], [0, 1], [0, 2, 1], (2, 3)), "never decrease"),
        (lambda: _csr([1.0, 2.0], [0, 1], [0, 1], (2, 3)), "indptr has 2 entries"),
        (lambda: _csr([1.0, 2.0], [0, 1], [0, 1, 3], (2, 3)), "exceeds"),
        (lambda: _csr([1.0], [0], [1, 1, 1], (2, 3)), "start at 0"),
    ],
)
def test_malformed_csr_raises_before_any_kernel(make, match):
    M = make()
    with pytest.raises(ValueError, match=match):
        as_operand(M)
    # The same arrays read as CSC (the transpose's structure) are refused too.
    C = sp.csc_matrix(np.zeros(M.shape[::-1]))
    C.data, C.indices, C.indptr = M.data, M.indices, M.indptr
    with pytest.raises(ValueError, match=match.replace("indices must lie in", "must lie in")):
        as_operand(C)
    # ... and never reach the sketch kernels either.
    from randopt.sketch import countsketch

    with pytest.raises(ValueError, match=match):
        countsketch(2, M.shape[0], random_state=0) @ M


def test_malformed_csc_and_coo_raise():
    M = sp.csc_matrix(np.eye(3))
    M.indices = np.array([0, 1, 7])
    with pytest.raises(ValueError, match="row indices must lie in"):
        as_operand(M)
    C = sp.coo_matrix(np.eye(3))
    C.col = np.array([0, 1, 9])
    with pytest.raises(ValueError, match="column coordinates"):
        as_operand(C)


def test_duplicates_are_summed_on_a_copy():
    data, indices, indptr = np.array([1.0, 2.0, 5.0]), np.array([2, 2, 0]), np.array([0, 2, 3])
    M = sp.csr_matrix((data, indices, indptr), shape=(2, 3))
    saved = [a.copy() for a in (M.data, M.indices, M.indptr)]
    op = as_operand(M)
    np.testing.assert_array_equal(op.to_dense(), [[0, 0, 3.0], [5.0, 0, 0]])
    assert op.local_data().nnz == 2
    for before, after in zip(saved, (M.data, M.indices, M.indptr), strict=True):
        np.testing.assert_array_equal(before, after)
    assert M.nnz == 3


@pytest.mark.parametrize("name", ["dense-C", "dense-F", "csr", "csc", "coo"])
def test_read_only_inputs_are_read_never_written(name):
    A = BACKENDS[name](_matrix())
    arrays = (
        [A]
        if isinstance(A, np.ndarray)
        else ([A.data, A.row, A.col] if A.format == "coo" else [A.data, A.indices, A.indptr])
    )
    for a in arrays:
        a.setflags(write=False)
    saved = [a.copy() for a in arrays]
    op = as_operand(A)
    x, u = np.ones(D), np.ones(N)
    op.matvec(x), op.rmatvec(u), op.normal_matvec(x), op.residual_normal(x, u)
    op.take_rows(np.arange(4)), op.row_norms_sq(), op.abs_sums(), op.to_dense()
    op.gram(None, np.ones(N)), op.gram_matvec(np.arange(3), np.ones(3), x)
    op.sketch(DenseSketch(4, N))
    dense = op.to_dense()
    dense[:] = -1.0  # to_dense hands out a copy
    for before, after in zip(saved, arrays, strict=True):
        np.testing.assert_array_equal(before, after)


def test_integer_and_boolean_input_become_float64():
    assert as_operand(np.arange(6).reshape(3, 2)).dtype == np.float64
    assert as_operand(sp.csr_matrix(np.eye(3, dtype=bool))).dtype == np.float64


def test_bad_row_selections_and_coefficients():
    op = as_operand(np.eye(4))
    with pytest.raises(ValueError, match="idx must hold row indices"):
        op.take_rows(np.array([4]))
    with pytest.raises(TypeError, match="idx must be"):
        op.take_rows(np.array([0.5]))
    with pytest.raises(ValueError, match="coef must have shape"):
        op.gram(None, np.ones(3))


def test_register_operand_with_a_predicate():
    from randopt.operands import register_operand

    class Box:
        def __init__(self, a):
            self.a = a

    register_operand(
        lambda A: isinstance(A, Box),
        lambda A, *, name, check_finite: as_operand(2 * A.a, name, check_finite=check_finite),
    )
    np.testing.assert_array_equal(as_operand(Box(np.eye(2))).to_dense(), 2 * np.eye(2))
    with pytest.raises(TypeError, match="type_or_predicate"):
        register_operand(3, lambda A: A)


def test_importing_the_operand_layer_does_not_import_dask_until_it_meets_a_dask_array():
    code = (
        "import sys, numpy as np, scipy.sparse as sp\n"
        "from randopt.operands import as_operand\n"
        "as_operand(np.eye(3)); as_operand(sp.eye(3))\n"
        "print('dask' in sys.modules, 'randopt.operands.dask_array' in sys.modules)\n"
        "try:\n"
        "    import dask.array as da\n"
        "except ImportError:\n"
        "    print('no dask')\n"
        "else:\n"
        "    print(as_operand(da.ones((4, 2), chunks=2)).format,\n"
        "          'randopt.operands.dask_array' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = out.stdout.split("\n")
    assert lines[0] == "False False"
    assert lines[1] in ("dask True", "no dask")
