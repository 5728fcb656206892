"""Shared fixtures: the real-data folder and seeded generators.

The repository root goes on ``sys.path`` here, so that the tests can import the shared
helpers (``from tests.hostile import readonly``) and ``experiments`` under
``--import-mode=importlib`` whether pytest is started as ``pytest`` or as
``python -m pytest`` (which alone puts the working directory there).
"""

import os
import sys
from pathlib import Path

import numpy as np
import pytest

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.append(_ROOT)  # after PYTHONPATH: a tree under test there keeps precedence


def data_home() -> Path | None:
    """The folder of real data files (RANDOPT_DATA), or None when unset or absent."""
    value = os.environ.get("RANDOPT_DATA")
    if not value:
        return None
    path = Path(value).expanduser().resolve()
    return path if path.is_dir() else None


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def data_file(name: str) -> Path:
    """Path of a real data file in RANDOPT_DATA; skips the test when absent (fails in CI)."""
    home = data_home()
    if home is None or not (home / name).is_file():
        if os.environ.get("CI"):
            pytest.fail(f"CI must set RANDOPT_DATA to ../shared/datasets (it holds {name})")
        pytest.skip(f"set RANDOPT_DATA to a folder holding {name} to run real-data tests")
    return home / name


@pytest.fixture(scope="session")
def ijcnn1_path() -> Path:
    """``ijcnn1.bz2`` in RANDOPT_DATA (its folder also holds ``ijcnn1.t.bz2``)."""
    return data_file("ijcnn1.bz2")


@pytest.fixture(scope="session")
def mnist_path() -> Path:
    """``mnist_binarized.npz`` in RANDOPT_DATA."""
    return data_file("mnist_binarized.npz")
