"""Row sampling schemes for sub-sampled Hessians (and gradients).

``"full"``
    every row, weight one: the exact Hessian.
``"uniform"``
    ``s`` rows drawn uniformly without replacement, each weighted ``n / s``
    (the sample average), [1]_.
``"nonuniform"``
    ``s`` i.i.d. draws with ``p_i ~ |D_i| ||a_i||^2``, each weighted
    ``1 / (s p_i)``: row-norm-squared sampling of the Hessian's square root
    ``diag(|D|)^{1/2} X``, [2]_. The probabilities change with ``w`` (they
    use the curvature ``D`` that the fused value/gradient pass produces for
    free).

Every draw goes through :func:`randopt.sketch.uniform_sample` or
:func:`randopt.sketch.sample_rows`, so the weights follow the package's
convention: ``sum(weights * f[indices])`` estimates ``sum(f)`` without bias.

References
----------
.. [1] F. Roosta-Khorasani and M. W. Mahoney, "Sub-sampled Newton methods",
       Math. Program. 174 (2019), 293-326.
.. [2] P. Xu, J. Yang, F. Roosta, C. Re and M. W. Mahoney, "Sub-sampled Newton
       methods with non-uniform sampling", NeurIPS (2016).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_sample_size
from ..sketch.sampling import Sample, sample_rows, uniform_sample
from .base import Evaluation, Objective

__all__ = ["HessianSampler", "SCHEMES"]

SCHEMES = ("full", "uniform", "nonuniform")


class HessianSampler:
    """A sampling scheme with its size, resolved against an objective.

    Parameters
    ----------
    objective : Objective
    scheme : {"full", "uniform", "nonuniform"}
    size : int or float
        Count of rows (``1 <= size <= n``) or fraction in ``(0, 1]``;
        ignored for ``"full"``.
    name : str
        Argument name used in error messages.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.oracles import LeastSquares
    >>> from randopt.oracles.hessian_sampling import HessianSampler
    >>> f = LeastSquares(np.ones((100, 2)), np.zeros(100))
    >>> HessianSampler(f, "uniform", 0.05).size
    5
    """

    def __init__(
        self, objective: Objective, scheme: str, size: Any, name: str = "hessian_sample_size"
    ) -> None:
        if scheme not in SCHEMES:
            raise ValueError(f"hessian_sampling must be one of {SCHEMES}, got {scheme!r}")
        self.scheme = scheme
        n = objective.n_samples
        if scheme == "full":
            self.size = n
        else:
            if not objective.supports_sampling:
                raise TypeError(
                    f"{type(objective).__name__} has no rows to sample; use "
                    "hessian_sampling='full' (or wrap data in a FiniteSum objective)"
                )
            self.size = check_sample_size(size, n, name)
        self.n = n
        self.objective = objective

    def draw(self, ev: Evaluation, rng: np.random.Generator) -> Sample | None:
        """One sample at the point of ``ev`` (``None`` means every row)."""
        if self.scheme == "full":
            return None
        if self.scheme == "uniform":
            return uniform_sample(self.n, self.size, replace=False, random_state=rng)
        p = self.objective.hessian_probabilities(ev)
        return sample_rows(p, self.size, replace=True, random_state=rng)

    def __repr__(self) -> str:
        return f"HessianSampler({self.scheme!r}, size={self.size} of {self.n})"
