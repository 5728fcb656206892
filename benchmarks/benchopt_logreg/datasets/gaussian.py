"""Dense Gaussian designs, tall and ill-conditioned or wide, from a planted logistic model.

``X = G diag(s)`` with ``G`` standard normal and column scales ``s_j``
geometric from ``scale_min`` to 1 (``s_j = scale_min ** (j / (d - 1))``), so
``cond(X)`` is about ``1 / scale_min`` and the unregularised Hessian's about
its square (``scale_min=1``: isotropic). Labels: ``P(y_i = 1) =
sigmoid(2 z_i / std(z))`` with ``z = X w*``, ``w* ~ N(0, I)``, so the margins
are O(1) and the classes overlap. Everything is drawn from
``numpy.random.default_rng(seed)``.

The default parameters are the two designs of issue 18: tall 200,000 x 200
with ``scale_min=1e-3`` and wide 200 x 500 (isotropic).
"""

from __future__ import annotations

from benchopt import BaseDataset, safe_import_context

with safe_import_context() as import_ctx:
    import numpy as np


def make_gaussian(n_samples: int, n_features: int, scale_min: float = 1.0, seed: int = 0):
    """``(X, y)``: C-ordered float64 ``X`` (``n_samples x n_features``), ``y`` in {-1, 1}."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    if scale_min != 1.0:
        X *= scale_min ** (np.arange(n_features) / max(n_features - 1, 1))
    z = X @ rng.standard_normal(n_features)
    z *= 2.0 / max(float(z.std()), np.finfo(np.float64).tiny)
    y = np.where(rng.random(n_samples) < 1.0 / (1.0 + np.exp(-z)), 1.0, -1.0)
    return X, y


class Dataset(BaseDataset):
    """Gaussian design with geometric column scales (``scale_min``) and planted labels."""

    name = "gaussian"
    parameters = {
        "n_samples, n_features, scale_min": [
            (200_000, 200, 1e-3),  # tall, ill-conditioned
            (200, 500, 1.0),  # wide
        ],
        "seed": [0],
    }

    def get_data(self):
        X, y = make_gaussian(self.n_samples, self.n_features, self.scale_min, self.seed)
        return {"X": X, "y": y}
