"""Conjugate gradients as one compiled JAX program: the sub-problems of JaxObjective's models.

The recurrences, the stopping rules and the Steihaug exits of
:func:`randopt.linalg.conjugate_gradient` (which delegates here through its
operator hook), written with ``jax.lax.while_loop`` and ``jax.lax.cond`` so
that a whole solve (every product with the sampled Hessian or Gauss-Newton
matrix, every dot product and update) is one dispatch and the vectors never
leave the JAX device; only the result comes back. In floating point it is
the same iteration as the NumPy one, in the objective's dtype.

References
----------
.. [1] J. Nocedal and S. J. Wright, "Numerical Optimization", 2nd ed.
       (2006), Algorithms 5.3 and 7.2.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["compile_cg", "STATUS_CODES", "NOT_FINITE"]

#: Exit codes of the compiled loop, in the order of ``CGResult.status`` names.
RUNNING, CONVERGED, MAX_ITER, NEGATIVE_CURVATURE, BOUNDARY = 0, 1, 2, 3, 4
#: A product was not finite (``p^T A p`` NaN or infinite): the caller raises.
NOT_FINITE = 5
STATUS_CODES = (CONVERGED, MAX_ITER, NEGATIVE_CURVATURE, BOUNDARY, NOT_FINITE)


def compile_cg(jax: Any, product: Callable) -> Callable:
    """``jax.jit`` of a CG(-Steihaug) solve with ``A v = factor * product(p, v, batch) + shift v``.

    The compiled function takes ``(p, batch, b, x0, options)`` with
    ``options = [radius, rtol, atol, max_iter, factor, shift]`` (one array:
    one transfer) and the static flags ``has_x0``, ``has_radius`` and
    ``packed``, and returns ``x`` and ``info = [decrease, status_code, nit,
    nhev, residual_norm]`` as device arrays, or with ``packed`` the single
    vector ``[x, info]`` (one transfer to the host).
    """
    jnp, lax = jax.numpy, jax.lax

    def boundary_tau(x: Any, p: Any, radius: Any) -> Any:
        # The cancellation-free root of ||x + tau p|| = radius (randopt.linalg.cg).
        a = p @ p
        bb = 2.0 * (x @ p)
        c = x @ x - radius * radius
        disc = jnp.sqrt(jnp.maximum(bb * bb - 4.0 * a * c, 0.0))
        plus = bb + disc
        safe = jnp.where(plus > 0, plus, 1.0)
        tau_pos = jnp.where(plus > 0, -2.0 * c / safe, 0.0)
        tau_neg = (-bb + disc) / (2.0 * a)
        return jnp.where(bb >= 0, tau_pos, tau_neg)

    def solve(p0: Any, batch: Any, b: Any, x0: Any, options: Any, *, has_x0: bool,
              has_radius: bool, packed: bool) -> Any:
        radius, rtol, atol, max_iter, factor, shift = (options[i] for i in range(6))

        def matvec(v: Any) -> Any:
            return factor * product(p0, v, batch) + shift * v

        if has_x0:
            nonzero = jnp.any(x0 != 0)
            x = x0
            r = lax.cond(nonzero, lambda: b - matvec(x0), lambda: b)
            nhev0 = nonzero.astype(jnp.int32)
        else:
            x, r, nhev0 = jnp.zeros_like(b), b, jnp.int32(0)
        rr = r @ r
        stop = jnp.maximum(rtol * jnp.sqrt(b @ b), atol)
        stop2 = stop * stop
        zero = jnp.zeros((), b.dtype)
        state = (jnp.int32(0), x, r, r, rr, zero, jnp.int32(RUNNING))

        def step(state: tuple) -> tuple:
            k, x, r, p, rr, m, _ = state
            Ap = matvec(p)
            k = k + 1
            pAp = p @ Ap
            alpha = rr / jnp.where(pAp > 0, pAp, 1.0)
            x_next = x + alpha * p
            negative = ~(pAp > 0)
            broken = ~jnp.isfinite(pAp)
            if has_radius:
                leaves = x_next @ x_next >= radius * radius
                cut = negative | leaves | broken
                tau = boundary_tau(x, p, radius)
                m_cut = m - tau * (r @ p) + 0.5 * tau * tau * pAp
                x_cut = x + tau * p
            else:
                cut = negative
                m_cut, x_cut = m, x
            r_next = r - alpha * Ap
            rr_next = r_next @ r_next
            m_next = m - alpha * rr + 0.5 * alpha * alpha * pAp
            p_next = r_next + (rr_next / rr) * p
            status = jnp.where(broken, NOT_FINITE,
                               jnp.where(negative, NEGATIVE_CURVATURE, BOUNDARY))
            full = (k, x_next, r_next, p_next, rr_next, m_next, jnp.int32(RUNNING))
            exit_ = (k, x_cut, r, p, rr, m_cut, status.astype(jnp.int32))
            return tuple(jnp.where(cut, e, f) for e, f in zip(exit_, full, strict=True))

        def running(state: tuple) -> Any:
            # the tests of the NumPy loop's head: converged first, then the product budget;
            # the step itself is unconditional, so that XLA can hoist what does not depend
            # on the direction (the network's forward pass at the point) out of the loop
            k, _, _, _, rr, _, status = state
            return (status == RUNNING) & ~(rr <= stop2) & (k < max_iter)

        k, x, _, _, rr, m, status = lax.while_loop(running, step, state)
        status = jnp.where(status == RUNNING, jnp.where(rr <= stop2, CONVERGED, MAX_ITER),
                           status)
        info = jnp.stack([-m, status.astype(b.dtype), k.astype(b.dtype),
                          (k + nhev0).astype(b.dtype), jnp.sqrt(rr)])
        return jnp.concatenate([x, info]) if packed else (x, info)

    return jax.jit(solve, static_argnames=("has_x0", "has_radius", "packed"))
