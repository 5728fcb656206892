"""One run of the reproduction: a method on the problem within a budget, saved as CSV + JSON.

Each run is written to ``runs/<run_id>.csv`` (one row per iteration:
iteration, loss, grad_norm, test_accuracy, time, props, passes, accepted) and
``runs/<run_id>.json`` (settings and outcome), both atomically; the JSON is
written last and records a hash of the run's configuration, so a rerun with
the same settings reuses finished runs and redoes the rest (a run killed
between its two files included): the store of :mod:`experiments.common.runs`,
keyed by :func:`run_config`.

Cost accounting ("passes" = props / n, as the papers count): a gradient
``2n`` (its value from the same pass), a trial value ``n``, a Hessian-vector
(or Gauss-Newton-vector) product on ``|S|`` rows ``2|S|``
(:mod:`randopt.optimize`). scipy's ``(f, g)`` call costs ``3n``, a ``hessp``
``2n``, an explicit Hessian ``2nd``; gradient descent pays ``n`` per trial
value and ``2n`` per accepted gradient. Wall time excludes the test-accuracy
evaluation of the callbacks (measured and subtracted).

Gradient descent uses Armijo backtracking: ``x - t g`` is accepted when ``f``
drops by at least ``1e-4 t ||g||^2``; ``t`` halves on rejection and each
iteration starts from twice the last accepted step, initially 1.

Gauss-Newton runs as in the papers' code: CG to a relative residual of
``1e-6`` or ``min(d, 20)`` iterations (MATLAB ``pcg``'s defaults), then Armijo
backtracking from ``t = 1`` with ``c1 = 1e-4``, halving at most 20 times
(:func:`randopt.optimize.gauss_newton`'s defaults, but for ``cg_max_iter``).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict
from typing import Any

import numpy as np
from scipy.optimize import minimize

from ..common.runs import Stopwatch
from .grid import FIRST_ORDER_ITER_FACTOR, Budget, Method
from .problems import Problem, make_objective

__all__ = [
    "COLUMNS",
    "SCHEMA_VERSION",
    "AccuracyMeter",
    "run_config",
    "run_gradient_descent",
    "run_newton",
    "run_one",
    "run_scipy",
    "warm_up",
]

# Bump when the meaning of a run's files changes: older runs are then redone.
SCHEMA_VERSION = 1
COLUMNS = ("iteration", "loss", "grad_norm", "test_accuracy", "time", "props", "passes",
           "accepted")


class AccuracyMeter:
    """Test accuracy of ``sign(X_test x)``, timing itself so the runs can subtract it.

    Parameters
    ----------
    problem : Problem
        Its ``X_test`` and ``y_test`` are used.

    Examples
    --------
    >>> import numpy as np
    >>> from experiments.papers.problems import Problem
    >>> from experiments.papers.runs import AccuracyMeter
    >>> X, y = np.array([[1.0], [-1.0], [2.0]]), np.array([1.0, -1.0, -1.0])
    >>> meter = AccuracyMeter(Problem("toy", X, y, X, y, "toy", True))
    >>> round(meter(np.array([1.0])), 4), meter.seconds >= 0
    (0.6667, True)
    """

    def __init__(self, problem: Problem):
        self.X = problem.X_test
        self.positive = problem.y_test > 0
        self.seconds = 0.0

    def __call__(self, x: np.ndarray) -> float:
        t0 = time.perf_counter()
        acc = float(np.mean((np.asarray(self.X @ x).ravel() > 0) == self.positive))
        self.seconds += time.perf_counter() - t0
        return acc


def run_newton(
    method: Method, objective: Any, problem: Problem, budget: Budget, seed: int
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Run TR, ARC or GN (:mod:`randopt.optimize`) with the method's Hessian sampling.

    Parameters
    ----------
    method : Method
        A method of kind "tr", "arc" or "gn".
    objective : randopt.oracles objective
        From :func:`experiments.papers.problems.make_objective`.
    problem : Problem
        For the test accuracy.
    budget : Budget
        Stopping rules.
    seed : int
        ``random_state`` of the solver.

    Returns
    -------
    columns : dict of ndarray
        The CSV columns (:data:`COLUMNS`).
    outcome : dict
        ``status`` and ``message`` of the solver.

    Examples
    --------
    >>> import numpy as np
    >>> from experiments.papers.grid import Budget, Method
    >>> from experiments.papers.problems import Problem, make_objective
    >>> from experiments.papers.runs import run_newton
    >>> X = np.random.default_rng(0).standard_normal((200, 3))
    >>> y = np.where(X[:, 0] > 0, 1.0, -1.0)
    >>> columns, outcome = run_newton(Method("tr", "TR", "full"), make_objective(X, y),
    ...                               Problem("toy", X, y, X, y, "toy", True),
    ...                               Budget(5, 1e9, 60.0, 0.0), seed=0)
    >>> len(columns["loss"]), bool(columns["loss"][-1] < columns["loss"][0])
    (6, True)
    """
    from randopt.optimize import arc, gauss_newton, trust_region

    accuracy = AccuracyMeter(problem)
    overhead_before: list[float] = []

    def callback(x, info):
        overhead_before.append(accuracy.seconds)
        return {"test_accuracy": accuracy(x)}

    solve = {"tr": trust_region, "arc": arc, "gn": gauss_newton}[method.kind]
    n, d = objective.n_samples, objective.n_features
    # pcg's iteration cap in the papers' code, min(d, 20); the other options are defaults.
    extra = {"cg_max_iter": min(d, 20)} if method.kind == "gn" else {}
    if method.kind in ("tr", "arc") and method.sample_size != "auto":
        # The papers' fixed sub-problem tolerance, pinned rather than inherited from the
        # library's default ("auto"), so the reproduction stays the papers' under any default.
        extra["subproblem_tol"] = 1e-9
    res = solve(
        objective, np.zeros(d), hessian_sampling=method.sampling,
        hessian_sample_size=method.sample_size if method.stochastic else 0.05,
        gtol=budget.gtol, max_iter=budget.max_iter, max_props=budget.max_passes * n,
        max_time=budget.max_time, callback=callback, random_state=seed, **extra,
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
        self.accuracy = AccuracyMeter(problem)
        self.n = n
        self.rows: list[tuple] = []
        self.clock = Stopwatch()

    def record(self, x, f, g, props, accepted=True) -> tuple[float, float]:
        """Append a row; returns ``(seconds, passes)`` at that row."""
        t = self.clock.elapsed()
        acc = self.clock.excluded(lambda: self.accuracy(x))
        self.rows.append((len(self.rows), f, float(np.linalg.norm(g)), acc, t, props,
                          props / self.n, int(accepted)))
        return t, props / self.n

    def columns(self) -> dict[str, np.ndarray]:
        data = np.array(self.rows, dtype=np.float64).reshape(len(self.rows), len(COLUMNS))
        return {k: data[:, j] for j, k in enumerate(COLUMNS)}


def run_scipy(
    method: Method, objective: Any, problem: Problem, budget: Budget
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Run ``scipy.optimize.minimize`` (trust-ncg, trust-exact or L-BFGS-B) on the objective.

    Parameters
    ----------
    method : Method
        A baseline whose name is a ``minimize`` method.
    objective : randopt.oracles objective
        From :func:`experiments.papers.problems.make_objective`.
    problem : Problem
        For the test accuracy.
    budget : Budget
        Stopping rules (L-BFGS-B: ``FIRST_ORDER_ITER_FACTOR`` x the iterations).

    Returns
    -------
    columns : dict of ndarray
        The CSV columns (:data:`COLUMNS`).
    outcome : dict
        ``status`` and ``message`` of scipy's result.

    Examples
    --------
    >>> import numpy as np
    >>> from experiments.papers.grid import Budget, Method
    >>> from experiments.papers.problems import Problem, make_objective
    >>> from experiments.papers.runs import run_scipy
    >>> X = np.random.default_rng(0).standard_normal((200, 3))
    >>> y = np.where(X[:, 0] > 0, 1.0, -1.0)
    >>> columns, _ = run_scipy(Method("baseline", "trust-ncg"), make_objective(X, y),
    ...                        Problem("toy", X, y, X, y, "toy", True), Budget(3, 1e9, 60.0, 0.0))
    >>> columns["props"][:2].tolist()  # (f, g) at x0: 3n; then (f, g) + two hessp: 3n + 4n
    [600.0, 2000.0]
    """
    n, d = objective.n_samples, objective.n_features
    cache: dict[bytes, Any] = {}
    hess_cache: dict[bytes, np.ndarray] = {}
    props = [0.0]

    def evaluation(x, fresh=False):
        key = x.tobytes()
        ev = None if fresh else cache.get(key)
        if ev is None:
            ev = objective.evaluate(np.array(x, dtype=np.float64))
            if len(cache) > 8:
                cache.clear()
            cache[key] = ev
        return ev

    def fun(x):
        props[0] += 3 * n
        ev = evaluation(x, fresh=True)  # scipy's own call: computed (and charged) afresh
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
    # Bookkeeping only: scipy's first call pays for x0.
    ev0 = rec.clock.excluded(lambda: objective.evaluate(x0))
    rec.record(x0, ev0.fun, ev0.grad, 3 * n)

    def callback(intermediate_result):
        x = intermediate_result.x
        # Cached: scipy evaluated x (uncharged if it had not).
        ev = rec.clock.excluded(lambda: evaluation(x))
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


def run_gradient_descent(
    objective: Any, problem: Problem, budget: Budget
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Gradient descent with Armijo backtracking (see the module docstring).

    Parameters
    ----------
    objective : randopt.oracles objective
        From :func:`experiments.papers.problems.make_objective`.
    problem : Problem
        For the test accuracy.
    budget : Budget
        Stopping rules (``FIRST_ORDER_ITER_FACTOR`` x the iterations).

    Returns
    -------
    columns : dict of ndarray
        The CSV columns (:data:`COLUMNS`).
    outcome : dict
        ``status`` (0 gtol, 1 iterations, 2 passes, 3 time, 4 no decrease) and ``message``.

    Examples
    --------
    >>> import numpy as np
    >>> from experiments.papers.grid import Budget
    >>> from experiments.papers.problems import Problem, make_objective
    >>> from experiments.papers.runs import run_gradient_descent
    >>> X = np.random.default_rng(0).standard_normal((200, 3))
    >>> y = np.where(X[:, 0] > 0, 1.0, -1.0)
    >>> columns, outcome = run_gradient_descent(
    ...     make_objective(X, y), Problem("toy", X, y, X, y, "toy", True),
    ...     Budget(1, 1e9, 60.0, 0.0))
    >>> len(columns["loss"]), outcome["status"]  # 20 iterations for a budget of 1
    (21, 1)
    """
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


def run_one(
    method: Method, objective: Any, problem: Problem, budget: Budget, seed: int
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Run one method (TR/ARC/GN, a scipy baseline or gradient descent); see the runners above.

    Parameters
    ----------
    method : Method
        Any method of the grid.
    objective : randopt.oracles objective
        From :func:`experiments.papers.problems.make_objective`.
    problem : Problem
        For the test accuracy.
    budget : Budget
        Stopping rules.
    seed : int
        ``random_state`` of TR/ARC/GN (the baselines are deterministic).

    Returns
    -------
    columns : dict of ndarray
    outcome : dict

    Examples
    --------
    >>> import numpy as np
    >>> from experiments.papers.grid import Budget, Method
    >>> from experiments.papers.problems import Problem, make_objective
    >>> from experiments.papers.runs import run_one
    >>> X = np.random.default_rng(0).standard_normal((200, 3))
    >>> y = np.where(X[:, 0] > 0, 1.0, -1.0)
    >>> columns, _ = run_one(Method("baseline", "L-BFGS-B"), make_objective(X, y),
    ...                      Problem("toy", X, y, X, y, "toy", True), Budget(2, 1e9, 60.0, 0.0), 0)
    >>> sorted(columns) == sorted(["iteration", "loss", "grad_norm", "test_accuracy", "time",
    ...                            "props", "passes", "accepted"])
    True
    """
    if method.kind in ("tr", "arc", "gn"):
        return run_newton(method, objective, problem, budget, seed)
    if method.name == "GD":
        return run_gradient_descent(objective, problem, budget)
    return run_scipy(method, objective, problem, budget)


def warm_up(grid: list[Method], problem: Problem) -> float:
    """Run every method briefly on a few rows so that no timed run pays for Numba compilation.

    Parameters
    ----------
    grid : list of Method
        The methods to warm up.
    problem : Problem
        Its first 2,000 training rows are used.

    Returns
    -------
    float
        The seconds spent (mostly first-call compilation or cache loading).

    Examples
    --------
    >>> import numpy as np
    >>> from experiments.papers.grid import Method
    >>> from experiments.papers.problems import Problem
    >>> from experiments.papers.runs import warm_up
    >>> X = np.random.default_rng(0).standard_normal((50, 2))
    >>> y = np.where(X[:, 0] > 0, 1.0, -1.0)
    >>> warm_up([Method("baseline", "GD")], Problem("toy", X, y, X, y, "toy", True)) >= 0
    True
    """
    t0 = time.perf_counter()
    rows = min(problem.X.shape[0], 2_000)
    small = make_objective(problem.X[:rows], problem.y[:rows])
    tiny = Budget(max_iter=3, max_passes=1e9, max_time=60.0, gtol=0.0)
    for method in grid:
        run_one(method, small, problem, tiny, 0)
    return time.perf_counter() - t0


def run_config(problem: Problem, budget: Budget, method: Method, seed: int | None,
               quick: bool) -> dict[str, Any]:
    """Everything a run's result depends on (data, budget, method, seed), for its key.

    The key is :func:`experiments.common.runs.config_key` of this with
    :data:`SCHEMA_VERSION`.

    Parameters
    ----------
    problem : Problem
        Its name, source and shapes enter the key.
    budget : Budget
        Stopping rules.
    method : Method
        The method.
    seed : int or None
        The run's seed.
    quick : bool
        Whether the run is a ``--quick`` one.

    Returns
    -------
    dict

    Examples
    --------
    >>> import numpy as np
    >>> from experiments.common.runs import config_key
    >>> from experiments.papers.grid import Budget, Method
    >>> from experiments.papers.problems import Problem
    >>> from experiments.papers.runs import SCHEMA_VERSION, run_config
    >>> p = Problem("toy", np.ones((3, 2)), np.ones(3), np.ones((1, 2)), np.ones(1), "t", True)
    >>> b, m = Budget(5, 10.0, 1.0, 0.0), Method("tr", "TR", "full")
    >>> run_config(p, b, m, None, False)["shape"]
    [3, 2]
    >>> config_key(run_config(p, b, m, 0, False), SCHEMA_VERSION) == config_key(
    ...     run_config(p, b, m, 1, False), SCHEMA_VERSION)
    False
    """
    return {
        "dataset": problem.name, "source": problem.source, "shape": list(problem.shape),
        "n_test": int(problem.X_test.shape[0]), "quick": quick, "budget": asdict(budget),
        "method": method.as_dict(), "seed": seed,
    }
