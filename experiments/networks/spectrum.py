"""The Hessian spectrum of a trained MLP classifier, from Hessian-vector products only.

Usage::

    python -m experiments.networks.spectrum                      # digits, 64-32-10
    python -m experiments.networks.spectrum --quick --out /tmp/spectrum
    RANDOPT_DATA=/path/to/datasets python -m experiments.networks.spectrum --dataset mnist

Experiment 3 of the network experiments, the analysis PyHessian (Yao,
Gholami, Keutzer and Mahoney [1]_) makes of a network, on any objective of
:mod:`randopt.oracles` through ``objective.hessian_operator(w, sample)``:

1. train the MLP (:func:`experiments.networks.models.mlp_objective`, softmax
   cross-entropy) by :func:`randopt.optimize.trust_region` with a 10%
   Hessian sample (``--train-iter`` steps, the solver's defaults);
2. at the trained weights, for the full training loss and for one uniform
   minibatch (``--sample-size`` of the rows): the ``--k`` largest and the
   smallest eigenvalues (:func:`randopt.norms.hessian_eigenvalues`,
   Lanczos, with residual bounds), the trace
   (:func:`randopt.norms.hessian_trace`, Hutchinson and Hutch++ with
   ``--probes`` products, 95% intervals) and the eigenvalue density
   (:func:`randopt.norms.spectral_density`, stochastic Lanczos quadrature);
3. when ``d`` is at most ``--dense-max-dim``, the dense reference: the
   Hessian from ``jax.jit(jax.hessian(...))`` and ``numpy.linalg.eigvalsh``,
   what a user would otherwise do. Its eigenvalues and trace check the
   estimates, and the seconds of both ways give the measured ratio (warm:
   after compilation; the compilations are reported separately).

Output (``--out``, default ``results/spectrum-<dataset>``): ``weights.csv`` and
``train.json`` (step 1), ``analysis.json`` and ``density.csv`` (step 2),
``dense.json`` and ``dense_eigenvalues.csv`` (step 3), each written
atomically with a hash of its settings, so that a rerun redoes only what
changed (step 3 is redone with step 2, so the seconds compared always come
from one run); ``summary.json``, ``summary.md`` and ``spectrum-<dataset>.png`` /
``.pdf`` (the densities on a log scale with the dense eigenvalues' histogram,
and the top eigenvalues). ``--quick``: a 64-8-10 network on 300 rows (CI).

References
----------
.. [1] Z. Yao, A. Gholami, K. Keutzer and M. W. Mahoney, "PyHessian: neural
   networks through the lens of the Hessian", IEEE BigData (2020).
.. [2] B. Ghorbani, S. Krishnan and Y. Xiao, "An investigation into neural net
   optimization via Hessian eigenvalue density", ICML (2019).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..common import io
from ..common.cli import fill_defaults, machine, output_folder, parse_numbers, set_xla_threads
from ..common.format import fmt
from ..common.runs import cached_step, config_key
from .runs import SCHEMA_VERSION

__all__ = ["analyse_hessian", "dense_reference", "main", "parse_args", "plot_spectrum",
           "summary_markdown", "timed"]


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """``(fn(), seconds)``.

    Parameters
    ----------
    fn : callable
        No arguments.

    Returns
    -------
    (object, float)

    Examples
    --------
    >>> from experiments.networks.spectrum import timed
    >>> value, seconds = timed(lambda: 2 + 2)
    >>> value, seconds >= 0
    (4, True)
    """
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def analyse_hessian(op: Any, *, k: int, probes: int, slq_vectors: int, slq_steps: int,
                    seed: int) -> dict[str, Any]:
    """Top-``k`` and smallest eigenvalues, Hutchinson and Hutch++ traces and the SLQ density
    of a Hessian given as a ``LinearOperator``, each with its seconds and products.

    Parameters
    ----------
    op : scipy.sparse.linalg.LinearOperator
        E.g. ``objective.hessian_operator(w, sample)``.
    k : int
        Largest eigenvalues wanted.
    probes : int
        Products of each trace estimate.
    slq_vectors, slq_steps : int
        Start vectors and Lanczos steps of the density.
    seed : int

    Returns
    -------
    dict
        ``top`` (eigenvalues, residuals, n_matvec, seconds), ``top1`` (the
        same for ``k = 1``: the time to the top eigenvalue), ``bottom``,
        ``hutchinson`` and ``hutchpp`` (trace, ci, n_matvec, seconds),
        ``density`` (grid, density, sigma, n_matvec, seconds).

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.sparse.linalg import aslinearoperator
    >>> from experiments.networks.spectrum import analyse_hessian
    >>> op = aslinearoperator(np.diag(np.arange(1.0, 41.0)))
    >>> r = analyse_hessian(op, k=2, probes=30, slq_vectors=2, slq_steps=10, seed=0)
    >>> np.round(r["top"]["eigenvalues"], 6).tolist(), np.round(r["bottom"]["eigenvalues"], 6)
    ([40.0, 39.0], array([1.]))
    >>> bool(r["hutchpp"]["ci"][0] <= 820 <= r["hutchpp"]["ci"][1])
    True
    """
    from randopt.norms import hessian_eigenvalues, hessian_trace, spectral_density

    out: dict[str, Any] = {}
    for name, kk, which in (("top1", 1, "LA"), ("top", k, "LA"), ("bottom", 1, "SA")):
        res, sec = timed(lambda kk=kk, which=which: hessian_eigenvalues(
            op, k=kk, which=which, tol=1e-6, random_state=seed))
        out[name] = {"eigenvalues": res.eigenvalues, "residuals": res.residuals,
                     "n_matvec": res.n_matvec, "seconds": sec}
    for name, method in (("hutchinson", "hutchinson"), ("hutchpp", "hutch++")):
        res, sec = timed(lambda method=method: hessian_trace(
            op, method=method, n_probes=probes, random_state=seed))
        out[name] = {"trace": res.trace, "ci": list(res.ci), "n_matvec": res.n_matvec,
                     "seconds": sec}
    res, sec = timed(lambda: spectral_density(op, n_vectors=slq_vectors, n_steps=slq_steps,
                                              random_state=seed))
    out["density"] = {"grid": res.grid, "density": res.density, "sigma": res.sigma,
                      "n_matvec": res.n_matvec, "seconds": sec}
    return out


def dense_reference(loss: Callable[[Any], Any], w: np.ndarray) -> tuple[np.ndarray, dict]:
    """The dense Hessian's eigenvalues by ``jax.jit(jax.hessian(loss))`` and ``eigvalsh``.

    Parameters
    ----------
    loss : callable
        ``loss(flat_params) -> scalar``, traceable by JAX.
    w : ndarray of shape (d,)

    Returns
    -------
    eigenvalues : ndarray of shape (d,)
        Ascending.
    info : dict
        ``trace``; ``first_call_seconds`` (compilation included, unless JAX's
        persistent cache holds the program), ``hessian_seconds`` (the second,
        warm call), ``eigvalsh_seconds``.

    Examples
    --------
    >>> import numpy as np
    >>> from experiments.networks.spectrum import dense_reference
    >>> lam, info = dense_reference(lambda p: (p ** 2).sum() + p[0] * p[1], np.zeros(3))
    >>> lam.round(6).tolist(), round(info["trace"], 6)
    ([1.0, 2.0, 3.0], 6.0)
    """
    import jax

    hess = jax.jit(jax.hessian(loss))
    p = jax.numpy.asarray(w)
    _, first = timed(lambda: hess(p).block_until_ready())
    H, warm = timed(lambda: hess(p).block_until_ready())
    H = np.asarray(H, dtype=np.float64)
    H = 0.5 * (H + H.T)
    lam, eig = timed(lambda: np.linalg.eigvalsh(H))
    return lam, {"trace": float(np.trace(H)), "first_call_seconds": first,
                 "hessian_seconds": warm, "eigvalsh_seconds": eig}


def plot_spectrum(analysis: dict[str, Any], dense_eigs: np.ndarray | None,
                  path_stem: str | Path, *, title: str) -> list[Path]:
    """Densities (log scale) of the full and the minibatch Hessian with the dense
    eigenvalues' histogram, and the top eigenvalues of each. Saved as PNG and PDF.

    Parameters
    ----------
    analysis : dict
        ``full`` and ``batch``: results of :func:`analyse_hessian`.
    dense_eigs : ndarray or None
        The dense Hessian's eigenvalues.
    path_stem : path
    title : str

    Returns
    -------
    list of pathlib.Path

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from scipy.sparse.linalg import aslinearoperator
    >>> from experiments.networks.spectrum import analyse_hessian, plot_spectrum
    >>> r = analyse_hessian(aslinearoperator(np.diag(np.arange(1.0, 31.0))), k=2, probes=6,
    ...                     slq_vectors=1, slq_steps=5, seed=0)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     files = plot_spectrum({"full": r, "batch": r}, np.arange(1.0, 31.0),
    ...                           Path(folder) / "s", title="t")
    ...     print([p.name for p in files])
    ['s.png', 's.pdf']
    """
    import matplotlib
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 4.6))
    dens_ax, top_ax = fig.subplots(1, 2)
    styles = {"full": ("tab:blue", "-", "full training loss"),
              "batch": ("tab:orange", "--", "minibatch")}
    floor = 1e-8
    for name, (color, ls, label) in styles.items():
        d = analysis[name]["density"]
        dens_ax.plot(d["grid"], np.maximum(d["density"], floor), color=color, linestyle=ls,
                     label=f"SLQ density, {label}")
        top = np.asarray(analysis[name]["top"]["eigenvalues"])
        top_ax.plot(np.arange(1, top.size + 1), top, "o" if name == "full" else "^",
                    color=color, label=f"Lanczos, {label}")
    if dense_eigs is not None:
        counts, edges = np.histogram(dense_eigs, bins=80, density=True)
        dens_ax.stairs(np.maximum(counts, floor), edges, color="0.3", linewidth=0.8,
                       label="histogram of the dense eigenvalues")
        k = len(analysis["full"]["top"]["eigenvalues"])
        top_ax.plot(np.arange(1, k + 1), dense_eigs[::-1][:k], "x", color="k", markersize=8,
                    label="dense eigvalsh, full")
    dens_ax.set(yscale="log", xlabel="eigenvalue", ylabel="density",
                ylim=(floor, None))
    top_ax.set(xlabel="rank", ylabel="eigenvalue", title="largest eigenvalues")
    top_ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    for ax in (dens_ax, top_ax):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return io.save_figures(fig, path_stem, dpi=130)


def summary_markdown(summary: dict[str, Any]) -> str:
    """``summary.md``: estimates against the dense reference, and the measured seconds.

    Parameters
    ----------
    summary : dict
        ``title``, ``lines``, ``rows`` (quantity, full estimate, minibatch
        estimate, dense value), ``timing`` (what, seconds, products), and
        ``machine``.

    Returns
    -------
    str

    Examples
    --------
    >>> from experiments.networks.spectrum import summary_markdown
    >>> s = {"title": "t", "lines": ["a"], "rows": [("top", 2.0, 3.0, 2.0)],
    ...      "timing": [("Lanczos", 0.5, 40)], "ratios": ["x"], "machine": "m"}
    >>> summary_markdown(s).splitlines()[6]
    '| top | 2 | 3 | 2 |'
    """
    parts = [f"# {summary['title']}\n", *[f"{line}  " for line in summary["lines"]], "",
             "| quantity | full Hessian (products) | minibatch Hessian | dense reference |",
             "|---|---:|---:|---:|"]
    for name, full, batch, dense in summary["rows"]:
        parts.append(f"| {name} | {fmt(full)} | {fmt(batch)} | {fmt(dense)} |")
    parts += ["", "| computation (full Hessian) | seconds | Hessian-vector products |",
              "|---|---:|---:|"]
    for name, sec, prods in summary["timing"]:
        parts.append(f"| {name} | {fmt(sec)} | {'—' if prods is None else prods} |")
    parts += ["", *[f"{line}  " for line in summary["ratios"]], "",
              f"Machine: {summary['machine']}.", ""]
    return "\n".join(parts)


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
    >>> from experiments.networks.spectrum import parse_args
    >>> a = parse_args(["--quick"])
    >>> a.sizes, a.train_iter, a.k, a.probes
    ([64, 8, 10], 15, 3, 30)
    """
    p = argparse.ArgumentParser(prog="python -m experiments.networks.spectrum",
                                description=__doc__.split("\n")[0])
    p.add_argument("--dataset", choices=("digits", "mnist"), default="digits")
    p.add_argument("--sizes", default=None, help="comma list of layer widths")
    p.add_argument("--n-train", type=int, default=None, help="training rows (MNIST)")
    p.add_argument("--train-iter", type=int, default=None, help="trust-region steps")
    p.add_argument("--sample-size", type=float, default=0.1,
                   help="fraction of rows in the minibatch Hessian")
    p.add_argument("--k", type=int, default=None, help="largest eigenvalues")
    p.add_argument("--probes", type=int, default=None, help="products per trace estimate")
    p.add_argument("--slq-vectors", type=int, default=None)
    p.add_argument("--slq-steps", type=int, default=None)
    p.add_argument("--dense-max-dim", type=int, default=6000,
                   help="form the dense Hessian only up to this many weights")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1,
                   help="XLA and BLAS threads (pinned, for comparable timings)")
    p.add_argument("--out", default=None, help="output folder")
    p.add_argument("--quick", action="store_true", help="a 64-8-10 network on 300 rows")
    a = p.parse_args(argv)
    q, mnist = a.quick, a.dataset == "mnist"
    defaults = {"sizes": "64,8,10" if q else ("784,32,10" if mnist else "64,32,10"),
                "n_train": 300 if q else (10_000 if mnist else None),
                "train_iter": 15 if q else 100, "k": 3 if q else 10,
                "probes": 30 if q else 150, "slq_vectors": 4 if q else 10,
                "slq_steps": 30 if q else 100}
    fill_defaults(a, **defaults)
    a.sizes = parse_numbers(a.sizes, "sizes", int)
    if not 0 < a.sample_size <= 1:
        raise SystemExit("--sample-size must be a fraction in (0, 1]")
    return a


def main(argv: list[str] | None = None) -> int:
    """Train, analyse the Hessian and report; the exit status (2: no MNIST file).

    Parameters
    ----------
    argv : list of str or None
        Command-line arguments (see :func:`parse_args`).

    Returns
    -------
    int

    Examples
    --------
    A 64-8-10 network trained for 15 steps on 300 rows of the digits, then
    analysed (and its 610 x 610 Hessian formed densely, for the reference):

    >>> import tempfile
    >>> from experiments.networks.spectrum import main
    >>> with tempfile.TemporaryDirectory() as out:
    ...     main(["--quick", "--out", out])
    # Hessian spectrum of a trained MLP: digits --quick
    ...
    | eigenvalue 1 | ...
    0
    """
    args = parse_args(argv)
    set_xla_threads(args.threads)
    import jax
    from jax.flatten_util import ravel_pytree
    from threadpoolctl import threadpool_limits

    from randopt.optimize import trust_region
    from randopt.sketch import uniform_sample

    from .data import load_split
    from .models import accuracy, mlp_objective

    split = load_split(args.dataset, n_train=args.n_train, n_test=2_000, seed=args.seed)
    if split is None:
        return 2
    X, y = split.X_train, split.y_train
    f = mlp_objective(args.sizes, X, y, random_state=args.seed)
    n, d = f.n_samples, f.n_features
    tag = f"spectrum-{args.dataset}" + ("-quick" if args.quick else "")
    out = output_folder(args.out, tag)
    base = {"experiment": "hessian_spectrum", "dataset": args.dataset, "source": split.source,
            "rows": n, "sizes": args.sizes, "seed": args.seed, "train_iter": args.train_iter}
    print(f"{split.source}: {n:,} rows; network {'-'.join(map(str, args.sizes))} "
          f"({d:,} weights) -> {out}", file=sys.stderr)

    def train() -> dict[str, Any]:
        res = trust_region(f, f.x0, hessian_sample_size=0.1, max_iter=args.train_iter,
                           random_state=args.seed)
        io.write_csv(out / "weights.csv", {"w": res.x})
        params = f.unravel(res.x)
        return {"loss": res.fun, "iterations": res.nit, "seconds": res.time,
                "train_accuracy": accuracy(params, X, y),
                "test_accuracy": accuracy(params, split.X_test, split.y_test)}

    with threadpool_limits(limits=args.threads):
        trained, reused = cached_step(out / "train.json", config_key(base, SCHEMA_VERSION), train)
        w = io.read_csv(out / "weights.csv")["w"]
        print(f"  trained ({'reused' if reused else 'ran'}): loss {trained['loss']:.4g}, test "
              f"accuracy {trained['test_accuracy']:.4f}", file=sys.stderr)
        opts = {"k": args.k, "probes": args.probes, "slq_vectors": args.slq_vectors,
                "slq_steps": args.slq_steps, "seed": args.seed}
        # The rows a sampler would draw (rounded to a compiled bucket, as trust_region's).
        rows = f.round_sample_size(max(1, math.ceil(args.sample_size * n)))
        batch = uniform_sample(n, rows, random_state=args.seed)

        def analyse() -> dict[str, Any]:
            full_op, batch_op = f.hessian_operator(w), f.hessian_operator(w, batch)
            v = np.ones(d)
            # Compile the products of both shapes first: the timings are warm.
            _, compile_full = timed(lambda: full_op @ v)
            _, compile_batch = timed(lambda: batch_op @ v)
            _, product = timed(lambda: full_op @ v)
            result = {"full": analyse_hessian(full_op, **opts),
                      "batch": analyse_hessian(batch_op, **opts),
                      "batch_rows": batch.size, "product_seconds": product,
                      "compile_seconds": compile_full + compile_batch}
            io.write_csv(out / "density.csv", {
                "grid_full": result["full"]["density"]["grid"],
                "density_full": result["full"]["density"]["density"],
                "grid_batch": result["batch"]["density"]["grid"],
                "density_batch": result["batch"]["density"]["density"]})
            return result

        analysis, reused = cached_step(
            out / "analysis.json",
            config_key({**base, **opts, "batch_rows": batch.size}, SCHEMA_VERSION), analyse)
        print(f"  analysed ({'reused' if reused else 'ran'})", file=sys.stderr)
        dense_eigs = None
        dense = None
        if d <= args.dense_max_dim:
            _, unravel = ravel_pytree(f.unravel(f.x0))
            data = f.data

            def flat_loss(p):
                return f.loss(unravel(p), data)

            def form() -> dict[str, Any]:
                lam, info = dense_reference(flat_loss, w)
                io.write_csv(out / "dense_eigenvalues.csv", {"eigenvalue": lam})
                return info

            # Keyed to the analysis too: the timings compared come from one run.
            dense, reused = cached_step(
                out / "dense.json",
                config_key({**base, "analysis": analysis["config_key"]}, SCHEMA_VERSION), form)
            dense_eigs = io.read_csv(out / "dense_eigenvalues.csv")["eigenvalue"]
            print(f"  dense reference ({'reused' if reused else 'ran'})", file=sys.stderr)
    summary = _summary(args, split, trained, analysis, dense, dense_eigs, n, d, machine(jax=True))
    io.write_json(out / "summary.json", summary)
    io.write_text(out / "summary.md", summary_markdown(summary))
    plot_spectrum(analysis, dense_eigs, out / tag,
                  title=f"Hessian spectrum of the trained {'-'.join(map(str, args.sizes))} MLP "
                        f"({args.dataset}, {d:,} weights)")
    print(summary_markdown(summary))
    del jax
    return 0


def _summary(args, split, trained, analysis, dense, dense_eigs, n, d, mach) -> dict[str, Any]:
    """The rows, timings and ratios of ``summary.md``."""
    full, batch = analysis["full"], analysis["batch"]
    k = len(full["top"]["eigenvalues"])
    top_dense = [math.nan] * k if dense_eigs is None else list(dense_eigs[::-1][:k])
    rows = [(f"eigenvalue {j + 1}", full["top"]["eigenvalues"][j],
             batch["top"]["eigenvalues"][j], top_dense[j]) for j in range(k)]
    rows.append(("smallest eigenvalue", full["bottom"]["eigenvalues"][0],
                 batch["bottom"]["eigenvalues"][0],
                 math.nan if dense_eigs is None else float(dense_eigs[0])))
    tr_dense = math.nan if dense is None else dense["trace"]
    for name, label in (("hutchinson", "trace, Hutchinson"), ("hutchpp", "trace, Hutch++")):
        rows.append((label, full[name]["trace"], batch[name]["trace"], tr_dense))
    timing = [("one Hessian-vector product", analysis["product_seconds"], 1),
              ("top eigenvalue (Lanczos, k = 1)", full["top1"]["seconds"],
               full["top1"]["n_matvec"]),
              (f"top {k} eigenvalues (Lanczos)", full["top"]["seconds"], full["top"]["n_matvec"]),
              ("trace, Hutchinson", full["hutchinson"]["seconds"], full["hutchinson"]["n_matvec"]),
              ("trace, Hutch++", full["hutchpp"]["seconds"], full["hutchpp"]["n_matvec"]),
              ("density (SLQ)", full["density"]["seconds"], full["density"]["n_matvec"]),
              ("first products (compiling both shapes)", analysis["compile_seconds"], 2)]
    ratios = []
    if dense is not None:
        dense_top = dense["hessian_seconds"] + dense["eigvalsh_seconds"]
        timing += [("dense: jax.hessian (warm)", dense["hessian_seconds"], d),
                   ("dense: first call of jax.hessian (compiling)", dense["first_call_seconds"],
                    d),
                   ("dense: numpy.linalg.eigvalsh", dense["eigvalsh_seconds"], None)]
        top_err = abs(full["top1"]["eigenvalues"][0] - dense_eigs[-1]) / abs(dense_eigs[-1])
        lo, hi = full["hutchpp"]["ci"]
        ratios = [
            f"Measured: the top eigenvalue from products takes "
            f"{full['top1']['seconds']:.3g} s against {dense_top:.3g} s for the dense "
            f"Hessian and eigvalsh: {dense_top / full['top1']['seconds']:.1f}x faster "
            f"(relative error {top_err:.1e}).",
            f"The Hutch++ trace takes {full['hutchpp']['seconds']:.3g} s against "
            f"{dense['hessian_seconds']:.3g} s to form the Hessian: "
            f"{dense['hessian_seconds'] / full['hutchpp']['seconds']:.1f}x faster; its "
            f"interval [{lo:.5g}, {hi:.5g}] {'holds' if lo <= tr_dense <= hi else 'misses'} "
            f"the dense trace {tr_dense:.5g}.",
            "Timings are warm (after compilation); both with the same XLA/BLAS threads "
            f"({args.threads}).",
        ]
    else:
        ratios = [f"The dense Hessian ({d:,} x {d:,}, {8e-9 * d * d:.3g} GB in float64) was "
                  f"not formed (--dense-max-dim {args.dense_max_dim})."]
    return {
        "title": f"Hessian spectrum of a trained MLP: {args.dataset}"
                 + (" --quick" if args.quick else ""),
        "lines": [
            f"Data: {split.source}; {n:,} training rows.",
            f"Network: {'-'.join(map(str, args.sizes))} (tanh), softmax cross-entropy, "
            f"{d:,} weights; trained by trust region (10% Hessian sample, "
            f"{trained['iterations']} steps): loss {trained['loss']:.4g}, train accuracy "
            f"{100 * trained['train_accuracy']:.2f}%, test accuracy "
            f"{100 * trained['test_accuracy']:.2f}%.",
            f"Minibatch Hessian: {analysis['batch_rows']} rows ({100 * args.sample_size:g}%). "
            f"Traces: {args.probes} products, 95% intervals; density: {args.slq_vectors} "
            f"Lanczos runs of {args.slq_steps} steps.",
        ],
        "rows": rows, "timing": timing, "ratios": ratios, "machine": mach,
        "trace_ci": {"full_hutchinson": full["hutchinson"]["ci"],
                     "full_hutchpp": full["hutchpp"]["ci"]},
        "residuals_top": full["top"]["residuals"],
    }


if __name__ == "__main__":
    raise SystemExit(main())
