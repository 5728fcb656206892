"""Hostile input for the loaders and generators of randopt.datasets (issue 10, hardening).

Moved out of the norms suite (issue 17): missing files, bad splits and flags, hostile
LIBSVM files and bad generator options give a ValueError or TypeError (FileNotFoundError
for missing files) whose message names the argument.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import scipy.sparse as sp

import randopt.datasets as D


@pytest.mark.parametrize("loader, missing", [
    (lambda h, s: D.load_ijcnn1(s, data_home=h, download=False), "ijcnn1"),
    (lambda h, s: D.load_covtype(s, data_home=h, download=False), "covtype"),
    (lambda h, s: D.load_mnist_binarized(s, data_home=h), "mnist_binarized.npz")])
def test_loaders_missing_files_and_bad_splits(tmp_path, loader, missing):
    for split in ("train", "test"):
        with pytest.raises(FileNotFoundError, match=missing) as info:
            loader(tmp_path, split)
        assert str(tmp_path) in str(info.value)
    for split in ("x", None, 1, "TRAIN"):
        with pytest.raises(ValueError, match="split"):
            loader(tmp_path, split)
    with pytest.raises(TypeError, match="data_home"):
        loader(5, "train")
    with pytest.raises(ValueError, match="data_home"):
        loader("", "train")


@pytest.mark.parametrize("option, value, err", [
    ("as_dense", "no", TypeError), ("as_dense", 1, TypeError), ("download", None, TypeError)])
def test_libsvm_loaders_bad_flags(tmp_path, option, value, err):
    for loader in (D.load_ijcnn1, D.load_covtype):
        with pytest.raises(err, match=option):
            loader("train", data_home=tmp_path, **{option: value})


@pytest.mark.parametrize("option, value, err", [
    ("dtype", "x", TypeError), ("dtype", np.int8, ValueError), ("dtype", complex, ValueError),
    ("shuffle", "no", TypeError), ("random_state", "a", TypeError)])
def test_mnist_bad_options_before_the_file(tmp_path, option, value, err):
    with pytest.raises(err, match=option):
        D.load_mnist_binarized("train", data_home=tmp_path, **{option: value})


def test_load_libsvm_hostile_files(tmp_path):
    good = tmp_path / "a.svm"
    good.write_text("1 1:0.5 3:2\n-1 2:1\n")
    X, y = D.load_libsvm(good, cache=False)
    np.testing.assert_array_equal(X.toarray(), [[0.5, 0, 2], [0, 1, 0]])
    np.testing.assert_array_equal(y, [1.0, -1.0])
    with pytest.raises(FileNotFoundError, match="zz.svm"):
        D.load_libsvm(tmp_path / "zz.svm", download=False)
    cases = [("1 1:nan 3:2\n-1 2:inf\n", "NaN"), ("garbage\n", "LIBSVM"),
             ("", "no rows"), ("1 1:1\n2 1:2\n3 1:3\n", "binary")]
    for i, (text, words) in enumerate(cases):
        path = tmp_path / f"bad{i}.svm"
        path.write_text(text)
        with pytest.raises(ValueError, match=words) as info:
            D.load_libsvm(path, cache=False)
        assert path.name in str(info.value)
    with pytest.raises(ValueError, match="not a file"):
        D.load_libsvm(tmp_path)
    for value, err in ((None, TypeError), (3, TypeError)):
        with pytest.raises(err, match="path_or_name"):
            D.load_libsvm(value)
    for option, value, err in (("n_features", 0, ValueError), ("n_features", 1.5, TypeError),
                               ("n_features", True, TypeError), ("zero_based", "no", ValueError),
                               ("as_dense", "no", TypeError), ("cache", None, TypeError)):
        with pytest.raises(err, match=option):
            D.load_libsvm(good, **{option: value})


@pytest.mark.parametrize("option, value, err", [
    ("n_samples", 0, ValueError), ("n_samples", 1, ValueError), ("n_samples", 1.5, TypeError),
    ("n_samples", "a", TypeError), ("n_samples", None, TypeError), ("n_samples", True, TypeError),
    ("n_features", 0, ValueError), ("n_features", 1.5, TypeError), ("density", 0, ValueError),
    ("density", 1.5, ValueError), ("density", np.nan, ValueError), ("density", "a", TypeError),
    ("class_balance", 0, ValueError), ("class_balance", 1, ValueError),
    ("class_balance", np.nan, ValueError), ("noise", -1, ValueError),
    ("noise", np.nan, ValueError), ("noise", None, TypeError), ("return_coef", "no", TypeError),
    ("random_state", "a", TypeError), ("random_state", -1, ValueError)])
def test_make_binary_classification_bad_options(option, value, err):
    with pytest.raises(err, match=option):
        D.make_binary_classification(**{"n_samples": 50, "n_features": 5, option: value})


@pytest.mark.parametrize("kwargs", [{"n_samples": 2}, {"n_features": 1},
                                    {"n_samples": np.int64(7)}, {"noise": 0.0},
                                    {"noise": 1e300}, {"density": 0.3},
                                    {"class_balance": 0.999}])
def test_make_binary_classification_edge_sizes_are_valid(kwargs):
    kw = {"n_samples": 50, "n_features": 5, "random_state": 0} | kwargs
    X, y = D.make_binary_classification(**kw)
    Xd = X.toarray() if sp.issparse(X) else X
    assert Xd.shape == (int(kw["n_samples"]), kw["n_features"])
    assert np.isfinite(Xd).all() and set(np.unique(y)) <= {-1.0, 1.0}


def test_make_ijcnn1_like_and_data_home_bad_values(tmp_path):
    for value, err in (("a", TypeError), (-1, ValueError), (1.5, TypeError)):
        with pytest.raises(err, match="random_state"):
            D.make_ijcnn1_like(value)
    with pytest.raises(TypeError, match="return_coef"):
        D.make_ijcnn1_like(0, return_coef="no")
    with pytest.raises(ValueError, match="data_home"):
        D.get_data_home("")  # was: silently the current directory
    with pytest.raises(TypeError, match="data_home"):
        D.get_data_home(5)
    assert D.get_data_home(tmp_path) == tmp_path.resolve()
    assert D.get_data_home(os.fspath(tmp_path / "new")).name == "new"
