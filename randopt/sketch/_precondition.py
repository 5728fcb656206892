"""The preconditioner ``P`` of sketch-and-precondition, from a factorisation of ``S A``.

``S A = Q R`` (with the ridge rows ``sqrt(alpha) I`` appended when
``alpha > 0``); when ``R`` is numerically rank deficient ``P = V_r
Sigma_r^{-1}`` from the SVD of ``R``, otherwise ``P = R^{-1}`` applied by
triangular solves. See :mod:`randopt.sketch.lstsq`.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from .leverage import numerical_rank

__all__ = ["Preconditioner"]


class Preconditioner:
    """``P`` (d x r) from a factorisation of the sketched (and ridge-augmented) matrix.

    With ``Sb`` given, the QR of ``[S A | S b]`` also yields ``Q^T S b`` (in
    the last columns of ``R``), so the sketch-and-solve solution ``y0`` comes
    without forming ``Q``.
    """

    def __init__(self, SA: np.ndarray, alpha: float, shape: tuple[int, int], Sb=None):
        d = SA.shape[1]
        M = SA if alpha == 0 else np.vstack([SA, np.sqrt(alpha) * np.eye(d)])
        if Sb is not None:
            rhs = Sb.reshape(Sb.shape[0], -1)
            if alpha:
                rhs = np.vstack([rhs, np.zeros((d, rhs.shape[1]))])
            M = np.hstack([M, rhs])
        R_full = scipy.linalg.qr(M, mode="r", check_finite=False)[0]
        k = min(R_full.shape[0], d)
        R = R_full[:k, :d]
        Ur, s, Vt = scipy.linalg.svd(R, check_finite=False)
        self.singular_values = s
        self.rank = numerical_rank(s, shape) if alpha == 0 else d
        self.full_rank = self.rank == d
        if self.full_rank:
            self.R = np.ascontiguousarray(R)
        else:
            r = self.rank
            self.P = Vt[:r].T / s[:r]
            # y = P^+ x for x in range(P): y = Sigma_r V_r^T x.
            self.Pinv = Vt[:r] * s[:r, None]
        # ||S A|| bounds the rounding of A^T r (the IHS floor); without a ridge, s[0].
        self.sketch_norm = float(s[0]) if alpha == 0 else float(np.linalg.norm(SA))
        self.y0 = None
        if Sb is not None:
            if alpha and 2.0 * alpha >= s[0] ** 2:
                # The ridge dominates (alpha >= ||S A||^2): in the QR of [S A; sqrt(alpha) I]
                # S A is lost below the rounding of sqrt(alpha) (the solution, about
                # (S A)^T S b / alpha, came out 0 for alpha >~ 1e32 ||S A||^2). There
                # cond(R)^2 <= 2, and the semi-normal equations R^T y = (S A)^T S b are
                # accurate: y = R x for x = (R^T R)^{-1} (S A)^T S b.
                z = scipy.linalg.solve_triangular(
                    R, SA.T @ Sb.reshape(Sb.shape[0], -1), trans="T", check_finite=False
                )
            else:
                z = R_full[:k, d:]
                if not self.full_rank:
                    z = Ur[:, : self.rank].T @ z
            self.y0 = z[:, 0] if Sb.ndim == 1 else z

    def apply(self, y):
        """``x = P y``."""
        if self.full_rank:
            return scipy.linalg.solve_triangular(self.R, y, check_finite=False)
        return self.P @ y

    def apply_t(self, z):
        """``P^T z``."""
        if self.full_rank:
            return scipy.linalg.solve_triangular(self.R, z, trans="T", check_finite=False)
        return self.P.T @ z

    def inverse(self, x):
        """``y`` with ``P y = x`` (for ``x`` in the range of ``P``)."""
        if self.full_rank:
            return self.R @ x
        return self.Pinv @ x

    def solve_sketched(self):
        """``y`` of the sketch-and-solve solution ``x = P y`` for the ``S b`` given."""
        return self.y0
