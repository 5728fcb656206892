"""The preconditioners ``P`` of the preconditioned least-squares CG (see :mod:`.lstsq`).

:class:`Preconditioner` (sketch-and-precondition): ``P = R^{-1}`` from a
factorisation ``S A = Q R`` of the sketch (with the ridge rows ``sqrt(alpha)
I`` appended when ``alpha > 0``), or ``P = V_r Sigma_r^{-1}`` from the SVD of
``R`` when ``S A`` is numerically rank deficient.

The factorisation is CholeskyQR2 [1]_ when the sketch is well conditioned:
``R_1 = chol(M^T M)``, ``Q_1 = M R_1^{-1}``, ``R_2 = chol(Q_1^T Q_1)``, ``R =
R_2 R_1``: two Gram matrices and one triangular solve, ``3 m d^2`` flops
against Householder's ``2 m d^2``, but all in Level-3 BLAS and without
Householder's column-by-column panel and the SVD that followed it (measured
for a 4800 x 101 sketch, one thread: 35-43 ms for ``qr(mode="r")`` against
3 ms for the Gram matrix and its Cholesky factor; with two BLAS threads on a
loaded 2-core machine the QR's many thread barriers took it to 0.2-1 s). One CholeskyQR step loses
``u cond(M)^2`` of orthogonality and the second restores it to ``O(u)``
provided ``u d cond(M)^2 << 1`` ([1]_, Theorem 3.3); the step is therefore
taken only when LAPACK's condition estimate of ``R_1`` (``trcon``) is at
most ``0.1 / sqrt(u d)`` (about ``7e5`` for ``d = 100``), far inside the
full-rank range of :func:`randopt.sketch.numerical_rank`. Otherwise (or when
a Cholesky factorisation fails) it is Householder QR of ``M`` and the SVD of
``R``, as before: ill-conditioned and rank-deficient sketches get the
rank-revealing path.

:class:`NystromSplitPreconditioner`: for the ridge system ``H = A^T
A + alpha I`` with a randomized Nystrom approximation ``A^T A ~ U diag(lam)
U^T`` [2]_, ``P = U diag((lam + alpha)^{-1/2}) U^T + (lam_r + alpha)^{-1/2}
(I - U U^T)``, symmetric, so that ``P H P`` has its top eigenvalues near one
and the rest in ``[alpha / (lam_r + alpha), 1 + ||E|| / (lam_r + alpha)]``
(``E`` the approximation's error). The same CG as for the QR preconditioner
then runs on ``P H P y = P A^T b``, ``x = P y``.

References
----------
.. [1] T. Fukaya, Y. Nakatsukasa, Y. Yanagisawa and Y. Yamamoto, "CholeskyQR2:
       a simple and communication-avoiding algorithm for computing a tall-skinny
       QR factorization on a large-scale parallel system", ScalA (2014); Y.
       Yamamoto et al., "Roundoff error analysis of the CholeskyQR2 algorithm",
       ETNA 44 (2015).
.. [2] Z. Frangella, J. A. Tropp and M. Udell, "Randomized Nystrom
       preconditioning", SIAM J. Matrix Anal. Appl. 44 (2023), 718-752.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
from scipy.linalg.lapack import dtrcon

from .leverage import numerical_rank

__all__ = ["Preconditioner", "NystromSplitPreconditioner"]

_EPS = np.finfo(np.float64).eps
#: Entries of ``S A`` whose squares and sums stay normal floats (``2**-400 .. 2**400``).
_GRAM_SAFE = (2.0**-400, 2.0**400)


class Preconditioner:
    """``P`` (d x r) from a factorisation of the sketched (and ridge-augmented) matrix.

    With ``Sb`` given, the factorisation also yields ``Q^T S b`` (CholeskyQR2:
    ``R_2^{-T} Q_1^T S b``; Householder: the last columns of the ``R`` of
    ``[M | S b]``), so the sketch-and-solve solution ``y0`` comes without
    forming ``Q``. ``factorization`` says which path ran (``"cholesky_qr2"``
    or ``"householder"``).
    """

    def __init__(self, SA: np.ndarray, alpha: float, shape: tuple[int, int], Sb=None):
        self._SA, self._alpha = SA, alpha
        self._s: np.ndarray | None = None
        rhs = None if Sb is None else Sb.reshape(Sb.shape[0], -1)
        z = self._cholesky_qr2(SA, alpha, rhs)
        if z is None or not z[1]:
            z = self._householder(SA, alpha, shape, rhs)
        self.y0 = None
        if Sb is not None:
            y0 = z[0]
            self.y0 = y0[:, 0] if Sb.ndim == 1 else y0

    def _cholesky_qr2(self, SA, alpha, rhs):
        """``(Q^T S b, True)`` after CholeskyQR2 of ``[S A; sqrt(alpha) I]``; None if unsafe."""
        m, d = SA.shape
        if m < d:
            return None
        amax = float(np.abs(SA).max(initial=0.0))
        if not _GRAM_SAFE[0] < amax < _GRAM_SAFE[1] / np.sqrt(m * d):
            return None  # the Gram matrix would under- or overflow: Householder needs no squares
        G = SA.T @ SA  # NumPy calls syrk for a product with its own transpose
        if alpha:
            G[np.diag_indices(d)] += alpha
        if not np.isfinite(G).all():
            return None
        try:
            R1 = scipy.linalg.cholesky(G, lower=False, check_finite=False)
        except np.linalg.LinAlgError:
            return None
        rcond, info = dtrcon(R1, norm="1", uplo="U", diag="N")
        if info != 0 or not rcond * 0.1 >= np.sqrt(_EPS * d):
            return None
        # Q_1 = M R_1^{-1}; for the ridge rows sqrt(alpha) R_1^{-1} (d x d).
        Q1 = scipy.linalg.solve_triangular(R1, SA.T, trans="T", check_finite=False).T
        G2 = Q1.T @ Q1
        if alpha:
            Rinv = scipy.linalg.solve_triangular(R1, np.eye(d), check_finite=False)
            G2 += alpha * (Rinv.T @ Rinv)
        try:
            R2 = scipy.linalg.cholesky(G2, lower=False, check_finite=False)
        except np.linalg.LinAlgError:
            return None
        self.R = np.ascontiguousarray(np.triu(R2 @ R1))
        self.rank, self.full_rank = d, True
        self.factorization = "cholesky_qr2"
        z = None
        if rhs is not None:
            # Q^T [S b; 0] = R_2^{-T} Q_1^T S b (the ridge rows of [S b; 0] are zero).
            z = scipy.linalg.solve_triangular(R2, Q1.T @ rhs, trans="T", check_finite=False)
        return z, True

    def _householder(self, SA, alpha, shape, rhs):
        """Householder QR of ``[M | S b]``, and the SVD of ``R`` when it is rank deficient."""
        d = SA.shape[1]
        M = SA if alpha == 0 else np.vstack([SA, np.sqrt(alpha) * np.eye(d)])
        if rhs is not None:
            if alpha:
                rhs = np.vstack([rhs, np.zeros((d, rhs.shape[1]))])
            M = np.hstack([M, rhs])
        R_full = scipy.linalg.qr(M, mode="r", check_finite=False)[0]
        k = min(R_full.shape[0], d)
        R = R_full[:k, :d]
        # Singular values alone decide the rank; the vectors only when it is deficient.
        s = scipy.linalg.svd(R, compute_uv=False, check_finite=False)
        self.rank = numerical_rank(s, shape) if alpha == 0 else d
        self.full_rank = self.rank == d
        self.factorization = "householder"
        if self.full_rank:
            self.R = np.ascontiguousarray(R)
            Ur = None
        else:
            Ur, s, Vt = scipy.linalg.svd(R, check_finite=False)
            r = self.rank
            self.P = Vt[:r].T / s[:r]
            # y = P^+ x for x in range(P): y = Sigma_r V_r^T x.
            self.Pinv = Vt[:r] * s[:r, None]
        self._s = s
        if rhs is None:
            return None, True
        if alpha and 2.0 * alpha >= s[0] ** 2:
            # The ridge dominates (alpha >= ||S A||^2): in the QR of [S A; sqrt(alpha) I]
            # S A is lost below the rounding of sqrt(alpha) (the solution, about
            # (S A)^T S b / alpha, came out 0 for alpha >~ 1e32 ||S A||^2). There
            # cond(R)^2 <= 2, and the semi-normal equations R^T y = (S A)^T S b are
            # accurate: y = R x for x = (R^T R)^{-1} (S A)^T S b.
            z = scipy.linalg.solve_triangular(
                R, SA.T @ rhs[: SA.shape[0]], trans="T", check_finite=False
            )
        else:
            z = R_full[:k, d:]
            if not self.full_rank:
                z = Ur[:, : self.rank].T @ z
        return z, True

    @property
    def singular_values(self) -> np.ndarray:
        """Singular values of ``R`` (computed on first use on the CholeskyQR2 path)."""
        if self._s is None:
            self._s = scipy.linalg.svd(self.R, compute_uv=False, check_finite=False)
        return self._s

    @property
    def sketch_norm(self) -> float:
        """``||S A||`` (2-norm without a ridge, Frobenius with one): the IHS rounding floor."""
        if self._alpha == 0:
            return float(self.singular_values[0])
        return float(np.linalg.norm(self._SA))

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


class NystromSplitPreconditioner:
    """Split Nystrom preconditioner ``P = P^T`` of ``H = A^T A + alpha I`` (module docstring).

    Parameters
    ----------
    U : ndarray of shape (d, r)
        Orthonormal eigenvectors of the Nystrom approximation of ``A^T A``.
    eigenvalues : ndarray of shape (r,)
        Its eigenvalues ``lam``, non-increasing, ``>= 0``.
    alpha : float
        The ridge, ``> 0``.
    """

    full_rank = True
    factorization = "nystrom"

    def __init__(self, U: np.ndarray, eigenvalues: np.ndarray, alpha: float):
        d = U.shape[0]
        self.U = U
        self.nystrom_rank = int(U.shape[1])
        self.rank = d
        floor = (float(eigenvalues[-1]) if self.nystrom_rank else 0.0) + alpha
        root = np.sqrt(eigenvalues + alpha)
        self._rest = 1.0 / np.sqrt(floor)
        self._rest_inv = np.sqrt(floor)
        self._top = 1.0 / root - self._rest  # P = rest I + U diag(top) U^T
        self._top_inv = root - self._rest_inv  # P^{-1} = rest_inv I + U diag(top_inv) U^T
        self.y0 = None

    def _low_rank_plus_identity(self, v, scale, diag):
        Uv = self.U.T @ v
        return scale * v + self.U @ (diag * Uv if Uv.ndim == 1 else diag[:, None] * Uv)

    def apply(self, y):
        """``x = P y``."""
        return self._low_rank_plus_identity(y, self._rest, self._top)

    apply_t = apply  # P is symmetric

    def inverse(self, x):
        """``y = P^{-1} x``."""
        return self._low_rank_plus_identity(x, self._rest_inv, self._top_inv)

    def solve_sketched(self):
        """None: the iteration starts from ``y = 0``."""
        return self.y0
