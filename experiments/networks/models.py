"""Pure-JAX multilayer perceptrons, their losses and objectives, for the network experiments.

The pieces the network experiments (:mod:`experiments.networks.mlp`,
:mod:`experiments.networks.autoencoder`, :mod:`~experiments.networks.spectrum`,
:mod:`~experiments.networks.absa`) share:

* :func:`init_mlp` / :func:`mlp_apply`: a fully connected network as a list of
  ``(W, b)`` pairs (a JAX pytree), initialised from a seeded NumPy
  ``Generator``; the last layer is linear (it returns logits), the hidden
  layers use ``activation`` (one name, or one per hidden layer);
* :func:`softmax_cross_entropy` (classification, integer labels) and
  :func:`sigmoid_cross_entropy` (reconstruction of targets in ``[0, 1]``, the
  loss of the reference code's autoencoder): convex functions of the logits,
  so the Gauss-Newton matrix ``J^T (d^2 loss / d logits^2) J`` is positive
  semi-definite;
* :func:`mlp_objective`: a :class:`randopt.oracles.JaxObjective` with ``model``
  (parameters and rows -> logits) and ``output_loss`` (logits and targets ->
  loss) set, so that sub-sampled Hessian *and* Gauss-Newton products work;
* :func:`accuracy`: the fraction of rows classified right.

The data are in :mod:`experiments.networks.data`.

Precision. Building weights, losses or an objective here (:func:`init_mlp`,
the losses, :func:`mlp_objective`) turns on JAX's float64 mode
(``jax.config.update("jax_enable_x64", True)``, process-wide): the solvers'
sub-problems (CG to a relative residual of ``1e-9``) and their ratio tests
need it, and :class:`~randopt.oracles.JaxObjective` reads the setting when
it is built.

Activation. The reference code of Xu, Roosta and Mahoney uses logistic
(sigmoid) hidden units (``HFD/model/compute_model.m``: its CIFAR-10 MLP and its
MNIST autoencoder, the autoencoder with a linear code layer). The default here
for classifiers is ``tanh``: like the logistic function it is smooth
(infinitely differentiable), which second-order methods need: the Hessian
then exists and varies continuously everywhere, so a Hessian-vector product
at ``w`` describes the curvature a step from ``w`` meets (ReLU's second
derivative is zero almost everywhere and infinite at its kink, so the
products miss every change of the active set); unlike the logistic
function it is zero-centred, which keeps the layers' inputs centred and the
Hessian better conditioned (LeCun et al., "Efficient BackProp"). Pass
``activation="logistic"`` for the paper's units; the autoencoder experiment
uses them, as the paper does.

References
----------
.. [1] P. Xu, F. Roosta and M. W. Mahoney, "Second-order optimization for
   non-convex machine learning: an empirical study", SDM (2020); reference
   code git-xp/Non-Convex-Newton (``HFD/``).
.. [2] X. Glorot and Y. Bengio, "Understanding the difficulty of training deep
   feedforward neural networks", AISTATS (2010).
.. [3] K. He, X. Zhang, S. Ren and J. Sun, "Delving deep into rectifiers",
   ICCV (2015).
.. [4] Y. LeCun, L. Bottou, G. B. Orr and K.-R. Mueller, "Efficient BackProp",
   in Neural Networks: Tricks of the Trade (1998).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "ACTIVATIONS",
    "INIT_SCHEMES",
    "OUTPUTS",
    "accuracy",
    "hidden_activations",
    "init_mlp",
    "mlp_apply",
    "mlp_loss",
    "mlp_objective",
    "sigmoid_cross_entropy",
    "softmax_cross_entropy",
]

#: Hidden-layer activations (``"linear"``: the autoencoder's code layer).
ACTIVATIONS = ("tanh", "logistic", "softplus", "relu", "linear")
#: Output losses of :func:`mlp_objective`.
OUTPUTS = ("softmax", "sigmoid")
#: Initialisations of :func:`init_mlp`.
INIT_SCHEMES = ("glorot", "normalized", "zero")


def _check_sizes(sizes: Any) -> tuple[int, ...]:
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
        raise TypeError(f"sizes must be a sequence of layer widths, got {sizes!r}")
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output width, got {sizes!r}")
    out = []
    for s in sizes:
        if isinstance(s, (bool, np.bool_)) or not isinstance(s, numbers.Integral) or s < 1:
            raise ValueError(f"sizes must be positive integers, got {list(sizes)!r}")
        out.append(int(s))
    return tuple(out)


def hidden_activations(activation: str | Sequence[str], n_hidden: int) -> tuple[str, ...]:
    """One activation name per hidden layer, from one name or a list of them.

    Parameters
    ----------
    activation : str or sequence of str
        A name of :data:`ACTIVATIONS`, used for every hidden layer, or one per
        hidden layer.
    n_hidden : int
        Number of hidden layers (``len(sizes) - 2``).

    Returns
    -------
    tuple of str

    Raises
    ------
    ValueError
        An unknown name, or a list of the wrong length.

    Examples
    --------
    >>> from experiments.networks.models import hidden_activations
    >>> hidden_activations("tanh", 2)
    ('tanh', 'tanh')
    >>> hidden_activations(["logistic", "linear"], 2)
    ('logistic', 'linear')
    """
    names = (activation,) * n_hidden if isinstance(activation, str) else tuple(activation)
    if len(names) != n_hidden:
        raise ValueError(f"activation: expected one name or {n_hidden} names (one per hidden "
                         f"layer), got {len(names)}")
    bad = [a for a in names if a not in ACTIVATIONS]
    if bad:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {bad[0]!r}")
    return names


def init_mlp(
    sizes: Sequence[int],
    random_state: int | np.random.Generator | None = None,
    *,
    activation: str | Sequence[str] = "tanh",
    scheme: str = "glorot",
) -> list[tuple[Any, Any]]:
    """Random weights of a fully connected network (Glorot, or He for ReLU), zero biases.

    Layer ``k`` maps ``sizes[k]`` inputs to ``sizes[k+1]`` outputs. Its
    weights are drawn by the scheme that keeps the activations' variance
    constant through the layers for the activation that follows it: Glorot's
    uniform ``U(-a, a)``, ``a = sqrt(6 / (fan_in + fan_out))``, for tanh,
    linear and the output layer, four times that for the logistic function
    (whose slope at 0 is 1/4, [2]_), He's normal ``N(0, 2 / fan_in)`` for ReLU
    and softplus [3]_. ``scheme="normalized"`` is instead the reference
    code's "normalized random initialization" (``init = 1`` in
    ``mnist_autoencoder.m``): every weight and bias from one standard normal
    vector scaled to unit norm, a point close to the saddle at zero, where
    the loss is nearly flat. ``scheme="zero"`` is the reference code's default
    (``init = 0``): every weight and bias 0, a symmetric saddle (every unit of
    a layer computes the same function, and gradients and Hessian products
    keep them equal: only a step with a random component, such as the
    random-start CG of :class:`randopt.optimize.subproblems.CGSteihaug`,
    separates them).

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, input first, output last (at least two).
    random_state : None, int or numpy.random.Generator
        Seed or generator of the draws; a fixed seed gives the same weights.
    activation : str or sequence of str, default="tanh"
        Hidden activation(s), see :func:`hidden_activations`.
    scheme : {"glorot", "normalized", "zero"}, default="glorot"
        See above.

    Returns
    -------
    list of (W, b)
        ``W`` a float64 ``jax.Array`` of shape ``(sizes[k], sizes[k+1])``,
        ``b`` of shape ``(sizes[k+1],)``.

    References
    ----------
    .. [2] X. Glorot and Y. Bengio, AISTATS (2010).
    .. [3] K. He et al., ICCV (2015).

    Examples
    --------
    >>> from experiments.networks.models import init_mlp
    >>> params = init_mlp([4, 3, 2], random_state=0)
    >>> [(W.shape, b.shape) for W, b in params]
    [((4, 3), (3,)), ((3, 2), (2,))]
    >>> bool(abs(params[0][0]).max() <= (6 / 7) ** 0.5), float(params[0][1].sum())
    (True, 0.0)
    >>> flat = init_mlp([4, 3, 2], random_state=0, scheme="normalized")
    >>> round(sum(float((W**2).sum() + (b**2).sum()) for W, b in flat), 12)
    1.0
    >>> [float(abs(W).max()) for W, _ in init_mlp([4, 3, 2], scheme="zero")]
    [0.0, 0.0]
    """
    sizes = _check_sizes(sizes)
    acts = hidden_activations(activation, len(sizes) - 2) + ("linear",)
    if scheme not in INIT_SCHEMES:
        raise ValueError(f"scheme must be one of {INIT_SCHEMES}, got {scheme!r}")
    if isinstance(random_state, np.random.Generator):
        rng = random_state
    elif random_state is None or (isinstance(random_state, numbers.Integral)
                                  and not isinstance(random_state, (bool, np.bool_))):
        rng = np.random.default_rng(random_state)
    else:
        raise TypeError(f"random_state must be None, an int or a numpy.random.Generator, "
                        f"got {random_state!r}")
    jnp = _jnp()
    params = []
    if scheme == "zero":
        return [(jnp.zeros((fan_in, fan_out), dtype=jnp.float64),
                 jnp.zeros(fan_out, dtype=jnp.float64))
                for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True)]
    if scheme == "normalized":
        d = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        flat = rng.standard_normal(d)
        flat /= np.linalg.norm(flat)
        start = 0
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
            W = flat[start:start + fan_in * fan_out].reshape(fan_in, fan_out)
            b = flat[start + fan_in * fan_out:start + fan_in * fan_out + fan_out]
            start += fan_in * fan_out + fan_out
            params.append((jnp.asarray(W, dtype=jnp.float64), jnp.asarray(b, dtype=jnp.float64)))
        return params
    for fan_in, fan_out, act in zip(sizes[:-1], sizes[1:], acts, strict=True):
        if act in ("relu", "softplus"):
            W = rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)
        else:
            a = np.sqrt(6.0 / (fan_in + fan_out)) * (4.0 if act == "logistic" else 1.0)
            W = rng.uniform(-a, a, size=(fan_in, fan_out))
        params.append((jnp.asarray(W, dtype=jnp.float64),
                       jnp.zeros(fan_out, dtype=jnp.float64)))
    return params


def _jnp() -> Any:
    import jax

    # Second-order methods solve their sub-problems to 1e-9 relative residual and
    # compare tiny decreases in the ratio test: float32 would drown both.
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    return jnp


def _apply_activation(name: str, z: Any) -> Any:
    import jax

    if name == "tanh":
        return jax.numpy.tanh(z)
    if name == "logistic":
        return jax.nn.sigmoid(z)
    if name == "softplus":
        return jax.nn.softplus(z)
    if name == "relu":
        return jax.nn.relu(z)
    return z


def mlp_apply(
    params: Sequence[tuple[Any, Any]], X: Any, *, activation: str | Sequence[str] = "tanh"
) -> Any:
    """The network's logits: hidden layers ``act(z W + b)``, a linear last layer.

    Parameters
    ----------
    params : list of (W, b)
        From :func:`init_mlp`.
    X : array of shape (n, sizes[0])
        Input rows.
    activation : str or sequence of str, default="tanh"
        Hidden activation(s), as given to :func:`init_mlp`.

    Returns
    -------
    jax.Array of shape (n, sizes[-1])
        Pre-activations of the output layer (logits).

    Examples
    --------
    >>> import numpy as np
    >>> from experiments.networks.models import init_mlp, mlp_apply
    >>> params = init_mlp([3, 5, 2], random_state=0)
    >>> X = np.ones((4, 3))
    >>> out = mlp_apply(params, X)
    >>> W0, b0 = params[0]; W1, b1 = params[1]
    >>> ref = np.tanh(X @ np.asarray(W0) + np.asarray(b0)) @ np.asarray(W1) + np.asarray(b1)
    >>> out.shape, bool(np.allclose(out, ref, rtol=1e-14, atol=1e-14))
    ((4, 2), True)
    """
    acts = hidden_activations(activation, len(params) - 1)
    z = X
    for (W, b), act in zip(params[:-1], acts, strict=True):
        z = _apply_activation(act, z @ W + b)
    W, b = params[-1]
    return z @ W + b


def softmax_cross_entropy(logits: Any, y: Any) -> Any:
    """Mean cross-entropy of the softmax of ``logits`` against integer labels ``y``.

    ``mean_i (logsumexp(z_i) - z_i[y_i])``, computed stably.

    Parameters
    ----------
    logits : array of shape (n, n_classes)
    y : array of shape (n,)
        Integer labels in ``[0, n_classes)``.

    Returns
    -------
    jax.Array
        A scalar.

    Examples
    --------
    >>> import numpy as np
    >>> from experiments.networks.models import softmax_cross_entropy
    >>> z = np.array([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
    >>> ref = np.mean([np.log(np.exp(z[0]).sum()) - 2.0, np.log(3.0)])
    >>> bool(np.isclose(softmax_cross_entropy(z, np.array([0, 2])), ref, rtol=1e-14))
    True
    """
    import jax

    jnp = _jnp()
    logp = jax.nn.log_softmax(logits, axis=-1)
    picked = jnp.take_along_axis(logp, jnp.asarray(y, dtype=jnp.int32)[:, None], axis=-1)
    return -jnp.mean(picked)


def sigmoid_cross_entropy(logits: Any, targets: Any) -> Any:
    """Reconstruction cross-entropy of sigmoid outputs: summed over outputs, mean over rows.

    ``mean_i sum_j (log(1 + exp(z_ij)) - t_ij z_ij)``, the loss of the
    reference code's autoencoder (``compute_model.m``, logistic output layer),
    computed stably.

    Parameters
    ----------
    logits : array of shape (n, m)
    targets : array of shape (n, m)
        Values in ``[0, 1]`` (binarized pixels).

    Returns
    -------
    jax.Array
        A scalar.

    Examples
    --------
    >>> import numpy as np
    >>> from experiments.networks.models import sigmoid_cross_entropy
    >>> z, t = np.array([[1.0, -2.0]]), np.array([[1.0, 0.0]])
    >>> p = 1 / (1 + np.exp(-z))
    >>> ref = -(t * np.log(p) + (1 - t) * np.log(1 - p)).sum()
    >>> bool(np.isclose(sigmoid_cross_entropy(z, t), ref, rtol=1e-14))
    True
    """
    jnp = _jnp()
    return jnp.mean(jnp.sum(jnp.logaddexp(0.0, logits) - targets * logits, axis=-1))


def mlp_loss(
    params: Sequence[tuple[Any, Any]],
    X: Any,
    y: Any,
    *,
    activation: str | Sequence[str] = "tanh",
    output: str = "softmax",
    alpha: float = 0.0,
) -> Any:
    """Mean loss of the network on rows ``X`` plus ``(alpha / 2) ||w||^2``: the objective of
    :func:`mlp_objective`, for the first-order baselines' minibatches.

    Parameters
    ----------
    params : list of (W, b)
    X : array of shape (n, sizes[0])
    y : array
        Integer labels (``output="softmax"``) or targets in ``[0, 1]`` (``"sigmoid"``).
    activation : str or sequence of str, default="tanh"
    output : {"softmax", "sigmoid"}, default="softmax"
    alpha : float, default=0.0

    Returns
    -------
    jax.Array
        A scalar.

    Examples
    --------
    >>> import numpy as np
    >>> from experiments.networks.models import mlp_loss
    >>> params = [(np.zeros((2, 3)), np.zeros(3))]
    >>> bool(np.isclose(mlp_loss(params, np.ones((4, 2)), np.array([0, 1, 2, 0])), np.log(3)))
    True
    """
    jnp = _jnp()
    logits = mlp_apply(params, X, activation=activation)
    out = (softmax_cross_entropy if output == "softmax" else sigmoid_cross_entropy)(logits, y)
    if alpha:
        out = out + 0.5 * alpha * sum(jnp.sum(W * W) + jnp.sum(b * b) for W, b in params)
    return out


def accuracy(
    params: Sequence[tuple[Any, Any]], X: Any, y: Any, *,
    activation: str | Sequence[str] = "tanh",
) -> float:
    """Fraction of rows whose largest logit is at the true label.

    Parameters
    ----------
    params : list of (W, b)
    X : array of shape (n, sizes[0])
    y : array of shape (n,)
        Integer labels.
    activation : str or sequence of str, default="tanh"

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from experiments.networks.models import accuracy
    >>> params = [(np.eye(2), np.zeros(2))]
    >>> accuracy(params, np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0]]), np.array([0, 1, 1]))
    0.6666666666666666
    """
    logits = np.asarray(mlp_apply(params, X, activation=activation))
    return float(np.mean(np.argmax(logits, axis=1) == np.asarray(y)))


def mlp_objective(
    sizes: Sequence[int],
    X: Any,
    y: Any,
    *,
    activation: str | Sequence[str] = "tanh",
    output: str = "softmax",
    alpha: float = 0.0,
    random_state: int | np.random.Generator | None = 0,
    init: str = "glorot",
    batch_size: int | None = None,
) -> Any:
    """The training loss of an MLP as a :class:`randopt.oracles.JaxObjective`.

    ``f(w) = mean_i loss(mlp_apply(w, x_i), y_i) + (alpha / 2) ||w||^2`` over
    the rows of ``X``, from the weights of :func:`init_mlp` (``x0``). The
    objective's ``model`` is the network (weights and rows -> logits) and its
    ``output_loss`` the convex loss of the logits, so the solvers can use
    sub-sampled Hessian products (:func:`randopt.optimize.trust_region`) and
    Gauss-Newton products (:func:`randopt.optimize.gauss_newton`).

    Parameters
    ----------
    sizes : sequence of int
        Layer widths; ``sizes[0]`` must be ``X.shape[1]``.
    X : array of shape (n, sizes[0])
        Training rows.
    y : array
        ``output="softmax"``: integer labels of shape ``(n,)`` in
        ``[0, sizes[-1])``; ``"sigmoid"``: targets in ``[0, 1]`` of shape
        ``(n, sizes[-1])`` (an autoencoder passes ``X``).
    activation : str or sequence of str, default="tanh"
        Hidden activation(s).
    output : {"softmax", "sigmoid"}, default="softmax"
        :func:`softmax_cross_entropy` or :func:`sigmoid_cross_entropy`.
    alpha : float, default=0.0
        L2 penalty weight (>= 0).
    random_state : None, int or numpy.random.Generator, default=0
        Seed of the initial weights.
    init : {"glorot", "normalized", "zero"}, default="glorot"
        Their scheme (:func:`init_mlp`).
    batch_size : int, optional
        Rows per compiled pass (memory bound), passed to ``JaxObjective``.

    Returns
    -------
    randopt.oracles.JaxObjective
        Its ``x0`` is the flattened initial weights and ``unravel`` maps a
        flat vector back to the ``(W, b)`` list.

    Examples
    --------
    >>> import numpy as np
    >>> from experiments.networks.data import load_digits_split
    >>> from experiments.networks.models import mlp_objective
    >>> s = load_digits_split(0)
    >>> f = mlp_objective([64, 8, 10], s.X_train[:100], s.y_train[:100], random_state=0)
    >>> f.n_samples, f.n_features, bool(f.value(f.x0) > 0)
    (100, 610, True)
    """
    sizes = _check_sizes(sizes)
    acts = hidden_activations(activation, len(sizes) - 2)
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")
    if not (isinstance(alpha, numbers.Real) and not isinstance(alpha, bool) and alpha >= 0
            and np.isfinite(alpha)):
        raise ValueError(f"alpha must be a finite number >= 0, got {alpha!r}")
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != sizes[0]:
        raise ValueError(f"X must have shape (n, {sizes[0]}) (sizes[0] features), "
                         f"got {X.shape}")
    if output == "softmax":
        y = np.asarray(y)
        if y.shape != (X.shape[0],) or not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"y must hold {X.shape[0]} integer labels, got shape {y.shape} "
                             f"dtype {y.dtype}")
        if y.min() < 0 or y.max() >= sizes[-1]:
            raise ValueError(f"labels must lie in [0, {sizes[-1]}), got [{y.min()}, {y.max()}]")
        y = y.astype(np.int32)
        output_loss = softmax_cross_entropy
    else:
        y = np.asarray(y, dtype=np.float64)
        if y.shape != (X.shape[0], sizes[-1]):
            raise ValueError(f"targets must have shape {(X.shape[0], sizes[-1])}, "
                             f"got {y.shape}")
        output_loss = sigmoid_cross_entropy
    params = init_mlp(sizes, random_state, activation=acts, scheme=init)
    return _jax_objective(acts, params, X, y, output_loss, float(alpha), batch_size)


def _jax_objective(acts, params, X, y, output_loss, alpha, batch_size):
    _jnp()  # float64 inside JAX (see _jnp) before JaxObjective reads the setting
    from randopt.oracles import JaxObjective

    def model(params, inputs):
        return mlp_apply(params, inputs, activation=acts)

    return JaxObjective(None, params, (X, y), model=model, output_loss=output_loss,
                        batch_size=batch_size, alpha=alpha)
