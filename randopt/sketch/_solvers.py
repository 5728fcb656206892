"""Iterative solvers of the preconditioned least-squares system (see :mod:`.lstsq`).

All reach ``A`` through :class:`randopt.operands.Operand` methods only: CG
(the package's one, :func:`randopt.linalg.conjugate_gradient`) spends one fused
pass ``A^T (A v)`` per iteration (``op.normal_matvec``) and one fused residual
pass per (re)start; LSQR/LSMR and the iterative Hessian
sketch use ``A x`` and ``A^T u``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.sparse.linalg import LinearOperator, lsmr, lsqr

from ..linalg import conjugate_gradient
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
    """CG on ``P^T (A^T A + alpha I) P y = P^T A^T b`` from ``y``, by :func:`conjugate_gradient`.

    The package's one CG (:func:`randopt.linalg.conjugate_gradient`) solves for
    the correction ``delta`` with ``K delta = s``, ``K = P^T (A^T A + alpha I) P``
    and ``s`` the true preconditioned residual at ``y``; its products are one
    fused pass ``A^T (A v)`` each. Several right-hand sides are solved as one
    block-diagonal system (one pass over ``A`` per iteration for all of them):
    each column is divided by its ``||y_j||`` first, so that the block's
    residual ``<= tol`` implies every column's rule ``||s_j|| <= tol ||y_j||``,
    and since every column's ``K`` has its eigenvalues in ``[(1+eps)^-2,
    (1-eps)^-2]``, so has the block: the iteration count is that of one column.

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

    Returns ``y, iterations, converged, history, residual_norm``; ``history``
    holds the (block) relative residual ``||s|| / ||y||`` of every iteration.
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
        # ||y_j|| scales column j's rule; a zero y_j (a zero sketched solution) is
        # measured against its gradient instead (y* ~ s when K ~ I).
        scale = np.where(ynorm > 0, ynorm, np.where(gamma > 0, np.sqrt(gamma), 1.0))
        res = conjugate_gradient(
            _NormalOperator(op, alpha, pre, s.shape),
            (s / scale).reshape(-1),
            rtol=0.0,
            atol=tol,
            max_iter=max_iter - it,
            callback=lambda x, residual_norm: history.append(residual_norm),
        )
        y = y + res.x.reshape(s.shape) * scale
        it += res.nit
        attempt += 1


class _NormalOperator:
    """``v -> K v`` with ``K = P^T (A^T A + alpha I) P``, on a flattened (block of) vector(s)."""

    def __init__(self, op: Operand, alpha: float, pre: Preconditioner, shape: tuple):
        self.op, self.alpha, self.pre, self.shape = op, alpha, pre, shape

    def __call__(self, v: np.ndarray) -> np.ndarray:
        Pv = self.pre.apply(v.reshape(self.shape))
        AtAPv = self.op.normal_matvec(Pv)  # the one pass over A of the iteration
        return self.pre.apply_t(AtAPv + self.alpha * Pv if self.alpha else AtAPv).reshape(-1)


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
    rounding floor ``eps (||R|| ||P^{-1} x|| + ||S A|| ||r||) / s_min(R)`` of the
    preconditioned gradient (``cond(S A) (||A x|| + ||r||) eps`` without a
    ridge): rounding in ``A^T r`` acts as a perturbation of ``A`` of relative
    size ``eps``, which ``P^T`` amplifies by up to ``1 / s_min(R)`` (the
    analogue of LSQR's "machine precision" stops, istop 4 and 5).

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
        # Rounding in A^T r is about eps ||A|| ||r||, in alpha x eps ||R|| ||y||; P^T
        # amplifies both by 1 / s_min. Without a ridge ||A|| ~ ||S A|| = s[0]; with a
        # dominant ridge ||S A|| << s[0] = sqrt(||S A||^2 + alpha), and s[0] would put
        # the floor above the whole gradient (IHS "converged" at x = 0).
        floor = eps * (s[0] * ynorm + pre.sketch_norm * rnorm) / s[pre.rank - 1]
        if np.all((rel <= tol) | (snorm <= floor)):
            converged = True
            break
        if its == max_iter:
            break
        x = x + pre.apply(step_y)
        pre = Preconditioner(fresh_sketch(), alpha, op.shape)
    return x, its, converged, np.asarray(history)
