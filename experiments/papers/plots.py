"""Convergence figures in the style of Xu, Roosta and Mahoney's papers.

One figure per data set, one column per solver of the grid (trust region,
cubic regularisation, Gauss-Newton), three rows:

1. relative sub-optimality ``(f - f*) / f*`` against passes over the data
   (``props / n``), log-log;
2. the same against wall time (seconds, log x);
3. test accuracy against passes (log x).

Each column shows its solver with full, uniform and non-uniform Hessian
sampling, and the baselines (scipy's trust-ncg, trust-exact, L-BFGS-B,
gradient descent) in grey-ish dashed styles. The colours and line styles are
those of the papers' code (``blc_demo.m``): full black, uniform blue,
non-uniform red; TR solid, ARC dash-dotted, GN dashed. The adaptive sample
size (``"auto"``) is drawn thinner in the colour of its scheme with hollow
circles, under the full-Hessian line (which it follows once it switches to
the full Hessian).
A sub-optimality of zero (the run that defines ``f*``) is drawn at a floor
of ``1e-12`` so the log axis can show it; the thresholds of the summary
table (``1e-4``, ``1e-6``) are dotted horizontal lines. Runs with several
seeds draw one thin line per seed.

References
----------
.. [1] P. Xu, F. Roosta and M. W. Mahoney, "Newton-type methods for
   non-convex optimization under inexact Hessian information", Math. Program.
   184 (2020); "Second-order optimization for non-convex machine learning: an
   empirical study", SDM (2020).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..common.io import save_figures

__all__ = ["SUBOPT_FLOOR", "method_style", "plot_dataset"]

SUBOPT_FLOOR = 1e-12
_TIME_FLOOR = 1e-4  # seconds: row 0 sits at t = 0, which a log axis cannot show

_PANELS = {"tr": "Trust region (TR)", "arc": "Cubic regularisation (ARC)",
           "gn": "Gauss-Newton with line search (GN)"}
_SOLVER_LINESTYLES = {"tr": "-", "arc": "-.", "gn": "--"}
_BASELINE_STYLES = {
    "trust-ncg": dict(color="tab:green", linestyle="-.", linewidth=1.4),
    "trust-exact": dict(color="tab:purple", linestyle="--", linewidth=1.4),
    "L-BFGS-B": dict(color="tab:brown", linestyle=":", linewidth=1.8),
    "GD": dict(color="0.45", linestyle=(0, (5, 2, 1, 2)), linewidth=1.4),
}


def method_style(method: dict[str, Any], sizes: Sequence[float | str]) -> dict[str, Any]:
    """Matplotlib line style of a method (see :func:`plot_dataset`).

    Full-Hessian runs are black, uniform sub-sampling blue and non-uniform red
    (darker for larger samples, ``"auto"`` darkest and with markers); TR is
    solid, ARC dash-dotted and GN dashed; the baselines have fixed styles.

    Parameters
    ----------
    method : dict
        :meth:`experiments.papers.grid.Method.as_dict` of the method.
    sizes : sequence of float or "auto"
        All Hessian sample sizes of the grid.

    Returns
    -------
    dict
        Keyword arguments of ``Axes.plot``.

    Examples
    --------
    >>> from experiments.papers.grid import Method
    >>> from experiments.papers.plots import method_style
    >>> method_style(Method("tr", "TR", "full").as_dict(), [0.05])["color"]
    'black'
    >>> method_style(Method("baseline", "L-BFGS-B").as_dict(), [])["linestyle"]
    ':'
    >>> style = method_style(Method("gn", "GN", "uniform", "auto").as_dict(), [0.05, "auto"])
    >>> style["linestyle"], style["marker"]
    ('--', 'o')
    """
    import matplotlib

    kind = method["kind"]
    if kind == "baseline":
        return dict(_BASELINE_STYLES.get(method["name"], dict(color="0.3", linestyle="--")))
    sampling, size = method["sampling"], method["sample_size"]
    linestyle = _SOLVER_LINESTYLES.get(kind, "-")
    if sampling == "full":
        # On top: an "auto" run that switched to the full Hessian follows the same path.
        return dict(color="black", linestyle=linestyle, linewidth=2.0, zorder=2.5)
    # Fractions in increasing order, then "auto" (the darkest shade).
    order = sorted({s for s in sizes if not isinstance(s, str)}) + sorted(
        {s for s in sizes if isinstance(s, str)})
    k = order.index(size) if size in order else 0
    shade = 0.55 + 0.4 * (k + 1) / (len(order) + 1)
    cmap = matplotlib.colormaps["Blues" if sampling == "uniform" else "Reds"]
    style = dict(color=cmap(shade), linestyle=linestyle, linewidth=1.6)
    if isinstance(size, str):
        style.update(linewidth=1.2, marker="o", markersize=5, markerfacecolor="none",
                     markevery=0.1)
    return style


def plot_dataset(
    runs: Sequence[dict[str, Any]],
    f_star: float,
    path_stem: str | os.PathLike[str],
    *,
    title: str,
    sample_sizes: Sequence[float] = (),
) -> list[Path]:
    """Draw the convergence figure of one data set and save it as PNG and PDF.

    Parameters
    ----------
    runs : sequence of dict
        One per run: ``method`` (a dict with ``label``, ``kind`` in
        {"tr", "arc", "baseline"}, ``name``, ``sampling``, ``sample_size``),
        ``seed`` and ``data`` (columns ``passes``, ``time``, ``loss``,
        ``test_accuracy``).
    f_star : float
        Reference optimal value (> 0) for the sub-optimality.
    path_stem : path
        Output path without suffix; ``.png`` and ``.pdf`` are written.
    title : str
        Figure title.
    sample_sizes : sequence of float or "auto"
        All Hessian sample sizes of the grid (to shade the lines consistently).

    Returns
    -------
    list of pathlib.Path
        The files written.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from experiments.papers.grid import Method
    >>> from experiments.papers.plots import plot_dataset
    >>> data = {"passes": np.array([2.0, 5.0]), "time": np.array([0.0, 0.1]),
    ...         "loss": np.array([2.0, 1.0]), "test_accuracy": np.array([0.5, 0.9])}
    >>> runs = [{"method": Method("tr", "TR", "full").as_dict(), "seed": None, "data": data}]
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     files = plot_dataset(runs, 1.0, Path(folder) / "toy", title="toy")
    ...     print([p.name for p in files], all(p.stat().st_size > 0 for p in files))
    ['toy.png', 'toy.pdf'] True
    """
    from matplotlib.figure import Figure

    kinds = {r["method"]["kind"] for r in runs}
    # A column per solver that ran (TR and ARC when only baselines did).
    panels = [(k, name) for k, name in _PANELS.items() if k in kinds] or [
        (k, _PANELS[k]) for k in ("tr", "arc")]
    fig = Figure(figsize=(6 * len(panels), 12.5))
    axes = fig.subplots(3, len(panels), sharey="row", squeeze=False)
    denom = abs(f_star) if f_star != 0 else 1.0
    for col, (kind, panel_title) in enumerate(panels):
        labelled: set[str] = set()
        chosen = [r for r in runs if r["method"]["kind"] in (kind, "baseline")]
        # Baselines first so the solver's own curves are drawn on top.
        chosen.sort(key=lambda r: r["method"]["kind"] != "baseline")
        for run in chosen:
            method, data = run["method"], run["data"]
            style = method_style(method, sample_sizes)
            label = method["label"] if method["label"] not in labelled else None
            labelled.add(method["label"])
            passes = np.asarray(data["passes"], dtype=float)
            seconds = np.maximum(np.asarray(data["time"], dtype=float), _TIME_FLOOR)
            subopt = np.maximum((np.asarray(data["loss"], dtype=float) - f_star) / denom,
                                SUBOPT_FLOOR)
            axes[0, col].plot(passes, subopt, label=label, **style)
            axes[1, col].plot(seconds, subopt, **style)
            acc = np.asarray(data["test_accuracy"], dtype=float)
            if np.isfinite(acc).any():
                axes[2, col].plot(passes, acc, **style)
        axes[0, col].set_title(panel_title)
        for row in (0, 1):
            ax = axes[row, col]
            ax.set_xscale("log")
            ax.set_yscale("log")
            for level in (1e-4, 1e-6):
                ax.axhline(level, color="0.6", linestyle=":", linewidth=0.8)
        axes[2, col].set_xscale("log")
        axes[0, col].set_xlabel("passes over the data (props / n)")
        axes[1, col].set_xlabel("wall time (s)")
        axes[2, col].set_xlabel("passes over the data (props / n)")
        if labelled:  # an empty panel (e.g. no ARC run) has no legend
            axes[0, col].legend(fontsize=7.5, loc="lower left", ncol=1, framealpha=0.85)
        for ax in axes[:, col]:
            ax.grid(True, which="major", alpha=0.3)
    axes[0, 0].set_ylabel("(f - f*) / f*")
    axes[1, 0].set_ylabel("(f - f*) / f*")
    axes[2, 0].set_ylabel("test accuracy")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return save_figures(fig, path_stem, dpi=110)
