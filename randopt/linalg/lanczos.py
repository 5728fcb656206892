"""The symmetric Lanczos process with full reorthogonalisation and restart on breakdown.

One implementation serves every Krylov user of randopt: the Hessian spectra
and the 2->q norm of :mod:`randopt.norms` (one run, then Ritz values and an
a-posteriori bound, :mod:`randopt.linalg.bounds`) and the GLTR-type
sub-problem solver of :mod:`randopt.optimize` (a basis grown one product at a
time and reused across radii).

The process (Lanczos [1]_; Golub and Van Loan [3]_, section 10.1) builds an
orthonormal basis ``Q_k`` of the Krylov space ``K_k(B, q_1)`` of a symmetric
``B`` given only by its products, with ``Q_k^T B Q_k = T_k`` tridiagonal
(diagonal ``alpha``, off-diagonal ``beta``).  Every new vector is
reorthogonalised against the whole basis (classical Gram-Schmidt, twice, or
a second pass only when the first lost most of the norm: "twice is enough",
Parlett), so that ``Q_k`` stays orthonormal to rounding and a *breakdown*
(``beta_k`` at rounding level: ``K_k`` is an invariant subspace) is
detectable.  On breakdown the process either stops (its Ritz values are then
eigenvalues of ``B`` up to rounding) or restarts from a random vector
orthogonal to ``Q_k`` (``T_k`` then has a zero coupling).  Paige [2]_: the
computed recurrence is an exact one for a matrix within ``O(k eps ||B||)``
of ``B``, the rounding margin that bounds built on it add.

References
----------
.. [1] C. Lanczos, "An iteration method for the solution of the eigenvalue
       problem of linear differential and integral operators", J. Res. Nat.
       Bur. Standards 45 (1950).
.. [2] C. C. Paige, "Accuracy and effectiveness of the Lanczos algorithm for
       the symmetric eigenproblem", Linear Algebra Appl. 34 (1980).
.. [3] G. H. Golub and C. F. Van Loan, "Matrix computations", 4th ed., Johns
       Hopkins (2013), sections 10.1-10.3.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.linalg import eigh_tridiagonal

from .._validation import check_bool, check_random_state, check_scalar, check_vector
from .bounds import EPS

__all__ = ["Lanczos", "LanczosResult", "lanczos", "reorthogonalize", "ritz_values"]

_REORTHOGONALIZATIONS = ("twice", "when_needed")


def reorthogonalize(basis: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``w`` minus its projection on the rows of ``basis`` (classical Gram-Schmidt, twice).

    Parameters
    ----------
    basis : ndarray of shape (k, d)
        Orthonormal rows.
    w : ndarray of shape (d,)
        Overwritten with the result.

    Returns
    -------
    ndarray
        ``w`` itself.

    References
    ----------
    .. [1] G. H. Golub and C. F. Van Loan, "Matrix computations", 4th ed. (2013),
           section 5.2.8.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.linalg import reorthogonalize
    >>> reorthogonalize(np.eye(3)[:1], np.ones(3)).tolist()
    [0.0, 1.0, 1.0]
    """
    # Small projections run through einsum: a multi-threaded BLAS call costs more in
    # thread wake-ups than the arithmetic below about 10**5 entries.
    small = basis.size < 200_000
    for _ in range(2):
        if small:
            w -= np.einsum("kd,k->d", basis, np.einsum("kd,d->k", basis, w))
        else:
            w -= basis.T @ (basis @ w)
    return w


def ritz_values(alpha: np.ndarray, beta: np.ndarray, vectors: bool = False) -> Any:
    """Eigenvalues (ascending) and optionally eigenvectors of a Lanczos tridiagonal.

    Parameters
    ----------
    alpha : ndarray of shape (k,)
        Diagonal.
    beta : ndarray of shape (k,) or (k - 1,)
        Off-diagonal (a k-th entry, the residual norm, is ignored).
    vectors : bool, default=False
        Also return the eigenvectors (columns).

    Returns
    -------
    ndarray or (ndarray, ndarray)

    References
    ----------
    .. [1] G. H. Golub and C. F. Van Loan, "Matrix computations", 4th ed. (2013),
           section 10.1.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.linalg import ritz_values
    >>> ritz_values(np.array([2.0, 2.0]), np.array([1.0, 0.0])).tolist()
    [1.0, 3.0]
    """
    alpha = np.asarray(alpha, dtype=np.float64)
    k = alpha.shape[0]
    if k == 1:
        vals = alpha.copy()
        return (vals, np.ones((1, 1))) if vectors else vals
    off = np.asarray(beta, dtype=np.float64)[: k - 1]
    if vectors:
        return eigh_tridiagonal(alpha, off)
    return eigh_tridiagonal(alpha, off, eigvals_only=True)


@dataclass(frozen=True)
class LanczosResult:
    """Outcome of :func:`lanczos`: the tridiagonal, the basis and what ended the run.

    Attributes
    ----------
    alpha : ndarray of shape (k,)
        Diagonal of ``T_k``.
    beta : ndarray of shape (k,)
        ``beta[j]`` couples ``q_j`` and ``q_(j+1)``; ``beta[k-1]`` is the norm
        of the last residual (0 after a breakdown).
    basis : ndarray of shape (k, d)
        The Lanczos vectors as rows.
    log_gamma : float
        ``sum log beta`` of the current block: ``log ||p_k(B) q_1||`` for the
        monic Lanczos polynomial ``p_k`` (``-inf`` after a breakdown).
    n_matvec : int
        Products with ``B``.
    n_restarts : int
        Restarts after a breakdown.
    breakdown : bool
        The run ended on an invariant subspace.
    """

    alpha: np.ndarray
    beta: np.ndarray
    basis: np.ndarray
    log_gamma: float
    n_matvec: int
    n_restarts: int
    breakdown: bool

    def ritz(self, vectors: bool = False) -> Any:
        """Ritz values (ascending) and optionally the eigenvectors of ``T_k``.

        Parameters
        ----------
        vectors : bool, default=False

        Returns
        -------
        ndarray or (ndarray, ndarray)
            As :func:`ritz_values`.
        """
        return ritz_values(self.alpha, self.beta, vectors=vectors)

    def __getitem__(self, key: str) -> Any:
        # The run used to be a dict ("nmatvec" included); read-only access stays.
        if key == "nmatvec":
            return self.n_matvec
        return getattr(self, key)


class Lanczos:
    """The Lanczos process on a symmetric operator, grown one product at a time.

    Parameters
    ----------
    matvec : callable
        ``matvec(v) -> B v`` for a symmetric ``B`` of order ``dim`` (float64).
    dim : int
        Order of ``B``.
    max_iter : int, optional
        Largest basis (default and cap: ``dim``).
    start : ndarray of shape (dim,), optional
        First direction (normalised here); None or a zero vector: a random one.
    random_state : None, int or numpy.random.Generator
        Source of the random start and of the restart vectors.
    restart : bool, default=False
        On breakdown, continue from a random vector orthogonal to the basis
        (else the process is exhausted).
    breakdown_tol : float, optional
        Breakdown when the residual norm is at most ``breakdown_tol * scale``
        (``scale`` a running estimate of ``||B||``).  None: the rounding level
        ``64 eps sqrt(k) scale``.
    reorthogonalization : {"twice", "when_needed"}, default="twice"
        Classical Gram-Schmidt twice at every step (scale: ``max |alpha| + beta``),
        or a second pass only when the first kept less than 70% of the norm
        (scale: ``max(|alpha|, ||B q||)``).
    project : callable, optional
        Maps each product back onto an invariant subspace the run must stay in.

    Attributes
    ----------
    k : int
        Current basis size.
    alpha, beta, basis : ndarray
        Full-size buffers; the first ``k`` entries/rows are the run.
    residual : ndarray or None
        The unnormalised next Lanczos vector.
    residual_norm : float
    scale : float
    n_restarts, n_matvec : int
    exhausted : bool
        No further step is possible.

    References
    ----------
    .. [1] C. Lanczos, J. Res. Nat. Bur. Standards 45 (1950).
    .. [2] C. C. Paige, Linear Algebra Appl. 34 (1980).
    .. [3] G. H. Golub and C. F. Van Loan, "Matrix computations", 4th ed. (2013),
           section 10.1.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.linalg import Lanczos
    >>> proc = Lanczos(np.diag([1.0, 2.0, 5.0]).dot, 3, start=np.ones(3), restart=True)
    >>> while proc.extend():
    ...     pass
    >>> proc.k, round(float(proc.ritz()[-1]), 12)
    (3, 5.0)
    """

    def __init__(
        self,
        matvec: Callable[[np.ndarray], np.ndarray],
        dim: int,
        *,
        max_iter: int | None = None,
        start: np.ndarray | None = None,
        random_state: Any = None,
        restart: bool = False,
        breakdown_tol: float | None = None,
        reorthogonalization: str = "twice",
        project: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> None:
        if reorthogonalization not in _REORTHOGONALIZATIONS:
            raise ValueError(
                f"reorthogonalization must be one of {_REORTHOGONALIZATIONS}, "
                f"got {reorthogonalization!r}"
            )
        if not callable(matvec):
            raise TypeError(f"matvec must be callable, got {type(matvec).__name__}")
        self.matvec = matvec
        self.dim = check_scalar(dim, "dim", kind=int, low=0)
        max_iter = check_scalar(max_iter, "max_iter", kind=int, low=0, allow_none=True)
        if start is not None:
            start = check_vector(start, "start", size=self.dim)
        self.kmax = self.dim if max_iter is None else min(max_iter, self.dim)
        self.rng = random_state if isinstance(random_state, np.random.Generator) else None
        self._random_state = random_state
        if project is not None and not callable(project):
            raise TypeError(f"project must be callable or None, got {type(project).__name__}")
        self.restart = check_bool(restart, "restart")
        self.breakdown_tol = check_scalar(breakdown_tol, "breakdown_tol", low=0,
                                          allow_none=True)
        self.twice = reorthogonalization == "twice"
        self.project = project
        self.basis = np.empty((self.kmax, self.dim))
        self.alpha = np.empty(self.kmax)
        self.beta = np.zeros(self.kmax)
        self.k = 0
        self.residual: np.ndarray | None = None
        self.residual_norm = 0.0
        self.scale = 0.0
        self.log_gamma = 0.0
        self.n_restarts = 0
        self.n_matvec = 0
        self.exhausted = self.kmax == 0
        self._start = start

    # -- the process ------------------------------------------------------------------ #
    def _generator(self) -> np.random.Generator:
        if self.rng is None:
            self.rng = check_random_state(self._random_state)
        return self.rng

    def random_orthogonal(self) -> np.ndarray | None:
        """A random unit vector orthogonal to the basis (None when none is found).

        Returns
        -------
        ndarray or None
        """
        d = self.dim
        for _ in range(3):
            v = self._generator().standard_normal(d)
            if self.k:
                Q = self.basis[: self.k]
                v -= Q.T @ (Q @ v)
                v -= Q.T @ (Q @ v)
            nv = float(np.linalg.norm(v))
            if nv > 1e-8 * math.sqrt(d):
                return v / nv
        return None

    def is_breakdown(self) -> bool:
        """Whether the current residual is at the breakdown level (an invariant subspace).

        Returns
        -------
        bool
        """
        if self.k == 0:
            return False
        if self.breakdown_tol is None:
            tol = 64 * EPS * math.sqrt(self.k)
        else:
            tol = self.breakdown_tol
        return self.residual_norm <= tol * max(self.scale, 1e-300)

    def extend(self) -> bool:
        """One Lanczos step (one product); False when the process is exhausted.

        Returns
        -------
        bool
        """
        k = self.k
        if self.exhausted or k >= self.kmax:
            self.exhausted = True
            return False
        if k == 0:
            q = self._start
            nq = 0.0 if q is None else float(np.linalg.norm(q))
            q = self.random_orthogonal() if nq == 0.0 else np.asarray(q, np.float64) / nq
        elif self.is_breakdown():
            self.beta[k - 1] = 0.0
            if not self.restart:
                self.exhausted = True
                return False
            self.n_restarts += 1
            self.log_gamma = 0.0
            q = self.random_orthogonal()
        else:
            self.beta[k - 1] = self.residual_norm
            q = self.residual / self.residual_norm
        if q is None:
            self.exhausted = True
            return False
        self.basis[k] = q
        v = self.matvec(q)
        if type(v) is not np.ndarray or v.dtype != np.float64 or v.ndim != 1:
            v = np.asarray(v, dtype=np.float64).ravel()
        self.n_matvec += 1
        if self.project is not None:
            v = self.project(v)
        a = float(q @ v)
        self.alpha[k] = a
        Q = self.basis[: k + 1]
        if self.twice:
            r = reorthogonalize(Q, v)
            rnorm = float(np.linalg.norm(r))
            self.scale = max(self.scale, abs(a) + rnorm)
        else:
            r = v - Q.T @ (Q @ v)
            vv = float(v @ v)
            rr = float(r @ r)
            if rr < 0.49 * vv:  # the first pass lost most of the norm: a second one
                r -= Q.T @ (Q @ r)
                rr = float(r @ r)
            rnorm = math.sqrt(rr)
            self.scale = max(self.scale, abs(a), math.sqrt(vv))
        self.residual = r
        self.residual_norm = rnorm
        self.beta[k] = rnorm
        self.k = k = k + 1
        # is_breakdown(), inlined: this runs once per product
        tol = 64 * EPS * math.sqrt(k) if self.breakdown_tol is None else self.breakdown_tol
        if rnorm <= tol * max(self.scale, 1e-300):
            self.log_gamma = -math.inf
        else:
            self.log_gamma += math.log(rnorm)
        return True

    def ritz(self, vectors: bool = False) -> Any:
        """Ritz values (ascending) and optionally eigenvectors of the current ``T_k``.

        Parameters
        ----------
        vectors : bool, default=False

        Returns
        -------
        ndarray or (ndarray, ndarray)
        """
        return ritz_values(self.alpha[: self.k], self.beta[: self.k], vectors=vectors)

    def result(self) -> LanczosResult:
        """The run so far as a :class:`LanczosResult`.

        Returns
        -------
        LanczosResult
        """
        k = self.k
        broken = self.is_breakdown()
        beta = self.beta[:k].copy()
        if broken and k:
            beta[-1] = 0.0
        return LanczosResult(
            alpha=self.alpha[:k].copy(), beta=beta, basis=self.basis[:k],
            log_gamma=self.log_gamma, n_matvec=self.n_matvec, n_restarts=self.n_restarts,
            breakdown=broken,
        )


def lanczos(
    matvec: Callable[[np.ndarray], np.ndarray],
    start: np.ndarray | None,
    max_iter: int,
    *,
    dim: int | None = None,
    project: Callable[[np.ndarray], np.ndarray] | None = None,
    stop: Callable[[np.ndarray, np.ndarray, float], bool] | None = None,
    restart: bool = False,
    random_state: Any = None,
) -> LanczosResult:
    """Run the symmetric Lanczos process (full reorthogonalisation) from ``start``.

    Parameters
    ----------
    matvec : callable
        ``matvec(v) -> B v`` for a symmetric ``B``.
    start : ndarray of shape (d,) or None
        Start vector (normalised here); None: a random one (``dim`` required).
    max_iter : int
        Largest number of steps (capped at ``d``).
    dim : int, optional
        Order of ``B`` (default: ``start``'s length).
    project : callable, optional
        Maps each product back onto an invariant subspace the run must stay in.
    stop : callable, optional
        ``stop(alpha, beta, log_gamma) -> bool``, called after each step that
        did not break down; True ends the run.
    restart : bool, default=False
        Restart on breakdown from a random vector orthogonal to the basis
        (else the run ends there, with ``log_gamma = -inf``).
    random_state : None, int or numpy.random.Generator
        Source of a random start and of restarts.

    Returns
    -------
    LanczosResult

    References
    ----------
    .. [1] C. Lanczos, J. Res. Nat. Bur. Standards 45 (1950).
    .. [2] C. C. Paige, Linear Algebra Appl. 34 (1980).
    .. [3] G. H. Golub and C. F. Van Loan, "Matrix computations", 4th ed. (2013),
           section 10.1.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.linalg import lanczos
    >>> run = lanczos(np.diag([1.0, 2.0, 4.0]).dot, np.ones(3), 3)
    >>> run.n_matvec, np.round(run.ritz(), 10).tolist()
    (3, [1.0, 2.0, 4.0])
    """
    if dim is None:
        if start is None:
            raise ValueError("lanczos needs `dim` when `start` is None")
        dim = np.shape(start)[0]
    proc = Lanczos(matvec, dim, max_iter=max_iter, start=start, random_state=random_state,
                   restart=restart, project=project)
    while proc.extend():
        if proc.is_breakdown():
            if restart and proc.k < proc.kmax:
                continue
            break
        if stop is not None and stop(proc.alpha[: proc.k], proc.beta[: proc.k],
                                     proc.log_gamma):
            break
    return proc.result()
