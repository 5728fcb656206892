"""randopt.lstsq's preconditioners: the Nystrom option (issue 18) and the sketch's factorisation.

References are independent of randopt: ``numpy.linalg.lstsq`` of the augmented
system ``[A; sqrt(alpha) I] x = [b; 0]`` (whose condition number is that of the
ridge problem, ``sqrt(cond(A^T A + alpha I))``), with tolerances derived from it.
"""

import sys

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import aslinearoperator

from randopt.sketch import lstsq, numerical_rank
from randopt.sketch._precondition import Preconditioner

lstsq_module = sys.modules["randopt.sketch.lstsq"]
EPS = np.finfo(float).eps


def ridge_problem(rng, n=3000, d=200, decay=0.95, noise=0.1):
    A = rng.standard_normal((n, d)) * decay ** np.arange(d)
    b = A @ rng.standard_normal(d) + noise * rng.standard_normal(n)
    return A, b


def augmented_reference(A, B, alpha):
    """``x`` of the ridge problem by NumPy's lstsq of the augmented system, and its cond."""
    A = A.toarray() if sp.issparse(A) else np.asarray(A, dtype=float)
    d = A.shape[1]
    aug = np.vstack([A, np.sqrt(alpha) * np.eye(d)])
    rhs = np.concatenate([B, np.zeros((d,) + B.shape[1:])])
    return np.linalg.lstsq(aug, rhs, rcond=None)[0], np.linalg.cond(aug)


def assert_close_to_reference(x, x_ref, cond, factor=100):
    # Both solvers are backward stable on a problem of condition number ``cond``:
    # forward errors of order u cond each; factor covers d and the iteration's tol.
    err = np.linalg.norm(x - x_ref, axis=0) / np.linalg.norm(x_ref, axis=0)
    assert np.all(err <= factor * EPS * cond + 1e-13), (err, cond)


@pytest.mark.parametrize("alpha", [1e-4, 1e-1, 10.0])
def test_nystrom_matches_numpy_on_the_augmented_system(alpha, rng):
    A, b = ridge_problem(rng)
    x_ref, cond = augmented_reference(A, b, alpha)
    res = lstsq(A, b, alpha=alpha, preconditioner="nystrom", random_state=0)
    assert res.converged and res.preconditioner == "nystrom" and res.sketch == "nystrom"
    assert_close_to_reference(res.x, x_ref, cond)
    # The residual of the augmented system is its minimum: ours may exceed it by rounding only.
    r = np.linalg.norm(A @ res.x - b)
    r_ref = np.linalg.norm(A @ x_ref - b)
    assert abs(res.residual_norm - r) <= 1e-12 * r
    aug = np.hypot(r, np.sqrt(alpha) * np.linalg.norm(res.x))
    aug_ref = np.hypot(r_ref, np.sqrt(alpha) * np.linalg.norm(x_ref))
    assert aug <= aug_ref * (1 + 1e-12)


def test_nystrom_auto_rank_stops_below_the_damping(rng):
    # Spectrum of A^T A ~ n 0.9^(2j): below alpha = 1e-2 from j ~ 70 on, far below d.
    A, b = ridge_problem(rng, n=3000, d=300, decay=0.9)
    alpha = 1e-2
    res = lstsq(A, b, alpha=alpha, preconditioner="nystrom", random_state=0)
    eig = np.linalg.eigvalsh(A.T @ A)[::-1]
    needed = int(np.count_nonzero(eig > alpha))
    # Doubling from 16: the rank is the first power-of-two multiple of 16 past the
    # point where the approximation's smallest eigenvalue drops below alpha.
    assert needed <= res.sketch_size <= 4 * max(needed, 16) and res.sketch_size < 300
    # P H P then has condition number kappa <= 2 + ||E|| / alpha, about 2 to 4: CG's bound
    # 2 ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))^k <= tol = 1e-14 at kappa = 4 gives k <= 30,
    # whatever cond(A^T A + alpha I) (here about 1e6).
    assert res.converged and res.nit <= 30
    x_ref, cond = augmented_reference(A, b, alpha)
    assert_close_to_reference(res.x, x_ref, cond)


def test_nystrom_fixed_rank_and_full_rank(rng):
    A, b = ridge_problem(rng, n=1500, d=60, decay=0.99)
    alpha = 1e-3
    x_ref, cond = augmented_reference(A, b, alpha)
    low = lstsq(A, b, alpha=alpha, preconditioner="nystrom", nystrom_rank=5, random_state=0)
    full = lstsq(A, b, alpha=alpha, preconditioner="nystrom", nystrom_rank=60, random_state=0)
    assert low.sketch_size == 5 and full.sketch_size == 60
    # Full rank: the approximation is exact, P H P = I up to rounding, CG is done at once.
    assert full.nit <= 3 < low.nit
    for res in (low, full):
        assert res.converged
        assert_close_to_reference(res.x, x_ref, cond)


def test_nystrom_on_sparse_operator_and_several_right_hand_sides(rng):
    A = sp.random(4000, 80, density=0.05, random_state=1, format="csr")
    A = A @ sp.diags(0.95 ** np.arange(80))
    B = rng.standard_normal((4000, 3))
    alpha = 1e-3
    X_ref, cond = augmented_reference(A, B, alpha)
    for operand in (A, aslinearoperator(A)):
        res = lstsq(operand, B, alpha=alpha, preconditioner="nystrom", random_state=0)
        assert res.converged and res.x.shape == (80, 3) and res.residual_norm.shape == (3,)
        assert_close_to_reference(res.x, X_ref, cond)


@pytest.mark.parametrize("solver", ["lsqr", "lsmr"])
def test_nystrom_with_lsqr_and_lsmr(solver, rng):
    A, b = ridge_problem(rng, n=2000, d=100)
    alpha = 1e-2
    x_ref, cond = augmented_reference(A, b, alpha)
    res = lstsq(A, b, alpha=alpha, preconditioner="nystrom", solver=solver, random_state=0)
    assert res.converged and res.preconditioner == "nystrom"
    # LSQR/LSMR stop at atol = btol = tol on the preconditioned operator: a looser test.
    assert_close_to_reference(res.x, x_ref, cond, factor=1e4)


def test_auto_picks_nystrom_only_where_its_largest_rank_is_cheaper_than_the_qr(rng):
    A, b = ridge_problem(rng, n=3000, d=200)
    # Tall and narrow: the sketch's QR (m = 2400 rows) is cheaper than 200 products.
    assert lstsq(A, b, alpha=1e-2, random_state=0).preconditioner == "qr"
    # Without a ridge: always QR (Nystrom needs alpha > 0).
    wide = rng.standard_normal((1000, 800)) * 0.99 ** np.arange(800)
    y = rng.standard_normal(1000)
    assert lstsq(wide, y, random_state=0).preconditioner == "qr"
    # Many features for the rows: the QR of A itself, 3 n d^2 = 1.9e9 flops, costs more
    # than the products of the largest rank, 4 nnz(A) 512 = 1.6e9.
    res = lstsq(wide, y, alpha=1.0, random_state=0)
    assert res.preconditioner == "nystrom" and res.converged
    x_ref, cond = augmented_reference(wide, y, 1.0)
    assert_close_to_reference(res.x, x_ref, cond)
    # The other methods keep the sketch.
    for method in ("sketch", "ihs"):
        assert lstsq(wide, y, alpha=1.0, method=method, random_state=0).preconditioner == "qr"


def test_auto_choice_uses_the_flop_rule():
    from randopt.operands import as_operand

    choose = lstsq_module._choose_preconditioner
    dense = as_operand(np.ones((10_000, 1000)))
    # QR of the n x d matrix: 3e10 flops; 512 products: 2e10.
    assert choose("auto", "precondition", 1.0, dense, 10_000) == "nystrom"
    assert choose("auto", "precondition", 0.0, dense, 10_000) == "qr"
    tall = as_operand(np.ones((200_000, 100)))
    assert choose("auto", "precondition", 1.0, tall, 4800) == "qr"
    assert choose("qr", "precondition", 1.0, dense, 10_000) == "qr"


# --------------------------------------------------------------- the sketch's factorisation
def conditioned(n, d, cond, rng):
    U = np.linalg.qr(rng.standard_normal((n, d)))[0]
    V = np.linalg.qr(rng.standard_normal((d, d)))[0]
    return (U * np.geomspace(1.0, 1.0 / cond, d)) @ V.T


@pytest.mark.parametrize("alpha", [0.0, 1e-3])
def test_cholesky_qr2_agrees_with_householder(alpha, rng):
    SA = conditioned(2000, 50, 1e4, rng)
    Sb = rng.standard_normal(2000)
    fast = Preconditioner(SA, alpha, (10**5, 50), Sb)
    assert fast.factorization == "cholesky_qr2"
    slow = Preconditioner.__new__(Preconditioner)
    slow._SA, slow._alpha, slow._s = SA, alpha, None
    y_slow = slow._householder(SA, alpha, (10**5, 50), Sb[:, None])[0][:, 0]
    # R is unique up to the signs of its rows: compare R^T R and the solutions x = P y.
    RtR = slow.R.T @ slow.R
    np.testing.assert_allclose(fast.R.T @ fast.R, RtR, rtol=0, atol=1e-13 * np.abs(RtR).max())
    x_fast, x_slow = fast.apply(fast.y0), slow.apply(y_slow)
    # Sketch-and-solve solution of a problem of condition 1e4: agreement to u cond.
    assert np.linalg.norm(x_fast - x_slow) <= 1e4 * 100 * EPS * np.linalg.norm(x_slow)
    # The preconditioned sketch M P is orthonormal, as far as forming it in floating point
    # (u cond(M) per entry) shows: to within ten times Householder's own M R^{-1}.
    def loss_of_orthogonality(pre):
        Q = SA @ pre.apply(np.eye(50))
        if alpha:
            Q = np.vstack([Q, np.sqrt(alpha) * pre.apply(np.eye(50))])
        return np.abs(Q.T @ Q - np.eye(50)).max()

    assert loss_of_orthogonality(fast) <= 10 * loss_of_orthogonality(slow) + 1e-14
    np.testing.assert_allclose(fast.singular_values, slow.singular_values, rtol=1e-12)


@pytest.mark.parametrize("cond", [1e8, 1e12])
def test_ill_conditioned_and_rank_deficient_sketches_take_householder(cond, rng):
    SA = conditioned(2000, 50, cond, rng)
    assert Preconditioner(SA, 0.0, (10**5, 50)).factorization == "householder"
    deficient = SA.copy()
    deficient[:, 7] = deficient[:, 3]
    pre = Preconditioner(deficient, 0.0, (10**5, 50))
    expected = numerical_rank(np.linalg.svd(deficient, compute_uv=False), (10**5, 50))
    assert pre.factorization == "householder" and pre.rank == expected <= 49


def test_gram_that_would_overflow_takes_householder(rng):
    SA = rng.standard_normal((500, 10)) * 1e200
    pre = Preconditioner(SA, 0.0, (10**4, 10))
    assert pre.factorization == "householder" and pre.full_rank
