"""Loading audio: any common file to mono float32 at one internal rate (16 kHz).

Files are decoded by `vasa_core.media` (libsndfile, or ffmpeg for MP3, M4A/AAC and the
sound of MP4/WebM/MOV videos); here they become checked mono samples. Silence is
valid audio (it animates an idle face); a file with no audio, NaN samples or more than the
length limit is refused with a one-line reason.

A file is decoded, mixed to mono and resampled a block at a time, so that only the 16 kHz
result grows with its length (3.8 MB a minute), not a whole-file copy at its own rate in
each of its channels. `Resampler` gives exactly the numbers that scipy's `resample_poly`
gives on the whole signal.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable

import numpy as np

from vasa_core.errors import VasaError
from vasa_core.files import check_input
from vasa_core.media import AUDIO_BLOCK, audio_blocks, too_long

RATE = 16000  # samples per second inside the kit
# The one limit on audio length outside streaming, in the CLI and the app alike (`vasa
# generate --max-minutes` raises it): longer audio is refused as it is read.
MAX_SECONDS = 600.0


def load_audio(
    path: str | os.PathLike, rate: int = RATE, max_seconds: float | None = MAX_SECONDS
) -> np.ndarray:
    """Mono float32 samples at `rate` from an audio or video file."""
    path = check_input(path, "audio")
    blocks, source_rate = audio_blocks(path, rate, max_seconds)
    return _gather(blocks, source_rate, rate, max_seconds, str(path))


def to_mono(
    samples: np.ndarray,
    source_rate: int,
    rate: int = RATE,
    max_seconds: float | None = MAX_SECONDS,
    what: str = "audio",
) -> np.ndarray:
    """Any [n] or [n, channels] samples to mono float32 at `rate`, checked."""
    array = np.asarray(samples)
    if array.ndim not in (1, 2):
        raise VasaError(f"{what}: expected samples [n] or [n, channels], got {array.shape}")
    blocks = (array[i : i + AUDIO_BLOCK] for i in range(0, len(array), AUDIO_BLOCK))
    return _gather(blocks, source_rate, rate, max_seconds, what)


def _gather(
    blocks: Iterable[np.ndarray],
    source_rate: int,
    rate: int,
    max_seconds: float | None,
    what: str,
) -> np.ndarray:
    """Blocks of samples at `source_rate`, each mixed, checked and resampled as it comes,
    joined into one mono float32 array at `rate`."""
    resampler = Resampler(int(source_rate), int(rate))
    parts, count = [], 0
    for block in blocks:
        mono = _mono(block)
        if not np.isfinite(mono).all():
            raise VasaError(f"{what}: has NaN or infinite samples")
        count += len(mono)
        if max_seconds is not None and count / source_rate > max_seconds:
            raise too_long(what, _seconds(count, blocks, source_rate), max_seconds)
        parts.append(resampler.push(mono))
    if count == 0:
        raise VasaError(f"{what}: contains no audio samples")
    parts.append(resampler.finish())
    return np.concatenate(parts)


def _seconds(count: int, blocks: Iterable[np.ndarray], source_rate: int) -> float:
    """The whole length, for the refusal: the rest of the blocks counted, not kept."""
    return (count + sum(len(block) for block in blocks)) / source_rate


def _mono(block: np.ndarray) -> np.ndarray:
    """One block [n] or [n, channels] as mono float32; integers scaled to -1..1."""
    if block.ndim == 2:
        block = block.mean(axis=1)
    if np.issubdtype(block.dtype, np.integer):
        block = block / float(np.iinfo(block.dtype).max)
    return block.astype(np.float32, copy=False)


class Resampler:
    """Polyphase resampling a block at a time: the same numbers, bit for bit, as
    `scipy.signal.resample_poly(whole, up, down)` (its Kaiser-windowed filter, zeros
    beyond both ends), while holding only the filter's reach of input between blocks."""

    def __init__(self, source: int, target: int):
        step = math.gcd(source, target)
        self.up, self.down = target // step, source // step
        self.filter, self.skip = np.ones(1, np.float32), 0  # the same rate: nothing to do
        if self.up != self.down:  # resample_poly's filter, padded as it pads it
            half = 10 * max(self.up, self.down)
            taps = _taps(2 * half + 1, 1.0 / max(self.up, self.down)) * self.up
            pre = self.down - half % self.down
            self.filter = np.concatenate([np.zeros(pre, np.float32), taps])
            self.skip = (half + pre) // self.down  # leading outputs resample_poly drops
        self.pending = np.zeros(0, np.float32)  # input from sample `start` on
        self.start = self.seen = self.made = 0

    def push(self, samples: np.ndarray) -> np.ndarray:
        """The output samples whose every input has now arrived."""
        samples = np.asarray(samples, np.float32)
        if self.up == self.down:
            return samples.copy()
        self.pending = np.concatenate([self.pending, samples])
        self.seen += len(samples)
        ready = -(-self.seen * self.up // self.down) - self.skip
        if ready <= self.made:
            return np.zeros(0, np.float32)
        out = self._outputs(ready)
        # Keep the input from the earliest sample the next output reads, starting on a
        # multiple of `down` so that the filter's phases line up as on the whole signal.
        first = -(-((ready + self.skip) * self.down - len(self.filter) + 1) // self.up)
        first = max(0, first - first % self.down)
        self.pending, self.start = self.pending[first - self.start :], first
        return out

    def finish(self) -> np.ndarray:
        """The last outputs, reading zeros past the end as resample_poly does."""
        if self.up == self.down:
            return np.zeros(0, np.float32)
        beyond = np.zeros(len(self.filter) // self.up + 2, np.float32)
        self.pending = np.concatenate([self.pending, beyond])
        return self._outputs(-(-self.seen * self.up // self.down))

    def _outputs(self, stop: int) -> np.ndarray:
        """Outputs made..stop-1 from the pending input."""
        from scipy.signal import upfirdn

        filtered = upfirdn(self.filter, self.pending, self.up, self.down)
        offset = (self.start // self.down) * self.up - self.skip
        out = filtered[self.made - offset : stop - offset]
        self.made = stop
        return out


def _taps(count: int, cutoff: float) -> np.ndarray:
    """resample_poly's low-pass filter (Kaiser window, beta 5), in float32 as it uses it
    on float32 samples."""
    from scipy.signal import firwin

    return firwin(count, cutoff, window=("kaiser", 5.0)).astype(np.float32)
