"""Time to a relative sub-optimality, per dataset and lmbd, from a benchopt result file.

``python -m benchmarks.benchopt_logreg.report RESULT.parquet [--eps 1e-4 1e-6 1e-8]
[--plot DIR]`` prints, for each dataset and objective (lmbd) of the run, each
solver's time to reach the relative sub-optimality

    (F(b_t) - F*) / (F(0) - F*) <= eps,

where ``F*`` is the best objective value any solver reached on that problem
(as benchopt's sub-optimality curves use) and ``F(0)`` the value at the
start (every curve's first point is ``b = 0``). A solver's curve is the
median over repetitions, per ``stop_val``, of the time and of the value
(benchopt's convention), ordered by time; its time to ``eps`` is the first
point below ``eps``. Each time is followed by its ratio to the fastest
solver at that ``eps`` (``-``: not reached). For the solvers that record
them (randopt's), the Hessian-vector products per iteration at the end of
the curve are printed below the table. ``--plot DIR`` also draws the
relative sub-optimality curves (one PNG per dataset, one panel per lmbd).
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["EPS", "curves", "time_to_eps", "unconfirmed_minima", "products_per_iteration",
           "format_table", "main"]

#: the relative sub-optimalities of issue 18's closing note
EPS = (1e-4, 1e-6, 1e-8)

_PROBLEM = ["dataset_name", "objective_name"]


def curves(df: pd.DataFrame) -> pd.DataFrame:
    """One curve per (dataset, objective, solver): median time and value per stop_val.

    Returns the columns ``dataset_name, objective_name, solver_name, time,
    objective_value, rel_subopt``, ordered by time within each solver.
    ``rel_subopt`` is ``(value - F*) / (F(0) - F*)`` with ``F*`` the smallest
    value of the problem (any solver, any point) and ``F(0)`` the largest
    first value of the problem's curves (all start at ``b = 0``).
    """
    missing = {"dataset_name", "objective_name", "solver_name", "stop_val", "time",
               "objective_value"} - set(df.columns)
    if missing:
        raise ValueError(f"not a benchopt result table: columns {sorted(missing)} are missing")
    keys = [*_PROBLEM, "solver_name"]
    med = (df.groupby([*keys, "stop_val"], sort=False)[["time", "objective_value"]]
           .median().reset_index().sort_values([*keys, "time"], kind="stable"))
    out = []
    for _, prob in med.groupby(_PROBLEM, sort=False):
        f_star = prob["objective_value"].min()
        f_zero = prob.groupby("solver_name", sort=False)["objective_value"].first().max()
        scale = f_zero - f_star
        prob = prob.copy()
        prob["rel_subopt"] = ((prob["objective_value"] - f_star) / scale if scale > 0
                              else 0.0)
        out.append(prob)
    return pd.concat(out, ignore_index=True)[[*keys, "time", "objective_value", "rel_subopt"]]


def time_to_eps(df: pd.DataFrame, eps: Sequence[float] = EPS) -> pd.DataFrame:
    """Per problem and solver, the first time with relative sub-optimality ``<= eps``.

    Returns one row per (dataset, objective, solver) with, for each ``e`` in
    ``eps``, the columns ``t(e)`` (seconds; NaN when never reached) and
    ``ratio(e)`` (to the fastest solver of that problem; NaN when not
    reached), and ``best`` (the smallest relative sub-optimality the solver
    reached).

    Examples
    --------
    >>> import pandas as pd
    >>> from benchmarks.benchopt_logreg.report import time_to_eps
    >>> df = pd.DataFrame({
    ...     "dataset_name": "toy", "objective_name": "L2[lmbd=1]",
    ...     "solver_name": ["a", "a", "a", "b", "b"], "stop_val": [0, 1, 2, 0, 1],
    ...     "time": [0.0, 1.0, 2.0, 0.0, 0.5], "objective_value": [1.0, 1e-5, 0.0, 1.0, 1e-7]})
    >>> table = time_to_eps(df, eps=[1e-4, 1e-6])
    >>> print(table[["solver_name", "t(1e-04)", "ratio(1e-04)", "t(1e-06)"]].to_string())
      solver_name  t(1e-04)  ratio(1e-04)  t(1e-06)
    0           a       1.0           2.0       2.0
    1           b       0.5           1.0       0.5
    """
    cur = curves(df)
    keys = [*_PROBLEM, "solver_name"]
    rows = []
    for key, c in cur.groupby(keys, sort=False):
        row = dict(zip(keys, key, strict=True))
        rel, times = c["rel_subopt"].to_numpy(), c["time"].to_numpy()
        for e in eps:
            hit = np.flatnonzero(rel <= e)
            row[f"t({e:.0e})"] = float(times[hit[0]]) if hit.size else math.nan
        row["best"] = float(rel.min())
        rows.append(row)
    table = pd.DataFrame(rows)
    for e in eps:
        col = f"t({e:.0e})"
        fastest = table.groupby(_PROBLEM, sort=False)[col].transform("min")
        table[f"ratio({e:.0e})"] = table[col] / fastest
    return table


def unconfirmed_minima(table: pd.DataFrame, eps: float = 1e-8) -> list[tuple[str, str]]:
    """The problems on which a single solver reached relative sub-optimality ``eps``.

    There ``F*`` is that solver's own last value (it reached "0" by
    definition), so its times to ``eps`` say only that nobody did better
    within the run, not that it converged.
    """
    col = f"t({eps:.0e})"
    reached = table.assign(hit=np.isfinite(table[col])).groupby(_PROBLEM, sort=False)["hit"]
    counts = reached.sum()
    return [key for key, k in counts.items() if k <= 1]


def products_per_iteration(df: pd.DataFrame) -> pd.DataFrame:
    """Hessian-vector products per iteration at each curve's end, where recorded.

    Uses the objective columns ``objective_hessian_products`` and
    ``objective_iterations`` (randopt's solver fills them, others leave NaN).
    """
    cols = {"objective_hessian_products", "objective_iterations"}
    if not cols <= set(df.columns):
        return pd.DataFrame(columns=[*_PROBLEM, "solver_name", "iterations", "products",
                                     "per_iteration"])
    rec = df.dropna(subset=sorted(cols))
    rec = rec[rec["objective_iterations"] > 0]
    last = rec.sort_values("time").groupby([*_PROBLEM, "solver_name"], sort=False).last()
    out = pd.DataFrame({
        "iterations": last["objective_iterations"].astype(int),
        "products": last["objective_hessian_products"].astype(int),
    })
    out["per_iteration"] = out["products"] / out["iterations"]
    return out.reset_index()


def _short(name: str) -> str:
    """``gaussian[n_features=200,n_samples=200000,...]`` -> ``gaussian 200000x200 ...``."""
    params = dict(re.findall(r"(\w+)=([^,\]]+)", name))
    base = name.split("[", 1)[0]
    if "n_samples" in params and "n_features" in params:
        extra = [f"{k}={params[k]}" for k in ("scale_min", "density") if k in params]
        return " ".join([base, f"{params['n_samples']}x{params['n_features']}", *extra])
    return base


def _lmbd(name: str) -> str:
    match = re.search(r"lmbd=([^,\]]+)", name)
    return match.group(1) if match else name


def _fmt_time(t: float) -> str:
    return "-" if not np.isfinite(t) else (f"{t:.3g}")


def format_table(table: pd.DataFrame, eps: Sequence[float] = EPS) -> str:
    """The table of :func:`time_to_eps` as Markdown: ``time s (ratio x)`` per eps."""
    head = ["dataset", "lmbd", "solver", *[f"to {e:.0e}" for e in eps], "best rel."]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * 3 + "---:|" * (len(eps) + 1)]
    for _, r in table.iterrows():
        cells = [_short(r["dataset_name"]), _lmbd(r["objective_name"]), r["solver_name"]]
        for e in eps:
            t, ratio = r[f"t({e:.0e})"], r[f"ratio({e:.0e})"]
            cells.append("-" if not np.isfinite(t) else f"{_fmt_time(t)} s ({ratio:.2g}x)")
        cells.append(f"{r['best']:.1e}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_curves(df: pd.DataFrame, folder: Path) -> list[Path]:
    """Relative sub-optimality against time, one PNG per dataset (a panel per lmbd)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cur = curves(df)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for dataset, d in cur.groupby("dataset_name", sort=False):
        objectives = list(dict.fromkeys(d["objective_name"]))
        fig, axes = plt.subplots(1, len(objectives), figsize=(6 * len(objectives), 4.5),
                                 squeeze=False)
        for ax, objective in zip(axes[0], objectives, strict=True):
            for solver, c in d[d["objective_name"] == objective].groupby("solver_name"):
                ax.loglog(c["time"].clip(lower=1e-4), c["rel_subopt"].clip(lower=1e-14),
                          marker=".", label=solver)
            for e in EPS:
                ax.axhline(e, color="0.8", lw=0.8, zorder=0)
            ax.set(title=f"{_short(dataset)}, lmbd={_lmbd(objective)}", xlabel="time [s]",
                   ylabel="relative sub-optimality")
        axes[0, -1].legend(fontsize=7)
        fig.tight_layout()
        path = folder / (re.sub(r"[^\w.=-]+", "_", _short(dataset)) + ".png")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: print the table (and products per iteration); ``--plot DIR`` draws."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.benchopt_logreg.report",
                                     description=__doc__.split("\n", 1)[0])
    parser.add_argument("result", type=Path, help="benchopt result file (.parquet or .csv)")
    parser.add_argument("--eps", type=float, nargs="+", default=list(EPS))
    parser.add_argument("--plot", type=Path, default=None, metavar="DIR",
                        help="also write the sub-optimality curves as PNG files into DIR")
    args = parser.parse_args(argv)
    if not args.result.is_file():
        parser.error(f"no result file at {args.result}")
    df = (pd.read_csv(args.result) if args.result.suffix == ".csv"
          else pd.read_parquet(args.result))
    table = time_to_eps(df, args.eps)
    print(format_table(table, args.eps))
    lone = unconfirmed_minima(table, min(args.eps))
    if lone:
        print(f"\nF* reached (to {min(args.eps):.0e}) by one solver only, so unconfirmed, on:")
        for dataset, objective in lone:
            print(f"  {_short(dataset)}, lmbd={_lmbd(objective)}")
    prod = products_per_iteration(df)
    if len(prod):
        print("\nHessian-vector products per iteration (end of each curve):")
        for _, r in prod.iterrows():
            print(f"  {_short(r['dataset_name'])}, lmbd={_lmbd(r['objective_name'])}, "
                  f"{r['solver_name']}: {r['products']} products / {r['iterations']} "
                  f"iterations = {r['per_iteration']:.1f}")
    if args.plot is not None:
        for path in plot_curves(df, args.plot):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
