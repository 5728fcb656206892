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

Each policy lives with its method (:class:`TrustRegionPolicy` in
:mod:`randopt.optimize.trust_region`, :class:`CubicRegularizationPolicy` in
:mod:`randopt.optimize.arc`, their shared ratio test in
:mod:`randopt.optimize.loop`), as SciPy keeps a sub-problem class beside its
method; this module keeps their documented path.
"""

from .arc import CubicRegularizationPolicy
from .trust_region import TrustRegionPolicy

__all__ = ["TrustRegionPolicy", "CubicRegularizationPolicy"]
