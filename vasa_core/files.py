"""Files in and out. Inputs are checked to be a non-empty file (`check_input`). Outputs are
checked before any work (`check_output`), then written atomically, under a temporary name
beside them and moved into place only when complete, so a failed or interrupted write never
leaves half a file behind."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from vasa_core.errors import VasaError

# What a disk says when it cannot take a write (full, over quota, file too large, read-only,
# failing): the user's to fix, so one line; any other OSError while writing is a bug and
# keeps its traceback.
DISK_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO)
PARTIAL_PREFIX = ".vasa-"  # hidden temporary files beside an output, while it is written


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
        raise VasaError(f"{path}: {what} can only be written as {suffix}; give a {suffix} path")
    if path.is_dir():
        raise VasaError(f"{path}: is a directory")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise VasaError(f"{path}: cannot write here (no folder {folder})")
    # Try it: permissions do not tell (root ignores them; /proc and read-only disks refuse
    # whatever they say).
    handle, temporary = temporary_beside(path)
    os.close(handle)
    os.remove(temporary)
    return path


def temporary_beside(path: Path, suffix: str = ".part") -> tuple[int, str]:
    """(open descriptor, name) of a new hidden file in `path`'s folder, or one clear error
    if that folder takes no files."""
    try:
        return tempfile.mkstemp(dir=path.parent, prefix=PARTIAL_PREFIX, suffix=suffix)
    except OSError as error:
        raise VasaError(f"{path}: cannot write here ({reason(error)})") from None


def reason(error: OSError) -> str:
    """An OSError's cause as a clause: "no space left on device"."""
    text = error.strerror or type(error).__name__
    return text[:1].lower() + text[1:]


def write_failed(paths: list[Path], error: OSError) -> VasaError:
    """The one line for a disk that refused a write part-way (the caller removed the part)."""
    return VasaError(f"{' and '.join(map(str, paths))}: could not be written ({reason(error)})")


@contextlib.contextmanager
def atomic_writes(*paths: str | os.PathLike) -> Iterator[tuple[BinaryIO, ...]]:
    """`with atomic_writes(a, b) as (fa, fb): ...` writes every path whole, or none of them
    (a WAV and its phoneme timings belong together).

    The body writes into memory; the disk then takes each file's bytes in one plain write.
    A full disk is so one OSError here, and not one under numpy's zipfile or libsndfile,
    which print tracebacks of their own when a file fails beneath them. (Our files are
    small: latents, motions, plots, speech.)"""
    targets = [Path(p) for p in paths]
    temporaries: list[str] = []
    unwritten: dict[str, int] = {}  # temporary name -> its open descriptor, until written
    try:
        for path in targets:  # first, so that an unwritable folder fails before the work
            handle, temporary = temporary_beside(path, suffix=f"{path.suffix}.part")
            temporaries.append(temporary)
            unwritten[temporary] = handle
        buffers = tuple(io.BytesIO() for _ in targets)
        yield buffers
        try:
            for temporary, buffer in zip(temporaries, buffers, strict=True):
                with os.fdopen(unwritten.pop(temporary), "wb") as f:
                    f.write(buffer.getbuffer())
            for temporary, path in zip(temporaries, targets, strict=True):
                usual_permissions(temporary)
                os.replace(temporary, path)
        except OSError as error:
            if error.errno not in DISK_ERRORS:
                raise
            raise write_failed(targets, error) from None
    finally:
        for handle in unwritten.values():
            os.close(handle)
        for temporary in temporaries:
            with contextlib.suppress(FileNotFoundError):
                os.remove(temporary)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """`with atomic_write(path) as f: ...` writes `path` whole or not at all."""
    with atomic_writes(path) as (f,):
        yield f


def usual_permissions(path: str | os.PathLike) -> None:
    """Give a finished temporary file the mode a plain `open()` would have (0o666 less the
    umask): `mkstemp` makes files only their owner can read."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)
