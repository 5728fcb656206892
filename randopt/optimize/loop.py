"""The outer loop shared by the trust-region and the cubic-regularisation methods.

Each iteration tries one step from a model ``m`` built at the current
iterate (gradient, sub-sampled Hessian), evaluates the objective at the trial
point and accepts it when ``rho = (f(x) - f(x + s)) / (-m(s)) >= eta2``. What
differs between the methods (the radius or the cubic weight, its update, the
step asked of the sub-problem solver, the step along negative curvature) is
a *policy* (:mod:`randopt.optimize.policies`), as SciPy's
``_trustregion.py`` keeps one loop for its sub-problem classes. The Hessian
sample is drawn once per iterate and reused after rejected steps, as in the
reference code of Xu, Roosta and Mahoney [1]_; so is the sub-problem
solver's work (factorisations, Krylov bases). Its size is fixed
(``hessian_sample_size`` a count or a fraction, the papers' setting) or
chosen at every iterate by an :class:`~randopt.optimize.AdaptiveSampleSize`
(``"auto"``, the default), which the loop tells every trial's outcome;
with ``"auto"`` a model that predicted an accepted step well is also kept at
the next iterate, while it costs several passes to form (lazy Hessians,
rule 7 of :mod:`randopt.optimize.sample_size`): the gradient stays exact, a
rejection refreshes the model, and the history's ``hessian_reused`` column
marks the trials made on a reused model.

Cost accounting (``props``, the paper's "propagations"): the gradient at an
accepted point ``2 n`` (its value comes from the same pass), the value at a
trial point ``n``, each Hessian-vector product on ``S`` rows ``2 |S|``. The
implementation computes value, gradient and Hessian weights of a trial point
in one fused pass (so a rejected trial wastes one gradient's worth of wall
time, not of props: ``njev`` counts every one of those gradients); an
explicitly formed sampled Hessian is still counted as the ``2 |S|`` per
CG/Lanczos step that the reference code counts, and as ``d`` products when a
solver needs the whole matrix (exact, eigen-steps). A reused model costs no
formation (none is counted anyway); its products count ``2 |S|`` each.

Status codes (``result.status``): see :data:`STATUS_MESSAGES`.

References
----------
.. [1] P. Xu, F. Roosta and M. W. Mahoney, "Newton-type methods for non-convex
       optimization under inexact Hessian information", Math. Program. 184
       (2020), 35-70.
.. [2] A. R. Conn, N. I. M. Gould and P. L. Toint, "Trust-Region Methods",
       SIAM (2000), 17.4.2 (the ratio test at round-off level).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

from .._validation import (
    check_random_state,
    check_scalar,
    check_vector,
)
from ._guards import CheckedHessian, as_objective, check_step
from ._machinery import EXPLICIT_MAX_DIM, STATUS_MESSAGES, Run, _SamplingPlan, check_stopping
from .subproblems import as_subproblem

__all__ = ["newton_loop", "STATUS_MESSAGES", "EXPLICIT_MAX_DIM"]

_EPS = np.finfo(np.float64).eps
_POLICY_PROTOCOL = ("parameter_name", "value", "check_subproblem", "start", "step",
                    "eigen_step", "update", "exhausted")


def newton_loop(
    objective: Any,
    x0: Any,
    policy: Any,
    *,
    subproblem: Any = "cg",
    hessian_sampling: str = "auto",
    hessian_sample_size: int | float | str = "auto",
    gradient_sample_size: int | float | None = None,
    hessian_mode: str = "auto",
    gtol: float = 1e-6,
    curvature_tol: float | None = None,
    max_iter: int = 1000,
    max_props: float = math.inf,
    max_time: float = math.inf,
    subproblem_tol: float = 1e-9,
    subproblem_max_iter: int = 250,
    callback: Callable[[np.ndarray, dict], Any] | None = None,
    random_state: Any = None,
) -> OptimizeResult:
    """Minimise an objective with sub-sampled Newton steps under a step-size policy.

    :func:`randopt.optimize.trust_region` and :func:`randopt.optimize.arc`
    are this loop with a :class:`~randopt.optimize.TrustRegionPolicy` or a
    :class:`~randopt.optimize.CubicRegularizationPolicy`; their docstrings
    describe every option in full.

    Parameters
    ----------
    objective : Objective or tuple
        A :mod:`randopt.oracles` objective, or ``(fun, grad[, hessp])``.
    x0 : array-like of shape (d,)
        Starting point.
    policy : TrustRegionPolicy or CubicRegularizationPolicy
        The step-size policy (reset to its initial parameter at the start).
    subproblem : str, class or instance, default="cg"
        Sub-problem solver (:func:`randopt.optimize.subproblems.as_subproblem`).
    hessian_sampling : {"auto", "full", "uniform", "nonuniform"}, default="auto"
        ``"auto"``: ``"uniform"`` for objectives with rows to sample, else ``"full"``.
    hessian_sample_size : "auto", int or float, default="auto"
        Rows per Hessian sample (count or fraction), or ``"auto"``: an
        :class:`~randopt.optimize.AdaptiveSampleSize` schedule (which may
        switch to the exact Hessian).
    gradient_sample_size : int or float, optional
        Rows of a uniform gradient sample per evaluation (default: full gradient).
    hessian_mode : {"auto", "explicit", "hessp"}, default="auto"
        Explicit sampled Hessian or products on the sample.
    gtol : float, default=1e-6
        Gradient-norm tolerance (>= 0).
    curvature_tol : float, optional
        Second-order tolerance on ``lambda_min(H)`` (>= 0).
    max_iter : int, default=1000
        Maximum trial steps (>= 0).
    max_props : float, default=inf
        Maximum propagations (> 0).
    max_time : float, default=inf
        Maximum seconds (> 0).
    subproblem_tol : float, default=1e-9
        Relative tolerance of the sub-problem solver, in ``(0, 1)``.
    subproblem_max_iter : int, default=250
        Maximum products per sub-problem (>= 1).
    callback : callable, optional
        ``callback(x, info)`` returning None, a bool (True stops) or a dict
        of extra history columns; raising ``StopIteration`` stops too.
    random_state : None, int or numpy.random.Generator
        Source of every random draw (samples, Lanczos restarts, ARPACK start).

    Returns
    -------
    scipy.optimize.OptimizeResult
        ``x``, ``fun``, ``jac``, ``nit`` (trial steps), ``nfev`` (values),
        ``njev`` (gradients: every evaluation computes one), ``nhev``
        (Hessian-vector products, an explicit matrix counting ``d``),
        ``status``, ``message``, ``success``, ``props``, ``time``,
        ``history`` and ``hessian_sampling`` (the resolved sampler).

    References
    ----------
    .. [1] P. Xu, F. Roosta and M. W. Mahoney, "Newton-type methods for
           non-convex optimization under inexact Hessian information",
           Math. Program. 184 (2020), 35-70.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.optimize import TrustRegionPolicy, newton_loop
    >>> A = np.array([[3.0, 1.0], [1.0, 2.0]]); b = np.array([1.0, -1.0])
    >>> res = newton_loop((lambda x: 0.5 * x @ A @ x - b @ x, lambda x: A @ x - b,
    ...                    lambda x, v: A @ v), np.zeros(2), TrustRegionPolicy(), gtol=1e-12)
    >>> bool(np.allclose(res.x, np.linalg.solve(A, b), atol=1e-12)), res.status
    (True, 0)
    """
    objective = as_objective(objective, x0)
    d = objective.n_features
    x = check_vector(x0, "x0", size=d).copy()
    rng = check_random_state(random_state)
    missing = [a for a in _POLICY_PROTOCOL if not hasattr(policy, a)]
    if missing:
        raise TypeError(
            "policy must be a TrustRegionPolicy or a CubicRegularizationPolicy (or offer "
            f"{', '.join(_POLICY_PROTOCOL)}); {type(policy).__name__} lacks {', '.join(missing)}"
        )
    solver = as_subproblem(subproblem)
    policy.check_subproblem(solver)
    gtol, max_iter, max_props, max_time = check_stopping(gtol, max_iter, max_props, max_time,
                                                         callback)
    curvature_tol = check_scalar(curvature_tol, "curvature_tol", low=0, allow_none=True)
    subproblem_tol = check_scalar(subproblem_tol, "subproblem_tol", low=0, high=1,
                                  low_inclusive=False, high_inclusive=False)
    subproblem_max_iter = check_scalar(subproblem_max_iter, "subproblem_max_iter", kind=int,
                                       low=1)
    plan = _SamplingPlan(objective, solver, hessian_sampling, hessian_sample_size,
                         gradient_sample_size, hessian_mode, subproblem_max_iter)

    n = objective.n_samples
    run = Run(plan, policy.parameter_name, callback, gtol=gtol, max_iter=max_iter,
              max_props=max_props, max_time=max_time)
    ev, f, g, gnorm = run.start(x, rng)
    policy.start()

    def record(accepted: bool, step_norm: float, inner: int, rows: int,
               reused: bool = False) -> bool:
        return run.recorder.record(x, it=run.nit, loss=f, grad_norm=gnorm,
                                   parameter=policy.value, accepted=accepted,
                                   step_norm=step_norm, inner=inner, rows=rows,
                                   reused=reused, props=run.props)

    status = 99 if record(False, 0.0, 0, 0) else None
    H = None  # the model of the current iterate; None when a fresh one is due
    reused = False  # whether H was formed at an earlier iterate
    eigen = None
    while status is None:
        status = run.stop_status(gnorm <= gtol and curvature_tol is None)
        if status is not None:
            break
        spent = 0
        if H is None:
            H = CheckedHessian.at(objective, ev, plan.hessian_sample(ev, rng), plan.explicit, d)
            solver.set_model(g, H, tol=subproblem_tol, max_iter=subproblem_max_iter,
                             random_state=rng)
            eigen = None
            if gnorm <= gtol:
                # Second-order phase: stop at an (approximate) second-order
                # point, or move along the leftmost eigenvector.
                before = H.n_products
                lam, u = _leftmost_eigenpair(H, rng, plan.matrix_free)
                spent += max(H.n_products - before, 0) or d
                if lam >= -curvature_tol:
                    run.props += 2 * H.n_rows * spent
                    run.n_products += spent
                    status = 0
                    break
                eigen = (lam, u if float(u @ g) <= 0 else -u)
        if eigen is not None:
            s, decrease = policy.eigen_step(g, *eigen)
            inner = 1
        else:
            step = check_step(policy.step(solver), d, solver)
            s, decrease, inner = step.s, step.decrease, step.n_iter
            spent += step.n_products
        rows = H.n_rows
        run.props += 2 * rows * spent
        run.n_products += spent
        step_norm = float(np.linalg.norm(s))
        tiny = step_norm <= _EPS * max(1.0, float(np.linalg.norm(x)))
        if not (decrease > 0) or tiny:
            status = 4 if (tiny and decrease > 0) else 5
            break

        x_trial = x + s
        ev_trial = plan.evaluate(x_trial, rng)
        run.props += n
        f_trial = float(ev_trial.fun)
        rho = _ratio(f, f_trial, ev_trial.grad, decrease)
        accepted = policy.update(rho)
        if accepted:
            x, ev = x_trial, ev_trial
            f, g = f_trial, ev.grad
            gnorm = float(np.linalg.norm(g))
            run.props += plan.grad_cost
        plan.observe(rho, accepted, gnorm, spent, step_norm)
        was_reused = reused
        if accepted:
            # a lazy Hessian: keep the model (and the solver's matrix) at the
            # new iterate when the schedule says so; the gradient is fresh
            reused = gnorm > gtol and plan.reuse()
            if reused:
                solver.set_model(g, H, tol=subproblem_tol, max_iter=subproblem_max_iter,
                                 random_state=rng)
            else:
                H = None
        elif was_reused or plan.grew():
            # a stale model failed, or a rejection grew the sample: a fresh
            # model at the same iterate
            H, reused = None, False
        run.nit += 1
        if record(accepted, step_norm, inner, rows, was_reused):
            status = 99
        elif policy.exhausted(float(np.linalg.norm(x))):
            status = 4

    return run.result(x, f, g, status)


def _ratio(f: float, f_trial: float, grad_trial: np.ndarray, decrease: float) -> float:
    """``rho``: actual over predicted decrease, ``-inf`` at a non-finite trial point."""
    if not math.isfinite(f_trial) or not np.isfinite(grad_trial).all():
        return -math.inf
    actual = f - f_trial
    # Below round-off both reductions are noise: accept a step that does not
    # increase f beyond that noise (Conn, Gould & Toint, 17.4.2).
    noise = 10.0 * _EPS * max(1.0, abs(f))
    if decrease <= noise:
        return 1.0 if actual >= -noise else -1.0
    return actual / decrease


def _leftmost_eigenpair(H: CheckedHessian, rng: np.random.Generator,
                        matrix_free: bool = False) -> tuple[float, np.ndarray]:
    """Leftmost eigenpair of a Hessian model (dense eigh, or ARPACK on products).

    A small model is formed and factorised, unless the objective is matrix
    free (forming it would cost ``d`` products: ARPACK takes fewer).
    """
    if H.matrix is not None or H.dim <= 2 or (H.dim <= 200 and not matrix_free):
        lam, V = np.linalg.eigh(H.toarray())
        return float(lam[0]), V[:, 0]
    from scipy.sparse.linalg import LinearOperator, eigsh

    op = LinearOperator((H.dim, H.dim), matvec=H.matvec, dtype=np.float64)
    lam, V = eigsh(op, k=1, which="SA", v0=rng.standard_normal(H.dim), tol=1e-8)
    return float(lam[0]), V[:, 0]
