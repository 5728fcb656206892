"""Hostile input for the randomized Nystrom approximation and preconditioner.

Every bad argument is refused at entry with a ValueError / TypeError naming it;
the caller's arrays are never written to; an operator that is not positive
semi-definite (after the shift) is named as such, not a LinAlgError.
"""

import numpy as np
import pytest

from randopt.linalg import NystromPreconditioner, nystrom_approximation
from tests.hostile import readonly, snapshot, unchanged

RNG = np.random.default_rng(0)
G = RNG.standard_normal((20, 5))
H = G @ G.T + 0.1 * np.eye(20)


@pytest.mark.parametrize("operator, err, match", [
    (np.ones((3, 4)), ValueError, "square"),
    (np.ones(3), ValueError, "square"),
    (np.ones((0, 0)), ValueError, "square"),
    (H.astype(complex), TypeError, "real"),
    (H.astype(object), TypeError, "real"),
    ("H", TypeError, "operator must be"),
    (None, TypeError, "operator must be"),
])
def test_bad_operator(operator, err, match):
    with pytest.raises(err, match=match):
        NystromPreconditioner.from_operator(operator, shift=0.1, rank=3)
    with pytest.raises(err, match=match):
        nystrom_approximation(operator, 3)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_operator(bad):
    M = H.copy()
    M[2, 3] = M[3, 2] = bad
    with pytest.raises(ValueError, match="NaN or infinity"):
        NystromPreconditioner.from_operator(M, shift=0.1, rank=3, random_state=0)


def test_indefinite_operator_is_named():
    M = H - 5.0 * np.eye(20)
    with pytest.raises(ValueError, match="not positive semi-definite"):
        NystromPreconditioner.from_operator(M, rank=10, random_state=0)
    # a shift larger than the smallest eigenvalue leaves A = H - mu I indefinite
    with pytest.raises(ValueError, match="not positive semi-definite"):
        NystromPreconditioner.from_operator(H, shift=50.0, rank=19, random_state=0)


@pytest.mark.parametrize("kwargs, err, match", [
    (dict(rank=0), ValueError, "rank"),
    (dict(rank=21), ValueError, "rank"),
    (dict(rank=2.5), TypeError, "rank"),
    (dict(rank=True), TypeError, "rank"),
    (dict(rank="big"), TypeError, "rank"),
    (dict(shift=-1.0), ValueError, "shift"),
    (dict(shift=np.nan), ValueError, "shift"),
    (dict(shift=np.inf), ValueError, "shift"),
    (dict(shift="1"), TypeError, "shift"),
    (dict(shift=True), TypeError, "shift"),
    (dict(rank="auto", shift=0.0), ValueError, "shift > 0"),
    (dict(shift=0.1, rank_tol=0.0), ValueError, "rank_tol"),
    (dict(shift=0.1, rank_tol=np.nan), ValueError, "rank_tol"),
    (dict(shift=0.1, initial_rank=0), ValueError, "initial_rank"),
    (dict(shift=0.1, max_rank=0), ValueError, "max_rank"),
    (dict(shift=0.1, criterion="trace"), ValueError, "criterion"),
    (dict(shift=0.1, dim=7), ValueError, "dim"),
])
def test_bad_options(kwargs, err, match):
    with pytest.raises(err, match=match):
        NystromPreconditioner.from_operator(H, **kwargs)


def test_callable_operator():
    with pytest.raises(ValueError, match="dim"):
        NystromPreconditioner.from_operator(lambda v: H @ v, shift=0.1, rank=3)
    with pytest.raises(ValueError, match="dim"):
        NystromPreconditioner.from_operator(lambda v: H @ v, dim=0, shift=0.1, rank=3)
    with pytest.raises(ValueError, match="shape"):
        NystromPreconditioner.from_operator(lambda v: np.ones(3), dim=20, shift=0.1, rank=3)
    with pytest.raises(ValueError, match="NaN or infinity"):
        NystromPreconditioner.from_operator(lambda v: np.full(20, np.nan), dim=20, shift=0.1,
                                            rank=3)


def test_caller_data_untouched():
    M = readonly(H)
    before = snapshot(M)
    P = NystromPreconditioner.from_operator(M, shift=0.1, rank=4, random_state=0)
    assert unchanged(before, M)
    r = readonly(np.arange(20.0))
    out = P(r)
    assert np.array_equal(r, np.arange(20.0)) and out is not r


@pytest.mark.parametrize("U, lam, shift, err, match", [
    (np.eye(3)[:, :2], [1.0], 0.0, ValueError, "eigenvalues"),
    (np.eye(3)[:, :2], [1.0, -1.0], 0.1, ValueError, ">= 0"),
    (np.eye(3)[:, :1], [np.nan], 0.1, ValueError, "finite"),
    (np.ones(3), [1.0], 0.1, TypeError, "2-D"),
    (np.eye(3)[:, :1].astype(complex), [1.0], 0.1, TypeError, "real"),
    (np.eye(3)[:, :1], [1.0], -0.5, ValueError, "shift"),
])
def test_bad_constructor(U, lam, shift, err, match):
    with pytest.raises(err, match=match):
        NystromPreconditioner(U, lam, shift)
