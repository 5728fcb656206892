"""Repository-wide pytest set-up for the doctests (the Examples of randopt/, experiments/ and
benchmarks/).

An Examples line that reads a data file says so with a comment
``# requires data: <file name>``; the doctest is skipped (with the reason)
when that file is not in the data folder (``RANDOPT_DATA``, see
:func:`randopt.datasets.get_data_home`). Every other doctest always runs.
Doctests keep their parsed-data caches in a temporary folder
(``XDG_CACHE_HOME``), not in the user's ``~/.cache``.
"""

from __future__ import annotations

import re

import pytest

_REQUIRES_DATA = re.compile(r"#\s*requires data:\s*(\S+)")


@pytest.fixture(scope="session")
def _doctest_cache_home(tmp_path_factory: pytest.TempPathFactory):
    return tmp_path_factory.mktemp("doctest_cache")


@pytest.fixture(autouse=True)
def _isolate_doctest_cache(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    if getattr(request.node, "dtest", None) is not None:  # doctest items only
        monkeypatch.setenv("XDG_CACHE_HOME", str(request.getfixturevalue("_doctest_cache_home")))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    home = None
    for item in items:
        dtest = getattr(item, "dtest", None)  # set on doctest items only
        if dtest is None:
            continue
        needed = {m for ex in dtest.examples for m in _REQUIRES_DATA.findall(ex.source)}
        if not needed:
            continue
        if home is None:
            from randopt.datasets import get_data_home

            home = get_data_home()
        missing = sorted(name for name in needed if not (home / name).is_file())
        if missing:
            item.add_marker(pytest.mark.skip(
                reason=f"needs {', '.join(missing)} in the data folder {home} (RANDOPT_DATA)"
            ))
