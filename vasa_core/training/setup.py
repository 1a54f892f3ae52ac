"""What a training run reads: the clips of a corpus folder, which of them are held out for
validation, and the sampler that cuts them into batches of windows.

A window is W frames of motion and audio features (what the model learns to produce), with
the P frames before it as context (what it continues from). At a clip's start there are no
P frames before it: the window is marked as having no context, and the loss drops it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from vasa_core.data import corpus as corpus_io
from vasa_core.data.corpus import held_out
from vasa_core.errors import VasaError
from vasa_core.face.basis import CLOSED_GAP, mouth_opening
from vasa_core.motion.model import Config

# A brief closure: lips shut (articulation's threshold) with the mouth open this many times
# wider within CLOSURE_REACH frames either side; the p, b and m between vowels, the closures
# a viewer misses first, not the long rest of a pause.
CLOSURE_OPEN = 3.0
CLOSURE_REACH = 4


@dataclass
class Clips:
    """A corpus's clips side by side: clip i is features[i], motion[i], valid[i], ..."""

    features: list[np.ndarray]  # [frames, audio features] float32
    motion: list[np.ndarray]  # [frames, schema.DIM]
    valid: list[np.ndarray]  # [frames] bool: False where no motion was measured (no face)
    controls: np.ndarray  # [clips, controls]
    voices: list[str]  # "" for ingested videos, which carry no voice name


def load_clips(folder: str | os.PathLike) -> Clips:
    """Every clip of the corpus in `folder`, out of its shards."""
    _, shards = corpus_io.load(folder)
    features, motion, valid, controls, voices = [], [], [], [], []
    for shard in shards:
        starts = shard["clip_start"]
        # A shard without a `valid` mask counts every frame as measured.
        every_valid = shard.get("valid", np.ones(len(shard["motion"]), bool))
        for i, info in enumerate(shard["clips"]):
            a, b = starts[i], starts[i + 1]
            features.append(shard["features"][a:b].astype(np.float32))
            motion.append(shard["motion"][a:b])
            valid.append(every_valid[a:b])
            controls.append(shard["controls"][i])
            voices.append(info.get("voice", ""))
    return Clips(features, motion, valid, np.stack(controls), voices)


def split(clips: Clips) -> tuple[list[int], list[int]]:
    """(training clips, validation clips), as indices: the held-out voices validate."""
    test = [i for i, v in enumerate(clips.voices) if held_out(v)]
    train = [i for i, v in enumerate(clips.voices) if not held_out(v)]
    if not train:
        raise VasaError("the corpus has no clips to train on")
    if not test and len(train) >= 2:
        # No held-out voices (e.g. ingested real videos): hold out the last tenth of the
        # clips, so the validation loss still shows overfitting.
        cut = max(1, len(train) // 10)
        train, test = train[:-cut], train[-cut:]
    return train, test or train[:1]


def brief_closures(motion: np.ndarray) -> np.ndarray:
    """[T] bool: the frames of a clip's motion [T, DIM] with the lips shut between openings
    (see CLOSURE_OPEN)."""
    opening = mouth_opening(motion)
    padded = np.pad(opening, CLOSURE_REACH, mode="edge")
    span = 2 * CLOSURE_REACH + 1
    widest = np.lib.stride_tricks.sliding_window_view(padded, span).max(axis=1)
    return (opening < CLOSED_GAP) & (widest > CLOSURE_OPEN * CLOSED_GAP)


def normalisation(clips: Clips, index: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and spread of the motion of the clips in `index`."""
    every = np.concatenate([clips.motion[i] for i in index])
    # A channel that hardly moves in the corpus would be blown up by its tiny spread: the
    # floor of 1e-2 keeps its normalised values from exploding.
    return every.mean(axis=0), np.maximum(every.std(axis=0), 1e-2)


class Windows:
    """Random training windows (with context) from a set of clips.

    A longer clip is drawn more often, so that every frame of the corpus is equally likely
    to be seen. Motion is normalised with `mean` and `std`; audio outside the clip is zero.
    """

    def __init__(
        self,
        clips: Clips,
        index: list[int],
        config: Config,
        mean: np.ndarray,
        std: np.ndarray,
        seed: int,
    ):
        self.clips, self.index, self.config = clips, index, config
        self.mean, self.std = mean, std
        lengths = np.array([len(clips.motion[i]) for i in index], dtype=np.float64)
        self.weights = lengths / lengths.sum()
        self.rng = np.random.default_rng(seed)
        self.closures = {i: brief_closures(clips.motion[i]) for i in index}

    def batch(self, size: int, device: torch.device | str) -> dict[str, torch.Tensor]:
        """`size` windows, stacked: x0 [size, W, DIM], ctx [size, P, DIM], and the rest
        (`closure` [size, W]: the window's frames of `brief_closures`)."""
        w, p = self.config.window, self.config.context
        names = ("x0", "audio", "ctx", "ctx_audio", "controls", "has_ctx", "valid", "closure")
        parts = {k: [] for k in names}
        for k in self.rng.choice(len(self.index), size=size, p=self.weights):
            clip = self.index[k]
            motion = (self.clips.motion[clip] - self.mean) / self.std
            feats, valid = self.clips.features[clip], self.clips.valid[clip]
            start = int(self.rng.integers(0, max(1, len(motion) - w + 1)))
            # The P context frames and the W window frames; those before the clip's start
            # (or past its end, in a clip shorter than W) repeat its edge frame and are
            # marked invalid, with their audio silenced.
            take = np.arange(start - p, start + w)
            inside = (take >= 0) & (take < len(motion))
            take = np.clip(take, 0, len(motion) - 1)
            audio = np.where(inside[:, None], feats[take], 0.0)
            parts["x0"].append(motion[take[p:]])
            parts["audio"].append(audio[p:])
            parts["ctx"].append(motion[take[:p]])
            parts["ctx_audio"].append(audio[:p])
            parts["controls"].append(self.clips.controls[clip])
            parts["has_ctx"].append(start >= p)
            parts["valid"].append(valid[take[p:]] & inside[p:])
            parts["closure"].append(self.closures[clip][take[p:]] & inside[p:])
        return to_device(
            {
                k: np.array(v) if k in ("has_ctx", "valid", "closure") else np.array(v, np.float32)
                for k, v in parts.items()
            },
            device,
        )


def to_device(arrays: dict[str, np.ndarray], device: torch.device | str) -> dict[str, torch.Tensor]:
    """`arrays` as tensors on `device`. For a GPU each goes through pinned (page-locked) host
    memory and is copied with `non_blocking`, so the copy overlaps the step still running on
    the device instead of waiting for it (a copy from ordinary memory blocks the host until
    it is done); on the CPU both are no-ops and the tensors share the arrays' memory."""
    device = torch.device(device)
    pinned = device.type == "cuda"
    tensors = {}
    for key, array in arrays.items():
        tensor = torch.from_numpy(np.ascontiguousarray(array))
        if pinned:
            # PyTorch's pinned allocator keeps this buffer alive until the copy is done.
            tensor = tensor.pin_memory()
        tensors[key] = tensor.to(device, non_blocking=pinned)
    return tensors
