"""Atomic file writes for the experiments and benchmarks: a temp file beside the target, then
``os.replace``.

A crash (or Ctrl-C) while writing leaves the previous file, or none, never a
half-written one, so a rerun can trust every file it finds.
"""

from __future__ import annotations

import csv
import json
import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["atomic_path", "write_text", "write_json", "write_csv", "read_csv", "save_figure",
           "save_figures"]


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temp path next to ``path``; on success rename it to ``path``, else delete it.

    Parameters
    ----------
    path : path
        The file to (re)place; its folder is created if needed.

    Yields
    ------
    pathlib.Path
        A temp file in the same folder (so the rename is atomic).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from experiments.common.io import atomic_path
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     target = Path(folder) / "a.txt"
    ...     with atomic_path(target) as tmp:
    ...         _ = tmp.write_text("done")
    ...     print(target.read_text(), sorted(p.name for p in Path(folder).iterdir()))
    done ['a.txt']
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically.

    Parameters
    ----------
    path : path
        Target file.
    text : str
        Its new contents.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from experiments.common.io import write_text
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     write_text(Path(folder) / "sub" / "t.md", "# title")
    ...     print((Path(folder) / "sub" / "t.md").read_text())
    # title
    """
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if math.isfinite(v) else None  # strict JSON has no NaN/inf
    return value


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    """Write ``data`` as strict JSON (NaN and infinities become ``null``), indented, atomically.

    NumPy scalars and arrays are converted to Python numbers and lists.

    Parameters
    ----------
    path : path
        Target file.
    data : object
        Dicts, lists, tuples, numbers, strings, NumPy scalars and arrays.

    Examples
    --------
    >>> import json, tempfile
    >>> import numpy as np
    >>> from pathlib import Path
    >>> from experiments.common.io import write_json
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     write_json(Path(folder) / "j.json", {"a": np.arange(2), "b": float("nan")})
    ...     print(json.loads((Path(folder) / "j.json").read_text()))
    {'a': [0, 1], 'b': None}
    """
    text = json.dumps(_jsonable(data), indent=2, allow_nan=False) + "\n"
    write_text(path, text)


def write_csv(path: str | os.PathLike[str], columns: dict[str, Any]) -> None:
    """Write equal-length columns as CSV, atomically; floats round-trip exactly (``repr``).

    Parameters
    ----------
    path : path
        Target file.
    columns : dict of array-like
        Column name -> values, all of one length.

    Raises
    ------
    ValueError
        The columns have different lengths.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from experiments.common.io import write_csv
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     write_csv(Path(folder) / "c.csv", {"k": [0, 1], "f": [0.1, 1 / 3]})
    ...     print((Path(folder) / "c.csv").read_text().splitlines())
    ['k,f', '0,0.1', '1,0.3333333333333333']
    """
    names = list(columns)
    arrays = [np.asarray(columns[k]) for k in names]
    lengths = {a.shape[0] for a in arrays}
    if len(lengths) > 1:
        sizes = {k: a.shape[0] for k, a in zip(names, arrays, strict=True)}
        raise ValueError(f"columns have different lengths: {sizes}")
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(names)
        for row in zip(*arrays, strict=True):
            writer.writerow(
                [repr(float(v)) if isinstance(v, (float, np.floating)) else
                 int(v) if isinstance(v, (bool, np.bool_, np.integer)) else v for v in row]
            )


def read_csv(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read a file written by :func:`write_csv` back into float arrays.

    Parameters
    ----------
    path : path
        A CSV file with a header row and numeric cells.

    Returns
    -------
    dict of ndarray
        Column name -> float64 values.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from experiments.common.io import read_csv, write_csv
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     write_csv(Path(folder) / "c.csv", {"f": [1e-300, 1 / 3]})
    ...     print(read_csv(Path(folder) / "c.csv")["f"].tolist() == [1e-300, 1 / 3])
    True
    """
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        names = next(reader)
        rows = [[float(v) for v in row] for row in reader]
    data = np.array(rows, dtype=np.float64).reshape(len(rows), len(names))
    return {name: data[:, j] for j, name in enumerate(names)}


def save_figure(fig: Any, path: str | os.PathLike[str], **kwargs: Any) -> None:
    """``fig.savefig`` through a temp file (the format is taken from ``path``'s suffix).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    path : path
        Target file, e.g. ``out/figure.png``.
    **kwargs
        Passed to ``savefig`` (e.g. ``dpi``).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from matplotlib.figure import Figure
    >>> from experiments.common.io import save_figure
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     save_figure(Figure(figsize=(1, 1)), Path(folder) / "f.png", dpi=20)
    ...     print((Path(folder) / "f.png").read_bytes()[:4])
    b'\x89PNG'
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip("."), **kwargs)


def save_figures(fig: Any, path_stem: str | os.PathLike[str], suffixes: tuple[str, ...] = (
        ".png", ".pdf"), **kwargs: Any) -> list[Path]:
    """Save ``fig`` once per suffix (:func:`save_figure`): ``<path_stem>.png``, ``.pdf``.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path_stem : path
        Target without suffix.
    suffixes : tuple of str, default=(".png", ".pdf")
    **kwargs
        Passed to ``savefig`` (e.g. ``dpi``).

    Returns
    -------
    list of pathlib.Path
        The files written.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from matplotlib.figure import Figure
    >>> from experiments.common.io import save_figures
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     print([p.name for p in save_figures(Figure((1, 1)), Path(folder) / "f", dpi=20)])
    ['f.png', 'f.pdf']
    """
    stem = Path(path_stem)
    paths = [stem.with_name(stem.name + suffix) for suffix in suffixes]
    for path in paths:
        save_figure(fig, path, **kwargs)
    return paths
