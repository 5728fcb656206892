"""The command line of the reproduction: ``python -m experiments.papers`` (see
:mod:`experiments.papers` for the problem, the grid and the outputs).

BLAS is pinned to one thread with threadpoolctl (Numba's threads:
``--threads``, default Numba's).
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import asdict
from typing import Any

from ..common import io
from ..common.cli import fill_defaults, machine, output_folder, parse_list, require_positive
from ..common.runs import config_key, run_and_save
from .grid import AUTO, BASELINES, SAMPLINGS, SOLVERS, Budget, build_grid, grid_runs, run_id
from .problems import DATASETS, DataMissing, load_problem, make_objective
from .runs import SCHEMA_VERSION, run_config, run_one, warm_up
from .summaries import markdown_summary, summarize

__all__ = ["main", "parse_args"]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line (``argv`` without the program name; None: ``sys.argv[1:]``).

    Parameters
    ----------
    argv : list of str or None
        The arguments.

    Returns
    -------
    argparse.Namespace
        With the comma lists split and checked, and ``seeds`` and the budget resolved
        (the defaults fill only what was not given; a value given is checked).

    Examples
    --------
    >>> from experiments.papers.cli import parse_args
    >>> args = parse_args(["--dataset", "synthetic", "--quick", "--sample-sizes", "0.01,0.1"])
    >>> args.solvers, args.sample_sizes, args.seeds
    (['tr', 'arc', 'gn'], [0.01, 0.1], 1)
    >>> parse_args(["--sample-sizes", "0.05,auto"]).sample_sizes
    [0.05, 'auto']
    """
    p = argparse.ArgumentParser(
        prog="python -m experiments.papers",
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
    args.solvers = parse_list(args.solvers, "solvers", SOLVERS)
    args.sampling = parse_list(args.sampling, "sampling", SAMPLINGS)
    args.baselines = parse_list(args.baselines, "baselines", BASELINES)
    try:
        args.sample_sizes = [s if s == AUTO else float(s)
                             for s in parse_list(args.sample_sizes, "sample-sizes")]
    except ValueError:
        p.error(f"--sample-sizes must be numbers or {AUTO!r}, got {args.sample_sizes!r}")
    if any(s != AUTO and not 0 < s <= 1 for s in args.sample_sizes):
        p.error(f"--sample-sizes are fractions in (0, 1] or {AUTO!r}")
    q = args.quick
    fill_defaults(args, seeds=1 if q else 3, max_iter=60 if q else 1000,
                  max_passes=300.0 if q else 1000.0, max_time=10.0 if q else 120.0)
    if args.seeds < 1:
        p.error("--seeds must be >= 1")
    require_positive(args, "max_iter", "max_passes", "max_time")
    if not (math.isfinite(args.gtol) and args.gtol >= 0):
        p.error(f"--gtol must be finite and >= 0, got {args.gtol!r}")
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
    A small grid (trust region with the full Hessian, gradient descent) on a
    3,000-row synthetic problem; the summary goes to stdout, the files to
    ``out``:

    >>> import tempfile
    >>> from experiments.papers.cli import main
    >>> with tempfile.TemporaryDirectory() as out:
    ...     main(["--dataset", "synthetic", "--quick", "--solvers", "tr", "--sampling", "full",
    ...           "--baselines", "GD", "--max-iter", "5", "--out", out, "--no-progress"])
    # Reproduction: synthetic
    ...
    | TR full | ...
    | GD (Armijo) | ...
    0
    """
    args = parse_args(argv)
    from threadpoolctl import threadpool_limits

    if args.threads is not None:
        import numba

        numba.set_num_threads(args.threads)
    budget = Budget(max_iter=args.max_iter, max_passes=args.max_passes,
                    max_time=args.max_time, gtol=args.gtol)
    out = output_folder(args.out, args.dataset + ("-quick" if args.quick else ""))
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

    warm_seconds = [math.nan]  # no warm-up when every run is reused

    def warm_once() -> None:
        if math.isnan(warm_seconds[0]):
            warm_seconds[0] = warm_up(grid, problem)
            bar.write(f"warm-up (Numba compilation or cache load, first calls): "
                      f"{warm_seconds[0]:.2f} s", file=sys.stderr)

    runs: list[dict[str, Any]] = []
    skipped: list[str] = []
    with threadpool_limits(limits=1, user_api="blas"):
        bar = tqdm(jobs, desc=args.dataset, unit="run", disable=args.no_progress,
                   file=sys.stderr)
        for method, seed in bar:
            run = run_id(method, seed)
            bar.set_postfix_str(run)
            key = config_key(run_config(problem, budget, method, seed, args.quick),
                             SCHEMA_VERSION)
            data, meta, reused = run_and_save(
                out, run, key,
                lambda m=method, s=seed: run_one(m, objective, problem, budget,
                                                 0 if s is None else s),
                settings={"method": method.as_dict(), "seed": seed, "budget": asdict(budget)},
                prepare=warm_once)
            if reused:
                skipped.append(run)
            runs.append({"id": run, "method": method.as_dict(), "seed": seed, "data": data,
                         "meta": meta})
        bar.close()

    summary = summarize(runs, grid)
    import numba

    info = {
        "dataset": args.dataset, "source": problem.source, "synthetic": problem.synthetic,
        "shape": [n, d], "n_test": int(problem.X_test.shape[0]), "quick": args.quick,
        "budget": asdict(budget), "notes": problem.notes, "seeds": args.seeds,
        "machine": machine(), "numba_threads": numba.get_num_threads(),
        "warm_up_seconds": warm_seconds[0],
    }
    from .plots import plot_dataset

    stand_in = " (SYNTHETIC stand-in)" if problem.synthetic and args.dataset == "ijcnn1" else ""
    title = (f"{args.dataset}{stand_in}{' --quick' if args.quick else ''}: {n:,} x {d}, "
             f"non-linear least squares; f* = {summary['f_star']:.8g}")
    figures = plot_dataset(runs, summary["f_star"], out / args.dataset, title=title,
                           sample_sizes=args.sample_sizes)
    io.write_json(out / "summary.json", {
        **info, "f_star": summary["f_star"], "f_star_run": summary["f_star_run"],
        "f_star_definition": "lowest loss reached by any run of the grid",
        "methods": summary["methods"], "runs": summary["runs"],
        "skipped": skipped, "figures": [p.name for p in figures],
    })
    md = markdown_summary(summary, info)
    io.write_text(out / "summary.md", md)
    print(md)
    print(f"wrote {out / 'summary.md'}, {out / 'summary.json'}, "
          f"{', '.join(str(p) for p in figures)} and {len(runs)} run files in {out / 'runs'}"
          f" ({len(skipped)} finished runs reused)", file=sys.stderr)
    return 0
