"""Step-size policies: the update tables of Xu-Roosta-Mahoney, floors, ceilings, eigen-steps."""

import math

import numpy as np
import pytest

from randopt.optimize import CubicRegularizationPolicy, TrustRegionPolicy


def test_trust_region_update_table():
    p = TrustRegionPolicy(radius=1.0, max_radius=3.0, eta1=0.75, eta2=0.1, gamma1=4.0,
                          gamma2=1.5)
    p.start()
    steps = [(0.05, False, 0.25), (0.1, True, 0.375), (0.5, True, 0.5625),
             (0.75, True, 2.25), (1.0, True, 3.0), (2.0, True, 3.0), (-math.inf, False, 0.75)]
    for rho, accepted, radius in steps:
        assert p.update(rho) is accepted
        assert p.value == pytest.approx(radius, rel=1e-15)
    p.start()
    assert p.value == 1.0


def test_cubic_update_table_with_floor_and_ceiling():
    p = CubicRegularizationPolicy(sigma0=1.0, sigma_min=0.3, max_sigma=5.0, eta1=0.75,
                                  eta2=0.1, gamma1=4.0, gamma2=1.5)
    p.start()
    steps = [(0.5, True, 1 / 1.5), (0.9, True, 0.3), (0.9, True, 0.3), (0.0, False, 1.2),
             (0.0, False, 4.8), (0.0, False, 5.0), (math.nan, False, 5.0)]
    for rho, accepted, sigma in steps:
        assert p.update(rho) is accepted
        assert p.value == pytest.approx(sigma, rel=1e-15)


@pytest.mark.parametrize("lam", [-0.5, -3.0])
def test_eigen_steps_minimise_the_model_along_the_direction(lam):
    """Brute force over t >= 0 on the model restricted to the ray t u."""
    rng = np.random.default_rng(0)
    u = rng.standard_normal(4)
    u /= np.linalg.norm(u)
    g = -0.1 * u + 0.05 * rng.standard_normal(4)
    g -= max(g @ u, 0) * u  # u^T g <= 0
    ts = np.linspace(0, 50, 500_001)
    tr = TrustRegionPolicy(radius=2.0)
    tr.start()
    s, decrease = tr.eigen_step(g, lam, u)
    model = (g @ u) * ts + 0.5 * lam * ts**2
    inside = ts <= 2.0
    assert np.linalg.norm(s) == pytest.approx(2.0)
    assert -decrease == pytest.approx(model[inside].min(), rel=1e-9)
    cubic = CubicRegularizationPolicy(sigma0=0.7)
    cubic.start()
    s, decrease = cubic.eigen_step(g, lam, u)
    model = (g @ u) * ts + 0.5 * lam * ts**2 + 0.7 * ts**3 / 3
    t_star = ts[model.argmin()]
    # the eigen-step ignores g (t = -lam/sigma); with u^T g <= 0 it is within
    # the grid of the ray's minimiser when g^T u is small, and never worse than
    # the pure-curvature decrease lam^3 / (6 sigma^2)
    assert decrease >= -lam**3 / (6 * 0.7**2) - 1e-12
    assert -decrease >= model.min() - 1e-12
    assert np.linalg.norm(s) == pytest.approx(-lam / 0.7)
    assert t_star >= np.linalg.norm(s) - 1e-4


def test_policies_refuse_solvers_they_cannot_use():
    from randopt.optimize.subproblems import CGSteihaug, LanczosSubproblem

    CubicRegularizationPolicy().check_subproblem(LanczosSubproblem())
    with pytest.raises(ValueError, match="'cg' cannot solve cubic"):
        CubicRegularizationPolicy().check_subproblem(CGSteihaug())


def test_exhausted():
    tr = TrustRegionPolicy(radius=1e-15)
    tr.start()
    assert not tr.exhausted(1.0) and tr.exhausted(100.0)
    cubic = CubicRegularizationPolicy(sigma0=1e308)
    cubic.start()
    cubic.update(-1.0)
    assert cubic.exhausted(1.0)
