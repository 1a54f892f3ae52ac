"""The whole kit in one object: a portrait and a voice (or text) in, a talking face out.

    pipe = Pipeline(device="auto")          # loads the motion generator once
    pipe.generate("me.jpg", text="Hello!", out="hello.mp4",
                  controls=Controls(emotion="happy", intensity=0.6),
                  sampling=Sampling(steps=10, audio_guidance=2.5))

Stages: face latents of the portrait (stage 1), audio features of the voice (stage 2),
motion sampled by the diffusion generator (stage 3), frames rendered and written with the
sound (stage 4). The generated head motion is added to the portrait's own head pose, and the
portrait's own lasting expression (a smile, raised brows) is kept under the speech.
Every video carries a small visible "AI-generated" mark and a metadata tag unless
`mark=False`, and records how it was made (seed, checkpoint, sampling settings) in its
`description` tag. One device is chosen here and reaches every stage that computes.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vasa_core import schema
from vasa_core.audio import compute_features, load_audio
from vasa_core.audio.features import AudioFeatures
from vasa_core.audio.load import MAX_SECONDS
from vasa_core.device import pick_device
from vasa_core.errors import VasaError
from vasa_core.media import stamp, write_talking_video
from vasa_core.motion.controls import Controls
from vasa_core.motion.portrait import combine
from vasa_core.settings import Sampling

# Frames rendered together on the CPU: few, so that the first ones show early. A GPU takes
# the renderer's own batch (32), since it is busy only with many frames at once.
RENDER_BATCH = 4


@dataclass
class Spoken:
    path: Path  # a WAV file
    phonemes: list[tuple[str, float, float]]  # (IPA symbol, start s, end s)


def speak(text: str, voice: str, folder: Path) -> Spoken:
    """Text to speech (espeak-ng) written as `speech.wav` in `folder`."""
    import soundfile

    from vasa_core.audio import tts

    speech = tts.synthesize(text, voice=voice)
    path = folder / "speech.wav"
    soundfile.write(path, speech.samples, speech.rate)
    return Spoken(path, speech.phonemes)


def voice_features(
    sound: str | os.PathLike, fps: float, max_seconds: float = MAX_SECONDS
) -> AudioFeatures:
    """Features of a voice to animate, refusing audio with no voice in it."""
    features = compute_features(load_audio(sound, max_seconds=max_seconds), fps=fps)
    if not features.speech.any():
        raise VasaError(f"{sound}: no voice in this audio (silent or too quiet): nothing to say")
    return features


class Pipeline:
    """The motion generator, loaded once on one device; each call renders a portrait with
    a voice on that device too. `device`: "auto" (or None), "cpu" or "cuda"."""

    def __init__(self, checkpoint=None, device=None):
        from vasa_core.motion.generator import MotionGenerator

        self.device = pick_device(device)
        self.generator = MotionGenerator(checkpoint, self.device)
        self.live_generator = None  # loaded by the first `live` session

    def live(
        self,
        latents,
        controls: Controls = Controls(),  # noqa: B008 (frozen dataclass)
        seed: int = 0,
        sampling: Sampling = Sampling(),  # noqa: B008
        size: int | None = 256,
        mark: bool = True,
    ):
        """A live session for the portrait's `latents`: push audio chunks, get timed frames
        (vasa_core/live.py). The live generator is loaded on first use."""
        from vasa_core.live import LiveSession
        from vasa_core.motion.generator import MotionGenerator
        from vasa_core.motion.live import live_path

        if self.live_generator is None:
            # The same encoder as the offline generator: both hear the same condition.
            encoder = self.generator.encoder
            self.live_generator = MotionGenerator(live_path(), self.device, encoder)
        return LiveSession(self.live_generator, latents, controls, seed, sampling, size, mark)

    def made_with(self, seed: int, sampling: Sampling) -> dict:
        """What a video records of how it was made, enough to make it again."""
        checkpoint = self.generator.checkpoint
        return {
            "seed": seed,
            "checkpoint": "shipped" if checkpoint is None else Path(checkpoint).name,
            "sampling": sampling.as_dict(),
        }

    def motion(
        self,
        latents,
        samples: np.ndarray,
        controls: Controls,
        seed: int = 0,
        sampling: Sampling = Sampling(),  # noqa: B008 (frozen dataclass)
        fps: float = 25.0,
    ) -> np.ndarray:
        """The whole clip's motion for the portrait [T, DIM], without rendering it."""
        features = compute_features(samples, fps=fps)
        generated = self.generator.generate(features, controls, seed=seed, sampling=sampling)
        return combine(latents.motion, generated)

    def stream(
        self,
        latents,
        features: AudioFeatures,
        controls: Controls,
        seed: int = 0,
        sampling: Sampling = Sampling(),  # noqa: B008
        size: int | None = 512,
        mark: bool = True,
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(motion row, frame) pairs, each as soon as it is ready.

        Motion comes a window at a time from the generator and is rendered in small
        batches, so the first frames are on screen while later windows are still sampled.
        """
        from vasa_core.render import Renderer

        rows = self.generator.stream(
            [self.generator.listen(features)], controls, seed, sampling, features.fps
        )
        renderer = Renderer(latents, size=size, device=self.device)
        at_once = RENDER_BATCH if renderer.device.type == "cpu" else renderer.batch
        while batch := list(itertools.islice(rows, at_once)):
            motion = combine(latents.motion, np.stack(batch))
            for row, frame in zip(motion, renderer.render(motion, batch=at_once), strict=True):
                yield row, stamp(frame) if mark else frame

    def generate(
        self,
        image,
        out: str | os.PathLike,
        audio: str | os.PathLike | None = None,
        text: str | None = None,
        voice: str = "en-us",
        controls: Controls = Controls(),  # noqa: B008 (frozen dataclass)
        seed: int = 0,
        sampling: Sampling = Sampling(),  # noqa: B008
        size: int | None = 512,
        fps: float = 25.0,
        mark: bool = True,
        progress: bool = False,
        max_seconds: float = MAX_SECONDS,
        on_frame: Callable[[int, np.ndarray, np.ndarray], None] | None = None,
    ) -> Path:
        """Write the talking-face video; returns its path.

        `on_frame(index, motion_row, frame)` is called for every frame as it is made (the
        app shows them as a live preview and plots the motion).
        """
        from vasa_core.face import analyze
        from vasa_core.media import check_writable

        if (audio is None) == (text is None):
            raise VasaError("give either an audio file or a text to speak, not both or none")
        schema.knob("fps").check(fps)
        out = check_writable(out)
        latents = analyze(image) if not hasattr(image, "identity") else image
        with tempfile.TemporaryDirectory(prefix="vasa-generate-") as work:
            sound = Path(audio) if text is None else speak(text, voice, Path(work)).path
            features = voice_features(sound, fps, max_seconds)
            pairs = self.stream(latents, features, controls, seed, sampling, size, mark=False)
            write_talking_video(
                out,
                pairs,
                features.frames,
                fps,
                sound,
                mark,
                progress,
                on_frame,
                "generating",
                made_with=self.made_with(seed, sampling),
            )
        return out

    def reenact(self, image, video: str | os.PathLike, out: str | os.PathLike, **options) -> Path:
        """`vasa_core.reenact.reenact` on this pipeline's device (no sampling involved)."""
        from vasa_core.reenact import reenact

        return reenact(image, video, out, device=self.device, **options)
