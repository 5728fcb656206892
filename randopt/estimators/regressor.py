"""Ridge regression solved by randomized sketching, over :func:`randopt.lstsq`."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted, validate_data

from .._validation import check_bool, check_choice, check_random_state, check_scalar
from ..sketch import lstsq
from ._input import SPARSE_FORMATS, sample_weights

__all__ = ["SketchedLinearRegression"]

METHODS = ("precondition", "sketch", "ihs")
SKETCHES = ("auto", "gaussian", "srht", "countsketch", "sparse_sign", "leverage")
KRYLOV_SOLVERS = ("cg", "lsqr", "lsmr")


class SketchedLinearRegression(RegressorMixin, BaseEstimator):
    """Ridge regression solved by randomized sketching (:func:`randopt.lstsq`).

    Minimises ``sum_i s_i (y_i - x_i^T w - b)^2 + alpha ||w||^2`` (``s`` the
    sample weights; the intercept ``b`` is not penalised) by
    sketch-and-precondition (default, to full accuracy), sketch-and-solve
    (approximate) or the iterative Hessian sketch.

    The intercept is handled exactly: dense ``X`` is centred by its weighted
    column means; sparse ``X`` (which centring would densify) gets a column
    ``sqrt(s)`` appended when ``alpha == 0``, and otherwise the intercept is
    eliminated by a Sherman-Morrison correction from a second right-hand side
    ``sqrt(s)`` solved with the same sketch.

    Parameters
    ----------
    sketch : {"auto", "gaussian", "srht", "countsketch", "sparse_sign", "leverage"}, \
default="auto"
        Sketch of :func:`randopt.lstsq`.
    method : {"precondition", "sketch", "ihs"}, default="precondition"
        Sketch-and-precondition, sketch-and-solve or iterative Hessian sketch.
    sketch_size : int, default=None
        Rows of the sketch. ``None``: :func:`randopt.lstsq`'s default, which
        for ``sketch="auto"`` is :func:`randopt.sketch.auto_sketch`'s
        ``clip(n // 20, 12 d, 48 d)`` rows and otherwise ``12 d`` rows (``d``
        the columns solved for, ``n`` the rows); at ``n`` rows or more the
        matrix is factored directly.
    alpha : float, default=0.0
        Ridge penalty.
    fit_intercept : bool, default=True
    tol : float, default=1e-12
        Relative tolerance of the iterative phase, in (0, 1) (see :func:`randopt.lstsq`).
    max_iter : int, default=None
        Iteration limit of the iterative phase (``None``: lstsq's default).
    solver : {"cg", "lsqr", "lsmr"}, default="cg"
        Iterative solver of ``method="precondition"``.
    random_state : None, int, Generator or RandomState, default=None

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
    n_iter_ : int
        Iterations of the iterative phase; a one-shot solve (sketch-and-solve,
        or the direct factorisation used when the sketch would have ``n``
        rows or more) counts as one iteration, as scikit-learn's convention
        for ``n_iter_`` asks (at least 1 after a fit). ``result_.nit``
        keeps the iterative phase's own count (0 for a one-shot solve).
    result_ : randopt.sketch.LstsqResult
        The full solver result (sketch used, rank, timings, ...).
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    References
    ----------
    .. [1] H. Avron, P. Maymounkov and S. Toledo, "Blendenpik: supercharging
       LAPACK's least-squares solver", SIAM J. Sci. Comput. 32 (2010).
    .. [2] M. Pilanci and M. J. Wainwright, "Iterative Hessian sketch", JMLR
       17 (2016).

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.estimators import SketchedLinearRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((5000, 10)); y = X @ np.arange(10.0) + 3.0
    >>> reg = SketchedLinearRegression(random_state=0).fit(X, y)
    >>> np.allclose(reg.coef_, np.arange(10.0)), round(float(reg.intercept_), 6)
    (True, 3.0)
    """

    def __init__(
        self,
        sketch: str = "auto",
        method: str = "precondition",
        sketch_size: int | None = None,
        alpha: float = 0.0,
        fit_intercept: bool = True,
        tol: float = 1e-12,
        max_iter: int | None = None,
        solver: str = "cg",
        random_state: Any = None,
    ) -> None:
        self.sketch = sketch
        self.method = method
        self.sketch_size = sketch_size
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.solver = solver
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SketchedLinearRegression:
        """Fit the regression.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights.

        Returns
        -------
        self

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.estimators import SketchedLinearRegression
        >>> X = np.random.default_rng(0).standard_normal((200, 2)); y = X @ [1.0, -2.0] + 0.5
        >>> reg = SketchedLinearRegression(random_state=0).fit(X, y)
        >>> reg.coef_.round(6).tolist(), round(float(reg.intercept_), 6)
        ([1.0, -2.0], 0.5)
        """
        opts = self._lstsq_options()
        fit_intercept = check_bool(self.fit_intercept, "fit_intercept")
        alpha = opts["alpha"]
        X, y = validate_data(
            self, X, y, accept_sparse=SPARSE_FORMATS, dtype=np.float64,
            multi_output=True, y_numeric=True,
        )
        if sp.issparse(X):
            X = X.tocsr()
        y = np.asarray(y, dtype=np.float64)
        sw = sample_weights(sample_weight, X.shape[0])
        root = np.sqrt(sw)
        t = y * (root if y.ndim == 1 else root[:, None])

        if not fit_intercept:
            A = sp.diags(root) @ X if sp.issparse(X) else X * root[:, None]
            res = lstsq(A, t, **opts)
            coef, intercept = res.x, np.zeros(y.shape[1:])
        elif not sp.issparse(X):
            x_mean = np.average(X, axis=0, weights=sw)
            y_mean = np.average(y, axis=0, weights=sw)
            A = (X - x_mean) * root[:, None]
            res = lstsq(A, (y - y_mean) * (root if y.ndim == 1 else root[:, None]), **opts)
            coef = res.x
            intercept = y_mean - x_mean @ coef
        elif alpha == 0:
            A = sp.hstack([sp.diags(root) @ X, sp.csr_matrix(root[:, None])], format="csr")
            res = lstsq(A, t, **opts)
            coef, intercept = res.x[:-1], res.x[-1]
        else:
            coef, intercept, res = self._sparse_ridge_intercept(X, t, root, opts)

        # lstsq returns (d, k) for k targets; scikit-learn's layout is (k, d).
        self.coef_ = np.ascontiguousarray(coef.T) if coef.ndim == 2 else coef
        self.intercept_ = intercept if np.ndim(intercept) else float(intercept)
        # One-shot solves (no iterative phase) are one iteration: n_iter_ >= 1.
        self.n_iter_ = max(int(res.nit), 1)
        self.result_ = res
        if not res.converged:
            warnings.warn(
                f"{type(self).__name__}: {res.message}; the solution may be inaccurate. "
                "Increase max_iter or sketch_size, or loosen tol.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def _lstsq_options(self) -> dict:
        """The keyword arguments of :func:`randopt.lstsq`, validated."""
        return dict(
            method=check_choice(self.method, "method", METHODS),
            sketch=check_choice(self.sketch, "sketch", SKETCHES),
            sketch_size=check_scalar(self.sketch_size, "sketch_size", kind=int, low=1,
                                     allow_none=True),
            alpha=check_scalar(self.alpha, "alpha", low=0.0),
            tol=check_scalar(self.tol, "tol", low=0.0, high=1.0, low_inclusive=False,
                             high_inclusive=False),
            max_iter=check_scalar(self.max_iter, "max_iter", kind=int, low=1, allow_none=True),
            solver=check_choice(self.solver, "solver", KRYLOV_SOLVERS),
            random_state=check_random_state(self.random_state),
        )

    @staticmethod
    def _sparse_ridge_intercept(X, t, root, opts):
        """Ridge with an unpenalised intercept on sparse ``X`` without centring it.

        With ``A = diag(root) X``, ``r = root`` and ``M = A^T A + alpha I``,
        eliminating the intercept gives ``(M - a a^T / s) w = A^T (t - r (r^T t)
        / s)`` with ``a = A^T r`` and ``s = r^T r``. One sketched solve with the
        two right-hand sides ``[t, r]`` gives ``U = M^{-1} A^T t`` and ``v =
        M^{-1} a``; Sherman-Morrison then gives
        ``w = z + v (a^T z / s) / (1 - a^T v / s)`` with ``z = U - v (r^T t) / s``.
        The denominator is positive since ``alpha > 0``.
        """
        A = sp.diags(root) @ X
        s = float(root @ root)
        rhs = np.column_stack([t, root]) if t.ndim == 1 else np.column_stack([t, root[:, None]])
        res = lstsq(A, rhs, **opts)
        U, v = res.x[:, :-1], res.x[:, -1]
        a = np.asarray(A.T @ root).ravel()
        z = U - np.outer(v, root @ t[:, None] if t.ndim == 1 else root @ t) / s
        denom = 1.0 - float(a @ v) / s
        w = z + np.outer(v, a @ z) / (s * denom)
        intercept = (root @ (t[:, None] if t.ndim == 1 else t) - a @ w) / s
        if t.ndim == 1:
            return w[:, 0], float(intercept[0]), res
        return w, intercept, res

    def predict(self, X: Any) -> np.ndarray:
        """``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_targets)

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.estimators import SketchedLinearRegression
        >>> X = np.random.default_rng(0).standard_normal((200, 2)); y = X @ [1.0, -2.0] + 0.5
        >>> reg = SketchedLinearRegression(random_state=0).fit(X, y)
        >>> reg.predict(np.array([[0.0, 0.0]])).round(6).tolist()
        [0.5]
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=SPARSE_FORMATS, reset=False, dtype=np.float64)
        return np.asarray(X @ self.coef_.T) + self.intercept_
