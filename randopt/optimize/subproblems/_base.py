"""The interface every trust-region or cubic sub-problem solver implements.

At an iterate with gradient ``g`` and (sub-sampled) Hessian ``H`` a solver
minimises the quadratic model ``m(s) = g^T s + s^T H s / 2`` over
``||s|| <= radius`` (trust region) or the cubic model
``m(s) + sigma ||s||^3 / 3`` (cubic regularisation, ARC). The outer loop
(:func:`randopt.optimize.newton_loop`) talks to a solver through four class
attributes and two methods, as SciPy's ``_trustregion.py`` talks to its
``BaseQuadraticSubproblem``:

``supports_trust_region``, ``supports_cubic`` : bool
    Which of the two models it can minimise.
``needs_matrix`` : bool
    It reads ``hess.matrix`` / ``hess.toarray()`` (the loop then forms the
    explicit Hessian).
``prefers_matrix`` : bool, optional (default False)
    It takes many products, so ``hessian_mode="auto"`` forms a small explicit
    Hessian (``d <= 1000``) of a finite sum for it.
``set_model(grad, hess, *, tol, max_iter, random_state) -> self``
    Bind the solver to one model. Called once per iterate; the loop then
    calls ``solve`` once per trial radius or sigma at that iterate (several
    after rejected steps), so work kept between calls (a factorisation, a
    Krylov basis) is reused.
``solve(*, radius=None, sigma=None) -> Step``
    Exactly one of ``radius`` (trust region) or ``sigma`` (cubic) is given.

``hess`` offers ``dim``, ``n_rows``, ``matrix`` (an ndarray or None),
``matvec(v)``, ``toarray()`` and ``n_products``, as
:class:`randopt.oracles.HessianModel` does. ``subproblem=`` of
:func:`randopt.optimize.trust_region` and :func:`randopt.optimize.arc`
accepts a name, a class (built without arguments) or an instance (for a
solver with options of its own); subclassing :class:`Subproblem` is
optional (the interface is :class:`randopt.optimize.protocols.SubproblemLike`,
checked once by :func:`as_subproblem`).

The base class checks what a solver is given once, at entry:
:meth:`Subproblem.set_model` the gradient (a finite real vector of length
``hess.dim``), the Hessian (what :class:`~randopt.optimize.protocols.HessianLike`
lists), ``tol``, ``max_iter`` and ``random_state``; ``solve`` the radius or
the weight (finite, > 0); a built-in solver refuses a non-finite step (a NaN
Hessian) instead of returning it. The errors name the argument.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any, NamedTuple

import numpy as np

from ..._validation import check_bool, check_random_state, check_scalar
from ...linalg.cg import boundary_root
from ...oracles import HessianModel
from ..protocols import HessianLike, SubproblemLike, missing_members

__all__ = ["Step", "Subproblem", "as_subproblem", "boundary_root", "cubic_model_value"]

_INF = math.inf


class Step(NamedTuple):
    """A sub-problem solution.

    Attributes
    ----------
    s : ndarray of shape (d,)
        The step.
    decrease : float
        ``-m(s) >= 0``, the model decrease (cubic term included for ARC).
    hits_boundary : bool
        Whether ``||s|| = radius`` (trust region; always False for ARC).
    n_products : int
        Hessian-vector products this call spent (0 when it reused earlier work).
    n_iter : int
        Inner (CG, Lanczos, Newton) iterations.

    Examples
    --------
    >>> import numpy as np
    >>> Step(np.zeros(2), 0.0, False, 0, 0).decrease
    0.0
    """

    s: np.ndarray
    decrease: float
    hits_boundary: bool
    n_products: int
    n_iter: int


class Subproblem:
    """Base class of the sub-problem solvers (see the module docstring).

    A subclass sets the class attributes and implements :meth:`solve`; it
    may override :meth:`set_model` to reset work it keeps per model (calling
    ``super().set_model``).

    Attributes
    ----------
    g : ndarray of shape (d,)
        Gradient of the current model (after :meth:`set_model`).
    H : HessianModel
        Hessian of the current model.
    gnorm : float
        ``||g||``.
    tol : float
        Relative tolerance of the inner iteration on the model gradient.
    max_iter : int
        Maximum inner iterations (Hessian-vector products) per model.
    rng : numpy.random.Generator
        Source of the random vectors some solvers draw (Lanczos restarts).

    Examples
    --------
    A user-written solver (the steepest-descent step to the boundary) that
    the solvers accept as ``subproblem=BoundarySteepestDescent``:

    >>> import numpy as np
    >>> from randopt.oracles import HessianModel
    >>> from randopt.optimize.subproblems import Step, Subproblem
    >>> class BoundarySteepestDescent(Subproblem):
    ...     supports_trust_region = True
    ...     def solve(self, *, radius=None, sigma=None):
    ...         s = -radius * self.g / self.gnorm
    ...         Hs = self.H.matvec(s)
    ...         return Step(s, -float(self.g @ s + 0.5 * s @ Hs), True, 1, 1)
    >>> H = HessianModel(2, 1, matrix=np.eye(2))
    >>> step = BoundarySteepestDescent().set_model(np.array([3.0, 4.0]), H).solve(radius=1.0)
    >>> step.s.tolist(), round(step.decrease, 12)
    ([-0.6, -0.8], 4.5)
    """

    name = ""  # the registry name of a built-in solver; error messages fall back to the class
    supports_trust_region = False
    supports_cubic = False
    needs_matrix = False
    prefers_matrix = False

    def set_model(
        self,
        grad: np.ndarray,
        hess: Any,
        *,
        tol: float = 1e-9,
        max_iter: int = 250,
        random_state: Any = None,
    ) -> Subproblem:
        """Bind the solver to the model with gradient ``grad`` and Hessian ``hess``.

        Parameters
        ----------
        grad : ndarray of shape (d,)
            Gradient at the iterate.
        hess : HessianModel
            (Sub-sampled) Hessian at the iterate.
        tol : float, default=1e-9
            Relative tolerance of the inner iteration (on the model gradient,
            relative to ``||g||``), in ``(0, 1)``.
        max_iter : int, default=250
            Maximum inner iterations (Hessian-vector products) for this model.
        random_state : None, int or numpy.random.Generator
            Source of randomness (a Generator is used as is, sharing the
            caller's stream).

        Returns
        -------
        Subproblem
            ``self``, so that ``solver.set_model(g, H).solve(radius=r)`` chains.

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import HessianModel
        >>> from randopt.optimize.subproblems import CauchyPoint
        >>> sub = CauchyPoint().set_model(np.ones(2), HessianModel(2, 1, matrix=np.eye(2)))
        >>> bool(sub.gnorm == np.sqrt(2))
        True
        """
        label = type(self).__name__
        # the library's own models skip the (slow) structural protocol check
        trusted = type(hess) is HessianModel or type(hess) is CheckedProducts
        if not trusted and not isinstance(hess, HessianLike):
            raise TypeError(
                f"{label}.set_model: hess must offer "
                f"{', '.join(missing_members(hess, HessianLike))} (as "
                f"randopt.oracles.HessianModel does); got {type(hess).__name__}"
            )
        dim = hess.dim
        if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, numbers.Integral) or dim < 1:
            raise ValueError(f"{label}.set_model: hess.dim must be a positive int, got {dim!r}")
        self.g = _check_gradient(grad, int(dim), label)
        if not trusted:
            # a user's own Hessian object: its matrix or every product checked once, here
            hess = checked_model(hess, int(dim), (
                f"{label}.set_model: the Hessian (hess)", "hess", "hess.matvec(v)", "hess"))
        self.H = hess
        self.gnorm = float(np.linalg.norm(self.g))
        # the common valid case costs no call; anything else gets the full check and its error
        if not (type(tol) is float and 0.0 < tol < 1.0):
            tol = check_scalar(tol, "tol", low=0, high=1, low_inclusive=False,
                               high_inclusive=False)
        if not (type(max_iter) is int and max_iter >= 1):
            max_iter = check_scalar(max_iter, "max_iter", kind=int, low=1)
        self.tol, self.max_iter = tol, max_iter
        self.rng = (random_state if isinstance(random_state, np.random.Generator)
                    else check_random_state(random_state))
        return self

    def solve(self, *, radius: float | None = None, sigma: float | None = None) -> Step:
        """Minimise the trust-region (``radius``) or the cubic (``sigma``) model.

        Parameters
        ----------
        radius : float, optional
            Trust-region radius (> 0).
        sigma : float, optional
            Cubic regularisation weight (> 0). Exactly one of the two is given.

        Returns
        -------
        Step
            The step and its model decrease.

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import HessianModel
        >>> from randopt.optimize.subproblems import ExactSubproblem
        >>> H = HessianModel(1, 1, matrix=np.eye(1))
        >>> sub = ExactSubproblem().set_model(np.array([1.0]), H)
        >>> sub.solve(radius=10.0).s.tolist(), sub.solve(sigma=1e-12).s.round(6).tolist()
        ([-1.0], [-1.0])
        """
        raise NotImplementedError(f"{type(self).__name__} must implement solve()")

    def _model_kind(self, radius: float | None, sigma: float | None) -> str:
        """``"trust_region"`` or ``"cubic"``, checking that exactly one parameter is given."""
        if (radius is None) == (sigma is None):
            raise TypeError(
                f"{type(self).__name__}.solve takes exactly one of radius= (trust region) "
                f"or sigma= (cubic regularisation); got radius={radius!r}, sigma={sigma!r}"
            )
        if getattr(self, "H", None) is None:
            raise RuntimeError(f"call {type(self).__name__}.set_model(grad, hess) before solve")
        if radius is not None:
            if not self.supports_trust_region:
                raise ValueError(f"{type(self).__name__} cannot solve trust-region sub-problems")
            _check_parameter(radius, "radius", type(self).__name__)
            return "trust_region"
        if not self.supports_cubic:
            raise ValueError(f"{type(self).__name__} cannot solve cubic sub-problems")
        _check_parameter(sigma, "sigma", type(self).__name__)
        return "cubic"

    def _checked(self, step: Step) -> Step:
        """``step``, refused when the model's products made it non-finite (a NaN Hessian)."""
        if not (math.isfinite(step.decrease) and np.isfinite(step.s).all()):
            raise ValueError(
                f"{type(self).__name__}.solve: the step is not finite; the Hessian (hess) "
                "contains NaN or infinity, or its products overflow"
            )
        return step


_LOOP_NAMES = ("the objective's Hessian", "hess/hessp (or the data and the loss)",
               "hessp(x, v)", "hessp (or the data and the loss)")


def checked_model(model: Any, d: int, names: tuple[str, str, str, str] = _LOOP_NAMES) -> Any:
    """A Hessian model checked once, where it enters a solver.

    An explicit matrix is checked once (shape, finiteness) and the model is
    returned as is; a model of products is wrapped so that each product's
    finiteness (and, for a model that is not a
    :class:`~randopt.oracles.HessianModel`, which checks it, its shape) is
    checked once, where it enters. ``names`` words the errors: what the model
    is, what to check when its matrix is not finite, the product's callable,
    what to check when a product is not finite.
    """
    what = names[0]
    if int(model.dim) != d:
        raise ValueError(f"{what} model has dimension {model.dim}, not {d}")
    if model.matrix is not None:
        _check_matrix(model.matrix, d, names)
        return model
    return CheckedProducts(model, names)


def _check_matrix(M: Any, d: int, names: tuple[str, str, str, str]) -> None:
    if getattr(M, "shape", None) != (d, d):
        raise ValueError(f"{names[0]} has shape {getattr(M, 'shape', None)}, expected {(d, d)}")
    dtype = getattr(M, "dtype", None)
    if dtype is None or not (np.issubdtype(dtype, np.floating)
                             or np.issubdtype(dtype, np.integer)):
        raise TypeError(f"{names[0]} has dtype {dtype}; expected real numbers")
    if not np.isfinite(M).all():
        raise ValueError(
            f"{names[0]} contains NaN or infinity at the current iterate; check {names[1]} there"
        )


class CheckedProducts:
    """A Hessian model of products whose every product is checked once, on entry."""

    __slots__ = ("_model", "_names", "dim", "n_rows", "matrix", "_check_shape")

    def __init__(self, model: Any, names: tuple[str, str, str, str] = _LOOP_NAMES) -> None:
        self._model = model
        self._names = names
        self.dim = int(model.dim)
        self.n_rows = int(model.n_rows)
        self.matrix = None
        self._check_shape = type(model) is not HessianModel  # a HessianModel checks shapes

    @property
    def n_products(self) -> int:
        return self._model.n_products

    def matvec(self, v: np.ndarray) -> np.ndarray:
        d, (what, _, product, check) = self.dim, self._names
        try:
            out = self._model.matvec(v)
        except ValueError as exc:
            raise ValueError(
                f"{what}-vector product failed on a vector of length {d} "
                f"({exc}); {product} must return an array of shape ({d},)"
            ) from exc
        if self._check_shape:
            out = np.asarray(out)
            if out.shape != (d,):
                raise ValueError(
                    f"{what}-vector product returned shape {out.shape}, expected ({d},)"
                )
            if not np.issubdtype(out.dtype, np.floating) and not np.issubdtype(
                    out.dtype, np.integer):
                raise TypeError(
                    f"{what}-vector product returned dtype {out.dtype}; {product} must "
                    "return real numbers"
                )
        if not np.isfinite(out).all():
            raise ValueError(
                f"{what}-vector product returned NaN or infinity at the "
                f"current iterate; check {check} there"
            )
        return out

    def conjugate_gradient(self, b: Any, **options: Any) -> Any:
        """The model's own CG solve, if it has one (``None``: it declines).

        :func:`randopt.linalg.conjugate_gradient` hands a solve to the object
        whose ``matvec`` it was given (a JAX model runs it as one compiled
        program on its device); this proxy forwards the hook and checks the
        solution as it checks products.
        """
        solve = getattr(self._model, "conjugate_gradient", None)
        if solve is None:
            return None
        res = solve(b, **options)
        if res is not None and not np.isfinite(np.asarray(res.x)).all():
            what, _, _, check = self._names
            raise ValueError(
                f"the {what} model's own CG solve returned NaN or infinity at the "
                f"current iterate; check {check} there"
            )
        return res

    def toarray(self) -> np.ndarray:
        M = self._model.toarray()
        _check_matrix(M, self.dim, self._names)
        self.matrix = M
        return M


def _check_parameter(value: Any, name: str, label: str) -> None:
    """A radius or a cubic weight: a real number in ``(0, inf)``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{label}.solve: {name} must be a real number > 0, got {value!r}")
    if not 0.0 < value < _INF:
        raise ValueError(f"{label}.solve: {name} must be finite and > 0, got {value!r}")


def _check_gradient(grad: Any, dim: int, label: str) -> np.ndarray:
    """``grad`` as a finite real float64 vector of length ``dim`` (no copy of a float64 one)."""
    if not (isinstance(grad, np.ndarray) and grad.dtype == np.float64):
        arr = np.asarray(grad)
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.floating)
                                       or np.issubdtype(arr.dtype, np.integer)):
            raise TypeError(
                f"{label}.set_model: grad must be a real float vector, got dtype {arr.dtype}"
            )
        grad = arr.astype(np.float64)
    if grad.shape != (dim,):
        raise ValueError(
            f"{label}.set_model: grad has shape {grad.shape}, expected ({dim},) as hess.dim says"
        )
    if not np.isfinite(grad).all():
        raise ValueError(f"{label}.set_model: grad contains NaN or infinity")
    return grad


def cubic_model_value(g: np.ndarray, s: np.ndarray, Hs: np.ndarray, sigma: float) -> float:
    """The cubic model ``g^T s + s^T H s / 2 + sigma ||s||^3 / 3``, given ``H s`` (deprecated).

    .. deprecated::
        Never used by a solver; it will be removed in the next release.

    Parameters
    ----------
    g, s, Hs : ndarray of shape (d,)
        Gradient, step and the Hessian-vector product ``H s``.
    sigma : float
        Cubic regularisation weight (0 gives the quadratic model).

    Returns
    -------
    float
        The model value at ``s``.

    Examples
    --------
    >>> import numpy as np
    >>> s = np.array([1.0, 0.0])
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", DeprecationWarning)
    ...     cubic_model_value(np.array([-1.0, 0.0]), s, s, 3.0)
    0.5
    """
    warnings.warn(
        "randopt.optimize.subproblems.cubic_model_value is deprecated and will be removed in "
        "the next release (no solver uses it); compute g @ s + s @ Hs / 2 + sigma ||s||^3 / 3",
        DeprecationWarning, stacklevel=2,
    )
    ns = float(np.linalg.norm(s))
    return float(g @ s) + 0.5 * float(s @ Hs) + sigma * ns**3 / 3.0


def as_subproblem(subproblem: Any, name: str = "subproblem") -> Any:
    """A sub-problem solver instance from a name, a class or an instance.

    Parameters
    ----------
    subproblem : str, class or object
        One of ``"cg"``, ``"lanczos"``, ``"exact"``, ``"cauchy"``; a class
        implementing the interface of :class:`Subproblem` (built here without
        arguments); or an instance of one (used as is, for solvers with
        options of their own). Subclassing :class:`Subproblem` is not
        required: what :class:`randopt.optimize.protocols.SubproblemLike`
        lists is (the bools ``supports_trust_region``, ``supports_cubic``,
        ``needs_matrix`` and the methods ``set_model`` and ``solve``).
    name : str, default="subproblem"
        Argument name for error messages.

    Returns
    -------
    object
        The solver instance.

    Raises
    ------
    ValueError
        For an unknown name.
    TypeError
        For anything that does not implement the interface.

    Examples
    --------
    >>> from randopt.optimize.subproblems import CGSteihaug, as_subproblem
    >>> type(as_subproblem("cg")).__name__, type(as_subproblem(CGSteihaug)).__name__
    ('CGSteihaug', 'CGSteihaug')
    """
    from .registry import SUBPROBLEMS  # the registry imports the solvers, which import this

    if isinstance(subproblem, str):
        if subproblem not in SUBPROBLEMS:
            allowed = ", ".join(repr(k) for k in SUBPROBLEMS)
            raise ValueError(
                f"{name} must be one of {allowed}, a Subproblem class or an instance; "
                f"got {subproblem!r}"
            )
        return SUBPROBLEMS[subproblem]()
    if isinstance(subproblem, type):
        _check_interface(subproblem, name, tuple(SUBPROBLEMS))
        try:
            instance = subproblem()
        except TypeError as exc:
            raise TypeError(
                f"{name} class {subproblem.__name__} must be constructible without arguments "
                f"({exc}); pass an instance to give it options"
            ) from None
        return instance
    _check_interface(subproblem, name, tuple(SUBPROBLEMS))
    return subproblem


def _check_interface(obj: Any, name: str, names: tuple) -> None:
    if not isinstance(obj, SubproblemLike):
        label = obj.__name__ if isinstance(obj, type) else type(obj).__name__
        raise TypeError(
            f"{name} must be one of {names}, a Subproblem class or an instance; {label} lacks "
            f"{', '.join(missing_members(obj, SubproblemLike))} (see "
            "randopt.optimize.subproblems.Subproblem)"
        )
    for flag in ("supports_trust_region", "supports_cubic", "needs_matrix"):
        check_bool(getattr(obj, flag), f"{name}.{flag}")


def check_step(step: Any, d: int, solver: Any) -> Step:
    """A user solver's result as a :class:`Step`, with a finite step of length ``d`` (the loop
    checks what a solver it does not own returns, once, where it enters)."""
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
