"""Step-size policies of the outer loop: trust region and cubic regularisation.

A policy owns the one thing in which the two methods differ: the parameter
that controls the step length (a radius, or a cubic weight ``sigma`` that
acts like an inverse radius), its update from the ratio
``rho = (f(x) - f(x + s)) / (m(0) - m(s))`` of actual to predicted decrease,
how a sub-problem solver is asked for a step, the model decrease of a step
along a direction of negative curvature (the second-order phase), and the
validation of its options. :func:`randopt.optimize.newton_loop` does the
rest, identically for both.

Both update rules are those of Xu, Roosta and Mahoney [1]_ (Algorithms 1 and
2), with the thresholds ``0 < eta2 <= eta1 < 1`` and factors
``gamma1 > 1``, ``gamma2 >= 1``:

========================  =======================  ==========================
ratio                     trust region             cubic regularisation
========================  =======================  ==========================
``rho < eta2``            reject, ``r / gamma1``   reject, ``sigma * gamma1``
``eta2 <= rho < eta1``    accept, ``r * gamma2``   accept, ``sigma / gamma2``
``rho >= eta1``           accept, ``r * gamma1``   accept, ``sigma / gamma1``
========================  =======================  ==========================

The radius is capped at ``max_radius``; ``sigma`` stays in
``[sigma_min, max_sigma]``: the floor ``sigma_min > 0`` is what the
complexity bounds of Cartis, Gould and Toint [2]_ assume (and keeps the
cubic term from underflowing after long runs of very successful steps).

References
----------
.. [1] P. Xu, F. Roosta and M. W. Mahoney, "Newton-type methods for non-convex
       optimization under inexact Hessian information", Math. Program. 184
       (2020), 35-70.
.. [2] C. Cartis, N. I. M. Gould and P. L. Toint, "Adaptive cubic
       regularisation methods for unconstrained optimization. Part II:
       worst-case function- and derivative-evaluation complexity",
       Math. Program. 130 (2011), 295-319.
.. [3] A. R. Conn, N. I. M. Gould and P. L. Toint, "Trust-Region Methods",
       SIAM (2000), ch. 6.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import check_scalar
from .subproblems import Step

__all__ = ["TrustRegionPolicy", "CubicRegularizationPolicy"]

_EPS = np.finfo(np.float64).eps


class _RatioPolicy:
    """Thresholds and factors of the ratio test, shared by both policies."""

    parameter_name = ""
    uses = ""

    def __init__(self, eta1: Any, eta2: Any, gamma1: Any, gamma2: Any) -> None:
        self.eta1 = check_scalar(eta1, "eta1", low=0, high=1, low_inclusive=False,
                                 high_inclusive=False)
        self.eta2 = check_scalar(eta2, "eta2", low=0, high=self.eta1, low_inclusive=False)
        self.gamma1 = check_scalar(gamma1, "gamma1", low=1, low_inclusive=False)
        self.gamma2 = check_scalar(gamma2, "gamma2", low=1)
        self.value = math.nan

    def check_subproblem(self, solver: Any) -> None:
        """Refuse a sub-problem solver that cannot minimise this policy's model.

        Parameters
        ----------
        solver : Subproblem
            A solver instance (or class).

        Raises
        ------
        ValueError
            If the solver lacks the needed ``supports_*`` flag.

        Examples
        --------
        >>> from randopt.optimize.subproblems import CGSteihaug
        >>> TrustRegionPolicy().check_subproblem(CGSteihaug())  # no error
        """
        if not getattr(solver, self.uses):
            label = getattr(solver, "name", None) or type(solver).__name__
            raise ValueError(
                f"subproblem {label!r} cannot solve {self._model_name} sub-problems"
                f"{self._alternatives}"
            )

    def accepts(self, rho: float) -> bool:
        """Whether a step with ratio ``rho`` is accepted (``rho >= eta2``).

        Parameters
        ----------
        rho : float
            Actual over predicted decrease.

        Returns
        -------
        bool
            ``rho >= eta2``.

        Examples
        --------
        >>> TrustRegionPolicy().accepts(0.5), TrustRegionPolicy().accepts(-1.0)
        (True, False)
        """
        return bool(rho >= self.eta2)


class TrustRegionPolicy(_RatioPolicy):
    """Trust-region radius, its update, and trust-region steps.

    Parameters
    ----------
    radius : float, default=10.0
        Initial radius (> 0, finite).
    max_radius : float, default=inf
        Upper bound of the radius (``>= radius``).
    eta1, eta2 : float, default=0.8, 1e-4
        Ratio thresholds, ``0 < eta2 <= eta1 < 1``.
    gamma1, gamma2 : float, default=2.0, 1.2
        Factors, ``gamma1 > 1``, ``gamma2 >= 1`` (see the module docstring).

    Attributes
    ----------
    value : float
        The current radius (``nan`` until :meth:`start`).

    References
    ----------
    .. [1] P. Xu, F. Roosta and M. W. Mahoney, "Newton-type methods for
           non-convex optimization under inexact Hessian information",
           Math. Program. 184 (2020), Algorithm 1.

    Examples
    --------
    >>> policy = TrustRegionPolicy(radius=1.0)
    >>> policy.start()
    >>> [policy.update(rho) for rho in (0.9, 0.5, -1.0)], policy.value
    ([True, True, False], 1.2)
    """

    parameter_name = "radius"
    uses = "supports_trust_region"
    _model_name = "trust-region"
    _alternatives = ""

    def __init__(
        self,
        radius: float = 10.0,
        max_radius: float = math.inf,
        eta1: float = 0.8,
        eta2: float = 1e-4,
        gamma1: float = 2.0,
        gamma2: float = 1.2,
    ) -> None:
        super().__init__(eta1, eta2, gamma1, gamma2)
        self.radius0 = check_scalar(radius, "radius", low=0, low_inclusive=False)
        self.max_radius = check_scalar(max_radius, "max_radius", low=self.radius0,
                                       allow_inf=True)

    def start(self) -> None:
        """Reset the radius to its initial value (the loop calls this once per run).

        Examples
        --------
        >>> p = TrustRegionPolicy(radius=3.0); p.start(); p.value
        3.0
        """
        self.value = self.radius0

    def step(self, solver: Any) -> Step:
        """Ask a solver bound to the current model for a trust-region step.

        Parameters
        ----------
        solver : Subproblem
            Bound by ``set_model`` to the current gradient and Hessian.

        Returns
        -------
        Step
            ``solver.solve(radius=value)``.

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import HessianModel
        >>> from randopt.optimize.subproblems import CGSteihaug
        >>> p = TrustRegionPolicy(radius=0.5); p.start()
        >>> sub = CGSteihaug().set_model(np.ones(1), HessianModel(1, 1, matrix=np.eye(1)))
        >>> p.step(sub).s.tolist()
        [-0.5]
        """
        return solver.solve(radius=self.value)

    def eigen_step(self, g: np.ndarray, lam: float, u: np.ndarray) -> tuple[np.ndarray, float]:
        """Step to the boundary along a unit direction of negative curvature.

        Parameters
        ----------
        g : ndarray of shape (d,)
            Gradient.
        lam : float
            ``u^T H u < 0``, the curvature along ``u``.
        u : ndarray of shape (d,)
            Unit vector with ``u^T g <= 0``.

        Returns
        -------
        s : ndarray of shape (d,)
            ``radius * u``.
        decrease : float
            ``-m(s) = -(g^T s + lam radius^2 / 2) > 0``.

        Examples
        --------
        >>> import numpy as np
        >>> p = TrustRegionPolicy(radius=2.0); p.start()
        >>> s, decrease = p.eigen_step(np.zeros(2), -1.0, np.array([0.0, 1.0]))
        >>> s.tolist(), decrease
        ([0.0, 2.0], 2.0)
        """
        t = self.value
        s = t * u
        return s, -(float(g @ s) + 0.5 * lam * t * t)

    def update(self, rho: float) -> bool:
        """Update the radius from the ratio ``rho``; return whether the step is accepted.

        Parameters
        ----------
        rho : float
            Actual over predicted decrease (``-inf`` for a non-finite trial value).

        Returns
        -------
        bool
            Whether the step is accepted (``rho >= eta2``).

        Examples
        --------
        >>> p = TrustRegionPolicy(radius=1.0); p.start()
        >>> p.update(0.0), p.value
        (False, 0.5)
        """
        accepted = self.accepts(rho)
        if not accepted:
            self.value /= self.gamma1
        elif rho < self.eta1:
            self.value = min(self.value * self.gamma2, self.max_radius)
        else:
            self.value = min(self.value * self.gamma1, self.max_radius)
        return accepted

    def exhausted(self, x_norm: float) -> bool:
        """Whether the radius fell below machine precision relative to ``x``.

        Parameters
        ----------
        x_norm : float
            ``||x||`` of the current iterate.

        Returns
        -------
        bool
            ``radius <= eps * max(1, ||x||)``: no step can change ``x``.

        Examples
        --------
        >>> p = TrustRegionPolicy(radius=1e-17); p.start(); p.exhausted(1.0)
        True
        """
        return bool(self.value <= _EPS * max(1.0, x_norm))


class CubicRegularizationPolicy(_RatioPolicy):
    """Cubic weight ``sigma``, its update, and cubic-regularisation steps (ARC).

    Parameters
    ----------
    sigma0 : float, default=1e-4
        Initial weight (> 0, finite).
    sigma_min : float, default=1e-16
        Lower floor of ``sigma`` (``0 <= sigma_min <= sigma0``), as in
        Cartis, Gould and Toint's ARC (``sigma_min > 0`` in their
        complexity analysis).
    max_sigma : float, default=inf
        Upper bound of ``sigma`` (``>= sigma0``).
    eta1, eta2 : float, default=0.8, 1e-4
        Ratio thresholds, ``0 < eta2 <= eta1 < 1``.
    gamma1, gamma2 : float, default=2.0, 1.2
        Factors, ``gamma1 > 1``, ``gamma2 >= 1`` (see the module docstring).

    Attributes
    ----------
    value : float
        The current ``sigma`` (``nan`` until :meth:`start`).

    References
    ----------
    .. [1] C. Cartis, N. I. M. Gould and P. L. Toint, "Adaptive cubic
           regularisation methods for unconstrained optimization. Part I",
           Math. Program. 127 (2011), 245-295.
    .. [2] P. Xu, F. Roosta and M. W. Mahoney, "Newton-type methods for
           non-convex optimization under inexact Hessian information",
           Math. Program. 184 (2020), Algorithm 2.

    Examples
    --------
    >>> policy = CubicRegularizationPolicy(sigma0=1.0, sigma_min=0.4)
    >>> policy.start()
    >>> [policy.update(rho) for rho in (0.9, 0.9, -1.0)], policy.value
    ([True, True, False], 0.8)
    """

    parameter_name = "sigma"
    uses = "supports_cubic"
    _model_name = "cubic"
    _alternatives = "; use 'lanczos', 'exact' or 'cauchy'"

    def __init__(
        self,
        sigma0: float = 1e-4,
        sigma_min: float = 1e-16,
        max_sigma: float = math.inf,
        eta1: float = 0.8,
        eta2: float = 1e-4,
        gamma1: float = 2.0,
        gamma2: float = 1.2,
    ) -> None:
        super().__init__(eta1, eta2, gamma1, gamma2)
        self.sigma0 = check_scalar(sigma0, "sigma0", low=0, low_inclusive=False)
        self.sigma_min = check_scalar(sigma_min, "sigma_min", low=0, high=self.sigma0)
        self.max_sigma = check_scalar(max_sigma, "max_sigma", low=self.sigma0, allow_inf=True)

    def start(self) -> None:
        """Reset ``sigma`` to ``sigma0`` (the loop calls this once per run).

        Examples
        --------
        >>> p = CubicRegularizationPolicy(sigma0=2.0); p.start(); p.value
        2.0
        """
        self.value = self.sigma0

    def step(self, solver: Any) -> Step:
        """Ask a solver bound to the current model for a cubic-regularisation step.

        Parameters
        ----------
        solver : Subproblem
            Bound by ``set_model`` to the current gradient and Hessian.

        Returns
        -------
        Step
            ``solver.solve(sigma=value)``.

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import HessianModel
        >>> from randopt.optimize.subproblems import ExactSubproblem
        >>> p = CubicRegularizationPolicy(sigma0=1.0); p.start()
        >>> H = HessianModel(1, 1, matrix=np.eye(1))
        >>> sub = ExactSubproblem().set_model(np.array([2.0]), H)
        >>> np.round(p.step(sub).s, 12).tolist()
        [-1.0]
        """
        return solver.solve(sigma=self.value)

    def eigen_step(self, g: np.ndarray, lam: float, u: np.ndarray) -> tuple[np.ndarray, float]:
        """The minimiser of the cubic model along a direction of negative curvature.

        Parameters
        ----------
        g : ndarray of shape (d,)
            Gradient.
        lam : float
            ``u^T H u < 0``, the curvature along ``u``.
        u : ndarray of shape (d,)
            Unit vector with ``u^T g <= 0``.

        Returns
        -------
        s : ndarray of shape (d,)
            ``t u`` with ``t = -lam / sigma``, which minimises
            ``lam t^2 / 2 + sigma t^3 / 3``.
        decrease : float
            ``-m(s) = -(g^T s + lam t^2 / 2 + sigma t^3 / 3) > 0``.

        Examples
        --------
        >>> import numpy as np
        >>> p = CubicRegularizationPolicy(sigma0=1.0); p.start()
        >>> s, decrease = p.eigen_step(np.zeros(1), -3.0, np.array([1.0]))
        >>> s.tolist(), decrease  # t = 3: 9 * 3 / 2 - 27 / 3
        ([3.0], 4.5)
        """
        t = -lam / self.value
        s = t * u
        return s, -(float(g @ s) + 0.5 * lam * t * t + self.value * t**3 / 3.0)

    def update(self, rho: float) -> bool:
        """Update ``sigma`` from the ratio ``rho``; return whether the step is accepted.

        Parameters
        ----------
        rho : float
            Actual over predicted decrease (``-inf`` for a non-finite trial value).

        Returns
        -------
        bool
            Whether the step is accepted (``rho >= eta2``).

        Examples
        --------
        >>> p = CubicRegularizationPolicy(sigma0=1.0); p.start()
        >>> p.update(0.0), p.value
        (False, 2.0)
        """
        accepted = self.accepts(rho)
        if not accepted:
            self.value = min(self.value * self.gamma1, self.max_sigma)
        elif rho < self.eta1:
            self.value = max(self.value / self.gamma2, self.sigma_min)
        else:
            self.value = max(self.value / self.gamma1, self.sigma_min)
        return accepted

    def exhausted(self, x_norm: float) -> bool:
        """Whether ``sigma`` overflowed (steps can no longer be computed).

        Parameters
        ----------
        x_norm : float
            ``||x||`` of the current iterate (unused: ``sigma`` has no scale of ``x``).

        Returns
        -------
        bool
            ``sigma`` is infinite.

        Examples
        --------
        >>> p = CubicRegularizationPolicy(); p.start(); p.exhausted(1.0)
        False
        """
        return not math.isfinite(self.value)
