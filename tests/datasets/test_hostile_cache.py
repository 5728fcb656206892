"""Hostile parsed-data caches (issue 20): a cache is checked as strictly as its source.

A cache ``<file>.randopt.npz`` that matches its source's size and mtime used to be
returned as stored. Each test here loads a file once (which writes the cache), then
edits the cache the way a damaged disk, a stale tool or an attacker could (indices
out of range, label 7, a label vector of the wrong length, NaN features, a broken
``indptr``, ...) and requires the loader to notice: it warns
(:class:`randopt.datasets.InvalidCacheWarning`), parses the source again and returns
what the source holds, and rewrites the cache; for a known file whose source is not
the published one, the re-verification then raises ``ValueError``.

The network is never used (the fetcher is replaced by one that fails the test).
"""

from __future__ import annotations

import bz2
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from randopt import datasets
from randopt.datasets import download, home, libsvm, load_covtype, load_ijcnn1, load_libsvm

IJCNN1_SHA256 = "b38a4198ce142d43e96fb86d17b87211feec1f909ac344fa057455c69de29de3"
COVTYPE_FILE = "covtype.libsvm.binary.scale.bz2"
CACHE_WARNING = "parsed-data cache"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    def no_network(url, dst, *, timeout):
        raise AssertionError(f"a test tried to download {url}")

    monkeypatch.setattr(download, "_fetch", no_network)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(home, "_warned", set())


@pytest.fixture
def parse_count(monkeypatch):
    calls = []
    real = libsvm._parse_libsvm
    monkeypatch.setattr(libsvm, "_parse_libsvm",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def write_libsvm(path: Path, X: np.ndarray, y) -> Path:
    lines = [" ".join([f"{label:g}", *(f"{j + 1}:{float(v)!r}" for j, v in enumerate(row) if v)])
             for row, label in zip(X, y, strict=True)]
    path.parent.mkdir(parents=True, exist_ok=True)
    opener = bz2.open if path.suffix == ".bz2" else open
    with opener(path, "wt") as f:
        f.write("\n".join(lines) + "\n")
    return path


def read_npz(cache: Path) -> dict:
    with np.load(cache, allow_pickle=False) as npz:
        out = {k: npz[k] for k in npz.files}
    out["meta"] = json.loads(str(out["meta"]))
    return out


def write_npz(cache: Path, arrays: dict) -> None:
    arrays = dict(arrays, meta=np.array(json.dumps(arrays["meta"])))
    with open(cache, "wb") as f:
        np.savez(f, **arrays)


def _set(arrays, key, index, value):
    a = arrays[key].copy()
    a[index] = value
    return {**arrays, key: a}


# Each edit: what it does to the cache's arrays (all keep the source's key and SHA-256).
EDITS = {
    "index_out_of_range": lambda a: _set(a, "indices", 0, a["meta"]["shape"][1] + 5),
    "index_negative": lambda a: _set(a, "indices", 0, -1),
    "label_7": lambda a: _set(a, "y", 0, 7.0),
    "label_nan": lambda a: _set(a, "y", 0, np.nan),
    "one_class_only": lambda a: {**a, "y": np.ones_like(a["y"])},
    "y_too_short": lambda a: {**a, "y": a["y"][:-1]},
    "y_too_long": lambda a: {**a, "y": np.r_[a["y"], 1.0]},
    "y_2d": lambda a: {**a, "y": a["y"][:, None]},
    "y_int": lambda a: {**a, "y": a["y"].astype(np.int64)},
    "y_strings": lambda a: {**a, "y": a["y"].astype(str)},
    "nan_feature": lambda a: _set(a, "data", 0, np.nan),
    "inf_feature": lambda a: _set(a, "data", 1, -np.inf),
    "data_complex": lambda a: {**a, "data": a["data"] + 1j},
    "data_too_short": lambda a: {**a, "data": a["data"][:-1]},
    "indptr_decreasing": lambda a: _set(a, "indptr", 2, a["indptr"][3] + 1),
    "indptr_past_nnz": lambda a: _set(a, "indptr", -1, a["indptr"][-1] + 3),
    "indptr_wrong_length": lambda a: {**a, "indptr": a["indptr"][:-1]},
    "indptr_not_from_0": lambda a: _set(a, "indptr", 0, 1),
    "indices_float": lambda a: {**a, "indices": a["indices"].astype(float)},
    "indices_unsorted": lambda a: {**a, "indices": np.r_[a["indices"][1::-1],
                                                         a["indices"][2:]]},
    "shape_narrower": lambda a: {**a, "meta": {**a["meta"], "shape": [a["meta"]["shape"][0],
                                                                       1]}},
    "shape_more_rows": lambda a: {**a, "meta": {**a["meta"], "shape": [a["meta"]["shape"][0]
                                                                       + 1, 3]}},
    "shape_not_ints": lambda a: {**a, "meta": {**a["meta"], "shape": [4.0, 3.0]}},
    "shape_missing": lambda a: {**a, "meta": {k: v for k, v in a["meta"].items()
                                              if k != "shape"}},
    "labels_bad": lambda a: {**a, "meta": {**a["meta"], "labels": [2.0, 1.0]}},
    "sha256_bad": lambda a: {**a, "meta": {**a["meta"], "sha256": "../../etc"}},
}

X_SOURCE = np.array([[0.5, 0.0, 2.0], [0.0, 1.5, 0.0], [1.0, 2.0, 3.0], [0.0, 0.0, 4.0]])
Y_SOURCE = [1, -1, -1, 1]


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_edited_cache_is_refused_and_rebuilt_from_the_source(edit, tmp_path, parse_count):
    path = write_libsvm(tmp_path / "data.txt", X_SOURCE, Y_SOURCE)
    load_libsvm(path)
    cache = tmp_path / "data.txt.randopt.npz"
    assert cache.is_file() and len(parse_count) == 1
    write_npz(cache, EDITS[edit](read_npz(cache)))
    with pytest.warns(UserWarning, match=CACHE_WARNING):
        X, y = load_libsvm(path)
    np.testing.assert_array_equal(X.toarray(), X_SOURCE)
    np.testing.assert_array_equal(y, np.asarray(Y_SOURCE, dtype=float))
    assert X.dtype == np.float64 and y.dtype == np.float64 and y.shape == (4,)
    assert len(parse_count) == 2
    # The cache was rewritten: the next load reads it, with no warning and no parse.
    X2, y2 = load_libsvm(path)
    np.testing.assert_array_equal(X2.toarray(), X_SOURCE)
    assert len(parse_count) == 2


def test_invalid_cache_warning_is_public_and_named():
    assert issubclass(datasets.InvalidCacheWarning, UserWarning)
    assert "InvalidCacheWarning" in datasets.__all__


def test_cache_from_a_width_not_asked_for_is_rebuilt(tmp_path, parse_count):
    path = write_libsvm(tmp_path / "data.txt", X_SOURCE, Y_SOURCE)
    load_libsvm(path, n_features=3)
    cache = tmp_path / "data.txt.randopt.npz"
    arrays = read_npz(cache)
    arrays["meta"]["n_features"] = 3
    arrays["meta"]["shape"] = [4, 2]  # key says 3 columns, the arrays say 2
    write_npz(cache, arrays)
    with pytest.warns(UserWarning, match=CACHE_WARNING):
        X, _ = load_libsvm(path, n_features=3)
    assert X.shape == (4, 3)


def _fake_known_file(folder: Path, name: str, n_features: int, rng):
    """A small LIBSVM file under a known name (not the published file)."""
    X = np.where(rng.random((6, n_features)) < 0.5, rng.random((6, n_features)), 0.0)
    X[:, 0] = 1.0
    path = write_libsvm(folder / name, X, [1, -1, 1, -1, 1, -1])
    return path, X


@pytest.mark.parametrize("edit", ["index_out_of_range", "label_7", "y_too_short",
                                  "nan_feature"])
def test_ijcnn1_crafted_cache_with_the_published_sha_is_refused(edit, tmp_path):
    # The case: a cache that claims the published SHA-256 of ijcnn1.bz2 and matches
    # the source's size and mtime. Once refused, the source is verified: this one is not
    # the published file, so the load raises instead of returning the crafted data.
    folder = tmp_path / "data"
    path, _ = _fake_known_file(folder, "ijcnn1.bz2", 22, np.random.default_rng(0))
    with pytest.raises(ValueError, match="SHA-256"):
        load_ijcnn1(data_home=folder, download=False)  # writes no cache: hash mismatch
    cache = folder / "ijcnn1.bz2.randopt.npz"
    X = np.zeros((6, 22))
    X[:, 0] = 1.0
    M = sp.csr_matrix(X)
    key = datasets.cache._cache_key(path, n_features=22, zero_based=False)
    arrays = {"meta": {**key, "sha256": IJCNN1_SHA256, "shape": [6, 22], "labels": [-1.0, 1.0]},
              "data": M.data, "indices": M.indices.astype(np.int32),
              "indptr": M.indptr.astype(np.int32), "y": np.array([1.0, -1] * 3)}
    write_npz(cache, arrays)
    Xc, yc = load_ijcnn1(data_home=folder, download=False)  # the valid crafted cache is served
    assert Xc.shape == (6, 22)
    write_npz(cache, EDITS[edit](arrays))
    with pytest.warns(UserWarning, match=CACHE_WARNING), pytest.raises(ValueError,
                                                                       match="SHA-256"):
        load_ijcnn1(data_home=folder, download=False)


@pytest.mark.parametrize("edit", ["index_out_of_range", "label_7", "y_too_long", "nan_feature",
                                  "shape_narrower"])
def test_covtype_cache_is_checked(edit, tmp_path, parse_count):
    folder = tmp_path / "data"
    rng = np.random.default_rng(1)
    X = np.where(rng.random((40, 54)) < 0.3, rng.random((40, 54)), 0.0)
    X[:, 0] = (np.arange(40) + 1) / 1e4
    labels = np.tile([1, 2], 20)
    write_libsvm(folder / COVTYPE_FILE, X, labels)
    with pytest.warns(UserWarning):  # UnverifiedDataWarning: no published SHA-256
        ref = load_covtype(data_home=folder, download=False)
    cache = folder / (COVTYPE_FILE + ".randopt.npz")
    write_npz(cache, EDITS[edit](read_npz(cache)))
    with pytest.warns(UserWarning, match=CACHE_WARNING):
        got = load_covtype(data_home=folder, download=False)
    np.testing.assert_array_equal(got[0].toarray(), ref[0].toarray())
    np.testing.assert_array_equal(got[1], ref[1])
    assert len(parse_count) == 2


def test_real_ijcnn1_edited_cache_is_rebuilt(ijcnn1_path, tmp_path, parse_count):
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copyfile(ijcnn1_path, folder / "ijcnn1.bz2")
    X0, y0 = load_ijcnn1(data_home=folder, download=False)
    cache = folder / "ijcnn1.bz2.randopt.npz"
    for edit in ("index_out_of_range", "label_7", "y_too_short", "nan_feature"):
        write_npz(cache, EDITS[edit](read_npz(cache)))
        with pytest.warns(UserWarning, match=CACHE_WARNING):
            X, y = load_ijcnn1(data_home=folder, download=False)
        assert (X != X0).nnz == 0 and np.array_equal(y, y0), edit
    assert len(parse_count) == 5


@pytest.mark.parametrize("pixels", ["nan", "half", "float_binary"])
def test_mnist_contents_are_checked_beyond_the_checksum(pixels, tmp_path, monkeypatch):
    # The SHA-256 is the first check; the contents are checked too (defence in depth, and
    # the only check if the published checksum ever had to change): float pixels could
    # hold NaN or 0.5 and pass a range test.
    from randopt.datasets import mnist

    monkeypatch.setattr(mnist, "_verify", lambda path, sha256, *, source: sha256)
    x = np.zeros((10_000, 28, 28), dtype=np.float64)
    x[0, 0, 0] = {"nan": np.nan, "half": 0.5, "float_binary": 1.0}[pixels]
    y = np.zeros(10_000, dtype=np.uint8)
    with open(tmp_path / "mnist_binarized.npz", "wb") as f:
        np.savez(f, x_test=x, y_test=y, x_train=x[:1], y_train=y[:1])
    with pytest.raises(ValueError, match="dtype"):
        datasets.load_mnist_binarized("test", data_home=tmp_path)
