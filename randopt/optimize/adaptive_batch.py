"""SGD whose batch grows as the curvature falls (Hessian-based adaptive batch size, ABSA).

Yao, Gholami, Lei, Keutzer and Mahoney [1]_ train with SGD (heavy-ball
momentum) on small batches while the loss landscape is sharp, and enlarge
the batch, with the learning rate, once the top eigenvalue of a minibatch
Hessian has fallen: flat regions tolerate the larger steps and the smaller
gradient noise of large batches, sharp ones do not; adversarial training
on a fraction of each batch (FGSM examples [3]_, a fraction halved at every
growth) keeps the iteration away from sharp minima while the batch is
small. This module implements both on any :class:`randopt.oracles.Objective`
with rows to sample (``supports_sampling``: :class:`~randopt.oracles.FiniteSum`
and the minibatch objectives of user models); the adversarial part needs an
objective whose data are inputs and that offers ``fgsm_gradient(w, rows,
epsilon)`` (:class:`randopt.oracles.JaxObjective` with ``model`` and
``output_loss``).

The rule implemented (Algorithm 1 of [1]_ and the authors' HessianFlow code)
-----------------------------------------------------------------------------
Every ``eigen_interval`` epochs, at the epoch's end, the top eigenvalue
``lambda`` of the Hessian of a fresh uniform sample of ``hessian_sample_size``
rows is estimated by power iteration (warm-started from the previous
eigenvector; the authors restart from a random vector). The first estimate
becomes the reference ``lambda_ref``. At a later check, if

    ``lambda <= lambda_ref / eigen_drop``

the batch grows, ``b <- min(growth_factor * b, max_batch_size)``, the
learning rate is multiplied by the same ratio (the linear scaling rule the
authors apply; ``scale_learning_rate=False`` keeps it fixed) and
``lambda_ref <- lambda``. With ``patience`` set, the batch also grows after
that many epochs without growth (the authors' "duration", 10 in their code).
Once the batch reaches ``max_batch_size`` no more eigenvalues are computed.
:class:`BatchSchedule` holds this state and rule.
The scaling keeps the iteration stable: heavy-ball SGD on a quadratic is
stable for ``learning_rate * lambda < 2 (1 + momentum)``, and doubling the
step after the top eigenvalue halved does not increase that product.

Batches are drawn uniformly without replacement, one permutation per epoch
(``numpy.random.Generator.permutation``), of ``objective.round_sample_size(b)``
rows (an objective that compiles per batch shape rounds up to a few sizes);
the rows left over by the last full batch of an epoch are skipped (PyTorch's
``drop_last``; they fall into other batches in later epochs, since every
epoch is shuffled afresh). Each batch is a :class:`randopt.sketch.Sample` with
weight ``n / b`` per row: its gradient is the batch mean.

Adversarial training (the authors' code, ``adv_ratio`` and ``eps``)
-------------------------------------------------------------------
With ``adversarial_fraction = a > 0`` and ``adversarial_epsilon = eps``, the
first ``k = floor(a b)`` rows of each batch (drawn in random order; none
when ``a b <= 1``) enter the gradient at their FGSM inputs ``X_i + eps
sign(grad_X loss)`` (computed at the current iterate), the other ``b - k``
rows as they are: the batch gradient is ``(k g_adv + (b - k) g_clean) / b``.
At every growth of the batch ``a`` is halved; it drops to 0 once the batch
reaches ``max_batch_size`` and after ``adversarial_epochs`` epochs (default:
the first half of the run, ``max(1, epochs // 2)``), as in the authors'
code. An FGSM row costs two gradients (``4`` propagations instead of ``2``).

Cost accounting (``props``, as in :mod:`randopt.optimize.loop`): a batch
gradient ``2 b``, a Hessian-vector product on ``s`` rows ``2 s``. The exact
loss and gradient norm that the history records at every epoch's end are
monitoring, not part of the method, and are *not* counted in ``props`` (they
are in ``time``).

Status codes (``result.status``): :data:`ADAPTIVE_BATCH_STATUS`.

References
----------
.. [1] Z. Yao, A. Gholami, D. Lei, K. Keutzer and M. W. Mahoney, "Large batch
       size training of neural networks with adversarial training and
       second-order information", arXiv:1810.01021 (2018).
.. [2] P. Goyal et al., "Accurate, large minibatch SGD: training ImageNet in
       1 hour", arXiv:1706.02677 (2017) (the linear scaling rule).
.. [3] I. J. Goodfellow, J. Shlens and C. Szegedy, "Explaining and harnessing
       adversarial examples", ICLR (2015).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

from .._validation import (
    check_bool,
    check_random_state,
    check_sample_size,
    check_scalar,
    check_vector,
)
from ..linalg import power_iteration
from ..oracles import HessianSampler, rounded_sample_size
from ..sketch import Sample
from .loop import STATUS_MESSAGES, SolverState, as_objective, check_stopping, hessian_at

__all__ = ["adaptive_batch_sgd", "ADAPTIVE_BATCH_STATUS", "BatchSchedule"]

#: ``result.status`` -> ``result.message``: the codes of :data:`STATUS_MESSAGES`
#: that this solver returns (one table for every solver).
ADAPTIVE_BATCH_STATUS = {k: STATUS_MESSAGES[k] for k in (0, 1, 2, 3, 99)}

_COLUMNS = ("epoch", "updates", "loss", "grad_norm", "batch_size", "learning_rate",
            "adversarial_fraction", "top_eigenvalue", "time", "props")


class BatchSchedule:
    """The batch size, learning rate and adversarial fraction of ABSA, and its growth rule.

    After every epoch, :meth:`end_epoch` takes the epoch's top-eigenvalue
    estimate (NaN where none was computed) and grows the batch when the
    estimate has fallen to ``1 / eigen_drop`` of the reference (the first
    estimate, then the one at the last growth), or when ``patience`` epochs
    have passed without growth (never at the epoch of the first estimate,
    which only sets the reference). A growth multiplies the batch by
    ``growth_factor`` (capped at ``max_batch_size``), scales the learning
    rate with it (if ``scale_learning_rate``) and halves the adversarial
    fraction (0 once the batch is at its cap).

    Parameters
    ----------
    batch_size, max_batch_size : int
        Initial and largest batch (rows), ``1 <= batch_size <= max_batch_size``.
    learning_rate : float
        Learning rate at ``batch_size``.
    growth_factor : float, default=2.0
    eigen_drop : float, default=2.0
    patience : int, optional
    scale_learning_rate : bool, default=True
    adversarial_fraction : float, default=0.0
        Fraction of each batch trained on adversarial examples, in [0, 1].

    Attributes
    ----------
    batch_size : int
    learning_rate : float
    adversarial_fraction : float
    reference : float or None
        The eigenvalue that the next estimate is compared with.
    growing : bool
        False once the batch is at ``max_batch_size`` (no more checks needed).

    Examples
    --------
    >>> from randopt.optimize.adaptive_batch import BatchSchedule
    >>> s = BatchSchedule(32, 256, 0.1, adversarial_fraction=0.2)
    >>> [s.end_epoch(lam) for lam in (8.0, 5.0, 4.0, 3.0, 2.0)]
    [False, False, True, False, True]
    >>> s.batch_size, s.learning_rate, s.adversarial_fraction, s.reference
    (128, 0.4, 0.05, 2.0)
    """

    def __init__(self, batch_size: int, max_batch_size: int, learning_rate: float, *,
                 growth_factor: float = 2.0, eigen_drop: float = 2.0,
                 patience: int | None = None, scale_learning_rate: bool = True,
                 adversarial_fraction: float = 0.0) -> None:
        self.batch_size = check_scalar(batch_size, "batch_size", kind=int, low=1)
        self.max_batch_size = check_scalar(max_batch_size, "max_batch_size", kind=int,
                                           low=self.batch_size)
        self.learning_rate = check_scalar(learning_rate, "learning_rate", low=0,
                                          low_inclusive=False)
        self.growth_factor = check_scalar(growth_factor, "growth_factor", low=1,
                                          low_inclusive=False)
        self.eigen_drop = check_scalar(eigen_drop, "eigen_drop", low=1)
        self.patience = check_scalar(patience, "patience", kind=int, low=1, allow_none=True)
        self.scale_learning_rate = check_bool(scale_learning_rate, "scale_learning_rate")
        self.adversarial_fraction = check_scalar(adversarial_fraction, "adversarial_fraction",
                                                 low=0, high=1)
        self._b0, self._lr0 = self.batch_size, self.learning_rate
        self.reference: float | None = None
        self.epochs_since_growth = 0
        self.growing = self.batch_size < self.max_batch_size
        if not self.growing:
            self.adversarial_fraction = 0.0

    def end_epoch(self, eigenvalue: float) -> bool:
        """Record an epoch and its eigenvalue estimate (NaN: none); True if the batch grew.

        Parameters
        ----------
        eigenvalue : float
            The epoch's top-eigenvalue estimate, or NaN.

        Returns
        -------
        bool
            Whether the batch grew.
        """
        if not self.growing:
            return False
        self.epochs_since_growth += 1
        fell = False
        if not math.isnan(eigenvalue):
            if self.reference is None:  # the first estimate: the reference, no growth yet
                self.reference = eigenvalue
                return False
            fell = eigenvalue <= self.reference / self.eigen_drop
        waited = self.patience is not None and self.epochs_since_growth >= self.patience
        if not (fell or waited):
            return False
        if not math.isnan(eigenvalue):
            self.reference = eigenvalue
        self.batch_size = min(self.max_batch_size,
                              int(math.ceil(self.growth_factor * self.batch_size)))
        if self.scale_learning_rate:
            self.learning_rate = self._lr0 * self.batch_size / self._b0
        self.epochs_since_growth = 0
        self.growing = self.batch_size < self.max_batch_size
        self.adversarial_fraction = self.adversarial_fraction / 2 if self.growing else 0.0
        return True


def adaptive_batch_sgd(
    objective: Any,
    x0: Any,
    *,
    learning_rate: float = 0.1,
    batch_size: int | float = 32,
    max_batch_size: int | float | None = None,
    momentum: float = 0.9,
    epochs: int = 10,
    eigen_interval: int = 1,
    growth_factor: float = 2.0,
    eigen_drop: float = 2.0,
    patience: int | None = None,
    scale_learning_rate: bool = True,
    hessian_sample_size: int | float | None = None,
    power_tol: float = 1e-2,
    power_max_iter: int = 20,
    adversarial_fraction: float = 0.0,
    adversarial_epsilon: float = 0.0,
    adversarial_epochs: int | None = None,
    gtol: float = 0.0,
    max_iter: int | None = None,
    max_props: float = math.inf,
    max_time: float = math.inf,
    callback: Callable[[np.ndarray, dict], Any] | None = None,
    random_state: Any = None,
) -> OptimizeResult:
    """Minimise a finite sum by SGD with a batch that grows as the top Hessian eigenvalue falls.

    The rule, the sampling and the cost accounting are described in the
    module docstring (:mod:`randopt.optimize.adaptive_batch`).

    Parameters
    ----------
    objective : Objective
        A :mod:`randopt.oracles` objective with ``supports_sampling`` (a
        :class:`~randopt.oracles.FiniteSum`, a minibatch or JAX objective).
    x0 : array-like of shape (n_features,)
        Starting point (not modified).
    learning_rate : float, default=0.1
        Initial step (> 0); multiplied by the batch's growth ratio when the
        batch grows and ``scale_learning_rate`` is True.
    batch_size : int or float, default=32
        Initial rows per update (a count in ``[1, n]`` or a fraction of ``n``).
    max_batch_size : int or float, optional
        Largest batch (count or fraction; default ``n``, full-batch gradient
        descent); at least ``batch_size``.
    momentum : float in [0, 1), default=0.9
        Heavy-ball coefficient ``mu``: ``m <- mu m + g``, ``x <- x - lr m``
        (PyTorch's ``SGD(momentum=mu)``).
    epochs : int, default=10
        Passes over the data (>= 1).
    eigen_interval : int, default=1
        Epochs between eigenvalue checks (>= 1).
    growth_factor : float, default=2.0
        Batch growth factor ``beta`` (> 1).
    eigen_drop : float, default=2.0
        The batch grows when the top eigenvalue falls below ``1 / eigen_drop``
        of the reference (>= 1).
    patience : int, optional
        Grow anyway after this many epochs without growth (the authors'
        "duration", 10 in their code; ``None``: only a falling eigenvalue
        grows the batch).
    scale_learning_rate : bool, default=True
        Scale the learning rate with the batch (linear scaling rule [2]_).
    hessian_sample_size : int or float, optional
        Rows of the Hessian sample of each check (default: the initial
        ``batch_size``, the authors' choice: a fixed size keeps the estimates
        comparable, whose upward bias grows as the sample shrinks).
    power_tol : float in (0, 1), default=1e-2
        Power iteration stops when the Rayleigh quotient changes by at most
        ``power_tol`` times its size (the authors: 1e-2, absolute).
    power_max_iter : int, default=20
        Hessian-vector products per check, at most (>= 1).
    adversarial_fraction : float in [0, 1], default=0.0
        Initial fraction of each batch trained on FGSM adversarial examples
        (halved at every growth; see the module docstring). Needs
        ``adversarial_epsilon > 0`` and an objective with ``fgsm_gradient``.
    adversarial_epsilon : float, default=0.0
        FGSM perturbation size (max norm, >= 0; the authors' ``eps``).
    adversarial_epochs : int, optional
        Epochs with adversarial training (default ``max(1, epochs // 2)``,
        the authors' first half).
    gtol : float, default=0.0
        Stop when the exact gradient norm at an epoch's end is at most this.
    max_iter : int, optional
        Maximum parameter updates (>= 0; default: no limit besides ``epochs``).
    max_props : float, default=inf
        Maximum propagations of the method (> 0).
    max_time : float, default=inf
        Maximum seconds (> 0).
    callback : callable, optional
        ``callback(x, info)`` at every epoch's end (``info``: that history
        row), returning None, a bool (True stops) or a dict of extra history
        columns (e.g. a test accuracy); raising ``StopIteration`` stops too.
    random_state : None, int or numpy.random.Generator
        Source of the permutations, the Hessian samples and the power
        iteration's start.

    Returns
    -------
    scipy.optimize.OptimizeResult
        ``x``, ``fun`` and ``jac`` (exact, at ``x``), ``nit`` (parameter
        updates), ``nepoch`` (epochs, fractional when stopped mid-epoch),
        ``status``, ``message``, ``success``, ``props``, ``time``, ``nfev``
        (exact evaluations), ``njev`` (gradients, batch ones included),
        ``nhev`` (Hessian-vector products), ``batch_size`` and
        ``learning_rate`` (the final ones), ``eigenvalues`` (every estimate)
        and ``history``: one row per epoch's end (row 0: ``x0``) with
        ``epoch``, ``updates``, ``loss`` (the exact objective), ``grad_norm``
        (exact), ``batch_size`` (rows drawn), ``learning_rate``,
        ``adversarial_fraction`` (for the next epoch), ``top_eigenvalue``
        (NaN where none was computed), ``time`` and ``props``.

    Raises
    ------
    TypeError
        The objective has no rows to sample, adversarial training was asked
        of an objective without ``fgsm_gradient``, or an option has the
        wrong type.
    ValueError
        An option is out of range, or the objective returns a non-finite
        gradient.

    References
    ----------
    .. [1] Z. Yao, A. Gholami, D. Lei, K. Keutzer and M. W. Mahoney, "Large
           batch size training of neural networks with adversarial training and
           second-order information", arXiv:1810.01021 (2018).
    .. [2] P. Goyal et al., "Accurate, large minibatch SGD: training ImageNet
           in 1 hour", arXiv:1706.02677 (2017).

    Examples
    --------
    Logistic regression on separable data: the curvature falls as the
    weights grow, and the batch (with the learning rate) doubles each time
    the top eigenvalue has fallen by a quarter.

    >>> import numpy as np
    >>> from randopt.oracles import LogisticObjective
    >>> from randopt.optimize import adaptive_batch_sgd
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((400, 5)); y = (X[:, 0] > 0).astype(int)
    >>> res = adaptive_batch_sgd(LogisticObjective(X, y), np.zeros(5), learning_rate=0.03,
    ...                          batch_size=16, eigen_drop=1.25, hessian_sample_size=1.0,
    ...                          epochs=10, random_state=0)
    >>> res.history["batch_size"].tolist()
    [16, 16, 32, 32, 64, 64, 64, 128, 128, 128, 128]
    >>> res.nit, bool(res.fun < 0.2 * res.history["loss"][0])
    (101, True)
    """
    objective = as_objective(objective, x0)
    if not getattr(objective, "supports_sampling", False):
        raise TypeError(
            f"{type(objective).__name__} has no rows to sample; adaptive_batch_sgd needs a "
            "finite sum (FiniteSum, MinibatchObjective, JaxObjective)"
        )
    d = objective.n_features
    n = objective.n_samples
    x = check_vector(x0, "x0", size=d).astype(np.float64, copy=True)
    lr = check_scalar(learning_rate, "learning_rate", low=0, low_inclusive=False)
    b = check_sample_size(batch_size, n, "batch_size")
    b_max = n if max_batch_size is None else check_sample_size(max_batch_size, n,
                                                               "max_batch_size")
    if b_max < b:
        raise ValueError(f"max_batch_size ({b_max} rows) must be at least batch_size ({b} rows)")
    momentum = check_scalar(momentum, "momentum", low=0, high=1, high_inclusive=False)
    epochs = check_scalar(epochs, "epochs", kind=int, low=1)
    eigen_interval = check_scalar(eigen_interval, "eigen_interval", kind=int, low=1)
    schedule = BatchSchedule(b, b_max, lr, growth_factor=growth_factor, eigen_drop=eigen_drop,
                             patience=patience, scale_learning_rate=scale_learning_rate,
                             adversarial_fraction=adversarial_fraction)
    epsilon = check_scalar(adversarial_epsilon, "adversarial_epsilon", low=0)
    adversarial_epochs = check_scalar(adversarial_epochs, "adversarial_epochs", kind=int, low=0,
                                      allow_none=True)
    if adversarial_epochs is None:
        adversarial_epochs = max(1, epochs // 2)
    if schedule.adversarial_fraction > 0 and epsilon > 0:
        if not callable(getattr(objective, "fgsm_gradient", None)):
            raise TypeError(
                f"adversarial training needs the gradient with respect to the inputs: "
                f"{type(objective).__name__} has no fgsm_gradient(w, rows, epsilon) (use "
                "JaxObjective with model and output_loss), or set adversarial_fraction=0"
            )
    elif schedule.adversarial_fraction > 0 or epsilon > 0:
        raise ValueError(
            "adversarial training needs both adversarial_fraction > 0 and adversarial_epsilon "
            f"> 0; got adversarial_fraction={adversarial_fraction!r}, "
            f"adversarial_epsilon={adversarial_epsilon!r}"
        )
    hessian_sampler = HessianSampler(objective, "uniform",
                                     b if hessian_sample_size is None else hessian_sample_size)
    power_tol = check_scalar(power_tol, "power_tol", low=0, high=1, low_inclusive=False,
                             high_inclusive=False)
    power_max_iter = check_scalar(power_max_iter, "power_max_iter", kind=int, low=1)
    gtol, max_iter, max_props, max_time = check_stopping(gtol, max_iter, max_props, max_time,
                                                         callback, unlimited_iter=True)
    rng = check_random_state(random_state)

    state = SolverState(_COLUMNS, callback, max_iter=max_iter, max_props=max_props,
                        max_time=max_time)
    eigenvalues: list[float] = []
    velocity = np.zeros(d)
    eigvec = None

    def exact(w: np.ndarray) -> Any:
        state.nfev += 1
        state.njev += 1
        _check_diverged(w, state.nit, lr)
        try:
            ev = objective.evaluate(w)
        except ValueError as exc:
            raise _failure(exc, w, state.nit, lr) from exc
        if not (math.isfinite(float(ev.fun)) and np.isfinite(ev.grad).all()):
            where = ("x0; pick another x0" if state.nit == 0 else f"the iterate after "
                     f"{state.nit} updates; lower learning_rate (or check the objective)")
            raise ValueError(f"the objective or its gradient is not finite at {where}")
        return ev

    def record(ev: Any, epoch: float, lam: float) -> bool:
        return state.record(x, {
            "epoch": epoch, "updates": state.nit, "loss": float(ev.fun),
            "grad_norm": float(np.linalg.norm(ev.grad)), "batch_size": rows,
            "learning_rate": lr, "adversarial_fraction": fraction, "top_eigenvalue": lam,
        })

    rows = rounded_sample_size(objective, b)
    fraction = schedule.adversarial_fraction if epsilon > 0 and adversarial_epochs > 0 else 0.0
    ev = exact(x)
    status = 99 if record(ev, 0, math.nan) else None
    epoch = 0
    while status is None:
        if float(np.linalg.norm(ev.grad)) <= gtol:
            status = 0
        elif epoch >= epochs:
            status = 1
        else:
            status = state.budget_status()
        if status is not None:
            break
        perm = rng.permutation(n)
        n_batches = n // rows
        done = 0
        # the authors' rule: FGSM rows only when the fraction covers more than one row
        k = int(fraction * rows) if fraction * rows > 1 else 0
        while done < n_batches and status is None:
            batch = perm[done * rows:(done + 1) * rows]
            try:
                if k:
                    g = _adversarial_gradient(objective, x, batch, k, epsilon)
                else:
                    idx = np.sort(batch).astype(np.int64, copy=False)
                    g = objective.gradient(x, Sample(idx, np.full(rows, n / rows)))
            except ValueError as exc:
                raise _failure(exc, x, state.nit, lr) from exc
            state.njev += 1
            state.props += 2 * k
            g = np.asarray(g, dtype=np.float64)
            if g.shape != (d,) or not np.isfinite(g).all():
                raise ValueError(
                    f"the batch gradient is not a finite vector of length {d} after "
                    f"{state.nit} updates; lower learning_rate (or check the objective)"
                )
            state.props += 2 * rows
            velocity = momentum * velocity + g
            x = x - lr * velocity
            state.nit += 1
            done += 1
            status = state.budget_status() if done < n_batches else None
        ev = exact(x)
        if status is not None:
            # Stopped mid-epoch: record the partial epoch and end.
            record(ev, epoch + done / n_batches, math.nan)
            break
        epoch += 1
        lam = math.nan
        if schedule.growing and epoch % eigen_interval == 0:
            H = hessian_at(objective, ev, hessian_sampler.draw(ev, rng), False, d)
            start = eigvec if eigvec is not None else rng.standard_normal(d)
            power = power_iteration(H.matvec, start, tol=power_tol, max_iter=power_max_iter)
            # the warm start of the next check: one product beyond the quotient's vector
            lam, eigvec = power.eigenvalue, power.next_vector
            state.nhev += H.n_products
            state.props += 2 * H.n_rows * H.n_products
            eigenvalues.append(lam)
        if schedule.end_epoch(lam):
            b, lr = schedule.batch_size, schedule.learning_rate
            rows = rounded_sample_size(objective, b)
        fraction = schedule.adversarial_fraction if epsilon > 0 and epoch < adversarial_epochs \
            else 0.0
        if record(ev, epoch, lam):
            status = 99

    return state.result(x, float(ev.fun), ev.grad, status,
                        nepoch=float(state.history.as_dict()["epoch"][-1]), batch_size=rows,
                        learning_rate=lr, eigenvalues=np.asarray(eigenvalues))


def _check_diverged(x: np.ndarray, updates: int, lr: float) -> None:
    """Refuse an iterate that overflowed, naming the learning rate that made it."""
    if not np.isfinite(x).all():
        raise ValueError(
            f"the iteration diverged: the iterate holds NaN or infinity after {updates} updates "
            f"with learning_rate={lr!r}; lower learning_rate"
        )


def _adversarial_gradient(objective: Any, x: np.ndarray, batch: np.ndarray, k: int,
                          epsilon: float) -> np.ndarray:
    """The batch gradient with its first ``k`` rows at their FGSM inputs: a weighted mean."""
    rows = batch.shape[0]
    adversarial = np.sort(batch[:k]).astype(np.int64)
    g = (k / rows) * np.asarray(objective.fgsm_gradient(x, adversarial, epsilon),
                                dtype=np.float64)
    if k < rows:
        clean = np.sort(batch[k:]).astype(np.int64)
        m = rows - k
        g = g + (m / rows) * np.asarray(
            objective.gradient(x, Sample(clean, np.full(m, objective.n_samples / m))),
            dtype=np.float64)
    return g


def _failure(exc: ValueError, x: np.ndarray, updates: int, lr: float) -> ValueError:
    """The objective's error at ``x``, saying where: at ``x0``, or after a diverging step."""
    if updates == 0:
        return ValueError(f"the objective failed at x0 ({exc}); pick another x0")
    with np.errstate(over="ignore"):
        x_norm = float(np.linalg.norm(x))
    return ValueError(
        f"the objective failed at the iterate after {updates} updates (||x|| = "
        f"{x_norm:.3g}): {exc}. The iteration has probably diverged: "
        f"lower learning_rate (now {lr!r})"
    )
