"""``||A||_2`` by a dense singular value decomposition, with its rounding margin.

Method ``"exact"`` of :func:`randopt.norms.spectral_norm`: LAPACK ``gesdd``
on the (power-of-two rescaled) dense matrix; sparse matrices and operators
are densified first (an operator costs one product per column), up to
``10**8`` entries.

Bracket.  The lower bound is the certified Rayleigh quotient ``||A v||`` of
the computed top right singular vector (:mod:`randopt.norms._rounding`),
rigorous.  The upper bound rests on the backward stability of the SVD: the
computed singular values are exact for ``A + E`` with
``||E||_2 <= p(m, n) u ||A||_2`` ([1]_, section 4.9; [2]_), so by Weyl's
inequality ``sigma_1 <= sigma_hat_1 (1 + gamma_p)``; LAPACK leaves
``p(m, n)`` as "a modestly growing function", taken here as
``8 max(m, n)`` (Householder bidiagonalisation's ``gamma_(c n)``
backward error, with ``c = 8``).

References
----------
.. [1] E. Anderson et al., "LAPACK Users' Guide", 3rd ed., SIAM (1999),
       section 4.9 (error bounds for the singular value decomposition).
.. [2] J. Demmel, "Applied numerical linear algebra", SIAM (1997), theorem 5.4
       and section 5.4.1.
"""

from __future__ import annotations

import math

import numpy as np

from ._products import ScaledProducts, checked
from ._rounding import gamma, round_up

__all__ = ["DENSE_LIMIT", "exact_bracket"]

#: Most entries ``method="exact"`` densifies.
DENSE_LIMIT = 10**8


def exact_bracket(B: ScaledProducts) -> dict:
    """Dense SVD of ``B``: bracket and singular vectors in ``B``'s scale.

    Parameters
    ----------
    B : ScaledProducts
        Products with the rescaled matrix (:mod:`randopt.norms._products`).

    Returns
    -------
    dict
        ``norm`` (the computed singular value), ``lower`` (certified),
        ``upper`` (backward-error margin), ``u``, ``v``, ``nit`` (0).

    References
    ----------
    See the module docstring.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.operands import as_operand
    >>> from randopt.norms._products import ScaledProducts
    >>> from randopt.norms._spectral_exact import exact_bracket
    >>> out = exact_bracket(ScaledProducts(as_operand(np.diag([2.0, 1.0])), 0))
    >>> out["norm"], bool(out["lower"] <= 2.0 <= out["upper"])
    (2.0, True)
    """
    m, n = B.shape
    if m * n > DENSE_LIMIT:
        raise ValueError(
            f"method='exact' would densify a {m} x {n} matrix (more than {DENSE_LIMIT} "
            "entries); use method='lanczos'"
        )
    dense = B.operand.to_dense()
    if B.operand.format == "operator":
        B.n_matvec += n  # one product per column
    D = np.ldexp(dense, -B.exponent)
    checked(float(np.sum(D)))
    U, s, Vt = np.linalg.svd(D, full_matrices=False)
    sigma = float(s[0])
    upper = round_up(sigma * (1 + gamma(8 * max(m, n))))
    abs_bound = min(B.abs_bound, math.sqrt(min(m, n)) * upper)
    lower, u_vec, v_vec = B.certified_pair(Vt[0], False, abs_bound=abs_bound)
    return {"norm": sigma, "lower": min(lower, sigma), "upper": max(upper, lower),
            "u": u_vec, "v": v_vec, "nit": 0}
