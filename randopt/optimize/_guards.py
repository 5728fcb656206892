"""Checks of what the outer loop receives from code it does not own.

The objective (a :mod:`randopt.oracles` objective, or a user's callables),
its Hessian products and the steps of a sub-problem solver (possibly a
user's class) are checked where they enter the loop, so that a wrong shape
or a NaN stops the solver with an error that names the culprit instead of
surfacing later as a NaN step or a "no predicted decrease" status.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..oracles import CallableObjective
from .subproblems import Step

__all__ = ["CheckedHessian", "as_objective", "check_step"]

_PROTOCOL = ("n_features", "n_samples", "evaluate", "hessian_model")


def as_objective(objective: Any, x0: Any) -> Any:
    """The objective itself, or a ``CallableObjective`` for a ``(fun, grad[, hessp])`` tuple."""
    if isinstance(objective, tuple) and 2 <= len(objective) <= 3 and all(
        callable(f) or f is True for f in objective
    ):
        # (fun, grad[, hessp]) like scipy.optimize.minimize's callables
        fun, grad, *rest = objective
        return CallableObjective(fun, grad, hessp=rest[0] if rest else None,
                                 n_features=int(np.size(x0)))
    if not all(hasattr(objective, a) for a in _PROTOCOL):
        raise TypeError(
            "objective must be a randopt.oracles objective (a finite sum such as "
            "LogisticObjective, or CallableObjective(fun, grad, hessp, n_features=d)) or a "
            f"tuple (fun, grad, hessp); got {type(objective).__name__}"
        )
    return objective


class CheckedHessian:
    """A Hessian model whose products and matrix are checked for shape and finiteness.

    An explicit matrix is checked once; products on rows (or a user's
    ``hessp``) are checked on every call, which costs ``O(d)`` next to the
    ``O(|S| d)`` of the product itself.
    """

    __slots__ = ("_model", "dim", "n_rows", "_matrix_checked")

    @classmethod
    def at(cls, objective: Any, ev: Any, sample: Any, explicit: bool, d: int) -> CheckedHessian:
        """The objective's (sampled) Hessian model at an evaluation, checked."""
        try:
            model = objective.hessian_model(ev, sample=sample, explicit=explicit)
        except ValueError as exc:
            # The shape hint is about user callables only; a finite sum's own
            # message (e.g. X overflowing) already says what to change.
            hint = (
                f" (hessp(x, v) must return an array of shape ({d},), hess(x) one of "
                f"shape ({d}, {d}))"
                if isinstance(objective, CallableObjective)
                else ""
            )
            raise ValueError(
                f"the objective's Hessian could not be formed at the current iterate: {exc}{hint}"
            ) from exc
        return cls(model, d)

    def __init__(self, model: Any, d: int) -> None:
        if int(model.dim) != d:
            raise ValueError(f"the objective's Hessian model has dimension {model.dim}, not {d}")
        self._model = model
        self.dim = d
        self.n_rows = int(model.n_rows)
        self._matrix_checked = False
        if model.matrix is not None:
            self._check_matrix(model.matrix)

    @property
    def matrix(self) -> np.ndarray | None:
        return self._model.matrix

    @property
    def n_products(self) -> int:
        return self._model.n_products

    def _check_matrix(self, M: Any) -> None:
        d = self.dim
        if getattr(M, "shape", None) != (d, d):
            raise ValueError(
                f"the objective's Hessian has shape {getattr(M, 'shape', None)}, expected {(d, d)}"
            )
        if not np.isfinite(M).all():
            raise ValueError(
                "the objective's Hessian contains NaN or infinity at the current iterate; "
                "check hess/hessp (or the data and the loss) there"
            )
        self._matrix_checked = True

    def matvec(self, v: np.ndarray) -> np.ndarray:
        if self._matrix_checked:
            return self._model.matvec(v)
        d = self.dim
        try:
            out = self._model.matvec(v)
        except ValueError as exc:
            raise ValueError(
                f"the objective's Hessian-vector product failed on a vector of length {d} "
                f"({exc}); hessp(x, v) must return an array of shape ({d},)"
            ) from exc
        out = np.asarray(out)
        if out.shape != (d,):
            raise ValueError(
                f"the objective's Hessian-vector product returned shape {out.shape}, "
                f"expected ({d},)"
            )
        if not np.isfinite(out).all():
            raise ValueError(
                "the objective's Hessian-vector product returned NaN or infinity at the "
                "current iterate; check hessp (or the data and the loss) there"
            )
        return out

    def toarray(self) -> np.ndarray:
        M = self._model.toarray()
        if not self._matrix_checked:
            self._check_matrix(M)
        return M


def check_step(step: Any, d: int, solver: Any) -> Step:
    """A sub-problem's result as a :class:`Step`, with a finite step of length ``d``."""
    label = type(solver).__name__
    if not isinstance(step, tuple) or len(step) != 5:
        raise TypeError(
            f"{label}.solve must return a Step(s, decrease, hits_boundary, n_products, n_iter); "
            f"got {type(step).__name__}"
        )
    s, decrease, hits, n_products, n_iter = step
    s = np.asarray(s, dtype=np.float64)
    if s.shape != (d,):
        raise ValueError(f"{label}.solve returned a step of shape {s.shape}, expected ({d},)")
    if not np.isfinite(s).all():
        raise ValueError(f"{label}.solve returned a step with NaN or infinity")
    try:
        decrease = float(decrease)
    except (TypeError, ValueError):
        raise TypeError(f"{label}.solve returned a non-numeric decrease {decrease!r}") from None
    if decrease != decrease:
        raise ValueError(f"{label}.solve returned a NaN model decrease")
    for value, what in ((n_products, "n_products"), (n_iter, "n_iter")):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
            raise TypeError(f"{label}.solve returned {what}={value!r}; expected an int >= 0")
    return Step(s, decrease, bool(hits), int(n_products), int(n_iter))
