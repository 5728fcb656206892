"""The experiments: the papers' reproduction and the network experiments.

* :mod:`experiments.papers`: the ijcnn1 / covtype experiments of Xu, Roosta and
  Mahoney (``python -m experiments.papers --dataset ijcnn1``);
* :mod:`experiments.networks`: MLP classification, the deep autoencoder, the
  Hessian spectrum of a trained network and the adaptive batch size (ABSA);
* :mod:`experiments.common`: what both use (atomic files, the resumable run
  store, number formatting, the command-line preamble).

Not installed with the wheel: run them from the repository root, e.g.
``python -m experiments.papers --dataset ijcnn1 --quick``. The benchmarks are in
``benchmarks/``.
"""
