"""Sub-sampled Gauss-Newton with an Armijo backtracking line search.

At an iterate ``x`` with gradient ``g`` the method solves the (sub-sampled)
Gauss-Newton system ``G_S p = -g`` by conjugate gradients from ``p = 0``
and searches along ``p``: the first ``t`` of ``1, beta, beta^2, ...``
(``max_backtracks`` halvings at most, for ``beta = 1/2``) with

    f(x + t p) <= f(x) + c1 t g^T p

is taken. ``G_S`` is the Gauss-Newton matrix of the objective
(:meth:`randopt.oracles.FiniteSum.gauss_newton_model`: the Hessian without
the term that carries the residuals' curvature), exact or on a uniform or
non-uniform row sample, plus the penalty. It is positive semi-definite, so
CG cannot meet negative curvature and its iterates from ``0`` are descent
directions (they lower the quadratic model ``g^T p + p^T G_S p / 2`` below
its value ``0`` at ``p = 0``); this is why Gauss-Newton needs a line search
and no trust region. For convex GLM losses (logistic, squared) the
Gauss-Newton matrix is the Hessian: the method is sub-sampled Newton with a
line search [2]_.

This is the Gauss-Newton method of the reference code of Xu, Roosta and
Mahoney [1]_ (``subsampled_blc.m``: MATLAB's ``pcg`` on the sampled system,
then backtracking with ``c1 = 1e-4``, ``beta = 0.5``, at most 20 steps),
with three deliberate differences:

* after ``max_backtracks`` failed trials the step is rejected (the iterate
  stays; a sub-sampled run draws a new sample), where the reference code
  takes the last trial step even if it increases ``f``;
* every trial value is charged ``n`` propagations (the reference code does
  not charge the accepted trial's value, which the next gradient's pass
  yields in its implementation but not in the accounting of the other
  methods);
* the non-uniform sample is drawn as for trust region and ARC (``s``
  i.i.d. draws, ``p_i ~ c_i G_i ||a_i||^2``,
  :meth:`~randopt.oracles.FiniteSum.gauss_newton_probabilities`), where the
  reference code keeps each row independently with probability
  ``min(1, s p_i)``.

``pcg``'s defaults (relative residual ``1e-6``, at most ``min(d, 20)``
iterations) are ``cg_tol=1e-6`` and ``cg_max_iter=20`` here.

Cost accounting (``props``) as in :mod:`randopt.optimize.loop`: the
gradient at an accepted point ``2 n`` (its value from the same pass), a
trial value ``n``, each Gauss-Newton-vector product on ``S`` rows ``2 |S|``
(also per CG step when the sampled matrix was formed explicitly).

References
----------
.. [1] P. Xu, F. Roosta and M. W. Mahoney, "Second-order optimization for
       non-convex machine learning: an empirical study", SDM (2020); code
       github.com/git-xp/Non-Convex-Newton.
.. [2] F. Roosta-Khorasani and M. W. Mahoney, "Sub-sampled Newton methods",
       Math. Program. 174 (2019), 293-326.
.. [3] J. Nocedal and S. J. Wright, "Numerical Optimization", 2nd ed.
       (2006), sec. 10.3 (Gauss-Newton) and Algorithm 3.1 (backtracking).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

from .._validation import check_random_state, check_scalar, check_vector
from ..linalg import NystromPreconditioner, conjugate_gradient
from ..sketch import sample_rows
from ._options import fill_doc
from .forcing import as_forcing_term
from .loop import SolverState, _columns, as_objective, check_stopping, hessian_at
from .preconditioning import as_preconditioner, checked_preconditioner
from .sample_size import SamplingPlan

__all__ = ["gauss_newton"]

_EPS = np.finfo(np.float64).eps


class _ConjugateGradient:
    """CG on ``G p = -g`` for a positive semi-definite ``G``, from ``p = 0``.

    The attributes are what the sampling plan asks of a sub-problem solver:
    CG takes many products, so a small explicit sampled matrix pays.
    """

    needs_matrix = False
    prefers_matrix = True

    @staticmethod
    def solve(matvec: Callable, g: np.ndarray, tol: float, max_iter: int,
              precondition: Callable | None = None) -> tuple:
        """``(p, products, CGResult)``: stop at ``||G p + g|| <= tol ||g||`` or ``max_iter``.

        A search direction without curvature (``q^T G q <= 0``: in the null
        space of a semi-definite ``G``) ends the iteration; ``p`` then
        minimises the model on the Krylov space built so far. If that
        happens at the first step, ``p = -g``.
        """
        res = conjugate_gradient(matvec, -g, rtol=tol, max_iter=max_iter,
                                 precondition=precondition)
        p, k = res.x, res.nhev
        if not p.any():
            p = -g.copy()
        return p, k, res


@fill_doc
def gauss_newton(
    objective: Any,
    x0: Any,
    *,
    hessian_sampling: str = "auto",
    hessian_sample_size: int | float | str = 0.05,
    gradient_sample_size: int | float | None = None,
    hessian_mode: str = "auto",
    gtol: float = 1e-6,
    max_iter: int = 1000,
    max_props: float = math.inf,
    max_time: float = math.inf,
    cg_tol: Any = 1e-6,
    cg_max_iter: int = 20,
    c1: float = 1e-4,
    backtrack_factor: float = 0.5,
    max_backtracks: int = 20,
    preconditioner: Any = None,
    callback: Callable[[np.ndarray, dict], Any] | None = None,
    random_state: Any = None,
) -> OptimizeResult:
    """Minimise an objective by (sub-sampled) Gauss-Newton steps with a line search.

    Parameters
    ----------
    objective : Objective
        A :mod:`randopt.oracles` objective with ``supports_gauss_newton``:
        a :class:`~randopt.oracles.FiniteSum` whose loss gives its
        Gauss-Newton curvature (the sigmoid least squares, logistic and
        squared losses do), or a user model offering Gauss-Newton-vector
        products (:meth:`~randopt.oracles.Objective.gauss_newton_model`).
    %(x0)s
    %(hessian_sampling)s
    hessian_sample_size : int, float or "auto", default=0.05
        Rows per sample: a count in ``[1, n]`` or a fraction in ``(0, 1]``
        (5% in [1]_), or ``"auto"``: the
        :class:`~randopt.optimize.AdaptiveSampleSize` schedule of
        :func:`~randopt.optimize.trust_region` (a failed line search counts
        as a rejected step; no model is reused: the line search has no
        ratio ``rho`` to judge it by); ignored by ``"full"``.
    %(gradient_sample_size)s
    %(hessian_mode)s
    %(gtol)s
    %(max_iter)s
    %(max_props)s
    %(max_time)s
    cg_tol : float, "ew", "sqrt" or ForcingTerm, default=1e-6
        CG stops at ``||G_S p + g|| <= cg_tol ||g||``, in ``(0, 1)``
        (MATLAB ``pcg``'s default, as in [1]_), or at a forcing term's
        tolerance (as ``subproblem_tol`` of :func:`trust_region`:
        :mod:`randopt.optimize.forcing`).
    cg_max_iter : int, default=20
        Maximum CG iterations (products) per direction, >= 1 (``pcg``'s
        ``min(d, 20)`` for ``d >= 20``).
    c1 : float, default=1e-4
        Armijo constant, in ``(0, 1)``.
    backtrack_factor : float, default=0.5
        ``t <- backtrack_factor * t`` after a failed trial, in ``(0, 1)``.
    max_backtracks : int, default=20
        Failed trials after the unit step before the step is rejected (>= 0).
    %(preconditioner)s
    %(callback)s
    %(random_state)s

    Returns
    -------
    %(result)s

    Notes
    -----
    The option checks, the sampling plan, the first evaluation, the
    stopping tests and the result are those of
    :func:`randopt.optimize.newton_loop` (one shared module), so both stop,
    count and report alike. Status codes:
    :data:`randopt.optimize.STATUS_MESSAGES`. Status 4
    ("no further progress possible") also ends a run whose line search
    failed with a deterministic direction (exact Gauss-Newton matrix and
    gradient), which the next iteration would only repeat.

    See Also
    --------
    hessian_free : The damped (Levenberg-Marquardt) variant with Martens'
        CG stopping, warm starts and CG-backtracking, for non-convex models
        such as neural networks.

    References
    ----------
    .. [1] P. Xu, F. Roosta and M. W. Mahoney, "Second-order optimization for
           non-convex machine learning: an empirical study", SDM (2020).
    .. [2] J. Nocedal and S. J. Wright, "Numerical Optimization", 2nd ed.
           (2006), sec. 10.3.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.oracles import SigmoidLeastSquaresObjective
    >>> from randopt.optimize import gauss_newton
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((2000, 5)); y = X @ np.ones(5) + rng.logistic(size=2000) > 0
    >>> res = gauss_newton(SigmoidLeastSquaresObjective(X, y), np.zeros(5),
    ...                    hessian_sample_size=0.1, gtol=1e-8, random_state=0)
    >>> bool(res.success), float(res.history["step_size"][1:].min())  # unit steps
    (True, 1.0)
    """
    objective = as_objective(objective, x0)
    if not getattr(objective, "supports_gauss_newton", False):
        raise TypeError(
            f"objective must offer a Gauss-Newton matrix (supports_gauss_newton); "
            f"{type(objective).__name__} does not: use trust_region or arc, or a FiniteSum "
            "whose loss implements gauss_newton_pointwise"
        )
    d = objective.n_features
    x = check_vector(x0, "x0", size=d).copy()
    rng = check_random_state(random_state)
    gtol, max_iter, max_props, max_time = check_stopping(gtol, max_iter, max_props, max_time,
                                                         callback)
    open_unit = dict(low=0, high=1, low_inclusive=False, high_inclusive=False)
    forcing = as_forcing_term(cg_tol, "cg_tol", gtol=gtol)
    precond = as_preconditioner(preconditioner, d, objective=objective)
    cg_max_iter = check_scalar(cg_max_iter, "cg_max_iter", kind=int, low=1)
    c1 = check_scalar(c1, "c1", **open_unit)
    beta = check_scalar(backtrack_factor, "backtrack_factor", **open_unit)
    max_backtracks = check_scalar(max_backtracks, "max_backtracks", kind=int, low=0)
    cg = _ConjugateGradient()
    plan = SamplingPlan(objective, cg, hessian_sampling, hessian_sample_size,
                         gradient_sample_size, hessian_mode, cg_max_iter)
    nonuniform = plan.scheme == "nonuniform"
    if nonuniform and not callable(getattr(objective, "gauss_newton_probabilities", None)):
        raise TypeError(
            f"hessian_sampling='nonuniform' needs {type(objective).__name__}."
            "gauss_newton_probabilities(ev); use hessian_sampling='uniform'"
        )

    n = objective.n_samples
    state = SolverState(_columns("step_size"), callback, max_iter=max_iter,
                        max_props=max_props, max_time=max_time)
    ev, f, g, gnorm = state.start(objective, plan, x, rng)

    def record(accepted: bool, t: float, step_norm: float, inner: int, rows: int,
               spent: int = 0, tol: float = math.nan) -> bool:
        return state.record(x, {
            "iteration": state.nit, "loss": f, "grad_norm": gnorm, "step_size": t,
            "accepted": accepted, "step_norm": step_norm, "inner_iterations": inner,
            "hessian_rows": rows, "hessian_reused": False, "hessian_products": spent,
            "subproblem_tol": tol,
        })

    status = 99 if record(False, 0.0, 0.0, 0, 0) else None
    while status is None:
        status = state.stop_status(gnorm <= gtol)
        if status is not None:
            break
        sample = _gauss_newton_sample(objective, plan, ev, rng, nonuniform)
        # A failed line search is final when nothing random changes the next direction.
        deterministic = sample is None and plan.grad_sampler is None
        G = hessian_at(objective, ev, sample, plan.explicit, d, gauss_newton=True)
        tol = forcing.at(gnorm)
        built, apply = 0, None
        if precond is not None:
            apply, built = precond.prepare(G, rng)
            if apply is not None and not isinstance(apply, NystromPreconditioner):
                apply = checked_preconditioner(apply, d, "gauss_newton")
        p, inner, cg_res = cg.solve(G.matvec, g, tol, cg_max_iter, apply)
        if precond is not None:
            precond.judge(cg_res, gnorm)
        spent = inner + built
        state.props += 2 * G.n_rows * spent
        state.nhev += spent
        slope = float(g @ p)
        if not slope < 0:  # rounding only (CG from 0 descends): fall back to -g
            p, slope = -g, -gnorm * gnorm
        p_norm = float(np.linalg.norm(p))
        x_scale = _EPS * max(1.0, float(np.linalg.norm(x)))
        noise = 10.0 * _EPS * max(1.0, abs(f))
        t, accepted, trials = 1.0, False, 0
        while trials <= max_backtracks:
            if trials:
                t *= beta
            if t * p_norm <= x_scale:
                status = 4
                break
            ev_trial = objective.evaluate(x + t * p, gradient_sample=plan.gradient_sample(rng))
            state.nfev += 1
            state.njev += 1
            trials += 1
            state.props += n
            f_trial = float(ev_trial.fun)
            finite = math.isfinite(f_trial) and np.isfinite(ev_trial.grad).all()
            # Armijo; when the decrease it asks for is below round-off, a step that does
            # not increase f beyond that round-off is accepted (as the loop's ratio test
            # does, Conn, Gould & Toint 17.4.2), so the gradient can still reach gtol.
            if finite and (f_trial <= f + c1 * t * slope
                           or (-c1 * t * slope <= noise and f_trial <= f + noise)):
                accepted = True
                break
        if trials == 0:
            break
        if accepted:
            x, ev = x + t * p, ev_trial
            f, g = f_trial, ev.grad
            gnorm = float(np.linalg.norm(g))
            state.props += plan.grad_cost
        elif deterministic:
            status = 4
        # the "auto" schedule: a failed line search is a rejected model
        plan.observe(1.0 if accepted else -math.inf, accepted, gnorm, spent)
        state.nit += 1
        if record(accepted, t, t * p_norm, inner, G.n_rows, spent, tol):
            status = 99

    return state.result(x, f, g, status, hessian_sampling=repr(plan))


def _gauss_newton_sample(objective: Any, plan: SamplingPlan, ev: Any,
                         rng: np.random.Generator, nonuniform: bool) -> Any:
    """The rows of the next Gauss-Newton matrix (``None``: all of them)."""
    if not nonuniform:
        return plan.hessian_sample(ev, rng)
    # i.i.d. draws with the Gauss-Newton row probabilities, at the plan's size
    size = plan.sampler.size if plan.schedule is None else plan.schedule.next_size()
    if size is None:
        return None
    return sample_rows(objective.gauss_newton_probabilities(ev), size, replace=True,
                       random_state=rng)
