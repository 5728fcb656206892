"""CG-Steihaug's start (``start="random"``, the reference code's): where it starts, what it
returns and costs, and that trust region then leaves a saddle that CG from 0 cannot leave."""

import numpy as np
import pytest

from randopt.linalg import conjugate_gradient
from randopt.optimize import trust_region
from randopt.optimize.subproblems import CGSteihaug
from randopt.oracles import HessianModel


class RecordingHessian:
    """A dense symmetric H whose products are recorded (what CG was started from, and how many
    products a solve spent)."""

    def __init__(self, H):
        self.H = np.asarray(H, dtype=float)
        self.dim = self.H.shape[0]
        self.n_rows = 1
        self.matrix = None
        self.n_products = 0
        self.inputs = []

    def matvec(self, v):
        self.n_products += 1
        self.inputs.append(np.array(v))
        return self.H @ v

    def toarray(self):
        return self.H


def _model(g, H, s):
    return float(g @ s + 0.5 * s @ (H @ s))


def test_random_start_lies_on_the_099_sphere_and_the_decrease_is_the_models():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((30, 30))
    H = (A + A.T) / 2  # indefinite
    g = rng.standard_normal(30)
    rec = RecordingHessian(H)
    step = CGSteihaug(start="random").set_model(g, rec, random_state=5).solve(radius=3.0)
    assert np.isclose(np.linalg.norm(rec.inputs[0]), 0.99 * 3.0, rtol=1e-14)
    # the model decrease, against the dense model value at the step
    assert step.decrease > 0
    assert np.isclose(step.decrease, -_model(g, H, step.s), rtol=1e-10)
    assert np.linalg.norm(step.s) <= 3.0 * (1 + 1e-12)
    # every product is charged, the start's included, none twice
    assert step.n_products == rec.n_products


def test_after_a_rejection_cg_starts_from_the_shrunk_step():
    rng = np.random.default_rng(2)
    A = rng.standard_normal((20, 20))
    H = (A + A.T) / 2
    g = rng.standard_normal(20)
    rec = RecordingHessian(H)
    sub = CGSteihaug(start="random").set_model(g, rec, random_state=0)
    first = sub.solve(radius=4.0)
    before = len(rec.inputs)
    second = sub.solve(radius=2.0)
    start = rec.inputs[before]
    assert np.allclose(start, 2.0 * first.s / np.linalg.norm(first.s), rtol=1e-14, atol=0)
    assert second.decrease > 0 and np.linalg.norm(second.s) <= 2.0 * (1 + 1e-12)
    # a new model forgets the step: a random start again, on the 0.99 sphere
    sub.set_model(g, rec, random_state=1)
    before = len(rec.inputs)
    sub.solve(radius=2.0)
    assert np.isclose(np.linalg.norm(rec.inputs[before]), 0.99 * 2.0, rtol=1e-14)


def test_random_start_is_reproducible():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((15, 15))
    H = HessianModel(15, 1, matrix=(A + A.T) / 2)
    g = rng.standard_normal(15)

    def step(seed):
        return CGSteihaug(start="random").set_model(g, H, random_state=seed).solve(radius=2.0).s

    g_before = g.copy()
    assert np.array_equal(step(7), step(7))
    assert not np.array_equal(step(7), step(8))
    assert np.array_equal(g, g_before)  # the caller's gradient is not written


def test_zero_start_is_plain_steihaug_bit_for_bit():
    rng = np.random.default_rng(4)
    A = rng.standard_normal((25, 25))
    H = (A + A.T) / 2
    g = rng.standard_normal(25)
    ref = conjugate_gradient(lambda v: H @ v, -g, rtol=1e-9, max_iter=250, radius=2.0)
    for sub in (CGSteihaug(), CGSteihaug(start="zero")):
        step = sub.set_model(g, HessianModel(25, 1, matrix=H)).solve(radius=2.0)
        assert np.array_equal(step.s, ref.x) and step.decrease == ref.decrease


def test_a_random_start_without_decrease_falls_back_to_the_zero_start():
    # one CG step from a far start on a stiff convex model cannot bring m below m(0) = 0
    H = np.diag([1.0, 1e4])
    g = np.array([1e-3, 0.0])
    rec = RecordingHessian(H)
    step = CGSteihaug(start="random").set_model(g, rec, max_iter=1, random_state=0).solve(
        radius=10.0)
    zero = conjugate_gradient(lambda v: H @ v, -g, rtol=1e-9, max_iter=1, radius=10.0)
    assert np.array_equal(step.s, zero.x) and step.decrease == zero.decrease > 0
    assert step.n_products == rec.n_products == 3  # start, one step, the zero start's step


def test_bad_start_is_refused():
    with pytest.raises(ValueError, match="start must be one of 'zero', 'random'; got 'rand'"):
        CGSteihaug(start="rand")
    with pytest.raises(ValueError, match="start"):
        CGSteihaug(start=None)


# f(x, y) = x^2 / 2 - x + (y^2 - 1)^2 / 4: from 0, g = (-1, 0) and the y-axis is never seen
# by CG from 0 (g and H keep y = 0), whose TR converges to the saddle (1, 0), f = -1/4; the
# minima are (1, +-1), f = -1/2 (closed form).
def _fun(w):
    return 0.5 * w[0] ** 2 - w[0] + 0.25 * (w[1] ** 2 - 1) ** 2


def _grad(w):
    return np.array([w[0] - 1, w[1] * (w[1] ** 2 - 1)])


def _hessp(w, v):
    return np.array([v[0], (3 * w[1] ** 2 - 1) * v[1]])


def test_trust_region_leaves_the_saddle_only_from_a_random_start():
    saddle, minimum = -0.25, -0.5
    res = trust_region((_fun, _grad, _hessp), np.zeros(2), gtol=1e-10)
    assert res.success and res.x[1] == 0.0 and res.fun == pytest.approx(saddle, abs=1e-12)
    for seed in range(3):
        res = trust_region((_fun, _grad, _hessp), np.zeros(2), gtol=1e-10, random_state=seed,
                           subproblem=CGSteihaug(start="random"))
        assert res.success
        assert res.fun == pytest.approx(minimum, abs=1e-12)
        assert np.allclose(np.abs(res.x), 1.0, atol=1e-6)
    again = trust_region((_fun, _grad, _hessp), np.zeros(2), gtol=1e-10, random_state=2,
                         subproblem=CGSteihaug(start="random"))
    assert np.array_equal(again.x, res.x) and again.nhev == res.nhev
