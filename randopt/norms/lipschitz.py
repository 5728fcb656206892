"""Upper bound on the Lipschitz constant of a feed-forward network.

For ``f = f_L o ... o f_1`` with 1-Lipschitz activations,
``Lip(f) <= prod_l ||W_l||_2``.  Each factor must itself be an *upper* bound:
dense layers use the exact norm (LAPACK) up to ``exact_limit`` entries and
otherwise Lanczos's probabilistic upper bound (its failure probability is
added to the result's); convolutions use the Gram-iteration bound of
:func:`randopt.norms.conv_spectral_norm` (deterministic, within ``tol`` of the
exact value for circular padding).

References
----------
.. [1] C. Szegedy et al., "Intriguing properties of neural networks", ICLR
       2014 (the product bound).
.. [2] B. Delattre et al., "Efficient bound of Lipschitz constant for
       convolutional layers by Gram iteration", ICML 2023.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import OptimizeResult

from .conv import conv_spectral_norm
from .spectral import spectral_norm

__all__ = ["lipschitz_bound"]


def lipschitz_bound(
    layers: Any,
    *,
    conv_method: str = "gram",
    exact_limit: int = 4_000_000,
    tol: float = 1e-4,
    random_state: Any = None,
) -> OptimizeResult:
    """Product of per-layer spectral-norm upper bounds.

    Parameters
    ----------
    layers : sequence
        Each item is a dense weight matrix (2-D array, sparse matrix or
        LinearOperator), or a pair ``(kernel, input_shape)``, or a triple
        ``(kernel, input_shape, options)`` with ``options`` a dict of
        :func:`conv_spectral_norm` keywords (``padding``, ``stride``,
        ``layout``).
    conv_method : {"gram", "exact", "reshape"}, default="gram"
        Bound used for convolutions (each is an upper bound).
    exact_limit : int, default=4_000_000
        Dense layers with at most this many entries get the exact norm.
    tol : float, default=1e-4
        Relative tolerance of the Gram / Lanczos bounds.
    random_state : None, int or Generator
        For Lanczos on large dense layers.

    Returns
    -------
    OptimizeResult
        ``bound`` (the product), ``log_bound``, ``layer_norms`` (list of
        floats), ``layers`` (per-layer dicts: ``kind``, ``shape``, ``norm``,
        ``method``, ``exact``) and ``failure_probability`` (0 when every
        factor is deterministic).

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.norms import lipschitz_bound
    >>> rng = np.random.default_rng(0)
    >>> conv = (rng.standard_normal((3, 2, 3, 3)), (16, 16))  # 2 -> 3 channels, 16 x 16
    >>> dense = rng.standard_normal((10, 3 * 16 * 16))
    >>> res = lipschitz_bound([conv, dense])
    >>> len(res.layer_norms), bool(np.isclose(res.bound, np.prod(res.layer_norms)))
    (2, True)
    """
    if conv_method not in ("gram", "exact", "reshape"):
        raise ValueError(f"conv_method must be 'gram', 'exact' or 'reshape', got {conv_method!r}")
    if isinstance(layers, np.ndarray) or not hasattr(layers, "__iter__"):
        raise TypeError("layers must be a list of weight matrices and (kernel, input_shape) pairs")
    layers = list(layers)
    if not layers:
        raise ValueError("layers is empty")
    per_layer = []
    fail = 0.0
    log_bound = 0.0
    for i, layer in enumerate(layers):
        if isinstance(layer, tuple) and len(layer) in (2, 3) and not sp.issparse(layer):
            kernel, shape = layer[0], layer[1]
            opts = dict(layer[2]) if len(layer) == 3 else {}
            res = conv_spectral_norm(kernel, shape, method=conv_method, tol=tol,
                                     return_info=True, **opts)
            norm = float(res.upper)
            entry = {"kind": "conv", "shape": tuple(np.shape(kernel)), "norm": norm,
                     "method": conv_method, "exact": bool(res.get("exact", False))}
        else:
            n_entries = int(np.prod(getattr(layer, "shape", (0,))))
            dense_ok = not sp.issparse(layer) and hasattr(layer, "__array__")
            method = "exact" if dense_ok and 0 < n_entries <= exact_limit else "lanczos"
            try:
                res = spectral_norm(layer, method=method, tol=tol, random_state=random_state,
                                    return_info=True)
            except (TypeError, ValueError) as err:
                raise type(err)(f"layers[{i}]: {err}") from None
            norm = float(res.upper)
            fail += float(res.failure_probability)
            entry = {"kind": "dense", "shape": tuple(layer.shape), "norm": norm,
                     "method": method, "exact": method == "exact"}
        per_layer.append(entry)
        log_bound += math.log(norm) if norm > 0 else -math.inf
    return OptimizeResult(
        bound=math.exp(log_bound) if math.isfinite(log_bound) else 0.0,
        log_bound=log_bound,
        layer_norms=[e["norm"] for e in per_layer],
        layers=per_layer,
        failure_probability=min(fail, 1.0),
    )
