"""Atomic file writes for the experiments: a temp file in the target folder, then ``os.replace``.

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

__all__ = ["atomic_path", "write_text", "write_json", "write_csv", "read_csv", "save_figure"]


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temp path next to ``path``; on success rename it to ``path``, else delete it."""
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
    """Strict JSON (NaN and infinities become ``null``), indented."""
    text = json.dumps(_jsonable(data), indent=2, allow_nan=False) + "\n"
    write_text(path, text)


def write_csv(path: str | os.PathLike[str], columns: dict[str, Any]) -> None:
    """Write equal-length columns; floats with 17 significant digits (round-trip exact)."""
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
    """Read a file written by :func:`write_csv` back into float arrays."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        names = next(reader)
        rows = [[float(v) for v in row] for row in reader]
    data = np.array(rows, dtype=np.float64).reshape(len(rows), len(names))
    return {name: data[:, j] for j, name in enumerate(names)}


def save_figure(fig: Any, path: str | os.PathLike[str], **kwargs: Any) -> None:
    """``fig.savefig`` through a temp file (the format is taken from ``path``'s suffix)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip("."), **kwargs)
