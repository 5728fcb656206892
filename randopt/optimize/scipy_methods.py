"""The solvers as ``scipy.optimize.minimize`` methods: ``method=minimize_trust_region``.

SciPy calls a callable ``method`` as ``method(fun, x0, args=args, jac=jac,
hess=hess, hessp=hessp, bounds=bounds, constraints=constraints,
callback=callback, **options)`` and returns what it returns. The two
functions here take exactly that, so code written against SciPy switches
with one argument::

    minimize(fun, x0, jac=grad, hessp=hessp, method=minimize_trust_region)

``options`` may use SciPy's names (``gtol``, ``maxiter``, ``disp``,
``initial_trust_radius``, ``max_trust_radius``, ``eta``, and the ``tol``
that ``minimize`` forwards) or the solvers' own keywords
(``subproblem_tol="ew"``, ``preconditioner``, ``subproblem``, ...); any other
name is refused, naming it and the allowed ones. Bounds and constraints are
refused (unconstrained solvers). The result is the solver's
``OptimizeResult`` (``x``, ``fun``, ``jac``, ``nit``, ``nfev``, ``njev``,
``nhev``, ``status``, ``success``, ``message``, ``history``, ...).

References
----------
.. [1] SciPy, ``scipy.optimize.minimize``, "Custom minimizers".
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

from ..oracles import CallableObjective
from .arc import arc
from .trust_region import trust_region

__all__ = ["minimize_arc", "minimize_trust_region"]

# SciPy's option names -> the solvers' keywords (None: accepted and ignored)
_SCIPY_NAMES = {"gtol": "gtol", "maxiter": "max_iter", "disp": None, "return_all": None}
_TR_NAMES = {"initial_trust_radius": "radius", "max_trust_radius": "max_radius", "eta": "eta2"}
# options the adaptor sets itself
_RESERVED = ("objective", "x0", "callback")


def _solver_options(solver: Callable, options: dict, scipy_names: dict, method: str) -> dict:
    """``options`` in the solver's keywords; a clear error for an unknown or doubled name."""
    own = [p for p in inspect.signature(solver).parameters if p not in _RESERVED]
    out: dict[str, Any] = {}
    for key, value in options.items():
        if key in scipy_names:
            target = scipy_names[key]
            if target is None:
                continue
        elif key in own:
            target = key
        else:
            allowed = sorted(set(scipy_names) | set(own) | {"tol"})
            raise TypeError(
                f"{method}: unknown option {key!r}; allowed: {', '.join(allowed)}"
            )
        if target in out:
            raise TypeError(f"{method}: option {key!r} repeats {target!r}, given already")
        out[target] = value
    if "max_iter" in out and out["max_iter"] is None:
        del out["max_iter"]  # SciPy's "no limit" keeps the solver's default
    return out


def _scipy_callback(callback: Any, method: str) -> Callable | None:
    """The solvers' ``callback(x, info)`` from SciPy's ``callback(xk)`` or
    ``callback(intermediate_result)`` (raising ``StopIteration`` stops both)."""
    if callback is None:
        return None
    if not callable(callback):
        raise TypeError(f"{method}: callback must be callable or None, got {callback!r}")
    try:
        params = list(inspect.signature(callback).parameters)
    except (TypeError, ValueError):
        params = []
    new_style = params == ["intermediate_result"]

    def info_callback(x: np.ndarray, info: dict) -> None:
        if info["iteration"] == 0:
            return None  # SciPy calls its callback after each iteration, not at x0
        if new_style:
            callback(OptimizeResult(x=x, fun=info["loss"], nit=info["iteration"]))
        else:
            callback(x)
        return None

    return info_callback


def _objective(fun: Any, x0: Any, args: Any, jac: Any, hess: Any, hessp: Any,
               method: str) -> tuple[CallableObjective, np.ndarray]:
    if not callable(fun):
        raise TypeError(f"{method}: fun must be callable, got {type(fun).__name__}")
    if not isinstance(args, tuple):
        args = (args,)
    if not callable(jac):
        raise ValueError(
            f"{method}: jac must be a callable jac(x, *args) (or True, which minimize turns "
            f"into one): the solver needs gradients; got {jac!r}")
    for name, value in (("hess", hess), ("hessp", hessp)):
        if value is not None and not callable(value):
            raise ValueError(
                f"{method}: {name} must be a callable or None (finite-difference or "
                f"quasi-Newton Hessians are not supported); got {value!r}")
    if hess is None and hessp is None:
        raise ValueError(
            f"{method}: pass hessp(x, p, *args) or hess(x, *args): the solver needs second "
            "derivatives")
    x0 = np.asarray(x0)
    if x0.dtype.kind not in "fiu":
        raise TypeError(f"{method}: x0 must be a real array, got dtype {x0.dtype}")
    x0 = np.atleast_1d(x0.astype(np.float64)).ravel()

    def f(x: np.ndarray) -> Any:
        return fun(x, *args)

    def g(x: np.ndarray) -> Any:
        return jac(x, *args)

    objective = CallableObjective(
        f, g,
        hessp=None if hessp is None else (lambda x, v: hessp(x, v, *args)),
        hess=None if hess is None else (lambda x: hess(x, *args)),
        n_features=x0.size,
    )
    return objective, x0


def _minimize(solver: Callable, scipy_names: dict, method: str, fun: Any, x0: Any,
              args: Any, jac: Any, hess: Any, hessp: Any, bounds: Any, constraints: Any,
              callback: Any, options: dict) -> OptimizeResult:
    if bounds is not None:
        raise ValueError(f"{method} is unconstrained: bounds must be None, got {bounds!r}")
    # not ``constraints in (None, (), [])``: an array or a Constraint object compared with ==
    if constraints is not None and not (isinstance(constraints, (tuple, list))
                                        and len(constraints) == 0):
        raise ValueError(f"{method} is unconstrained: constraints must be empty")
    options = dict(options)
    tol = options.pop("tol", None)  # minimize's tol: gtol unless gtol is given (as SciPy)
    if tol is not None:
        options.setdefault("gtol", tol)
    kwargs = _solver_options(solver, options, scipy_names, method)
    objective, x0 = _objective(fun, x0, args, jac, hess, hessp, method)
    return solver(objective, x0, callback=_scipy_callback(callback, method), **kwargs)


def minimize_trust_region(
    fun: Callable,
    x0: Any,
    args: tuple = (),
    jac: Callable | None = None,
    hess: Callable | None = None,
    hessp: Callable | None = None,
    bounds: Any = None,
    constraints: Any = (),
    callback: Callable | None = None,
    **options: Any,
) -> OptimizeResult:
    """:func:`randopt.optimize.trust_region` as a ``scipy.optimize.minimize`` method.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args) -> float``.
    x0 : array-like of shape (d,)
        Starting point.
    args : tuple, default=()
        Extra arguments of ``fun``, ``jac``, ``hess`` and ``hessp``.
    jac : callable
        ``jac(x, *args) -> ndarray of shape (d,)`` (required).
    hess : callable, optional
        ``hess(x, *args) -> ndarray of shape (d, d)``.
    hessp : callable, optional
        ``hessp(x, p, *args) -> ndarray of shape (d,)``; one of ``hess`` and
        ``hessp`` is required.
    bounds, constraints : None
        Refused when given (the solver is unconstrained).
    callback : callable, optional
        SciPy's ``callback(xk)`` or ``callback(intermediate_result)``, after
        each iteration; raising ``StopIteration`` stops the solver.
    **options
        SciPy's ``gtol``, ``maxiter``, ``tol``, ``disp`` (ignored),
        ``initial_trust_radius``, ``max_trust_radius``, ``eta`` (the
        acceptance threshold, ``eta2``), or any keyword of
        :func:`~randopt.optimize.trust_region` (``subproblem_tol="ew"``, ...).

    Returns
    -------
    scipy.optimize.OptimizeResult
        As :func:`~randopt.optimize.trust_region` returns it.

    Raises
    ------
    TypeError
        For an unknown option (the message lists the allowed ones).
    ValueError
        For a missing ``jac`` or second derivative, bounds or constraints.

    References
    ----------
    .. [1] J. Nocedal and S. J. Wright, "Numerical Optimization", 2nd ed.
           (2006), Algorithm 7.2 (the method of SciPy's ``trust-ncg`` too).

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.optimize import minimize, rosen, rosen_der, rosen_hess_prod
    >>> from randopt.optimize import minimize_trust_region
    >>> res = minimize(rosen, np.zeros(4), jac=rosen_der, hessp=rosen_hess_prod,
    ...                method=minimize_trust_region, options={"gtol": 1e-10})
    >>> bool(res.success), bool(np.allclose(res.x, 1.0))
    (True, True)
    """
    return _minimize(trust_region, {**_SCIPY_NAMES, **_TR_NAMES}, "minimize_trust_region",
                     fun, x0, args, jac, hess, hessp, bounds, constraints, callback, options)


def minimize_arc(
    fun: Callable,
    x0: Any,
    args: tuple = (),
    jac: Callable | None = None,
    hess: Callable | None = None,
    hessp: Callable | None = None,
    bounds: Any = None,
    constraints: Any = (),
    callback: Callable | None = None,
    **options: Any,
) -> OptimizeResult:
    """:func:`randopt.optimize.arc` as a ``scipy.optimize.minimize`` method.

    Parameters
    ----------
    fun, x0, args, jac, hess, hessp, bounds, constraints, callback
        As in :func:`minimize_trust_region`.
    **options
        SciPy's ``gtol``, ``maxiter``, ``tol``, ``disp`` (ignored), or any
        keyword of :func:`~randopt.optimize.arc` (``sigma0``, ...).

    Returns
    -------
    scipy.optimize.OptimizeResult
        As :func:`~randopt.optimize.arc` returns it.

    Raises
    ------
    TypeError
        For an unknown option.
    ValueError
        For a missing ``jac`` or second derivative, bounds or constraints.

    References
    ----------
    .. [1] C. Cartis, N. I. M. Gould and P. L. Toint, "Adaptive cubic
           regularisation methods for unconstrained optimization. Part I",
           Math. Program. 127 (2011), 245-295.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.optimize import minimize, rosen, rosen_der, rosen_hess
    >>> from randopt.optimize import minimize_arc
    >>> res = minimize(rosen, np.zeros(3), jac=rosen_der, hess=rosen_hess,
    ...                method=minimize_arc, tol=1e-10)
    >>> bool(res.success), bool(np.allclose(res.x, 1.0))
    (True, True)
    """
    return _minimize(arc, dict(_SCIPY_NAMES), "minimize_arc", fun, x0, args, jac, hess, hessp,
                     bounds, constraints, callback, options)
