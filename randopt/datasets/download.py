"""Getting a data file: its published SHA-256, the download into the data folder, the hash.

A download streams into a temp file in the target folder, is checked against
the file's published SHA-256 (where known) and is then renamed into place
(``os.replace``), so a crash never leaves a half-written data file. The only
code that touches the network is :func:`_fetch` (tests replace it).
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .home import _FILE_MODE, _is_writable_dir, get_data_home

__all__ = ["DOWNLOAD_TIMEOUT_S", "LIBSVM_URL", "UnverifiedDataWarning"]

logger = logging.getLogger("randopt.datasets")

#: Folder of LIBSVM's binary classification data sets.
LIBSVM_URL = "https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/binary/"
#: Seconds a download may stall before it is given up.
DOWNLOAD_TIMEOUT_S = 60.0


class UnverifiedDataWarning(UserWarning):
    """A data file was accepted without a published checksum to compare it with.

    Examples
    --------
    >>> from randopt.datasets import UnverifiedDataWarning
    >>> issubclass(UnverifiedDataWarning, UserWarning)
    True
    """


@dataclass(frozen=True)
class _RemoteFile:
    """A file of the LIBSVM page: its name, published SHA-256 (None: unknown) and width."""

    filename: str
    sha256: str | None  # None: checksum unknown to the project, file accepted with a warning
    n_features: int

    @property
    def url(self) -> str:
        return LIBSVM_URL + self.filename


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fetch(url: str, dst: BinaryIO, *, timeout: float) -> None:
    """Stream ``url`` into the open binary file ``dst``: the only code that uses the network."""
    request = urllib.request.Request(url, headers={"User-Agent": "randopt"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        shutil.copyfileobj(response, dst, 1 << 20)


def _missing_message(remote: _RemoteFile, folder: Path) -> str:
    return (
        f"{remote.filename} was not found in the data folder {folder}. Download it from "
        f"{remote.url} and put it in that folder as is (still bz2-compressed), or point "
        "RANDOPT_DATA (or data_home=) at a folder that holds it. See datasets/README.md."
    )


def _download(remote: _RemoteFile, path: Path) -> None:
    """Download ``remote`` to ``path`` via a temp file; FileNotFoundError when impossible."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not _is_writable_dir(folder):
            raise PermissionError(f"the folder {folder} is read-only")
        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
    except OSError as err:
        raise FileNotFoundError(
            _missing_message(remote, folder) + f" (Could not download it there: {err}.)"
        ) from err
    tmp = Path(tmp_name)
    try:
        logger.info("downloading %s to %s", remote.url, path)
        try:
            with os.fdopen(fd, "wb") as f:
                _fetch(remote.url, f, timeout=DOWNLOAD_TIMEOUT_S)
                f.flush()
                os.fsync(f.fileno())
        except (OSError, http.client.HTTPException) as err:
            raise FileNotFoundError(
                _missing_message(remote, folder) + f" (Downloading it failed: {err}.)"
            ) from err
        if remote.sha256 is not None:
            digest = _sha256(tmp)
            if digest != remote.sha256:
                raise ValueError(
                    f"the download of {remote.url} has SHA-256 {digest}, expected "
                    f"{remote.sha256}: the transfer was corrupted or the server's file changed. "
                    f"Nothing was saved; try again, or fetch the file by hand into {folder}."
                )
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _locate(
    remote: _RemoteFile, data_home: str | os.PathLike[str] | None, download: bool
) -> Path:
    """Path of ``remote`` in the data folder, downloading it first when missing and allowed."""
    folder = get_data_home(data_home)
    path = folder / remote.filename
    if path.is_file():
        return path
    if not download:
        raise FileNotFoundError(_missing_message(remote, folder))
    _download(remote, path)
    return path


def _verify(path: Path, sha256: str, *, source: str) -> str:
    """Hash ``path`` and raise ValueError unless it equals the published ``sha256``."""
    digest = _sha256(path)
    if digest != sha256:
        raise ValueError(
            f"{path} has SHA-256 {digest}, but the published {path.name} has {sha256}: the file "
            "is corrupt or a different version. Delete it and load again to re-download it "
            f"(or copy a good one from {source})."
        )
    return digest
