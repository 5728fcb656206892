"""The parsed-data cache: a parsed CSR matrix and its labels as an uncompressed ``.npz``.

The cache lies next to its source (``<file>.randopt.npz``) when that folder is
writable, else in ``$XDG_CACHE_HOME/randopt`` (default ``~/.cache/randopt``)
as ``<file>.<hash of the source's absolute path>.npz``. It is written to a
temp file and renamed (``os.replace``), so it is never half-written; an
unreadable or foreign cache file is ignored and rebuilt. Each cache records
the key it was built for (layout version, the source's size and mtime, the
parse options) and the source's SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .home import _FILE_MODE, _is_writable_dir, _user_cache_dir, _warn_once

__all__: list[str] = []

# Bump when the cache layout or the parsing/label rules change: old caches are rebuilt.
_CACHE_VERSION = 1
_CACHE_SUFFIX = ".randopt.npz"


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
            X = sp.csr_matrix(
                (npz["data"], npz["indices"], npz["indptr"]), shape=tuple(meta["shape"])
            )
            y = npz["y"]
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):
        return None  # unreadable or foreign file: rebuild and overwrite it
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
