"""LIBSVM (svmlight) binary classification files: parsing, the known files, their loaders.

:func:`load_libsvm` reads any LIBSVM file, or one of the known data sets by
name (``ijcnn1``, ``ijcnn1.t``, ``covtype``) from the data folder, verified by
SHA-256 and served through the parsed-data cache (:mod:`randopt.datasets.cache`).
:func:`load_ijcnn1` and :func:`load_covtype` are the papers' two problems;
covtype is split 80/20 into train and test as in Xu, Roosta and Mahoney.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import numpy as np
import scipy.sparse as sp

from .._validation import check_bool, check_choice, check_positive_int
from .cache import _cache_candidates, _cache_key, _read_cache, _write_cache
from .download import (
    LIBSVM_URL,
    UnverifiedDataWarning,
    _locate,
    _RemoteFile,
    _sha256,
    _verify,
)
from .home import _warn_once

__all__ = [
    "COVTYPE_SPLIT_SEED",
    "COVTYPE_TRAIN_FRACTION",
    "load_covtype",
    "load_ijcnn1",
    "load_libsvm",
]

#: Seed of the permutation that splits covtype.binary into train and test.
COVTYPE_SPLIT_SEED = 0
#: Fraction of covtype.binary's rows in the training split (rounded up).
COVTYPE_TRAIN_FRACTION = (4, 5)

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


def _load_source(
    path: Path,
    *,
    sha256: str | None = None,
    n_features: int | None = None,
    zero_based: bool | str = "auto",
    use_cache: bool = True,
) -> tuple[sp.csr_matrix, np.ndarray, str]:
    """Load ``path`` through the cache: CSR X, labels in {-1, +1} and the file's SHA-256.

    A cache built for the source's current size and mtime (and, for a known
    file, its published SHA-256) is read without hashing or parsing; otherwise
    the source is hashed, verified, parsed and the cache rewritten.
    """
    key = _cache_key(path, n_features=n_features, zero_based=zero_based)
    candidates = _cache_candidates(path)
    if use_cache:
        for cache in candidates:
            hit = _read_cache(cache, key, sha256)
            if hit is not None:
                X, y, meta = hit
                return X, y, meta["sha256"]

    if sha256 is None:
        digest = _sha256(path)
    else:
        digest = _verify(path, sha256, source=LIBSVM_URL + path.name)
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
        Read/write the parsed-data cache (see :mod:`randopt.datasets`).

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
    .. [2] C.-C. Chang and C.-J. Lin, "LIBSVM: a library for support vector
       machines", ACM TIST 2(3), 2011.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from randopt.datasets import load_libsvm
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "tiny.txt"
    ...     _ = path.write_text("1 1:0.5 3:2\\n0 2:1.5\\n")
    ...     X, y = load_libsvm(path, cache=False)
    >>> X.toarray().tolist(), y.tolist()
    ([[0.5, 0.0, 2.0], [0.0, 1.5, 0.0]], [1.0, -1.0])
    """
    if n_features is not None:
        n_features = check_positive_int(n_features, "n_features")
    as_dense = check_bool(as_dense, "as_dense")
    download = check_bool(download, "download")
    cache = check_bool(cache, "cache")
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
    >>> X, y = load_ijcnn1("train", download=False)  # requires data: ijcnn1.bz2
    >>> X.shape, int((y == 1).sum())
    ((49990, 22), 4853)
    """
    split = check_choice(split, "split", ("train", "test"))
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
    >>> X, y = load_covtype(download=False)  # requires data: covtype.libsvm.binary.scale.bz2
    >>> X.shape
    (464810, 54)
    """
    split = check_choice(split, "split", ("train", "test"))
    as_dense = check_bool(as_dense, "as_dense")
    X, y = load_libsvm("covtype", data_home=data_home, download=download)
    rows = _covtype_split_rows(X.shape[0], split)
    return _finish(X[rows], y[rows], as_dense)
