"""Hessian-based adaptive batch size (ABSA) against fixed small and large batches.

Usage::

    python -m experiments.networks.absa                       # digits, 64-32-10
    python -m experiments.networks.absa --quick --out /tmp/absa
    RANDOPT_DATA=/path/to/datasets python -m experiments.networks.absa --dataset mnist

Experiment 4 of the network experiments, after Yao, Gholami, Lei, Keutzer and
Mahoney [1]_ (their ABSA, with its adversarial training): an MLP
(:func:`experiments.networks.models.mlp_objective`, softmax
cross-entropy) trained by
heavy-ball SGD (momentum 0.9) three ways, every run from the same initial
weights, for the same number of epochs:

* ``small``: a fixed batch of ``--batch-size`` rows at ``--learning-rate``;
* ``large``: a fixed batch of ``--max-batch-size`` rows, the learning rate
  scaled linearly with the batch (Goyal et al. [2]_);
* ``absa``: :func:`randopt.optimize.adaptive_batch_sgd`, which starts as
  ``small`` and doubles the batch (and the learning rate) whenever the top
  eigenvalue of a minibatch Hessian (``--hessian-size`` rows, power
  iteration) has halved since the last growth, or after ``--patience``
  epochs without growth, up to ``--max-batch-size``; with the authors'
  adversarial training: FGSM examples (``--epsilon``) on a fraction
  ``--adversarial-fraction`` of each batch, halved at every growth, during
  the first half of the epochs (the authors' code: fraction 0.2, epsilon
  0.005, patience 10). ``--adversarial-fraction 0`` gives ABSA without it.

Measured per epoch: training loss (exact), test loss and accuracy, parameter
updates, batch size, learning rate, top eigenvalue; per run: updates and
epochs to the first test accuracy of ``--target-accuracy``, and the final
test accuracy. The claim under test: ABSA needs far fewer updates than the
small batch for the same accuracy, which the large batch from the start
(the same final batch) may not reach.

Output (``--out``, default ``results/absa-<dataset>``): ``runs/<run>.csv`` and
``.json`` (atomic; the JSON last, with a hash of the settings: a rerun reuses
finished runs), ``summary.json``, ``summary.md``, ``absa-<dataset>.png`` /
``.pdf``. ``--quick``: a small network on 400 rows for 5 epochs, one seed (CI).

The full MNIST comparison (784-128-10, 60,000 training and 10,000 test rows,
three seeds, target 95% test accuracy)::

    RANDOPT_DATA=/path/to/datasets python -m experiments.networks.absa --dataset mnist \
        --n-train 60000 --n-test 10000 --epochs 20 --target-accuracy 0.95

References
----------
.. [1] Z. Yao, A. Gholami, D. Lei, K. Keutzer and M. W. Mahoney, "Large batch
   size training of neural networks with adversarial training and
   second-order information", arXiv:1810.01021 (2018).
.. [2] P. Goyal et al., "Accurate, large minibatch SGD: training ImageNet in 1
   hour", arXiv:1706.02677 (2017).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..common import io
from ..common.cli import fill_defaults, machine, output_folder, parse_numbers, set_xla_threads
from ..common.format import fmt
from ..common.runs import config_key, run_and_save
from ..common.stats import finite_median, first_reach
from .runs import SCHEMA_VERSION

__all__ = ["METHODS", "absa_settings", "conv_apply", "conv_objective", "main", "parse_args",
           "plot_absa", "run_absa", "summarize_absa", "summary_markdown"]

#: The three schedules, in table order.
METHODS = ("small", "large", "absa")
_LABELS = {"small": "SGD, small batch", "large": "SGD, large batch", "absa": "ABSA"}
_COLORS = {"small": "tab:orange", "large": "tab:purple", "absa": "tab:blue"}


#: The small conv net of ``--model conv``: 8 filters of 5 x 5, stride 2, tanh, then linear.
CONV_FILTERS, CONV_KERNEL, CONV_STRIDE = 8, 5, 2


def conv_apply(params: dict[str, Any], X: Any) -> Any:
    """Logits of the small conv net on flat square images (``side * side`` pixels per row).

    One convolution layer (:data:`CONV_FILTERS` filters of ``CONV_KERNEL``
    squared pixels, stride :data:`CONV_STRIDE`, no padding, tanh) and a
    linear layer to the classes.

    Parameters
    ----------
    params : dict
        ``kernel`` (k, k, 1, filters), ``bias`` (filters,), ``W`` and ``b``.
    X : array of shape (n, side * side)

    Returns
    -------
    array of shape (n, n_classes)

    Examples
    --------
    >>> import numpy as np
    >>> from experiments.networks.absa import conv_apply, conv_objective
    >>> f = conv_objective(np.zeros((4, 64)), np.arange(4) % 2, n_classes=2)
    >>> conv_apply(f.unravel(f.x0), np.zeros((3, 64))).shape
    (3, 2)
    """
    import jax

    n, side = X.shape[0], int(round(X.shape[1] ** 0.5))
    images = X.reshape(n, side, side, 1).astype(params["kernel"].dtype)
    h = jax.lax.conv_general_dilated(images, params["kernel"], (CONV_STRIDE, CONV_STRIDE),
                                     "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"))
    h = jax.numpy.tanh(h + params["bias"]).reshape(n, -1)
    return h @ params["W"] + params["b"]


def conv_objective(X: Any, y: Any, *, n_classes: int = 10, random_state: int = 0) -> Any:
    """The training loss of the small conv net (:func:`conv_apply`) as a JaxObjective.

    Glorot-uniform weights, zero biases, softmax cross-entropy; the data as
    ``(inputs, targets)``, so that FGSM can perturb the inputs.

    Parameters
    ----------
    X : array of shape (n, side * side)
        Square images, flattened.
    y : array of shape (n,)
        Integer labels.
    n_classes : int, default=10
    random_state : int, default=0

    Returns
    -------
    JaxObjective
    """
    import jax.numpy as jnp

    from randopt.oracles import JaxObjective

    from .models import softmax_cross_entropy

    side = int(round(X.shape[1] ** 0.5))
    if side * side != X.shape[1] or side < CONV_KERNEL:
        raise ValueError(f"--model conv needs square images of side >= {CONV_KERNEL}, got "
                         f"{X.shape[1]} pixels")
    out_side = (side - CONV_KERNEL) // CONV_STRIDE + 1
    hidden = out_side * out_side * CONV_FILTERS
    rng = np.random.default_rng(random_state)

    def glorot(shape, fan_in, fan_out):
        a = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-a, a, size=shape)

    k2 = CONV_KERNEL * CONV_KERNEL
    params = {"kernel": glorot((CONV_KERNEL, CONV_KERNEL, 1, CONV_FILTERS), k2,
                               k2 * CONV_FILTERS),
              "bias": np.zeros(CONV_FILTERS), "W": glorot((hidden, n_classes), hidden, n_classes),
              "b": np.zeros(n_classes)}
    params = {k: jnp.asarray(v) for k, v in params.items()}
    return JaxObjective(None, params, (np.asarray(X, dtype=np.float64),
                                       np.asarray(y).astype(np.int32)),
                        model=conv_apply, output_loss=softmax_cross_entropy)


def absa_settings(method: str, batch_size: int, max_batch_size: int,
                  learning_rate: float, *, adversarial_fraction: float = 0.0,
                  epsilon: float = 0.0, patience: int | None = None) -> dict[str, Any]:
    """The solver options of one schedule (fixed batches: ``max_batch_size == batch_size``).

    Parameters
    ----------
    method : {"small", "large", "absa"}
    batch_size, max_batch_size : int
        The small and the large batch.
    learning_rate : float
        The small batch's learning rate.
    adversarial_fraction, epsilon : float, default=0.0
        ABSA's adversarial training (FGSM rows and their perturbation);
        only ``"absa"`` uses them, and only when both are positive.
    patience : int, optional
        ABSA's growth after that many epochs without one.

    Returns
    -------
    dict
        ``batch_size``, ``max_batch_size`` and ``learning_rate`` for
        :func:`randopt.optimize.adaptive_batch_sgd` (and for ``"absa"`` its
        ``patience`` and adversarial options).

    Examples
    --------
    >>> from experiments.networks.absa import absa_settings
    >>> absa_settings("large", 32, 512, 0.05)
    {'batch_size': 512, 'max_batch_size': 512, 'learning_rate': 0.8}
    >>> absa_settings("absa", 32, 512, 0.05)["max_batch_size"]
    512
    >>> s = absa_settings("absa", 32, 512, 0.05, adversarial_fraction=0.2, epsilon=0.005)
    >>> s["adversarial_fraction"], s["adversarial_epsilon"]
    (0.2, 0.005)
    """
    if method == "small":
        return {"batch_size": batch_size, "max_batch_size": batch_size,
                "learning_rate": learning_rate}
    if method == "large":
        return {"batch_size": max_batch_size, "max_batch_size": max_batch_size,
                "learning_rate": learning_rate * max_batch_size / batch_size}
    if method == "absa":
        settings = {"batch_size": batch_size, "max_batch_size": max_batch_size,
                    "learning_rate": learning_rate, "patience": patience}
        if adversarial_fraction > 0 and epsilon > 0:
            settings.update(adversarial_fraction=adversarial_fraction,
                            adversarial_epsilon=epsilon)
        return settings
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def run_absa(objective: Any, settings: dict[str, Any], *, epochs: int, momentum: float,
             hessian_size: int, seed: int,
             metrics: Callable[[np.ndarray], dict[str, float]]) -> tuple[dict, dict]:
    """One run of :func:`randopt.optimize.adaptive_batch_sgd`: its history and outcome.

    Parameters
    ----------
    objective : Objective
        The training loss (any objective with rows to sample).
    settings : dict
        From :func:`absa_settings`.
    epochs : int
    momentum : float
    hessian_size : int
        Rows of the Hessian sample of each eigenvalue check.
    seed : int
        Seed of the batches and the Hessian samples.
    metrics : callable
        ``metrics(x) -> dict`` of extra columns at every epoch's end (test metrics).

    Returns
    -------
    columns : dict of ndarray
        The history (``loss``, ``updates``, ``epoch``, ``batch_size``, ...,
        the metrics) and ``passes`` (props / n).
    outcome : dict
        ``status``, ``message``, ``updates``, ``hessian_products``,
        ``final_batch_size``, ``final_learning_rate``.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.oracles import LogisticObjective
    >>> from experiments.networks.absa import absa_settings, run_absa
    >>> X = np.random.default_rng(0).standard_normal((200, 3)); y = (X[:, 0] > 0).astype(int)
    >>> cols, out = run_absa(LogisticObjective(X, y), absa_settings("small", 20, 20, 0.1),
    ...                      epochs=2, momentum=0.9, hessian_size=20, seed=0,
    ...                      metrics=lambda x: {"norm": float(np.linalg.norm(x))})
    >>> cols["updates"].tolist(), out["updates"], sorted(cols)[:3]
    ([0, 10, 20], 20, ['adversarial_fraction', 'batch_size', 'epoch'])
    """
    from randopt.optimize import adaptive_batch_sgd

    res = adaptive_batch_sgd(
        objective, objective.x0 if hasattr(objective, "x0") else np.zeros(objective.n_features),
        epochs=epochs, momentum=momentum, hessian_sample_size=hessian_size,
        callback=lambda x, info: metrics(x), random_state=seed, **settings)
    columns = dict(res.history)
    columns["passes"] = columns["props"] / objective.n_samples
    outcome = {"status": int(res.status), "message": res.message, "updates": int(res.nit),
               "hessian_products": int(res.nhev), "final_batch_size": int(res.batch_size),
               "final_learning_rate": float(res.learning_rate)}
    return columns, outcome


def _reach(data: dict[str, np.ndarray], target: float) -> tuple[float, float]:
    """Updates and epochs at the first test accuracy >= ``target`` (NaN, NaN if none):
    :func:`experiments.common.stats.first_reach` on the negated accuracy."""
    return first_reach({"loss": -np.asarray(data["test_accuracy"], dtype=float),
                        "passes": np.asarray(data["updates"], dtype=float),
                        "time": np.asarray(data["epoch"], dtype=float)}, -target)


def summarize_absa(runs: Sequence[dict[str, Any]], target: float) -> dict[str, Any]:
    """Per schedule, medians over seeds: updates (to the target accuracy and in all), final
    test accuracy (and its range), final training loss, final batch, Hessian products.

    Parameters
    ----------
    runs : sequence of dict
        ``method``, ``seed``, ``data`` (columns) and ``meta`` (outcome).
    target : float
        The test accuracy whose first reach is reported.

    Returns
    -------
    dict
        ``target`` and ``methods``: schedule -> entry.

    Examples
    --------
    >>> import numpy as np
    >>> from experiments.networks.absa import summarize_absa
    >>> d = {"updates": np.array([0, 40]), "epoch": np.array([0, 1]), "loss": np.array([2., 1.]),
    ...      "test_accuracy": np.array([0.1, 0.96]), "time": np.array([0.0, 0.5]),
    ...      "batch_size": np.array([32, 64])}
    >>> s = summarize_absa([{"method": "absa", "seed": 0, "data": d,
    ...                      "meta": {"hessian_products": 7}}], 0.95)
    >>> e = s["methods"]["absa"]; e["updates_to_target"], e["final_test_accuracy"], e["reached"]
    (40.0, 0.96, '1/1')
    """
    out: dict[str, Any] = {"target": target, "methods": {}}
    for method in METHODS:
        group = [r for r in runs if r["method"] == method]
        if not group:
            continue
        reach = [_reach(r["data"], target) for r in group]
        acc = [float(r["data"]["test_accuracy"][-1]) for r in group]
        out["methods"][method] = {
            "label": _LABELS[method], "seeds": [r["seed"] for r in group],
            "updates_to_target": finite_median([u for u, _ in reach]),
            "epochs_to_target": finite_median([e for _, e in reach]),
            "reached": f"{sum(math.isfinite(u) for u, _ in reach)}/{len(group)}",
            "updates": finite_median([float(r["data"]["updates"][-1]) for r in group]),
            "final_test_accuracy": finite_median(acc), "min_test_accuracy": min(acc),
            "max_test_accuracy": max(acc),
            "final_loss": finite_median([float(r["data"]["loss"][-1]) for r in group]),
            "batch_start": int(group[0]["data"]["batch_size"][0]),
            "batch_end": finite_median([float(r["data"]["batch_size"][-1]) for r in group]),
            "hessian_products": finite_median(
                [float(r["meta"]["hessian_products"]) for r in group]),
            "seconds": finite_median([float(r["data"]["time"][-1]) for r in group]),
        }
    return out


def summary_markdown(summary: dict[str, Any], lines: Sequence[str], machine: str) -> str:
    """``summary.md``: the settings and one row per schedule.

    Parameters
    ----------
    summary : dict
        From :func:`summarize_absa`.
    lines : sequence of str
        Settings, one per line.
    machine : str

    Returns
    -------
    str

    Examples
    --------
    >>> from experiments.networks.absa import summary_markdown
    >>> e = {"label": "ABSA", "updates_to_target": 40.0, "epochs_to_target": 1.0,
    ...      "reached": "1/1", "updates": 80.0, "final_test_accuracy": 0.96,
    ...      "min_test_accuracy": 0.96, "max_test_accuracy": 0.96, "final_loss": 0.1,
    ...      "batch_start": 32, "batch_end": 64.0, "hessian_products": 7.0, "seconds": 1.0}
    >>> md = summary_markdown({"target": 0.95, "methods": {"absa": e}}, ["x"], "m")
    >>> md.splitlines()[6]
    '| ABSA | 32 → 64 | 40 (1/1) | 1 | 80 | 96.00% (96.00–96.00%) | 0.1 | 7 | 1 |'
    """
    head = ["schedule", "batch", f"updates to {100 * summary['target']:g}% test acc.",
            "epochs to it", "updates in all", "final test accuracy (range)",
            "final train loss", "Hessian products", "seconds"]
    parts = ["# Adaptive batch size (ABSA) against fixed batches\n",
             *[f"{line}  " for line in lines], "",
             "| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for e in summary["methods"].values():
        cells = [e["label"], f"{e['batch_start']} → {fmt(e['batch_end'], ',.0f')}",
                 f"{fmt(e['updates_to_target'], ',.0f')} ({e['reached']})",
                 fmt(e["epochs_to_target"], ",.0f"), fmt(e["updates"], ",.0f"),
                 f"{fmt(e['final_test_accuracy'], 'acc')} ({100 * e['min_test_accuracy']:.2f}"
                 f"–{fmt(e['max_test_accuracy'], 'acc')})",
                 fmt(e["final_loss"], ".4g"), fmt(e["hessian_products"], ",.0f"),
                 fmt(e["seconds"], ".4g")]
        parts.append("| " + " | ".join(cells) + " |")
    parts += ["", "Medians over the seeds; updates to the target: the first epoch's end at "
              "or above it (— when no seed reached it).", "", f"Machine: {machine}.", ""]
    return "\n".join(parts)


def plot_absa(runs: Sequence[dict[str, Any]], path_stem: str | Path, *,
              title: str) -> list[Path]:
    """Test accuracy and training loss against updates; ABSA's batch and top eigenvalue
    against epochs. Saved as PNG and PDF.

    Parameters
    ----------
    runs : sequence of dict
        ``method`` and ``data`` (``updates``, ``epoch``, ``loss``,
        ``test_accuracy``, ``batch_size``, ``top_eigenvalue``).
    path_stem : path
        Output without suffix.
    title : str

    Returns
    -------
    list of pathlib.Path

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from experiments.networks.absa import plot_absa
    >>> d = {"updates": np.array([0, 40]), "epoch": np.array([0, 1]), "loss": np.array([2., 1.]),
    ...      "test_accuracy": np.array([0.1, 0.9]), "batch_size": np.array([32, 64]),
    ...      "top_eigenvalue": np.array([np.nan, 3.0])}
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     print([p.name for p in plot_absa([{"method": "absa", "data": d}],
    ...                                      Path(folder) / "f", title="t")])
    ['f.png', 'f.pdf']
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 8))
    axes = fig.subplots(2, 2)
    (acc_ax, loss_ax), (epoch_ax, batch_ax) = axes
    eig_ax = batch_ax.twinx()
    labelled: set[str] = set()
    for r in runs:
        m, d = r["method"], r["data"]
        style = dict(color=_COLORS[m], linewidth=1.6,
                     label=None if m in labelled else _LABELS[m])
        labelled.add(m)
        updates = np.maximum(np.asarray(d["updates"], dtype=float), 1.0)  # log axis: 0 -> 1
        acc_ax.plot(updates, d["test_accuracy"], **style)
        loss_ax.plot(updates, d["loss"], **style)
        epoch_ax.plot(d["epoch"], d["test_accuracy"], **style)
        if m == "absa":
            batch_ax.step(d["epoch"], d["batch_size"], where="post", color=_COLORS[m])
            eig_ax.plot(d["epoch"], d["top_eigenvalue"], "o", color="tab:red", markersize=3)
    acc_ax.set(xscale="log", xlabel="parameter updates", ylabel="test accuracy")
    loss_ax.set(xscale="log", yscale="log", xlabel="parameter updates",
                ylabel="training loss")
    epoch_ax.set(xlabel="epochs", ylabel="test accuracy")
    batch_ax.set(yscale="log", xlabel="epochs", ylabel="ABSA batch size (steps)")
    eig_ax.set_ylabel("top eigenvalue of the Hessian sample (dots)", color="tab:red")
    for ax in (acc_ax, epoch_ax):
        ax.set_ylim(max(0.0, min(0.8, ax.get_ylim()[0])), 1.0)
    acc_ax.legend(loc="lower right")
    for ax in axes.ravel():
        ax.grid(True, alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return io.save_figures(fig, path_stem, dpi=130)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line (``argv`` without the program name; None: ``sys.argv[1:]``).

    Parameters
    ----------
    argv : list of str or None

    Returns
    -------
    argparse.Namespace
        Defaults resolved for ``--dataset`` and ``--quick``.

    Examples
    --------
    >>> from experiments.networks.absa import parse_args
    >>> a = parse_args(["--quick"])
    >>> a.sizes, a.epochs, a.seeds, a.batch_size, a.max_batch_size
    ([64, 16, 10], 5, [0], 16, 128)
    >>> parse_args(["--dataset", "mnist"]).sizes
    [784, 128, 10]
    """
    p = argparse.ArgumentParser(prog="python -m experiments.networks.absa",
                                description=__doc__.split("\n")[0])
    p.add_argument("--dataset", choices=("digits", "mnist"), default="digits")
    p.add_argument("--model", choices=("mlp", "conv"), default="mlp",
                   help="the MLP of --sizes, or a small conv net (one 5x5 layer, 8 filters)")
    p.add_argument("--sizes", default=None, help="comma list of layer widths")
    p.add_argument("--n-train", type=int, default=None, help="MNIST training rows")
    p.add_argument("--n-test", type=int, default=None, help="MNIST test rows")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=None, help="the small (initial) batch")
    p.add_argument("--max-batch-size", type=int, default=None, help="the large (final) batch")
    p.add_argument("--learning-rate", type=float, default=None,
                   help="the small batch's learning rate")
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--hessian-size", type=int, default=None,
                   help="rows of each Hessian sample (default: the small batch, as [1])")
    p.add_argument("--adversarial-fraction", type=float, default=0.2,
                   help="ABSA's initial fraction of FGSM rows per batch (0: none)")
    p.add_argument("--epsilon", type=float, default=0.005, help="FGSM perturbation size")
    p.add_argument("--patience", type=int, default=10,
                   help="ABSA grows the batch after this many epochs without growth")
    p.add_argument("--target-accuracy", type=float, default=None)
    p.add_argument("--seeds", default=None, help="comma list of seeds of the batches")
    p.add_argument("--threads", type=int, default=None, help="XLA CPU threads")
    p.add_argument("--out", default=None, help="output folder")
    p.add_argument("--quick", action="store_true", help="small network, 400 rows, 5 epochs")
    a = p.parse_args(argv)
    mnist = a.dataset == "mnist"
    defaults = {
        "sizes": "64,16,10" if a.quick else ("784,128,10" if mnist else "64,32,10"),
        "epochs": 5 if a.quick else (10 if mnist else 30),
        "batch_size": 16 if a.quick else (128 if mnist else 32),
        "max_batch_size": 128 if a.quick else (4096 if mnist else 512),
        "learning_rate": 0.05,
        "target_accuracy": 0.9 if a.quick else (0.93 if mnist else 0.95),
        "seeds": "0" if a.quick else "0,1,2", "n_train": 10_000 if mnist else None,
        "n_test": 2_000 if mnist else None,
    }
    fill_defaults(a, **defaults)
    a.sizes = parse_numbers(a.sizes, "sizes", int)
    a.seeds = parse_numbers(a.seeds, "seeds", int, positive=False)
    if a.hessian_size is None:
        a.hessian_size = a.batch_size
    if not 1 <= a.batch_size <= a.max_batch_size:
        raise SystemExit("need 1 <= --batch-size <= --max-batch-size")
    return a


def main(argv: list[str] | None = None) -> int:
    """Train with the three batch schedules and report; the exit status (2: no MNIST file).

    Parameters
    ----------
    argv : list of str or None
        Command-line arguments (see :func:`parse_args`).

    Returns
    -------
    int

    Examples
    --------
    The three schedules for two epochs on 400 rows of the digits:

    >>> import tempfile
    >>> from experiments.networks.absa import main
    >>> with tempfile.TemporaryDirectory() as out:
    ...     main(["--quick", "--epochs", "2", "--out", out])
    # Adaptive batch size (ABSA) against fixed batches
    ...
    | ABSA | 16 → ...
    0
    """
    args = parse_args(argv)
    set_xla_threads(args.threads)
    import jax

    from .data import load_split
    from .models import mlp_apply, mlp_objective, softmax_cross_entropy

    split = load_split(args.dataset, n_train=400 if args.quick else args.n_train,
                       n_test=args.n_test)
    if split is None:
        return 2
    if args.model == "conv":
        objective = conv_objective(split.X_train, split.y_train, random_state=0)
        apply, network = conv_apply, (f"conv {CONV_FILTERS}x{CONV_KERNEL}x{CONV_KERNEL}/"
                                      f"{CONV_STRIDE} (tanh) - linear")
    else:
        objective = mlp_objective(args.sizes, split.X_train, split.y_train, random_state=0)
        apply, network = mlp_apply, "-".join(map(str, args.sizes)) + " (tanh)"
    n = objective.n_samples
    if args.max_batch_size > n:
        raise SystemExit(f"--max-batch-size must be at most the {n} training rows")
    X_test, y_test = jax.numpy.asarray(split.X_test), jax.numpy.asarray(split.y_test)

    @jax.jit
    def _test(params):
        logits = apply(params, X_test)
        return (softmax_cross_entropy(logits, y_test),
                jax.numpy.mean(jax.numpy.argmax(logits, axis=1) == y_test))

    def metrics(x):
        loss, acc = _test(objective.unravel(x))
        return {"test_loss": float(loss), "test_accuracy": float(acc)}

    tag = f"absa-{args.dataset}" + ("-conv" if args.model == "conv" else "") + (
        "-quick" if args.quick else "")
    out = output_folder(args.out, tag)
    base = {"experiment": "adaptive_batch", "dataset": args.dataset, "source": split.source,
            "rows": n, "n_test": int(split.X_test.shape[0]), "model": args.model,
            "sizes": args.sizes if args.model == "mlp" else network,
            "epochs": args.epochs, "momentum": args.momentum,
            "hessian_size": args.hessian_size}
    print(f"{split.source}: {n:,} train rows, {split.X_test.shape[0]:,} test; network "
          f"{network} ({objective.n_features:,} weights) -> {out}",
          file=sys.stderr)
    runs = []
    for method in METHODS:
        settings = absa_settings(method, args.batch_size, args.max_batch_size,
                                 args.learning_rate,
                                 adversarial_fraction=args.adversarial_fraction,
                                 epsilon=args.epsilon, patience=args.patience)
        for seed in args.seeds:
            run = f"{method}_s{seed}"
            config = {**base, **settings, "method": method, "seed": seed}
            columns, meta, reused = run_and_save(
                out, run, config_key(config, SCHEMA_VERSION),
                lambda settings=settings, seed=seed: run_absa(
                    objective, settings, epochs=args.epochs, momentum=args.momentum,
                    hessian_size=args.hessian_size, seed=seed, metrics=metrics),
                settings={"config": config})
            print(f"  {run:10s} {'reused' if reused else 'ran'}: {int(meta['updates']):6d} "
                  f"updates, test accuracy {columns['test_accuracy'][-1]:.4f}, batch "
                  f"{int(columns['batch_size'][-1])}", file=sys.stderr)
            runs.append({"method": method, "seed": seed, "data": columns, "meta": meta})
    summary = summarize_absa(runs, args.target_accuracy)
    lines = [
        f"Data: {split.source}; {n:,} training rows, {split.X_test.shape[0]:,} test rows.",
        f"Network: {network}, softmax cross-entropy, "
        f"{objective.n_features:,} weights, the same initial weights for every run.",
        f"SGD with momentum {args.momentum:g}, {args.epochs} epochs; small batch "
        f"{args.batch_size} at learning rate {args.learning_rate:g}; large batch "
        f"{args.max_batch_size} at {args.learning_rate * args.max_batch_size / args.batch_size:g}"
        f" (linear scaling); ABSA from the small to the large batch, growth x2 when the top "
        f"eigenvalue of a {args.hessian_size}-row Hessian sample halves (power iteration, "
        f"checked every epoch) or after {args.patience} epochs without growth; FGSM "
        f"adversarial rows: fraction {args.adversarial_fraction:g} (halved at every growth, "
        f"none in the second half of the epochs), epsilon {args.epsilon:g}. "
        f"Seeds of the batches: {args.seeds}.",
    ]
    mach = machine(jax=True)
    io.write_json(out / "summary.json", {**summary, "settings": base, "machine": mach})
    io.write_text(out / "summary.md", summary_markdown(summary, lines, mach))
    plot_absa(runs, out / tag, title=f"ABSA vs fixed batches: {args.dataset}"
              + (" --quick" if args.quick else ""))
    print(summary_markdown(summary, lines, mach))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
