"""The resumable run store of every experiment: a run's files, their key, and their reuse.

A run is written to ``<out>/runs/<run>.csv`` (its history, one row per record)
and then ``<out>/runs/<run>.json`` (settings and outcome), both atomically
(:mod:`experiments.common.io`). The JSON, written last, holds the hash of
everything the run's result depends on (:func:`config_key`), so a rerun with
the same settings reuses the finished run (:func:`load_finished`) and redoes
the rest: a run killed between its two files, a damaged file, other settings.
:func:`run_and_save` does either; :func:`cached_step` is the same for a step
whose result is one JSON file (the Hessian-spectrum experiment's steps).
A run's history times it with a :class:`Stopwatch`, which leaves out the time
of its bookkeeping (test metrics, history rows).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from . import io

__all__ = ["Stopwatch", "cached_step", "config_key", "load_finished", "run_and_save",
           "run_paths"]

Columns = dict[str, np.ndarray]
T = TypeVar("T")


class Stopwatch:
    """Wall time since it was made, less the time spent in the calls it was told to exclude.

    Attributes
    ----------
    paused : float
        Seconds excluded so far.

    Examples
    --------
    >>> import time
    >>> from experiments.common.runs import Stopwatch
    >>> clock = Stopwatch()
    >>> clock.excluded(lambda: time.sleep(0.05) or "metrics")
    'metrics'
    >>> clock.paused >= 0.05, clock.elapsed() < 0.05
    (True, True)
    """

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.paused = 0.0

    def elapsed(self) -> float:
        """Seconds since the start, less :attr:`paused`."""
        return time.perf_counter() - self.t0 - self.paused

    def excluded(self, fn: Callable[[], T]) -> T:
        """``fn()``, its time added to :attr:`paused`."""
        start = time.perf_counter()
        out = fn()
        self.paused += time.perf_counter() - start
        return out



def config_key(config: dict[str, Any], schema: int) -> str:
    """16-hex-digit hash of a run's settings and the version of its files' meaning.

    Parameters
    ----------
    config : dict
        Everything the run's result depends on (JSON-able; other values are
        hashed by their ``str``).
    schema : int
        The experiment's file-format version: bumping it makes every older run
        be redone.

    Returns
    -------
    str

    Examples
    --------
    >>> from experiments.common.runs import config_key
    >>> config_key({"a": 1}, 1) == config_key({"a": 1}, 1), config_key({"a": 1}, 1) == (
    ...     config_key({"a": 2}, 1)), config_key({"a": 1}, 1) == config_key({"a": 1}, 2)
    (True, False, False)
    """
    text = json.dumps({"schema": schema, **config}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_paths(out: str | Path, run: str) -> tuple[Path, Path]:
    """The CSV and the JSON file of run ``run`` in the output folder ``out``.

    Parameters
    ----------
    out : path
    run : str
        The run's id (a file-name stem).

    Returns
    -------
    (pathlib.Path, pathlib.Path)

    Examples
    --------
    >>> from experiments.common.runs import run_paths
    >>> [p.as_posix() for p in run_paths("out", "gd")]
    ['out/runs/gd.csv', 'out/runs/gd.json']
    """
    runs = Path(out) / "runs"
    return runs / f"{run}.csv", runs / f"{run}.json"


def load_finished(out: str | Path, run: str, key: str) -> tuple[Columns, dict[str, Any]] | None:
    """The columns and metadata of a finished run with configuration ``key``, else None.

    A run is finished when both its CSV and its JSON exist and the JSON (written
    last) records ``key``; anything else (missing, unreadable, other settings)
    means the run must be redone.

    Parameters
    ----------
    out : path
        The output folder (its ``runs/`` sub-folder holds the run files).
    run : str
        The run's id.
    key : str
        From :func:`config_key`.

    Returns
    -------
    (columns, meta) or None

    Examples
    --------
    >>> import tempfile
    >>> from experiments.common.runs import load_finished
    >>> with tempfile.TemporaryDirectory() as out:
    ...     load_finished(out, "tr_full", "0123456789abcdef") is None
    True
    """
    csv_path, meta_path = run_paths(out, run)
    if not (meta_path.is_file() and csv_path.is_file()):
        return None
    try:
        meta = json.loads(meta_path.read_text())
    except ValueError:
        return None
    if not isinstance(meta, dict) or meta.get("config_key") != key:
        return None
    try:
        return io.read_csv(csv_path), meta
    except (OSError, ValueError, StopIteration):
        return None


def run_and_save(
    out: str | Path,
    run: str,
    key: str,
    runner: Callable[[], tuple[Columns, dict[str, Any]]],
    *,
    settings: dict[str, Any] | None = None,
    prepare: Callable[[], Any] | None = None,
) -> tuple[Columns, dict[str, Any], bool]:
    """Reuse the finished run ``run`` with configuration ``key``, or run it and write its files.

    The CSV is written first and the JSON (with ``key``) last, both atomically,
    so a run killed in between is redone.

    Parameters
    ----------
    out : path
        Output folder (files in ``out/runs``).
    run : str
        The run's id.
    key : str
        From :func:`config_key`.
    runner : callable
        ``runner() -> (columns, outcome)``: the history (equal-length columns,
        one of them ``loss``) and a dict of the outcome (``status``, ...).
    settings : dict, optional
        Stored in the JSON between the key and the outcome.
    prepare : callable, optional
        Called, untimed, before a run that is not reused (e.g. a warm-up).

    Returns
    -------
    columns : dict of ndarray
    meta : dict
        What the JSON holds: ``run``, ``config_key``, the settings, the
        outcome, ``wall_seconds``, ``final_loss`` and ``rows``.
    reused : bool
        Whether a finished run was found.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from experiments.common.runs import run_and_save
    >>> calls = []
    >>> def runner():
    ...     calls.append(1)
    ...     return {"loss": np.array([1.0, 0.5])}, {"status": 0}
    >>> with tempfile.TemporaryDirectory() as out:
    ...     first = run_and_save(out, "r", "k1", runner, settings={"x": 1})
    ...     again = run_and_save(out, "r", "k1", runner)
    ...     other = run_and_save(out, "r", "k2", runner)
    >>> first[2], again[2], other[2], again[0]["loss"].tolist(), len(calls)
    (False, True, False, [1.0, 0.5], 2)
    >>> sorted(first[1])
    ['config_key', 'final_loss', 'rows', 'run', 'status', 'wall_seconds', 'x']
    """
    finished = load_finished(out, run, key)
    if finished is not None:
        return finished[0], finished[1], True
    if prepare is not None:
        prepare()
    t0 = time.perf_counter()
    columns, outcome = runner()
    meta = {"run": run, "config_key": key, **(settings or {}), **outcome,
            "wall_seconds": time.perf_counter() - t0,
            "final_loss": float(columns["loss"][-1]), "rows": len(columns["loss"])}
    csv_path, meta_path = run_paths(out, run)
    io.write_csv(csv_path, columns)
    io.write_json(meta_path, meta)  # written last: marks the run as finished
    return columns, meta, False


def cached_step(path: str | Path, key: str, compute: Callable[[], dict[str, Any]]
                ) -> tuple[dict[str, Any], bool]:
    """The JSON of a finished step with configuration ``key``, or ``compute()`` written there.

    ``compute`` writes any other files of the step before returning, so the
    JSON, written last and atomically with ``key``, marks the step finished.

    Parameters
    ----------
    path : path
        The step's JSON file.
    key : str
        From :func:`config_key`.
    compute : callable
        ``compute() -> dict`` (JSON-able).

    Returns
    -------
    result : dict
        With ``config_key`` added.
    reused : bool

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from experiments.common.runs import cached_step
    >>> calls = []
    >>> with tempfile.TemporaryDirectory() as out:
    ...     a = cached_step(Path(out) / "s.json", "k1", lambda: calls.append(1) or {"v": 2})
    ...     b = cached_step(Path(out) / "s.json", "k1", lambda: calls.append(1) or {"v": 3})
    ...     c = cached_step(Path(out) / "s.json", "k2", lambda: calls.append(1) or {"v": 4})
    >>> a[0]["v"], b, c[0]["v"], len(calls)
    (2, ({'v': 2, 'config_key': 'k1'}, True), 4, 2)
    """
    path = Path(path)
    if path.is_file():
        try:
            done = json.loads(path.read_text())
        except ValueError:
            done = None
        if isinstance(done, dict) and done.get("config_key") == key:
            return done, True
    result = {**compute(), "config_key": key}
    io.write_json(path, result)
    return result, False
