"""The outer loop shared by the trust-region and the cubic-regularisation solvers.

Each iteration tries one step from a model ``m`` built at the current
iterate (gradient, sub-sampled Hessian), evaluates the objective at the trial
point and accepts it when ``rho = (f(x) - f(x + s)) / (-m(s)) >= eta2``. The
Hessian sample is drawn once per iterate and reused after rejected steps, as
in the reference code of Xu, Roosta and Mahoney; so are the sub-problem
solver's factorisations or Krylov bases.

Cost accounting (``props``, the paper's "propagations"): the gradient at an
accepted point ``2 n`` (its value comes from the same pass), the value at a
trial point ``n``, each Hessian-vector product on ``S`` rows ``2 |S|``. The
implementation computes value, gradient and Hessian weights of a trial point
in one fused pass (so a rejected trial wastes one gradient's worth of wall
time, not of props); an explicitly formed sampled Hessian is still counted as
the ``2 |S|`` per CG/Lanczos step that the reference code counts, and as
``d`` products when a solver needs the whole matrix (exact, eigen-steps).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

from .._validation import check_positive_int, check_random_state, check_vector
from ..oracles.base import CallableObjective, Evaluation, FiniteSum, HessianModel, Objective
from ..oracles.hessian_sampling import HessianSampler
from .history import History
from .subproblems import SUBPROBLEMS

__all__ = ["run", "STATUS_MESSAGES", "EXPLICIT_MAX_DIM"]

EXPLICIT_MAX_DIM = 1000

STATUS_MESSAGES = {
    0: "Optimization terminated successfully: gradient norm <= gtol.",
    1: "Maximum number of iterations (max_iter) reached.",
    2: "Maximum cost (max_props propagations) reached.",
    3: "Maximum time (max_time seconds) reached.",
    4: "Step length fell below machine precision relative to x: no further progress possible.",
    5: "The model predicts no decrease (gradient and negative curvature below precision).",
    99: "The callback requested termination (raised StopIteration).",
}

_EPS = np.finfo(np.float64).eps


def _check_positive(value: Any, name: str, *, allow_inf: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}") from None
    if math.isnan(v) or v <= 0 or (math.isinf(v) and not allow_inf):
        kind = "number" if allow_inf else "finite number"
        raise ValueError(f"{name} must be a positive {kind}, got {value!r}")
    return v


def _leftmost(H: HessianModel, rng: np.random.Generator) -> tuple[float, np.ndarray]:
    """Leftmost eigenpair of a Hessian model (dense eigh, or ARPACK on products)."""
    if H.matrix is not None or H.dim <= 200:
        lam, V = np.linalg.eigh(H.toarray())
        return float(lam[0]), V[:, 0]
    from scipy.sparse.linalg import LinearOperator, eigsh

    op = LinearOperator((H.dim, H.dim), matvec=H.matvec, dtype=np.float64)
    lam, V = eigsh(op, k=1, which="SA", v0=rng.standard_normal(H.dim), tol=1e-8)
    return float(lam[0]), V[:, 0]


def run(
    method: str,
    objective: Objective,
    x0: Any,
    *,
    hessian_sampling: str,
    hessian_sample_size: Any,
    gradient_sample_size: Any,
    subproblem: str,
    param0: float,
    param_max: float,
    eta1: float,
    eta2: float,
    gamma1: float,
    gamma2: float,
    gtol: float,
    curvature_tol: float | None,
    max_iter: int,
    max_props: float,
    max_time: float,
    subproblem_tol: float,
    subproblem_maxiter: int,
    hessian_mode: str,
    callback: Callable | None,
    random_state: Any,
) -> OptimizeResult:
    """Run TR (``method="tr"``, ``param`` = radius) or ARC (``"arc"``, sigma)."""
    if isinstance(objective, tuple) and 2 <= len(objective) <= 3 and all(
        callable(f) or f is True for f in objective
    ):
        # (fun, grad[, hessp]) like scipy's callables
        d0 = np.asarray(x0).reshape(-1).shape[0]
        fun, grad, *rest = objective
        objective = CallableObjective(fun, grad, hessp=rest[0] if rest else None, n_features=d0)
    if not isinstance(objective, Objective):
        raise TypeError(
            "objective must be a randopt.oracles objective (NonlinearLeastSquares, "
            "LogisticRegression, LeastSquares or CallableObjective(fun, grad, hessp, "
            f"n_features=d)) or a tuple (fun, grad, hessp); got {type(objective).__name__}"
        )
    tr = method == "tr"
    d = objective.n_features
    x = check_vector(x0, "x0", size=d).copy()
    rng = check_random_state(random_state)
    if subproblem not in SUBPROBLEMS:
        raise ValueError(f"subproblem must be one of {tuple(SUBPROBLEMS)}, got {subproblem!r}")
    sub_cls = SUBPROBLEMS[subproblem]
    if tr and not sub_cls.supports_trust_region:
        raise ValueError(f"subproblem {subproblem!r} cannot solve trust-region sub-problems")
    if not tr and not sub_cls.supports_cubic:
        raise ValueError(
            f"subproblem {subproblem!r} cannot solve cubic sub-problems; use 'lanczos', "
            "'exact' or 'cauchy'"
        )
    param = _check_positive(param0, "radius" if tr else "sigma0")
    gtol = float(gtol)
    if not gtol >= 0:
        raise ValueError(f"gtol must be >= 0, got {gtol}")
    if curvature_tol is not None:
        curvature_tol = float(curvature_tol)
        if not curvature_tol >= 0:
            raise ValueError(f"curvature_tol must be >= 0 or None, got {curvature_tol}")
    max_iter = check_positive_int(max_iter, "max_iter", minimum=0)
    max_props = _check_positive(max_props, "max_props", allow_inf=True)
    max_time = _check_positive(max_time, "max_time", allow_inf=True)
    subproblem_tol = _check_positive(subproblem_tol, "subproblem_tol")
    subproblem_maxiter = check_positive_int(subproblem_maxiter, "subproblem_maxiter")
    if not (0 < eta2 <= eta1 < 1) or not (gamma1 > 1 and gamma2 >= 1):
        raise ValueError(
            "need 0 < eta2 <= eta1 < 1, gamma1 > 1 and gamma2 >= 1; got "
            f"eta1={eta1}, eta2={eta2}, gamma1={gamma1}, gamma2={gamma2}"
        )
    if callback is not None and not callable(callback):
        raise TypeError("callback must be callable(x, info) or None")

    sampler = HessianSampler(objective, hessian_sampling, hessian_sample_size)
    grad_sampler = None
    if gradient_sample_size is not None:
        grad_sampler = HessianSampler(
            objective, "uniform", gradient_sample_size, name="gradient_sample_size"
        )
    if hessian_mode not in ("auto", "explicit", "hessp"):
        raise ValueError(
            f"hessian_mode must be 'auto', 'explicit' or 'hessp', got {hessian_mode!r}"
        )
    if hessian_mode == "auto":
        # A small explicit matrix pays when the sub-problem takes many
        # products (CG, Lanczos: microseconds per product instead of a pass
        # over the sample); the Cauchy point takes one product only.
        explicit = sub_cls.needs_matrix or (
            isinstance(objective, FiniteSum)
            and d <= EXPLICIT_MAX_DIM
            and subproblem in ("cg", "lanczos")
        )
    else:
        explicit = hessian_mode == "explicit" or sub_cls.needs_matrix

    n = objective.n_samples
    clock = time.perf_counter
    t_start = clock()

    def evaluate(w: np.ndarray) -> Evaluation:
        gs = grad_sampler.draw(None, rng) if grad_sampler is not None else None
        return objective.evaluate(w, gradient_sample=gs)

    grad_cost = 2 * (grad_sampler.size if grad_sampler is not None else n)
    ev = evaluate(x)
    f, g = ev.fun, ev.grad
    if not (math.isfinite(f) and np.isfinite(g).all()):
        raise ValueError("the objective or its gradient is not finite at x0; pick another x0")
    gnorm = float(np.linalg.norm(g))
    props = float(grad_cost if grad_sampler is None else n + grad_cost)
    param_key = "radius" if tr else "sigma"
    hist = History(
        ("iteration", "loss", "grad_norm", param_key, "accepted", "step_norm",
         "inner_iterations", "hessian_rows", "time", "props")
    )

    def record(it, accepted, step_norm, inner, rows) -> bool:
        row = {
            "iteration": it, "loss": f, "grad_norm": gnorm, param_key: param,
            "accepted": accepted, "step_norm": step_norm, "inner_iterations": inner,
            "hessian_rows": rows, "time": clock() - t_start, "props": props,
        }
        if callback is not None:
            info = dict(row)
            try:
                extra = callback(x.copy(), info)
            except StopIteration:
                hist.append(**row)
                return True
            if extra:
                row.update({k: v for k, v in extra.items() if k not in row})
        hist.append(**row)
        return False

    stopped = record(0, False, 0.0, 0, 0)
    status = 99 if stopped else None
    nit = 0
    sub = None
    H = None
    while status is None:
        if gnorm <= gtol:
            if curvature_tol is None:
                status = 0
                break
        if nit >= max_iter:
            status = 1
            break
        if props >= max_props:
            status = 2
            break
        if clock() - t_start >= max_time:
            status = 3
            break
        spent = 0
        if sub is None:
            S = sampler.draw(ev, rng)
            H = objective.hessian_model(ev, sample=S, explicit=explicit)
            sub = sub_cls(g, H, tol=subproblem_tol, maxiter=subproblem_maxiter, rng=rng)
            eig_step = None
            if gnorm <= gtol:
                # Second-order phase: stop at an (approximate) second-order
                # point, or move along the leftmost eigenvector.
                before = H.n_products
                lam, u = _leftmost(H, rng)
                spent += max(H.n_products - before, 0) or d
                if lam >= -curvature_tol:
                    props += 2 * H.n_rows * spent
                    status = 0
                    break
                eig_step = (lam, u if float(u @ g) <= 0 else -u)
        if eig_step is not None:
            lam, u = eig_step
            t = param if tr else -lam / param
            s = t * u
            model = float(g @ s) + 0.5 * lam * t * t
            if not tr:
                model += param * t**3 / 3.0
            decrease = -model
            inner = 1
        else:
            step = sub.solve_trust_region(param) if tr else sub.solve_cubic(param)
            s, decrease, inner = step.s, step.decrease, step.n_iter
            spent += step.n_products
        props += 2 * H.n_rows * spent
        step_norm = float(np.linalg.norm(s))
        if not (decrease > 0) or step_norm <= _EPS * max(1.0, float(np.linalg.norm(x))):
            if step_norm <= _EPS * max(1.0, float(np.linalg.norm(x))) and decrease > 0:
                status = 4
            else:
                status = 5
            break

        x_trial = x + s
        ev_trial = evaluate(x_trial)
        props += n
        f_trial = ev_trial.fun
        actual = f - f_trial
        # Below round-off both reductions are noise: accept a step that does
        # not increase f beyond that noise (Conn, Gould & Toint, 17.4.2).
        noise = 10.0 * _EPS * max(1.0, abs(f))
        if not math.isfinite(f_trial) or not np.isfinite(ev_trial.grad).all():
            rho = -math.inf
        elif decrease <= noise:
            rho = 1.0 if actual >= -noise else -1.0
        else:
            rho = actual / decrease

        accepted = rho >= eta2
        if tr:
            if not accepted:
                param /= gamma1
            elif rho < eta1:
                param = min(param * gamma2, param_max)
            else:
                param = min(param * gamma1, param_max)
        else:
            if not accepted:
                param = min(param * gamma1, param_max)
            elif rho < eta1:
                param = param / gamma2
            else:
                param = param / gamma1
        if accepted:
            x = x_trial
            ev = ev_trial
            f, g = ev.fun, ev.grad
            gnorm = float(np.linalg.norm(g))
            props += grad_cost
            sub = None
        nit += 1
        if record(nit, accepted, step_norm, inner, H.n_rows):
            status = 99
            break
        if tr and param <= _EPS * max(1.0, float(np.linalg.norm(x))):
            status = 4
            break
        if not tr and not math.isfinite(param):
            status = 4
            break

    history = hist.as_dict()
    return OptimizeResult(
        x=x,
        fun=f,
        jac=g,
        nit=nit,
        success=status == 0,
        status=status,
        message=STATUS_MESSAGES[status],
        history=history,
        props=props,
        time=clock() - t_start,
        nfev=int(nit + 1),
        njev=int(history["accepted"].sum()) + 1,
        hessian_sampling=repr(sampler),
    )
