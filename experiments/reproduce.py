"""Reproduce the ijcnn1 / covtype experiments of Xu, Roosta and Mahoney.

Usage::

    RANDOPT_DATA=/path/to/datasets python -m experiments.reproduce --dataset ijcnn1
    python -m experiments.reproduce --dataset synthetic --quick --out /tmp/repro

Problem (the papers' non-convex one): binary classification by non-linear
least squares, ``f(x) = (1/n) sum_i (b_i - sigmoid(a_i^T x))^2`` with
``b_i in {0, 1}``, no bias and no regulariser, from ``x0 = 0``
(:class:`randopt.oracles.NonlinearLeastSquares`). With 64 or fewer features
the data are densified (dense rows run the fused kernels faster than CSR).

Grid: TR and ARC (:func:`randopt.optimize.trust_region`, :func:`arc`, their
default sub-problem solvers: CG-Steihaug and Lanczos), each with the full
Hessian and with uniform and non-uniform sub-sampled Hessians of every
``--sample-sizes`` fraction (5% in the papers), ``--seeds`` seeds for the
sub-sampled runs; and the baselines a user would pick: ``scipy.optimize.minimize``
with trust-ncg (Hessian-vector products), trust-exact (explicit Hessian) and
L-BFGS-B, all on the same exact oracles, and gradient descent with Armijo
backtracking (``x - t g`` accepted when ``f`` drops by at least
``1e-4 t ||g||^2``; ``t`` halves on rejection and each iteration starts from
twice the last accepted step, initially 1).

Cost: "passes over the data" are ``props / n``, with props counted as the
papers do (:mod:`randopt.optimize._driver`): a gradient ``2n`` (its value from
the same pass), a trial value ``n``, a Hessian-vector product on ``|S|`` rows
``2|S|``. scipy's ``(f, g)`` call costs ``3n`` (a value and a gradient), a
``hessp`` ``2n``, an explicit Hessian ``2nd``; gradient descent pays ``n`` per
trial value and ``2n`` per accepted gradient. Wall time excludes the test
accuracy evaluation done in the callbacks (its time is measured and
subtracted). Every run stops at ``--max-passes`` passes, ``--max-iter``
iterations (first-order methods: 20 times as many), ``--max-time`` seconds
(for TR/ARC this includes the callbacks) or a gradient norm of ``--gtol``.

Output (``--out``, default ``results/<dataset>``; every file written to a temp
file and renamed):

* ``runs/<run>.csv``: one row per iteration (iteration, loss, grad_norm,
  test_accuracy, time, props, passes) and ``runs/<run>.json``: the run's
  settings and outcome. A rerun with the same settings skips finished runs.
* ``summary.json`` and ``summary.md``: ``f*`` (the lowest loss reached by any
  run of the grid, and which run reached it) and, per method, the passes and
  seconds to reach ``f <= f* (1 + 1e-4)`` and ``f* (1 + 1e-6)``, the final
  test accuracy and the speed-up over full TR (seconds to ``1e-4``), medians
  over seeds.
* ``<dataset>.png`` and ``<dataset>.pdf``: the convergence figure
  (:mod:`experiments.plots`).

ijcnn1 without its file in ``RANDOPT_DATA`` falls back to a synthetic data set
of the same shape (:func:`randopt.datasets.make_ijcnn1_like`) and says so in
the output and in the summary. covtype without its file explains how to get it
and exits with status 2. ``--quick`` runs a 3,000-row subset with a small
budget (well under a minute), for CI.

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
import hashlib
import json
import math
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.special import expit

from . import _io

__all__ = ["main", "Method", "Budget", "build_grid", "load_problem", "DataMissing"]

SCHEMA_VERSION = 1
QUICK_ROWS = 3_000
REL_TOLS = (1e-4, 1e-6)
FIRST_ORDER_ITER_FACTOR = 20
BASELINES = ("trust-ncg", "trust-exact", "L-BFGS-B", "GD")
COVTYPE_HELP = (
    "covtype is not in the data folder {folder}.\n"
    "Download covtype.libsvm.binary.scale.bz2 (about 15 MB) from\n"
    "  https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/binary/"
    "covtype.libsvm.binary.scale.bz2\n"
    "and put it, still bz2-compressed, in that folder (or point RANDOPT_DATA at a folder "
    "that holds it), then run this command again."
)


class DataMissing(Exception):
    """A required data file is absent; the message says how to get it."""


# --------------------------------------------------------------------------- grid


@dataclass(frozen=True)
class Method:
    """One method of the grid: TR/ARC with a Hessian sampling scheme, or a baseline."""

    kind: str  # "tr", "arc" or "baseline"
    name: str  # "TR", "ARC", or the baseline's name
    sampling: str | None = None  # "full", "uniform", "nonuniform"
    sample_size: float | None = None

    @property
    def stochastic(self) -> bool:
        return self.sampling in ("uniform", "nonuniform")

    @property
    def label(self) -> str:
        if self.kind == "baseline":
            return {"GD": "GD (Armijo)"}.get(self.name, f"scipy {self.name}")
        if self.sampling == "full":
            return f"{self.name} full"
        return f"{self.name} {self.sampling} {100 * self.sample_size:g}%"

    @property
    def slug(self) -> str:
        if self.kind == "baseline":
            return self.name.lower().replace("-", "_")
        if self.sampling == "full":
            return f"{self.kind}_full"
        return f"{self.kind}_{self.sampling}_{self.sample_size:g}"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "label": self.label, "slug": self.slug}


@dataclass(frozen=True)
class Budget:
    max_iter: int
    max_passes: float
    max_time: float
    gtol: float


def build_grid(
    solvers: list[str], samplings: list[str], sizes: list[float], baselines: list[str]
) -> list[Method]:
    grid = []
    for solver in solvers:
        for sampling in samplings:
            if sampling == "full":
                grid.append(Method(solver, solver.upper(), "full"))
            else:
                grid.extend(Method(solver, solver.upper(), sampling, s) for s in sizes)
    grid.extend(Method("baseline", b) for b in baselines)
    return grid


# --------------------------------------------------------------------------- data


@dataclass
class Problem:
    name: str
    X: Any
    y: np.ndarray
    X_test: Any
    y_test: np.ndarray
    source: str
    synthetic: bool
    notes: list[str] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, int]:
        return self.X.shape


def _synthetic_ijcnn1(seed: int = 0) -> tuple[Any, np.ndarray, Any, np.ndarray]:
    """ijcnn1-shaped train set and a 91,701-row test set from the same planted model."""
    from randopt.datasets import make_binary_classification, make_ijcnn1_like

    X, y, coef, intercept = make_ijcnn1_like(random_state=seed, return_coef=True)
    # Test features drawn as make_ijcnn1_like draws them (13 of 22 entries stored per row on
    # average); labels from the train set's planted model P(y=+1|x) = sigmoid(x coef + b).
    X_test = make_binary_classification(91_701, 22, density=13 / 22, random_state=seed + 1)[0]
    rng = np.random.default_rng([seed, 2])
    p = expit(np.asarray(X_test @ coef).ravel() + intercept)
    y_test = np.where(rng.random(p.shape[0]) < p, 1.0, -1.0)
    return X, y, X_test, y_test


def _with_constant_column(X: Any) -> Any:
    ones = np.ones((X.shape[0], 1))
    return sp.hstack([X, ones], format="csr") if sp.issparse(X) else np.hstack([X, ones])


def load_problem(dataset: str, *, quick: bool = False, seed: int = 0) -> Problem:
    """Load train and test data of ``dataset`` (raises :class:`DataMissing` for covtype)."""
    from randopt import datasets

    notes: list[str] = []
    synthetic = False
    if dataset == "ijcnn1":
        try:
            X, y = datasets.load_ijcnn1("train", download=False)
            X_test, y_test = datasets.load_ijcnn1("test", download=False)
            source = f"ijcnn1 (LIBSVM) from {datasets.get_data_home()}"
        except FileNotFoundError as err:
            X, y, X_test, y_test = _synthetic_ijcnn1(seed)
            synthetic = True
            source = "SYNTHETIC stand-in for ijcnn1 (randopt.datasets.make_ijcnn1_like)"
            notes.append(
                "The ijcnn1 files were not found, so this ran on a SYNTHETIC data set of the "
                "same shape (49,990 x 22 train, 91,701 test rows, ijcnn1's density and class "
                "balance, planted logistic labels). Its numbers are NOT those of ijcnn1. "
                f"({err})"
            )
    elif dataset == "covtype":
        try:
            X, y = datasets.load_covtype("train", download=False)
            X_test, y_test = datasets.load_covtype("test", download=False)
        except FileNotFoundError as err:
            raise DataMissing(
                COVTYPE_HELP.format(folder=datasets.get_data_home()) + f"\n({err})"
            ) from err
        source = f"covtype.binary (LIBSVM, 80/20 split) from {datasets.get_data_home()}"
    elif dataset == "synthetic":
        X, y, X_test, y_test = _synthetic_ijcnn1(seed)
        synthetic = True
        source = "synthetic, ijcnn1-shaped (randopt.datasets.make_ijcnn1_like)"
    else:
        raise ValueError(f"dataset must be ijcnn1, covtype or synthetic, got {dataset!r}")

    if quick:
        rng = np.random.default_rng(seed)
        keep = np.sort(rng.choice(X.shape[0], min(QUICK_ROWS, X.shape[0]), replace=False))
        keep_test = np.sort(
            rng.choice(X_test.shape[0], min(QUICK_ROWS, X_test.shape[0]), replace=False)
        )
        X, y, X_test, y_test = X[keep], y[keep], X_test[keep_test], y_test[keep_test]
        notes.append(
            f"--quick: a random subset of {X.shape[0]:,} training and {X_test.shape[0]:,} "
            "test rows and a small budget; for CI, not for conclusions."
        )
    if X.shape[1] <= 64:
        X = X.toarray() if sp.issparse(X) else np.ascontiguousarray(X)
        X_test = X_test.toarray() if sp.issparse(X_test) else np.ascontiguousarray(X_test)
    if synthetic:
        # The synthetic features are centred and the planted model has an intercept (ijcnn1's
        # first ten features are one-hot, which gives its linear model an implicit bias): without
        # a constant feature the model could not fit the 9.7% class balance.
        X, X_test = _with_constant_column(X), _with_constant_column(X_test)
        source += ", with a constant feature appended"
    return Problem(dataset, X, np.asarray(y), X_test, np.asarray(y_test), source, synthetic,
                   notes)


# --------------------------------------------------------------------------- runs


class _Accuracy:
    """Test accuracy of ``sign(X_test x)``, timing itself so the runs can subtract it."""

    def __init__(self, problem: Problem):
        self.X = problem.X_test
        self.positive = problem.y_test > 0
        self.seconds = 0.0

    def __call__(self, x: np.ndarray) -> float:
        t0 = time.perf_counter()
        acc = float(np.mean((np.asarray(self.X @ x).ravel() > 0) == self.positive))
        self.seconds += time.perf_counter() - t0
        return acc


def _run_newton(method: Method, objective, problem: Problem, budget: Budget, seed: int):
    from randopt.optimize import arc, trust_region

    accuracy = _Accuracy(problem)
    overhead_before: list[float] = []

    def callback(x, info):
        overhead_before.append(accuracy.seconds)
        return {"test_accuracy": accuracy(x)}

    solve = trust_region if method.kind == "tr" else arc
    n = objective.n_samples
    res = solve(
        objective, np.zeros(objective.n_features), hessian_sampling=method.sampling,
        hessian_sample_size=method.sample_size if method.stochastic else 0.05,
        gtol=budget.gtol, max_iter=budget.max_iter, max_props=budget.max_passes * n,
        max_time=budget.max_time, callback=callback, random_state=seed,
    )
    h = res.history
    columns = {
        "iteration": h["iteration"],
        "loss": h["loss"],
        "grad_norm": h["grad_norm"],
        "test_accuracy": h["test_accuracy"],
        "time": h["time"] - np.asarray(overhead_before[: len(h["time"])]),
        "props": h["props"],
        "passes": h["props"] / n,
        "accepted": h["accepted"].astype(int),
    }
    return columns, {"status": int(res.status), "message": str(res.message)}


class _Recorder:
    """Rows of a baseline's history, with its own clock that skips bookkeeping time."""

    def __init__(self, problem: Problem, n: int):
        self.accuracy = _Accuracy(problem)
        self.n = n
        self.rows: list[tuple] = []
        self.paused = 0.0
        self.t0 = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0 - self.paused

    def record(self, x, f, g, props, accepted=True) -> tuple[float, float]:
        """Append a row; returns ``(seconds, passes)`` at that row."""
        t = self.elapsed()
        start = time.perf_counter()
        acc = self.accuracy(x)
        self.rows.append((len(self.rows), f, float(np.linalg.norm(g)), acc, t, props,
                          props / self.n, int(accepted)))
        self.paused += time.perf_counter() - start
        return t, props / self.n

    def columns(self) -> dict[str, np.ndarray]:
        names = ("iteration", "loss", "grad_norm", "test_accuracy", "time", "props", "passes",
                 "accepted")
        data = np.array(self.rows, dtype=np.float64).reshape(len(self.rows), len(names))
        return {k: data[:, j] for j, k in enumerate(names)}


def _run_scipy(method: Method, objective, problem: Problem, budget: Budget):
    n, d = objective.n_samples, objective.n_features
    cache: dict[bytes, Any] = {}
    hess_cache: dict[bytes, np.ndarray] = {}
    props = [0.0]

    def evaluation(x):
        key = x.tobytes()
        ev = cache.get(key)
        if ev is None:
            ev = objective.evaluate(np.array(x, dtype=np.float64))
            if len(cache) > 8:
                cache.clear()
            cache[key] = ev
        return ev

    def fun(x):
        props[0] += 3 * n
        ev = objective.evaluate(np.array(x, dtype=np.float64))
        if len(cache) > 8:
            cache.clear()
        cache[x.tobytes()] = ev
        return ev.fun, ev.grad.copy()

    def matrix(x):
        key = x.tobytes()
        H = hess_cache.get(key)
        if H is None:
            H = objective.hessian_model(evaluation(x), explicit=True).toarray()
            hess_cache.clear()
            hess_cache[key] = H
        return H

    def hessp(x, p):
        props[0] += 2 * n
        return matrix(x) @ p

    def hess(x):
        props[0] += 2 * n * d
        return matrix(x).copy()

    x0 = np.zeros(d)
    rec = _Recorder(problem, n)
    start = time.perf_counter()
    ev0 = objective.evaluate(x0)  # bookkeeping only: scipy's first call pays for x0
    rec.paused += time.perf_counter() - start
    rec.record(x0, ev0.fun, ev0.grad, 3 * n)

    def callback(intermediate_result):
        x = intermediate_result.x
        start = time.perf_counter()
        ev = evaluation(x)  # cached: scipy evaluated x (uncharged if it had not)
        rec.paused += time.perf_counter() - start
        t, passes = rec.record(x, ev.fun, ev.grad, props[0])
        if passes >= budget.max_passes or t >= budget.max_time:
            raise StopIteration

    options: dict[str, Any] = {"maxiter": budget.max_iter, "gtol": budget.gtol}
    kwargs: dict[str, Any] = {}
    if method.name == "trust-ncg":
        kwargs["hessp"] = hessp
    elif method.name == "trust-exact":
        kwargs["hess"] = hess
    elif method.name == "L-BFGS-B":
        options.update(maxiter=budget.max_iter * FIRST_ORDER_ITER_FACTOR, ftol=0.0)
    res = minimize(fun, x0, jac=True, method=method.name, callback=callback, options=options,
                   **kwargs)
    return rec.columns(), {"status": int(res.status), "message": str(res.message)}


def _run_gd(objective, problem: Problem, budget: Budget):
    """Gradient descent with Armijo backtracking (module docstring)."""
    n, d = objective.n_samples, objective.n_features
    c, max_halvings = 1e-4, 60
    x = np.zeros(d)
    ev = objective.evaluate(x)
    props = 2.0 * n
    rec = _Recorder(problem, n)
    rec.record(x, ev.fun, ev.grad, props)
    step = 1.0
    status, message = 1, "maximum number of iterations reached"
    for _ in range(budget.max_iter * FIRST_ORDER_ITER_FACTOR):
        g = ev.grad
        gg = float(g @ g)
        if math.sqrt(gg) <= budget.gtol:
            status, message = 0, "gradient norm <= gtol"
            break
        step *= 2.0
        for _ in range(max_halvings):
            trial = objective.evaluate(x - step * g)
            props += n
            if trial.fun <= ev.fun - c * step * gg:
                break
            step *= 0.5
        else:
            status, message = 4, "Armijo backtracking found no decrease (precision limit)"
            break
        x = trial.x
        ev = trial
        props += 2 * n
        t, passes = rec.record(x, ev.fun, ev.grad, props)
        if passes >= budget.max_passes:
            status, message = 2, "maximum passes reached"
            break
        if t >= budget.max_time:
            status, message = 3, "maximum time reached"
            break
    return rec.columns(), {"status": status, "message": message}


def warm_up(grid: list[Method], objective, problem: Problem) -> float:
    """Run every method briefly on a few rows so that no timed run pays for Numba compilation.

    Returns the seconds spent (mostly first-call compilation or cache loading).
    """
    from randopt.oracles import NonlinearLeastSquares

    t0 = time.perf_counter()
    rows = min(problem.X.shape[0], 2_000)
    small = NonlinearLeastSquares(problem.X[:rows], problem.y[:rows])
    tiny = Budget(max_iter=3, max_passes=1e9, max_time=60.0, gtol=0.0)
    for method in grid:
        run_one(method, small, problem, tiny, 0)
    return time.perf_counter() - t0


def run_one(method: Method, objective, problem: Problem, budget: Budget, seed: int):
    """Run one method; returns ``(columns, outcome)``."""
    if method.kind in ("tr", "arc"):
        return _run_newton(method, objective, problem, budget, seed)
    if method.name == "GD":
        return _run_gd(objective, problem, budget)
    return _run_scipy(method, objective, problem, budget)


# --------------------------------------------------------------------------- summary


def _first_reach(data: dict[str, np.ndarray], target: float) -> tuple[float, float]:
    hit = np.flatnonzero(data["loss"] <= target)
    if hit.size == 0:
        return math.nan, math.nan
    k = int(hit[0])
    return float(data["passes"][k]), float(data["time"][k])


def _median(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return float(np.median(finite)) if finite else math.nan


def summarize(runs: list[dict[str, Any]], grid: list[Method]) -> dict[str, Any]:
    """``f*`` and the per-method metrics (medians over seeds)."""
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
            p, t = _first_reach(r["data"], f_star * (1 + tol))
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
            row[key] = _median([r["metrics"][key] for r in mine])
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


def _fmt(value: float, kind: str) -> str:
    if not math.isfinite(value):
        return "—"
    if kind == "passes":
        return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"
    if kind == "seconds":
        return f"{value:.3g}"
    if kind == "acc":
        return f"{100 * value:.2f}%"
    if kind == "x":
        return f"{value:.2g}×"
    return f"{value:.6g}"


def markdown_table(summary: dict[str, Any]) -> str:
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
            cells.append(_fmt(m[f"passes_to_{tol:g}"], "passes") + partial)
            cells.append(_fmt(m[f"seconds_to_{tol:g}"], "seconds"))
        cells += [_fmt(m["final_loss"], "loss"), _fmt(m["final_test_accuracy"], "acc"),
                  _fmt(m["speedup_vs_tr_full"], "x")]
        lines.append("| " + " | ".join(cells) + " |")
    return head + "\n".join(lines) + "\n"


def markdown_summary(summary: dict[str, Any], info: dict[str, Any]) -> str:
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


# --------------------------------------------------------------------------- driver


def _config_key(problem: Problem, budget: Budget, method: Method, seed: int | None,
                quick: bool) -> str:
    config = {
        "schema": SCHEMA_VERSION, "dataset": problem.name, "source": problem.source,
        "shape": list(problem.shape), "n_test": int(problem.X_test.shape[0]), "quick": quick,
        "budget": asdict(budget), "method": method.as_dict(), "seed": seed,
    }
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


def _parse_list(text: str, allowed: tuple[str, ...] | None, name: str) -> list[str]:
    items = [s.strip() for s in text.split(",") if s.strip()]
    if allowed is not None:
        bad = [s for s in items if s not in allowed]
        if bad:
            raise SystemExit(f"--{name}: unknown value(s) {bad}; choose from {list(allowed)}")
    return items


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m experiments.reproduce",
        description="Reproduce the ijcnn1/covtype experiments of Xu, Roosta and Mahoney "
                    "(sub-sampled TR and ARC against scipy baselines).",
    )
    p.add_argument("--dataset", choices=("ijcnn1", "covtype", "synthetic"), default="ijcnn1")
    p.add_argument("--solvers", default="tr,arc", help="comma list of tr, arc")
    p.add_argument("--sampling", default="full,uniform,nonuniform",
                   help="comma list of full, uniform, nonuniform")
    p.add_argument("--sample-sizes", default="0.05",
                   help="comma list of Hessian sample fractions, e.g. 0.01,0.05,0.1")
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
    args.solvers = _parse_list(args.solvers, ("tr", "arc"), "solvers")
    args.sampling = _parse_list(args.sampling, ("full", "uniform", "nonuniform"), "sampling")
    args.baselines = _parse_list(args.baselines, BASELINES, "baselines")
    try:
        args.sample_sizes = [float(s) for s in _parse_list(args.sample_sizes, None, "sizes")]
    except ValueError:
        p.error(f"--sample-sizes must be numbers, got {args.sample_sizes!r}")
    if any(not 0 < s <= 1 for s in args.sample_sizes):
        p.error("--sample-sizes are fractions in (0, 1]")
    if args.seeds is None:
        args.seeds = 1 if args.quick else 3
    if args.seeds < 1:
        p.error("--seeds must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
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
    from randopt.oracles import NonlinearLeastSquares

    objective = NonlinearLeastSquares(problem.X, problem.y)
    grid = build_grid(args.solvers, args.sampling, args.sample_sizes, args.baselines)
    jobs = [(m, s) for m in grid for s in (range(args.seeds) if m.stochastic else [None])]
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
            run_id = method.slug + ("" if seed is None else f"_seed{seed}")
            bar.set_postfix_str(run_id)
            key = _config_key(problem, budget, method, seed, args.quick)
            csv_path, meta_path = out / "runs" / f"{run_id}.csv", out / "runs" / f"{run_id}.json"
            meta = None
            if meta_path.is_file() and csv_path.is_file():
                try:
                    meta = json.loads(meta_path.read_text())
                except ValueError:
                    meta = None
            if meta is not None and meta.get("config_key") == key:
                data = _io.read_csv(csv_path)
                skipped.append(run_id)
            else:
                if math.isnan(warm_seconds):
                    warm_seconds = warm_up(grid, objective, problem)
                    bar.write(f"warm-up (Numba compilation or cache load, first calls): "
                              f"{warm_seconds:.2f} s", file=sys.stderr)
                t0 = time.perf_counter()
                data, outcome = run_one(method, objective, problem, budget,
                                        0 if seed is None else seed)
                meta = {
                    "run": run_id, "config_key": key, "method": method.as_dict(), "seed": seed,
                    "budget": asdict(budget), **outcome,
                    "wall_seconds": time.perf_counter() - t0,
                    "final_loss": float(data["loss"][-1]), "rows": len(data["loss"]),
                }
                _io.write_csv(csv_path, data)
                _io.write_json(meta_path, meta)  # written last: marks the run as finished
            runs.append({"id": run_id, "method": method.as_dict(), "seed": seed, "data": data,
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
