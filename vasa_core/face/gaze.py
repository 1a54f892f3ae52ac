"""Gaze: the eyes of the rig, each iris turned about its eyeball centre.

The eyeballs are placed from the eye corners (stable points, so an expression never moves
them), one radius behind the iris at rest. `turn_irises` turns the irises by the gaze
angles (decoding, and taking the gaze back out of an encoding); `measure_gaze` finds the
angles that turn a reference face's irises to those seen (encoding).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from vasa_core.face import topology as top
from vasa_core.face.basis import load_rig
from vasa_core.face.pose import constant, ids, namespace, rotation

EYEBALL_RADIUS = 0.45  # eyeball radius as a fraction of the eye's corner-to-corner width
_EYES = (  # (corners, iris) for the subject's right and left eye
    (top.RIGHT_EYE_CORNERS, top.RIGHT_IRIS),
    (top.LEFT_EYE_CORNERS, top.LEFT_IRIS),
)


@lru_cache(maxsize=1)
def _template_eyes() -> tuple[tuple[float, tuple[float, float, float]], ...]:
    """Per eye, from the template: its corner-to-corner width and where its iris at rest
    lies from the corners' middle, as plain numbers (usable with arrays or tensors)."""
    template = load_rig().neutral
    eyes = []
    for corners, iris in _EYES:
        width = float(np.linalg.norm(template[corners[0]] - template[corners[1]]))
        front = template[iris[0]] - template[list(corners)].mean(axis=0)
        eyes.append((width, tuple(float(v) for v in front)))
    return tuple(eyes)


def _eyeballs(shape: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(centre, radius) of each eyeball, placed from the eye corners of `shape` [..., 478, 3]
    (an array or a tensor: the renderer decodes on its device).

    The template's iris at rest marks the front of its eyeball; the centre lies one radius
    behind it. Carried over to any face by its eye corners, which are stable points, so a
    face's eyeballs stay put whatever its expression.
    """
    xp = namespace(shape)
    balls = []
    for (corners, _), (template_width, front) in zip(_EYES, _template_eyes(), strict=True):
        gap = shape[..., corners[0], :] - shape[..., corners[1], :]
        width = (gap**2).sum(-1) ** 0.5
        ratio = width / template_width
        radius = EYEBALL_RADIUS * width
        behind = xp.stack([0 * radius, 0 * radius, radius], -1)
        middle = shape[..., ids(corners, shape), :].mean(-2)
        centre = middle + ratio[..., None] * constant(front, shape) - behind
        balls.append((centre, radius))
    return balls


def _solve_gaze(rest: np.ndarray, seen_xy: np.ndarray) -> np.ndarray:
    """Gaze angles turning the vector `rest` (eyeball centre to iris) to one seen at `seen_xy`.

    Only x and y are trusted (Face Mesh's depth is a guess); turning keeps the length, so
    two equations fix the two angles. A few Newton steps from straight ahead.
    """
    angles_deg = np.zeros(2)
    for _ in range(8):
        here = _gaze_rotation(*angles_deg) @ rest
        error = here[:2] - seen_xy
        if np.abs(error).max() < 1e-9:
            break
        jacobian = np.empty((2, 2))
        for k in range(2):
            step = np.zeros(2)
            step[k] = 1e-4
            jacobian[:, k] = ((_gaze_rotation(*(angles_deg + step)) @ rest)[:2] - here[:2]) / 1e-4
        angles_deg -= np.linalg.lstsq(jacobian, error, rcond=None)[0]
    return angles_deg


def _gaze_rotation(gaze_yaw, gaze_pitch) -> np.ndarray:
    return rotation(gaze_yaw, gaze_pitch, 0.0)


def measure_gaze(shape: np.ndarray, reference: np.ndarray, known: bool) -> tuple[float, float]:
    """Gaze angles (both eyes averaged) that turn the reference's irises to the shape's.

    For a known face the eyeballs sit where its identity puts them: Face Mesh drags the eye
    corners a little towards where the eyes look, and placing the eyeballs from the seen
    corners would then take back part of every glance. A first look has only those corners.
    """
    found = []
    seen_balls = _eyeballs(reference) if known else _eyeballs(shape)
    balls = zip(seen_balls, _eyeballs(reference), _EYES, strict=True)
    for (centre, radius), (ref_centre, ref_radius), (_, iris) in balls:
        rest = (reference[iris[0]] - ref_centre) * (radius / ref_radius)
        found.append(_solve_gaze(rest, (shape[iris[0]] - centre)[:2]))
    yaw, pitch = np.clip(np.mean(found, axis=0), -89.0, 89.0)
    return float(yaw), float(pitch)


def turn_irises(
    shape: np.ndarray,
    gaze_yaw: float | np.ndarray,
    gaze_pitch: float | np.ndarray,
    back: bool = False,
) -> np.ndarray:
    """Irises of `shape` [..., 478, 3] turned about their eyeballs by the gaze angles (or
    back from them); angles are numbers or arrays of the shape's leading dimensions.
    Arrays or tensors alike (a tensor's angles are tensors too)."""
    xp = namespace(shape)
    out = shape.copy() if xp is np else shape.clone()
    turn = _gaze_rotation(gaze_yaw, gaze_pitch)
    # Points are rows, so they are multiplied by the transpose; turning back is the inverse.
    on_rows = turn if back else xp.swapaxes(turn, -1, -2)
    for (centre, _), (_, iris) in zip(_eyeballs(shape), _EYES, strict=True):
        centre = centre[..., None, :]
        at = ids(iris, shape)
        out[..., at, :] = (shape[..., at, :] - centre) @ on_rows + centre
    return out
