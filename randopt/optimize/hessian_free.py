"""Hessian-free optimization: damped, sub-sampled Gauss-Newton steps by truncated CG.

At an iterate ``x`` with gradient ``g`` the method minimises the damped
quadratic model

    q(p) = g^T p + p^T (G_S + lambda I) p / 2

by preconditioned conjugate gradients, where ``G_S`` is the Gauss-Newton
matrix (``J^T H_out J``, positive semi-definite for a loss convex in the
model's outputs; the objective's penalty included) on a uniform row sample
``S`` and ``lambda`` a Levenberg-Marquardt damping. This is Martens'
"Hessian-free" method [1]_, and the sub-sampled Gauss-Newton of the
reference code of Xu, Roosta and Mahoney [2]_ (``HFD/algorithms/
subsampled_gn.m``, which "mostly follows" [1]_). One iteration:

1. draw ``S`` (fixed size, or ``"auto"``: the
   :class:`~randopt.optimize.AdaptiveSampleSize` schedule);
2. run CG on ``(G_S + lambda I) p = -g`` from the previous iteration's last
   CG iterate times ``warm_start`` (Martens' 0.95; the reference's 1), with
   Martens' progress-based stopping (:func:`progress_cg`: at least
   ``cg_min_iter``, at most ``cg_max_iter`` iterations; stop at iteration
   ``i`` once ``q`` fell by less than a relative ``cg_progress_tol * k``
   over the last ``k = max(10, ceil(0.1 i))`` iterations), keeping the
   iterates of iterations ``ceil(5 * 1.3^j)`` and the last;
3. if ``q(p) >= 0`` (the model promises nothing, as can happen from a warm
   start) reject: ``lambda *= 3/2``, a fresh sample (the reference's rule);
4. CG-backtracking [1]_: from the last saved iterate backwards, the one
   with the lowest objective value (stop at the first that is not lower),
   compared on the curvature sample where the objective offers values on a
   sample (``sampled_value``: a :class:`~randopt.oracles.MinibatchObjective`
   or :class:`~randopt.oracles.JaxObjective`; Martens' demo code compares
   on its curvature minibatch), else on every row;
5. ``rho = (f(x) - f(x + p)) / (-q(p))`` updates the damping (Martens'
   Levenberg-Marquardt rule, :class:`LevenbergMarquardtDamping`:
   ``lambda *= 2/3`` when ``rho > 3/4``, ``lambda *= 3/2`` when
   ``rho < 1/4``);
6. an Armijo backtracking line search along ``p`` (both codes': ``c1 =
   1e-2``, ``t <- 0.8 t``, at most 60 reductions, then the step is rejected).

Martens [1]_ and the reference code [2]_ differ in the preconditioner (his
``(diag(sum_i grad f_i^2) + lambda)^0.75`` of per-example gradients; the
reference's ``grad^2 + lambda`` of the mean gradient), in the warm start
(decayed by 0.95; not decayed) and in CG-backtracking (his; none: the last
CG iterate). ``preset="paper"`` gives the reference's choices and its
initial damping 10; the default ``preset="martens"`` gives Martens'
choices and an initial damping of 1, the combination that measured best on
the reduced deep autoencoder of the papers (``docs/hessian_free.md``: a
training loss of 98 / 71 after 50 / 100 passes, against 173 / 115 from a
damping of 10, 181 / 142 for the paper preset and 119 / 72 for momentum
SGD at the best of four step sizes): the damping adapts by a factor 2/3
per iteration, so a start ten times too large costs about six iterations
of several passes each. Both
sample 5% of the rows for the curvature.

Cost accounting (``props``) as in :mod:`randopt.optimize.loop`: the
gradient at an accepted point ``2 n`` (``2 |S_g|`` when sampled), an
objective value ``n`` (each line-search trial, the taken CG iterate's
included, and each CG-backtracking candidate compared on every row), a
value on the curvature sample ``|S|``, each Gauss-Newton-vector product on
``S`` rows ``2 |S|`` (the warm start's residual product included, which
the reference code does not count) and each per-example gradient of
Martens' preconditioner ``2``.

References
----------
.. [1] J. Martens, "Deep learning via Hessian-free optimization", ICML
       (2010).
.. [2] P. Xu, F. Roosta and M. W. Mahoney, "Second-order optimization for
       non-convex machine learning: an empirical study", SDM (2020); code
       github.com/git-xp/Non-Convex-Newton (``HFD/``).
.. [3] J. Martens and I. Sutskever, "Training deep and recurrent networks
       with Hessian-free optimization", in Neural Networks: Tricks of the
       Trade, 2nd ed., Springer (2012).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from scipy.optimize import OptimizeResult

from .._validation import (
    check_bool,
    check_choice,
    check_random_state,
    check_scalar,
    check_vector,
)
from ._options import fill_doc
from .gauss_newton import _gauss_newton_sample
from .loop import SolverState, _columns, as_objective, check_stopping, hessian_at
from .sample_size import SamplingPlan

__all__ = ["HF_PRESETS", "LevenbergMarquardtDamping", "ProgressCGResult", "hessian_free",
           "progress_cg"]

_EPS = np.finfo(np.float64).eps
_HUGE = float(np.finfo(np.float64).max)
_TINY = float(np.finfo(np.float64).tiny)

#: The options in which Martens [1] and the reference code [2] differ, by preset.
HF_PRESETS = {
    "martens": dict(damping=1.0, preconditioner="martens", warm_start=0.95,
                    cg_backtracking=True),
    "paper": dict(damping=10.0, preconditioner="gradient", warm_start=1.0,
                  cg_backtracking=False),
}
_PRECONDITIONERS = ("martens", "gradient", "none")
#: Most rows whose per-example gradients Martens' preconditioner reads per iteration.
MARTENS_ROWS = 256


class LevenbergMarquardtDamping:
    """The damping ``lambda`` of the model ``G + lambda I`` and its update from ``rho``.

    Martens' rule [1]_ (and the reference code's [2]_): ``lambda *=
    decrease`` when ``rho > rho_high``, ``lambda *= increase`` when ``rho <
    rho_low`` or ``rho`` is NaN, unchanged otherwise. The value stays within
    ``[tiny, max float]``.

    Parameters
    ----------
    damping : float, default=10.0
        Initial ``lambda`` (> 0, finite).
    decrease : float, default=2/3
        Factor after a very good model (in ``(0, 1]``).
    increase : float, default=3/2
        Factor after a poor model (``>= 1``).
    rho_low, rho_high : float, default=0.25, 0.75
        Thresholds, ``0 <= rho_low <= rho_high``.

    Attributes
    ----------
    value : float
        The current damping (``nan`` until :meth:`start`).

    References
    ----------
    .. [1] J. Martens, "Deep learning via Hessian-free optimization", ICML
           (2010), sec. 4.1.
    .. [2] P. Xu, F. Roosta and M. W. Mahoney, "Second-order optimization
           for non-convex machine learning: an empirical study", SDM (2020).

    Examples
    --------
    >>> lm = LevenbergMarquardtDamping(damping=9.0)
    >>> lm.start()
    >>> [lm.update(rho) for rho in (0.9, 0.5, 0.1)]
    [6.0, 6.0, 9.0]
    """

    def __init__(self, damping: float = 10.0, decrease: float = 2.0 / 3.0,
                 increase: float = 1.5, rho_low: float = 0.25, rho_high: float = 0.75) -> None:
        self.damping0 = check_scalar(damping, "damping", low=0, low_inclusive=False)
        self.decrease = check_scalar(decrease, "damping_decrease", low=0, high=1,
                                     low_inclusive=False)
        self.increase = check_scalar(increase, "damping_increase", low=1)
        self.rho_low = check_scalar(rho_low, "rho_low", low=0)
        self.rho_high = check_scalar(rho_high, "rho_high", low=self.rho_low)
        self.value = math.nan

    def start(self) -> None:
        """Reset to the initial damping (once per run).

        Examples
        --------
        >>> lm = LevenbergMarquardtDamping(2.0); lm.start(); lm.value
        2.0
        """
        self.value = self.damping0

    def update(self, rho: float) -> float:
        """Update the damping from the reduction ratio ``rho`` and return it.

        Parameters
        ----------
        rho : float
            Actual over predicted decrease (``-inf`` or NaN for a failed trial).

        Returns
        -------
        float
            The new damping.

        Examples
        --------
        >>> lm = LevenbergMarquardtDamping(1.0); lm.start()
        >>> lm.update(float("nan")), lm.update(0.75), lm.update(0.25)
        (1.5, 1.5, 1.5)
        """
        if not rho >= self.rho_low:  # NaN included
            self.value = min(self.value * self.increase, _HUGE)
        elif rho > self.rho_high:
            self.value = max(self.value * self.decrease, _TINY)
        return self.value


class ProgressCGResult(NamedTuple):
    """The outcome of :func:`progress_cg`.

    Attributes
    ----------
    x : ndarray of shape (d,)
        The last iterate.
    value : float
        ``q(x) = -b^T x + x^T A x / 2`` at the last iterate.
    iterates : list of (int, ndarray, float)
        ``(iteration, x_i, q(x_i))`` of the saved iterates, in order; the
        last is the last iterate.
    nit : int
        CG iterations.
    nhev : int
        Products with ``A`` (``nit``, plus one for a non-zero ``x0``).
    status : str
        ``"progress"`` (the relative-progress test), ``"max_iter"``,
        ``"converged"`` (``||r|| <= 10 eps ||b||``: the residual at
        round-off level) or ``"no_curvature"`` (``p^T A p <= 0``).
    """

    x: np.ndarray
    value: float
    iterates: list
    nit: int
    nhev: int
    status: str


def progress_cg(
    matvec: Callable[[np.ndarray], np.ndarray],
    b: np.ndarray,
    *,
    x0: np.ndarray | None = None,
    min_iter: int = 5,
    max_iter: int = 250,
    progress_tol: float = 5e-4,
    precondition: Callable[[np.ndarray], np.ndarray] | None = None,
    save_first: int = 5,
    save_ratio: float = 1.3,
    keep_iterates: bool = True,
) -> ProgressCGResult:
    """Preconditioned CG on ``A x = b`` with Martens' progress-based stopping.

    CG minimises ``q(x) = -b^T x + x^T A x / 2``. It stops at iteration
    ``i >= min_iter`` once, with ``k = max(10, ceil(0.1 i))`` and ``i > k``,
    ``q(x_{i-k}) < 0`` and ``(q(x_i) - q(x_{i-k})) / q(x_i) < progress_tol *
    k`` (the relative decrease of ``q`` over the last ``k`` iterations is
    below ``progress_tol`` per iteration [1]_), or at ``max_iter``. The
    value of ``q`` comes from the recurrences, ``q(x) = -(b + r)^T x / 2``
    for ``r = b - A x``, at two inner products per iteration. The iterates
    of iterations ``ceil(save_first * save_ratio^j)`` and the last one are
    kept, for CG-backtracking. This is an inner routine: the caller checks
    the arguments.

    Parameters
    ----------
    matvec : callable
        ``v -> A v`` for a symmetric positive (semi-)definite ``A``.
    b : ndarray of shape (d,)
        Right-hand side.
    x0 : ndarray of shape (d,), optional
        Warm start (default 0; a non-zero one costs one product).
    min_iter, max_iter : int, default=5, 250
        Fewest and most iterations (``1 <= min_iter <= max_iter``).
    progress_tol : float, default=5e-4
        Martens' ``epsilon``.
    precondition : callable, optional
        ``r -> M r`` for a symmetric positive definite ``M ~ A^{-1}``.
    save_first, save_ratio : int and float, default=5, 1.3
        The iterations whose iterates are kept.
    keep_iterates : bool, default=True
        Keep the saved iterates (else only the last).

    Returns
    -------
    ProgressCGResult

    References
    ----------
    .. [1] J. Martens, "Deep learning via Hessian-free optimization", ICML
           (2010), sec. 4.4 and 4.6.

    Examples
    --------
    A diagonal matrix with 100 eigenvalues spread over ``[1, 1e4]``: CG stops
    well before 250 iterations, with ``q`` close to its minimum ``-b^T A^{-1} b / 2``.

    >>> import numpy as np
    >>> lam = np.logspace(0, 4, 100); b = np.ones(100)
    >>> res = progress_cg(lambda v: lam * v, b, max_iter=250)
    >>> res.status, res.nit < 250, [i for i, _, _ in res.iterates][:4]
    ('progress', True, [5, 7, 9, 11])
    >>> qmin = -0.5 * np.sum(b**2 / lam)
    >>> bool(abs(res.value - qmin) < 1e-2 * abs(qmin))
    True
    """
    d = b.shape[0]
    nhev = 0
    if x0 is None or not x0.any():
        x = np.zeros(d)
        r = b.copy()
    else:
        x = np.array(x0, dtype=np.float64)
        r = b - matvec(x)
        nhev = 1
    z = r if precondition is None else precondition(r)
    p = z.copy()
    rz = float(r @ z)
    # r at round-off level: CG has converged (further steps would only add rounding)
    floor2 = (10.0 * _EPS) ** 2 * float(b @ b)
    val = -0.5 * float((b + r) @ x)
    values = [val]  # values[i]: q after iteration i (values[0]: at x0)
    iterates: list = []
    next_save = float(save_first)
    status = "max_iter"
    i = 0
    while i < max_iter:
        if rz <= 0.0 or float(r @ r) <= floor2:
            status = "converged"
            break
        Ap = matvec(p)
        nhev += 1
        pAp = float(p @ Ap)
        if not pAp > 0.0:
            status = "no_curvature"
            break
        i += 1
        alpha = rz / pAp
        x = x + alpha * p
        r = r - alpha * Ap
        val = -0.5 * float((b + r) @ x)
        values.append(val)
        if i == math.ceil(next_save):
            if keep_iterates:
                iterates.append((i, x.copy(), val))
            next_save *= save_ratio
        k = max(10, math.ceil(0.1 * i))
        if i >= min_iter and i > k:
            before = values[i - k]
            if before < 0 and (val - before) / val < progress_tol * k:
                status = "progress"
                break
        z = r if precondition is None else precondition(r)
        rz_next = float(r @ z)
        p = z + (rz_next / rz) * p
        rz = rz_next
    if not iterates or iterates[-1][0] != i:
        iterates.append((i, x, val))
    return ProgressCGResult(x, val, iterates, i, nhev, status)


class _CG:
    """What the sampling plan asks of a sub-problem solver (CG takes many products)."""

    needs_matrix = False
    prefers_matrix = True


@fill_doc
def hessian_free(
    objective: Any,
    x0: Any,
    *,
    preset: str = "martens",
    damping: float | None = None,
    damping_decrease: float = 2.0 / 3.0,
    damping_increase: float = 1.5,
    rho_low: float = 0.25,
    rho_high: float = 0.75,
    hessian_sampling: str = "auto",
    hessian_sample_size: int | float | str = 0.05,
    gradient_sample_size: int | float | None = None,
    hessian_mode: str = "auto",
    preconditioner: str | None = None,
    warm_start: float | None = None,
    cg_backtracking: bool | None = None,
    cg_min_iter: int = 5,
    cg_max_iter: int = 250,
    cg_progress_tol: float = 5e-4,
    c1: float = 1e-2,
    backtrack_factor: float = 0.8,
    max_backtracks: int = 60,
    gtol: float = 1e-6,
    max_iter: int = 1000,
    max_props: float = math.inf,
    max_time: float = math.inf,
    callback: Callable[[np.ndarray, dict], Any] | None = None,
    random_state: Any = None,
) -> OptimizeResult:
    """Minimise an objective by Hessian-free optimization (damped sub-sampled Gauss-Newton).

    Parameters
    ----------
    objective : Objective
        A :mod:`randopt.oracles` objective with Gauss-Newton products
        (``supports_gauss_newton``): a :class:`~randopt.oracles.JaxObjective`
        given ``model`` and ``output_loss``, a
        :class:`~randopt.oracles.MinibatchObjective` given ``gnvp``, or a
        :class:`~randopt.oracles.FiniteSum` whose loss gives its Gauss-Newton
        curvature (for convex GLM losses such as the logistic and squared
        ones, the Hessian).
    %(x0)s
    preset : {"martens", "paper"}, default="martens"
        Where Martens [1]_ and the reference code [2]_ differ, whose choice
        the options left at None take (:data:`HF_PRESETS`): ``"martens"``:
        ``preconditioner="martens"``, ``warm_start=0.95``,
        ``cg_backtracking=True`` and ``damping=1`` (measured, see the module
        docstring); ``"paper"`` (the reference's ``subsampled_gn.m``):
        ``preconditioner="gradient"``, ``warm_start=1.0``,
        ``cg_backtracking=False``, ``damping=10``.
    damping : float, optional
        Initial Levenberg-Marquardt damping ``lambda`` (> 0). Default: the
        preset's (``"martens"``: 1, ``"paper"``: the reference's 10).
    damping_decrease, damping_increase : float, default=2/3, 3/2
        Factors on ``lambda`` when ``rho > rho_high`` and ``rho < rho_low``
        (``0 < damping_decrease <= 1 <= damping_increase``).
    rho_low, rho_high : float, default=0.25, 0.75
        Thresholds of the reduction ratio, ``0 <= rho_low <= rho_high``.
    %(hessian_sampling)s
    hessian_sample_size : int, float or "auto", default=0.05
        Rows of the curvature sample: a count in ``[1, n]`` or a fraction in
        ``(0, 1]`` (5% in [2]_), or ``"auto"``: the
        :class:`~randopt.optimize.AdaptiveSampleSize` schedule of
        :func:`~randopt.optimize.trust_region` (a failed line search counts
        as a rejected step); ignored by ``"full"``.
    %(gradient_sample_size)s
    %(hessian_mode)s
    preconditioner : {"martens", "gradient", "none"}, optional
        Diagonal preconditioner of CG: ``"martens"``: ``(v + lambda)^0.75``
        with ``v`` the mean of the squared per-example gradients on (at most
        :data:`MARTENS_ROWS` rows of) the curvature sample [1]_;
        ``"gradient"``: ``g^2 + lambda`` of the gradient [2]_; ``"none"``.
        Default: the preset's.
    warm_start : float, optional
        CG starts from this factor times the previous iteration's last CG
        iterate (in ``[0, 1]``; 0: from zero). Default: the preset's.
    cg_backtracking : bool, optional
        Choose among the saved CG iterates by the objective's value [1]_
        (else the last iterate). Default: the preset's.
    cg_min_iter, cg_max_iter : int, default=5, 250
        Fewest and most CG iterations per step, ``1 <= cg_min_iter <=
        cg_max_iter``.
    cg_progress_tol : float, default=5e-4
        Martens' relative-progress tolerance of CG (:func:`progress_cg`), in
        ``(0, 1)``.
    c1 : float, default=1e-2
        Armijo constant of the line search, in ``(0, 1)``.
    backtrack_factor : float, default=0.8
        ``t <- backtrack_factor * t`` after a failed trial, in ``(0, 1)``.
    max_backtracks : int, default=60
        Reductions of ``t`` before the step is rejected (>= 0).
    %(gtol)s
    max_iter : int, default=1000
        Maximum iterations (CG solves, with their backtracking; >= 0).
    %(max_props)s
    %(max_time)s
    %(callback)s
    %(random_state)s

    Returns
    -------
    %(result)s
        The step-size column is ``damping`` (the ``lambda`` the step was
        computed with); ``rho`` holds the reduction ratio that updated it
        (``-inf`` when the model promised no decrease), ``step_size`` the
        line search's ``t`` (0 for a rejected step), ``cg_iterate`` the CG
        iteration whose iterate was taken and ``passes`` is ``props / n``.

    Notes
    -----
    The module docstring (:mod:`randopt.optimize.hessian_free`) states the
    iteration and the cost accounting. ``nfev`` counts every objective value
    computed, the gradient passes of accepted points included, ``njev`` the
    gradients. The stopping tests, the counts and the result are those of
    every solver of :mod:`randopt.optimize` (:class:`SolverState`). Status
    4 ("no further progress possible") ends a run whose step fell below
    machine precision relative to ``x``. Compared with
    :func:`~randopt.optimize.gauss_newton` (undamped, CG from zero to a
    residual tolerance, the NLS papers' solver), this is the method for
    non-convex models such as neural networks, where ``G_S`` is often
    nearly singular and the damping keeps the steps in the region where the
    model is trusted.

    References
    ----------
    .. [1] J. Martens, "Deep learning via Hessian-free optimization", ICML
           (2010).
    .. [2] P. Xu, F. Roosta and M. W. Mahoney, "Second-order optimization for
           non-convex machine learning: an empirical study", SDM (2020);
           code github.com/git-xp/Non-Convex-Newton
           (``HFD/algorithms/subsampled_gn.m``).
    .. [3] J. Nocedal and S. J. Wright, "Numerical Optimization", 2nd ed.
           (2006), sec. 10.3 (Levenberg-Marquardt) and 7.1 (Newton-CG).

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.oracles import LogisticObjective
    >>> from randopt.optimize.hessian_free import hessian_free
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((2000, 5)); y = X @ np.ones(5) + rng.logistic(size=2000) > 0
    >>> f = LogisticObjective(X, y, alpha=1e-3)
    >>> res = hessian_free(f, np.zeros(5), gtol=1e-8, random_state=0)
    >>> bool(res.success), bool(res.history["damping"][-1] < 1e-2)  # damping falls near x*
    (True, True)

    The reference code's choices:

    >>> res = hessian_free(f, np.zeros(5), preset="paper", gtol=1e-8, random_state=0)
    >>> bool(res.success)
    True
    """
    objective = as_objective(objective, x0)
    if not getattr(objective, "supports_gauss_newton", False):
        raise TypeError(
            "objective must offer Gauss-Newton products (supports_gauss_newton); "
            f"{type(objective).__name__} does not: a JaxObjective needs model and output_loss, "
            "a MinibatchObjective gnvp, a FiniteSum a loss with gauss_newton_pointwise"
        )
    d = objective.n_features
    x = check_vector(x0, "x0", size=d).copy()
    rng = check_random_state(random_state)
    gtol, max_iter, max_props, max_time = check_stopping(gtol, max_iter, max_props, max_time,
                                                         callback)
    preset = check_choice(preset, "preset", tuple(HF_PRESETS))
    chosen = HF_PRESETS[preset]
    if preconditioner is None:
        preconditioner = chosen["preconditioner"]
    preconditioner = check_choice(preconditioner, "preconditioner", _PRECONDITIONERS)
    warm_start = check_scalar(chosen["warm_start"] if warm_start is None else warm_start,
                              "warm_start", low=0, high=1)
    cg_backtracking = check_bool(chosen["cg_backtracking"] if cg_backtracking is None
                                 else cg_backtracking, "cg_backtracking")
    lm = LevenbergMarquardtDamping(chosen["damping"] if damping is None else damping,
                                   damping_decrease, damping_increase, rho_low,
                                   rho_high)
    cg_min_iter = check_scalar(cg_min_iter, "cg_min_iter", kind=int, low=1)
    cg_max_iter = check_scalar(cg_max_iter, "cg_max_iter", kind=int, low=cg_min_iter)
    open_unit = dict(low=0, high=1, low_inclusive=False, high_inclusive=False)
    cg_progress_tol = check_scalar(cg_progress_tol, "cg_progress_tol", **open_unit)
    c1 = check_scalar(c1, "c1", **open_unit)
    beta = check_scalar(backtrack_factor, "backtrack_factor", **open_unit)
    max_backtracks = check_scalar(max_backtracks, "max_backtracks", kind=int, low=0)
    plan = SamplingPlan(objective, _CG(), hessian_sampling, hessian_sample_size,
                        gradient_sample_size, hessian_mode, cg_max_iter)
    nonuniform = plan.scheme == "nonuniform"
    if nonuniform and not callable(getattr(objective, "gauss_newton_probabilities", None)):
        raise TypeError(
            f"hessian_sampling='nonuniform' needs {type(objective).__name__}."
            "gauss_newton_probabilities(ev); use hessian_sampling='uniform'"
        )
    if preconditioner == "martens" and not getattr(objective, "supports_sampling", False):
        raise TypeError(
            f"preconditioner='martens' needs per-example gradients, which "
            f"{type(objective).__name__} has no rows for; use 'gradient' or 'none'"
        )

    n = objective.n_samples
    columns = _columns("damping") + ("rho", "step_size", "cg_iterate", "passes")
    state = SolverState(columns, callback, max_iter=max_iter, max_props=max_props,
                        max_time=max_time)
    ev, f, g, gnorm = state.start(objective, plan, x, rng)
    lm.start()

    def record(accepted: bool, lam: float, rho: float, t: float, step_norm: float,
               inner: int, chosen_it: int, rows: int, spent: int = 0) -> bool:
        return state.record(x, {
            "iteration": state.nit, "loss": f, "grad_norm": gnorm, "damping": lam,
            "accepted": accepted, "step_norm": step_norm, "inner_iterations": inner,
            "hessian_rows": rows, "hessian_reused": False, "hessian_products": spent,
            "subproblem_tol": cg_progress_tol, "rho": rho, "step_size": t,
            "cg_iterate": chosen_it, "passes": state.props / n,
        })

    def value(point: np.ndarray) -> float:
        state.nfev += 1
        state.props += n
        out = float(objective.evaluate(point, need_grad=False).fun)
        return out if math.isfinite(out) else math.inf

    sampled_value = getattr(objective, "sampled_value", None)
    status = 99 if record(False, lm.value, math.nan, 0.0, 0.0, 0, 0, 0) else None
    p_prev = np.zeros(d)
    while status is None:
        status = state.stop_status(gnorm <= gtol)
        if status is not None:
            break
        lam = lm.value
        sample = _gauss_newton_sample(objective, plan, ev, rng, nonuniform)
        deterministic = sample is None and plan.grad_sampler is None
        G = hessian_at(objective, ev, sample, plan.explicit, d, gauss_newton=True)
        spent = 0
        if preconditioner == "none":
            precondition = None
        else:
            if preconditioner == "gradient":
                diag = g * g + lam
            else:
                v, rows = _squared_gradients(objective, x, sample, rng)
                state.props += 2 * rows
                diag = (v + lam) ** 0.75
            # an overflowing gradient leaves this iteration unpreconditioned
            precondition = _diagonal(diag) if np.isfinite(diag).all() else None

        def matvec(v: np.ndarray, G: Any = G, lam: float = lam) -> np.ndarray:
            return G.matvec(v) + lam * v

        cg = progress_cg(matvec, -g, x0=warm_start * p_prev if warm_start else None,
                         min_iter=cg_min_iter, max_iter=cg_max_iter,
                         progress_tol=cg_progress_tol, precondition=precondition,
                         keep_iterates=cg_backtracking)
        spent += cg.nhev
        state.props += 2 * G.n_rows * cg.nhev
        state.nhev += cg.nhev
        p_prev = cg.x
        accepted, t, step_norm, it, rho = False, 0.0, 0.0, cg.nit, -math.inf
        x_scale = _EPS * max(1.0, float(np.linalg.norm(x)))
        if not cg.value < 0:
            lm.update(rho)  # the model promises no decrease: more damping (as [2])
        elif float(np.linalg.norm(cg.x)) <= x_scale:
            lm.update(rho)
            if deterministic:
                status = 4
        else:
            estimate = None
            if sample is not None and callable(sampled_value):
                def estimate(point: np.ndarray, sample: Any = sample, rows: int = G.n_rows
                             ) -> float:
                    state.props += rows
                    out = float(sampled_value(point, sample))
                    return out if math.isfinite(out) else math.inf

            it, p, q, f_new = _backtrack(cg.iterates, x, value, estimate, cg_backtracking)
            rho = (f - f_new) / -q if math.isfinite(f_new) else -math.inf
            lm.update(rho)
            t = _line_search(x, p, f, float(g @ p), f_new, value, c1, beta, max_backtracks,
                             x_scale)
            if t > 0:
                accepted, step_norm = True, t * float(np.linalg.norm(p))
                x = x + t * p
                ev = objective.evaluate(x, gradient_sample=plan.gradient_sample(rng))
                state.nfev += 1
                state.njev += 1
                state.props += plan.grad_cost
                f, g = float(ev.fun), ev.grad
                gnorm = float(np.linalg.norm(g))
            else:
                if deterministic and t < 0:
                    status = 4  # the step fell below precision: no further progress
                t = 0.0
        # the "auto" schedule: a rejected step grows the sample
        plan.observe(rho, accepted, gnorm, spent, step_norm if accepted else None)
        state.nit += 1
        if record(accepted, lam, rho, t, step_norm, cg.nit, it, G.n_rows, spent):
            status = 99
        if status is None and lm.value >= _HUGE:
            status = 4

    return state.result(x, f, g, status, hessian_sampling=repr(plan))


def _diagonal(diag: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """``r -> r / diag`` (a diagonal ``M^{-1}``; entries > 0 by construction)."""
    inv = 1.0 / diag

    def apply(r: np.ndarray) -> np.ndarray:
        return inv * r

    return apply


def _squared_gradients(objective: Any, x: np.ndarray, sample: Any,
                       rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """Mean of the squared per-example gradients over (part of) the curvature sample."""
    if sample is None:
        rows = np.arange(objective.n_samples)
    else:
        rows = np.asarray(getattr(sample, "indices", sample))
    if rows.shape[0] > MARTENS_ROWS:
        rows = rng.choice(rows, MARTENS_ROWS, replace=False)
    moment = getattr(objective, "gradient_second_moment", None)
    if callable(moment):  # one pass per row without the per-call checks
        return np.asarray(moment(x, rows), dtype=np.float64), int(rows.shape[0])
    total = np.zeros(x.shape[0])
    for i in rows:
        gi = objective.gradient(x, sample=np.array([i]))
        total += gi * gi
    return total / rows.shape[0], int(rows.shape[0])


def _backtrack(iterates: list, x: np.ndarray, value: Callable, estimate: Callable | None,
               enabled: bool) -> tuple[int, np.ndarray, float, float]:
    """``(iteration, p, q(p), f(x + p))`` of the CG iterate taken (Martens' backtracking).

    From the last iterate backwards while the value falls; compared by
    ``estimate`` (a value on the curvature sample) when given, else by ``value``.
    """
    it, p, q = iterates[-1]
    if not enabled or len(iterates) == 1:
        return it, p, q, value(x + p)
    compare = value if estimate is None else estimate
    best = compare(x + p)
    for it_j, p_j, q_j in reversed(iterates[:-1]):
        f_j = compare(x + p_j)
        if not f_j < best:
            break
        it, p, q, best = it_j, p_j, q_j, f_j
    return it, p, q, best if estimate is None else value(x + p)


def _line_search(x: np.ndarray, p: np.ndarray, f: float, slope: float, f_p: float,
                 value: Callable, c1: float, beta: float, max_backtracks: int,
                 x_scale: float) -> float:
    """The step ``t`` of Armijo backtracking from ``t = 1`` (whose value is known).

    ``t = 0``: rejected after ``max_backtracks`` reductions; ``t = -1``: the
    step fell below ``x_scale`` first.
    """
    noise = 10.0 * _EPS * max(1.0, abs(f))
    p_norm = float(np.linalg.norm(p))
    t, f_t, j = 1.0, f_p, 0
    while True:
        # Armijo; below round-off, a step that does not increase f beyond it (as gauss_newton)
        if f_t <= f + c1 * t * slope or (-c1 * t * slope <= noise and f_t <= f + noise):
            return t
        if j >= max_backtracks:
            return 0.0
        t *= beta
        j += 1
        if t * p_norm <= x_scale:
            return -1.0
        f_t = value(x + t * p)
