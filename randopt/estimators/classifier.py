"""A linear classifier (two or more classes) fitted by a sub-sampled Newton-type method."""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
from scipy.special import expit, log_expit, log_softmax, logsumexp, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._validation import (
    check_bool,
    check_choice,
    check_random_state,
    check_sample_size,
    check_scalar,
)
from ..optimize import arc, trust_region
from ..oracles import (
    FiniteSum,
    LogisticLoss,
    OneHotSigmoidLeastSquaresLoss,
    SigmoidLeastSquaresLoss,
    SoftmaxLoss,
)
from ._input import SPARSE_FORMATS, add_intercept_column, sample_weights

__all__ = ["SubsampledNewtonClassifier"]

#: The ``loss`` option and the loss object it stands for, for two classes ...
LOSSES = {"nls": SigmoidLeastSquaresLoss, "logistic": LogisticLoss}
#: ... and for ``K > 2`` classes (constructed with ``K``).
MULTICLASS_LOSSES = {"nls": OneHotSigmoidLeastSquaresLoss, "logistic": SoftmaxLoss}
SOLVERS = {"tr": trust_region, "arc": arc}
HESSIAN_SAMPLING = ("uniform", "nonuniform", "full")


class SubsampledNewtonClassifier(ClassifierMixin, BaseEstimator):
    """Linear classifier fitted by a sub-sampled Newton-type method.

    Minimises the mean loss over the training rows (weighted by
    ``sample_weight``: ``sum_i s_i l_i / sum_i s_i``) plus
    ``(alpha/2) ||coef||^2`` (the intercept is not penalised) from a zero
    start, by trust region (``solver="tr"``, CG-Steihaug sub-problems) or
    adaptive cubic regularisation (``solver="arc"``, Lanczos sub-problems),
    each with the Hessian estimated on a row sample at every iterate ([1]_).
    The gradient is exact unless ``gradient_sample_size`` is given. The
    objective is a public :class:`randopt.oracles.FiniteSum`, the solver a
    public :func:`randopt.optimize.trust_region` or :func:`randopt.optimize.arc`;
    the estimator only encodes the labels, appends the intercept column and
    reshapes the solution.

    Two classes (``classes_[1]`` the positive one, target ``t_i`` in {0, 1}):
    ``loss="nls"`` is ``(t_i - sigmoid(x_i^T w + b))^2``
    (:class:`randopt.oracles.SigmoidLeastSquaresLoss`, the non-convex loss of
    the papers' ijcnn1/covtype experiments) and ``loss="logistic"`` the
    logistic loss (:class:`randopt.oracles.LogisticLoss`, convex); in both
    ``sigmoid(x^T w + b)`` estimates the probability of ``classes_[1]`` (the
    least-squares fit of an indicator estimates its conditional mean).

    ``K > 2`` classes are fitted jointly, one coefficient row per class
    (scores ``t_ik = x_i^T w_k + b_k``): ``loss="logistic"`` is the
    multinomial logistic (softmax cross-entropy) loss
    ``logsumexp_k t_ik - t_{i y_i}`` (:class:`randopt.oracles.SoftmaxLoss`,
    scikit-learn's multinomial ``LogisticRegression`` objective; adding the
    same vector to every class's coefficients changes no probability, and
    ``coef_``, ``intercept_`` are the representative summing to zero over
    the classes), and
    ``loss="nls"`` the one-hot sigmoid least squares
    ``sum_k (1[y_i = k] - sigmoid(t_ik))^2``
    (:class:`randopt.oracles.OneHotSigmoidLeastSquaresLoss`). The
    probabilities are the softmax of the scores for ``"logistic"``, and the
    ``K`` sigmoids normalised to sum to one for ``"nls"`` (each sigmoid
    estimates its class's indicator; the normalisation makes them a
    distribution and keeps their ranking).

    Parameters
    ----------
    loss : {"nls", "logistic"}, default="nls"
        Non-linear (sigmoid) least squares, or logistic (softmax for K > 2) loss.
    solver : {"tr", "arc"}, default="tr"
        Trust region or adaptive cubic regularisation.
    hessian_sampling : {"uniform", "nonuniform", "full"}, default="uniform"
        Rows for the Hessian: uniform without replacement, non-uniform with
        ``p_i ~ s_i |l''_i| ||x_i||^2``, or every row (exact Newton-type method).
    hessian_sample_size : "auto", int or float, default="auto"
        Rows per Hessian sample: ``"auto"``, the solvers' adaptive schedule
        (:func:`randopt.optimize.trust_region`: a size from a cost model,
        grown as the iteration needs, and the exact Hessian where that is no
        more expensive, e.g. on small data, which then makes the fit
        deterministic), or a fixed count or fraction of the rows (the papers'
        setting is ``0.05``).
    gradient_sample_size : int or float, default=None
        Estimate the gradient on a uniform sample of this size too (the
        acceptance test still uses exact values); ``None``: exact gradient.
    alpha : float, default=0.0
        Ridge penalty on ``coef_`` (not on ``intercept_``), on the scale of
        the mean loss. scikit-learn's ``LogisticRegression(C)`` minimises
        ``C sum_i s_i l_i + ||coef||^2 / 2``, whose minimiser is this one's
        for ``alpha = 1 / (C sum_i s_i)`` (``1 / (C n)`` without weights).
        With ``alpha = 0`` separable data have no finite minimiser; the fit
        then stops where the gradient norm falls below ``tol``.
    fit_intercept : bool, default=True
        Fit a bias (a column of ones appended to ``X``, left out of the penalty).
    tol : float, default=1e-6
        Stop when the norm of the gradient of the objective is at most ``tol``.
    max_iter : int, default=100
        Maximum trial steps of the solver.
    random_state : None, int, Generator or RandomState, default=None
        Seeds the row samples.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels, sorted; for two classes ``classes_[1]`` is the positive one.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        One row for two classes, one row per class for more.
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_iter_ : int
        Trial steps taken (accepted or not).
    history_ : dict of ndarray
        The solver's per-iteration record (``loss``, ``grad_norm``,
        ``radius`` or ``sigma``, ``accepted``, ``hessian_rows``, ``time``,
        ``props``, ...).
    status_ : int
        The solver's status code (0: ``tol`` reached).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string feature names.

    References
    ----------
    .. [1] P. Xu, F. Roosta and M. W. Mahoney, "Newton-type methods for
       non-convex optimization under inexact Hessian information", Math.
       Program. 184 (2020), 35-70.
    .. [2] F. Roosta-Khorasani and M. W. Mahoney, "Sub-sampled Newton methods",
       Math. Program. 174 (2019), 293-326.

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
    >>> clf.classes_.tolist(), clf.coef_.shape
    (['no', 'yes'], (1, 5))

    Three classes are fitted jointly:

    >>> y3 = np.digitize(X @ np.ones(5), [-1.0, 1.0])
    >>> clf3 = SubsampledNewtonClassifier(loss="logistic", alpha=1e-3, random_state=0)
    >>> clf3.fit(X, y3).coef_.shape, clf3.predict_proba(X[:2]).sum(axis=1).round(12).tolist()
    ((3, 5), [1.0, 1.0])
    """

    def __init__(
        self,
        loss: str = "nls",
        solver: str = "tr",
        hessian_sampling: str = "uniform",
        hessian_sample_size: str | int | float = "auto",
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
        tags.classifier_tags.multi_class = True
        return tags

    def _validated_params(self) -> dict[str, Any]:
        """Every parameter, checked once at the start of :meth:`fit` (errors name it).

        The sample sizes are checked for their type here and against the number
        of rows once the data are read (:meth:`fit`).
        """
        hessian_sample_size = self.hessian_sample_size
        if not (isinstance(hessian_sample_size, str) and hessian_sample_size == "auto"):
            _check_size_type(hessian_sample_size, "hessian_sample_size", "'auto', ")
        if self.gradient_sample_size is not None:
            _check_size_type(self.gradient_sample_size, "gradient_sample_size", "None, ")
        return {
            "loss": check_choice(self.loss, "loss", tuple(LOSSES)),
            "solver": check_choice(self.solver, "solver", tuple(SOLVERS)),
            "hessian_sampling": check_choice(self.hessian_sampling, "hessian_sampling",
                                             HESSIAN_SAMPLING),
            "alpha": check_scalar(self.alpha, "alpha", low=0.0),
            "fit_intercept": check_bool(self.fit_intercept, "fit_intercept"),
            "tol": check_scalar(self.tol, "tol", low=0.0),
            "max_iter": check_scalar(self.max_iter, "max_iter", kind=int, low=1),
            "random_state": check_random_state(self.random_state),
        }

    def _objective(
        self, X: Any, targets: np.ndarray, sample_weight: Any, n_classes: int,
        params: dict[str, Any],
    ) -> FiniteSum:
        """The penalised, weighted finite sum that :meth:`fit` minimises."""
        name = params["loss"]
        loss = LOSSES[name]() if n_classes == 2 else MULTICLASS_LOSSES[name](n_classes)
        alpha = params["alpha"]
        fit_intercept = params["fit_intercept"]
        design = add_intercept_column(X) if fit_intercept else X
        mask = None
        if fit_intercept:
            # The intercept is the coefficient (row, for K > 2) of the ones column.
            mask = _coefficients(np.ones(loss.n_coefficients(design.shape[1])), n_classes,
                                 design.shape[1])
            mask[:, -1] = 0.0
            mask = _flat(mask)
        sw = None if sample_weight is None else sample_weights(sample_weight, X.shape[0])
        return FiniteSum(
            design, targets, loss, alpha=alpha, sample_weight=sw, penalty_mask=mask
        )

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SubsampledNewtonClassifier:
        """Fit the classifier.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            At least two distinct labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights; ``None`` weighs every row 1. Integer
            weights fit the same model as repeated rows.

        Returns
        -------
        self

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.estimators import SubsampledNewtonClassifier
        >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]]); y = np.array([0, 1, 0, 1])
        >>> clf = SubsampledNewtonClassifier(loss="logistic", alpha=0.1,
        ...                                  hessian_sampling="full").fit(X, y)
        >>> clf.n_iter_ > 0, clf.coef_.shape
        (True, (1, 1))
        """
        params = self._validated_params()
        tol = params["tol"]
        X, y = validate_data(
            self, X, y, accept_sparse=SPARSE_FORMATS, dtype=np.float64, y_numeric=False
        )
        n_samples = X.shape[0]
        if not isinstance(self.hessian_sample_size, str):
            check_sample_size(self.hessian_sample_size, n_samples, "hessian_sample_size")
        if self.gradient_sample_size is not None:
            check_sample_size(self.gradient_sample_size, n_samples, "gradient_sample_size")
        check_classification_targets(y)
        classes, index = np.unique(y, return_inverse=True)
        n_classes = classes.shape[0]
        if n_classes < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least two classes in y; got 1 "
                f"class ({classes[0]!r})"
            )
        # Two classes: the 0/1 indicator of classes_[1]; more: class indices 0..K-1.
        targets = index.astype(np.float64) if n_classes == 2 else index.astype(np.intp)
        objective = self._objective(X, targets, sample_weight, n_classes, params)
        result = SOLVERS[params["solver"]](
            objective, np.zeros(objective.n_features),
            hessian_sampling=params["hessian_sampling"],
            hessian_sample_size=self.hessian_sample_size,
            gradient_sample_size=self.gradient_sample_size, gtol=tol,
            max_iter=params["max_iter"], random_state=params["random_state"],
        )
        self.classes_ = classes
        W = _coefficients(np.asarray(result.x, dtype=np.float64), n_classes,
                          X.shape[1] + params["fit_intercept"])
        self._link = "sigmoid" if n_classes == 2 or params["loss"] == "nls" else "softmax"
        if self._link == "softmax":
            # The softmax is unchanged by a common shift of every class's coefficients:
            # keep the representative summing to zero over the classes. The loss is the
            # same, the penalty no larger (the minimiser's own coefficients sum to zero
            # when alpha > 0), and the fit no longer depends on a drift of the solver's
            # iterates along that flat direction (e.g. from a random Lanczos restart).
            W -= W.mean(axis=0)
        if params["fit_intercept"]:
            self.coef_ = np.ascontiguousarray(W[:, :-1])
            self.intercept_ = W[:, -1].copy()
        else:
            self.coef_ = W
            self.intercept_ = np.zeros(W.shape[0])
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
        """The scores ``X @ coef_.T + intercept_``.

        For two classes a 1-D array whose positive values predict
        ``classes_[1]``; for more, one column per class (the largest predicts).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.estimators import SubsampledNewtonClassifier
        >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]]); y = np.array([0, 1, 0, 1])
        >>> clf = SubsampledNewtonClassifier(loss="logistic", alpha=0.1,
        ...                                  hessian_sampling="full").fit(X, y)
        >>> bool(np.all(np.diff(clf.decision_function(X)) > 0))
        True
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=SPARSE_FORMATS, reset=False, dtype=np.float64)
        if self.coef_.shape[0] == 1:
            return np.asarray(X @ self.coef_[0]).reshape(-1) + self.intercept_[0]
        return np.asarray(X @ self.coef_.T) + self.intercept_

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels: the class of the largest score (or probability).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.estimators import SubsampledNewtonClassifier
        >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]]); y = np.array([0, 1, 0, 1])
        >>> clf = SubsampledNewtonClassifier(loss="logistic", alpha=0.1,
        ...                                  hessian_sampling="full").fit(X, y)
        >>> clf.predict(np.array([[-10.0], [10.0]])).tolist()
        [0, 1]
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, rows summing to one.

        Two classes: ``[1 - p, p]`` with ``p = sigmoid(decision_function(X))``.
        More: the softmax of the scores (``loss="logistic"``), or the
        sigmoids of the scores normalised to sum to one (``loss="nls"``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.estimators import SubsampledNewtonClassifier
        >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]]); y = np.array([0, 1, 0, 1])
        >>> clf = SubsampledNewtonClassifier(loss="logistic", alpha=0.1,
        ...                                  hessian_sampling="full").fit(X, y)
        >>> bool(np.allclose(clf.predict_proba(X).sum(axis=1), 1.0))
        True
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            p = expit(scores)
            return np.column_stack([1.0 - p, p])
        if self._link == "softmax":
            return softmax(scores, axis=1)
        # exp of the normalised log-sigmoids: no 0/0 when every sigmoid underflows.
        return np.exp(_normalised_log_sigmoids(scores))

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`, computed without underflow.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.estimators import SubsampledNewtonClassifier
        >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]]); y = np.array([0, 1, 0, 1])
        >>> clf = SubsampledNewtonClassifier(loss="logistic", alpha=0.1,
        ...                                  hessian_sampling="full").fit(X, y)
        >>> bool(np.allclose(np.exp(clf.predict_log_proba(X)), clf.predict_proba(X)))
        True
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            # log sigmoid(t) = -log(1 + exp(-t)) = -logaddexp(0, -t)
            return np.column_stack([-np.logaddexp(0.0, scores), -np.logaddexp(0.0, -scores)])
        if self._link == "softmax":
            return log_softmax(scores, axis=1)
        return _normalised_log_sigmoids(scores)


def _check_size_type(value: Any, name: str, other: str) -> None:
    """A sample size must be an int count or a float fraction (its range needs ``n``)."""
    if isinstance(value, str):  # a wrong choice, as the solvers report it
        raise ValueError(f"{name} must be {other}an int count or a float fraction, got {value!r}")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be {other}an int count or a float fraction, got {value!r}"
        )
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be positive (a count >= 1 or a fraction in (0, 1]), "
                         f"got {value!r}")


def _normalised_log_sigmoids(scores: np.ndarray) -> np.ndarray:
    """``log(sigmoid(t_k) / sum_j sigmoid(t_j))`` per row, in the log domain."""
    log_s = log_expit(scores)
    return log_s - logsumexp(log_s, axis=1, keepdims=True)


def _coefficients(w: np.ndarray, n_classes: int, n_columns: int) -> np.ndarray:
    """The coefficient vector as scikit-learn's ``(classes, columns)`` matrix (a copy).

    Two classes have one row. For more, the multiclass losses hold the
    coefficients as ``W`` of shape ``(columns, classes)`` in C order (``X @ W``
    is one product), so ``coef`` is ``W.T``.
    """
    if n_classes == 2:
        return w.reshape(1, n_columns).copy()
    return np.ascontiguousarray(w.reshape(n_columns, n_classes).T)


def _flat(coef: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_coefficients`: the loss's coefficient vector."""
    return coef.ravel() if coef.shape[0] == 1 else coef.T.ravel()
