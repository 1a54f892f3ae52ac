"""Head pose: rotations from and to (yaw, pitch, roll), and the rigid fit that finds them.

Frames. Face Mesh gives pixels (x right, y down, z away from the camera). We work in the
viewer's frame instead: x right, y up, z towards the viewer (right-handed), via
`pixels_to_view` and back. The canonical face frame (template.py) uses the same axes for
a face looking straight at the camera, one unit = one face width.

R = Rz(roll) @ Ry(yaw) @ Rx(-pitch): the face is turned, then nodded, then the whole head
is tilted in the image plane, so rotating a photo by 15 degrees adds exactly 15 to roll,
and mirroring it flips the signs of yaw and roll.

An `Anchor` fixes where a portrait's head sits in its picture; a pose's translation and
scale are measured from it.

The formulas the renderer needs on its device (`rotation`, `view_to_pixels`, and the rig's
decoding built on them) are written once over both array kinds: NumPy arrays for fitting
on the host, torch tensors for rendering wherever the frames are made (`namespace`).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from vasa_core.device import index, on_device

_FLIP = np.array([1.0, -1.0, -1.0], dtype=np.float64)


def namespace(x: Any) -> ModuleType:
    """torch for a tensor, else NumPy: the module whose functions work on `x`.

    torch is imported only when `x` is a tensor, so the NumPy path never waits for it.
    """
    if type(x).__module__.startswith("torch"):
        import torch

        return torch
    return np


def constant(values: Any, like: Any) -> Any:
    """`values` as float64 NumPy, or, for a tensor `like`, as a tensor of its float type on
    its device, made once (device.on_device: made anew, it would wait for a GPU's queue)."""
    if namespace(like) is np:
        return np.asarray(values, dtype=np.float64)
    flat = tuple(float(v) for v in np.ravel(values))
    return on_device(flat, like.device, like.dtype).reshape(np.shape(values))


def ids(indices: Any, like: Any) -> Any:
    """Indices to take from `like`: a list for an array, a long tensor made once on the
    device for a tensor (a list would be copied there, and waited for, at every use)."""
    return list(indices) if namespace(like) is np else index(indices, like.device)


def as_floats(x: Any) -> Any:
    """A tensor as it is (its own float type and device), anything else as float64 NumPy."""
    return x if namespace(x) is not np else np.asarray(x, dtype=np.float64)


def pixels_to_view(points: np.ndarray) -> np.ndarray:
    """Face Mesh pixels (y down, z away) to the viewer's frame (y up, z towards)."""
    points = as_floats(points)
    return points * constant(_FLIP, points)


def view_to_pixels(points: np.ndarray) -> np.ndarray:
    """The viewer's frame back to Face Mesh pixels (a tensor stays one, on its device)."""
    points = as_floats(points)
    return points * constant(_FLIP, points)


def rotation(yaw, pitch, roll) -> np.ndarray:
    """3x3 rotation from angles in degrees (see the module docstring for the convention);
    for arrays of angles, one rotation [..., 3, 3] per element. Tensors in, tensor out."""
    tensors = [a for a in (yaw, pitch, roll) if namespace(a) is not np]
    xp = namespace(tensors[0]) if tensors else np
    if xp is np:
        y, p, r = np.radians(np.broadcast_arrays(yaw, pitch, roll))
    else:
        given = (a if namespace(a) is xp else constant(a, tensors[0]) for a in (yaw, pitch, roll))
        y, p, r = (xp.deg2rad(a) for a in xp.broadcast_tensors(*given))
    cy, sy, cp, sp, cr, sr = xp.cos(y), xp.sin(y), xp.cos(p), xp.sin(p), xp.cos(r), xp.sin(r)
    o, i = xp.zeros_like(y), xp.ones_like(y)

    def matrix(*rows):
        return xp.stack(rows, -1).reshape(*y.shape, 3, 3)

    rz = matrix(cr, -sr, o, sr, cr, o, o, o, i)
    ry = matrix(cy, o, sy, o, i, o, -sy, o, cy)
    rx = matrix(i, o, o, o, cp, sp, o, -sp, cp)  # Rx(-pitch): +pitch looks up
    return rz @ ry @ rx


def angles(matrix: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees of a rotation made by `rotation`."""
    m = np.asarray(matrix, dtype=np.float64)
    # With R = Rz(r) Ry(y) Rx(-p): R[2,0] = -sin y, R[2,1] = -cos y sin p, R[2,2] = cos y cos p,
    # R[1,0] = sin r cos y, R[0,0] = cos r cos y.
    yaw = np.degrees(np.arcsin(np.clip(-m[2, 0], -1.0, 1.0)))
    pitch = np.degrees(np.arctan2(-m[2, 1], m[2, 2]))
    roll = np.degrees(np.arctan2(m[1, 0], m[0, 0]))
    return float(yaw), float(pitch), float(roll)


def fit_similarity(
    source: np.ndarray, target: np.ndarray, weights: np.ndarray | None = None
) -> tuple[float, np.ndarray, np.ndarray]:
    """Scale s, rotation R and translation t minimising sum w |s R source + t - target|^2.

    Umeyama's closed form: centre both point sets, take the SVD of their weighted
    cross-covariance, and forbid reflections.
    """
    source = np.asarray(source, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    w = np.ones(len(source)) if weights is None else np.asarray(weights, dtype=np.float64)
    w = w / w.sum()
    mu_s, mu_t = w @ source, w @ target
    a, b = source - mu_s, target - mu_t
    covariance = (b * w[:, None]).T @ a
    u, sigma, vt = np.linalg.svd(covariance)
    d = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))])
    r = u @ d @ vt
    scale = float(np.trace(np.diag(sigma) @ d) / (w @ (a**2).sum(axis=1)))
    t = mu_t - scale * r @ mu_s
    return scale, r, t


@dataclass(frozen=True)
class Anchor:
    """Where the portrait's head sits: pixels per canonical unit and the origin's place."""

    scale: float
    offset: np.ndarray  # [3], viewer's frame, pixels
