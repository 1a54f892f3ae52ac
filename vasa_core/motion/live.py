"""Motion for a live stream: one frame as soon as its audio condition row arrives.

The offline generator samples 2-second windows; a frame there waits for the audio of the
whole window. The live checkpoint (`live.safetensors`, trained like the offline one with a
window of one frame and 24 frames of context) continues the motion a frame at a time from
the last 24 frames it made and heard, so a frame waits only for its own row: the encoder's
look-ahead (120 ms) plus the frame itself (40 ms), then the sampling.

What the offline path does over a window, this does frame by frame and causally:
- head and gaze are smoothed by a one-pole filter instead of a centred Gaussian;
- blinks come from the same `Blinker`, which already decides frame by frame;
- controls can change at any frame: the new ones are reached over `RAMP_S`, not at once,
  so a change of emotion or gaze never jumps;
- a listening face: frame by frame the model continues its own output, and over seconds
  of room noise its mouth drifted open (to 0.14 face widths at -45 dBFS). Outside speech
  the lips are eased back to rest (`REST_S`), as a noise gate would; in speech they are
  the model's.

    live = LiveMotion(MotionGenerator(live_path()), Controls(), seed=0)
    for row in rows:                     # condition rows (audio/condition.py) as they come
        frame = live.step(row)           # [DIM] motion, final
    live.set_controls(Controls(emotion="happy"))
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import torch

from vasa_core import schema
from vasa_core.audio import condition
from vasa_core.motion.blinks import Blinker
from vasa_core.motion.controls import Controls
from vasa_core.motion.generator import BLINKS, HEAD, SMOOTHED, MotionGenerator, head_share
from vasa_core.settings import Sampling

SHIPPED = "live.safetensors"
RAMP_S = 0.4  # how long a change of controls takes to arrive
REST_S = 0.1  # time constant of the lips' return to rest outside speech
MOUTH = [schema.index(n) for n in schema.MOUTH]
LIVE_STEPS = 4  # DDIM steps per frame: the live budget is ~40 ms a frame for everything


def live_path() -> Path:
    """The shipped live checkpoint (see its model card)."""
    return Path(str(resources.files("vasa_core.checkpoints").joinpath(SHIPPED)))


def live_sampling(sampling: Sampling = Sampling()) -> Sampling:  # noqa: B008 (frozen)
    """The offline settings with the live number of steps (fewer, to keep up)."""
    values = sampling.as_dict() | {"steps": min(sampling.steps, LIVE_STEPS)}
    return Sampling(**values)


class LiveMotion:
    """One live session's motion state: context, smoothing, blinks and controls."""

    def __init__(
        self,
        generator: MotionGenerator,
        controls: Controls,
        seed: int = 0,
        sampling: Sampling = Sampling(),  # noqa: B008
        fps: float = 25.0,
    ):
        self.generator, self.sampling, self.fps = generator, sampling, fps
        self.weights, self.temperature = generator.guidance_tensors(sampling)
        self.rng = torch.Generator().manual_seed(seed)
        width, context = generator.model.config.audio_dim, generator.context
        self.context_motion = np.tile(schema.neutral(), (context, 1)).astype(np.float32)
        self.context_audio = np.zeros((context, width), np.float32)
        self.frames = 0
        self.blinker = Blinker(fps, np.random.default_rng(seed))
        # One-pole smoothing with the offline Gaussian's width as its time constant.
        self.keep = float(np.exp(-1.0 / max(sampling.smooth_frames, 1e-6)))
        self.smoothed: np.ndarray | None = None
        self.rest = schema.neutral()[MOUTH]
        self.open = 1.0  # how much of the model's mouth shows: 1 in speech, eased to 0 outside
        self.closing = float(np.exp(-1.0 / (REST_S * fps)))
        self.vector = controls.vector().astype(np.float32)
        self.calm = head_share(controls)
        self.set_controls(controls)

    def set_controls(self, controls: Controls) -> None:
        """New controls, reached over RAMP_S from where the current ones are."""
        self.target_vector = controls.vector().astype(np.float32)
        self.target_calm = head_share(controls)
        self.ramp_frames = max(1, round(RAMP_S * self.fps))

    def step(self, row: np.ndarray) -> np.ndarray:
        """The motion [DIM] of the frame whose condition row is `row` [condition.DIM]."""
        self._move_controls()
        row = np.asarray(row, np.float32).reshape(1, -1)
        motion = self.generator.sample_window(
            row,
            self.context_motion,
            self.context_audio,
            self.vector,
            self.frames > 0,
            self.sampling.steps,
            self.weights,
            self.temperature,
            self.rng,
            self.sampling.closure_guidance,
            self.sampling.closure_ramp,
        )[0]
        motion[HEAD] *= self.calm
        speaking = bool(row[0, condition.SPEECH] > 0.5)
        self.open = 1.0 if speaking else self.open * self.closing
        motion[MOUTH] = self.rest + self.open * (motion[MOUTH] - self.rest)
        if self.smoothed is None:
            self.smoothed = motion[SMOOTHED].copy()
        else:
            self.smoothed = self.keep * self.smoothed + (1 - self.keep) * motion[SMOOTHED]
        motion[SMOOTHED] = self.smoothed
        motion = np.clip(motion, schema.LOW, schema.HIGH)
        if not self.sampling.model_blinks:
            motion[BLINKS] = self.blinker.step(speaking)
        # The context holds the blinks drawn, as the corpus's motion (and the offline
        # path's context) does.
        self.context_motion = np.concatenate([self.context_motion[1:], motion[None]])
        self.context_audio = np.concatenate([self.context_audio[1:], row])
        self.frames += 1
        return motion

    def _move_controls(self) -> None:
        if self.ramp_frames <= 0:
            return
        share = 1.0 / self.ramp_frames
        self.vector = self.vector + share * (self.target_vector - self.vector)
        self.calm = self.calm + share * (self.target_calm - self.calm)
        self.ramp_frames -= 1
