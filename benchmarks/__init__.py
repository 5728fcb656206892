"""The benchmarks: randopt against the baselines a user would pick, ratios in one run.

Run from the repository root, e.g. ``python -m benchmarks.bench_solvers --quick``.
Each ``bench_*`` module is one benchmark; :mod:`benchmarks.timing` holds what
they share (best-of-k timing, warm-up timed apart, BLAS/Numba thread pinning,
ratios and tables). Not installed with the wheel.
"""
