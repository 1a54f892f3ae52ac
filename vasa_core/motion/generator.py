"""The motion generator at work: audio features + controls -> motion, for any length.

Audio is cut into windows of W frames that overlap by a few. Each window is sampled by the
diffusion model (few DDIM steps) while it sees the last P frames of motion (and audio)
before it, and is cross-faded into the previous window over the overlap, so windows join
smoothly and memory does not grow with length. `stream` does the same
with audio that arrives in chunks, yielding motion frames as soon as a window is done.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import torch
from scipy.ndimage import gaussian_filter1d

from vasa_core import schema
from vasa_core.audio.features import AudioFeatures
from vasa_core.device import pick_device
from vasa_core.motion import diffusion
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


class MotionGenerator:
    def __init__(self, checkpoint=None, device=None):
        self.device = pick_device(device)
        self.checkpoint = checkpoint  # None: the shipped one
        self.model, self.mean, self.std, self.training = load_checkpoint(checkpoint, self.device)
        self.window = self.model.config.window
        self.context = self.model.config.context

    def _weights(self, sampling: Sampling) -> tuple[dict, torch.Tensor]:
        """Per-channel guidance weights and starting-noise temperature, made once a clip."""
        weights = {
            name: torch.as_tensor(w, device=self.device) for name, w in sampling.guidance().items()
        }
        temperature = torch.ones(schema.DIM, device=self.device)
        temperature[HEAD] = sampling.head_temperature
        return weights, temperature

    def _window(
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
    ) -> np.ndarray:
        """One window: audio [W, 84] -> motion [W, DIM] (schema units)."""
        device = self.device

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
            )
        return x0[0].cpu().numpy() * self.std + self.mean

    def stream(
        self,
        chunks: Iterable[np.ndarray],
        controls: Controls = Controls(),  # noqa: B008 (frozen dataclass)
        seed: int = 0,
        sampling: Sampling = Sampling(),  # noqa: B008 (frozen dataclass)
    ) -> Iterator[np.ndarray]:
        """Motion frames [DIM] as normalised audio feature rows [n, 84] arrive in chunks.

        Windows overlap by `sampling.overlap` frames: each window is sampled again over the
        last frames of the one before and the two are cross-faded there, so joins are smooth.
        """
        weights, temperature = self._weights(sampling)
        generator = torch.Generator().manual_seed(seed)  # on the CPU: see diffusion.sample
        overlap = min(sampling.overlap, self.window // 2)
        stride = self.window - overlap
        buffer = np.zeros((0, 84), np.float32)  # audio from the first frame not yet final
        held = np.zeros((0, schema.DIM), np.float32)  # provisional motion for those frames
        context_m = np.tile(schema.neutral(), (self.context, 1))
        context_a = np.zeros((self.context, 84), np.float32)
        has_context = False
        vector = controls.vector()
        calm = min(1.0, controls.motion / LEARNED_MOTION_FROM)

        def run(audio):
            padded = np.pad(audio, ((0, self.window - len(audio)), (0, 0)))
            motion = self._window(
                padded,
                context_m,
                context_a,
                vector,
                has_context,
                sampling.steps,
                weights,
                temperature,
                generator,
            )[: len(audio)]
            motion[:, HEAD] *= calm
            fade = np.linspace(0, 1, len(held) + 2)[1:-1, None]
            motion[: len(held)] = held * (1 - fade) + motion[: len(held)] * fade
            # Smooth head and gaze through the join with what came before.
            joined = np.concatenate([context_m, motion]) if has_context else motion
            smooth = gaussian_filter1d(
                joined[:, SMOOTHED], sampling.smooth_frames, axis=0, mode="nearest"
            )
            motion[:, SMOOTHED] = smooth[-len(motion) :]
            return np.clip(motion, schema.LOW, schema.HIGH)  # small overshoots

        def settle(motion, audio):
            nonlocal context_m, context_a, has_context
            context_m = np.concatenate([context_m, motion])[-self.context :]
            context_a = np.concatenate([context_a, audio])[-self.context :]
            has_context = True

        for chunk in chunks:
            buffer = np.concatenate([buffer, np.asarray(chunk, np.float32)])
            while len(buffer) >= self.window:
                motion = run(buffer[: self.window])
                yield from motion[:stride]
                settle(motion[:stride], buffer[:stride])
                held, buffer = motion[stride:], buffer[stride:]
        if len(buffer) > len(held):
            yield from run(buffer)
        else:
            yield from held[: len(buffer)]

    def generate(
        self,
        features: AudioFeatures,
        controls: Controls = Controls(),  # noqa: B008
        seed: int = 0,
        sampling: Sampling = Sampling(),  # noqa: B008
    ) -> np.ndarray:
        """Motion [T, DIM] for a whole clip's features (normalised over the whole clip)."""
        rows = features.normalized()
        return np.stack(list(self.stream([rows], controls, seed, sampling)))
