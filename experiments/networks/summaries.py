"""Tables and figures of the network experiments.

What :mod:`experiments.networks.mlp` and :mod:`experiments.networks.autoencoder`
report from their runs (:func:`experiments.networks.train.run_experiment`):

* :func:`select_best` (each baseline's learning rate with the lowest final
  training loss) and :func:`summarize_runs` (final and best values per run,
  and the main table's rows);
* :func:`summary_markdown` (``summary.md``) and :func:`plot_runs` (each
  quantity against passes and against seconds, PNG and PDF);
* :func:`write_outputs`: the figure, ``summary.json`` and ``summary.md`` of an
  experiment, written atomically.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..common import io
from ..common.format import fmt
from .runs import SECOND_ORDER

__all__ = [
    "plot_runs",
    "select_best",
    "summarize_runs",
    "summary_markdown",
    "write_outputs",
]


def _final(data: dict[str, np.ndarray], key: str) -> float:
    values = data.get(key)
    return float(values[-1]) if values is not None and len(values) else math.nan


def select_best(runs: Sequence[dict[str, Any]]) -> dict[str, str]:
    """Per family of the baselines (``"sgd"``, ``"adam"``), the run with the lowest final
    training loss (a diverged run, with a non-finite loss, never wins).

    Parameters
    ----------
    runs : sequence of dict
        Each with ``id``, ``method``
        (:meth:`experiments.networks.runs.NetMethod.as_dict`) and ``data``.

    Returns
    -------
    dict
        Family -> run id.

    Examples
    --------
    >>> import numpy as np
    >>> from experiments.networks.runs import NetMethod
    >>> from experiments.networks.summaries import select_best
    >>> runs = [{"id": f"sgd{lr}", "method": NetMethod("sgd", learning_rate=lr).as_dict(),
    ...          "data": {"loss": np.array([2.0, f])}}
    ...         for lr, f in ((0.1, 0.5), (1.0, float("nan")), (0.01, 0.9))]
    >>> select_best(runs)
    {'sgd': 'sgd0.1'}
    """
    best: dict[str, tuple[float, str]] = {}
    for r in runs:
        if r["method"]["kind"] not in ("sgd", "adam"):
            continue
        loss = _final(r["data"], "loss")
        loss = loss if math.isfinite(loss) else math.inf
        fam = r["method"]["family"]
        if fam not in best or loss < best[fam][0]:
            best[fam] = (loss, r["id"])
    return {fam: run for fam, (_, run) in best.items()}


def loss_at(data: dict[str, np.ndarray], mark: float, count: str = "passes") -> float:
    """The training loss once ``mark`` passes are spent: that of the last history row at
    or below ``mark`` (NaN when the run stopped before ``mark``).

    Parameters
    ----------
    data : dict of ndarray
        A run's history: ``loss`` and the ``count`` column.
    mark : float
        Passes.
    count : {"passes", "passes_ref"}, default="passes"
        The rule the passes are counted by: every method's (a gradient on b rows
        2b) or the reference code's (a full gradient n).

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from experiments.networks.summaries import loss_at
    >>> d = {"passes": np.array([2.0, 5.0, 9.0]), "loss": np.array([3.0, 2.0, 1.0])}
    >>> loss_at(d, 6.0), loss_at(d, 9.0), loss_at(d, 20.0)
    (2.0, 1.0, nan)
    """
    passes = np.asarray(data.get(count, data["passes"]), dtype=float)
    loss = np.asarray(data["loss"], dtype=float)
    # A run stopped by the budget ends a step short of it (within 3%); one that ends before
    # (diverged, out of time) has no loss at the mark.
    if not len(passes) or passes[-1] < 0.97 * mark:
        return math.nan
    i = int(np.searchsorted(passes, mark * (1 + 1e-9), side="right")) - 1
    return float(loss[max(i, 0)])


def summarize_runs(
    runs: Sequence[dict[str, Any]], metric_keys: Sequence[str],
    marks: Sequence[float] = (),
) -> dict[str, Any]:
    """Per run: final loss and metrics, best of each metric, passes, seconds; and the
    baselines' learning-rate selection.

    Parameters
    ----------
    runs : sequence of dict
        ``id``, ``method``, ``seed`` and ``data``.
    metric_keys : sequence of str
        Extra columns to report (e.g. ``test_accuracy``, ``test_loss``).
    marks : sequence of float, default=()
        Passes at which to report the training loss (:func:`loss_at`), by both
        counts: ``loss_at`` and ``loss_at_ref`` of each entry (mark -> loss).

    Returns
    -------
    dict
        ``runs`` (id -> entry), ``selected`` (family -> run id),
        ``table`` (the rows of the main table: second-order runs and each
        baseline's selected learning rate, in run order) and
        ``best_second_order`` (the id of the second-order run with the lowest
        final training loss, None without one).

    Examples
    --------
    >>> import numpy as np
    >>> from experiments.networks.runs import NetMethod
    >>> from experiments.networks.summaries import summarize_runs
    >>> data = {"loss": np.array([2.0, 1.0]), "test_accuracy": np.array([0.5, 0.9]),
    ...         "passes": np.array([0.0, 3.0]), "time": np.array([0.0, 0.2]),
    ...         "iteration": np.array([0.0, 1.0])}
    >>> s = summarize_runs([{"id": "tr_0.1", "method": NetMethod("tr", 0.1).as_dict(),
    ...                      "seed": 0, "data": data}], ["test_accuracy"])
    >>> s["runs"]["tr_0.1"]["final_test_accuracy"], [r["id"] for r in s["table"]]
    (0.9, ['tr_0.1'])
    """
    selected = select_best(runs)
    entries = {}
    for r in runs:
        d = r["data"]
        e: dict[str, Any] = {"method": r["method"]["label"], "slug": r["method"]["slug"],
                             "family": r["method"]["family"], "seed": r.get("seed"),
                             "final_loss": _final(d, "loss"),
                             "passes": _final(d, "passes"), "seconds": _final(d, "time"),
                             "iterations": int(_final(d, "iteration"))}
        for k in metric_keys:
            e[f"final_{k}"] = _final(d, k)
            vals = np.asarray(d.get(k, [math.nan]), dtype=float)
            vals = vals[np.isfinite(vals)]
            best = (np.min if k.endswith(("loss", "mse")) else np.max)(vals) if vals.size else (
                math.nan)
            e[f"best_{k}"] = float(best)
        e["loss_at"] = {f"{m:g}": loss_at(d, m) for m in marks}
        e["loss_at_ref"] = {f"{m:g}": loss_at(d, m, "passes_ref") for m in marks}
        e["selected"] = r["id"] in selected.values()
        entries[r["id"]] = e
    table = [dict(id=r["id"], **entries[r["id"]]) for r in runs
             if r["method"]["kind"] in SECOND_ORDER or entries[r["id"]]["selected"]]
    second = [e for e in table if e["family"].split("_")[0] in SECOND_ORDER
              and math.isfinite(e["final_loss"])]
    best = min(second, key=lambda e: e["final_loss"])["id"] if second else None
    return {"runs": entries, "selected": selected, "table": table, "best_second_order": best}


def summary_markdown(
    summary: dict[str, Any], info: dict[str, Any], columns: Sequence[tuple[str, str, str]],
) -> str:
    """``summary.md``: the settings, the main table, and every baseline learning rate.

    Parameters
    ----------
    summary : dict
        From :func:`summarize_runs`.
    info : dict
        ``title``, ``lines`` (settings, one per line) and ``machine``.
    columns : sequence of (key, header, format)
        The metric columns after the final loss (``format``: a spec of
        :func:`experiments.common.format.fmt`, e.g. "acc" or ".5g").

    Returns
    -------
    str

    Examples
    --------
    >>> from experiments.networks.summaries import summary_markdown
    >>> s = {"table": [{"method": "TR 10%", "final_loss": 0.1, "final_test_accuracy": 0.97,
    ...                 "passes": 30.0, "seconds": 2.5, "iterations": 40}], "runs": {}}
    >>> md = summary_markdown(s, {"title": "t", "lines": [], "machine": "m"},
    ...                       [("final_test_accuracy", "test accuracy", "acc")])
    >>> md.splitlines()[5]
    '| TR 10% | 0.1 | 97.00% | 30.0 | 2.5 | 40 |'
    """
    head = ["method", "final train loss"] + [h for _, h, _ in columns] + [
        "passes", "seconds", "iterations"]
    parts = [f"# {info['title']}\n", *[f"{line}  " for line in info["lines"]], ""]
    if summary.get("best_second_order"):
        parts += ["The second-order method with the lowest final training loss is in bold.", ""]
    parts.append("| " + " | ".join(head) + " |")
    parts.append("|---|" + "---:|" * (len(head) - 1))
    best = summary.get("best_second_order")
    for e in summary["table"]:
        name = f"**{e['method']}**" if best is not None and e.get("id") == best else e["method"]
        cells = [name, fmt(e["final_loss"])] + [fmt(e[k], f) for k, _, f in columns]
        cells += [fmt(e["passes"], ".1f"), fmt(e["seconds"], ".3g"), str(e["iterations"])]
        parts.append("| " + " | ".join(cells) + " |")
    marks = list(summary["table"][0].get("loss_at", {})) if summary["table"] else []
    if marks:
        parts += ["", "Training loss at equal passes (a gradient on b rows 2b, a value b, a "
                  "curvature product on S rows 2|S|; in brackets as the reference code counts, "
                  "a full gradient n; - where a run had stopped):", "",
                  "| method | " + " | ".join(f"{m} passes" for m in marks) + " |",
                  "|---|" + "---:|" * len(marks)]
        for e in summary["table"]:
            parts.append("| " + " | ".join([e["method"]] + [
                f"{fmt(e['loss_at'][m], '.4g')} ({fmt(e['loss_at_ref'][m], '.4g')})"
                for m in marks]) + " |")
    grid = [e for e in summary["runs"].values() if e["family"] in ("sgd", "adam")]
    if grid:
        parts += ["", "Learning-rate grids of the baselines (selected: lowest final training "
                  "loss; **bold**):", "",
                  "| method | final train loss | " + " | ".join(h for _, h, _ in columns) + " |",
                  "|---|---:|" + "---:|" * len(columns)]
        for e in grid:
            name = f"**{e['method']}**" if e["selected"] else e["method"]
            parts.append("| " + " | ".join([name, fmt(e["final_loss"])]
                                           + [fmt(e[k], f) for k, _, f in columns]) + " |")
    parts += ["", f"Machine: {info['machine']}.", ""]
    return "\n".join(parts)


_PASSES_FLOOR, _SECONDS_FLOOR = 0.1, 1e-2
_STYLE = {"tr": ("Blues", "-"), "gn": ("Greens", "-."), "hf": ("Reds", "-"),
          "sgd": ("Oranges", "--"),
          "adam": ("Purples", ":")}


def plot_runs(
    runs: Sequence[dict[str, Any]],
    selected: dict[str, str],
    path_stem: str | os.PathLike[str],
    *,
    title: str,
    rows: Sequence[tuple[str, str, bool]],
) -> list[Path]:
    """Figure in the style of the ijcnn1 one: each ``rows`` quantity against passes (left)
    and against seconds (right), log x; the baselines' selected learning rates bold, the
    others faint. Saved as PNG and PDF.

    Parameters
    ----------
    runs : sequence of dict
        ``id``, ``method`` and ``data`` (``passes``, ``time`` and the row keys).
    selected : dict
        From :func:`select_best`.
    path_stem : path
        Output without suffix.
    title : str
    rows : sequence of (key, y label, log y)

    Returns
    -------
    list of pathlib.Path

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from experiments.networks.runs import NetMethod
    >>> from experiments.networks.summaries import plot_runs
    >>> data = {"passes": np.array([0.0, 2.0]), "time": np.array([0.0, 0.1]),
    ...         "loss": np.array([2.0, 1.0])}
    >>> runs = [{"id": "tr", "method": NetMethod("tr", 0.1).as_dict(), "data": data}]
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     files = plot_runs(runs, {}, Path(folder) / "f", title="t",
    ...                       rows=[("loss", "loss", True)])
    ...     print([p.name for p in files])
    ['f.png', 'f.pdf']
    """
    import matplotlib
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 4.2 * len(rows)))
    axes = fig.subplots(len(rows), 2, squeeze=False, sharey="row")
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for r in runs:
        by_kind.setdefault(r["method"]["kind"], []).append(r)
    chosen = set(selected.values())
    for kind, group in by_kind.items():
        cmap_name, linestyle = _STYLE.get(kind, ("Greys", "-"))
        cmap = matplotlib.colormaps[cmap_name]
        for k, r in enumerate(group):
            baseline = kind in ("sgd", "adam")
            strong = not baseline or r["id"] in chosen
            color = cmap(0.55 + 0.4 * (k + 1) / (len(group) + 1))
            style = dict(color=color, linestyle=linestyle, linewidth=1.9 if strong else 0.9,
                         alpha=1.0 if strong else 0.35,
                         label=r["method"]["label"] + (" (best)" if baseline and strong else "")
                         if strong or len(group) < 6 else None)
            d = r["data"]
            # Row 0 sits at 0 passes and 0 s, which a log axis cannot show.
            passes = np.maximum(np.asarray(d["passes"], dtype=float), _PASSES_FLOOR)
            seconds = np.maximum(np.asarray(d["time"], dtype=float), _SECONDS_FLOOR)
            for i, (key, _, _) in enumerate(rows):
                if key in d:
                    axes[i, 0].plot(passes, d[key], **style)
                    axes[i, 1].plot(seconds, d[key], **{**style, "label": None})
    for i, (_, ylabel, logy) in enumerate(rows):
        for j, xlabel in enumerate(("passes over the data (props / n)", "wall time (s)")):
            ax = axes[i, j]
            ax.set_xscale("log")
            if logy:
                ax.set_yscale("log")
            ax.set_xlabel(xlabel)
            ax.grid(True, alpha=0.3)
        axes[i, 0].set_ylabel(ylabel)
    axes[0, 0].legend(fontsize=7.5, framealpha=0.85)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    return io.save_figures(fig, path_stem, dpi=110)


def write_outputs(
    out: Path,
    tag: str,
    runs: Sequence[dict[str, Any]],
    summary: dict[str, Any],
    info: dict[str, Any],
    settings: dict[str, Any],
    *,
    title: str,
    rows: Sequence[tuple[str, str, bool]],
    columns: Sequence[tuple[str, str, str]],
) -> list[Path]:
    """Write the figure (``<tag>.png`` / ``.pdf``), ``summary.json`` and ``summary.md`` of an
    experiment (atomically) and print the summary.

    Parameters
    ----------
    out : path
    tag : str
        Stem of the figure's files.
    runs : sequence of dict
        As for :func:`plot_runs`.
    summary : dict
        From :func:`summarize_runs`.
    info : dict
        As for :func:`summary_markdown`.
    settings : dict
        The experiment's settings, stored in ``summary.json`` with the summary.
    title : str
        The figure's title.
    rows : sequence of (key, y label, log y)
        The figure's rows (:func:`plot_runs`).
    columns : sequence of (key, header, format)
        The table's metric columns (:func:`summary_markdown`).

    Returns
    -------
    list of pathlib.Path
        The figure's files.
    """
    figures = plot_runs(runs, summary["selected"], out / tag, title=title, rows=rows)
    io.write_json(out / "summary.json", {
        **settings, "machine": info["machine"], "selected": summary["selected"],
        "table": summary["table"], "runs": summary["runs"],
        "figures": [p.name for p in figures],
    })
    md = summary_markdown(summary, info, columns)
    io.write_text(out / "summary.md", md)
    print(md)
    print(f"wrote {out / 'summary.md'}, {out / 'summary.json'}, "
          f"{', '.join(str(p) for p in figures)} and {len(runs)} run files in {out / 'runs'} "
          f"({len(settings.get('reused', []))} finished runs reused)", file=sys.stderr)
    return figures
