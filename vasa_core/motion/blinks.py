"""Blinks as events: when a blink starts is chance, what it looks like is anatomy.

People blink about 17 times a minute at rest and 26 in conversation, more often in pauses
than mid-word, and a blink lasts 100-400 ms: the upper lid falls fast, stays shut a moment
and rises more slowly. Nothing in the timbre of a voice says when, so the generator does not
learn blinks from the audio (trained on one synthesiser, its blink channel came out as
twitches at a third of closure on other voices); it draws them here, from the seed and the
speech/pause flags only, and the corpus draws its training blinks the same way.

`Blinker.step` decides frame by frame, so a clip gives the same blinks whether it arrives
whole or in chunks (the live mode's case).
"""

from __future__ import annotations

from collections import deque

import numpy as np

BLINKS_PER_MINUTE = 20.0  # between rest (17) and conversation (26), Bentivoglio et al. 1997
IN_PAUSE, IN_SPEECH = 1.6, 0.75  # relative chance per frame: blinks gather in pauses
REFRACTORY_S = 0.5  # no new blink this soon after the last one ended
# Seconds the lid takes to fall, stays shut, takes to rise. Shut long enough for two or
# three 25 fps frames to show the eye fully closed: half-closure lasts 160-245 ms.
CLOSING_S, HOLD_S, OPENING_S = (0.05, 0.08), (0.09, 0.13), (0.09, 0.15)


def blink_shape(fps: float, rng: np.random.Generator) -> np.ndarray:
    """One blink's closure (0 open .. 1 shut) at the frames it spans, from its first frame."""
    closing, hold, opening = (rng.uniform(*span) for span in (CLOSING_S, HOLD_S, OPENING_S))
    hold = max(hold, 1.05 / fps)  # at least one frame centre falls where the lid is shut
    t = (np.arange(int(np.ceil((closing + hold + opening) * fps))) + 0.5) / fps
    rising = t / closing
    falling = 1 - (t - closing - hold) / opening
    return np.clip(np.minimum(rising, falling), 0, 1)


class Blinker:
    """A blink curve, one frame at a time, from a random stream and whether the frame is
    speech. The mean rate is about `per_minute` whatever the share of speech."""

    def __init__(self, fps: float, rng: np.random.Generator, per_minute: float = BLINKS_PER_MINUTE):
        self.fps, self.rng = fps, rng
        self.refractory = int(round(REFRACTORY_S * fps))
        self.wait = self.refractory  # not in the very first frames either
        # The waiting time between blinks is the refractory time plus a geometric wait:
        # make the mean gap 60 / per_minute seconds, a typical blink taking ~0.3 s.
        free_s = max(60.0 / per_minute - REFRACTORY_S - 0.3, 0.2)
        self.chance = 1.0 / (free_s * fps)
        self.pending: deque[float] = deque()

    def step(self, speaking: bool) -> float:
        """The closure of the next frame."""
        draw = self.rng.random()  # one draw per frame, whatever happens
        if not self.pending:
            if self.wait > 0:
                self.wait -= 1
                return 0.0
            if draw >= self.chance * (IN_SPEECH if speaking else IN_PAUSE):
                return 0.0
            self.pending.extend(blink_shape(self.fps, self.rng))
        value = self.pending.popleft()
        if not self.pending:
            self.wait = self.refractory
        return float(value)

    def curve(self, speech: np.ndarray) -> np.ndarray:
        """Closure [T] for frames whose speech flags are `speech` [T]."""
        return np.array([self.step(bool(s)) for s in speech], np.float32)
