"""Motion files: an .npz with the motion latent, read and written the one way.

Two layouts are read:
- `motion` [T, DIM] (channels in schema order; a `channels` array of names, if present,
  must match), optionally `fps`;
- one array [T] per channel name (what people write by hand), optionally `fps`.
Files are written in the first layout, with `channels`, `fps` and `schema_version`.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from vasa_core import schema
from vasa_core.errors import VasaError
from vasa_core.files import atomic_write


def load_motion(path: str | os.PathLike) -> tuple[np.ndarray, float | None]:
    """(motion [T, DIM] float32, checked and clipped; fps or None) from an .npz file."""
    path = Path(path)
    if not path.is_file():
        raise VasaError(f"{path}: no such motion file")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise VasaError(f"{path}: not a motion .npz file ({error})") from None
    fps = float(arrays.pop("fps")) if "fps" in arrays else None
    if fps is not None and not (np.isfinite(fps) and 1 <= fps <= 240):
        raise VasaError(f"{path}: fps {fps} is not between 1 and 240")
    arrays.pop("schema_version", None)
    if "motion" in arrays:
        motion = arrays["motion"]
        names = arrays.get("channels")
        if names is not None and tuple(str(n) for n in names) != schema.NAMES:
            raise VasaError(
                f"{path}: its channels are not this schema's ({', '.join(schema.NAMES)})"
            )
    else:
        motion = schema.from_dict(arrays, what=str(path))
    motion = np.atleast_2d(np.asarray(motion))
    if not np.issubdtype(motion.dtype, np.number):
        raise VasaError(f"{path}: motion must be numbers, not {motion.dtype}")
    if len(motion) == 0:
        raise VasaError(f"{path}: the motion has no frames")
    return schema.check(motion, what=str(path)), fps


def save_motion(path: str | os.PathLike, motion: np.ndarray, fps: float = 25.0) -> Path:
    """Write a motion [T, DIM] atomically."""
    path = Path(path)
    motion = schema.check(np.atleast_2d(motion))
    with atomic_write(path) as f:
        np.savez(
            f,
            motion=motion,
            channels=np.array(schema.NAMES),
            fps=np.float32(fps),
            schema_version=np.int32(schema.SCHEMA_VERSION),
        )
    return path
