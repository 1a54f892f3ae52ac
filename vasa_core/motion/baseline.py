"""Rule-based motion: the blink rule the corpus draws from, and the baseline every learned
generator must beat (loudness opens the jaw, blinks come at random, the head does not
move). Here, in the motion stage, so that both the corpus (data/) and the benchmarks read
them without motion/ importing data/."""

from __future__ import annotations

import numpy as np

from vasa_core import schema
from vasa_core.audio.features import AudioFeatures
from vasa_core.motion.blinks import Blinker


def blinks(features: AudioFeatures, rng: np.random.Generator) -> np.ndarray:
    """The blink curve [T] of a clip (see `motion.blinks`): the corpus's and the baseline's."""
    return Blinker(features.fps, rng).curve(features.speech)


def baseline_motion(features: AudioFeatures, seed: int = 0) -> np.ndarray:
    motion = schema.neutral(features.frames)
    loud = np.clip((features.loudness + 45.0) / 30.0, 0, 1) * features.speech
    motion[:, schema.index("jaw_open")] = 0.5 * loud
    blink = blinks(features, np.random.default_rng(seed))
    motion[:, schema.index("blink_left")] = blink
    motion[:, schema.index("blink_right")] = blink
    return schema.check(motion)
