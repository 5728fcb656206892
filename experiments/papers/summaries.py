"""Summaries of the reproduction: ``f*``, the per-method metrics, and their Markdown table.

``f*`` is the lowest loss reached by any run of the grid. Per run: the passes
and seconds to the first iterate with ``f <= f* (1 + tol)`` for ``tol`` in
:data:`REL_TOLS`, the final loss and test accuracy; per method, the medians of
those over seeds, how many seeds reached each level, and the speed-up over
full-Hessian TR (its seconds to ``1e-4`` over the method's).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..common.format import fmt
from ..common.stats import finite_median, first_reach
from .grid import FIRST_ORDER_ITER_FACTOR, Method

__all__ = ["REL_TOLS", "markdown_summary", "markdown_table", "summarize"]

REL_TOLS = (1e-4, 1e-6)


def summarize(runs: Sequence[dict[str, Any]], grid: Sequence[Method]) -> dict[str, Any]:
    """``f*`` and the per-method metrics (medians over seeds); see the module docstring.

    Parameters
    ----------
    runs : sequence of dict
        One per run: ``id``, ``method`` (:meth:`Method.as_dict`) and ``data``
        (columns ``loss``, ``passes``, ``time``, ``test_accuracy``,
        ``iteration``). Each gets a ``metrics`` entry.
    grid : sequence of Method
        The methods, in table order.

    Returns
    -------
    dict
        ``f_star``, ``f_star_run``, ``methods`` (one row per method) and
        ``runs`` (the metrics of each run).

    Examples
    --------
    >>> import numpy as np
    >>> from experiments.papers.grid import Method
    >>> from experiments.papers.summaries import summarize
    >>> m = Method("tr", "TR", "full")
    >>> data = {"loss": np.array([2.0, 1.0]), "passes": np.array([2.0, 6.0]),
    ...         "time": np.array([0.0, 0.5]), "test_accuracy": np.array([0.5, 0.9]),
    ...         "iteration": np.array([0.0, 1.0])}
    >>> s = summarize([{"id": "tr_full", "method": m.as_dict(), "data": data}], [m])
    >>> s["f_star"], s["methods"][0]["passes_to_0.0001"], s["methods"][0]["speedup_vs_tr_full"]
    (1.0, 6.0, 1.0)
    """
    best = min(runs, key=lambda r: float(np.min(r["data"]["loss"])))
    f_star = float(np.min(best["data"]["loss"]))
    per_run = {}
    for r in runs:
        entry = {"final_loss": float(r["data"]["loss"][-1]),
                 "final_test_accuracy": float(r["data"]["test_accuracy"][-1]),
                 "passes": float(r["data"]["passes"][-1]),
                 "seconds": float(r["data"]["time"][-1]),
                 "iterations": int(r["data"]["iteration"][-1])}
        for tol in REL_TOLS:
            p, t = first_reach(r["data"], f_star * (1 + tol))
            entry[f"passes_to_{tol:g}"], entry[f"seconds_to_{tol:g}"] = p, t
        per_run[r["id"]] = entry
        r["metrics"] = entry
    methods = []
    for m in grid:
        mine = [r for r in runs if r["method"]["slug"] == m.slug]
        if not mine:
            continue
        row: dict[str, Any] = {"method": m.label, "slug": m.slug, "seeds": len(mine)}
        for key in mine[0]["metrics"]:
            row[key] = finite_median([r["metrics"][key] for r in mine])
        for tol in REL_TOLS:
            row[f"reached_{tol:g}"] = sum(
                math.isfinite(r["metrics"][f"passes_to_{tol:g}"]) for r in mine
            )
        methods.append(row)
    ref = next((m for m in methods if m["slug"] == "tr_full"), None)
    for m in methods:
        base = ref["seconds_to_0.0001"] if ref else math.nan
        m["speedup_vs_tr_full"] = (
            base / m["seconds_to_0.0001"]
            if math.isfinite(base) and math.isfinite(m["seconds_to_0.0001"])
            and m["seconds_to_0.0001"] > 0 else math.nan
        )
    return {"f_star": f_star, "f_star_run": best["id"], "methods": methods, "runs": per_run}


def markdown_table(summary: dict[str, Any]) -> str:
    """The per-method table of a :func:`summarize` result, in Markdown.

    Parameters
    ----------
    summary : dict
        From :func:`summarize`.

    Returns
    -------
    str

    Examples
    --------
    >>> import numpy as np
    >>> from experiments.papers.grid import Method
    >>> from experiments.papers.summaries import markdown_table, summarize
    >>> m = Method("arc", "ARC", "full")
    >>> data = {"loss": np.array([2.0, 1.0]), "passes": np.array([2.0, 6.0]),
    ...         "time": np.array([0.0, 0.5]), "test_accuracy": np.array([0.5, 0.9]),
    ...         "iteration": np.array([0.0, 1.0])}
    >>> print(markdown_table(summarize([{"id": "arc_full", "method": m.as_dict(),
    ...                                  "data": data}], [m])).splitlines()[-1])
    | ARC full | 6 | 0.5 | 6 | 0.5 | 1 | 90.00% | — |
    """
    head = (
        "| method | passes to 1e-4 | s to 1e-4 | passes to 1e-6 | s to 1e-6 | final loss | "
        "test accuracy | speed-up vs TR full |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    lines = []
    for m in summary["methods"]:
        cells = [m["method"] + (f" ({m['seeds']} seeds)" if m["seeds"] > 1 else "")]
        for tol in REL_TOLS:
            reach = m[f"reached_{tol:g}"]
            partial = f" ({reach}/{m['seeds']})" if 0 < reach < m["seeds"] else ""
            cells.append(fmt(m[f"passes_to_{tol:g}"], "passes") + partial)
            cells.append(fmt(m[f"seconds_to_{tol:g}"], ".3g"))
        cells += [fmt(m["final_loss"], ".6g"), fmt(m["final_test_accuracy"], "acc"),
                  fmt(m["speedup_vs_tr_full"], "x")]
        lines.append("| " + " | ".join(cells) + " |")
    return head + "\n".join(lines) + "\n"


def markdown_summary(summary: dict[str, Any], info: dict[str, Any]) -> str:
    """The ``summary.md`` of a reproduction: data, problem, budget, notes, table, machine.

    Parameters
    ----------
    summary : dict
        From :func:`summarize`.
    info : dict
        The run's settings: ``dataset``, ``source``, ``synthetic``, ``shape``,
        ``n_test``, ``budget`` (a dict of :class:`~experiments.papers.grid.Budget`),
        ``notes``, ``machine``, ``numba_threads``, ``warm_up_seconds``.

    Returns
    -------
    str

    Examples
    --------
    >>> import math
    >>> from experiments.papers.summaries import markdown_summary
    >>> summary = {"f_star": 1.0, "f_star_run": "tr_full", "methods": []}
    >>> info = {"dataset": "ijcnn1", "source": "stand-in", "synthetic": True,
    ...         "shape": [10, 2], "n_test": 5, "notes": [], "machine": "m",
    ...         "numba_threads": 1, "warm_up_seconds": math.nan,
    ...         "budget": {"max_passes": 1.0, "max_iter": 1, "max_time": 1.0, "gtol": 0.0}}
    >>> "SYNTHETIC DATA" in markdown_summary(summary, info)
    True
    """
    n, d = info["shape"]
    parts = [f"# Reproduction: {info['dataset']}\n"]
    if info["synthetic"] and info["dataset"] == "ijcnn1":
        parts.append(
            "> **SYNTHETIC DATA.** The ijcnn1 files were not found in `RANDOPT_DATA`; this ran "
            "on a synthetic data set of ijcnn1's shape. Its numbers are not ijcnn1's.\n"
        )
    parts.append(
        f"Data: {info['source']}; {n:,} training rows x {d} features, "
        f"{info['n_test']:,} test rows.  \n"
        "Problem: non-linear least squares `f(x) = mean((b_i - sigmoid(a_i^T x))^2)`, "
        "b in {0, 1}, no bias, no regulariser, x0 = 0.  \n"
        f"Budget per run: {info['budget']['max_passes']:g} passes, "
        f"{info['budget']['max_iter']} iterations (first-order methods "
        f"{FIRST_ORDER_ITER_FACTOR}x), {info['budget']['max_time']:g} s, gtol "
        f"{info['budget']['gtol']:g}.  \n"
        f"f* = {summary['f_star']:.10g}: the lowest loss reached by any run of the grid "
        f"(`{summary['f_star_run']}`). \"to 1e-4\" means the first iterate with "
        "f <= f* (1 + 1e-4). Passes = props / n (the papers' count); seconds exclude the "
        "test-accuracy evaluation. Speed-up = seconds of TR full to 1e-4 / the method's. "
        "Sub-sampled methods: medians over seeds; (k/N) = only k of N seeds reached the "
        "level.\n"
    )
    slugs = [m["slug"] for m in summary["methods"]]
    legend = []
    if any(s.startswith("gn_") for s in slugs):
        legend.append("GN = Gauss-Newton: CG on the (sub-sampled) Gauss-Newton system, then "
                      "Armijo backtracking, as in the papers' code")
    if any(s.endswith("_auto") for s in slugs):
        legend.append("auto = the adaptive Hessian sample size of TR and ARC (the library's "
                      "default), beside the papers' fixed fractions")
    if legend:
        parts.append("; ".join(legend) + ".\n")
    for note in info["notes"]:
        parts.append(f"Note: {note}\n")
    parts.append(markdown_table(summary))
    parts.append(
        f"\nMachine: {info['machine']}; BLAS pinned to 1 thread, Numba threads "
        f"{info['numba_threads']}; warm-up before the timed runs "
        + (f"{info['warm_up_seconds']:.2f} s (Numba compilation or cache load).\n"
           if math.isfinite(info["warm_up_seconds"]) else "none (every run was reused).\n")
    )
    return "\n".join(parts)
