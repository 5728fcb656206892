"""Randomized Nystrom approximation and preconditioning of a positive semi-definite operator.

For ``H = A + mu I`` with ``A`` symmetric positive semi-definite and
``mu >= 0`` (a regularised Hessian, a ridge system), a rank-``r`` Nystrom
approximation ``A ~ U diag(lam) U^T`` is built from ``r`` products with a
Gaussian test matrix (Frangella, Tropp and Udell [1]_, Algorithm 2.1, the
stable form: a shift ``nu`` of the order of the rounding error, a Cholesky
factor of the small core matrix, an SVD of a ``d x r`` matrix, the shift
removed again). The preconditioner is

    P^{-1} = (lam_r + mu) U (diag(lam) + mu I)^{-1} U^T + (I - U U^T),

applied in ``O(d r)`` per vector. It maps the top ``r`` eigen-directions of
``H`` to ``lam_r + mu`` and leaves the rest alone, so that ([1]_,
Proposition 5.3, deterministic)

    kappa(P^{-1/2} H P^{-1/2}) <= (lam_r + mu + ||A - A_nys||) / mu,

and, for ``r >= 2 ceil(1.5 d_eff(mu)) + 1`` with ``d_eff(mu) = tr(A (A +
mu I)^{-1})``, ``E[kappa] < 28`` ([1]_, Theorem 5.1): preconditioned CG then
takes a number of iterations independent of the conditioning of ``H``. When
``rank="auto"`` the rank doubles (the sketch grown, not redrawn: [1]_,
Algorithm 5.1) until ``lam_r / mu <= rank_tol`` (the a-posteriori
criterion of [1]_, section 5.4.2: then ``kappa <= 1 + rank_tol +
||A - A_nys|| / mu``), or, with ``criterion="error"``, until a power
iteration's estimate of ``||A - A_nys||`` (the bound's last term; the
power method approaches it from below, [1]_ Algorithm E.1) is at most
``rank_tol mu``.

References
----------
.. [1] Z. Frangella, J. A. Tropp and M. Udell, "Randomized Nystrom
       preconditioning", SIAM J. Matrix Anal. Appl. 44 (2023), 718-752.
.. [2] J. A. Tropp, A. Yurtsever, M. Udell and V. Cevher, "Fixed-rank
       approximation of a positive-semidefinite matrix from streaming
       data", NeurIPS (2017) (the stable shifted Nystrom approximation).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse
from scipy.sparse.linalg import LinearOperator

from .._validation import check_random_state, check_scalar
from .power import power_iteration

__all__ = ["NystromPreconditioner", "nystrom_approximation"]

_EPS = np.finfo(np.float64).eps


def _as_block_product(operator: Any, dim: int | None) -> tuple[Callable, int]:
    """``(matmat, d)`` for an array, a sparse matrix, a ``LinearOperator`` or a matvec."""
    if isinstance(operator, (np.ndarray, LinearOperator)) or scipy.sparse.issparse(operator):
        shape = operator.shape
        if len(shape) != 2 or shape[0] != shape[1] or shape[0] < 1:
            raise ValueError(f"operator must be square (d, d) with d >= 1, got shape {shape}")
        if getattr(operator, "dtype", np.dtype(np.float64)).kind not in "fiu":
            raise TypeError(f"operator must be real, got dtype {operator.dtype}")
        if dim is not None and dim != shape[0]:
            raise ValueError(f"dim={dim!r} does not match the operator's shape {shape}")
        if isinstance(operator, LinearOperator):
            return (lambda V: np.asarray(operator.matmat(V), dtype=np.float64)), int(shape[0])
        return (lambda V: np.asarray(operator @ V, dtype=np.float64)), int(shape[0])
    if not callable(operator):
        raise TypeError(
            "operator must be a square array, a sparse matrix, a LinearOperator or a callable "
            f"matvec(v) -> A v; got {type(operator).__name__}"
        )
    if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, numbers.Integral) or dim < 1:
        raise ValueError(f"dim must be a positive int when operator is a callable, got {dim!r}")
    d = int(dim)

    def matmat(V: np.ndarray) -> np.ndarray:
        out = np.empty_like(V)
        for j in range(V.shape[1]):
            col = np.asarray(operator(V[:, j]), dtype=np.float64)
            if col.shape != (d,):
                raise ValueError(f"operator(v) returned shape {col.shape}, expected ({d},)")
            out[:, j] = col
        return out

    return matmat, d


class _Sketch:
    """The growing sketch ``(Omega, Y = A Omega)`` of [1]_ Algorithm 5.1."""

    def __init__(self, matmat: Callable, d: int, shift: float, rng: np.random.Generator):
        self.matmat, self.d, self.shift, self.rng = matmat, d, shift, rng
        self.Omega = np.empty((d, 0))
        self.Y = np.empty((d, 0))
        self.n_products = 0

    def grow(self, m: int) -> None:
        G = self.rng.standard_normal((self.d, m))
        if self.Omega.shape[1]:  # new columns orthogonal to the old ones
            G -= self.Omega @ (self.Omega.T @ G)
        Q, _ = np.linalg.qr(G)
        HQ = self.matmat(Q)
        self.n_products += m
        if not np.isfinite(HQ).all():
            raise ValueError("the operator's products contain NaN or infinity")
        # A Q = H Q - mu Q: no product more for the shift
        self.Omega = np.hstack([self.Omega, Q])
        self.Y = np.hstack([self.Y, HQ - self.shift * Q if self.shift else HQ])

    def approximation(self) -> tuple[np.ndarray, np.ndarray]:
        """``(U, lam)`` of the Nystrom approximation from the sketch so far ([1]_ Alg. 2.1)."""
        Omega, Y = self.Omega, self.Y
        # nu of the order of the rounding of Y (and of the shift's subtraction); the
        # Frobenius norm bounds [1]_'s ||Y||_2 from above at O(d r), not an SVD's O(d r^2)
        nu = math.sqrt(self.d) * _EPS * (float(np.linalg.norm(Y)) + self.shift)
        nu = max(nu, _EPS * _EPS)
        Y_nu = Y + nu * Omega
        core = Omega.T @ Y_nu
        core = 0.5 * (core + core.T)
        try:
            C = np.linalg.cholesky(core)  # core = C C^T
        except np.linalg.LinAlgError:
            raise ValueError(
                "the operator is not positive semi-definite on the sketch (the Cholesky "
                "factorisation of Omega^T A Omega failed); a Nystrom preconditioner needs "
                "H - shift I positive semi-definite"
            ) from None
        B = scipy.linalg.solve_triangular(C, Y_nu.T, lower=True).T  # Y_nu C^{-T}
        U, sigma, _ = np.linalg.svd(B, full_matrices=False)
        lam = np.maximum(sigma * sigma - nu, 0.0)
        return U, lam


def nystrom_approximation(
    operator: Any,
    rank: int,
    *,
    dim: int | None = None,
    shift: float = 0.0,
    random_state: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Randomized rank-``r`` Nystrom approximation ``A ~ U diag(lam) U^T`` from products.

    Parameters
    ----------
    operator : ndarray, sparse matrix, LinearOperator or callable
        ``H = A + shift I``, symmetric, with ``A`` positive semi-definite;
        a callable is ``v -> H v`` (then ``dim`` is required).
    rank : int
        Sketch size ``r`` (``1 <= r <= d``); ``r`` products with ``H``.
    dim : int, optional
        ``d``, for a callable ``operator``.
    shift : float, default=0.0
        ``mu >= 0``: the approximation is of ``A = H - mu I``.
    random_state : None, int or numpy.random.Generator
        Source of the Gaussian test matrix.

    Returns
    -------
    U : ndarray of shape (d, r)
        Orthonormal eigenvectors of the approximation.
    lam : ndarray of shape (r,)
        Its eigenvalues, non-increasing and ``>= 0``.

    Raises
    ------
    ValueError
        If ``A`` is not positive semi-definite on the sketch (the Cholesky
        factorisation of the core matrix fails), or the products are not finite.

    References
    ----------
    .. [1] Z. Frangella, J. A. Tropp and M. Udell, "Randomized Nystrom
           preconditioning", SIAM J. Matrix Anal. Appl. 44 (2023), Algorithm 2.1.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> G = rng.standard_normal((50, 3)); A = G @ G.T  # rank 3
    >>> U, lam = nystrom_approximation(A, 5, random_state=0)
    >>> bool(np.allclose(U @ np.diag(lam) @ U.T, A, atol=1e-10 * np.abs(A).max()))
    True
    """
    matmat, d = _as_block_product(operator, dim)
    rank = check_scalar(rank, "rank", kind=int, low=1)
    if rank > d:
        raise ValueError(f"rank must be at most the dimension d={d}, got {rank}")
    shift = check_scalar(shift, "shift", low=0.0)
    sketch = _Sketch(matmat, d, shift, check_random_state(random_state))
    sketch.grow(rank)
    return sketch.approximation()


class NystromPreconditioner:
    """The randomized Nystrom preconditioner of ``H = A + mu I`` ([1]_).

    ``P^{-1} r = (lam_r + mu) U (diag(lam) + mu I)^{-1} U^T r + (I - U U^T) r``;
    calling the object applies ``P^{-1}`` (the ``precondition`` hook of
    :func:`randopt.linalg.conjugate_gradient`). Build it from products with
    :meth:`from_operator` (fixed or adaptive rank), or from a known
    eigen-decomposition with the constructor.

    Parameters
    ----------
    U : ndarray of shape (d, r)
        Orthonormal columns (``r`` may be 0: the identity).
    eigenvalues : ndarray of shape (r,)
        ``lam``, non-negative, non-increasing.
    shift : float, default=0.0
        ``mu >= 0``. With ``mu = 0`` the eigenvalues must be positive (the
        approximation of ``H`` itself, which must then be positive definite).

    Attributes
    ----------
    rank : int
        ``r``.
    n_products : int
        Products with ``H`` spent building it (0 from the constructor).
    error_estimate : float
        The power-iteration estimate of ``||A - A_nys||`` when
        ``criterion="error"`` built it, else NaN.

    References
    ----------
    .. [1] Z. Frangella, J. A. Tropp and M. Udell, "Randomized Nystrom
           preconditioning", SIAM J. Matrix Anal. Appl. 44 (2023), 718-752,
           eq. (5.3), Algorithms 2.1 and 5.1, Proposition 5.3, Theorem 5.1.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.linalg import NystromPreconditioner, conjugate_gradient
    >>> rng = np.random.default_rng(0)
    >>> Q, _ = np.linalg.qr(rng.standard_normal((300, 300)))
    >>> A = (Q * 0.5 ** np.arange(300)) @ Q.T          # fast spectral decay
    >>> H = A + 1e-6 * np.eye(300); b = rng.standard_normal(300)
    >>> P = NystromPreconditioner.from_operator(H, shift=1e-6, random_state=0)
    >>> plain = conjugate_gradient(lambda v: H @ v, b, rtol=1e-8)
    >>> pcg = conjugate_gradient(lambda v: H @ v, b, rtol=1e-8, precondition=P)
    >>> pcg.nit < plain.nit // 2, P.rank <= 64
    (True, True)
    """

    def __init__(self, U: Any, eigenvalues: Any, shift: float = 0.0) -> None:
        U = np.asarray(U)
        lam = np.asarray(eigenvalues)
        if U.ndim != 2 or U.dtype.kind not in "fiu":
            raise TypeError(f"U must be a real 2-D array, got dtype {U.dtype}, shape {U.shape}")
        if lam.ndim != 1 or lam.dtype.kind not in "fiu" or lam.shape[0] != U.shape[1]:
            raise ValueError(
                f"eigenvalues must be a real vector of length U.shape[1]={U.shape[1]}, got "
                f"shape {lam.shape}"
            )
        U, lam = U.astype(np.float64), lam.astype(np.float64)
        if not (np.isfinite(U).all() and np.isfinite(lam).all()):
            raise ValueError("U and eigenvalues must be finite")
        if (lam < 0).any():
            raise ValueError("eigenvalues must be >= 0 (A is positive semi-definite)")
        self.shift = check_scalar(shift, "shift", low=0.0)
        if self.shift == 0.0:  # P^{-1} divides by lam: keep the positive part only
            keep = lam > _EPS * max(float(lam.max(initial=0.0)), _EPS) * max(U.shape[0], 1)
            U, lam = U[:, keep], lam[keep]
        order = np.argsort(-lam, kind="stable")
        self.U, self.eigenvalues = U[:, order], lam[order]
        self.rank = int(lam.shape[0])
        self.n_products = 0
        self.error_estimate = math.nan
        if self.rank:
            floor = self.eigenvalues[-1] + self.shift
            self._scale = floor / (self.eigenvalues + self.shift) - 1.0
        else:
            self._scale = np.empty(0)

    @property
    def dim(self) -> int:
        """``d``, the order of the operator."""
        return int(self.U.shape[0])

    @classmethod
    def from_operator(
        cls,
        operator: Any,
        *,
        dim: int | None = None,
        shift: float = 0.0,
        rank: int | str = "auto",
        initial_rank: int = 16,
        max_rank: int | None = None,
        rank_tol: float = 10.0,
        criterion: str = "eigenvalue",
        random_state: Any = None,
    ) -> NystromPreconditioner:
        """Build the preconditioner from products with ``H`` (fixed or adaptive rank).

        Parameters
        ----------
        operator : ndarray, sparse matrix, LinearOperator or callable
            ``H = A + shift I`` (a callable: ``v -> H v``, with ``dim``).
        dim : int, optional
            ``d`` for a callable ``operator``.
        shift : float, default=0.0
            ``mu >= 0``, the known regularisation in ``H`` (e.g. the L2
            penalty of a regularised loss). ``rank="auto"`` needs ``mu > 0``.
        rank : int or "auto", default="auto"
            A fixed sketch size ``1 <= r <= d``, or ``"auto"``: start at
            ``initial_rank`` and double (the sketch grows, [1]_ Algorithm 5.1)
            until the criterion holds or ``max_rank`` is reached.
        initial_rank : int, default=16
            First sketch size of ``"auto"`` (>= 1; capped at ``max_rank``).
        max_rank : int, optional
            Largest sketch size of ``"auto"`` (default ``min(d, 512)``).
        rank_tol : float, default=10.0
            ``"auto"`` stops when ``lam_r / mu <= rank_tol`` (``criterion=
            "eigenvalue"``, no extra products), or when the power-iteration
            estimate of ``||A - A_nys|| / mu <= rank_tol`` (``criterion="error"``,
            20 products at most per estimate). Either way ``kappa`` of the
            preconditioned operator is about ``1 + rank_tol`` or less
            ([1]_, Proposition 5.3). (> 0.)
        criterion : {"eigenvalue", "error"}, default="eigenvalue"
            The stopping test of ``"auto"``.
        random_state : None, int or numpy.random.Generator
            Source of the Gaussian test matrices (and the power iteration's start).

        Returns
        -------
        NystromPreconditioner
            With ``n_products`` the products spent.

        Raises
        ------
        ValueError
            For an operator that is not positive semi-definite after the
            shift, or invalid options.

        Examples
        --------
        Exact for a rank at least the rank of ``A``: ``P^{-1} H = mu I``.

        >>> import numpy as np
        >>> G = np.random.default_rng(1).standard_normal((40, 4)); H = G @ G.T + np.eye(40)
        >>> P = NystromPreconditioner.from_operator(H, shift=1.0, rank=8, random_state=0)
        >>> bool(np.allclose(P.toarray() @ H, np.eye(40), atol=1e-8))
        True
        """
        matmat, d = _as_block_product(operator, dim)
        shift = check_scalar(shift, "shift", low=0.0)
        if not (isinstance(rank, str) and rank == "auto"):
            rank = check_scalar(rank, "rank", kind=int, low=1)
        initial_rank = check_scalar(initial_rank, "initial_rank", kind=int, low=1)
        max_rank = min(d, 512) if max_rank is None else check_scalar(max_rank, "max_rank",
                                                                     kind=int, low=1)
        rank_tol = check_scalar(rank_tol, "rank_tol", low=0.0, low_inclusive=False)
        if criterion not in ("eigenvalue", "error"):
            raise ValueError(
                f"criterion must be 'eigenvalue' or 'error', got {criterion!r}")
        if rank == "auto" and shift == 0.0:
            raise ValueError(
                "rank='auto' needs shift > 0 (the mu of H = A + mu I that its criterion "
                "lam_r / mu compares to); give an int rank for shift=0")
        if rank != "auto" and rank > d:
            raise ValueError(f"rank must be at most the dimension d={d}, got {rank}")
        rng = check_random_state(random_state)
        sketch = _Sketch(matmat, d, shift, rng)
        target = rank if rank != "auto" else min(initial_rank, max_rank, d)
        error = math.nan
        while True:
            sketch.grow(target - sketch.Omega.shape[1])
            U, lam = sketch.approximation()
            if rank != "auto":
                break
            if criterion == "eigenvalue":
                done = lam[-1] <= rank_tol * shift
            else:
                error, spent = _error_norm(matmat, U, lam, shift, d, rng)
                sketch.n_products += spent
                done = error <= rank_tol * shift
            if done or target >= min(max_rank, d):
                break
            target = min(2 * target, max_rank, d)
        out = cls(U, lam, shift)
        out.n_products = sketch.n_products
        out.error_estimate = error
        return out

    def __call__(self, r: np.ndarray) -> np.ndarray:
        """``P^{-1} r`` (a vector of length ``d``, or a ``(d, k)`` block)."""
        if not self.rank:
            return np.array(r, dtype=np.float64)
        Ur = self.U.T @ r
        scaled = self._scale * Ur if Ur.ndim == 1 else self._scale[:, None] * Ur
        return r + self.U @ scaled

    def toarray(self) -> np.ndarray:
        """``P^{-1}`` as a dense ``d x d`` array (for tests and small problems).

        Returns
        -------
        ndarray of shape (d, d)
            The inverse preconditioner.

        Examples
        --------
        >>> import numpy as np
        >>> P = NystromPreconditioner(np.eye(3)[:, :1], [3.0], shift=1.0)
        >>> np.diag(P.toarray()).tolist()
        [1.0, 1.0, 1.0]
        """
        return self(np.eye(self.dim))

    def condition_bound(self, error_norm: float) -> float:
        """The bound ``(lam_r + mu + ||A - A_nys||) / mu`` of [1]_ Proposition 5.3.

        Parameters
        ----------
        error_norm : float
            ``||A - A_nys||`` (exact, or an estimate such as ``error_estimate``).

        Returns
        -------
        float
            The bound on ``kappa(P^{-1/2} H P^{-1/2})`` (inf when ``mu = 0``).

        Examples
        --------
        >>> import numpy as np
        >>> NystromPreconditioner(np.eye(2)[:, :1], [9.0], shift=1.0).condition_bound(0.0)
        10.0
        """
        if self.shift == 0.0:
            return math.inf
        lam_r = float(self.eigenvalues[-1]) if self.rank else 0.0
        return (lam_r + self.shift + float(error_norm)) / self.shift

    def __repr__(self) -> str:
        return (f"NystromPreconditioner(dim={self.dim}, rank={self.rank}, "
                f"shift={self.shift:g}, n_products={self.n_products})")


def _error_norm(matmat: Callable, U: np.ndarray, lam: np.ndarray, shift: float, d: int,
                rng: np.random.Generator) -> tuple[float, int]:
    """``(||A - U diag(lam) U^T|| estimated, products)``: power iteration on the error.

    The error ``E = A - A_nys`` is positive semi-definite ([1]_ Lemma A.1), so
    the power method's Rayleigh quotients rise to ``||E||``; 20 steps at most.
    """

    def error_matvec(v: np.ndarray) -> np.ndarray:
        Av = matmat(v[:, None])[:, 0] - shift * v
        return Av - U @ (lam * (U.T @ v))

    res = power_iteration(error_matvec, dim=d, tol=1e-2, max_iter=20, random_state=rng)
    return float(max(res.eigenvalue, 0.0)), int(res.n_matvec)
