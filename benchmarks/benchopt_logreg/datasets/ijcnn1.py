"""ijcnn1 (LIBSVM, 49,990 x 22, sparse CSR), read offline from ``RANDOPT_DATA``.

Read by :func:`randopt.datasets.load_ijcnn1` with ``download=False``. When
``RANDOPT_DATA`` is unset or ``ijcnn1.bz2`` is not in that folder the
dataset is skipped with a message saying what to set (the objective's
``skip`` reads ``skip_reason``); the run goes on with the other datasets.
"""

from __future__ import annotations

import os
from pathlib import Path

from benchopt import BaseDataset, safe_import_context

with safe_import_context() as import_ctx:
    from randopt.datasets import load_ijcnn1

FILE = "ijcnn1.bz2"


def missing_reason() -> str | None:
    """Why ijcnn1 cannot be read here (``RANDOPT_DATA`` or the file missing), else None."""
    folder = os.environ.get("RANDOPT_DATA")
    if not folder:
        return (f"ijcnn1 skipped: RANDOPT_DATA is not set (set it to a folder holding {FILE}, "
                "e.g. ../shared/datasets)")
    if not (Path(folder).expanduser() / FILE).is_file():
        return f"ijcnn1 skipped: {FILE} is not in RANDOPT_DATA={folder}"
    return None


class Dataset(BaseDataset):
    """ijcnn1's training file (the 49,990 rows of the papers), labels in {-1, +1}."""

    name = "ijcnn1"
    parameters = {}

    def get_data(self):
        reason = missing_reason()
        if reason is not None:
            return {"X": None, "y": None, "skip_reason": reason}
        try:
            X, y = load_ijcnn1("train", download=False)
        except (OSError, ValueError) as exc:  # unreadable or not the published file
            return {"X": None, "y": None, "skip_reason": f"ijcnn1 skipped: {exc}"}
        return {"X": X, "y": y}
