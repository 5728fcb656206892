"""Benchmark of the norm estimators against the baselines a user would pick.

Run ``python -m benchmarks.bench_norms`` (about 20 minutes on 2 cores;
``--quick`` for a smoke run at reduced sizes).  In one run it prints:

1. ``spectral_norm`` (Lanczos, randomized, power; best of 2 runs) against
   ``scipy.sparse.linalg.svds(k=1, tol=1e-6)`` and ``numpy.linalg.norm(A, 2)``
   on a dense 4000 x 4000 Gaussian matrix and a sparse 10**6 x 10**4 matrix of
   density 1e-4 (no numpy there: it would need an 80 GB dense copy), at
   rtol 1e-6: wall time, the ratio to the baseline, the relative error and
   the certified bracket;
2. ``conv_spectral_norm(method="gram")`` and ``"exact"`` against the
   straightforward Sedghi et al. computation (``fft2`` + ``numpy.linalg.svd``
   of every frequency, max) for 64->64 3x3 kernels on 32x32 and 56x56 inputs
   and 512->512 on 7x7, for He-initialised (Gaussian) kernels and for
   "trained-like" kernels (a shared low-rank channel mixing plus noise, which
   concentrates the norm on few frequencies); and exact
   ``conv_singular_values`` against the straightforward all-singular-values;
3. the 2->4 (and 2->3, 2->6) bracket ``upper / lower`` of ``two_to_q_norm``
   on Gaussian and planted-spike matrices;
4. Numba's first-call cost in a fresh process (cold cache, then warm cache);
5. the sum-of-squares certificate of the 2->4 (and 2->6) norm beside today's
   interpolation and spectral bounds, bracket and time per size (d = 10 to 50,
   and the planted-sparse instances; :mod:`benchmarks.bench_two_to_q`).

``--only spectral,conv`` runs some sections only.

BLAS and Numba both use ``--threads`` threads (default 2, the machine's
cores), pinned with threadpoolctl and ``numba.set_num_threads``; the
convolution section also times the Numba kernels on one thread, as the
LAPACK baseline runs one matrix at a time.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap

import numba
import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, svds

from randopt.norms import (
    conv_singular_values,
    conv_spectral_norm,
    spectral_norm,
    two_to_q_norm,
)

from .timing import measure, pinned_threads


def best_time(fn, repeats):
    timing = measure(fn, repeats)
    return timing.best, timing.result


def line(*cols, widths=(34, 11, 9, 12, 12)):
    out = []
    for c, w in zip(cols, widths + (14,) * max(0, len(cols) - len(widths)), strict=False):
        out.append(f"{c:>{w}}" if not isinstance(c, str) else f"{c:<{w}}")
    print(" ".join(out), flush=True)


def sparse_matrix(m, n, density, rng):
    nnz = int(m * n * density)
    rows = rng.integers(0, m, nnz)
    cols = rng.integers(0, n, nnz)
    A = sp.csr_matrix((rng.standard_normal(nnz), (rows, cols)), shape=(m, n))
    A.sum_duplicates()
    return A


def bench_spectral(quick, rng):
    print("\n== 1. spectral_norm vs svds(k=1) and numpy.linalg.norm(A, 2), rtol 1e-6 ==")
    n_dense = 1000 if quick else 4000
    m_sp, n_sp = (10**5, 10**3) if quick else (10**6, 10**4)
    cases = [
        (f"dense {n_dense}x{n_dense} Gaussian", rng.standard_normal((n_dense, n_dense)), True),
        (f"sparse {m_sp:.0e}x{n_sp:.0e} density 1e-4",
         sparse_matrix(m_sp, n_sp, 1e-4, rng), False),
    ]
    for name, A, dense in cases:
        print(f"\n{name}")
        line("method", "time [s]", "ratio", "rel. error", "bracket/low-1", "products")
        if dense:
            t_np, ref = best_time(lambda A=A: np.linalg.norm(A, 2), 1)
            baseline, t_base = "numpy.linalg.norm(A, 2)", t_np
            line(baseline, round(t_np, 3), 1.0, 0.0, "exact")
        else:
            ref = spectral_norm(A, tol=1e-12, max_iter=2000, random_state=99).norm
            t_base = None
        t_svds, s = best_time(
            lambda A=A: svds(A, k=1, tol=1e-6, return_singular_vectors=False,
                             random_state=0), 2)
        if t_base is None:
            baseline, t_base = "svds(k=1, tol=1e-6)", t_svds
        count = [0]

        def counted(x, A=A, count=count):
            count[0] += 1
            return A @ x

        def rcounted(y, A=A, count=count):
            count[0] += 1
            return A.T @ y

        op = LinearOperator(A.shape, matvec=counted, rmatvec=rcounted, dtype=np.float64)
        svds(op, k=1, tol=1e-6, return_singular_vectors=False, random_state=0)
        line("svds(k=1, tol=1e-6)", round(t_svds, 3), round(t_base / t_svds, 2),
             f"{abs(float(s[0]) / ref - 1):.1e}", "-", count[0])
        for method in ("lanczos", "randomized", "power"):
            t, res = best_time(lambda A=A, method=method: spectral_norm(
                A, method=method, tol=1e-6, random_state=0), 2)
            line(f"spectral_norm({method})", round(t, 3), round(t_base / t, 2),
                 f"{abs(res.norm / ref - 1):.1e}", f"{res.upper / res.lower - 1:.1e}",
                 res.n_matvec)
        print(f"(ratio = {baseline} time / method time; reference value "
              f"{'numpy' if dense else 'Lanczos at tol 1e-12'}; lanczos bracket holds with "
              "probability 1 - 1e-6)")


def straightforward_sedghi(K, n):
    F = np.fft.fft2(K, s=(n, n), axes=(2, 3)).transpose(2, 3, 0, 1)
    return np.linalg.svd(F, compute_uv=False)


def trained_like(c, rng, rank=4):
    """Shared low-rank channel mixing with a smooth spatial profile, plus noise."""
    U, V = rng.standard_normal((c, rank)), rng.standard_normal((c, rank))
    prof = np.outer([0.5, 1.0, 0.5], [0.5, 1.0, 0.5])
    K = np.einsum("or,ir,ab->oiab", U, V, prof) / c + 0.3 * rng.standard_normal((c, c, 3, 3))
    return K / np.sqrt(9 * c)


def bench_conv(quick, rng, threads):
    print("\n== 2. convolutions: Gram bound / exact vs straightforward Sedghi (fft2 + svd) ==")
    cases = [(64, 32), (64, 56), (512, 7)] if not quick else [(32, 16), (64, 16)]
    repeats = 3
    line("case", "base [s]", "method", "time [s]", "speed-up", "excess", "threads",
         widths=(30, 9, 9, 9, 9, 10, 8))
    for kind in ("He-init", "trained-like"):
        for c, n in cases:
            K = (rng.standard_normal((c, c, 3, 3)) / np.sqrt(9 * c) if kind == "He-init"
                 else trained_like(c, rng))
            t0, s_all = best_time(lambda K=K, n=n: straightforward_sedghi(K, n),
                                  repeats if c < 256 else 2)
            exact = float(s_all.max())
            for nt in sorted({1, threads}):
                numba.set_num_threads(nt)
                for method in ("gram", "exact"):
                    t, val = best_time(lambda K=K, n=n, m=method: conv_spectral_norm(
                        K, (n, n), method=m).norm, repeats)
                    line(f"{kind} {c}->{c} 3x3 @ {n}x{n}", round(t0, 3), method, round(t, 3),
                         round(t0 / t, 2), f"{val / exact - 1:+.1e}", nt,
                         widths=(30, 9, 9, 9, 9, 10, 8))
                t, s = best_time(lambda K=K, n=n: conv_singular_values(K, (n, n)), repeats)
                ref = np.sort(s_all.ravel())[::-1]
                err = float(np.abs(s - ref).max() / ref[0])
                line(f"{kind} {c}->{c} 3x3 @ {n}x{n}", round(t0, 3), "all-sv", round(t, 3),
                     round(t0 / t, 2), f"{err:.0e}", nt, widths=(30, 9, 9, 9, 9, 10, 8))
            numba.set_num_threads(threads)
    print("(excess = bound / exact - 1 for gram and exact; max abs error / sigma_max for "
          "all-sv; speed-up = straightforward time / method time)")


def bench_two_to_q(quick, rng):
    print("\n== 3. two_to_q_norm bracket upper / lower ==")
    sizes = [(500, 10), (2000, 20), (2000, 50)] if not quick else [(300, 8), (1000, 15)]
    line("matrix", "q", "upper/low", "won by", "time [s]", widths=(30, 5, 10, 32, 9))
    for n, d in sizes:
        G = rng.standard_normal((n, d))
        u = rng.standard_normal(d)
        u /= np.linalg.norm(u)
        spike = G.copy()
        spike[: max(1, n // 100)] += 3.0 * np.sqrt(d) * u  # 1% of rows carry a planted direction
        for name, X in ((f"Gaussian {n}x{d}", G), (f"planted spike {n}x{d}", spike)):
            for q in (4,) if (n, d) != sizes[0] else (3, 4, 6):
                t, res = best_time(lambda X=X, q=q: two_to_q_norm(X, q, random_state=0), 1)
                line(name, q, f"{res.ratio:.4f}", res.upper_method, round(t, 2),
                     widths=(30, 5, 10, 32, 9))


def bench_sos(quick):
    # The per-size table of benchmarks.bench_two_to_q: today's bounds beside the
    # sum-of-squares certificate (d = 10..50 and the hard planted instances).
    from . import bench_two_to_q

    print("\n== 5. two_to_q_norm q=4 (6): interpolation, spectral and sum-of-squares brackets ==")
    bench_two_to_q.print_table(bench_two_to_q.run(quick))


def bench_warmup():
    print("\n== 4. Numba first call in a fresh process (conv 16->16 @ 12x12) ==")
    code = textwrap.dedent(
        """
        import time, numpy as np
        t = time.perf_counter()
        from randopt.norms import conv_spectral_norm, conv_singular_values
        K = np.random.default_rng(0).standard_normal((16, 16, 3, 3))
        conv_spectral_norm(K, (12, 12)); conv_spectral_norm(K, (12, 12), method="exact")
        conv_singular_values(K, (12, 12))
        t1 = time.perf_counter() - t
        t = time.perf_counter()
        conv_spectral_norm(K, (12, 12)); conv_singular_values(K, (12, 12))
        print(f"{t1:.2f} {time.perf_counter() - t:.4f}")
        """
    )
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for label in ("cold cache", "warm cache"):
            out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                 text=True, check=True).stdout.split()
            print(f"{label}: first calls {out[0]} s (import included), next calls {out[1]} s")


SECTIONS = ("spectral", "conv", "two_to_q", "sos", "warmup")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="reduced sizes (smoke run)")
    parser.add_argument("--threads", type=int, default=2, help="BLAS and Numba threads")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections of {SECTIONS} (default: all)")
    args = parser.parse_args(argv)
    only = set(args.only.split(","))
    if not only <= set(SECTIONS):
        parser.error(f"--only takes sections of {SECTIONS}, got {args.only!r}")
    rng = np.random.default_rng(2024)
    print(f"BLAS threads pinned to {args.threads} (threadpoolctl), Numba threads "
          f"{args.threads}; numpy {np.__version__}")
    with pinned_threads(args.threads):
        if "spectral" in only:
            bench_spectral(args.quick, rng)
        if "conv" in only:
            bench_conv(args.quick, rng, args.threads)
        if "two_to_q" in only:
            bench_two_to_q(args.quick, rng)
        if "sos" in only:
            bench_sos(args.quick)
    if "warmup" in only:
        bench_warmup()


if __name__ == "__main__":
    main()
