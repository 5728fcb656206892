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
Every size passes through the objective's
:meth:`~randopt.oracles.Objective.round_sample_size` first
(:func:`rounded_sample_size`): an objective that compiles its passes per
batch shape rounds up to a few sizes.

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

__all__ = ["HessianSampler", "SCHEMES", "rounded_sample_size", "sampling_probabilities"]

SCHEMES = ("full", "uniform", "nonuniform")


def rounded_sample_size(objective: Objective, size: int) -> int:
    """``objective.round_sample_size(size)``, checked to lie in ``[size, n_samples]``.

    Parameters
    ----------
    objective : Objective
    size : int
        Requested rows, ``1 <= size <= n_samples``.

    Returns
    -------
    int
        The rows to draw.

    Raises
    ------
    ValueError
        If the objective's hook returns anything but an integer in
        ``[size, n_samples]``.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.oracles import LeastSquaresObjective, rounded_sample_size
    >>> rounded_sample_size(LeastSquaresObjective(np.eye(4), np.ones(4)), 3)
    3
    """
    hook = getattr(objective, "round_sample_size", None)
    if hook is None:
        return int(size)
    out = hook(int(size))
    n = objective.n_samples
    if isinstance(out, (bool, np.bool_)) or not isinstance(out, (int, np.integer)) or not (
        size <= out <= n
    ):
        raise ValueError(
            f"{type(objective).__name__}.round_sample_size({size}) returned {out!r}; it must "
            f"return an integer in [{size}, {n}]"
        )
    return int(out)


class HessianSampler:
    """A sampling scheme with its size, resolved against an objective.

    Parameters
    ----------
    objective : Objective
    scheme : {"full", "uniform", "nonuniform"}
    size : int or float
        Count of rows (``1 <= size <= n``) or fraction in ``(0, 1]``;
        ignored for ``"full"``. Rounded by :func:`rounded_sample_size`.
    name : str
        Argument name used in error messages.

    Attributes
    ----------
    size : int
        Rows per draw (``n`` for ``"full"``); :meth:`draw` may be given
        another size per call (an adaptive schedule).

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
            self.size = rounded_sample_size(objective, check_sample_size(size, n, name))
        self.n = n
        self.objective = objective

    def draw(
        self, ev: Evaluation | None, rng: np.random.Generator, size: int | None = None
    ) -> Sample | None:
        """One sample at the point of ``ev`` (``None`` means every row).

        Parameters
        ----------
        ev : Evaluation or None
            The evaluation at the current point (only ``"nonuniform"`` reads it).
        rng : numpy.random.Generator
        size : int, optional
            Rows for this draw, ``1 <= size <= n`` (rounded by
            :func:`rounded_sample_size`); default :attr:`size`.

        Returns
        -------
        Sample or None

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import HessianSampler, LeastSquaresObjective
        >>> f = LeastSquaresObjective(np.ones((100, 2)), np.zeros(100))
        >>> sampler = HessianSampler(f, "uniform", 5)
        >>> sampler.draw(None, np.random.default_rng(0), size=20).weights[:2].tolist()
        [5.0, 5.0]
        """
        if self.scheme == "full":
            return None
        if size is None:
            size = self.size
        else:
            size = rounded_sample_size(self.objective, check_sample_size(size, self.n, "size"))
        if self.scheme == "uniform":
            return uniform_sample(self.n, size, replace=False, random_state=rng)
        p = self.objective.hessian_probabilities(ev)
        return sample_rows(p, size, replace=True, random_state=rng)

    def __repr__(self) -> str:
        return f"HessianSampler({self.scheme!r}, size={self.size} of {self.n})"


def _normalised(p: np.ndarray) -> np.ndarray | None:
    """``p / sum(p)``, or None when ``p`` has no finite positive mass."""
    total = p.sum()
    if total > 0 and np.isfinite(total):
        return p / total
    top = np.max(p)  # the sum overflowed: scale to [0, 1] first
    if not (top > 0 and np.isfinite(top)):
        return None
    q = p / top
    return q / q.sum()


def sampling_probabilities(magnitude: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Row probabilities ``p_i ~ magnitude_i * base_i``, always a distribution.

    The non-uniform schemes' probabilities (curvature size times squared row
    norm). A saturated model (every curvature zero, or the products not
    finite) falls back to ``base`` alone (the row-norm part); data whose rows
    all vanish (or whose squared norms are not finite) to the uniform
    distribution, under which every unbiased estimate of a zero matrix is zero.

    Parameters
    ----------
    magnitude, base : ndarray of shape (n,)
        Non-negative.

    Returns
    -------
    ndarray of shape (n,)
        Non-negative and finite, summing to one.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.oracles.hessian_sampling import sampling_probabilities
    >>> sampling_probabilities(np.array([1.0, 3.0]), np.ones(2)).tolist()
    [0.25, 0.75]
    >>> sampling_probabilities(np.ones(2), np.zeros(2)).tolist()  # all-zero rows: uniform
    [0.5, 0.5]
    """
    with np.errstate(over="ignore", invalid="ignore"):
        p = _normalised(magnitude * base)
        if p is None or not np.isfinite(p).all():
            p = _normalised(base)
    if p is None or not np.isfinite(p).all():
        p = np.full(base.shape[0], 1.0 / base.shape[0])
    return p
