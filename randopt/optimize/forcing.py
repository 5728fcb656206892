"""Forcing terms of inexact Newton methods: how accurately each sub-problem is solved.

An inexact (truncated) Newton method solves the Newton system ``H s = -g``
only to a relative residual ``||H s + g|| <= eta_k ||g||``; ``eta_k`` is the
*forcing term* (Dembo, Eisenstat and Steihaug [1]_). A fixed small
``eta`` (the papers' ``1e-9``) spends many products far from the solution,
where a rough step does as well; a forcing term that tightens as the
gradient falls keeps the local convergence fast (superlinear when
``eta_k -> 0``) at a fraction of the products. The solvers'
``subproblem_tol`` (and :func:`~randopt.optimize.gauss_newton`'s ``cg_tol``)
takes:

* a float in ``(0, 1)``: that fixed relative tolerance at every iterate
  (the papers' ``1e-9``, :data:`PAPERS_TOL`);
* ``"auto"`` (the default of :func:`~randopt.optimize.trust_region` and
  :func:`~randopt.optimize.arc`): with the adaptive sample size
  (``hessian_sample_size="auto"``, the default) ``"ew"`` on every model used
  through products and the papers' ``1e-9`` on an explicit matrix (where a
  product costs ``d^2`` against the matrix's ``s d^2 / 2``, so a tight solve is
  nearly free and keeps the Newton step exact); the papers' fixed ``1e-9``
  with a size given as a number (as the papers' reproduction gives it, which
  therefore stays identical pass for pass); see :func:`resolve_subproblem_tol`;
* ``"sqrt"``: ``eta_k = min(0.5, sqrt(||g_k||))`` (Nocedal and Wright [3]_,
  eq. (7.3); the rule of scikit-learn's ``newton-cg``, which measures the
  gradient in the 1-norm), superlinear;
* ``"ew"``: Eisenstat and Walker's choice 2 [2]_, ``eta_k = gamma
  (||g_k|| / ||g_{k-1}||)^alpha`` with ``gamma = 0.9``, ``alpha = 2``,
  ``eta_0 = 0.5``, the safeguard ``eta_k >= gamma eta_{k-1}^alpha`` when
  that is above 0.1, at most ``0.9``, and at least ``gtol / (2 ||g_k||)``
  (no oversolving past the stopping tolerance: Pernice and Walker [4]_);
* a :class:`ForcingTerm` instance (e.g. ``EisenstatWalker(gamma=0.5)``).

The loop asks for ``eta_k`` once per iterate (a rejected step keeps its
iterate's tolerance); ``history["subproblem_tol"]`` shows it and
``history["hessian_products"]`` the products each iteration spent.

References
----------
.. [1] R. S. Dembo, S. C. Eisenstat and T. Steihaug, "Inexact Newton
       methods", SIAM J. Numer. Anal. 19 (1982), 400-408.
.. [2] S. C. Eisenstat and H. F. Walker, "Choosing the forcing terms in an
       inexact Newton method", SIAM J. Sci. Comput. 17 (1996), 16-32.
.. [3] J. Nocedal and S. J. Wright, "Numerical Optimization", 2nd ed.
       (2006), section 7.1, eq. (7.3).
.. [4] M. Pernice and H. F. Walker, "NITSOL: a Newton iterative solver for
       nonlinear systems", SIAM J. Sci. Comput. 19 (1998), 302-318.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .._validation import check_scalar

__all__ = [
    "PAPERS_TOL", "EisenstatWalker", "FixedForcing", "ForcingTerm", "SqrtForcing",
    "as_forcing_term", "resolve_subproblem_tol",
]

_EPS = float(np.finfo(np.float64).eps)


class ForcingTerm:
    """Base class: the relative tolerance ``eta_k`` of the sub-problem at each iterate.

    A subclass implements :meth:`next` (the value at a new iterate);
    :meth:`start` resets it for a run and :meth:`at` returns the value at
    the current gradient norm, computing it once per iterate.

    Examples
    --------
    >>> class Halving(ForcingTerm):
    ...     def next(self, gnorm):
    ...         return 0.5 if self.eta is None else self.eta / 2
    >>> f = Halving(); f.start(0.0)
    >>> [f.at(g) for g in (1.0, 1.0, 0.5)]
    [0.5, 0.5, 0.25]
    """

    def __init__(self) -> None:
        self.eta: float | None = None
        self.gnorm: float | None = None
        self.gtol = 0.0

    def start(self, gtol: float) -> None:
        """Reset for a run that stops at ``||g|| <= gtol``.

        Parameters
        ----------
        gtol : float
            The solver's gradient tolerance (>= 0).
        """
        self.eta, self.gnorm, self.gtol = None, None, float(gtol)

    def at(self, gnorm: float) -> float:
        """``eta`` at an iterate with gradient norm ``gnorm`` (the same value at the same one).

        Parameters
        ----------
        gnorm : float
            ``||g_k||``.

        Returns
        -------
        float
            The relative tolerance, in ``(0, 1)``.
        """
        if self.eta is None or gnorm != self.gnorm:
            eta = float(self.next(gnorm))
            self.eta = min(max(eta, _EPS), 1.0 - _EPS)
            self.gnorm = gnorm
        return self.eta

    def next(self, gnorm: float) -> float:
        """The forcing term at a new iterate (``self.eta``, ``self.gnorm``: the previous ones)."""
        raise NotImplementedError(f"{type(self).__name__} must implement next(gnorm)")


class FixedForcing(ForcingTerm):
    """A fixed relative tolerance ``eta`` (``subproblem_tol`` given as a float).

    Parameters
    ----------
    eta : float
        In ``(0, 1)``.
    name : str, default="subproblem_tol"
        The option's name, for error messages.

    Examples
    --------
    >>> f = FixedForcing(1e-9); f.start(1e-6); f.at(3.0)
    1e-09
    """

    def __init__(self, eta: float, name: str = "subproblem_tol") -> None:
        super().__init__()
        self.value = check_scalar(eta, name, low=0, high=1, low_inclusive=False,
                                  high_inclusive=False)

    def at(self, gnorm: float) -> float:  # the float itself: bit for bit today's arithmetic
        return self.value

    def next(self, gnorm: float) -> float:
        return self.value

    def __repr__(self) -> str:
        return repr(self.value)


class SqrtForcing(ForcingTerm):
    """``eta_k = min(eta_max, sqrt(||g_k||))`` (Nocedal and Wright, eq. (7.3)).

    Parameters
    ----------
    eta_max : float, default=0.5
        Cap, in ``(0, 1)``.

    References
    ----------
    .. [1] J. Nocedal and S. J. Wright, "Numerical Optimization", 2nd ed.
           (2006), eq. (7.3).

    Examples
    --------
    >>> f = SqrtForcing(); f.start(0.0); f.at(4.0), f.at(1e-4)
    (0.5, 0.01)
    """

    def __init__(self, eta_max: float = 0.5) -> None:
        super().__init__()
        self.eta_max = check_scalar(eta_max, "eta_max", low=0, high=1, low_inclusive=False,
                                    high_inclusive=False)

    def next(self, gnorm: float) -> float:
        return min(self.eta_max, math.sqrt(gnorm))

    def __repr__(self) -> str:
        return "'sqrt'" if self.eta_max == 0.5 else f"SqrtForcing(eta_max={self.eta_max!r})"


class EisenstatWalker(ForcingTerm):
    """Eisenstat and Walker's choice 2, safeguarded.

    ``eta_k = gamma (||g_k|| / ||g_{k-1}||)^alpha``, raised to ``gamma
    eta_{k-1}^alpha`` when that exceeds 0.1 (a sudden drop of the ratio
    does not make the tolerance collapse), capped at ``eta_max``, and not
    below ``gtol / (2 ||g_k||)`` (no residual smaller than half the stopping
    tolerance is asked for).

    Parameters
    ----------
    gamma : float, default=0.9
        In ``(0, 1]``.
    alpha : float, default=2.0
        In ``(1, 2]``.
    eta0 : float, default=0.5
        The first iterate's tolerance, in ``(0, 1)``.
    eta_max : float, default=0.9
        Cap, in ``(0, 1)``.

    References
    ----------
    .. [1] S. C. Eisenstat and H. F. Walker, "Choosing the forcing terms in an
           inexact Newton method", SIAM J. Sci. Comput. 17 (1996), 16-32.
    .. [2] M. Pernice and H. F. Walker, "NITSOL", SIAM J. Sci. Comput. 19 (1998).

    Examples
    --------
    >>> f = EisenstatWalker(); f.start(0.0)
    >>> [round(f.at(g), 6) for g in (1.0, 0.5, 0.01)]
    [0.5, 0.225, 0.00036]
    """

    def __init__(self, gamma: float = 0.9, alpha: float = 2.0, eta0: float = 0.5,
                 eta_max: float = 0.9) -> None:
        super().__init__()
        self.gamma = check_scalar(gamma, "gamma", low=0, high=1, low_inclusive=False)
        self.alpha = check_scalar(alpha, "alpha", low=1, high=2, low_inclusive=False)
        self.eta0 = check_scalar(eta0, "eta0", low=0, high=1, low_inclusive=False,
                                 high_inclusive=False)
        self.eta_max = check_scalar(eta_max, "eta_max", low=0, high=1, low_inclusive=False,
                                    high_inclusive=False)

    def next(self, gnorm: float) -> float:
        if self.eta is None or not self.gnorm:
            eta = self.eta0
        else:
            eta = self.gamma * (gnorm / self.gnorm) ** self.alpha
            safeguard = self.gamma * self.eta**self.alpha
            if safeguard > 0.1:
                eta = max(eta, safeguard)
        if gnorm > 0:
            eta = max(eta, 0.5 * self.gtol / gnorm)
        return min(eta, self.eta_max)

    def __repr__(self) -> str:
        return (f"EisenstatWalker(gamma={self.gamma!r}, alpha={self.alpha!r}, "
                f"eta0={self.eta0!r}, eta_max={self.eta_max!r})")


#: The papers' fixed relative tolerance of the sub-problems (Xu, Roosta and Mahoney's code).
PAPERS_TOL = 1e-9

#: The named forcing terms of ``subproblem_tol``.
FORCING_TERMS = {"ew": EisenstatWalker, "sqrt": SqrtForcing}


def as_forcing_term(spec: Any, name: str = "subproblem_tol", *,
                    gtol: float | None = None) -> ForcingTerm:
    """A :class:`ForcingTerm` from a float, ``"ew"``, ``"sqrt"`` or an instance.

    Parameters
    ----------
    spec : float, str or ForcingTerm
        See the module docstring.
    name : str, default="subproblem_tol"
        The option's name, for error messages.
    gtol : float, optional
        When given, the term is :meth:`~ForcingTerm.start`-ed for a run to this
        gradient tolerance.

    Returns
    -------
    ForcingTerm
        A fresh one for a name or a float; an instance as is.

    Raises
    ------
    ValueError
        For an unknown name or a float outside ``(0, 1)``.
    TypeError
        For anything else.

    Examples
    --------
    >>> as_forcing_term(1e-9).at(1.0), type(as_forcing_term("ew")).__name__
    (1e-09, 'EisenstatWalker')
    """
    term = _forcing_term(spec, name)
    if gtol is not None:
        term.start(gtol)
    return term


def _forcing_term(spec: Any, name: str) -> ForcingTerm:
    if isinstance(spec, ForcingTerm):
        return spec
    if isinstance(spec, str):
        if spec not in FORCING_TERMS:
            raise ValueError(
                f"{name} must be a float in (0, 1), one of {sorted(FORCING_TERMS)} or a "
                f"ForcingTerm; got {spec!r}"
            )
        return FORCING_TERMS[spec]()
    if isinstance(spec, (bool, np.bool_)) or not isinstance(spec, numbers.Real):
        raise TypeError(
            f"{name} must be a float in (0, 1), one of {sorted(FORCING_TERMS)} or a "
            f"ForcingTerm; got {type(spec).__name__}"
        )
    return FixedForcing(spec, name)


def resolve_subproblem_tol(spec: Any, hessian_sample_size: Any) -> Any:
    """``subproblem_tol="auto"`` resolved: ``"ew"`` for the adaptive sample size, else ``1e-9``.

    Measured in the benchopt protocol of issue 18 (``docs/solvers.md``,
    "Defaults for every shape"), a fixed ``1e-9`` spends tens to hundreds of
    products per outer iteration where a rough step does as well, 3x to 10x
    the products of Eisenstat-Walker's forcing term, which keeps the local
    convergence superlinear; so the default run, whose sample size is
    ``"auto"``, uses ``"ew"`` (and the loop still solves an *explicit* model
    to ``1e-9``: :func:`randopt.optimize.newton_loop`). A sample size given
    as a number is the papers' setting: their fixed ``1e-9``
    (:data:`PAPERS_TOL`) goes with it, so that the papers' reproduction,
    which passes its sizes, runs bit for bit as before.

    Parameters
    ----------
    spec : "auto", float, str or ForcingTerm
        ``subproblem_tol`` as given; anything but ``"auto"`` is returned as is.
    hessian_sample_size : "auto", int or float
        The run's ``hessian_sample_size``.

    Returns
    -------
    float, str or ForcingTerm
        ``"ew"`` or ``1e-9`` for ``"auto"``, else ``spec``.

    Examples
    --------
    >>> resolve_subproblem_tol("auto", "auto"), resolve_subproblem_tol("auto", 0.05)
    ('ew', 1e-09)
    >>> resolve_subproblem_tol(1e-6, "auto")
    1e-06
    """
    if isinstance(spec, str):
        if spec == "auto":
            adaptive = isinstance(hessian_sample_size, str) and hessian_sample_size == "auto"
            return "ew" if adaptive else PAPERS_TOL
        if spec not in FORCING_TERMS:
            raise ValueError(
                "subproblem_tol must be 'auto', a float in (0, 1), one of "
                f"{sorted(FORCING_TERMS)} or a ForcingTerm; got {spec!r}"
            )
    return spec
