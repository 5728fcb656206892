"""Tests of randopt.datasets: real ijcnn1 and MNIST, a covtype-format stand-in, cache, download,
generators.

The network is never used: an autouse fixture replaces the fetcher with one that fails the
test, and the download tests serve bytes from local files. No test depends on whether the
shared data folder is writable: tests that need a read-only or a writable data folder copy
the real files into one of their own (a read-only folder is one whose mode bits deny writing,
which randopt honours even for root; the plain ``os.access`` refusal a non-root user meets is
simulated by patching it).
"""

from __future__ import annotations

import bz2
import hashlib
import os
import shutil
import stat
import urllib.error
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.datasets import load_svmlight_file

from randopt.datasets import (
    UnverifiedDataWarning,
    cache,
    download,
    get_data_home,
    home,
    libsvm,
    load_covtype,
    load_ijcnn1,
    load_libsvm,
    load_mnist_binarized,
    make_binary_classification,
    make_ijcnn1_like,
)

# From /work/shared/datasets/README.md (independent of the module's own constants).
IJCNN1 = {
    "train": ("ijcnn1.bz2", 49_990, 45_137, 4_853,
              "b38a4198ce142d43e96fb86d17b87211feec1f909ac344fa057455c69de29de3"),
    "test": ("ijcnn1.t.bz2", 91_701, 82_989, 8_712,
             "acd1db430684fdd3f0c768ecc49aa8e749d0004fc117611220c2aa576a7b6a24"),
}
COVTYPE_FILE = "covtype.libsvm.binary.scale.bz2"
MNIST_SHA256 = "ec2562105c1f31516a44cc086ffb45cd46e850ba4abe70eb4b08122c4d6183ad"
# The digit counts of the MNIST database (LeCun et al.), train and test.
MNIST_COUNTS = {
    "train": [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
    "test": [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
}
READ_ONLY_DIR = stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP
BASE_URL = "https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/binary/"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    """No network, a private user cache folder and fresh once-only warnings for each test."""

    def no_network(url, dst, *, timeout):
        raise AssertionError(f"a test tried to download {url}")

    monkeypatch.setattr(download, "_fetch", no_network)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(home, "_warned", set())


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    """One user cache folder for the real-data tests, so each real file is parsed once."""
    return tmp_path_factory.mktemp("real_cache")


def copy_ijcnn1(source_folder: Path, folder: Path, *, read_only: bool) -> Path:
    """Copy both ijcnn1 files into ``folder`` (its mode bits read-only when asked)."""
    folder.mkdir(parents=True)
    for split in ("train", "test"):
        shutil.copyfile(source_folder / IJCNN1[split][0], folder / IJCNN1[split][0])
    if read_only:
        make_read_only(folder)
    return folder


def make_read_only(folder: Path) -> None:
    """Mode bits that deny writing: randopt then treats ``folder`` as read-only, even for root."""
    folder.chmod(READ_ONLY_DIR)
    if folder.stat().st_mode & 0o222:  # a file system that ignores chmod
        folder.chmod(0o755)
        pytest.skip(f"chmod has no effect on {folder}'s file system")


@pytest.fixture(scope="module")
def read_only_ijcnn1(ijcnn1_path, tmp_path_factory):
    """A read-only data folder of our own holding the real ijcnn1 files."""
    folder = copy_ijcnn1(ijcnn1_path.parent, tmp_path_factory.mktemp("ro") / "data",
                         read_only=True)
    yield folder
    folder.chmod(0o755)  # let pytest clean up


def write_libsvm(path: Path, X: np.ndarray, y, *, zero_based: bool = False) -> Path:
    """Write dense rows as LIBSVM text (bz2 when the name ends in .bz2), exact float repr."""
    lines = []
    for row, label in zip(X, y, strict=True):
        offset = 0 if zero_based else 1
        items = [f"{j + offset}:{float(v)!r}" for j, v in enumerate(row) if v != 0]
        lines.append(" ".join([f"{label:g}", *items]))
    text = "\n".join(lines) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    opener = bz2.open if path.suffix == ".bz2" else open
    with opener(path, "wt") as f:
        f.write(text)
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def covtype_like_file(folder: Path, n_rows: int = 1003, seed: int = 7):
    """A covtype-format file: 54 columns, labels {1, 2}, column 1 holds the row's id / 10^4."""
    rng = np.random.default_rng(seed)
    X = np.where(rng.random((n_rows, 54)) < 0.2, rng.random((n_rows, 54)), 0.0)
    X[:, 0] = (np.arange(n_rows) + 1) / 1e4
    labels = rng.choice([1, 2], size=n_rows)
    return write_libsvm(folder / COVTYPE_FILE, X, labels), X, labels


# --------------------------------------------------------------------------- data folder


def test_get_data_home_order(monkeypatch, tmp_path):
    monkeypatch.setenv("RANDOPT_DATA", str(tmp_path / "env"))
    assert get_data_home(tmp_path / "arg") == tmp_path / "arg"
    assert get_data_home() == tmp_path / "env"
    monkeypatch.delenv("RANDOPT_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert get_data_home() == tmp_path / "home" / "randopt_data"
    assert not (tmp_path / "home").exists()  # looking the folder up creates nothing
    monkeypatch.setenv("RANDOPT_DATA", "")  # empty counts as unset
    assert get_data_home() == tmp_path / "home" / "randopt_data"
    monkeypatch.chdir(tmp_path)
    assert get_data_home("rel") == tmp_path / "rel"
    with pytest.raises(TypeError, match="data_home"):
        get_data_home(3)


# --------------------------------------------------------------------------- real ijcnn1


@pytest.mark.data
@pytest.mark.parametrize("split", ["train", "test"])
def test_ijcnn1_real(split, read_only_ijcnn1, shared_cache, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(shared_cache))
    monkeypatch.setenv("RANDOPT_DATA", str(read_only_ijcnn1))
    filename, n_rows, n_neg, n_pos, digest = IJCNN1[split]
    path = read_only_ijcnn1 / filename
    assert sha256(path) == digest
    before = sorted(os.listdir(path.parent))

    X, y = load_ijcnn1(split)  # RANDOPT_DATA names the folder
    assert sp.issparse(X) and X.format == "csr" and X.dtype == np.float64
    assert X.shape == (n_rows, 22) and X.has_sorted_indices
    assert y.dtype == np.float64 and y.shape == (n_rows,)
    assert int((y == -1).sum()) == n_neg and int((y == 1).sum()) == n_pos
    assert np.all(np.diff(X.indptr) == 13)  # every ijcnn1 row stores 13 of its 22 entries
    if split == "train":  # an independent parse (the larger test file would double the time)
        X_ref, y_ref = load_svmlight_file(str(path), n_features=22, zero_based=False)
        assert (X != X_ref).nnz == 0
        np.testing.assert_array_equal(y, y_ref)

    X_dense, y_dense = load_ijcnn1(split, data_home=path.parent, as_dense=True)
    assert isinstance(X_dense, np.ndarray) and X_dense.flags.c_contiguous
    np.testing.assert_array_equal(X_dense, X.toarray())
    np.testing.assert_array_equal(y_dense, y)
    # The folder is read-only: nothing was written next to the data, the cache went to XDG.
    assert sorted(os.listdir(path.parent)) == before
    assert len(list((shared_cache / "randopt").glob(f"{filename}.*.npz"))) == 1


@pytest.mark.data
@pytest.mark.parametrize("read_only", [False, True], ids=["writable", "read-only"])
def test_ijcnn1_cache_reused(read_only, ijcnn1_path, monkeypatch, tmp_path):
    folder = copy_ijcnn1(ijcnn1_path.parent, tmp_path / "data", read_only=read_only)
    calls = []
    real_parse = libsvm._parse_libsvm

    def counting_parse(*args, **kwargs):
        calls.append(args[0])
        return real_parse(*args, **kwargs)

    monkeypatch.setattr(libsvm, "_parse_libsvm", counting_parse)
    try:
        X1, y1 = load_ijcnn1("train", data_home=folder)
        assert len(calls) == 1
        user_caches = list((tmp_path / "xdg" / "randopt").glob("ijcnn1.bz2.*.npz"))
        if read_only:  # the read-only data folder sent the cache to XDG_CACHE_HOME
            assert len(user_caches) == 1
            assert sorted(os.listdir(folder)) == ["ijcnn1.bz2", "ijcnn1.t.bz2"]
        else:  # a writable data folder keeps the cache next to the file
            assert user_caches == []
            assert (folder / "ijcnn1.bz2.randopt.npz").is_file()

        def no_rehash(path):
            raise AssertionError("a cached load must not hash the source again")

        monkeypatch.setattr(download, "_sha256", no_rehash)
        monkeypatch.setattr(libsvm, "_sha256", no_rehash)
        X2, y2 = load_ijcnn1("train", data_home=folder)
    finally:
        folder.chmod(0o755)
    assert len(calls) == 1
    assert (X1 != X2).nnz == 0
    np.testing.assert_array_equal(y1, y2)


@pytest.mark.data
def test_download_via_fetcher(ijcnn1_path, monkeypatch, tmp_path):
    urls = []

    def serve_local(url, dst, *, timeout):
        urls.append(url)
        dst.write((ijcnn1_path.parent / url.rsplit("/", 1)[1]).read_bytes())

    monkeypatch.setattr(download, "_fetch", serve_local)
    home = tmp_path / "new_home"  # does not exist yet: the download creates it
    X, y = load_ijcnn1("train", data_home=home)
    assert urls == [BASE_URL + "ijcnn1.bz2"]
    assert X.shape == (49_990, 22) and int((y == 1).sum()) == 4_853
    assert sha256(home / "ijcnn1.bz2") == IJCNN1["train"][4]
    # Writable folder: the cache lies next to the file; no temp files are left.
    assert sorted(p.name for p in home.iterdir()) == ["ijcnn1.bz2", "ijcnn1.bz2.randopt.npz"]


# --------------------------------------------------------------------------- binarized MNIST


@pytest.fixture(scope="module")
def mnist_raw(mnist_path):
    with np.load(mnist_path) as npz:
        return {k: npz[k] for k in npz.files}


@pytest.mark.data
@pytest.mark.parametrize("split", ["train", "test"])
def test_mnist_binarized_real(split, mnist_path, mnist_raw):
    assert sha256(mnist_path) == MNIST_SHA256
    X, y = load_mnist_binarized(split, data_home=mnist_path.parent)
    n = sum(MNIST_COUNTS[split])
    assert X.shape == (n, 784) and X.dtype == np.float64 and X.flags.c_contiguous
    assert y.shape == (n,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == MNIST_COUNTS[split]
    # Row i is image i of the file, flattened row by row.
    assert np.array_equal(X.reshape(n, 28, 28), mnist_raw[f"x_{split}"])
    assert np.array_equal(y, mnist_raw[f"y_{split}"])
    assert X.min() == 0.0 and X.max() == 1.0


@pytest.mark.data
def test_mnist_binarized_shuffle_and_dtype(mnist_path, mnist_raw, monkeypatch):
    monkeypatch.setenv("RANDOPT_DATA", str(mnist_path.parent))
    X, y = load_mnist_binarized("test", dtype=np.float32, shuffle=True, random_state=5)
    assert X.dtype == np.float32
    order = np.random.default_rng(5).permutation(10_000)
    np.testing.assert_array_equal(X, mnist_raw["x_test"].reshape(10_000, 784)[order])
    np.testing.assert_array_equal(y, mnist_raw["y_test"][order])
    X2, y2 = load_mnist_binarized("test", dtype="float32", shuffle=True, random_state=5)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    # random_state is used only with shuffle: the file order (sorted by digit) otherwise.
    _, y_file = load_mnist_binarized("test", random_state=5)
    assert np.all(np.diff(y_file) >= 0)


def test_mnist_binarized_missing_and_corrupt(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_mnist_binarized(data_home=tmp_path)
    message = str(info.value)
    assert "mnist_binarized.npz" in message and str(tmp_path) in message
    assert "Non-Convex-Newton" in message
    # Right layout, wrong file: the checksum refuses it.
    np.savez(tmp_path / "mnist_binarized.npz", x_train=np.zeros((60_000, 28, 28), np.uint8),
             y_train=np.zeros(60_000, np.uint8), x_test=np.zeros((10_000, 28, 28), np.uint8),
             y_test=np.zeros(10_000, np.uint8))
    with pytest.raises(ValueError, match="SHA-256"):
        load_mnist_binarized("test", data_home=tmp_path)


def test_mnist_binarized_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="split"):
        load_mnist_binarized("validation", data_home=tmp_path)
    with pytest.raises(ValueError, match="dtype"):
        load_mnist_binarized(dtype=np.int32, data_home=tmp_path)
    with pytest.raises(TypeError, match="dtype"):
        load_mnist_binarized(dtype="pixels", data_home=tmp_path)
    with pytest.raises(TypeError, match="shuffle"):
        load_mnist_binarized(shuffle="yes", data_home=tmp_path)
    with pytest.raises(TypeError, match="random_state"):
        load_mnist_binarized(shuffle=True, random_state="seed", data_home=tmp_path)


# --------------------------------------------------------------------------- checksums, missing


def test_checksum_mismatch(tmp_path):
    write_libsvm(tmp_path / "ijcnn1.bz2", np.eye(3, 22), [1, -1, 1])
    with pytest.raises(ValueError, match=r"SHA-256.*Delete it"):
        load_ijcnn1("train", data_home=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ijcnn1.bz2"]  # no cache written


def test_missing_file_message(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_ijcnn1("test", data_home=tmp_path, download=False)
    message = str(info.value)
    assert "ijcnn1.t.bz2" in message and str(tmp_path) in message
    assert BASE_URL + "ijcnn1.t.bz2" in message


def test_download_failure_message(monkeypatch, tmp_path):
    def failing(url, dst, *, timeout):
        dst.write(b"partial")
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(download, "_fetch", failing)
    with pytest.raises(FileNotFoundError) as info:
        load_covtype(data_home=tmp_path)
    message = str(info.value)
    assert COVTYPE_FILE in message and str(tmp_path) in message
    assert BASE_URL + COVTYPE_FILE in message and "network is unreachable" in message
    assert list(tmp_path.iterdir()) == []  # the partial download was removed


def test_corrupt_download_rejected(monkeypatch, tmp_path):
    def wrong_bytes(url, dst, *, timeout):
        dst.write(bz2.compress(b"1 1:0.5\n-1 2:0.5\n"))

    monkeypatch.setattr(download, "_fetch", wrong_bytes)
    with pytest.raises(ValueError, match="SHA-256"):
        load_ijcnn1("train", data_home=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_covtype_download_unverified(monkeypatch, tmp_path):
    source, _, _ = covtype_like_file(tmp_path / "mirror")

    def serve(url, dst, *, timeout):
        assert url == BASE_URL + COVTYPE_FILE
        dst.write(source.read_bytes())

    monkeypatch.setattr(download, "_fetch", serve)
    with pytest.warns(UnverifiedDataWarning, match=sha256(source)):
        X, _ = load_covtype("test", data_home=tmp_path / "home")
    assert X.shape == (200, 54)
    assert sha256(tmp_path / "home" / COVTYPE_FILE) == sha256(source)


# --------------------------------------------------------------------------- covtype


def test_covtype_split_size_rule():
    # The papers' split of the real covtype.binary: 464,810 of 581,012 rows for training.
    assert libsvm._covtype_split_sizes(581_012) == (464_810, 116_202)
    assert libsvm._covtype_split_sizes(1003) == (803, 200)  # ceil(802.4)
    assert libsvm._covtype_split_sizes(1000) == (800, 200)


def test_covtype_format_file(tmp_path):
    source, X_file, labels = covtype_like_file(tmp_path)
    with pytest.warns(UnverifiedDataWarning):
        X_train, y_train = load_covtype("train", data_home=tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once per file and process
        X_test, y_test = load_covtype("test", data_home=tmp_path, as_dense=True)
        X_again, y_again = load_covtype("train", data_home=tmp_path)

    assert X_train.shape == (803, 54) and X_test.shape == (200, 54)
    assert sp.issparse(X_train) and X_train.format == "csr" and isinstance(X_test, np.ndarray)
    ids_train = np.rint(X_train[:, 0].toarray().ravel() * 1e4).astype(int) - 1
    ids_test = np.rint(X_test[:, 0] * 1e4).astype(int) - 1
    # Disjoint, together all rows, each in file order; the documented seed picks them.
    assert np.array_equal(np.sort(np.concatenate([ids_train, ids_test])), np.arange(1003))
    assert np.all(np.diff(ids_train) > 0) and np.all(np.diff(ids_test) > 0)
    expected_train = np.sort(np.random.default_rng(0).permutation(1003)[:803])
    np.testing.assert_array_equal(ids_train, expected_train)
    # Rows and labels are the file's: label 2 -> +1, label 1 -> -1.
    np.testing.assert_array_equal(X_train.toarray(), X_file[ids_train])
    np.testing.assert_array_equal(X_test, X_file[ids_test])
    np.testing.assert_array_equal(y_train, np.where(labels[ids_train] == 2, 1.0, -1.0))
    np.testing.assert_array_equal(y_test, np.where(labels[ids_test] == 2, 1.0, -1.0))
    assert (X_again != X_train).nnz == 0 and np.array_equal(y_again, y_train)
    assert (tmp_path / (COVTYPE_FILE + ".randopt.npz")).is_file()


# --------------------------------------------------------------------------- load_libsvm


def test_load_libsvm_values_and_labels(tmp_path):
    X = np.array([[0.0, 1.5, 0.0, -2.0], [3.25, 0.0, 0.0, 0.0], [0.0, 0.0, 1e-300, 7.0]])
    path = write_libsvm(tmp_path / "small.txt", X, [0, 1, 0])
    X_got, y_got = load_libsvm(path)
    np.testing.assert_array_equal(X_got.toarray(), X)
    np.testing.assert_array_equal(y_got, [-1.0, 1.0, -1.0])
    X_wide, _ = load_libsvm(str(path), n_features=6, as_dense=True)
    np.testing.assert_array_equal(X_wide, np.hstack([X, np.zeros((3, 2))]))
    zero = write_libsvm(tmp_path / "zero.txt", X, [-1, 1, 1], zero_based=True)
    np.testing.assert_array_equal(load_libsvm(zero, zero_based=True)[0].toarray(), X)


def test_changed_file_rebuilds_cache(tmp_path):
    old = np.array([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0]])
    path = write_libsvm(tmp_path / "data.bz2", old, [1, 2])
    np.testing.assert_array_equal(load_libsvm(path)[0].toarray(), old)
    assert (tmp_path / "data.bz2.randopt.npz").is_file()
    new = np.array([[0.5, 0.0, 2.0], [0.0, 4.0, 0.0], [1.0, 1.0, 1.0]])
    write_libsvm(path, new, [1, 2, 2])
    X, y = load_libsvm(path)
    np.testing.assert_array_equal(X.toarray(), new)
    np.testing.assert_array_equal(y, [-1.0, 1.0, 1.0])


def test_corrupt_cache_is_rebuilt(tmp_path, monkeypatch):
    calls = []
    real_parse = libsvm._parse_libsvm
    monkeypatch.setattr(
        libsvm, "_parse_libsvm", lambda *a, **k: calls.append(1) or real_parse(*a, **k)
    )
    path = write_libsvm(tmp_path / "data.txt", np.eye(2), [1, -1])
    load_libsvm(path)
    cache = tmp_path / "data.txt.randopt.npz"
    good = cache.read_bytes()
    for damaged in (b"not a zip file", good[: len(good) // 2]):
        cache.write_bytes(damaged)
        n_calls = len(calls)
        np.testing.assert_array_equal(load_libsvm(path)[0].toarray(), np.eye(2))
        assert len(calls) == n_calls + 1  # parsed again, and the cache rewritten:
        load_libsvm(path)
        assert len(calls) == n_calls + 1


def test_read_only_folder_cache_goes_elsewhere(tmp_path):
    folder = tmp_path / "ro"
    path = write_libsvm(folder / "data.txt", np.eye(3), [1, -1, 1])
    make_read_only(folder)
    try:
        X, _ = load_libsvm(path)
        assert os.listdir(folder) == ["data.txt"]
    finally:
        folder.chmod(0o755)
    np.testing.assert_array_equal(X.toarray(), np.eye(3))
    assert len(list((tmp_path / "xdg" / "randopt").glob("data.txt.*.npz"))) == 1


def test_access_denied_folder_cache_goes_elsewhere(tmp_path, monkeypatch):
    # A non-root user in a folder of someone else's: mode bits allow writing, os.access denies.
    folder = tmp_path / "theirs"
    path = write_libsvm(folder / "data.txt", np.eye(2), [1, -1])
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: Path(p) != folder and real_access(p, mode))
    X, _ = load_libsvm(path)
    np.testing.assert_array_equal(X.toarray(), np.eye(2))
    assert os.listdir(folder) == ["data.txt"]
    assert len(list((tmp_path / "xdg" / "randopt").glob("data.txt.*.npz"))) == 1


def test_no_writable_cache_warns_and_loads(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "_is_writable_dir", lambda folder: False)
    path = write_libsvm(tmp_path / "data.txt", np.eye(2), [1, -1])
    with pytest.warns(UserWarning, match="parsed on every load"):
        X, _ = load_libsvm(path)
    np.testing.assert_array_equal(X.toarray(), np.eye(2))


@pytest.mark.parametrize(
    "content, match",
    [
        ("hello world\n", "not a readable LIBSVM"),
        ("1 1:0.5 2:x\n", "not a readable LIBSVM"),
        ("", "no rows"),
        ("1 1:0.5\n2 1:0.25\n3 2:1\n", "not binary"),
        ("1 1:0.5\n1 2:0.25\n", "not binary"),
        ("1 1:0.5\n-1 2:nan\n", "NaN"),
    ],
)
def test_bad_files(tmp_path, content, match):
    path = tmp_path / "bad.txt"
    path.write_text(content)
    with pytest.raises(ValueError, match=match):
        load_libsvm(path)


def test_bad_arguments(tmp_path):
    (tmp_path / "bad.bz2").write_bytes(b"not bzip2 data")
    with pytest.raises(ValueError, match="not a readable LIBSVM"):
        load_libsvm(tmp_path / "bad.bz2")
    path = write_libsvm(tmp_path / "wide.txt", np.ones((2, 5)), [1, -1])
    with pytest.raises(ValueError, match="not a readable LIBSVM"):
        load_libsvm(path, n_features=3)
    with pytest.raises(ValueError, match="split must be"):
        load_ijcnn1("validation", data_home=tmp_path)
    with pytest.raises(ValueError, match="split must be"):
        load_covtype("all", data_home=tmp_path)
    with pytest.raises(ValueError, match="unknown data set name 'mnist'"):
        load_libsvm("mnist")
    with pytest.raises(FileNotFoundError, match="no LIBSVM file"):
        load_libsvm(tmp_path / "absent.txt")
    with pytest.raises(TypeError, match="path_or_name"):
        load_libsvm(3)
    with pytest.raises(TypeError, match="as_dense"):
        load_libsvm(path, as_dense="yes")
    with pytest.raises(TypeError, match="cache"):
        load_libsvm(path, cache=1)


# --------------------------------------------------------------------------- generators


def test_make_binary_classification_default_shape():
    X, y = make_binary_classification(random_state=0)
    assert isinstance(X, np.ndarray) and X.flags.c_contiguous and X.dtype == np.float64
    assert X.shape == (464_810, 54) and y.shape == (464_810,)
    assert set(np.unique(y)) == {-1.0, 1.0} and int((y == 1).sum()) == 232_405
    # Zero-mean, unit-variance, bounded features (checked on 2.7M entries: 5 sigma ~ 3e-3).
    head = X[:50_000]
    assert np.abs(head).max() <= np.sqrt(3)
    assert abs(head.mean()) < 3e-3 and abs(head.var() - 1) < 3e-3


def test_make_binary_classification_sparse_and_reproducible():
    X1, y1 = make_binary_classification(20_000, 30, density=0.2, class_balance=0.1,
                                        random_state=3)
    X2, y2 = make_binary_classification(20_000, 30, density=0.2, class_balance=0.1,
                                        random_state=np.random.default_rng(3))
    X3, _ = make_binary_classification(20_000, 30, density=0.2, class_balance=0.1,
                                       random_state=4)
    assert sp.issparse(X1) and X1.format == "csr" and X1.dtype == np.float64
    assert X1.has_sorted_indices and X1.shape == (20_000, 30)
    assert (X1 != X2).nnz == 0 and np.array_equal(y1, y2)
    assert (X1 != X3).nnz > 0
    # Binomial(600,000, 0.2): standard deviation ~310 entries, so 5 sigma is ~1,550.
    assert abs(X1.nnz - 0.2 * 600_000) < 1_600
    assert int((y1 == 1).sum()) == 2_000
    # RandomState seeds are accepted and reproducible too.
    a = make_binary_classification(50, 3, random_state=np.random.RandomState(1))
    b = make_binary_classification(50, 3, random_state=np.random.RandomState(1))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


@pytest.mark.parametrize("density", [1.0, 0.5])
def test_planted_model_minimises_sigmoid_least_squares(density):
    X, y, coef, intercept = make_binary_classification(
        100_000, 4, density=density, class_balance=0.3, noise=0.5, return_coef=True,
        random_state=11,
    )
    A = np.column_stack([X.toarray() if sp.issparse(X) else X, np.ones(X.shape[0])])
    target = (1 + y) / 2

    def loss(v):
        s = expit(A @ v)
        r = s - target
        return np.mean(r**2), A.T @ (2 * r * s * (1 - s)) / len(r)

    fit = minimize(loss, np.zeros(5), jac=True, method="BFGS", options={"gtol": 1e-9})
    assert np.linalg.norm(loss(fit.x)[1]) < 1e-6
    truth = np.append(coef, intercept)
    # Statistical error of the empirical minimiser at n = 1e5 is ~1%; allow 5%.
    assert np.linalg.norm(fit.x - truth) / np.linalg.norm(truth) < 0.05


def test_make_ijcnn1_like():
    X, y = make_ijcnn1_like(random_state=0)
    assert sp.issparse(X) and X.format == "csr" and X.shape == (49_990, 22)
    assert X.dtype == np.float64 and y.dtype == np.float64
    assert int((y == 1).sum()) == 4_853 and int((y == -1).sum()) == 45_137
    # 13 of 22 entries stored per row on average, like the real file.
    assert abs(X.nnz / X.shape[0] - 13) < 0.05
    X2, y2 = make_ijcnn1_like(random_state=0)
    assert (X != X2).nnz == 0 and np.array_equal(y, y2)


def test_generator_bad_arguments():
    with pytest.raises(ValueError, match="density"):
        make_binary_classification(10, 2, density=0.0)
    with pytest.raises(ValueError, match="class_balance"):
        make_binary_classification(10, 2, class_balance=1.0)
    with pytest.raises(ValueError, match="noise"):
        make_binary_classification(10, 2, noise=-1.0)
    with pytest.raises(ValueError, match="n_samples"):
        make_binary_classification(1, 2)
    with pytest.raises(TypeError, match="n_features"):
        make_binary_classification(10, 2.5)
    with pytest.raises(TypeError, match="random_state"):
        make_binary_classification(10, 2, random_state="seed")
