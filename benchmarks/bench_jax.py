"""JaxObjective against dense ``jax.hessian`` and against hand-written ``jax.jit`` steps.

Usage::

    python -m benchmarks.bench_jax [--quick] [--repeats 7] [--out PATH]

Model: the digits MLP 64-32-10 of :mod:`experiments.networks.models` (tanh hidden
layer, softmax cross-entropy, 2,410 parameters, the 1,347 training rows of
scikit-learn's digits), float64 (``jax_enable_x64``).

1. **Accuracy.** ``JaxObjective.hessp`` (forward-over-reverse products) and
   the Gauss-Newton product against dense matrices computed independently:
   ``jax.hessian`` of the full training loss, and ``J^T H_out J`` from
   ``jax.jacfwd`` of the network and the per-row ``jax.hessian`` of the loss
   in the logits. Relative errors ``||Hv - H_dense v|| / ||H_dense v||``
   (largest over 5 random ``v``) at ``x0`` and at a point 20 trust-region
   steps on.
2. **Overhead** (on that MLP, on a wider one, 64-256-256-10, 85,002
   parameters, and on a 64-2-10 one whose calls do next to no work: there
   the difference of the two columns is the adapter's fixed cost per call).
   The same computations through the adapter and written by hand: a
   ``jax.jit`` ``value_and_grad`` on the full data and a jitted
   forward-over-reverse product on the same (pre-gathered) 10% sample (144
   rows: 135 rounded up by ``round_sample_size``, as the samplers draw), the
   parameters and the batch already on the device, ``block_until_ready``:
   what a user would otherwise write. Compared: a full value-and-gradient,
   one product on a fixed Hessian model (what CG does; the loop builds one
   model per iterate), ``hessp`` (model creation included), an SGD step on 128
   rows (sample drawn on the host in both), and a whole trust-region
   iteration (10% Hessian, CG on products) against the hand-written compute
   it performs (its evaluations, a gathered sample per Hessian model and its
   products, replayed by hand); the time inside the adapter during the run
   is measured by a timing proxy, so the table separates the adapter's
   overhead from the solver's own (CG, bookkeeping).
3. **Device residency** (issue 19, item 6). A product of a JAX vector on a
   fixed model (the vector stays on the device; no NumPy round trip) against
   the hand-written jitted product, and a whole CG solve of 10 Gauss-Newton
   products through :func:`randopt.linalg.conjugate_gradient` (the models'
   hook: one compiled ``jax.lax.while_loop``, ``b`` in and ``x`` out) against
   a hand-written ``jax.jit`` CG (``jax.lax.fori_loop`` over the same 10
   products), and against the NumPy CG on the same model's products (what
   the solvers did before the hook: one round trip per product).

Summary line per network: ``overhead ratio`` = adapter / hand-written time
of a trust-region iteration (item 2) and of a CG solve (item 3); the issue's
target is below 1.2.

A GPU run needs nothing but a JAX install with GPU support (``pip install
"jax[cuda12]"``) and no ``XLA_FLAGS`` thread pinning (the flags below only
affect the CPU client): the products, the compiled CG and the FGSM gradients
are ``jax.jit`` programs on the default device, and only ``b``, ``x`` and a
few scalars per solve cross to the host.

Threads: XLA's CPU client and BLAS pinned to one thread (``XLA_FLAGS``,
threadpoolctl) as the other benchmarks do: the machine is shared, and the
comparison is per call. Every figure is the best of ``repeats * number``
single calls (trust-region runs: of ``--repeats`` runs), the adapter and the
hand-written call alternating, so both see the same machine load; ratios
are of those bests.
"""

from __future__ import annotations

import os

if __name__ == "__main__":
    # Before JAX is imported (experiments.networks imports it on first use); only when run,
    # not when imported (e.g. by pytest for the doctests): the flag is process-wide.
    os.environ.setdefault(
        "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    )

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from experiments.common.io import write_json  # noqa: E402
from experiments.networks.data import load_digits_split  # noqa: E402
from experiments.networks.models import (  # noqa: E402
    mlp_apply,
    mlp_objective,
    softmax_cross_entropy,
)
from randopt.linalg import conjugate_gradient  # noqa: E402
from randopt.optimize import trust_region  # noqa: E402
from randopt.oracles import HessianModel, Objective  # noqa: E402
from randopt.sketch import uniform_sample  # noqa: E402

from .timing import pinned_threads  # noqa: E402

SIZES = (64, 32, 10)
#: A wider network (85,002 parameters): the adapter's fixed per-call cost against more work.
WIDE = (64, 256, 256, 10)
#: A network with next to no work per call: the adapter's fixed cost per call, in microseconds.
TINY = (64, 2, 10)
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "bench_jax.json"


def dense_matrices(f: Any, X: np.ndarray, y: np.ndarray, x: np.ndarray) -> tuple:
    """Hessian and Gauss-Newton matrix of the mean training loss at ``x``, densely, from jax."""
    import jax
    import jax.numpy as jnp
    from jax.flatten_util import ravel_pytree

    flat, unravel = ravel_pytree(f.unravel(x))

    def full(q):
        return softmax_cross_entropy(mlp_apply(unravel(q), X), y)

    H = jax.jit(jax.hessian(full))(flat)
    J = jax.jit(jax.jacfwd(lambda q: mlp_apply(unravel(q), X)))(flat)  # (n, k, d)
    logits = mlp_apply(unravel(flat), X)
    # Per-row output Hessians of the row's loss, then the mean: H_out is block diagonal.
    row_hessian = jax.vmap(jax.hessian(lambda o, t: softmax_cross_entropy(o[None], t[None])))
    H_out = row_hessian(logits, jnp.asarray(y)) / X.shape[0]  # (n, k, k)
    G = jnp.einsum("iad,iab,ibe->de", J, H_out, J)
    return np.asarray(H), np.asarray(G)


def accuracy_table(f: Any, X: np.ndarray, y: np.ndarray, rng: np.random.Generator,
                   points: dict[str, np.ndarray]) -> list[dict]:
    rows = []
    for label, x in points.items():
        H, G = dense_matrices(f, X, y, x)
        V = rng.standard_normal((5, f.n_features))
        hv = max(np.linalg.norm(f.hessp(x, v) - H @ v) / np.linalg.norm(H @ v) for v in V)
        gn = f.gauss_newton_model(x, explicit=False)
        gv = max(np.linalg.norm(gn.matvec(v) - G @ v) / np.linalg.norm(G @ v) for v in V)
        rows.append({"point": label, "hessp_rel_err": hv, "gnvp_rel_err": gv,
                     "hessian_norm": float(np.linalg.norm(H, 2))})
    return rows


class TimedObjective(Objective):
    """Forwards to an objective and adds up the seconds spent inside it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.n_samples, self.n_features = inner.n_samples, inner.n_features
        self.supports_sampling, self.matrix_free = inner.supports_sampling, inner.matrix_free
        self.seconds = 0.0

    def evaluate(self, w, **kw):
        t = time.perf_counter()
        out = self.inner.evaluate(w, **kw)
        self.seconds += time.perf_counter() - t
        return out

    def hessian_model(self, w_or_eval, **kw):
        t = time.perf_counter()
        model = self.inner.hessian_model(w_or_eval, **kw)
        self.seconds += time.perf_counter() - t

        def matvec(v):
            t0 = time.perf_counter()
            out = model.matvec(v)
            self.seconds += time.perf_counter() - t0
            return out

        return HessianModel(model.dim, model.n_rows, matvec=matvec)

    def round_sample_size(self, size: int) -> int:
        return self.inner.round_sample_size(size)


def best_pair(adapter: Callable, hand: Callable, repeats: int, number: int) -> tuple:
    """Best seconds per call of two callables, single calls alternating.

    Alternating single calls (``repeats * number`` of each) lets both see the
    same machine load; the minimum is the figure least disturbed by other
    processes.
    """
    adapter(), hand()  # compile and warm up
    a, h = [], []
    clock = time.perf_counter
    for _ in range(repeats * number):
        t0 = clock()
        adapter()
        t1 = clock()
        hand()
        h.append(clock() - t1)
        a.append(t1 - t0)
    return min(a), min(h)


def overhead_table(f: Any, X: np.ndarray, y: np.ndarray, repeats: int, number: int,
                   tr_iters: int) -> list[dict]:
    import jax
    import jax.numpy as jnp
    from jax.flatten_util import ravel_pytree

    _, unravel_jnp = ravel_pytree(f.unravel(f.x0))

    def loss(q, Xb, yb):
        return softmax_cross_entropy(mlp_apply(unravel_jnp(q), Xb), yb)

    vg = jax.jit(jax.value_and_grad(loss))
    hvp = jax.jit(lambda q, v, Xb, yb: jax.jvp(lambda r: jax.grad(loss)(r, Xb, yb), (q,),
                                                (v,))[1])

    @jax.jit
    def sgd_step(q, idx, lr):
        g = jax.grad(loss)(q, Xd[idx], yd[idx])
        return q - lr * g

    n, d = f.n_samples, f.n_features
    Xd, yd = jnp.asarray(X), jnp.asarray(y.astype(np.int32))
    x, v = f.x0.copy(), np.random.default_rng(1).standard_normal(d)
    p, vj = jnp.asarray(x), jnp.asarray(v)
    # 10% of the rows, rounded as the solvers' samplers round it (round_sample_size).
    s = f.round_sample_size(max(1, int(np.ceil(0.1 * n))))
    sample = uniform_sample(n, s, random_state=0)
    Xs, ys = Xd[sample.indices], yd[sample.indices]
    model = f.hessian_model(x, sample=sample, explicit=False)
    rows = []

    def add(what, adapter_s, hand_s):
        rows.append({"operation": what, "adapter_us": 1e6 * adapter_s, "hand_us": 1e6 * hand_s,
                     "ratio": adapter_s / hand_s})

    add(f"value and gradient, {n} rows",
        *best_pair(lambda: f.value_and_gradient(x),
                   lambda: jax.block_until_ready(vg(p, Xd, yd)), repeats, number))
    add(f"Hessian product on a fixed model, {s} rows",
        *best_pair(lambda: model.matvec(v), lambda: jax.block_until_ready(hvp(p, vj, Xs, ys)),
                   repeats, 4 * number))
    add(f"hessp (new model per call), {s} rows",
        *best_pair(lambda: f.hessp(x, v, sample),
                   lambda: jax.block_until_ready(hvp(p, vj, Xs, ys)), repeats, 4 * number))

    batch, lr = 128, 0.1
    rng_a, rng_h = np.random.default_rng(2), np.random.default_rng(2)
    state = {"x": x.copy(), "p": p}

    def sgd_adapter():
        state["x"] = state["x"] - lr * f.gradient(state["x"], uniform_sample(
            n, batch, random_state=rng_a))

    def sgd_hand():
        idx = np.sort(rng_h.choice(n, size=batch, replace=False)).astype(np.int32)
        state["p"] = jax.block_until_ready(sgd_step(state["p"], idx, lr))

    add(f"SGD step, {batch} rows", *best_pair(sgd_adapter, sgd_hand, repeats, 4 * number))

    # Device residency: a JAX vector through a model's product, and a whole CG solve.
    add(f"Hessian product of a JAX vector on a fixed model, {s} rows",
        *best_pair(lambda: jax.block_until_ready(model.matvec(vj)),
                   lambda: jax.block_until_ready(hvp(p, vj, Xs, ys)), repeats, 4 * number))

    def gnvp(q, w, Xb, yb):
        def outputs(r):
            return mlp_apply(unravel_jnp(r), Xb)

        out, jw = jax.jvp(outputs, (q,), (w,))
        hjw = jax.jvp(jax.grad(lambda o: softmax_cross_entropy(o, yb)), (out,), (jw,))[1]
        return jax.vjp(outputs, q)[1](hjw)[0]

    cg_steps = 10

    @jax.jit
    def hand_cg(q, b, Xb, yb):
        def step(_, state):
            x_, r, p_, rr = state
            Ap = gnvp(q, p_, Xb, yb)
            a = rr / (p_ @ Ap)
            x_, r = x_ + a * p_, r - a * Ap
            rr_next = r @ r
            return x_, r, r + (rr_next / rr) * p_, rr_next

        return jax.lax.fori_loop(0, cg_steps, step, (jnp.zeros_like(b), b, b, b @ b))[0]

    gn = f.gauss_newton_model(x, sample=sample, explicit=False)
    b = -f.gradient(x)
    solved = conjugate_gradient(gn.matvec, b, rtol=0.0, max_iter=cg_steps)
    if solved.nit != cg_steps:
        raise RuntimeError(f"the CG solve stopped after {solved.nit} products ({solved.status})")
    hand_x = np.asarray(hand_cg(p, b, Xs, ys))
    if not np.allclose(solved.x, hand_x, rtol=1e-8, atol=1e-10 * np.linalg.norm(hand_x)):
        raise RuntimeError("the compiled CG and the hand-written one disagree")
    add(f"CG solve, {cg_steps} GN products, {s} rows (compiled hook)",
        *best_pair(lambda: conjugate_gradient(gn.matvec, b, rtol=0.0, max_iter=cg_steps),
                   lambda: np.asarray(hand_cg(p, b, Xs, ys)), repeats, number))
    add(f"CG solve, {cg_steps} GN products, {s} rows (NumPy CG, round trips)",
        *best_pair(lambda: conjugate_gradient(lambda w: gn.matvec(w), b, rtol=0.0,
                                              max_iter=cg_steps),
                   lambda: np.asarray(hand_cg(p, b, Xs, ys)), repeats, number))

    # A trust-region iteration: the run's time against the same work by hand (its values
    # and gradients at trial points, a gathered sample per new Hessian model, as the
    # sample is redrawn after accepted steps, and the products on it), alternating.
    gather = jax.jit(lambda idx: (Xd[idx], yd[idx]))
    idx32 = sample.indices.astype(np.int32)
    timed = TimedObjective(f)

    def run():
        timed.seconds = 0.0
        return trust_region(timed, f.x0, hessian_sample_size=0.1, hessian_mode="hessp",
                            max_iter=tr_iters, gtol=0.0, random_state=0)

    res = run()  # warm-up (compiles)
    models = 1 + int(np.sum(res.history["accepted"][1:-1]))
    if set(res.history["hessian_rows"][1:]) != {s}:
        raise RuntimeError(f"the run's Hessian samples are not of {s} rows")

    def replay():
        for _ in range(res.nfev):
            jax.block_until_ready(vg(p, Xd, yd))
        for _ in range(models):
            jax.block_until_ready(gather(idx32))
        for _ in range(res.nhev):
            jax.block_until_ready(hvp(p, vj, Xs, ys))

    replay()
    walls, insides, hands = [], [], []
    # Short runs, many rounds: a long run rarely finds the shared machine quiet throughout.
    for _ in range(max(2, 3 * repeats)):
        t = time.perf_counter()
        run()
        walls.append(time.perf_counter() - t)
        insides.append(timed.seconds)
        t = time.perf_counter()
        replay()
        hands.append(time.perf_counter() - t)
    wall, inside, bare = min(walls), min(insides), min(hands) / res.nit
    rows.append({"operation": f"trust-region iteration (10% Hessian, {res.nhev / res.nit:.1f} "
                              "products per iteration)",
                 "adapter_us": 1e6 * inside / res.nit, "hand_us": 1e6 * bare,
                 "ratio": inside / res.nit / bare,
                 "solver_us": 1e6 * (wall - inside) / res.nit,
                 "whole_iteration_ratio": wall / res.nit / bare})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (CI-sized)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    repeats = 2 if args.quick else args.repeats
    number = 5 if args.quick else 20
    tr_iters = 5 if args.quick else 10
    models = [SIZES] if args.quick else [TINY, SIZES, WIDE]

    with pinned_threads(1, numba=False):
        split = load_digits_split(0)
        X, y = split.X_train, split.y_train
        f = mlp_objective(list(SIZES), X, y, random_state=0)
        rng = np.random.default_rng(0)
        later = trust_region(f, f.x0, hessian_sample_size=0.1, hessian_mode="hessp",
                             max_iter=20, random_state=0).x
        accuracy = accuracy_table(f, X, y, rng, {"x0": f.x0, "after 20 TR steps": later})
        overhead = {}
        for sizes in models:
            g = f if sizes == SIZES else mlp_objective(list(sizes), X, y, random_state=0)
            overhead["-".join(map(str, sizes))] = {
                "n_features": g.n_features,
                "rows": overhead_table(g, X, y, repeats, number, tr_iters)}

    print(f"JaxObjective on the digits MLP {'-'.join(map(str, SIZES))} "
          f"({f.n_features} parameters, {f.n_samples} rows, float64)\n")
    print(f"{'point':<22}{'hessp rel. error':>18}{'gnvp rel. error':>18}{'||H||_2':>10}")
    for r in accuracy:
        print(f"{r['point']:<22}{r['hessp_rel_err']:>18.2e}{r['gnvp_rel_err']:>18.2e}"
              f"{r['hessian_norm']:>10.3g}")
    for name, table in overhead.items():
        print(f"\nMLP {name} ({table['n_features']} parameters): adapter vs hand-written jax.jit")
        print(f"{'operation':<66}{'adapter us':>12}{'hand us':>10}{'ratio':>8}")
        for r in table["rows"]:
            print(f"{r['operation']:<66}{r['adapter_us']:>12.0f}{r['hand_us']:>10.0f}"
                  f"{r['ratio']:>8.2f}")
        tr = table["rows"][-1]
        print(f"trust-region iteration: adapter {100 * (tr['ratio'] - 1):+.0f}% over the "
              f"hand-written compute; the solver's own work (CG, bookkeeping) adds "
              f"{tr['solver_us']:.0f} us per iteration (whole iteration "
              f"{tr['whole_iteration_ratio']:.2f}x the bare compute)")
        cg = next(r for r in table["rows"] if r["operation"].endswith("(compiled hook)"))
        print(f"overhead ratio (adapter / hand-written jax.jit): trust-region iteration "
              f"{tr['ratio']:.2f} (whole iteration {tr['whole_iteration_ratio']:.2f}), "
              f"CG solve {cg['ratio']:.2f}; target < 1.20")
    write_json(args.out, {"model": list(SIZES), "n_features": f.n_features,
                          "n_samples": f.n_samples, "accuracy": accuracy,
                          "overhead": overhead, "repeats": repeats, "number": number,
                          "quick": bool(args.quick)})
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
