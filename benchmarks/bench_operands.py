"""Benchmark of the operand products against the SciPy / NumPy expressions they replace.

Run ``python -m benchmarks.bench_operands`` (about three minutes on 2 cores;
``--only sparse`` or ``--only dense`` for a part, ``--quick`` for a smoke run
at a tenth of the sizes). In one run, at 1 and at 2 threads (BLAS and Numba
pinned together, :func:`benchmarks.timing.pinned_threads`), it prints the
best time per product and the ratio ``reference / randopt`` (above 1:
randopt is faster) for

1. an rcv1-like sparse design (CSR, 20,000 x 47,000, density 0.16%, about
   1.5 M stored entries, Zipf-like column frequencies, unit-norm rows, as
   :func:`rcv1_like` builds it): ``A x``, ``A^T u``, the Gram product
   ``A^T (D (A v))`` a logistic Hessian-vector product makes, ``A^T (A v)``
   and the residual pass ``(A^T (b - A x), ||b - A x||)`` against
   ``scipy.sparse``; and the L2-logistic objective's value and gradient (its
   own fused pass, in ``randopt.oracles``) and exact Hessian-vector product
   (through the Gram product) against SciPy formulas;
2. a dense 200,000 x 200 (tall) array: the same products against NumPy (BLAS);
3. a dense 200 x 500 (wide) array, in microseconds: the same products, the
   explicit Gram matrix ``A^T D A`` (a small problem's Hessian), and the
   fixed cost per call, the operand method's time less the bare NumPy
   expression's (what small problems pay for argument checks and dispatch).

Each figure is the best of ``--rounds`` rounds of ``--repeats`` calls, the
randopt and reference calls of a product interleaved round by round, so that
load from other processes hits both alike (the machine is shared: best-of
figures are the least disturbed ones; compare ratios, not absolute times).
The first two calls of every product (Numba's cache load or compilation, and
the operand's one-off set-up) are timed apart, before the rounds.
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np
import scipy.sparse as sp

from randopt.operands import as_operand

from .timing import measure, pinned_threads, print_table, ratio, threads_line

__all__ = ["rcv1_like", "main"]


def rcv1_like(n: int = 20_000, d: int = 47_000, density: float = 0.0016,
              seed: int = 0) -> sp.csr_matrix:
    """A text-like CSR design: Zipf column frequencies, unit-norm rows.

    Column ``j`` (in a random order) is drawn with probability proportional
    to ``1 / (j + 1)``, rows uniformly, until ``n d density`` distinct
    entries exist; values are exponential, then each row is scaled to unit
    Euclidean norm (as tf-idf rows are).

    Parameters
    ----------
    n, d : int
        Shape.
    density : float
        Fraction of stored entries.
    seed : int

    Returns
    -------
    scipy.sparse.csr_matrix
        float64, canonical (sorted indices, no duplicates).

    Examples
    --------
    >>> from benchmarks.bench_operands import rcv1_like
    >>> X = rcv1_like(200, 470)
    >>> X.shape, X.nnz, X.has_canonical_format
    ((200, 470), 150, True)
    """
    rng = np.random.default_rng(seed)
    target = int(round(n * d * density))
    p = 1.0 / np.arange(1, d + 1)
    p /= p.sum()
    column_of_rank = rng.permutation(d)
    keys = np.empty(0, dtype=np.int64)
    while keys.size < target:
        draws = int(1.3 * (target - keys.size)) + 1000
        rows = rng.integers(0, n, draws)
        cols = column_of_rank[rng.choice(d, draws, p=p)]
        keys = np.unique(np.concatenate([keys, rows * d + cols]))
    keys = np.sort(rng.choice(keys, target, replace=False))
    rows, cols = np.divmod(keys, d)
    X = sp.csr_matrix((rng.exponential(1.0, target), (rows, cols)), shape=(n, d))
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    norms[norms == 0.0] = 1.0
    X = sp.csr_matrix(sp.diags(1.0 / norms) @ X)
    X.sort_indices()
    return X


def _best_pair(ours, reference, rounds: int, repeats: int) -> tuple[float, float, float]:
    """``(first two calls of ours, best of ours, best of reference)``, interleaved by round.

    Two calls before the rounds: Numba's cache load or compilation comes with
    the first, an operand's one-off set-up (``rmatvec``'s transposed copy)
    with the second.
    """
    start = time.perf_counter()
    ours()
    ours()
    first = time.perf_counter() - start
    reference()
    best_ours = best_ref = float("inf")
    for _ in range(rounds):
        best_ours = min(best_ours, measure(ours, repeats).best)
        best_ref = min(best_ref, measure(reference, repeats).best)
    return first, best_ours, best_ref


def _products(A, rng):
    """``{name: (randopt call, reference call)}`` for the products of a matrix ``A``."""
    op = as_operand(A)
    n, d = A.shape
    v, u, b, coef = rng.standard_normal(d), rng.standard_normal(n), rng.standard_normal(n), \
        rng.random(n)
    gram = op.gram_product(None, coef)
    AT = A.T
    products = {
        "A x": (lambda: op.matvec(v), lambda: A @ v),
        "A^T u": (lambda: op.rmatvec(u), lambda: AT @ u),
        "A^T (D (A v))": (lambda: gram(v), lambda: AT @ (coef * (A @ v))),
        "A^T (A v)": (lambda: op.normal_matvec(v), lambda: AT @ (A @ v)),
        "A^T (b - A x), ||.||": (
            lambda: op.residual_normal(v, b),
            lambda: (AT @ (r := b - A @ v), np.linalg.norm(r)),
        ),
    }
    if not sp.issparse(A) and A.size <= 10**6:  # the explicit Hessian of a small problem
        products["A^T D A (matrix)"] = (lambda: op.gram(None, coef),
                                        lambda: AT @ (coef[:, None] * A))
    return products


def _logistic_products(X, rng, alpha=0.01):
    """The logistic objective's gradient and Hessian-vector product against SciPy's formulas."""
    from scipy.special import expit

    from randopt.oracles import LogisticObjective

    n, d = X.shape
    y = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    w, v = 0.1 * rng.standard_normal(d), rng.standard_normal(d)
    f = LogisticObjective(X, y, alpha=alpha)
    model = f.hessian_model(f.evaluate(w), explicit=False)
    s = expit(y * (X @ w))
    D = s * (1.0 - s) / n
    XT = X.T

    def scipy_gradient():
        t = y * (X @ w)
        loss = np.logaddexp(0.0, -t).mean()
        return loss, XT @ (-y * expit(-t)) / n + alpha * w

    return {
        "logistic f, grad": (lambda: f.evaluate(w), scipy_gradient),
        "logistic H v": (lambda: model.matvec(v), lambda: XT @ (D * (X @ v)) + alpha * v),
    }


def _table(title, A, reference_name, threads, rounds, repeats, rng, unit="ms"):
    """Best times of every product of ``A`` and their ratios; in "us", the fixed cost too.

    On a small matrix (``unit="us"``) the products cost microseconds, so the
    difference between the operand method and the bare expression is the
    operand's fixed cost per call (argument checks, dispatch).
    """
    factor = 1e3 if unit == "ms" else 1e6
    rows = []
    products = _products(A, rng)
    if sp.issparse(A):
        products.update(_logistic_products(A, rng))
    for name, (ours, reference) in products.items():
        first, t_ours, t_ref = _best_pair(ours, reference, rounds, repeats)
        row = [name, f"{t_ours * factor:.3f}", f"{t_ref * factor:.3f}",
               f"{ratio(t_ref, t_ours):.2f}", f"{first * 1e3:.1f}"]
        if unit == "us":
            row.insert(4, f"{(t_ours - t_ref) * 1e6:+.1f}")
        rows.append(row)
    header = ["product", f"randopt {unit}", f"{reference_name} {unit}",
              f"ratio {reference_name}/randopt", "first 2 calls ms"]
    if unit == "us":
        header.insert(4, "fixed cost us")
    print(f"{title}; {threads_line(threads)}")
    print_table(header, rows)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds per product")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per round")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--only", choices=["sparse", "dense"], help="one part of the run")
    args = parser.parse_args(argv)
    scale = 10 if args.quick else 1
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    X = rcv1_like(20_000 // scale, 47_000 // scale)
    print(f"rcv1-like CSR {X.shape[0]} x {X.shape[1]}, nnz {X.nnz} "
          f"({X.nnz / X.shape[0] / X.shape[1]:.2%}), built in {time.perf_counter() - start:.1f} s")
    tall = rng.standard_normal((200_000 // scale, 200))
    wide = rng.standard_normal((200, 500))
    print(f"Numba {numba.__version__}; best of {args.rounds} x {args.repeats} calls\n")
    for threads in args.threads:
        with pinned_threads(threads):
            if args.only != "dense":
                _table(f"sparse {X.shape[0]} x {X.shape[1]}", X, "scipy", threads,
                       args.rounds, args.repeats, rng)
            if args.only == "sparse":
                continue
            _table(f"dense tall {tall.shape[0]} x {tall.shape[1]}", tall, "numpy", threads,
                   args.rounds, args.repeats, rng)
            _table(f"dense wide {wide.shape[0]} x {wide.shape[1]}", wide, "numpy", threads,
                   args.rounds, 200, rng, unit="us")
    try:
        print(f"Numba threading layer: {numba.threading_layer()}")
    except ValueError:  # no parallel region ran
        print("Numba threading layer: none started")


if __name__ == "__main__":
    main()
