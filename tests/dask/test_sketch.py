"""Sketches of row-chunked Dask arrays against the in-memory sketch of the same seed."""

import os
import pickle
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import scipy.sparse as sp

import randopt

da = pytest.importorskip("dask.array")

from randopt.operands import as_operand  # noqa: E402
from randopt.sketch import BLOCK_ROWS, countsketch, gaussian, sparse_sign, srht  # noqa: E402

N, D, M = 2 * BLOCK_ROWS + 9_001, 5, 60
# Chunk edges that do not align with BLOCK_ROWS (one chunk spans a block edge).
CHUNKS = ((30_000, 50_000, 41_000, N - 121_000), (D,))

MAKERS = {
    "gaussian": lambda seed: gaussian(M, N, random_state=seed),
    "srht": lambda seed: srht(M, N, random_state=seed),
    "srht_dct": lambda seed: srht(M, N, transform="dct", random_state=seed),
    "countsketch": lambda seed: countsketch(M, N, random_state=seed),
    "sparse_sign": lambda seed: sparse_sign(M, N, nnz_per_col=4, random_state=seed),
}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((N, D))


def _rel(a, b):
    return np.abs(a - b).max() / np.abs(b).max()


@pytest.mark.parametrize("kind", list(MAKERS))
def test_blockwise_sketch_equals_in_memory(kind, data, synchronous):
    S = MAKERS[kind](3)
    ref = S @ data
    A = da.from_array(data, chunks=CHUNKS)
    got = S @ A
    assert got.shape == (M, D) and got.dtype == np.float64
    assert _rel(got, ref) < 1e-12
    # A vector, and a matrix split into column chunks too.
    assert _rel(S @ A[:, 2], ref[:, 2]) < 1e-12
    assert _rel(S @ A.rechunk((40_000, 2)), ref) < 1e-12


@pytest.mark.parametrize("kind", ["countsketch", "sparse_sign", "srht"])
def test_sparse_chunks(kind, data, synchronous):
    S = MAKERS[kind](4)
    X = sp.random(N, D, density=0.05, random_state=1, format="csr")
    ref = S @ X
    A = da.from_array(X.toarray(), chunks=CHUNKS).map_blocks(sp.csr_matrix, dtype=np.float64)
    assert _rel(as_operand(A).sketch_lazy(S).compute(), ref) < 1e-12
    assert _rel(S @ A, ref) < 1e-12


def test_float32_keeps_dtype(data, synchronous):
    S = MAKERS["sparse_sign"](5)
    A32 = data.astype(np.float32)
    got = S @ da.from_array(A32, chunks=CHUNKS)
    assert got.dtype == np.float32
    assert _rel(got, S @ A32) < 1e-5


@pytest.mark.parametrize("kind", list(MAKERS))
def test_apply_rows_is_a_column_slice_of_S(kind, data):
    # S[:, lo:hi] @ A[lo:hi] from (seed, block) only; 1e-12 against the explicit S.
    S = MAKERS[kind](6)
    lo, hi = BLOCK_ROWS - 70, BLOCK_ROWS + 90
    blk = data[lo:hi]
    if kind in ("countsketch", "sparse_sign"):
        cols = S.tosparse()[:, lo:hi].toarray()
    elif kind == "gaussian":
        cols = S.toarray()[:, lo:hi]
    else:  # S e_j for the columns j in [lo, hi)
        E = np.zeros((N, hi - lo))
        E[np.arange(lo, hi), np.arange(hi - lo)] = 1.0
        cols = S @ E
    assert _rel(S.apply_rows(blk, lo), cols @ blk) < 1e-12


def test_operator_ships_small_and_apply_rows_validates(data):
    S = MAKERS["sparse_sign"](7)
    S @ data  # materialises the O(n) pattern on the client ...
    assert len(pickle.dumps(S)) < 2_000  # ... which is not pickled to workers
    T = MAKERS["srht"](7)
    T @ data
    assert len(pickle.dumps(T)) < 2_000 + 8 * M
    with pytest.raises(ValueError, match="outside"):
        S.apply_rows(data[:10], N - 5)
    with pytest.raises(TypeError, match="lo must be"):
        S.apply_rows(data[:10], 1.5)
    with pytest.raises(ValueError, match="rows"):
        S @ da.from_array(data[:-1], chunks=(50_000, D))


def test_cluster_sketch_equals_in_memory(client, data):
    A = da.from_array(data, chunks=CHUNKS)
    for kind in ("srht", "sparse_sign"):
        S = MAKERS[kind](8)
        assert _rel(S @ A, S @ data) < 1e-12


def test_worker_killed_mid_sketch(client, data):
    S = MAKERS["sparse_sign"](9)
    ref = S @ data

    def slow_copy(block):  # a slow data source, so that the kill lands mid-graph
        time.sleep(0.15)
        return block.copy()

    A = da.from_array(data, chunks=(5_000, D)).map_blocks(slow_copy, dtype=np.float64)
    future = client.compute(as_operand(A).sketch_lazy(S))
    time.sleep(1.0)
    assert not future.done()
    pids = client.run(os.getpid)
    victim = sorted(pids.values())[0]
    os.kill(victim, signal.SIGKILL)
    got = future.result(timeout=120)
    assert _rel(got, ref) < 1e-12
    client.wait_for_workers(2, timeout=60)
    assert victim not in client.run(os.getpid).values()  # the nanny restarted it


def test_import_randopt_does_not_import_dask():
    code = (
        "import sys, randopt, randopt.sketch, randopt.norms, randopt.oracles, randopt.optimize; "
        "print('dask' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_exact_leverage_scores_from_row_passes_only(synchronous):
    # Randomized Cholesky QR over the chunks: chunks of fewer rows than d (which a
    # tall-skinny QR cannot take) and a rank-deficient matrix, against a dense SVD.
    from randopt.sketch import leverage_scores

    rng = np.random.default_rng(2)
    A = rng.standard_normal((400, 6)) @ rng.standard_normal((6, 12))  # rank 6
    A[:3] *= 1e3
    U, s, _ = np.linalg.svd(A, full_matrices=False)
    r = int(np.sum(s > s[0] * 400 * np.finfo(float).eps))
    ref = (U[:, :r] ** 2).sum(axis=1)
    Ad = da.from_array(A, chunks=(11, 12))
    got = leverage_scores(Ad, method="exact", random_state=0)
    assert got.chunks == (Ad.chunks[0],)
    got = got.compute()
    # Q = A P L^{-T} is orthonormal to O(eps cond(A P)^2), cond(A P) < 3 here.
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)
    assert r == 6 and abs(got.sum() - 6) < 1e-10


def test_lstsq_on_sparse_and_float32_chunks_matches_in_memory(synchronous):
    rng = np.random.default_rng(4)
    X = sp.random(40_000, 20, density=0.2, random_state=5, format="csr") + sp.eye(40_000, 20)
    b = rng.standard_normal(40_000)
    ref = randopt.lstsq(X, b, random_state=0)
    Xd = da.from_array(X.toarray(), chunks=(7_000, 20)).map_blocks(sp.csr_matrix,
                                                                   dtype=np.float64)
    got = randopt.lstsq(Xd, b, random_state=0)
    assert got.converged and got.nit == ref.nit
    np.testing.assert_allclose(got.x, ref.x, rtol=0, atol=1e-12 * np.abs(ref.x).max())
    A32 = rng.standard_normal((30_000, 8)).astype(np.float32)
    mem = randopt.lstsq(A32, b[:30_000], random_state=0)
    dist = randopt.lstsq(da.from_array(A32, chunks=(8_000, 8)), b[:30_000], random_state=0)
    np.testing.assert_allclose(dist.x, mem.x, rtol=0, atol=1e-10 * np.abs(mem.x).max())
