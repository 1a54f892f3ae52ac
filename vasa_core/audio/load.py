"""Loading audio: any common file to mono float32 at one internal rate (16 kHz).

WAV, FLAC and OGG are read by libsndfile (soundfile); everything else, MP3, M4A/AAC and the
audio track of MP4/WebM/MOV videos, by the ffmpeg that imageio-ffmpeg ships. Silence is
valid audio (it animates an idle face); a file with no audio, NaN samples or more than the
length limit is refused with a one-line reason.
"""

from __future__ import annotations

import os
import subprocess
from math import gcd
from pathlib import Path

import numpy as np

from vasa_core.errors import VasaError
from vasa_core.files import check_input
from vasa_core.native import quiet_stderr

RATE = 16000  # samples per second inside the kit
MAX_SECONDS = 600.0  # outside streaming, longer audio is refused


def load_audio(
    path: str | os.PathLike, rate: int = RATE, max_seconds: float | None = MAX_SECONDS
) -> np.ndarray:
    """Mono float32 samples at `rate` from an audio or video file."""
    path = check_input(path, "audio")
    samples, source_rate = _read(path, rate, max_seconds)
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
        raise VasaError(
            f"{what}: {seconds / 60:.1f} minutes is longer than the limit of "
            f"{max_seconds / 60:g} minutes"
        )
    if source_rate != rate:
        from scipy.signal import resample_poly

        step = gcd(int(source_rate), int(rate))
        array = resample_poly(array, rate // step, int(source_rate) // step).astype(np.float32)
    return array


def _read(path: Path, rate: int, max_seconds: float | None) -> tuple[np.ndarray, int]:
    import soundfile

    try:
        with quiet_stderr():  # libsndfile's mp3 decoder prints notes on bad data
            info = soundfile.info(str(path))
    except (RuntimeError, soundfile.LibsndfileError, TypeError):
        return _ffmpeg(path, rate, max_seconds), rate
    if max_seconds is not None and info.duration > max_seconds:
        raise VasaError(
            f"{path}: {info.duration / 60:.1f} minutes is longer than the limit of "
            f"{max_seconds / 60:g} minutes"
        )
    try:
        with quiet_stderr():
            samples, source_rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, soundfile.LibsndfileError) as error:
        raise VasaError(f"{path}: the audio is truncated or corrupt ({error})") from None
    return samples, source_rate


def _ffmpeg(path: Path, rate: int, max_seconds: float | None) -> np.ndarray:
    """Decode with ffmpeg straight to mono float32 at `rate`."""
    import imageio_ffmpeg

    command = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-hide_banner",
        "-nostdin",
        "-v",
        "error",
        "-i",
        str(path),
        "-vn",
        "-ac",
        "1",
        "-ar",
        str(rate),
        "-f",
        "f32le",
    ]
    if max_seconds is not None:
        command += ["-t", str(max_seconds + 1.0)]  # enough to tell that it is too long
    result = subprocess.run(command + ["-"], capture_output=True, stdin=subprocess.DEVNULL)
    if result.returncode != 0 or not result.stdout:
        detail = result.stderr.decode(errors="replace").strip().splitlines()
        reason = detail[-1] if detail else "no audio stream"
        raise VasaError(f"{path}: no audio that ffmpeg can read ({reason})")
    return np.frombuffer(result.stdout, dtype=np.float32).copy()
