"""Randomized Nystrom approximation and preconditioner against dense references.

References: Frangella, Tropp and Udell, "Randomized Nystrom preconditioning",
SIAM J. Matrix Anal. Appl. 44 (2023): Algorithm 2.1 (the approximation),
Proposition 5.3 (deterministic condition-number bound), Theorem 5.1
(``E[kappa] < 28`` at ``r = 2 ceil(1.5 d_eff) + 1``).
"""

import math

import numpy as np
import pytest
import scipy.sparse
from scipy.sparse.linalg import aslinearoperator

from randopt.linalg import NystromPreconditioner, conjugate_gradient, nystrom_approximation

EPS = np.finfo(np.float64).eps


def psd(d, eigenvalues, seed=0):
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    return (Q * eigenvalues) @ Q.T


def preconditioned_eigenvalues(P, H):
    """Eigenvalues of P^{-1/2} H P^{-1/2} (dense: the symmetric square root of P^{-1})."""
    w, V = np.linalg.eigh(P.toarray())
    assert w.min() > 0  # P^{-1} is positive definite
    S = (V * np.sqrt(w)) @ V.T
    return np.linalg.eigvalsh(S @ H @ S)


def test_exact_when_rank_covers_the_matrix_rank():
    d, k, mu = 80, 6, 1e-3
    G = np.random.default_rng(3).standard_normal((d, k))
    A = G @ G.T
    U, lam = nystrom_approximation(A, 10, random_state=0)
    # reconstruction exact up to rounding: the shift nu ~ sqrt(d) eps ||Y|| and the
    # solve with the Cholesky factor of the rank-deficient core, O(d eps ||A||)
    scale = np.linalg.norm(A, 2)
    assert np.linalg.norm(U * lam @ U.T - A, 2) <= 100 * d * EPS * scale
    assert np.allclose(U.T @ U, np.eye(10), atol=1e-12)
    H = A + mu * np.eye(d)
    P = NystromPreconditioner.from_operator(H, shift=mu, rank=10, random_state=0)
    ev = preconditioned_eigenvalues(P, H)
    # P^{-1} H = (lam_r + mu) I with lam_r ~ 0: condition number 1 up to rounding of
    # ||A|| / mu = O(1e5) amplified errors
    assert ev.max() / ev.min() - 1 <= 1e-6
    b = np.random.default_rng(4).standard_normal(d)
    res = conjugate_gradient(lambda v: H @ v, b, rtol=1e-10, precondition=P)
    assert res.nit <= 2
    assert np.allclose(res.x, np.linalg.solve(H, b), rtol=1e-8)


@pytest.mark.parametrize("rank", [5, 20, 40])
def test_proposition_5_3_bound_holds(rank):
    d, mu = 120, 1e-4
    A = psd(d, 0.8 ** np.arange(d), seed=rank)
    H = A + mu * np.eye(d)
    P = NystromPreconditioner.from_operator(H, shift=mu, rank=rank, random_state=rank)
    error = np.linalg.norm(A - (P.U * P.eigenvalues) @ P.U.T, 2)
    ev = preconditioned_eigenvalues(P, H)
    tol = 1e-9 * ev.max()
    # spectrum in [mu, lam_r + mu + ||E||] (the proof of Proposition 5.3)
    assert ev.min() >= mu - tol
    assert ev.max() <= P.eigenvalues[-1] + mu + error + tol
    assert ev.max() / ev.min() <= P.condition_bound(error) * (1 + 1e-8)


def test_theorem_5_1_mean_condition_below_28():
    d, mu = 300, 1e-6
    lam = 0.7 ** np.arange(d)  # fast spectral decay
    A = psd(d, lam, seed=1)
    H = A + mu * np.eye(d)
    d_eff = float(np.sum(lam / (lam + mu)))
    rank = 2 * math.ceil(1.5 * d_eff) + 1
    kappas = []
    for seed in range(8):
        P = NystromPreconditioner.from_operator(H, shift=mu, rank=rank, random_state=seed)
        ev = preconditioned_eigenvalues(P, H)
        kappas.append(ev.max() / ev.min())
    assert np.mean(kappas) < 28
    assert np.linalg.cond(H) > 1e5  # the unpreconditioned problem is hard


def test_cg_iterations_reduced_on_ill_conditioned_matrix():
    d, mu = 400, 1e-7
    A = psd(d, 1.0 / np.arange(1, d + 1) ** 2, seed=2)  # polynomial decay
    H = A + mu * np.eye(d)
    b = np.random.default_rng(0).standard_normal(d)
    plain = conjugate_gradient(lambda v: H @ v, b, rtol=1e-8, max_iter=5000)
    P = NystromPreconditioner.from_operator(H, shift=mu, random_state=0)
    pcg = conjugate_gradient(lambda v: H @ v, b, rtol=1e-8, max_iter=5000, precondition=P)
    assert pcg.status == "converged"
    assert pcg.nit * 4 <= plain.nit
    x = np.linalg.solve(H, b)
    # relative error <= cond(H) * relative residual
    assert np.linalg.norm(pcg.x - x) <= 1e-8 * np.linalg.cond(H) * np.linalg.norm(x)


def test_auto_rank_doubles_until_criterion():
    d, mu = 300, 1e-5
    lam = 0.7 ** np.arange(d)
    H = psd(d, lam, seed=5) + mu * np.eye(d)
    P = NystromPreconditioner.from_operator(H, shift=mu, initial_rank=4, rank_tol=10.0,
                                            random_state=0)
    assert P.rank in (4, 8, 16, 32, 64, 128, 256)
    assert P.n_products == P.rank  # the sketch grew: no column drawn twice
    assert P.eigenvalues[-1] <= 10.0 * mu
    smaller = NystromPreconditioner.from_operator(H, shift=mu, rank=P.rank // 2,
                                                  random_state=0)
    assert smaller.eigenvalues[-1] > 10.0 * mu  # the rank before it did not suffice
    capped = NystromPreconditioner.from_operator(H, shift=mu, initial_rank=4, max_rank=8,
                                                 random_state=0)
    assert capped.rank == 8


def test_error_criterion_estimates_the_error_norm():
    d, mu = 200, 1e-4
    A = psd(d, 0.6 ** np.arange(d), seed=7)
    H = A + mu * np.eye(d)
    P = NystromPreconditioner.from_operator(H, shift=mu, criterion="error", rank_tol=1.0,
                                            random_state=0)
    true_error = np.linalg.norm(A - (P.U * P.eigenvalues) @ P.U.T, 2)
    # the power method's Rayleigh quotient approaches ||E|| from below
    assert P.error_estimate <= true_error * (1 + 1e-8) + 1e-15
    assert P.error_estimate <= mu
    assert P.n_products > P.rank  # the estimate's products are counted


def test_operator_forms_agree_and_are_reproducible():
    d = 60
    H = psd(d, np.logspace(0, -6, d), seed=8) + 1e-6 * np.eye(d)
    forms = [H, scipy.sparse.csr_matrix(H), aslinearoperator(H)]
    ref = NystromPreconditioner.from_operator(H, shift=1e-6, rank=12, random_state=3)
    for op in forms[1:]:
        P = NystromPreconditioner.from_operator(op, shift=1e-6, rank=12, random_state=3)
        assert np.allclose(P.toarray(), ref.toarray(), atol=1e-10)
    P = NystromPreconditioner.from_operator(lambda v: H @ v, dim=d, shift=1e-6, rank=12,
                                            random_state=3)
    assert np.allclose(P.toarray(), ref.toarray(), atol=1e-10)
    again = NystromPreconditioner.from_operator(H, shift=1e-6, rank=12, random_state=3)
    assert np.array_equal(again.toarray(), ref.toarray())


def test_zero_shift_preconditions_a_positive_definite_matrix():
    d = 150
    H = psd(d, 0.5 ** np.arange(d) + 1e-3, seed=9)  # cond ~ 1e3, fast decay to a floor
    P = NystromPreconditioner.from_operator(H, rank=30, random_state=0)
    ev = preconditioned_eigenvalues(P, H)
    assert np.linalg.cond(H) > 500
    assert ev.max() / ev.min() < np.linalg.cond(H) / 100
    assert P.condition_bound(0.0) == math.inf


def test_block_application_matches_columns():
    P = NystromPreconditioner.from_operator(psd(30, np.logspace(0, -3, 30)), shift=1e-3,
                                            rank=5, random_state=0)
    R = np.random.default_rng(0).standard_normal((30, 4))
    assert np.allclose(P(R), np.column_stack([P(R[:, j]) for j in range(4)]))


def test_rank_zero_is_the_identity():
    P = NystromPreconditioner(np.zeros((4, 0)), np.zeros(0), shift=1.0)
    r = np.arange(4.0)
    assert P.rank == 0 and np.array_equal(P(r), r)
