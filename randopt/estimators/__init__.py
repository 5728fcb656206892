"""scikit-learn estimators over randopt's public oracles and solvers.

:class:`SubsampledNewtonClassifier` fits a linear classifier with the
sigmoid least-squares loss of Xu, Roosta and Mahoney [1]_ or the logistic
loss, two classes with the binary losses and ``K > 2`` classes jointly
(softmax cross-entropy, or one-hot sigmoid least squares; ``coef_`` of
shape ``(K, d)``): it builds a :class:`randopt.oracles.FiniteSum` (with the
sample weights and a penalty mask that spares the intercepts) and minimises
it by :func:`randopt.optimize.trust_region` or :func:`randopt.optimize.arc`
with a sub-sampled Hessian (``hessian_sample_size="auto"``: the solvers'
adaptive schedule). :class:`SketchedLinearRegression` is ridge regression
solved by randomized sketching (:func:`randopt.lstsq`).

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

from .classifier import SubsampledNewtonClassifier
from .regressor import SketchedLinearRegression

__all__ = ["SubsampledNewtonClassifier", "SketchedLinearRegression"]
