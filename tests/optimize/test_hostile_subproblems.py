"""Hostile input for the public sub-problem solvers (issue 20).

Every sub-problem class and function checks its inputs once, at entry:
wrong shapes (the interpreter crash of ``solve_trust_region_eig`` with a
``lam`` longer than ``V``), NaN / infinite / complex / object gradients,
negative, zero, NaN, infinite, boolean or string radii and weights,
unsorted eigenvalues, Hessians that are not Hessians or hold NaN. The
errors name the argument. A zero gradient with an indefinite Hessian is
answered against the closed form (the leftmost eigenvector), over many
seeds for the randomised Lanczos start.
"""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

from randopt.optimize.subproblems import (
    CauchyPoint,
    CGSteihaug,
    ExactSubproblem,
    LanczosSubproblem,
    as_subproblem,
    cubic_model_value,
    solve_cubic_eig,
    solve_trust_region_eig,
)
from randopt.oracles import HessianModel

SOLVERS = [CGSteihaug, LanczosSubproblem, ExactSubproblem, CauchyPoint]
BAD_PARAMETERS = [
    (-1.0, ValueError), (0.0, ValueError), (np.nan, ValueError), (np.inf, ValueError),
    (-np.inf, ValueError), (True, TypeError), ("1", TypeError), (1 + 1j, TypeError),
    (np.array([1.0, 2.0]), TypeError),
]


def _model(d: int = 3, matrix: np.ndarray | None = None) -> HessianModel:
    return HessianModel(d, 1, matrix=np.diag(np.arange(1.0, d + 1)) if matrix is None else matrix)


# --------------------------------------------------------------------------
# The functions of the exact solver
# --------------------------------------------------------------------------


def test_mismatched_shapes_do_not_crash_the_interpreter():
    # On the original code this read out of bounds in the Numba kernel (a segfault).
    code = (
        "import numpy as np\n"
        "from randopt.optimize.subproblems import solve_trust_region_eig, solve_cubic_eig\n"
        "for f, p in ((solve_trust_region_eig, 1e-3), (solve_cubic_eig, 1.0)):\n"
        "    try:\n"
        "        f(np.linspace(1, 2, 10**7), np.eye(1), np.ones(1), p)\n"
        "    except ValueError as exc:\n"
        "        assert 'lam' in str(exc) and 'V' in str(exc), exc\n"
        "    else:\n"
        "        raise SystemExit('accepted')\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", (out.returncode, out.stderr)


@pytest.mark.parametrize("function, parameter", [(solve_trust_region_eig, 1.0),
                                                 (solve_cubic_eig, 1.0)])
def test_eig_functions_refuse_bad_arrays(function, parameter):
    lam, V = np.linalg.eigh(np.diag([1.0, -2.0, 3.0]))
    g = np.ones(3)
    cases = [
        ((lam[:2], V, g), ValueError, "lam"),
        ((lam, V[:2], g), ValueError, "V"),
        ((lam, V, g[:2]), ValueError, "g"),
        ((lam[::-1].copy(), V, g), ValueError, "lam"),  # unsorted
        ((lam * np.nan, V, g), ValueError, "lam"),
        ((lam, np.where(V == V[0, 0], np.inf, V), g), ValueError, "V"),
        ((lam, V, g * np.nan), ValueError, "g"),
        ((lam, V, g + 1j), TypeError, "g"),
        ((lam, V.astype(object), g), TypeError, "V"),
        ((lam, V, np.array(["a", "b", "c"])), TypeError, "g"),
        ((np.zeros(0), np.zeros((0, 0)), np.zeros(0)), ValueError, "lam"),
        ((lam, V, g.reshape(3, 1)), ValueError, "g"),
    ]
    for args, exc, name in cases:
        with pytest.raises(exc, match=rf"\b{name}\b"):
            function(*args, parameter)


@pytest.mark.parametrize("function, name", [(solve_trust_region_eig, "radius"),
                                            (solve_cubic_eig, "sigma")])
@pytest.mark.parametrize("value, exc", BAD_PARAMETERS, ids=repr)
def test_eig_functions_refuse_bad_radius_or_sigma(function, name, value, exc):
    lam, V = np.linalg.eigh(np.diag([1.0, -2.0]))
    with pytest.raises(exc, match=name):
        function(lam, V, np.ones(2), value)


def test_eig_functions_do_not_write_inputs():
    lam, V = np.linalg.eigh(np.diag([1.0, -2.0, 3.0]))
    g = np.array([0.0, 0.0, 1.0])
    copies = (lam.copy(), V.copy(), g.copy())
    for a in (lam, V, g):
        a.setflags(write=False)
    s, mu, hit = solve_trust_region_eig(lam, V, g, 1.0)
    assert hit and np.isclose(np.linalg.norm(s), 1.0)
    solve_cubic_eig(lam, V, g, 1.0)
    for a, c in zip((lam, V, g), copies, strict=True):
        assert np.array_equal(a, c)


# --------------------------------------------------------------------------
# The solver classes: set_model and solve
# --------------------------------------------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
def test_set_model_refuses_bad_gradients(solver):
    H = _model()
    cases = [
        (np.array([1.0, np.nan, 0.0]), ValueError),
        (np.array([1.0, np.inf, 0.0]), ValueError),
        (np.ones(2), ValueError),
        (np.ones((3, 1)), ValueError),
        (np.ones(3) + 1j, TypeError),
        (np.array(["a", "b", "c"]), TypeError),
        (np.ones(3, dtype=object), TypeError),
        (None, TypeError),
    ]
    for grad, exc in cases:
        with pytest.raises(exc, match="grad"):
            solver().set_model(grad, H)


@pytest.mark.parametrize("solver", SOLVERS)
def test_set_model_refuses_bad_hessians_and_options(solver):
    g = np.ones(3)
    with pytest.raises(TypeError, match="hess"):
        solver().set_model(g, np.eye(3))
    with pytest.raises(TypeError, match="hess"):
        solver().set_model(g, None)
    for tol in (0.0, 1.0, -1.0, np.nan, True, "1e-9", None):
        with pytest.raises((TypeError, ValueError), match="tol"):
            solver().set_model(g, _model(), tol=tol)
    for max_iter in (0, -1, 2.5, True, None, "3"):
        with pytest.raises((TypeError, ValueError), match="max_iter"):
            solver().set_model(g, _model(), max_iter=max_iter)
    with pytest.raises((TypeError, ValueError), match="random_state"):
        solver().set_model(g, _model(), random_state="seed")


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("value, exc", BAD_PARAMETERS, ids=repr)
def test_solve_refuses_bad_radius_and_sigma(solver, value, exc):
    sub = solver().set_model(np.ones(3), _model(), random_state=0)
    with pytest.raises(exc, match="radius"):
        sub.solve(radius=value)
    if solver is not CGSteihaug:
        with pytest.raises(exc, match="sigma"):
            sub.solve(sigma=value)


@pytest.mark.parametrize("solver", SOLVERS)
def test_nan_hessian_is_refused_not_returned(solver):
    H = HessianModel(3, 1, matvec=lambda v: v * np.array([1.0, np.nan, 2.0]))
    sub = solver().set_model(np.ones(3), H, random_state=0)
    with pytest.raises(ValueError, match="Hessian|hess|matvec"):
        sub.solve(radius=1.0)


@pytest.mark.parametrize("solver", SOLVERS)
def test_decrease_is_never_negative_on_random_models(solver):
    rng = np.random.default_rng(0)
    for _ in range(20):
        d = int(rng.integers(1, 8))
        A = rng.standard_normal((d, d))
        H = HessianModel(d, 1, matrix=(A + A.T) / 2)
        g = rng.standard_normal(d) * 10.0 ** rng.integers(-8, 8)
        for kw in ({"radius": float(10.0 ** rng.integers(-6, 6))},
                   {"sigma": float(10.0 ** rng.integers(-6, 6))}):
            if "sigma" in kw and solver is CGSteihaug:
                continue
            step = solver().set_model(g, H, random_state=1).solve(**kw)
            assert np.isfinite(step.s).all() and step.decrease >= 0
            if "radius" in kw:
                assert np.linalg.norm(step.s) <= kw["radius"] * (1 + 1e-10)


# --------------------------------------------------------------------------
# Zero gradient, indefinite Hessian (the hard case)
# --------------------------------------------------------------------------


def test_lanczos_zero_gradient_follows_negative_curvature_every_seed():
    # The case: s = 0 on 6 of 20 seeds on the original code.
    H = HessianModel(2, 1, matrix=np.diag([1.0, -1.0]))
    for seed in range(40):
        step = LanczosSubproblem().set_model(np.zeros(2), H, random_state=seed).solve(radius=1.0)
        assert step.decrease == pytest.approx(0.5, rel=1e-12), seed  # -(-1) * 1^2 / 2
        assert abs(step.s[1]) == pytest.approx(1.0, rel=1e-12)
        step = LanczosSubproblem().set_model(np.zeros(2), H, random_state=seed).solve(sigma=2.0)
        # t = -lam / sigma = 1/2 along e_2: -(-t^2/2 + sigma t^3/3) = 1/8 - 1/12
        assert step.decrease == pytest.approx(1 / 24, rel=1e-10), seed


@pytest.mark.parametrize("solver", [LanczosSubproblem, ExactSubproblem])
def test_zero_gradient_against_the_closed_form(solver):
    rng = np.random.default_rng(7)
    for seed in range(20):
        d = int(rng.integers(2, 25))
        Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
        lam = np.sort(rng.standard_normal(d))
        lam[0] = -abs(lam[0]) - 0.1  # indefinite
        H = HessianModel(d, 1, matrix=(Q * lam) @ Q.T)
        radius, sigma = 2.0, 0.5
        step = solver().set_model(np.zeros(d), H, random_state=seed).solve(radius=radius)
        # the global minimiser: radius along the leftmost eigenvector
        expected = -0.5 * lam[0] * radius**2
        assert step.decrease == pytest.approx(expected, rel=1e-8), (seed, d)
        t = -lam[0] / sigma
        step = solver().set_model(np.zeros(d), H, random_state=seed).solve(sigma=sigma)
        expected = -(0.5 * lam[0] * t * t + sigma * t**3 / 3)
        assert step.decrease == pytest.approx(expected, rel=1e-8), (seed, d)


@pytest.mark.parametrize("solver", [CGSteihaug, CauchyPoint])
def test_gradient_methods_at_a_zero_gradient_return_the_zero_step(solver):
    # CG-Steihaug and the Cauchy point live in the Krylov space of g, empty at g = 0:
    # their answer is the (stationary) zero step, never NaN or a negative decrease.
    H = HessianModel(2, 1, matrix=np.diag([1.0, -1.0]))
    for kw in ({"radius": 1.0}, {"sigma": 1.0}):
        if "sigma" in kw and solver is CGSteihaug:
            continue
        step = solver().set_model(np.zeros(2), H).solve(**kw)
        assert np.array_equal(step.s, np.zeros(2)) and step.decrease == 0.0


def test_as_subproblem_names_what_is_missing():
    class NoSolve:
        supports_trust_region = True
        supports_cubic = False
        needs_matrix = False

        def set_model(self, *a, **k):
            return self

    with pytest.raises(TypeError, match="solve"):
        as_subproblem(NoSolve())
    with pytest.raises(ValueError, match="subproblem"):
        as_subproblem("newton")


def test_cubic_model_value_is_deprecated():
    s = np.array([1.0, 0.0])
    with pytest.warns(DeprecationWarning, match="cubic_model_value"):
        assert cubic_model_value(np.array([-1.0, 0.0]), s, s, 3.0) == 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LanczosSubproblem().set_model(np.ones(2), _model(2)).solve(sigma=1.0)


def test_boundary_root_checks_its_arguments():
    from randopt.optimize.subproblems import boundary_root

    z, p = np.zeros(2), np.array([3.0, 4.0])
    assert boundary_root(z, p, 10.0) == 2.0
    assert boundary_root(z, p, np.int64(10)) == 2.0  # any real number is a radius
    for args, exc, name in [
        ((z, p, -1.0), ValueError, "radius"), ((z, p, np.nan), ValueError, "radius"),
        ((z, p, np.inf), ValueError, "radius"), ((z, p, "1"), TypeError, "radius"),
        ((z, np.zeros(2), 1.0), ValueError, "p"), ((z, p[:1], 1.0), ValueError, "p"),
        ((np.array([np.nan, 0.0]), p, 1.0), ValueError, "z"),
        ((z + 1j, p, 1.0), TypeError, "z"), ((np.array([2.0, 0.0]), p, 1.0), ValueError, "z"),
    ]:
        with pytest.raises(exc, match=name):
            boundary_root(*args)


class _UserHessian:
    """A user's own Hessian object (the HessianLike protocol, not a HessianModel)."""

    def __init__(self, product, dim=3):
        self.dim, self.n_rows, self.matrix, self.n_products = dim, 1, None, 0
        self._product = product

    def matvec(self, v):
        return self._product(v)

    def toarray(self):
        return np.stack([self.matvec(e) for e in np.eye(self.dim)], axis=1)


@pytest.mark.parametrize("name", ["cg", "lanczos", "cauchy", "exact"])
@pytest.mark.parametrize("product, err, words", [
    (lambda v: np.ones(2), ValueError, "shape (2"),
    (lambda v: np.full(3, np.nan), ValueError, "NaN"),
    (lambda v: np.ones(3) * 1j, (TypeError, ValueError), "real"),
    (lambda v: np.array(["a", "b", "c"]), TypeError, "real"),
])
def test_user_hessian_products_are_checked_where_they_enter(name, product, err, words):
    """A product of a user's Hessian object (or the matrix the exact solver forms from
    them) is checked once, naming hess (the original tree let a wrong shape, NaN or
    strings through to a NumPy error or a NaN step)."""
    from randopt.optimize.subproblems import SUBPROBLEMS

    sub = SUBPROBLEMS[name]()
    with pytest.raises(err, match="hess") as info:
        sub.set_model(np.ones(3), _UserHessian(product), random_state=0).solve(radius=1.0)
    assert words in str(info.value)
