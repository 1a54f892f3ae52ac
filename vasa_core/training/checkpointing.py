"""What a training run writes, and how it picks up again: two files beside each other.

- `OUT.safetensors`, the model, as `vasa_core.motion.checkpoint` saves it for generation
  (weights, normalisation, and how it was trained in its metadata);
- `OUT.train.pt`, the training state: the same weights plus the optimizer's moments, the step
  and the loss history, so that `train(..., resume=True)` carries on where it stopped.

Both are rewritten at every validation, so an interrupted run loses at most `val_every` steps.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from vasa_core.data.corpus import HELD_OUT_VOICE_MARKS
from vasa_core.errors import VasaError
from vasa_core.files import atomic_writes
from vasa_core.motion.checkpoint import checkpoint_bytes
from vasa_core.motion.model import MotionDenoiser


@dataclass
class TrainingState:
    """Everything a run changes as it goes, and so everything a resumed run needs back."""

    model: MotionDenoiser
    optimizer: torch.optim.Optimizer
    mean: np.ndarray  # the motion normalisation: kept from the first run, not recomputed
    std: np.ndarray
    step: int = 0
    history: list[dict] = field(default_factory=list)  # one row per validation


def check_output(out: str | os.PathLike) -> Path:
    """`out` as a Path, refused before any training if it cannot be written."""
    out = Path(out)
    if out.suffix != ".safetensors":
        raise VasaError(f"{out}: checkpoints are written as .safetensors")
    if not out.parent.is_dir():
        raise VasaError(f"{out}: cannot write here (no folder {out.parent})")
    return out


def state_path(out: Path) -> Path:
    """Where the training state of the checkpoint `out` is kept."""
    return out.with_suffix(".train.pt")


def resume(state: TrainingState, out: Path, device: torch.device) -> None:
    """Load the saved training state of `out` into `state`, if there is one."""
    path = state_path(out)
    if not path.exists():
        return
    # Our own file, and it holds numpy arrays and a history of dicts: not weights only.
    saved = torch.load(path, map_location=device, weights_only=False)
    state.model.load_state_dict(saved["model"])
    state.optimizer.load_state_dict(saved["optimizer"])
    state.step, state.history = saved["step"], saved["history"]
    state.mean, state.std = saved["mean"], saved["std"]


def save(state: TrainingState, out: Path, run: dict) -> None:
    """Write the training state and the model, with `run` (how it was trained) as its
    metadata: both whole or neither (a full disk is one line, and the files of the last
    validation stay as they were), since a resumed run needs the two to agree."""
    state_bytes = io.BytesIO()
    torch.save(
        {
            "model": state.model.state_dict(),
            "optimizer": state.optimizer.state_dict(),
            "step": state.step,
            "history": state.history,
            "mean": state.mean,
            "std": state.std,
        },
        state_bytes,
    )
    voices = list(HELD_OUT_VOICE_MARKS)  # what "held out" meant for this model's validation
    training = {"steps": state.step, "history": state.history, **run, "held_out_voices": voices}
    model = checkpoint_bytes(state.model, state.mean, state.std, training)
    with atomic_writes(state_path(out), out) as (state_file, model_file):
        state_file.write(state_bytes.getbuffer())
        model_file.write(model)
