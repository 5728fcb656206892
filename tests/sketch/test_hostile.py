"""Hostile input for randopt.sketch (issue 10; moved beside the module by issue 17).

Every sketch, lstsq, the leverage scores and the row samplers are fed NaN and
infinity, empty and one-row/one-column matrices, every dtype, views and read-only
arrays, every scipy.sparse format, malformed CSR, extreme scales and bad option
values. Required: a ValueError or TypeError naming the argument, or the correct
result against a reference; never a crash, a NaN, a silently wrong number or a write
to the caller's data. The shared helpers are in ``tests/hostile.py``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.linalg import LinearOperator

from randopt import sketch
from tests.hostile import (
    A0,
    B0,
    BAD_SCALARS,
    D,
    N,
    bad_matrices,
    is_legit,
    legitimate_inputs,
    malformed_indptr,
    readonly,
    snapshot,
    unchanged,
)

# --------------------------------------------------------------------------
# Every entry point that takes a matrix
# --------------------------------------------------------------------------

ENTRY = {
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
}
BAD_MATRICES = bad_matrices(A0, B0)


@pytest.mark.parametrize("entry", sorted(ENTRY))
@pytest.mark.parametrize("case", sorted(BAD_MATRICES))
def test_bad_matrix_is_refused_with_its_name(entry, case):
    make, exc = BAD_MATRICES[case]
    if case == "1d" and entry.endswith("@"):
        pytest.skip("S @ v of a vector is legitimate")
    with pytest.raises(exc, match=r"\bA\b"):
        ENTRY[entry](make())


@pytest.mark.parametrize("index", [10**6, D, -1])
def test_malformed_csc_never_reaches_a_sketch_kernel(index):
    csc = sp.csc_matrix(A0.copy())
    csc.indices[0] = N if index == D else index  # a row index of a CSC
    with pytest.raises(ValueError, match="A is malformed"):
        sketch.countsketch(8, N, random_state=0) @ csc


def test_malformed_indptr():
    with pytest.raises(ValueError, match="A is malformed"):
        sketch.lstsq(malformed_indptr(A0, 3, 10**6), B0)


# --------------------------------------------------------------------------
# Legitimate input: the right answer, and the caller's arrays untouched
# --------------------------------------------------------------------------

LEGIT = legitimate_inputs(A0)


def _reference_checks(M, ref):
    """Each sketch entry point on ``M`` against the same call on the float64 reference."""
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


@pytest.mark.parametrize("case", sorted(LEGIT))
def test_legitimate_input_gives_the_reference_and_is_not_written(case):
    make, to_ref = LEGIT[case]
    M = make()
    before = snapshot(M)
    ref = np.asarray(to_ref(M), dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sp.SparseEfficiencyWarning)
        _reference_checks(M, ref)
    assert unchanged(before, M), f"{case}: an entry point wrote to the caller's matrix"


def test_lstsq_does_not_write_inputs():
    sketch.lstsq(readonly(A0), readonly(B0), random_state=0)


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


@settings(max_examples=25, deadline=None)
@given(k=st.integers(-1000, 1000))
def test_scaled_by_powers_of_two(k):
    """Results depend on where the data sits in the exponent range only as they must."""
    M = np.ldexp(A0, k)
    np.testing.assert_allclose(sketch.row_norm_probabilities(M),
                               sketch.row_norm_probabilities(A0), rtol=1e-12)


def test_row_norm_probabilities_zero_matrix():
    with pytest.raises(ValueError, match="A is all zeros"):
        sketch.row_norm_probabilities(np.zeros((5, 2)))


# --------------------------------------------------------------------------
# Option values
# --------------------------------------------------------------------------

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
}


@pytest.mark.parametrize("option", sorted(OPTIONS))
@pytest.mark.parametrize("value", BAD_SCALARS, ids=repr)
def test_bad_option_value_names_the_option(option, value):
    call, legit = OPTIONS[option]
    name = option.split(".")[-1]
    if is_legit(value, legit):
        call(value)  # accepted, and must not crash
        return
    if option == "alpha" and isinstance(value, int) and value == 0:
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
