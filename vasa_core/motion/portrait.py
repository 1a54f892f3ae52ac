"""Generated motion put on a portrait: the generator makes motion for a face at rest
looking ahead; a portrait has its own pose and its own lasting expression."""

from __future__ import annotations

import numpy as np

from vasa_core import schema

KEPT_EXPRESSION = ("smile", "frown", "brow_raise", "brow_frown", "brow_inner_up")
RELATIVE_POSE = ("yaw", "pitch", "roll")


def combine(portrait: np.ndarray, generated: np.ndarray) -> np.ndarray:
    """Motion for the portrait: generated head motion on top of its own pose, its lasting
    expression kept under the generated one."""
    motion = generated.copy()
    for name in RELATIVE_POSE:
        motion[:, schema.index(name)] += portrait[schema.index(name)]
    for name in KEPT_EXPRESSION:
        motion[:, schema.index(name)] += portrait[schema.index(name)]
    return np.clip(motion, schema.LOW, schema.HIGH)
