"""Hostile input for inexact Newton-CG: forcing terms, preconditioners, SciPy methods.

Each bad option is refused at the solver's entry with an error naming it; a
user's preconditioner that returns garbage is named, not propagated as NaN.
"""

import numpy as np
import pytest

from randopt.linalg import NystromPreconditioner
from randopt.optimize import (
    EisenstatWalker,
    NystromSchedule,
    SqrtForcing,
    arc,
    gauss_newton,
    trust_region,
)
from randopt.optimize.subproblems import CGSteihaug
from randopt.oracles import LogisticObjective
from tests.hostile import readonly, snapshot, unchanged

RNG = np.random.default_rng(0)
X = RNG.standard_normal((200, 6))
Y = X[:, 0] > 0
OBJ = LogisticObjective(X, Y, alpha=1e-3)
X0 = np.zeros(6)


@pytest.mark.parametrize("value, err, match", [
    ("fast", ValueError, "subproblem_tol must be 'auto', a float in \\(0, 1\\), one of"),
    ("EW", ValueError, "subproblem_tol"),
    (0.0, ValueError, "subproblem_tol"),
    (1.0, ValueError, "subproblem_tol"),
    (-1e-3, ValueError, "subproblem_tol"),
    (np.nan, ValueError, "subproblem_tol"),
    (True, TypeError, "subproblem_tol"),
    (None, TypeError, "subproblem_tol"),
    ([1e-3], TypeError, "subproblem_tol"),
    (EisenstatWalker, TypeError, "subproblem_tol"),
])
@pytest.mark.parametrize("solver", [trust_region, arc])
def test_bad_subproblem_tol(solver, value, err, match):
    with pytest.raises(err, match=match):
        solver(OBJ, X0, subproblem_tol=value)


@pytest.mark.parametrize("value, err", [("fast", ValueError), (1.5, ValueError),
                                        (None, TypeError), (False, TypeError)])
def test_bad_cg_tol(value, err):
    with pytest.raises(err, match="cg_tol"):
        gauss_newton(OBJ, X0, cg_tol=value)


@pytest.mark.parametrize("cls, kwargs, match", [
    (EisenstatWalker, dict(gamma=0.0), "gamma"),
    (EisenstatWalker, dict(gamma=1.5), "gamma"),
    (EisenstatWalker, dict(alpha=1.0), "alpha"),
    (EisenstatWalker, dict(alpha=3.0), "alpha"),
    (EisenstatWalker, dict(eta0=1.0), "eta0"),
    (EisenstatWalker, dict(eta_max=np.nan), "eta_max"),
    (SqrtForcing, dict(eta_max=0.0), "eta_max"),
    (SqrtForcing, dict(eta_max="half"), "eta_max"),
    (NystromSchedule, dict(rank=0), "rank"),
    (NystromSchedule, dict(rank="big"), "rank"),
    (NystromSchedule, dict(shift=-1.0), "shift"),
    (NystromSchedule, dict(rank_tol=0.0), "rank_tol"),
    (NystromSchedule, dict(initial_rank=0), "initial_rank"),
    (NystromSchedule, dict(max_rank=0), "max_rank"),
    (NystromSchedule, dict(rebuild_factor=1.0), "rebuild_factor"),
    (NystromSchedule, dict(lazy="yes"), "lazy"),
    (NystromSchedule, dict(criterion="trace"), "criterion"),
])
def test_bad_options_of_the_new_classes(cls, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        cls(**kwargs)


@pytest.mark.parametrize("value, err, match", [
    ("jacobi", ValueError, "preconditioner must be None, 'nystrom'"),
    (3, TypeError, "preconditioner"),
    (NystromSchedule, TypeError, "preconditioner"),
    (NystromPreconditioner(np.eye(5)[:, :1], [1.0], 0.1), ValueError, "dimension 5"),
])
@pytest.mark.parametrize("solver", [trust_region, gauss_newton])
def test_bad_preconditioner(solver, value, err, match):
    with pytest.raises(err, match=match):
        solver(OBJ, X0, preconditioner=value)


@pytest.mark.parametrize("subproblem", ["lanczos", "exact", "cauchy"])
def test_preconditioner_needs_a_cg_subproblem(subproblem):
    with pytest.raises(ValueError, match="subproblem='cg'"):
        trust_region(OBJ, X0, subproblem=subproblem, preconditioner="nystrom")


@pytest.mark.parametrize("bad", [lambda r: r[:-1], lambda r: np.full_like(r, np.nan),
                                 lambda r: "r"])
@pytest.mark.parametrize("solver", [trust_region, gauss_newton])
def test_user_preconditioner_output_is_checked(solver, bad):
    with pytest.raises(ValueError, match="preconditioner\\(r\\) must return a finite vector"):
        solver(OBJ, X0, preconditioner=bad, hessian_sampling="full")


def test_user_preconditioner_cannot_write_into_the_residual():
    def scribble(r):
        r[:] = 0.0  # would corrupt CG's residual if it were handed CG's own array
        return np.ones_like(r)

    res = trust_region(OBJ, X0, preconditioner=scribble, hessian_sampling="full", max_iter=3)
    assert np.isfinite(res.x).all()


@pytest.mark.parametrize("value", ["nystrom", 3, NystromSchedule])
def test_cg_steihaug_instance_refuses_a_non_callable(value):
    with pytest.raises(TypeError, match="preconditioner"):
        CGSteihaug(preconditioner=value)


def test_cg_steihaug_refuses_a_preconditioner_of_another_dimension():
    from randopt.oracles import HessianModel

    sub = CGSteihaug(preconditioner=NystromPreconditioner(np.eye(3)[:, :1], [1.0], 0.1))
    sub.set_model(np.ones(2), HessianModel(2, 1, matrix=np.eye(2)))
    with pytest.raises(ValueError, match="dimension 3"):
        sub.solve(radius=1.0)


def test_caller_data_untouched_by_a_preconditioned_run():
    Xr, x0 = readonly(X), readonly(np.full(6, 0.1))
    before = snapshot(Xr)
    obj = LogisticObjective(Xr, Y, alpha=1e-3)
    trust_region(obj, x0, preconditioner=NystromSchedule(lazy=False), subproblem_tol="ew",
                 hessian_sampling="full", random_state=0)
    assert unchanged(before, Xr) and np.array_equal(x0, np.full(6, 0.1))
