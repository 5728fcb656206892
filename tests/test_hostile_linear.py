"""Hostile input for the linear-algebra and optimisation layers (issue 10).

Every public function of ``randopt.operands``, ``randopt.sketch``,
``randopt.oracles``, ``randopt.optimize`` (trust_region, arc, pion_update) and
the two estimators is fed what a careless or hostile user can build: NaN and
infinity, empty and one-row/one-column matrices, every dtype, views and
read-only arrays, every scipy.sparse format (matrices and the new arrays),
malformed CSR, extreme scales and bad option values. Required: a ValueError or
TypeError naming the argument, or the correct result against a reference;
never a crash, a NaN, a silently wrong number or a write to the caller's data.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.linalg import LinearOperator, aslinearoperator

from randopt import oracles, sketch
from randopt.estimators import SketchedLinearRegression, SubsampledNewtonClassifier
from randopt.operands import (
    DenseOperand,
    LinearOperatorOperand,
    SparseOperand,
    as_operand,
    validated_sparse,
)
from randopt.optimize import (
    CubicRegularizationPolicy,
    TrustRegionPolicy,
    arc,
    pion_update,
    trust_region,
)

N, D = 40, 5
_RNG = np.random.default_rng(20261201)
A0 = _RNG.standard_normal((N, D))
B0 = _RNG.standard_normal(N)
Y01 = (B0 > 0).astype(float)


def _malformed_csr(index: int) -> sp.csr_matrix:
    M = sp.csr_matrix(A0.copy())
    M.indices[0] = index  # scipy does not re-check after construction
    return M


def _snapshot(M):
    if sp.issparse(M):
        if M.format in ("csr", "csc", "bsr"):
            return [M.data.copy(), M.indices.copy(), M.indptr.copy()]
        if M.format == "coo":
            return [M.data.copy(), np.asarray(M.row).copy(), np.asarray(M.col).copy()]
        return [M.toarray()]
    return [np.array(M, copy=True)]


def _unchanged(before, M) -> bool:
    after = _snapshot(M)
    return len(before) == len(after) and all(
        np.array_equal(x, y) for x, y in zip(before, after, strict=True)
    )


def _noncanonical_csr() -> sp.csr_matrix:
    """Unsorted column indices and a duplicate in row 0: equal to ``_noncanonical_dense``."""
    rest = sp.csr_matrix(A0[2:])
    data = np.r_[1.0, 2.0, 3.0, 4.0, 5.0, rest.data]
    ind = np.r_[2, 0, 2, 1, 4, rest.indices]
    ptr = np.r_[0, 4, 5 + rest.indptr]
    return sp.csr_matrix((data, ind, ptr), shape=(N, D))


def _noncanonical_dense() -> np.ndarray:
    M = np.zeros((N, D))
    M[0, 2], M[0, 0], M[0, 1], M[1, 4] = 4.0, 2.0, 4.0, 5.0
    return M + np.r_[np.zeros((2, D)), A0[2:]]


# --------------------------------------------------------------------------
# Every entry point that takes a matrix
# --------------------------------------------------------------------------

ENTRY = {
    "as_operand": lambda M: as_operand(M),
    "DenseOperand": lambda M: DenseOperand(M),
    "gaussian@": lambda M: sketch.gaussian(8, N, random_state=0) @ M,
    "srht@": lambda M: sketch.srht(8, N, random_state=0) @ M,
    "countsketch@": lambda M: sketch.countsketch(8, N, random_state=0) @ M,
    "sparse_sign@": lambda M: sketch.sparse_sign(8, N, nnz_per_col=2, random_state=0) @ M,
    "lstsq": lambda M: sketch.lstsq(M, B0, random_state=0),
    "leverage_exact": lambda M: sketch.leverage_scores(M),
    "leverage_approx": lambda M: sketch.leverage_scores(M, method="approx", random_state=0),
    "row_norm_probabilities": lambda M: sketch.row_norm_probabilities(M),
    "row_norm_sample": lambda M: sketch.row_norm_sample(M, 5, random_state=0),
    "leverage_sample": lambda M: sketch.leverage_sample(M, 5, random_state=0),
    "LogisticObjective": lambda M: oracles.LogisticObjective(M, Y01).value(np.zeros(D)),
    "FiniteSum": lambda M: oracles.FiniteSum(M, Y01, oracles.SigmoidLeastSquaresLoss()),
    "LeastSquaresObjective": lambda M: oracles.LeastSquaresObjective(M, B0),
}

BAD_MATRICES = {
    "nan": (lambda: np.where(A0 > 1, np.nan, A0), ValueError),
    "inf": (lambda: np.where(A0 > 1, np.inf, A0), ValueError),
    "empty": (lambda: np.zeros((0, D)), ValueError),
    "1d": (lambda: B0.copy(), ValueError),
    "3d": (lambda: A0[None], ValueError),
    "complex": (lambda: A0 + 1j, TypeError),
    "object": (lambda: A0.astype(object), TypeError),
    "strings": (lambda: A0.astype(str), TypeError),
    "none": (lambda: None, TypeError),
    "csr_out_of_range": (lambda: _malformed_csr(10**6), ValueError),
    "csr_negative": (lambda: _malformed_csr(-1), ValueError),
    "csr_nan": (lambda: sp.csr_matrix(np.where(A0 > 1, np.nan, A0)), ValueError),
    "csr_complex": (lambda: sp.csr_array(A0 + 1j), TypeError),
    "csr_empty": (lambda: sp.csr_matrix((0, D)), ValueError),
}


@pytest.mark.parametrize("entry", sorted(ENTRY))
@pytest.mark.parametrize("case", sorted(BAD_MATRICES))
def test_bad_matrix_is_refused_with_its_name(entry, case):
    make, exc = BAD_MATRICES[case]
    if entry == "DenseOperand" and case.startswith("csr"):
        pytest.skip("DenseOperand takes dense data; SparseOperand is tested below")
    if case == "1d" and entry.endswith("@"):
        pytest.skip("S @ v of a vector is legitimate")
    M = make()
    # X for the oracles, A elsewhere: the name of the argument in that signature.
    name = "X" if entry in ("LogisticObjective", "FiniteSum", "LeastSquaresObjective") else "A"
    with pytest.raises(exc, match=rf"\b{name}\b"):
        ENTRY[entry](M)


@pytest.mark.parametrize("index", [10**6, D, -1])
def test_malformed_csr_never_reaches_a_kernel(index):
    # Built by hand, a SparseOperand used to skip validation and segfault.
    with pytest.raises(ValueError, match="A is malformed"):
        SparseOperand(_malformed_csr(index))
    with pytest.raises(ValueError, match="A is malformed"):
        validated_sparse(_malformed_csr(index))
    csc = sp.csc_matrix(A0.copy())
    csc.indices[0] = N if index == D else index  # a row index of a CSC
    with pytest.raises(ValueError, match="A is malformed"):
        sketch.countsketch(8, N, random_state=0) @ csc


def test_malformed_coo_and_indptr():
    coo = sp.coo_matrix(A0.copy())
    coo.col[0] = 10**6
    with pytest.raises(ValueError, match="A is malformed"):
        as_operand(coo)
    M = sp.csr_matrix(A0.copy())
    M.indptr[3] = 10**6
    with pytest.raises(ValueError, match="A is malformed"):
        sketch.lstsq(M, B0)


def test_operand_constructors_validate():
    with pytest.raises(ValueError, match="A contains NaN"):
        DenseOperand(A0 * np.nan)
    with pytest.raises(TypeError, match="A must be array-like"):
        DenseOperand("abc")
    with pytest.raises(TypeError, match="A must be a scipy.sparse"):
        SparseOperand(A0)
    with pytest.raises(TypeError, match="A must be a scipy LinearOperator"):
        LinearOperatorOperand(A0)
    with pytest.raises(TypeError, match="A must be a scipy.sparse"):
        validated_sparse(A0)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"name": 3}, "name"),
        ({"check_finite": "no"}, "check_finite"),
        ({"accept_operator": 1}, "accept_operator"),
    ],
)
def test_as_operand_options(kwargs, name):
    with pytest.raises(TypeError, match=name):
        as_operand(A0, **kwargs)


# --------------------------------------------------------------------------
# Legitimate input: the right answer, and the caller's arrays untouched
# --------------------------------------------------------------------------


def _readonly(a):
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


LEGIT = {
    "int": (lambda: (A0 * 3).astype(np.int64), lambda M: M.astype(float)),
    "bool": (lambda: A0 > 0, lambda M: M.astype(float)),
    "float16": (lambda: A0.astype(np.float16), lambda M: M.astype(float)),
    "float32": (lambda: A0.astype(np.float32), lambda M: M.astype(float)),
    "list": (lambda: A0.tolist(), np.asarray),
    "fortran": (lambda: np.asfortranarray(A0), np.asarray),
    "strided_view": (lambda: np.repeat(A0, 2, axis=1)[:, ::2], np.asarray),
    "readonly": (lambda: _readonly(A0), np.asarray),
    "one_col": (lambda: A0[:, :1].copy(), np.asarray),
    "noncanonical_csr": (_noncanonical_csr, lambda M: _noncanonical_dense()),
    "noncanonical_csc": (lambda: _noncanonical_csr().tocsc(), lambda M: _noncanonical_dense()),
}
for _fmt in ("csr_matrix", "csc_matrix", "coo_matrix", "bsr_matrix", "lil_matrix",
             "dok_matrix", "dia_matrix", "csr_array", "csc_array", "coo_array",
             "bsr_array", "lil_array", "dok_array", "dia_array"):
    LEGIT[_fmt] = ((lambda f=_fmt: getattr(sp, f)(A0.copy())), lambda M: M.toarray())


def _reference_checks(M, ref):
    """Each entry point on ``M`` against the same call on the float64 reference."""
    d = ref.shape[1]
    for kind in ("countsketch", "srht", "gaussian", "sparse_sign"):
        S = sketch.make_sketch(kind, 8, N, random_state=0)
        np.testing.assert_allclose(S @ M, S @ ref, rtol=1e-5, atol=1e-5)
    x = sketch.lstsq(M, B0, random_state=0).x
    np.testing.assert_allclose(x, np.linalg.lstsq(ref, B0, rcond=None)[0], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(
        sketch.leverage_scores(M), sketch.leverage_scores(ref), rtol=1e-6, atol=1e-10
    )
    approx = sketch.leverage_scores(M, method="approx", random_state=0)
    assert np.all(approx >= 0) and np.all(approx <= 1 + 1e-12)
    np.testing.assert_allclose(
        sketch.row_norm_probabilities(M), sketch.row_norm_probabilities(ref), rtol=1e-6
    )
    w = np.linspace(-0.2, 0.3, d)
    f, g = oracles.LogisticObjective(M, Y01, alpha=0.1), oracles.LogisticObjective(ref, Y01,
                                                                                 alpha=0.1)
    np.testing.assert_allclose(f.value(w), g.value(w), rtol=1e-6)
    np.testing.assert_allclose(f.gradient(w), g.gradient(w), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(f.hessian(w), g.hessian(w), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(f.hessp(w, np.ones(d)), g.hessp(w, np.ones(d)), rtol=1e-6,
                               atol=1e-12)


@pytest.mark.parametrize("case", sorted(LEGIT))
def test_legitimate_input_gives_the_reference_and_is_not_written(case):
    make, to_ref = LEGIT[case]
    M = make()
    before = _snapshot(M)
    ref = np.asarray(to_ref(M), dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sp.SparseEfficiencyWarning)
        _reference_checks(M, ref)
    assert _unchanged(before, M), f"{case}: an entry point wrote to the caller's matrix"


def test_solvers_do_not_write_inputs():
    M = _noncanonical_csr()
    x0 = _readonly(np.zeros(D))
    w = _readonly(np.ones(N))
    before = _snapshot(M)
    f = oracles.LogisticObjective(M, Y01, alpha=1e-2, sample_weight=w)
    trust_region(f, x0, max_iter=3, random_state=0)
    arc(f, x0, max_iter=3, random_state=0)
    assert _unchanged(before, M)
    b = _readonly(B0)
    sketch.lstsq(_readonly(A0), b, random_state=0)
    SketchedLinearRegression(random_state=0).fit(_readonly(A0), b)


def test_one_row_matrix():
    row = A0[:1]
    np.testing.assert_allclose(sketch.leverage_scores(row), [1.0])
    np.testing.assert_allclose(sketch.row_norm_probabilities(row), [1.0])
    res = sketch.lstsq(row, B0[:1], random_state=0)
    np.testing.assert_allclose(row @ res.x, B0[:1], rtol=1e-10)


def test_sketch_of_nan_or_overflowing_data_is_refused():
    S = sketch.gaussian(8, N, random_state=0)
    with pytest.raises(ValueError, match="A contains NaN"):
        S @ np.full(N, np.nan)
    bad = LinearOperator((N, D), matvec=lambda v: np.full(N, np.nan),
                         rmatvec=lambda v: np.full(D, np.nan), dtype=float)
    with pytest.raises(ValueError, match="A.rmatvec returned NaN"):
        S @ bad
    wrong = LinearOperator((N, D), matvec=lambda v: np.ones(3), rmatvec=lambda v: np.ones(3),
                           dtype=float)
    with pytest.raises(ValueError, match=r"A\.matvec"):
        sketch.lstsq(wrong, B0, random_state=0)
    with pytest.raises(ValueError, match="S @ A is not finite"):
        sketch.gaussian(8, N, random_state=0) @ np.full((N, D), 1.7e308)


@pytest.mark.parametrize("fmt", ["dense", "fortran", "csr", "csc", "operator"])
def test_operand_products_check_lengths(fmt):
    data = {"dense": A0, "fortran": np.asfortranarray(A0), "csr": sp.csr_matrix(A0),
            "csc": sp.csc_matrix(A0), "operator": aslinearoperator(A0)}[fmt]
    op = as_operand(data)
    with pytest.raises(ValueError, match=r"\bx\b"):
        op.matvec(np.ones(3))
    with pytest.raises(ValueError, match=r"\bu\b"):
        op.rmatvec(np.ones(3))
    with pytest.raises(ValueError, match=r"\bV\b"):
        op.normal_matvec(np.ones(3))
    with pytest.raises(ValueError, match=r"\bV\b"):
        op.normal_matvec(np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"\bx\b"):
        op.residual_normal(np.ones(3), B0)
    with pytest.raises(ValueError, match=r"\bb\b"):
        op.residual_normal(np.ones(D), B0[:3])  # the kernel used to read past b
    with pytest.raises(ValueError, match="idx"):
        op.take_rows(np.array([10**6]))
    with pytest.raises(ValueError, match="idx"):
        op.gram(np.array([-1]), np.ones(1))
    with pytest.raises(ValueError, match="coef"):
        op.gram(np.array([0, 1, 2]), np.ones(1))
    with pytest.raises(ValueError, match=r"\bv\b"):
        op.gram_matvec(np.array([0]), np.ones(1), np.ones(2))


# --------------------------------------------------------------------------
# Extreme scales
# --------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1e-300, 1e-200, 1e200, 1e300])
def test_extreme_scales(scale):
    M = A0 * scale
    np.testing.assert_allclose(sketch.row_norm_probabilities(M),
                               sketch.row_norm_probabilities(A0), rtol=1e-12)
    np.testing.assert_allclose(sketch.row_norm_probabilities(sp.csr_matrix(M)),
                               sketch.row_norm_probabilities(A0), rtol=1e-12)
    np.testing.assert_allclose(sketch.leverage_scores(M), sketch.leverage_scores(A0),
                               rtol=1e-8)
    x = sketch.lstsq(M, B0, random_state=0).x * scale
    np.testing.assert_allclose(x, np.linalg.lstsq(A0, B0, rcond=None)[0], rtol=1e-8)
    W, G = A0[:6].T.copy(), B0[:30].reshape(D, 6)
    ref = pion_update(W, G, 0.1)
    np.testing.assert_allclose(pion_update(W * scale, G / scale, 0.1), ref * scale,
                               rtol=1e-10)


@settings(max_examples=25, deadline=None)
@given(k=st.integers(-1000, 1000))
def test_scaled_by_powers_of_two(k):
    """Results depend on where the data sits in the exponent range only as they must."""
    s = float(np.ldexp(1.0, k))
    M = np.ldexp(A0, k)
    np.testing.assert_allclose(sketch.row_norm_probabilities(M),
                               sketch.row_norm_probabilities(A0), rtol=1e-12)
    W, G = A0[:6].T.copy(), B0[:30].reshape(D, 6)
    new = pion_update(np.ldexp(W, k), G, np.ldexp(0.1, -k))
    np.testing.assert_allclose(np.ldexp(new, -k), pion_update(W, G, 0.1), rtol=1e-10)
    assert np.isfinite(s)


def test_row_norm_probabilities_zero_matrix():
    with pytest.raises(ValueError, match="A is all zeros"):
        sketch.row_norm_probabilities(np.zeros((5, 2)))


# --------------------------------------------------------------------------
# Option values
# --------------------------------------------------------------------------

BAD_SCALARS = [None, "3", np.array([3]), np.nan, -1, 0, True, 6.9]

OPTIONS = {
    # name: (call taking the bad value, values that are legitimately fine)
    "sketch_size": (lambda v: sketch.gaussian(v, N), ()),
    "n_rows": (lambda v: sketch.countsketch(4, v), ()),
    "nnz_per_col": (lambda v: sketch.sparse_sign(10, N, nnz_per_col=v), ()),
    "transform": (lambda v: sketch.srht(4, N, transform=v), ()),
    "kind": (lambda v: sketch.make_sketch(v, 4, N), ()),
    "random_state": (lambda v: sketch.gaussian(4, N, random_state=v), (None, 0)),
    "tol": (lambda v: sketch.lstsq(A0, B0, tol=v), ()),
    "alpha": (lambda v: sketch.lstsq(A0, B0, alpha=v), (0, 6.9)),
    "max_iter": (lambda v: sketch.lstsq(A0, B0, max_iter=v), (None, 0)),
    "lstsq.sketch_size": (lambda v: sketch.lstsq(A0, B0, sketch_size=v), (None,)),
    "lstsq.method": (lambda v: sketch.lstsq(A0, B0, method=v), ()),
    "lstsq.solver": (lambda v: sketch.lstsq(A0, B0, solver=v), ()),
    "lstsq.sketch": (lambda v: sketch.lstsq(A0, B0, sketch=v), ()),
    "jl_dim": (lambda v: sketch.leverage_scores(A0, method="approx", jl_dim=v), ()),
    "leverage.method": (lambda v: sketch.leverage_scores(A0, method=v), ()),
    "size": (lambda v: sketch.sample_rows(np.full(4, 0.25), v), ()),
    "replace": (lambda v: sketch.sample_rows(np.full(4, 0.25), 2, replace=v), (True,)),
    "uniform.size": (lambda v: sketch.uniform_sample(10, v), ()),
    "uniform.replace": (lambda v: sketch.uniform_sample(10, 2, replace=v), (True,)),
    "expected_size": (lambda v: sketch.inclusion_probabilities(np.full(4, 0.25), v), ()),
    "shape": (lambda v: sketch.auto_sketch((v, 5)), ()),
    "numerical_rank.shape": (lambda v: sketch.numerical_rank(np.ones(2), (v, 2)), ()),
    "n": (lambda v: sketch.uniform_probabilities(v), ()),
    "as_sample.n": (lambda v: oracles.as_sample(np.array([0]), v), ()),
    "n_features": (lambda v: oracles.CallableObjective(np.sum, lambda x: x, lambda x, u: u,
                                                       n_features=v), ()),
    "FiniteSum.alpha": (lambda v: oracles.LogisticObjective(A0, Y01, alpha=v), (0, 6.9)),
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
_LOGISTIC = oracles.LogisticObjective(A0, Y01, alpha=1e-3)


def _is_legit(value, legit) -> bool:
    return any(type(value) is type(x) and value == x for x in legit if x is not None) or (
        value is None and None in legit
    )


@pytest.mark.parametrize("option", sorted(OPTIONS))
@pytest.mark.parametrize("value", BAD_SCALARS, ids=repr)
def test_bad_option_value_names_the_option(option, value):
    call, legit = OPTIONS[option]
    name = option.split(".")[-1]
    if _is_legit(value, legit):
        call(value)  # accepted, and must not crash
        return
    if option in ("alpha", "FiniteSum.alpha") and isinstance(value, int) and value == 0:
        return
    with pytest.raises((TypeError, ValueError), match=rf"\b{name}\b"):
        call(value)


def test_float_shape_is_refused_not_truncated():
    with pytest.raises(TypeError, match=r"shape\[0\]"):
        sketch.auto_sketch((6.9, 5.9))
    with pytest.raises(TypeError, match="shape"):
        sketch.auto_sketch("ab")
    with pytest.raises(TypeError, match="shape"):
        sketch.numerical_rank(np.ones(2), None)


def test_probability_vectors():
    for p, exc in [(np.array([0.5, np.nan]), ValueError), (np.array([1.5, -0.5]), ValueError),
                   (np.zeros(3), ValueError), (np.ones((1, 2)) / 2, ValueError),
                   (np.array([]), ValueError), ("ab", TypeError), (None, TypeError)]:
        with pytest.raises(exc, match="probabilities"):
            sketch.sample_rows(p, 2)
        with pytest.raises(exc, match="probabilities"):
            sketch.inclusion_probabilities(p, 2)
    with pytest.raises(ValueError, match="expected_size"):
        sketch.inclusion_probabilities(np.full(4, 0.25), 10)
    with pytest.raises(ValueError, match="size"):
        sketch.sample_rows(np.full(4, 0.25), 2**70)
    pi = sketch.inclusion_probabilities(np.array([0.7, 0.1, 0.1, 0.1]), 2)
    np.testing.assert_allclose(pi.sum(), 2.0)
    assert pi.max() <= 1.0


def test_singular_values_checked():
    with pytest.raises(ValueError, match="singular_values"):
        sketch.numerical_rank(np.array([np.nan, 1.0]), (3, 2))
    with pytest.raises(ValueError, match="singular_values"):
        sketch.numerical_rank(np.array([1.0, 2.0]), (3, 2))
    with pytest.raises(TypeError, match="singular_values"):
        sketch.numerical_rank(None, (3, 2))
    assert sketch.numerical_rank(np.array([2.0, 1.0, 0.0]), (3, 3)) == 2


# --------------------------------------------------------------------------
# Oracles and the solver protocol
# --------------------------------------------------------------------------


@pytest.mark.parametrize("data", ["dense", "csr"])
def test_oracle_protocol_arguments(data):
    X = A0 if data == "dense" else sp.csr_matrix(A0)
    f = oracles.LogisticObjective(X, Y01)
    w = np.zeros(D)
    for bad, exc in [(np.zeros(D - 1), ValueError), (np.full(D, np.nan), ValueError),
                     (None, TypeError), ("ab", TypeError), (np.zeros((D, 1)), ValueError),
                     (np.zeros(D) + 1j, TypeError), (np.zeros(D, dtype=object), TypeError)]:
        for call in (f.value, f.gradient, f.hessian, f.evaluate, f.hessian_weights,
                     lambda v: f.hessp(v, np.ones(D))):
            with pytest.raises(exc, match=r"\bw\b"):
                call(bad)
        with pytest.raises(exc, match=r"\bv\b"):
            f.hessp(w, bad)
    for sample, exc in [(np.array([N]), ValueError), (np.array([-1]), ValueError),
                        (np.array([1.5]), TypeError), (np.array([], dtype=int), ValueError),
                        ((np.array([0, 1]), np.array([1.0])), ValueError),
                        ((np.array([0]), np.array([np.nan])), ValueError)]:
        for call in (lambda s: f.gradient(w, s), lambda s: f.hessp(w, np.ones(D), s),
                     lambda s: f.hessian(w, s)):
            with pytest.raises(exc, match="sample"):
                call(sample)


def test_oracle_constructor_arguments():
    for kwargs, exc, name in [
        ({"sample_weight": -np.ones(N)}, ValueError, "sample_weight"),
        ({"sample_weight": np.zeros(N)}, ValueError, "sample_weight"),
        ({"sample_weight": np.ones(3)}, ValueError, "sample_weight"),
        ({"sample_weight": np.full(N, np.nan)}, ValueError, "sample_weight"),
        ({"penalty_mask": np.ones(3)}, ValueError, "penalty_mask"),
        ({"penalty_mask": np.full(D, 2.0)}, ValueError, "penalty_mask"),
        ({"alpha": np.inf}, ValueError, "alpha"),
    ]:
        with pytest.raises(exc, match=name):
            oracles.LogisticObjective(A0, Y01, **kwargs)
    for y, exc in [(np.full(N, 2.0), ValueError), (np.full(N, np.nan), ValueError),
                   (B0[:3], ValueError), (np.array(["a"] * N), TypeError)]:
        with pytest.raises(exc, match=r"\by\b"):
            oracles.LogisticObjective(A0, y)
    with pytest.raises(TypeError, match="loss"):
        oracles.FiniteSum(A0, Y01, "logistic")
    # Weights spanning the exponent range give the unweighted loss.
    w = np.linspace(-0.2, 0.3, D)
    ref = oracles.LogisticObjective(A0, Y01).value(w)
    for s in (1e-300, 1e300):
        got = oracles.LogisticObjective(A0, Y01, sample_weight=np.full(N, s)).value(w)
        np.testing.assert_allclose(got, ref, rtol=1e-12)


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
    res = solver((fun, grad, hessp), _readonly(np.ones(D)))
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
    out = pion_update(_readonly(W), _readonly(G), 0.1)
    np.testing.assert_allclose(np.linalg.svd(out, compute_uv=False),
                               np.linalg.svd(W, compute_uv=False), rtol=1e-10)
    assert np.array_equal(W, before[0]) and np.array_equal(G, before[1])
    np.testing.assert_allclose(pion_update(np.zeros((4, 3)), G, 0.1), 0.0)


# --------------------------------------------------------------------------
# Estimators
# --------------------------------------------------------------------------

YC = (B0 > 0).astype(int)


@pytest.mark.parametrize(
    "params, name",
    [({"fit_intercept": "no"}, "fit_intercept"), ({"fit_intercept": 1}, "fit_intercept"),
     ({"fit_intercept": None}, "fit_intercept"), ({"alpha": -1.0}, "alpha"),
     ({"alpha": np.nan}, "alpha"), ({"tol": "a"}, "tol"), ({"max_iter": 2.5}, "max_iter"),
     ({"max_iter": 0}, "max_iter"), ({"random_state": "a"}, "random_state"),
     ({"random_state": True}, "random_state")],
)
@pytest.mark.parametrize("estimator", ["classifier", "regressor"])
def test_estimator_options(estimator, params, name):
    if estimator == "classifier":
        model, y = SubsampledNewtonClassifier(**params), YC
    else:
        if name == "max_iter" and params[name] == 0:
            params = {"max_iter": -1}
        model, y = SketchedLinearRegression(**params), B0
    with pytest.raises((TypeError, ValueError), match=name):
        model.fit(A0, y)


@pytest.mark.parametrize(
    "params, name",
    [({"loss": "no"}, "loss"), ({"solver": "no"}, "solver"),
     ({"hessian_sampling": None}, "hessian_sampling"),
     ({"hessian_sample_size": 2.0}, "hessian_sample_size")],
)
def test_classifier_choices(params, name):
    with pytest.raises((TypeError, ValueError), match=name):
        SubsampledNewtonClassifier(**params).fit(A0, YC)


@pytest.mark.parametrize(
    "params, name",
    [({"sketch": "no"}, "sketch"), ({"method": 3}, "method"), ({"solver": None}, "solver"),
     ({"sketch_size": 2.5}, "sketch_size"), ({"tol": 0.0}, "tol")],
)
def test_regressor_choices(params, name):
    with pytest.raises((TypeError, ValueError), match=name):
        SketchedLinearRegression(**params).fit(A0, B0)


def test_estimators_on_hostile_data():
    for model, y in ((SubsampledNewtonClassifier(max_iter=5, random_state=0), YC),
                     (SketchedLinearRegression(random_state=0), B0)):
        with pytest.raises(ValueError, match="NaN"):
            model.fit(np.where(A0 > 1, np.nan, A0), y)
        with pytest.raises(ValueError, match="sample_weight"):
            model.fit(A0, y, sample_weight=-np.ones(N))
        with pytest.raises(ValueError, match="Complex"):
            model.fit(A0 + 1j, y)
    reg = SketchedLinearRegression(random_state=0, fit_intercept=False)
    for scale in (1e-300, 1e300):
        coef = reg.fit(A0 * scale, B0).coef_ * scale
        np.testing.assert_allclose(coef, np.linalg.lstsq(A0, B0, rcond=None)[0], rtol=1e-8)


def test_hessian_model_and_history_arguments():
    with pytest.raises(ValueError, match="dim"):
        oracles.HessianModel(-1, 3, matvec=lambda v: v)
    with pytest.raises(TypeError, match="dim"):
        oracles.HessianModel("a", 3, matvec=lambda v: v)
    with pytest.raises(ValueError, match="matrix"):
        oracles.HessianModel(2, 3, matrix=np.ones((3, 3)))
    H = oracles.HessianModel(2, 3, matvec=lambda v: np.ones(5))
    with pytest.raises(ValueError, match="matvec"):
        H.matvec(np.ones(2))
    f = oracles.LogisticObjective(A0, Y01)
    with pytest.raises(ValueError, match=r"\bv\b"):
        f.hessian_model(f.evaluate(np.zeros(D))).matvec(np.ones(3))
    from randopt.optimize import History

    with pytest.raises(TypeError, match="columns"):
        History("abc")
    with pytest.raises(TypeError, match="columns"):
        History(3)


def test_user_loss_with_wrong_output_is_named():
    class ShortLoss(oracles.Loss):
        def pointwise(self, t, y):
            return np.ones(3), np.ones(3), np.ones(3)

    class NotATuple(oracles.Loss):
        def pointwise(self, t, y):
            return t

    for loss in (ShortLoss(), NotATuple()):
        obj = oracles.FiniteSum(A0, Y01, loss)
        for call in (obj.value, obj.gradient, obj.hessian):
            with pytest.raises((TypeError, ValueError), match=type(loss).__name__):
                call(np.zeros(D))


def test_apply_rows_hostile():
    S = sketch.sparse_sign(8, N, nnz_per_col=2, random_state=0)
    with pytest.raises(ValueError, match="A_rows"):
        S.apply_rows(np.full((3, D), np.nan), 0)
    with pytest.raises(ValueError, match="rows"):
        S.apply_rows(A0[:10], N - 5)
    with pytest.raises(ValueError, match="rows"):
        S.apply_rows(A0[:10], -1)
    with pytest.raises(TypeError, match=r"\blo\b"):
        S.apply_rows(A0[:10], 1.5)
    with pytest.raises(ValueError, match="A_rows is malformed"):
        bad = sp.csr_matrix(A0[:10].copy())
        bad.indices[0] = 10**6
        S.apply_rows(bad, 0)
    parts = S.apply_rows(A0[:15], 0) + S.apply_rows(sp.csr_array(A0[15:]), 15)
    np.testing.assert_allclose(parts, S @ A0, atol=1e-12)


def test_linear_operator_returning_complex_is_refused_by_name():
    # np.asarray(out, dtype=float64) would keep only the real part: a silently wrong
    # product (and norm) instead of an error.
    M = np.arange(20.0).reshape(5, 4)
    L = LinearOperator((5, 4), matvec=lambda x: (M @ x) * (1 + 1j),
                       rmatvec=lambda y: M.T @ y, dtype=np.float64)
    op = as_operand(L, "L")
    with pytest.raises(TypeError, match=r"L\.matvec returned complex"):
        op.matvec(np.ones(4))
    np.testing.assert_array_equal(op.rmatvec(np.ones(5)), M.T @ np.ones(5))


def test_hessian_overflow_names_the_data():
    # |x| ~ 1e300: the loss's curvature is finite but X^T D X overflows; the error
    # must say that X is the cause (not only that "the Hessian" is bad).
    from randopt import SubsampledNewtonClassifier

    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3)) * 1e300
    y = (rng.random(200) < 0.5).astype(int)
    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(
        ValueError, match=r"X's Hessian X\^T D X overflows"
    ):
        SubsampledNewtonClassifier(random_state=0).fit(X, y)
