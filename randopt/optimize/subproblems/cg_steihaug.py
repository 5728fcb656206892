"""Steihaug-Toint truncated conjugate gradients for the trust-region sub-problem.

Minimise ``m(s) = g^T s + s^T H s / 2`` over ``||s|| <= radius`` by CG from
``s = 0``, stopping at the first of: residual ``||H s + g|| <= tol ||g||``
(the reference code of [3]_ uses ``tol = 1e-9``), a direction of
non-positive curvature (followed to the boundary, which is how the method
leaves saddle points), an iterate leaving the region (cut at the boundary), or
``max_iter`` products (250 in [3]_). The model value is updated from the CG
recurrences, without extra products.

The step is at least as good as the Cauchy point, which is all the
convergence theory of sub-sampled TR needs ([3]_, Condition 2).

References
----------
.. [1] T. Steihaug, "The conjugate gradient method and trust regions in large
       scale optimization", SIAM J. Numer. Anal. 20 (1983), 626-637.
.. [2] J. Nocedal and S. J. Wright, "Numerical Optimization", 2nd ed.,
       Springer (2006), Algorithm 7.2.
.. [3] P. Xu, F. Roosta and M. W. Mahoney, "Newton-type methods for non-convex
       optimization under inexact Hessian information", Math. Program. 184
       (2020); reference code github.com/git-xp/Non-Convex-Newton.
"""

from __future__ import annotations

import numpy as np

from ._base import Step, Subproblem, boundary_root

__all__ = ["CGSteihaug"]


class CGSteihaug(Subproblem):
    """CG-Steihaug (trust region only); see the module docstring.

    References
    ----------
    .. [1] T. Steihaug, "The conjugate gradient method and trust regions in
           large scale optimization", SIAM J. Numer. Anal. 20 (1983), 626-637.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.oracles import HessianModel
    >>> from randopt.optimize.subproblems import CGSteihaug
    >>> H = HessianModel(2, 1, matrix=np.diag([1.0, -1.0]))
    >>> step = CGSteihaug().set_model(np.array([1.0, 0.0]), H).solve(radius=10.0)
    >>> step.s
    array([-1.,  0.])
    """

    name = "cg"
    supports_trust_region = True
    prefers_matrix = True

    def solve(self, *, radius: float | None = None, sigma: float | None = None) -> Step:
        """Truncated CG on the trust-region model (``radius``; ``sigma`` is refused).

        Parameters
        ----------
        radius : float
            Trust-region radius.
        sigma : None
            Not supported (CG-Steihaug has no cubic variant).

        Returns
        -------
        Step
            The step, its model decrease and the products spent.

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import HessianModel
        >>> H = HessianModel(2, 1, matrix=np.diag([2.0, 4.0]))
        >>> CGSteihaug().set_model(np.array([2.0, 4.0]), H).solve(radius=0.5).hits_boundary
        True
        """
        self._model_kind(radius, sigma)
        g = self.g
        d = g.shape[0]
        x = np.zeros(d)
        if self.gnorm == 0.0:
            return Step(x, 0.0, False, 0, 0)
        r = -g.copy()  # residual -g - H x
        p = r.copy()
        rr = float(r @ r)
        m = 0.0
        stop = self.tol * self.gnorm
        k = 0
        matvec = self.H.matvec
        while k < self.max_iter:
            Hp = matvec(p)
            k += 1
            pHp = float(p @ Hp)
            if pHp <= 0.0:
                tau = boundary_root(x, p, radius)
                m += -tau * float(r @ p) + 0.5 * tau * tau * pHp
                return Step(x + tau * p, -m, True, k, k)
            alpha = rr / pHp
            x_next = x + alpha * p
            if float(x_next @ x_next) >= radius * radius:
                tau = boundary_root(x, p, radius)
                m += -tau * float(r @ p) + 0.5 * tau * tau * pHp
                return Step(x + tau * p, -m, True, k, k)
            # m(x + a p) - m(x) = -a r^T p + a^2 p^T H p / 2, and r^T p = r^T r.
            m += -alpha * rr + 0.5 * alpha * alpha * pHp
            x = x_next
            r -= alpha * Hp
            rr_next = float(r @ r)
            if rr_next <= stop * stop:
                break
            p = r + (rr_next / rr) * p
            rr = rr_next
        return Step(x, -m, False, k, k)
