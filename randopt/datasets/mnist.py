"""Binarized MNIST: the data of the deep-autoencoder experiment of Xu, Roosta and Mahoney.

The file ``mnist_binarized.npz`` holds ``x_train`` (60,000 x 28 x 28) and
``x_test`` (10,000 x 28 x 28) uint8 pixels in {0, 1} and the uint8 digit
labels ``y_train`` / ``y_test``, rows sorted by label. It is the MNIST
database binarized as shipped (``HFD/datasets/mnist_all.mat``) with the
public reference code of the paper (repository git-xp/Non-Convex-Newton),
converted to ``.npz`` in the same row order. There is no download URL: put
the file in the data folder (see :func:`get_data_home`).
"""

from __future__ import annotations

import os
import zipfile
from typing import Any, Literal

import numpy as np

from .._validation import check_bool, check_choice, check_random_state
from .download import _verify
from .home import get_data_home

__all__ = ["MNIST_BINARIZED_FILE", "load_mnist_binarized"]

#: File name of binarized MNIST in the data folder.
MNIST_BINARIZED_FILE = "mnist_binarized.npz"
_MNIST_BINARIZED_SHA256 = "ec2562105c1f31516a44cc086ffb45cd46e850ba4abe70eb4b08122c4d6183ad"
_MNIST_ROWS = {"train": 60_000, "test": 10_000}
_MNIST_SOURCE = (
    "the binarized MNIST of the reference code of Xu, Roosta and Mahoney "
    "(git-xp/Non-Convex-Newton, HFD/datasets/mnist_all.mat) converted to .npz with keys "
    "x_train, y_train, x_test, y_test"
)


def load_mnist_binarized(
    split: Literal["train", "test"] = "train",
    *,
    data_home: str | os.PathLike[str] | None = None,
    dtype: Any = np.float64,
    shuffle: bool = False,
    random_state: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Load binarized MNIST: 28 x 28 pixel images in {0, 1}, flattened to 784 features.

    The file is verified by SHA-256 and its contents checked (shapes, pixel
    values in {0, 1}, labels 0-9). Its rows are sorted by digit: pass
    ``shuffle=True`` (with a ``random_state``) before taking mini-batches or
    sub-samples.

    Parameters
    ----------
    split : {"train", "test"}, default="train"
        The 60,000 training or the 10,000 test images.
    data_home : str or path-like, default=None
        Data folder holding ``mnist_binarized.npz``; ``None`` means
        ``RANDOPT_DATA`` or ``~/randopt_data``.
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        Floating type of the returned pixels (float32 halves the memory).
    shuffle : bool, default=False
        Return the rows in a random order (the same for images and labels).
    random_state : None, int, Generator or RandomState, default=None
        Source of the shuffling permutation; used only with ``shuffle=True``.

    Returns
    -------
    X : ndarray of shape (n_images, 784), C order
        Pixels in {0, 1}, row-major per image (``X[i].reshape(28, 28)`` is image i).
    y : ndarray of shape (n_images,)
        int64 digit labels 0-9.

    Raises
    ------
    FileNotFoundError
        ``mnist_binarized.npz`` is not in the data folder; the message says
        where to put it.
    ValueError
        The file's SHA-256 or contents are not those of the published file.

    References
    ----------
    .. [1] Y. LeCun, C. Cortes and C. J. C. Burges, "The MNIST database of
       handwritten digits", 1998.
    .. [2] P. Xu, F. Roosta and M. W. Mahoney, "Second-order optimization for
       non-convex machine learning: an empirical study", SDM 2020 (the
       deep-autoencoder experiment on these data).

    Examples
    --------
    >>> from randopt.datasets import load_mnist_binarized
    >>> X, y = load_mnist_binarized("test")  # requires data: mnist_binarized.npz
    >>> X.shape, X.dtype.name, sorted(set(X[:100].ravel().tolist())), int(y.max())
    ((10000, 784), 'float64', [0.0, 1.0], 9)
    """
    split = check_choice(split, "split", ("train", "test"))
    shuffle = check_bool(shuffle, "shuffle")
    try:
        dtype = np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"dtype must be numpy.float64 or numpy.float32, got {dtype!r}") from err
    if dtype not in (np.float64, np.float32):
        raise ValueError(f"dtype must be numpy.float64 or numpy.float32, got {dtype}")
    # Checked even without shuffle: a bad value should not wait for the file to exist.
    rng = check_random_state(random_state)
    rng = rng if shuffle else None

    folder = get_data_home(data_home)
    path = folder / MNIST_BINARIZED_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"{MNIST_BINARIZED_FILE} was not found in the data folder {folder}. It is "
            f"{_MNIST_SOURCE}; randopt cannot download it. Put it in that folder, or point "
            "RANDOPT_DATA (or data_home=) at a folder that holds it. See datasets/README.md."
        )
    _verify(path, _MNIST_BINARIZED_SHA256, source=_MNIST_SOURCE)
    try:
        with np.load(path, allow_pickle=False) as npz:
            images = npz[f"x_{split}"]
            labels = npz[f"y_{split}"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"{path} is not a readable binarized-MNIST .npz ({err})") from err
    n = _MNIST_ROWS[split]
    if images.shape != (n, 28, 28) or labels.shape != (n,):
        raise ValueError(
            f"{path}: x_{split} has shape {images.shape} and y_{split} {labels.shape}, "
            f"expected ({n}, 28, 28) and ({n},)"
        )
    # Integer dtypes first: with floats, NaN and 0.5 would pass the range test below.
    if images.dtype.kind not in "uib" or labels.dtype.kind not in "ui":
        raise ValueError(
            f"{path}: x_{split} has dtype {images.dtype} and y_{split} {labels.dtype}, "
            "expected integer pixels and labels (uint8)"
        )
    if images.max() > 1 or labels.max() > 9 or images.min() < 0 or labels.min() < 0:
        raise ValueError(f"{path}: pixels must lie in {{0, 1}} and labels in 0-9")
    X = images.reshape(n, 28 * 28).astype(dtype, order="C")
    y = labels.astype(np.int64)
    if rng is not None:
        order = rng.permutation(n)
        X, y = X[order], y[order]
    return X, y
