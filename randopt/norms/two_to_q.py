"""The 2->q operator norm ``||X||_(2->q) = max_(||v||_2 = 1) ||X v||_q`` for q > 2.

Computing it is hard in general (for q = 4 it is the hypercontractivity
question studied by Barak et al. and Hopkins and Tiegel), so this module
returns a *bracket*:

Lower bound
    The nonlinear power method (Boyd [1]_; Higham [2]_):
    ``v <- X^T (|X v|**(q-1) sign(X v))``, normalised.  ``f(v) = ||X v||_q``
    is convex and 1-homogeneous, so ``f(v_new) >= <grad f(v), v_new> =
    ||grad f(v)|| >= <grad f(v), v> = f(v)``: the value never decreases.  It
    is run from several starts (top right singular vectors, the heaviest
    normalised rows, Gaussian vectors, and for q = 4 the top eigenvector of
    the spectral certificate below) and ``lower`` is the best value, attained
    by the returned unit vector ``v``.
Upper bound, the least of
    * ``||X||_2`` (``||y||_q <= ||y||_2``);
    * interpolation ``||X||_2**(2/q) ||X||_(2->inf)**(1 - 2/q)`` (Holder:
      ``||y||_q**q <= ||y||_2**2 ||y||_inf**(q-2)``), where
      ``||X||_(2->inf)`` is the largest row norm;
    * for q = 4, the spectral (degree-4 sum-of-squares style) bound
      ``||X||_(2->4)**4 = max_v (v x v)^T M (v x v) <= min_c lambda_max(M - c e e^T) + c``,
      ``M = sum_i (x_i x_i^T) kron (x_i x_i^T)``, ``e = vec(I)``: on the
      unit vectors ``v x v`` the shift adds ``c (e^T (v x v))**2 = c``.  The
      largest eigenvalue is taken on the symmetric subspace
      ``Sym = {vec(W) : W = W^T}``, where ``v x v`` lives (``M`` is already
      fully symmetric as a 4-tensor; the restriction is what removes the
      zero eigenvalues of the antisymmetric part that otherwise cap
      ``lambda_max`` at 0), matrix-free: ``M vec(W) = vec(X^T diag(x_i^T W
      x_i) X)``, ``O(n d**2)`` per product, never forming the ``d**2 x d**2``
      matrix.  ``c`` is optimised by golden-section on the convex function
      ``c -> lambda_max + c`` with warm-started Lanczos; the final
      eigenvalue is bounded from above by Lanczos from a random start with
      the probabilistic bound of :mod:`randopt.norms._bounds`
      (failure probability ``failure_probability``).  For other q it enters
      through interpolation: ``||y||_q <= ||y||_2**t ||y||_4**(1-t)`` with
      ``t = 4/q - 1`` for ``2 < q < 4``, ``||y||_q <= ||y||_4**(4/q)
      ||y||_inf**(1-4/q)`` for ``q > 4``.
    ``upper_method`` says which bound won.

For q = inf the norm is the largest row norm, attained at that row: exact.

References
----------
.. [1] D. W. Boyd, "The power method for l^p norms", Linear Algebra Appl. 9
       (1974).
.. [2] N. J. Higham, "Estimating the matrix p-norm", Numer. Math. 62 (1992).
.. [3] B. Barak, F. Brandao, A. Harrow, J. Kelner, D. Steurer and Y. Zhou,
       "Hypercontractivity, sum-of-squares proofs, and their applications",
       STOC 2012.
.. [4] S. B. Hopkins and S. Tiegel (2019-2023), certifying hypercontractivity
       / 2->4 norms of random matrices.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

from .._validation import check_matrix, check_positive_int, check_random_state
from ._bounds import EPS, lanczos, log_beta_quantile, polynomial_upper_bound, ritz

__all__ = ["two_to_q_norm"]


def _q_norm(Y: np.ndarray, q: float) -> np.ndarray:
    """Column-wise q-norms, scaled to avoid overflow."""
    A = np.abs(Y)
    m = A.max(axis=0)
    m = np.where(m > 0, m, 1.0)
    return m * (np.sum((A / m) ** q, axis=0) ** (1.0 / q))


def _power_method(X, V, q, maxiter, tol):
    """Boyd's iteration on the columns of V (unit), vectorised over starts."""
    V = V / np.linalg.norm(V, axis=0)
    f = _q_norm(X @ V, q)
    nit = 0
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
        # Rounding can break the monotonicity by an ulp: keep the better iterate.
        better = f_new >= f
        V[:, better] = V_new[:, better]
        change = np.max((f_new - f) / np.maximum(f, 1e-300))
        f = np.maximum(f, f_new)
        if change <= tol:
            break
    return V, f, nit


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
        theta = ritz(alpha, beta)
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
    vals, vecs = ritz(run["alpha"], run["beta"], vectors=True)
    y = run["basis"].T @ vecs[:, -1]
    top = float(vals[-1])
    upper = state["upper"]
    if log_s is not None and not math.isfinite(run["log_gamma"]):
        upper = top * (1 + 16 * run["alpha"].size * EPS) + 16 * EPS * abs(top)
    return top, y, upper, run["nmatvec"]


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


def two_to_q_norm(
    X: Any,
    q: float,
    *,
    n_starts: int = 10,
    maxiter: int = 1000,
    tol: float = 1e-12,
    spectral_bound: Any = "auto",
    failure_probability: float = 1e-6,
    random_state: Any = None,
) -> OptimizeResult:
    """Bracket ``lower <= ||X||_(2->q) <= upper`` and a unit vector attaining ``lower``.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Dense real matrix (rows ``x_i``).
    q : float
        ``q > 2``; ``numpy.inf`` allowed (then the answer is exact).
    n_starts : int, default=10
        Number of heaviest rows and of Gaussian vectors used as starts (plus
        the top right singular vectors).
    maxiter : int, default=1000
        Power-method iterations per start.
    tol : float, default=1e-12
        Relative increase below which the power method stops.
    spectral_bound : {"auto", True, False}, default="auto"
        Compute the q = 4 spectral bound (also used for other q by
        interpolation); "auto" when ``d <= 100``.
    failure_probability : float, default=1e-6
        Allowed probability that the Lanczos-based upper bound is wrong.
    random_state : None, int or Generator

    Returns
    -------
    OptimizeResult
        ``lower``, ``upper``, ``v`` (unit, ``||X v||_q == lower``),
        ``upper_method`` (which bound won), ``upper_bounds`` (all
        candidates), ``failure_probability`` (0 unless the spectral bound
        won), ``ratio`` (``upper / lower``), ``nit``.

    References
    ----------
    See the module docstring.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.norms import two_to_q_norm
    >>> X = np.random.default_rng(0).standard_normal((200, 5))
    >>> res = two_to_q_norm(X, 4, random_state=0)
    >>> bool(res.lower <= res.upper)
    True
    """
    A = check_matrix(X, "X", accept_sparse=False).astype(np.float64, copy=False)
    if isinstance(q, bool) or not isinstance(q, numbers.Real) or math.isnan(q):
        raise TypeError(f"q must be a real number > 2 (or numpy.inf), got {q!r}")
    q = float(q)
    if not q > 2:
        raise ValueError(f"q must be > 2, got {q}; for q = 2 use spectral_norm")
    n_starts = check_positive_int(n_starts, "n_starts")
    maxiter = check_positive_int(maxiter, "maxiter")
    if not (0 < failure_probability < 1):
        raise ValueError(f"failure_probability must lie in (0, 1), got {failure_probability!r}")
    rng = check_random_state(random_state)
    n, d = A.shape
    row_norms = np.linalg.norm(A, axis=1)
    i_max = int(np.argmax(row_norms))
    r_inf = float(row_norms[i_max])
    if math.isinf(q):
        v = A[i_max] / r_inf if r_inf > 0 else np.eye(d)[0]
        return OptimizeResult(lower=r_inf, upper=r_inf, v=v, upper_method="exact (largest row)",
                              upper_bounds={"exact": r_inf}, failure_probability=0.0,
                              ratio=1.0, nit=0)
    if r_inf == 0.0:
        return OptimizeResult(lower=0.0, upper=0.0, v=np.eye(d)[0], upper_method="zero matrix",
                              upper_bounds={}, failure_probability=0.0, ratio=1.0, nit=0)
    _, s, Vt = np.linalg.svd(A, full_matrices=False)
    spec = float(s[0]) * (1 + 8 * EPS * max(n, d))
    bounds = {
        "spectral norm": spec,
        "interpolation": spec ** (2 / q) * r_inf ** (1 - 2 / q) * (1 + 8 * EPS * d),
    }
    starts = [Vt[: min(3, d)].T]
    heavy = np.argsort(row_norms)[::-1][:n_starts]
    starts.append((A[heavy] / row_norms[heavy, None]).T)
    starts.append(rng.standard_normal((d, n_starts)))
    use_spec = (d <= 100) if spectral_bound == "auto" else bool(spectral_bound)
    fail = 0.0
    sos = None
    if use_spec:
        up4, val4, c_opt, Y, _ = _quartic_bound(A, rng, failure_probability)
        sos = {"c": c_opt, "fourth_power_upper": up4, "fourth_power_value": val4}
        w, U = np.linalg.eigh(Y)
        starts.append(U[:, [-1, 0]])
        b4 = max(up4, 0.0) ** 0.25
        if q == 4:
            bounds["spectral (q=4)"] = b4
        elif q < 4:
            t = 4 / q - 1
            bounds["spectral (q=4) + interpolation"] = spec**t * b4 ** (1 - t)
        else:
            bounds["spectral (q=4) + interpolation"] = b4 ** (4 / q) * r_inf ** (1 - 4 / q)
    V0 = np.hstack(starts)
    V, f, nit = _power_method(A, V0, q, maxiter, tol)
    best = int(np.argmax(f))
    v = V[:, best] / np.linalg.norm(V[:, best])
    lower = float(_q_norm((A @ v)[:, None], q)[0])
    method = min(bounds, key=bounds.get)
    upper = max(bounds[method], lower)
    if method.startswith("spectral ("):
        fail = failure_probability
    return OptimizeResult(lower=lower, upper=upper, v=v, upper_method=method,
                          upper_bounds=bounds, failure_probability=fail,
                          ratio=upper / lower if lower > 0 else math.inf, nit=nit,
                          spectral_certificate=sos)
