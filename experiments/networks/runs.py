"""The methods of the network training experiments and one run of each.

* :class:`NetMethod` (one method: sub-sampled TR or GN, or an optax baseline at
  one learning rate), :class:`NetBudget` (what every run may spend) and
  :func:`build_methods` (an experiment's methods, in table order);
* :func:`run_second_order` (:func:`randopt.optimize.trust_region`,
  :func:`randopt.optimize.gauss_newton`), :func:`run_optax` (minibatch SGD
  with momentum, Adam) and :func:`run_method` (either), each recording its
  history with the time of the metrics' evaluations excluded.

The driver (:mod:`experiments.networks.train`) stores the runs with the run
store of :mod:`experiments.common.runs`, keyed with :data:`SCHEMA_VERSION`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..common.runs import Stopwatch

__all__ = [
    "CG_STARTS",
    "KINDS",
    "SCHEMA_VERSION",
    "SECOND_ORDER",
    "NetBudget",
    "NetMethod",
    "build_methods",
    "run_method",
    "run_optax",
    "run_second_order",
]

# Bump when the meaning of a run's files changes: older runs are then redone. The key version
# of every network experiment's files (training runs, spectrum steps, ABSA runs).
SCHEMA_VERSION = 2
KINDS = ("tr", "gn", "hf", "sgd", "adam")
#: The second-order kinds (the others are the optax baselines).
SECOND_ORDER = ("tr", "gn", "hf")
#: Where TR's CG starts (``NetMethod.cg_start``).
CG_STARTS = ("zero", "random")
_NAMES = {"tr": "TR", "gn": "GN", "hf": "HF", "sgd": "SGD+momentum", "adam": "Adam"}


@dataclass(frozen=True)
class NetMethod:
    """One method of a network experiment.

    Parameters
    ----------
    kind : {"tr", "gn", "hf", "sgd", "adam"}
        Trust region, Gauss-Newton with a line search, Hessian-free (damped
        Gauss-Newton, :func:`randopt.optimize.hessian_free`; all three
        sub-sampled), or an optax baseline.
    sample_size : float or None
        Fraction of rows in the Hessian / Gauss-Newton sample (TR, GN, HF).
    radius : float or None
        Initial trust-region radius (TR, GN); None: the solver's default.
    learning_rate : float or None
        Step size of SGD / Adam.
    cg_start : {"zero", "random"}, default="zero"
        Where TR's CG-Steihaug starts (:class:`randopt.optimize.subproblems.CGSteihaug`):
        at 0, or at the reference code's random point of the ``0.99 * radius``
        sphere (and after a rejection at the shrunk rejected step).
    preset : {"martens", "paper"} or None, default=None
        HF's ``preset`` (None: the solver's default, Martens' choices).

    Examples
    --------
    >>> from experiments.networks.runs import NetMethod
    >>> NetMethod("tr", sample_size=0.1).label, NetMethod("tr", 0.05, radius=100.0).slug
    ('TR 10%', 'tr_0.05_r100')
    >>> NetMethod("adam", learning_rate=0.001).slug, NetMethod("sgd", learning_rate=0.1).family
    ('adam_lr0.001', 'sgd')
    >>> m = NetMethod("tr", 0.05, radius=1000.0, cg_start="random")
    >>> m.label, m.slug
    ('TR 5%, radius 1000, random CG start', 'tr_0.05_r1000_rand')
    """

    kind: str
    sample_size: float | None = None
    radius: float | None = None
    learning_rate: float | None = None
    cg_start: str = "zero"
    preset: str | None = None

    def __post_init__(self) -> None:
        if self.cg_start not in CG_STARTS:
            raise ValueError(f"cg_start must be one of {CG_STARTS}, got {self.cg_start!r}")

    @property
    def family(self) -> str:
        """What the learning-rate selection groups by: the kind, and the sample size."""
        if self.kind in SECOND_ORDER:
            return f"{self.kind}_{self.sample_size:g}"
        return self.kind

    @property
    def label(self) -> str:
        """Name in tables and legends."""
        name = _NAMES[self.kind]
        if self.kind in SECOND_ORDER:
            radius = "" if self.radius is None else f", radius {self.radius:g}"
            start = ", random CG start" if self.cg_start == "random" else ""
            preset = "" if self.preset is None else f" ({self.preset})"
            return f"{name} {100 * self.sample_size:g}%{radius}{start}{preset}"
        return f"{name} lr {self.learning_rate:g}"

    @property
    def slug(self) -> str:
        """Name in file names and JSON keys."""
        if self.kind in SECOND_ORDER:
            return f"{self.kind}_{self.sample_size:g}" + (
                "" if self.radius is None else f"_r{self.radius:g}") + (
                "_rand" if self.cg_start == "random" else "") + (
                "" if self.preset is None else f"_{self.preset}")
        return f"{self.kind}_lr{self.learning_rate:g}"

    def as_dict(self) -> dict[str, Any]:
        """The fields with ``label``, ``slug`` and ``family``, as stored in the run files.

        ``cg_start`` and ``preset`` are left out at their defaults, so that the settings (and the
        stored runs' keys) of the runs from before the option are unchanged.
        """
        fields = asdict(self)
        if fields["cg_start"] == "zero":
            del fields["cg_start"]
        if fields["preset"] is None:
            del fields["preset"]
        return {**fields, "label": self.label, "slug": self.slug, "family": self.family}


@dataclass(frozen=True)
class NetBudget:
    """What every run of a network experiment may spend, and how the baselines sample.

    Parameters
    ----------
    max_passes : float
        Passes over the training rows (props / n).
    max_time : float
        Seconds.
    max_iter : int
        Trial steps of TR / GN.
    batch_size : int
        Minibatch rows of SGD / Adam.
    records_per_pass : float
        History rows per pass of SGD / Adam.
    momentum : float
        Momentum of SGD (heavy ball, optax ``sgd(momentum=...)``).

    Examples
    --------
    >>> from experiments.networks.runs import NetBudget
    >>> NetBudget(20.0, 60.0, 500, 64, 4.0, 0.9).batch_size
    64
    """

    max_passes: float
    max_time: float
    max_iter: int
    batch_size: int
    records_per_pass: float
    momentum: float


def build_methods(
    kinds: Sequence[str],
    tr_sizes: Sequence[float],
    tr_radii: Sequence[float | None],
    gn_size: float,
    sgd_lrs: Sequence[float],
    adam_lrs: Sequence[float],
    tr_starts: Sequence[str] = ("zero",),
    hf_size: float = 0.05,
    hf_preset: str | None = None,
) -> list[NetMethod]:
    """The methods of an experiment, in table order.

    Parameters
    ----------
    kinds : sequence of {"tr", "gn", "hf", "sgd", "adam"}
    tr_sizes : sequence of float
        Hessian sample fractions of TR.
    tr_radii : sequence of float or None
        Initial radii of TR (None: the default).
    gn_size : float
        Sample fraction of GN.
    sgd_lrs, adam_lrs : sequence of float
        The learning-rate grids.
    tr_starts : sequence of {"zero", "random"}, default=("zero",)
        CG starts of TR (every size and radius runs with each).
    hf_size : float, default=0.05
        Curvature sample fraction of HF.
    hf_preset : {"martens", "paper"} or None, default=None
        HF's preset (None: the solver's default).

    Returns
    -------
    list of NetMethod

    Examples
    --------
    >>> from experiments.networks.runs import build_methods
    >>> [m.slug for m in build_methods(["tr", "gn", "sgd"], [0.05], [None], 0.05, [0.1], [])]
    ['tr_0.05', 'gn_0.05', 'sgd_lr0.1']
    """
    methods: list[NetMethod] = []
    for kind in kinds:
        if kind == "tr":
            methods += [NetMethod("tr", s, r, cg_start=c)
                        for s in tr_sizes for r in tr_radii for c in tr_starts]
        elif kind == "gn":
            methods.append(NetMethod("gn", gn_size))
        elif kind == "hf":
            methods.append(NetMethod("hf", hf_size, preset=hf_preset))
        elif kind == "sgd":
            methods += [NetMethod("sgd", learning_rate=lr) for lr in sgd_lrs]
        elif kind == "adam":
            methods += [NetMethod("adam", learning_rate=lr) for lr in adam_lrs]
    return methods


def run_second_order(
    method: NetMethod,
    objective: Any,
    budget: NetBudget,
    seed: int,
    metrics: Callable[[Any], dict[str, float]],
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Run sub-sampled TR (:func:`randopt.optimize.trust_region`), GN
    (:func:`randopt.optimize.gauss_newton`) or HF (:func:`randopt.optimize.hessian_free`)
    from ``objective.x0``.

    Parameters
    ----------
    method : NetMethod
        Of kind "tr", "gn" or "hf".
    objective : randopt.oracles.JaxObjective
        From :func:`experiments.networks.models.mlp_objective`.
    budget : NetBudget
        ``max_passes``, ``max_time`` and ``max_iter`` apply.
    seed : int
        ``random_state`` of the solver (its Hessian samples).
    metrics : callable
        ``metrics(params) -> dict`` of extra columns (test loss, accuracy) for
        the weights ``objective.unravel(x)``; its time is excluded.

    Returns
    -------
    columns : dict of ndarray
        ``iteration``, ``loss``, ``time``, ``props``, ``passes``,
        ``passes_ref`` (passes as the reference code counts them: a full
        gradient ``n`` instead of ``2n``), ``accepted``, the solver's
        ``grad_norm``, ``step_norm``,
        ``inner_iterations`` and ``radius`` (TR) or ``step_size`` (GN), and
        the metrics' keys.
    outcome : dict
        The solver's ``status`` and ``message``.
    """
    from randopt.optimize import trust_region
    from randopt.optimize.subproblems import CGSteihaug

    n = objective.n_samples
    overhead: list[float] = []
    clock = Stopwatch()  # replaced after the warm-up

    def callback(x, info):
        overhead.append(clock.paused)
        return clock.excluded(lambda: metrics(objective.unravel(x)))

    kwargs: dict[str, Any] = dict(
        hessian_sampling="uniform", hessian_sample_size=method.sample_size,
        gtol=1e-10, max_iter=budget.max_iter, max_props=budget.max_passes * n,
        max_time=budget.max_time, callback=callback, random_state=seed,
    )
    if method.radius is not None:
        kwargs["radius"] = method.radius
    if method.kind == "tr":
        solve = trust_region
        if method.cg_start != "zero":  # a fresh solver per run (it keeps the last step)
            kwargs["subproblem"] = CGSteihaug(start=method.cg_start)
    elif method.kind == "hf":
        from randopt.optimize import hessian_free as solve

        kwargs.pop("radius", None)  # its step control is the damping
        if method.preset is not None:
            kwargs["preset"] = method.preset
    else:
        from randopt.optimize import gauss_newton as solve
    # Two untimed steps first: JAX compiles each pass at its first call, and the
    # compilation is no cost of the method.
    solve(objective, objective.x0, **{**kwargs, "max_iter": 2, "callback": None,
                                      "max_time": math.inf, "max_props": math.inf})
    metrics(objective.unravel(objective.x0))
    clock = Stopwatch()
    res = solve(objective, objective.x0, **kwargs)
    h = res.history
    rows = len(h["loss"])
    props = np.asarray(h["props"], dtype=float)
    accepted = np.asarray(h["accepted"]).astype(int)
    columns = {
        "iteration": np.asarray(h["iteration"], dtype=float),
        "loss": np.asarray(h["loss"], dtype=float),
        "time": np.asarray(h["time"], dtype=float) - np.asarray(overhead[:rows]),
        "props": props,
        "passes": props / n,
        # The solvers charge the gradient of x0 and of every accepted point 2n (the rule of
        # every method here); the reference code charges it n.
        "passes_ref": (props - n * (1 + np.cumsum(accepted))) / n,
        "accepted": accepted,
    }
    # The solver's own diagnostics (why the steps are as long as they are).
    for key in ("radius", "damping", "step_size", "step_norm", "inner_iterations",
                "grad_norm"):
        if key in h:
            columns[key] = np.asarray(h[key], dtype=float)
    for key in metrics(objective.unravel(objective.x0)):
        columns[key] = np.asarray(h[key], dtype=float)
    return columns, {"status": int(res.status), "message": str(res.message)}


def run_optax(
    method: NetMethod,
    objective: Any,
    budget: NetBudget,
    seed: int,
    metrics: Callable[[Any], dict[str, float]],
    batch_loss: Callable[[Any, Any, Any], Any],
    data: tuple[np.ndarray, np.ndarray],
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Minibatch SGD with momentum or Adam (optax) from ``objective.x0``.

    Each step draws the next ``budget.batch_size`` rows of a random
    permutation (a new one each epoch) and costs ``2 * batch_size`` props.
    Every ``1 / budget.records_per_pass`` of a pass a history row records the
    full training loss (``objective.value``) and the metrics, off the clock.
    A non-finite loss stops the run (status 4).

    Parameters
    ----------
    method : NetMethod
        Of kind "sgd" or "adam".
    objective : randopt.oracles.JaxObjective
        Gives ``x0``, ``unravel``, ``n_samples`` and the training loss.
    budget : NetBudget
    seed : int
        Seed of the minibatch permutations.
    metrics : callable
        As for :func:`run_second_order`.
    batch_loss : callable
        ``batch_loss(params, X_batch, y_batch)``: the objective on a batch
        (:func:`experiments.networks.models.mlp_loss` with the experiment's options).
    data : (X, y)
        The objective's training rows.

    Returns
    -------
    columns : dict of ndarray
        As for :func:`run_second_order` (``accepted`` all 1; ``passes_ref`` is
        ``passes``: the reference code charges a minibatch gradient ``2b`` too).
    outcome : dict
        ``status`` (2 passes, 3 time, 4 diverged) and ``message``.
    """
    import jax
    import optax
    from jax.flatten_util import ravel_pytree

    X, y = data
    n = objective.n_samples
    b = min(budget.batch_size, n)
    if method.kind == "sgd":
        opt = optax.sgd(method.learning_rate, momentum=budget.momentum)
    else:
        opt = optax.adam(method.learning_rate)
    grad_fn = jax.value_and_grad(batch_loss)

    @jax.jit
    def step(params, state, X, y, idx):
        # The rows are gathered inside the compiled step: one dispatch per step.
        value, grads = grad_fn(params, jax.numpy.take(X, idx, axis=0),
                               jax.numpy.take(y, idx, axis=0))
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state, value

    params = objective.unravel(objective.x0)
    state = opt.init(params)
    rng = np.random.default_rng(seed)
    order, cursor = rng.permutation(n), 0
    Xj, yj = jax.device_put(X), jax.device_put(y)
    rows: list[dict[str, float]] = []
    # One untimed step first (its result discarded): the compilation is no cost of the method.
    jax.block_until_ready(step(params, state, Xj, yj, order[:b]))
    clock = Stopwatch()
    every = n / budget.records_per_pass  # props between two history rows (a pass is n)
    props, next_record, it = 0.0, 0.0, 0

    def record(params):
        jax.block_until_ready(params)
        t = clock.elapsed()
        extra = clock.excluded(lambda: {
            "loss": float(objective.value(np.asarray(ravel_pytree(params)[0]))),
            **metrics(params)})
        rows.append({"iteration": float(it), "time": t, "props": props, "passes": props / n,
                     "passes_ref": props / n, "accepted": 1, **extra})
        return extra["loss"]

    status, message = 2, "maximum passes reached"
    loss = record(params)
    while True:
        if not math.isfinite(loss):
            status, message = 4, "diverged: the training loss is not finite"
            break
        if props >= budget.max_passes * n:
            break
        if clock.elapsed() >= budget.max_time:
            status, message = 3, "maximum time reached"
            break
        if cursor + b > n:
            order, cursor = rng.permutation(n), 0
        idx = order[cursor:cursor + b]
        cursor += b
        params, state, _ = step(params, state, Xj, yj, idx)
        props += 2.0 * b
        it += 1
        if props >= next_record + every or props >= budget.max_passes * n:
            next_record = props
            loss = record(params)
    keys = list(rows[0])
    columns = {k: np.array([r[k] for r in rows], dtype=float) for k in keys}
    return columns, {"status": status, "message": message}


def run_method(
    method: NetMethod,
    objective: Any,
    budget: NetBudget,
    seed: int,
    metrics: Callable[[Any], dict[str, float]],
    batch_loss: Callable[[Any, Any, Any], Any],
    data: tuple[np.ndarray, np.ndarray],
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Dispatch to :func:`run_second_order` or :func:`run_optax` (same arguments).

    Returns
    -------
    columns : dict of ndarray
    outcome : dict
    """
    if method.kind in SECOND_ORDER:
        return run_second_order(method, objective, budget, seed, metrics)
    return run_optax(method, objective, budget, seed, metrics, batch_loss, data)
