"""Data sets: the real LIBSVM binary problems of the papers, and synthetic look-alikes.

Real data
---------
:func:`load_ijcnn1` and :func:`load_covtype` read the LIBSVM binary
classification files ``ijcnn1.bz2`` / ``ijcnn1.t.bz2`` and
``covtype.libsvm.binary.scale.bz2`` from a data folder; :func:`load_libsvm`
reads any LIBSVM/svmlight file (or one of those files by name). All return
``(X, y)``: ``X`` a float64 CSR matrix (dense C-order with ``as_dense=True``)
and ``y`` float64 labels in {-1, +1}. :func:`load_mnist_binarized` reads
``mnist_binarized.npz`` (the binarized MNIST of the papers' autoencoder
experiment): dense pixels in {0, 1} and digit labels 0-9.

The data folder is, in order: the ``data_home`` argument, the ``RANDOPT_DATA``
environment variable, ``~/randopt_data`` (see :func:`get_data_home`). A file
missing from it is downloaded from the LIBSVM page when ``download=True`` and
the network allows; otherwise a :class:`FileNotFoundError` says which file to
put where, and the URL to get it from (binarized MNIST has no download URL: put
the file in the folder). Any folder of your own works.

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
same size with its mtime restored is not noticed: delete the cache then. A cache
is checked as strictly as a parsed file before it is used (CSR structure and
index ranges, finite values, labels in {-1, +1}, one per row, the recorded shape
and SHA-256); one that fails is ignored, with an :class:`InvalidCacheWarning`, and
the source is parsed (and verified) again and the cache rewritten.

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

Modules
-------
:mod:`~randopt.datasets.home` the data folder; :mod:`~randopt.datasets.download`
downloads and checksums; :mod:`~randopt.datasets.cache` the parsed-data cache;
:mod:`~randopt.datasets.libsvm` the LIBSVM files (ijcnn1, covtype);
:mod:`~randopt.datasets.mnist` binarized MNIST; :mod:`~randopt.datasets.synthetic`
the generators.

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
   covtype split, 464,810 training rows; binarized MNIST for the autoencoder).
.. [5] Y. LeCun, C. Cortes and C. J. C. Burges, "The MNIST database of
   handwritten digits", 1998.
"""

from .cache import InvalidCacheWarning
from .download import DOWNLOAD_TIMEOUT_S, LIBSVM_URL, UnverifiedDataWarning
from .home import DATA_HOME_ENV, get_data_home
from .libsvm import (
    COVTYPE_SPLIT_SEED,
    COVTYPE_TRAIN_FRACTION,
    load_covtype,
    load_ijcnn1,
    load_libsvm,
)
from .mnist import MNIST_BINARIZED_FILE, load_mnist_binarized
from .synthetic import make_binary_classification, make_ijcnn1_like

__all__ = [
    "COVTYPE_SPLIT_SEED",
    "COVTYPE_TRAIN_FRACTION",
    "DATA_HOME_ENV",
    "DOWNLOAD_TIMEOUT_S",
    "InvalidCacheWarning",
    "LIBSVM_URL",
    "MNIST_BINARIZED_FILE",
    "UnverifiedDataWarning",
    "get_data_home",
    "load_covtype",
    "load_ijcnn1",
    "load_libsvm",
    "load_mnist_binarized",
    "make_binary_classification",
    "make_ijcnn1_like",
]
