"""The outer loop of the Newton-type solvers, and the state every solver keeps.

One module, as SciPy's ``_trustregion.py``: the loop of the trust-region
and cubic-regularisation methods (:func:`newton_loop`), the solver state
that every solver of :mod:`randopt.optimize` shares (:class:`SolverState`:
clock, counts, history, stop tests, the status table
:data:`STATUS_MESSAGES` and the result), and the checks of what enters a
solver from code it does not own (the objective, its Hessian, a user's
sub-problem steps), made once where it enters.

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
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

from .._validation import check_random_state, check_scalar, check_vector
from ..oracles import CallableObjective
from .forcing import PAPERS_TOL, ForcingTerm, as_forcing_term, resolve_subproblem_tol
from .preconditioning import as_preconditioner
from .protocols import ObjectiveLike, PolicyLike, missing_members
from .sample_size import EXPLICIT_MAX_DIM, SamplingPlan
from .subproblems import SUBPROBLEMS, as_subproblem
from .subproblems._base import check_step, checked_model
from .subproblems.exact import leftmost_eigenpair

__all__ = [
    "EXPLICIT_MAX_DIM", "STATUS_MESSAGES", "History", "RatioTestPolicy", "SolverState",
    "apply_callback", "newton_loop",
]

_EPS = np.finfo(np.float64).eps

#: ``result.status`` -> ``result.message``, for every solver of :mod:`randopt.optimize`.
STATUS_MESSAGES = {
    0: "Optimization terminated successfully: gradient norm <= gtol.",
    1: "Maximum number of iterations (max_iter) or epochs (epochs) reached.",
    2: "Maximum cost (max_props propagations) reached.",
    3: "Maximum time (max_time seconds) reached.",
    4: "Step length fell below machine precision relative to x: no further progress possible.",
    5: "The model predicts no decrease (gradient and negative curvature below precision).",
    99: "The callback requested termination (raised StopIteration or returned True).",
}


class History:
    """Append-only table with fixed core columns and optional extra ones.

    Core columns are given at construction; extra columns (values returned by
    a user callback) may appear at any row: earlier rows are filled with NaN,
    and a row that lacks a known extra key gets NaN too.

    Examples
    --------
    >>> h = History(("loss", "accepted"))
    >>> h.append(loss=1.0, accepted=True)
    >>> h.append(loss=0.5, accepted=False, test_accuracy=0.9)
    >>> d = h.as_dict()
    >>> d["loss"].tolist(), d["test_accuracy"].tolist()[1]
    ([1.0, 0.5], 0.9)
    """

    def __init__(self, columns: tuple[str, ...]) -> None:
        if isinstance(columns, (str, bytes)) or not isinstance(columns, (tuple, list)) or not all(
            isinstance(c, str) for c in columns
        ):
            raise TypeError(f"columns must be a tuple of column names (strings), got {columns!r}")
        self._columns: dict[str, list] = {c: [] for c in columns}
        self._core = tuple(columns)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def append(self, **row: Any) -> None:
        """Append one row: every core column, plus any extra columns.

        Parameters
        ----------
        **row
            Values by column name; the core columns are required.

        Examples
        --------
        >>> h = History(("loss",)); h.append(loss=2.0); len(h)
        1
        """
        cols = self._columns
        for key in self._core:
            cols[key].append(row[key])
        if len(row) > len(self._core):
            for key, value in row.items():
                if key in self._core:
                    continue
                if key not in cols:
                    cols[key] = [math.nan] * self._n
                cols[key].append(value)
        self._n += 1
        for values in cols.values():
            if len(values) < self._n:
                values.append(math.nan)

    def as_dict(self) -> dict[str, np.ndarray]:
        """The table as a dict of equal-length arrays (object arrays for ragged values).

        Returns
        -------
        dict of str to ndarray
            One array per column, in the order the columns appeared.

        Examples
        --------
        >>> h = History(("loss",)); h.append(loss=2.0); h.append(loss=1.0)
        >>> h.as_dict()["loss"].tolist()
        [2.0, 1.0]
        """
        out = {}
        for key, values in self._columns.items():
            try:
                out[key] = np.asarray(values)
            except ValueError:  # ragged callback values: keep them as objects
                arr = np.empty(len(values), dtype=object)
                arr[:] = values
                out[key] = arr
        return out


def apply_callback(callback: Callable | None, x: np.ndarray, row: dict) -> tuple[dict, bool]:
    """``(row with the callback's extra columns, stop?)`` for one history row.

    The callback protocol of every solver: ``callback(x, info)`` returns None, a
    bool (True stops) or a dict of extra columns; raising ``StopIteration`` stops.
    """
    if callback is None:
        return row, False
    try:
        extra = callback(x.copy(), dict(row))
    except StopIteration:
        return row, True
    if isinstance(extra, (bool, np.bool_)):
        return row, bool(extra)
    if isinstance(extra, dict):
        return {**row, **{k: v for k, v in extra.items() if k not in row}}, False
    if extra is not None:
        raise TypeError(
            "callback must return None, a bool (True stops the solver) or a dict of extra "
            f"history columns; got {type(extra).__name__}"
        )
    return row, False


class RatioTestPolicy:
    """The ratio test's thresholds and factors, shared by the step-size policies.

    A policy (:class:`~randopt.optimize.TrustRegionPolicy`,
    :class:`~randopt.optimize.CubicRegularizationPolicy`) adds its parameter,
    its update and how it asks a sub-problem solver for a step; what it must
    offer the loop is :class:`randopt.optimize.protocols.PolicyLike`.
    """

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
        >>> from randopt.optimize import TrustRegionPolicy
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
        >>> from randopt.optimize import TrustRegionPolicy
        >>> TrustRegionPolicy().accepts(0.5), TrustRegionPolicy().accepts(-1.0)
        (True, False)
        """
        return bool(rho >= self.eta2)


def _columns(parameter_name: str) -> tuple[str, ...]:
    """The history columns of the Newton-type solvers (``parameter_name``: radius, sigma, ...)."""
    return ("iteration", "loss", "grad_norm", parameter_name, "accepted", "step_norm",
            "inner_iterations", "hessian_rows", "hessian_reused", "time", "props",
            "hessian_products", "subproblem_tol")


def check_stopping(gtol: Any, max_iter: Any, max_props: Any, max_time: Any, callback: Any,
                   unlimited_iter: bool = False) -> tuple[float, Any, float, float]:
    """Validated ``(gtol, max_iter, max_props, max_time)`` (``max_iter=None`` when
    ``unlimited_iter``); checks ``callback`` too."""
    gtol = check_scalar(gtol, "gtol", low=0)
    max_iter = check_scalar(max_iter, "max_iter", kind=int, low=0, allow_none=unlimited_iter)
    max_props = check_scalar(max_props, "max_props", low=0, low_inclusive=False, allow_inf=True)
    max_time = check_scalar(max_time, "max_time", low=0, low_inclusive=False, allow_inf=True)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable(x, info) or None, got {callback!r}")
    return gtol, max_iter, max_props, max_time


class SolverState:
    """The state of one solve: clock, counts, history and the budget tests.

    Every solver of :mod:`randopt.optimize` keeps one, so that all stop,
    count and report alike: :meth:`record` appends a history row (the
    callback may extend it or stop the run), :meth:`stop_status` applies the
    budgets, :meth:`result` assembles the ``OptimizeResult`` with the
    counts ``nit``, ``nfev``, ``njev``, ``nhev`` and the status and message
    of :data:`STATUS_MESSAGES`.

    Parameters
    ----------
    columns : tuple of str
        The history's core columns (``time`` and ``props`` filled here).
    callback : callable or None
        ``callback(x, info)``, see :func:`randopt.optimize.trust_region`.
    max_iter : int or None
        Iteration budget (``None``: none).
    max_props, max_time : float
        Propagation and time budgets.

    Examples
    --------
    >>> import numpy as np
    >>> state = SolverState(("loss", "time", "props"), None, max_iter=1,
    ...                     max_props=np.inf, max_time=np.inf)
    >>> state.record(np.zeros(1), {"loss": 1.0}), state.stop_status(False)
    (False, None)
    >>> state.nit = 1; state.stop_status(False), state.result(np.zeros(1), 1.0, None, 1).message
    (1, 'Maximum number of iterations (max_iter) or epochs (epochs) reached.')
    """

    def __init__(self, columns: tuple[str, ...], callback: Callable | None, *,
                 max_iter: int | None, max_props: float, max_time: float) -> None:
        self.callback = callback
        self.max_iter, self.max_props, self.max_time = max_iter, max_props, max_time
        self.clock = time.perf_counter
        self.t_start = self.clock()
        self.history = History(columns)
        self.props = 0.0
        self.nit = self.nfev = self.njev = self.nhev = 0

    def start(self, objective: Any, plan: SamplingPlan, x: np.ndarray,
              rng: np.random.Generator) -> tuple[Any, float, np.ndarray, float]:
        """``(ev, f, g, ||g||)`` at ``x0`` (non-finite: ValueError); starts the plan's schedule."""
        ev = objective.evaluate(x, gradient_sample=plan.gradient_sample(rng))
        self.nfev += 1
        self.njev += 1
        f, g = float(ev.fun), ev.grad
        if not (math.isfinite(f) and np.isfinite(g).all()):
            raise ValueError("the objective or its gradient is not finite at x0; pick another x0")
        gnorm = float(np.linalg.norm(g))
        plan.start(ev, gnorm)
        n = objective.n_samples
        self.props = float(plan.grad_cost if plan.grad_sampler is None else n + plan.grad_cost)
        return ev, f, g, gnorm

    def budget_status(self) -> int | None:
        """1, 2 or 3 when the iteration, props or time budget is spent, else None."""
        if self.max_iter is not None and self.nit >= self.max_iter:
            return 1
        if self.props >= self.max_props:
            return 2
        if self.clock() - self.t_start >= self.max_time:
            return 3
        return None

    def stop_status(self, converged: bool) -> int | None:
        """0 when ``converged``, else :meth:`budget_status`."""
        return 0 if converged else self.budget_status()

    def record(self, x: np.ndarray, row: dict) -> bool:
        """Append a history row (with ``time`` and ``props``); True when the callback stops."""
        row["time"] = self.clock() - self.t_start
        row["props"] = self.props
        row, stop = apply_callback(self.callback, x, row)
        self.history.append(**row)
        return stop

    def result(self, x: np.ndarray, f: float, g: Any, status: int, **extra: Any) -> OptimizeResult:
        """The ``OptimizeResult``: ``x``, ``fun``, ``jac``, the counts, status, history, ..."""
        return OptimizeResult(
            x=x, fun=f, jac=g, nit=self.nit, success=status == 0, status=status,
            message=STATUS_MESSAGES[status], history=self.history.as_dict(), props=self.props,
            time=self.clock() - self.t_start, nfev=self.nfev,
            njev=self.njev, nhev=self.nhev, **extra,
        )


def as_objective(objective: Any, x0: Any) -> Any:
    """The objective itself, or a ``CallableObjective`` for a ``(fun, grad[, hessp])`` tuple."""
    if isinstance(objective, tuple) and 2 <= len(objective) <= 3 and all(
        callable(f) or f is True for f in objective
    ):
        # (fun, grad[, hessp]) like scipy.optimize.minimize's callables
        fun, grad, *rest = objective
        return CallableObjective(fun, grad, hessp=rest[0] if rest else None,
                                 n_features=int(np.size(x0)))
    if not isinstance(objective, ObjectiveLike):
        raise TypeError(
            "objective must be a randopt.oracles objective (a finite sum such as "
            "LogisticObjective, or CallableObjective(fun, grad, hessp, n_features=d)) or a "
            f"tuple (fun, grad, hessp); got {type(objective).__name__}, which lacks "
            f"{', '.join(missing_members(objective, ObjectiveLike))}"
        )
    return objective


def hessian_at(objective: Any, ev: Any, sample: Any, explicit: bool, d: int,
               gauss_newton: bool = False) -> Any:
    """The objective's (sampled) Hessian (or Gauss-Newton) model at an evaluation, checked."""
    try:
        if gauss_newton:
            model = objective.gauss_newton_model(ev, sample=sample, explicit=explicit)
        else:
            model = objective.hessian_model(ev, sample=sample, explicit=explicit)
    except ValueError as exc:
        raise formation_error(exc, objective, d) from exc
    return checked_model(model, d)


def formation_error(exc: ValueError, objective: Any, d: int) -> ValueError:
    """The error of a Hessian model that could not be formed, with a hint for callables."""
    # The shape hint is about user callables only; a finite sum's own
    # message (e.g. X overflowing) already says what to change.
    hint = (
        f" (hessp(x, v) must return an array of shape ({d},), hess(x) one of "
        f"shape ({d}, {d}))"
        if isinstance(objective, CallableObjective) and "shape" in str(exc)
        else ""
    )
    return ValueError(
        f"the objective's Hessian could not be formed at the current iterate: {exc}{hint}"
    )


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
    subproblem_tol: Any = "auto",
    subproblem_max_iter: int = 250,
    preconditioner: Any = None,
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
    subproblem_tol : "auto", float, "ew", "sqrt" or ForcingTerm, default="auto"
        Relative tolerance of the sub-problem solver: fixed in ``(0, 1)``,
        or a forcing term (:mod:`randopt.optimize.forcing`); ``"auto"``:
        with ``hessian_sample_size="auto"``, ``"ew"`` on models used through
        products and ``1e-9`` on explicit matrices, else the papers' ``1e-9``
        (:func:`~randopt.optimize.forcing.resolve_subproblem_tol`).
    subproblem_max_iter : int, default=250
        Maximum products per sub-problem (>= 1).
    preconditioner : None, "nystrom", NystromSchedule or callable, optional
        Preconditioner of a sub-problem solver that takes one (``"cg"``):
        :mod:`randopt.optimize.preconditioning`.
    callback : callable, optional
        ``callback(x, info)`` returning None, a bool (True stops) or a dict
        of extra history columns; raising ``StopIteration`` stops too.
    random_state : None, int or numpy.random.Generator
        Source of every random draw (samples, Lanczos restarts, ARPACK start).

    Returns
    -------
    scipy.optimize.OptimizeResult
        The fields of :meth:`SolverState.result` (``x``, ``fun``, ``jac``,
        ``nit`` trial steps, ``nfev``, ``njev``, ``nhev``, ``status``,
        ``message``, ``success``, ``props``, ``time``, ``history``) and
        ``hessian_sampling`` (the resolved sampler).

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
    if not isinstance(policy, PolicyLike):
        raise TypeError(
            "policy must be a TrustRegionPolicy or a CubicRegularizationPolicy (or offer what "
            "randopt.optimize.protocols.PolicyLike lists); "
            f"{type(policy).__name__} lacks {', '.join(missing_members(policy, PolicyLike))}"
        )
    solver = as_subproblem(subproblem)
    policy.check_subproblem(solver)
    trusted = type(solver) in SUBPROBLEMS.values()  # built-ins check their own steps
    gtol, max_iter, max_props, max_time = check_stopping(gtol, max_iter, max_props, max_time,
                                                         callback)
    curvature_tol = check_scalar(curvature_tol, "curvature_tol", low=0, allow_none=True)
    # "auto": the forcing term on models used through products, the papers' 1e-9 on
    # an explicit matrix (a product there costs d^2 against the matrix's s d^2 / 2)
    auto_tol = isinstance(subproblem_tol, str) and subproblem_tol == "auto"
    subproblem_tol = resolve_subproblem_tol(subproblem_tol, hessian_sample_size)
    auto_tol = auto_tol and subproblem_tol != PAPERS_TOL
    forcing = (as_forcing_term(subproblem_tol, gtol=gtol)  # inexact Newton
               if isinstance(subproblem_tol, (str, ForcingTerm)) else None)
    if forcing is None:  # a fixed tolerance, used as given (no call per iterate)
        subproblem_tol = check_scalar(subproblem_tol, "subproblem_tol", low=0, high=1,
                                      low_inclusive=False, high_inclusive=False)
    precond = (None if preconditioner is None
               else as_preconditioner(preconditioner, d, solver=solver, objective=objective))
    subproblem_max_iter = check_scalar(subproblem_max_iter, "subproblem_max_iter", kind=int,
                                       low=1)
    plan = SamplingPlan(objective, solver, hessian_sampling, hessian_sample_size,
                        gradient_sample_size, hessian_mode, subproblem_max_iter,
                        forcing="auto" if auto_tol else forcing is not None)

    n = objective.n_samples
    name = policy.parameter_name
    state = SolverState(_columns(name), callback, max_iter=max_iter, max_props=max_props,
                        max_time=max_time)
    ev, f, g, gnorm = state.start(objective, plan, x, rng)
    policy.start()

    def record(accepted: bool, step_norm: float, inner: int, rows: int,
               reused: bool = False, spent: int = 0, tol: float = math.nan) -> bool:
        return state.record(x, {
            "iteration": state.nit, "loss": f, "grad_norm": gnorm, name: policy.value,
            "accepted": accepted, "step_norm": step_norm, "inner_iterations": inner,
            "hessian_rows": rows, "hessian_reused": reused, "hessian_products": spent,
            "subproblem_tol": tol})

    status = 99 if record(False, 0.0, 0, 0) else None
    H = None  # the model of the current iterate; None when a fresh one is due
    reused = False  # whether H was formed at an earlier iterate
    eigen = None
    while status is None:
        status = state.stop_status(gnorm <= gtol and curvature_tol is None)
        if status is not None:
            break
        spent = 0
        tol = subproblem_tol if forcing is None else forcing.at(gnorm)
        if auto_tol and H is not None and plan.explicit:
            tol = PAPERS_TOL  # the current (explicit) model's tolerance, after a rejection
        if H is None:
            sample = plan.hessian_sample(ev, rng)
            if auto_tol and plan.explicit:
                tol = PAPERS_TOL
            try:  # formed here, not in a helper: one call less between the loop and the data
                H = objective.hessian_model(ev, sample=sample, explicit=plan.explicit)
            except ValueError as exc:
                raise formation_error(exc, objective, d) from exc
            H = checked_model(H, d)
            solver.set_model(g, H, tol=tol, max_iter=subproblem_max_iter, random_state=rng)
            if precond is not None:
                spent += precond.attach(solver, H, rng)
            eigen = None
            if gnorm <= gtol:
                # Second-order phase: stop at an (approximate) second-order
                # point, or move along the leftmost eigenvector.
                before = H.n_products
                lam, u = leftmost_eigenpair(H, rng, plan.matrix_free)
                spent += max(H.n_products - before, 0) or d
                if lam >= -curvature_tol:
                    state.props += 2 * H.n_rows * spent
                    state.nhev += spent
                    status = 0
                    break
                eigen = (lam, u if float(u @ g) <= 0 else -u)
        if eigen is not None:
            s, decrease = policy.eigen_step(g, *eigen)
            inner = 1
        else:
            step = policy.step(solver)
            if not trusted:
                step = check_step(step, d, solver)
            s, decrease, inner = step.s, step.decrease, step.n_iter
            spent += step.n_products
            if precond is not None:
                precond.judge(solver.last_result, gnorm)
        rows = H.n_rows
        state.props += 2 * rows * spent
        state.nhev += spent
        step_norm = float(np.linalg.norm(s))
        tiny = step_norm <= _EPS * max(1.0, float(np.linalg.norm(x)))
        if not (decrease > 0) or tiny:
            status = 4 if (tiny and decrease > 0) else 5
            break

        x_trial = x + s
        ev_trial = objective.evaluate(x_trial, gradient_sample=plan.gradient_sample(rng))
        state.nfev += 1
        state.njev += 1  # the fused pass computes the trial's gradient too
        state.props += n
        f_trial = float(ev_trial.fun)
        rho = _ratio(f, f_trial, ev_trial.grad, decrease)
        accepted = policy.update(rho)
        if accepted:
            x, ev = x_trial, ev_trial
            f, g = f_trial, ev.grad
            gnorm = float(np.linalg.norm(g))
            state.props += plan.grad_cost
        plan.observe(rho, accepted, gnorm, spent, step_norm)
        was_reused = reused
        if accepted:
            # a lazy Hessian: keep the model (and the solver's matrix) at the
            # new iterate when the schedule says so; the gradient is fresh
            reused = gnorm > gtol and plan.reuse()
            if reused:
                solver.set_model(g, H, max_iter=subproblem_max_iter, random_state=rng,
                                 tol=subproblem_tol if forcing is None
                                 else PAPERS_TOL if auto_tol and plan.explicit
                                 else forcing.at(gnorm))
            else:
                H = None
        elif was_reused or plan.grew():
            # a stale model failed, or a rejection grew the sample: a fresh
            # model at the same iterate
            H, reused = None, False
        state.nit += 1
        if record(accepted, step_norm, inner, rows, was_reused, spent, tol):
            status = 99
        elif policy.exhausted(float(np.linalg.norm(x))):
            status = 4

    return state.result(x, f, g, status, hessian_sampling=repr(plan))


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
