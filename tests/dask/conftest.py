"""Fixtures of the Dask tests: a 2-process LocalCluster shared by the session.

Workers run one thread each with a memory limit, as on a small cluster; Numba
in the workers is limited to one thread so that two workers on a 2-core
machine do not oversubscribe it.
"""

import os

import pytest

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="session")
def client():
    previous = os.environ.get("NUMBA_NUM_THREADS")
    os.environ["NUMBA_NUM_THREADS"] = "1"  # inherited by the worker processes only
    try:
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            memory_limit="1GiB",
            dashboard_address=None,
            silence_logs=40,
        )
    finally:
        if previous is None:
            del os.environ["NUMBA_NUM_THREADS"]
        else:
            os.environ["NUMBA_NUM_THREADS"] = previous
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture
def synchronous():
    """Run Dask graphs on the synchronous scheduler (no client) inside the test."""
    with dask.config.set(scheduler="synchronous"):
        yield
