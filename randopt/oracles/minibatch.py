"""User models as finite sums: callables evaluated on a minibatch of data rows.

A user's model (a neural network in JAX or PyTorch, any code that computes
a mean loss over chosen rows of its data) enters the solvers of
:mod:`randopt.optimize` through :class:`MinibatchObjective`: the user gives

    fun(x, indices)          -> (1/|I|) sum_{i in I} f_i(x)          (a float)
    grad(x, indices)         -> (1/|I|) sum_{i in I} grad f_i(x)     (n_features,)
    hvp(x, v, indices)       -> (1/|I|) sum_{i in I} H_i(x) v        (n_features,)
    gnvp(x, v, indices)      -> (1/|I|) sum_{i in I} G_i(x) v        (Gauss-Newton)
    value_and_grad(x, indices) -> (fun, grad) from one pass (optional)

for an index set ``I`` of the ``n_samples`` rows, and the objective is the
mean over all rows, ``f(x) = (1/n) sum_i f_i(x) + (alpha/2) ||x||^2``.

Samples follow the convention of :class:`randopt.sketch.Sample`:
``sum_k omega_k g_{i_k}`` estimates ``sum_i g_i``. A uniform sample (every
weight ``omega_k = n / s``, what ``hessian_sampling="uniform"`` and
``gradient_sample_size`` draw) is the plain mean over its rows, which the
callables compute. Unequal weights (non-uniform sampling) cannot be
expressed through a mean over rows, so they are refused with a
``TypeError``; so is ``hessian_sampling="nonuniform"``, which needs the
curvature of every row.

Cost accounting is that of the linear losses (one forward and one backward
pass per row, as the papers count propagations): a value over ``n`` rows
costs ``n``, a gradient ``2n``, a Hessian- or Gauss-Newton-vector product on
``S`` rows ``2 |S|`` (:mod:`randopt.optimize.loop`).

References
----------
.. [1] P. Xu, F. Roosta and M. W. Mahoney, "Second-order optimization for
       non-convex machine learning: an empirical study", SIAM International
       Conference on Data Mining (2020).
.. [2] F. Roosta-Khorasani and M. W. Mahoney, "Sub-sampled Newton methods",
       Math. Program. 174 (2019), 293-326.
.. [3] N. N. Schraudolph, "Fast curvature matrix-vector products for
       second-order gradient descent", Neural Computation 14 (2002), 1723-1738.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._validation import check_positive_int, check_scalar
from ..sketch import Sample
from ._user_outputs import check_scalar_output, check_vector_output
from .base import Evaluation, HessianModel, Objective

__all__ = ["MinibatchObjective"]

#: Relative spread below which a sample's weights count as equal (a uniform sample).
_EQUAL_WEIGHTS_RTOL = 1e-10


def _weighted_sum(terms: Any) -> Any:
    """``sum_k w_k a_k`` of ``(w_k, a_k)`` pairs (scalars or arrays); a lone weight 1 as is."""
    total = None
    for weight, value in terms:
        term = value if weight == 1.0 else weight * value
        total = term if total is None else total + term
    return total


def check_callables(**functions: Any) -> None:
    """A TypeError naming the first argument that is neither callable nor None."""
    for name, fn in functions.items():
        if fn is not None and not callable(fn):
            raise TypeError(f"{name} must be callable or None, got {type(fn).__name__}")


class MinibatchObjective(Objective):
    """A mean over ``n_samples`` data rows given as callables on row subsets.

    Parameters
    ----------
    fun : callable or None
        ``fun(x, indices) -> float``, the mean loss over the rows ``indices``.
        May be None when ``value_and_grad`` is given (value-only passes then
        call ``value_and_grad`` and discard the gradient).
    grad : callable or None
        ``grad(x, indices) -> ndarray of shape (n_features,)``, the mean
        gradient. May be None when ``value_and_grad`` is given.
    n_samples : int
        Number of data rows ``n``.
    n_features : int
        Number of parameters (the length of ``x``).
    hvp : callable, optional
        ``hvp(x, v, indices) -> ndarray``, the mean Hessian-vector product.
    gnvp : callable, optional
        ``gnvp(x, v, indices) -> ndarray``, the mean Gauss-Newton-vector
        product ``J^T H_out J v`` (positive semi-definite; [3]_). At least one
        of ``hvp`` and ``gnvp`` is required: ``hvp`` for
        :func:`~randopt.optimize.trust_region` and
        :func:`~randopt.optimize.arc`, ``gnvp`` for Gauss-Newton.
    value_and_grad : callable, optional
        ``value_and_grad(x, indices) -> (float, ndarray)`` from one pass;
        used for the full value-and-gradient passes when given.
    batch_size : int, optional
        Most rows per call (``None``: all ``n`` rows in one call). Full passes
        and large samples run in chunks of at most ``batch_size`` rows,
        combined weighted by chunk size, so that large data never goes
        through one call.
    alpha : float, default=0
        Ridge penalty ``(alpha/2) ||x||^2`` added outside the callables (exact
        on every sample).

    Attributes
    ----------
    n_samples, n_features : int
    supports_sampling : bool
        True: uniform row samples for the Hessian and the gradient.
    supports_gauss_newton : bool
        True when ``gnvp`` is given (:meth:`gauss_newton_model`).
    matrix_free : bool
        True: the Hessian exists only as products; forming it costs
        ``n_features`` products (:meth:`hessian_model` with ``explicit=True``).

    Notes
    -----
    The callables receive fresh copies on every call: ``x`` and ``v`` as
    float64 arrays, ``indices`` as an int64 array holding consecutive rows
    ``lo, ..., hi - 1`` in full passes and sorted row numbers (with repeats
    when drawn with replacement) in samples drawn by :mod:`randopt.sketch`.
    They must return the *mean* over those rows (not the sum), so that the
    value does not depend on how rows are chunked.

    Outputs are checked: a value must be a real scalar, gradients and
    products real arrays of shape ``(n_features,)`` (a ``TypeError`` or
    ``ValueError`` names the callable otherwise). Products must be finite
    (a ``ValueError`` naming ``hvp``/``gnvp``); a non-finite value or
    gradient is passed on, so that a solver rejects a trial point where the
    model overflows (the solvers stop with an error at ``x0``).

    The penalty is applied by this class: ``alpha x`` is added to gradients
    and ``alpha v`` to products. A user who regularises inside ``fun``
    instead gets the same objective but pays for the penalty in every call.

    A PyTorch user wraps ``torch.func`` products: ``functional_call`` on a
    parameter dict unflattened from ``x``, ``torch.func.grad`` for the
    gradient and ``torch.func.jvp`` of the gradient (forward over reverse)
    for ``hvp``; ``examples/pytorch_minibatch.py`` is a runnable script. A
    JAX model is wrapped by :class:`randopt.oracles.JaxObjective`.

    References
    ----------
    .. [1] P. Xu, F. Roosta and M. W. Mahoney, "Second-order optimization for
           non-convex machine learning: an empirical study", SDM (2020).
    .. [2] F. Roosta-Khorasani and M. W. Mahoney, "Sub-sampled Newton
           methods", Math. Program. 174 (2019), 293-326.
    .. [3] N. N. Schraudolph, "Fast curvature matrix-vector products for
           second-order gradient descent", Neural Computation 14 (2002).

    Examples
    --------
    Least squares ``(1/2n) ||A x - b||^2`` through its rows:

    >>> import numpy as np
    >>> from randopt.oracles import MinibatchObjective
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((100, 3)); b = A @ np.array([1.0, -2.0, 0.5])
    >>> f = MinibatchObjective(
    ...     lambda x, i: 0.5 * np.mean((A[i] @ x - b[i]) ** 2),
    ...     lambda x, i: A[i].T @ (A[i] @ x - b[i]) / len(i),
    ...     hvp=lambda x, v, i: A[i].T @ (A[i] @ v) / len(i),
    ...     n_samples=100, n_features=3, batch_size=32)
    >>> bool(np.isclose(f.value(np.zeros(3)), 0.5 * np.mean(b ** 2)))
    True
    >>> from randopt.optimize import trust_region
    >>> res = trust_region(f, np.zeros(3), hessian_sample_size=0.2, hessian_mode="hessp",
    ...                    gtol=1e-10, random_state=0)
    >>> res.x.round(6).tolist()
    [1.0, -2.0, 0.5]
    """

    supports_sampling = True
    matrix_free = True
    #: How errors name the callables (a subclass that builds them names their source).
    _names = {"fun": "fun", "grad": "grad", "value_and_grad": "value_and_grad", "hvp": "hvp",
              "gnvp": "gnvp"}

    def __init__(
        self,
        fun: Callable | None,
        grad: Callable | None,
        *,
        n_samples: int,
        n_features: int,
        hvp: Callable | None = None,
        gnvp: Callable | None = None,
        value_and_grad: Callable | None = None,
        batch_size: int | None = None,
        alpha: float = 0.0,
    ) -> None:
        check_callables(fun=fun, grad=grad, hvp=hvp, gnvp=gnvp, value_and_grad=value_and_grad)
        if value_and_grad is None and (fun is None or grad is None):
            raise TypeError(
                "pass fun(x, indices) and grad(x, indices), or value_and_grad(x, indices)"
            )
        if hvp is None and gnvp is None:
            raise TypeError(
                "pass hvp(x, v, indices) (trust_region, arc) or gnvp(x, v, indices) "
                "(Gauss-Newton): the solvers need second-order products"
            )
        self.n_samples = check_positive_int(n_samples, "n_samples")
        self.n_features = check_positive_int(n_features, "n_features")
        if batch_size is None:
            self.batch_size = self.n_samples
        else:
            self.batch_size = min(check_positive_int(batch_size, "batch_size"), self.n_samples)
        self.alpha = check_scalar(alpha, "alpha", low=0.0)
        self._fun, self._grad, self._vg = fun, grad, value_and_grad
        self._hvp, self._gnvp = hvp, gnvp
        self.supports_gauss_newton = gnvp is not None
        self._full_plan: list[tuple[Any, float]] | None = None

    def _not_finite(self, what: str) -> ValueError:
        if what in ("value", "gradient"):
            name = self._names["value_and_grad" if self._vg is not None else
                               ("fun" if what == "value" else "grad")]
        else:
            name = self._names["hvp" if self._hvp is not None else "gnvp"]
        return ValueError(f"{name} returned NaN or infinity (the {what} at this x is not finite)")

    def __repr__(self) -> str:
        products = ", ".join(n for n, f in (("hvp", self._hvp), ("gnvp", self._gnvp)) if f)
        return (
            f"{type(self).__name__}(n_samples={self.n_samples}, n_features={self.n_features}, "
            f"batch_size={self.batch_size}, {products}, alpha={self.alpha:g})"
        )

    # -- hooks of subclasses that compile per batch shape --------------------- #
    def _chunk_sizes(self, m: int) -> list[int]:
        """Rows per call for ``m`` rows: full batches of ``batch_size``, then the rest."""
        q, r = divmod(m, self.batch_size)
        return [self.batch_size] * q + ([r] if r else [])

    def _prepare_indices(self, idx: np.ndarray, consecutive: bool) -> Any:
        """A chunk's indices as the callables take them, once per plan (copied per call).

        ``consecutive``: the rows ``idx[0], ..., idx[-1]`` of a full pass.
        """
        return np.array(idx, dtype=np.int64)

    def _prepare_point(self, x: np.ndarray) -> Any:
        """``x`` as the callables take it, once per pass or model (copied per call)."""
        return x

    def _arg(self, a: Any) -> Any:
        # A fresh writable copy per call: a callable that writes into its arguments alters
        # neither the caller's arrays nor the next call's (and read-only arrays would make
        # torch.from_numpy warn). O(d + rows) per call, below the cost of a forward pass.
        return a.copy()

    # -- chunk plans ---------------------------------------------------------------- #
    def _plan(self, idx: np.ndarray, consecutive: bool = False) -> list[tuple[Any, float]]:
        """``[(chunk indices, chunk weight)]``: the mean over ``idx`` as a weighted sum."""
        m = idx.shape[0]
        plan, lo = [], 0
        for size in self._chunk_sizes(m):
            plan.append((self._prepare_indices(idx[lo:lo + size], consecutive), size / m))
            lo += size
        return plan

    def _all_rows(self) -> list[tuple[Any, float]]:
        if self._full_plan is None:
            self._full_plan = self._plan(np.arange(self.n_samples, dtype=np.int64), True)
        return self._full_plan

    def _sample_plan(self, sample: Sample | None) -> tuple[list[tuple[Any, float]], float, int]:
        """The plan of a sample, the factor turning its mean into the estimate, and its rows."""
        if sample is None:
            return self._all_rows(), 1.0, self.n_samples
        w = sample.weights
        spread = float(w.max() - w.min())
        if spread > _EQUAL_WEIGHTS_RTOL * float(np.abs(w).max()):
            raise TypeError(
                f"{type(self).__name__} estimates from the mean over the sampled rows, which "
                "needs equal weights (a uniform sample); these weights differ (non-uniform "
                "sampling): use hessian_sampling='uniform'"
            )
        # sum_k w_k g_{i_k} / n = (sum_k w_k / n) * mean_k g_{i_k}: 1 for a uniform sample.
        return self._plan(sample.indices), float(w.sum()) / self.n_samples, sample.size

    # -- passes ------------------------------------------------------------------- #
    def _value(self, point: Any, idx: Any) -> float:
        if self._fun is None:
            return self._call_vg(point, idx)[0]
        return check_scalar_output(self._fun(self._arg(point), self._arg(idx)),
                                   self._names["fun"], finite=False)

    def _gradient(self, point: Any, idx: Any) -> np.ndarray:
        if self._grad is None:
            return self._call_vg(point, idx)[1]
        return check_vector_output(self._grad(self._arg(point), self._arg(idx)),
                                   self._names["grad"], self.n_features, finite=False)

    def _value_pass(self, point: Any, plan: list) -> float:
        return _weighted_sum((weight, self._value(point, idx)) for idx, weight in plan)

    def _grad_pass(self, point: Any, plan: list) -> np.ndarray:
        return _weighted_sum((weight, self._gradient(point, idx)) for idx, weight in plan)

    def _value_grad_pass(self, point: Any, plan: list) -> tuple[float, np.ndarray]:
        if self._vg is None:
            return self._value_pass(point, plan), self._grad_pass(point, plan)
        parts = [(weight, self._call_vg(point, idx)) for idx, weight in plan]
        return (_weighted_sum((w, fg[0]) for w, fg in parts),
                _weighted_sum((w, fg[1]) for w, fg in parts))

    def _call_vg(self, point: Any, idx: Any) -> tuple[float, np.ndarray]:
        out = self._vg(self._arg(point), self._arg(idx))
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise TypeError(
                f"value_and_grad must return a pair (value, gradient), got {type(out).__name__}"
            )
        who = self._names["value_and_grad"]
        return (check_scalar_output(out[0], who + "'s value", finite=False),
                check_vector_output(out[1], who + "'s gradient", self.n_features, finite=False))

    # -- solver protocol ------------------------------------------------------------- #
    def evaluate(
        self, w: Any, *, need_grad: bool = True, gradient_sample: Any = None
    ) -> Evaluation:
        """Value over every row and the gradient (full, or on a uniform row sample).

        Parameters
        ----------
        w : array-like of shape (n_features,)
        need_grad : bool, default=True
        gradient_sample : Sample, (indices, weights) or indices, optional
            Estimate the gradient on these rows (equal weights); the value
            stays exact.

        Returns
        -------
        Evaluation
            With ``curvature=None`` (a user model has no per-row curvature).

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import MinibatchObjective
        >>> y = np.arange(4.0)
        >>> f = MinibatchObjective(lambda x, i: 0.5 * np.mean((x[0] - y[i]) ** 2),
        ...                        lambda x, i: np.array([np.mean(x[0] - y[i])]),
        ...                        hvp=lambda x, v, i: v, n_samples=4, n_features=1)
        >>> ev = f.evaluate(np.zeros(1), gradient_sample=[2, 3])
        >>> ev.fun, ev.grad.tolist(), ev.curvature
        (1.75, [-2.5], None)
        """
        w = self._check_w(w)
        need_grad = self._check_need_grad(need_grad)
        sample = self._check_sample(gradient_sample)
        point = self._prepare_point(w)
        g = None
        if need_grad and sample is None:
            f, g = self._value_grad_pass(point, self._all_rows())
            if self.alpha:
                g = g + self.alpha * w
        else:
            f = self._value_pass(point, self._all_rows())
            if need_grad:
                g = self._sampled_gradient(w, point, sample)
        if self.alpha:
            f += 0.5 * self.alpha * float(w @ w)
        return Evaluation(w, f, g, None)

    def _sampled_gradient(self, w: np.ndarray, point: Any, sample: Sample) -> np.ndarray:
        plan, factor, _ = self._sample_plan(sample)
        g = self._grad_pass(point, plan)
        if factor != 1.0:
            g = factor * g
        return g + self.alpha * w if self.alpha else g

    def gradient(self, w: Any, sample: Any = None) -> np.ndarray:
        """Gradient, exact or estimated on a uniform row ``sample``.

        Unlike :meth:`evaluate`, a sampled gradient skips the pass over every
        row for the exact value (what an SGD step needs: ``2 |S|``
        propagations, not ``n + 2 |S|``).

        Parameters
        ----------
        w : array-like of shape (n_features,)
        sample : Sample, (indices, weights) or indices, optional
            Equal weights; bare indices mean the plain mean over those rows.

        Returns
        -------
        ndarray of shape (n_features,)

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import MinibatchObjective
        >>> y = np.arange(4.0)
        >>> f = MinibatchObjective(lambda x, i: 0.5 * np.mean((x[0] - y[i]) ** 2),
        ...                        lambda x, i: np.array([np.mean(x[0] - y[i])]),
        ...                        hvp=lambda x, v, i: v, n_samples=4, n_features=1)
        >>> f.gradient(np.zeros(1)).tolist(), f.gradient(np.zeros(1), sample=[0, 1]).tolist()
        ([-1.5], [-0.5])
        """
        if sample is None:
            return self._finite_gradient(self.evaluate(w).grad)
        w = self._check_w(w)
        return self._finite_gradient(
            self._sampled_gradient(w, self._prepare_point(w), self._check_sample(sample)))

    def _required_sample(self, sample: Any, name: str) -> Any:
        """:meth:`_check_sample` for a method that has no exact (``None``) form."""
        checked = self._check_sample(sample)
        if checked is None:
            raise TypeError(f"{name} must be row indices (or a Sample), got None")
        return checked

    def sampled_value(self, w: Any, sample: Any) -> float:
        """The value estimated on a uniform row ``sample`` (the penalty exact).

        What Martens' CG-backtracking compares candidates by
        (:func:`randopt.optimize.hessian_free`): ``|S|`` propagations
        instead of ``n``. A non-finite value is returned as it is.

        Parameters
        ----------
        w : array-like of shape (n_features,)
        sample : Sample, (indices, weights) or indices
            Equal weights; bare indices mean the plain mean over those rows.

        Returns
        -------
        float

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import MinibatchObjective
        >>> y = np.arange(4.0)
        >>> f = MinibatchObjective(lambda x, i: 0.5 * np.mean((x[0] - y[i]) ** 2),
        ...                        lambda x, i: np.array([np.mean(x[0] - y[i])]),
        ...                        hvp=lambda x, v, i: v, n_samples=4, n_features=1)
        >>> f.sampled_value(np.zeros(1), [2, 3])
        3.25
        """
        w = self._check_w(w)
        plan, factor, _ = self._sample_plan(self._required_sample(sample, "sample"))
        f = factor * self._value_pass(self._prepare_point(w), plan)
        return float(f + 0.5 * self.alpha * float(w @ w)) if self.alpha else float(f)

    def gradient_second_moment(self, w: Any, rows: Any) -> np.ndarray:
        """``(1/|R|) sum_{i in R} g_i * g_i``: the mean squared per-example gradient.

        ``g_i`` is the gradient of row ``i``'s term (the penalty's gradient
        included), computed one row at a time: ``2 |R|`` propagations. The
        diagonal of the empirical Fisher matrix, which Martens'
        preconditioner is built from (:func:`randopt.optimize.hessian_free`).

        Parameters
        ----------
        w : array-like of shape (n_features,)
        rows : array-like of int
            Row numbers in ``[0, n_samples)``.

        Returns
        -------
        ndarray of shape (n_features,)

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import MinibatchObjective
        >>> y = np.arange(4.0)
        >>> f = MinibatchObjective(lambda x, i: 0.5 * np.mean((x[0] - y[i]) ** 2),
        ...                        lambda x, i: np.array([np.mean(x[0] - y[i])]),
        ...                        hvp=lambda x, v, i: v, n_samples=4, n_features=1)
        >>> f.gradient_second_moment(np.zeros(1), [1, 3]).tolist()  # (1 + 9) / 2
        [5.0]
        """
        w = self._check_w(w)
        idx = self._required_sample(rows, "rows").indices
        point = self._prepare_point(w)
        total = np.zeros(self.n_features)
        for i in idx:
            [(chunk, _)] = self._plan(np.array([i], dtype=np.int64))
            g = self._gradient(point, chunk)
            if self.alpha:
                g = g + self.alpha * w
            total += g * g
        return total / idx.shape[0]

    def _product_model(self, w_or_eval: Any, sample: Any, explicit: Any, product: Callable,
                       name: str) -> HessianModel:
        """A HessianModel of the mean of ``product`` over a sample, plus the penalty."""
        w, _ = self._check_point(w_or_eval)
        sample = self._check_sample(sample)
        if not isinstance(explicit, (bool, np.bool_)):
            raise TypeError(f"explicit must be True or False, got {explicit!r}")
        plan, factor, n_rows = self._sample_plan(sample)
        point, d, alpha, arg = self._prepare_point(w), self.n_features, self.alpha, self._arg

        who = self._names[name]

        def matvec(v: np.ndarray) -> np.ndarray:
            # Each chunk's product is checked where it enters (real, finite, shape (d,)).
            out = _weighted_sum(
                (weight, check_vector_output(product(arg(point), arg(v), arg(idx)), who, d))
                for idx, weight in plan
            )
            if factor != 1.0:
                out = factor * out
            return out + alpha * v if alpha else out

        model = HessianModel._trusted(d, n_rows, matvec=matvec)
        if explicit:
            model.toarray()
        return model

    def hessian_model(
        self,
        w_or_eval: Any,
        *,
        sample: Any = None,
        explicit: bool = True,
    ) -> HessianModel:
        """The (uniformly sub-sampled) Hessian as ``hvp`` products.

        Parameters
        ----------
        w_or_eval : array-like of shape (n_features,) or Evaluation
        sample : Sample, (indices, weights) or indices, optional
            Rows of the sample (equal weights); ``None``: every row.
        explicit : bool, default=True
            Form the matrix from ``n_features`` products (the solvers do not:
            ``matrix_free``).

        Returns
        -------
        HessianModel
            ``n_rows`` is the sample size (``n`` for the exact Hessian).

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import MinibatchObjective
        >>> c = np.array([1.0, 2.0, 3.0, 6.0])
        >>> f = MinibatchObjective(lambda x, i: 0.5 * np.mean(c[i]) * x @ x,
        ...                        lambda x, i: np.mean(c[i]) * x,
        ...                        hvp=lambda x, v, i: np.mean(c[i]) * v,
        ...                        n_samples=4, n_features=2)
        >>> f.hessian_model(np.zeros(2), sample=[1, 3], explicit=False).matvec(np.ones(2))
        array([4., 4.])
        >>> f.hessian(np.zeros(2))
        array([[3., 0.],
               [0., 3.]])
        """
        if self._hvp is None:
            raise TypeError(
                f"{type(self).__name__} was given no hvp, only gnvp: use the Gauss-Newton "
                "solver (gauss_newton_model), or pass hvp for trust_region and arc"
            )
        return self._product_model(w_or_eval, sample, explicit, self._hvp, "hvp")

    def gauss_newton_model(
        self,
        w_or_eval: Any,
        *,
        sample: Any = None,
        explicit: bool = True,
    ) -> HessianModel:
        """The (uniformly sub-sampled) Gauss-Newton matrix as ``gnvp`` products.

        Parameters
        ----------
        w_or_eval : array-like of shape (n_features,) or Evaluation
        sample : Sample, (indices, weights) or indices, optional
            Rows of the sample (equal weights); ``None``: every row.
        explicit : bool, default=True
            Form the matrix from ``n_features`` products.

        Returns
        -------
        HessianModel

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import MinibatchObjective
        >>> f = MinibatchObjective(lambda x, i: 0.0, lambda x, i: np.zeros(2),
        ...                        gnvp=lambda x, v, i: 2.0 * v, n_samples=3, n_features=2)
        >>> f.supports_gauss_newton, f.gauss_newton_model(np.zeros(2)).toarray().tolist()
        (True, [[2.0, 0.0], [0.0, 2.0]])
        """
        if self._gnvp is None:
            return super().gauss_newton_model(w_or_eval, sample=sample, explicit=explicit)
        return self._product_model(w_or_eval, sample, explicit, self._gnvp, "gnvp")

    def hessian_probabilities(self, ev: Evaluation) -> np.ndarray:
        """Refused: non-uniform sampling needs per-row curvature, which a mean does not give.

        Parameters
        ----------
        ev : Evaluation

        Raises
        ------
        TypeError
            Always.

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import MinibatchObjective
        >>> f = MinibatchObjective(lambda x, i: 0.0, lambda x, i: np.zeros(1),
        ...                        hvp=lambda x, v, i: v, n_samples=2, n_features=1)
        >>> f.hessian_probabilities(f.evaluate(np.zeros(1)))
        Traceback (most recent call last):
        ...
        TypeError: MinibatchObjective computes means over rows, not the per-row curvature ...
        """
        raise TypeError(
            f"{type(self).__name__} computes means over rows, not the per-row curvature that "
            "hessian_sampling='nonuniform' weighs rows by; use hessian_sampling='uniform'"
        )

