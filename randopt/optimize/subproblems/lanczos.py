"""Lanczos (GLTR-type) solvers of the trust-region and cubic sub-problems.

The Lanczos process started at ``g`` builds an orthonormal basis ``Q_k`` of
the Krylov space ``K_k(H, g)`` with ``Q_k^T H Q_k = T_k`` tridiagonal; the
sub-problem restricted to it, ``min gamma e_1^T h + h^T T_k h / 2`` over
``||h|| <= radius`` (or plus ``sigma ||h||^3 / 3``), is solved to machine
accuracy from the eigendecomposition of ``T_k`` (:mod:`.exact`), and
``s = Q_k h``. The iteration stops when the model gradient
``||grad m(s)|| = beta_{k+1} |e_k^T h|`` falls below ``tol ||g||``
(Gould, Lucidi, Roma and Toint [1]_; the cubic variant is ARC's generalised
Lanczos method [2]_ and the reference code of [3]_ which solves the
tridiagonal cubic model to high accuracy).

Unlike CG-Steihaug the solution is the global minimiser on the Krylov space,
so it keeps improving after negative curvature is met. The basis is fully
re-orthogonalised (the reference code does the same), which makes a
*breakdown* (``beta = 0``: an invariant subspace) detectable; the process
then restarts from a random vector orthogonal to ``Q_k``, so that a
leftmost eigenvector orthogonal to ``g`` (the hard case) is still found.
After a rejected step the basis is reused: a new radius or sigma costs no
new Hessian-vector products unless the test fails.

References
----------
.. [1] N. I. M. Gould, S. Lucidi, M. Roma and P. L. Toint, "Solving the
       trust-region subproblem using the Lanczos method", SIAM J. Optim. 9
       (1999), 504-525.
.. [2] C. Cartis, N. I. M. Gould and P. L. Toint, "Adaptive cubic
       regularisation methods for unconstrained optimization. Part I",
       Math. Program. 127 (2011), Section 6.2.
.. [3] P. Xu, F. Roosta and M. W. Mahoney, "Newton-type methods for
       non-convex optimization under inexact Hessian information",
       Math. Program. 184 (2020).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...linalg import Lanczos
from . import _kernels
from ._base import Step, Subproblem

__all__ = ["LanczosSubproblem"]

_EPS = np.finfo(np.float64).eps
_SQRT_EPS = float(np.sqrt(_EPS))


class LanczosSubproblem(Subproblem):
    """Lanczos method with a tridiagonal sub-problem solved exactly (see the module).

    References
    ----------
    .. [1] N. I. M. Gould, S. Lucidi, M. Roma and P. L. Toint, "Solving the
           trust-region subproblem using the Lanczos method", SIAM J. Optim. 9
           (1999), 504-525.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.oracles import HessianModel
    >>> from randopt.optimize.subproblems import LanczosSubproblem
    >>> H = HessianModel(2, 1, matrix=np.diag([2.0, -1.0]))
    >>> sub = LanczosSubproblem().set_model(np.array([1.0, 1.0]), H, random_state=0)
    >>> step = sub.solve(radius=1.0)
    >>> bool(step.hits_boundary), round(float(np.linalg.norm(step.s)), 12)
    (True, 1.0)
    """

    name = "lanczos"
    MAX_RESTARTS = 3
    supports_trust_region = True
    supports_cubic = True
    prefers_matrix = True

    def set_model(
        self,
        grad: np.ndarray,
        hess: Any,
        *,
        tol: float = 1e-9,
        max_iter: int = 250,
        random_state: Any = None,
    ) -> LanczosSubproblem:
        """Bind to a model (see :meth:`Subproblem.set_model`) and start a new Krylov basis.

        Parameters
        ----------
        grad, hess, tol, max_iter, random_state
            As in :meth:`Subproblem.set_model`; ``random_state`` draws the
            restart vectors after a breakdown (the hard case).

        Returns
        -------
        LanczosSubproblem
            ``self``.

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import HessianModel
        >>> H = HessianModel(3, 1, matrix=np.eye(3))
        >>> LanczosSubproblem().set_model(np.ones(3), H, max_iter=2).kmax
        2
        """
        super().set_model(grad, hess, tol=tol, max_iter=max_iter, random_state=random_state)
        # Full re-orthogonalisation with a second pass when the first lost most of the
        # norm, breakdown at sqrt(eps) ||H|| (rounding leaves a residual of order
        # eps ||H|| / gap, not zero, on an invariant subspace), restarts from random
        # vectors orthogonal to the basis (the hard case).
        self._process = Lanczos(
            self.H.matvec, self.g.shape[0], max_iter=self.max_iter,
            start=self.g if self.gnorm > 0 else None, random_state=self.rng, restart=True,
            breakdown_tol=_SQRT_EPS, reorthogonalization="when_needed",
        )
        self.kmax = self._process.kmax
        self.restarts = 0
        return self

    @property
    def k(self) -> int:
        """Size of the Krylov basis built so far."""
        return self._process.k

    def _extend(self) -> int:
        """One Lanczos step; returns the products spent (0 if exhausted)."""
        process = self._process
        restarts = process.n_restarts
        grown = process.extend()
        if process.n_restarts > restarts:
            self.restarts += 1
        return int(grown)

    def _leftmost_ritz_residual(self) -> float:
        """``||H u - theta u||`` of the leftmost Ritz pair ``(theta, u)`` of ``T_k``."""
        _, V = self._process.ritz(vectors=True)
        return self._process.residual_norm * abs(float(V[-1, 0]))

    # -- reduced problem ------------------------------------------------------ #
    def _reduced(self, radius: float | None, sigma: float | None):
        process = self._process
        h, mu, model = _kernels.reduced_solve(
            process.alpha, process.beta, process.k, self.gnorm,
            -1.0 if sigma is None else float(sigma), -1.0 if radius is None else float(radius),
        )
        residual = process.residual_norm * abs(h[-1])  # beta_{k+1} |e_k^T h|
        return h, mu, model, residual

    def _solve(self, radius: float | None, sigma: float | None) -> Step:
        spent = 0
        if self.k == 0:
            if self.gnorm == 0.0 and self.H.dim == 0:
                return Step(np.zeros_like(self.g), 0.0, False, 0, 0)
            spent += self._extend()
        process = self._process
        next_check = self.k
        stop = self.tol * max(self.gnorm, _EPS * process.scale)
        while True:
            if self.k >= next_check or process.exhausted:
                h, mu, model, residual = self._reduced(radius, sigma)
                if process.exhausted:
                    break
                if self.gnorm == 0.0:
                    # No gradient: the Krylov space of a random start must hold
                    # the leftmost eigenvector (the step follows it), so wait
                    # for the leftmost Ritz pair to converge.
                    residual, stop = self._leftmost_ritz_residual(), self.tol * process.scale
                if residual <= stop:
                    # A breakdown makes the residual vanish on an invariant
                    # subspace that may miss the leftmost eigenvector (the
                    # hard case): restart a few times before trusting it.
                    if not (
                        process.is_breakdown()
                        and self.k < self.kmax
                        and self.restarts < self.MAX_RESTARTS
                    ):
                        break
                # Check often while the basis is small, geometrically later:
                # each check costs an eigendecomposition of T_k.
                next_check = self.k + 1 if self.k < 4 else int(self.k * 1.3) + 1
            got = self._extend()
            spent += got
            if got == 0 and self.k >= next_check:
                next_check = self.k
        s = process.basis[: self.k].T @ h
        hits = radius is not None and mu > 0
        return Step(s, -model, hits, spent, self.k)

    def solve(self, *, radius: float | None = None, sigma: float | None = None) -> Step:
        """Minimise the trust-region or cubic model on a growing Krylov space.

        Parameters
        ----------
        radius : float, optional
            Trust-region radius.
        sigma : float, optional
            Cubic weight; exactly one of the two.

        Returns
        -------
        Step
            The step, its model decrease and the new products spent (the
            basis of earlier solves on the same model is reused).

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import HessianModel
        >>> H = HessianModel(2, 1, matrix=np.diag([1.0, 3.0]))
        >>> sub = LanczosSubproblem().set_model(np.array([1.0, 3.0]), H, random_state=0)
        >>> np.round(sub.solve(radius=10.0).s, 10).tolist(), sub.solve(radius=5.0).n_products
        ([-1.0, -1.0], 0)
        """
        if self._model_kind(radius, sigma) == "trust_region":
            return self._checked(self._solve(radius, None))
        return self._checked(self._solve(None, sigma))
