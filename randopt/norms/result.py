"""The one result family of every norm and spectral estimator in :mod:`randopt.norms`.

:class:`NormResult` (a bracket ``lower <= norm <= upper``) and its documented
subclasses for the estimators whose main output is not one norm: Hessian
eigenvalues (:class:`EigenvalueResult`), traces with their interval
(:class:`TraceResult`), spectral densities (:class:`DensityResult`),
sum-of-squares certificates (:class:`SOSResult`) and normalised convolutions
(:class:`ConvNormalizeResult`).  All carry the nine common fields, products
counted as ``n_matvec``.
"""

from __future__ import annotations

from typing import Any

from scipy.optimize import OptimizeResult

__all__ = [
    "ConvNormalizeResult",
    "DensityResult",
    "EigenvalueResult",
    "NormResult",
    "SOSResult",
    "TraceResult",
    "UPPER_KINDS",
]

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

    #: The fields every member of the family carries.
    REQUIRED = ("norm", "lower", "upper", "upper_kind", "failure_probability", "n_matvec",
                "nit", "converged", "method")
    #: Fields of a subclass beyond :attr:`REQUIRED`.
    EXTRA: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        missing = [k for k in self.REQUIRED + self.EXTRA if k not in self]
        if missing:
            raise TypeError(f"{type(self).__name__} is missing the fields {missing}")
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


class EigenvalueResult(NormResult):
    """Result of :func:`~randopt.norms.hessian_eigenvalues`.

    The bracket describes ``||H||_2``: ``norm`` is the largest ``|eigenvalue|``
    found, ``lower`` 0 and ``upper`` ``inf`` (``upper_kind="none"``: a few
    eigenvalues bound nothing by themselves).  ``nit`` counts the products
    (one per Lanczos/Arnoldi step).

    Attributes
    ----------
    eigenvalues : ndarray
        The ``k`` eigenvalues, in the order ``which`` asks.
    residuals : ndarray
        ``||H x - lambda x||`` per pair (a true eigenvalue lies that close).
    which : str
        ``"LA"``, ``"SA"`` or ``"LM"``.
    eigenvectors : ndarray, optional
        Only when asked for.
    """

    EXTRA = ("eigenvalues", "residuals", "which")


class TraceResult(NormResult):
    """Result of :func:`~randopt.norms.hessian_trace`: the bracket is the trace's interval.

    ``norm`` is the trace estimate, ``[lower, upper]`` its confidence interval
    (``ci``; Student-t, so asymptotic: ``upper_kind="probabilistic"`` with
    ``failure_probability = 1 - confidence``), ``nit`` the probes.

    Attributes
    ----------
    trace : float
    ci : tuple of float
    std_error, rounding, confidence : float
    n_probes : int
    """

    EXTRA = ("trace", "ci", "std_error", "rounding", "confidence", "n_probes")


class DensityResult(NormResult):
    """Result of :func:`~randopt.norms.spectral_density` (stochastic Lanczos quadrature).

    ``norm`` is the largest ``|node|`` (Ritz values lie in the spectrum's
    hull), ``lower`` 0 and ``upper`` ``inf`` (``upper_kind="none"``).

    Attributes
    ----------
    grid, density : ndarray
    nodes, weights : list of ndarray
        The quadrature of each probe.
    sigma : float
        Width of the Gaussian smoothing.
    """

    EXTRA = ("grid", "density", "nodes", "weights", "sigma")


class SOSResult(NormResult):
    """Result of :func:`~randopt.norms.sos_upper_bound`: a deterministic upper bound.

    ``upper`` is certified (:func:`~randopt.norms.verify_sos_certificate`),
    ``norm`` the relaxation's estimate, ``lower`` 0 (the vector ``v``
    attains a value, certified by :func:`~randopt.norms.two_to_q_norm`),
    ``n_matvec`` 0, ``nit`` the SCS iterations; ``status`` is 0 when the
    solver reported "solved" (accurate or not: the certificate is verified either
    way), 1 otherwise, and ``message`` its last status
    (``"zero matrix"`` and ``"not run"`` included).

    Attributes
    ----------
    certificate : SOSCertificate or None
    estimate : float
    v : ndarray
    status : int
    message : str
    solve_time : float
    """

    EXTRA = ("certificate", "estimate", "v", "status", "message", "solve_time")


class ConvNormalizeResult(NormResult):
    """Result of :func:`~randopt.norms.conv_normalize`.

    ``norm`` is the largest singular value of the normalised layer (computed,
    not bracketed: ``lower`` 0, ``upper`` ``inf``, ``upper_kind="none"``;
    :func:`~randopt.norms.conv_spectral_norm` of ``kernel`` brackets it).

    Attributes
    ----------
    kernel : ndarray
    scale : ndarray
    singular_values, singular_values_before : ndarray
    condition_number : float
    """

    EXTRA = ("kernel", "scale", "singular_values", "singular_values_before",
             "condition_number")
