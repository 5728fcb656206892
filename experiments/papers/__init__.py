"""The reproduction of the ijcnn1 / covtype experiments of Xu, Roosta and Mahoney.

Usage::

    RANDOPT_DATA=/path/to/datasets python -m experiments.papers --dataset ijcnn1
    python -m experiments.papers --dataset synthetic --quick --out /tmp/repro

Problem (the papers' non-convex one): binary classification by non-linear
least squares, ``f(x) = (1/n) sum_i (b_i - sigmoid(a_i^T x))^2`` with
``b_i in {0, 1}``, no bias and no regulariser, from ``x0 = 0``
(:func:`experiments.papers.problems.make_objective`). With 64 or fewer
features the data are densified (dense rows run the fused kernels faster than CSR).

The pieces, one module each:

* :mod:`experiments.papers.problems`: the data (ijcnn1 without its file in
  ``RANDOPT_DATA`` falls back to a synthetic data set of the same shape and
  says so in the output and in the summary; covtype without its file explains
  how to get it and exits with status 2) and the objective;
* :mod:`experiments.papers.grid`: the runs. TR and ARC
  (:func:`randopt.optimize.trust_region`, :func:`~randopt.optimize.arc`, their
  default sub-problem solvers) and Gauss-Newton with a line search
  (:func:`randopt.optimize.gauss_newton`, as in the papers' code) with the
  full Hessian and with uniform and non-uniform sub-sampled Hessians of every
  ``--sample-sizes`` fraction (5% in the papers), and TR and ARC with
  ``"auto"``, their adaptive sample size (the library's default);
  ``--seeds`` seeds for the sub-sampled runs; and the baselines a user would
  pick: ``scipy.optimize.minimize`` with trust-ncg, trust-exact and
  L-BFGS-B on the same exact oracles, and gradient descent with Armijo
  backtracking;
* :mod:`experiments.papers.runs`: one run and its cost accounting (passes =
  props / n, as the papers count); its files are written atomically by the
  run store of :mod:`experiments.common.runs`, and a rerun with the same
  settings reuses finished runs;
* :mod:`experiments.papers.summaries`: ``f*`` and the per-method table;
* :mod:`experiments.papers.plots`: the convergence figure;
* :mod:`experiments.papers.cli`: the command line (``python -m experiments.papers``).

Every run stops at ``--max-passes`` passes, ``--max-iter`` iterations
(first-order methods: 20 times as many), ``--max-time`` seconds (for TR/ARC/GN
this includes the callbacks) or a gradient norm of ``--gtol``. ``--quick``
runs a 3,000-row subset with a small budget (well under a minute), for CI.

Output (``--out``, default ``results/<dataset>``): ``runs/<run>.csv`` and
``runs/<run>.json`` per run, ``summary.json`` and ``summary.md``, and
``<dataset>.png`` / ``<dataset>.pdf``.

BLAS is pinned to one thread with threadpoolctl (Numba's threads:
``--threads``, default Numba's).

References
----------
.. [1] P. Xu, F. Roosta and M. W. Mahoney, "Newton-type methods for non-convex
   optimization under inexact Hessian information", Math. Program. 184 (2020).
.. [2] P. Xu, F. Roosta and M. W. Mahoney, "Second-order optimization for
   non-convex machine learning: an empirical study", SDM (2020).
"""

