"""Audio features as the samples arrive, for a live microphone: the same numbers
`compute_features` gives a whole clip, a frame at a time, never looking further ahead than
a frame's own windows reach (`features.reach`, 12.5 ms past its end).

    stream = FeatureStream()
    for chunk in microphone:                 # any size: 20 ms, a sample, a second
        features = stream.push(chunk)        # AudioFeatures of the frames now complete
    features = stream.finish()               # the last frames, as the clip ends

Loudness, mel, pitch and voicing are the offline ones (the same windows over the same
samples). Voice activity cannot be: offline it reads the whole clip's noise floor and
bridges pauses it can see end. Here the floor is the 10th percentile of the last 10 s of
loudness and a pause counts as speech until it has lasted `SPEECH_GAP_S` (a hangover), so a
word's end reads as speech up to 120 ms longer; pitch is gated by that flag.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from vasa_core.audio import features as feats
from vasa_core.audio.features import AudioFeatures
from vasa_core.audio.load import RATE
from vasa_core.errors import VasaError

FLOOR_SECONDS = 10.0


class VoiceActivity:
    """The speech flag frame by frame, from loudness alone."""

    def __init__(self, fps: float):
        # No floor is assumed before the first frame: the room's noise then reads as the
        # floor from the start (no chatter), and a voice that starts at once is heard from
        # its louder syllables until its first pause shows the room.
        self.recent: deque[float] = deque(maxlen=round(FLOOR_SECONDS * fps))
        self.hangover = (
            round(feats.SPEECH_GAP_S * fps) - 1
        )  # frames a pause may last and be bridged
        self.quiet_for = self.hangover + 1  # frames since the last active one

    def __call__(self, loudness: np.ndarray) -> np.ndarray:
        out = np.zeros(len(loudness), bool)
        for t, level in enumerate(loudness):
            self.recent.append(float(level))
            floor = np.percentile(self.recent, 10)
            active = level > max(feats.SPEECH_MIN_DB, floor + feats.SPEECH_ABOVE_FLOOR_DB)
            self.quiet_for = 0 if active else self.quiet_for + 1
            out[t] = self.quiet_for <= self.hangover
        return out


class FeatureStream:
    """Features of a live signal, frame by frame (see the module docstring)."""

    def __init__(self, rate: int = RATE, fps: float = 25.0):
        hop = rate / fps
        if abs(hop - round(hop)) > 1e-9:
            raise VasaError(
                f"a live stream needs whole samples per frame: {rate} Hz at {fps:g} fps"
            )
        self.rate, self.fps, self.hop = rate, fps, round(hop)
        self.reach = feats.reach(rate)
        # The buffer starts one frame before the next frame to give: that frame's samples are
        # what the next one's first windows reach back into (silence before the clip, as the
        # offline zero padding).
        self.buffer = np.zeros(self.hop, np.float32)
        self.received = 0
        self.given = 0
        self.voice = VoiceActivity(fps)

    def push(self, samples: np.ndarray) -> AudioFeatures:
        samples = np.asarray(samples, np.float32).reshape(-1)
        self.received += len(samples)
        self.buffer = np.concatenate([self.buffer, samples])
        return self._give((len(self.buffer) - self.reach) // self.hop - 1)

    def finish(self) -> AudioFeatures:
        """The frames still to come, as `compute_features` ends a clip (zeros after it)."""
        total = int(np.ceil(self.received / self.hop - 1e-9))
        return self._give(total - self.given)

    def _give(self, count: int) -> AudioFeatures:
        if count <= 0:
            return _empty(self.fps)
        bounds = np.arange(count + 2) * self.hop  # the frame before, then the new ones
        loudness, mel, pitch, voicing = (
            part[1:] for part in feats.measure_frames(self.buffer, bounds, self.rate)
        )
        speech = self.voice(loudness)
        self.buffer = self.buffer[count * self.hop :]
        self.given += count
        pitch = feats.gate_pitch(pitch, voicing, speech)
        return AudioFeatures(self.fps, mel, loudness, pitch, voicing, speech)


def _empty(fps: float) -> AudioFeatures:
    none = np.zeros(0, np.float32)
    return AudioFeatures(
        fps, np.zeros((0, feats.N_MELS), np.float32), none, none, none, none.astype(bool)
    )
