"""Keeping native libraries' chatter (MediaPipe's C++ logs, libsndfile's mpg123 notes) off
the terminal: they write straight to file descriptor 2, past Python's sys.stderr."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for the duration.

    Native code writes to descriptor 2 whatever Python's sys.stderr is: in a notebook
    sys.stderr is a kernel stream without a descriptor, but descriptor 2 still exists.
    """
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # stderr replaced (notebooks, pytest)
        fd = 2
    try:
        os.fstat(fd)
    except OSError:  # no descriptor 2 at all
        yield
        return
    saved = os.dup(fd)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), fd)
        try:
            yield
        finally:
            os.dup2(saved, fd)
            os.close(saved)
