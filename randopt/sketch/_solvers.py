"""Iterative solvers of the preconditioned least-squares system (see :mod:`.lstsq`).

All reach ``A`` through :class:`randopt.operands.Operand` methods only: CG
spends one fused pass ``A^T (A v)`` per iteration (``op.normal_matvec``) and
one fused residual pass per (re)start; LSQR/LSMR and the iterative Hessian
sketch use ``A x`` and ``A^T u``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.sparse.linalg import LinearOperator, lsmr, lsqr

from ..operands import Operand
from ._precondition import Preconditioner

__all__ = ["cg", "krylov", "ihs"]


def _preconditioned_gradient(op: Operand, b, alpha: float, pre: Preconditioner, y):
    x = pre.apply(y)
    g, rnorm = op.residual_normal(x, b)
    s = pre.apply_t(g - alpha * x if alpha else g)
    return s, rnorm


def cg(
    op: Operand,
    b,
    alpha: float,
    pre: Preconditioner,
    y,
    tol: float,
    max_iter: int,
    restarts: int = 1,
):
    """CG on ``P^T (A^T A + alpha I) P y = P^T A^T b`` from ``y``; columns run in lock-step.

    CG's recursively updated residual drifts from the true one by rounding,
    most when the warm start is large (ill-conditioned ``A``). When the
    recursion meets the stopping rule, the true residual is computed (the same
    pass yields ``||b - A x||`` for the result) and, if it exceeds the rule,
    CG restarts from it, at most ``restarts`` times. After a restart a true
    residual within ``100 tol`` counts as converged (drift is gone; what is
    left is the rounding floor of the true residual itself, measured near
    ``1e-12`` at cond 1e8), as does running out of restarts with the
    recursion satisfied. Stopping at ``max_iter`` is never convergence unless
    the true residual meets the rule.

    Returns ``y, iterations, converged, history, residual_norm``.
    """
    history: list[float] = []
    it = 0
    attempt = 0
    while True:
        s, rnorm = _preconditioned_gradient(op, b, alpha, pre, y)
        gamma = np.sum(s * s, axis=0)
        ynorm = np.sqrt(np.sum(y * y, axis=0))
        done = (np.sqrt(gamma) <= tol * ynorm) | (gamma == 0)
        if np.all(done):
            return y, it, True, np.asarray(history), rnorm
        if attempt > 0 and np.all(np.sqrt(gamma) <= 100 * tol * ynorm):
            return y, it, True, np.asarray(history), rnorm
        if it >= max_iter:
            return y, it, False, np.asarray(history), rnorm
        if attempt > restarts:
            # Out of restarts: the recursion met the rule, the true residual did
            # not, which happens at the rounding floor of ill-conditioned problems.
            return y, it, True, np.asarray(history), rnorm
        p = s.copy()
        while True:
            ynorm = np.sqrt(np.sum(y * y, axis=0))
            history.append(float(np.max(np.sqrt(gamma) / np.where(ynorm > 0, ynorm, 1.0))))
            done |= (np.sqrt(gamma) <= tol * ynorm) | (gamma == 0)
            if np.all(done) or it >= max_iter:
                break
            Pp = pre.apply(p)
            AtAPp = op.normal_matvec(Pp)  # the one pass over A of the iteration
            q = pre.apply_t(AtAPp + alpha * Pp if alpha else AtAPp)
            pq = np.sum(p * q, axis=0)
            step = np.where(done | (pq <= 0), 0.0, gamma / np.where(pq > 0, pq, 1.0))
            y = y + step * p
            s = s - step * q
            gamma_new = np.sum(s * s, axis=0)
            beta = np.where(done, 0.0, gamma_new / np.where(gamma > 0, gamma, 1.0))
            p = s + beta * p
            gamma = np.where(done, gamma, gamma_new)
            it += 1
        attempt += 1


def krylov(
    op: Operand, b, alpha: float, pre: Preconditioner, y0, tol: float, max_iter: int, solver: str
):
    """LSQR/LSMR on the preconditioned operator ``[A P; sqrt(alpha) P]``, column by column.

    Returns ``y, iterations, converged, history`` (no history: SciPy keeps none).
    """
    n, d = op.shape
    r = pre.rank
    damp = np.sqrt(alpha)

    def mv(y):
        return op.matvec(pre.apply(y))

    def rmv(z):
        return pre.apply_t(op.rmatvec(z))

    routine = lsqr if solver == "lsqr" else lsmr
    cols = b[:, None] if b.ndim == 1 else b
    Y0 = y0[:, None] if y0.ndim == 1 else y0
    if alpha:
        # (AP)^T(AP) + alpha I differs from P^T(A^TA + alpha I)P, so the damping
        # is folded into the operator instead of the solvers' own ``damp``.
        P_op = LinearOperator(
            (n + d, r),
            matvec=lambda y: np.concatenate([mv(y), damp * pre.apply(y)]),
            rmatvec=lambda z: pre.apply_t(op.rmatvec(z[:n]) + damp * z[n:]),
            dtype=np.float64,
        )
    else:
        P_op = LinearOperator((n, r), matvec=mv, rmatvec=rmv, dtype=np.float64)
    limit = {"iter_lim": max_iter} if solver == "lsqr" else {"maxiter": max_iter}
    ys, its, ok = [], 0, True
    for j in range(cols.shape[1]):
        rhs = np.concatenate([cols[:, j], np.zeros(d)]) if alpha else cols[:, j]
        out = routine(P_op, rhs, atol=tol, btol=tol, x0=Y0[:, j], **limit)
        ys.append(out[0])
        its = max(its, int(out[2]))
        # istop 0, 1, 2, 4, 5 mean solved (to tol or to machine precision) for both.
        ok &= int(out[1]) in (0, 1, 2, 4, 5)
    Y = np.column_stack(ys)
    return (Y[:, 0] if b.ndim == 1 else Y), its, bool(ok), np.empty(0)


def ihs(
    op: Operand,
    b,
    alpha: float,
    pre: Preconditioner,
    x,
    tol: float,
    max_iter: int,
    fresh_sketch: Callable[[], np.ndarray],
):
    """Iterative Hessian sketch with a fresh sketch ``fresh_sketch()`` (= ``S_t A``) each step.

    Besides ``||P^T g|| <= tol ||P^{-1} x||`` it stops, as converged, at the
    rounding floor ``eps cond(S A) (||A x|| + ||r||)`` of the preconditioned
    gradient: rounding in ``A^T r`` acts as a perturbation of ``A`` of relative
    size ``eps``, which ``P^T`` amplifies by up to ``cond(S A)`` (the analogue
    of LSQR's "machine precision" stops, istop 4 and 5).

    Returns ``x, iterations, converged, history``.
    """
    history = []
    converged = False
    its = 0
    eps = np.finfo(np.float64).eps
    for its in range(max_iter + 1):
        g, rnorm = op.residual_normal(x, b)
        if alpha:
            g = g - alpha * x
        step_y = pre.apply_t(g)
        ynorm = np.linalg.norm(pre.inverse(x), axis=0)
        snorm = np.linalg.norm(step_y, axis=0)
        rel = snorm / np.where(ynorm > 0, ynorm, 1.0)
        history.append(float(np.max(rel)))
        s = pre.singular_values
        floor = eps * s[0] / s[pre.rank - 1] * (ynorm + rnorm)
        if np.all((rel <= tol) | (snorm <= floor)):
            converged = True
            break
        if its == max_iter:
            break
        x = x + pre.apply(step_y)
        pre = Preconditioner(fresh_sketch(), alpha, op.shape)
    return x, its, converged, np.asarray(history)
