"""Conjugate gradients for a symmetric operator, with the Steihaug exits as options.

One routine serves every CG of the package: the truncated CG of the
trust-region sub-problem (Steihaug-Toint: stop at the boundary of a ball
or follow a direction of non-positive curvature to it), the CG of the
Gauss-Newton system (positive semi-definite: stop on a direction without
curvature) and a plain preconditioned CG. It solves ``A x = b`` from
``x0`` (default 0) by the Hestenes-Stiefel recurrences [1]_, optionally
preconditioned by ``M ~ A^{-1}`` (``precondition(r) = M r``), and stops at
the first of:

* ``||r|| <= max(rtol ||b||, atol)`` with ``r = b - A x`` the recursively
  updated residual (``rtol`` may change from call to call, as an inexact
  Newton method's forcing term does);
* ``max_iter`` products;
* ``p^T A p <= 0`` (or NaN): a direction without positive curvature. With
  ``radius`` given, the step follows ``p`` to ``||x|| = radius`` (Steihaug
  [2]_); without, ``x`` is returned as it is (the minimiser of the
  quadratic on the Krylov space built so far);
* with ``radius``: the next iterate would leave the ball ``||x|| <=
  radius``; it is cut at the boundary.

Along the way it updates the quadratic model ``q(x) = -b^T x + x^T A x / 2``
from the recurrences (no extra product): ``decrease`` is
``q(x0) - q(x)``, the model decrease a trust-region method needs.

*Arrays of other libraries.* With a NumPy ``b`` the iteration is NumPy's
(float64, in place). With ``b`` an array of another library that follows the
array API standard (``b.__array_namespace__()``: a JAX array, on any device)
the same recurrences run on that library's arrays through their own
operators (``@``, ``+``, ``*``, ``copy``): the vectors never leave their
device and ``matvec`` receives and must return such arrays; only the scalars
of the recurrences (``p^T A p``, ``r^T r``) come to the host, as Python
floats, for the stopping tests. ``x`` is then an array of that library.

*Operators that solve their own systems.* When ``matvec`` is a bound method
of an object that has a method ``conjugate_gradient`` (e.g. the Hessian
models of :class:`randopt.oracles.JaxObjective`, which run the whole
iteration as one compiled program on the JAX device), and neither
``precondition`` nor ``callback`` is given, the solve is delegated to
``matvec.__self__.conjugate_gradient(b, x0=x0, rtol=rtol, atol=atol,
max_iter=max_iter, radius=radius)``: it must implement the stopping rules
above and return a :class:`CGResult` with ``x`` of the type of ``b``, or
``None`` to decline (this function's iteration then runs). A wrapper that
forwards ``matvec`` (a checking proxy) forwards the hook by defining the
same method.

References
----------
.. [1] M. R. Hestenes and E. Stiefel, "Methods of conjugate gradients for
       solving linear systems", J. Res. Nat. Bur. Standards 49 (1952).
.. [2] T. Steihaug, "The conjugate gradient method and trust regions in large
       scale optimization", SIAM J. Numer. Anal. 20 (1983), 626-637.
.. [3] J. Nocedal and S. J. Wright, "Numerical Optimization", 2nd ed.
       (2006), Algorithms 5.3 (preconditioned CG) and 7.2 (CG-Steihaug).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

__all__ = ["CGResult", "boundary_root", "conjugate_gradient"]

#: ``CGResult.status`` values.
CONVERGED, MAX_ITER, NEGATIVE_CURVATURE, BOUNDARY = (
    "converged", "max_iter", "negative_curvature", "boundary")


class CGResult(NamedTuple):
    """The outcome of :func:`conjugate_gradient`.

    Attributes
    ----------
    x : ndarray of shape (d,)
        The last iterate (on the boundary for the Steihaug exits); an array
        of the library of ``b``.
    decrease : float
        ``q(x0) - q(x)`` for ``q(x) = -b^T x + x^T A x / 2``.
    status : str
        ``"converged"``, ``"max_iter"``, ``"negative_curvature"`` or
        ``"boundary"`` (the iterate left the ball and was cut).
    nit : int
        CG iterations (one product each).
    nhev : int
        Products with ``A`` (``nit``, plus one for a non-zero ``x0``).
    residual_norm : float
        ``||r||`` of the recursively updated residual at the last full step.
    """

    x: np.ndarray
    decrease: float
    status: str
    nit: int
    nhev: int
    residual_norm: float


def boundary_root(z: np.ndarray, p: np.ndarray, radius: float) -> float:
    """The ``tau >= 0`` with ``||z + tau p|| = radius``, for ``||z|| <= radius``.

    Parameters
    ----------
    z : ndarray of shape (d,)
        A point inside the ball.
    p : ndarray of shape (d,)
        A non-zero direction.
    radius : float
        The radius.

    Returns
    -------
    float
        The non-negative root of ``||z + tau p||^2 = radius^2``.

    References
    ----------
    .. [1] G. H. Golub and C. F. Van Loan, "Matrix Computations", 4th ed.
           (2013), p. 97 (cancellation-free quadratic roots).

    Examples
    --------
    >>> import numpy as np
    >>> boundary_root(np.zeros(2), np.array([3.0, 4.0]), 10.0)
    2.0
    """
    z = _finite_vector(z, "z")
    p = _finite_vector(p, "p")
    if z.shape != p.shape:
        raise ValueError(f"boundary_root: z has shape {z.shape} but p has shape {p.shape}")
    if not p.any():
        raise ValueError("boundary_root: p must be a non-zero direction")
    if isinstance(radius, (bool, np.bool_)) or not isinstance(radius, numbers.Real):
        raise TypeError(f"boundary_root: radius must be a real number, got {radius!r}")
    if not 0.0 < radius < math.inf:
        raise ValueError(f"boundary_root: radius must be finite and > 0, got {radius!r}")
    if float(z @ z) > radius * radius * (1.0 + 1e-12):
        raise ValueError("boundary_root: z must lie in the ball, ||z|| <= radius")
    return _boundary_root(z, p, float(radius))


def _finite_vector(v: object, name: str) -> np.ndarray:
    arr = np.asarray(v)
    if arr.dtype.kind not in "fiu" or arr.ndim != 1 or arr.size == 0:
        raise TypeError(f"boundary_root: {name} must be a non-empty real 1-D array, "
                        f"got dtype {arr.dtype} and shape {arr.shape}")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise ValueError(f"boundary_root: {name} contains NaN or infinity")
    return arr


def _boundary_root(z: np.ndarray, p: np.ndarray, radius: float) -> float:
    """:func:`boundary_root` without the checks (the CG's own exit)."""
    a = float(p @ p)
    b = 2.0 * float(z @ p)
    c = float(z @ z) - radius * radius
    disc = math.sqrt(max(b * b - 4.0 * a * c, 0.0))
    # Cancellation-free form of (-b + disc) / (2a).
    if b >= 0:
        return -2.0 * c / (b + disc) if (b + disc) > 0 else 0.0
    return (-b + disc) / (2.0 * a)


def conjugate_gradient(
    matvec: Callable[[np.ndarray], np.ndarray],
    b: np.ndarray,
    *,
    x0: np.ndarray | None = None,
    rtol: float = 1e-5,
    atol: float = 0.0,
    max_iter: int | None = None,
    radius: float | None = None,
    precondition: Callable[[np.ndarray], np.ndarray] | None = None,
    callback: Callable[[np.ndarray, float], object] | None = None,
) -> CGResult:
    """Solve ``A x = b`` by (preconditioned, optionally truncated) conjugate gradients.

    The caller checks the arguments (this is an inner routine: its callers
    validate once, at their entry); see the module docstring for the
    stopping rules.

    Parameters
    ----------
    matvec : callable
        ``v -> A v`` for a symmetric ``A`` (float64 vectors of length ``d``,
        or arrays of the library of ``b``). A bound method of an object with
        a ``conjugate_gradient`` method hands the solve to that method (see
        the module docstring).
    b : ndarray of shape (d,)
        Right-hand side (float64), or a 1-D array of another array-API
        library (e.g. JAX): the iteration then stays on its arrays.
    x0 : ndarray of shape (d,), optional
        Warm start (default 0; a non-zero one costs one product).
    rtol, atol : float, default=1e-5, 0.0
        Stop at ``||b - A x|| <= max(rtol ||b||, atol)``.
    max_iter : int, optional
        Maximum CG iterations (default ``10 d``).
    radius : float, optional
        Trust-region radius: the Steihaug exits (cut at the boundary, follow
        negative curvature to it). ``x0`` must lie in the ball.
    precondition : callable, optional
        ``r -> M r`` for a symmetric positive definite ``M ~ A^{-1}``.
    callback : callable, optional
        ``callback(x, residual_norm)`` at ``x0`` and after every full CG step
        (a residual history, a progress report); its return value is ignored.

    Returns
    -------
    CGResult
        ``x``, ``decrease``, ``status``, ``nit``, ``nhev``, ``residual_norm``.

    References
    ----------
    .. [1] J. Nocedal and S. J. Wright, "Numerical Optimization", 2nd ed.
           (2006), Algorithms 5.3 and 7.2.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[4.0, 1.0], [1.0, 3.0]]); b = np.array([1.0, 2.0])
    >>> res = conjugate_gradient(lambda v: A @ v, b, rtol=1e-12)
    >>> bool(np.allclose(res.x, np.linalg.solve(A, b))), res.status, res.nit
    (True, 'converged', 2)

    The Steihaug exits: negative curvature is followed to the boundary.

    >>> res = conjugate_gradient(lambda v: -v, np.array([3.0, 4.0]), radius=1.0)
    >>> res.x.tolist(), res.status, res.decrease
    ([0.6, 0.8], 'negative_curvature', 5.5)

    JAX arrays stay JAX arrays (on their device):

    >>> import jax.numpy as jnp
    >>> Aj = jnp.asarray(A)
    >>> res = conjugate_gradient(lambda v: Aj @ v, jnp.asarray(b), rtol=1e-6)
    >>> type(res.x).__module__.startswith("jax"), res.status
    (True, 'converged')
    """
    d = b.shape[0]
    if max_iter is None:
        max_iter = 10 * d
    if precondition is None and callback is None:
        solve = getattr(getattr(matvec, "__self__", None), "conjugate_gradient", None)
        if callable(solve):
            res = solve(b, x0=x0, rtol=rtol, atol=atol, max_iter=max_iter, radius=radius)
            if res is not None:
                return res
    nhev = 0
    numpy_arrays = isinstance(b, np.ndarray)
    if x0 is None:
        x = np.zeros(d) if numpy_arrays else b.__array_namespace__().zeros_like(b)
        r = b.copy()
    else:
        if numpy_arrays:
            x = np.array(x0, dtype=np.float64)
        else:
            x = b.__array_namespace__().asarray(x0, dtype=b.dtype, copy=True)
        if x.any():
            r = b - matvec(x)
            nhev = 1
        else:
            r = b.copy()
    z = r if precondition is None else precondition(r)
    p = z.copy()
    rr = float(r @ r)
    rz = rr if precondition is None else float(r @ z)
    stop = max(rtol * math.sqrt(float(b @ b)), atol)
    stop2 = stop * stop
    m = 0.0  # q(x) - q(x0), from the recurrences
    if callback is not None:
        callback(x, math.sqrt(rr))
    k = 0
    status = CONVERGED
    while True:
        if rr <= stop2:
            status = CONVERGED
            break
        if k >= max_iter:
            status = MAX_ITER
            break
        Ap = matvec(p)
        k += 1
        pAp = float(p @ Ap)
        if not pAp > 0.0:
            status = NEGATIVE_CURVATURE
            if radius is not None:
                tau = _boundary_root(x, p, radius)
                m += -tau * float(r @ p) + 0.5 * tau * tau * pAp
                x = x + tau * p
            break
        alpha = rz / pAp
        x_next = x + alpha * p
        if radius is not None and float(x_next @ x_next) >= radius * radius:
            tau = _boundary_root(x, p, radius)
            m += -tau * float(r @ p) + 0.5 * tau * tau * pAp
            x = x + tau * p
            status = BOUNDARY
            break
        # q(x + a p) - q(x) = -a r^T p + a^2 p^T A p / 2, and r^T p = r^T z.
        m += -alpha * rz + 0.5 * alpha * alpha * pAp
        x = x_next
        r -= alpha * Ap
        rr_next = float(r @ r)
        if precondition is None:
            z, rz_next = r, rr_next
        else:
            z = precondition(r)
            rz_next = float(r @ z)
        if callback is not None:
            callback(x, math.sqrt(rr_next))
        if rr_next <= stop2:
            rr = rr_next
            continue
        p = z + (rz_next / rz) * p
        rr, rz = rr_next, rz_next
    return CGResult(x, -m, status, k, k + nhev, math.sqrt(rr))
