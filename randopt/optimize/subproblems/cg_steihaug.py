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

``start="random"`` is the start of the reference code of [3]_
(``HFD/algorithms/subsampled_tr_cg.m``): CG starts from a random point of
the sphere of radius ``0.99 * radius`` (a standard normal vector, scaled)
and, when the loop solves again on the same model after a rejected step,
from that step shrunk to the new radius. A start off the origin leaves the
Krylov space of ``g``: from a symmetric saddle (a network's zero
initialisation, where every unit of a layer has the same weights, and
``g`` and ``H`` never separate them) CG from 0 never leaves the symmetric
subspace, while a random start does. The model decrease is then no longer
guaranteed (the start's model value may be positive); where the random
start's step does not decrease the model, the solver returns the zero
start's step instead (the reference discards such a step and draws a new
start at the next iterate; the loop here stops on a step without decrease).
The random vectors come from the ``random_state`` of :meth:`set_model`
(the solver's ``random_state`` in the loop), so a run is reproducible.

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
from typing import Any

import numpy as np

from ...linalg import NystromPreconditioner, conjugate_gradient
from ..preconditioning import checked_preconditioner
from ._base import Step, Subproblem

__all__ = ["CGSteihaug"]

#: The values of ``CGSteihaug(start=...)``.
STARTS = ("zero", "random")
#: The reference code's random start lies on the sphere of this fraction of the radius.
RANDOM_START_FRACTION = 0.99


class CGSteihaug(Subproblem):
    """CG-Steihaug (trust region only); see the module docstring.

    Parameters
    ----------
    preconditioner : callable, optional
        ``r -> M r`` with ``M ~ H^{-1}`` symmetric positive definite, applied
        at every solve (default: none); a user's callable must return a
        finite vector of the model's dimension (checked at each call).
    start : {"zero", "random"}, default="zero"
        Where CG starts: at 0 (Steihaug's method), or, as the reference code
        of [2]_ does, at a random point of the sphere of radius
        ``0.99 * radius`` and, on a new solve of the same model (after a
        rejected step), at the previous step shrunk to the new radius. The
        random start costs one product more (``H`` at the start) and leaves
        a symmetric saddle; see the module docstring.

    References
    ----------
    .. [1] T. Steihaug, "The conjugate gradient method and trust regions in
           large scale optimization", SIAM J. Numer. Anal. 20 (1983), 626-637.
    .. [2] P. Xu, F. Roosta and M. W. Mahoney, "Newton-type methods for
           non-convex optimization under inexact Hessian information", Math.
           Program. 184 (2020); reference code github.com/git-xp/Non-Convex-Newton.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.oracles import HessianModel
    >>> from randopt.optimize.subproblems import CGSteihaug
    >>> H = HessianModel(2, 1, matrix=np.diag([1.0, -1.0]))
    >>> step = CGSteihaug().set_model(np.array([1.0, 0.0]), H).solve(radius=10.0)
    >>> step.s
    array([-1.,  0.])

    From 0, CG never sees the direction of negative curvature ``e_2`` (``g``
    has no component along it); from a random start it follows it to the
    boundary:

    >>> sub = CGSteihaug(start="random").set_model(np.array([1.0, 0.0]), H, random_state=0)
    >>> step = sub.solve(radius=10.0)
    >>> bool(abs(step.s[1]) > 1), round(float(np.linalg.norm(step.s)), 12)
    (True, 10.0)
    """

    name = "cg"
    supports_trust_region = True
    prefers_matrix = True
    supports_preconditioner = True

    def __init__(self, preconditioner: Callable[[np.ndarray], np.ndarray] | None = None, *,
                 start: str = "zero") -> None:
        if preconditioner is not None and (not callable(preconditioner)
                                           or isinstance(preconditioner, type)):
            raise TypeError(
                "CGSteihaug: preconditioner must be None or a callable r -> M r (e.g. a "
                f"randopt.linalg.NystromPreconditioner); got {type(preconditioner).__name__}")
        if not (isinstance(start, str) and start in STARTS):
            raise ValueError(f"CGSteihaug: start must be one of {', '.join(map(repr, STARTS))};"
                             f" got {start!r}")
        #: ``r -> M r`` applied by every solve (None: plain CG)
        self.preconditioner = preconditioner
        #: where CG starts, ``"zero"`` or ``"random"``
        self.start = start
        #: the :class:`randopt.linalg.CGResult` of the last solve
        self.last_result = None
        self._previous = None  # the last step on the current model (random start only)

    def set_model(self, grad: np.ndarray, hess: Any, **options: Any) -> CGSteihaug:
        """Bind the solver to a model (see :meth:`Subproblem.set_model`); forgets the last step.

        Parameters
        ----------
        grad : ndarray of shape (d,)
            Gradient at the iterate.
        hess : HessianModel
            (Sub-sampled) Hessian at the iterate.
        **options
            ``tol``, ``max_iter``, ``random_state``, as for
            :meth:`Subproblem.set_model`.

        Returns
        -------
        CGSteihaug
            ``self``.

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import HessianModel
        >>> sub = CGSteihaug().set_model(np.ones(2), HessianModel(2, 1, matrix=np.eye(2)))
        >>> sub.solve(radius=10.0).s.tolist()
        [-1.0, -1.0]
        """
        super().set_model(grad, hess, **options)
        self._previous = None
        return self

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
        if self.start == "random":
            return self._checked(self._solve_from_random_start(radius, precondition))
        res = conjugate_gradient(self.H.matvec, -self.g, rtol=self.tol, max_iter=self.max_iter,
                                 radius=radius, precondition=precondition)
        self.last_result = res
        hits = res.status in ("boundary", "negative_curvature")
        return self._checked(Step(res.x, res.decrease, hits, res.nhev, res.nit))

    def _solve_from_random_start(self, radius: float, precondition: Any) -> Step:
        """CG from the reference code's start; the zero start's step where it gives no decrease."""
        g = self.g
        previous = self._previous
        if previous is None or not previous.any():  # a new model: a random point of the sphere
            x0 = self.rng.standard_normal(g.shape[0])
            x0 *= RANDOM_START_FRACTION * radius / float(np.linalg.norm(x0))
        else:  # a solve after a rejection: the rejected step, shrunk to the new radius
            x0 = previous * (radius / float(np.linalg.norm(previous)))
        Hx0 = self.H.matvec(x0)
        cached, spent = [x0, Hx0], [1]

        def matvec(v: np.ndarray) -> np.ndarray:
            # CG's first product is H x0, computed above for the start's model value:
            # handed over once, not computed twice
            if cached and np.array_equal(v, cached[0]):
                out = cached[1]
                cached.clear()
                return out
            spent[0] += 1
            return self.H.matvec(v)

        res = conjugate_gradient(matvec, -g, x0=x0, rtol=self.tol, max_iter=self.max_iter,
                                 radius=radius, precondition=precondition)
        # m(0) - m(s) = (m(0) - m(x0)) + (m(x0) - m(s)); CG's decrease is the second term
        decrease = res.decrease - float(g @ x0) - 0.5 * float(x0 @ Hx0)
        products = spent[0]
        s, nit, status = res.x, res.nit, res.status
        if not decrease > 0:
            res = conjugate_gradient(self.H.matvec, -g, rtol=self.tol, max_iter=self.max_iter,
                                     radius=radius, precondition=precondition)
            s, decrease, nit, status = res.x, res.decrease, nit + res.nit, res.status
            products += res.nhev
        self.last_result = res
        self._previous = s
        hits = status in ("boundary", "negative_curvature")
        return Step(s, decrease, hits, products, nit)

