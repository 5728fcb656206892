"""The 2->q operator norm ``||X||_(2->q) = max_(||v||_2 = 1) ||X v||_q`` for q > 2.

Computing it is hard in general (for q = 4 it is the hypercontractivity
question studied by Barak et al. [3]_ and Hopkins and Tiegel [4]_), so this
module returns a *bracket* ``lower <= ||X||_(2->q) <= upper``:

Lower bound
    The nonlinear power method (Boyd [1]_; Higham [2]_):
    ``v <- X^T (|X v|**(q-1) sign(X v))``, normalised.  ``f(v) = ||X v||_q``
    is convex and 1-homogeneous, so ``f(v_new) >= <grad f(v), v_new> =
    ||grad f(v)|| >= <grad f(v), v> = f(v)``: the value never decreases.  It
    is run from several starts (top right singular vectors, the heaviest
    normalised rows, Gaussian vectors, and the vectors read off the upper
    bound's certificate) and ``lower`` is the best value, attained by the
    returned unit vector ``v``, reduced by its rounding error
    (``|fl(X v) - X v| <= gamma_d |X| |v|`` entrywise, so the q-norm moves
    by at most ``gamma_d ||X||_F``; the q-norm itself is computed to
    ``gamma_(n + 2q + 8)`` relative).
Upper bound, the least of (``upper_method`` says which won)
    * ``||X||_2`` (``||y||_q <= ||y||_2``), from a dense SVD with LAPACK's
      error bound as margin;
    * interpolation ``||X||_2**(2/q) ||X||_(2->inf)**(1 - 2/q)`` (Holder:
      ``||y||_q**q <= ||y||_2**2 ||y||_inf**(q-2)``), where
      ``||X||_(2->inf)`` is the largest row norm;
    * ``method="sos"``: the degree-``q`` sum-of-squares bound for even ``q``
      (:mod:`randopt.norms.sos`; tight to the solver's accuracy on Gaussian
      data with ``n`` of order ``d**2``), certified in floating point
      (:mod:`randopt.norms.sos_certificate`), or the degree-4 one carried to
      other ``q`` by the interpolation below.  Needs the optional conic
      solver (``pip install 'randopt[sos]'``).
    * ``method="spectral"``: for q = 4, the shifted spectral bound
      ``||X||_(2->4)**4 = max_v (v x v)^T M (v x v) <= min_c lambda_max(M - c e e^T) + c``,
      ``M = sum_i (x_i x_i^T) kron (x_i x_i^T)``, ``e = vec(I)``: on the
      unit vectors ``v x v`` the shift adds ``c (e^T (v x v))**2 = c``.  The
      largest eigenvalue is taken on the symmetric subspace
      ``Sym = {vec(W) : W = W^T}``, where ``v x v`` lives, matrix-free:
      ``M vec(W) = vec(X^T diag(x_i^T W x_i) X)``, ``O(n d**2)`` per product.
      ``c`` is optimised by golden-section on the convex function
      ``c -> lambda_max + c`` with warm-started Lanczos; the final
      eigenvalue is bounded from above by Lanczos from a random start with
      the probabilistic bound of :mod:`randopt.linalg.bounds`
      (failure probability ``failure_probability``).  It is the
      ``d**(1/4)``-approximation baseline of the SoS literature and a
      restriction of the degree-4 SoS bound (one particular Gram matrix).

    A degree-4 bound ``b4`` reaches other ``q`` by interpolation:
    ``||y||_q <= ||y||_2**t ||y||_4**(1-t)`` with ``t = 4/q - 1`` for
    ``2 < q < 4``, ``||y||_q <= ||y||_4**(4/q) ||y||_inf**(1-4/q)`` for
    ``q > 4``.

For q = inf the norm is the largest row norm, attained at that row: exact.

References
----------
.. [1] D. W. Boyd, "The power method for l^p norms", Linear Algebra Appl. 9
       (1974).
.. [2] N. J. Higham, "Estimating the matrix p-norm", Numer. Math. 62 (1992).
.. [3] B. Barak, F. Brandao, A. Harrow, J. Kelner, D. Steurer and Y. Zhou,
       "Hypercontractivity, sum-of-squares proofs, and their applications",
       STOC 2012.
.. [4] S. B. Hopkins and S. Tiegel, "Algorithms with polynomially-improved
       approximation factors for the 2->q norm" (2019-2023).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import (
    check_choice,
    check_matrix,
    check_positive_int,
    check_random_state,
    check_scalar,
)
from ..linalg import lanczos, log_beta_quantile, polynomial_upper_bound, ritz_values
from ..linalg.bounds import EPS
from .result import NormResult
from .sos import MAX_SOS_SIZE, sos_available, sos_size, sos_upper_bound

__all__ = ["two_to_q_norm"]

#: Largest Gram matrix the default ``method="auto"`` hands to the SoS solver (d = 30, q = 4).
AUTO_SOS_SIZE = 465
#: Largest degree of a direct SoS bound (higher even ``q``: degree 4 and interpolation).
MAX_SOS_DEGREE = 50
#: The power method stops when a relative increase falls below this.
_POWER_TOL = 1e-13
_METHODS = ("auto", "sos", "spectral", "interpolation")


def _q_norm(Y: np.ndarray, q: float) -> np.ndarray:
    """Column-wise q-norms, scaled to avoid overflow."""
    A = np.abs(Y)
    m = A.max(axis=0)
    m = np.where(m > 0, m, 1.0)
    return m * (np.sum((A / m) ** q, axis=0) ** (1.0 / q))


def _power_method(X, V, q, maxiter, tol):
    """Boyd's iteration on the columns of V (unit), vectorised over starts.

    Starts of norm zero (a zero row of ``X`` among the heaviest rows) or not finite
    are dropped: a 0/0 start would carry NaN into the maximum.
    """
    norms = np.linalg.norm(V, axis=0)
    keep = np.isfinite(norms) & (norms > 0)
    if not keep.any():
        V, norms = np.eye(X.shape[1], 1), np.ones(1)
        keep = np.ones(1, dtype=bool)
    V = V[:, keep] / norms[keep]
    f = _q_norm(X @ V, q)
    nit = 0
    n_matvec = V.shape[1]
    for nit in range(1, maxiter + 1):  # noqa: B007 (nit is returned)
        Y = X @ V
        scale = np.abs(Y).max(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        Z = Y / scale
        G = X.T @ (np.sign(Z) * np.abs(Z) ** (q - 1))
        gn = np.linalg.norm(G, axis=0)
        ok = gn > 0
        V_new = V.copy()
        V_new[:, ok] = G[:, ok] / gn[ok]
        f_new = _q_norm(X @ V_new, q)
        n_matvec += 3 * V.shape[1]
        # Rounding can break the monotonicity by an ulp: keep the better iterate.
        better = f_new >= f
        V[:, better] = V_new[:, better]
        change = np.max((f_new - f) / np.maximum(f, 1e-300))
        f = np.maximum(f, f_new)
        if change <= tol:
            break
    return V, f, nit, n_matvec


def _sym_project(w: np.ndarray, d: int) -> np.ndarray:
    W = w.reshape(d, d)
    return (0.5 * (W + W.T)).ravel()


def _quartic_operator(X: np.ndarray, c: float):
    d = X.shape[1]

    def matvec(w):
        W = w.reshape(d, d)
        s = np.einsum("ij,ij->i", X @ W, X)
        out = X.T @ (s[:, None] * X)
        if c != 0.0:
            out = out - c * np.trace(W) * np.eye(d)
        return out.ravel()

    return matvec


def _top_eig(X, c, v0, tol, maxiter, log_s=None):
    """Top eigenpair of (M - c e e^T) on Sym by Lanczos; optional upper bound."""
    d = X.shape[1]
    state = {"prev": None, "upper": math.inf}

    def stop(alpha, beta, log_gamma):
        theta = ritz_values(alpha, beta)
        top = float(theta[-1])
        if log_s is not None:
            up = polynomial_upper_bound(theta, None, log_gamma, log_s)
            up += 16 * alpha.size * EPS * max(abs(top), float(np.abs(theta).max()))
            state["upper"] = min(state["upper"], up)
            return state["upper"] - top <= tol * abs(top)
        prev = state["prev"]
        state["prev"] = top
        return prev is not None and abs(top - prev) <= tol * abs(top)

    run = lanczos(_quartic_operator(X, c), v0, maxiter, project=lambda w: _sym_project(w, d),
                  stop=stop)
    vals, vecs = run.ritz(vectors=True)
    y = run.basis.T @ vecs[:, -1]
    top = float(vals[-1])
    upper = state["upper"]
    if log_s is not None and not math.isfinite(run.log_gamma):
        upper = top * (1 + 16 * run.alpha.size * EPS) + 16 * EPS * abs(top)
    return top, y, upper, run.n_matvec


def _sym_gaussian(d: int, rng) -> np.ndarray:
    G = rng.standard_normal((d, d))
    return (0.5 * (G + G.T)).ravel()


def _quartic_bound(X, rng, delta, tol=1e-9, maxiter=300):
    """min_c lambda_max^Sym(M - c e e^T) + c, certified from above (prob. 1 - delta)."""
    d = X.shape[1]
    D = d * (d + 1) // 2
    maxiter = min(maxiter, D)
    lam0, y, _, nmv = _top_eig(X, 0.0, _sym_gaussian(d, rng), 1e-10, maxiter)
    calls = nmv
    if d == 1:
        c_best = 0.0
    else:
        cache = {}

        def g(c):
            nonlocal y, calls
            top, y_new, _, k = _top_eig(X, c, y + 1e-3 * _sym_gaussian(d, rng), 1e-10, maxiter)
            calls += k
            y = y_new
            cache[c] = top + c
            return top + c

        # The optimum lies in [-lam0/(d-1), lam0] (module docstring of the bracket).
        lo, hi = -lam0 / (d - 1), lam0
        invphi = (math.sqrt(5) - 1) / 2
        a, b = lo, hi
        x1, x2 = b - invphi * (b - a), a + invphi * (b - a)
        g1, g2 = g(x1), g(x2)
        for _ in range(60):
            if b - a <= 1e-5 * max(abs(lam0), 1e-300):
                break
            if g1 <= g2:
                b, x2, g2 = x2, x1, g1
                x1 = b - invphi * (b - a)
                g1 = g(x1)
            else:
                a, x1, g1 = x1, x2, g2
                x2 = a + invphi * (b - a)
                g2 = g(x2)
        c_best = min(cache, key=cache.get)
        if lam0 <= cache[c_best]:
            c_best = 0.0
    # Certified evaluation at c_best from a fresh Gaussian start.
    log_s = log_beta_quantile(D, delta)
    top, y, upper, k = _top_eig(X, c_best, _sym_gaussian(d, rng), tol, maxiter, log_s=log_s)
    calls += k
    return upper + c_best, top + c_best, c_best, y.reshape(d, d), calls


def _sos_degree(d: int, q: float, limit: int) -> int | None:
    """Degree of the SoS bound for this ``q``: ``q`` itself when even and in reach, else 4.

    In reach: a Gram matrix of order at most ``limit`` and a degree at most
    :data:`MAX_SOS_DEGREE` (the scaled monomial basis spans ``sqrt(C(q/2, q/4))``
    in size, about ``1e7`` at ``q = 50``; far beyond, the solver's Gram matrix cannot be
    repaired into a certified one, so higher ``q`` interpolate from degree 4).
    """
    if (q == int(q) and int(q) % 2 == 0 and int(q) <= MAX_SOS_DEGREE
            and sos_size(d, int(q)) <= limit):
        return int(q)
    return 4 if sos_size(d, 4) <= limit else None


def _resolve_method(method: str, d: int, q: float) -> str:
    if method == "auto":
        if sos_available() and _sos_degree(d, q, AUTO_SOS_SIZE) is not None:
            return "sos"
        return "spectral" if d <= 100 else "interpolation"
    if method == "sos":
        if not sos_available():
            raise ImportError(
                "method='sos' needs the conic solver SCS: pip install 'randopt[sos]'")
        if _sos_degree(d, q, MAX_SOS_SIZE) is None:
            raise ValueError(
                f"method='sos' needs a Gram matrix of order {sos_size(d, 4)} for d = {d} "
                f"(at most {MAX_SOS_SIZE}); use method='spectral'")
    return method


def _from_quartic(b4: float, q: float, spec: float, r_inf: float) -> float:
    """A bound on ``||X||_(2->q)`` from one on ``||X||_(2->4)`` (interpolation, module doc)."""
    if q == 4:
        return b4
    if q < 4:
        t = 4 / q - 1
        return spec**t * b4 ** (1 - t) * (1 + 8 * EPS)
    return b4 ** (4 / q) * r_inf ** (1 - 4 / q) * (1 + 8 * EPS)


def _certified_lower(A: np.ndarray, v: np.ndarray, q: float, fro: float) -> float:
    """``||A v||_q / ||v||`` minus the rounding error of its evaluation (module docstring)."""
    n, d = A.shape
    val = float(_q_norm((A @ v)[:, None], q)[0])
    g = lambda m: m * EPS / 2 / (1 - m * EPS / 2)  # noqa: E731 (gamma_m, u = eps / 2)
    low = val * (1 - g(n + 2 * q + 8)) - g(d) * fro * (1 + g(d))
    return max(0.0, low / (float(np.linalg.norm(v)) * (1 + g(d + 2))))


def two_to_q_norm(
    X: Any,
    q: float,
    *,
    method: str = "auto",
    n_starts: int = 10,
    max_iter: int = 1000,
    tol: float = 1e-5,
    subproblem_max_iter: int = 5000,
    failure_probability: float = 1e-6,
    random_state: Any = None,
) -> NormResult:
    """Bracket ``lower <= ||X||_(2->q) <= upper`` and a unit vector attaining ``lower``.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Dense real matrix (rows ``x_i``).
    q : float
        ``q > 2``; ``numpy.inf`` allowed (then the answer is exact).
    method : {"auto", "sos", "spectral", "interpolation"}, default="auto"
        Which upper bounds to compute besides ``||X||_2`` and interpolation
        (module docstring): ``"sos"`` the certified sum-of-squares bound
        (needs ``pip install 'randopt[sos]'``, else ``ImportError``; degree
        ``q`` for even ``q``, else degree 4 and interpolation; ``ValueError``
        past a Gram matrix of order 2000, d = 62 for q = 4), ``"spectral"``
        the probabilistic shifted spectral bound, ``"interpolation"``
        neither.  ``"auto"``: ``"sos"`` when the solver is installed and the
        Gram matrix has order at most 465 (d <= 30 for q = 4, seconds),
        else ``"spectral"`` for ``d <= 100``, else ``"interpolation"``.
    n_starts : int, default=10
        Number of heaviest rows and of Gaussian vectors used as starts (plus
        the top right singular vectors).
    max_iter : int, default=1000
        Power-method iterations per start.
    tol : float in (0, 1), default=1e-5
        Requested bracket ``upper <= (1 + tol) * lower``: the SoS solver
        stops once it is met; ``converged`` reports it.
    subproblem_max_iter : int, default=5000
        Most iterations of the SoS solver (SCS).
    failure_probability : float, default=1e-6
        Allowed probability that the spectral (Lanczos-based) bound is wrong.
    random_state : None, int or Generator
        Seeds the Gaussian starts and the Lanczos start vectors.

    Returns
    -------
    NormResult
        ``norm`` (= ``lower``), ``lower``, ``upper``, ``upper_kind``
        (``"deterministic"``, ``"probabilistic"`` when the spectral bound
        won, ``"exact"`` for q = inf), ``failure_probability``, ``n_matvec``
        (products of ``X`` or ``X^T`` with a vector), ``nit`` (power-method
        iterations), ``converged``, ``method``, and the extra fields ``v``
        (unit vector, ``||X v||_q >= lower``), ``upper_method`` (which bound
        won), ``upper_bounds`` (all candidates), ``ratio`` (``upper /
        lower``), ``sos`` (the SoS solve: ``certificate``, ``nit``,
        ``status``, ``solve_time``, ``degree``; ``None`` if not run) and
        ``spectral_certificate`` (``None`` if not run).

    Raises
    ------
    ImportError
        ``method="sos"`` without the optional solver.

    References
    ----------
    See the module docstring.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.norms import two_to_q_norm
    >>> X = np.random.default_rng(0).standard_normal((200, 5))
    >>> res = two_to_q_norm(X, 4, method="interpolation", random_state=0)
    >>> bool(res.lower <= res.upper), res.upper_kind
    (True, 'deterministic')
    """
    A = check_matrix(X, "X", accept_sparse=False).astype(np.float64, copy=False)
    q = check_scalar(q, "q", kind=float, allow_inf=True)
    if not q > 2:
        raise ValueError(f"q must be > 2, got {q}; for q = 2 use spectral_norm")
    method = check_choice(method, "method", _METHODS)
    n_starts = check_positive_int(n_starts, "n_starts")
    max_iter = check_positive_int(max_iter, "max_iter")
    # A relative tolerance: at 1 or above the goal ((1 + tol) lower)**q overflows for
    # large q (was an OverflowError at tol = 1e300) and certifies nothing anyway.
    tol = check_scalar(tol, "tol", kind=float, low=0.0, high=1.0, low_inclusive=False,
                       high_inclusive=False)
    subproblem_max_iter = check_positive_int(subproblem_max_iter, "subproblem_max_iter")
    failure_probability = check_scalar(failure_probability, "failure_probability", kind=float,
                                       low=0.0, high=1.0, low_inclusive=False,
                                       high_inclusive=False)
    rng = check_random_state(random_state)
    n, d = A.shape
    X_in = A
    # Work on 2**e X with entries in [1/2, 1): no overflow or underflow in q-th powers, and
    # the bounds scale back exactly.  Entries lost to underflow are charged sqrt(n d) 2**-1075.
    amax = float(np.abs(A).max()) if A.size else 0.0
    e = -math.frexp(amax)[1] if amax > 0 else 0
    A = np.ldexp(A, e)
    slack = 0.0 if np.array_equal(np.ldexp(A, -e), X_in) else math.sqrt(n * d) * 2.0**-1075
    row_norms = np.linalg.norm(A, axis=1)
    i_max = int(np.argmax(row_norms))
    r_inf = float(row_norms[i_max])

    def back(x: float, up: bool) -> float:
        """``2**-e x``, rounded outward if it leaves the normal range."""
        x = x + slack if up else max(0.0, x - slack)
        y = math.ldexp(x, -e)
        if 0 < y < 2.0**-1022:
            y = y + 2.0**-1074 if up else max(0.0, y - 2.0**-1074)
        return y

    def result(lower, upper, v, kind, upper_method, bounds, fail, n_matvec, nit, used, **extra):
        lower, upper = back(lower, False), back(upper, True)
        bounds = {key: back(val, True) for key, val in bounds.items()}
        ratio = upper / lower if lower > 0 else (1.0 if upper == 0 else math.inf)
        return NormResult(norm=lower, lower=lower, upper=upper, upper_kind=kind,
                          failure_probability=fail, n_matvec=n_matvec, nit=nit,
                          converged=bool(upper <= (1 + tol) * lower), method=used, v=v,
                          upper_method=upper_method, upper_bounds=bounds, ratio=ratio, **extra)

    if math.isinf(q):
        v = A[i_max] / r_inf if r_inf > 0 else np.eye(d)[0]
        return result(r_inf, r_inf, v, "exact", "exact (largest row)", {"exact": r_inf}, 0.0,
                      0, 0, "exact", sos=None, spectral_certificate=None)
    if r_inf == 0.0:
        return result(0.0, 0.0, np.eye(d)[0], "exact", "zero matrix", {}, 0.0, 0, 0, "exact",
                      sos=None, spectral_certificate=None)
    method = _resolve_method(method, d, q)
    _, s, Vt = np.linalg.svd(A, full_matrices=False)
    spec = float(s[0]) * (1 + 8 * EPS * max(n, d))
    fro = float(np.linalg.norm(A)) * (1 + 4 * EPS) + math.sqrt(n * d) * 2.0**-1074
    bounds = {
        "spectral norm": spec,
        "interpolation": spec ** (2 / q) * r_inf ** (1 - 2 / q) * (1 + 8 * EPS * d),
    }
    starts = [Vt[: min(3, d)].T]
    heavy = np.argsort(row_norms)[::-1][:n_starts]
    heavy = heavy[row_norms[heavy] > 0]  # a zero row is no start (0/0)
    starts.append((A[heavy] / row_norms[heavy, None]).T)
    starts.append(rng.standard_normal((d, n_starts)))
    n_matvec = 0
    spectral_info = None
    if method == "spectral":
        up4, val4, c_opt, Y, calls = _quartic_bound(A, rng, failure_probability)
        n_matvec += 2 * d * calls  # each product with M multiplies X and X^T by d x d blocks
        spectral_info = {"c": c_opt, "fourth_power_upper": up4, "fourth_power_value": val4}
        _, U = np.linalg.eigh(Y)
        starts.append(U[:, [-1, 0]])
        name = "spectral (q=4)" if q == 4 else "spectral (q=4) + interpolation"
        bounds[name] = _from_quartic(max(up4, 0.0) ** 0.25, q, spec, r_inf)
    V, f, nit, mv = _power_method(A, np.hstack(starts), q, max_iter, _POWER_TOL)
    n_matvec += mv
    v = V[:, int(np.argmax(f))]
    sos_info = None
    if method == "sos":
        degree = _sos_degree(d, q, MAX_SOS_SIZE)
        # The solver's stop rule compares with the q-norm lower bound carried to its degree.
        v_deg = v
        if degree != q:
            v_deg = _power_method(A, v[:, None], 4, max_iter, _POWER_TOL)[0][:, 0]
        sol = sos_upper_bound(X_in, degree, v=v_deg, tol=tol / 2, max_iter=subproblem_max_iter)
        sos_info = {"certificate": sol.certificate, "nit": sol.nit, "status": sol.status,
                    "message": sol.message,
                    "solve_time": sol.solve_time, "degree": degree, "estimate": sol.estimate}
        name = "sos" if degree == q else f"sos (degree {degree}) + interpolation"
        # Back to the scale of A (2**e X), rounded up; back() undoes it at the end.
        b_sos = math.ldexp(sol.upper, e) * (1 + 2 * EPS) + 2.0**-1074
        bounds[name] = b_sos if degree == q else _from_quartic(b_sos, q, spec, r_inf)
        V2, f2, nit2, mv2 = _power_method(A, sol.v[:, None], q, max_iter, _POWER_TOL)
        n_matvec += mv2
        nit = max(nit, nit2)
        if f2[0] > np.max(f):
            v = V2[:, 0]
    v = v / np.linalg.norm(v)
    lower = _certified_lower(A, v, q, fro)
    upper_method = min(bounds, key=bounds.get)
    upper = max(bounds[upper_method], lower)
    probabilistic = upper_method.startswith("spectral (")
    return result(lower, upper, v, "probabilistic" if probabilistic else "deterministic",
                  upper_method, bounds, failure_probability if probabilistic else 0.0,
                  n_matvec, nit, method, sos=sos_info, spectral_certificate=spectral_info)
