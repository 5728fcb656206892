"""User objectives given as callables (``fun``, ``grad``, ``hessp`` or ``hess``).

The scipy-style way into the solvers of :mod:`randopt.optimize` for an
objective that is not a finite sum over data rows: there is nothing to
sub-sample, so only ``hessian_sampling="full"`` applies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._validation import check_positive_int
from ._user_outputs import check_matrix_output, check_scalar_output, check_vector_output
from .base import Evaluation, HessianModel, Objective

__all__ = ["CallableObjective"]


class CallableObjective(Objective):
    """An objective given as callables, like ``scipy.optimize.minimize``'s.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> float``; when ``grad is True`` it returns ``(f, g)``.
    grad : callable or True
        ``grad(x) -> ndarray``.
    hessp : callable, optional
        ``hessp(x, v) -> ndarray``.
    hess : callable, optional
        ``hess(x) -> ndarray`` (dense); one of ``hessp``/``hess`` is required.
    n_features : int
        Length of ``x``.

    Notes
    -----
    There are no rows to sample: use ``hessian_sampling="full"``. Cost
    accounting treats the objective as one row (value 1, gradient 2,
    Hessian-vector product 2). The callables receive copies of ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.optimize import rosen, rosen_der, rosen_hess_prod
    >>> from randopt.oracles import CallableObjective
    >>> f = CallableObjective(rosen, rosen_der, hessp=rosen_hess_prod, n_features=3)
    >>> f.value(np.ones(3)), bool(np.all(f.gradient(np.ones(3)) == 0))
    (0.0, True)
    >>> f.hessp(np.ones(3), np.array([1.0, 0.0, 0.0])).tolist()
    [802.0, -400.0, 0.0]
    """

    def __init__(
        self,
        fun: Callable,
        grad: Callable | bool,
        hessp: Callable | None = None,
        hess: Callable | None = None,
        *,
        n_features: int,
    ) -> None:
        if not callable(fun):
            raise TypeError("fun must be callable")
        if grad is not True and not callable(grad):
            raise TypeError("grad must be callable, or True when fun returns (f, g)")
        if hessp is not None and not callable(hessp):
            raise TypeError("hessp must be callable or None")
        if hess is not None and not callable(hess):
            raise TypeError("hess must be callable or None")
        if hessp is None and hess is None:
            raise ValueError("pass hessp(x, v) or hess(x): the solvers need second derivatives")
        self.fun, self.grad, self._hessp, self._hess = fun, grad, hessp, hess
        self.n_features = check_positive_int(n_features, "n_features")
        self.n_samples = 1

    def __repr__(self) -> str:
        return f"CallableObjective(n_features={self.n_features})"

    def _not_finite(self, what: str) -> ValueError:
        name = {"value": "fun", "gradient": "grad"}.get(what, "hessp" if self._hessp else "hess")
        if self.grad is True and what in ("value", "gradient"):
            name = f"fun's {what}"
        return ValueError(f"{name} returned NaN or infinity (the {what} at this x is not finite)")

    def evaluate(
        self, w: Any, *, need_grad: bool = True, gradient_sample: Any = None
    ) -> Evaluation:
        """Value and (optionally) gradient at ``w`` from the callables.

        Parameters
        ----------
        w : array-like of shape (n_features,)
        need_grad : bool, default=True
        gradient_sample : None
            Must be None (there are no rows to sample).

        Returns
        -------
        Evaluation
            With ``curvature=None``.

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import CallableObjective
        >>> f = CallableObjective(lambda x: x @ x, lambda x: 2 * x, hess=lambda x: 2 * np.eye(2),
        ...                       n_features=2)
        >>> ev = f.evaluate(np.ones(2))
        >>> ev.fun, ev.grad.tolist(), ev.curvature
        (2.0, [2.0, 2.0], None)
        """
        if gradient_sample is not None:
            raise TypeError("CallableObjective cannot be sub-sampled; pass gradient_sample=None")
        w = self._check_w(w)
        need_grad = self._check_need_grad(need_grad)
        if self.grad is True:
            out = self.fun(w.copy())
            if not isinstance(out, (tuple, list)) or len(out) != 2:
                raise TypeError(
                    "fun must return a pair (f, g) when grad is True, got "
                    f"{type(out).__name__} {out!r:.60}"
                )
            f, g = out
            f = check_scalar_output(f, "fun's value", finite=False)
            g = (check_vector_output(g, "fun's gradient", self.n_features, finite=False)
                 if need_grad else None)
        else:
            f = check_scalar_output(self.fun(w.copy()), "fun", finite=False)
            g = (check_vector_output(self.grad(w.copy()), "grad", self.n_features, finite=False)
                 if need_grad else None)
        return Evaluation(w, f, g if need_grad else None, None)

    def hessian_model(
        self,
        w_or_eval: Any,
        *,
        sample: Any = None,
        explicit: bool = True,
    ) -> HessianModel:
        """The Hessian at a point, from ``hess`` or from ``hessp`` products.

        Parameters
        ----------
        w_or_eval : array-like of shape (n_features,) or Evaluation
        sample : None
            Must be None.
        explicit : bool, default=True
            Form the matrix (from ``hess``, or ``n_features`` products).

        Returns
        -------
        HessianModel

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import CallableObjective
        >>> f = CallableObjective(lambda x: x @ x, lambda x: 2 * x, hessp=lambda x, v: 2 * v,
        ...                       n_features=2)
        >>> f.hessian_model(np.ones(2), explicit=False).matvec(np.ones(2)).tolist()
        [2.0, 2.0]
        """
        if sample is not None:
            raise TypeError("CallableObjective cannot be sub-sampled; pass sample=None")
        w, _ = self._check_point(w_or_eval)
        d = self.n_features
        if self._hess is not None and (explicit or self._hessp is None):
            H = check_matrix_output(self._hess(w.copy()), "the Hessian hess(x)", d)
            return HessianModel._trusted(d, 1, matrix=0.5 * (H + H.T))
        hessp = self._hessp

        def matvec(v: np.ndarray) -> np.ndarray:
            out = hessp(w.copy(), np.array(v, dtype=np.float64))
            return check_vector_output(out, "hessp(x, v)", d)

        model = HessianModel._trusted(d, 1, matvec=matvec)
        if explicit:
            model.toarray()
        return model
