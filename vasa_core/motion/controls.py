"""The controls a user steers the motion with, as the generator and the corpus see them.

main gaze (yaw, pitch in degrees), head distance (the pose `scale`: > 1 is closer),
emotion with an intensity, and head-motion intensity (0 = a still head while lips and
blinks go on, 1 = natural, 2 = lively). `vector()` is the generator's conditioning input.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from vasa_core.errors import VasaError
from vasa_core.schema import knob

EMOTIONS = ("neutral", "happy", "sad", "angry", "surprised")
DIM = 4 + len(EMOTIONS) + 1


@dataclass(frozen=True)
class Controls:
    gaze_yaw: float = 0.0
    gaze_pitch: float = 0.0
    distance: float = 1.0
    emotion: str = "neutral"
    intensity: float = 0.0
    motion: float = 1.0

    def __post_init__(self):
        if self.emotion not in EMOTIONS:
            raise VasaError(f"unknown emotion {self.emotion!r}; choose from {', '.join(EMOTIONS)}")
        for name in ("gaze_yaw", "gaze_pitch", "distance", "intensity", "motion"):
            knob(name).check(getattr(self, name))

    def vector(self) -> np.ndarray:
        """[DIM] float32: gaze yaw/pitch (scaled to about 1), distance, motion, emotion one-hot
        times intensity, and intensity itself."""
        emotion = np.zeros(len(EMOTIONS), np.float32)
        emotion[EMOTIONS.index(self.emotion)] = self.intensity
        head = [self.gaze_yaw / 30, self.gaze_pitch / 20, self.distance - 1, self.motion - 1]
        return np.concatenate([head, emotion, [self.intensity]]).astype(np.float32)

    def as_dict(self) -> dict:
        return asdict(self)
