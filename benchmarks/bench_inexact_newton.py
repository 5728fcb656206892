"""Inexact Newton-CG: trust region with a fixed CG tolerance, a forcing term, and Nystrom.

Usage::

    python -m benchmarks.bench_inexact_newton [--quick] [--repeats 3] [--lmbd 1,0.01]
        [--gtol 1e-8] [--out results.json]

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
import os

import numpy as np
import scipy.sparse as sp

from experiments.common.io import write_json
from randopt.optimize import NystromSchedule, trust_region
from randopt.oracles import FiniteSum, LogisticLoss, LogisticObjective

from .timing import measure, pinned_threads, print_table, threads_line

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
    args = parser.parse_args(argv)
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else 3)
    lmbds = [float(v) for v in args.lmbd.split(",")]
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
        write_json(args.out, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
