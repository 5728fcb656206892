"""randopt.lstsq against numpy.linalg.lstsq and closed forms."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.linalg import aslinearoperator

import randopt
from randopt.sketch import lstsq

EPS = np.finfo(float).eps


def conditioned(n, d, cond, rng):
    U = np.linalg.qr(rng.standard_normal((n, d)))[0]
    V = np.linalg.qr(rng.standard_normal((d, d)))[0]
    return (U * np.logspace(0, -np.log10(cond), d)) @ V.T


def problem(rng, n=6000, d=40, cond=1.0, noise=0.1):
    A = conditioned(n, d, cond, rng) if cond > 1 else rng.standard_normal((n, d))
    b = A @ rng.standard_normal(d) + noise * rng.standard_normal(n)
    return A, b


def reference(A, b):
    x = np.linalg.lstsq(A.toarray() if sp.issparse(A) else A, b, rcond=None)[0]
    return x, np.linalg.norm(A @ x - b, axis=0)


SKETCHES = ["auto", "gaussian", "srht", "countsketch", "sparse_sign", "leverage"]


@pytest.mark.parametrize("sketch", SKETCHES)
def test_well_conditioned_matches_numpy(sketch, rng):
    A, b = problem(rng)
    x_ref, r_ref = reference(A, b)
    res = lstsq(A, b, sketch=sketch, random_state=0)
    assert res.converged and res.nit < 40
    # cond(A) ~ 1.2: both solutions are accurate to a few ulps times d.
    np.testing.assert_allclose(res.x, x_ref, rtol=0, atol=1e-12 * np.abs(x_ref).max())
    assert res.residual_norm == pytest.approx(r_ref, rel=1e-13)
    assert res.sketch == ("sparse_sign" if sketch == "auto" else sketch)


@pytest.mark.parametrize("solver", ["cg", "lsqr", "lsmr"])
def test_ill_conditioned_to_the_accuracy_conditioning_allows(solver, rng):
    cond = 1e10
    A, b = problem(rng, cond=cond)
    x_ref, r_ref = reference(A, b)
    res = lstsq(A, b, solver=solver, random_state=0)
    assert res.converged
    # The least-squares residual is well conditioned: both must agree closely,
    # and ours may only be smaller (it is the minimum).
    assert res.residual_norm <= r_ref * (1 + 1e-10)
    # Perturbation bound for x (Golub-Van Loan 5.3.8): eps (kappa + kappa^2 ||r|| / (||A|| ||x||)),
    # with a constant 10 for both solvers' rounding.
    bound = 10 * EPS * (cond + cond**2 * r_ref / np.linalg.norm(x_ref))
    assert np.linalg.norm(res.x - x_ref) / np.linalg.norm(x_ref) <= min(bound, 1e-2)


def test_ill_conditioned_consistent_system_recovers_x(rng):
    cond = 1e10
    A = conditioned(6000, 40, cond, rng)
    x_true = rng.standard_normal(40)
    res = lstsq(A, A @ x_true, random_state=1)
    # Zero residual: the forward error is at most about cond * eps.
    assert np.linalg.norm(res.x - x_true) / np.linalg.norm(x_true) < 100 * cond * EPS


def test_rank_deficient_gives_minimum_norm_solution(rng):
    B = rng.standard_normal((5000, 8))
    A = B @ rng.standard_normal((8, 30))
    b = rng.standard_normal(5000)
    x_ref, r_ref = reference(A, b)
    res = lstsq(A, b, random_state=0)
    assert res.rank == 8
    assert res.residual_norm == pytest.approx(r_ref, rel=1e-12)
    np.testing.assert_allclose(res.x, x_ref, rtol=0, atol=1e-9 * np.abs(x_ref).max())


def test_coherent_rows(rng):
    A, b = problem(rng, n=8000, d=30)
    A[:10] *= 1e6  # ten rows with leverage ~1, dominating the fit
    b[:10] *= 1e6
    x_ref, r_ref = reference(A, b)
    for sketch in ["auto", "srht", "gaussian"]:
        res = lstsq(A, b, sketch=sketch, random_state=0)
        assert res.converged
        assert res.residual_norm == pytest.approx(r_ref, rel=1e-9)
        np.testing.assert_allclose(res.x, x_ref, rtol=0, atol=1e-8 * np.abs(x_ref).max())


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse(fmt, rng):
    A = sp.random(20000, 50, density=0.05, format=fmt, random_state=3) + sp.eye(20000, 50)
    b = rng.standard_normal(20000)
    x_ref, r_ref = reference(A, b)
    res = lstsq(A, b, random_state=0)
    assert res.converged
    np.testing.assert_allclose(res.x, x_ref, rtol=0, atol=1e-11 * np.abs(x_ref).max())


@pytest.mark.parametrize("method", ["precondition", "ihs"])
def test_ridge_matches_closed_form(method, rng):
    A, b = problem(rng, n=3000, d=25, cond=1e6)
    alpha = 1e-3
    x_ref = np.linalg.solve(A.T @ A + alpha * np.eye(25), A.T @ b)
    res = lstsq(A, b, alpha=alpha, method=method, random_state=0)
    assert res.converged
    np.testing.assert_allclose(res.x, x_ref, rtol=0, atol=1e-8 * np.abs(x_ref).max())


def test_matrix_right_hand_sides(rng):
    A, _ = problem(rng, n=4000, d=20)
    B = rng.standard_normal((4000, 3))
    X_ref, r_ref = reference(A, B)
    res = lstsq(A, B, random_state=0)
    assert res.x.shape == (20, 3) and res.residual_norm.shape == (3,)
    np.testing.assert_allclose(res.x, X_ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.residual_norm, r_ref, rtol=1e-12)
    for solver in ["lsqr", "lsmr"]:
        np.testing.assert_allclose(lstsq(A, B, solver=solver, random_state=0).x, X_ref, atol=1e-10)


def test_layouts_dtypes_and_operators(rng):
    A, b = problem(rng, n=3000, d=15)
    x_ref, _ = reference(A, b)
    for operand in (np.asfortranarray(A), aslinearoperator(A)):
        np.testing.assert_allclose(lstsq(operand, b, random_state=0).x, x_ref, atol=1e-12)
    x32 = lstsq(A.astype(np.float32), b, random_state=0).x
    x_ref32, _ = reference(A.astype(np.float32).astype(np.float64), b)
    np.testing.assert_allclose(x32, x_ref32, atol=1e-10)


def test_sketch_and_solve_residual_within_documented_bound(rng):
    A, b = problem(rng, n=20000, d=40, noise=1.0)
    _, r_ref = reference(A, b)
    # Documented: residual within sqrt(1 + d/(m-d-1)) of optimal in expectation,
    # 4.5% at m = 12 d; allow twice the excess for one draw.
    bound = 1 + 2 * (np.sqrt(1 + 40 / (12 * 40 - 41)) - 1)
    for sketch in ["gaussian", "srht", "countsketch", "sparse_sign"]:
        res = lstsq(A, b, method="sketch", sketch=sketch, random_state=5)
        assert r_ref <= res.residual_norm <= bound * r_ref, sketch


def test_small_problem_is_factored_directly(rng):
    A, b = problem(rng, n=50, d=10)
    res = lstsq(A, b, random_state=0)
    assert res.sketch == "none"
    np.testing.assert_allclose(res.x, reference(A, b)[0], atol=1e-12)


def test_reproducible_with_seed(rng):
    A, b = problem(rng, n=3000, d=10)
    r1 = lstsq(A, b, method="sketch", random_state=42)
    r2 = lstsq(A, b, method="sketch", random_state=42)
    np.testing.assert_array_equal(r1.x, r2.x)


def test_top_level_export():
    assert randopt.lstsq is lstsq


@pytest.mark.parametrize(
    "A, b, kwargs, exc, match",
    [
        (np.full((10, 2), np.nan), np.ones(10), {}, ValueError, "NaN"),
        (np.ones((10, 2)), np.r_[np.ones(9), np.inf], {}, ValueError, "b contains NaN"),
        (np.ones((10, 2)), np.ones(9), {}, ValueError, "rows"),
        (np.ones((100, 20)), np.ones(100), {"sketch_size": 10}, ValueError, "sketch_size"),
        (np.ones((0, 2)), np.ones(0), {}, ValueError, "empty"),
        (np.ones((10, 2), dtype=complex), np.ones(10), {}, TypeError, "complex"),
        (np.ones((10, 2)), np.ones(10), {"method": "qr"}, ValueError, "method"),
        (np.ones((10, 2)), np.ones(10), {"sketch": "fft"}, ValueError, "sketch"),
        (np.ones((10, 2)), np.ones(10), {"alpha": -1.0}, ValueError, "alpha"),
        (np.ones((10, 2)), np.ones(10), {"tol": 0.0}, ValueError, "tol"),
        (np.ones((10, 2)), np.ones(10), {"solver": "gmres"}, ValueError, "solver"),
        (np.ones(10), np.ones(10), {}, ValueError, "2-D"),
    ],
)
def test_bad_input(A, b, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        lstsq(A, b, **kwargs)


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 400),
    d=st.integers(1, 8),
    dtype=st.sampled_from([np.float32, np.float64]),
    fortran=st.booleans(),
    method=st.sampled_from(["precondition", "ihs"]),
)
def test_property_matches_numpy_on_random_full_rank_problems(n, d, dtype, fortran, method):
    if n < d:
        return
    rng = np.random.default_rng(n * 13 + d)
    A = rng.standard_normal((n, d)).astype(dtype)
    if fortran:
        A = np.asfortranarray(A)
    b = rng.standard_normal(n)
    A64 = A.astype(np.float64)
    x_ref, r_ref = reference(A64, b)
    cond = np.linalg.cond(A64)
    if not np.isfinite(cond) or cond > 1e8:
        return
    res = lstsq(A, b, method=method, random_state=0)
    assert res.converged
    assert res.residual_norm <= r_ref * (1 + 1e-9) + 1e-12
    assert np.linalg.norm(res.x - x_ref) <= 1e-9 * cond * max(1.0, np.linalg.norm(x_ref))


class _DriftingOperand:
    """A dense operand whose residual pass, after the first, is off by a fixed vector.

    This is CG's failure mode made deterministic: the recursion converges, the
    true residual (computed afresh) disagrees, CG restarts, and the restart
    then runs out of iterations.
    """

    def __new__(cls, A, drift):
        from randopt.operands import DenseOperand

        class Drifting(DenseOperand):
            calls = 0

            def residual_normal(self, x, b):
                g, r = super().residual_normal(x, b)
                type(self).calls += 1
                return (g if type(self).calls == 1 else g + drift), r

        return Drifting(np.ascontiguousarray(A))


def test_cg_stopped_at_max_iter_after_a_restart_is_not_converged(rng):
    A, b = problem(rng, n=4000, d=20)
    clean = lstsq(A, b, random_state=0)
    assert clean.converged and clean.nit > 2
    drift = 1e-3 * np.linalg.norm(A.T @ b) * np.ones(20)
    # Enough iterations for the first CG run, one too few to finish after the restart.
    res = lstsq(_DriftingOperand(A, drift), b, random_state=0, max_iter=clean.nit + 1)
    assert res.nit == clean.nit + 1
    assert not res.converged
    assert "stopped at max_iter" in res.message


def test_max_iter_zero_returns_the_sketch_and_solve_start_unconverged(rng):
    A, b = problem(rng, n=4000, d=20)
    res = lstsq(A, b, max_iter=0, random_state=0)
    assert res.nit == 0 and not res.converged
    ref = lstsq(A, b, method="sketch", random_state=0)
    np.testing.assert_allclose(res.x, ref.x, rtol=1e-12)


def test_auto_sketch_rule():
    from randopt.sketch import auto_sketch

    assert auto_sketch((100_000, 50)) == ("sparse_sign", 2400, {"nnz_per_col": 4})
    assert auto_sketch((20_000, 50)) == ("sparse_sign", 1000, {"nnz_per_col": 4})
    assert auto_sketch((1000, 100)) == ("sparse_sign", 1000, {"nnz_per_col": 4})
    with pytest.raises(TypeError):
        auto_sketch((100, 10), True)


def test_operand_input_is_used_as_is(rng):
    from randopt.operands import as_operand

    A, b = problem(rng, n=3000, d=10)
    x_ref, _ = reference(A, b)
    for sketch in ("auto", "leverage", "srht"):
        res = lstsq(as_operand(sp.csr_matrix(A)), b, sketch=sketch, random_state=0)
        np.testing.assert_allclose(res.x, x_ref, rtol=0, atol=1e-12 * np.abs(x_ref).max())
    with pytest.raises(TypeError, match="leverage"):
        lstsq(aslinearoperator(A), b, sketch="leverage")


def test_malformed_sparse_matrix_is_refused(rng):
    A = sp.csr_matrix(rng.standard_normal((100, 5)))
    A.indices = A.indices.copy()
    A.indices[7] = -3
    with pytest.raises(ValueError, match="indices must lie in"):
        lstsq(A, np.ones(100))


def test_maxiter_is_renamed():
    with pytest.raises(TypeError, match="maxiter"):
        lstsq(np.eye(3), np.ones(3), maxiter=3)


def test_result_nit_and_its_deprecated_alias():
    # issue 17: every solver result says ``nit``; ``iterations`` stays one release.
    A = np.random.default_rng(1).standard_normal((500, 4))
    res = lstsq(A, A @ np.ones(4), random_state=0)
    assert isinstance(res.nit, int) and res.nit >= 0
    with pytest.warns(DeprecationWarning, match="LstsqResult.nit"):
        assert res.iterations == res.nit
