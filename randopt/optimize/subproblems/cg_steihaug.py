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

With a ``preconditioner`` (``r -> M r``, ``M ~ H^{-1}`` symmetric positive
definite, e.g. a :class:`randopt.linalg.NystromPreconditioner`, or set
per model by the loop's ``preconditioner="nystrom"``) the iteration is
preconditioned CG [2]_ (Algorithm 5.3) with the same exits; the radius stays
Euclidean (the iterates' Euclidean norms then need not grow monotonically,
so the first crossing is where the step is cut: a feasible step whose model
decrease is at least that of the first, preconditioned, step).

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

from collections.abc import Callable

import numpy as np

from ...linalg import NystromPreconditioner, conjugate_gradient
from ..preconditioning import checked_preconditioner
from ._base import Step, Subproblem

__all__ = ["CGSteihaug"]


class CGSteihaug(Subproblem):
    """CG-Steihaug (trust region only); see the module docstring.

    Parameters
    ----------
    preconditioner : callable, optional
        ``r -> M r`` with ``M ~ H^{-1}`` symmetric positive definite, applied
        at every solve (default: none); a user's callable must return a
        finite vector of the model's dimension (checked at each call).

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
    supports_preconditioner = True

    def __init__(self, preconditioner: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        if preconditioner is not None and (not callable(preconditioner)
                                           or isinstance(preconditioner, type)):
            raise TypeError(
                "CGSteihaug: preconditioner must be None or a callable r -> M r (e.g. a "
                f"randopt.linalg.NystromPreconditioner); got {type(preconditioner).__name__}")
        #: ``r -> M r`` applied by every solve (None: plain CG)
        self.preconditioner = preconditioner
        #: the :class:`randopt.linalg.CGResult` of the last solve
        self.last_result = None

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
        precondition = self.preconditioner
        d = self.g.shape[0]
        if isinstance(precondition, NystromPreconditioner):
            if precondition.dim != d:
                raise ValueError(f"CGSteihaug: the preconditioner has dimension "
                                 f"{precondition.dim}, the model {d}")
        elif precondition is not None:
            precondition = checked_preconditioner(precondition, d, "CGSteihaug")
        res = conjugate_gradient(self.H.matvec, -self.g, rtol=self.tol, max_iter=self.max_iter,
                                 radius=radius, precondition=precondition)
        self.last_result = res
        hits = res.status in ("boundary", "negative_curvature")
        return self._checked(Step(res.x, res.decrease, hits, res.nhev, res.nit))

