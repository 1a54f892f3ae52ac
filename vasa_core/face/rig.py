"""The expression rig: each dynamics channel of the motion schema as a deformation.

decode(identity, pose, dynamics) -> 478 landmarks, and encode(landmarks) -> pose and
dynamics by fitting. This is our explicit stand-in for VASA-1's learned face latents:
  shape    = identity + sum_k dynamics_k * basis_k        (the 14 linear channels)
  irises   = rotated about each eyeball centre by the gaze angles
  pixels   = anchor.scale * scale * R(yaw, pitch, roll) @ shape + anchor.offset + shift

This module decodes, and is where the rest of the project reaches the rig. The parts:
  basis.py  the linear channels' displacement fields, built from anatomy; `load_rig`
  gaze.py   the eyeballs, turning irises and measuring gaze
  fit.py    `encode` and `identity_of`, by bounded least squares
"""

from __future__ import annotations

import numpy as np

from vasa_core.face import topology as top
from vasa_core.face.basis import IRIS, LINEAR, Rig, basis_for, load_rig
from vasa_core.face.fit import Encoding, encode, identity_of
from vasa_core.face.gaze import turn_irises
from vasa_core.face.pose import Anchor, as_floats, constant, namespace, rotation, view_to_pixels

# Re-exported: callers use `rig.encode`, `rig.Anchor`, `rig.top` and so on.
__all__ = [
    "IRIS",
    "LINEAR",
    "Anchor",
    "Encoding",
    "Rig",
    "basis_for",
    "decode",
    "deform",
    "encode",
    "identity_of",
    "load_rig",
    "top",
]


def deform(
    identity: np.ndarray, dynamics: np.ndarray, basis: np.ndarray | None = None
) -> np.ndarray:
    """The canonical shape [478, 3] of `identity` making the expression `dynamics`
    (or shapes [T, 478, 3] for a sequence [T, 16]). Arrays, or tensors on one device with
    their `basis` (`basis_for(identity)`, which a tensor cannot be hashed for in passing)."""
    dynamics = as_floats(dynamics)
    if basis is None:
        basis = basis_for(identity)
    xp = namespace(dynamics)
    linear = dynamics[..., : len(LINEAR)]
    # einsum, not tensordot: this sum is tiny, and BLAS waking its threads for it while
    # PyTorch's own threads are busy rendering took 1.4 ms a frame instead of 0.02 ms.
    shape = identity + xp.einsum("...k,kij->...ij", linear, basis)
    return turn_irises(shape, dynamics[..., -2], dynamics[..., -1])


def decode(
    identity: np.ndarray,
    pose: np.ndarray,
    dynamics: np.ndarray,
    anchor: Anchor,
    basis: np.ndarray | None = None,
) -> np.ndarray:
    """Landmarks [478, 3] in pixels for an identity [478, 3] in a pose making an expression
    (or [T, 478, 3] for sequences of poses [T, 6] and dynamics [T, 16], with one identity
    or one per frame [T, 478, 3]): float32 NumPy, or,
    given tensors (and the `basis` as one), a float32 tensor on their device, decoded there
    in their precision (the renderer's are float64, as NumPy's)."""
    pose = as_floats(pose)
    xp = namespace(pose)
    yaw, pitch, roll, tx, ty, scale = xp.moveaxis(pose, -1, 0)
    shape = deform(identity, dynamics, basis)
    turn = xp.swapaxes(rotation(yaw, pitch, roll), -1, -2)
    view = anchor.scale * scale[..., None, None] * shape @ turn
    shift = xp.stack([tx, ty, 0 * tx], -1)[..., None, :]
    view = view + (constant(anchor.offset, view) + anchor.scale * shift)
    pixels = view_to_pixels(view)
    return pixels.astype(np.float32) if xp is np else pixels.float()
