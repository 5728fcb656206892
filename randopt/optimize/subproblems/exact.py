"""Exact (global) solutions of the trust-region and cubic sub-problems.

With the eigendecomposition ``H = V diag(lam) V^T`` and ``gt = V^T g`` both
sub-problems reduce to a scalar secular equation in the multiplier ``mu``:
``s(mu) = -(H + mu I)^{-1} g`` with ``mu >= max(0, -lam_min)`` and

* trust region: ``||s(mu)|| = radius`` (or ``mu = 0`` inside the region);
* cubic regularisation: ``||s(mu)|| = mu / sigma``,

both characterised as global minimisers by ``H + mu I >= 0`` (Moré and
Sorensen [1]_; Cartis, Gould and Toint [2]_, Thm 3.1). The secular equation
``1/||s(mu)|| - 1/r(mu) = 0`` is increasing in ``mu`` and nearly linear; it
is solved by Newton's method safeguarded by bisection on a bracket. The
*hard case* (``g`` orthogonal to the leftmost eigenspace and
``||s(-lam_min)|| < r``) adds ``tau u_min`` to reach the boundary.

The eigendecomposition costs ``O(d^3)`` once per Hessian and is reused for
every radius or sigma tried at the same iterate; it is meant for ``d`` up to
a few thousand. It also serves the reduced (tridiagonal) problems of the
Lanczos solvers.

References
----------
.. [1] J. J. Moré and D. C. Sorensen, "Computing a trust region step",
       SIAM J. Sci. Stat. Comput. 4 (1983), 553-572.
.. [2] C. Cartis, N. I. M. Gould and P. L. Toint, "Adaptive cubic
       regularisation methods for unconstrained optimization. Part I",
       Math. Program. 127 (2011), 245-295.
.. [3] A. R. Conn, N. I. M. Gould and P. L. Toint, "Trust-Region Methods",
       SIAM (2000), ch. 7.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _kernels
from ._base import Step, Subproblem, _check_parameter

__all__ = ["ExactSubproblem", "leftmost_eigenpair", "solve_trust_region_eig", "solve_cubic_eig"]

_EPS = np.finfo(np.float64).eps


def _secular(lam: np.ndarray, gt: np.ndarray, sigma: float | None, radius: float | None):
    """Solve the secular equation; returns ``(y, mu, hard)`` with ``s = V y``."""
    lam = np.ascontiguousarray(lam, dtype=np.float64)
    gt = np.ascontiguousarray(gt, dtype=np.float64)
    return _kernels.secular(
        lam, gt, -1.0 if sigma is None else float(sigma), -1.0 if radius is None else float(radius)
    )


def solve_trust_region_eig(lam: np.ndarray, V: np.ndarray, g: np.ndarray, radius: float):
    """Global minimiser of ``g^T s + s^T H s / 2`` over ``||s|| <= radius``.

    Parameters
    ----------
    lam : ndarray of shape (d,)
        Eigenvalues of ``H``, ascending.
    V : ndarray of shape (d, d)
        The matching orthonormal eigenvectors (columns).
    g : ndarray of shape (d,)
        Gradient.
    radius : float
        Trust-region radius (> 0).

    Returns
    -------
    s : ndarray of shape (d,)
        The global minimiser.
    mu : float
        Lagrange multiplier (0 for an interior solution).
    hits_boundary : bool
        Whether ``||s|| = radius``.

    References
    ----------
    .. [1] J. J. Moré and D. C. Sorensen, "Computing a trust region step",
           SIAM J. Sci. Stat. Comput. 4 (1983), 553-572.

    Examples
    --------
    >>> import numpy as np
    >>> lam, V = np.linalg.eigh(np.diag([1.0, -1.0]))
    >>> s, mu, hit = solve_trust_region_eig(lam, V, np.array([0.0, 1.0]), 2.0)
    >>> np.round(s, 12).tolist(), round(mu, 12), hit
    ([0.0, -2.0], 1.5, True)
    """
    lam, V, g = _check_eig(lam, V, g, "solve_trust_region_eig")
    _check_parameter(radius, "radius", "solve_trust_region_eig")
    return _trust_region_eig(lam, V, g, radius)


def _trust_region_eig(lam: np.ndarray, V: np.ndarray, g: np.ndarray, radius: float):
    gt = V.T @ g
    y, mu, _ = _secular(lam, gt, None, radius)
    s = V @ y
    ns = float(np.linalg.norm(s))
    on_boundary = bool(mu > 0.0)
    if on_boundary and ns > 0:
        s *= radius / ns  # remove the secular solver's last relative error
    return s, mu, on_boundary


def solve_cubic_eig(lam: np.ndarray, V: np.ndarray, g: np.ndarray, sigma: float):
    """Global minimiser of ``g^T s + s^T H s / 2 + sigma ||s||^3 / 3``.

    Parameters
    ----------
    lam : ndarray of shape (d,)
        Eigenvalues of ``H``, ascending.
    V : ndarray of shape (d, d)
        The matching orthonormal eigenvectors (columns).
    g : ndarray of shape (d,)
        Gradient.
    sigma : float
        Cubic regularisation weight (> 0).

    Returns
    -------
    s : ndarray of shape (d,)
        The global minimiser.
    mu : float
        The multiplier ``sigma ||s||``.

    References
    ----------
    .. [1] C. Cartis, N. I. M. Gould and P. L. Toint, "Adaptive cubic
           regularisation methods for unconstrained optimization. Part I",
           Math. Program. 127 (2011), Theorem 3.1.

    Examples
    --------
    >>> import numpy as np
    >>> lam, V = np.linalg.eigh(np.eye(1))
    >>> s, mu = solve_cubic_eig(lam, V, np.array([2.0]), 1.0)  # s + s|s| = -2
    >>> round(float(s[0]), 12), round(mu, 12)
    (-1.0, 1.0)
    """
    lam, V, g = _check_eig(lam, V, g, "solve_cubic_eig")
    _check_parameter(sigma, "sigma", "solve_cubic_eig")
    return _cubic_eig(lam, V, g, sigma)


def _cubic_eig(lam: np.ndarray, V: np.ndarray, g: np.ndarray, sigma: float):
    gt = V.T @ g
    y, mu, _ = _secular(lam, gt, sigma, None)
    return V @ y, mu


def _check_eig(lam: Any, V: Any, g: Any, label: str) -> tuple:
    """``(lam, V, g)`` as finite real float64 arrays of matching shapes, ``lam`` ascending."""
    out = []
    for value, name, ndim in ((lam, "lam", 1), (V, "V", 2), (g, "g", 1)):
        arr = np.asarray(value)
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.floating)
                                       or np.issubdtype(arr.dtype, np.integer)):
            raise TypeError(f"{label}: {name} must hold real numbers, got dtype {arr.dtype}")
        if arr.ndim != ndim or arr.size == 0:
            raise ValueError(f"{label}: {name} must be a non-empty {ndim}-D array, "
                             f"got shape {arr.shape}")
        arr = np.ascontiguousarray(arr, dtype=np.float64)
        if not np.isfinite(arr).all():
            raise ValueError(f"{label}: {name} contains NaN or infinity")
        out.append(arr)
    lam, V, g = out
    d = lam.shape[0]
    if V.shape != (d, d) or g.shape != (d,):
        raise ValueError(
            f"{label}: lam has shape {lam.shape}, so V must have shape ({d}, {d}) and g "
            f"shape ({d},); got V {V.shape} and g {g.shape}"
        )
    if d > 1 and not (np.diff(lam) >= 0).all():
        raise ValueError(f"{label}: lam must be sorted in ascending order (as eigh returns it)")
    return lam, V, g


class ExactSubproblem(Subproblem):
    """Eigendecomposition-based exact solver (forms the Hessian matrix).

    The first solve forms ``H`` (if it came as products) and its
    eigendecomposition; later solves on the same model reuse both. Cost
    accounting: the explicit Hessian counts as ``d`` Hessian-vector products.

    References
    ----------
    .. [1] A. R. Conn, N. I. M. Gould and P. L. Toint, "Trust-Region Methods",
           SIAM (2000), ch. 7.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.oracles import HessianModel
    >>> H = HessianModel(2, 1, matrix=np.diag([2.0, -1.0]))
    >>> step = ExactSubproblem().set_model(np.array([1.0, 0.0]), H).solve(radius=1.0)
    >>> bool(step.hits_boundary), round(float(np.linalg.norm(step.s)), 12)
    (True, 1.0)
    """

    name = "exact"
    supports_cubic = True
    supports_trust_region = True
    needs_matrix = True

    def set_model(
        self,
        grad: np.ndarray,
        hess: Any,
        *,
        tol: float = 1e-9,
        max_iter: int = 250,
        random_state: Any = None,
    ) -> ExactSubproblem:
        """Bind to a model (see :meth:`Subproblem.set_model`); drops the old eigenbasis.

        Parameters
        ----------
        grad, hess, tol, max_iter, random_state
            As in :meth:`Subproblem.set_model`.

        Returns
        -------
        ExactSubproblem
            ``self``.

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import HessianModel
        >>> H = HessianModel(1, 1, matrix=np.eye(1))
        >>> ExactSubproblem().set_model(np.ones(1), H).solve(radius=5.0).s.tolist()
        [-1.0]
        """
        super().set_model(grad, hess, tol=tol, max_iter=max_iter, random_state=random_state)
        self._lam = self._V = None
        return self

    def _eig(self) -> int:
        if self._lam is not None:
            return 0
        M = np.asarray(self.H.toarray())
        if M.shape != (self.H.dim, self.H.dim) or M.dtype.kind not in "fiu":
            d = self.H.dim
            raise ValueError(f"{type(self).__name__}: hess.toarray() returned dtype {M.dtype}, "
                             f"shape {M.shape}; expected a real ({d}, {d}) array")
        if not np.isfinite(M).all():
            raise ValueError(f"{type(self).__name__}: the Hessian (hess) contains NaN or infinity")
        self._lam, self._V = np.linalg.eigh(M)
        return self.H.dim

    def solve(self, *, radius: float | None = None, sigma: float | None = None) -> Step:
        """The global minimiser of the trust-region or cubic model.

        Parameters
        ----------
        radius : float, optional
            Trust-region radius.
        sigma : float, optional
            Cubic weight; exactly one of the two.

        Returns
        -------
        Step
            The step, its model decrease; ``n_products`` is ``d`` on the first
            solve of a model (the explicit Hessian), 0 after.

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import HessianModel
        >>> H = HessianModel(1, 1, matrix=np.eye(1))
        >>> sub = ExactSubproblem().set_model(np.array([2.0]), H)
        >>> [round(float(sub.solve(sigma=1.0).s[0]), 12), sub.solve(radius=0.5).n_products]
        [-1.0, 0]
        """
        kind = self._model_kind(radius, sigma)
        n_products = self._eig()
        if kind == "trust_region":
            s, mu, hit = _trust_region_eig(self._lam, self._V, self.g, radius)
            y = self._V.T @ s
            m = float(self.g @ s) + 0.5 * float(np.sum(self._lam * y * y))
            return self._checked(Step(s, -m, hit, n_products, 1))
        s, _ = _cubic_eig(self._lam, self._V, self.g, sigma)
        y = self._V.T @ s
        ns = float(np.linalg.norm(s))
        m = float(self.g @ s) + 0.5 * float(np.sum(self._lam * y * y)) + sigma * ns**3 / 3
        return self._checked(Step(s, -m, False, n_products, 1))


def leftmost_eigenpair(H: Any, rng: np.random.Generator,
                       matrix_free: bool = False) -> tuple[float, np.ndarray]:
    """Leftmost eigenpair of a Hessian model (dense eigh, or ARPACK on products).

    A small model is formed and factorised, unless the objective is matrix
    free (forming it would cost ``d`` products: ARPACK takes fewer). The
    second-order phase of :func:`randopt.optimize.newton_loop` uses it.

    Parameters
    ----------
    H : HessianModel
        The model (``matrix``, ``dim``, ``matvec``, ``toarray``).
    rng : numpy.random.Generator
        Source of ARPACK's start vector.
    matrix_free : bool, default=False
        Never form a model of more than 2 variables unless it is formed already.

    Returns
    -------
    lam : float
        The smallest eigenvalue.
    u : ndarray of shape (d,)
        A unit eigenvector of it.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.oracles import HessianModel
    >>> lam, u = leftmost_eigenpair(HessianModel(2, 1, matrix=np.diag([2.0, -1.0])),
    ...                             np.random.default_rng(0))
    >>> lam, np.abs(u).tolist()
    (-1.0, [0.0, 1.0])
    """
    if H.matrix is not None or H.dim <= 2 or (H.dim <= 200 and not matrix_free):
        lam, V = np.linalg.eigh(H.toarray())
        return float(lam[0]), V[:, 0]
    from scipy.sparse.linalg import LinearOperator, eigsh

    op = LinearOperator((H.dim, H.dim), matvec=H.matvec, dtype=np.float64)
    lam, V = eigsh(op, k=1, which="SA", v0=rng.standard_normal(H.dim), tol=1e-8)
    return float(lam[0]), V[:, 0]
