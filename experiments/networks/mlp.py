"""MLP classification: sub-sampled trust region and Gauss-Newton against tuned SGD and Adam.

Usage::

    python -m experiments.networks.mlp                      # digits, 64-32-10
    python -m experiments.networks.mlp --quick --out /tmp/mlp
    RANDOPT_DATA=/path/to/datasets python -m experiments.networks.mlp --dataset mnist

The first deep-learning experiment of Xu, Roosta and Mahoney [1]_ (their
1-hidden-layer MLP), on scikit-learn's digits (``--dataset digits``, default
network 64-32-10, a stratified 1,347 / 450 split) or on binarized MNIST
(``--dataset mnist``, 784-128-10 on ``--n-train`` random training rows, 20,000
by default, and ``--n-test`` test rows, all 10,000 by default). The objective
is the mean softmax cross-entropy of the network's logits
(:func:`experiments.networks.models.mlp_objective`), every method starting from the
same Glorot-initialised weights.

Methods, each within the same budget of ``--max-passes`` passes over the
training rows (props / n, as the papers count: a gradient on ``b`` rows costs
``2b``, a value ``b``, a Hessian- or Gauss-Newton-vector product on ``S`` rows
``2|S|``) and ``--max-time`` seconds:

* TR with a uniformly sub-sampled Hessian of ``--tr-sizes`` (5% and 10%) of
  the rows (:func:`randopt.optimize.trust_region`), at its *default*
  hyper-parameters (initial radius 10; ``--tr-radii`` adds other radii to
  show the claimed robustness);
* sub-sampled Gauss-Newton with an Armijo line search
  (:func:`randopt.optimize.gauss_newton`, ``--gn-size`` of the rows, at its
  defaults), and Hessian-free (damped Gauss-Newton,
  :func:`randopt.optimize.hessian_free`, ``--hf-size``; ``--methods`` with
  ``hf``);
* SGD with momentum 0.9 and Adam (optax), minibatches of ``--batch-size``
  rows (drawn without replacement, reshuffled every epoch), each at every
  learning rate of a small grid (``--sgd-lrs``, ``--adam-lrs``); the one
  reported is the rate with the lowest training loss at the end of the
  budget (selected on the train loss, never on the test data). Every rate's
  result is in the summary.

``--paper`` takes the reference code's settings where no option says
otherwise (:data:`experiments.networks.train.PAPER`: logistic hidden units,
zero initialization, TR 5% with radius 1000 from the random CG start, SGD
step 0.05 on minibatches of 5% of the rows); ``--init`` also takes the
reference's ``normalized`` and ``zero``.

Recorded per iteration (TR, GN, HF) or every ``1/--records-per-pass`` of a pass
(SGD, Adam): training loss, test loss and accuracy, passes and seconds (the
time of the test evaluations excluded). Output (``--out``, default
``results/mlp-<dataset>``): ``runs/<run>.csv`` and ``runs/<run>.json`` per run
(written atomically, the JSON last with a hash of the settings: a rerun
reuses finished runs), ``summary.json``, ``summary.md`` and
``mlp-<dataset>.png`` / ``.pdf`` (training loss and test accuracy against
passes and against time). ``--quick`` runs a small grid and budget (CI).

References
----------
.. [1] P. Xu, F. Roosta and M. W. Mahoney, "Second-order optimization for
   non-convex machine learning: an empirical study", SDM (2020).
.. [2] D. P. Kingma and J. Ba, "Adam: a method for stochastic optimization",
   ICLR (2015).
"""

from __future__ import annotations

import argparse
import math

from ..common.cli import fill_defaults, parse_numbers, set_xla_threads
from .train import (
    add_common_arguments,
    resolve_batch_size,
    resolve_common,
    second_order_line,
    train_and_report,
)

__all__ = ["main", "parse_args"]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line (``argv`` without the program name; None: ``sys.argv[1:]``).

    Parameters
    ----------
    argv : list of str or None

    Returns
    -------
    argparse.Namespace
        Lists split and checked, defaults resolved for ``--dataset`` and ``--quick``.

    Examples
    --------
    >>> from experiments.networks.mlp import parse_args
    >>> a = parse_args(["--quick"])
    >>> a.dataset, a.sizes, a.tr_sizes, a.max_passes
    ('digits', [64, 32, 10], [0.05, 0.1], 10.0)
    >>> a = parse_args(["--paper"])
    >>> a.activation, a.init, a.methods, a.tr_radii, a.cg_start
    ('logistic', 'zero', ['tr', 'sgd'], [1000.0], ['random'])
    """
    p = argparse.ArgumentParser(
        prog="python -m experiments.networks.mlp",
        description="MLP classification: sub-sampled TR and GN against SGD with momentum and "
                    "Adam at their best learning rate (Xu, Roosta and Mahoney).")
    p.add_argument("--dataset", choices=("digits", "mnist"), default="digits")
    p.add_argument("--sizes", default=None,
                   help="comma list of layer widths (default digits 64,32,10; mnist 784,128,10)")
    p.add_argument("--activation", default=None,
                   choices=("tanh", "logistic", "softplus", "relu"),
                   help="hidden units (default tanh; --paper: logistic, the reference's)")
    p.add_argument("--alpha", type=float, default=0.0, help="L2 penalty")
    add_common_arguments(p)
    args = p.parse_args(argv)
    fill_defaults(args, activation="logistic" if args.paper else "tanh")
    mnist = args.dataset == "mnist"
    args.sizes = parse_numbers(args.sizes, "sizes", int) if args.sizes else (
        [784, 128, 10] if mnist else [64, 32, 10])
    if args.alpha < 0 or not math.isfinite(args.alpha):
        p.error("--alpha must be >= 0")
    if mnist:
        fill_defaults(args, n_train=2_000 if args.quick else 20_000,
                      n_test=1_000 if args.quick else 10_000)
    return resolve_common(
        p, args,
        sgd_lrs="0.1,0.3" if args.quick else "0.01,0.03,0.1,0.3,1,3",
        adam_lrs="0.003,0.01" if args.quick else "0.0003,0.001,0.003,0.01,0.03,0.1",
        batch_size=128 if mnist else 64,
        max_passes=10.0 if args.quick else 50.0 if mnist else 200.0,
        max_time=20.0 if args.quick else 600.0, records_per_pass=2.0)


def main(argv: list[str] | None = None) -> int:
    """Train the MLP with every method and report; the exit status (2: no MNIST file).

    Parameters
    ----------
    argv : list of str or None
        Command-line arguments (see :func:`parse_args`).

    Returns
    -------
    int

    Examples
    --------
    Trust region and SGD for two passes over the digits; the summary goes to
    stdout, the files to ``out``:

    >>> import tempfile
    >>> from experiments.networks.mlp import main
    >>> with tempfile.TemporaryDirectory() as out:
    ...     main(["--quick", "--methods", "tr,sgd", "--tr-sizes", "0.1", "--sgd-lrs", "0.1",
    ...           "--max-passes", "2", "--out", out])
    # MLP classification: digits --quick
    ...
    | TR 10% | ...
    0
    """
    args = parse_args(argv)
    set_xla_threads(args.threads)
    import jax

    from .data import load_split
    from .models import mlp_apply, mlp_loss, mlp_objective, softmax_cross_entropy

    split = load_split(args.dataset, n_train=args.n_train, n_test=args.n_test, seed=args.seed)
    if split is None:
        return 2
    if split.X_train.shape[1] != args.sizes[0] or args.sizes[-1] != 10:
        raise SystemExit(f"--sizes must start with {split.X_train.shape[1]} (the features) "
                         f"and end with 10 (the classes), got {args.sizes}")
    opts = dict(activation=args.activation, output="softmax", alpha=args.alpha)
    objective = mlp_objective(args.sizes, split.X_train, split.y_train, random_state=args.seed,
                              init=args.init, **opts)
    X_test, y_test = jax.numpy.asarray(split.X_test), jax.numpy.asarray(split.y_test)

    @jax.jit
    def _test(params):
        logits = mlp_apply(params, X_test, activation=args.activation)
        return (softmax_cross_entropy(logits, y_test),
                jax.numpy.mean(jax.numpy.argmax(logits, axis=1) == y_test))

    def metrics(params):
        loss, acc = _test(params)
        return {"test_loss": float(loss), "test_accuracy": float(acc)}

    def batch_loss(params, Xb, yb):
        return mlp_loss(params, Xb, yb, **opts)

    n, d = split.X_train.shape
    net = "-".join(map(str, args.sizes))
    resolve_batch_size(args, n)
    quick = " --quick" if args.quick else ""
    base = {"experiment": "mlp_classification", "dataset": args.dataset, "source": split.source,
            "shape": [n, d], "n_test": int(split.X_test.shape[0]), "sizes": args.sizes,
            "activation": args.activation, "alpha": args.alpha, "init": args.init,
            "quick": args.quick}
    return train_and_report(
        args, f"mlp-{args.dataset}" + ("-quick" if args.quick else ""), objective,
        (split.X_train, split.y_train), batch_loss, metrics, base,
        header=f"{split.source}: {n:,} x {d} train, {split.X_test.shape[0]:,} test; network "
               f"{net} ({objective.n_features:,} weights, {args.activation})",
        title=f"MLP classification: {args.dataset}{quick}",
        lines=[
            f"Data: {split.source}; {n:,} training rows x {d} features, "
            f"{split.X_test.shape[0]:,} test rows.",
            f"Network: {net}, {args.activation} hidden units, "
            f"softmax cross-entropy, L2 {args.alpha:g}; {objective.n_features:,} weights, "
            f"{args.init.capitalize()} initialisation (seed {args.seed}), the same for every "
            "method.",
            f"Budget per run: {args.max_passes:g} passes (props / n), {args.max_time:g} s, "
            f"{args.max_iter} TR/GN steps. " + second_order_line(args) + " "
            f"SGD (momentum {args.momentum:g}) and Adam: minibatches of {args.batch_size}, "
            f"learning rate selected on the final training loss from "
            f"{args.sgd_lrs} / {args.adam_lrs}.",
            "Seconds exclude the test evaluations; passes count a gradient on b rows as 2b, "
            "a value b, a Hessian / Gauss-Newton product on S rows 2|S| (the reference code "
            "charges a full gradient n: `passes_ref` in the run files).",
        ],
        figure_title=f"{args.dataset}{quick}: {n:,} x {d}, MLP {net} ({args.activation}), "
                     "softmax cross-entropy",
        rows=[("loss", "training loss", True), ("test_accuracy", "test accuracy", False)],
        columns=[("final_test_accuracy", "test accuracy", "acc"),
                 ("best_test_accuracy", "best test accuracy", "acc"),
                 ("final_test_loss", "test loss", ".5g")])


if __name__ == "__main__":
    raise SystemExit(main())
