"""Loading audio: any common file to mono float32 at one internal rate (16 kHz).

Files are decoded by `vasa_core.media` (libsndfile, or ffmpeg for MP3, M4A/AAC and the
sound of MP4/WebM/MOV videos); here they become checked mono samples. Silence is
valid audio (it animates an idle face); a file with no audio, NaN samples or more than the
length limit is refused with a one-line reason.
"""

from __future__ import annotations

import os
from math import gcd

import numpy as np

from vasa_core.errors import VasaError
from vasa_core.files import check_input
from vasa_core.media import read_audio, too_long

RATE = 16000  # samples per second inside the kit
MAX_SECONDS = 600.0  # outside streaming, longer audio is refused


def load_audio(
    path: str | os.PathLike, rate: int = RATE, max_seconds: float | None = MAX_SECONDS
) -> np.ndarray:
    """Mono float32 samples at `rate` from an audio or video file."""
    path = check_input(path, "audio")
    samples, source_rate = read_audio(path, rate, max_seconds)
    return to_mono(samples, source_rate, rate=rate, max_seconds=max_seconds, what=str(path))


def to_mono(
    samples: np.ndarray,
    source_rate: int,
    rate: int = RATE,
    max_seconds: float | None = MAX_SECONDS,
    what: str = "audio",
) -> np.ndarray:
    """Any [n] or [n, channels] samples to mono float32 at `rate`, checked."""
    array = np.asarray(samples)
    if array.ndim == 2:
        array = array.mean(axis=1)
    if array.ndim != 1:
        raise VasaError(f"{what}: expected samples [n] or [n, channels], got {array.shape}")
    if array.size == 0:
        raise VasaError(f"{what}: contains no audio samples")
    if np.issubdtype(array.dtype, np.integer):
        array = array / float(np.iinfo(array.dtype).max)
    array = array.astype(np.float32)
    if not np.isfinite(array).all():
        raise VasaError(f"{what}: has NaN or infinite samples")
    seconds = array.size / source_rate
    if max_seconds is not None and seconds > max_seconds:
        raise too_long(what, seconds, max_seconds)
    if source_rate != rate:
        from scipy.signal import resample_poly

        step = gcd(int(source_rate), int(rate))
        array = resample_poly(array, rate // step, int(source_rate) // step).astype(np.float32)
    return array
