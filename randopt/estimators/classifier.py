"""A linear binary classifier fitted by a sub-sampled Newton-type method."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from .._validation import check_bool, check_choice, check_random_state, check_scalar
from ..optimize import arc, trust_region
from ..oracles import FiniteSum, LogisticLoss, SigmoidLeastSquaresLoss
from ._input import SPARSE_FORMATS, add_intercept_column, sample_weights

__all__ = ["SubsampledNewtonClassifier"]

#: The ``loss`` option and the loss object it stands for.
LOSSES = {"nls": SigmoidLeastSquaresLoss, "logistic": LogisticLoss}
SOLVERS = {"tr": trust_region, "arc": arc}
HESSIAN_SAMPLING = ("uniform", "nonuniform", "full")


class SubsampledNewtonClassifier(ClassifierMixin, BaseEstimator):
    """Linear binary classifier fitted by a sub-sampled Newton-type method.

    Minimises the mean loss over the training rows (weighted by
    ``sample_weight``: ``sum_i s_i l_i / sum_i s_i``) plus
    ``(alpha/2) ||coef||^2`` (the intercept is not penalised) from a zero
    start, by trust region (``solver="tr"``, CG-Steihaug sub-problems) or
    adaptive cubic regularisation (``solver="arc"``, Lanczos sub-problems),
    each with the Hessian estimated on a row sample at every iterate ([1]_).
    The gradient is exact unless ``gradient_sample_size`` is given. The
    objective is a public :class:`randopt.oracles.FiniteSum`, the solver a
    public :func:`randopt.optimize.trust_region` or :func:`randopt.optimize.arc`.

    With ``loss="nls"`` the per-row loss is ``(t_i - sigmoid(x_i^T w + b))^2``
    with ``t_i`` in {0, 1} (``classes_[1]`` is 1):
    :class:`randopt.oracles.SigmoidLeastSquaresLoss`, the non-convex loss of
    the papers' ijcnn1/covtype experiments. With ``loss="logistic"`` it is
    :class:`randopt.oracles.LogisticLoss` (convex). In both cases
    ``sigmoid(x^T w + b)`` estimates the probability of ``classes_[1]`` (the
    least-squares fit of an indicator estimates its conditional mean).

    Parameters
    ----------
    loss : {"nls", "logistic"}, default="nls"
        Non-linear (sigmoid) least squares, or logistic loss.
    solver : {"tr", "arc"}, default="tr"
        Trust region or adaptive cubic regularisation.
    hessian_sampling : {"uniform", "nonuniform", "full"}, default="uniform"
        Rows for the Hessian: uniform without replacement, non-uniform with
        ``p_i ~ s_i |l''_i| ||x_i||^2``, or every row (exact Newton-type method).
    hessian_sample_size : int or float, default=0.05
        Rows per Hessian sample: a count or a fraction of the rows.
    gradient_sample_size : int or float, default=None
        Estimate the gradient on a uniform sample of this size too (the
        acceptance test still uses exact values); ``None``: exact gradient.
    alpha : float, default=0.0
        Ridge penalty on ``coef_`` (not on ``intercept_``).
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
    classes_ : ndarray of shape (2,)
        The two labels; ``classes_[1]`` is the positive class.
    coef_ : ndarray of shape (1, n_features)
    intercept_ : ndarray of shape (1,)
    n_iter_ : int
        Trial steps taken (accepted or not).
    history_ : dict of ndarray
        The solver's per-iteration record (``loss``, ``grad_norm``,
        ``radius`` or ``sigma``, ``accepted``, ``time``, ``props``, ...).
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

    def _objective(self, X: Any, targets: np.ndarray, sample_weight: Any) -> FiniteSum:
        """The penalised, weighted finite sum that :meth:`fit` minimises."""
        loss = LOSSES[check_choice(self.loss, "loss", tuple(LOSSES))]()
        alpha = check_scalar(self.alpha, "alpha", low=0.0)
        fit_intercept = check_bool(self.fit_intercept, "fit_intercept")
        design = add_intercept_column(X) if fit_intercept else X
        mask = None
        if fit_intercept:
            mask = np.ones(design.shape[1], dtype=bool)
            mask[-1] = False
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
            Exactly two distinct labels.
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
        solve = SOLVERS[check_choice(self.solver, "solver", tuple(SOLVERS))]
        sampling = check_choice(self.hessian_sampling, "hessian_sampling", HESSIAN_SAMPLING)
        tol = check_scalar(self.tol, "tol", low=0.0)
        max_iter = check_scalar(self.max_iter, "max_iter", kind=int, low=1)
        X, y = validate_data(
            self, X, y, accept_sparse=SPARSE_FORMATS, dtype=np.float64, y_numeric=False
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
        objective = self._objective(X, (y == classes[1]).astype(np.float64), sample_weight)
        result = solve(
            objective, np.zeros(objective.n_features), hessian_sampling=sampling,
            hessian_sample_size=self.hessian_sample_size,
            gradient_sample_size=self.gradient_sample_size, gtol=tol, max_iter=max_iter,
            random_state=check_random_state(self.random_state),
        )
        self.classes_ = classes
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
        return np.asarray(X @ self.coef_[0]).reshape(-1) + self.intercept_[0]

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels (``classes_[1]`` where the decision function is positive).

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
        p = expit(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`, computed without underflow.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, 2)

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
        t = self.decision_function(X)
        # log sigmoid(t) = -log(1 + exp(-t)) = -logaddexp(0, -t)
        return np.column_stack([-np.logaddexp(0.0, t), -np.logaddexp(0.0, -t)])
