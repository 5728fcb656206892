"""Benchmark of :func:`randopt.lstsq` against the solvers a user would otherwise pick.

Run ``python -m benchmarks.bench_lstsq`` (about 3 minutes on 2 cores;
``--quick`` for a smoke run at a tenth of the sizes, one repeat). For every
case it prints the best wall time of ``--repeats`` calls after one untimed
warm-up call (the median beside it says how noisy the machine was), the ratio
``numpy time / solver time`` (for the sparse case, ``LSQR time / solver
time``: NumPy would need the 1.6 GB dense matrix), and the accuracy against
a reference:

* dense 200,000 x 100 with condition number 1e3 and 1e8: ``A = U diag(s)
  V^T``, ``U`` (n x d) and ``V`` orthonormal from the QR of Gaussian
  matrices, ``s`` geometric from 1 to ``1/cond``; ``b = A x0 + e`` with
  ``x0`` standard normal and ``||e|| = 1e-3 ||A x0||``. Reference: NumPy's
  solution at cond 1e3; at cond 1e8 a float64 Householder QR solve
  (``scipy.linalg.qr``, economic, then ``R x = Q^T b``), against which
  NumPy's own error is printed too;
* sparse 1,000,000 x 200, two non-zeros per row (1% dense), column scales
  geometric from 1 to 1e-3. Reference: the semi-normal equations ``R^T R x
  = A^T b`` (``R`` the Cholesky factor of ``A^T A``) with two steps of
  iterative refinement (Bjorck), accurate to ``u cond(A)`` after
  refinement; baseline ``scipy.sparse.linalg.lsqr`` (with ``--lsmr`` also
  ``lsmr``) without preconditioner, to ``atol = btol = 1e-14``. (Plain
  LSQR on the dense cases needs of the order of ``cond`` iterations: 400
  reach a relative error of 2e-2 at cond 1e3, so it is not timed there);
* ridge 10,000 x 1,000 with ``alpha = 1`` (Gaussian columns scaled by
  ``0.98^j``: the spectrum of ``A^T A`` decays as ``n 0.98^(2 j)`` and falls
  below ``alpha`` near ``j = 230``), the regime of the Nystrom
  preconditioner: ``preconditioner="qr"`` against ``"nystrom"`` (and the
  default ``"auto"``, which picks Nystrom here); reference NumPy's lstsq of
  the augmented system ``[A; sqrt(alpha) I] x = [b; 0]``, the baseline of
  the ratio.

Accuracy columns: ``rel err x = ||x - x_ref|| / ||x_ref||`` and ``rel err
||r|| = (||r|| - ||r_ref||) / ||r_ref||`` (negative: a smaller residual
than the reference's). BLAS and Numba both use ``--threads`` threads
(default 2, the machine's cores), pinned with threadpoolctl and
``numba.set_num_threads``. On a shared machine compare runs made back to
back, and the ratios (measured within one run) rather than the seconds.

Before/after: run it once with ``PYTHONPATH`` on the tree to compare (the
Nystrom rows are skipped by a randopt without ``preconditioner=``).
"""

from __future__ import annotations

import argparse
import math
import time
from functools import partial

import numba
import numpy as np
import scipy
import scipy.linalg
import scipy.sparse as sp
from scipy.sparse.linalg import lsmr, lsqr

import randopt

from .timing import measure, pinned_threads, print_table, ratio, threads_line

__all__ = [
    "bench_lstsq",
    "bench_shapes",
    "conditioned_problem",
    "numpy_lstsq",
    "qr_reference",
    "ridge_problem",
    "scipy_lstsq",
    "seminormal_reference",
    "sparse_problem",
]


#: The clock of every measurement (``--clock``).
_CLOCK = time.perf_counter


def _measure(fn, repeats, warmup=0):
    return measure(fn, repeats, warmup=warmup, clock=_CLOCK)


def numpy_lstsq(A, b):
    """``numpy.linalg.lstsq(A, b, rcond=None)[0]``."""
    return np.linalg.lstsq(A, b, rcond=None)[0]


def scipy_lstsq(A, b, driver):
    """``scipy.linalg.lstsq`` with a LAPACK driver (``"gelsd"``, ``"gelsy"``)."""
    return scipy.linalg.lstsq(A, b, lapack_driver=driver, check_finite=False)[0]


def conditioned_problem(n, d, cond, rng, noise=1e-3):
    """``(A, b)``: ``A = U diag(s) V^T``, ``s`` geometric from 1 to ``1/cond``; noisy ``b``.

    Examples
    --------
    >>> import numpy as np
    >>> A, b = conditioned_problem(500, 10, 1e3, np.random.default_rng(0))
    >>> A.flags.c_contiguous, round(float(np.log10(np.linalg.cond(A))), 6)
    (True, 3.0)
    """
    U = np.linalg.qr(rng.standard_normal((n, d)))[0]
    V = np.linalg.qr(rng.standard_normal((d, d)))[0]
    A = np.ascontiguousarray((U * np.geomspace(1.0, 1.0 / cond, d)) @ V.T)
    del U
    fit = A @ rng.standard_normal(d)
    e = rng.standard_normal(n)
    b = fit + noise * np.linalg.norm(fit) / np.linalg.norm(e) * e
    return A, b


def sparse_problem(n, d, nnz_per_row, cond, rng):
    """``(A, b)``: CSR with ``nnz_per_row`` entries per row, column scales 1 to ``1/cond``.

    The same construction as :func:`benchmarks.bench_sketch.sparse_problem`.
    """
    cols = np.empty((n, nnz_per_row), dtype=np.int64)
    cols[:, 0] = rng.integers(0, d, n)
    for k in range(1, nnz_per_row):
        shift = k + rng.integers(0, (d - 1) // nnz_per_row, n) * nnz_per_row
        cols[:, k] = (cols[:, 0] + shift) % d
    data = rng.standard_normal((n, nnz_per_row)) * np.logspace(0, -np.log10(cond), d)[cols]
    A = sp.csr_matrix(
        (data.ravel(), cols.ravel(), np.arange(0, n * nnz_per_row + 1, nnz_per_row)), shape=(n, d)
    )
    A.sort_indices()
    b = A @ rng.standard_normal(d) + 1e-3 * rng.standard_normal(n)
    return A, b


def ridge_problem(n, d, decay, rng):
    """``(A, b)``: Gaussian columns scaled by ``decay**j`` (eigenvalues ``~decay**2j``)."""
    A = rng.standard_normal((n, d)) * decay ** np.arange(d)
    b = A @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n)
    return A, b


def qr_reference(A, b):
    """``x`` from a float64 Householder QR: ``R x = Q^T b`` (economic QR)."""
    Q, R = scipy.linalg.qr(A, mode="economic", check_finite=False)
    return scipy.linalg.solve_triangular(R, Q.T @ b, check_finite=False)


def seminormal_reference(A, b, refinements=2):
    """``x`` from the semi-normal equations with iterative refinement (sparse ``A``)."""
    G = (A.T @ A).toarray() if sp.issparse(A) else A.T @ A
    c = scipy.linalg.cho_factor(G)
    x = scipy.linalg.cho_solve(c, A.T @ b)
    for _ in range(refinements):
        x = x + scipy.linalg.cho_solve(c, A.T @ (b - A @ x))
    return x


def _accuracy(A, b, x, x_ref, r_ref, aug_alpha=0.0):
    r = np.linalg.norm(A @ x - b)
    if aug_alpha:
        r = math.hypot(r, math.sqrt(aug_alpha) * np.linalg.norm(x))
    err_x = np.linalg.norm(x - x_ref) / np.linalg.norm(x_ref)
    return f"{err_x:.1e}", f"{(r - r_ref) / r_ref:+.1e}"


def _row(name, solver, timing, base, x, A, b, x_ref, r_ref, its="-", alpha=0.0):
    err_x, err_r = _accuracy(A, b, x, x_ref, r_ref, alpha)
    return [
        name,
        solver,
        f"{timing.best:.3f}",
        f"{timing.median:.3f}",
        f"{ratio(base, timing.best):.2f}",
        err_x,
        err_r,
        its,
    ]


def _randopt(A, b, **kwargs):
    return randopt.lstsq(A, b, random_state=0, **kwargs)


def _has_preconditioner_option():
    try:
        randopt.lstsq(np.eye(3), np.ones(3), preconditioner="qr")
    except TypeError:
        return False
    return True


def bench_dense(scale, repeats, rng, rows):
    n, d = int(200_000 * scale), 100
    for cond in (1e3, 1e8):
        name = f"{n}x{d} cond {cond:.0e}"
        A, b = conditioned_problem(n, d, cond, rng)
        t_np = _measure(lambda A=A, b=b: numpy_lstsq(A, b), repeats, warmup=1)
        x_np = t_np.result
        x_ref = x_np if cond < 1e6 else qr_reference(A, b)
        r_ref = np.linalg.norm(A @ x_ref - b)
        t_ro = _measure(lambda A=A, b=b: _randopt(A, b), repeats, warmup=1)
        rows.append(_row(name, "randopt.lstsq", t_ro, t_np.best, t_ro.result.x, A, b, x_ref,
                         r_ref, t_ro.result.nit))
        rows.append(_row(name, "numpy.linalg.lstsq", t_np, t_np.best, x_np, A, b, x_ref, r_ref))
        t_gy = _measure(lambda A=A, b=b: scipy_lstsq(A, b, "gelsy"), max(1, repeats - 1))
        rows.append(_row(name, "scipy lstsq gelsy", t_gy, t_np.best, t_gy.result, A, b, x_ref,
                         r_ref))
        del A, b


def bench_sparse(scale, repeats, rng, rows, with_lsmr=False):
    n, d = int(1_000_000 * scale), 200
    A, b = sparse_problem(n, d, 2, 1e3, rng)
    name = f"sparse {n}x{d} {A.nnz / (n * d):.0%}"
    x_ref = seminormal_reference(A, b)
    r_ref = np.linalg.norm(A @ x_ref - b)
    t_ls = _measure(lambda: lsqr(A, b, atol=1e-14, btol=1e-14, iter_lim=5000), 1)
    t_ro = _measure(lambda: _randopt(A, b), repeats, warmup=1)
    rows.append(_row(name, "randopt.lstsq", t_ro, t_ls.best, t_ro.result.x, A, b, x_ref, r_ref,
                     t_ro.result.nit))
    rows.append(_row(name, "scipy lsqr", t_ls, t_ls.best, t_ls.result[0], A, b, x_ref, r_ref,
                     t_ls.result[2]))
    if with_lsmr:
        t_lm = _measure(lambda: lsmr(A, b, atol=1e-14, btol=1e-14, maxiter=5000), 1)
        rows.append(_row(name, "scipy lsmr", t_lm, t_ls.best, t_lm.result[0], A, b, x_ref,
                         r_ref, t_lm.result[2]))


def bench_ridge(scale, repeats, rng, rows):
    n, d, alpha = int(10_000 * scale), int(1000 * math.sqrt(scale)), 1.0
    A, b = ridge_problem(n, d, 0.98, rng)
    name = f"ridge {n}x{d} alpha {alpha:g}"
    aug = np.vstack([A, math.sqrt(alpha) * np.eye(d)])
    rhs = np.r_[b, np.zeros(d)]
    t_np = _measure(lambda: numpy_lstsq(aug, rhs), repeats, warmup=1)
    x_ref = t_np.result
    r_ref = math.hypot(np.linalg.norm(A @ x_ref - b), math.sqrt(alpha) * np.linalg.norm(x_ref))
    options = [("default", {})]
    if _has_preconditioner_option():
        options += [("qr", {"preconditioner": "qr"}), ("nystrom", {"preconditioner": "nystrom"})]
    for label, kwargs in options:
        t = _measure(lambda kw=kwargs: _randopt(A, b, alpha=alpha, **kw), repeats, warmup=1)
        res = t.result
        chosen = getattr(res, "preconditioner", "qr")
        its = f"{res.nit} (rank {res.sketch_size})" if chosen == "nystrom" else res.nit
        rows.append(_row(name, f"randopt {label} -> {chosen}", t, t_np.best, res.x, A, b, x_ref,
                         r_ref, its, alpha))
    rows.append(_row(name, "numpy lstsq (augmented)", t_np, t_np.best, x_ref, A, b, x_ref, r_ref,
                     alpha=alpha))


def bench_lstsq(scale, repeats, rng, only=("dense", "sparse", "ridge"), with_lsmr=False):
    """Print the table of every case (see the module docstring).

    Parameters
    ----------
    scale : float
        Fraction of the row counts (1.0 for the documented sizes).
    repeats : int
        Timed calls per solver (best and median printed), after one warm-up.
    rng : numpy.random.Generator
    only : sequence of str
        Among ``"dense"``, ``"sparse"``, ``"ridge"``.
    with_lsmr : bool, default=False
        Also time LSMR on the sparse case (as slow as LSQR: a minute at full size).
    """
    print("== randopt.lstsq: best of repeats (s), median, ratio = baseline best / solver best")
    rows: list[list] = []
    if "dense" in only:
        bench_dense(scale, repeats, rng, rows)
    if "sparse" in only:
        bench_sparse(scale, repeats, rng, rows, with_lsmr)
    if "ridge" in only:
        bench_ridge(scale, repeats, rng, rows)
    print_table(
        ["problem", "solver", "best s", "median s", "ratio", "rel err x", "rel err ||r||", "its"],
        rows,
    )


def bench_shapes(scale, repeats, rng):
    """The shape grid formerly section 1 of ``benchmarks.bench_sketch`` (still run there).

    Dense 1,000,000 x 100, 200,000 x 100 and 100,000 x 500 at cond 1e8
    (``G diag(s) V^T``, ``G`` Gaussian), their coherent variants, and a sparse
    1,000,000 x 200: median time, ratio to NumPy (to LSQR for the sparse one),
    error of ``x`` against NumPy's and the relative residual excess.
    """
    from .bench_sketch import dense_problem, median_time
    from .bench_sketch import sparse_problem as sparse_problem_1pct

    def rel(a, b):
        return float(np.linalg.norm(a - b) / np.linalg.norm(b))

    print("== 1. least squares: randopt.lstsq vs numpy / scipy (ratio = numpy time / solver time)")
    shapes = [(1_000_000, 100), (200_000, 100), (100_000, 500)]
    rows = []
    for n, d in shapes:
        n = int(n * scale)
        for coherent in (False, True):
            A, b = dense_problem(n, d, 1e8, rng, coherent)
            name = f"{n}x{d} cond 1e8" + (" coherent" if coherent else "")
            t_np, x_np = median_time(partial(numpy_lstsq, A, b), repeats)
            r_np = np.linalg.norm(A @ x_np - b)
            t_ro, res = median_time(partial(randopt.lstsq, A, b, random_state=0), repeats)
            rows.append(
                [
                    name,
                    "randopt.lstsq",
                    f"{t_ro:.3f}",
                    f"{t_np / t_ro:.2f}",
                    f"{rel(res.x, x_np):.1e}",
                    f"{res.residual_norm / r_np - 1:+.1e}",
                    res.nit,
                ]
            )
            rows.append([name, "numpy.linalg.lstsq", f"{t_np:.3f}", "1.00", "0", "0", "-"])
            if not coherent:
                for driver in ("gelsd", "gelsy"):
                    t, x = median_time(partial(scipy_lstsq, A, b, driver), repeats)
                    rows.append(
                        [
                            name,
                            f"scipy lstsq {driver}",
                            f"{t:.3f}",
                            f"{t_np / t:.2f}",
                            f"{rel(x, x_np):.1e}",
                            f"{np.linalg.norm(A @ x - b) / r_np - 1:+.1e}",
                            "-",
                        ]
                    )
                t, out = median_time(partial(lsqr, A, b, atol=1e-14, btol=1e-14, iter_lim=200), 1)
                rows.append(
                    [
                        name,
                        "scipy lsqr (200 its)",
                        f"{t:.3f}",
                        f"{t_np / t:.2f}",
                        f"{rel(out[0], x_np):.1e}",
                        f"{np.linalg.norm(A @ out[0] - b) / r_np - 1:+.1e}",
                        out[2],
                    ]
                )
            del A, b
    print_table(
        ["problem", "solver", "seconds", "ratio", "rel err x", "resid excess", "its"], rows
    )

    n, d = int(1_000_000 * scale), 200
    A, b = sparse_problem_1pct(n, d, 2, 1e3, rng)
    print(f"sparse {n}x{d}, density {A.nnz / (n * d):.3%}, column scales 1..1e-3")
    # Independent reference: the normal equations in dense form (cond(A)^2 ~ 1e6 is harmless).
    G = (A.T @ A).toarray()
    x_ref = np.linalg.solve(G, A.T @ b)
    r_ref = np.linalg.norm(A @ x_ref - b)
    t_ro, res = median_time(partial(randopt.lstsq, A, b, random_state=0), repeats)
    t_ls, out = median_time(partial(lsqr, A, b, atol=1e-14, btol=1e-14, iter_lim=20000), 1)
    rows = [
        [
            "randopt.lstsq",
            f"{t_ro:.3f}",
            f"{t_ls / t_ro:.2f}",
            f"{rel(res.x, x_ref):.1e}",
            f"{res.residual_norm / r_ref - 1:+.1e}",
            res.nit,
        ],
        [
            "scipy lsqr",
            f"{t_ls:.3f}",
            "1.00",
            f"{rel(out[0], x_ref):.1e}",
            f"{np.linalg.norm(A @ out[0] - b) / r_ref - 1:+.1e}",
            out[2],
        ],
    ]
    print_table(["solver", "seconds", "ratio vs lsqr", "rel err x", "resid excess", "its"], rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes, one repeat")
    parser.add_argument("--threads", type=int, default=2, help="BLAS and Numba threads")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", default="dense,sparse,ridge")
    parser.add_argument("--lsmr", action="store_true", help="also LSMR on the sparse case")
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="wall time, or the process's CPU time (with --threads 1: the work itself, "
        "nearly blind to other processes on a loaded machine)",
    )
    args = parser.parse_args(argv)
    global _CLOCK
    _CLOCK = time.perf_counter if args.clock == "wall" else time.process_time
    scale, repeats = (0.1, 1) if args.quick else (1.0, args.repeats)
    rng = np.random.default_rng(0)
    with pinned_threads(args.threads):
        print(
            f"randopt {randopt.__version__} ({randopt.__file__}), numpy {np.__version__}, "
            f"scipy {scipy.__version__}, numba {numba.__version__}; {threads_line(args.threads)}; "
            f"clock: {args.clock}"
        )
        # Compile (or load) the Numba kernels before anything is timed.
        randopt.lstsq(*conditioned_problem(5000, 10, 10.0, rng), random_state=0)
        randopt.lstsq(*sparse_problem(5000, 20, 2, 1.0, rng), random_state=0)
        bench_lstsq(scale, repeats, rng, args.only.split(","), args.lsmr)


if __name__ == "__main__":
    main()
