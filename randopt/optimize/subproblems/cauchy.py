"""Cauchy points of the trust-region and cubic models.

The minimiser of the model along ``-g`` (inside the region for TR): the
cheapest step with the sufficient decrease the convergence theory needs
([1]_, Condition 2 / [2]_, Lemma 2.1). One Hessian-vector product.

TR: ``s = -t g/||g||``, ``t = radius`` if ``g^T H g <= 0`` else
``min(radius, ||g||^3 / g^T H g)``. ARC: ``s = -a g`` with ``a`` the positive
root of ``-||g||^2 + a g^T H g + sigma a^2 ||g||^3 = 0``.

References
----------
.. [1] P. Xu, F. Roosta and M. W. Mahoney, "Newton-type methods for non-convex
       optimization under inexact Hessian information", Math. Program. 184 (2020).
.. [2] C. Cartis, N. I. M. Gould and P. L. Toint, "Adaptive cubic
       regularisation methods for unconstrained optimization. Part I",
       Math. Program. 127 (2011).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._base import Step, Subproblem

__all__ = ["CauchyPoint"]


class CauchyPoint(Subproblem):
    """Cauchy point (both TR and ARC); reuses ``g^T H g`` across calls.

    References
    ----------
    .. [1] C. Cartis, N. I. M. Gould and P. L. Toint, "Adaptive cubic
           regularisation methods for unconstrained optimization. Part I",
           Math. Program. 127 (2011), Lemma 2.1.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.oracles import HessianModel
    >>> from randopt.optimize.subproblems import CauchyPoint
    >>> sub = CauchyPoint().set_model(np.array([1.0, 0.0]), HessianModel(2, 1, matrix=np.eye(2)))
    >>> sub.solve(radius=10.0).s.tolist(), sub.solve(radius=0.5).s.tolist()
    ([-1.0, -0.0], [-0.5, -0.0])
    """

    name = "cauchy"
    supports_trust_region = True
    supports_cubic = True

    def set_model(
        self,
        grad: np.ndarray,
        hess: Any,
        *,
        tol: float = 1e-9,
        max_iter: int = 250,
        random_state: Any = None,
    ) -> CauchyPoint:
        """Bind to a model (see :meth:`Subproblem.set_model`) and forget ``g^T H g``.

        Parameters
        ----------
        grad, hess, tol, max_iter, random_state
            As in :meth:`Subproblem.set_model`.

        Returns
        -------
        CauchyPoint
            ``self``.

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import HessianModel
        >>> H = HessianModel(1, 1, matrix=np.eye(1))
        >>> CauchyPoint().set_model(np.ones(1), H).solve(sigma=1.0).n_products
        1
        """
        super().set_model(grad, hess, tol=tol, max_iter=max_iter, random_state=random_state)
        self._curv = None
        return self

    def solve(self, *, radius: float | None = None, sigma: float | None = None) -> Step:
        """The Cauchy point of the trust-region (``radius``) or cubic (``sigma``) model.

        Parameters
        ----------
        radius : float, optional
            Trust-region radius.
        sigma : float, optional
            Cubic weight; exactly one of the two.

        Returns
        -------
        Step
            The step along ``-g`` and its model decrease (one product per model).

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import HessianModel
        >>> sub = CauchyPoint().set_model(np.array([2.0]), HessianModel(1, 1, matrix=np.eye(1)))
        >>> sub.solve(sigma=1.0).s.tolist()  # root of 2 a^2 + a - 1 = 0 times -g
        [-1.0]
        """
        if self._model_kind(radius, sigma) == "trust_region":
            return self._checked(self._trust_region(radius))
        return self._checked(self._cubic(sigma))

    def _gHg(self) -> tuple[float, int]:
        if self._curv is None:
            self._curv = float(self.g @ self.H.matvec(self.g))
            return self._curv, 1
        return self._curv, 0

    def _trust_region(self, radius: float) -> Step:
        gn = self.gnorm
        if gn == 0.0:
            return Step(np.zeros_like(self.g), 0.0, False, 0, 0)
        gHg, k = self._gHg()
        t = radius if gHg <= 0 else min(radius, gn**3 / gHg)
        a = t / gn
        decrease = a * gn * gn - 0.5 * a * a * gHg
        return Step(-a * self.g, decrease, t >= radius, k, 1)

    def _cubic(self, sigma: float) -> Step:
        gn = self.gnorm
        if gn == 0.0:
            return Step(np.zeros_like(self.g), 0.0, False, 0, 0)
        gHg, k = self._gHg()
        # Positive root of sigma gn^3 a^2 + gHg a - gn^2 = 0, in the form that
        # avoids cancellation for either sign of gHg.
        root = math.sqrt(gHg * gHg + 4.0 * sigma * gn**5)
        if gHg >= 0:
            a = 2.0 * gn * gn / (gHg + root)
        else:
            a = (root - gHg) / (2.0 * sigma * gn**3)
        decrease = a * gn * gn - 0.5 * a * a * gHg - sigma * (a * gn) ** 3 / 3.0
        return Step(-a * self.g, decrease, False, k, 1)
