"""A live session: audio chunks in as they are recorded, timed frames of the talking face out.

    session = pipe.live(latents, Controls(), size=256)
    for chunk in microphone:                   # float32 mono at 16 kHz, any length
        for frame in session.push(chunk):      # LiveFrame: index, time, motion, image
            show(frame.image)
    session.set_controls(Controls(emotion="happy"))   # reached within 0.4 s, no jump
    rest = session.finish()

Each stage is the causal one: features as samples arrive (audio/stream.py), the condition
rows with the encoder's 120 ms look-ahead (audio/condition.py), motion a frame at a time
(motion/live.py), and the renderer one frame at a time. Frame i shows the audio from
i / fps to (i + 1) / fps; it can be made once the audio up to about (i + 4) / fps plus
12.5 ms has arrived. `LiveFrame.waited` is how much audio beyond the frame's own end had
to arrive first: the look-ahead part of the latency, the rest being compute.

When nobody speaks, the face listens: the encoder reads silence, the mouth rests, and
blinks, gaze and a little head motion go on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vasa_core.audio.condition import Listener
from vasa_core.audio.load import RATE
from vasa_core.audio.stream import FeatureStream
from vasa_core.media import stamp
from vasa_core.motion.controls import Controls
from vasa_core.motion.live import LiveMotion, live_sampling
from vasa_core.motion.portrait import combine
from vasa_core.settings import Sampling


@dataclass
class LiveFrame:
    index: int
    seconds: float  # where the frame starts in the audio
    waited: float  # seconds of audio past the frame's end received before it was made
    motion: np.ndarray  # [DIM], on the portrait
    image: np.ndarray | None  # [size, size, 3] uint8; None if skipped (`push`'s keep)


class LiveSession:
    """One live stream through the pipeline (see the module docstring)."""

    def __init__(
        self,
        generator,
        latents,
        controls: Controls,
        seed: int = 0,
        sampling: Sampling = Sampling(),  # noqa: B008 (frozen dataclass)
        size: int | None = 256,
        mark: bool = True,
        fps: float = 25.0,
    ):
        from vasa_core.render import Renderer

        self.latents, self.mark, self.fps = latents, mark, fps
        self.features = FeatureStream(RATE, fps)
        self.listener = Listener(generator.encoder, fps)
        self.motion = LiveMotion(generator, controls, seed, live_sampling(sampling), fps)
        self.renderer = Renderer(latents, size=size, device=generator.device)
        self.made = 0  # frames so far

    def set_controls(self, controls: Controls) -> None:
        self.motion.set_controls(controls)

    def push(self, samples: np.ndarray, keep: int | None = None) -> list[LiveFrame]:
        """Add float32 mono samples at 16 kHz; returns the frames they completed. With `keep`,
        only the newest `keep` of them are rendered; the older ones (stale, for a caller that
        fell behind) keep their motion, so the face goes on smoothly, but have no image."""
        samples = np.asarray(samples, np.float32).reshape(-1)
        return self._frames(self.listener.push(self.features.push(samples)), keep)

    def finish(self, keep: int | None = None) -> list[LiveFrame]:
        """The frames still owed at the end of the audio (`keep` as in `push`)."""
        rows = self.listener.push(self.features.finish())
        return self._frames(np.concatenate([rows, self.listener.finish()]), keep)

    def _frames(self, rows: np.ndarray, keep: int | None = None) -> list[LiveFrame]:
        out = []
        first = 0 if keep is None else len(rows) - keep  # the first row that is rendered
        for i, row in enumerate(rows):
            motion = combine(self.latents.motion, self.motion.step(row)[None])
            image = None
            if i >= first:
                image = self.renderer.render(motion, batch=1)[0]
                image = stamp(image) if self.mark else image
            start = self.made / self.fps
            waited = max(0.0, self.features.received / RATE - start - 1 / self.fps)
            out.append(LiveFrame(self.made, start, waited, motion[0], image))
            self.made += 1
        return out
