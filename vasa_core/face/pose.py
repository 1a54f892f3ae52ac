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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_FLIP = np.array([1.0, -1.0, -1.0], dtype=np.float64)


def pixels_to_view(points: np.ndarray) -> np.ndarray:
    """Face Mesh pixels (y down, z away) to the viewer's frame (y up, z towards)."""
    return np.asarray(points, dtype=np.float64) * _FLIP


def view_to_pixels(points: np.ndarray) -> np.ndarray:
    """The viewer's frame back to Face Mesh pixels."""
    return np.asarray(points, dtype=np.float64) * _FLIP


def rotation(yaw, pitch, roll) -> np.ndarray:
    """3x3 rotation from angles in degrees (see the module docstring for the convention);
    for arrays of angles, one rotation [..., 3, 3] per element."""
    y, p, r = np.radians(np.broadcast_arrays(yaw, pitch, roll))
    cy, sy, cp, sp, cr, sr = np.cos(y), np.sin(y), np.cos(p), np.sin(p), np.cos(r), np.sin(r)
    o, i = np.zeros_like(y), np.ones_like(y)

    def matrix(*rows):
        return np.stack(rows, axis=-1).reshape(*y.shape, 3, 3)

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
