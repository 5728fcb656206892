"""Hostile input for lstsq's options ``preconditioner`` and ``nystrom_rank`` (issue 18).

Required, as for every entry point: a ValueError/TypeError naming the argument,
or the reference answer; never a crash, a NaN, a silently wrong number or a write
into the caller's arrays. Helpers from ``tests/hostile.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from randopt.sketch import lstsq
from tests.hostile import readonly, snapshot, unchanged


@pytest.fixture
def ridge(rng):
    A = rng.standard_normal((600, 30)) * 0.8 ** np.arange(30)
    b = rng.standard_normal(600)
    return A, b


def reference(A, b, alpha):
    d = A.shape[1]
    aug = np.vstack([A, np.sqrt(alpha) * np.eye(d)])
    return np.linalg.lstsq(aug, np.r_[b, np.zeros(d)], rcond=None)[0]


@pytest.mark.parametrize(
    "rank, exc, match",
    [
        (0, ValueError, "nystrom_rank"),
        (-3, ValueError, "nystrom_rank"),
        (31, ValueError, "nystrom_rank"),  # above d = 30
        (2.5, TypeError, "nystrom_rank"),
        (True, TypeError, "nystrom_rank"),
        (None, TypeError, "nystrom_rank"),
        ("big", ValueError, "nystrom_rank"),
        (np.array([4]), TypeError, "nystrom_rank"),
        (np.nan, TypeError, "nystrom_rank"),
    ],
)
def test_bad_rank_is_refused_by_name(ridge, rank, exc, match):
    A, b = ridge
    with pytest.raises(exc, match=match):
        lstsq(A, b, alpha=1e-2, preconditioner="nystrom", nystrom_rank=rank)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"preconditioner": "nystrom", "alpha": -1e-3}, ValueError, "alpha"),
        ({"preconditioner": "nystrom", "alpha": np.nan}, ValueError, "alpha"),
        ({"preconditioner": "nystrom", "alpha": np.inf}, ValueError, "alpha"),
        ({"preconditioner": "nystrom"}, ValueError, "alpha > 0"),  # alpha = 0
        ({"preconditioner": "nystrom", "alpha": 1.0, "method": "ihs"}, ValueError, "method"),
        ({"preconditioner": "nystrom", "alpha": 1.0, "method": "sketch"}, ValueError, "method"),
        ({"preconditioner": "cholesky"}, ValueError, "preconditioner"),
        ({"preconditioner": None}, ValueError, "preconditioner"),
        ({"preconditioner": 3}, ValueError, "preconditioner"),
    ],
)
def test_bad_options_are_refused_by_name(ridge, kwargs, exc, match):
    A, b = ridge
    with pytest.raises(exc, match=match):
        lstsq(A, b, **kwargs)


@pytest.mark.parametrize("where", ["A", "b"])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_data_is_refused(ridge, where, value):
    A, b = (x.copy() for x in ridge)
    (A if where == "A" else b)[5, ...] = value
    with pytest.raises(ValueError, match="NaN|inf"):
        lstsq(A, b, alpha=1e-2, preconditioner="nystrom")


def test_read_only_inputs_are_solved_and_no_input_is_written(ridge):
    A, b = ridge
    B = np.column_stack([b, -2 * b])
    x_ref = reference(A, b, 1e-2)
    for A_in, B_in in [(readonly(A), readonly(b)), (readonly(A), readonly(B)),
                       (sp.csr_matrix(A), b.copy()), (np.asfortranarray(A), B.copy())]:
        before_A, before_B = snapshot(A_in), snapshot(B_in)
        res = lstsq(A_in, B_in, alpha=1e-2, preconditioner="nystrom", random_state=0)
        assert unchanged(before_A, A_in) and unchanged(before_B, B_in)
        x = res.x if res.x.ndim == 1 else res.x[:, 0]
        assert res.converged and np.isfinite(res.x).all()
        assert np.linalg.norm(x - x_ref) <= 1e-10 * np.linalg.norm(x_ref)


def test_zero_right_hand_side_gives_zero(ridge):
    A, _ = ridge
    res = lstsq(A, np.zeros(600), alpha=1e-2, preconditioner="nystrom", random_state=0)
    assert res.converged and np.all(res.x == 0) and res.residual_norm == 0


def test_huge_ridge_and_tiny_ridge(ridge):
    A, b = ridge
    eps = np.finfo(float).eps
    # alpha = 1e12 >> ||A||^2: H = A^T A + alpha I has cond(H) ~ 1, and the normal
    # equations are the accurate reference (the augmented system's SVD perturbs A by
    # eps sqrt(alpha) = 2e-10, which moves x by about that much).
    H = A.T @ A + 1e12 * np.eye(30)
    x_big = np.linalg.solve(H, A.T @ b)
    # alpha = 1e-12: cond(H) ~ 1e17; the augmented system (cond ~ 4e8) is the reference.
    x_small = reference(A, b, 1e-12)
    cond_small = np.linalg.cond(np.vstack([A, 1e-6 * np.eye(30)]))
    for alpha, x_ref, cond in [(1e12, x_big, np.linalg.cond(H)), (1e-12, x_small, cond_small)]:
        res = lstsq(A, b, alpha=alpha, preconditioner="nystrom", random_state=0)
        assert res.converged and np.isfinite(res.x).all()
        err = np.linalg.norm(res.x - x_ref) / np.linalg.norm(x_ref)
        assert err <= 100 * eps * cond + 1e-13, (alpha, err)


def test_rank_option_is_ignored_by_the_qr_preconditioner(ridge):
    A, b = ridge
    plain = lstsq(A, b, alpha=1e-2, preconditioner="qr", random_state=0)
    ranked = lstsq(A, b, alpha=1e-2, preconditioner="qr", nystrom_rank=4, random_state=0)
    np.testing.assert_array_equal(plain.x, ranked.x)


def test_same_seed_same_answer(ridge):
    A, b = ridge
    r1 = lstsq(A, b, alpha=1e-2, preconditioner="nystrom", random_state=7)
    r2 = lstsq(A, b, alpha=1e-2, preconditioner="nystrom", random_state=7)
    np.testing.assert_array_equal(r1.x, r2.x)
