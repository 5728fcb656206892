"""Run the benchmark with pinned threads, then print the report and draw the curves.

``python -m benchmarks.benchopt_logreg.run [--quick] [--threads N] [--output FILE]
[-- BENCHOPT-OPTIONS...]`` (from the repository root) runs

    benchopt run benchmarks/benchopt_logreg --config config_{full,quick}.yml
        --no-plot --no-cache --output FILE

in a child process whose environment pins every solver to ``N`` threads
(default 1: ``RANDOPT_BENCH_THREADS``, ``OMP_NUM_THREADS``,
``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS``, ``BLIS_NUM_THREADS``,
``VECLIB_MAXIMUM_THREADS``, ``NUMBA_NUM_THREADS``; the objective pins them
again with threadpoolctl) and has the repository root on ``PYTHONPATH``
(benchopt imports the solver files by path, and they import ``randopt``).
It then prints :mod:`benchmarks.benchopt_logreg.report`'s table and writes
the relative sub-optimality curves (PNG) next to the result file. The
default result file is ``benchmarks/benchopt_logreg/outputs/<config>_<UTC
time>.parquet`` (``outputs/`` is git-ignored). ijcnn1 is read from
``RANDOPT_DATA`` (skipped when unset). Options after ``--`` go to
``benchopt run`` (e.g. ``-- -s randopt-tr -d sparse_text``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

#: environment variables that fix the thread pools of BLAS, OpenMP and Numba
THREAD_VARIABLES = ("RANDOPT_BENCH_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "MKL_NUM_THREADS", "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                    "NUMBA_NUM_THREADS")


def benchopt_command(config: str, output: Path, extra: Sequence[str] = ()) -> list[str]:
    """The ``benchopt run`` command line of a configuration (``"quick"`` or ``"full"``)."""
    return [sys.executable, "-m", "benchopt", "run", str(HERE),
            "--config", str(HERE / f"config_{config}.yml"),
            "--no-plot", "--no-cache", "--output", str(output), *extra]


def run_environment(threads: int) -> dict[str, str]:
    """This process's environment with the thread variables set and the root on PYTHONPATH."""
    env = dict(os.environ)
    env.update({name: str(threads) for name in THREAD_VARIABLES})
    paths = [str(ROOT), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: run benchopt, then report and plot."""
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1:]
    parser = argparse.ArgumentParser(prog="python -m benchmarks.benchopt_logreg.run",
                                     description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true",
                        help="small sizes, short timeouts (a smoke run)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads of every solver (default 1)")
    parser.add_argument("--output", type=Path, default=None,
                        help="result file (.parquet); default under outputs/")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error(f"--threads must be >= 1, got {args.threads}")
    config = "quick" if args.quick else "full"
    output = args.output or HERE / "outputs" / (
        f"{config}_{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.parquet")
    if output.exists():
        parser.error(f"{output} exists (benchopt would write to another name): pick another")
    output.parent.mkdir(parents=True, exist_ok=True)
    cmd = benchopt_command(config, output.resolve(), extra)
    print("+", " ".join(cmd), flush=True)
    code = subprocess.call(cmd, env=run_environment(args.threads), cwd=ROOT)
    if code != 0 or not output.exists():
        print(f"benchopt run failed (exit code {code}); no report", file=sys.stderr)
        return code or 1
    from .report import main as report

    return report([str(output), "--plot", str(output.with_suffix(""))])


if __name__ == "__main__":
    raise SystemExit(main())
