"""A linearly separable dense design: ``y = sign(X w*)``, no label noise.

Without a penalty the logistic loss has no minimiser here (it decreases along
``w*`` forever); with ``lmbd > 0`` the minimiser is finite but large
(``||b||`` grows like ``log(1 / lmbd)``; Rosset, Zhu & Hastie, NIPS 2004),
its Hessian nearly singular, which
makes it a hard case for first-order methods and for Newton's step lengths.
``X`` is standard normal with its rows of margin ``|x^T w*| / ||w*|| <
margin`` pushed out to ``margin`` (so the classes are separated by a gap of
``2 margin``). Drawn from ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

from benchopt import BaseDataset, safe_import_context

with safe_import_context() as import_ctx:
    import numpy as np


def make_separable(n_samples: int, n_features: int, margin: float = 0.1, seed: int = 0):
    """``(X, y)`` with ``y_i x_i^T u >= margin`` for the unit vector ``u`` of the plant."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    u = rng.standard_normal(n_features)
    u /= np.linalg.norm(u)
    z = X @ u
    y = np.where(z >= 0, 1.0, -1.0)
    # move the rows inside the gap along u, out to the margin on their side
    X += np.outer(np.where(np.abs(z) < margin, y * margin - z, 0.0), u)
    return X, y


class Dataset(BaseDataset):
    """Separable Gaussian design with a margin."""

    name = "separable"
    parameters = {"n_samples, n_features": [(10_000, 100)], "margin": [0.1], "seed": [0]}

    def get_data(self):
        X, y = make_separable(self.n_samples, self.n_features, self.margin, self.seed)
        return {"X": X, "y": y}
