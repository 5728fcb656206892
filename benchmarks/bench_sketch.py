"""Benchmark of the sketching layer against the baselines a user would pick.

Run ``python -m benchmarks.bench_sketch`` (about 6 minutes on 2 cores;
``--quick`` for a one-minute smoke run at a tenth of the sizes). In one run it
prints:

1. ``randopt.lstsq`` against ``numpy.linalg.lstsq``, ``scipy.linalg.lstsq``
   (gelsd, gelsy) and plain ``scipy.sparse.linalg.lsqr`` on dense
   1,000,000 x 100, 200,000 x 100 and 100,000 x 500 ill-conditioned problems,
   their coherent variants, and a sparse 1,000,000 x 200 problem of density
   1%: median wall time, the ratio to numpy (to LSQR for the sparse one), the
   relative error of ``x`` against numpy's, and the relative residual excess
   (:func:`benchmarks.bench_lstsq.bench_shapes`; the lstsq benchmark proper,
   with accuracy against independent references and the Nystrom
   preconditioner, is ``python -m benchmarks.bench_lstsq``);
2. exact against approximate leverage scores on 200,000 x 500;
3. each sketch's apply throughput;
4. Numba's first-call cost in a fresh process, with a cold and a warm cache;
5. with ``--auto``, the grid of sketches and sizes behind ``sketch="auto"``.

BLAS and Numba both use ``--threads`` threads (default 2, the machine's
cores), pinned with threadpoolctl and ``numba.set_num_threads``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
from functools import partial

import numba
import numpy as np
import scipy.linalg
import scipy.sparse as sp
from threadpoolctl import threadpool_info

import randopt
from randopt.sketch import countsketch, gaussian, leverage_scores, sparse_sign, srht

from .bench_lstsq import bench_shapes as bench_lstsq
from .bench_lstsq import numpy_lstsq, scipy_lstsq  # noqa: F401  (their old home)
from .timing import measure, pinned_threads, print_table


def median_time(fn, repeats):
    timing = measure(fn, repeats)
    return timing.median, timing.result


def dense_problem(n, d, cond, rng, coherent=False):
    """``A = G diag(s) V^T`` with log-spaced ``s``: condition number about ``cond``."""
    G = rng.standard_normal((n, d))
    V = np.linalg.qr(rng.standard_normal((d, d)))[0]
    A = np.ascontiguousarray((G * np.logspace(0, -np.log10(cond), d)) @ V.T)
    del G
    if coherent:
        # Ten rows that dominate their directions: leverage close to one.
        A[:10] *= 1e4
    x = rng.standard_normal(d)
    b = A @ x
    b += 1e-3 * np.linalg.norm(b) / np.sqrt(n) * rng.standard_normal(n)
    return A, b


def sparse_problem(n, d, nnz_per_row, cond, rng):
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


def bench_leverage(scale, repeats, rng):
    n, d = int(200_000 * scale), 500
    print(f"== 2. leverage scores on {n}x{d} (heavy-tailed row norms)")
    A = rng.standard_normal((n, d)) * rng.exponential(size=(n, 1))
    t_ex, exact = median_time(partial(leverage_scores, A), repeats)
    t_ap, approx = median_time(
        partial(leverage_scores, A, method="approx", random_state=0), repeats
    )
    err = np.abs(approx - exact) / exact
    print_table(
        ["method", "seconds", "speed-up", "median rel err", "max ratio", "min ratio"],
        [
            ["exact (QR)", f"{t_ex:.3f}", "1.00", "0", "1", "1"],
            [
                "approx (DMMW)",
                f"{t_ap:.3f}",
                f"{t_ex / t_ap:.1f}",
                f"{np.median(err):.3f}",
                f"{(approx / exact).max():.2f}",
                f"{(approx / exact).min():.2f}",
            ],
        ],
    )


def bench_throughput(scale, repeats, rng):
    n, d = int(1_000_000 * scale), 100
    m = 12 * d
    print(
        f"== 3. sketch apply throughput, m={m} rows (GB/s of A read; ratio vs a BLAS pass A.T @ u)"
    )
    A = rng.standard_normal((n, d))
    u = rng.standard_normal(n)
    t_blas, _ = median_time(partial(np.dot, A.T, u), repeats)
    As, _ = sparse_problem(n, 200, 2, 1.0, rng)
    rows = []
    kinds = [
        ("countsketch", lambda nn: countsketch(m, nn, random_state=0)),
        ("sparse_sign z=4", lambda nn: sparse_sign(m, nn, nnz_per_col=4, random_state=0)),
        ("sparse_sign z=8", lambda nn: sparse_sign(m, nn, nnz_per_col=8, random_state=0)),
        ("srht (Hadamard)", lambda nn: srht(m, nn, random_state=0)),
        ("srht (DCT)", lambda nn: srht(m, nn, transform="dct", random_state=0)),
        ("gaussian", lambda nn: gaussian(m, nn, random_state=0)),
    ]
    for name, make in kinds:
        nn = n if name != "gaussian" else n // 10  # Gaussian: m*n normals to draw
        S = make(nn)
        Ad = A[:nn]
        t, _ = median_time(partial(S.apply, Ad), repeats)
        ts = np.nan
        if name != "srht (DCT)":  # the DCT densifies a sparse input
            ts, _ = median_time(partial(S.apply, As[:nn]), repeats)
        rows.append(
            [
                name,
                f"{nn}x{d}",
                f"{t:.3f}",
                f"{Ad.nbytes / t / 1e9:.2f}",
                f"{t_blas * nn / n / t:.2f}",
                f"{ts:.3f}",
            ]
        )
    print_table(
        ["sketch", "dense A", "seconds", "GB/s", "vs BLAS pass", f"sparse {n}x200 s"], rows
    )


def bench_warmup():
    print("== 4. Numba first-call cost (fresh processes): import, first lstsq, second lstsq")
    code = textwrap.dedent("""
        import time; t0 = time.perf_counter()
        import numpy as np, randopt
        t1 = time.perf_counter()
        rng = np.random.default_rng(0)
        A = rng.standard_normal((20000, 20)); b = rng.standard_normal(20000)
        t2 = time.perf_counter(); randopt.lstsq(A, b, random_state=0); t3 = time.perf_counter()
        randopt.lstsq(A, b, random_state=0); t4 = time.perf_counter()
        print(f"{t1 - t0:.3f} {t3 - t2:.3f} {t4 - t3:.3f}")
    """)
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        for label in ("cold cache (compile)", "warm cache (load)"):
            env = {**os.environ, "NUMBA_CACHE_DIR": cache}
            out = subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
            ).stdout.split()
            rows.append([label, *out])
    print_table(["numba cache", "import s", "first call s", "second call s"], rows)


def bench_auto(scale, rng):
    print("== 5. sketch='auto' grid: total lstsq seconds (iterations) per sketch and size")
    kinds = [
        ("countsketch", {}),
        ("sparse_sign", {"nnz_per_col": 1}),
        ("sparse_sign", {"nnz_per_col": 4}),
        ("sparse_sign", {"nnz_per_col": 8}),
        ("srht", {}),
    ]
    factors = [4, 8, 12, 16, 24]
    for n, d, coherent in [(200_000, 100, False), (200_000, 100, True), (100_000, 500, False)]:
        n = int(n * scale)
        A, b = dense_problem(n, d, 1e8, rng, coherent)
        rows = []
        for kind, opts in kinds:
            row = [kind + (f" z={opts['nnz_per_col']}" if opts else "")]
            for f in factors:
                t, res = median_time(
                    partial(
                        randopt.lstsq,
                        A,
                        b,
                        sketch=kind,
                        sketch_size=f * d,
                        random_state=0,
                        nnz_per_col=opts.get("nnz_per_col"),
                    ),
                    2,
                )
                row.append(f"{t:.2f} ({res.nit})")
            rows.append(row)
        print(f"{n}x{d}" + (" coherent" if coherent else ""))
        print_table(["sketch"] + [f"{f}d" for f in factors], rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes, one repeat")
    parser.add_argument("--threads", type=int, default=2, help="BLAS and Numba threads")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--auto", action="store_true", help="also run the sketch='auto' grid")
    parser.add_argument("--only", default="lstsq,leverage,throughput,warmup")
    args = parser.parse_args(argv)
    scale, repeats = (0.1, 1) if args.quick else (1.0, args.repeats)
    rng = np.random.default_rng(0)
    with pinned_threads(args.threads):
        blas = ", ".join(
            f"{i['internal_api']} {i.get('version')} ({i['num_threads']} threads)"
            for i in threadpool_info()
            if i["user_api"] == "blas"
        )
        print(
            f"randopt {randopt.__version__}, numpy {np.__version__}, scipy {scipy.__version__}, "
            f"numba {numba.__version__} ({numba.get_num_threads()} threads); BLAS: {blas}"
        )
        # Warm the kernels so the timings below measure steady state (section 4 measures warm-up).
        randopt.lstsq(*dense_problem(5000, 10, 10.0, rng), random_state=0)
        randopt.lstsq(*sparse_problem(5000, 20, 2, 1.0, rng), random_state=0)
        only = set(args.only.split(","))
        if "lstsq" in only:
            bench_lstsq(scale, repeats, rng)
        if "leverage" in only:
            bench_leverage(scale, repeats, rng)
        if "throughput" in only:
            bench_throughput(scale, repeats, rng)
        if "warmup" in only:
            bench_warmup()
        if args.auto:
            bench_auto(scale, rng)


if __name__ == "__main__":
    main()
