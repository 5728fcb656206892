"""Input helpers shared by the estimators: the intercept column and sample weights."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from .._validation import check_vector

#: The sparse formats the estimators accept (converted to CSR by the layers below).
SPARSE_FORMATS = ("csr", "csc", "coo")


def add_intercept_column(X: Any) -> Any:
    """``[X, 1]``: the design matrix of a model with an intercept (CSR for sparse ``X``)."""
    ones = np.ones((X.shape[0], 1), dtype=X.dtype)
    if sp.issparse(X):
        return sp.hstack([X, sp.csr_matrix(ones)], format="csr")
    return np.hstack([X, ones])


def sample_weights(sample_weight: Any, n_samples: int) -> np.ndarray:
    """Validated non-negative float64 row weights (all ones for ``None``), never a view.

    Raises a ValueError naming ``sample_weight`` for a wrong length, NaN or
    infinity, a negative entry, or all weights zero.
    """
    if sample_weight is None:
        return np.ones(n_samples)
    sw = np.array(check_vector(sample_weight, "sample_weight", size=n_samples), copy=True)
    if sw.min() < 0:
        raise ValueError(f"sample_weight must be non-negative, got a minimum of {sw.min():g}")
    if not sw.sum() > 0:
        raise ValueError("sample_weight must have a positive sum; all weights are zero")
    return sw
