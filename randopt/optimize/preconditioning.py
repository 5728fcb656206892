"""Randomized Nystrom preconditioning of the CG sub-problems, reused while it works.

``preconditioner="nystrom"`` of :func:`~randopt.optimize.trust_region`
(with ``subproblem="cg"``) and :func:`~randopt.optimize.gauss_newton`
preconditions every CG solve of the (sub-sampled) Newton system by a
:class:`randopt.linalg.NystromPreconditioner` of the model ``H = A + mu I``
(Frangella, Tropp and Udell [1]_), built from products with ``H`` (the
penalty ``mu`` is the objective's L2 weight ``alpha`` times the smallest
entry of its ``penalty_mask``; its rank is chosen adaptively when ``mu >
0``), once a plain CG solve has shown that it pays (:class:`NystromSchedule`,
``lazy``). The Hessian changes from iterate to iterate, but slowly near a
solution: as in PROMISE [2]_ the preconditioner is kept across iterates
and rebuilt only when it stops working. That is checked, not assumed: each
CG solve that ran to its tolerance (or its cap) reports how many
iterations it took per e-fold of residual reduction, and when that rate
exceeds ``rebuild_factor`` times the rate measured right after the last
build (``kappa`` of the preconditioned model has grown by about the
factor's square), or CG hit its iteration cap, the next fresh model gets a
new preconditioner. The products of each build are counted in ``nhev``,
``props`` and ``history["hessian_products"]`` of the iteration that made it.

An indefinite model (a non-convex loss) has no Nystrom preconditioner: the
build then fails cleanly and that model is solved without one.

References
----------
.. [1] Z. Frangella, J. A. Tropp and M. Udell, "Randomized Nystrom
       preconditioning", SIAM J. Matrix Anal. Appl. 44 (2023), 718-752.
.. [2] Z. Frangella, P. Rathore, S. Zhao and M. Udell, "PROMISE:
       preconditioned stochastic optimization methods by incorporating
       scalable curvature estimates", arXiv:2309.02014 (2023).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from .._validation import check_bool, check_scalar
from ..linalg import NystromPreconditioner

__all__ = ["NystromSchedule", "as_preconditioner", "checked_preconditioner", "penalty_shift"]


def penalty_shift(objective: Any) -> float:
    """``mu``: the identity part of every Hessian of ``objective`` (0 when unknown).

    ``alpha * min(penalty_mask)`` for a finite sum with an L2 penalty.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.oracles import LogisticObjective
    >>> penalty_shift(LogisticObjective(np.eye(2), [0, 1], alpha=0.5))
    0.5
    """
    alpha = getattr(objective, "alpha", 0.0)
    if isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, numbers.Real) or not alpha > 0:
        return 0.0
    mask = getattr(objective, "penalty_mask", None)
    low = 1.0 if mask is None else float(np.min(mask))
    return float(alpha) * low if math.isfinite(low) and low > 0 else 0.0


class NystromSchedule:
    """Builds, reuses and rebuilds the Nystrom preconditioner of a run's CG solves.

    With ``lazy=True`` (the default) a preconditioner is built only once a
    plain CG solve has shown that one pays: when it took more than
    ``2 * initial_rank`` products (or hit its cap), and then with a rank of
    at most the products that solve took (the power of two below), so that a
    build never costs more products than the solve it replaces. A solve that
    a forcing term already makes cheap thus builds nothing.

    Parameters
    ----------
    rank : int or "auto", default="auto"
        Sketch size, or ``"auto"`` (doubling from ``initial_rank`` while
        ``lam_r / mu > rank_tol``; needs ``mu > 0``, else ``initial_rank``
        is used as a fixed rank).
    shift : float, optional
        ``mu``; default: :func:`penalty_shift` of the objective.
    rank_tol : float, default=10.0
        See :meth:`randopt.linalg.NystromPreconditioner.from_operator`.
    initial_rank : int, default=16
        First (or, without ``mu``, fixed) rank.
    max_rank : int, optional
        Largest rank (default ``min(d, 512)``).
    rebuild_factor : float, default=2.0
        Rebuild when CG's iterations per e-fold of residual reduction
        exceed this factor times their value after the build (> 1).
    lazy : bool, default=True
        Build only once a plain solve shows the need (see above); False
        builds at the first model.
    criterion : {"eigenvalue", "error"}, default="eigenvalue"
        The stopping test of the adaptive rank (``"error"``: a power-iteration
        estimate of the approximation error, 20 more products at most per
        doubling); see :meth:`randopt.linalg.NystromPreconditioner.from_operator`.

    Attributes
    ----------
    n_builds : int
        Preconditioners built so far in the run.
    preconditioner : NystromPreconditioner or None
        The current one.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.oracles import LogisticObjective
    >>> from randopt.optimize import NystromSchedule, trust_region
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((500, 40)) * np.logspace(0, -3, 40); y = X[:, 0] > 0
    >>> schedule = NystromSchedule()
    >>> res = trust_region(LogisticObjective(X, y, alpha=1e-4), np.zeros(40),
    ...                    hessian_sampling="full", preconditioner=schedule, gtol=1e-8)
    >>> bool(res.success), schedule.n_builds >= 1
    (True, True)
    """

    def __init__(self, rank: int | str = "auto", *, shift: float | None = None,
                 rank_tol: float = 10.0, initial_rank: int = 16, max_rank: int | None = None,
                 rebuild_factor: float = 2.0, lazy: bool = True,
                 criterion: str = "eigenvalue") -> None:
        if rank != "auto":
            rank = check_scalar(rank, "rank", kind=int, low=1)
        self.rank = rank
        self.shift = check_scalar(shift, "shift", low=0, allow_none=True)
        self.rank_tol = check_scalar(rank_tol, "rank_tol", low=0, low_inclusive=False)
        self.initial_rank = check_scalar(initial_rank, "initial_rank", kind=int, low=1)
        self.max_rank = check_scalar(max_rank, "max_rank", kind=int, low=1, allow_none=True)
        self.rebuild_factor = check_scalar(rebuild_factor, "rebuild_factor", low=1,
                                           low_inclusive=False)
        self.lazy = check_bool(lazy, "lazy")
        if criterion not in ("eigenvalue", "error"):
            raise ValueError(f"criterion must be 'eigenvalue' or 'error', got {criterion!r}")
        self.criterion = criterion
        self.mu = 0.0
        self.reset()

    def reset(self, mu: float = 0.0) -> None:
        """Forget the run's preconditioner (the loop calls this at its start)."""
        self.mu = mu if self.shift is None else self.shift
        self.preconditioner: NystromPreconditioner | None = None
        self.stale = not self.lazy  # a build is due at the next fresh model
        self.rank_cap: int | None = None
        self.baseline = math.nan
        self.n_builds = 0

    def prepare(self, H: Any, rng: np.random.Generator) -> tuple[Callable | None, int]:
        """``(apply P^{-1} or None, products spent)`` for a fresh model ``H``."""
        if not self.stale:
            return self.preconditioner, 0
        d = int(H.dim)
        operator = H.matrix if H.matrix is not None else H.matvec
        max_rank = min(d, 512) if self.max_rank is None else min(d, self.max_rank)
        if self.rank_cap is not None:
            max_rank = min(max_rank, max(self.rank_cap, 1))
        rank = self.rank
        if rank == "auto" and self.mu == 0.0:
            rank = self.initial_rank
        if rank != "auto":
            rank = min(rank, max_rank)
        before = H.n_products
        try:
            P = NystromPreconditioner.from_operator(
                operator, dim=d, shift=self.mu, rank=rank,
                initial_rank=min(self.initial_rank, max_rank), max_rank=max_rank,
                rank_tol=self.rank_tol, criterion=self.criterion, random_state=rng)
        except ValueError:  # an indefinite model: solved without a preconditioner
            self.preconditioner, self.stale = None, False
            self.rank_cap = None
            return None, max(H.n_products - before, 0)
        spent = P.n_products
        self.preconditioner, self.stale, self.baseline = P, False, math.nan
        self.n_builds += 1
        return P, spent

    def attach(self, solver: Any, H: Any, rng: np.random.Generator) -> int:
        """Give ``solver`` the preconditioner of a fresh model ``H``; the products spent."""
        solver.preconditioner, spent = self.prepare(H, rng)
        return spent

    def judge(self, cg: Any, gnorm: float) -> None:
        """:meth:`observe` a solver's last ``CGResult`` (None: nothing to judge)."""
        if cg is not None:
            self.observe(cg.status, cg.nit, gnorm, cg.residual_norm)

    def observe(self, status: str, nit: int, rhs_norm: float, residual_norm: float) -> None:
        """Judge one CG solve: is a (new) preconditioner due? (See the module.)"""
        if self.preconditioner is None:
            if status == "max_iter" or nit > 2 * self.initial_rank:
                self.stale = True
                self.rank_cap = 1 << (max(nit, 1).bit_length() - 1)  # power of two <= nit
            return
        if status == "max_iter":
            self._rebuild(grow=True)
            return
        if status != "converged" or nit < 2 or not 0 < residual_norm < rhs_norm:
            return  # a Steihaug exit: too short to measure a rate
        rate = nit / math.log(rhs_norm / residual_norm)
        if math.isnan(self.baseline):
            self.baseline = rate
        elif rate > self.rebuild_factor * self.baseline:
            self._rebuild(grow=False)

    def _rebuild(self, grow: bool) -> None:
        """Mark the preconditioner stale; ``grow``: it failed outright (CG hit its cap),
        so a rank the cap held back is doubled for the next build."""
        self.stale = True
        P = self.preconditioner
        if grow and self.rank_cap is not None and P is not None and P.rank >= self.rank_cap:
            self.rank_cap *= 2

    def __repr__(self) -> str:
        return (f"NystromSchedule(rank={self.rank!r}, shift={self.shift!r}, "
                f"rank_tol={self.rank_tol!r}, rebuild_factor={self.rebuild_factor!r}, "
                f"lazy={self.lazy!r})")


def checked_preconditioner(apply: Callable, d: int, label: str) -> Callable:
    """A user's ``r -> M r`` whose every output is checked (shape ``(d,)``, finite).

    Examples
    --------
    >>> import numpy as np
    >>> checked_preconditioner(lambda r: 2 * r, 2, "solver")(np.ones(2)).tolist()
    [2.0, 2.0]
    """

    def precondition(r: np.ndarray) -> np.ndarray:
        out = np.asarray(apply(r.copy()))
        if out.dtype.kind not in "fiu":
            raise ValueError(f"{label}: preconditioner(r) must return a finite vector of "
                             f"shape ({d},); got dtype {out.dtype}")
        out = out.astype(np.float64, copy=False)
        if out.shape != (d,) or not np.isfinite(out).all():
            raise ValueError(
                f"{label}: preconditioner(r) must return a finite vector of shape ({d},); "
                f"got shape {out.shape}" + ("" if out.shape != (d,) else " with NaN or inf"))
        return out

    return precondition


class _Fixed:
    """A user's preconditioner (``r -> M r``), used as is at every model."""

    def __init__(self, apply: Callable) -> None:
        self.apply = apply

    def reset(self, mu: float = 0.0) -> None:
        return None

    def prepare(self, H: Any, rng: np.random.Generator) -> tuple[Callable, int]:
        return self.apply, 0

    def attach(self, solver: Any, H: Any, rng: np.random.Generator) -> int:
        solver.preconditioner = self.apply
        return 0

    def judge(self, cg: Any, gnorm: float) -> None:
        return None


def as_preconditioner(spec: Any, d: int, *, solver: Any = None, objective: Any = None) -> Any:
    """The run's preconditioner manager: None, a :class:`NystromSchedule` or a fixed one.

    Parameters
    ----------
    spec : None, "nystrom", NystromSchedule, NystromPreconditioner or callable
        ``"nystrom"`` is ``NystromSchedule()``; a callable ``r -> M r`` (such
        as a built :class:`~randopt.linalg.NystromPreconditioner` of
        dimension ``d``) is used as is.
    d : int
        The number of variables.
    solver : object, optional
        The run's sub-problem solver: it must take a preconditioner
        (``supports_preconditioner``, as ``"cg"`` does).
    objective : object, optional
        The run's objective: the manager is reset with its
        :func:`penalty_shift`.

    Returns
    -------
    object or None
        What the loops call (``reset``; ``attach`` or ``prepare``; ``judge``).

    Raises
    ------
    ValueError, TypeError
        For anything else, or a preconditioner of another dimension.

    Examples
    --------
    >>> as_preconditioner(None, 3) is None, type(as_preconditioner("nystrom", 3)).__name__
    (True, 'NystromSchedule')
    """
    if spec is None:
        return None
    manager = _manager(spec, d)
    if solver is not None and not getattr(solver, "supports_preconditioner", False):
        label = getattr(solver, "name", None) or type(solver).__name__
        raise ValueError(
            f"preconditioner={spec!r} needs a sub-problem solver that takes one "
            f"(subproblem='cg'); {label!r} does not")
    manager.reset(0.0 if objective is None else penalty_shift(objective))
    return manager


def _manager(spec: Any, d: int) -> Any:
    if isinstance(spec, str):
        if spec != "nystrom":
            raise ValueError(
                f"preconditioner must be None, 'nystrom', a NystromSchedule or a callable "
                f"r -> M r; got {spec!r}")
        return NystromSchedule()
    if isinstance(spec, NystromSchedule):
        return spec
    if isinstance(spec, NystromPreconditioner) and spec.dim != d:
        raise ValueError(
            f"preconditioner has dimension {spec.dim}, but the objective has {d} variables")
    if callable(spec) and not isinstance(spec, type):
        return _Fixed(spec)
    raise TypeError(
        "preconditioner must be None, 'nystrom', a NystromSchedule or a callable r -> M r; "
        f"got {type(spec).__name__}")
