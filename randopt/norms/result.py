"""The one result type of every norm estimator in :mod:`randopt.norms`."""

from __future__ import annotations

from typing import Any

from scipy.optimize import OptimizeResult

__all__ = ["NormResult", "UPPER_KINDS"]

#: How an upper bound was obtained, from strongest to weakest guarantee.
UPPER_KINDS = ("exact", "deterministic", "probabilistic", "none")


class NormResult(OptimizeResult):
    """Result of a norm estimator: a bracket ``lower <= norm <= upper``.

    A :class:`scipy.optimize.OptimizeResult` (a dict with attribute access),
    so that every estimator of :mod:`randopt.norms` reports the same fields
    and a caller can read any of them the same way.

    Parameters
    ----------
    *args, **kwargs
        The fields, as for :class:`dict`; the nine attributes listed first
        below are required (a ``TypeError`` names the missing ones) and
        ``upper_kind`` must be one of :data:`UPPER_KINDS`.

    Attributes
    ----------
    norm : float
        The estimate (for iterative methods the certified lower bound).
    lower : float
        A lower bound that holds in floating point (attained by a computed
        vector: ``||A v|| / ||v||`` evaluated with a rounding margin).
    upper : float
        An upper bound; ``upper_kind`` says how it holds.
    upper_kind : str
        ``"exact"`` (computed to rounding, e.g. a dense SVD, with its margin),
        ``"deterministic"`` (holds for every input after rounding: Frobenius,
        Hoelder, Gram-matrix or sum-of-squares certificates), ``"probabilistic"``
        (holds with probability at least ``1 - failure_probability`` over the
        estimator's own random draws) or ``"none"``.
    failure_probability : float
        Probability that ``upper`` is wrong; 0 for exact and deterministic
        bounds.
    n_matvec : int
        Products with the operator (or its transpose) spent.
    nit : int
        Iterations of the method.
    converged : bool
        Whether the bracket met the requested tolerance
        (``upper <= (1 + tol) * lower``).
    method : str
        The method that produced the result.

    Estimators add their own fields (singular vectors ``u``/``v``, the
    maximiser of a 2->q norm, per-frequency values, ...), documented with
    each function.

    Examples
    --------
    >>> r = NormResult(norm=2.0, lower=2.0, upper=2.0, upper_kind="exact",
    ...                failure_probability=0.0, n_matvec=0, nit=0, converged=True,
    ...                method="svd")
    >>> r.upper / r.lower
    1.0
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        missing = [
            k
            for k in ("norm", "lower", "upper", "upper_kind", "failure_probability",
                      "n_matvec", "nit", "converged", "method")
            if k not in self
        ]
        if missing:
            raise TypeError(f"NormResult is missing the fields {missing}")
        if self["upper_kind"] not in UPPER_KINDS:
            raise ValueError(
                f"upper_kind must be one of {UPPER_KINDS}, got {self['upper_kind']!r}"
            )

    def __repr__(self) -> str:
        # scipy's OptimizeResult formatter fails on an empty nested dict (max() of no
        # keys); show such a field as "{}" instead of raising from repr().
        shown = OptimizeResult(
            {k: ("{}" if isinstance(v, dict) and not v else v) for k, v in self.items()}
        )
        return OptimizeResult.__repr__(shown)
