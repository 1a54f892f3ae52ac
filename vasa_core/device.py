"""The one place the compute device is chosen: `cpu`, `cuda`, or `auto` (CUDA when there
is one). Every stage takes the device it is given and keeps its tensors there; the app
reads `VASA_DEVICE`, the CLI `--device`."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from vasa_core.errors import VasaError

if TYPE_CHECKING:
    import torch

CHOICES = ("auto", "cpu", "cuda")
ENVIRONMENT = "VASA_DEVICE"


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
    return torch.device(name)


def device_from_environment() -> torch.device:
    """The device `VASA_DEVICE` names (auto when unset)."""
    return pick_device(os.environ.get(ENVIRONMENT) or None)
