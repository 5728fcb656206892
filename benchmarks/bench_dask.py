"""Out-of-core benchmark: least squares and sub-sampled TR on an on-disk row-chunked array.

Builds an (n, d) float64 matrix as ``.npy`` row blocks under ``--dir`` (each
block written to a temp file and renamed), opens it as a Dask array (each
chunk loaded by the task that needs it), starts a ``LocalCluster`` of
``--workers`` processes with 1 thread and ``--worker-memory`` each (the data
is larger than their sum), and reports for

1. ``randopt.lstsq(A, b)`` (sketch-and-precondition, sparse sign sketch, CG
   with one fused reduction per iteration), and
2. ``trust_region`` on the sigmoid least-squares loss
   (:class:`randopt.oracles.SigmoidLeastSquaresObjective`), uniform Hessian sample,

the wall time, the peak RSS of each worker and of the client (psutil,
sampled every 50 ms in a thread), and the same code in memory on the first
``--subset`` rows (the ratio per row gives the scaling). The in-memory
baselines run with BLAS pinned to one thread per process (threadpoolctl),
as each Dask worker has one thread. The data folder is deleted at the end.

Usage::

    python -m benchmarks.bench_dask --quick              # 1M x 50 (400 MB), smoke run
    python -m benchmarks.bench_dask --rows 20000000      # 20M x 50 = 8 GB
"""

from __future__ import annotations

import argparse
import os
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import psutil

from experiments.common.io import atomic_path, write_json

from .timing import pinned_threads


def _write_blocks(folder: Path, n: int, d: int, chunk: int, seed: int) -> list[tuple[Path, ...]]:
    rng = np.random.default_rng(seed)
    x_true = rng.standard_normal(d)
    scale = np.logspace(0, 2, d)
    out = []
    for k, lo in enumerate(range(0, n, chunk)):
        rows = min(chunk, n - lo)
        g = np.random.default_rng([seed, k])
        X = g.standard_normal((rows, d)) * scale
        b = X @ x_true + g.standard_normal(rows)
        y = (X @ (x_true / scale) + 0.5 * g.standard_normal(rows) > 0).astype(np.float64)
        paths = []
        for name, arr in (("X", X), ("b", b), ("y", y)):
            path = folder / f"{name}_{k:05d}.npy"
            with atomic_path(path) as tmp:
                with open(tmp, "wb") as fh:
                    np.save(fh, arr)
            paths.append(path)
        out.append(tuple(paths))
    return out


def _open(blocks, n, d, chunk):
    import dask
    import dask.array as da

    parts = {"X": [], "b": [], "y": []}
    for k, paths in enumerate(blocks):
        rows = min(chunk, n - k * chunk)
        for name, path in zip(("X", "b", "y"), paths, strict=True):
            shape = (rows, d) if name == "X" else (rows,)
            parts[name].append(
                da.from_delayed(dask.delayed(np.load)(str(path)), shape, dtype=np.float64)
            )
    return tuple(da.concatenate(parts[k]) for k in ("X", "b", "y"))


class PeakRSS:
    """Peak resident memory of some processes, sampled in a background thread."""

    def __init__(self, pids: dict[str, int], period: float = 0.05):
        self.procs = {k: psutil.Process(p) for k, p in pids.items()}
        self.peak = dict.fromkeys(pids, 0)
        self.period = period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            for k, p in self.procs.items():
                try:
                    self.peak[k] = max(self.peak[k], p.memory_info().rss)
                except psutil.Error:  # a restarted worker
                    pass
            time.sleep(self.period)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=20_000_000)
    ap.add_argument("--cols", type=int, default=50)
    ap.add_argument("--chunk", type=int, default=100_000, help="rows per on-disk block")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--worker-memory", default=None,
                    help="default: data size / 8 per worker, at least 512 MiB")
    ap.add_argument("--subset", type=int, default=1_000_000, help="rows of the in-memory run")
    ap.add_argument("--tr-iters", type=int, default=10)
    ap.add_argument("--dir", default="/tmp/randopt_bench_dask")
    ap.add_argument("--out", default="benchmarks/results/bench_dask.json")
    ap.add_argument("--quick", action="store_true", help="1M x 50, subset 200k")
    args = ap.parse_args(argv)
    if args.quick:
        args.rows, args.subset, args.tr_iters = 1_000_000, 200_000, 5

    from distributed import Client, LocalCluster

    import randopt
    from randopt.optimize import trust_region
    from randopt.oracles import SigmoidLeastSquaresObjective

    n, d, chunk = args.rows, args.cols, args.chunk
    data_bytes = n * d * 8
    mem = args.worker_memory or f"{max(data_bytes // 8, 512 << 20) // (1 << 20)}MiB"
    folder = Path(args.dir)
    free = shutil.disk_usage(folder.parent).free
    if free < 1.3 * data_bytes * (d + 2) / d:
        raise SystemExit(f"{folder.parent} has {free / 2**30:.1f} GiB free; the data needs more")
    folder.mkdir(parents=True, exist_ok=True)
    report = {"rows": n, "cols": d, "data_GB": data_bytes / 1e9, "worker_memory": mem}
    try:
        t = time.perf_counter()
        blocks = _write_blocks(folder, n, d, chunk, seed=0)
        report["write_s"] = time.perf_counter() - t
        print(f"wrote {n} x {d} ({data_bytes / 1e9:.2f} GB) in {report['write_s']:.1f} s")
        # One Numba thread per worker, set in the workers' environment only: the
        # client's Numba must keep its own thread count for the in-memory runs.
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                               memory_limit=mem, dashboard_address=None, silence_logs=40,
                               env={"NUMBA_NUM_THREADS": "1"})
        with Client(cluster) as client:
            X, b, y = _open(blocks, n, d, chunk)
            pids = {f"worker{i}": p for i, p in enumerate(client.run(os.getpid).values())}
            pids["client"] = os.getpid()
            with PeakRSS(pids) as mon:
                t = time.perf_counter()
                res = randopt.lstsq(X, b, random_state=0)
                report["lstsq_s"] = time.perf_counter() - t
            report["lstsq"] = {"iterations": res.nit, "converged": res.converged,
                               "residual_norm": res.residual_norm, "timings": res.timings,
                               "peak_rss_MB": {k: v / 2**20 for k, v in mon.peak.items()}}
            print(f"lstsq: {report['lstsq_s']:.1f} s, {res.nit} iterations, "
                  f"peak RSS MB {report['lstsq']['peak_rss_MB']}")
            f = SigmoidLeastSquaresObjective(X, y)
            with PeakRSS(pids) as mon:
                t = time.perf_counter()
                tr = trust_region(f, np.zeros(d), hessian_sample_size=0.001,
                                  max_iter=args.tr_iters, random_state=0)
                report["tr_s"] = time.perf_counter() - t
            report["tr"] = {"nit": tr.nit, "fun": tr.fun,
                            "peak_rss_MB": {k: v / 2**20 for k, v in mon.peak.items()}}
            print(f"trust_region: {report['tr_s']:.1f} s, {tr.nit} iterations, f={tr.fun:.6f}, "
                  f"peak RSS MB {report['tr']['peak_rss_MB']}")
        cluster.close()
        # In-memory baselines on a subset, same code, one BLAS thread.
        m = args.subset
        Xs = np.concatenate([np.load(p[0]) for p in blocks[: -(-m // chunk)]])[:m]
        bs = np.concatenate([np.load(p[1]) for p in blocks[: -(-m // chunk)]])[:m]
        ys = np.concatenate([np.load(p[2]) for p in blocks[: -(-m // chunk)]])[:m]
        with pinned_threads(1, numba=False):
            t = time.perf_counter()
            randopt.lstsq(Xs, bs, random_state=0)
            report["mem_lstsq_s"] = time.perf_counter() - t
            t = time.perf_counter()
            np.linalg.lstsq(Xs, bs, rcond=None)
            report["numpy_lstsq_s"] = time.perf_counter() - t
            t = time.perf_counter()
            trust_region(SigmoidLeastSquaresObjective(Xs, ys), np.zeros(d),
                         hessian_sample_size=0.001, max_iter=args.tr_iters, random_state=0)
            report["mem_tr_s"] = time.perf_counter() - t
        scale = n / m
        for key, mem_key in (("lstsq_s", "mem_lstsq_s"), ("tr_s", "mem_tr_s")):
            report[key.replace("_s", "_ratio_per_row")] = report[key] / (report[mem_key] * scale)
        print(f"in memory on {m} rows: randopt.lstsq {report['mem_lstsq_s']:.2f} s, "
              f"numpy.linalg.lstsq {report['numpy_lstsq_s']:.2f} s, "
              f"trust_region {report['mem_tr_s']:.2f} s")
        print(f"Dask time / (in-memory time x {scale:.0f}): "
              f"lstsq {report['lstsq_ratio_per_row']:.2f}, "
              f"trust_region {report['tr_ratio_per_row']:.2f}")
        write_json(args.out, report)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return report


if __name__ == "__main__":
    main()
