"""The motion generator at work: audio features + controls -> motion, for any length.

Audio is cut into windows of W frames that overlap by a few. Each window is sampled by the
diffusion model (few DDIM steps) while it sees the last P frames of motion (and audio)
before it, and is cross-faded into the previous window over the overlap, so windows join
smoothly and memory does not grow with length. A `MotionSession` holds that state for one
clip and takes audio as it arrives (`stream` feeds it chunks; a live mode pushes rows),
yielding motion frames as soon as a window is done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np
import torch
from scipy.ndimage import gaussian_filter1d

from vasa_core import schema
from vasa_core.audio import condition
from vasa_core.audio.encoder import PhoneticEncoder, load_encoder
from vasa_core.audio.features import AudioFeatures
from vasa_core.device import pick_device
from vasa_core.motion import diffusion
from vasa_core.motion.blinks import Blinker
from vasa_core.motion.checkpoint import load_checkpoint
from vasa_core.motion.controls import Controls
from vasa_core.settings import Sampling

SMOOTHED = [
    schema.index(n) for n in ("yaw", "pitch", "roll", "tx", "ty", "scale", "gaze_yaw", "gaze_pitch")
]
# The corpus draws head-motion intensity from 0.5-1.5, so below 0.5 the model extrapolates
# (at 0 it kept about 70% of its motion). There the head's excursions from rest are also
# faded out, to nothing at 0: a user who asks for a still head gets one.
HEAD = [schema.index(n) for n in ("yaw", "pitch", "roll", "tx", "ty")]
LEARNED_MOTION_FROM = 0.5
BLINKS = [schema.index("blink_left"), schema.index("blink_right")]
PARTING = [schema.index(n) for n in schema.LIP_PARTING]
PRESS = schema.index("lip_press")
BILABIAL = condition.COLUMNS.index("bilabial")


def head_share(controls: Controls) -> float:
    """How much of the learned head motion `controls` keep: all of it from
    LEARNED_MOTION_FROM up, fading to none at head motion 0."""
    return min(1.0, controls.motion / LEARNED_MOTION_FROM)


class MotionGenerator:
    """The trained denoiser and the phonetic encoder it listens through, on one device,
    sampled a window at a time (`MotionSession`)."""

    def __init__(self, checkpoint=None, device=None, encoder=None):
        self.device = pick_device(device)
        self.checkpoint = checkpoint  # None: the shipped one
        self.model, self.mean, self.std, self.training = load_checkpoint(checkpoint, self.device)
        # The encoder: a loaded one (shared with another generator), a path, or None for
        # the shipped one.
        if isinstance(encoder, PhoneticEncoder):
            self.encoder = encoder
        else:
            self.encoder = load_encoder(encoder, self.device)
        self.window = self.model.config.window
        self.context = self.model.config.context
        # A bilabial closure in the model's normalised units (`_closer`).
        as_tensor = {"dtype": torch.float32, "device": self.device}
        mean, std = (torch.as_tensor(v, **as_tensor) for v in (self.mean, self.std))
        self._shut = -mean[PARTING] / std[PARTING]  # the parting channels at 0
        self._press = (schema.BILABIAL_PRESS - mean[PRESS]) / std[PRESS]

    def listen(self, features: AudioFeatures) -> np.ndarray:
        """The condition rows [T, condition.DIM] the model hears for a whole clip."""
        return condition.condition(features, self.encoder)

    def guidance_tensors(self, sampling: Sampling) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """(per-condition guidance weights [DIM], per-channel noise temperature [DIM]) of
        `sampling` on this generator's device, as `sample_window` takes them."""
        weights = {
            name: torch.as_tensor(w, device=self.device) for name, w in sampling.guidance().items()
        }
        temperature = torch.ones(schema.DIM, device=self.device)
        temperature[HEAD] = sampling.head_temperature
        return weights, temperature

    def closure_pull(
        self, audio: np.ndarray, strength: float, ramp: tuple[float, float]
    ) -> torch.Tensor | None:
        """How far each frame's lips are pulled shut [W] (0..strength), from the phonetic
        encoder's bilabial posterior in condition rows `audio` [W, condition.DIM]: nothing
        up to ramp[0], all of `strength` from ramp[1]; None when nothing is pulled."""
        if strength <= 0:
            return None
        low, high = ramp
        heard = np.clip((np.asarray(audio)[:, BILABIAL] - low) / (high - low), 0, 1)
        if not heard.any():
            return None
        return torch.as_tensor(strength * heard, dtype=torch.float32, device=self.device)

    def _closer(self, pull: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
        """The sampler's projection: x0 [1, W, DIM] (normalised) with the lips moved
        towards a bilabial closure by `pull` [W] (the parting channels towards 0, lip_press
        up to BILABIAL_PRESS); frames with no pull, and every other channel, unchanged."""
        w = pull[None, :, None]

        def project(x0: torch.Tensor) -> torch.Tensor:
            out = x0.clone()
            parting = x0[..., PARTING]
            out[..., PARTING] = parting + w * (self._shut - parting)
            press = x0[..., PRESS : PRESS + 1]
            out[..., PRESS : PRESS + 1] = press + w * (press.clamp(min=self._press) - press)
            return out

        return project

    def sample_window(
        self,
        audio,
        context_motion,
        context_audio,
        controls,
        has_context,
        steps,
        guidance,
        temperature,
        generator,
        closure: float,
        ramp: tuple[float, float],
    ) -> np.ndarray:
        """One window: condition rows [W, condition.DIM] -> motion [W, DIM] (schema units).
        `closure`, `ramp`: the lips' pull towards shut where the encoder hears p, b or m
        (`closure_pull`)."""
        device = self.device
        pull = self.closure_pull(audio, closure, ramp)

        def tensor(x):
            return torch.as_tensor(np.asarray(x, np.float32), device=device)[None]

        audio_t, controls_t = tensor(audio), tensor(controls)
        ctx_m = tensor((context_motion - self.mean) / self.std)
        ctx_a = tensor(context_audio)

        def denoise(x_t, t, keep):
            n = len(x_t)  # the sampler stacks its guidance passes into one batch

            def rows(x):
                return x.expand(n, *x.shape[1:])

            return self.model(
                x_t,
                t,
                rows(audio_t),
                rows(controls_t),
                rows(ctx_m),
                rows(ctx_a),
                keep["audio"],
                keep["controls"],
                keep["context"] & has_context,
            )

        with torch.inference_mode():
            x0 = diffusion.sample(
                denoise,
                (1, self.window, schema.DIM),
                steps=steps,
                guidance=guidance,
                generator=generator,
                device=device,
                temperature=temperature,
                project=None if pull is None else self._closer(pull),
            )
        return x0[0].cpu().numpy() * self.std + self.mean

    def stream(
        self,
        chunks: Iterable[np.ndarray],
        controls: Controls = Controls(),  # noqa: B008 (frozen dataclass)
        seed: int = 0,
        sampling: Sampling = Sampling(),  # noqa: B008 (frozen dataclass)
        fps: float = 25.0,
    ) -> Iterator[np.ndarray]:
        """Motion frames [DIM] as condition rows [n, condition.DIM] arrive in chunks."""
        session = MotionSession(self, controls, seed, sampling, fps)
        for chunk in chunks:
            yield from session.push(chunk)
        yield from session.finish()

    def generate(
        self,
        features: AudioFeatures,
        controls: Controls = Controls(),  # noqa: B008
        seed: int = 0,
        sampling: Sampling = Sampling(),  # noqa: B008
    ) -> np.ndarray:
        """Motion [T, DIM] for a whole clip's features."""
        rows = self.listen(features)
        return np.stack(list(self.stream([rows], controls, seed, sampling, features.fps)))


class MotionSession:
    """One clip's motion as its audio arrives: push feature rows, get final motion frames.

    Audio is cut into windows of W frames. Windows overlap by `sampling.overlap` frames:
    each window is sampled again over the last frames of the one before and the two are
    cross-faded there, so joins are smooth. The last P final frames of motion and audio are
    the next window's context.
    """

    def __init__(
        self,
        generator: MotionGenerator,
        controls: Controls,
        seed: int,
        sampling: Sampling,
        fps: float = 25.0,
    ):
        self.generator, self.sampling = generator, sampling
        window = generator.window
        self.weights, self.temperature = generator.guidance_tensors(sampling)
        self.rng = torch.Generator().manual_seed(seed)  # on the CPU: see diffusion.sample
        self.stride = window - min(sampling.overlap, window // 2)
        self.vector = controls.vector()
        self.calm = head_share(controls)
        width = generator.model.config.audio_dim
        self.buffer = np.zeros((0, width), np.float32)  # audio from the first frame not yet final
        self.held = np.zeros((0, schema.DIM), np.float32)  # provisional motion for those
        self.context_motion = np.tile(schema.neutral(), (generator.context, 1))
        self.context_audio = np.zeros((generator.context, width), np.float32)
        self.has_context = False
        self.blinker = Blinker(fps, np.random.default_rng(seed))

    def push(self, rows: np.ndarray) -> Iterator[np.ndarray]:
        """Add condition rows [n, condition.DIM]; yields the motion frames made final."""
        window = self.generator.window
        self.buffer = np.concatenate([self.buffer, np.asarray(rows, np.float32)])
        while len(self.buffer) >= window:
            motion = self._sample(self.buffer[:window])
            self._blink(motion[: self.stride], self.buffer[: self.stride])
            yield from motion[: self.stride]
            self._settle(motion[: self.stride], self.buffer[: self.stride])
            self.held, self.buffer = motion[self.stride :], self.buffer[self.stride :]

    def finish(self) -> Iterator[np.ndarray]:
        """The frames still pending at the end of the audio."""
        if len(self.buffer) > len(self.held):
            motion = self._sample(self.buffer)
        else:
            motion = self.held[: len(self.buffer)].copy()
        yield from self._blink(motion, self.buffer)

    def _sample(self, audio: np.ndarray) -> np.ndarray:
        """Motion for `audio` (at most one window), cross-faded into what was held."""
        generator = self.generator
        padded = np.pad(audio, ((0, generator.window - len(audio)), (0, 0)))
        motion = generator.sample_window(
            padded,
            self.context_motion,
            self.context_audio,
            self.vector,
            self.has_context,
            self.sampling.steps,
            self.weights,
            self.temperature,
            self.rng,
            self.sampling.closure_guidance,
            self.sampling.closure_ramp,
        )[: len(audio)]
        motion[:, HEAD] *= self.calm
        held = self.held
        fade = np.linspace(0, 1, len(held) + 2)[1:-1, None]
        motion[: len(held)] = held * (1 - fade) + motion[: len(held)] * fade
        # Smooth head and gaze through the join with what came before.
        joined = np.concatenate([self.context_motion, motion]) if self.has_context else motion
        smooth = gaussian_filter1d(
            joined[:, SMOOTHED], self.sampling.smooth_frames, axis=0, mode="nearest"
        )
        motion[:, SMOOTHED] = smooth[-len(motion) :]
        return np.clip(motion, schema.LOW, schema.HIGH)  # small overshoots

    def _blink(self, motion: np.ndarray, audio: np.ndarray) -> np.ndarray:
        """Final frames get their blinks (in place), drawn frame by frame as they become
        final, so chunking cannot change them; they read the condition's speech flag."""
        if not self.sampling.model_blinks:
            closure = self.blinker.curve(audio[:, condition.SPEECH] > 0.5)
            motion[:, BLINKS] = closure[:, None]
        return motion

    def _settle(self, motion: np.ndarray, audio: np.ndarray) -> None:
        context = self.generator.context
        self.context_motion = np.concatenate([self.context_motion, motion])[-context:]
        self.context_audio = np.concatenate([self.context_audio, audio])[-context:]
        self.has_context = True
