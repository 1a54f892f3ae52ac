"""Rule-based motion: the blink rule the corpus draws from, and the baseline every learned
generator must beat (loudness opens the jaw, blinks come at random, the head does not
move). Here, in the motion stage, so that both the corpus (data/) and the benchmarks read
them without motion/ importing data/."""

from __future__ import annotations

import numpy as np

from vasa_core import schema
from vasa_core.audio.features import AudioFeatures

BLINKS_PER_MINUTE = 17.0


def blinks(features: AudioFeatures, rng) -> np.ndarray:
    """Blink curve [T] in 0..1: about 17 a minute, twice as likely in pauses than in speech,
    100-400 ms long, closing in a third of that time and opening in the rest."""
    fps, frames = features.fps, features.frames
    rate = np.where(features.speech, 0.75, 1.6) * BLINKS_PER_MINUTE / 60.0 / fps
    rate *= BLINKS_PER_MINUTE / 60.0 / fps / max(rate.mean(), 1e-9)  # keep the mean rate
    curve = np.zeros(frames)
    draws = rng.random(frames)  # one draw per frame, however the loop below goes
    lengths = rng.uniform(0.1, 0.4, frames) * fps
    t = 0
    while t < frames:
        if draws[t] < rate[t]:
            length = lengths[t]
            closing = length / 3
            for k in range(int(np.ceil(length)) + 1):
                if t + k >= frames:
                    break
                phase = k / closing if k < closing else 1 - (k - closing) / (length - closing)
                curve[t + k] = max(curve[t + k], np.clip(phase, 0, 1))
            t += int(length + 0.25 * fps)  # eyes stay open a moment after each blink
        else:
            t += 1
    return curve


def baseline_motion(features: AudioFeatures, seed: int = 0) -> np.ndarray:
    motion = schema.neutral(features.frames)
    loud = np.clip((features.loudness + 45.0) / 30.0, 0, 1) * features.speech
    motion[:, schema.index("jaw_open")] = 0.5 * loud
    blink = blinks(features, np.random.default_rng(seed))
    motion[:, schema.index("blink_left")] = blink
    motion[:, schema.index("blink_right")] = blink
    return schema.check(motion)
