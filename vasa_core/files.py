"""Writing a file atomically: under a temporary name beside it, moved into place only when
complete, so a failed or interrupted write never leaves half a file behind."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from vasa_core.errors import VasaError


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
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
