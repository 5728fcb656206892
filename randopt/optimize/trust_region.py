"""Trust-region Newton method with a sub-sampled (inexact) Hessian.

At ``x_k`` with gradient ``g_k`` and a Hessian ``H_k`` estimated from a row
sample, solve (approximately) ``min g^T s + s^T H_k s / 2`` over
``||s|| <= radius`` and accept ``x_k + s`` when the actual/predicted
reduction ratio ``rho >= eta2``. Defaults are those of the reference code
of Xu, Roosta and Mahoney [1]_: initial radius 10; ``rho < 1e-4`` rejects
and halves the radius, ``1e-4 <= rho < 0.8`` accepts and multiplies it by
1.2, ``rho >= 0.8`` doubles it; CG-Steihaug to relative residual ``1e-9`` or
250 products (``subproblem_tol="auto"`` keeps that ``1e-9`` with the papers'
numeric sample sizes and on explicit matrices, and uses Eisenstat-Walker's
forcing term on models used through products with the default ``"auto"``
size: :func:`randopt.optimize.forcing.resolve_subproblem_tol`).
With a Hessian accurate to ``epsilon`` on each step (which uniform or
non-uniform sampling achieves with high probability for
``|S| = O(epsilon^-2 log d)``, [1]_ Lemmas 16-17), the method reaches an
``(eps_g, eps_H)`` second-order point in ``O(max(eps_g^-2 eps_H^-1, eps_H^-3))``
iterations, the complexity of exact TR. The sample size defaults to
``"auto"`` (:class:`randopt.optimize.AdaptiveSampleSize`: a cost model and a
growth rule); the papers' fixed 5% is ``hessian_sample_size=0.05``.

The loop is :func:`randopt.optimize.newton_loop` with a
:class:`TrustRegionPolicy`, defined here with the method (as SciPy keeps a
sub-problem class beside its method); the options shared with the other
solvers are documented once (:mod:`randopt.optimize._options`).

Stopping rules: ``||g|| <= gtol`` (with ``curvature_tol``: and
``lambda_min(H) >= -curvature_tol``, else a step along the leftmost
eigenvector), ``max_iter`` trial steps, ``max_props`` propagations,
``max_time`` seconds, a radius below machine precision, or a callback that
raises ``StopIteration`` or returns True.

References
----------
.. [1] P. Xu, F. Roosta and M. W. Mahoney, "Newton-type methods for non-convex
       optimization under inexact Hessian information", Math. Program. 184
       (2020), 35-70.
.. [2] A. R. Conn, N. I. M. Gould and P. L. Toint, "Trust-Region Methods",
       SIAM (2000).
.. [3] J. Nocedal and S. J. Wright, "Numerical Optimization", 2nd ed. (2006),
       ch. 4 and Algorithm 7.2.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

from .._validation import check_scalar
from ._options import fill_doc
from .loop import RatioTestPolicy, newton_loop
from .subproblems import Step

__all__ = ["trust_region", "TrustRegionPolicy"]


@fill_doc
def trust_region(
    objective: Any,
    x0: Any,
    *,
    hessian_sampling: str = "auto",
    hessian_sample_size: int | float | str = "auto",
    gradient_sample_size: int | float | None = None,
    subproblem: Any = "cg",
    radius: float = 10.0,
    max_radius: float = math.inf,
    eta1: float = 0.8,
    eta2: float = 1e-4,
    gamma1: float = 2.0,
    gamma2: float = 1.2,
    gtol: float = 1e-6,
    curvature_tol: float | None = None,
    max_iter: int = 1000,
    max_props: float = math.inf,
    max_time: float = math.inf,
    subproblem_tol: Any = "auto",
    subproblem_max_iter: int = 250,
    hessian_mode: str = "auto",
    preconditioner: Any = None,
    callback: Callable[[np.ndarray, dict], Any] | None = None,
    random_state: Any = None,
) -> OptimizeResult:
    """Minimise a finite sum by trust region with a sub-sampled Hessian.

    Parameters
    ----------
    objective : Objective or tuple
        A :mod:`randopt.oracles` objective (a finite sum such as
        ``LogisticObjective``, or ``CallableObjective(fun, grad, hessp,
        n_features=d)``), or a plain tuple ``(fun, grad, hessp)`` of callables
        as in ``scipy.optimize.minimize``.
    %(x0)s
    %(hessian_sampling)s
    hessian_sample_size : "auto", int or float, default="auto"
        Rows per Hessian sample: a count in ``[1, n]`` or a fraction in
        ``(0, 1]`` (the papers use 0.05), or
        %(auto_sample_size)s
    %(gradient_sample_size)s
    subproblem : str, Subproblem class or instance, default="cg"
        ``"cg"`` (CG-Steihaug), ``"lanczos"`` (GLTR-type, exact on the Krylov
        space), ``"exact"`` (eigendecomposition: global solution, hard case
        included) or ``"cauchy"`` (Cauchy point); or a solver implementing
        :class:`randopt.optimize.subproblems.Subproblem`.
    radius : float, default=10.0
        Initial trust-region radius (> 0).
    max_radius : float, default=inf
        Largest radius (``>= radius``).
    %(eta1)s
    %(gamma1)s
    %(gtol)s
    %(curvature_tol)s
    %(max_iter)s
    %(max_props)s
    %(max_time)s
    %(subproblem_tol)s
    %(subproblem_max_iter)s
    %(hessian_mode)s
    %(preconditioner)s
    %(callback)s
    %(random_state)s

    Returns
    -------
    %(result)s

    Notes
    -----
    ``props`` counts as the paper does: the gradient of an accepted point
    ``2n``, a trial value ``n``, a Hessian-vector product on ``S`` rows
    ``2|S|``. An explicit sampled Hessian is still charged ``2|S|`` per
    CG/Lanczos step (the reference code's convention); the exact solver
    charges ``d`` products for the matrix. Status codes:
    :data:`randopt.optimize.STATUS_MESSAGES`.

    References
    ----------
    .. [1] P. Xu, F. Roosta and M. W. Mahoney, "Newton-type methods for
           non-convex optimization under inexact Hessian information",
           Math. Program. 184 (2020), 35-70.
    .. [2] J. Nocedal and S. J. Wright, "Numerical Optimization", 2nd ed.
           (2006), ch. 4.
    .. [3] F. Roosta-Khorasani and M. W. Mahoney, "Sub-sampled Newton
           methods", Math. Program. 174 (2019), 293-326 (the ``"auto"``
           sample size).

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.oracles import LogisticObjective
    >>> from randopt.optimize import trust_region
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((2000, 5)); y = (X @ np.ones(5) > 0)
    >>> res = trust_region(LogisticObjective(X, y, alpha=1e-2), np.zeros(5),
    ...                    hessian_sample_size=0.1, random_state=0)
    >>> bool(res.success), res.njev == res.nfev == res.nit + 1
    (True, True)

    The default ``"auto"`` size goes exact on this small problem (2,000 rows
    are below the sample-size floor for ``d = 5``):

    >>> res = trust_region(LogisticObjective(X, y, alpha=1e-2), np.zeros(5), random_state=0)
    >>> bool(res.success), set(res.history["hessian_rows"][1:].tolist())
    (True, {2000})

    A plain tuple of callables works with the defaults (exact Hessian):

    >>> from scipy.optimize import rosen, rosen_der, rosen_hess_prod
    >>> res = trust_region((rosen, rosen_der, rosen_hess_prod), np.zeros(3), gtol=1e-10)
    >>> bool(np.allclose(res.x, 1.0)), res.status
    (True, 0)

    Inexact Newton-CG, Eisenstat-Walker's forcing term on every model (the
    default ``"auto"`` uses it on models used through products), and a
    randomized Nystrom preconditioner (see :mod:`randopt.optimize.forcing`,
    :mod:`randopt.optimize.preconditioning`):

    >>> res = trust_region(LogisticObjective(X, y, alpha=1e-2), np.zeros(5), gtol=1e-8,
    ...                    subproblem_tol="ew", preconditioner="nystrom", random_state=0)
    >>> bool(res.success), int(res.nhev) == int(res.history["hessian_products"].sum())
    (True, True)
    """
    policy = TrustRegionPolicy(radius=radius, max_radius=max_radius, eta1=eta1, eta2=eta2,
                               gamma1=gamma1, gamma2=gamma2)
    return newton_loop(
        objective, x0, policy,
        subproblem=subproblem, hessian_sampling=hessian_sampling,
        hessian_sample_size=hessian_sample_size, gradient_sample_size=gradient_sample_size,
        hessian_mode=hessian_mode, gtol=gtol, curvature_tol=curvature_tol, max_iter=max_iter,
        max_props=max_props, max_time=max_time, subproblem_tol=subproblem_tol,
        subproblem_max_iter=subproblem_max_iter, preconditioner=preconditioner,
        callback=callback, random_state=random_state,
    )


_EPS = np.finfo(np.float64).eps
# A radius grown past float64's range stays at its largest float (a sub-problem
# refuses an infinite radius).
_HUGE = float(np.finfo(np.float64).max)


class TrustRegionPolicy(RatioTestPolicy):
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
            self.value = min(self.value * self.gamma2, self.max_radius, _HUGE)
        else:
            self.value = min(self.value * self.gamma1, self.max_radius, _HUGE)
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
