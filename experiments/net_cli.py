"""Command-line pieces the network experiments share.

Used by :mod:`experiments.mlp_classification`, :mod:`experiments.autoencoder`,
:mod:`experiments.hessian_spectrum` and :mod:`experiments.adaptive_batch`:

* :func:`parse_floats` and :func:`parse_kinds`: comma lists of an option,
  checked (exit naming the option);
* :func:`add_common_arguments` and :func:`resolve_common`: the options of the
  methods, the budget, the baselines, the data and the output, and their
  experiment-specific defaults;
* :func:`set_threads` (XLA's CPU threads, before JAX starts) and
  :func:`machine` (the line about the machine in every summary).
"""

from __future__ import annotations

import argparse
import math
import os
import platform

from .net_runs import KINDS

__all__ = [
    "add_common_arguments",
    "machine",
    "parse_floats",
    "parse_kinds",
    "resolve_common",
    "set_threads",
]


def parse_floats(text: str, name: str) -> list[float]:
    """Positive numbers from a comma list (an option's value), or exit naming ``--name``.

    Parameters
    ----------
    text : str
    name : str
        The option's name, for the message.

    Returns
    -------
    list of float

    Examples
    --------
    >>> from experiments.net_cli import parse_floats
    >>> parse_floats("0.05, 0.1", "tr-sizes")
    [0.05, 0.1]
    """
    try:
        values = [float(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise SystemExit(f"--{name}: expected comma-separated numbers, got {text!r}") from None
    if any(not (math.isfinite(v) and v > 0) for v in values):
        raise SystemExit(f"--{name}: values must be positive, got {text!r}")
    return values


def parse_kinds(text: str) -> list[str]:
    """Method kinds from a comma list (``--methods``), or exit naming the bad ones.

    Parameters
    ----------
    text : str

    Returns
    -------
    list of str
        Names of :data:`experiments.net_runs.KINDS`.

    Examples
    --------
    >>> from experiments.net_cli import parse_kinds
    >>> parse_kinds("tr,sgd")
    ['tr', 'sgd']
    """
    kinds = [s.strip() for s in text.split(",") if s.strip()]
    bad = [k for k in kinds if k not in KINDS]
    if bad or not kinds:
        raise SystemExit(f"--methods: unknown value(s) {bad}; choose from {list(KINDS)}")
    return kinds


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
    >>> from experiments.net_cli import add_common_arguments
    >>> p = argparse.ArgumentParser(); add_common_arguments(p, methods="tr,sgd")
    >>> a = p.parse_args(["--max-passes", "5"]); a.max_passes, a.methods
    (5.0, 'tr,sgd')
    """
    p.add_argument("--methods", default=methods, help="comma list of tr, gn, sgd, adam")
    p.add_argument("--tr-sizes", default=tr_sizes, help="TR Hessian sample fractions")
    p.add_argument("--tr-radii", default=None,
                   help="comma list of TR initial radii (default: the solver's, 10)")
    p.add_argument("--gn-size", type=float, default=0.05, help="GN sample fraction")
    p.add_argument("--sgd-lrs", default=None, help="comma list: SGD learning-rate grid")
    p.add_argument("--adam-lrs", default=None, help="comma list: Adam learning-rate grid")
    p.add_argument("--momentum", type=float, default=0.9, help="SGD momentum")
    p.add_argument("--batch-size", type=int, default=None, help="SGD/Adam minibatch rows")
    p.add_argument("--max-passes", type=float, default=None, help="passes per run")
    p.add_argument("--max-time", type=float, default=None, help="seconds per run")
    p.add_argument("--max-iter", type=int, default=None, help="TR/GN trial steps per run")
    p.add_argument("--records-per-pass", type=float, default=None,
                   help="history rows per pass of SGD/Adam")
    p.add_argument("--n-train", type=int, default=None, help="MNIST training rows")
    p.add_argument("--n-test", type=int, default=None, help="MNIST test rows")
    p.add_argument("--init", choices=("glorot", "normalized"), default="glorot",
                   help="initial weights: Glorot's, or the reference code's normalized random "
                        "vector (unit norm, near the saddle at zero)")
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
    >>> from experiments.net_cli import add_common_arguments, resolve_common
    >>> p = argparse.ArgumentParser(); add_common_arguments(p)
    >>> a = resolve_common(p, p.parse_args(["--tr-radii", "1,100"]), sgd_lrs="0.1",
    ...                    adam_lrs="0.01", batch_size=64, max_passes=5.0, max_time=60.0,
    ...                    records_per_pass=2.0)
    >>> a.methods, a.tr_sizes, a.tr_radii, a.sgd_lrs, a.batch_size, a.max_iter
    (['tr', 'gn', 'sgd', 'adam'], [0.05, 0.1], [1.0, 100.0], [0.1], 64, 10000)
    """
    args.methods = parse_kinds(args.methods)
    args.tr_sizes = parse_floats(args.tr_sizes, "tr-sizes")
    if any(s > 1 for s in args.tr_sizes + [args.gn_size]) or args.gn_size <= 0:
        p.error("--tr-sizes and --gn-size are fractions in (0, 1]")
    args.tr_radii = parse_floats(args.tr_radii, "tr-radii") if args.tr_radii else [None]
    args.sgd_lrs = parse_floats(args.sgd_lrs or sgd_lrs, "sgd-lrs")
    args.adam_lrs = parse_floats(args.adam_lrs or adam_lrs, "adam-lrs")
    args.batch_size = args.batch_size or batch_size
    args.max_passes = args.max_passes or max_passes
    args.max_time = args.max_time or max_time
    args.max_iter = args.max_iter or 10_000
    args.records_per_pass = args.records_per_pass or records_per_pass
    if (args.batch_size < 1 or args.max_passes <= 0 or args.max_time <= 0 or args.max_iter < 1
            or args.records_per_pass <= 0):
        p.error("--batch-size, --max-passes, --max-time, --max-iter and --records-per-pass "
                "must be positive")
    if not 0 <= args.momentum < 1:
        p.error("--momentum must lie in [0, 1)")
    return args


def set_threads(threads: int | None) -> None:
    """Limit XLA's CPU threads (must run before JAX's first computation).

    Parameters
    ----------
    threads : int or None
        None leaves XLA's default (every core).

    Examples
    --------
    >>> from experiments.net_cli import set_threads
    >>> set_threads(None)
    """
    if threads is None:
        return
    if threads < 1:
        raise SystemExit("--threads must be >= 1")
    flags = os.environ.get("XLA_FLAGS", "")
    os.environ["XLA_FLAGS"] = (flags + " --xla_cpu_multi_thread_eigen=false "
                               f"intra_op_parallelism_threads={threads}").strip()


def machine() -> str:
    """One line about the machine and the JAX / optax versions.

    Returns
    -------
    str

    Examples
    --------
    >>> from experiments.net_cli import machine
    >>> "CPUs" in machine()
    True
    """
    import jax
    import optax

    return (f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()},"
            f" JAX {jax.__version__} ({jax.default_backend()}), optax {optax.__version__}")
