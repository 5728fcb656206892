"""Shared fixtures: the real-data folder and seeded generators."""

import os
from pathlib import Path

import numpy as np
import pytest


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


@pytest.fixture(scope="session")
def ijcnn1_path() -> Path:
    home = data_home()
    if home is None or not (home / "ijcnn1.bz2").is_file():
        if os.environ.get("CI"):
            pytest.fail("CI must set RANDOPT_DATA to ../shared/datasets (it holds ijcnn1.bz2)")
        pytest.skip("set RANDOPT_DATA to a folder holding ijcnn1.bz2 to run real-data tests")
    return home / "ijcnn1.bz2"
