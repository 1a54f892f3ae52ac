"""Files in and out. Inputs are checked to be a non-empty file (`check_input`). Outputs are
checked before any work (`check_output`), then written atomically, under a temporary name
beside them and moved into place only when complete, so a failed or interrupted write never
leaves half a file behind."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from vasa_core.errors import VasaError


def check_input(path: str | os.PathLike, what: str, missing: str = "file") -> Path:
    """One clear error unless `path` is a non-empty file; `what` names what it should be
    ("an image"), `missing` what is reported absent ("no such file")."""
    path = Path(path)
    if not path.exists():
        raise VasaError(f"{path}: no such {missing}")
    if path.is_dir():
        raise VasaError(f"{path}: is a directory, not {what}")
    if path.stat().st_size == 0:
        raise VasaError(f"{path}: the file is empty")
    return path


def check_output(path: str | os.PathLike, suffix: str, what: str) -> Path:
    """Fail early, before any work, unless a `what` (e.g. "video") can be written at `path`
    with the expected `suffix` (e.g. ".mp4")."""
    path = Path(path)
    if path.suffix.lower() != suffix:
        raise VasaError(f"{path}: the {what} is written as {suffix}; give a {suffix} path")
    if path.is_dir():
        raise VasaError(f"{path}: is a directory")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise VasaError(f"{path}: cannot write here (no folder {folder})")
    if not os.access(folder, os.W_OK):
        raise VasaError(f"{path}: cannot write here (permission denied)")
    return path


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """`with atomic_write(path) as f: ...` writes `path` whole or not at all."""
    path = Path(path)
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=f"{path.suffix}.part")
    except OSError as error:
        raise VasaError(f"{path}: cannot write here ({error.strerror})") from None
    try:
        with os.fdopen(handle, "wb") as f:
            yield f
        usual_permissions(temporary)
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)


def usual_permissions(path: str | os.PathLike) -> None:
    """Give a finished temporary file the mode a plain `open()` would have (0o666 less the
    umask): `mkstemp` makes files only their owner can read."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)
