"""The parsed-data cache: a parsed CSR matrix and its labels as an uncompressed ``.npz``.

The cache lies next to its source (``<file>.randopt.npz``) when that folder is
writable, else in ``$XDG_CACHE_HOME/randopt`` (default ``~/.cache/randopt``)
as ``<file>.<hash of the source's absolute path>.npz``. It is written to a
temp file and renamed (``os.replace``), so it is never half-written; an
unreadable or foreign cache file is ignored and rebuilt. Each cache records
the key it was built for (layout version, the source's size and mtime, the
parse options) and the source's SHA-256.

A cache that matches its key is still checked as strictly as a parsed source
before it is used (:func:`_check_cached`): the recorded shape (and width, when
the load asked for one), a canonical float64 CSR structure (``indptr`` from 0
to ``nnz``, non-decreasing; column indices in range, sorted and unique per
row), finite values, float64 labels in {-1, +1} with both classes present and
one per row, and the recorded label values and SHA-256. A cache that fails is
not used: the source is parsed again (and verified, for a known file) and the
cache rewritten, with a :class:`InvalidCacheWarning` saying what was wrong.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .home import _FILE_MODE, _is_writable_dir, _user_cache_dir, _warn_once

__all__ = ["InvalidCacheWarning"]

# Bump when the cache layout or the parsing/label rules change: old caches are rebuilt.
_CACHE_VERSION = 1
_CACHE_SUFFIX = ".randopt.npz"


class InvalidCacheWarning(UserWarning):
    """A parsed-data cache failed its checks and was rebuilt from the source file.

    The cache (``<file>.randopt.npz``) matched its source's size and mtime but
    its content was not what parsing the source yields (indices out of range,
    labels outside {-1, +1}, a label vector of the wrong length, non-finite
    values, ...): it was ignored, the source parsed again and the cache rewritten.

    Examples
    --------
    >>> from randopt.datasets import InvalidCacheWarning
    >>> issubclass(InvalidCacheWarning, UserWarning)
    True
    """


_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def _check_cached(
    meta: dict[str, Any], data: np.ndarray, indices: np.ndarray, indptr: np.ndarray,
    y: np.ndarray, n_features: Any,
) -> tuple[int, int]:
    """Check a cache's arrays as strictly as a parsed source; the shape, or ValueError."""
    shape = meta.get("shape")
    if not (isinstance(shape, list) and len(shape) == 2
            and all(type(v) is int and v >= 0 for v in shape) and shape[0] >= 1):
        raise ValueError(f"recorded shape {shape!r} is not two non-negative ints (rows >= 1)")
    n, d = shape
    if n_features is not None and d != n_features:
        raise ValueError(f"it has {d} columns, the load asks for n_features={n_features}")
    digest = meta.get("sha256")
    if not (isinstance(digest, str) and _SHA256_HEX.fullmatch(digest)):
        raise ValueError(f"recorded SHA-256 {digest!r} is not 64 hexadecimal digits")
    labels = meta.get("labels")
    if not (isinstance(labels, list) and len(labels) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in labels)
            and np.isfinite(labels).all() and labels[0] < labels[1]):
        raise ValueError(f"recorded label values {labels!r} are not two increasing numbers")
    for name, arr, kinds in (("data", data, "f"), ("indices", indices, "i"),
                             ("indptr", indptr, "i"), ("y", y, "f")):
        if arr.ndim != 1 or arr.dtype.kind not in kinds or arr.dtype.itemsize < 4:
            raise ValueError(f"{name} has dtype {arr.dtype} and shape {arr.shape}")
    if data.dtype != np.float64 or y.dtype != np.float64:
        raise ValueError(f"data and y must be float64, got {data.dtype} and {y.dtype}")
    nnz = data.shape[0]
    if indices.shape[0] != nnz:
        raise ValueError(f"{indices.shape[0]} column indices for {nnz} values")
    if indptr.shape[0] != n + 1 or indptr[0] != 0 or indptr[-1] != nnz:
        raise ValueError(f"indptr (length {indptr.shape[0]}) does not run from 0 to nnz={nnz} "
                         f"over {n} rows")
    if nnz and np.any(np.diff(indptr) < 0):
        raise ValueError("indptr decreases")
    if nnz and (indices.min() < 0 or indices.max() >= d):
        raise ValueError(f"column indices outside [0, {d})")
    if nnz > 1:
        # Within a row the parsed (canonical) indices increase strictly.
        step_ok = np.diff(indices) > 0
        starts = indptr[1:-1]
        step_ok[starts[(starts > 0) & (starts < nnz)] - 1] = True
        if not step_ok.all():
            raise ValueError("column indices are not sorted and unique within each row")
    if not np.isfinite(data).all():
        raise ValueError("it holds NaN or infinite feature values")
    if y.shape[0] != n:
        raise ValueError(f"{y.shape[0]} labels for {n} rows")
    positive = y == 1.0
    if not np.all(positive | (y == -1.0)) or positive.all() or not positive.any():
        raise ValueError("labels are not in {-1, +1} with both classes present")
    return n, d


def _cache_key(source: Path, **options: Any) -> dict[str, Any]:
    """What a cache must have been built for to serve ``source`` (its size and mtime)."""
    st = source.stat()
    return {
        "version": _CACHE_VERSION,
        "source_size": st.st_size,
        "source_mtime_ns": st.st_mtime_ns,
        **options,
    }


def _cache_candidates(source: Path) -> list[Path]:
    """Where the cache of ``source`` may live, in order of preference."""
    tag = hashlib.sha256(os.fsencode(source)).hexdigest()[:16]
    return [
        source.with_name(source.name + _CACHE_SUFFIX),
        _user_cache_dir() / f"{source.name}.{tag}.npz",
    ]


def _read_cache(
    cache: Path, key: dict[str, Any], sha256: str | None
) -> tuple[sp.csr_matrix, np.ndarray, dict[str, Any]] | None:
    """The cached ``(X, y, meta)`` when ``cache`` was built for ``key``, else None."""
    if not cache.is_file():
        return None
    try:
        with np.load(cache, allow_pickle=False) as npz:
            meta = json.loads(str(npz["meta"]))
            if any(meta.get(k) != v for k, v in key.items()):
                return None
            if sha256 is not None and meta.get("sha256") != sha256:
                return None
            arrays = [npz[k] for k in ("data", "indices", "indptr", "y")]
    except (OSError, ValueError, KeyError, TypeError, AttributeError, EOFError,
            zipfile.BadZipFile):
        return None  # unreadable or foreign file: rebuild and overwrite it
    data, indices, indptr, y = arrays
    try:
        shape = _check_cached(meta, data, indices, indptr, y, key.get("n_features"))
    except ValueError as err:
        warnings.warn(
            f"ignored the parsed-data cache {cache}: {err}. It is not what parsing its source "
            "gives (damaged or edited); the source is parsed again and the cache rewritten.",
            InvalidCacheWarning,
            stacklevel=4,
        )
        return None
    X = sp.csr_matrix((data, indices, indptr), shape=shape)
    X.has_sorted_indices = True  # checked above
    return X, y, meta


def _write_cache(cache_paths: list[Path], X: sp.csr_matrix, y: np.ndarray, meta: dict) -> None:
    """Write the cache to the first writable candidate; warn once when there is none."""
    for cache in cache_paths:
        folder = cache.parent
        try:
            if folder != cache_paths[0].parent:
                folder.mkdir(parents=True, exist_ok=True)
            if not _is_writable_dir(folder):
                continue
            fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{cache.name}.", suffix=".tmp")
        except OSError:
            continue
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(
                    f, meta=np.array(json.dumps(meta)), data=X.data, indices=X.indices,
                    indptr=X.indptr, y=y,
                )
            os.chmod(tmp, _FILE_MODE)
            os.replace(tmp, cache)
            return
        except OSError:
            continue
        finally:
            tmp.unlink(missing_ok=True)
    _warn_once(
        "nocache:" + os.fspath(cache_paths[0]),
        f"no writable place for the parsed-data cache of {cache_paths[0].name} (tried "
        f"{', '.join(os.fspath(c.parent) for c in cache_paths)}); it will be parsed on every load",
    )
