"""Sub-problem solvers against independent exact solutions of small problems."""

import numpy as np
import pytest
from scipy.optimize import brentq, minimize, minimize_scalar

from randopt.optimize.subproblems import (
    CauchyPoint,
    CGSteihaug,
    ExactSubproblem,
    LanczosSubproblem,
)
from randopt.oracles import HessianModel


def _model(H, g, s, sigma=0.0):
    return g @ s + 0.5 * s @ H @ s + sigma / 3 * np.linalg.norm(s) ** 3


def _tr_reference(H, g, radius):
    """Moré-Sorensen characterisation solved with brentq on the eigenbasis."""
    lam, V = np.linalg.eigh(H)
    gt = V.T @ g
    if lam[0] > 0 and np.linalg.norm(gt / lam) <= radius:
        return -V @ (gt / lam)
    lo = max(0.0, -lam[0])
    mu = brentq(lambda m: np.linalg.norm(gt / (lam + m)) - radius, lo + 1e-13, lo + 1e8,
                xtol=1e-15, rtol=1e-15)
    return -V @ (gt / (lam + mu))


def _problem(rng, d, definite=False):
    A = rng.standard_normal((d, d))
    H = (A + A.T) / 2
    if definite:
        H = A @ A.T + 0.1 * np.eye(d)
    return H, rng.standard_normal(d)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("radius", [0.3, 3.0, 100.0])
def test_trust_region_exact_and_lanczos_are_global(seed, radius):
    rng = np.random.default_rng(seed)
    H, g = _problem(rng, 10, definite=seed == 0)
    ref = _tr_reference(H, g, radius)
    m_ref = _model(H, g, ref)
    for cls in (ExactSubproblem, LanczosSubproblem):
        step = cls().set_model(g, HessianModel(10, 1, matrix=H), random_state=rng).solve(
            radius=radius)
        assert np.linalg.norm(step.s) <= radius * (1 + 1e-12)
        assert _model(H, g, step.s) == pytest.approx(m_ref, rel=1e-10, abs=1e-12)
        np.testing.assert_allclose(step.s, ref, rtol=1e-7, atol=1e-9)
        assert step.decrease == pytest.approx(-_model(H, g, step.s), rel=1e-10, abs=1e-13)


@pytest.mark.parametrize("seed", range(4))
def test_cg_steihaug_newton_step_and_cauchy_decrease(seed):
    rng = np.random.default_rng(seed)
    # positive definite, large radius: CG returns the Newton step
    H, g = _problem(rng, 8, definite=True)
    step = CGSteihaug().set_model(g, HessianModel(8, 1, matrix=H), tol=1e-12).solve(radius=1e6)
    np.testing.assert_allclose(step.s, np.linalg.solve(H, -g), rtol=1e-8)
    assert not step.hits_boundary
    # indefinite: on the boundary, at least the Cauchy decrease, never better than exact
    H, g = _problem(rng, 8)
    for radius in (0.1, 1.0, 10.0):
        hm = HessianModel(8, 1, matrix=H)
        cg = CGSteihaug().set_model(g, hm).solve(radius=radius)
        cp = CauchyPoint().set_model(g, hm).solve(radius=radius)
        ex = ExactSubproblem().set_model(g, hm).solve(radius=radius)
        assert np.linalg.norm(cg.s) == pytest.approx(radius, rel=1e-10)
        assert _model(H, g, cg.s) <= _model(H, g, cp.s) + 1e-12
        assert _model(H, g, ex.s) <= _model(H, g, cg.s) + 1e-12
        assert cg.decrease == pytest.approx(-_model(H, g, cg.s), rel=1e-10)


@pytest.mark.parametrize("seed", range(3))
def test_cauchy_point_is_the_model_minimiser_along_minus_g(seed):
    rng = np.random.default_rng(seed)
    H, g = _problem(rng, 6)
    hm = HessianModel(6, 1, matrix=H)
    u = -g / np.linalg.norm(g)
    for radius in (0.05, 2.0):
        ref = minimize_scalar(lambda t: _model(H, g, t * u), bounds=(0, radius),
                              method="bounded", options={"xatol": 1e-12})
        grid = min(_model(H, g, t * u) for t in np.linspace(0, radius, 2001))
        cp = CauchyPoint().set_model(g, hm).solve(radius=radius)
        # on the ray -g inside the region, so never below the true minimum;
        # at least as low as two independent searches
        assert np.linalg.norm(cp.s) <= radius * (1 + 1e-12)
        assert abs(cp.s @ u) == pytest.approx(np.linalg.norm(cp.s), rel=1e-12)
        assert _model(H, g, cp.s) <= min(ref.fun, grid) + 1e-12
    for sigma in (0.1, 10.0):
        ref = minimize_scalar(lambda t, sigma=sigma: _model(H, g, t * u, sigma), bounds=(0, 100),
                              method="bounded", options={"xatol": 1e-12})
        grid = min(_model(H, g, t * u, sigma) for t in np.linspace(0, 100, 20001))
        cp = CauchyPoint().set_model(g, hm).solve(sigma=sigma)
        assert cp.s @ u > 0
        assert abs(cp.s @ u) == pytest.approx(np.linalg.norm(cp.s), rel=1e-12)
        assert _model(H, g, cp.s, sigma) <= min(ref.fun, grid) + 1e-12


def test_hard_case_trust_region():
    """g orthogonal to the leftmost eigenvector: the solution needs tau * u_min."""
    rng = np.random.default_rng(0)
    d = 7
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    lam = np.array([-2.0, 1.0, 1.5, 3.0, 4.0, 5.0, 8.0])
    H = Q @ np.diag(lam) @ Q.T
    gt = np.concatenate([[0.0], rng.standard_normal(d - 1)])
    g = Q @ gt
    radius = 5.0
    # closed form: mu = 2, s = s_perp + tau u_1
    s_perp = -(gt[1:] / (lam[1:] + 2.0))
    tau = np.sqrt(radius**2 - s_perp @ s_perp)
    m_ref = _model(H, g, Q @ np.concatenate([[tau], s_perp]))
    for cls in (ExactSubproblem, LanczosSubproblem):
        step = cls().set_model(g, HessianModel(d, 1, matrix=H), random_state=rng).solve(
            radius=radius)
        assert np.linalg.norm(step.s) == pytest.approx(radius, rel=1e-10)
        assert _model(H, g, step.s) == pytest.approx(m_ref, rel=1e-9)
        # the step has the full leftmost-eigenvector component (either sign)
        assert abs(Q[:, 0] @ step.s) == pytest.approx(tau, rel=1e-7)
    # CG cannot leave the Krylov space of g: strictly worse here, but a descent
    cg = CGSteihaug().set_model(g, HessianModel(d, 1, matrix=H)).solve(radius=radius)
    assert _model(H, g, cg.s) > m_ref + 1e-3


def _cubic_reference(H, g, sigma, rng):
    f = lambda s: _model(H, g, s, sigma)  # noqa: E731
    jac = lambda s: g + H @ s + sigma * np.linalg.norm(s) * s  # noqa: E731
    runs = [minimize(f, rng.standard_normal(len(g)) * 3, jac=jac, method="BFGS",
                     options={"gtol": 1e-12, "maxiter": 10000}) for _ in range(8)]
    return min(runs, key=lambda r: r.fun)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("sigma", [1e-2, 1.0, 30.0])
def test_cubic_exact_and_lanczos_are_global(seed, sigma):
    rng = np.random.default_rng(seed)
    H, g = _problem(rng, 6)
    ref = _cubic_reference(H, g, sigma, rng)
    for cls in (ExactSubproblem, LanczosSubproblem):
        hm = HessianModel(6, 1, matrix=H)
        step = cls().set_model(g, hm, random_state=rng).solve(sigma=sigma)
        val = _model(H, g, step.s, sigma)
        assert val <= ref.fun + 1e-9 * max(1, abs(ref.fun))
        assert val == pytest.approx(ref.fun, rel=1e-8, abs=1e-10)
        # global optimality (Cartis-Gould-Toint Thm 3.1): (H + mu I) s = -g,
        # mu = sigma ||s||, H + mu I positive semi-definite
        mu = sigma * np.linalg.norm(step.s)
        np.testing.assert_allclose((H + mu * np.eye(6)) @ step.s, -g, atol=1e-8)
        assert np.linalg.eigvalsh(H)[0] + mu >= -1e-8
        assert step.decrease == pytest.approx(-val, rel=1e-9)


def test_hard_case_cubic():
    lam = np.array([-3.0, 1.0, 2.0, 4.0])
    H = np.diag(lam)
    g = np.array([0.0, 0.5, -1.0, 0.3])
    sigma = 2.0
    # mu = 3, ||s|| = 3/2, s = s_perp + tau e_1
    s_perp = -g[1:] / (lam[1:] + 3.0)
    tau = np.sqrt(1.5**2 - s_perp @ s_perp)
    s_ref = np.concatenate([[tau], s_perp])
    for cls in (ExactSubproblem, LanczosSubproblem):
        hm = HessianModel(4, 1, matrix=H)
        step = cls().set_model(g, hm, random_state=1).solve(sigma=sigma)
        assert _model(H, g, step.s, sigma) == pytest.approx(_model(H, g, s_ref, sigma), rel=1e-9)
        assert abs(step.s[0]) == pytest.approx(tau, rel=1e-7)


def test_lanczos_reuses_its_basis_after_a_rejection():
    rng = np.random.default_rng(5)
    H, g = _problem(rng, 30)
    hm = HessianModel(30, 1, matrix=H)
    sub = LanczosSubproblem().set_model(g, hm, random_state=rng)
    first = sub.solve(radius=4.0)
    after_first = hm.n_products
    second = sub.solve(radius=2.0)
    # the second radius extends the first basis: its products are only the new
    # ones, and a fresh solver at radius 2 needs at least as many in total
    assert first.n_products == after_first > 0
    assert hm.n_products == after_first + second.n_products
    fresh_model = HessianModel(30, 1, matrix=H)
    fresh = LanczosSubproblem().set_model(g, fresh_model, random_state=0).solve(radius=2.0)
    assert second.n_products < fresh.n_products
    ref = _tr_reference(H, g, 2.0)
    assert _model(H, g, second.s) == pytest.approx(_model(H, g, ref), rel=1e-8)
    # set_model starts over: a new model gets a new basis
    sub.set_model(-g, HessianModel(30, 1, matrix=H), random_state=rng)
    again = sub.solve(radius=2.0)
    np.testing.assert_allclose(again.s, -second.s, atol=1e-10)
    assert again.n_products > 0


def test_zero_gradient_gives_zero_or_eigen_step():
    H = np.diag([-1.0, 2.0])
    g = np.zeros(2)
    assert not CGSteihaug().set_model(g, HessianModel(2, 1, matrix=H)).solve(radius=1.0).s.any()
    step = ExactSubproblem().set_model(g, HessianModel(2, 1, matrix=H)).solve(radius=1.0)
    assert abs(step.s[0]) == pytest.approx(1.0) and step.decrease == pytest.approx(0.5)


def test_solve_takes_exactly_one_model_parameter():
    hm = HessianModel(2, 1, matrix=np.eye(2))
    sub = LanczosSubproblem().set_model(np.ones(2), hm)
    with pytest.raises(TypeError, match="exactly one of radius="):
        sub.solve()
    with pytest.raises(TypeError, match="exactly one of radius="):
        sub.solve(radius=1.0, sigma=1.0)
    with pytest.raises(ValueError, match="CGSteihaug cannot solve cubic"):
        CGSteihaug().set_model(np.ones(2), hm).solve(sigma=1.0)
    with pytest.raises(RuntimeError, match="set_model"):
        ExactSubproblem().solve(radius=1.0)
    with pytest.raises(ValueError, match="tol must lie in"):
        CGSteihaug().set_model(np.ones(2), hm, tol=0.0)
    with pytest.raises(TypeError, match="max_iter must be an integer"):
        CGSteihaug().set_model(np.ones(2), hm, max_iter=2.0)


def test_cg_respects_max_iter():
    rng = np.random.default_rng(3)
    H, g = _problem(rng, 20, definite=True)
    step = CGSteihaug().set_model(g, HessianModel(20, 1, matrix=H), max_iter=3).solve(
        radius=1e6)
    assert step.n_products == step.n_iter == 3
    # three CG steps minimise the model over the Krylov space K_3(H, g)
    K = np.column_stack([g, H @ g, H @ H @ g])
    Q, _ = np.linalg.qr(K)
    y = np.linalg.solve(Q.T @ H @ Q, -Q.T @ g)
    np.testing.assert_allclose(step.s, Q @ y, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("seed", range(3))
def test_two_dimensional_trust_region_by_brute_force(seed):
    """A polar grid over the disc: nothing on it beats the exact and Lanczos steps."""
    rng = np.random.default_rng(seed)
    H, g = _problem(rng, 2)
    radius = 1.5
    r = np.linspace(0, radius, 601)[:, None]
    t = np.linspace(0, 2 * np.pi, 3601)[None, :]
    S = np.stack([r * np.cos(t), r * np.sin(t)], axis=-1).reshape(-1, 2)
    values = S @ g + 0.5 * np.einsum("ij,jk,ik->i", S, H, S)
    # the grid's spacing h bounds how far its best point can be from the
    # optimum: the model changes by at most (||g|| + ||H|| radius) h
    h = max(radius / 600, radius * 2 * np.pi / 3600)
    slack = (np.linalg.norm(g) + np.linalg.norm(H, 2) * radius) * h
    for cls in (ExactSubproblem, LanczosSubproblem):
        step = cls().set_model(g, HessianModel(2, 1, matrix=H), random_state=0).solve(
            radius=radius)
        m = _model(H, g, step.s)
        assert np.linalg.norm(step.s) <= radius * (1 + 1e-12)
        assert m <= values.min() + 1e-12
        assert m >= values.min() - slack
