"""benchopt benchmark: L2-regularised logistic regression (issue 18, item 4).

benchopt's layout: ``objective.py`` (the objective), ``datasets/*.py`` and
``solvers/*.py`` (one class each, found by benchopt by file), the
configurations ``config_full.yml`` and ``config_quick.yml``; ``run.py`` runs
it with pinned threads and ``report.py`` prints the time to a relative
sub-optimality. See ``docs/benchopt.md``.

The files of ``datasets/`` and ``solvers/`` are not modules of this package
(benchopt imports them by path): do not import them from here.
"""
