"""Reproduce the ijcnn1 / covtype experiments of Xu, Roosta and Mahoney (the command line).

Usage::

    RANDOPT_DATA=/path/to/datasets python -m experiments.reproduce --dataset ijcnn1
    python -m experiments.reproduce --dataset synthetic --quick --out /tmp/repro

Problem (the papers' non-convex one): binary classification by non-linear
least squares, ``f(x) = (1/n) sum_i (b_i - sigmoid(a_i^T x))^2`` with
``b_i in {0, 1}``, no bias and no regulariser, from ``x0 = 0``
(:func:`experiments.problems.make_objective`). With 64 or fewer features the
data are densified (dense rows run the fused kernels faster than CSR).

The pieces, one module each:

* :mod:`experiments.problems`: the data (ijcnn1 without its file in
  ``RANDOPT_DATA`` falls back to a synthetic data set of the same shape and
  says so in the output and in the summary; covtype without its file explains
  how to get it and exits with status 2) and the objective;
* :mod:`experiments.grid`: the runs. TR and ARC
  (:func:`randopt.optimize.trust_region`, :func:`~randopt.optimize.arc`, their
  default sub-problem solvers) and Gauss-Newton with a line search
  (:func:`randopt.optimize.gauss_newton`, as in the papers' code) with the
  full Hessian and with uniform and non-uniform sub-sampled Hessians of every
  ``--sample-sizes`` fraction (5% in the papers), and TR and ARC with
  ``"auto"``, their adaptive sample size (the library's default);
  ``--seeds`` seeds for the sub-sampled runs; and the baselines a user would
  pick: ``scipy.optimize.minimize`` with trust-ncg, trust-exact and
  L-BFGS-B on the same exact oracles, and gradient descent with Armijo
  backtracking;
* :mod:`experiments.runners`: one run, its cost accounting (passes = props / n,
  as the papers count) and its files, written atomically; a rerun with the
  same settings reuses finished runs;
* :mod:`experiments.summaries`: ``f*`` and the per-method table;
* :mod:`experiments.plots`: the convergence figure.

Every run stops at ``--max-passes`` passes, ``--max-iter`` iterations
(first-order methods: 20 times as many), ``--max-time`` seconds (for TR/ARC/GN
this includes the callbacks) or a gradient norm of ``--gtol``. ``--quick``
runs a 3,000-row subset with a small budget (well under a minute), for CI.

Output (``--out``, default ``results/<dataset>``): ``runs/<run>.csv`` and
``runs/<run>.json`` per run, ``summary.json`` and ``summary.md``, and
``<dataset>.png`` / ``<dataset>.pdf``.

BLAS is pinned to one thread with threadpoolctl (Numba's threads:
``--threads``, default Numba's).

References
----------
.. [1] P. Xu, F. Roosta and M. W. Mahoney, "Newton-type methods for non-convex
   optimization under inexact Hessian information", Math. Program. 184 (2020).
.. [2] P. Xu, F. Roosta and M. W. Mahoney, "Second-order optimization for
   non-convex machine learning: an empirical study", SDM (2020).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from . import _io
from .grid import AUTO, BASELINES, SAMPLINGS, SOLVERS, Budget, build_grid, grid_runs, run_id
from .problems import DATASETS, DataMissing, load_problem, make_objective
from .runners import config_key, load_finished, run_and_save, warm_up
from .summaries import markdown_summary, summarize

__all__ = ["main", "parse_args"]


def _parse_list(text: str, allowed: tuple[str, ...] | None, name: str) -> list[str]:
    items = [s.strip() for s in text.split(",") if s.strip()]
    if allowed is not None:
        bad = [s for s in items if s not in allowed]
        if bad:
            raise SystemExit(f"--{name}: unknown value(s) {bad}; choose from {list(allowed)}")
    return items


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line (``argv`` without the program name; None: ``sys.argv[1:]``).

    Parameters
    ----------
    argv : list of str or None
        The arguments.

    Returns
    -------
    argparse.Namespace
        With the comma lists split and checked, and ``seeds`` resolved.

    Examples
    --------
    >>> from experiments.reproduce import parse_args
    >>> args = parse_args(["--dataset", "synthetic", "--quick", "--sample-sizes", "0.01,0.1"])
    >>> args.solvers, args.sample_sizes, args.seeds
    (['tr', 'arc', 'gn'], [0.01, 0.1], 1)
    >>> parse_args(["--sample-sizes", "0.05,auto"]).sample_sizes
    [0.05, 'auto']
    """
    p = argparse.ArgumentParser(
        prog="python -m experiments.reproduce",
        description="Reproduce the ijcnn1/covtype experiments of Xu, Roosta and Mahoney "
                    "(sub-sampled TR, ARC and Gauss-Newton against scipy baselines).",
    )
    p.add_argument("--dataset", choices=DATASETS, default="ijcnn1")
    p.add_argument("--solvers", default="tr,arc,gn", help="comma list of tr, arc, gn")
    p.add_argument("--sampling", default="full,uniform,nonuniform",
                   help="comma list of full, uniform, nonuniform")
    p.add_argument("--sample-sizes", default=f"0.05,{AUTO}",
                   help="comma list of Hessian sample fractions, e.g. 0.01,0.05,0.1, and "
                        f"{AUTO!r} (TR and ARC's adaptive size)")
    p.add_argument("--baselines", default=",".join(BASELINES),
                   help=f"comma list of {', '.join(BASELINES)} (empty: none)")
    p.add_argument("--seeds", type=int, default=None,
                   help="seeds per sub-sampled method (default 3; 1 with --quick)")
    p.add_argument("--out", default=None, help="output folder (default results/<dataset>)")
    p.add_argument("--quick", action="store_true", help="small subset and budget, for CI")
    p.add_argument("--max-passes", type=float, default=None,
                   help="passes over the data per run (default 1000; 300 with --quick)")
    p.add_argument("--max-iter", type=int, default=None,
                   help="iterations per run (default 1000; 60 with --quick)")
    p.add_argument("--max-time", type=float, default=None,
                   help="seconds per run (default 120; 10 with --quick)")
    p.add_argument("--gtol", type=float, default=1e-10, help="gradient-norm tolerance")
    p.add_argument("--threads", type=int, default=None, help="Numba threads")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    args.solvers = _parse_list(args.solvers, SOLVERS, "solvers")
    args.sampling = _parse_list(args.sampling, SAMPLINGS, "sampling")
    args.baselines = _parse_list(args.baselines, BASELINES, "baselines")
    try:
        args.sample_sizes = [s if s == AUTO else float(s)
                             for s in _parse_list(args.sample_sizes, None, "sizes")]
    except ValueError:
        p.error(f"--sample-sizes must be numbers or {AUTO!r}, got {args.sample_sizes!r}")
    if any(s != AUTO and not 0 < s <= 1 for s in args.sample_sizes):
        p.error(f"--sample-sizes are fractions in (0, 1] or {AUTO!r}")
    if args.seeds is None:
        args.seeds = 1 if args.quick else 3
    if args.seeds < 1:
        p.error("--seeds must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the reproduction; returns the exit status (0, or 2 when covtype's file is missing).

    Parameters
    ----------
    argv : list of str or None
        Command-line arguments (see :func:`parse_args`).

    Returns
    -------
    int

    Examples
    --------
    >>> from experiments.reproduce import main
    >>> main(["--dataset", "synthetic", "--quick", "--out", "/tmp/repro"])  # doctest: +SKIP
    0
    """
    args = parse_args(argv)
    from threadpoolctl import threadpool_limits

    if args.threads is not None:
        import numba

        numba.set_num_threads(args.threads)
    budget = Budget(
        max_iter=args.max_iter or (60 if args.quick else 1000),
        max_passes=args.max_passes or (300.0 if args.quick else 1000.0),
        max_time=args.max_time or (10.0 if args.quick else 120.0),
        gtol=args.gtol,
    )
    out = Path(args.out or Path("results") / (args.dataset + ("-quick" if args.quick else "")))
    try:
        problem = load_problem(args.dataset, quick=args.quick)
    except DataMissing as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for note in problem.notes:
        print(f"NOTE: {note}", file=sys.stderr)
    objective = make_objective(problem.X, problem.y)
    grid = build_grid(args.solvers, args.sampling, args.sample_sizes, args.baselines)
    jobs = grid_runs(grid, args.seeds)
    n, d = problem.shape
    print(f"{problem.source}: {n:,} x {d} train, {problem.X_test.shape[0]:,} test; "
          f"{len(jobs)} runs -> {out}", file=sys.stderr)

    from tqdm.auto import tqdm

    warm_seconds = math.nan  # no warm-up when every run is reused
    runs: list[dict[str, Any]] = []
    skipped: list[str] = []
    with threadpool_limits(limits=1, user_api="blas"):
        bar = tqdm(jobs, desc=args.dataset, unit="run", disable=args.no_progress,
                   file=sys.stderr)
        for method, seed in bar:
            run = run_id(method, seed)
            bar.set_postfix_str(run)
            key = config_key(problem, budget, method, seed, args.quick)
            finished = load_finished(out, run, key)
            if finished is not None:
                data, meta = finished
                skipped.append(run)
            else:
                if math.isnan(warm_seconds):
                    warm_seconds = warm_up(grid, problem)
                    bar.write(f"warm-up (Numba compilation or cache load, first calls): "
                              f"{warm_seconds:.2f} s", file=sys.stderr)
                data, meta = run_and_save(out, run, key, method, objective, problem, budget,
                                          seed)
            runs.append({"id": run, "method": method.as_dict(), "seed": seed, "data": data,
                         "meta": meta})
        bar.close()

    summary = summarize(runs, grid)
    import numba

    info = {
        "dataset": args.dataset, "source": problem.source, "synthetic": problem.synthetic,
        "shape": [n, d], "n_test": int(problem.X_test.shape[0]), "quick": args.quick,
        "budget": asdict(budget), "notes": problem.notes, "seeds": args.seeds,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
                   f"{platform.python_version()}",
        "numba_threads": numba.get_num_threads(), "warm_up_seconds": warm_seconds,
    }
    from .plots import plot_dataset

    stand_in = " (SYNTHETIC stand-in)" if problem.synthetic and args.dataset == "ijcnn1" else ""
    title = (f"{args.dataset}{stand_in}{' --quick' if args.quick else ''}: {n:,} x {d}, "
             f"non-linear least squares; f* = {summary['f_star']:.8g}")
    figures = plot_dataset(runs, summary["f_star"], out / args.dataset, title=title,
                           sample_sizes=args.sample_sizes)
    _io.write_json(out / "summary.json", {
        **info, "f_star": summary["f_star"], "f_star_run": summary["f_star_run"],
        "f_star_definition": "lowest loss reached by any run of the grid",
        "methods": summary["methods"], "runs": summary["runs"],
        "skipped": skipped, "figures": [p.name for p in figures],
    })
    md = markdown_summary(summary, info)
    _io.write_text(out / "summary.md", md)
    print(md)
    print(f"wrote {out / 'summary.md'}, {out / 'summary.json'}, "
          f"{', '.join(str(p) for p in figures)} and {len(runs)} run files in {out / 'runs'}"
          f" ({len(skipped)} finished runs reused)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
