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

from .._validation import (
    check_choice,
    check_matrix,
    check_random_state,
    check_scalar,
    is_operator,
)
from ._rounding import round_up
from .conv import conv_spectral_norm
from .result import NormResult
from .spectral import spectral_norm

__all__ = ["lipschitz_bound"]


def _product_upper(factors: list[float]) -> float:
    """An upper bound on ``prod(factors)`` (positive floats) that holds over the whole
    float range.

    The mantissas (in [1/2, 1)) are multiplied and renormalised, the exponents summed
    exactly, so no partial product under- or overflows: ``L - 1`` roundings of relative
    error at most ``u = 2**-53`` each, covered by the factor ``1 + 2**-52 L``.  Scaling
    back is exact unless it lands below the normal range (then one more ulp of
    ``2**-1074`` upward: a product of positive factors never rounds to 0) or above it
    (``inf``, a valid bound).  ``np.prod`` instead returned 0 for two layers of norm
    1e-300 (an "upper bound" below the true 1e-600) and inf for 1e300 and 1e-300 times
    1e300.
    """
    mant, expo = 1.0, 0
    for f in factors:
        fm, fe = math.frexp(f)
        mant, me = math.frexp(mant * fm)
        expo += fe + me
    mant = round_up(mant * (1 + 2.0**-52 * len(factors)))
    if expo > 1100:
        return math.inf
    if expo < -1200:
        return 2.0**-1074
    with np.errstate(over="ignore"):
        bound = float(np.ldexp(mant, expo))
    if bound < 2.0**-1022:
        bound += 2.0**-1074
    return bound


def lipschitz_bound(
    layers: Any,
    *,
    conv_method: str = "gram",
    exact_limit: int = 4_000_000,
    tol: float = 1e-4,
    random_state: Any = None,
) -> NormResult:
    """Product of per-layer spectral-norm upper bounds: an upper bound on ``Lip(f)``.

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
        Dense layers with at most this many entries get the exact norm
        (dense SVD); larger ones Lanczos's probabilistic upper bound.
    tol : float in (0, 1), default=1e-4
        Relative tolerance of the Gram / Lanczos bounds.
    random_state : None, int or numpy.random.Generator
        For Lanczos on large dense layers.

    Returns
    -------
    NormResult
        ``norm`` and ``upper``: the product of the per-layer upper bounds
        (rounded up); ``lower``: 0 (the product of the layers' norms is not a
        lower bound on the network's Lipschitz constant); ``upper_kind``:
        ``"deterministic"`` when every factor is exact or deterministic, else
        ``"probabilistic"`` with ``failure_probability`` the sum of the
        factors' (union bound); ``n_matvec`` and ``nit``: totals over the
        layers; ``converged``: every factor met its tolerance; ``method``:
        ``"product"``.  Extras: ``log_bound``, ``layer_norms`` (the
        per-layer upper bounds) and ``layers`` (per-layer dicts: ``kind``,
        ``shape``, ``norm``, ``lower``, ``method``, ``upper_kind``).

    Raises
    ------
    ValueError
        When the product exceeds the float64 range (no finite upper bound
        exists to return), or a layer is not a valid matrix or kernel.

    References
    ----------
    .. [1] C. Szegedy et al., "Intriguing properties of neural networks",
           ICLR 2014 (the product bound).
    .. [2] B. Delattre, Q. Barthelemy, A. Araujo and A. Allauzen, "Efficient
           bound of Lipschitz constant for convolutional layers by Gram
           iteration", ICML 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.norms import lipschitz_bound
    >>> rng = np.random.default_rng(0)
    >>> conv = (rng.standard_normal((3, 2, 3, 3)), (16, 16))  # 2 -> 3 channels, 16 x 16
    >>> dense = rng.standard_normal((10, 3 * 16 * 16))
    >>> res = lipschitz_bound([conv, dense])
    >>> len(res.layer_norms), bool(np.isclose(res.upper, np.prod(res.layer_norms)))
    (2, True)
    >>> res.upper_kind, res.failure_probability
    ('deterministic', 0.0)
    """
    conv_method = check_choice(conv_method, "conv_method", ("gram", "exact", "reshape"))
    exact_limit = check_scalar(exact_limit, "exact_limit", kind=int, low=0)
    tol = check_scalar(tol, "tol", low=0.0, high=1.0, low_inclusive=False,
                       high_inclusive=False)
    rng = check_random_state(random_state)
    if isinstance(layers, (np.ndarray, str)) or sp.issparse(layers) or not hasattr(
        layers, "__iter__"
    ):
        raise TypeError("layers must be a list of weight matrices and (kernel, input_shape) pairs")
    layers = list(layers)
    if not layers:
        raise ValueError("layers is empty; pass at least one weight matrix or kernel")
    per_layer = []
    fail = 0.0
    log_bound = 0.0
    n_matvec = nit = 0
    converged = True
    for i, layer in enumerate(layers):
        try:
            if isinstance(layer, tuple) and len(layer) in (2, 3):
                kernel, shape = layer[0], layer[1]
                opts = dict(layer[2]) if len(layer) == 3 else {}
                res = conv_spectral_norm(kernel, shape, method=conv_method, tol=tol, **opts)
                kind, shape_out, method = "conv", tuple(np.shape(kernel)), conv_method
            else:
                if not (sp.issparse(layer) or is_operator(layer) or hasattr(layer, "shape")):
                    # nested lists and other array-likes: as the dense matrix they hold
                    layer = check_matrix(layer, "layer", accept_sparse=False)
                n_entries = int(np.prod(getattr(layer, "shape", (0,))))
                dense_ok = not sp.issparse(layer) and hasattr(layer, "__array__")
                method = "exact" if dense_ok and 0 < n_entries <= exact_limit else "lanczos"
                res = spectral_norm(layer, method=method, tol=tol, random_state=rng)
                kind, shape_out = "dense", tuple(layer.shape)
        except (TypeError, ValueError) as err:
            raise type(err)(f"layers[{i}]: {err}") from None
        norm = float(res.upper)
        fail += float(res.failure_probability)
        n_matvec += int(res.n_matvec)
        nit += int(res.nit)
        converged = converged and bool(res.converged)
        per_layer.append({"kind": kind, "shape": shape_out, "norm": norm,
                          "lower": float(res.lower), "method": method,
                          "upper_kind": res.upper_kind})
        log_bound += math.log(norm) if norm > 0 else -math.inf
    factors = [e["norm"] for e in per_layer]
    bound = _product_upper(factors) if math.isfinite(log_bound) else 0.0
    if math.isinf(bound):
        # No float64 holds the bound: refuse rather than return inf from finite input.
        raise ValueError(
            f"the product of the layers' norm bounds, exp({log_bound:.6g}) = "
            f"10**{log_bound / math.log(10):.6g}, exceeds the float64 range; the per-layer "
            f"bounds are {factors} (rescale the weights, or sum the logarithms of "
            f"spectral_norm(W).upper per layer)")
    return NormResult(
        norm=bound, lower=0.0, upper=bound,
        upper_kind="probabilistic" if fail > 0 else "deterministic",
        failure_probability=min(fail, 1.0), n_matvec=n_matvec, nit=nit,
        converged=converged, method="product",
        log_bound=log_bound, layer_norms=factors, layers=per_layer,
    )
