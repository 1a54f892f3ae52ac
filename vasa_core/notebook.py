"""What the notebooks share: the fast mode CI runs them in, and inline video.

Notebooks run top to bottom in CI (`VASA_FAST=1` or `CI` set) with small sizes and few
steps, and in full mode for a student. Each notebook picks its sizes with `pick(fast, full)`
so the two modes run the same code.
"""

from __future__ import annotations

import os
from pathlib import Path

_OFF = {"", "0", "false", "no", "off"}


def fast_mode() -> bool:
    """True when `VASA_FAST` or `CI` is set to anything but an off value."""
    return any(os.environ.get(name, "").strip().lower() not in _OFF for name in ("VASA_FAST", "CI"))


FAST = fast_mode()


def pick(fast: object, full: object) -> object:
    """`fast` in fast mode, `full` otherwise."""
    return fast if FAST else full


def show_video(path: str | Path, width: int = 384):
    """A video player for a notebook cell. Embedded, so the notebook keeps it when saved;
    in fast mode it is linked instead, so CI outputs stay small."""
    from IPython.display import Video

    if FAST:
        return Video(str(path), width=width)
    return Video(str(path), embed=True, width=width, html_attributes="controls")
