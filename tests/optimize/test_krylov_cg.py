"""The one conjugate-gradient routine (randopt.linalg.conjugate_gradient) against dense solves.

It serves CG-Steihaug (trust-region boundary and negative-curvature exits) and
the Gauss-Newton CG; the references are ``numpy.linalg.solve``, the closed form
of the boundary step and the quadratic model evaluated directly.
"""

from __future__ import annotations

import numpy as np
import pytest

from randopt.linalg import conjugate_gradient
from randopt.linalg.cg import boundary_root


def _spd(d, cond, seed):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return (Q * np.geomspace(1.0, cond, d)) @ Q.T, rng.standard_normal(d)


@pytest.mark.parametrize("cond", [1.0, 1e2, 1e5])
def test_solves_spd_systems_to_the_requested_residual(cond):
    A, b = _spd(30, cond, 0)
    res = conjugate_gradient(A.dot, b, rtol=1e-10, max_iter=2000)
    assert res.status == "converged"
    assert np.linalg.norm(A @ res.x - b) <= 1e-10 * np.linalg.norm(b) * 10  # recursion drift
    x_ref = np.linalg.solve(A, b)
    assert np.linalg.norm(res.x - x_ref) <= 1e-10 * cond * np.linalg.norm(x_ref) * 10
    # the model decrease from the recurrences equals q(0) - q(x)
    q = -b @ res.x + 0.5 * res.x @ A @ res.x
    assert res.decrease == pytest.approx(-q, rel=1e-9)
    assert res.nhev == res.nit


def test_preconditioner_and_warm_start():
    A, b = _spd(40, 1e6, 1)
    jacobi = 1.0 / np.diag(A)
    plain = conjugate_gradient(A.dot, b, rtol=1e-8, max_iter=5000)
    pre = conjugate_gradient(A.dot, b, rtol=1e-8, max_iter=5000, precondition=lambda r: jacobi * r)
    x_ref = np.linalg.solve(A, b)
    for res in (plain, pre):
        assert np.linalg.norm(A @ res.x - b) <= 1e-7 * np.linalg.norm(b)
    warm = conjugate_gradient(A.dot, b, x0=x_ref, rtol=1e-8)
    assert warm.nit <= 1 and warm.nhev == warm.nit + 1
    assert np.allclose(warm.x, x_ref, rtol=1e-6)
    zero = conjugate_gradient(A.dot, np.zeros(40))
    assert zero.nit == 0 and not zero.x.any() and zero.status == "converged"


def test_steihaug_exits_against_the_closed_form():
    # negative curvature at the first direction: the boundary point along b
    H = np.diag([-2.0, 1.0])
    b = np.array([3.0, 0.0])
    res = conjugate_gradient(H.dot, b, radius=0.5)
    assert res.status == "negative_curvature"
    np.testing.assert_allclose(res.x, [0.5, 0.0])
    assert res.decrease == pytest.approx(-(-b @ res.x + 0.5 * res.x @ H @ res.x))
    # positive definite, Newton step outside the ball: cut at the boundary
    A, b = _spd(10, 10.0, 2)
    x_newton = np.linalg.solve(A, b)
    radius = 0.5 * np.linalg.norm(x_newton)
    res = conjugate_gradient(A.dot, b, radius=radius, rtol=1e-12)
    assert res.status == "boundary"
    assert np.linalg.norm(res.x) == pytest.approx(radius, rel=1e-12)
    assert res.decrease == pytest.approx(-(-b @ res.x + 0.5 * res.x @ A @ res.x), rel=1e-10)
    # inside: the Newton step
    res = conjugate_gradient(A.dot, b, radius=2 * np.linalg.norm(x_newton), rtol=1e-12)
    assert res.status == "converged"
    np.testing.assert_allclose(res.x, x_newton, rtol=1e-9)


def test_semidefinite_stop_keeps_the_krylov_minimiser():
    G = np.diag([1.0, 0.0])
    res = conjugate_gradient(G.dot, np.array([1.0, 1.0]), rtol=1e-12)
    # the second direction has no curvature: stop, keep the iterate
    assert res.status in ("negative_curvature", "max_iter", "converged")
    assert np.isfinite(res.x).all()


def test_boundary_root():
    z, p = np.array([0.3, 0.0]), np.array([1.0, 1.0])
    tau = boundary_root(z, p, 1.0)
    assert np.linalg.norm(z + tau * p) == pytest.approx(1.0, rel=1e-14) and tau >= 0


def test_callback_sees_every_residual():
    A, b = _spd(20, 1e3, 3)
    seen = []
    res = conjugate_gradient(A.dot, b, rtol=1e-10, max_iter=500,
                             callback=lambda x, rnorm: seen.append(rnorm))
    assert len(seen) == res.nit + 1 and seen[0] == pytest.approx(np.linalg.norm(b))
    assert seen[-1] == pytest.approx(res.residual_norm)
