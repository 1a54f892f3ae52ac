"""Audio features, one row per video frame: what the motion generator listens to.

Frame i of a video at `fps` frames per second covers the time [i / fps, (i + 1) / fps);
its features describe that stretch of audio and nothing else:
- loudness: RMS level in dB (full scale) of exactly the frame's samples;
- mel: 80-band log-mel energy, averaged over four 25 ms windows centred inside the frame;
- pitch: fundamental frequency in Hz (0 where unvoiced), from the autocorrelation of a
  40 ms window centred on the frame; voicing: how periodic that window is (0..1);
- speech: a voice-activity flag, loudness above an adaptive noise floor, with short gaps
  bridged and short blips ignored.
audio/condition.py turns them into what the motion generator hears.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from vasa_core.audio.load import RATE

N_MELS = 80
N_FFT = 512
MEL_WINDOW_S = 0.025  # each mel row averages four windows of this length
SILENCE_DB = -100.0
# Voice activity: louder than both, with pauses shorter than SPEECH_GAP_S bridged.
SPEECH_MIN_DB = -60.0
SPEECH_ABOVE_FLOOR_DB = 12.0
SPEECH_GAP_S = 0.15
FRAMES_AT_ONCE = 500  # measured together (20 s at 25 fps): bounds the temporaries


@dataclass
class AudioFeatures:
    fps: float
    mel: np.ndarray  # [T, 80] natural log of mel power
    loudness: np.ndarray  # [T] dBFS
    pitch: np.ndarray  # [T] Hz, 0 where unvoiced
    voicing: np.ndarray  # [T] 0..1
    speech: np.ndarray  # [T] bool

    @property
    def frames(self) -> int:
        return len(self.loudness)

    def cut(self, start: int, stop: int) -> AudioFeatures:
        """Frames start..stop-1, as a stream delivers them a chunk at a time."""
        part = slice(start, stop)
        return AudioFeatures(
            self.fps,
            self.mel[part],
            self.loudness[part],
            self.pitch[part],
            self.voicing[part],
            self.speech[part],
        )


def frame_bounds(samples: int, rate: int, fps: float) -> np.ndarray:
    """Sample index where each frame starts, plus the end: [T + 1]. T = ceil(duration * fps)."""
    frames = int(np.ceil(samples * fps / rate - 1e-9))
    return np.round(np.arange(frames + 1) * rate / fps).astype(np.int64)


def hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    """The HTK mel scale: even steps in it sound like even steps in pitch."""
    return 2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0)


def mel_to_hz(mel: np.ndarray | float) -> np.ndarray:
    return 700.0 * (10.0 ** (np.asarray(mel) / 2595.0) - 1.0)


def mel_edges_hz(rate: int = RATE, n_mels: int = N_MELS) -> np.ndarray:
    """[n_mels + 2] corner frequencies of the filters, evenly spaced in mel: filter b rises
    from edge b, peaks at edge b + 1 (its centre) and falls to edge b + 2."""
    return mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(rate / 2), n_mels + 2))


@lru_cache(maxsize=8)
def mel_filterbank(rate: int = RATE, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """Triangular filters [n_mels, n_fft // 2 + 1] evenly spaced on the HTK mel scale."""
    edges = mel_edges_hz(rate, n_mels)
    bins = np.linspace(0, rate / 2, n_fft // 2 + 1)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins[None] - lower) / (centre - lower)
    falling = (upper - bins[None]) / (upper - centre)
    return np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)


def _take(signal: np.ndarray, start: int, stop: int) -> np.ndarray:
    """signal[start:stop] as float32, with zeros where that reaches past either end."""
    out = np.zeros(stop - start, np.float32)
    lo, hi = max(start, 0), min(stop, len(signal))
    if hi > lo:
        out[lo - start : hi - start] = signal[lo:hi]
    return out


def _windows(signal: np.ndarray, centres: np.ndarray, length: int) -> np.ndarray:
    """Windows [len(centres), length] of `signal` centred on sample indices (zeros beyond
    its ends), copied from the stretch they cover, not from a padded copy of the whole."""
    first = int(centres.min()) - length // 2
    stretch = _take(signal, first, int(centres.max()) - length // 2 + length)
    return stretch[centres[:, None] - length // 2 - first + np.arange(length)[None, :]]


def compute_features(samples: np.ndarray, rate: int = RATE, fps: float = 25.0) -> AudioFeatures:
    """Features of mono samples, one row per video frame (see the module docstring)."""
    samples = np.asarray(samples, dtype=np.float32)
    bounds = frame_bounds(len(samples), rate, fps)
    loudness, mel, pitch, voicing = measure_frames(samples, bounds, rate)
    speech = _speech(loudness, fps)
    return AudioFeatures(fps, mel, loudness, gate_pitch(pitch, voicing, speech), voicing, speech)


def measure_frames(
    samples: np.ndarray, bounds: np.ndarray, rate: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(loudness, mel, pitch, voicing) of the frames between `bounds` (sample indices into
    `samples`); windows that reach past either end of `samples` see zeros there.

    FRAMES_AT_ONCE frames at a time: the windows and spectra of a ten-minute clip at once
    took more than a gigabyte. Every frame's numbers are the same as in one pass."""
    energy = 0.0  # the running sum of squares, up to the next chunk's first sample
    parts = []
    for first in range(0, len(bounds) - 1, FRAMES_AT_ONCE):
        chunk = bounds[first : first + FRAMES_AT_ONCE + 1]
        parts.append(_measure_chunk(samples, chunk, rate, energy))
        energy = parts[-1][-1]
    if not parts:
        return _measure_chunk(samples, bounds, rate, energy)[:4]
    return tuple(np.concatenate([part[k] for part in parts]) for k in range(4))


def _measure_chunk(samples: np.ndarray, bounds: np.ndarray, rate: int, energy: float):
    """measure_frames for the frames between `bounds`, plus the running energy at their
    end; `energy` is that at their start, so the sums run on as in one pass."""
    frames = len(bounds) - 1
    signal = _take(samples, int(bounds[0]), int(bounds[-1]))
    # One running sum from the clip's start (cumsum adds in order): each frame's mean square
    # is a difference of two of its values, the same whether the clip is chunked or not.
    squares = np.concatenate([[energy], signal.astype(np.float64) ** 2])
    running = np.cumsum(squares)
    local = bounds - bounds[0]
    mean_square = (running[local[1:]] - running[local[:-1]]) / np.maximum(np.diff(bounds), 1)
    loudness = np.maximum(10 * np.log10(mean_square + 1e-12), SILENCE_DB).astype(np.float32)
    if frames == 0:
        empty = np.zeros(0, np.float32)
        return loudness, np.zeros((0, N_MELS), np.float32), empty, empty, running[-1]

    quarters = bounds[:-1, None] + (np.arange(4)[None, :] + 0.5) * np.diff(bounds)[:, None] / 4
    windows = _windows(
        samples, np.round(quarters).astype(np.int64).reshape(-1), round(MEL_WINDOW_S * rate)
    )
    spectrum = np.abs(np.fft.rfft(windows * np.hanning(windows.shape[1]), n=N_FFT)) ** 2
    mel_power = spectrum @ mel_filterbank(rate).T
    mel = np.log(mel_power.reshape(frames, 4, N_MELS).mean(axis=1) + 1e-10).astype(np.float32)

    pitch, voicing = _pitch(samples, (bounds[:-1] + bounds[1:]) // 2, rate)
    return loudness, mel, pitch, voicing, running[-1]


def reach(rate: int = RATE) -> int:
    """Samples past a frame's end that its windows read (the last mel window's half): a
    stream can give a frame's features this long after the frame has ended."""
    return round(MEL_WINDOW_S * rate) // 2 + 1


def gate_pitch(pitch: np.ndarray, voicing: np.ndarray, speech: np.ndarray) -> np.ndarray:
    """Pitch where it means something (speech, clearly periodic), 0 elsewhere."""
    return np.where(speech & (voicing >= 0.45), pitch, 0.0).astype(np.float32)


def _pitch(signal: np.ndarray, centres: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """F0 (Hz) and periodicity (0..1) by normalised autocorrelation, 60-500 Hz."""
    length = round(0.04 * rate)
    windows = _windows(signal, centres, length)
    windows = windows - windows.mean(axis=1, keepdims=True)
    size = 1 << int(np.ceil(np.log2(2 * length)))
    taper = np.hanning(length)
    power = np.abs(np.fft.rfft(windows * taper, n=size)) ** 2
    auto = np.fft.irfft(power, n=size)[:, :length]
    auto /= np.maximum(auto[:, :1], 1e-12)
    # Divide out the window's own autocorrelation (Boersma 1993), which otherwise fades
    # every peak with its lag: a pure tone then scores 1 at its period.
    own = np.fft.irfft(np.abs(np.fft.rfft(taper, n=size)) ** 2, n=size)[:length]
    auto /= np.maximum(own / own[0], 1e-3)
    low, high = int(rate / 500), int(rate / 60)
    lag = low + np.argmax(auto[:, low:high], axis=1)
    rows = np.arange(len(lag))
    peak = auto[rows, lag]
    # Parabolic interpolation between neighbouring lags for a sub-sample period.
    left, right = auto[rows, lag - 1], auto[rows, np.minimum(lag + 1, length - 1)]
    shift = (
        0.5
        * (left - right)
        / np.where(np.abs(left - 2 * peak + right) < 1e-9, 1e-9, left - 2 * peak + right)
    )
    period = lag + np.clip(shift, -0.5, 0.5)
    return (rate / period).astype(np.float32), np.clip(peak, 0, 1).astype(np.float32)


def _speech(loudness: np.ndarray, fps: float) -> np.ndarray:
    """Voice activity: above max(-60 dBFS, noise floor + 12 dB), gaps < 150 ms bridged
    (audio/stream.py has its causal counterpart).

    -60 dBFS, not higher, so that speech recorded 20 dB quieter than usual still counts."""
    floor = np.percentile(loudness, 10) if len(loudness) else SILENCE_DB
    active = loudness > max(SPEECH_MIN_DB, floor + SPEECH_ABOVE_FLOOR_DB)
    active = _fill_runs(active, value=False, shorter_than=round(SPEECH_GAP_S * fps))
    return _fill_runs(active, value=True, shorter_than=round(0.06 * fps) + 1)


def _fill_runs(flags: np.ndarray, value: bool, shorter_than: int) -> np.ndarray:
    """Flip interior runs of `value` shorter than `shorter_than` frames."""
    out = flags.copy()
    change = np.flatnonzero(np.diff(flags.astype(np.int8))) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [len(flags)]])
    for start, end in zip(starts, ends, strict=True):
        interior = start > 0 and end < len(flags)
        if interior and flags[start] == value and end - start < shorter_than:
            out[start:end] = not value
    return out
