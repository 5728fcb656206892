"""Trust-region Newton method with a sub-sampled (inexact) Hessian.

At ``x_k`` with gradient ``g_k`` and a Hessian ``H_k`` estimated from a row
sample, solve (approximately) ``min g^T s + s^T H_k s / 2`` over
``||s|| <= radius`` and accept ``x_k + s`` when the actual/predicted
reduction ratio ``rho >= eta2``. Defaults are those of the reference code
of Xu, Roosta and Mahoney [1]_: initial radius 10; ``rho < 1e-4`` rejects
and halves the radius, ``1e-4 <= rho < 0.8`` accepts and multiplies it by
1.2, ``rho >= 0.8`` doubles it; CG-Steihaug to relative residual ``1e-9`` or
250 products. With a Hessian accurate to ``epsilon`` on each step (which
uniform or non-uniform sampling achieves with high probability for
``|S| = O(epsilon^-2 log d)``, [1]_ Lemmas 16-17), the method reaches an
``(eps_g, eps_H)`` second-order point in ``O(max(eps_g^-2 eps_H^-1, eps_H^-3))``
iterations, the complexity of exact TR. The sample size defaults to
``"auto"`` (:class:`randopt.optimize.AdaptiveSampleSize`: a cost model and a
growth rule); the papers' fixed 5% is ``hessian_sample_size=0.05``.

The loop is :func:`randopt.optimize.newton_loop` with a
:class:`randopt.optimize.TrustRegionPolicy`.

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

from .loop import newton_loop
from .policies import TrustRegionPolicy

__all__ = ["trust_region"]


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
    subproblem_tol: float = 1e-9,
    subproblem_max_iter: int = 250,
    hessian_mode: str = "auto",
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
    x0 : array-like of shape (d,)
        Starting point.
    hessian_sampling : {"auto", "uniform", "nonuniform", "full"}, default="auto"
        How the Hessian is estimated at each iterate: uniform rows without
        replacement (averaged), rows drawn with replacement with
        ``p_i ~ |D_i| ||a_i||^2`` (re-weighted by ``1/(s p_i)``), or exact.
        ``"auto"`` is ``"uniform"`` for objectives with rows to sample and
        ``"full"`` for the others (callables, tuples); with
        ``hessian_sample_size="auto"`` a sampling scheme may become exact
        when the schedule says so.
    hessian_sample_size : "auto", int or float, default="auto"
        Rows per Hessian sample: a count in ``[1, n]`` or a fraction in
        ``(0, 1]`` (the papers use 0.05), or ``"auto"``: a schedule
        (:class:`randopt.optimize.AdaptiveSampleSize`) that picks the size
        from a cost model (forming the sampled Hessian against a pass over
        the data), grows it as the gradient falls and after rejected steps,
        and switches to the exact Hessian where that is no dearer (from the
        start for small problems, e.g. ijcnn1, and whenever ``n`` is below
        the sample-size floor ``~8 d ln(20 d)``; such runs draw nothing and
        are deterministic). ``history["hessian_rows"]`` shows the sizes
        used. Ignored by ``"full"``.
    gradient_sample_size : int or float, optional
        Estimate the gradient on a fresh uniform sample of this size too
        (values stay exact, for the acceptance test). Default: full gradient,
        as in the paper.
    subproblem : str, Subproblem class or instance, default="cg"
        ``"cg"`` (CG-Steihaug), ``"lanczos"`` (GLTR-type, exact on the Krylov
        space), ``"exact"`` (eigendecomposition: global solution, hard case
        included) or ``"cauchy"`` (Cauchy point); or a solver implementing
        :class:`randopt.optimize.subproblems.Subproblem`.
    radius : float, default=10.0
        Initial trust-region radius (> 0).
    max_radius : float, default=inf
        Largest radius (``>= radius``).
    eta1, eta2, gamma1, gamma2 : float, default=0.8, 1e-4, 2.0, 1.2
        ``rho < eta2``: reject, radius / gamma1; ``eta2 <= rho < eta1``:
        accept, radius * gamma2; ``rho >= eta1``: accept, radius * gamma1
        (``0 < eta2 <= eta1 < 1``, ``gamma1 > 1``, ``gamma2 >= 1``).
    gtol : float, default=1e-6
        Stop when the gradient norm is at most ``gtol``.
    curvature_tol : float, optional
        Also require ``lambda_min(H) >= -curvature_tol`` (second-order
        stopping); otherwise take a step along the leftmost eigenvector.
    max_iter : int, default=1000
        Maximum trial steps (accepted or not).
    max_props : float, default=inf
        Maximum propagations (see Notes).
    max_time : float, default=inf
        Maximum seconds.
    subproblem_tol : float, default=1e-9
        Relative tolerance of CG/Lanczos on the model gradient, in ``(0, 1)``.
    subproblem_max_iter : int, default=250
        Maximum Hessian-vector products per sub-problem.
    hessian_mode : {"auto", "explicit", "hessp"}, default="auto"
        Form the sampled Hessian as a ``d x d`` matrix (one pass over the
        sample; ``auto`` does so for finite sums with ``d <= 1000`` and
        sub-problem solvers that take many products, never for
        ``matrix_free`` objectives unless the solver needs the matrix), or
        use Hessian-vector products on the sample.
    callback : callable, optional
        ``callback(x, info)`` after every row of the history (``info`` holds
        that row). It returns None, a bool (True stops the solver, status
        99) or a dict whose items become history columns (e.g. test
        accuracy); raising ``StopIteration`` stops the solver too.
    random_state : None, int or numpy.random.Generator
        Source of every random draw (Hessian and gradient samples, Lanczos
        restarts, the ARPACK start vector); a fixed seed gives the same run.

    Returns
    -------
    scipy.optimize.OptimizeResult
        ``x``, ``fun``, ``jac``, ``nit`` (trial steps), ``success``,
        ``status``, ``message``, ``props``, ``time``, ``nfev`` (values
        computed), ``njev`` (gradients computed: one per value, rejected
        trials included), ``nhev`` (Hessian-vector products; an explicit
        matrix for the exact solver or an eigen-step counts ``d``),
        ``hessian_sampling`` and ``history``: a dict of equal-length arrays,
        row 0 the starting point (``accepted`` False, ``step_norm`` 0), one
        row per trial step after it, keyed ``iteration``, ``loss``,
        ``grad_norm``, ``radius``, ``accepted``, ``step_norm``,
        ``inner_iterations``, ``hessian_rows``, ``time`` (seconds since the
        start) and ``props`` (cumulative), plus the callback's keys.

    Notes
    -----
    ``props`` counts as the paper does: the gradient of an accepted point
    ``2n``, a trial value ``n``, a Hessian-vector product on ``S`` rows
    ``2|S|``. An explicit sampled Hessian is still charged ``2|S|`` per
    CG/Lanczos step (the reference code's convention); the exact solver
    charges ``d`` products for the matrix. Status codes:
    :data:`randopt.optimize.loop.STATUS_MESSAGES`.

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
    """
    policy = TrustRegionPolicy(radius=radius, max_radius=max_radius, eta1=eta1, eta2=eta2,
                               gamma1=gamma1, gamma2=gamma2)
    return newton_loop(
        objective, x0, policy,
        subproblem=subproblem, hessian_sampling=hessian_sampling,
        hessian_sample_size=hessian_sample_size, gradient_sample_size=gradient_sample_size,
        hessian_mode=hessian_mode, gtol=gtol, curvature_tol=curvature_tol, max_iter=max_iter,
        max_props=max_props, max_time=max_time, subproblem_tol=subproblem_tol,
        subproblem_max_iter=subproblem_max_iter, callback=callback, random_state=random_state,
    )
