"""The one driver of the network training experiments: their options, their runs, their report.

:mod:`experiments.networks.mlp` (MLP classification) and
:mod:`experiments.networks.autoencoder` (the deep autoencoder) differ in their
data, network, loss and test metrics; the rest is here:

* :func:`add_common_arguments` and :func:`resolve_common`: the options of the
  methods, the budget, the baselines, the data and the output, and their
  experiment-specific defaults, or the reference code's with ``--paper``
  (:data:`PAPER`);
* :func:`run_experiment`: every method, each run stored (or reused) by the
  run store of :mod:`experiments.common.runs`;
* :func:`train_and_report`: the runs, then the summary, the table and the
  figure (:mod:`experiments.networks.summaries`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from ..common.cli import (
    fill_defaults,
    machine,
    output_folder,
    parse_list,
    parse_numbers,
    require_positive,
)
from ..common.runs import config_key, run_and_save
from .runs import (
    CG_STARTS,
    KINDS,
    SCHEMA_VERSION,
    NetBudget,
    NetMethod,
    build_methods,
    run_method,
)
from .summaries import summarize_runs, write_outputs

__all__ = ["PAPER", "add_common_arguments", "resolve_batch_size", "resolve_common",
           "run_experiment", "second_order_line", "train_and_report"]

#: The reference code's settings (``HFD/mnist_autoencoder.m``, ``cifar_classification.m``
#: and ``algorithms/subsampled_tr_cg.m`` of git-xp/Non-Convex-Newton), what ``--paper`` sets
#: where an option is not given: zero initialization; TR with a 5% uniform Hessian sample,
#: initial radius 1000 (no largest radius; eta 0.8 / 1e-4 and gamma 2 / 1.2, the solver's
#: defaults), CG-Steihaug to a relative residual of 1e-9 or 250 products (the solver's
#: defaults) from the random start; SGD with momentum 0.9, step 0.05, minibatches of 5% of
#: the rows.
PAPER = {"init": "zero", "tr_sizes": "0.05", "tr_radii": "1000", "cg_start": "random",
         "sgd_lrs": "0.05", "batch_fraction": 0.05, "methods": "tr,sgd"}


def add_common_arguments(
    p: argparse.ArgumentParser, *, methods: str = "tr,gn,sgd,adam", tr_sizes: str = "0.05,0.1",
) -> None:
    """Options the network experiments share (methods, budget, baselines, data, output).

    Parameters
    ----------
    p : argparse.ArgumentParser
    methods : str, default="tr,gn,sgd,adam"
        Default of ``--methods``.
    tr_sizes : str, default="0.05,0.1"
        Default of ``--tr-sizes``.

    Examples
    --------
    >>> import argparse
    >>> from experiments.networks.train import add_common_arguments
    >>> p = argparse.ArgumentParser(); add_common_arguments(p, methods="tr,sgd")
    >>> a = p.parse_args(["--max-passes", "5"]); a.max_passes, a.default_methods
    (5.0, 'tr,sgd')
    """
    p.add_argument("--methods", default=None,
                   help=f"comma list of tr, gn, hf, sgd, adam (default {methods}; --paper: "
                        f"{PAPER['methods']})")
    p.set_defaults(default_methods=methods, default_tr_sizes=tr_sizes)
    p.add_argument("--tr-sizes", default=None,
                   help=f"TR Hessian sample fractions (default {tr_sizes})")
    p.add_argument("--tr-radii", default=None,
                   help="comma list of TR initial radii (default: the solver's, 10)")
    p.add_argument("--cg-start", default=None,
                   help="comma list of TR's CG starts: zero (Steihaug's, the default) and/or "
                        "random (the reference code's: a random point of the 0.99 radius "
                        "sphere)")
    p.add_argument("--gn-size", type=float, default=0.05, help="GN sample fraction")
    p.add_argument("--hf-size", type=float, default=0.05,
                   help="HF (damped Gauss-Newton) curvature sample fraction")
    p.add_argument("--sgd-lrs", default=None, help="comma list: SGD learning-rate grid")
    p.add_argument("--adam-lrs", default=None, help="comma list: Adam learning-rate grid")
    p.add_argument("--momentum", type=float, default=0.9, help="SGD momentum")
    p.add_argument("--batch-size", type=int, default=None,
                   help="SGD/Adam minibatch rows (--paper: 5%% of the training rows)")
    p.add_argument("--max-passes", type=float, default=None, help="passes per run")
    p.add_argument("--max-time", type=float, default=None, help="seconds per run")
    p.add_argument("--max-iter", type=int, default=None, help="TR/GN trial steps per run")
    p.add_argument("--records-per-pass", type=float, default=None,
                   help="history rows per pass of SGD/Adam")
    p.add_argument("--n-train", type=int, default=None, help="MNIST training rows")
    p.add_argument("--n-test", type=int, default=None, help="MNIST test rows")
    p.add_argument("--init", choices=("glorot", "normalized", "zero"), default=None,
                   help="initial weights: Glorot's (the default), the reference code's "
                        "normalized random vector (unit norm, near the saddle at zero) or its "
                        "default, zero (a symmetric saddle; --paper)")
    p.add_argument("--paper", action="store_true",
                   help="the reference code's settings where not given: zero initialization, "
                        "TR 5%% radius 1000 with random-start CG, HF's paper preset, SGD "
                        "step 0.05 on 5%% minibatches (see experiments.networks.train.PAPER)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the initial weights, the data split and the samples")
    p.add_argument("--threads", type=int, default=None,
                   help="XLA CPU threads (default: all); set before JAX starts")
    p.add_argument("--out", default=None, help="output folder")
    p.add_argument("--quick", action="store_true", help="small data, grid and budget, for CI")


def resolve_common(
    p: argparse.ArgumentParser,
    args: argparse.Namespace,
    *,
    sgd_lrs: str,
    adam_lrs: str,
    batch_size: int,
    max_passes: float,
    max_time: float,
    records_per_pass: float,
) -> argparse.Namespace:
    """Split and check the options of :func:`add_common_arguments`, filling in the defaults
    given here for the ones left unset.

    Parameters
    ----------
    p : argparse.ArgumentParser
        For the error messages.
    args : argparse.Namespace
        Parsed options (modified in place).
    sgd_lrs, adam_lrs : str
        Default learning-rate grids (comma lists).
    batch_size : int
    max_passes, max_time : float
    records_per_pass : float
        Defaults of the budget.

    Returns
    -------
    argparse.Namespace
        ``args``.

    Examples
    --------
    >>> import argparse
    >>> from experiments.networks.train import add_common_arguments, resolve_common
    >>> p = argparse.ArgumentParser(); add_common_arguments(p)
    >>> a = resolve_common(p, p.parse_args(["--tr-radii", "1,100"]), sgd_lrs="0.1",
    ...                    adam_lrs="0.01", batch_size=64, max_passes=5.0, max_time=60.0,
    ...                    records_per_pass=2.0)
    >>> a.methods, a.tr_sizes, a.tr_radii, a.sgd_lrs, a.batch_size, a.max_iter
    (['tr', 'gn', 'sgd', 'adam'], [0.05, 0.1], [1.0, 100.0], [0.1], 64, 10000)
    >>> a.init, a.cg_start
    ('glorot', ['zero'])

    The reference code's settings, where not given (the minibatch size, 5% of
    the rows, is set when the rows are known: ``batch_size`` None):

    >>> a = resolve_common(p, p.parse_args(["--paper"]), sgd_lrs="0.1", adam_lrs="0.01",
    ...                    batch_size=64, max_passes=5.0, max_time=60.0, records_per_pass=2.0)
    >>> a.methods, a.init, a.tr_sizes, a.tr_radii, a.cg_start, a.sgd_lrs, a.batch_size
    (['tr', 'sgd'], 'zero', [0.05], [1000.0], ['random'], [0.05], None)
    """
    paper = PAPER if args.paper else {}
    fill_defaults(args, methods=paper.get("methods", args.default_methods),
                  tr_sizes=paper.get("tr_sizes", args.default_tr_sizes),
                  init=paper.get("init", "glorot"), cg_start=paper.get("cg_start", "zero"),
                  tr_radii=paper.get("tr_radii"), sgd_lrs=paper.get("sgd_lrs", sgd_lrs))
    args.methods = parse_list(args.methods, "methods", KINDS)
    if not args.methods:
        p.error(f"--methods: choose from {list(KINDS)}")
    args.tr_sizes = parse_numbers(args.tr_sizes, "tr-sizes")
    if (any(s > 1 for s in args.tr_sizes + [args.gn_size, args.hf_size])
            or args.gn_size <= 0 or args.hf_size <= 0):
        p.error("--tr-sizes, --gn-size and --hf-size are fractions in (0, 1]")
    args.tr_radii = parse_numbers(args.tr_radii, "tr-radii") if args.tr_radii else [None]
    args.cg_start = parse_list(args.cg_start, "cg-start", CG_STARTS)
    if not args.cg_start:
        p.error(f"--cg-start: choose from {list(CG_STARTS)}")
    args.sgd_lrs = parse_numbers(args.sgd_lrs, "sgd-lrs")
    args.adam_lrs = parse_numbers(args.adam_lrs or adam_lrs, "adam-lrs")
    fill_defaults(args, max_passes=max_passes, max_time=max_time, max_iter=10_000,
                  records_per_pass=records_per_pass)
    if not args.paper:
        fill_defaults(args, batch_size=batch_size)
    require_positive(args, "max_passes", "max_time", "max_iter", "records_per_pass",
                     *(["batch_size"] if args.batch_size is not None else []))
    if not 0 <= args.momentum < 1:
        p.error("--momentum must lie in [0, 1)")
    return args


def resolve_batch_size(args: argparse.Namespace, n: int) -> int:
    """The minibatch rows of the baselines: ``--batch-size``, or under ``--paper`` the
    reference's 5% of the ``n`` training rows (set in ``args``).

    Parameters
    ----------
    args : argparse.Namespace
        From :func:`resolve_common`.
    n : int
        Training rows.

    Returns
    -------
    int

    Examples
    --------
    >>> import argparse
    >>> from experiments.networks.train import resolve_batch_size
    >>> resolve_batch_size(argparse.Namespace(batch_size=None), 10_000)
    500
    """
    if args.batch_size is None:
        args.batch_size = max(1, int(PAPER["batch_fraction"] * n))
    return args.batch_size


def second_order_line(args: argparse.Namespace) -> str:
    """The summary's sentence about the second-order methods' settings.

    Parameters
    ----------
    args : argparse.Namespace
        From :func:`resolve_common`.

    Returns
    -------
    str

    Examples
    --------
    >>> import argparse
    >>> from experiments.networks.train import second_order_line
    >>> line = second_order_line(argparse.Namespace(tr_sizes=[0.05], tr_radii=[1000.0],
    ...                                             cg_start=["random"], paper=True))
    >>> line.split(" (")[-1]
    "initial radius 1000, CG-Steihaug from the reference's random start), Hessian samples [0.05]."
    """
    radii = ("initial radius" + ("" if len(args.tr_radii) == 1 else "s") + " "
             + ", ".join(f"{r:g}" if r else "10" for r in args.tr_radii))
    starts = " and ".join("from 0" if c == "zero" else "from the reference's random start"
                          for c in args.cg_start)
    head = ("TR: the reference code's settings (--paper)" if args.paper else
            "TR/GN: the solvers' default hyper-parameters")
    return f"{head} ({radii}, CG-Steihaug {starts}), Hessian samples {args.tr_sizes}."


def run_experiment(
    out: Path,
    methods: Sequence[NetMethod],
    objective: Any,
    budget: NetBudget,
    seed: int,
    metrics: Callable[[Any], dict[str, float]],
    batch_loss: Callable[[Any, Any, Any], Any],
    data: tuple[np.ndarray, np.ndarray],
    base_config: dict[str, Any],
) -> tuple[list[dict[str, Any]], list[str]]:
    """Run (or reuse) every method; returns the runs and the ids of the reused ones.

    Parameters
    ----------
    out : path
    methods : sequence of NetMethod
    objective, budget, seed, metrics, batch_loss, data
        As for :func:`experiments.networks.runs.run_method`.
    base_config : dict
        The experiment's settings (data, network); each run's key adds its
        method, budget and seed.

    Returns
    -------
    runs : list of dict
        ``id``, ``method``, ``seed``, ``data``, ``meta``.
    reused : list of str
    """
    runs, reused = [], []
    for method in methods:
        run = f"{method.slug}_seed{seed}"
        config = {**base_config, "method": method.as_dict(), "budget": asdict(budget),
                  "seed": seed}
        print(f"  {run} ...", end="", file=sys.stderr, flush=True)
        data_, meta, was_reused = run_and_save(
            out, run, config_key(config, SCHEMA_VERSION),
            lambda m=method: run_method(m, objective, budget, seed, metrics, batch_loss, data),
            settings={"config": config})
        print(" reused" if was_reused else
              f" {meta['wall_seconds']:.1f} s, loss {meta['final_loss']:.4g}",
              file=sys.stderr)
        if was_reused:
            reused.append(run)
        runs.append({"id": run, "method": method.as_dict(), "seed": seed, "data": data_,
                     "meta": meta})
    return runs, reused


def train_and_report(
    args: argparse.Namespace,
    tag: str,
    objective: Any,
    data: tuple[np.ndarray, np.ndarray],
    batch_loss: Callable[[Any, Any, Any], Any],
    metrics: Callable[[Any], dict[str, float]],
    base: dict[str, Any],
    *,
    header: str,
    title: str,
    lines: Sequence[str],
    figure_title: str,
    rows: Sequence[tuple[str, str, bool]],
    columns: Sequence[tuple[str, str, str]],
) -> int:
    """Run every method of ``args`` on ``objective`` and write the experiment's report.

    Parameters
    ----------
    args : argparse.Namespace
        From :func:`resolve_common` (methods, budget, seed, ``out``).
    tag : str
        The experiment's name: the default output folder ``results/<tag>``
        and the figure's file stem.
    objective : randopt.oracles.JaxObjective
        The training loss (:func:`experiments.networks.models.mlp_objective`).
    data : (X, y)
        Its training rows (for the baselines' minibatches).
    batch_loss : callable
        ``batch_loss(params, X_batch, y_batch)``: the objective on a batch.
    metrics : callable
        ``metrics(params) -> dict`` of the test metrics recorded with the history.
    base : dict
        The experiment's settings (data, network): part of every run's key and
        of ``summary.json``.
    header : str
        The line printed (stderr) before the runs.
    title : str
        The title of ``summary.md``.
    lines : sequence of str
        Its lines about the settings.
    figure_title : str
    rows : sequence of (key, y label, log y)
        The figure's rows (:func:`experiments.networks.summaries.plot_runs`).
    columns : sequence of (key, header, format)
        The table's metric columns; ``key`` is ``final_<metric>`` or
        ``best_<metric>`` of a metric of ``metrics``.

    Returns
    -------
    int
        0.
    """
    out = output_folder(args.out, tag)
    resolve_batch_size(args, objective.n_samples)
    budget = NetBudget(args.max_passes, args.max_time, args.max_iter, args.batch_size,
                       args.records_per_pass, args.momentum)
    methods = build_methods(args.methods, args.tr_sizes, args.tr_radii, args.gn_size,
                            args.sgd_lrs, args.adam_lrs, args.cg_start, args.hf_size,
                            "paper" if args.paper else None)
    print(f"{header}; {len(methods)} runs -> {out}", file=sys.stderr)
    runs, reused = run_experiment(out, methods, objective, budget, args.seed, metrics,
                                  batch_loss, data, base)
    metric_keys = list(dict.fromkeys(k.split("_", 1)[1] for k, _, _ in columns))
    summary = summarize_runs(runs, metric_keys,
                             marks=[f * args.max_passes for f in (0.25, 0.5, 1.0)])
    info = {"title": title, "lines": list(lines), "machine": machine(jax=True)}
    write_outputs(out, tag, runs, summary, info,
                  {**base, "budget": asdict(budget), "sgd_lrs": args.sgd_lrs,
                   "adam_lrs": args.adam_lrs, "reused": reused},
                  title=figure_title, rows=rows, columns=columns)
    return 0
