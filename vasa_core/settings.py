"""Settings as data: how the motion generator samples, in one frozen dataclass.

The generator takes a `Sampling`; the CLI, the app and the benchmarks make one, and every
video records the one it was made with (`as_dict`) next to its seed and checkpoint, so a
result can be made again. Nothing here is module state that a caller overwrites.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from vasa_core import schema
from vasa_core.errors import VasaError

_FACE = np.array([c.group == "dynamics" for c in schema.CHANNELS], np.float32)
_LIPS = np.isin(schema.NAMES, schema.MOUTH).astype(np.float32)


@dataclass(frozen=True)
class Sampling:
    """How a clip's motion is sampled. Defaults measured with benchmarks/motion_eval.py.

    Guidance sharpens what the audio and controls decide (mouth, blinks, expression) but
    also shrinks what they leave free (the head wanders on its own), so each condition's
    weight goes to the face's channels only, never the head. The lips get
    `lip_audio_guidance` times the face's audio weight (2.5 everywhere doubled the blinks);
    where the encoder hears a p, b or m, the closure pull shuts them (`closure_guidance`).
    """

    steps: int = 10  # DDIM steps
    audio_guidance: float = 2.5  # weight of the audio condition on the face
    controls_guidance: float = 1.0  # weight of the controls (gaze, distance, emotion)
    # The lips' audio weight, times audio_guidance; chosen with closure_ramp (see there).
    lip_audio_guidance: float = 0.6
    # The network regresses the head towards its mean: from unit noise, the head moved
    # about half as much and half as fast as in the corpus. Starting the head's channels
    # from wider noise restores it (chosen on training voices with benchmarks/motion_eval.py
    # --voices training --head-temperature T: 2.0 until the lips got lighter, which left the
    # head 22% wider than the corpus's; at 1.8 its spread and speed are both within 13%).
    head_temperature: float = 1.8
    smooth_frames: float = 1.5  # head and gaze smoothed over ~60 ms (sampler jitter)
    overlap: int = 10  # frames each window shares with the one before (cross-faded)
    # Blinks are drawn as events (motion/blinks.py) over the network's blink channels; True
    # keeps the network's own (it learned them weakly: twitches on unfamiliar voices).
    model_blinks: bool = False
    # Where the phonetic encoder hears p, b or m, each step's prediction has its lips pulled
    # this far towards a closure (0: not at all, 1: shut; motion/generator.py). The network
    # shuts the lips for a sure posterior but left many apart for a likely one (0.68 at the
    # median sung miss): a third of the sung p/b/m stayed open. 1.0 was chosen on training
    # voices (benchmarks/motion_eval.py --voices training --closure-guidance G): sung p/b/m
    # closed 80% -> 88%, speech 96% -> 96%.
    closure_guidance: float = 1.0
    # The bilabial posterior at which the pull starts, and where it is whole. On a speaker
    # it never heard, the encoder gives many p/b/m only 0.1-0.4. Chosen with the lips'
    # weight on the encoder's validation speakers (benchmarks/motion_eval.py --voices
    # validation --encoder V --lip-audio-guidance G --closure-ramp A,B; MODEL_CARD.md): more
    # p/b/m closed in speech and song than 2.4 and (0.5, 0.8), fewer stray closures over
    # both together (5% more in speech alone, a third fewer in song).
    closure_ramp: tuple[float, float] = (0.2, 0.35)

    def __post_init__(self):
        schema.knob("steps").check(self.steps)
        schema.knob("audio_guidance").check(self.audio_guidance)
        for name in ("controls_guidance", "lip_audio_guidance", "head_temperature"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value >= 0):
                raise VasaError(f"sampling {name} = {value} must be a number >= 0")
        if not 0 <= self.closure_guidance <= 1:  # also refuses NaN
            raise VasaError(f"sampling closure_guidance = {self.closure_guidance} must be 0..1")
        try:
            low, high = (float(v) for v in self.closure_ramp)
        except (TypeError, ValueError):
            low = high = np.nan
        if not 0 <= low < high <= 1:  # also refuses NaN
            raise VasaError(
                f"sampling closure_ramp = {self.closure_ramp} must be (start, full), "
                "0 <= start < full <= 1"
            )
        object.__setattr__(self, "closure_ramp", (low, high))
        if self.smooth_frames < 0 or self.overlap < 0:
            raise VasaError("sampling smooth_frames and overlap must be >= 0")
        object.__setattr__(self, "steps", int(self.steps))

    def guidance(self) -> dict[str, np.ndarray]:
        """Per condition, the guidance weight of each motion channel [DIM]."""
        return {
            "audio": self.audio_guidance * (_FACE + (self.lip_audio_guidance - 1) * _LIPS),
            "controls": self.controls_guidance * _FACE,
        }

    def as_dict(self) -> dict:
        return asdict(self)
