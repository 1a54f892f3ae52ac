"""Smooth ramps shared by the rig and the renderer.

The rig shapes its displacement fields with them (where a lid, a lip or the jaw's reach
fades out) and the renderer its masks, so both see the same edges.
"""

from __future__ import annotations

from typing import TypeVar

Values = TypeVar("Values")  # a NumPy array or a torch tensor; the result is the same kind


def smoothstep(x: Values) -> Values:
    """0 below 0, 1 above 1, a smooth S between (NumPy arrays and torch tensors alike)."""
    x = x.clip(0.0, 1.0)
    return x * x * (3 - 2 * x)
