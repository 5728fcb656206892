"""The data folder (``data_home`` / ``RANDOPT_DATA`` / ``~/randopt_data``) and writable places.

Everything else in :mod:`randopt.datasets` asks this module where files live
and whether a folder may be written into; it never creates a folder itself.
"""

from __future__ import annotations

import os
import stat
import warnings
from pathlib import Path

__all__ = ["DATA_HOME_ENV", "get_data_home"]

#: Environment variable naming the data folder when ``data_home`` is not given.
DATA_HOME_ENV = "RANDOPT_DATA"
# mkstemp creates files readable by their owner only; data and caches are meant to be shared.
_FILE_MODE = 0o644

# Keys of the once-per-process warnings already given (unverified files, no cache place).
_warned: set[str] = set()


def get_data_home(data_home: str | os.PathLike[str] | None = None) -> Path:
    """Return the folder that holds randopt's real data files.

    The folder is ``data_home`` when given, else the ``RANDOPT_DATA``
    environment variable when set and non-empty, else ``~/randopt_data``.
    ``~`` is expanded and relative paths are taken from the current directory.
    Unlike scikit-learn's ``get_data_home``, the folder is not created here
    (a shared data folder is often read-only); it is created only when a file
    is downloaded into it. Any folder works: put the downloaded files in a
    folder of your own and pass it as ``data_home`` or in ``RANDOPT_DATA``.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder to use; ``None`` means ``RANDOPT_DATA`` or ``~/randopt_data``.

    Returns
    -------
    pathlib.Path
        Absolute path of the data folder (it may not exist).

    Examples
    --------
    >>> from randopt.datasets import get_data_home
    >>> get_data_home("/data/libsvm").as_posix()
    '/data/libsvm'
    >>> get_data_home("~/mine") == get_data_home("~/mine").expanduser()
    True
    """
    if data_home is None:
        data_home = os.environ.get(DATA_HOME_ENV) or os.path.join("~", "randopt_data")
    elif not isinstance(data_home, (str, os.PathLike)):
        raise TypeError(
            f"data_home must be a path (str or path-like) or None, got {type(data_home).__name__}"
        )
    path = os.fspath(data_home)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not path.strip():
        # An empty path would silently mean the current directory.
        raise ValueError("data_home must be a non-empty path or None, got an empty string")
    return Path(os.path.abspath(os.path.expanduser(path)))


def _is_writable_dir(folder: Path) -> bool:
    """Whether files may be created in ``folder`` (mode bits honoured even for root)."""
    try:
        mode = folder.stat().st_mode
    except OSError:
        return False
    if not stat.S_ISDIR(mode):
        return False
    # Root passes os.access for every folder; honour the mode bits too, so that a folder
    # marked read-only (a shared data folder) is never written into.
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        return False
    return os.access(folder, os.W_OK | os.X_OK)


def _user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/randopt`` (default ``~/.cache/randopt``); not created here."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    return Path(os.path.abspath(os.path.expanduser(base))) / "randopt"


def _warn_once(key: str, message: str, category: type[Warning] = UserWarning) -> None:
    """Warn once per process and ``key`` (loading the same file twice warns once)."""
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, category, stacklevel=3)
