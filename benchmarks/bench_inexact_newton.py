"""Inexact Newton-CG: trust region with a fixed CG tolerance, a forcing term, and Nystrom.

Usage::

    python -m benchmarks.bench_inexact_newton [--quick] [--repeats 3] [--lmbd 1,0.01]
        [--gtol 1e-8] [--out results.json]
    python benchmarks/bench_inexact_newton.py --defaults [--quick] [--lmbd 0.01,1]

``--defaults`` measures the solver's *defaults* (whatever the imported randopt's
defaults are) on the rcv1-like sparse problem of issue 18: products per outer
iteration, the time of one exact Hessian-vector product against
``X.T @ (D * (X @ v))`` in scipy.sparse (two sparse matvecs), and the total
time to ``gtol``. Run as a file it imports the randopt found first on
``PYTHONPATH``, so the same command measures an older tree for a before/after
(``PYTHONPATH=/path/to/old/tree python benchmarks/bench_inexact_newton.py --defaults``).

Problems (issue 18), both L2-regularised logistic regression in benchopt's
scaling (``sum_i log(1 + exp(-y_i x_i^T w)) + lmbd/2 ||w||^2``, i.e.
randopt's mean loss with ``alpha = lmbd / n``), no intercept, ``w0 = 0``:

* dense, ill-conditioned: 20,000 x 500 Gaussian columns scaled from 1 to
  1e-3 (``LogisticObjective``; ``--quick``: 4,000 rows);
* sparse, wide: 2,000 x 20,000 CSR at 0.5% density, Gaussian entries,
  columns scaled from 1 to 1e-2 (``FiniteSum(X, y, LogisticLoss())``;
  ``--quick``: 500 x 5,000).

Methods: :func:`randopt.optimize.trust_region` with its defaults
(``hessian_sample_size="auto"``, CG-Steihaug) and ``subproblem_tol`` fixed at
``1e-9`` (today's default), ``"sqrt"``, ``"ew"`` (Eisenstat-Walker), ``"ew"``
with ``preconditioner="nystrom"``, and ``1e-9`` with ``preconditioner="nystrom"``;
each run to ``||g|| <= gtol``.

For every method: wall time to ``gtol`` (best of ``--repeats``, median
alongside: the machine is shared), outer iterations, Hessian-vector products
(``nhev``, preconditioner builds included) in all and per outer iteration
(mean and largest, from ``history["hessian_products"]``), Nystrom builds and
the final objective value (all methods must agree to the printed digits).
Threads: BLAS and Numba pinned to ``--threads`` (1).
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import scipy.sparse as sp

from randopt.optimize import NystromSchedule, trust_region
from randopt.oracles import FiniteSum, LogisticLoss, LogisticObjective

try:
    from .timing import measure, pinned_threads, print_table, threads_line
except ImportError:  # run as a file, against the randopt first on PYTHONPATH
    from timing import measure, pinned_threads, print_table, threads_line  # type: ignore

METHODS = {
    "fixed 1e-9 (today)": dict(subproblem_tol=1e-9),
    "sqrt": dict(subproblem_tol="sqrt"),
    "ew": dict(subproblem_tol="ew"),
    "ew + nystrom": dict(subproblem_tol="ew", preconditioner="nystrom"),
    "1e-9 + nystrom": dict(subproblem_tol=1e-9, preconditioner="nystrom"),
}


def dense_problem(n: int, d: int, lmbd: float, seed: int = 0) -> LogisticObjective:
    """Gaussian columns scaled from 1 to 1e-3, labels from a planted model."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.logspace(0, -3, d)
    y = X @ rng.standard_normal(d) + 0.5 * rng.logistic(size=n) > 0
    return LogisticObjective(X, y, alpha=lmbd / n)


def sparse_problem(n: int, d: int, lmbd: float, density: float = 0.005,
                   seed: int = 0) -> FiniteSum:
    """CSR with Gaussian entries, columns scaled from 1 to 1e-2, planted labels."""
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, random_state=seed + 1, format="csr")
    X.data = rng.standard_normal(X.nnz)
    X = (X @ sp.diags(np.logspace(0, -2, d))).tocsr()
    y = X @ rng.standard_normal(d) + 0.5 * rng.logistic(size=n) > 0
    return FiniteSum(X, y, LogisticLoss(), alpha=lmbd / n)


def rcv1_like(n: int = 20_000, d: int = 47_000, density: float = 0.0016,
              seed: int = 0) -> tuple[sp.csr_matrix, np.ndarray]:
    """A text-like CSR design: Zipf column popularity, positive entries, unit rows.

    rcv1's shape (20,242 x 47,236 at 0.16%): row ``i`` holds about ``d density``
    words drawn with probability ``~ 1 / rank^0.8``, tf-idf-like exponential
    weights, rows scaled to unit norm; labels from a sparse planted model.
    """
    rng = np.random.default_rng(seed)
    nnz = int(n * d * density)
    popularity = 1.0 / np.arange(1, d + 1) ** 0.8
    popularity /= popularity.sum()
    rows, cols = rng.integers(0, n, nnz), rng.choice(d, nnz, p=popularity)
    X = sp.csr_matrix((rng.exponential(size=nnz), (rows, cols)), shape=(n, d))
    X.sum_duplicates()
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    X = (sp.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ X).tocsr()
    w = rng.standard_normal(d) * (rng.random(d) < 0.1) * 10.0
    y = (X @ w + 0.3 * rng.logistic(size=n) > 0).astype(np.float64)
    return X, y


def bench_defaults(X, y, lmbd: float, gtol: float, repeats: int) -> dict:
    """The defaults' products per iteration, per-product time against scipy, total time."""
    n, d = X.shape
    obj = FiniteSum(X, y, LogisticLoss(), alpha=lmbd / n)
    t = measure(lambda: trust_region(obj, np.zeros(d), gtol=gtol, random_state=0), repeats,
                warmup=1)  # the first call loads the compiled kernels
    res = t.result
    per_it = res.history["hessian_products"][1:]
    # one exact product at the solution's curvature, against two scipy.sparse matvecs
    ev = obj.evaluate(res.x)
    H = obj.hessian_model(ev, sample=None, explicit=False)
    v = np.random.default_rng(1).standard_normal(d)
    D = np.asarray(ev.curvature, dtype=np.float64).ravel() / n
    H.matvec(v)  # compile / warm up
    reps = 20
    t0 = time.perf_counter()
    for _ in range(reps):
        H.matvec(v)
    t_product = (time.perf_counter() - t0) / reps
    t0 = time.perf_counter()
    for _ in range(reps):
        X.T @ (D * (X @ v))
    t_scipy = (time.perf_counter() - t0) / reps
    rows = res.history["hessian_rows"][1:]
    row = dict(lmbd=lmbd, best=t.best, median=t.median, nit=int(res.nit), nhev=int(res.nhev),
               products_per_iter=float(per_it.mean()) if per_it.size else 0.0,
               product_ms=1e3 * t_product, scipy_ms=1e3 * t_scipy,
               first_rows=int(rows[0]) if rows.size else 0, status=int(res.status),
               fun=float(res.fun), sampling=str(res.hessian_sampling))
    print_table(["lmbd", "best s", "median s", "nit", "nhev", "prod/it", "product ms",
                 "scipy X.T(D(Xv)) ms", "first rows", "status"],
                [[f"{lmbd:g}", f"{t.best:.3f}", f"{t.median:.3f}", row["nit"], row["nhev"],
                  f"{row['products_per_iter']:.1f}", f"{row['product_ms']:.2f}",
                  f"{row['scipy_ms']:.2f}", row["first_rows"], row["status"]]])
    print(f"   {row['sampling']}; f = {row['fun']:.12g}")
    return row


def bench(label: str, obj, gtol: float, repeats: int) -> list[dict]:
    d = obj.n_features
    print(f"== {label}")
    rows, out = [], []
    for name, kwargs in METHODS.items():
        schedules: list[NystromSchedule] = []

        def run(kwargs=kwargs, schedules=schedules):
            kw = dict(kwargs)
            if kw.get("preconditioner") == "nystrom":
                kw["preconditioner"] = NystromSchedule()
                schedules.append(kw["preconditioner"])
            return trust_region(obj, np.zeros(d), gtol=gtol, random_state=0, **kw)

        t = measure(run, repeats)
        res = t.result
        per_it = res.history["hessian_products"][1:]
        builds = schedules[-1].n_builds if schedules else 0
        row = dict(method=name, best=t.best, median=t.median, nit=int(res.nit),
                   nhev=int(res.nhev), mean_per_iter=float(per_it.mean()) if per_it.size else 0.0,
                   max_per_iter=int(per_it.max()) if per_it.size else 0, builds=builds,
                   status=int(res.status), fun=float(res.fun))
        out.append(row)
        rows.append([name, f"{t.best:.3f}", f"{t.median:.3f}", row["nit"], row["nhev"],
                     f"{row['mean_per_iter']:.1f}", row["max_per_iter"], builds, row["status"],
                     f"{row['fun']:.12g}"])
    print_table(["method", "best s", "median s", "nit", "nhev", "prod/it", "max/it", "builds",
                 "status", "f"], rows)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small problems, 1 repeat")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per method (3)")
    parser.add_argument("--lmbd", default="1,0.01", help="comma-separated benchopt lmbd values")
    parser.add_argument("--gtol", type=float, default=1e-8, help="gradient-norm tolerance")
    parser.add_argument("--threads", type=int, default=1, help="BLAS and Numba threads")
    parser.add_argument("--out", default=None, help="write the results as JSON to this file")
    parser.add_argument("--defaults", action="store_true",
                        help="the defaults on the rcv1-like sparse problem (see the docstring)")
    args = parser.parse_args(argv)
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else 3)
    lmbds = [float(v) for v in args.lmbd.split(",")]
    if args.defaults:
        shape = (4_000, 10_000) if args.quick else (20_000, 47_000)
        X, y = rcv1_like(*shape)
        results = {}
        with pinned_threads(args.threads):
            print(f"{threads_line(args.threads)}; {repeats} timed runs; gtol {args.gtol:g}; "
                  f"rcv1-like {shape[0]} x {shape[1]}, nnz {X.nnz}")
            for lmbd in lmbds:
                results[f"defaults lmbd={lmbd:g}"] = bench_defaults(X, y, lmbd, args.gtol,
                                                                    repeats)
        if args.out:
            with open(args.out, "w") as fh:
                json.dump(results, fh, indent=1)
        return 0
    dn, dd = (4_000, 500) if args.quick else (20_000, 500)
    sn, sd = (500, 5_000) if args.quick else (2_000, 20_000)
    results = {}
    with pinned_threads(args.threads):
        print(f"{threads_line(args.threads)}; {os.cpu_count()} CPUs (shared: noisy); "
              f"{repeats} timed runs: best and median; gtol {args.gtol:g}")
        for lmbd in lmbds:
            results[f"dense lmbd={lmbd:g}"] = bench(
                f"dense {dn} x {dd}, column scales 1 to 1e-3, lmbd {lmbd:g}",
                dense_problem(dn, dd, lmbd), args.gtol, repeats)
            results[f"sparse lmbd={lmbd:g}"] = bench(
                f"sparse {sn} x {sd}, 0.5% dense, column scales 1 to 1e-2, lmbd {lmbd:g}",
                sparse_problem(sn, sd, lmbd), args.gtol, repeats)
    if args.out:
        from experiments.common.io import write_json
        write_json(args.out, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
