"""Hessian spectra from Hessian-vector products (PyHessian-style).

Every function takes the Hessian as
* a callable ``hvp(v) -> H v`` (with ``dim``), e.g. an optimisation oracle
  adapted by the caller: ``lambda v: oracle.hessp(w, v)`` (the oracles of
  :mod:`randopt.oracles` have ``hessp(w, v, sample=None)``; pass a
  ``sample`` there for a sub-sampled Hessian),
* a :class:`scipy.sparse.linalg.LinearOperator`, or
* a dense or sparse symmetric matrix.

Methods (Yao, Gholami, Keutzer and Mahoney [1]_):

``hessian_eigenvalues``
    Lanczos (ARPACK's implicitly restarted Lanczos, ``scipy.sparse.linalg.eigsh``)
    for the ``k`` extreme eigenvalues; each Ritz value ``theta`` with unit
    Ritz vector ``y`` and residual ``r = H y - theta y`` has an eigenvalue of
    ``H`` within ``||r||`` (Weyl/Bauer-Fike for symmetric matrices), which
    the result reports.
``hessian_trace``
    Hutchinson's estimator with Rademacher probes (variance
    ``2 (||H||_F^2 - sum_i H_ii^2)`` per probe) or Hutch++ (Meyer, Musco,
    Musco and Woodruff [3]_): the trace of a rank-``m/3`` sketch of the top
    of the spectrum plus Hutchinson on the deflated rest, variance
    ``O(1/m^2)`` instead of ``O(1/m)``.  The confidence interval is Student's
    t on the Hutchinson part (a CLT interval: approximate, as PyHessian's).
``spectral_density``
    Stochastic Lanczos quadrature (Golub and Meurant; Ubaru, Chen and Saad
    [2]_; Ghorbani, Krishnan and Xiao): ``n_vectors`` Lanczos runs of
    ``n_steps`` from random unit vectors; each gives Gauss quadrature nodes
    (Ritz values) and weights (squared first components of the Ritz
    vectors), ``phi(t) ~ mean_runs sum_j w_j delta(t - theta_j)``, smoothed
    by a Gaussian of width ``sigma``.  Moments ``int t^p phi`` are exact for
    ``p < 2 n_steps`` in each run (Gauss quadrature).

References
----------
.. [1] Z. Yao, A. Gholami, K. Keutzer and M. W. Mahoney, "PyHessian: neural
       networks through the lens of the Hessian", IEEE BigData 2020.
.. [2] S. Ubaru, J. Chen and Y. Saad, "Fast estimation of tr(f(A)) via
       stochastic Lanczos quadrature", SIAM J. Matrix Anal. Appl. 38 (2017).
.. [3] R. A. Meyer, C. Musco, C. Musco and D. P. Woodruff, "Hutch++: optimal
       stochastic trace estimation", SOSA 2021.
.. [4] B. Ghorbani, S. Krishnan and Y. Xiao, "An investigation into neural
       net optimization via Hessian eigenvalue density", ICML 2019.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import OptimizeResult
from scipy.sparse.linalg import LinearOperator, eigsh
from scipy.stats import t as student_t

from .._validation import check_positive_int, check_random_state, is_operator
from ._bounds import lanczos, ritz

__all__ = ["hessian_eigenvalues", "hessian_trace", "spectral_density"]


class _CountingHessian:
    """``H v`` from any supported Hessian, counting products and checking them."""

    def __init__(self, hvp: Any, dim: Any):
        self.count = 0
        if is_operator(hvp) or sp.issparse(hvp) or isinstance(hvp, np.ndarray):
            shape = hvp.shape
            if len(shape) != 2 or shape[0] != shape[1]:
                raise ValueError(f"the Hessian must be square, got shape {shape}")
            if dim is not None and int(dim) != shape[0]:
                raise ValueError(f"dim={dim} does not match the Hessian's shape {shape}")
            if isinstance(hvp, np.ndarray):
                if not np.isfinite(hvp).all():
                    raise ValueError("the Hessian contains NaN or infinity")
                hvp = np.asarray(hvp, dtype=np.float64)
            self.dim = shape[0]
            M = hvp
            self._apply = lambda v: M @ v
        elif callable(hvp):
            if dim is None:
                raise ValueError("dim is required when hvp is a callable")
            self.dim = check_positive_int(dim, "dim")
            self._apply = hvp
        elif hasattr(hvp, "hessp"):
            raise TypeError(
                "pass a callable, e.g. hvp=lambda v: oracle.hessp(w, v), not the oracle itself"
            )
        else:
            raise TypeError(
                "hvp must be a callable v -> H v, a LinearOperator or a square matrix, "
                f"got {type(hvp).__name__}"
            )

    def __call__(self, v: np.ndarray) -> np.ndarray:
        self.count += 1
        out = np.asarray(self._apply(v), dtype=np.float64).reshape(-1)
        if out.shape[0] != self.dim:
            raise ValueError(
                f"hvp returned a vector of length {out.shape[0]}, expected dim = {self.dim}"
            )
        if not np.isfinite(out).all():
            raise ValueError("hvp returned NaN or infinity")
        return out

    def operator(self) -> LinearOperator:
        return LinearOperator((self.dim, self.dim), matvec=self, rmatvec=self, dtype=np.float64)


def hessian_eigenvalues(
    hvp: Any,
    dim: int | None = None,
    k: int = 1,
    which: str = "LA",
    *,
    tol: float = 1e-8,
    maxiter: int | None = None,
    random_state: Any = None,
    return_eigenvectors: bool = False,
) -> OptimizeResult:
    """Extreme eigenvalues of a symmetric Hessian by Lanczos.

    Parameters
    ----------
    hvp : callable, LinearOperator or array
        ``hvp(v) -> H v`` (then ``dim`` is required), or the matrix itself.
    dim : int, optional
        Dimension of ``v``.
    k : int, default=1
        Number of eigenvalues.
    which : {"LA", "SA", "LM"}, default="LA"
        Largest algebraic, smallest algebraic, largest magnitude.
    tol : float, default=1e-8
        ARPACK's relative accuracy of the Ritz values.
    maxiter : int, optional
        ARPACK restarts (default ``10 * dim``).
    random_state : None, int or Generator
        Start vector (reproducible, unlike ARPACK's own).
    return_eigenvectors : bool, default=False
        Keep the Ritz vectors in the result.

    Returns
    -------
    OptimizeResult
        ``eigenvalues`` (sorted: descending for "LA"/"LM", ascending for
        "SA"), ``residuals`` (``||H y - theta y||``: an exact eigenvalue lies
        within it), ``eigenvectors`` (dim x k, if asked), ``n_hvp``.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.norms import hessian_eigenvalues
    >>> H = np.diag(np.arange(1.0, 101.0))
    >>> res = hessian_eigenvalues(lambda v: H @ v, 100, k=2, random_state=0)
    >>> np.round(res.eigenvalues, 6).tolist()
    [100.0, 99.0]
    """
    H = _CountingHessian(hvp, dim)
    n = H.dim
    if which not in ("LA", "SA", "LM"):
        raise ValueError(f"which must be 'LA', 'SA' or 'LM', got {which!r}")
    k = check_positive_int(k, "k")
    if k > n:
        raise ValueError(f"k={k} exceeds the dimension {n}")
    rng = check_random_state(random_state)
    v0 = rng.standard_normal(n)
    if n <= max(2 * k + 1, 20) or k >= n - 1:
        # ARPACK needs k < n - 1; a tiny problem is cheapest densely.
        D = np.column_stack([H(e) for e in np.eye(n)])
        D = 0.5 * (D + D.T)
        vals, vecs = np.linalg.eigh(D)
        order = {"LA": np.argsort(vals)[::-1], "SA": np.argsort(vals),
                 "LM": np.argsort(np.abs(vals))[::-1]}[which][:k]
        vals, vecs = vals[order], vecs[:, order]
    else:
        vals, vecs = eigsh(H.operator(), k=k, which=which, tol=tol, v0=v0,
                           maxiter=maxiter or 10 * n)
        order = {"LA": np.argsort(vals)[::-1], "SA": np.argsort(vals),
                 "LM": np.argsort(np.abs(vals))[::-1]}[which]
        vals, vecs = vals[order], vecs[:, order]
    n_hvp = H.count
    resid = np.array([np.linalg.norm(H(vecs[:, j]) - vals[j] * vecs[:, j]) for j in range(k)])
    out = OptimizeResult(eigenvalues=vals, residuals=resid, n_hvp=n_hvp, which=which)
    if return_eigenvectors:
        out["eigenvectors"] = vecs
    return out


def _probes(rng, n, m):
    return rng.choice(np.array([-1.0, 1.0]), size=(n, m))


def hessian_trace(
    hvp: Any,
    dim: int | None = None,
    method: str = "hutchinson",
    *,
    n_samples: int = 100,
    confidence: float = 0.95,
    rtol: float | None = None,
    random_state: Any = None,
) -> OptimizeResult:
    """Stochastic trace estimate with a confidence interval.

    Parameters
    ----------
    hvp : callable, LinearOperator or array
        ``hvp(v) -> H v`` (then ``dim`` is required), or the matrix.
    dim : int, optional
    method : {"hutchinson", "hutch++"}, default="hutchinson"
    n_samples : int, default=100
        Hessian-vector products in all (Hutch++ spends a third on the sketch,
        a third on projecting it, a third on the residual).
    confidence : float, default=0.95
        Level of the interval.
    rtol : float, optional
        Hutchinson only: stop early once the interval's half-width is below
        ``rtol * |estimate|`` (checked every 10 probes, at least 10).
    random_state : None, int or Generator

    Returns
    -------
    OptimizeResult
        ``trace``, ``ci`` (low, high), ``std_error``, ``n_hvp``, ``method``.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.norms import hessian_trace
    >>> H = np.diag(np.arange(1.0, 51.0))
    >>> res = hessian_trace(H, method="hutch++", n_samples=150, random_state=0)
    >>> bool(abs(res.trace - 1275) < 1e-6)
    True
    """
    H = _CountingHessian(hvp, dim)
    n = H.dim
    if method not in ("hutchinson", "hutch++"):
        raise ValueError(f"method must be 'hutchinson' or 'hutch++', got {method!r}")
    m = check_positive_int(n_samples, "n_samples", minimum=2 if method == "hutchinson" else 3)
    if not isinstance(confidence, numbers.Real) or not (0 < confidence < 1):
        raise ValueError(f"confidence must lie in (0, 1), got {confidence!r}")
    rng = check_random_state(random_state)
    base = 0.0
    if method == "hutchinson":
        samples = []
        for j in range(m):
            z = _probes(rng, n, 1)[:, 0]
            samples.append(float(z @ H(z)))
            if rtol is not None and j + 1 >= 10 and (j + 1) % 10 == 0:
                s = np.asarray(samples)
                tq = student_t.ppf(0.5 + confidence / 2, s.size - 1)
                half = tq * s.std(ddof=1) / math.sqrt(s.size)
                if half <= rtol * abs(s.mean()):
                    break
        samples = np.asarray(samples)
    else:
        r = max(1, m // 3)
        r = min(r, n)
        S = _probes(rng, n, r)
        Y = np.column_stack([H(S[:, j]) for j in range(r)])
        Q, _ = np.linalg.qr(Y)
        HQ = np.column_stack([H(Q[:, j]) for j in range(Q.shape[1])])
        base = float(np.trace(Q.T @ HQ))
        n_rest = max(m - 2 * r, 2)
        samples = []
        if Q.shape[1] < n:
            for _ in range(n_rest):
                g = _probes(rng, n, 1)[:, 0]
                g = g - Q @ (Q.T @ g)
                # z^T (I - QQ^T) H (I - QQ^T) z with g = (I - QQ^T) z.
                samples.append(float(g @ H(g)))
        samples = np.asarray(samples if samples else [0.0, 0.0])
    est = base + float(samples.mean())
    se = float(samples.std(ddof=1) / math.sqrt(samples.size)) if samples.size > 1 else 0.0
    half = float(student_t.ppf(0.5 + confidence / 2, max(samples.size - 1, 1))) * se
    return OptimizeResult(trace=est, ci=(est - half, est + half), std_error=se,
                          n_hvp=H.count, method=method, confidence=confidence)


def spectral_density(
    hvp: Any,
    dim: int | None = None,
    *,
    n_vectors: int = 10,
    n_steps: int = 80,
    sigma: float | None = None,
    grid: Any = None,
    n_grid: int = 1000,
    random_state: Any = None,
) -> OptimizeResult:
    """Eigenvalue density of a symmetric Hessian by stochastic Lanczos quadrature.

    Parameters
    ----------
    hvp : callable, LinearOperator or array
        ``hvp(v) -> H v`` (then ``dim`` is required), or the matrix.
    dim : int, optional
    n_vectors : int, default=10
        Random start vectors (Rademacher, normalised).
    n_steps : int, default=80
        Lanczos steps per vector (full reorthogonalisation).
    sigma : float, optional
        Width of the Gaussian smoothing; default ``(max - min) / 100`` of the
        Ritz values' range.
    grid : array_like, optional
        Where to evaluate the density; default ``n_grid`` points spanning the
        Ritz values +- 5 sigma.
    random_state : None, int or Generator

    Returns
    -------
    OptimizeResult
        ``grid``, ``density`` (integrates to about 1), ``nodes`` and
        ``weights`` (``n_vectors`` lists: Gauss quadrature of each run,
        weights summing to 1), ``sigma``, ``n_hvp``.  ``dim * sum(weights *
        f(nodes)) / n_vectors`` estimates ``tr f(H)``.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.norms import spectral_density
    >>> H = np.diag(np.linspace(0, 1, 200))
    >>> res = spectral_density(H, n_vectors=5, n_steps=30, random_state=0)
    >>> bool(abs(np.trapezoid(res.density, res.grid) - 1) < 1e-2)
    True
    """
    H = _CountingHessian(hvp, dim)
    n = H.dim
    n_vectors = check_positive_int(n_vectors, "n_vectors")
    n_steps = check_positive_int(n_steps, "n_steps")
    rng = check_random_state(random_state)
    nodes, weights = [], []
    for _ in range(n_vectors):
        v0 = _probes(rng, n, 1)[:, 0]
        run = lanczos(H, v0, min(n_steps, n))
        vals, vecs = ritz(run["alpha"], run["beta"], vectors=True)
        nodes.append(vals)
        weights.append(vecs[0] ** 2)
    all_nodes = np.concatenate(nodes)
    lo, hi = float(all_nodes.min()), float(all_nodes.max())
    if sigma is None:
        sigma = max(hi - lo, abs(hi), 1e-12) / 100.0
    if not (isinstance(sigma, numbers.Real) and sigma > 0):
        raise ValueError(f"sigma must be positive, got {sigma!r}")
    if grid is None:
        grid = np.linspace(lo - 5 * sigma, hi + 5 * sigma, check_positive_int(n_grid, "n_grid"))
    grid = np.asarray(grid, dtype=np.float64)
    density = np.zeros_like(grid)
    norm = 1.0 / (math.sqrt(2 * math.pi) * sigma)
    for th, w in zip(nodes, weights, strict=True):
        bumps = np.exp(-0.5 * ((grid[:, None] - th[None, :]) / sigma) ** 2)
        density += (w[None, :] * bumps).sum(1)
    density *= norm / n_vectors
    return OptimizeResult(grid=grid, density=density, nodes=nodes, weights=weights,
                          sigma=float(sigma), n_hvp=H.count)
