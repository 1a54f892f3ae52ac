"""Motion-generator checkpoints: the weights in safetensors, everything else in its metadata
(network size, motion normalisation, schema version, how it was trained)."""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

import numpy as np

from vasa_core import schema
from vasa_core.audio import condition
from vasa_core.errors import VasaError
from vasa_core.files import atomic_write
from vasa_core.motion.model import Config, MotionDenoiser

SHIPPED = "motion.safetensors"


def save_checkpoint(path: Path, model: MotionDenoiser, mean, std, training: dict) -> None:
    """Write the checkpoint whole or not at all (a full disk: one line, no partial file)."""
    with atomic_write(path) as f:
        f.write(checkpoint_bytes(model, mean, std, training))


def checkpoint_bytes(model: MotionDenoiser, mean, std, training: dict) -> bytes:
    """The checkpoint file's bytes: the weights, the rest in the safetensors metadata."""
    from safetensors.torch import save

    meta = {
        "config": json.dumps(model.config.as_dict()),
        "schema_version": str(schema.SCHEMA_VERSION),
        "condition": condition.FORMAT,
        "channels": json.dumps(list(schema.NAMES)),
        "mean": json.dumps(np.asarray(mean, dtype=float).tolist()),
        "std": json.dumps(np.asarray(std, dtype=float).tolist()),
        "training": json.dumps(training),
    }
    weights = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    return save(weights, metadata=meta)


def shipped_path() -> Path:
    return Path(str(resources.files("vasa_core.checkpoints").joinpath(SHIPPED)))


def load_checkpoint(path: str | os.PathLike | None = None, device=None):
    """(model in eval mode, mean, std, training info) from a checkpoint (default: shipped)."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path) if path is not None else shipped_path()
    if not path.is_file():
        raise VasaError(f"{path}: no such checkpoint")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        weights = load_file(str(path))
    except Exception as error:  # safetensors raises its own error types
        raise VasaError(f"{path}: not a motion checkpoint ({error})") from None
    if meta.get("schema_version") != str(schema.SCHEMA_VERSION):
        raise VasaError(
            f"{path}: made for motion schema v{meta.get('schema_version')}, "
            f"this is v{schema.SCHEMA_VERSION}"
        )
    if meta.get("condition") != condition.FORMAT:
        made_for = meta.get("condition", "the mel features, before the phonetic encoder")
        raise VasaError(
            f"{path}: made for another audio condition ({made_for}); "
            "train it again on a corpus made by this version"
        )
    if json.loads(meta["channels"]) != list(schema.NAMES):
        raise VasaError(f"{path}: its motion channels differ from this schema's")
    model = MotionDenoiser(Config(**json.loads(meta["config"])))
    model.load_state_dict(weights)
    model.to(device or "cpu").eval()
    mean = np.array(json.loads(meta["mean"]), dtype=np.float32)
    std = np.array(json.loads(meta["std"]), dtype=np.float32)
    return model, mean, std, json.loads(meta.get("training", "{}"))
