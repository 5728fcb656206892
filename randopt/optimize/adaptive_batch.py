"""SGD whose batch grows as the curvature falls (Hessian-based adaptive batch size, ABSA).

Yao, Gholami, Lei, Keutzer and Mahoney [1]_ train with SGD (heavy-ball
momentum) on small batches while the loss landscape is sharp, and enlarge
the batch, with the learning rate, once the top eigenvalue of a minibatch
Hessian has fallen: flat regions tolerate the larger steps and the smaller
gradient noise of large batches, sharp ones do not. This module implements
that rule without the paper's adversarial training (an independent
ingredient of their method), on any :class:`randopt.oracles.Objective` with
rows to sample (``supports_sampling``: :class:`~randopt.oracles.FiniteSum`
and the minibatch objectives of user models).

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
that many checks without growth (the authors' "duration", 10 in their code).
Once the batch reaches ``max_batch_size`` no more eigenvalues are computed.
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

__all__ = ["adaptive_batch_sgd", "ADAPTIVE_BATCH_STATUS"]

#: ``result.status`` -> ``result.message``: the codes of :data:`STATUS_MESSAGES`
#: that this solver returns (one table for every solver).
ADAPTIVE_BATCH_STATUS = {k: STATUS_MESSAGES[k] for k in (0, 1, 2, 3, 99)}

_COLUMNS = ("epoch", "updates", "loss", "grad_norm", "batch_size", "learning_rate",
            "top_eigenvalue", "time", "props")


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
        Grow anyway after this many checks without growth (the authors'
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
        ``top_eigenvalue`` (NaN where none was computed), ``time`` and
        ``props``.

    Raises
    ------
    TypeError
        The objective has no rows to sample, or an option has the wrong type.
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
    growth_factor = check_scalar(growth_factor, "growth_factor", low=1, low_inclusive=False)
    eigen_drop = check_scalar(eigen_drop, "eigen_drop", low=1)
    patience = check_scalar(patience, "patience", kind=int, low=1, allow_none=True)
    scale_learning_rate = check_bool(scale_learning_rate, "scale_learning_rate")
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
    lr0, b0 = lr, b
    velocity = np.zeros(d)
    lam_ref = None
    eigvec = None
    checks_since_growth = 0
    growing = b < b_max

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
            "learning_rate": lr, "top_eigenvalue": lam,
        })

    rows = rounded_sample_size(objective, b)
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
        while done < n_batches and status is None:
            idx = np.sort(perm[done * rows:(done + 1) * rows]).astype(np.int64, copy=False)
            try:
                g = objective.gradient(x, Sample(idx, np.full(rows, n / rows)))
            except ValueError as exc:
                raise _failure(exc, x, state.nit, lr) from exc
            state.njev += 1
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
        if growing and epoch % eigen_interval == 0:
            H = hessian_at(objective, ev, hessian_sampler.draw(ev, rng), False, d)
            start = eigvec if eigvec is not None else rng.standard_normal(d)
            power = power_iteration(H.matvec, start, tol=power_tol, max_iter=power_max_iter)
            # the warm start of the next check: one product beyond the quotient's vector
            lam, eigvec = power.eigenvalue, power.next_vector
            state.nhev += H.n_products
            state.props += 2 * H.n_rows * H.n_products
            eigenvalues.append(lam)
            checks_since_growth += 1
            if lam_ref is None:
                lam_ref = lam
            elif lam <= lam_ref / eigen_drop or (patience is not None
                                                 and checks_since_growth >= patience):
                lam_ref = lam
                b = min(b_max, int(math.ceil(growth_factor * b)))
                rows = rounded_sample_size(objective, b)
                if scale_learning_rate:
                    lr = lr0 * b / b0
                checks_since_growth = 0
                growing = b < b_max
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


def _check_diverged(x: np.ndarray, updates: int, lr: float) -> None:
    """Refuse an iterate that overflowed, naming the learning rate that made it."""
    if not np.isfinite(x).all():
        raise ValueError(
            f"the iteration diverged: the iterate holds NaN or infinity after {updates} updates "
            f"with learning_rate={lr!r}; lower learning_rate"
        )


def _power_iteration(H: Any, start: np.ndarray, tol: float,
                     max_iter: int) -> tuple[float, np.ndarray]:
    """Dominant eigenpair of ``H`` by power iteration (Rayleigh quotients).

    Stops when two consecutive quotients differ by at most ``tol`` times the
    latest, or after ``max_iter`` products. The quotient converges like
    ``(lambda_2 / lambda_1)^(2k)``; it never exceeds the largest eigenvalue.
    """
    v = start / np.linalg.norm(start)
    lam = math.nan
    for _ in range(max_iter):
        Hv = H.matvec(v)
        new = float(v @ Hv)
        norm = float(np.linalg.norm(Hv))
        if norm == 0.0:
            return 0.0, v
        v = Hv / norm
        converged = math.isfinite(lam) and abs(new - lam) <= tol * abs(new)
        lam = new
        if converged:
            break
    return lam, v


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
