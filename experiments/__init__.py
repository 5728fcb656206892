"""Benchmarks (``bench_*.py``) and the reproduction of the papers' experiments (``reproduce``).

Not installed with the wheel: run them from the repository root, e.g.
``python -m experiments.reproduce --dataset ijcnn1 --quick``.
"""
