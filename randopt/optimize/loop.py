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
solver's work (factorisations, Krylov bases).

Cost accounting (``props``, the paper's "propagations"): the gradient at an
accepted point ``2 n`` (its value comes from the same pass), the value at a
trial point ``n``, each Hessian-vector product on ``S`` rows ``2 |S|``. The
implementation computes value, gradient and Hessian weights of a trial point
in one fused pass (so a rejected trial wastes one gradient's worth of wall
time, not of props: ``njev`` counts every one of those gradients); an
explicitly formed sampled Hessian is still counted as the ``2 |S|`` per
CG/Lanczos step that the reference code counts, and as ``d`` products when a
solver needs the whole matrix (exact, eigen-steps).

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
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

from .._validation import (
    check_choice,
    check_random_state,
    check_scalar,
    check_vector,
)
from ..oracles import HessianSampler
from ._guards import CheckedHessian, as_objective, check_step
from .history import History
from .subproblems import as_subproblem

__all__ = ["newton_loop", "STATUS_MESSAGES", "EXPLICIT_MAX_DIM"]

#: Largest ``d`` for which ``hessian_mode="auto"`` forms the sampled Hessian.
EXPLICIT_MAX_DIM = 1000

#: ``result.status`` -> ``result.message``.
STATUS_MESSAGES = {
    0: "Optimization terminated successfully: gradient norm <= gtol.",
    1: "Maximum number of iterations (max_iter) reached.",
    2: "Maximum cost (max_props propagations) reached.",
    3: "Maximum time (max_time seconds) reached.",
    4: "Step length fell below machine precision relative to x: no further progress possible.",
    5: "The model predicts no decrease (gradient and negative curvature below precision).",
    99: "The callback requested termination (raised StopIteration or returned True).",
}

_EPS = np.finfo(np.float64).eps
_SCHEMES = ("full", "uniform", "nonuniform")
_POLICY_PROTOCOL = ("parameter_name", "value", "check_subproblem", "start", "step",
                    "eigen_step", "update", "exhausted")


def newton_loop(
    objective: Any,
    x0: Any,
    policy: Any,
    *,
    subproblem: Any = "cg",
    hessian_sampling: str = "auto",
    hessian_sample_size: int | float = 0.05,
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
    hessian_sample_size : int or float, default=0.05
        Rows per Hessian sample (count or fraction).
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
    gtol = check_scalar(gtol, "gtol", low=0)
    curvature_tol = check_scalar(curvature_tol, "curvature_tol", low=0, allow_none=True)
    max_iter = check_scalar(max_iter, "max_iter", kind=int, low=0)
    max_props = check_scalar(max_props, "max_props", low=0, low_inclusive=False, allow_inf=True)
    max_time = check_scalar(max_time, "max_time", low=0, low_inclusive=False, allow_inf=True)
    subproblem_tol = check_scalar(subproblem_tol, "subproblem_tol", low=0, high=1,
                                  low_inclusive=False, high_inclusive=False)
    subproblem_max_iter = check_scalar(subproblem_max_iter, "subproblem_max_iter", kind=int,
                                       low=1)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable(x, info) or None, got {callback!r}")
    plan = _SamplingPlan(objective, solver, hessian_sampling, hessian_sample_size,
                         gradient_sample_size, hessian_mode)

    n = objective.n_samples
    clock = time.perf_counter
    t_start = clock()
    ev = plan.evaluate(x, rng)
    f, g = float(ev.fun), ev.grad
    if not (math.isfinite(f) and np.isfinite(g).all()):
        raise ValueError("the objective or its gradient is not finite at x0; pick another x0")
    gnorm = float(np.linalg.norm(g))
    props = float(plan.grad_cost if plan.grad_sampler is None else n + plan.grad_cost)
    policy.start()
    recorder = _Recorder(policy.parameter_name, callback, t_start)

    def record(it: int, accepted: bool, step_norm: float, inner: int, rows: int) -> bool:
        return recorder.record(x, it=it, loss=f, grad_norm=gnorm, parameter=policy.value,
                               accepted=accepted, step_norm=step_norm, inner=inner, rows=rows,
                               props=props)

    status = 99 if record(0, False, 0.0, 0, 0) else None
    nit = 0
    n_products = 0
    H = None  # the model of the current iterate; None after an accepted step
    eigen = None
    while status is None:
        if gnorm <= gtol and curvature_tol is None:
            status = 0
        elif nit >= max_iter:
            status = 1
        elif props >= max_props:
            status = 2
        elif clock() - t_start >= max_time:
            status = 3
        if status is not None:
            break
        spent = 0
        if H is None:
            H = CheckedHessian.at(objective, ev, plan.sampler.draw(ev, rng), plan.explicit, d)
            solver.set_model(g, H, tol=subproblem_tol, max_iter=subproblem_max_iter,
                             random_state=rng)
            eigen = None
            if gnorm <= gtol:
                # Second-order phase: stop at an (approximate) second-order
                # point, or move along the leftmost eigenvector.
                before = H.n_products
                lam, u = _leftmost_eigenpair(H, rng)
                spent += max(H.n_products - before, 0) or d
                if lam >= -curvature_tol:
                    props += 2 * H.n_rows * spent
                    n_products += spent
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
        props += 2 * rows * spent
        n_products += spent
        step_norm = float(np.linalg.norm(s))
        tiny = step_norm <= _EPS * max(1.0, float(np.linalg.norm(x)))
        if not (decrease > 0) or tiny:
            status = 4 if (tiny and decrease > 0) else 5
            break

        x_trial = x + s
        ev_trial = plan.evaluate(x_trial, rng)
        props += n
        f_trial = float(ev_trial.fun)
        accepted = policy.update(_ratio(f, f_trial, ev_trial.grad, decrease))
        if accepted:
            x, ev = x_trial, ev_trial
            f, g = f_trial, ev.grad
            gnorm = float(np.linalg.norm(g))
            props += plan.grad_cost
            H = None
        nit += 1
        if record(nit, accepted, step_norm, inner, rows):
            status = 99
        elif policy.exhausted(float(np.linalg.norm(x))):
            status = 4

    return OptimizeResult(
        x=x,
        fun=f,
        jac=g,
        nit=nit,
        success=status == 0,
        status=status,
        message=STATUS_MESSAGES[status],
        history=recorder.history.as_dict(),
        props=props,
        time=clock() - t_start,
        nfev=plan.n_evaluations,
        njev=plan.n_evaluations,
        nhev=n_products,
        hessian_sampling=repr(plan.sampler),
    )


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


class _SamplingPlan:
    """The Hessian and gradient samplers, and the form of the Hessian, for one run."""

    def __init__(self, objective, solver, hessian_sampling, hessian_sample_size,
                 gradient_sample_size, hessian_mode) -> None:
        hessian_mode = check_choice(hessian_mode, "hessian_mode", ("auto", "explicit", "hessp"))
        hessian_sampling = check_choice(hessian_sampling, "hessian_sampling",
                                        ("auto", *_SCHEMES))
        can_sample = bool(getattr(objective, "supports_sampling", False))
        if hessian_sampling == "auto":
            hessian_sampling = "uniform" if can_sample else "full"
        self.objective = objective
        self.sampler = HessianSampler(objective, hessian_sampling, hessian_sample_size)
        self.grad_sampler = None
        if gradient_sample_size is not None:
            if not can_sample:
                raise TypeError(
                    f"{type(objective).__name__} has no rows to sample; gradient_sample_size "
                    "needs a finite-sum objective (leave it None)"
                )
            self.grad_sampler = HessianSampler(
                objective, "uniform", gradient_sample_size, name="gradient_sample_size"
            )
        n = objective.n_samples
        self.grad_cost = 2 * (self.grad_sampler.size if self.grad_sampler is not None else n)
        # A small explicit matrix pays when the sub-problem takes many products
        # (CG, Lanczos: microseconds per product instead of a pass over the
        # sample); the Cauchy point takes one product only.
        self.explicit = bool(solver.needs_matrix) or hessian_mode == "explicit" or (
            hessian_mode == "auto" and can_sample and objective.n_features <= EXPLICIT_MAX_DIM
            and bool(getattr(solver, "prefers_matrix", False))
        )
        self.n_evaluations = 0

    def evaluate(self, w: np.ndarray, rng: np.random.Generator) -> Any:
        """Value and (possibly sub-sampled) gradient at ``w``; counts the evaluation."""
        self.n_evaluations += 1
        gs = self.grad_sampler.draw(None, rng) if self.grad_sampler is not None else None
        return self.objective.evaluate(w, gradient_sample=gs)


class _Recorder:
    """The history table and the callback that may extend or stop it."""

    def __init__(self, parameter_name: str, callback: Callable | None, t_start: float) -> None:
        self.parameter_name = parameter_name
        self.callback = callback
        self.t_start = t_start
        self.history = History(
            ("iteration", "loss", "grad_norm", parameter_name, "accepted", "step_norm",
             "inner_iterations", "hessian_rows", "time", "props")
        )

    def record(self, x: np.ndarray, *, it, loss, grad_norm, parameter, accepted, step_norm,
               inner, rows, props) -> bool:
        """Append a history row; True when the callback asks to stop."""
        row = {
            "iteration": it, "loss": loss, "grad_norm": grad_norm,
            self.parameter_name: parameter, "accepted": accepted, "step_norm": step_norm,
            "inner_iterations": inner, "hessian_rows": rows,
            "time": time.perf_counter() - self.t_start, "props": props,
        }
        stop = False
        if self.callback is not None:
            try:
                extra = self.callback(x.copy(), dict(row))
            except StopIteration:
                extra, stop = None, True
            if isinstance(extra, (bool, np.bool_)):
                stop = bool(extra)
            elif isinstance(extra, dict):
                row.update({k: v for k, v in extra.items() if k not in row})
            elif extra is not None:
                raise TypeError(
                    "callback must return None, a bool (True stops the solver) or a dict of "
                    f"extra history columns; got {type(extra).__name__}"
                )
        self.history.append(**row)
        return stop


def _leftmost_eigenpair(H: CheckedHessian, rng: np.random.Generator) -> tuple[float, np.ndarray]:
    """Leftmost eigenpair of a Hessian model (dense eigh, or ARPACK on products)."""
    if H.matrix is not None or H.dim <= 200:
        lam, V = np.linalg.eigh(H.toarray())
        return float(lam[0]), V[:, 0]
    from scipy.sparse.linalg import LinearOperator, eigsh

    op = LinearOperator((H.dim, H.dim), matvec=H.matvec, dtype=np.float64)
    lam, V = eigsh(op, k=1, which="SA", v0=rng.standard_normal(H.dim), tol=1e-8)
    return float(lam[0]), V[:, 0]
