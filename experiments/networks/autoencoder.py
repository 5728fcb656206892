"""The deep autoencoder of Xu, Roosta and Mahoney on binarized MNIST: sub-sampled TR against
SGD with momentum, loss against passes.

Usage::

    export RANDOPT_DATA=/path/to/datasets
    python -m experiments.networks.autoencoder --quick --out /tmp/ae
    python -m experiments.networks.autoencoder            # medium
    python -m experiments.networks.autoencoder --full     # the paper's

The network and loss are those of the reference code (``HFD/mnist_autoencoder.m``
and ``HFD/model/compute_model.m`` of git-xp/Non-Convex-Newton): logistic units
in every layer but the code layer, which is linear; logistic outputs trained on
the cross-entropy of the reconstruction, summed over the 784 pixels and
averaged over the images (:func:`experiments.networks.models.sigmoid_cross_entropy`);
the reported error is the squared reconstruction error ``sum_j (x_j -
sigmoid(z_j))^2`` averaged over the test images (the reference's "mse"). Sizes:

* ``--full``: the paper's 784-1000-500-250-30-250-500-1000-784 (2.8 million
  weights) on all 60,000 training and 10,000 test images;
* default: 784-250-30-250-784 on 10,000 / 2,000 images (a CPU-sized run);
* ``--quick``: 784-32-8-32-784 on 500 / 200 images, a small budget (CI).

Methods, within the same budget of passes (props / n) and seconds: TR with a
uniformly sub-sampled Hessian (``--tr-sizes``, 5% as in the paper) at its
default hyper-parameters (``--tr-radii`` adds others, ``--cg-start
zero,random`` the reference's random CG start), optionally sub-sampled
Gauss-Newton and Hessian-free (damped Gauss-Newton; ``--methods tr,gn,hf,sgd``),
and SGD with momentum 0.9 at every learning rate of ``--sgd-lrs`` (six; the
one with the lowest final training loss is reported; the others are faint
in the figure and listed in the summary). Every method starts from the same
weights: Glorot's by default (4x Glorot's range for logistic units);
``--init normalized`` is the reference's "normalized random initialization"
(every weight and bias from one random unit vector), a start near the saddle
at zero, in a flat region; ``--init zero`` is the reference's default, the
symmetric saddle itself (every unit of a layer stays identical under any
method whose steps are built from gradients and Hessian products from 0, as
CG-Steihaug's from 0 are: only the random CG start leaves it).
``--paper`` runs the reference's settings end to end where no option says
otherwise (:data:`experiments.networks.train.PAPER`: zero initialization, TR
5% with radius 1000 and the random CG start, HF's paper preset, SGD step 0.05
on minibatches of 5% of the images).

Output (``--out``, default ``results/autoencoder[-quick|-full]``): run files,
``summary.json``, ``summary.md`` and ``autoencoder*.png`` / ``.pdf``, written
atomically and resumably by the driver, :mod:`experiments.networks.train`.

References
----------
.. [1] P. Xu, F. Roosta and M. W. Mahoney, "Second-order optimization for
   non-convex machine learning: an empirical study", SDM (2020).
.. [2] G. E. Hinton and R. R. Salakhutdinov, "Reducing the dimensionality of
   data with neural networks", Science 313 (2006) (the autoencoder).
.. [3] J. Martens, "Deep learning via Hessian-free optimization", ICML (2010).
"""

from __future__ import annotations

import argparse

from ..common.cli import fill_defaults, parse_numbers, set_xla_threads
from .train import (
    add_common_arguments,
    resolve_batch_size,
    resolve_common,
    second_order_line,
    train_and_report,
)

__all__ = ["PAPER_SIZES", "activations", "main", "parse_args"]

#: The paper's network.
PAPER_SIZES = (784, 1000, 500, 250, 30, 250, 500, 1000, 784)
_PRESETS = {
    "quick": dict(sizes=[784, 32, 8, 32, 784], n_train=500, n_test=200, max_passes=10.0,
                  max_time=20.0, sgd_lrs="0.003,0.01", records_per_pass=2.0),
    "medium": dict(sizes=[784, 250, 30, 250, 784], n_train=10_000, n_test=2_000,
                   max_passes=100.0, max_time=900.0, sgd_lrs="0.001,0.002,0.005,0.01,0.02,0.05",
                   records_per_pass=1.0),
    "full": dict(sizes=list(PAPER_SIZES), n_train=60_000, n_test=10_000, max_passes=300.0,
                 max_time=36_000.0, sgd_lrs="0.001,0.002,0.005,0.01,0.02,0.05",
                 records_per_pass=0.5),
}


def activations(sizes: list[int]) -> list[str]:
    """Hidden activations of an autoencoder: logistic, but linear at the code (narrowest) layer.

    Parameters
    ----------
    sizes : list of int
        Layer widths, input and output included.

    Returns
    -------
    list of str
        One per hidden layer.

    Examples
    --------
    >>> from experiments.networks.autoencoder import PAPER_SIZES, activations
    >>> activations(list(PAPER_SIZES))
    ['logistic', 'logistic', 'logistic', 'linear', 'logistic', 'logistic', 'logistic']
    """
    hidden = sizes[1:-1]
    code = hidden.index(min(hidden))
    return ["linear" if k == code else "logistic" for k in range(len(hidden))]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line (``argv`` without the program name; None: ``sys.argv[1:]``).

    Parameters
    ----------
    argv : list of str or None

    Returns
    -------
    argparse.Namespace
        With the preset (``quick``, ``medium`` or ``full``) resolved.

    Examples
    --------
    >>> from experiments.networks.autoencoder import parse_args
    >>> a = parse_args(["--quick"])
    >>> a.preset, a.sizes, a.n_train, a.methods
    ('quick', [784, 32, 8, 32, 784], 500, ['tr', 'sgd'])
    >>> parse_args(["--full"]).sizes[1:-1]
    [1000, 500, 250, 30, 250, 500, 1000]
    """
    p = argparse.ArgumentParser(
        prog="python -m experiments.networks.autoencoder",
        description="The deep autoencoder of Xu, Roosta and Mahoney on binarized MNIST: "
                    "sub-sampled TR against SGD with momentum.")
    p.add_argument("--full", action="store_true",
                   help="the paper's 784-1000-500-250-30-250-500-1000-784 on all rows")
    p.add_argument("--sizes", default=None, help="comma list of layer widths (overrides)")
    add_common_arguments(p, methods="tr,sgd", tr_sizes="0.05")
    args = p.parse_args(argv)
    if args.quick and args.full:
        p.error("--quick and --full exclude each other")
    args.preset = "quick" if args.quick else "full" if args.full else "medium"
    preset = _PRESETS[args.preset]
    args.sizes = parse_numbers(args.sizes, "sizes", int) if args.sizes else list(
        preset["sizes"])
    if len(args.sizes) < 3 or args.sizes[0] != 784 or args.sizes[-1] != 784:
        p.error("--sizes must start and end with 784 and have a hidden layer")
    fill_defaults(args, n_train=preset["n_train"], n_test=preset["n_test"])
    return resolve_common(p, args, sgd_lrs=preset["sgd_lrs"],
                          adam_lrs="0.00003,0.0001,0.0003,0.001,0.003,0.01", batch_size=128,
                          max_passes=preset["max_passes"], max_time=preset["max_time"],
                          records_per_pass=preset["records_per_pass"])


def main(argv: list[str] | None = None) -> int:
    """Train the autoencoder with every method and report; the exit status (2: no MNIST file).

    Parameters
    ----------
    argv : list of str or None
        Command-line arguments (see :func:`parse_args`).

    Returns
    -------
    int

    Examples
    --------
    Trust region, one pass over 100 images of binarized MNIST, a 784-8-784 network:

    >>> import tempfile
    >>> from experiments.networks.autoencoder import main
    >>> with tempfile.TemporaryDirectory() as out:  # requires data: mnist_binarized.npz
    ...     main(["--quick", "--n-train", "100", "--n-test", "50", "--sizes", "784,8,784",
    ...           "--methods", "tr", "--max-passes", "1", "--out", out])
    # Deep autoencoder on binarized MNIST (quick)
    ...
    0
    """
    args = parse_args(argv)
    set_xla_threads(args.threads)
    import jax

    from .data import load_split
    from .models import mlp_apply, mlp_loss, mlp_objective, sigmoid_cross_entropy

    split = load_split("mnist", n_train=args.n_train, n_test=args.n_test, seed=args.seed)
    if split is None:
        return 2
    acts = activations(args.sizes)
    opts = dict(activation=acts, output="sigmoid", alpha=0.0)
    X = split.X_train
    objective = mlp_objective(args.sizes, X, X, random_state=args.seed, init=args.init, **opts)
    jnp = jax.numpy
    X_test = jnp.asarray(split.X_test)

    @jax.jit
    def _errors(params):
        logits = mlp_apply(params, X_test, activation=acts)
        err = jnp.mean(jnp.sum((X_test - jax.nn.sigmoid(logits)) ** 2, axis=1))
        return sigmoid_cross_entropy(logits, X_test), err

    def metrics(params):
        test_loss, test_mse = _errors(params)
        return {"test_loss": float(test_loss), "test_mse": float(test_mse)}

    def batch_loss(params, Xb, yb):
        return mlp_loss(params, Xb, yb, **opts)

    n = X.shape[0]
    net = "-".join(map(str, args.sizes))
    resolve_batch_size(args, n)
    base = {"experiment": "autoencoder", "preset": args.preset, "source": split.source,
            "n_train": n, "n_test": int(split.X_test.shape[0]), "sizes": args.sizes,
            "activations": acts, "init": args.init}
    return train_and_report(
        args, "autoencoder" + ("" if args.preset == "medium" else f"-{args.preset}"),
        objective, (X, X), batch_loss, metrics, base,
        header=f"{split.source}: {n:,} train, {split.X_test.shape[0]:,} test images; "
               f"autoencoder {net} ({objective.n_features:,} weights)",
        title=f"Deep autoencoder on binarized MNIST ({args.preset})",
        lines=[
            f"Data: {split.source}; {n:,} training and {split.X_test.shape[0]:,} test images.",
            f"Network: {net} ({objective.n_features:,} weights), logistic units, linear code "
            "layer; loss: reconstruction cross-entropy (summed over pixels, mean over images);"
            " test mse: squared reconstruction error per test image. "
            f"{args.init.capitalize()} initialisation (seed {args.seed}), the same for every "
            "method.",
            f"Budget per run: {args.max_passes:g} passes (props / n), {args.max_time:g} s. "
            + second_order_line(args) + " "
            f"SGD: momentum {args.momentum:g}, minibatches of {args.batch_size}, learning rate "
            f"selected on the final training loss from {args.sgd_lrs}. Passes count a "
            "gradient on b rows as 2b, a value b, a Hessian product on S rows 2|S| (the "
            "reference code charges a full gradient n: `passes_ref` in the run files).",
        ],
        figure_title=f"binarized MNIST autoencoder {net} ({args.preset}): {n:,} images",
        rows=[("loss", "training loss (cross-entropy)", True),
              ("test_mse", "test reconstruction error (mse)", True)],
        columns=[("final_test_loss", "test loss", ".5g"), ("final_test_mse", "test mse", ".5g")])


if __name__ == "__main__":
    raise SystemExit(main())
