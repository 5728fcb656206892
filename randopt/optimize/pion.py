"""Spectrum-preserving weight update: ``W <- L W R^T`` with ``L``, ``R`` orthogonal.

The update moves ``W`` along the orbit ``{U W V^T : U, V orthogonal}``, on
which every singular value is constant, in the direction of steepest descent
of the loss.  With ``G`` the Euclidean gradient, the skew-symmetric
generators

    A = G W^T - W G^T   (m x m),      B = G^T W - W^T G   (n x n)

give, for ``W(t) = exp(-t A) W exp(-t B)^T``, ``d/dt loss = -(||A||_F^2 +
||B||_F^2) / 2 <= 0`` (``<G, A W> = <G W^T, A> = ||A||_F^2 / 2`` as ``A`` is
the skew part of ``2 G W^T``).  The exponential is replaced by the Cayley
map ``cay(X) = (I + X/2)^(-1) (I - X/2)``, orthogonal for every skew ``X``
and equal to ``exp(-X)`` to second order, so

    W_new = cay(lr A) W cay(lr B)^T .

``A`` has rank at most ``2 n`` (``A = U V^T`` with ``U = [G, W]``,
``V = [W, -G]``), so the Cayley map is applied through the Woodbury identity
``cay(lr U V^T) x = x - lr U (I + lr/2 V^T U)^(-1) V^T x`` with a ``2n x 2n``
solve when ``2 n < m`` (and symmetrically for ``B``): ``O(m n^2)`` instead of
``O(m^3)``.  In float64 the singular values are kept to about ``1e-14``
relative (the orthogonality error of one Cayley factor is of order
``eps * cond(I + lr A / 2)``, and ``cond <= sqrt(1 + (lr ||A|| / 2)^2)``).

References
----------
.. [1] Z. Wen and W. Yin, "A feasible method for optimization with
       orthogonality constraints", Math. Program. 142 (2013) (Cayley
       transform and its Woodbury form).
.. [2] P.-A. Absil, R. Mahony and R. Sepulchre, "Optimization algorithms on
       matrix manifolds", Princeton (2008) (gradient on the orbit of a group
       action).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_bool, check_matrix, check_scalar

__all__ = ["pion_update"]


def _cayley_apply(U: np.ndarray, V: np.ndarray, lr: float, X: np.ndarray) -> np.ndarray:
    """``cay(lr U V^T) X`` for the skew matrix ``U V^T``, by the cheaper route."""
    m, r = U.shape
    if r < m:
        core = np.eye(r) + 0.5 * lr * (V.T @ U)
        return X - lr * (U @ np.linalg.solve(core, V.T @ X))
    S = lr * (U @ V.T)
    return np.linalg.solve(np.eye(m) + 0.5 * S, X - 0.5 * (S @ X))


def pion_update(W: Any, grad: Any, lr: float, *, return_generators: bool = False):
    """One spectrum-preserving descent step ``W <- cay(lr A) W cay(lr B)^T``.

    Parameters
    ----------
    W : array_like, shape (m, n)
        Current weights.
    grad : array_like, shape (m, n)
        Euclidean gradient of the loss at ``W``.
    lr : float
        Step size (> 0).
    return_generators : bool, default=False
        Also return the skew generators ``(A, B)``.

    Returns
    -------
    ndarray or (ndarray, (ndarray, ndarray))
        The new weights (float64), with the singular values of ``W``.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.optimize.pion import pion_update
    >>> rng = np.random.default_rng(0)
    >>> W, G = rng.standard_normal((6, 4)), rng.standard_normal((6, 4))
    >>> W1 = pion_update(W, G, 0.1)
    >>> s0, s1 = np.linalg.svd(W, compute_uv=False), np.linalg.svd(W1, compute_uv=False)
    >>> bool(np.allclose(s0, s1, rtol=1e-12, atol=0))
    True
    """
    Wm = check_matrix(W, "W", accept_sparse=False).astype(np.float64, copy=False)
    Gm = check_matrix(grad, "grad", accept_sparse=False).astype(np.float64, copy=False)
    if Gm.shape != Wm.shape:
        raise ValueError(f"grad has shape {Gm.shape} but W has shape {Wm.shape}; they must match")
    lr = check_scalar(lr, "lr", low=0, low_inclusive=False)
    return_generators = check_bool(return_generators, "return_generators")
    # Work on W 2^-kw and G 2^-kg (exact in binary) with lr 2^(kw+kg): the
    # generators lr A and lr B are unchanged, and no product W^T W or G W^T
    # over- or underflows wherever W and G sit in the float64 range.
    kw, kg = _exponent(Wm), _exponent(Gm)
    Wm, Gm = np.ldexp(Wm, -kw), np.ldexp(Gm, -kg)
    with np.errstate(over="ignore"):
        lr_s = float(np.ldexp(lr, kw + kg))
    if not np.isfinite(lr_s):
        raise ValueError(
            f"lr * max|W| * max|grad| overflows float64 (lr={lr!r}); take a smaller lr"
        )
    # A = G W^T - W G^T = U_a V_a^T,  B = G^T W - W^T G = U_b V_b^T.
    U_a, V_a = np.hstack([Gm, Wm]), np.hstack([Wm, -Gm])
    U_b, V_b = np.hstack([Gm.T, Wm.T]), np.hstack([Wm.T, -Gm.T])
    with np.errstate(over="ignore", invalid="ignore"):
        left = _cayley_apply(U_a, V_a, lr_s, Wm)  # cay(lr A) W
        # (cay(lr B) left^T)^T = left cay(lr B)^T
        new = np.ldexp(_cayley_apply(U_b, V_b, lr_s, left.T).T, kw)
    if not np.isfinite(new).all():
        raise ValueError(
            f"the step with lr={lr!r} is numerically singular (lr * ||W|| * ||grad|| too "
            "large); take a smaller lr"
        )
    if return_generators:
        scale = kw + kg
        return new, (np.ldexp(U_a @ V_a.T, scale), np.ldexp(U_b @ V_b.T, scale))
    return new


def _exponent(M: np.ndarray) -> int:
    """``k`` with ``max|M| < 2**k`` (0 for the zero matrix)."""
    amax = float(np.max(np.abs(M)))
    return int(np.frexp(amax)[1]) if amax > 0 else 0
