"""The one place the compute device is chosen: `cpu`, `cuda`, or `auto` (CUDA when there
is one). Every stage takes the device it is given and keeps its tensors there; the app
reads `VASA_DEVICE`, the CLI `--device`.

Precision on a GPU is one switch here too: TF32 (`set_tf32`), which `VASA_TF32` sets for a
whole run. It stays as torch has it unless asked for, since it is meant to be on only where
it keeps frames within 1/255 of full float32, and benchmarks/gpu_check.sh measures that.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from vasa_core.errors import VasaError

if TYPE_CHECKING:
    import torch

CHOICES = ("auto", "cpu", "cuda")
ENVIRONMENT = "VASA_DEVICE"
TF32_ENVIRONMENT = "VASA_TF32"
_YES, _NO = ("1", "on", "true", "yes"), ("0", "off", "false", "no")


def pick_device(choice: str | torch.device | None = None) -> torch.device:
    """The device for `choice` (None or "auto": CUDA when available, else the CPU)."""
    import torch  # here, so that the CLI can read CHOICES without waiting for torch

    if isinstance(choice, torch.device):
        return choice
    name = "auto" if choice is None else str(choice).strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.split(":")[0] not in CHOICES[1:]:
        raise VasaError(f"device {choice!r} is not one of {', '.join(CHOICES)}")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise VasaError(f"device {choice!r} asked for, but this machine has no CUDA GPU")
    device = torch.device(name)
    if device.type == "cuda" and os.environ.get(TF32_ENVIRONMENT):
        set_tf32(device, tf32_from_environment())
    return device


def tf32_from_environment() -> bool | None:
    """What `VASA_TF32` asks for: True (1, on), False (0, off), None when unset."""
    value = os.environ.get(TF32_ENVIRONMENT, "").strip().lower()
    if not value:
        return None
    if value not in _YES + _NO:
        raise VasaError(f"{TF32_ENVIRONMENT}={value!r}: give 1 (on) or 0 (off)")
    return value in _YES


def set_tf32(device: torch.device, enabled: bool | None) -> bool:
    """Let CUDA's matrix products and convolutions round their inputs to TF32 (a 10-bit
    mantissa; sums stay float32): several times faster on Ampere and later GPUs, at about
    1e-3 relative error per product. None leaves torch's own setting. Process-wide, as
    torch's switch is. On the CPU nothing changes (TF32 is a GPU format). Returns whether
    TF32 is on for `device`."""
    import torch

    if device.type != "cuda":
        return False
    if enabled is not None:
        torch.backends.cuda.matmul.allow_tf32 = enabled
        torch.backends.cudnn.allow_tf32 = enabled
    return bool(torch.backends.cuda.matmul.allow_tf32)


def device_from_environment() -> torch.device:
    """The device `VASA_DEVICE` names (auto when unset)."""
    return pick_device(os.environ.get(ENVIRONMENT) or None)


@lru_cache(maxsize=1024)
def on_device(values: tuple, device: torch.device, dtype: torch.dtype | None = None):
    """A few constants (or indices, with dtype long) as a tensor on `device`, made once
    (dtype None: float32). One built from Python numbers inside a loop is a copy from the
    host, and on a GPU such a copy waits for the device's queue. Never change it in place."""
    import torch

    with torch.inference_mode(False):
        return torch.tensor(values, dtype=dtype or torch.float32, device=device)


def index(ids: Sequence[int], device: torch.device) -> torch.Tensor:
    """Indices (landmarks, say) as a long tensor on `device`, made once (`on_device`):
    indexing a GPU tensor with a Python list copies the list there first, and waits."""
    import torch

    return on_device(tuple(int(i) for i in ids), device, torch.long)
