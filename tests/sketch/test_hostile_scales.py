"""Non-finite or wrong results from finite input in randopt.sketch (issue 20).

Finite data at the ends of the float64 range (subnormal entries, entries near 1.8e308,
right-hand sides from 1e-300 to 1e300) and the all-zero matrix must give the right
answer, or a ValueError that names the cause; never NaN, infinity, or a quietly
inaccurate "converged" result. References are independent: ``numpy.linalg.lstsq`` and
exact power-of-two rescalings of the data (which leave leverage scores and sampling
probabilities unchanged, and scale a least-squares solution exactly).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import aslinearoperator

from randopt import sketch
from tests.hostile import readonly

RNG = np.random.default_rng(20261207)
A0 = RNG.standard_normal((400, 6))
B0 = RNG.standard_normal(400)
X_REF, RES_REF = np.linalg.lstsq(A0, B0, rcond=None)[:2]
RNORM_REF = float(np.sqrt(RES_REF[0]))
# cond(A0) is about 1.2: a backward-stable solve is accurate to a few eps; 1e-10 is slack.
TOL = 1e-10
NEAR_MAX = A0 / np.abs(A0).max() * 1.5e308


def _formats(A):
    return {"dense": A, "csr": sp.csr_matrix(A), "fortran": np.asfortranarray(A)}


# ------------------------------------------------------------------ all-zero matrix
@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("method", ["exact", "approx"])
def test_leverage_probabilities_of_zero_matrix_is_an_error_not_nan(fmt, method):
    Z = _formats(np.zeros((20, 3)))[fmt]
    with pytest.raises(ValueError, match=r"\bA\b.*all zeros"):
        sketch.leverage_probabilities(Z, method=method, random_state=0)
    with pytest.raises(ValueError, match=r"\bA\b.*all zeros"):
        sketch.leverage_sample(Z, 3, method=method, random_state=0)
    np.testing.assert_array_equal(sketch.leverage_scores(Z, method=method, random_state=0), 0.0)


def test_leverage_probabilities_of_rank_one_matrix():
    # The scores of a rank-one matrix are a_i^2 / ||a||^2: the probabilities are finite.
    a = np.arange(1.0, 21.0)
    A = np.outer(a, [1.0, 2.0, 0.0])
    np.testing.assert_allclose(sketch.leverage_probabilities(A), a**2 / (a @ a), rtol=1e-12)


# ------------------------------------------------------------------ subnormal and huge data
@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("k", [-1060, -1040, -1000])
def test_row_norm_probabilities_of_subnormal_data(fmt, k):
    A = np.ldexp(A0, k)  # rounded to subnormals: the reference is that stored matrix
    lifted = np.ldexp(A, 1050)  # exact
    ref = np.sum(lifted**2, axis=1) / np.sum(lifted**2)
    got = sketch.row_norm_probabilities(_formats(A)[fmt])
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, ref, rtol=1e-12)


@pytest.mark.parametrize("fmt", ["dense", "csr", "fortran"])
@pytest.mark.parametrize("A", [NEAR_MAX, np.ldexp(A0, -1040)], ids=["near_max", "subnormal"])
def test_exact_leverage_scores_at_the_ends_of_the_range(fmt, A):
    # Scores do not depend on the scale: those of the exactly rescaled matrix.
    amax = np.abs(A).max()
    ref = sketch.leverage_scores(np.ldexp(A, -int(np.frexp(amax)[1])))
    M = _formats(A)[fmt]
    got = sketch.leverage_scores(M)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(got.sum(), 6.0, rtol=1e-12)


def test_exact_leverage_scores_do_not_write_the_data():
    A = readonly(NEAR_MAX)
    before = A.copy()
    sketch.leverage_scores(A)
    np.testing.assert_array_equal(A, before)


@pytest.mark.parametrize("call", [
    lambda A: sketch.leverage_scores(A, method="approx", random_state=0),
    lambda A: sketch.lstsq(A, B0, sketch="leverage", random_state=0),
    lambda A: sketch.lstsq(A, B0, random_state=0),
    lambda A: sketch.lstsq(A, B0, sketch="gaussian", random_state=0),
], ids=["leverage_approx", "lstsq_leverage", "lstsq_auto", "lstsq_gaussian"])
def test_sketch_overflow_of_finite_data_is_named_as_such(call):
    # A is finite: "A contains NaN or infinity" would send the user looking for NaN.
    with pytest.raises(ValueError, match="float64 limit") as info:
        call(NEAR_MAX)
    assert "NaN" not in str(info.value)


# ------------------------------------------------------------------ lstsq over the range of b
SCALES = [2.0**-1000, 1e-300, 1e-200, 1e160, 1e200, 1e300, 2.0**1000]


@pytest.mark.parametrize("method, solver", [("precondition", "cg"), ("precondition", "lsqr"),
                                            ("precondition", "lsmr"), ("ihs", "cg")])
@pytest.mark.parametrize("scale", SCALES)
def test_lstsq_right_hand_side_across_the_range(method, solver, scale):
    res = sketch.lstsq(A0, B0 * scale, method=method, solver=solver, random_state=0)
    assert res.converged
    assert np.isfinite(res.x).all() and np.isfinite(res.residual_norm)
    np.testing.assert_allclose(res.x / scale, X_REF, rtol=TOL, atol=TOL * np.abs(X_REF).max())
    np.testing.assert_allclose(res.residual_norm / scale, RNORM_REF, rtol=TOL)


@pytest.mark.parametrize("scale", SCALES)
def test_lstsq_sketch_and_solve_scales_with_b(scale):
    ref = sketch.lstsq(A0, B0, method="sketch", random_state=0)
    res = sketch.lstsq(A0, B0 * scale, method="sketch", random_state=0)
    np.testing.assert_allclose(res.x / scale, ref.x, rtol=1e-12)
    np.testing.assert_allclose(res.residual_norm / scale, ref.residual_norm, rtol=1e-12)


def test_lstsq_columns_of_very_different_scales():
    scales = np.array([1e300, 1.0, 1e-300])
    res = sketch.lstsq(A0, B0[:, None] * scales, random_state=0)
    np.testing.assert_allclose(res.x / scales, np.tile(X_REF[:, None], 3), rtol=TOL,
                               atol=TOL * np.abs(X_REF).max())
    np.testing.assert_allclose(res.residual_norm / scales, RNORM_REF, rtol=TOL)


def test_lstsq_caller_b_is_not_written_when_rescaled():
    b = readonly(B0 * 1e300)
    sketch.lstsq(A0, b, random_state=0)
    np.testing.assert_array_equal(b, B0 * 1e300)


@pytest.mark.parametrize("fmt", ["dense", "csr", "operator"])
def test_lstsq_solution_beyond_float64_is_an_error(fmt):
    # x = x_ref * 1e310 is not a float64: say so instead of returning infinity.
    A = A0 * 1e-310 if fmt != "csr" else sp.csr_matrix(A0 * 1e-310)
    if fmt == "operator":
        A = aslinearoperator(A0 * 1e-310)
    with pytest.raises(ValueError, match="solution overflows float64"):
        sketch.lstsq(A, B0, random_state=0)
    with pytest.raises(ValueError, match="solution overflows float64"):
        sketch.lstsq(A, B0, method="sketch", random_state=0)


def test_lstsq_residual_norm_beyond_float64_is_an_error():
    b = B0 / np.abs(B0).max() * 1.5e308  # ||b - A x|| is about 3e309
    with pytest.raises(ValueError, match="residual norm"):
        sketch.lstsq(A0, b, random_state=0)


@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_lstsq_matrix_across_the_range(scale):
    for fmt, M in _formats(A0 * scale).items():
        res = sketch.lstsq(M, B0, random_state=0)
        np.testing.assert_allclose(res.x * scale, X_REF, rtol=TOL,
                                   atol=TOL * np.abs(X_REF).max(), err_msg=fmt)
        np.testing.assert_allclose(res.residual_norm, RNORM_REF, rtol=TOL, err_msg=fmt)


# ------------------------------------------------------------------ lstsq over the range of alpha
def _ridge_reference(alpha):
    # Closed form through the SVD of A0: x = V diag(s / (s^2 + alpha)) U^T b, which
    # stays exact at any alpha (the normal equations A^T A + alpha I lose A^T A in
    # rounding once alpha >> ||A||^2, but their solution is then A^T b / alpha anyway).
    U, s, Vt = np.linalg.svd(A0, full_matrices=False)
    return Vt.T @ (s / (s * s + alpha) * (U.T @ B0))


@pytest.mark.parametrize("method, solver", [("precondition", "cg"), ("precondition", "lsqr"),
                                            ("ihs", "cg")])
@pytest.mark.parametrize("alpha", [1e-3, 1e3, 1e20, 1e40, 1e100, 1e300])
def test_lstsq_ridge_across_the_range_of_alpha(method, solver, alpha):
    # A dominant ridge used to give x = 0 from IHS, "converged" at 0 iterations.
    res = sketch.lstsq(A0, B0, alpha=alpha, method=method, solver=solver, random_state=0)
    ref = _ridge_reference(alpha)
    assert res.converged
    np.testing.assert_allclose(res.x, ref, rtol=TOL, atol=TOL * np.abs(ref).max())


def test_lstsq_sketch_and_solve_with_a_dominant_ridge_is_not_zero():
    # Once alpha >> ||S A||^2 the sketched ridge solution is (S A)^T S b / alpha to
    # first order: x * alpha is the same for every such alpha, and not 0.
    xs = [sketch.lstsq(A0, B0, alpha=a, method="sketch", random_state=0).x * a
          for a in (1e30, 1e40, 1e100, 1e300)]
    assert np.abs(xs[0]).max() > 0
    for x in xs[1:]:
        np.testing.assert_allclose(x, xs[0], rtol=1e-12)
