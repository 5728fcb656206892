"""The network experiments: second-order methods on multilayer perceptrons.

* :mod:`~experiments.networks.models`: the networks (pure JAX), their losses
  and their objectives (:class:`randopt.oracles.JaxObjective`);
* :mod:`~experiments.networks.data`: digits and binarized MNIST;
* :mod:`~experiments.networks.runs`: the methods (sub-sampled TR and GN,
  SGD with momentum and Adam) and one run of each;
* :mod:`~experiments.networks.train`: the one driver of the training
  experiments (options, the runs, the report), used by
  :mod:`~experiments.networks.mlp` (``python -m experiments.networks.mlp``)
  and :mod:`~experiments.networks.autoencoder`
  (``python -m experiments.networks.autoencoder``);
* :mod:`~experiments.networks.summaries`: their tables and figures;
* :mod:`~experiments.networks.spectrum`: the Hessian spectrum of a trained
  network (``python -m experiments.networks.spectrum``);
* :mod:`~experiments.networks.absa`: the Hessian-based adaptive batch size
  (``python -m experiments.networks.absa``).

``mlp_objective``, ``mlp_apply`` and ``softmax_cross_entropy`` are importable
from here too. See ``docs/network_experiments.md``.
"""

# The model functions older code imported from the module experiments/networks.py.
from .models import mlp_apply, mlp_objective, softmax_cross_entropy

__all__ = ["mlp_apply", "mlp_objective", "softmax_cross_entropy"]
