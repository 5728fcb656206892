"""The command-line preamble every experiment shares.

* :func:`parse_list` and :func:`parse_numbers`: an option's comma list,
  checked (exit naming the option);
* :func:`fill_defaults` and :func:`require_positive`: options left unset get
  their defaults (a value given, 0 included, is kept and checked);
* :func:`set_xla_threads`: XLA's CPU threads, before JAX's first computation;
* :func:`output_folder`: ``--out``, or ``results/<tag>``;
* :func:`machine`: the line about the machine in every summary.
"""

from __future__ import annotations

import math
import os
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["fill_defaults", "machine", "output_folder", "parse_list", "parse_numbers",
           "require_positive", "set_xla_threads"]


def parse_list(text: str, name: str, allowed: Sequence[str] | None = None) -> list[str]:
    """The items of a comma list (an option's value), or exit naming ``--name`` and the bad ones.

    Parameters
    ----------
    text : str
    name : str
        The option's name, for the message.
    allowed : sequence of str, optional
        The values allowed (any when None).

    Returns
    -------
    list of str

    Examples
    --------
    >>> from experiments.common.cli import parse_list
    >>> parse_list("tr, gn", "solvers", ("tr", "arc", "gn"))
    ['tr', 'gn']
    >>> parse_list("tr,newton", "solvers", ("tr", "arc"))
    Traceback (most recent call last):
    SystemExit: --solvers: unknown value(s) ['newton']; choose from ['tr', 'arc']
    """
    items = [s.strip() for s in text.split(",") if s.strip()]
    if allowed is not None:
        bad = [s for s in items if s not in allowed]
        if bad:
            raise SystemExit(f"--{name}: unknown value(s) {bad}; choose from {list(allowed)}")
    return items


def parse_numbers(text: str, name: str, kind: type = float, *, positive: bool = True) -> list:
    """Numbers from a comma list (an option's value), or exit naming ``--name``.

    Parameters
    ----------
    text : str
    name : str
        The option's name, for the message.
    kind : {float, int}, default=float
    positive : bool, default=True
        Require finite values > 0.

    Returns
    -------
    list of float or int

    Examples
    --------
    >>> from experiments.common.cli import parse_numbers
    >>> parse_numbers("0.05, 0.1", "tr-sizes"), parse_numbers("0,1", "seeds", int, positive=False)
    ([0.05, 0.1], [0, 1])
    >>> parse_numbers("-1", "sgd-lrs")
    Traceback (most recent call last):
    SystemExit: --sgd-lrs: values must be positive, got '-1'
    """
    try:
        values = [kind(s) for s in str(text).split(",") if s.strip()]
    except ValueError:
        raise SystemExit(f"--{name}: expected comma-separated {kind.__name__} values, "
                         f"got {text!r}") from None
    if positive and any(not (math.isfinite(v) and v > 0) for v in values):
        raise SystemExit(f"--{name}: values must be positive, got {text!r}")
    return values


def fill_defaults(args: Any, **defaults: Any) -> Any:
    """Set each option of ``args`` that was left unset (None) to its default; returns ``args``.

    A value the user gave is kept, 0 included (``args.x or default`` would replace it).

    Examples
    --------
    >>> import argparse
    >>> from experiments.common.cli import fill_defaults
    >>> a = fill_defaults(argparse.Namespace(epochs=None, batch=0), epochs=5, batch=32)
    >>> a.epochs, a.batch
    (5, 0)
    """
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def require_positive(args: Any, *names: str) -> None:
    """Exit naming the options among ``names`` whose values are not finite and > 0.

    Examples
    --------
    >>> import argparse
    >>> from experiments.common.cli import require_positive
    >>> require_positive(argparse.Namespace(max_time=1.0, max_passes=float("nan")),
    ...                  "max_time", "max_passes")
    Traceback (most recent call last):
    SystemExit: --max-passes must be positive (finite and > 0), got nan
    """
    for name in names:
        value = getattr(args, name)
        if not (math.isfinite(value) and value > 0):
            raise SystemExit(f"--{name.replace('_', '-')} must be positive (finite and > 0), "
                             f"got {value!r}")


def set_xla_threads(threads: int | None) -> None:
    """Limit XLA's CPU threads (must run before JAX's first computation).

    Parameters
    ----------
    threads : int or None
        None leaves XLA's default (every core).

    Examples
    --------
    >>> from experiments.common.cli import set_xla_threads
    >>> set_xla_threads(None)
    """
    if threads is None:
        return
    if threads < 1:
        raise SystemExit("--threads must be >= 1")
    flags = os.environ.get("XLA_FLAGS", "")
    os.environ["XLA_FLAGS"] = (flags + " --xla_cpu_multi_thread_eigen=false "
                               f"intra_op_parallelism_threads={threads}").strip()


def output_folder(out: str | None, tag: str) -> Path:
    """``--out``, or ``results/<tag>`` when it is not given.

    Parameters
    ----------
    out : str or None
    tag : str
        The experiment's name, e.g. ``"mlp-digits-quick"``.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> from experiments.common.cli import output_folder
    >>> output_folder(None, "ijcnn1-quick").as_posix(), output_folder("/tmp/x", "t").as_posix()
    ('results/ijcnn1-quick', '/tmp/x')
    """
    return Path(out or Path("results") / tag)


def machine(*, jax: bool = False) -> str:
    """One line about the machine (and, with ``jax=True``, the JAX / optax versions).

    Parameters
    ----------
    jax : bool, default=False

    Returns
    -------
    str

    Examples
    --------
    >>> from experiments.common.cli import machine
    >>> "CPUs" in machine()
    True
    """
    line = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    if not jax:
        return line
    import jax as jax_
    import optax

    return (f"{line}, JAX {jax_.__version__} ({jax_.default_backend()}), "
            f"optax {optax.__version__}")
