"""Objectives for the second-order solvers: finite sums and user callables.

A finite sum is ``f(w) = (1/n) sum_i l(a_i^T w; y_i) + (alpha/2) ||w||^2``
over the rows ``a_i`` of a data matrix ``X`` (dense or CSR, float32 or
float64). Its Hessian is ``(1/n) X^T diag(l'') X + alpha I``, so a Hessian
restricted to a row sample ``S`` with importance weights ``omega`` is

    H_S = (1/n) A_S^T diag(omega * l''_S) A_S + alpha I,

an unbiased estimate of the full Hessian whenever ``sum_k omega_k g[i_k]``
is an unbiased estimate of ``sum_i g_i`` (the convention of
:class:`randopt.sketch.Sample`). The value, gradient and every ``l''_i`` come
out of one fused Numba pass over ``X`` (:mod:`randopt.oracles._kernels`).

References
----------
.. [1] P. Xu, F. Roosta and M. W. Mahoney, "Newton-type methods for non-convex
       optimization under inexact Hessian information", Math. Program. 184
       (2020), 35-70.
.. [2] P. Xu, J. Yang, F. Roosta, C. Re and M. W. Mahoney, "Sub-sampled Newton
       methods with non-uniform sampling", NeurIPS (2016).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp

from .._validation import check_matrix, check_rhs, check_vector
from ..distributed._detect import is_dask_array
from ..sketch.sampling import Sample
from . import _kernels

__all__ = [
    "Objective",
    "FiniteSum",
    "CallableObjective",
    "Evaluation",
    "HessianModel",
]

_EMPTY_IDX = np.empty(0, dtype=np.int64)
_EMPTY_W = np.empty(0, dtype=np.float64)


class Evaluation(NamedTuple):
    """Value, gradient and per-row curvature of an objective at ``x``.

    ``curvature`` holds ``l''(a_i^T x)`` for every row of a finite sum (the
    Hessian weights before the ``1/n`` scaling), ``None`` for callables.
    ``grad`` may be a sub-sampled estimate (see ``Objective.evaluate``).
    """

    x: np.ndarray
    fun: float
    grad: np.ndarray
    curvature: np.ndarray | None


class HessianModel:
    """A (possibly sub-sampled) Hessian, as an explicit matrix or as products.

    Parameters
    ----------
    dim : int
        Number of variables.
    n_rows : int
        Number of data rows one product touches, for cost accounting: a
        Hessian-vector product counts ``2 * n_rows`` propagations.
    matvec : callable, optional
        ``v -> H v``; derived from ``matrix`` when omitted.
    matrix : ndarray of shape (dim, dim), optional
        The explicit symmetric matrix when it was formed.
    """

    __slots__ = ("dim", "n_rows", "matrix", "_matvec", "n_products")

    def __init__(
        self,
        dim: int,
        n_rows: int,
        *,
        matvec: Callable[[np.ndarray], np.ndarray] | None = None,
        matrix: np.ndarray | None = None,
    ) -> None:
        if matvec is None and matrix is None:
            raise ValueError("HessianModel needs a matvec or a matrix")
        self.dim = int(dim)
        self.n_rows = int(n_rows)
        self.matrix = matrix
        self._matvec = matvec
        self.n_products = 0

    def matvec(self, v: np.ndarray) -> np.ndarray:
        """``H v``; counts one product."""
        self.n_products += 1
        if self.matrix is not None:
            return self.matrix @ v
        return self._matvec(v)

    def toarray(self) -> np.ndarray:
        """The explicit matrix (formed column by column from products if needed)."""
        if self.matrix is None:
            eye = np.eye(self.dim)
            cols = np.column_stack([self._matvec(eye[:, j]) for j in range(self.dim)])
            self.n_products += self.dim
            self.matrix = 0.5 * (cols + cols.T)
        return self.matrix


class Objective:
    """Interface every objective offers to the solvers.

    Attributes
    ----------
    n_features : int
        Length of the variable ``w``.
    n_samples : int
        Rows of the finite sum (1 for user callables); a full gradient costs
        ``2 n_samples`` propagations, a value ``n_samples``.
    """

    n_features: int
    n_samples: int
    supports_sampling: bool = False

    # -- public oracles ---------------------------------------------------- #
    def value(self, w: Any) -> float:
        """Objective value ``f(w)``."""
        return self.evaluate(self._check_w(w), need_grad=False).fun

    def gradient(self, w: Any, sample: Any = None) -> np.ndarray:
        """Gradient, full or estimated on a row ``sample``."""
        w = self._check_w(w)
        return self.evaluate(w, gradient_sample=self._check_sample(sample)).grad

    def value_and_gradient(self, w: Any, sample: Any = None) -> tuple[float, np.ndarray]:
        """``(f(w), gradient)`` from one pass (``jac=True`` style for scipy)."""
        ev = self.evaluate(self._check_w(w), gradient_sample=self._check_sample(sample))
        return ev.fun, ev.grad

    def hessp(self, w: Any, v: Any, sample: Any = None) -> np.ndarray:
        """Hessian-vector product ``H(w) v`` (full, or on a row ``sample``)."""
        w = self._check_w(w)
        v = check_vector(v, "v", size=self.n_features)
        model = self.hessian_model(w, sample=self._check_sample(sample), explicit=False)
        return model.matvec(v)

    def hessian(self, w: Any, sample: Any = None) -> np.ndarray:
        """Explicit (sub-sampled) Hessian ``A_S^T diag(weights * D_S) A_S + alpha I``."""
        w = self._check_w(w)
        return self.hessian_model(w, sample=self._check_sample(sample), explicit=True).toarray()

    # -- solver protocol ---------------------------------------------------- #
    def evaluate(
        self, w: np.ndarray, *, need_grad: bool = True, gradient_sample: Sample | None = None
    ) -> Evaluation:
        raise NotImplementedError

    def hessian_model(
        self,
        w_or_eval: np.ndarray | Evaluation,
        *,
        sample: Sample | None = None,
        explicit: bool = True,
    ) -> HessianModel:
        raise NotImplementedError

    def hessian_probabilities(self, ev: Evaluation) -> np.ndarray:
        raise TypeError(
            f"{type(self).__name__} has no rows to sample; use hessian_sampling='full'"
        )

    # -- helpers -------------------------------------------------------------- #
    def _check_w(self, w: Any) -> np.ndarray:
        return check_vector(w, "w", size=self.n_features)

    def _check_sample(self, sample: Any) -> Sample | None:
        if sample is None:
            return None
        if not self.supports_sampling:
            raise TypeError(f"{type(self).__name__} cannot be sub-sampled; pass sample=None")
        return as_sample(sample, self.n_samples)


def as_sample(sample: Any, n: int) -> Sample:
    """Normalise ``sample``: a :class:`Sample`, a pair ``(indices, weights)`` or indices.

    Bare indices mean a plain average over those rows (weights ``n / |S|``).
    """
    if isinstance(sample, tuple) and len(sample) == 2:
        idx, wts = sample
    else:
        idx, wts = sample, None
    idx = np.asarray(idx)
    if idx.ndim != 1 or idx.size == 0:
        raise ValueError("sample indices must be a non-empty 1-D integer array")
    if not np.issubdtype(idx.dtype, np.integer):
        raise TypeError(f"sample indices must be integers, got dtype {idx.dtype}")
    if idx.min() < 0 or idx.max() >= n:
        raise ValueError(f"sample indices must lie in [0, {n}), got [{idx.min()}, {idx.max()}]")
    idx = np.ascontiguousarray(idx, dtype=np.int64)
    if wts is None:
        wts = np.full(idx.shape[0], n / idx.shape[0])
    else:
        wts = check_vector(wts, "sample weights", size=idx.shape[0])
    return Sample(idx, wts)


class FiniteSum(Objective):
    """``f(w) = (1/n) sum_i l(a_i^T w; y_i) + (alpha/2)||w||^2`` over rows of ``X``.

    Subclasses fix the per-row loss ``l`` (:class:`NonlinearLeastSquares`,
    :class:`LogisticRegression`, :class:`LeastSquares`); they share the fused
    kernels, the sub-sampled Hessians and the validation here.

    Parameters
    ----------
    X : array-like or sparse matrix of shape (n_samples, n_features)
        Data, one row per term. Dense input is stored C-ordered, sparse input
        as CSR; float32 is kept (kernels accumulate in float64).
    y : array-like of shape (n_samples,)
        Targets (already validated/mapped by the subclass).
    alpha : float, default=0
        Ridge parameter.
    """

    supports_sampling = True
    _loss_code: int = -1

    def __init__(self, X: Any, y: Any, alpha: float = 0.0) -> None:
        self._dask = None
        if is_dask_array(X):
            # Row-chunked Dask data: passes become map-reduces over the chunks
            # (randopt.distributed.oracles); y stays distributed too.
            from ..distributed.oracles import DaskData

            self._dask = DaskData(X, y)
            self.X, self.y, self._sparse = self._dask.X, self._dask.y, False
            self.n_samples, self.n_features = self._dask.shape
            self._set_alpha(alpha)
            self._row_norms_sq = None
            return
        X = check_matrix(X, "X", accept_sparse=True)
        if sp.issparse(X):
            X = sp.csr_matrix(X)
            X.sum_duplicates()
            self._sparse = True
        else:
            X = np.ascontiguousarray(X)
            self._sparse = False
        self.X = X
        self.n_samples, self.n_features = X.shape
        self.y = check_rhs(y, self.n_samples, "y").astype(np.float64, copy=False)
        if self.y.ndim != 1:
            raise ValueError(f"y must be 1-D, got shape {self.y.shape}")
        self._set_alpha(alpha)
        self._row_norms_sq: np.ndarray | None = None

    def _set_alpha(self, alpha: Any) -> None:
        alpha = float(alpha)
        if not np.isfinite(alpha) or alpha < 0:
            raise ValueError(f"alpha must be a finite number >= 0, got {alpha}")
        self.alpha = alpha

    def _labels(self, y: Any) -> Any:
        """Binary labels mapped to {0, 1} (lazily, chunk by chunk, for Dask data)."""
        if self._dask is not None:
            from ..distributed.oracles import dask_binary_labels

            self._dask.y = dask_binary_labels(y, self._dask.X.chunks[0])
            return self._dask.y
        return binary_labels(y, self.n_samples)

    def __repr__(self) -> str:
        kind = "Dask" if self._dask is not None else "CSR" if self._sparse else "dense"
        return (
            f"{type(self).__name__}(n_samples={self.n_samples}, n_features={self.n_features}, "
            f"{kind} {self.X.dtype}, alpha={self.alpha:g})"
        )

    # -- kernels dispatch ------------------------------------------------------ #
    def _fused(self, w, idx, weights, need_grad, g_out, D_out) -> float:
        if self._sparse:
            X = self.X
            return _kernels.csr_fused(
                X.data, X.indices, X.indptr, self.n_features, self.y, w, self._loss_code,
                idx, weights, need_grad, g_out, D_out, _kernels.n_chunks(D_out.shape[0]),
            )
        return _kernels.dense_fused(
            self.X, self.y, w, self._loss_code, idx, weights, need_grad, g_out, D_out,
            _kernels.n_chunks(D_out.shape[0]),
        )

    def evaluate(
        self, w: np.ndarray, *, need_grad: bool = True, gradient_sample: Sample | None = None
    ) -> Evaluation:
        """Value, gradient and all ``l''_i`` at ``w`` in one pass over ``X``.

        With ``gradient_sample`` the value and curvature still use every row
        (the solvers need the exact value for their acceptance test), the
        gradient only the sampled rows, re-weighted.
        """
        n, d = self.n_samples, self.n_features
        if self._dask is not None:
            return self._evaluate_dask(w, need_grad, gradient_sample)
        g = np.empty(d)
        D = np.empty(n)
        full_grad = need_grad and gradient_sample is None
        total = self._fused(w, _EMPTY_IDX, _EMPTY_W, full_grad, g, D)
        if need_grad and gradient_sample is not None:
            Ds = np.empty(gradient_sample.indices.shape[0])
            self._fused(w, gradient_sample.indices, gradient_sample.weights, True, g, Ds)
        fun = total / n
        if self.alpha:
            fun += 0.5 * self.alpha * float(w @ w)
        if need_grad:
            g /= n
            if self.alpha:
                g += self.alpha * w
        return Evaluation(w, float(fun), g if need_grad else None, D)

    def _evaluate_dask(self, w, need_grad, gradient_sample) -> Evaluation:
        # The value always uses every row (one map-reduce); a sampled gradient
        # gathers its rows only. Curvature of all n rows is not kept: None.
        n = self.n_samples
        total, g = self._dask.value_grad(w, self._loss_code, need_grad and gradient_sample is None)
        if need_grad and gradient_sample is not None:
            _, g, _, _ = self._dask.sampled(
                w, self._loss_code, gradient_sample.indices, gradient_sample.weights, True
            )
        fun = total / n
        if self.alpha:
            fun += 0.5 * self.alpha * float(w @ w)
        if need_grad:
            g = g / n
            if self.alpha:
                g += self.alpha * w
        return Evaluation(w, float(fun), g if need_grad else None, None)

    def _hessian_model_dask(self, ev, sample, explicit) -> HessianModel:
        n, d = self.n_samples, self.n_features
        alpha, code, w = self.alpha, self._loss_code, ev.x
        if sample is None:
            if explicit:
                H = self._dask.full_hessian(w, code) / n
                if alpha:
                    H.flat[:: d + 1] += alpha
                return HessianModel(d, n, matrix=H)

            def full_matvec(v: np.ndarray) -> np.ndarray:
                out = self._dask.full_hessian_matvec(w, code, v) / n
                return out + alpha * v if alpha else out

            return HessianModel(d, n, matvec=full_matvec)
        _, _, D, Xs = self._dask.sampled(w, code, sample.indices, sample.weights, False)
        coef = D * (sample.weights / n)
        m = sample.indices.shape[0]
        if explicit:
            H = np.empty((d, d))
            if sp.issparse(Xs):
                _kernels.csr_gram(Xs.data, Xs.indices, Xs.indptr, _EMPTY_IDX, coef, H,
                                  _kernels.n_chunks(m, per_thread=1))
            else:
                _kernels.dense_gram(Xs, _EMPTY_IDX, coef, H, _kernels.n_chunks(m, per_thread=1))
            if alpha:
                H.flat[:: d + 1] += alpha
            return HessianModel(d, m, matrix=H)

        def matvec(v: np.ndarray) -> np.ndarray:
            out = np.empty(d)
            if sp.issparse(Xs):
                _kernels.csr_gram_matvec(Xs.data, Xs.indices, Xs.indptr, _EMPTY_IDX, coef, v,
                                         out, _kernels.n_chunks(m))
            else:
                _kernels.dense_gram_matvec(Xs, _EMPTY_IDX, coef, v, out, _kernels.n_chunks(m))
            return out + alpha * v if alpha else out

        return HessianModel(d, m, matvec=matvec)

    def hessian_model(
        self,
        w_or_eval: np.ndarray | Evaluation,
        *,
        sample: Sample | None = None,
        explicit: bool = True,
    ) -> HessianModel:
        """The (sub-sampled) Hessian at a point, as a matrix or as products.

        ``sample=None`` is the full Hessian. Forming the matrix costs one pass
        over the sampled rows (``|S| d^2 / 2`` multiply-adds); products cost
        ``2 |S| d`` each.
        """
        if isinstance(w_or_eval, Evaluation):
            ev = w_or_eval
        elif self._dask is not None:
            ev = Evaluation(w_or_eval, float("nan"), None, None)
        else:
            ev = self.evaluate(w_or_eval, need_grad=False)
        if self._dask is not None:
            return self._hessian_model_dask(ev, sample, explicit)
        n, d = self.n_samples, self.n_features
        if sample is None:
            idx = _EMPTY_IDX
            coef = ev.curvature / n
            n_rows = n
        else:
            idx = sample.indices
            coef = ev.curvature[idx] * (sample.weights / n)
            n_rows = idx.shape[0]
        alpha = self.alpha
        X = self.X
        if explicit:
            H = np.empty((d, d))
            # One d x d accumulator per thread, not per chunk.
            nchunk = _kernels.n_chunks(n_rows, per_thread=1)
            if self._sparse:
                _kernels.csr_gram(X.data, X.indices, X.indptr, idx, coef, H, nchunk)
            else:
                _kernels.dense_gram(X, idx, coef, H, nchunk)
            if alpha:
                H.flat[:: d + 1] += alpha
            return HessianModel(d, n_rows, matrix=H)

        nchunk = _kernels.n_chunks(n_rows)
        if self._sparse:

            def matvec(v: np.ndarray) -> np.ndarray:
                out = np.empty(d)
                _kernels.csr_gram_matvec(X.data, X.indices, X.indptr, idx, coef, v, out, nchunk)
                if alpha:
                    out += alpha * v
                return out

        else:

            def matvec(v: np.ndarray) -> np.ndarray:
                out = np.empty(d)
                _kernels.dense_gram_matvec(X, idx, coef, v, out, nchunk)
                if alpha:
                    out += alpha * v
                return out

        return HessianModel(d, n_rows, matvec=matvec)

    def hessian_weights(self, w: Any) -> np.ndarray:
        """The Hessian weights ``D_i = l''(a_i^T w) / n`` (so ``H = X^T diag(D) X + alpha I``)."""
        if self._dask is not None:
            raise TypeError("hessian_weights of Dask data would be an n-vector on the client")
        return self.evaluate(self._check_w(w), need_grad=False).curvature / self.n_samples

    @property
    def row_norms_sq(self) -> np.ndarray:
        """``||a_i||^2`` for every row (computed once)."""
        if self._row_norms_sq is None:
            if self._sparse:
                self._row_norms_sq = np.asarray(
                    self.X.multiply(self.X).sum(axis=1), dtype=np.float64
                ).ravel()
            else:
                self._row_norms_sq = _kernels.dense_row_norms_sq(self.X)
        return self._row_norms_sq

    def hessian_probabilities(self, ev: Evaluation) -> np.ndarray:
        """Non-uniform Hessian sampling probabilities ``p_i ~ |D_i| ||a_i||^2``.

        These are the row-norm-squared probabilities of the Hessian's square
        root ``diag(|D|)^{1/2} X`` ([2]_); when every weight vanishes (a
        saturated model) they fall back to the plain row norms.
        """
        if self._dask is not None:
            raise TypeError(
                "hessian_sampling='nonuniform' needs the curvature of all n rows on the "
                "client; with Dask data use hessian_sampling='uniform'"
            )
        p = np.abs(ev.curvature) * self.row_norms_sq
        total = p.sum()
        if not total > 0 or not np.isfinite(total):
            p = self.row_norms_sq.copy()
            total = p.sum()
        p /= total
        return p


class CallableObjective(Objective):
    """An objective given as callables, like ``scipy.optimize.minimize``'s.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> float``; when ``grad is True`` it returns ``(f, g)``.
    grad : callable or True
        ``grad(x) -> ndarray``.
    hessp : callable, optional
        ``hessp(x, v) -> ndarray``.
    hess : callable, optional
        ``hess(x) -> ndarray`` (dense); one of ``hessp``/``hess`` is required.
    n_features : int
        Length of ``x``.

    Notes
    -----
    There are no rows to sample: use ``hessian_sampling="full"``. Cost
    accounting treats the objective as one row (value 1, gradient 2,
    Hessian-vector product 2).

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.optimize import rosen, rosen_der, rosen_hess_prod
    >>> from randopt.oracles import CallableObjective
    >>> from randopt.optimize import trust_region
    >>> f = CallableObjective(rosen, rosen_der, hessp=rosen_hess_prod, n_features=3)
    >>> res = trust_region(f, np.zeros(3), hessian_sampling="full", gtol=1e-10)
    >>> np.allclose(res.x, 1.0)
    True
    """

    def __init__(
        self,
        fun: Callable,
        grad: Callable | bool,
        hessp: Callable | None = None,
        hess: Callable | None = None,
        *,
        n_features: int,
    ) -> None:
        if not callable(fun):
            raise TypeError("fun must be callable")
        if grad is not True and not callable(grad):
            raise TypeError("grad must be callable, or True when fun returns (f, g)")
        if hessp is None and hess is None:
            raise ValueError("pass hessp(x, v) or hess(x): the solvers need second derivatives")
        self.fun, self.grad, self._hessp, self._hess = fun, grad, hessp, hess
        self.n_features = int(n_features)
        self.n_samples = 1

    def evaluate(
        self, w: np.ndarray, *, need_grad: bool = True, gradient_sample: Sample | None = None
    ) -> Evaluation:
        if gradient_sample is not None:
            raise TypeError("CallableObjective cannot sub-sample its gradient")
        if self.grad is True:
            f, g = self.fun(w.copy())
        else:
            f = self.fun(w.copy())
            g = self.grad(w.copy()) if need_grad else None
        f = float(f)
        if g is not None:
            g = np.asarray(g, dtype=np.float64).reshape(-1)
            if g.shape[0] != self.n_features:
                raise ValueError(f"grad returned {g.shape[0]} entries, expected {self.n_features}")
        return Evaluation(w, f, g if need_grad else None, None)

    def hessian_model(
        self,
        w_or_eval: np.ndarray | Evaluation,
        *,
        sample: Sample | None = None,
        explicit: bool = True,
    ) -> HessianModel:
        if sample is not None:
            raise TypeError("CallableObjective cannot sub-sample its Hessian")
        w = w_or_eval.x if isinstance(w_or_eval, Evaluation) else w_or_eval
        d = self.n_features
        if self._hess is not None and (explicit or self._hessp is None):
            H = np.asarray(self._hess(w.copy()), dtype=np.float64)
            if H.shape != (d, d):
                raise ValueError(f"hess returned shape {H.shape}, expected {(d, d)}")
            return HessianModel(d, 1, matrix=0.5 * (H + H.T))
        hessp = self._hessp

        def matvec(v: np.ndarray) -> np.ndarray:
            return np.asarray(hessp(w.copy(), v), dtype=np.float64).reshape(d)

        model = HessianModel(d, 1, matvec=matvec)
        if explicit:
            model.toarray()
        return model


def binary_labels(y: Any, n_samples: int, name: str = "y") -> np.ndarray:
    """Validate binary labels and map them to ``{0, 1}`` (``-1`` becomes ``0``)."""
    y = check_rhs(y, n_samples, name)
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {y.shape}")
    values = np.unique(y)
    if np.all(np.isin(values, (0.0, 1.0))):
        return y.astype(np.float64, copy=True)
    if np.all(np.isin(values, (-1.0, 1.0))):
        return (y > 0).astype(np.float64)
    shown = ", ".join(f"{v:g}" for v in values[:5]) + (", ..." if values.size > 5 else "")
    raise ValueError(
        f"{name} must hold binary labels in {{0, 1}} or {{-1, +1}}; got values {{{shown}}}. "
        f"Map the classes first, e.g. y = (y == positive_class)"
    )
