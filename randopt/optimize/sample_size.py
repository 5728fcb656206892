"""The Hessian sample of the sub-sampled Newton methods, its size chosen by a cost model.

:class:`SamplingPlan` is what a solver's loop holds per run: the Hessian and
gradient samplers, the form of the Hessian (an explicit matrix or products)
and, for ``hessian_sample_size="auto"``, the :class:`AdaptiveSampleSize`
schedule below.

``hessian_sample_size="auto"`` (the default of :func:`randopt.optimize.trust_region`
and :func:`randopt.optimize.arc`) asks an :class:`AdaptiveSampleSize` for the
number of rows of the Hessian sample at every new iterate, and tells it the
outcome of every trial step. The schedule is deterministic: it reads sizes,
counts and the run's own numbers (``rho``, gradient norms, Hessian-vector
products), never a clock, so a fixed ``random_state`` gives the same run.

Cost model
----------
Costs are counted in multiply-adds, with ``m`` entries per row (``m = d`` for
dense data, the mean number of stored entries for sparse data):

========================================  ======================================
one pass (value, gradient, curvature)     ``P = n (2 m + c_eval)``, ``c_eval = 20``
explicit Hessian on ``s`` sampled rows    ``s (2 m c_H + c_gather m)``, ``c_gather = 10``
explicit exact Hessian (no gather)        ``2 n m c_H``
``k`` products on ``s`` sampled rows      ``k s (2 m + c_gather m)``
``k`` exact products                      ``2 k n m``
========================================  ======================================

``c_H`` is the cost of forming the matrix in products
(:meth:`randopt.oracles.Objective.hessian_matrix_cost`: ``m / 4`` for a
binary loss, so ``2 m c_H = m^2 / 2``; ``O(K m)`` for a ``K``-class loss).
``c_eval`` prices the loss's exponentials and logarithms; ``c_gather`` the
reads of rows at random positions (a cache line per eight entries), which a
sequential pass over all rows does not pay. ``k`` is the number of products
one sub-problem takes: the mean observed so far, at first
``min(d, subproblem_max_iter)`` for a fixed tolerance and
``min(d, subproblem_max_iter, 10)`` (:data:`FORCING_PRIOR_PRODUCTS`) for a
forcing term (``"ew"``, ``"sqrt"``, ...), whose first solve stops at half the
residual; the default ``subproblem_tol="auto"`` takes the forcing term's
prior where its models are products (matrix-free objectives, ``d > 1000``,
wide data) and the fixed tolerance's elsewhere (its explicit models are
solved to ``1e-9``). Data that is not in this process's memory
(Dask) pays one more pass per draw (the gather touches every chunk).

The rule
--------
1. *Exact when cheap.* If forming the exact Hessian costs at most
   ``exact_cost`` passes (default 4), the run uses the exact Hessian from the
   start (no draws: the run is deterministic): Newton's local quadratic
   convergence then saves more than a sampled model's cheaper iterations.
2. *Floor.* A uniform sample of
   ``s >= 2 kappa ln(q / delta) / eps^2`` rows keeps
   ``lambda_min(H_S) >= (1 - eps) lambda_min(H)`` with probability
   ``1 - delta`` (matrix Chernoff; Roosta-Khorasani and Mahoney [1]_, Lemma
   1), ``kappa = K / gamma`` the ratio of the largest row Hessian to the
   smallest eigenvalue of the mean. ``kappa`` is unknown; for isotropic rows
   it is ``q``, the dimension the sub-problem explores, ``q = min(d,
   subproblem_max_iter)``. With ``eps = 1/2`` and ``delta = 1/20`` the floor
   is ``8 q ln(20 q)`` rows (``d ln d``-like: 1,071 rows for ``d = 22``,
   13,345 for ``d = 201``). *Rank bound*: a row's curvature is ``a_i a_i^T``
   (times the loss's block), so ``s`` rows of a finite sum over a data matrix
   with ``p`` columns span at most ``s`` of the data's ``min(n, p)``
   directions, and the model of a smaller sample is singular on the rest
   (the trust region then cuts steps along directions it knows only through
   the penalty); the floor is at least ``min(n, p)``. Wide data (``p >= n``,
   text) is therefore exact: a row sample cannot help there, the run uses
   exact products with the inexact CG of the forcing term. With ``n`` at or
   below the floor no sample can meet it: the exact Hessian, from the start
   (deterministic runs on small data), except for an objective whose Hessian
   exists only as products (``matrix_free``: a network, where a product on
   ``s`` rows costs about ``2 s`` row evaluations): there the exact Hessian
   is taken only when rule 1 finds it cheap, and otherwise the run starts at
   the size whose products cost ``budget`` passes per iteration (rule 3: a
   few percent of ``n`` for ~10 products per sub-problem). Such an objective
   pays no ``c_gather``: its rows are inputs whose width is nothing against
   the product's ``2 m`` (``m`` its parameter count), so sampled products
   cost the same per row as exact ones and rule 6 switches only at ``n``;
   rules 4 and 5 grow its sample to ``max_cost`` passes at most (its model
   error is mostly non-convexity, which the radius answers, not sampling).
3. *Initial size*: the larger of the floor and the size at which the sampled
   Hessian costs ``budget`` passes (default 1/4); the floor itself never
   costs more than ``exact_cost`` passes (the price rule 1 accepts for the
   exact Hessian).
4. *Growth with the gradient.* Fast local convergence needs a Hessian error
   ``O(||g||)`` (quadratic) or at least vanishing (superlinear; Bollapragada,
   Byrd and Nocedal [2]_, Theorems 2.2-2.3). The error of a uniform sample
   without replacement falls like ``sqrt(1/s - 1/n)``, so after an accepted
   step the size becomes the ``s`` with ``1/s - 1/n = (1/s_0 - 1/n)
   (||g|| / ||g_0||)^2``, but never beyond the size at which the sampled
   Hessian costs ``max_cost`` passes (default 1): the gradient rule never
   makes the Hessian dearer than the evaluation each iteration pays anyway.
5. *Growth on model error*, without the cost cap. A rejected step
   (``rho < eta2``: the model predicted a decrease that did not happen)
   multiplies the size by ``growth`` (default 2), and the loop draws the
   larger sample at once, at the same iterate. So does slow convergence:
   near a minimiser, ``||x_{k+1} - x*|| <= (M / 2 mu) ||x_k - x*||^2 +
   (sigma / (mu sqrt(|S|))) ||x_k - x*||`` ([2]_, Theorem 2.2), a linear
   rate proportional to the sampling error; an accepted step whose gradient
   norm falls by less than ``rate_target`` (default 1/2) multiplies the size
   by ``min(growth, (rate / rate_target)^2)``, the factor that brings that
   rate to the target.
6. *Switch to the exact Hessian* once the sample costs as much as the exact
   Hessian (an explicit one on dense in-memory rows: at ``s >= n m / (m +
   2 c_gather)``); from then on no rows are drawn. Sizes never decrease.
7. *Reuse the model* (lazy Hessians: Doikov, Chayti and Jaggi [4]_) at the
   next iterate after an accepted step when the model predicted that step
   well (``rho >= reuse_rho``, default 0.9), the gradient norm fell at least
   five-fold (``reuse_rate``, default 0.2: the superlinear phase; measured on
   ijcnn1, reuse in the linear phase costs more iterations than it saves
   Hessians), the step was no longer than the accepted step before it (the
   local phase, where steps shrink: never after the first step, whose
   length says nothing about the Hessian's variation), the size did not
   change, and the
   model has been reused fewer than ``m`` times, ``m = floor(C_H / P)`` the
   cost of forming it in passes (Doikov et al.'s ``m ~`` Hessian cost over
   gradient cost: a model that costs less than a pass is never reused, nor
   one used through products, which are paid per product anyway). A
   model ``H(x_j)`` used at ``x_k`` errs by at most ``L ||x_k - x_j||``
   (``L`` the Hessian's Lipschitz constant), which the inexact-Hessian
   theory of Xu, Roosta and Mahoney [3]_ admits while that stays below the
   accuracy it asks; the ``rho`` test is the practical check. A step
   rejected on a reused model refreshes it at the same iterate, without
   growing the sample. The gradient is always exact (fresh at every
   iterate). Accounting: a reused model costs no Hessian formation; its
   products still count ``2 |S|`` propagations each.

Examples of the outcome (measured in ``benchmarks/bench_solvers.py``):
ijcnn1 (49,990 x 22) goes exact from the start (its exact Hessian costs 3.8
passes); a 500,000 x 201 logistic regression samples the 13,345-row floor
(1.4 passes) throughout, each sample used once; any problem with ``n``
below the floor is exact. Rule 7 reuses few models on ijcnn1 (one of 9).

References
----------
.. [1] F. Roosta-Khorasani and M. W. Mahoney, "Sub-sampled Newton methods",
       Math. Program. 174 (2019), 293-326.
.. [2] R. Bollapragada, R. H. Byrd and J. Nocedal, "Exact and inexact
       subsampled Newton methods for optimization", IMA J. Numer. Anal. 39
       (2019), 545-578.
.. [3] P. Xu, F. Roosta and M. W. Mahoney, "Newton-type methods for non-convex
       optimization under inexact Hessian information", Math. Program. 184
       (2020), 35-70.
.. [4] N. Doikov, E. M. Chayti and M. Jaggi, "Second-order optimization with
       lazy Hessians", ICML (2023).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .._validation import check_bool, check_choice, check_positive_int, check_scalar
from ..oracles import HessianSampler

__all__ = [
    "AdaptiveSampleSize", "EVAL_COST", "EXPLICIT_MAX_DIM", "FORCING_PRIOR_PRODUCTS", "GATHER_COST",
    "SamplingPlan",
]

#: Largest ``d`` for which ``hessian_mode="auto"`` forms the sampled Hessian.
EXPLICIT_MAX_DIM = 1000
_SCHEMES = ("full", "uniform", "nonuniform")

#: Products a forcing-term sub-problem is expected to take before any is observed: its
#: first solve stops at half the residual (Eisenstat-Walker's ``eta_0 = 0.5``), which
#: CG reaches in about ``sqrt(kappa) ln(4) / 2`` steps, 10 for ``kappa ~ 200``.
FORCING_PRIOR_PRODUCTS = 10
#: Multiply-adds a loss evaluation costs per row, beyond the ``2 m`` of ``X w`` and ``X^T r``.
EVAL_COST = 20.0
#: Multiply-adds per entry of reading a row at a random position (a cache line per 8 entries).
GATHER_COST = 10.0

# The floor's matrix-Chernoff constants: lambda_min(H_S) >= (1 - EPS) lambda_min(H)
# with probability 1 - DELTA.
_EPS = 0.5
_DELTA = 0.05


class _ProductTally:
    """Hessian-vector products per accepted model: what a sub-problem is expected to take."""

    __slots__ = ("prior", "seen", "models", "last", "current")

    def __init__(self, prior: float) -> None:
        self.prior = float(prior)
        self.seen = self.models = self.last = self.current = 0

    def add(self, n_products: int, accepted: bool) -> None:
        """Count one trial's products; an accepted trial closes its model's count."""
        self.current += n_products
        if accepted:
            self.models += 1
            self.seen += self.current
            self.last, self.current = self.current, 0

    def expected(self) -> float:
        """The larger of the mean and the last count, else the prior."""
        if self.models:
            # The larger of the mean and the last: CG takes more products as the
            # iteration converges (a relative tolerance on a smaller gradient), and
            # the mean alone lags behind that growth.
            return max(self.seen / self.models, self.last, 1.0)
        return self.prior


class AdaptiveSampleSize:
    """Hessian sample sizes from a cost model, grown as the iteration needs.

    The loop of :func:`randopt.optimize.newton_loop` calls :meth:`start` at
    ``x0``, :meth:`next_size` at every new iterate (``None``: the exact
    Hessian) and :meth:`observe` after every trial step; :attr:`rows` is the
    size the next draw would take. The module docstring states the cost
    model and the rule.

    Parameters
    ----------
    n_samples : int
        Rows of the finite sum (``n``).
    n_features : int
        Variables (``d``).
    explicit : bool, default=True
        Whether the sampled Hessian is formed as a ``d x d`` matrix (else it
        is used through products).
    row_length : float, optional
        Entries per row ``m`` (stored entries of a sparse row); default ``d``.
    matrix_cost : float, optional
        Cost of forming the matrix in products on the same rows (``c_H``);
        default ``m / 4``, the binary formula.
    products : int, optional
        Products one sub-problem is expected to take before any is observed,
        and the dimension ``q`` of the floor; default ``min(d, 250)``.
    local : bool, default=True
        Whether the data is in this process's memory (else every draw costs
        one more pass: the gather).
    floor_dim : int, optional
        The dimension ``q`` of the floor (rule 2); default ``products``.
    rank : int, optional
        Rows needed to span the data, ``min(n, p)`` for a finite sum over a
        data matrix with ``p`` columns (rule 2: the floor is at least this,
        and ``rank >= n`` means the exact Hessian); ``None``: unknown (a
        matrix-free objective).
    products_only : bool, default=False
        The objective has no explicit Hessian (``matrix_free``: a network):
        ``n`` at or below the floor then means the exact Hessian only when
        its products cost at most ``exact_cost`` passes (rule 1); otherwise
        the floor is capped at that price (rule 3).
    budget : float, default=0.25
        Initial cost of the sampled Hessian, in passes (> 0).
    max_cost : float, default=1.0
        Largest cost, in passes, to which the gradient rule grows the sample
        (``>= budget``).
    exact_cost : float, default=4.0
        Use the exact Hessian from the start when it costs at most this many
        passes, and never let the floor cost more (``>= 0``).
    growth : float, default=2.0
        Factor on the size after a rejected step, and the largest one after
        a slow step (``>= 1``; 1 disables both).
    rate_target : float, default=0.5
        Gradient-norm reduction per accepted step below which the sample
        grows (in ``[0, 1]``; 0 disables the rule).
    reuse_rate : float, default=0.2
        Largest gradient-norm ratio (new over previous accepted) after which
        a model is kept (rule 7: the superlinear phase, where the model's
        error ``L ||x_k - x_j||`` is small), in ``[0, 1]``.
    reuse_rho : float or None, default=0.9
        Smallest ``rho`` of an accepted step after which its model is kept
        at the next iterate (rule 7; in ``(0, 1]``; ``None`` disables reuse).
    max_reuse : int, optional
        Most consecutive reuses of one model; default from the cost model,
        ``floor(hessian_cost / pass_cost)`` at each fresh model.

    Attributes
    ----------
    floor : int
        The matrix-Chernoff floor ``8 q ln(20 q)``, capped at ``n``.
    rows : int or None
        The current size (``None``: the exact Hessian).
    sizes : list of int
        The size chosen at each fresh model (``n_samples`` for the exact
        Hessian), in order.
    n_reused : int
        Iterates that reused the previous iterate's model.

    References
    ----------
    .. [1] F. Roosta-Khorasani and M. W. Mahoney, "Sub-sampled Newton
           methods", Math. Program. 174 (2019), 293-326.
    .. [2] R. Bollapragada, R. H. Byrd and J. Nocedal, "Exact and inexact
           subsampled Newton methods for optimization", IMA J. Numer. Anal.
           39 (2019), 545-578.

    Examples
    --------
    A 500,000 x 201 problem samples its floor; ijcnn1's shape goes exact:

    >>> from randopt.optimize import AdaptiveSampleSize
    >>> big = AdaptiveSampleSize(500_000, 201)
    >>> big.start(grad_norm=1.0), big.floor
    (13345, 13345)
    >>> big.observe(rho=-1.0, accepted=False, grad_norm=1.0)  # a rejection doubles it
    >>> big.rows
    26690
    >>> AdaptiveSampleSize(49_990, 22).start(grad_norm=1.0) is None
    True
    """

    def __init__(
        self,
        n_samples: int,
        n_features: int,
        *,
        explicit: bool = True,
        row_length: float | None = None,
        matrix_cost: float | None = None,
        products: int | None = None,
        local: bool = True,
        floor_dim: int | None = None,
        rank: int | None = None,
        products_only: bool = False,
        budget: float = 0.25,
        max_cost: float = 1.0,
        exact_cost: float = 4.0,
        growth: float = 2.0,
        rate_target: float = 0.5,
        reuse_rho: float | None = 0.9,
        reuse_rate: float = 0.2,
        max_reuse: int | None = None,
    ) -> None:
        self.n_samples = check_positive_int(n_samples, "n_samples")
        self.n_features = check_positive_int(n_features, "n_features")
        self.explicit = check_bool(explicit, "explicit")
        self.local = check_bool(local, "local")
        d = self.n_features
        self.row_length = check_scalar(d if row_length is None else row_length, "row_length",
                                       low=0, low_inclusive=False)
        self.matrix_cost = check_scalar(self.row_length / 4.0 if matrix_cost is None
                                        else matrix_cost, "matrix_cost", low=0,
                                        low_inclusive=False)
        self.products = check_positive_int(min(d, 250) if products is None else products,
                                           "products")
        self.floor_dim = check_positive_int(self.products if floor_dim is None else floor_dim,
                                            "floor_dim")
        self.rank = None if rank is None else check_positive_int(rank, "rank")
        self.products_only = check_bool(products_only, "products_only")
        self.budget = check_scalar(budget, "budget", low=0, low_inclusive=False)
        self.max_cost = check_scalar(max_cost, "max_cost", low=self.budget)
        self.exact_cost = check_scalar(exact_cost, "exact_cost", low=0)
        self.growth = check_scalar(growth, "growth", low=1)
        self.rate_target = check_scalar(rate_target, "rate_target", low=0, high=1)
        self.reuse_rho = check_scalar(reuse_rho, "reuse_rho", low=0, high=1,
                                      low_inclusive=False, allow_none=True)
        self.reuse_rate = check_scalar(reuse_rate, "reuse_rate", low=0, high=1)
        self.max_reuse = (None if max_reuse is None
                          else check_positive_int(max_reuse, "max_reuse", minimum=0))
        q = min(d, self.floor_dim)
        chernoff = 2.0 * q * math.log(q / _DELTA) / _EPS**2
        # rule 2's rank bound: fewer rows than the data's rank leave the model
        # singular on the rest of the data's span
        self.floor = min(self.n_samples, max(math.ceil(chernoff), self.rank or 0))
        self.rows: int | None = None
        self.sizes: list[int] = []
        self._reset()

    # -- cost model --------------------------------------------------------- #
    def expected_products(self) -> float:
        """Products per sub-problem: the larger of the mean and the last so far, else ``products``.

        Returns
        -------
        float

        Examples
        --------
        >>> AdaptiveSampleSize(100, 10).expected_products()
        10.0
        """
        return self._tally.expected()

    def pass_cost(self) -> float:
        """Multiply-adds of one pass (value, gradient and curvature), ``n (2 m + c_eval)``.

        Returns
        -------
        float

        Examples
        --------
        >>> AdaptiveSampleSize(100, 10).pass_cost()
        4000.0
        """
        return self.n_samples * (2.0 * self.row_length + EVAL_COST)

    def hessian_cost(self, rows: int | None) -> float:
        """Multiply-adds of the Hessian of one iterate on ``rows`` sampled rows (``None``: exact).

        Parameters
        ----------
        rows : int or None
            Sampled rows, or ``None`` for the exact Hessian.

        Returns
        -------
        float
            A sample pays its random reads (once for a matrix, at every
            product otherwise) and, for data not in memory, one pass for the
            gather.

        Examples
        --------
        >>> s = AdaptiveSampleSize(100, 10)
        >>> s.hessian_cost(None), s.hessian_cost(10)
        (5000.0, 1500.0)
        """
        m = self.row_length
        # A matrix-free objective (a network) gathers its input rows, whose width is
        # nothing against the product's 2 m (m its parameter count): no gather price,
        # else sampled products would look dearer per row than exact ones and a few
        # rejections would switch a network to every row (rule 6).
        gather = 0.0 if self.products_only else GATHER_COST
        if self.explicit:
            form = 2.0 * m * self.matrix_cost
            exact_row, sampled_row = form, form + gather * m
        else:
            k = self.expected_products()
            exact_row, sampled_row = 2.0 * k * m, k * (2.0 + gather) * m
        if rows is None:
            return self.n_samples * exact_row
        return rows * sampled_row + (0.0 if self.local else self.pass_cost())

    def _rows_for_cost(self, passes: float) -> float:
        """Sampled rows whose Hessian costs ``passes`` passes (the gather included)."""
        fixed = self.hessian_cost(0)
        return max(passes * self.pass_cost() - fixed, 0.0) / (self.hessian_cost(1) - fixed)

    # -- the schedule ------------------------------------------------------- #
    def _reset(self) -> None:
        self.rows = None
        self.sizes = []
        self._exact = False
        self._size = 0.0
        self._s0 = 0.0
        self._g0 = self._g_prev = self._g_last = math.nan
        self._s_last = math.nan  # no accepted step yet: the first is never "shrinking"
        self._tally = _ProductTally(self.products)
        self.n_reused = 0
        self._age = 0  # reuses of the current model
        self._keep = False
        self._reused = False

    def start(self, grad_norm: float) -> int | None:
        """Reset for a new run at ``x0`` and return the first size.

        Parameters
        ----------
        grad_norm : float
            ``||g(x0)||``.

        Returns
        -------
        int or None
            Rows to sample, or ``None`` for the exact Hessian.

        Examples
        --------
        >>> AdaptiveSampleSize(200, 10).start(grad_norm=1.0) is None  # n below the floor
        True
        """
        self._reset()
        self._g0 = self._g_prev = check_scalar(grad_norm, "grad_norm", low=0, allow_inf=True)
        self._g_last = self._g0
        n = self.n_samples
        cheap = self.hessian_cost(None) <= self.exact_cost * self.pass_cost()
        # n at or below the floor: exact, unless the exact Hessian exists only as
        # products that cost more than exact_cost passes per iteration (a matrix-free
        # objective, e.g. a network: then the floor is capped by that price, rule 3)
        spans = self.rank is not None and self.rank >= n  # no row sample spans the data
        if cheap or spans or (self.floor >= n and not self.products_only):
            self._size = float(n)
        else:
            # The floor never costs more than exact_cost passes; a matrix-free objective
            # with n below the floor cannot meet it at any size (no convex model to
            # certify), and starts at the budget's price, the few percent of n the
            # papers' network experiments sample.
            cap = self.budget if self.products_only and self.floor >= n else self.exact_cost
            floor = min(self.floor, math.ceil(self._rows_for_cost(cap)))
            self._size = float(min(n, max(floor, math.ceil(self._rows_for_cost(self.budget)))))
        self._s0 = self._size
        self._settle()
        return self.rows

    def _settle(self) -> None:
        """``rows`` from the current size; exact (final) once a sample costs as much."""
        if not self._exact:
            size = min(self.n_samples, math.ceil(self._size))
            self._exact = size >= self.n_samples or (
                self.hessian_cost(None) <= self.hessian_cost(size)
            )
            self.rows = None if self._exact else size

    def observe(self, rho: float, accepted: bool, grad_norm: float, n_products: int = 0,
                step_norm: float | None = None) -> None:
        """Update the size from one trial step's outcome.

        Parameters
        ----------
        rho : float
            Actual over predicted decrease of the trial step.
        accepted : bool
            Whether the step was accepted.
        grad_norm : float
            Gradient norm at the current iterate after the step (the trial
            point's when accepted).
        n_products : int, default=0
            Hessian-vector products the trial's sub-problem spent.
        step_norm : float, optional
            ``||s||`` of the trial step; a model is reused only after an
            accepted step no longer than the accepted step before it (rule
            7; ``None``: no such test).

        Examples
        --------
        >>> s = AdaptiveSampleSize(10**6, 50)
        >>> s.start(grad_norm=1.0)
        17143
        >>> s.observe(rho=0.9, accepted=True, grad_norm=0.5)  # error ~ ||g||: about 4x
        >>> s.rows
        65218
        """
        grad_norm = check_scalar(grad_norm, "grad_norm", low=0, allow_inf=True)
        n_products = check_positive_int(n_products, "n_products", minimum=0)
        if step_norm is not None:
            step_norm = check_scalar(step_norm, "step_norm", low=0)
        self._observe(rho, bool(accepted), grad_norm, n_products, step_norm)

    def _observe(self, rho: float, accepted: bool, grad_norm: float, n_products: int,
                 step_norm: float | None) -> None:
        # observe() without the checks: the loop's own numbers (a float norm, an int count)
        drawn = self.rows
        shrinking = True
        if step_norm is not None and accepted:
            step = step_norm
            shrinking = step <= self._s_last
            self._s_last = step
        reused, self._reused = self._reused, False
        self._keep = False
        # products per sub-problem are learned on every path: the loop's choice
        # between a matrix and products reads them (expected_products)
        self._tally.add(n_products, accepted)
        if self._exact:
            self._keep_model(rho, accepted and shrinking, drawn, grad_norm)
            if accepted:
                self._g_last = grad_norm
            return
        before = self._size
        if not accepted:
            if not reused:  # a stale model's failure says nothing about the sample size
                self._size = min(float(self.n_samples), self._size * self.growth)
        else:
            g = grad_norm
            if not math.isfinite(self._g0):
                # ||g(x0)|| overflowed: the first finite norm becomes the reference
                self._g0, self._s0 = g, self._size
            elif self._g0 > 0 and g < self._g0:
                n = self.n_samples
                inv = (1.0 / self._s0 - 1.0 / n) * (g / self._g0) ** 2 + 1.0 / n
                cap = max(self._rows_for_cost(self.max_cost), self._size)
                self._size = max(self._size, min(1.0 / inv, cap))
            rate = g / self._g_prev if self._g_prev > 0 else 0.0
            if self.rate_target and rate > self.rate_target and math.isfinite(rate):
                # slow linear convergence: the error ~ 1/sqrt(s) is too large
                factor = min(self.growth, (rate / self.rate_target) ** 2)
                self._size = min(float(self.n_samples), self._size * factor)
            self._g_prev = g
        if self.products_only:
            # A network's model error is mostly its non-convexity (the radius or the
            # damping answers a rejection), not the sample's: no rule grows a
            # matrix-free sample past max_cost passes per iteration.
            self._size = min(self._size, max(self._rows_for_cost(self.max_cost), before))
        self._settle()
        self._keep_model(rho, accepted and shrinking, drawn, grad_norm)
        if accepted:
            self._g_last = grad_norm

    def reuse_limit(self) -> int:
        """Most consecutive reuses of the current model: ``max_reuse``, else what reuse saves.

        What a reuse saves is the model's formation (an explicit matrix; for
        products only the gather of the rows), in passes, rounded down.

        Returns
        -------
        int
            0 when reuse is disabled (``reuse_rho=None``).

        Examples
        --------
        >>> from randopt.optimize import AdaptiveSampleSize
        >>> AdaptiveSampleSize(49_990, 22).reuse_limit()  # exact Hessian: ~3.8 passes
        3
        """
        if self.reuse_rho is None:
            return 0
        if self.max_reuse is not None:
            return self.max_reuse
        if self.explicit:
            saved = self.hessian_cost(self.rows)
        else:
            # products are paid per product, reused or not: reuse saves the
            # gather of the sampled rows only
            gather = 0.0 if self.products_only else GATHER_COST
            saved = self.hessian_cost(0) + (
                0.0 if self.rows is None else self.rows * gather * self.row_length)
        return int(saved // self.pass_cost())

    def _keep_model(self, rho: float, accepted: bool, drawn: int | None,
                    grad_norm: float) -> None:
        rate = grad_norm / self._g_last if self._g_last > 0 else math.inf
        self._keep = bool(
            accepted and self.reuse_rho is not None and rho >= self.reuse_rho
            and rate <= self.reuse_rate and self.rows == drawn
            and self._age < self.reuse_limit()
        )

    def reuse(self) -> bool:
        """Whether the next iterate keeps the current model (rule 7); counts the reuse.

        Call once per new iterate, before :meth:`next_size`; when it returns
        True, do not draw (the model is kept).

        Returns
        -------
        bool

        Examples
        --------
        >>> from randopt.optimize import AdaptiveSampleSize
        >>> s = AdaptiveSampleSize(49_990, 22)
        >>> s.start(grad_norm=1.0) is None, s.next_size() is None
        (True, True)
        >>> s.observe(rho=0.95, accepted=True, grad_norm=0.1)
        >>> s.reuse(), s.reuse(), s.n_reused
        (True, False, 1)
        """
        keep, self._keep = self._keep, False
        if keep:
            self._age += 1
            self.n_reused += 1
            self._reused = True
        return keep

    def next_size(self) -> int | None:
        """The size at a new iterate, recorded in :attr:`sizes`.

        Returns
        -------
        int or None
            Rows to sample, or ``None`` for the exact Hessian.

        Examples
        --------
        >>> s = AdaptiveSampleSize(10**6, 50)
        >>> s.start(grad_norm=1.0) == s.next_size(), s.sizes
        (True, [17143])
        """
        self.sizes.append(self.n_samples if self.rows is None else self.rows)
        self._age = 0
        self._reused = False
        return self.rows

    def __repr__(self) -> str:
        n = self.n_samples
        if not self.sizes:
            state = "not started"
        else:
            first, last = self.sizes[0], self.sizes[-1]
            label = lambda s: "exact" if s == n else str(s)  # noqa: E731
            state = label(first) if first == last else f"{label(first)} -> {label(last)}"
        reused = f", {self.n_reused} reused" if self.n_reused else ""
        return (f"AdaptiveSampleSize(n={n}, d={self.n_features}, "
                f"{'explicit' if self.explicit else 'products'}: {state}{reused})")


class SamplingPlan:
    """The Hessian and gradient samplers, the sample-size schedule and the form of the Hessian.

    ``hessian_sample_size="auto"`` (with a scheme that samples) makes
    :attr:`schedule` an :class:`AdaptiveSampleSize`; the loop then calls
    :meth:`start` at ``x0``, :meth:`hessian_sample` at every new iterate and
    :meth:`observe` after every trial step (both are no-ops for a fixed size).
    :attr:`explicit` (form the matrix, else products) compares the
    objective's :meth:`~randopt.oracles.Objective.hessian_matrix_cost` with
    the products a sub-problem takes: ``min(d, subproblem_max_iter)`` for a
    fixed size (at most :data:`FORCING_PRIOR_PRODUCTS` with ``forcing``, a
    forcing-term tolerance), the schedule's observed mean at every fresh model
    for ``"auto"``. The loop module (:mod:`randopt.optimize.loop`) builds one
    per run; ``forcing=True`` when the sub-problems are solved to a forcing term,
    ``"auto"`` for ``subproblem_tol="auto"`` (the forcing term's prior where the
    models are products whatever the prior, and on wide data, ``min(n, p) = n``;
    elsewhere that default solves explicit models to ``1e-9`` and chooses the
    form with the fixed tolerance's prior).
    """

    def __init__(self, objective, solver, hessian_sampling, hessian_sample_size,
                 gradient_sample_size, hessian_mode, subproblem_max_iter=250, *,
                 forcing=False) -> None:
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
        row_length = float(getattr(objective, "row_length", d))
        floor_dim = min(d, subproblem_max_iter)
        rank = None if self.matrix_free else _data_rank(objective)
        self._matrix_cost = None
        if (hessian_mode == "auto" and can_sample and d <= EXPLICIT_MAX_DIM
                and bool(getattr(solver, "prefers_matrix", False)) and not self.matrix_free):
            # in products of this data's rows: a sparse row's matrix and products
            # both shrink with its density
            self._matrix_cost = float(objective.hessian_matrix_cost()) * row_length / d
        forced = bool(solver.needs_matrix) or hessian_mode == "explicit"
        # Products a sub-problem takes before any is observed: up to the cap for a
        # fixed tight tolerance, a few for a forcing term (its first solve stops at
        # half the residual). "auto" (the forcing term on products, 1e-9 on a
        # matrix) takes the forcing term's prior where the models are products
        # whatever the prior (matrix-free objectives, d > EXPLICIT_MAX_DIM) and on
        # wide data, where the d x d matrix of n < d rows is rank-deficient and
        # dearest against products; elsewhere the fixed tolerance's.
        wide = rank is not None and rank >= n
        products = not forced and self._matrix_cost is None
        few = forcing is True or (forcing == "auto" and (wide or products))
        prior = min(floor_dim, FORCING_PRIOR_PRODUCTS) if few else floor_dim
        self.explicit = forced or (self._matrix_cost is not None and self._matrix_cost <= prior)
        self.schedule = None
        self._drawn = None
        if adaptive and hessian_sampling != "full":
            self.schedule = AdaptiveSampleSize(
                n, d, explicit=self.explicit, row_length=row_length,
                matrix_cost=self._matrix_cost, products=prior, floor_dim=floor_dim,
                local=bool(getattr(objective, "is_local", True)),
                rank=rank,
                products_only=self.matrix_free,
            )
            if forced:
                self._matrix_cost = None  # the form is fixed: nothing to choose per model
            size = self.schedule.floor  # what callers reading ``sampler.size`` see
        # "full" with the "auto" size chooses the form per model as the schedule
        # does (the same products observed, the same choice: the exact runs of
        # "full" and of an exact schedule stay identical); a numeric size keeps it
        self._form_products = (_ProductTally(prior) if adaptive and self.schedule is None
                               and self._matrix_cost is not None and not forced else None)
        self.scheme = hessian_sampling
        self._sampler = None
        self._sampler_args = (objective, hessian_sampling, size)
        if self.schedule is None or not can_sample:
            # a fixed size (or data with no rows) is checked now, at entry; an "auto"
            # schedule's floor is valid by construction and may never be drawn
            self._sampler = HessianSampler(*self._sampler_args)
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

    @property
    def sampler(self) -> HessianSampler:
        """The Hessian row sampler (built at the first draw of an ``"auto"`` schedule)."""
        if self._sampler is None:
            self._sampler = HessianSampler(*self._sampler_args)
        return self._sampler

    def gradient_sample(self, rng: np.random.Generator) -> Any:
        """The rows of the next gradient (``None``: all of them)."""
        return None if self.grad_sampler is None else self.grad_sampler.draw(None, rng)

    def start(self, ev: Any, grad_norm: float) -> None:
        """Start the schedule at ``x0`` (no-op for a fixed size)."""
        if self.schedule is not None:
            if self.scheme == "nonuniform":
                # Refuse data that cannot be sampled so (not in memory) now, not
                # at the first draw, which an exact schedule might never make.
                self.objective.hessian_probabilities(ev)
            self.schedule.start(grad_norm)

    def hessian_sample(self, ev: Any, rng: np.random.Generator) -> Any:
        """The Hessian sample of a new iterate (``None``: the exact Hessian)."""
        if self.schedule is None:
            if self._form_products is not None:
                self.explicit = self._matrix_cost <= self._form_products.expected()
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
            self.schedule._observe(rho, accepted, grad_norm, n_products, step_norm)
        elif self._form_products is not None:
            self._form_products.add(n_products, accepted)

    def reuse(self) -> bool:
        """Whether the new iterate keeps the previous model (``"auto"`` only; counts it)."""
        return self.schedule is not None and self.schedule.reuse()

    def grew(self) -> bool:
        """Whether the schedule's size changed since the current model was drawn."""
        return self.schedule is not None and self.schedule.rows != self._drawn

    def __repr__(self) -> str:
        if self.schedule is None:
            return repr(self.sampler)
        return f"HessianSampler({self.scheme!r}, size={self.schedule!r})"


def _data_rank(objective: Any) -> int | None:
    """``min(n, p)`` for a finite sum over a data matrix with ``p`` columns, else None.

    A row's curvature is ``a_i a_i^T`` times the loss's block (one per class),
    so ``s`` rows span at most ``s`` of the data's directions: a sample of
    fewer rows than ``min(n, p)`` is singular on the rest of the data's span.
    """
    operand = getattr(objective, "operand", None)
    shape = getattr(operand, "shape", None)
    if shape is None or len(shape) != 2:
        return None
    return int(min(shape[0], shape[1]))
