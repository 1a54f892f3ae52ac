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

IN_PAUSE = 1.3  # the wait for the next blink runs out this much faster in a pause
# Seconds between one blink's end and the next one's start, counted at the speech pace
# (a pause shortens them). Human intervals are more regular than chance: drawn evenly from
# this span they give about 20 blinks a minute, between rest (17) and conversation (26,
# Bentivoglio et al. 1997), and never a long stare; the first comes within 3 s.
GAP_S, FIRST_S = (1.5, 4.0), (0.3, 2.5)
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
    """A blink curve, one frame at a time, from a random stream and whether each frame is
    speech. Its state moves one frame per step, so chunks change nothing."""

    def __init__(self, fps: float, rng: np.random.Generator):
        self.fps, self.rng = fps, rng
        self.wait = rng.uniform(*FIRST_S)  # seconds at the speech pace until the next blink
        self.pending: deque[float] = deque()

    def step(self, speaking: bool) -> float:
        """The closure of the next frame."""
        if not self.pending:
            self.wait -= (1.0 if speaking else IN_PAUSE) / self.fps
            if self.wait > 0:
                return 0.0
            self.pending.extend(blink_shape(self.fps, self.rng))
        value = self.pending.popleft()
        if not self.pending:
            self.wait = self.rng.uniform(*GAP_S)
        return float(value)

    def curve(self, speech: np.ndarray) -> np.ndarray:
        """Closure [T] for frames whose speech flags are `speech` [T]."""
        return np.array([self.step(bool(s)) for s in speech], np.float32)
