"""The interface between objectives and the second-order solvers.

An :class:`Objective` offers the solvers of :mod:`randopt.optimize` one
protocol: ``n_samples``, ``n_features``, ``supports_sampling``,
:meth:`Objective.evaluate` (value, gradient and per-row curvature in one
pass, as an :class:`Evaluation`), :meth:`Objective.hessian_model` (a
possibly sub-sampled Hessian as a :class:`HessianModel`) and
:meth:`Objective.hessian_probabilities` (for non-uniform sampling). Row
samples follow the convention of :class:`randopt.sketch.Sample`:
``sum(weights * g[indices])`` estimates ``sum(g)`` without bias.

The implementations are :class:`randopt.oracles.FiniteSum` (data and a
loss) and :class:`randopt.oracles.CallableObjective` (user callables).

References
----------
.. [1] P. Xu, F. Roosta and M. W. Mahoney, "Newton-type methods for non-convex
       optimization under inexact Hessian information", Math. Program. 184
       (2020), 35-70.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from .._validation import check_bool, check_positive_int, check_vector
from ..sketch import Sample
from ._user_outputs import check_matrix_output, check_vector_output

__all__ = ["Objective", "Evaluation", "HessianModel", "as_sample"]


class Evaluation(NamedTuple):
    """Value, gradient and per-row curvature of an objective at ``x``.

    Attributes
    ----------
    x : ndarray of shape (n_features,)
        The point.
    fun : float
        The objective value (always exact, over every row).
    grad : ndarray of shape (n_features,) or None
        The gradient, possibly a sub-sampled estimate (see
        :meth:`Objective.evaluate`); ``None`` when not requested.
    curvature : ndarray or None
        ``l''(a_i^T x)`` of every row of a finite sum (unweighted: the
        Hessian is ``sum_i c_i l''_i a_i a_i^T`` plus the penalty, with the
        row coefficients ``c_i`` of :class:`~randopt.oracles.FiniteSum`);
        ``None`` for callables and for data that is not in this process's
        memory.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.oracles import LeastSquaresObjective
    >>> ev = LeastSquaresObjective(np.eye(2), np.ones(2)).evaluate(np.zeros(2))
    >>> ev.fun, ev.grad.tolist(), ev.curvature.tolist()
    (0.5, [-0.5, -0.5], [1.0, 1.0])
    """

    x: np.ndarray
    fun: float
    grad: np.ndarray | None
    curvature: np.ndarray | None


class HessianModel:
    """A (possibly sub-sampled) Hessian, as an explicit matrix or as products.

    A model built here from a user's ``matvec`` or ``matrix`` is checked
    once, in the constructor (shapes, a real finite matrix), and each of
    the user's products where it enters (:meth:`matvec`: the shape of ``v``,
    and a real finite output of shape ``(dim,)``, naming ``matvec``). The
    objectives of :mod:`randopt.oracles` build their models from products
    that are correct by construction (the operand's Gram product, which
    checks ``v``): a product then runs straight into its kernel.

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

    Attributes
    ----------
    n_products : int
        Products made so far (``dim`` more when :meth:`toarray` forms the
        matrix from products); the solvers report their sum as ``nhev``.

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.oracles import HessianModel
    >>> H = HessianModel(2, 1, matvec=lambda v: np.array([2.0 * v[0], v[1]]))
    >>> H.matvec(np.ones(2)).tolist(), H.n_products
    ([2.0, 1.0], 1)
    >>> H.toarray()
    array([[2., 0.],
           [0., 1.]])
    """

    __slots__ = ("dim", "n_rows", "matrix", "_matvec", "_shift", "_user", "n_products")

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
        dim = check_positive_int(dim, "dim")
        n_rows = check_positive_int(n_rows, "n_rows", minimum=0)
        if matvec is not None and not callable(matvec):
            raise TypeError(f"matvec must be callable, got {type(matvec).__name__}")
        if matrix is not None:
            matrix = check_matrix_output(matrix, "matrix", dim)
        self.dim, self.n_rows, self.matrix = dim, n_rows, matrix
        self._matvec, self._shift, self._user = matvec, None, True
        self.n_products = 0

    @classmethod
    def _trusted(cls, dim: int, n_rows: int, *, matvec: Callable | None = None,
                 matrix: np.ndarray | None = None, shift: Any = None) -> HessianModel:
        """A model of this package's own products (or a checked matrix): no per-product checks.

        ``shift`` (a scalar or a ``(dim,)`` vector) adds ``shift * v`` to each
        product: the penalty's diagonal.
        """
        self = cls.__new__(cls)
        self.dim, self.n_rows, self.matrix = dim, n_rows, matrix
        self._matvec, self._shift, self._user = matvec, shift, False
        self.n_products = 0
        return self

    def matvec(self, v: np.ndarray) -> np.ndarray:
        """``H v``; counts one product.

        Parameters
        ----------
        v : ndarray of shape (dim,)

        Returns
        -------
        ndarray of shape (dim,)
        """
        self.n_products += 1
        if self.matrix is not None or self._user:
            v = np.asarray(v)
            if v.shape != (self.dim,):
                raise ValueError(f"v must have shape ({self.dim},), got {v.shape}")
            if self.matrix is not None:
                return self.matrix @ v
            # A private copy, as every user callable is handed: a matvec that writes into
            # its argument does not alter the caller's (a solver's) vector.
            return check_vector_output(self._matvec(v.copy()), "matvec", self.dim)
        out = self._matvec(v)
        return out if self._shift is None else out + self._shift * v

    def toarray(self) -> np.ndarray:
        """The explicit matrix (formed column by column from products if needed).

        Returns
        -------
        ndarray of shape (dim, dim)
            Symmetrised when formed from products.
        """
        if self.matrix is None:
            eye = np.eye(self.dim)
            cols = []
            for j in range(self.dim):
                col = self._matvec(eye[:, j])
                if self._user:
                    col = check_vector_output(col, "matvec", self.dim)
                cols.append(col if self._shift is None else col + self._shift * eye[:, j])
            cols = np.column_stack(cols)
            self.n_products += self.dim
            self.matrix = 0.5 * (cols + cols.T)
        return self.matrix


class Objective:
    """Interface every objective offers to the solvers.

    Subclasses implement :meth:`evaluate` and :meth:`hessian_model` (and
    :meth:`hessian_probabilities` when they have rows to sample); the
    convenience oracles (:meth:`value`, :meth:`gradient`, :meth:`hessp`, ...)
    derive from them. :meth:`evaluate` (the solvers' protocol) reports a
    non-finite value or gradient as it is, so that a solver rejects such a
    trial point; the convenience oracles never return one: they raise a
    ValueError naming what is at fault (a user's callable, or the data).

    Attributes
    ----------
    n_features : int
        Length of the variable ``w``.
    n_samples : int
        Rows of the finite sum (1 for user callables); a full gradient costs
        ``2 n_samples`` propagations, a value ``n_samples``.
    supports_sampling : bool
        Whether row samples may be passed.
    is_local : bool
        Whether the data are in this process's memory (read-only property).
    row_length : float
        Mean stored entries per row, the cost model's unit (read-only property).

    Examples
    --------
    >>> import numpy as np
    >>> from randopt.oracles import LogisticObjective, Objective
    >>> f = LogisticObjective(np.eye(2), np.array([1, 0]))
    >>> isinstance(f, Objective), f.n_samples, f.n_features, f.supports_sampling
    (True, 2, 2, True)
    """

    n_features: int
    n_samples: int
    supports_sampling: bool = False
    #: Whether :meth:`gauss_newton_model` is available (a positive semi-definite
    #: Gauss-Newton matrix in place of the Hessian).
    supports_gauss_newton: bool = False
    #: True when the Hessian exists only as products (a user model): forming it
    #: costs ``n_features`` products, so the solvers never form it unless a
    #: sub-problem solver needs the matrix.
    matrix_free: bool = False

    # -- what the solver loop needs to know about the data ------------------- #
    @property
    def is_local(self) -> bool:
        """Whether the data are in this process's memory.

        ``False`` for data held in chunks elsewhere (a Dask array): the
        solvers then skip what needs every row's curvature at hand
        (non-uniform Hessian sampling, reusing an :class:`Evaluation`'s
        curvature). User callables count as local.

        Returns
        -------
        bool

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import LeastSquaresObjective
        >>> LeastSquaresObjective(np.eye(2), np.ones(2)).is_local
        True
        """
        return True

    @property
    def row_length(self) -> float:
        """Mean stored entries per data row: the unit of the solvers' cost model.

        One row's share of a pass costs about ``row_length`` multiply-adds:
        ``n_features`` for dense data and for callables, ``n_features``
        times the density ``nnz / (n_samples * n_cols)`` (at least 1) for
        sparse data.

        Returns
        -------
        float

        Examples
        --------
        >>> import numpy as np
        >>> from scipy import sparse
        >>> from randopt.oracles import LeastSquaresObjective
        >>> LeastSquaresObjective(np.ones((4, 10)), np.ones(4)).row_length
        10.0
        >>> LeastSquaresObjective(sparse.eye(4, 10, format="csr"), np.ones(4)).row_length
        1.0
        """
        return float(self.n_features)

    # -- public oracles ---------------------------------------------------- #
    def value(self, w: Any) -> float:
        """Objective value ``f(w)``.

        Parameters
        ----------
        w : array-like of shape (n_features,)

        Returns
        -------
        float

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import LeastSquaresObjective
        >>> LeastSquaresObjective(np.eye(2), np.ones(2)).value(np.zeros(2))
        0.5
        """
        fun = self.evaluate(w, need_grad=False).fun
        if not math.isfinite(fun):
            raise self._not_finite("value")
        return fun

    def gradient(self, w: Any, sample: Any = None) -> np.ndarray:
        """Gradient, exact or estimated on a row ``sample``.

        Parameters
        ----------
        w : array-like of shape (n_features,)
        sample : Sample, (indices, weights) or indices, optional
            Bare indices mean a plain average over those rows.

        Returns
        -------
        ndarray of shape (n_features,)

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import LeastSquaresObjective
        >>> f = LeastSquaresObjective(np.eye(2), np.ones(2))
        >>> f.gradient(np.zeros(2)).tolist(), f.gradient(np.zeros(2), sample=[1]).tolist()
        ([-0.5, -0.5], [0.0, -1.0])
        """
        return self._finite_gradient(self.evaluate(w, gradient_sample=sample).grad)

    def value_and_gradient(self, w: Any, sample: Any = None) -> tuple[float, np.ndarray]:
        """``(f(w), gradient)`` from one pass (``jac=True`` style for scipy).

        Parameters
        ----------
        w : array-like of shape (n_features,)
        sample : Sample, (indices, weights) or indices, optional

        Returns
        -------
        tuple of (float, ndarray of shape (n_features,))

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import LeastSquaresObjective
        >>> fun, grad = LeastSquaresObjective(np.eye(2), np.ones(2)).value_and_gradient(np.ones(2))
        >>> fun, grad.tolist()
        (0.0, [0.0, 0.0])
        """
        ev = self.evaluate(w, gradient_sample=sample)
        if not math.isfinite(ev.fun):
            raise self._not_finite("value")
        return ev.fun, self._finite_gradient(ev.grad)

    def hessp(self, w: Any, v: Any, sample: Any = None) -> np.ndarray:
        """Hessian-vector product ``H(w) v`` (exact, or on a row ``sample``).

        Parameters
        ----------
        w, v : array-like of shape (n_features,)
        sample : Sample, (indices, weights) or indices, optional

        Returns
        -------
        ndarray of shape (n_features,)

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import LeastSquaresObjective
        >>> f = LeastSquaresObjective(np.diag([2.0, 4.0]), np.zeros(2))
        >>> f.hessp(np.zeros(2), np.ones(2)).tolist()
        [2.0, 8.0]
        """
        v = check_vector(v, "v", size=self.n_features)
        out = self.hessian_model(w, sample=sample, explicit=False).matvec(v)
        if not np.isfinite(out).all():
            raise self._not_finite("Hessian-vector product")
        return out

    def hessian(self, w: Any, sample: Any = None) -> np.ndarray:
        """Explicit (sub-sampled) Hessian.

        Parameters
        ----------
        w : array-like of shape (n_features,)
        sample : Sample, (indices, weights) or indices, optional

        Returns
        -------
        ndarray of shape (n_features, n_features)

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import LeastSquaresObjective
        >>> LeastSquaresObjective(np.diag([2.0, 4.0]), np.zeros(2), alpha=1.0).hessian(np.zeros(2))
        array([[3., 0.],
               [0., 9.]])
        """
        H = self.hessian_model(w, sample=sample, explicit=True).toarray()
        if not np.isfinite(H).all():
            raise self._not_finite("Hessian")
        return H

    # -- solver protocol ---------------------------------------------------- #
    def evaluate(
        self, w: Any, *, need_grad: bool = True, gradient_sample: Any = None
    ) -> Evaluation:
        """Value, gradient (optional, possibly sub-sampled) and curvature at ``w``.

        Parameters
        ----------
        w : array-like of shape (n_features,)
        need_grad : bool, default=True
        gradient_sample : Sample, (indices, weights) or indices, optional
            Estimate the gradient on these rows only (the value stays exact).

        Returns
        -------
        Evaluation
        """
        raise NotImplementedError

    def hessian_model(
        self,
        w_or_eval: Any,
        *,
        sample: Any = None,
        explicit: bool = True,
    ) -> HessianModel:
        """The (sub-sampled) Hessian at a point or at an :class:`Evaluation`.

        Parameters
        ----------
        w_or_eval : array-like of shape (n_features,) or Evaluation
        sample : Sample, (indices, weights) or indices, optional
            ``None``: the exact Hessian.
        explicit : bool, default=True
            Form the matrix (else products only).

        Returns
        -------
        HessianModel
        """
        raise NotImplementedError

    def hessian_matrix_cost(self) -> float:
        """The cost of forming the Hessian as a matrix, in Hessian-vector products.

        On the same rows (a sample or all of them): the solvers form the
        matrix when a sub-problem is expected to take more products than
        this (:func:`randopt.optimize.newton_loop`). The default is the
        one-output-per-row formula ``d / 4`` (a row adds ``d^2 / 2``
        multiply-adds to the lower triangle and ``2 d`` to a product); a
        matrix-free objective forms it from ``d`` products;
        :class:`~randopt.oracles.FiniteSum` asks its loss
        (:meth:`Loss.hessian_matrix_cost`: ``O(K d)`` for ``K`` classes).

        Returns
        -------
        float
            At least 1.

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import LogisticObjective
        >>> LogisticObjective(np.ones((3, 40)), np.array([0, 1, 1])).hessian_matrix_cost()
        10.0
        """
        d = float(self.n_features)
        return d if self.matrix_free else max(d / 4.0, 1.0)

    def gauss_newton_model(
        self,
        w_or_eval: Any,
        *,
        sample: Any = None,
        explicit: bool = True,
    ) -> HessianModel:
        """The (sub-sampled) Gauss-Newton matrix at a point, as a matrix or as products.

        Objectives with ``supports_gauss_newton`` override this; the matrix
        is positive semi-definite (plus the penalty), which makes the
        Gauss-Newton direction a descent direction. For a loss
        ``phi(r(w))`` of residuals ``r`` it is ``J_r^T phi'' J_r``: the Hessian
        without the term ``sum_k phi'_k nabla^2 r_k`` of the residuals'
        curvature. Convex GLM losses (logistic, squared) have linear
        residuals, so there it *is* the Hessian; for non-linear least squares
        (the sigmoid loss) it drops ``2 (s - y) sigmoid''``, which is what
        makes that Hessian indefinite. :func:`randopt.optimize.gauss_newton`
        uses it with the sample convention of :meth:`hessian_model`.

        Parameters
        ----------
        w_or_eval : array-like of shape (n_features,) or Evaluation
        sample : Sample, (indices, weights) or indices, optional
            ``None``: over every row.
        explicit : bool, default=True
            Form the matrix (else products only).

        Returns
        -------
        HessianModel
        """
        raise TypeError(
            f"{type(self).__name__} has no Gauss-Newton matrix (supports_gauss_newton is "
            "False); use the Hessian (trust_region, arc)"
        )

    def round_sample_size(self, size: int) -> int:
        """The row count to draw when ``size`` rows are asked for.

        The default draws exactly ``size``; an objective that compiles its
        passes per batch shape (a JAX model) rounds up to one of a few sizes,
        so that a new sample size does not trigger a new compilation.

        Parameters
        ----------
        size : int
            Requested rows, ``1 <= size <= n_samples``.

        Returns
        -------
        int
            Rows to draw, in ``[size, n_samples]``.

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import LeastSquaresObjective
        >>> LeastSquaresObjective(np.eye(3), np.ones(3)).round_sample_size(2)
        2
        """
        return int(size)

    def hessian_operator(self, w: Any, sample: Any = None) -> Any:
        """The (sub-sampled) Hessian at ``w`` as a SciPy ``LinearOperator``.

        The form the spectral tools take (:mod:`randopt.norms`:
        ``hessian_eigenvalues``, ``hessian_trace``, ``spectral_density``),
        so they analyse any objective, a user's network included.

        Parameters
        ----------
        w : array-like of shape (n_features,)
        sample : Sample, (indices, weights) or indices, optional
            ``None``: the exact Hessian.

        Returns
        -------
        scipy.sparse.linalg.LinearOperator
            Symmetric, of shape ``(n_features, n_features)``, float64;
            each product is one :meth:`hessp` on the same model.

        Examples
        --------
        >>> import numpy as np
        >>> from randopt.oracles import LeastSquaresObjective
        >>> f = LeastSquaresObjective(np.diag([1.0, 2.0]), np.zeros(2))
        >>> (f.hessian_operator(np.zeros(2)) @ np.ones(2)).tolist()
        [0.5, 2.0]
        """
        from scipy.sparse.linalg import LinearOperator

        model = self.hessian_model(w, sample=sample, explicit=False)
        d = self.n_features
        return LinearOperator((d, d), matvec=model.matvec, rmatvec=model.matvec,
                              dtype=np.float64)

    def hessian_probabilities(self, ev: Evaluation) -> np.ndarray:
        """Row probabilities for non-uniform Hessian sampling at ``ev``.

        Parameters
        ----------
        ev : Evaluation

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        raise TypeError(
            f"{type(self).__name__} has no rows to sample; use hessian_sampling='full'"
        )

    # -- helpers -------------------------------------------------------------- #
    def _not_finite(self, what: str) -> ValueError:
        """The error of the public oracles for a non-finite ``what`` ("value", "gradient", ...).

        :meth:`evaluate` reports a non-finite value or gradient as it is (the
        solvers reject such a trial point and shrink the step); the public
        oracles refuse it. Subclasses name the callable or the data at fault.
        """
        return ValueError(
            f"the {what} of {type(self).__name__} is not finite (NaN or infinity) at this point"
        )

    def _finite_gradient(self, g: np.ndarray) -> np.ndarray:
        if not np.isfinite(g).all():
            raise self._not_finite("gradient")
        return g

    def _check_w(self, w: Any) -> np.ndarray:
        return check_vector(w, "w", size=self.n_features)

    def _check_point(self, w_or_eval: Any) -> tuple[np.ndarray, Evaluation | None]:
        """``(w, ev)`` from a point or an :class:`Evaluation` (validated)."""
        if isinstance(w_or_eval, Evaluation):
            return self._check_w(w_or_eval.x), w_or_eval
        return self._check_w(w_or_eval), None

    def _check_sample(self, sample: Any) -> Sample | None:
        if sample is None:
            return None
        if not self.supports_sampling:
            raise TypeError(f"{type(self).__name__} cannot be sub-sampled; pass sample=None")
        return as_sample(sample, self.n_samples)

    @staticmethod
    def _check_need_grad(need_grad: Any) -> bool:
        return check_bool(need_grad, "need_grad")


def as_sample(sample: Any, n: int) -> Sample:
    """Validate a row sample: a :class:`Sample`, a pair ``(indices, weights)`` or indices.

    Parameters
    ----------
    sample : Sample, tuple (indices, weights) or array-like of int
        Bare indices mean a plain average over those rows (weights
        ``n / |S|``).
    n : int
        Number of rows the indices refer to.

    Returns
    -------
    Sample
        int64 indices in ``[0, n)`` and finite float64 weights, one per index.

    Examples
    --------
    >>> from randopt.oracles import as_sample
    >>> s = as_sample([0, 3], 10)
    >>> s.indices.tolist(), s.weights.tolist()
    ([0, 3], [5.0, 5.0])
    """
    n = check_positive_int(n, "n")
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

