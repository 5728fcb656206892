"""An rcv1-like sparse text design: CSR, Zipf column frequencies, tf-idf rows of unit norm.

How it is drawn (``numpy.random.default_rng(seed)``):

- document lengths ``k_i`` (tokens per row) log-normal (sigma 0.6), scaled so
  that the number of distinct terms per row averages ``density * n_features``
  (one recalibration after the duplicates are merged);
- each token a term ``j`` with Zipf-like probability ``p_j ~ 1 / (j + 10)``
  (term 0 the most frequent), so column frequencies fall like a power law as
  in rcv1; a term drawn ``c`` times in a row is one entry with count ``c``;
- values tf-idf-like: ``(1 + log c) * log(n / df_j)`` (``df_j``: rows holding
  term ``j``), each row scaled to unit Euclidean norm (as rcv1 is); all
  positive;
- labels from a sparse planted model: ``w*`` with ``n_informative`` non-zero
  N(0, 1) entries on random terms, ``y = sign(X w* - median(X w*))``
  (balanced classes; rows with no informative term get a random label),
  then a fraction ``flip`` of labels flipped (noise).

The default 20,000 x 47,000 at 0.16% (about 1.5 M non-zeros) is rcv1's
training set's shape and density (rcv1.binary: 20,242 x 47,236, 0.16%).
"""

from __future__ import annotations

from benchopt import BaseDataset, safe_import_context

with safe_import_context() as import_ctx:
    import numpy as np
    import scipy.sparse as sp


def _draw_counts(rng, n_samples, n_features, lengths):
    """CSR of term counts: ``lengths[i]`` Zipf tokens in row ``i``, duplicates merged."""
    p = 1.0 / (np.arange(n_features) + 10.0)
    p /= p.sum()
    terms = rng.choice(n_features, size=int(lengths.sum()), p=p)
    rows = np.repeat(np.arange(n_samples), lengths)
    keys, counts = np.unique(rows.astype(np.int64) * n_features + terms, return_counts=True)
    return sp.csr_matrix(
        (counts.astype(np.float64), (keys // n_features, keys % n_features)),
        shape=(n_samples, n_features),
    )


def make_sparse_text(n_samples: int, n_features: int, density: float = 0.0016,
                     n_informative: int = 500, flip: float = 0.05, seed: int = 0):
    """``(X, y)``: float64 CSR ``X`` (tf-idf, unit-norm rows), ``y`` in {-1, +1}."""
    rng = np.random.default_rng(seed)
    target = density * n_features  # distinct terms per row, on average
    shape = rng.lognormal(0.0, 0.6, size=n_samples)
    shape /= shape.mean()

    def lengths_for(tokens_per_row):
        return np.maximum(1, np.rint(tokens_per_row * shape)).astype(np.int64)

    # Merging repeated terms loses entries: draw once, then rescale the lengths
    # by the measured loss and draw again.
    first = _draw_counts(rng, n_samples, n_features, lengths_for(target))
    tokens = target * target / max(first.nnz / n_samples, 1.0)
    counts = _draw_counts(rng, n_samples, n_features, lengths_for(tokens))

    df = np.bincount(counts.indices, minlength=n_features)
    idf = np.log(n_samples / np.maximum(df, 1))
    X = counts.copy()
    X.data = (1.0 + np.log(X.data)) * idf[X.indices]
    X.data = np.maximum(X.data, 1e-3)  # a term in every row would get idf 0: keep it stored
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    X = sp.csr_matrix(sp.diags(1.0 / np.maximum(norms, np.finfo(np.float64).tiny)) @ X)
    X.sort_indices()

    w = np.zeros(n_features)
    w[rng.choice(n_features, size=min(n_informative, n_features), replace=False)] = (
        rng.standard_normal(min(n_informative, n_features)))
    z = X @ w
    # rows without an informative term score 0: a tiny jitter splits those ties at
    # random, so the median split gives balanced classes
    z += 1e-9 * max(float(np.abs(z).max()), 1.0) * rng.standard_normal(n_samples)
    y = np.where(z > np.median(z), 1.0, -1.0)
    y[rng.random(n_samples) < flip] *= -1.0
    return X, y


class Dataset(BaseDataset):
    """rcv1-like sparse tf-idf design with a sparse planted model and label noise."""

    name = "sparse_text"
    parameters = {
        "n_samples, n_features, density": [(20_000, 47_000, 0.0016)],
        "seed": [0],
    }

    def get_data(self):
        X, y = make_sparse_text(self.n_samples, self.n_features, self.density, seed=self.seed)
        return {"X": X, "y": y}
