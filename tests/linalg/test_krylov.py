"""randopt.linalg: the one Lanczos process and the one power iteration, against dense
references (numpy.linalg.eigh) with tolerances from the spectrum's gaps."""

from __future__ import annotations

import math

import numpy as np
import pytest

from randopt.linalg import (
    Lanczos,
    LanczosResult,
    lanczos,
    log_beta_quantile,
    polynomial_upper_bound,
    power_iteration,
    ritz_values,
)


def symmetric(n: int, seed: int, spectrum=None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    lam = np.linspace(-1.0, 3.0, n) if spectrum is None else np.asarray(spectrum, float)
    return (Q * lam) @ Q.T


def test_full_run_reproduces_the_spectrum_and_keeps_the_basis_orthonormal():
    B = symmetric(40, 0)
    run = lanczos(B.dot, np.random.default_rng(1).standard_normal(40), 40)
    assert isinstance(run, LanczosResult) and run.n_matvec == run.alpha.size
    Q = run.basis
    assert np.abs(Q @ Q.T - np.eye(Q.shape[0])).max() < 1e-12
    T = np.diag(run.alpha) + np.diag(run.beta[:-1], 1) + np.diag(run.beta[:-1], -1)
    assert np.abs(Q @ B @ Q.T - T).max() < 1e-12 * 3
    np.testing.assert_allclose(run.ritz(), np.linalg.eigvalsh(B), atol=1e-12 * 3)
    assert run["nmatvec"] == run.n_matvec  # the dict-style read of the old helper


def test_breakdown_ends_the_run_or_restarts_orthogonally():
    B = symmetric(30, 2, spectrum=[5.0] * 3 + [1.0] * 27)  # two distinct eigenvalues
    start = np.random.default_rng(3).standard_normal(30)
    run = lanczos(B.dot, start, 30)
    assert run.breakdown and run.n_matvec == 2 and run.log_gamma == -math.inf
    np.testing.assert_allclose(run.ritz(), [1.0, 5.0], rtol=1e-12)
    proc = Lanczos(B.dot, 30, start=start, restart=True, random_state=0)
    while proc.k < 8 and proc.extend():
        pass
    assert proc.n_restarts >= 2
    Q = proc.basis[: proc.k]
    assert np.abs(Q @ Q.T - np.eye(proc.k)).max() < 1e-12


def test_when_needed_reorthogonalization_and_relative_breakdown_tolerance():
    B = symmetric(25, 4)
    g = np.random.default_rng(5).standard_normal(25)
    proc = Lanczos(B.dot, 25, start=g, restart=True, breakdown_tol=math.sqrt(2**-52),
                   reorthogonalization="when_needed", random_state=0)
    while proc.extend():
        pass
    assert proc.k == 25
    np.testing.assert_allclose(proc.ritz(), np.linalg.eigvalsh(B), atol=1e-10)
    with pytest.raises(ValueError, match="reorthogonalization"):
        Lanczos(B.dot, 25, reorthogonalization="never")


def test_a_zero_start_is_replaced_by_a_random_one():
    run = lanczos(np.diag([1.0, 2.0]).dot, np.zeros(2), 2, random_state=0)
    np.testing.assert_allclose(run.ritz(), [1.0, 2.0], rtol=1e-12)


def test_ritz_values_of_a_tridiagonal():
    vals, vecs = ritz_values(np.array([2.0, 2.0]), np.array([1.0, 0.5]), vectors=True)
    np.testing.assert_allclose(vals, [1.0, 3.0])
    assert vecs.shape == (2, 2)


def test_power_iteration_converges_and_bounds_the_top_eigenvalue():
    B = symmetric(50, 6, spectrum=np.r_[np.linspace(0, 1, 49), 2.0])
    res = power_iteration(B.dot, dim=50, tol=1e-14, max_iter=200, failure_probability=1e-6,
                          random_state=0)
    assert res.converged and abs(res.eigenvalue - 2.0) < 1e-12
    assert 2.0 <= res.upper <= 2.0 * (1 + 1e-2)
    assert abs(abs(res.vector @ np.linalg.eigh(B)[1][:, -1]) - 1) < 1e-6
    zero = power_iteration(np.zeros((3, 3)).dot, np.ones(3), failure_probability=0.1)
    assert zero.eigenvalue == 0.0 and zero.upper == 0.0 and zero.n_matvec == 1


def test_power_iteration_warm_start_is_the_next_iterate():
    B = np.diag([3.0, 1.0])
    res = power_iteration(B.dot, np.array([1.0, 1.0]), tol=None, max_iter=1)
    np.testing.assert_allclose(res.next_vector, [3.0, 1.0] / np.sqrt(10))
    np.testing.assert_allclose(res.vector, [1.0, 1.0] / np.sqrt(2))
    assert res.eigenvalue == pytest.approx(2.0) and not res.converged


def test_probabilistic_bound_fails_rarely():
    # Stated failure probability 0.1 for one Lanczos step: observed rate at most ~0.1.
    n, fails = 200, 0
    B = np.diag(np.r_[np.zeros(n - 1), 1.0])
    log_s = log_beta_quantile(n, 0.1)
    rng = np.random.default_rng(0)
    for _ in range(400):
        run = lanczos(B.dot, rng.standard_normal(n), 1)
        up = polynomial_upper_bound(run.ritz(), None, run.log_gamma, log_s)
        fails += up < 1.0
    assert fails <= 60  # 400 * 0.1 = 40 expected at most; binomial tail


@pytest.mark.parametrize("call, name", [
    (lambda: lanczos(np.eye(3).dot, np.ones(4), 3, dim=3), "start"),
    (lambda: lanczos(np.eye(3).dot, np.array([1.0, np.nan, 0.0]), 3), "start"),
    (lambda: lanczos(np.eye(3).dot, np.ones(3), 2.5), "max_iter"),
    (lambda: lanczos(np.eye(3).dot, None, 3), "dim"),
    (lambda: Lanczos("not callable", 3), "matvec"),
    (lambda: Lanczos(np.eye(3).dot, 3, breakdown_tol=-1.0), "breakdown_tol"),
    (lambda: Lanczos(np.eye(3).dot, 3, breakdown_tol=math.nan), "breakdown_tol"),
    (lambda: Lanczos(np.eye(3).dot, 3, breakdown_tol="tiny"), "breakdown_tol"),
    (lambda: Lanczos(np.eye(3).dot, 3, restart="yes"), "restart"),
    (lambda: lanczos(np.eye(3).dot, np.ones(3), 3, project=np.eye(3)), "project"),
    (lambda: power_iteration(np.eye(3).dot, np.zeros(3)), "start"),
    (lambda: power_iteration(np.eye(3).dot, np.ones(3), max_iter=0), "max_iter"),
    (lambda: power_iteration(np.eye(3).dot, np.ones(3), failure_probability=1.5),
     "failure_probability"),
    (lambda: power_iteration(np.eye(3).dot, None), "dim"),
])
def test_entry_checks_name_the_argument(call, name):
    with pytest.raises((ValueError, TypeError), match=name):
        call()
