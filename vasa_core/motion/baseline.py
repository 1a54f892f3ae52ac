"""The rule-based baseline every learned generator must beat: loudness opens the jaw,
blinks come at random, the head does not move."""

from __future__ import annotations

import numpy as np

from vasa_core.audio.features import AudioFeatures
from vasa_core.data.synth import blinks
from vasa_core.motion import schema


def baseline_motion(features: AudioFeatures, seed: int = 0) -> np.ndarray:
    motion = schema.neutral(features.frames)
    loud = np.clip((features.loudness + 45.0) / 30.0, 0, 1) * features.speech
    motion[:, schema.index("jaw_open")] = 0.5 * loud
    blink = blinks(features, np.random.default_rng(seed))
    motion[:, schema.index("blink_left")] = blink
    motion[:, schema.index("blink_right")] = blink
    return schema.check(motion)
