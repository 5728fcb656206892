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
from ._base import Step, Subproblem

__all__ = ["ExactSubproblem", "solve_trust_region_eig", "solve_cubic_eig"]

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
    gt = V.T @ g
    y, mu, _ = _secular(lam, gt, sigma, None)
    return V @ y, mu


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
        M = self.H.toarray()
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
            s, mu, hit = solve_trust_region_eig(self._lam, self._V, self.g, radius)
            y = self._V.T @ s
            m = float(self.g @ s) + 0.5 * float(np.sum(self._lam * y * y))
            return Step(s, -m, hit, n_products, 1)
        s, _ = solve_cubic_eig(self._lam, self._V, self.g, sigma)
        y = self._V.T @ s
        ns = float(np.linalg.norm(s))
        m = float(self.g @ s) + 0.5 * float(np.sum(self._lam * y * y)) + sigma * ns**3 / 3
        return Step(s, -m, False, n_products, 1)
