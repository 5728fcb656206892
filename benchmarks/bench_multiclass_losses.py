"""The multiclass losses' kernels against the NumPy/einsum forms a user would write.

Usage::

    python -m benchmarks.bench_multiclass_losses [--quick] [--threads 1] [--repeats 5]

Problem: a dense 300,000 x 55 float64 block (54 standard-normal features and a
column of ones, the shape of covtype's 7-class task with an intercept), K = 7
classes drawn from a planted softmax model, coefficients at a random point of
the scale of a fit; a 5% uniform row sample (15,000 rows) for the sub-sampled
Hessian. ``--quick`` uses a tenth of the rows.

Timed, each in the same run as its baseline, best of ``--repeats`` after a
warm-up (the machine is shared: the minimum is the least disturbed figure):

* value/gradient pass with the per-row curvature (``FiniteSum.evaluate``) of
  :class:`~randopt.oracles.SoftmaxLoss` and
  :class:`~randopt.oracles.OneHotSigmoidLeastSquaresLoss`, against NumPy/SciPy
  (``scipy.special.softmax`` / ``logsumexp`` / ``expit``, ``X.T @ R``) with
  the curvature as the prototype of ``tests/oracles/test_multi_output_loss.py``
  keeps it (``n x K x K``) and, fairer, as ``n x K``;
* the sub-sampled Hessian-vector product and the explicit ``dK x dK``
  sub-sampled Hessian, against the prototype's einsums
  (``ikl,il->ik`` and ``ia,ikl,ib->akbl`` over the sampled rows).

BLAS and Numba are pinned to ``--threads`` threads (default 1: the 2-core
machine is shared, as in ``benchmarks/bench_solvers.py``). Times are CPU
time of the process (``--clock cpu``, the default: on a shared machine it
does not count the time the process waits for a core; with one thread it is
the wall time of an idle machine) or wall time (``--clock wall``). Every row
prints the relative difference of the two results.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.special import expit, logsumexp, softmax

from randopt.oracles import FiniteSum, OneHotSigmoidLeastSquaresLoss, SoftmaxLoss

from .timing import measure, pinned_threads

CLOCK = time.process_time


def best_time(fn, repeats):
    timing = measure(fn, repeats, warmup=1, clock=CLOCK)  # warm-up: compilation, caches
    return timing.best, timing.result


def naive_softmax_pass(X, Y, W, full_curvature):
    T = X @ W
    P = softmax(T, axis=1)
    value = float(np.mean(logsumexp(T, axis=1) - np.sum(Y * T, axis=1)))
    grad = (X.T @ (P - Y)).ravel() / X.shape[0]
    K = W.shape[1]
    curv = P[:, :, None] * (np.eye(K) - P[:, None, :]) if full_curvature else P
    return value, grad, curv


def naive_one_hot_pass(X, Y, W):
    S = expit(X @ W)
    R = S - Y
    D = S * (1 - S)
    value = float(np.mean(np.sum(R * R, axis=1)))
    grad = (X.T @ (2 * R * D)).ravel() / X.shape[0]
    return value, grad, 2 * (R * D * (1 - 2 * S) + D * D)


def naive_hessian_matvec(Xs, C, v, K):
    T = Xs @ v.reshape(Xs.shape[1], K)
    return (Xs.T @ np.einsum("ikl,il->ik", C, T)).ravel()


def naive_hessian_matrix(Xs, C, K):
    p = Xs.shape[1] * K
    return np.einsum("ia,ikl,ib->akbl", Xs, C, Xs).reshape(p, p)


def blas_hessian_matrix(Xs, C, K):
    """The K(K+1)/2 blocks X^T diag(C[:, k, m]) X as one GEMM X^T [c_1 X | ... | c_P X]."""
    d = Xs.shape[1]
    pairs = [(k, m) for k in range(K) for m in range(k, K)]
    Z = np.concatenate([C[:, k, m, None] * Xs for k, m in pairs], axis=1)
    M = (Xs.T @ Z).reshape(d, len(pairs), d)
    blocks = np.zeros((K, K, d, d))
    for c, (k, m) in enumerate(pairs):
        blocks[k, m] = blocks[m, k] = M[:, c, :]
    return blocks.transpose(2, 0, 3, 1).reshape(d * K, d * K)


def rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))


def line(*cols):
    print("  ".join(f"{c:>18}" if i else f"{c:<34}" for i, c in enumerate(cols)), flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the rows")
    parser.add_argument("--threads", type=int, default=1, help="BLAS and Numba threads")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    args = parser.parse_args(argv)
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    rng = np.random.default_rng(args.seed)
    n, d, K = (30_000 if args.quick else 300_000), 55, 7
    X = np.hstack([rng.standard_normal((n, d - 1)), np.ones((n, 1))])
    W_true = rng.standard_normal((d, K)) / np.sqrt(d)
    y = np.argmax(X @ W_true + rng.gumbel(size=(n, K)), axis=1)
    Y = np.eye(K)[y]
    w = 0.7 * W_true.ravel() + 0.1 * rng.standard_normal(d * K)
    W = w.reshape(d, K)
    s = n // 20
    idx = np.sort(rng.choice(n, s, replace=False))
    sample = (idx, np.full(s, n / s))
    v = rng.standard_normal(d * K)
    print(f"{n} x {d} dense, K = {K}, Hessian sample {s} rows (5%); BLAS threads pinned to "
          f"{args.threads} (threadpoolctl), Numba threads {args.threads}; best of "
          f"{args.repeats}, {args.clock} time; numpy {np.__version__}")
    line("kernel", "randopt [ms]", "naive [ms]", "speed-up", "rel. diff")
    with pinned_threads(args.threads):
        soft = FiniteSum(X, y, SoftmaxLoss(K))
        one_hot = FiniteSum(X, y, OneHotSigmoidLeastSquaresLoss(K))

        t_ours, ev = best_time(lambda: soft.evaluate(w), args.repeats)
        for full in (True, False):
            t_ref, ref = best_time(lambda f=full: naive_softmax_pass(X, Y, W, f), args.repeats)
            label = "n x K x K" if full else "n x K"
            line(f"softmax value+grad+curv ({label})", f"{t_ours * 1e3:.1f}", f"{t_ref * 1e3:.1f}",
                 f"{t_ref / t_ours:.1f}x", f"{max(rel(ev.fun, ref[0]), rel(ev.grad, ref[1])):.1e}")

        t_ours, ev1 = best_time(lambda: one_hot.evaluate(w), args.repeats)
        t_ref, ref = best_time(lambda: naive_one_hot_pass(X, Y, W), args.repeats)
        line("one-hot SLS value+grad+curv", f"{t_ours * 1e3:.1f}", f"{t_ref * 1e3:.1f}",
             f"{t_ref / t_ours:.1f}x",
             f"{max(rel(ev1.fun, ref[0]), rel(ev1.grad, ref[1]), rel(ev1.curvature, ref[2])):.1e}")

        # sub-sampled Hessian: (1/n) sum_k omega_k C_{i_k} (a a^T) with omega = n / s
        model = soft.hessian_model(ev, sample=sample, explicit=False)
        P = ev.curvature[idx]
        C = (P[:, :, None] * (np.eye(K) - P[:, None, :])) / s

        def naive_matvec():
            return naive_hessian_matvec(X[idx], C, v, K)  # gathers its rows, as ours does

        t_ours, hv = best_time(lambda: model.matvec(v), args.repeats)
        t_ref, hv_ref = best_time(naive_matvec, args.repeats)
        line("softmax sampled Hessian-vector", f"{t_ours * 1e3:.2f}", f"{t_ref * 1e3:.2f}",
             f"{t_ref / t_ours:.1f}x", f"{rel(hv, hv_ref):.1e}")
        # the same product on rows gathered once (what a model reused over many
        # products could do): the kernel alone against the einsum alone
        rows, Xs = soft.operand.take_rows(idx), X[idx]
        h = P * (1.0 / s)
        loss = soft.loss
        t_ours, hv = best_time(lambda: loss.hessian_matvec(rows, None, h, v), args.repeats)
        t_ref, hv_ref = best_time(lambda: naive_hessian_matvec(Xs, C, v, K), args.repeats)
        line("  ... on rows gathered once", f"{t_ours * 1e3:.2f}", f"{t_ref * 1e3:.2f}",
             f"{t_ref / t_ours:.1f}x", f"{rel(hv, hv_ref):.1e}")

        t_ours, H = best_time(lambda: soft.hessian(ev, sample=sample), args.repeats)
        t_ref, H_ref = best_time(lambda: naive_hessian_matrix(X[idx], C, K), 1)
        line("softmax sampled Hessian (385^2)", f"{t_ours * 1e3:.1f}", f"{t_ref * 1e3:.1f}",
             f"{t_ref / t_ours:.1f}x", f"{rel(H, H_ref):.1e}")
        t_ref, H_ref = best_time(lambda: blas_hessian_matrix(X[idx], C, K), args.repeats)
        line("  ... against one BLAS GEMM", f"{t_ours * 1e3:.1f}", f"{t_ref * 1e3:.1f}",
             f"{t_ref / t_ours:.1f}x", f"{rel(H, H_ref):.1e}")


if __name__ == "__main__":
    main()
