"""What the motion generator hears: one row per video frame saying what the mouth is doing
(the phonetic encoder's posteriors) and how it is said (level, pitch, voicing, speech).

Trained on the raw mel, the generator learned the sound of espeak-ng rather than speech: a
new synthesiser, a real voice or a song moved its mouth half as well. The encoder's
posteriors mean the same on every voice, so the generator, trained on them, meets nothing
new when the voice is new. Prosody stays beside them, because loudness and pitch drive how
wide the mouth opens, the brows and the head.

Every column is causal up to the encoder's look-ahead (3 frames, 120 ms), so a live stream
gets the same rows a whole clip does:
- level: loudness in tens of dB against a running speech level, so a quiet phone and a
  loud studio read alike;
- pitch: semitones (over four) above a running mean of the voiced frames' pitch, 0 where
  unvoiced, so a child and a bass read alike.
Both references are the plain mean of the speech (voiced) frames heard so far until
`DECAY_S` of them have been heard, and an exponentially weighted mean with that time
constant after: right from the first word, and following a voice that changes later;
- voicing (0..1) and speech (0 or 1) as `compute_features` gives them.

    listener = Listener(load_encoder())
    rows = np.concatenate([listener.push(chunk) for chunk in chunks] + [listener.finish()])
    rows = condition(features, encoder)  # the same, for a whole clip
"""

from __future__ import annotations

import math

import numpy as np

from vasa_core.audio.encoder import CLASSES, PhoneticEncoder
from vasa_core.audio.features import AudioFeatures
from vasa_core.errors import VasaError

COLUMNS = (*CLASSES, "level", "pitch", "voicing", "speech")
DIM = len(COLUMNS)
SPEECH = COLUMNS.index("speech")
FORMAT = "vasa-condition/2 (phonetic posteriors, level, pitch, voicing, speech)"
DECAY_S = 3.0
LEVEL_RANGE = (-4.0, 2.0)  # tens of dB below and above the speech level


class Prosody:
    """The running level and pitch references, and the rows they give, frame by frame."""

    def __init__(self, fps: float):
        self.rate = 1.0 - math.exp(-1.0 / (DECAY_S * fps))
        self.level, self.heard = 0.0, 0  # mean loudness of the speech frames, and how many
        self.log_pitch, self.voiced = 0.0, 0

    def __call__(self, features: AudioFeatures) -> np.ndarray:
        """[T, 4] level, pitch, voicing, speech for the next T frames of `features`."""
        out = np.zeros((features.frames, 4), np.float32)
        for t in range(features.frames):
            loud, hz, speech = features.loudness[t], features.pitch[t], features.speech[t]
            if speech:
                self.heard += 1
                self.level += max(self.rate, 1.0 / self.heard) * (loud - self.level)
            # Before the first word there is no level to read against: silence it is.
            out[t, 0] = (loud - self.level) / 10.0 if self.heard else LEVEL_RANGE[0]
            if hz > 0:
                self.voiced += 1
                octaves = math.log2(hz)
                self.log_pitch += max(self.rate, 1.0 / self.voiced) * (octaves - self.log_pitch)
                out[t, 1] = 3.0 * (octaves - self.log_pitch)  # 12 semitones / 4
            out[t, 2], out[t, 3] = features.voicing[t], float(speech)
        out[:, 0] = np.clip(out[:, 0], *LEVEL_RANGE)
        return out


class Listener:
    """Condition rows as feature chunks arrive: `push` returns the rows whose look-ahead
    has arrived (`lookahead` frames behind), `finish` the rest."""

    def __init__(self, encoder: PhoneticEncoder, fps: float = 25.0):
        if abs(fps - encoder.config.fps) > 1e-6:
            raise VasaError(f"the phonetic encoder reads {encoder.config.fps:g} fps, not {fps:g}")
        self.stream = encoder.stream()
        self.prosody = Prosody(fps)
        self.waiting = np.zeros((0, 4), np.float32)  # prosody rows whose posteriors lag

    def push(self, features: AudioFeatures) -> np.ndarray:
        return self._join(self.stream.push(features.mel), self.prosody(features))

    def finish(self) -> np.ndarray:
        return self._join(self.stream.finish(), np.zeros((0, 4), np.float32))

    def _join(self, posteriors: np.ndarray, prosody: np.ndarray) -> np.ndarray:
        self.waiting = np.concatenate([self.waiting, prosody])
        ready, self.waiting = self.waiting[: len(posteriors)], self.waiting[len(posteriors) :]
        return np.concatenate([posteriors, ready], axis=1).astype(np.float32)


def condition(features: AudioFeatures, encoder: PhoneticEncoder) -> np.ndarray:
    """[T, DIM] float32: the generator's input for a whole clip's features."""
    listener = Listener(encoder, features.fps)
    return np.concatenate([listener.push(features), listener.finish()])
