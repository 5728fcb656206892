"""conjugate_gradient on JAX arrays and through the operator hook; NumPy results unchanged."""

import math

import numpy as np
import pytest

from randopt.linalg import CGResult, conjugate_gradient
from randopt.linalg.cg import _boundary_root


def reference_cg(matvec, b, *, x0=None, rtol=1e-5, atol=0.0, max_iter=None, radius=None,
                 precondition=None):
    """The NumPy iteration as it was before JAX arrays were accepted (frozen copy)."""
    d = b.shape[0]
    if max_iter is None:
        max_iter = 10 * d
    nhev = 0
    if x0 is None:
        x = np.zeros(d)
        r = b.copy()
    else:
        x = np.array(x0, dtype=np.float64)
        if x.any():
            r = b - matvec(x)
            nhev = 1
        else:
            r = b.copy()
    z = r if precondition is None else precondition(r)
    p = z.copy()
    rr = float(r @ r)
    rz = rr if precondition is None else float(r @ z)
    stop = max(rtol * math.sqrt(float(b @ b)), atol)
    stop2 = stop * stop
    m = 0.0
    k = 0
    status = "converged"
    while True:
        if rr <= stop2:
            status = "converged"
            break
        if k >= max_iter:
            status = "max_iter"
            break
        Ap = matvec(p)
        k += 1
        pAp = float(p @ Ap)
        if not pAp > 0.0:
            status = "negative_curvature"
            if radius is not None:
                tau = _boundary_root(x, p, radius)
                m += -tau * float(r @ p) + 0.5 * tau * tau * pAp
                x = x + tau * p
            break
        alpha = rz / pAp
        x_next = x + alpha * p
        if radius is not None and float(x_next @ x_next) >= radius * radius:
            tau = _boundary_root(x, p, radius)
            m += -tau * float(r @ p) + 0.5 * tau * tau * pAp
            x = x + tau * p
            status = "boundary"
            break
        m += -alpha * rz + 0.5 * alpha * alpha * pAp
        x = x_next
        r -= alpha * Ap
        rr_next = float(r @ r)
        if precondition is None:
            z, rz_next = r, rr_next
        else:
            z = precondition(r)
            rz_next = float(r @ z)
        if rr_next <= stop2:
            rr = rr_next
            continue
        p = z + (rz_next / rz) * p
        rr, rz = rr_next, rz_next
    return CGResult(x, -m, status, k, k + nhev, math.sqrt(rr))


def _spd(d, seed, shift=0.0):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return (Q * np.geomspace(1e-2, 10.0, d)) @ Q.T + shift * np.eye(d), rng


@pytest.mark.parametrize("options", [
    {}, {"rtol": 1e-12}, {"radius": 0.5}, {"radius": 50.0, "rtol": 1e-10},
    {"x0": "random", "rtol": 1e-9}, {"max_iter": 3}, {"precondition": "jacobi"},
    {"indefinite": True, "radius": 5.0}, {"indefinite": True},
])
def test_numpy_results_are_bit_identical_to_the_original_iteration(options):
    options = dict(options)
    A, rng = _spd(30, 0, shift=-1.0 if options.pop("indefinite", False) else 0.0)
    b = rng.standard_normal(30)
    if options.get("x0") == "random":
        options["x0"] = 1e-2 * rng.standard_normal(30)
    if options.get("precondition") == "jacobi":
        diag = np.diag(A).copy()
        options["precondition"] = lambda r: r / diag
    new = conjugate_gradient(lambda v: A @ v, b, **options)
    old = reference_cg(lambda v: A @ v, b, **options)
    assert new.x.dtype == np.float64 and isinstance(new.x, np.ndarray)
    assert np.array_equal(new.x, old.x)
    assert (new.decrease, new.status, new.nit, new.nhev, new.residual_norm) == (
        old.decrease, old.status, old.nit, old.nhev, old.residual_norm)


jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")


@pytest.fixture(autouse=True)
def x64():
    before = jax.config.read("jax_enable_x64")
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", before)


@pytest.mark.parametrize("options", [{"rtol": 1e-12}, {"radius": 0.5},
                                     {"x0": "random", "rtol": 1e-12}])
def test_jax_arrays_stay_jax_arrays_and_match_numpy(options):
    A, rng = _spd(20, 1)
    b = rng.standard_normal(20)
    if options.get("x0") == "random":
        options = {**options, "x0": 1e-2 * rng.standard_normal(20)}
    Aj = jnp.asarray(A)
    seen = []

    def matvec(v):
        seen.append(type(v))
        return Aj @ v

    jopts = {k: (jnp.asarray(v) if k == "x0" else v) for k, v in options.items()}
    res = conjugate_gradient(matvec, jnp.asarray(b), **jopts)
    ref = conjugate_gradient(lambda v: A @ v, b, **options)
    assert isinstance(res.x, jax.Array) and all(issubclass(t, jax.Array) for t in seen)
    # same recurrences in the same precision: agreement to rounding, amplified by cond(A)=1e3
    assert np.linalg.norm(np.asarray(res.x) - ref.x) <= 1e3 * 1e-13 * np.linalg.norm(ref.x)
    # jnp's dot products round differently: the last step may land on either side of rtol
    assert res.status == ref.status and abs(res.nit - ref.nit) <= 1
    assert res.nhev - res.nit == ref.nhev - ref.nit
    assert math.isclose(res.decrease, ref.decrease, rel_tol=1e-10)


class SolvingOperator:
    """An operator with its own solve (the hook), counting how it is used."""

    def __init__(self, A, decline=False):
        self.A, self.decline, self.calls = A, decline, []

    def matvec(self, v):
        return self.A @ v

    def conjugate_gradient(self, b, **options):
        self.calls.append(options)
        if self.decline:
            return None
        x = np.linalg.solve(self.A, b)
        return CGResult(x, 0.5 * float(b @ x), "converged", 0, 0, 0.0)


def test_the_hook_receives_the_options_and_its_result_is_returned():
    A, rng = _spd(5, 2)
    b = rng.standard_normal(5)
    op = SolvingOperator(A)
    res = conjugate_gradient(op.matvec, b, rtol=1e-3, max_iter=7, radius=2.0)
    assert op.calls == [{"x0": None, "rtol": 1e-3, "atol": 0.0, "max_iter": 7, "radius": 2.0}]
    assert np.array_equal(res.x, np.linalg.solve(A, b)) and res.nit == 0


def test_a_declining_hook_and_a_preconditioner_or_callback_run_the_own_iteration():
    A, rng = _spd(5, 3)
    b = rng.standard_normal(5)
    ref = conjugate_gradient(lambda v: A @ v, b, rtol=1e-10)
    declining = SolvingOperator(A, decline=True)
    res = conjugate_gradient(declining.matvec, b, rtol=1e-10)
    assert len(declining.calls) == 1 and np.array_equal(res.x, ref.x)
    op = SolvingOperator(A)
    for extra in ({"precondition": lambda r: r}, {"callback": lambda x, r: None}):
        res = conjugate_gradient(op.matvec, b, rtol=1e-10, **extra)
        assert res.nit > 0
    assert op.calls == []
