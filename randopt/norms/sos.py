r"""Degree-``q`` sum-of-squares upper bound on ``||X||_(2->q)`` for even ``q``, certified.

The bound (Parrilo [1]_; for 2->4 norms Barak et al. [2]_, Hopkins and
Tiegel [3]_) is the least ``lam`` for which ``lam ||v||**q - ||X v||_q**q``
is a sum of squares of forms of degree ``k = q / 2``:

.. math::

    \min \lambda \quad\text{s.t.}\quad
    \lambda \|v\|^q - \sum_i \langle x_i, v\rangle^q = m_s(v)^T Q\, m_s(v),
    \quad Q \succeq 0,

with ``m_s`` the scaled monomial basis of
:class:`~randopt.norms._sos_basis.MonomialBasis` (size ``D = C(d + k - 1,
k)``; the identity is one linear equation per monomial of degree ``q``).
Then ``||X||_(2->q) <= lam**(1/q)``.  For Gaussian data with ``n`` of order
``d**2`` or more the bound is tight to solver accuracy; on planted sparse
vectors in random subspaces with ``n << d**2`` it is not (it cannot be: the
relaxation's value there is far above the norm).

Solving.  The problem is handed to SCS [4]_ (ADMM on the homogeneous
self-dual embedding; one ``D x D`` eigendecomposition per iteration and a
sparse factorisation per chunk below) directly, without a modelling layer:
variables ``(lam, svec(Q))``, ``C(d + q - 1, q)`` equality rows whose
pattern is the monomial structure of the identity (each entry of ``Q``
feeds one coefficient), and one PSD cone.  Given a good vector ``v`` (the
power method's), SCS is warm-started from the rank-one moments of ``v`` --
the optimal dual point when the relaxation is tight -- and the PSD part of
the least-squares Gram matrix, which cuts the iterations several-fold.  SCS
runs in stages of decreasing tolerance (``1e-4`` down to ``1e-10``), in
chunks of 50, 50, 100, 200, then 400 iterations, each warm-started from the last with the
step scale SCS had adapted; after each chunk the iterate is projected onto the
identity and its least eigenvalue ``mu`` gives the bound ``lam - mu`` that a
repair would certify, and the solve stops once that meets ``(1 + tol)``
times the known lower bound, after two chunks that gain less than ``tol /
10`` (the relaxation is not tight to ``tol`` there, or the lower bound is
not the norm), or after ``max_iter`` iterations.

Certifying.  The solver's answer is only a starting point:
:func:`~randopt.norms.sos_certificate.build_certificate` repairs it into a
Gram matrix proven positive definite in floating point and
:func:`~randopt.norms.sos_certificate.verify_sos_certificate` bounds the
residual of the polynomial identity; the margin is derived there.  A solve
that stopped early still yields a valid, looser, bound.  The data are scaled
by a power of two (exact) so that the norm is near 1 before anything is
computed, so the bound holds at every scale of float64.

References
----------
.. [1] P. A. Parrilo, "Semidefinite programming relaxations for semialgebraic
       problems", Math. Program. 96 (2003).
.. [2] B. Barak, F. Brandao, A. Harrow, J. Kelner, D. Steurer and Y. Zhou,
       "Hypercontractivity, sum-of-squares proofs, and their applications",
       STOC 2012.
.. [3] S. B. Hopkins and S. Tiegel, "Algorithms with polynomially-improved
       approximation factors for the 2->q norm" (2019-2023).
.. [4] B. O'Donoghue, E. Chu, N. Parikh and S. Boyd, "Conic optimization via
       operator splitting and homogeneous self-dual embedding", J. Optim.
       Theory Appl. 169 (2016).
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import time
from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from .._validation import check_bool, check_matrix, check_positive_int, check_scalar
from ._sos_basis import MonomialBasis
from .result import SOSResult
from .sos_certificate import build_certificate, verify_sos_certificate

__all__ = ["MAX_SOS_SIZE", "sos_available", "sos_size", "sos_upper_bound"]

#: Largest Gram matrix (``D = C(d + q/2 - 1, q/2)``) the solver accepts; D = 1275 is d = 50, q = 4.
MAX_SOS_SIZE = 2000

_INSTALL = "pip install 'randopt[sos]'"
#: SCS iterations between two checks of the repaired bound: the first chunk, then doubling
#: up to the last (a check costs one factorisation and one partial eigendecomposition).
_CHUNKS = (50, 50, 100, 200, 400)


def sos_available() -> bool:
    """Whether the conic solver of the SoS bound (SCS, installed with cvxpy) is importable.

    Returns
    -------
    bool

    Examples
    --------
    >>> isinstance(sos_available(), bool)
    True
    """
    return importlib.util.find_spec("scs") is not None


def sos_size(d: int, q: int) -> int:
    """Order ``D = C(d + q/2 - 1, q/2)`` of the Gram matrix of the degree-``q`` bound.

    Parameters
    ----------
    d : int
        Number of columns of the data.
    q : int
        Even degree.

    Returns
    -------
    int

    Examples
    --------
    >>> sos_size(30, 4), sos_size(10, 6)
    (465, 220)
    """
    k = q // 2
    return math.comb(d + k - 1, k)


def _import_scs():
    try:
        return importlib.import_module("scs")
    except ImportError as exc:  # pragma: no cover - exercised by monkeypatching
        raise ImportError(
            f"the sum-of-squares bound needs the conic solver SCS: {_INSTALL}"
        ) from exc


def _scs_problem(basis: MonomialBasis, target: np.ndarray):
    """SCS data of ``min lam : A(Q) - lam A(I) = -A(P), svec(Q) in PSD``."""
    T = basis.rows.size
    N = basis.n_coefficients
    off = basis.rows != basis.cols
    s = basis.scale
    # svec stores sqrt(2) Q_ij off the diagonal; A(Q) weighs the pair by 2 s_i s_j.
    w = np.where(off, math.sqrt(2.0), 1.0) * s[basis.rows] * s[basis.cols]
    eq_rows = np.concatenate([np.arange(N), basis.pair_class])
    eq_cols = np.concatenate([np.zeros(N, dtype=np.int64), 1 + np.arange(T)])
    eq_vals = np.concatenate([-basis.identity_coefficients, w])
    psd_rows = N + np.arange(T)
    A = sp.csc_matrix(
        (np.concatenate([eq_vals, -np.ones(T)]),
         (np.concatenate([eq_rows, psd_rows]), np.concatenate([eq_cols, 1 + np.arange(T)]))),
        shape=(N + T, T + 1))
    b = np.concatenate([-target, np.zeros(T)])
    c = np.zeros(T + 1)
    c[0] = 1.0
    return {"A": A, "b": b, "c": c}, {"z": N, "s": [basis.size]}


def _unsvec(basis: MonomialBasis, x: np.ndarray) -> np.ndarray:
    D = basis.size
    vals = np.where(basis.rows != basis.cols, x / math.sqrt(2.0), x)
    Q = np.zeros((D, D))
    Q[basis.rows, basis.cols] = vals
    Q[basis.cols, basis.rows] = vals
    return Q


def _estimate(basis: MonomialBasis, target_I: np.ndarray, target_P: np.ndarray,
              lam: float, Q: np.ndarray):
    """``lam - mu`` after projecting ``Q`` onto the identity, and the bottom eigenvector."""
    Qp = basis.project(Q, lam * target_I - target_P)
    w, u = scipy.linalg.eigh(Qp, subset_by_index=[0, 0])
    return lam - float(w[0]), u[:, 0]


def _svec(basis: MonomialBasis, M: np.ndarray) -> np.ndarray:
    vals = M[basis.rows, basis.cols]
    return np.where(basis.rows != basis.cols, math.sqrt(2.0) * vals, vals)


def _warm_start(basis: MonomialBasis, P: np.ndarray, target_I: np.ndarray,
                target_P: np.ndarray, v: np.ndarray, lam: float):
    """SCS start from a good unit vector ``v``: the rank-one moments of ``v`` (dual side,
    optimal when the relaxation is tight) and the PSD part of the Gram matrix of
    ``lam ||v||**q - p`` nearest to ``lam I - P`` (primal side)."""
    mono = basis.features(v[None, :])[0]
    moments = mono[basis.representative[:, 0]] * mono[basis.representative[:, 1]]
    ms = mono * basis.scale
    Q0 = basis.project(lam * np.eye(basis.size) - P, lam * target_I - target_P)
    w, U = np.linalg.eigh(Q0)
    Q0 = (U * np.maximum(w, 0.0)) @ U.T
    sq = _svec(basis, Q0)
    y = np.concatenate([moments, _svec(basis, np.outer(ms, ms))])
    s = np.concatenate([np.zeros(basis.n_coefficients), sq])
    return np.concatenate([[lam], sq]), y, s


def _vector_hint(basis: MonomialBasis, u: np.ndarray) -> np.ndarray:
    """A unit ``v`` with ``m_s(v)`` close to ``u`` (the kernel of a tight Gram matrix)."""
    k, d = basis.k, basis.d
    m = u / basis.scale
    pure = np.flatnonzero(np.all(basis.monomials == basis.monomials[:, :1], axis=1))
    j = int(basis.monomials[pure[np.argmax(np.abs(m[pure]))], 0])
    # v_a v_j**(k-1) is the monomial (a, j, ..., j).
    v = m[[basis.index_of((a,) + (j,) * (k - 1)) for a in range(d)]]
    nv = np.linalg.norm(v)
    return v / nv if nv > 0 else np.eye(d)[0]


def _refine(X: np.ndarray, v: np.ndarray, q: int, iters: int = 100):
    """Boyd's power method from ``v`` (see :mod:`randopt.norms.two_to_q`): a local maximum."""
    v = v / np.linalg.norm(v)
    best = float(np.sum((X @ v) ** q)) ** (1.0 / q)
    for _ in range(iters):
        g = X.T @ (X @ v) ** (q - 1)
        ng = np.linalg.norm(g)
        if ng == 0:
            break
        w = g / ng
        val = float(np.sum((X @ w) ** q)) ** (1.0 / q)
        if val <= best * (1 + 1e-15):
            break
        v, best = w, val
    return best, v


def sos_upper_bound(
    X: Any,
    q: int = 4,
    *,
    lower: float | None = None,
    v: Any = None,
    tol: float = 1e-6,
    max_iter: int = 5000,
    verbose: bool = False,
) -> SOSResult:
    """Certified degree-``q`` sum-of-squares upper bound on ``||X||_(2->q)`` (even ``q``).

    Parameters
    ----------
    X : array_like, shape (n, d)
        Dense real matrix (rows ``x_i``).
    q : int, default=4
        Even degree ``>= 4``.
    lower : float, optional
        A known lower bound on the norm (e.g. from the power method of
        :func:`~randopt.norms.two_to_q_norm`); sets the scaling and the stop
        rule.  Default: the largest row norm (or ``||X v||_q`` when ``v`` is
        given).
    v : array_like, shape (d,), optional
        A vector near a maximiser (e.g. the power method's); warm-starts the
        solver with its rank-one moments, which are optimal when the
        relaxation is tight.
    tol : float in (0, 1), default=1e-6
        The solve stops once the repaired bound is at most ``(1 + tol) *
        lower``.
    max_iter : int, default=5000
        Most SCS iterations.
    verbose : bool, default=False
        Print SCS's progress.

    Returns
    -------
    SOSResult
        A :class:`~randopt.norms.NormResult` (``upper`` deterministic,
        ``norm`` the estimate, ``lower`` 0) with ``upper`` (certified bound
        on the norm), ``certificate``
        (:class:`~randopt.norms.sos_certificate.SOSCertificate`), ``estimate``
        (the solver's uncertified ``lam**(1/q)``), ``v`` (the best unit vector
        seen: the start, or one read off the kernel of the Gram matrix and
        refined by the power method),
        ``nit`` (SCS iterations), ``status`` (0: SCS reported "solved...",
        1: not), ``message`` (SCS's last status; it was ``status`` before: an
        int there now, as in every other result), ``solve_time`` (seconds).

    Raises
    ------
    ImportError
        When SCS is missing (``pip install 'randopt[sos]'``).

    References
    ----------
    See the module docstring.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((40, 3))
    >>> res = sos_upper_bound(X, 4)
    >>> V = np.random.default_rng(1).standard_normal((3, 20000))
    >>> V /= np.linalg.norm(V, axis=0)
    >>> bool(res.upper >= np.max(np.sum((X @ V) ** 4, axis=0)) ** 0.25)
    True
    """
    A = check_matrix(X, "X", accept_sparse=False).astype(np.float64, copy=False)
    q = check_scalar(q, "q", kind=int, low=4)
    if q % 2:
        raise ValueError(f"q must be an even integer >= 4 for the SoS bound, got {q}")
    # A relative tolerance: at 1 or above the goal ((1 + tol) lower)**q overflows for
    # large q (was an OverflowError at tol = 1e300) and certifies nothing anyway.
    tol = check_scalar(tol, "tol", kind=float, low=0.0, high=1.0, low_inclusive=False,
                       high_inclusive=False)
    max_iter = check_positive_int(max_iter, "max_iter")
    n, d = A.shape
    D = sos_size(d, q)
    if D > MAX_SOS_SIZE:
        raise ValueError(
            f"the degree-{q} SoS bound for d = {d} needs a Gram matrix of order {D} > "
            f"{MAX_SOS_SIZE}; use method='spectral' or reduce d")
    lower = check_scalar(lower, "lower", kind=float, low=0.0, allow_none=True)
    verbose = check_bool(verbose, "verbose")
    if v is not None:
        try:
            v = np.array(v, dtype=np.float64).ravel()
        except (TypeError, ValueError) as err:
            raise TypeError(f"v must be a finite nonzero real vector of length {d} ({err})") \
                from None
        if v.shape != (d,) or not np.all(np.isfinite(v)) or not np.any(v):
            raise ValueError(f"v must be a finite nonzero vector of length {d}")
        # Normalised after an exact power-of-two scaling: norm(v) underflows for 1e-200.
        v = np.ldexp(v, -math.frexp(float(np.abs(v).max()))[1])
        v = v / np.linalg.norm(v)
    scs = _import_scs()
    t_start = time.perf_counter()
    amax = float(np.abs(A).max()) if A.size else 0.0
    if amax == 0.0:
        return _sos_result(0.0, None, 0.0, np.eye(d)[0], 0, "zero matrix", 0.0)
    # Power-of-two scalings (exact): first the entries into [1/2, 1), then the norm.
    e0 = -math.frexp(amax)[1]
    A0 = np.ldexp(A, e0)
    lower_s = float(np.linalg.norm(A0, axis=1).max())
    if v is not None:
        lower_s = max(lower_s, float(np.sum(np.abs(A0 @ v) ** q) ** (1.0 / q)))
    elif lower is not None:
        lower_s = max(lower_s, math.ldexp(lower, e0))
    e1 = -math.frexp(lower_s)[1]
    exponent = e0 + e1
    Xs = np.ldexp(A0, e1)
    lower_s = math.ldexp(lower_s, e1)
    basis = MonomialBasis(d, q // 2)
    Zs = basis.features(Xs) * basis.scale
    target_P = basis.coefficients(Zs.T @ Zs)
    target_I = basis.identity_coefficients
    data, cone = _scs_problem(basis, target_P)
    goal = ((1 + tol) * lower_s) ** q
    warm = None if v is None else _warm_start(basis, Zs.T @ Zs, target_I, target_P, v, lower_s**q)
    nit = 0
    v_best = v
    best = (math.inf, None, None, None)
    status = "not run"
    # Stages tighten SCS's own tolerance; each runs in chunks of _CHUNKS iterations, every
    # chunk warm-started from the last (with SCS's adapted step scale).  The repaired bound,
    # not SCS's residuals, decides when to stop.
    stages = [1e-4, 1e-6, 1e-8, 1e-10]
    settings: dict[str, Any] = {"verbose": verbose}
    stalls = 0
    n_chunks = 0
    while nit < max_iter and stages:
        eps = stages[0]
        cap = min(_CHUNKS[min(n_chunks, len(_CHUNKS) - 1)], max_iter - nit)
        n_chunks += 1
        solver = scs.SCS(data, cone, eps_abs=eps, eps_rel=eps, max_iters=cap, **settings)
        if warm is None:
            sol = solver.solve(warm_start=False)
        else:
            sol = solver.solve(warm_start=True, x=warm[0], y=warm[1], s=warm[2])
        info = sol["info"]
        nit += int(info["iter"])
        status = info["status"]
        x = sol["x"]
        if not np.all(np.isfinite(x)):
            break
        lam = float(x[0])
        Q = _unsvec(basis, x[1:])
        est, u = _estimate(basis, target_I, target_P, lam, Q)
        # The kernel of the Gram matrix points at the maximiser: a better lower bound
        # moves the goal within reach when the start was only a local maximum.
        value, hint = _refine(Xs, _vector_hint(basis, u), q)
        if value > lower_s:
            lower_s, v_best = value, hint
            goal = ((1 + tol) * lower_s) ** q
        # Two chunks in a row that gain less than tol / 10 mean the relaxation's value
        # is above the goal (SoS not tight, or the lower bound not the norm): stop.
        gain = (best[0] - est) / max(abs(est), 1e-300) if math.isfinite(best[0]) else math.inf
        stalls = stalls + 1 if gain <= 0.1 * tol else 0
        if est < best[0]:
            best = (est, lam, Q, u)
        if best[0] <= goal or stalls >= 2:
            break
        if int(info["iter"]) < cap:  # SCS met eps: tighten
            stages.pop(0)
        warm = (sol["x"], sol["y"], sol["s"])
        if math.isfinite(info.get("scale", math.nan)) and info.get("scale", 0) > 0:
            settings["scale"] = float(info["scale"])
    est, lam, Q, u = best
    if Q is None:  # the solver failed outright: repair the plain Gram matrix of p
        lam, Q = 0.0, -(Zs.T @ Zs)
        est, u = _estimate(basis, target_I, target_P, lam, Q)
    cert = build_certificate(A, q, basis, lam, Q, exponent=exponent)
    upper = verify_sos_certificate(A, cert)
    if v_best is None:
        v_best = _refine(Xs, _vector_hint(basis, u), q)[1]
    return _sos_result(upper, cert, math.ldexp(max(est, 0.0) ** (1 / q), -exponent), v_best,
                       nit, status, time.perf_counter() - t_start)


def _sos_result(upper: float, cert: Any, estimate: float, v: np.ndarray, nit: int,
                message: str, solve_time: float) -> SOSResult:
    # SCS's "solved (inaccurate ...)" counts: the certificate is verified either way.
    solved = message.startswith("solved") or message == "zero matrix"
    return SOSResult(
        norm=estimate, lower=0.0, upper=upper, upper_kind="deterministic",
        failure_probability=0.0, n_matvec=0, nit=nit, converged=solved, method="sos",
        certificate=cert, estimate=estimate, v=v, status=0 if solved else 1, message=message,
        solve_time=solve_time)
