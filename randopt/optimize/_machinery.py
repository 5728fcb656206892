"""The machinery every outer loop of :mod:`randopt.optimize` shares.

:func:`randopt.optimize.newton_loop` (trust region, cubic regularisation) and
:func:`randopt.optimize.gauss_newton` (line search) differ in how they step;
what they share lives here: the option checks, the sampling plan (Hessian
and gradient samplers, the ``"auto"`` schedule of
:class:`~randopt.optimize.AdaptiveSampleSize`, the choice between an explicit
matrix and products), the first evaluation, the stopping tests, the history
recorder and the assembly of the result, so that every solver stops, counts
and reports alike (status codes: :data:`STATUS_MESSAGES`).
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

from .._validation import check_choice, check_scalar
from ..oracles import HessianSampler
from .history import History, apply_callback
from .sample_size import AdaptiveSampleSize

__all__ = ["EXPLICIT_MAX_DIM", "STATUS_MESSAGES"]

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

_SCHEMES = ("full", "uniform", "nonuniform")


def check_stopping(gtol: Any, max_iter: Any, max_props: Any, max_time: Any,
                   callback: Any) -> tuple[float, int, float, float]:
    """Validated ``(gtol, max_iter, max_props, max_time)``; checks ``callback`` too."""
    gtol = check_scalar(gtol, "gtol", low=0)
    max_iter = check_scalar(max_iter, "max_iter", kind=int, low=0)
    max_props = check_scalar(max_props, "max_props", low=0, low_inclusive=False, allow_inf=True)
    max_time = check_scalar(max_time, "max_time", low=0, low_inclusive=False, allow_inf=True)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable(x, info) or None, got {callback!r}")
    return gtol, max_iter, max_props, max_time


class Run:
    """The running totals of one solve: clock, props, counts, history and the stop tests.

    :meth:`start` makes the first evaluation at ``x0`` (and starts the
    plan's schedule); :meth:`stop_status` applies the budget tests; and
    :meth:`result` assembles the ``OptimizeResult`` every solver returns.
    """

    def __init__(self, plan: _SamplingPlan, parameter_name: str, callback: Callable | None,
                 *, gtol: float, max_iter: int, max_props: float, max_time: float) -> None:
        self.plan = plan
        self.gtol, self.max_iter = gtol, max_iter
        self.max_props, self.max_time = max_props, max_time
        self.clock = time.perf_counter
        self.t_start = self.clock()
        self.recorder = _Recorder(parameter_name, callback, self.t_start)
        self.props = 0.0
        self.nit = 0
        self.n_products = 0

    def start(self, x: np.ndarray,
              rng: np.random.Generator) -> tuple[Any, float, np.ndarray, float]:
        """``(ev, f, g, ||g||)`` at ``x0``; a non-finite value or gradient raises ValueError."""
        plan = self.plan
        ev = plan.evaluate(x, rng)
        f, g = float(ev.fun), ev.grad
        if not (math.isfinite(f) and np.isfinite(g).all()):
            raise ValueError("the objective or its gradient is not finite at x0; pick another x0")
        gnorm = float(np.linalg.norm(g))
        plan.start(ev, gnorm)
        n = plan.objective.n_samples
        self.props = float(plan.grad_cost if plan.grad_sampler is None else n + plan.grad_cost)
        return ev, f, g, gnorm

    def stop_status(self, converged: bool) -> int | None:
        """0 when ``converged``, else 1-3 for the iteration, props and time budgets, else None."""
        if converged:
            return 0
        if self.nit >= self.max_iter:
            return 1
        if self.props >= self.max_props:
            return 2
        if self.clock() - self.t_start >= self.max_time:
            return 3
        return None

    def result(self, x: np.ndarray, f: float, g: np.ndarray, status: int) -> OptimizeResult:
        """The solver's ``OptimizeResult`` (fields: :func:`randopt.optimize.newton_loop`)."""
        plan = self.plan
        return OptimizeResult(
            x=x,
            fun=f,
            jac=g,
            nit=self.nit,
            success=status == 0,
            status=status,
            message=STATUS_MESSAGES[status],
            history=self.recorder.history.as_dict(),
            props=self.props,
            time=self.clock() - self.t_start,
            nfev=plan.n_evaluations,
            njev=plan.n_evaluations,
            nhev=self.n_products,
            hessian_sampling=repr(plan),
        )


class _SamplingPlan:
    """The Hessian and gradient samplers, the sample-size schedule and the form of the Hessian.

    ``hessian_sample_size="auto"`` (with a scheme that samples) makes
    :attr:`schedule` an :class:`AdaptiveSampleSize`; the loop then calls
    :meth:`start` at ``x0``, :meth:`hessian_sample` at every new iterate and
    :meth:`observe` after every trial step (both are no-ops for a fixed size).
    :attr:`explicit` (form the matrix, else products) compares the
    objective's :meth:`~randopt.oracles.Objective.hessian_matrix_cost` with
    the products a sub-problem takes: ``min(d, subproblem_max_iter)`` for a
    fixed size, the schedule's observed mean at every fresh model for
    ``"auto"``.
    """

    def __init__(self, objective, solver, hessian_sampling, hessian_sample_size,
                 gradient_sample_size, hessian_mode, subproblem_max_iter=250) -> None:
        hessian_mode = check_choice(hessian_mode, "hessian_mode", ("auto", "explicit", "hessp"))
        hessian_sampling = check_choice(hessian_sampling, "hessian_sampling",
                                        ("auto", *_SCHEMES))
        adaptive = isinstance(hessian_sample_size, str)
        if adaptive and hessian_sample_size != "auto":
            raise ValueError(
                "hessian_sample_size must be 'auto', an int count or a float fraction; got "
                f"{hessian_sample_size!r}"
            )
        can_sample = bool(getattr(objective, "supports_sampling", False))
        if hessian_sampling == "auto":
            hessian_sampling = "uniform" if can_sample else "full"
        size = hessian_sample_size
        if hessian_sampling != "full" and not adaptive and (
            isinstance(size, (bool, np.bool_)) or not isinstance(size, numbers.Real)
        ):
            raise TypeError(
                "hessian_sample_size must be 'auto', an int count or a float fraction; got "
                f"{type(size).__name__} {size!r}"
            )
        self.objective = objective
        self.matrix_free = bool(getattr(objective, "matrix_free", False))
        n, d = objective.n_samples, objective.n_features
        # A small explicit matrix pays when the sub-problem takes more products
        # than forming it costs (objective.hessian_matrix_cost(): d / 4 for a
        # binary loss, O(K d) for K classes): CG and Lanczos then take
        # microseconds per product instead of a pass over the sample; the
        # Cauchy point takes one product only. A matrix-free objective would
        # build it from d products: only for a solver that needs it.
        operand = getattr(objective, "operand", None)
        row_length = _row_length(operand, d)
        prior = min(d, subproblem_max_iter)
        self._matrix_cost = None
        if (hessian_mode == "auto" and can_sample and d <= EXPLICIT_MAX_DIM
                and bool(getattr(solver, "prefers_matrix", False)) and not self.matrix_free):
            # in products of this data's rows: a sparse row's matrix and products
            # both shrink with its density
            self._matrix_cost = float(objective.hessian_matrix_cost()) * row_length / d
        forced = bool(solver.needs_matrix) or hessian_mode == "explicit"
        self.explicit = forced or (self._matrix_cost is not None and self._matrix_cost <= prior)
        self.schedule = None
        self._drawn = None
        if adaptive and hessian_sampling != "full":
            self.schedule = AdaptiveSampleSize(
                n, d, explicit=self.explicit, row_length=row_length,
                matrix_cost=self._matrix_cost, products=prior,
                local=bool(getattr(operand, "is_local", True)),
            )
            if forced:
                self._matrix_cost = None  # the form is fixed: nothing to choose per model
            size = self.schedule.floor  # what callers reading ``sampler.size`` see
        self.sampler = HessianSampler(objective, hessian_sampling, size)
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
        self.grad_cost = 2 * (self.grad_sampler.size if self.grad_sampler is not None else n)
        self.n_evaluations = 0

    def evaluate(self, w: np.ndarray, rng: np.random.Generator) -> Any:
        """Value and (possibly sub-sampled) gradient at ``w``; counts the evaluation."""
        self.n_evaluations += 1
        gs = self.grad_sampler.draw(None, rng) if self.grad_sampler is not None else None
        return self.objective.evaluate(w, gradient_sample=gs)

    def start(self, ev: Any, grad_norm: float) -> None:
        """Start the schedule at ``x0`` (no-op for a fixed size)."""
        if self.schedule is not None:
            if self.sampler.scheme == "nonuniform":
                # Refuse data that cannot be sampled so (not in memory) now, not
                # at the first draw, which an exact schedule might never make.
                self.objective.hessian_probabilities(ev)
            self.schedule.start(grad_norm)

    def hessian_sample(self, ev: Any, rng: np.random.Generator) -> Any:
        """The Hessian sample of a new iterate (``None``: the exact Hessian)."""
        if self.schedule is None:
            return self.sampler.draw(ev, rng)
        if self._matrix_cost is not None:
            # form the matrix only while the sub-problems take more products
            # than it costs (the mean observed so far; at first the prior)
            self.explicit = self._matrix_cost <= self.schedule.expected_products()
            self.schedule.explicit = self.explicit
        rows = self._drawn = self.schedule.next_size()
        return None if rows is None else self.sampler.draw(ev, rng, size=rows)

    def observe(self, rho: float, accepted: bool, grad_norm: float, n_products: int,
                step_norm: float | None = None) -> None:
        """Tell the schedule a trial's outcome (no-op for a fixed size)."""
        if self.schedule is not None:
            self.schedule.observe(rho, accepted, grad_norm, n_products, step_norm)

    def reuse(self) -> bool:
        """Whether the new iterate keeps the previous model (``"auto"`` only; counts it)."""
        return self.schedule is not None and self.schedule.reuse()

    def grew(self) -> bool:
        """Whether the schedule's size changed since the current model was drawn."""
        return self.schedule is not None and self.schedule.rows != self._drawn

    def __repr__(self) -> str:
        if self.schedule is None:
            return repr(self.sampler)
        return f"HessianSampler({self.sampler.scheme!r}, size={self.schedule!r})"


def _row_length(operand: Any, d: int) -> float:
    """Entries per row for the cost model: ``d`` scaled by a sparse operand's density."""
    nnz = getattr(operand, "nnz", None)
    if nnz is None:
        return float(d)
    cells = float(operand.n_rows) * float(operand.n_cols)
    return max(d * float(nnz) / cells, 1.0) if cells else float(d)


class _Recorder:
    """The history table and the callback that may extend or stop it."""

    def __init__(self, parameter_name: str, callback: Callable | None, t_start: float) -> None:
        self.parameter_name = parameter_name
        self.callback = callback
        self.t_start = t_start
        self.history = History(
            ("iteration", "loss", "grad_norm", parameter_name, "accepted", "step_norm",
             "inner_iterations", "hessian_rows", "hessian_reused", "time", "props")
        )

    def record(self, x: np.ndarray, *, it, loss, grad_norm, parameter, accepted, step_norm,
               inner, rows, props, reused=False) -> bool:
        """Append a history row; True when the callback asks to stop."""
        row = {
            "iteration": it, "loss": loss, "grad_norm": grad_norm,
            self.parameter_name: parameter, "accepted": accepted, "step_norm": step_norm,
            "inner_iterations": inner, "hessian_rows": rows, "hessian_reused": reused,
            "time": time.perf_counter() - self.t_start, "props": props,
        }
        row, stop = apply_callback(self.callback, x, row)
        self.history.append(**row)
        return stop
