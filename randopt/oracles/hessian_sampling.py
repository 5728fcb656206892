"""Row sampling schemes for sub-sampled Hessians (and gradients).

``"full"``
    every row, weight one: the exact Hessian.
``"uniform"``
    ``s`` rows drawn uniformly without replacement, each weighted ``n / s``
    (the sample average), [1]_.
``"nonuniform"``
    ``s`` i.i.d. draws with ``p_i ~ c_i |l''_i| ||a_i||^2``, each weighted
    ``1 / (s p_i)``: row-norm-squared sampling of the Hessian's square root
    ``diag(c |l''|)^{1/2} X``, [2]_. The probabilities change with ``w`` (they
    use the curvature ``l''`` that the fused value/gradient pass produces for
    free; :meth:`randopt.oracles.FiniteSum.hessian_probabilities`).

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

from .._validation import check_choice, check_sample_size
from ..sketch import Sample, sample_rows, uniform_sample
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
    >>> from randopt.oracles import HessianSampler, LeastSquaresObjective
    >>> f = LeastSquaresObjective(np.ones((100, 2)), np.zeros(100))
    >>> sampler = HessianSampler(f, "uniform", 0.05)
    >>> sampler.size
    5
    >>> sample = sampler.draw(f.evaluate(np.zeros(2)), np.random.default_rng(0))
    >>> sample.indices.shape, sample.weights.tolist()
    ((5,), [20.0, 20.0, 20.0, 20.0, 20.0])
    """

    def __init__(
        self, objective: Objective, scheme: str, size: Any, name: str = "hessian_sample_size"
    ) -> None:
        if not isinstance(objective, Objective):
            raise TypeError(f"objective must be a randopt.oracles Objective, got {objective!r}")
        self.scheme = check_choice(scheme, "hessian_sampling", SCHEMES)
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

    def draw(self, ev: Evaluation | None, rng: np.random.Generator) -> Sample | None:
        """One sample at the point of ``ev`` (``None`` means every row).

        Parameters
        ----------
        ev : Evaluation or None
            The evaluation at the current point (only ``"nonuniform"`` reads it).
        rng : numpy.random.Generator

        Returns
        -------
        Sample or None
        """
        if self.scheme == "full":
            return None
        if self.scheme == "uniform":
            return uniform_sample(self.n, self.size, replace=False, random_state=rng)
        p = self.objective.hessian_probabilities(ev)
        return sample_rows(p, self.size, replace=True, random_state=rng)

    def __repr__(self) -> str:
        return f"HessianSampler({self.scheme!r}, size={self.size} of {self.n})"
