"""Data sets: the real LIBSVM binary problems of the papers, and synthetic look-alikes.

Real data
---------
:func:`load_ijcnn1` and :func:`load_covtype` read the LIBSVM binary
classification files ``ijcnn1.bz2`` / ``ijcnn1.t.bz2`` and
``covtype.libsvm.binary.scale.bz2`` from a data folder; :func:`load_libsvm`
reads any LIBSVM/svmlight file (or one of those files by name). All return
``(X, y)``: ``X`` a float64 CSR matrix (dense C-order with ``as_dense=True``)
and ``y`` float64 labels in {-1, +1}.

The data folder is, in order: the ``data_home`` argument, the ``RANDOPT_DATA``
environment variable, ``~/randopt_data`` (see :func:`get_data_home`). A file
missing from it is downloaded from the LIBSVM page when ``download=True`` and
the network allows; otherwise a :class:`FileNotFoundError` says which file to
put where, and the URL to get it from.

Verification and cache
----------------------
Parsing a bz2 LIBSVM file takes seconds (covtype: hundreds of MB of text), so
the parsed matrix is cached as an uncompressed ``.npz``:

* next to the source file (``<file>.randopt.npz``) when that folder is
  writable, else
* in ``$XDG_CACHE_HOME/randopt`` (default ``~/.cache/randopt``), as
  ``<file>.<hash of the source's absolute path>.npz``. A folder whose mode
  bits deny writing (e.g. a shared, read-only data folder) counts as read-only
  even for root, who would otherwise be allowed to write into it.

If neither place is writable, the file is parsed on every load (with a
warning). The cache records the source's size, modification time and SHA-256.
A load whose source still has the recorded size and mtime (and whose recorded
SHA-256 is the published one) reads the cache without hashing or parsing;
otherwise the source is hashed, checked against the published SHA-256 (a
mismatch raises :class:`ValueError`), parsed and the cache rewritten. Cache
and downloads are written to a temp file and renamed (``os.replace``), so a
crash never leaves a half-written file. A file replaced in place by one of the
same size with its mtime restored is not noticed: delete the cache then.

The SHA-256 of covtype is not known to this project (no copy could be
obtained when it was written): any file is accepted, with a one-time
:class:`UnverifiedDataWarning` that prints its SHA-256.

Synthetic data
--------------
:func:`make_binary_classification` draws data of any shape (covtype's by
default) from a planted logistic model, so that logistic and sigmoid
least-squares losses have a known population minimiser;
:func:`make_ijcnn1_like` draws data shaped like ijcnn1's training set, for use
when the real file is absent.

References
----------
.. [1] C.-C. Chang and C.-J. Lin, "LIBSVM: a library for support vector
   machines", ACM TIST 2(3), 2011. Data sets:
   https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/binary.html
.. [2] D. Prokhorov, "IJCNN 2001 neural network competition", 2001 (ijcnn1).
.. [3] J. A. Blackard and D. J. Dean, "Comparative accuracies of artificial
   neural networks and discriminant analysis in predicting forest cover
   types from cartographic variables", Computers and Electronics in
   Agriculture 24(3), 1999 (covtype).
.. [4] P. Xu, F. Roosta and M. W. Mahoney, "Second-order optimization for
   non-convex machine learning: an empirical study", SDM 2020 (the 80/20
   covtype split, 464,810 training rows).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import shutil
import stat
import tempfile
import urllib.request
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

import numpy as np
import scipy.sparse as sp

from ._validation import check_positive_int, check_random_state

__all__ = [
    "COVTYPE_SPLIT_SEED",
    "COVTYPE_TRAIN_FRACTION",
    "UnverifiedDataWarning",
    "get_data_home",
    "load_covtype",
    "load_ijcnn1",
    "load_libsvm",
    "make_binary_classification",
    "make_ijcnn1_like",
]

logger = logging.getLogger(__name__)

LIBSVM_URL = "https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/binary/"
DOWNLOAD_TIMEOUT_S = 60.0

#: Seed of the permutation that splits covtype.binary into train and test.
COVTYPE_SPLIT_SEED = 0
#: Fraction of covtype.binary's rows in the training split (rounded up).
COVTYPE_TRAIN_FRACTION = (4, 5)

# Bump when the cache layout or the parsing/label rules change: old caches are rebuilt.
_CACHE_VERSION = 1
_CACHE_SUFFIX = ".randopt.npz"
# mkstemp creates files readable by their owner only; data and caches are meant to be shared.
_FILE_MODE = 0o644


class UnverifiedDataWarning(UserWarning):
    """A data file was accepted without a published checksum to compare it with."""


@dataclass(frozen=True)
class _RemoteFile:
    filename: str
    sha256: str | None  # None: checksum unknown to the project, file accepted with a warning
    n_features: int

    @property
    def url(self) -> str:
        return LIBSVM_URL + self.filename


_IJCNN1_TRAIN = _RemoteFile(
    "ijcnn1.bz2", "b38a4198ce142d43e96fb86d17b87211feec1f909ac344fa057455c69de29de3", 22
)
_IJCNN1_TEST = _RemoteFile(
    "ijcnn1.t.bz2", "acd1db430684fdd3f0c768ecc49aa8e749d0004fc117611220c2aa576a7b6a24", 22
)
_COVTYPE = _RemoteFile("covtype.libsvm.binary.scale.bz2", None, 54)

# Names load_libsvm resolves in the data folder (file names work too).
_KNOWN = {
    "ijcnn1": _IJCNN1_TRAIN,
    "ijcnn1.t": _IJCNN1_TEST,
    "covtype": _COVTYPE,
    "covtype.binary": _COVTYPE,
    **{f.filename: f for f in (_IJCNN1_TRAIN, _IJCNN1_TEST, _COVTYPE)},
}

# ijcnn1's training set: 4,853 of 49,990 rows positive, exactly 13 of 22 entries stored per row.
_IJCNN1_POSITIVE_FRACTION = 4_853 / 49_990
_IJCNN1_DENSITY = 13 / 22

_warned: set[str] = set()


def _warn_once(key: str, message: str, category: type[Warning] = UserWarning) -> None:
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, category, stacklevel=3)


# --------------------------------------------------------------------------- folders


def get_data_home(data_home: str | os.PathLike[str] | None = None) -> Path:
    """Return the folder that holds randopt's real data files.

    The folder is ``data_home`` when given, else the ``RANDOPT_DATA``
    environment variable when set and non-empty, else ``~/randopt_data``.
    ``~`` is expanded and relative paths are taken from the current directory.
    Unlike scikit-learn's ``get_data_home``, the folder is not created here
    (a shared data folder is often read-only); it is created only when a file
    is downloaded into it.

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
    """
    if data_home is None:
        data_home = os.environ.get("RANDOPT_DATA") or os.path.join("~", "randopt_data")
    return Path(os.path.abspath(os.path.expanduser(os.fspath(data_home))))


def _is_writable_dir(folder: Path) -> bool:
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
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    return Path(os.path.abspath(os.path.expanduser(base))) / "randopt"


def _cache_candidates(source: Path) -> list[Path]:
    """Where the cache of ``source`` may live, in order of preference."""
    tag = hashlib.sha256(os.fsencode(source)).hexdigest()[:16]
    return [
        source.with_name(source.name + _CACHE_SUFFIX),
        _user_cache_dir() / f"{source.name}.{tag}.npz",
    ]


# --------------------------------------------------------------------------- files


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fetch(url: str, dst: BinaryIO, *, timeout: float) -> None:
    """Stream ``url`` into the open binary file ``dst``: the only code that uses the network."""
    request = urllib.request.Request(url, headers={"User-Agent": "randopt"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        shutil.copyfileobj(response, dst, 1 << 20)


def _missing_message(remote: _RemoteFile, folder: Path) -> str:
    return (
        f"{remote.filename} was not found in the data folder {folder}. Download it from "
        f"{remote.url} and put it in that folder as is (still bz2-compressed), or point "
        "RANDOPT_DATA (or data_home=) at a folder that holds it. "
        "See datasets/README.md."
    )


def _download(remote: _RemoteFile, path: Path) -> None:
    """Download ``remote`` to ``path`` via a temp file; FileNotFoundError when impossible."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not _is_writable_dir(folder):
            raise PermissionError(f"the folder {folder} is read-only")
        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
    except OSError as err:
        raise FileNotFoundError(
            _missing_message(remote, folder) + f" (Could not download it there: {err}.)"
        ) from err
    tmp = Path(tmp_name)
    try:
        logger.info("downloading %s to %s", remote.url, path)
        try:
            with os.fdopen(fd, "wb") as f:
                _fetch(remote.url, f, timeout=DOWNLOAD_TIMEOUT_S)
                f.flush()
                os.fsync(f.fileno())
        except (OSError, http.client.HTTPException) as err:
            raise FileNotFoundError(
                _missing_message(remote, folder) + f" (Downloading it failed: {err}.)"
            ) from err
        if remote.sha256 is not None:
            digest = _sha256(tmp)
            if digest != remote.sha256:
                raise ValueError(
                    f"the download of {remote.url} has SHA-256 {digest}, expected "
                    f"{remote.sha256}: the transfer was corrupted or the server's file changed. "
                    f"Nothing was saved; try again, or fetch the file by hand into {folder}."
                )
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _locate(remote: _RemoteFile, data_home: Any, download: bool) -> Path:
    folder = get_data_home(data_home)
    path = folder / remote.filename
    if path.is_file():
        return path
    if not download:
        raise FileNotFoundError(_missing_message(remote, folder))
    _download(remote, path)
    return path


# --------------------------------------------------------------------------- parsing, cache


def _parse_libsvm(
    path: Path, n_features: int | None, zero_based: bool | str
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Parse a LIBSVM/svmlight text file (.bz2/.gz by extension) into CSR and raw labels."""
    from sklearn.datasets import load_svmlight_file

    try:
        X, y = load_svmlight_file(
            os.fspath(path), n_features=n_features, dtype=np.float64, zero_based=zero_based
        )
    except (ValueError, OSError, EOFError, UnicodeDecodeError) as err:
        raise ValueError(
            f"{path} is not a readable LIBSVM-format file ({err}). Each line must read "
            "'<label> <index>:<value> ...'. If it is a downloaded data set, delete it and "
            "download it again."
        ) from err
    if X.shape[0] == 0:
        raise ValueError(
            f"{path} holds no rows; expected LIBSVM lines '<label> <index>:<value> ...'"
        )
    return X, y


def _binary_labels(y: np.ndarray, source: Path) -> tuple[np.ndarray, list[float]]:
    """Map two-valued labels to {-1, +1}: the smaller value becomes -1, the larger +1."""
    values = np.unique(y)
    if values.size != 2 or not np.isfinite(values).all():
        shown = ", ".join(f"{v:g}" for v in values[:6]) + (", ..." if values.size > 6 else "")
        raise ValueError(
            f"the labels of {source} are not binary: {values.size} distinct value(s) ({shown}). "
            "randopt's loaders need exactly two classes; binarise the labels first "
            "(e.g. one class against the rest)."
        )
    return np.where(y == values[1], 1.0, -1.0), [float(values[0]), float(values[1])]


def _read_cache(
    cache: Path, key: dict[str, Any], sha256: str | None
) -> tuple[sp.csr_matrix, np.ndarray, dict[str, Any]] | None:
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


def _load_source(
    path: Path,
    *,
    sha256: str | None = None,
    n_features: int | None = None,
    zero_based: bool | str = "auto",
    use_cache: bool = True,
) -> tuple[sp.csr_matrix, np.ndarray, str]:
    """Load ``path`` through the cache: CSR X, labels in {-1, +1} and the file's SHA-256."""
    st = path.stat()
    key = {
        "version": _CACHE_VERSION,
        "source_size": st.st_size,
        "source_mtime_ns": st.st_mtime_ns,
        "n_features": n_features,
        "zero_based": zero_based,
    }
    candidates = _cache_candidates(path)
    if use_cache:
        for cache in candidates:
            hit = _read_cache(cache, key, sha256)
            if hit is not None:
                X, y, meta = hit
                return X, y, meta["sha256"]

    digest = _sha256(path)
    if sha256 is not None and digest != sha256:
        raise ValueError(
            f"{path} has SHA-256 {digest}, but the published {path.name} has {sha256}: the file "
            "is corrupt or a different version. Delete it and load again to re-download it "
            f"(or copy a good one from {LIBSVM_URL + path.name})."
        )
    X, y_raw = _parse_libsvm(path, n_features, zero_based)
    if X.nnz and not np.isfinite(X.data).all():
        raise ValueError(f"{path} contains NaN or infinite feature values; clean the file first")
    y, label_values = _binary_labels(y_raw, path)
    X.sum_duplicates()  # canonical CSR: sorted, unique column indices per row
    if X.nnz < np.iinfo(np.int32).max:
        # int32 halves the index memory and the cache size; scipy keeps int32 when it fits.
        X = sp.csr_matrix(
            (X.data, X.indices.astype(np.int32), X.indptr.astype(np.int32)), shape=X.shape
        )
    if use_cache:
        meta = {**key, "sha256": digest, "shape": list(X.shape), "labels": label_values}
        _write_cache(candidates, X, y, meta)
    return X, y, digest


def _check_unverified(remote: _RemoteFile, path: Path, digest: str) -> None:
    if remote.sha256 is None:
        _warn_once(
            "unverified:" + os.fspath(path),
            f"{path} was not verified: randopt knows no SHA-256 for {remote.filename} (its "
            f"SHA-256 is {digest}). Make sure it is the file from {remote.url}.",
            UnverifiedDataWarning,
        )


def _finish(X: sp.csr_matrix, y: np.ndarray, as_dense: bool):
    if as_dense:
        return X.toarray(order="C"), y
    return X, y


def _check_split(split: str) -> None:
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")


# --------------------------------------------------------------------------- public loaders


def load_libsvm(
    path_or_name: str | os.PathLike[str],
    *,
    n_features: int | None = None,
    as_dense: bool = False,
    zero_based: bool | Literal["auto"] = "auto",
    data_home: str | os.PathLike[str] | None = None,
    download: bool = True,
    cache: bool = True,
) -> tuple[sp.csr_matrix | np.ndarray, np.ndarray]:
    """Load a binary classification problem stored in LIBSVM (svmlight) format.

    Parameters
    ----------
    path_or_name : str or path-like
        Path of a LIBSVM file (``.bz2`` and ``.gz`` are decompressed, by
        extension), or the name of a known data set, looked up in the data
        folder (see :func:`get_data_home`) and verified by SHA-256:
        ``"ijcnn1"`` (``ijcnn1.bz2``), ``"ijcnn1.t"`` (``ijcnn1.t.bz2``),
        ``"covtype"`` / ``"covtype.binary"`` (all 581,012 rows of
        ``covtype.libsvm.binary.scale.bz2``; :func:`load_covtype` splits it),
        or one of those file names. Files given by path are not verified.
    n_features : int, default=None
        Number of columns; ``None`` takes the largest index in the file (the
        data set's own width for a known name). Pass it so that files holding
        the train and test rows of one problem get the same width.
    as_dense : bool, default=False
        Return X as a dense C-ordered array instead of CSR.
    zero_based : bool or "auto", default="auto"
        Whether the file's column indices start at 0; ``"auto"`` assumes
        one-based (the LIBSVM convention) unless a 0 index occurs. Known data
        sets are read one-based.
    data_home : str or path-like, default=None
        Data folder for known names; see :func:`get_data_home`.
    download : bool, default=True
        Download a known data set that is missing from the data folder.
    cache : bool, default=True
        Read/write the parsed-data cache (see the module docstring).

    Returns
    -------
    X : scipy.sparse.csr_matrix or ndarray of shape (n_samples, n_features)
        float64 features; CSR with sorted indices, or dense with ``as_dense``.
    y : ndarray of shape (n_samples,)
        float64 labels in {-1, +1}: the smaller of the file's two label values
        becomes -1 and the larger +1 (so {0, 1} and {1, 2} map as expected).

    Raises
    ------
    ValueError
        Unknown name, a file that is not in LIBSVM format, labels that do not
        take exactly two values, or a known file whose SHA-256 is wrong.
    FileNotFoundError
        The file does not exist (for a known name: it is missing and could not
        be downloaded); the message says where to put which file.

    References
    ----------
    .. [1] T. Joachims, "Making large-scale SVM learning practical", in
       Advances in Kernel Methods, 1999 (the svmlight format).

    Examples
    --------
    >>> from randopt.datasets import load_libsvm
    >>> X, y = load_libsvm("ijcnn1")  # doctest: +SKIP
    >>> X.shape, sorted(set(y))  # doctest: +SKIP
    ((49990, 22), [-1.0, 1.0])
    """
    if n_features is not None:
        n_features = check_positive_int(n_features, "n_features")
    if not isinstance(path_or_name, (str, os.PathLike)):
        raise TypeError(
            f"path_or_name must be a path or a data set name, got {type(path_or_name).__name__}"
        )
    name = os.fspath(path_or_name)
    if isinstance(path_or_name, str) and name in _KNOWN:
        remote = _KNOWN[name]
        path = _locate(remote, data_home, download)
        X, y, digest = _load_source(
            path,
            sha256=remote.sha256,
            n_features=n_features or remote.n_features,
            zero_based=False,
            use_cache=cache,
        )
        _check_unverified(remote, path, digest)
        return _finish(X, y, as_dense)

    path = Path(os.path.abspath(os.path.expanduser(name)))
    looks_like_path = isinstance(path_or_name, os.PathLike) or os.sep in name or "." in name
    if not path.exists():
        if not looks_like_path:
            raise ValueError(
                f"unknown data set name {name!r} (and no such file); known names: "
                f"{', '.join(sorted(_KNOWN))}. To load a file, pass its path."
            )
        raise FileNotFoundError(
            f"no LIBSVM file at {path} (from path_or_name={name!r}); known data set names: "
            f"{', '.join(sorted(_KNOWN))}"
        )
    if not path.is_file():
        raise ValueError(f"path_or_name={name!r} is not a file ({path})")
    if zero_based not in (True, False, "auto"):
        raise ValueError(f"zero_based must be True, False or 'auto', got {zero_based!r}")
    X, y, _ = _load_source(path, n_features=n_features, zero_based=zero_based, use_cache=cache)
    return _finish(X, y, as_dense)


def load_ijcnn1(
    split: Literal["train", "test"] = "train",
    *,
    data_home: str | os.PathLike[str] | None = None,
    as_dense: bool = False,
    download: bool = True,
) -> tuple[sp.csr_matrix | np.ndarray, np.ndarray]:
    """Load ijcnn1 (IJCNN 2001 challenge, LIBSVM's binary version).

    ``split="train"`` reads ``ijcnn1.bz2`` (ijcnn1.tr + ijcnn1.val, the
    49,990 rows used in the papers; 4,853 positive), ``split="test"`` reads
    ``ijcnn1.t.bz2`` (91,701 rows; 8,712 positive). Both have 22 features
    (train and test are read with ``n_features=22``, so their widths agree)
    and are verified by SHA-256 against the published files.

    Parameters
    ----------
    split : {"train", "test"}, default="train"
        Which file to read.
    data_home : str or path-like, default=None
        Data folder; ``None`` means ``RANDOPT_DATA`` or ``~/randopt_data``.
    as_dense : bool, default=False
        Return X as a dense C-ordered array instead of CSR.
    download : bool, default=True
        Download the file from the LIBSVM page if it is missing.

    Returns
    -------
    X : scipy.sparse.csr_matrix or ndarray of shape (n_samples, 22)
        float64 features.
    y : ndarray of shape (n_samples,)
        float64 labels in {-1, +1}.

    Raises
    ------
    ValueError
        Unknown split, or a file whose SHA-256 differs from the published one.
    FileNotFoundError
        The file is missing and could not be downloaded.

    References
    ----------
    .. [1] D. Prokhorov, "IJCNN 2001 neural network competition", 2001.
    .. [2] LIBSVM data sets, https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/

    Examples
    --------
    >>> from randopt.datasets import load_ijcnn1
    >>> X, y = load_ijcnn1("train")  # doctest: +SKIP
    >>> X.shape, int((y == 1).sum())  # doctest: +SKIP
    ((49990, 22), 4853)
    """
    _check_split(split)
    name = "ijcnn1" if split == "train" else "ijcnn1.t"
    return load_libsvm(name, data_home=data_home, as_dense=as_dense, download=download)


def _covtype_split_sizes(n_samples: int) -> tuple[int, int]:
    """Rows in (train, test): ceil(4/5 n) train, as in the papers (581,012 -> 464,810)."""
    num, den = COVTYPE_TRAIN_FRACTION
    n_train = -(-num * n_samples // den)
    return n_train, n_samples - n_train


def _covtype_split_rows(n_samples: int, split: str) -> np.ndarray:
    n_train, _ = _covtype_split_sizes(n_samples)
    order = np.random.default_rng(COVTYPE_SPLIT_SEED).permutation(n_samples)
    rows = order[:n_train] if split == "train" else order[n_train:]
    rows.sort()  # file order inside a split: contiguous reads, and order-independent results
    return rows


def load_covtype(
    split: Literal["train", "test"] = "train",
    *,
    data_home: str | os.PathLike[str] | None = None,
    as_dense: bool = False,
    download: bool = True,
) -> tuple[sp.csr_matrix | np.ndarray, np.ndarray]:
    """Load covtype.binary (LIBSVM's scaled version), split 80/20 into train and test.

    Reads ``covtype.libsvm.binary.scale.bz2`` (581,012 rows, 54 features
    scaled to [0, 1], labels {1, 2}). The file's label 2 becomes +1 and label
    1 becomes -1. The split follows the papers: the first
    ``ceil(0.8 n)`` entries of ``numpy.random.default_rng(COVTYPE_SPLIT_SEED)
    .permutation(n)`` (``COVTYPE_SPLIT_SEED = 0``) are the training rows, the
    rest the test rows, each kept in file order. For the real file that is
    464,810 training and 116,202 test rows.

    The project knows no SHA-256 for this file: any file is accepted, with a
    one-time :class:`UnverifiedDataWarning` giving its SHA-256.

    Parameters
    ----------
    split : {"train", "test"}, default="train"
        Which part to return.
    data_home : str or path-like, default=None
        Data folder; ``None`` means ``RANDOPT_DATA`` or ``~/randopt_data``.
    as_dense : bool, default=False
        Return X as a dense C-ordered array instead of CSR.
    download : bool, default=True
        Download the file from the LIBSVM page if it is missing.

    Returns
    -------
    X : scipy.sparse.csr_matrix or ndarray of shape (n_rows, 54)
        float64 features.
    y : ndarray of shape (n_rows,)
        float64 labels in {-1, +1}.

    Raises
    ------
    ValueError
        Unknown split, a file that is not LIBSVM, or labels that are not two-valued.
    FileNotFoundError
        The file is missing and could not be downloaded.

    References
    ----------
    .. [1] J. A. Blackard and D. J. Dean, Computers and Electronics in
       Agriculture 24(3), 1999.
    .. [2] P. Xu, F. Roosta and M. W. Mahoney, "Second-order optimization for
       non-convex machine learning: an empirical study", SDM 2020.

    Examples
    --------
    >>> from randopt.datasets import load_covtype
    >>> X, y = load_covtype("train")  # doctest: +SKIP
    >>> X.shape  # doctest: +SKIP
    (464810, 54)
    """
    _check_split(split)
    X, y = load_libsvm("covtype", data_home=data_home, download=download)
    rows = _covtype_split_rows(X.shape[0], split)
    return _finish(X[rows], y[rows], as_dense)


# --------------------------------------------------------------------------- synthetic data


_UNIT_UNIFORM_HALF_WIDTH = np.sqrt(3.0)  # U(-sqrt 3, sqrt 3) has mean 0 and variance 1


def _dense_uniform(n_samples: int, n_features: int, rng: np.random.Generator) -> np.ndarray:
    """C-ordered array of independent U(-sqrt 3, sqrt 3) entries (mean 0, variance 1)."""
    # Uniform draws cost a quarter of Gaussian ones (0.15 s against 0.6 s at covtype's size).
    X = rng.random((n_samples, n_features))
    X -= 0.5
    X *= 2.0 * _UNIT_UNIFORM_HALF_WIDTH
    return X


def _sparse_uniform(
    n_samples: int, n_features: int, density: float, rng: np.random.Generator
) -> sp.csr_matrix:
    """CSR matrix whose entries are, independently, U(-sqrt 3, sqrt 3) with probability
    ``density`` and 0 otherwise."""
    rows_per_block = max(1, (1 << 22) // n_features)  # bounds each block of draws to 32 MB
    indptr = np.zeros(n_samples + 1, dtype=np.int64)
    index_blocks, data_blocks = [], []
    for start in range(0, n_samples, rows_per_block):
        stop = min(n_samples, start + rows_per_block)
        draws = rng.random((stop - start, n_features))
        mask = draws < density
        indptr[start + 1 : stop + 1] = np.count_nonzero(mask, axis=1)
        flat = np.flatnonzero(mask)  # row-major, so column indices come out sorted per row
        index_blocks.append(flat % n_features)
        # Given draw < density, draw / density is U(0, 1) and independent of the pattern:
        # one draw decides both whether an entry is stored and its value.
        data_blocks.append(draws.ravel()[flat])
    np.cumsum(indptr, out=indptr)
    nnz = int(indptr[-1])
    index_dtype = np.int32 if nnz < np.iinfo(np.int32).max else np.int64
    indices = np.concatenate(index_blocks).astype(index_dtype, copy=False)
    data = np.concatenate(data_blocks)
    data *= 1.0 / density
    data -= 0.5
    data *= 2.0 * _UNIT_UNIFORM_HALF_WIDTH
    return sp.csr_matrix(
        (data, indices, indptr.astype(index_dtype, copy=False)), shape=(n_samples, n_features)
    )


def make_binary_classification(
    n_samples: int = 464_810,
    n_features: int = 54,
    *,
    density: float = 1.0,
    class_balance: float = 0.5,
    noise: float = 0.5,
    return_coef: bool = False,
    random_state: Any = None,
):
    """Draw a binary classification problem from a planted logistic model.

    The entries of X are independent and uniform on [-sqrt 3, sqrt 3] (mean
    0, variance 1; bounded, like the scaled features of the LIBSVM sets),
    each stored with probability ``density`` and 0 otherwise (CSR when
    ``density < 1``). A direction ``w`` is drawn uniformly on
    the sphere and scaled so that the margin ``m = x @ w`` has unit variance;
    labels are ``y = sign(m + b + noise * e)`` with ``e`` standard logistic.
    The offset ``b`` is set so that exactly ``round(class_balance *
    n_samples)`` labels are +1. Hence ``P(y = +1 | x) = sigmoid(x @ coef +
    intercept)`` with ``coef = w / noise`` and ``intercept = b / noise``: the
    logistic loss and the (non-convex) sigmoid least-squares loss
    ``mean(((1 + y) / 2 - sigmoid(X @ v + c)) ** 2)`` have their population
    minimiser at ``(coef, intercept)``. With ``noise=0`` the classes are
    linearly separable and no finite minimiser exists (``coef`` is then ``w``).

    The defaults give covtype.binary's training shape (464,810 x 54).

    Parameters
    ----------
    n_samples : int, default=464_810
        Number of rows.
    n_features : int, default=54
        Number of columns.
    density : float in (0, 1], default=1.0
        Expected fraction of stored entries; 1 gives a dense array, less a CSR matrix.
    class_balance : float in (0, 1), default=0.5
        Fraction of rows labelled +1 (at least one row of each class is kept).
    noise : float >= 0, default=0.5
        Scale of the logistic label noise relative to the unit-variance margin
        (0: separable; 0.5: about 78% Bayes accuracy at balance 0.5).
    return_coef : bool, default=False
        Also return the planted ``coef`` and ``intercept``.
    random_state : None, int, Generator or RandomState, default=None
        Seed; the same seed gives the same data.

    Returns
    -------
    X : ndarray (C order) or scipy.sparse.csr_matrix of shape (n_samples, n_features)
        float64 features.
    y : ndarray of shape (n_samples,)
        float64 labels in {-1, +1}.
    coef : ndarray of shape (n_features,)
        Only with ``return_coef``: the planted coefficients.
    intercept : float
        Only with ``return_coef``: the planted intercept.

    References
    ----------
    .. [1] P. Xu, F. Roosta and M. W. Mahoney, "Second-order optimization for
       non-convex machine learning: an empirical study", SDM 2020 (the
       sigmoid least-squares loss).

    Examples
    --------
    >>> from randopt.datasets import make_binary_classification
    >>> X, y = make_binary_classification(1000, 5, class_balance=0.25, random_state=0)
    >>> X.shape, int((y == 1).sum())
    ((1000, 5), 250)
    """
    n_samples = check_positive_int(n_samples, "n_samples", minimum=2)
    n_features = check_positive_int(n_features, "n_features")
    density = float(density)
    if not 0.0 < density <= 1.0:
        raise ValueError(f"density must lie in (0, 1], got {density}")
    class_balance = float(class_balance)
    if not 0.0 < class_balance < 1.0:
        raise ValueError(f"class_balance must lie in (0, 1), got {class_balance}")
    noise = float(noise)
    if not (noise >= 0.0 and np.isfinite(noise)):
        raise ValueError(f"noise must be a finite number >= 0, got {noise}")
    rng = check_random_state(random_state)

    direction = rng.standard_normal(n_features)
    direction /= np.linalg.norm(direction)
    if density == 1.0:
        X = _dense_uniform(n_samples, n_features, rng)
        w = direction
    else:
        X = _sparse_uniform(n_samples, n_features, density, rng)
        w = direction / np.sqrt(density)  # Var(x @ w) = density * ||w||^2 = 1
    score = X @ w
    if noise > 0:
        score += noise * rng.logistic(size=n_samples)

    n_pos = min(max(round(class_balance * n_samples), 1), n_samples - 1)
    # The n_pos largest scores are +1; the offset b puts the threshold between the classes.
    split = n_samples - n_pos
    part = np.argpartition(score, split - 1)
    lowest_pos = score[part[split:]].min()
    highest_neg = score[part[:split]].max()
    b = -0.5 * (lowest_pos + highest_neg)
    y = -np.ones(n_samples)
    y[part[split:]] = 1.0
    if not return_coef:
        return X, y
    scale = noise if noise > 0 else 1.0
    return X, y, w / scale, float(b / scale)


def make_ijcnn1_like(random_state: Any = None, *, return_coef: bool = False):
    """Draw a stand-in for ijcnn1's training set: 49,990 x 22 CSR, ~9.7% positive.

    Uses :func:`make_binary_classification` with ijcnn1's shape, its share of
    positive labels (4,853 / 49,990) and its density (13 of 22 entries stored
    per row on average; the real file stores exactly 13 per row). The feature
    values are uniform, not ijcnn1's. Use it where the real file is absent.

    Parameters
    ----------
    random_state : None, int, Generator or RandomState, default=None
        Seed; the same seed gives the same data.
    return_coef : bool, default=False
        Also return the planted ``coef`` and ``intercept``.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (49990, 22)
        float64 features.
    y : ndarray of shape (49990,)
        float64 labels in {-1, +1}, 4,853 of them +1.
    coef, intercept
        Only with ``return_coef``; see :func:`make_binary_classification`.

    Examples
    --------
    >>> from randopt.datasets import make_ijcnn1_like
    >>> X, y = make_ijcnn1_like(random_state=0)
    >>> X.shape, int((y == 1).sum())
    ((49990, 22), 4853)
    """
    return make_binary_classification(
        49_990,
        22,
        density=_IJCNN1_DENSITY,
        class_balance=_IJCNN1_POSITIVE_FRACTION,
        return_coef=return_coef,
        random_state=random_state,
    )
