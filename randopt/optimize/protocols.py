"""What the solvers ask of the objects they are given, as :class:`typing.Protocol` classes.

The solvers check each object once, at their entry (``isinstance`` against
these runtime-checkable protocols), and name what is missing; subclassing
is never required. :class:`ObjectiveLike` is what :mod:`randopt.oracles`
objectives offer, :class:`PolicyLike` what a step-size policy of
:func:`randopt.optimize.newton_loop` offers, :class:`SubproblemLike` what a
sub-problem solver offers (:class:`randopt.optimize.subproblems.Subproblem`
is a base class that implements it) and :class:`HessianLike` what a
sub-problem solver is given (:class:`randopt.oracles.HessianModel`).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = ["HessianLike", "ObjectiveLike", "PolicyLike", "SubproblemLike", "missing_members"]


@runtime_checkable
class ObjectiveLike(Protocol):
    """An objective: sizes, a fused value-and-gradient pass, a Hessian model."""

    n_features: int
    n_samples: int

    def evaluate(self, w: np.ndarray, *, gradient_sample: Any = None) -> Any: ...

    def hessian_model(self, ev: Any, *, sample: Any = None, explicit: bool = False) -> Any: ...


@runtime_checkable
class HessianLike(Protocol):
    """A (sub-sampled) Hessian: products, the matrix when formed, the cost counters."""

    dim: int
    n_rows: int
    matrix: Any
    n_products: int

    def matvec(self, v: np.ndarray) -> np.ndarray: ...

    def toarray(self) -> np.ndarray: ...


@runtime_checkable
class SubproblemLike(Protocol):
    """A trust-region or cubic sub-problem solver (see :mod:`randopt.optimize.subproblems`)."""

    supports_trust_region: bool
    supports_cubic: bool
    needs_matrix: bool

    def set_model(self, grad: np.ndarray, hess: Any, *, tol: float = 1e-9,
                  max_iter: int = 250, random_state: Any = None) -> Any: ...

    def solve(self, *, radius: float | None = None, sigma: float | None = None) -> Any: ...


@runtime_checkable
class PolicyLike(Protocol):
    """A step-size policy of the outer loop (radius or cubic weight and its update)."""

    parameter_name: str
    value: float

    def check_subproblem(self, solver: Any) -> None: ...

    def start(self) -> None: ...

    def step(self, solver: Any) -> Any: ...

    def eigen_step(self, g: np.ndarray, lam: float, u: np.ndarray) -> tuple: ...

    def update(self, rho: float) -> bool: ...

    def exhausted(self, x_norm: float) -> bool: ...


def missing_members(obj: Any, protocol: type) -> list[str]:
    """The members of ``protocol`` that ``obj`` lacks (methods must be callable).

    Examples
    --------
    >>> missing_members(object(), HessianLike)
    ['dim', 'n_rows', 'matrix', 'n_products', 'matvec', 'toarray']
    """
    names = list(getattr(protocol, "__annotations__", {}))
    methods = [k for k, v in vars(protocol).items() if callable(v) and not k.startswith("_")]
    missing = [n for n in names if not hasattr(obj, n)]
    return missing + [m for m in methods if not callable(getattr(obj, m, None))]
