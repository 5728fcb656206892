"""scikit-learn estimators over randopt's solvers.

:class:`SubsampledNewtonClassifier` fits a linear binary classifier with the
non-linear least-squares (sigmoid) loss of Xu, Roosta and Mahoney [1]_ or the
logistic loss, by trust region or adaptive cubic regularisation with a
sub-sampled Hessian (:func:`randopt.optimize.trust_region`,
:func:`randopt.optimize.arc`). :class:`SketchedLinearRegression` is ridge
regression solved by randomized sketching (:func:`randopt.lstsq`).

Both follow scikit-learn's conventions: parameters are stored unchanged by
``__init__`` and validated in ``fit``; randomness comes from
``random_state``; fitted attributes end in ``_``; stopping before the
tolerance is met raises a :class:`~sklearn.exceptions.ConvergenceWarning`.

References
----------
.. [1] P. Xu, F. Roosta and M. W. Mahoney, "Newton-type methods for non-convex
       optimization under inexact Hessian information", Math. Program. 184
       (2020), 35-70; "Second-order optimization for non-convex machine
       learning: an empirical study", SDM (2020).
.. [2] H. Avron, P. Maymounkov and S. Toledo, "Blendenpik: supercharging
       LAPACK's least-squares solver", SIAM J. Sci. Comput. 32 (2010).
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._validation import check_random_state
from .optimize import arc, trust_region
from .oracles import _kernels
from .oracles.base import Evaluation, FiniteSum, HessianModel
from .sketch import lstsq

__all__ = ["SubsampledNewtonClassifier", "SketchedLinearRegression"]

_EMPTY_IDX = np.empty(0, dtype=np.int64)
_EMPTY_W = np.empty(0, dtype=np.float64)


def _check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def _check_nonneg_float(value: Any, name: str, *, positive: bool = False) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    if not np.isfinite(v) or v < 0 or (positive and v == 0):
        kind = "> 0" if positive else ">= 0"
        raise ValueError(f"{name} must be a finite number {kind}, got {value!r}")
    return v


def _check_max_iter(value: Any) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"max_iter must be a positive integer, got {value!r}")
    if value < 1:
        raise ValueError(f"max_iter must be >= 1, got {value}")
    return int(value)


def _add_intercept_column(X: Any) -> Any:
    ones = np.ones((X.shape[0], 1), dtype=X.dtype)
    if sp.issparse(X):
        return sp.hstack([X, sp.csr_matrix(ones)], format="csr")
    return np.hstack([X, ones])


class _WeightedGLM(FiniteSum):
    """Per-row weighted finite sum with a ridge penalty that spares the intercept.

    ``f(w) = (1/n) sum_i omega_i l(a_i^T w; y_i) + (alpha/2) ||w_pen||^2`` with
    ``omega = sample_weight * n / sum(sample_weight)`` (so that the loss is the
    weighted mean and integer weights equal repeated rows) and ``w_pen`` all
    coordinates but the last one when ``penalize_last`` is False (the intercept
    column). The weights multiply the per-row curvature, so that the inherited
    sub-sampled Hessians ``(1/n) A_S^T diag(weights_S * omega_S l''_S) A_S`` and
    the non-uniform probabilities ``|omega_i l''_i| ||a_i||^2`` are those of the
    weighted objective. Rescaling rows instead would not be equivalent: the
    loss is not quadratic in ``a_i^T w``.
    """

    def __init__(
        self, X: Any, y01: np.ndarray, loss_code: int, alpha: float,
        sample_weight: np.ndarray | None, penalize_last: bool,
    ) -> None:
        super().__init__(X, y01, alpha=0.0)  # the penalty is handled here, not by FiniteSum
        self._loss_code = loss_code
        self.penalty = float(alpha)
        self.penalty_mask = np.ones(self.n_features)
        if not penalize_last:
            self.penalty_mask[-1] = 0.0
        if sample_weight is None or np.all(sample_weight == sample_weight[0]):
            self.omega = None  # unweighted: the kernels' fast full pass
        else:
            self.omega = sample_weight * (self.n_samples / sample_weight.sum())
            self._all_rows = np.arange(self.n_samples, dtype=np.int64)

    def evaluate(self, w, *, need_grad=True, gradient_sample=None) -> Evaluation:
        n, d = self.n_samples, self.n_features
        g = np.empty(d)
        D = np.empty(n)
        full_grad = need_grad and gradient_sample is None
        if self.omega is None:
            total = self._fused(w, _EMPTY_IDX, _EMPTY_W, full_grad, g, D)
        else:
            total = self._fused(w, self._all_rows, self.omega, full_grad, g, D)
            D *= self.omega
        if need_grad and gradient_sample is not None:
            idx = gradient_sample.indices
            wts = gradient_sample.weights
            if self.omega is not None:
                wts = wts * self.omega[idx]
            self._fused(w, idx, wts, True, g, np.empty(idx.shape[0]))
        w_pen = w * self.penalty_mask
        fun = total / n + 0.5 * self.penalty * float(w_pen @ w_pen)
        if need_grad:
            g /= n
            g += self.penalty * w_pen
        return Evaluation(w, float(fun), g if need_grad else None, D)

    def hessian_model(self, w_or_eval, *, sample=None, explicit=True) -> HessianModel:
        H = super().hessian_model(w_or_eval, sample=sample, explicit=explicit)
        if not self.penalty:
            return H
        shift = self.penalty * self.penalty_mask
        if H.matrix is not None:
            H.matrix.flat[:: self.n_features + 1] += shift
            return H
        inner = H.matvec
        return HessianModel(self.n_features, H.n_rows, matvec=lambda v: inner(v) + shift * v)


class SubsampledNewtonClassifier(ClassifierMixin, BaseEstimator):
    """Linear binary classifier fitted by a sub-sampled Newton-type method.

    Minimises the mean loss over the training rows (weighted by
    ``sample_weight``) plus ``(alpha/2) ||coef||^2`` (the intercept is not
    penalised) from a zero start, by trust region (``solver="tr"``,
    CG-Steihaug sub-problems) or adaptive cubic regularisation
    (``solver="arc"``, Lanczos sub-problems), each with the Hessian estimated
    on a row sample at every iterate ([1]_). The gradient is exact unless
    ``gradient_sample_size`` is given.

    With ``loss="nls"`` the per-row loss is ``(t_i - sigmoid(x_i^T w + b))^2``
    with ``t_i`` in {0, 1} (``classes_[1]`` is 1): the non-convex loss of the
    papers' ijcnn1/covtype experiments. With ``loss="logistic"`` it is the
    logistic loss (convex). In both cases ``sigmoid(x^T w + b)`` estimates
    the probability of ``classes_[1]`` (the least-squares fit of an indicator
    estimates its conditional mean).

    Parameters
    ----------
    loss : {"nls", "logistic"}, default="nls"
        Non-linear least squares on the sigmoid, or logistic loss.
    solver : {"tr", "arc"}, default="tr"
        Trust region or adaptive cubic regularisation.
    hessian_sampling : {"uniform", "nonuniform", "full"}, default="uniform"
        Rows for the Hessian: uniform without replacement, non-uniform with
        ``p_i ~ |l''_i| ||x_i||^2``, or every row (exact Newton-type method).
    hessian_sample_size : int or float, default=0.05
        Rows per Hessian sample: a count or a fraction of the rows.
    gradient_sample_size : int or float, default=None
        Estimate the gradient on a uniform sample of this size too (the
        acceptance test still uses exact values); ``None``: exact gradient.
    alpha : float, default=0.0
        Ridge penalty on ``coef_`` (not on ``intercept_``).
    fit_intercept : bool, default=True
        Fit a bias (a column of ones appended to ``X``).
    tol : float, default=1e-6
        Stop when the norm of the gradient of the objective is at most ``tol``.
    max_iter : int, default=100
        Maximum trial steps of the solver.
    random_state : None, int, Generator or RandomState, default=None
        Seeds the row samples.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The two labels; ``classes_[1]`` is the positive class.
    coef_ : ndarray of shape (1, n_features)
    intercept_ : ndarray of shape (1,)
    n_iter_ : int
        Trial steps taken (accepted or not).
    history_ : dict of ndarray
        The solver's per-iteration record (``loss``, ``grad_norm``,
        ``radius`` or ``sigma``, ``accepted``, ``time``, ``props``, ...).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string feature names.

    References
    ----------
    .. [1] P. Xu, F. Roosta and M. W. Mahoney, "Newton-type methods for
       non-convex optimization under inexact Hessian information", Math.
       Program. 184 (2020), 35-70.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.estimators import SubsampledNewtonClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((2000, 5))
    >>> y = np.where(X @ np.ones(5) + 0.5 * rng.standard_normal(2000) > 0, "yes", "no")
    >>> clf = SubsampledNewtonClassifier(loss="logistic", alpha=1e-3, random_state=0)
    >>> clf.fit(X, y).score(X, y) > 0.9
    True
    >>> clf.classes_.tolist()
    ['no', 'yes']
    """

    def __init__(
        self,
        loss: str = "nls",
        solver: str = "tr",
        hessian_sampling: str = "uniform",
        hessian_sample_size: int | float = 0.05,
        gradient_sample_size: int | float | None = None,
        alpha: float = 0.0,
        fit_intercept: bool = True,
        tol: float = 1e-6,
        max_iter: int = 100,
        random_state: Any = None,
    ) -> None:
        self.loss = loss
        self.solver = solver
        self.hessian_sampling = hessian_sampling
        self.hessian_sample_size = hessian_sample_size
        self.gradient_sample_size = gradient_sample_size
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_class = False
        return tags

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SubsampledNewtonClassifier:
        """Fit the classifier.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Exactly two distinct labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights; ``None`` weighs every row 1.

        Returns
        -------
        self
        """
        loss = _check_choice(self.loss, "loss", ("nls", "logistic"))
        solver = _check_choice(self.solver, "solver", ("tr", "arc"))
        sampling = _check_choice(
            self.hessian_sampling, "hessian_sampling", ("uniform", "nonuniform", "full")
        )
        alpha = _check_nonneg_float(self.alpha, "alpha")
        tol = _check_nonneg_float(self.tol, "tol")
        max_iter = _check_max_iter(self.max_iter)
        X, y = validate_data(
            self, X, y, accept_sparse=("csr", "csc", "coo"), dtype=np.float64,
            y_numeric=False,
        )
        check_classification_targets(y)
        y_type = type_of_target(y, input_name="y", raise_unknown=True)
        classes = np.unique(y)
        if y_type != "binary" or classes.shape[0] != 2:
            shown = ", ".join(map(repr, classes[:5].tolist()))
            raise ValueError(
                "Only binary classification is supported. The type of the target is "
                f"{y_type}, with {classes.shape[0]} class(es) ({shown}"
                f"{', ...' if classes.shape[0] > 5 else ''}); {type(self).__name__} needs "
                "exactly two classes. For more classes wrap it in "
                "sklearn.multiclass.OneVsRestClassifier."
            )
        self.classes_ = classes
        targets = (y == classes[1]).astype(np.float64)
        sw = None
        if sample_weight is not None:
            sw = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        rng = check_random_state(self.random_state)

        design = _add_intercept_column(X) if self.fit_intercept else X
        if sp.issparse(design):
            design = design.tocsr()
        objective = _WeightedGLM(
            design, targets, _kernels.NLS if loss == "nls" else _kernels.LOGISTIC, alpha, sw,
            penalize_last=not self.fit_intercept,
        )
        run = trust_region if solver == "tr" else arc
        result = run(
            objective, np.zeros(objective.n_features), hessian_sampling=sampling,
            hessian_sample_size=self.hessian_sample_size,
            gradient_sample_size=self.gradient_sample_size, gtol=tol, max_iter=max_iter,
            random_state=rng,
        )
        w = np.asarray(result.x, dtype=np.float64)
        if self.fit_intercept:
            self.coef_ = w[None, :-1].copy()
            self.intercept_ = w[-1:].copy()
        else:
            self.coef_ = w[None, :].copy()
            self.intercept_ = np.zeros(1)
        self.n_iter_ = int(result.nit)
        self.history_ = result.history
        self.status_ = int(result.status)
        if result.status != 0:
            warnings.warn(
                f"{type(self).__name__} stopped before the gradient norm reached "
                f"tol={tol:g} (final gradient norm {float(np.linalg.norm(result.jac)):.3g} "
                f"after {result.nit} iterations): {result.message} Increase max_iter, "
                "loosen tol, or scale the features.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """``X @ coef_.T + intercept_``: positive values predict ``classes_[1]``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=("csr", "csc", "coo"), reset=False,
                          dtype=np.float64)
        return np.asarray(X @ self.coef_[0]).reshape(-1) + self.intercept_[0]

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels (``classes_[1]`` where the decision function is positive).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        positive = self.decision_function(X) > 0
        return self.classes_[positive.astype(int)]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities ``[1 - p, p]`` with ``p = sigmoid(decision_function(X))``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, 2)
            Columns in the order of ``classes_``.
        """
        p = expit(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`, computed without underflow."""
        t = self.decision_function(X)
        # log sigmoid(t) = -log(1 + exp(-t)) = -logaddexp(0, -t)
        return np.column_stack([-np.logaddexp(0.0, t), -np.logaddexp(0.0, -t)])


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
        Rows of the sketch (default ``12 d``; ``A`` is factored directly when
        this reaches the number of rows).
    alpha : float, default=0.0
        Ridge penalty.
    fit_intercept : bool, default=True
    tol : float, default=1e-12
        Relative tolerance of the iterative phase (see :func:`randopt.lstsq`).
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
        Iterations of the iterative phase (0 for sketch-and-solve or a
        direct solve).
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
        """
        alpha = _check_nonneg_float(self.alpha, "alpha")
        tol = _check_nonneg_float(self.tol, "tol", positive=True)
        max_iter = None if self.max_iter is None else _check_max_iter(self.max_iter)
        X, y = validate_data(
            self, X, y, accept_sparse=("csr", "csc", "coo"), dtype=np.float64,
            multi_output=True, y_numeric=True,
        )
        if sp.issparse(X):
            X = X.tocsr()
        y = np.asarray(y, dtype=np.float64)
        sw = (
            np.ones(X.shape[0]) if sample_weight is None
            else _check_sample_weight(sample_weight, X, dtype=np.float64,
                                      ensure_non_negative=True)
        )
        root = np.sqrt(sw)
        t = y * (root if y.ndim == 1 else root[:, None])
        rng = check_random_state(self.random_state)
        opts = dict(
            method=self.method, sketch=self.sketch, sketch_size=self.sketch_size, alpha=alpha,
            tol=tol, maxiter=max_iter, solver=self.solver, random_state=rng,
        )

        if not self.fit_intercept:
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
        self.n_iter_ = int(res.iterations)
        self.result_ = res
        if not res.converged:
            warnings.warn(
                f"{type(self).__name__}: {res.message}; the solution may be inaccurate. "
                "Increase max_iter or sketch_size, or loosen tol.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

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
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=("csr", "csc", "coo"), reset=False,
                          dtype=np.float64)
        return np.asarray(X @ self.coef_.T) + self.intercept_
