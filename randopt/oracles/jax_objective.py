"""A JAX model and its data as a :class:`~randopt.oracles.MinibatchObjective`.

:class:`JaxObjective` takes ``loss(params, batch)``, the mean loss of a
model over a batch (the data's arrays restricted to some rows), the
parameters as any pytree and the data, and gives the solvers of
:mod:`randopt.optimize` a finite sum over the data rows: values and
gradients from ``jax.value_and_grad``, Hessian-vector products forward over
reverse (``jax.jvp`` of ``jax.grad``, about the cost of two gradients
[1]_) and, for a loss split as ``output_loss(model(params, inputs),
targets)``, Gauss-Newton-vector products ``J^T H_out J v`` [2]_, every pass
compiled with ``jax.jit``. JAX is imported when the class is instantiated,
never when :mod:`randopt` is.

Its Hessian and Gauss-Newton models keep the work on the JAX device: a
product of a JAX array returns a JAX array (no host copy), and the models
solve their conjugate-gradient sub-problems as one compiled program
(``jax.lax.while_loop``) through the hook of
:func:`randopt.linalg.conjugate_gradient`, so that the iterate, the sample
and the CG vectors stay on the device between products (a GPU or TPU
install of JAX runs the same code). For models with inputs,
:meth:`JaxObjective.input_gradient` and :meth:`JaxObjective.fgsm_gradient`
give the gradients with respect to the inputs that adversarial training
(FGSM [3]_) needs.

References
----------
.. [1] B. A. Pearlmutter, "Fast exact multiplication by the Hessian", Neural
       Computation 6 (1994), 147-160.
.. [2] N. N. Schraudolph, "Fast curvature matrix-vector products for
       second-order gradient descent", Neural Computation 14 (2002), 1723-1738.
.. [3] I. J. Goodfellow, J. Shlens and C. Szegedy, "Explaining and harnessing
       adversarial examples", ICLR (2015).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._validation import check_positive_int, check_sample_size, check_scalar, check_vector
from ..linalg.cg import BOUNDARY, CONVERGED, MAX_ITER, NEGATIVE_CURVATURE, CGResult
from ._jax_cg import NOT_FINITE, compile_cg
from ._user_outputs import check_vector_output
from .base import HessianModel
from .minibatch import MinibatchObjective, _weighted_sum, check_callables

__all__ = ["JaxObjective"]

#: Largest chunk of a full pass when ``batch_size`` is not given.
DEFAULT_BATCH_SIZE = 4096


def _import_jax() -> Any:
    try:
        import jax
        from jax.flatten_util import ravel_pytree
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            'JaxObjective needs JAX, an optional dependency: pip install "randopt[jax]"'
        ) from exc
    return jax, ravel_pytree


def _bucket_sizes(limit: int) -> np.ndarray:
    """``1, ..., 16``, then ``m * 2^k`` for ``m = 8, ..., 15`` (``18, 20, ..., 30, 32, 36, ...``).

    Up to ``limit``, and ``limit`` itself. Every size up to 16 is a bucket and
    above it consecutive sizes differ by a factor of at most ``9/8``: rounding
    up wastes at most 12.5% of the rows, for eight compiled shapes per
    doubling of the sample size.
    """
    sizes = set(range(1, min(limit, 16) + 1)) | {limit}
    step = 2
    while 8 * step <= limit:
        sizes.update(m * step for m in range(8, 16) if m * step <= limit)
        step *= 2
    return np.array(sorted(sizes), dtype=np.int64)


def _decompose(m: int, sizes: np.ndarray) -> list[int]:
    """``m`` as a sum of bucket sizes, largest first (about ``log2 m`` terms at most)."""
    out = []
    while m > 0:
        s = int(sizes[np.searchsorted(sizes, m, side="right") - 1])
        out.append(s)
        m -= s
    return out


def _compile(jax: Any, body: Callable) -> tuple[Callable, Callable, Callable]:
    """``body(p, [v,] batch)`` compiled on gathered rows, on a batch and on a slice of rows.

    ``jax.jit`` compiles lazily: a pass compiles only the variants it is called with.
    """

    def on_rows(*args: Any) -> Any:
        *arrays, data, idx = args
        return body(*arrays, _take(jax, data, idx))

    def on_slice(*args: Any, size: int) -> Any:
        *arrays, data, start = args
        batch = jax.tree_util.tree_map(
            lambda a: jax.lax.dynamic_slice_in_dim(a, start, size, axis=0), data
        )
        return body(*arrays, batch)

    return jax.jit(on_rows), jax.jit(body), jax.jit(on_slice, static_argnames="size")


def _take(jax: Any, data: Any, idx: Any) -> Any:
    # The indices were checked on the host (as_sample): no bounds handling in the gather.
    return jax.tree_util.tree_map(lambda a: a.at[idx].get(mode="promise_in_bounds"), data)


def _compile_input_gradients(jax: Any, flat_loss: Callable) -> dict[str, Callable]:
    """The compiled input gradient and FGSM parameter gradient on gathered rows."""
    jnp = jax.numpy

    def input_gradient(p: Any, data: Any, idx: Any) -> Any:
        inputs, targets = _take(jax, data, idx)
        return jax.grad(lambda X: flat_loss(p, (X, targets)))(inputs)

    def fgsm_gradient(p: Any, data: Any, idx: Any, epsilon: Any) -> Any:
        inputs, targets = _take(jax, data, idx)
        g_x = jax.grad(lambda X: flat_loss(p, (X, targets)))(inputs)
        adversarial = inputs + epsilon * jnp.sign(g_x)
        return jax.grad(flat_loss)(p, (adversarial, targets))

    return {"input_gradient": jax.jit(input_gradient), "fgsm_gradient": jax.jit(fgsm_gradient)}


class _Rows:
    """A sample's indices, and its rows gathered on the device once products need them.

    A value or gradient on a sample is one call that gathers inside the
    compiled program; the products of a Hessian model (several per model, in
    CG) reuse one gathered batch instead of gathering in every call.
    """

    __slots__ = ("idx", "batch")

    def __init__(self, idx: np.ndarray) -> None:
        self.idx, self.batch = idx, None


class _Point:
    """A point on the host, and its device copy once products need it (once per model)."""

    __slots__ = ("host", "device")

    def __init__(self, host: np.ndarray) -> None:
        self.host, self.device = host, None


_STATUS_NAMES = {1: CONVERGED, 2: MAX_ITER, 3: NEGATIVE_CURVATURE, 4: BOUNDARY}


class _DeviceHessianModel(HessianModel):
    """A Hessian (Gauss-Newton) model of JaxObjective: NumPy or device products, compiled CG.

    ``matvec`` of a NumPy vector is MinibatchObjective's (a checked float64
    array); ``matvec`` of a JAX array stays on the device and returns a JAX
    array of the objective's dtype. :meth:`conjugate_gradient` is the hook of
    :func:`randopt.linalg.conjugate_gradient`: the whole solve in one
    compiled program, for a sample that fits one compiled call.
    """

    __slots__ = ("_device_matvec", "_solve")

    def matvec(self, v: Any) -> Any:
        if isinstance(v, np.ndarray) or self._device_matvec is None:
            return super().matvec(v)
        self.n_products += 1
        return self._device_matvec(v)

    def conjugate_gradient(self, b: Any, *, x0: Any = None, rtol: float = 1e-5,
                           atol: float = 0.0, max_iter: int | None = None,
                           radius: float | None = None) -> CGResult | None:
        """Solve ``H x = b`` by CG (Steihaug exits with ``radius``) in one compiled program.

        The options and the result are those of
        :func:`randopt.linalg.conjugate_gradient` (which calls this method);
        ``x`` is a NumPy float64 array for a NumPy ``b``, else a JAX array.
        Returns None (the caller's own CG then runs) when the model's sample
        needs more than one compiled call.
        """
        if self._solve is None:
            return None
        res = self._solve(b, x0, rtol, atol, max_iter, radius)
        self.n_products += res.nhev
        return res


class JaxObjective(MinibatchObjective):
    """The mean loss of a JAX model over data rows, with compiled gradients and products.

    Parameters
    ----------
    loss : callable or None
        ``loss(params, batch) -> scalar``, the mean loss over a batch:
        ``batch`` has the structure of ``data``, every array restricted to
        the same rows. May be None when ``model`` and ``output_loss`` are
        given (it is then their composition).
    params : pytree of arrays
        The initial parameters (any pytree of floating arrays); flattened
        with ``jax.flatten_util.ravel_pytree`` into :attr:`x0`.
    data : pytree of arrays
        The data, e.g. a tuple ``(inputs, targets)``: arrays sharing the
        leading axis (the rows). With ``model`` it must be a pair
        ``(inputs, targets)``.
    model : callable, optional
        ``model(params, inputs) -> outputs``; with ``output_loss`` it enables
        Gauss-Newton products (:attr:`supports_gauss_newton`).
    output_loss : callable, optional
        ``output_loss(outputs, targets) -> scalar``, the mean loss over a
        batch as a function of the model's outputs (convex in them for a
        positive semi-definite Gauss-Newton matrix: squared error,
        softmax cross-entropy).
    batch_size : int, optional
        Most rows per compiled call (default ``min(n, 4096)``): full passes
        run in chunks of this many rows.
    alpha : float, default=0
        Ridge penalty ``(alpha/2) ||x||^2`` on the flattened parameters,
        added outside JAX.

    Attributes
    ----------
    x0 : ndarray of float64, shape (n_features,)
        The flattened initial parameters.
    dtype : numpy.dtype
        The floating type inside JAX: float64 when ``jax_enable_x64`` was
        on at construction, else float32.
    n_samples, n_features, batch_size : int
    n_compilations : int
        Programs compiled so far (all passes together).

    Notes
    -----
    *Shapes and compilation.* ``jax.jit`` compiles one program per batch
    shape. A loss that is a mean over its batch cannot be padded with dummy
    rows (they would enter the mean; that would need per-row weights in the
    user's loss), so sizes are *bucketed* instead: :meth:`round_sample_size`
    (which the samplers call, for fixed and for adaptive sizes) rounds a
    requested sample size up to one of the sizes ``1, ..., 16, 18, 20, ...,
    30, 32, 36, ..., 60, 64, 72, ...`` (eight per doubling, at most 1.125
    times the request: 10% of 1,347 rows, 135, becomes 144), and a sample
    of any other size is evaluated as a weighted sum of bucket-sized chunks
    (e.g. 137 rows as 128 + 9). So a new draw of the same size never
    recompiles, any sequence of sizes compiles at most eight programs per
    doubling of the size (per kind of pass) and those of the full pass, and
    every compiled shape depends on the size alone, not on the history of
    the object (the same run repeated computes the same sums).

    *Device residency.* The Hessian and Gauss-Newton models
    (:meth:`hessian_model`, :meth:`gauss_newton_model`) take NumPy or JAX
    vectors: ``model.matvec(v)`` of a NumPy ``v`` is a checked float64
    NumPy array (as for any :class:`MinibatchObjective`); of a JAX array it
    is a JAX array of :attr:`dtype`, computed where ``v`` lives, with no
    transfer once the model's first product has moved the point and the
    sample's rows to the device (no check for finiteness either: that would
    be a transfer). :func:`randopt.linalg.conjugate_gradient` on
    ``model.matvec`` hands the whole solve to the model (its operator hook):
    one compiled ``jax.lax.while_loop`` with the same recurrences, stopping
    rules and Steihaug exits, for samples that fit one compiled call (at
    most ``batch_size`` rows); only ``b`` goes in and ``x`` with five
    scalars comes out. A non-finite product there raises a ``ValueError``
    naming the product. On a GPU the same code runs unchanged.

    *Precision.* With ``jax.config.update("jax_enable_x64", True)`` (before
    construction) everything runs in float64. Otherwise the parameters, the
    data and every pass are float32 inside JAX while the solvers keep
    float64 iterates: values and gradients then carry relative errors of
    about ``1e-7``, so a trust-region ratio test cannot resolve decreases
    below about ``1e-7 |f|`` and gradient tolerances below about
    ``1e-4``-``1e-3`` (relative to the gradient at ``x0``) are not
    reachable; float32 is the usual choice for networks trained to modest
    accuracy, float64 for tests and tight tolerances.

    References
    ----------
    .. [1] B. A. Pearlmutter, "Fast exact multiplication by the Hessian",
           Neural Computation 6 (1994), 147-160.
    .. [2] N. N. Schraudolph, "Fast curvature matrix-vector products for
           second-order gradient descent", Neural Computation 14 (2002),
           1723-1738.

    Examples
    --------
    A linear model with a squared-error loss, trained by trust region on 20%
    Hessian samples (float32 inside JAX unless x64 is on):

    >>> import numpy as np, jax.numpy as jnp
    >>> from randopt.oracles import JaxObjective
    >>> from randopt.optimize import trust_region
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 3)); y = X @ np.array([1.0, -2.0, 0.5]) + 0.3
    >>> params = {"w": jnp.zeros(3), "b": jnp.zeros(())}
    >>> model = lambda p, X: X @ p["w"] + p["b"]
    >>> mse = lambda out, y: 0.5 * jnp.mean((out - y) ** 2)
    >>> f = JaxObjective(None, params, (X, y), model=model, output_loss=mse)
    >>> f.n_samples, f.n_features, f.supports_gauss_newton
    (200, 4, True)
    >>> res = trust_region(f, f.x0, hessian_sample_size=0.2, hessian_mode="hessp",
    ...                    gtol=1e-4, random_state=0)
    >>> p = f.unravel(res.x)
    >>> np.round(np.asarray(p["w"]), 3).tolist(), round(float(p["b"]), 3)
    ([1.0, -2.0, 0.5], 0.3)
    """

    _names = {"fun": "loss(params, batch)", "grad": "the gradient of loss(params, batch)",
              "value_and_grad": "loss(params, batch)",
              "hvp": "the Hessian-vector product of loss(params, batch)",
              "gnvp": "the Gauss-Newton product of output_loss(model(params, inputs), targets)"}

    def __init__(
        self,
        loss: Callable | None,
        params: Any,
        data: Any,
        *,
        model: Callable | None = None,
        output_loss: Callable | None = None,
        batch_size: int | None = None,
        alpha: float = 0.0,
    ) -> None:
        jax, ravel_pytree = _import_jax()
        jnp = jax.numpy
        check_callables(loss=loss, model=model, output_loss=output_loss)
        if (model is None) != (output_loss is None):
            raise TypeError(
                "pass model and output_loss together (Gauss-Newton products need both), "
                "or neither"
            )
        if loss is None and model is None:
            raise TypeError(
                "pass loss(params, batch), or model(params, inputs) and "
                "output_loss(outputs, targets)"
            )
        self.dtype = np.dtype(np.float64 if jax.config.read("jax_enable_x64") else np.float32)
        params = self._check_params(jax, params)
        flat, self._unravel_flat = ravel_pytree(params)
        self.x0 = np.array(flat, dtype=np.float64)
        n, self.data = self._check_data(jax, data, model is not None)
        self.n_samples = n
        self._index_dtype = np.int32 if n < 2**31 else np.int64
        if loss is None:
            def loss(p: Any, batch: Any) -> Any:
                inputs, targets = batch
                return output_loss(model(p, inputs), targets)
        self.loss, self.model, self.output_loss = loss, model, output_loss

        unravel = self._unravel_flat

        def flat_loss(p: Any, batch: Any) -> Any:
            return loss(unravel(p), batch)

        def value_and_grad(p: Any, batch: Any) -> Any:
            # One buffer (value, gradient): a single device-to-host transfer.
            value, grad = jax.value_and_grad(flat_loss)(p, batch)
            return jnp.concatenate([jnp.reshape(value, (1,)), grad])

        def hvp(p: Any, v: Any, batch: Any) -> Any:
            return jax.jvp(lambda q: jax.grad(flat_loss)(q, batch), (p,), (v,))[1]

        bodies = {"fun": flat_loss, "value_and_grad": value_and_grad, "hvp": hvp}
        if model is not None:

            def gnvp(p: Any, v: Any, batch: Any) -> Any:
                inputs, targets = batch

                def outputs(q: Any) -> Any:
                    return model(unravel(q), inputs)

                out, jv = jax.jvp(outputs, (p,), (v,))
                out_grad = jax.grad(lambda o: output_loss(o, targets))
                hjv = jax.jvp(out_grad, (out,), (jv,))[1]
                return jax.vjp(outputs, p)[1](hjv)[0]

            bodies["gnvp"] = gnvp
        self._jit = {kind: _compile(jax, body) for kind, body in bodies.items()}
        self._cg = {kind: compile_cg(jax, bodies[kind]) for kind in ("hvp", "gnvp")
                    if kind in bodies}
        self._jax = jax
        self._input_grads = _compile_input_gradients(jax, flat_loss) if model is not None \
            else None
        self._gather = jax.jit(lambda data, idx: _take(jax, data, idx))
        # A compiled identity moves a NumPy array to the device faster than jnp.asarray.
        self._to_device = jax.jit(lambda a: a)
        # sum_k c_k part_k + c_last v in one dispatch (a device product's chunk weights, the
        # sample's factor and the ridge term)
        self._combine = jax.jit(
            lambda parts, c, v: sum(c[k] * part for k, part in enumerate(parts)) + c[-1] * v)
        self._jnp = jnp
        self._check_loss_output(jax, flat)
        # Gradients always come with the value (free in the reverse pass): one program per
        # batch shape fewer to compile than a separate jax.grad. Value-only passes (the
        # trial points of gradient-sampled runs) skip the reverse pass.
        super().__init__(
            self._compiled("fun"), None, n_samples=n, n_features=self.x0.shape[0],
            hvp=self._compiled("hvp"),
            gnvp=self._compiled("gnvp") if model is not None else None,
            value_and_grad=self._compiled("value_and_grad"),
            batch_size=min(n, DEFAULT_BATCH_SIZE) if batch_size is None else batch_size,
            alpha=alpha,
        )
        self._buckets = _bucket_sizes(self.batch_size)

    # -- construction ------------------------------------------------------------ #
    def _check_params(self, jax: Any, params: Any) -> Any:
        leaves = jax.tree_util.tree_leaves(params)
        if not leaves:
            raise ValueError("params has no arrays; pass the model's parameters (a pytree)")
        for leaf in leaves:
            kind = np.asarray(leaf).dtype
            if not np.issubdtype(kind, np.floating):
                raise TypeError(
                    f"params must hold floating arrays (the parameters to optimise), got a "
                    f"leaf of dtype {kind}"
                )
            if not np.isfinite(np.asarray(leaf)).all():
                raise ValueError("params contains NaN or infinity")
        return jax.tree_util.tree_map(lambda a: jax.numpy.asarray(a, dtype=self.dtype), params)

    def _check_data(self, jax: Any, data: Any, split: bool) -> tuple[int, Any]:
        if split and not (isinstance(data, (tuple, list)) and len(data) == 2):
            raise TypeError(
                "with model and output_loss, data must be a pair (inputs, targets), got "
                f"{type(data).__name__}"
            )
        leaves = jax.tree_util.tree_leaves(data)
        if not leaves:
            raise ValueError("data has no arrays; pass e.g. a tuple (inputs, targets)")
        rows = set()
        for leaf in leaves:
            arr = np.asarray(leaf)
            if arr.dtype == object or arr.ndim == 0:
                raise TypeError(
                    "data must hold numeric arrays with the rows along the first axis, got "
                    f"{'a scalar' if arr.ndim == 0 else 'dtype object'}"
                )
            if np.issubdtype(arr.dtype, np.floating) and not np.isfinite(arr).all():
                raise ValueError("data contains NaN or infinity")
            rows.add(arr.shape[0])
        if len(rows) != 1:
            raise ValueError(
                f"data's arrays must share the leading axis (the rows); got lengths {sorted(rows)}"
            )
        n = rows.pop()
        if n == 0:
            raise ValueError("data has no rows")

        def put(a: Any) -> Any:
            arr = np.asarray(a)
            if np.issubdtype(arr.dtype, np.floating):
                arr = arr.astype(self.dtype, copy=False)
            return jax.device_put(arr)

        return n, jax.tree_util.tree_map(put, data)

    def _check_loss_output(self, jax: Any, flat: Any) -> None:
        """Trace the loss once on one row: it must return a real scalar."""
        idx = jax.ShapeDtypeStruct((1,), np.dtype(self._index_dtype))
        try:
            out = jax.eval_shape(self._jit["fun"][0], flat, self.data, idx)
            if "gnvp" in self._jit and out.shape == ():
                jax.eval_shape(self._jit["gnvp"][0], flat, flat, self.data, idx)
        except Exception as exc:
            if hasattr(exc, "add_note"):  # Python >= 3.11
                exc.add_note("(raised while tracing the loss on a batch of one row of data)")
            raise
        if out.shape != () or not np.issubdtype(out.dtype, np.floating):
            raise TypeError(
                "loss(params, batch) must return a real scalar (the mean loss over the batch), "
                f"got shape {out.shape} and dtype {out.dtype}"
            )

    def _compiled(self, kind: str) -> Callable:
        """The callable of the compiled pass ``kind`` in the protocol of MinibatchObjective.

        It takes a :class:`_Point` and rows: a :class:`_Rows` (a sample) or,
        for the consecutive rows of a full pass, ``(start, size)`` (a slice of
        the data, no copy). Values and gradients pass the host arrays into one
        compiled call (a transfer inside the call costs less than a separate
        one); products use device copies of the point and of the sample's
        rows, made by the model's first product and reused by the others.
        """
        on_rows, on_batch, on_slice = self._jit[kind]
        data, dtype = self.data, self.dtype
        gather, to_device, n = self._gather, self._to_device, self.n_samples

        if kind in ("hvp", "gnvp"):

            def product(point: _Point, v: Any, rows: Any) -> Any:
                if point.device is None:
                    point.device = to_device(point.host)
                if v.dtype != dtype:  # a NumPy or a JAX array: cast where it lives
                    v = v.astype(dtype)
                if isinstance(rows, tuple):
                    if rows[1] == n:  # all the rows: the data as they are, no slice (a copy)
                        return on_batch(point.device, v, data)
                    return on_slice(point.device, v, data, rows[0], size=rows[1])
                if rows.batch is None:
                    rows.batch = gather(data, rows.idx)
                return on_batch(point.device, v, rows.batch)

            return product

        def run(point: _Point, rows: Any) -> np.ndarray:
            if isinstance(rows, tuple):
                if rows[1] == n:  # all the rows: the data as they are, no slice (a copy)
                    return np.asarray(on_batch(point.host, data))
                return np.asarray(on_slice(point.host, data, rows[0], size=rows[1]))
            return np.asarray(on_rows(point.host, data, rows.idx))

        if kind == "value_and_grad":

            def value_and_grad(point: _Point, rows: Any) -> tuple[float, np.ndarray]:
                out = run(point, rows)
                return out[0], out[1:]

            return value_and_grad
        return run

    def _product_model(self, w_or_eval: Any, sample: Any, explicit: Any, product: Callable,
                       name: str) -> HessianModel:
        """MinibatchObjective's model, plus device products and the compiled CG hook."""
        w, _ = self._check_point(w_or_eval)
        sample = self._check_sample(sample)
        if not isinstance(explicit, (bool, np.bool_)):
            raise TypeError(f"explicit must be True or False, got {explicit!r}")
        plan, factor, n_rows = self._sample_plan(sample)
        point, d, alpha, who = self._prepare_point(w), self.n_features, self.alpha, \
            self._names[name]
        jax, dtype = self._jax, self.dtype

        def matvec(v: np.ndarray) -> np.ndarray:
            # As MinibatchObjective's: each chunk's product checked where it enters.
            out = _weighted_sum(
                (weight, check_vector_output(product(point, v, idx), who, d))
                for idx, weight in plan
            )
            if factor != 1.0:
                out = factor * out
            return out + alpha * v if alpha else out

        kind = "gnvp" if name == "gnvp" else "hvp"
        on_batch, device = self._jit[kind][1], {}

        def device_matvec(v: Any) -> Any:
            if v.shape != (d,):
                raise ValueError(f"v must have shape ({d},), got {v.shape}")
            if v.dtype != dtype:
                v = v.astype(dtype)
            if not device:
                # Once per model: the point, the sample's rows and the weights on the device
                # (the later products transfer nothing).
                if point.device is None:
                    point.device = self._to_device(point.host)
                device["batches"] = [self._batch_of(idx) for idx, _ in plan]
                weights = [weight * factor for _, weight in plan] + [alpha]
                device["coef"] = None if weights == [1.0, 0.0] else jax.device_put(
                    np.array(weights, dtype=dtype))
            parts = tuple(on_batch(point.device, v, batch) for batch in device["batches"])
            if device["coef"] is None:
                return parts[0]
            return self._combine(parts, device["coef"], v)

        solve = None
        if len(plan) == 1 and kind in self._cg:
            compiled, rows = self._cg[kind], plan[0][0]

            def solve(b: Any, x0: Any, rtol: float, atol: float, max_iter: int | None,
                      radius: float | None) -> CGResult:
                host = isinstance(b, np.ndarray)
                if point.device is None:
                    point.device = self._to_device(point.host)
                bj = b.astype(dtype) if b.dtype != dtype else b
                x0j = None if x0 is None else (np.asarray(x0, dtype=dtype) if host
                                               else x0.astype(dtype))
                options = np.array([0.0 if radius is None else radius, rtol, atol,
                                    10 * d if max_iter is None else max_iter, factor, alpha],
                                   dtype=dtype)
                if not host:  # explicit transfers (allowed by jax.transfer_guard("disallow"))
                    options = jax.device_put(options)
                # (NumPy inputs travel inside the compiled call: cheaper than separate puts)
                out = compiled(point.device, self._batch_of(rows), bj, x0j, options,
                               has_x0=x0 is not None, has_radius=radius is not None,
                               packed=host)
                if host:  # one transfer: [x, info]
                    out = np.asarray(out, dtype=np.float64)
                    x, info = out[:d].copy(), out[d:]
                else:
                    x, info = out[0], np.asarray(jax.device_get(out[1]), dtype=np.float64)
                decrease, status, nit, nhev, rnorm = info.tolist()
                if status == NOT_FINITE or not (np.isfinite(decrease) and np.isfinite(rnorm)):
                    raise ValueError(f"{who} returned NaN or infinity (a product of the "
                                     "conjugate-gradient solve is not finite)")
                return CGResult(x, decrease, _STATUS_NAMES[int(status)], int(nit), int(nhev),
                                rnorm)

        model = _DeviceHessianModel._trusted(d, n_rows, matvec=matvec)
        model._device_matvec, model._solve = device_matvec, solve
        if explicit:
            model.toarray()
        return model

    def _batch_of(self, rows: Any) -> Any:
        """The device batch of a plan's chunk: gathered rows (once), or a slice of the data."""
        if isinstance(rows, tuple):
            start, size = rows
            if start == 0 and size == self.n_samples:
                return self.data
            return self._jax.tree_util.tree_map(lambda a: a[start:start + size], self.data)
        if rows.batch is None:
            rows.batch = self._gather(self.data, rows.idx)
        return rows.batch

    # -- MinibatchObjective hooks ----------------------------------------------------- #
    def _prepare_point(self, x: np.ndarray) -> Any:
        return _Point(np.asarray(x, dtype=self.dtype))

    def _arg(self, x: Any) -> Any:
        # Compiled calls copy their inputs to the device and never write into them.
        return x

    def _prepare_indices(self, idx: np.ndarray, consecutive: bool) -> Any:
        if consecutive:
            return (int(idx[0]), idx.shape[0])  # a full pass's chunk: a slice, no gather
        return _Rows(np.asarray(idx, dtype=self._index_dtype))

    def _chunk_sizes(self, m: int) -> list[int]:
        sizes = super()._chunk_sizes(m)
        r = sizes[-1]
        if m == self.n_samples or r == self.batch_size or r in self._buckets:
            # Full passes and bucket sizes: the same few shapes every time.
            return sizes
        return sizes[:-1] + _decompose(r, self._buckets)

    # -- public ---------------------------------------------------------------------- #
    def round_sample_size(self, size: int) -> int:
        """``size`` rounded up to a compiled bucket (``q * batch_size`` plus a bucket size).

        Parameters
        ----------
        size : int
            Requested rows, ``1 <= size <= n_samples``.

        Returns
        -------
        int
            At most 1.125 times ``size`` and at most ``n_samples``.

        Examples
        --------
        >>> import numpy as np, jax.numpy as jnp
        >>> from randopt.oracles import JaxObjective
        >>> f = JaxObjective(lambda p, b: jnp.mean((b[0] @ p) ** 2), jnp.zeros(2),
        ...                  (np.ones((1000, 2)),), batch_size=256)
        >>> [f.round_sample_size(s) for s in (5, 50, 200, 300, 999)]
        [5, 52, 208, 300, 1000]
        """
        size = check_sample_size(check_positive_int(size, "size"), self.n_samples, "size")
        q, r = divmod(size, self.batch_size)
        if r:
            r = int(self._buckets[np.searchsorted(self._buckets, r)])
        return min(q * self.batch_size + r, self.n_samples)

    def unravel(self, x: Any) -> Any:
        """The parameter pytree of a flat vector (e.g. ``result.x``).

        Parameters
        ----------
        x : array-like of shape (n_features,)

        Returns
        -------
        pytree
            The structure of ``params``, JAX arrays of :attr:`dtype`.

        Examples
        --------
        >>> import numpy as np, jax.numpy as jnp
        >>> from randopt.oracles import JaxObjective
        >>> f = JaxObjective(lambda p, b: jnp.mean(b[0] @ p["w"]) + p["c"],
        ...                  {"w": jnp.zeros(2), "c": jnp.zeros(())}, (np.ones((4, 2)),))
        >>> p = f.unravel(np.array([1.0, 2.0, 3.0]))
        >>> float(p["c"]), np.asarray(p["w"]).tolist()
        (1.0, [2.0, 3.0])
        """
        x = check_vector(x, "x", size=self.n_features)
        return self._unravel_flat(self._jnp.asarray(x, dtype=self.dtype))

    def _input_rows(self, w: Any, sample: Any, what: str) -> tuple[Any, np.ndarray]:
        if self._input_grads is None:
            raise TypeError(
                f"{what} needs the model's inputs: construct JaxObjective with model and "
                "output_loss (data = (inputs, targets))"
            )
        w = self._check_w(w)
        sample = self._check_sample(sample)
        idx = np.arange(self.n_samples) if sample is None else sample.indices
        return w, idx.astype(self._index_dtype)

    def input_gradient(self, w: Any, sample: Any = None) -> np.ndarray:
        """The gradient of the mean loss over rows with respect to their inputs.

        Parameters
        ----------
        w : array-like of shape (n_features,)
            The flat parameters.
        sample : Sample, (indices, weights) or indices, optional
            The rows (their plain mean loss; the weights are not used);
            default: every row.

        Returns
        -------
        ndarray of shape (len(rows),) + input shape
            ``d/dX_i (1/m) sum_j loss_j``: row ``i``'s input gradient divided
            by the number of rows ``m`` (what FGSM takes the sign of).

        Raises
        ------
        TypeError
            The objective was built from ``loss`` alone (its data are not
            split into inputs and targets).

        Examples
        --------
        A linear model with squared error: the input gradient of row ``i`` is
        ``(x_i^T w - y_i) w / m``.

        >>> import numpy as np, jax.numpy as jnp
        >>> from randopt.oracles import JaxObjective
        >>> X = np.array([[1.0, 2.0], [0.0, 1.0]]); y = np.array([1.0, 0.0])
        >>> f = JaxObjective(None, jnp.zeros(2), (X, y), model=lambda p, X: X @ p,
        ...                  output_loss=lambda o, t: 0.5 * jnp.mean((o - t) ** 2))
        >>> f.input_gradient(np.array([1.0, -1.0]), [0, 1]).tolist()
        [[-1.0, 1.0], [-0.5, 0.5]]
        """
        w, idx = self._input_rows(w, sample, "input_gradient")
        return np.asarray(self._input_grads["input_gradient"](w.astype(self.dtype), self.data,
                                                              idx), dtype=np.float64)

    def fgsm_gradient(self, w: Any, sample: Any = None, epsilon: float = 0.0) -> np.ndarray:
        """The mean parameter gradient over rows whose inputs are FGSM adversarial examples.

        Each row's input ``X_i`` is replaced by ``X_i + epsilon *
        sign(grad_X loss)`` (the fast gradient sign method of Goodfellow et
        al. [3]_, computed at ``w``), and the gradient of the mean loss over
        the perturbed rows is returned: one compiled program, on the device.

        Parameters
        ----------
        w : array-like of shape (n_features,)
        sample : Sample, (indices, weights) or indices, optional
            The rows (their plain mean; the weights are not used); default:
            every row.
        epsilon : float
            The perturbation's size in the max norm (>= 0; 0 gives the clean
            gradient).

        Returns
        -------
        ndarray of shape (n_features,)
            With the ridge term ``alpha w``, as :meth:`gradient`.

        Examples
        --------
        >>> import numpy as np, jax.numpy as jnp
        >>> from randopt.oracles import JaxObjective
        >>> X = np.array([[1.0, 2.0], [0.0, 1.0]]); y = np.array([1.0, 0.0])
        >>> f = JaxObjective(None, jnp.zeros(2), (X, y), model=lambda p, X: X @ p,
        ...                  output_loss=lambda o, t: 0.5 * jnp.mean((o - t) ** 2))
        >>> w = np.array([1.0, -1.0])
        >>> bool(np.allclose(f.fgsm_gradient(w, [0, 1], 0.0), f.gradient(w, [0, 1])))
        True
        """
        epsilon = check_scalar(epsilon, "epsilon", low=0.0)
        w, idx = self._input_rows(w, sample, "fgsm_gradient")
        g = np.asarray(self._input_grads["fgsm_gradient"](w.astype(self.dtype), self.data, idx,
                                                          epsilon), dtype=np.float64)
        return g + self.alpha * w if self.alpha else g

    @property
    def n_compilations(self) -> int:
        """Programs compiled so far by the passes (the sizes of the ``jax.jit`` caches).

        Examples
        --------
        >>> import numpy as np, jax.numpy as jnp
        >>> from randopt.oracles import JaxObjective
        >>> f = JaxObjective(lambda p, b: jnp.mean((b[0] @ p) ** 2), jnp.zeros(2),
        ...                  (np.ones((10, 2)),))
        >>> _ = f.gradient(f.x0, sample=[0, 3]); before = f.n_compilations
        >>> _ = f.gradient(f.x0, sample=[5, 7]); f.n_compilations == before
        True
        """
        passes = sum(fn._cache_size() for variants in self._jit.values() for fn in variants)
        others = [self._gather, self._to_device, self._combine, *self._cg.values(),
                  *(self._input_grads or {}).values()]
        return int(passes + sum(fn._cache_size() for fn in others))

    def __repr__(self) -> str:
        return (
            f"JaxObjective(n_samples={self.n_samples}, n_features={self.n_features}, "
            f"batch_size={self.batch_size}, dtype={self.dtype}, "
            f"gauss_newton={self.supports_gauss_newton}, alpha={self.alpha:g})"
        )
