"""The rig's basis: each linear dynamics channel as a displacement field on a face shape.

Every field is smooth and shaped by anatomy (the jaw turns about a hinge below the ears,
smiles pull the mouth corners up and out, blinks bring the upper lid down to the lower
one), and exactly zero on the stable points that the rigid fit uses, so that expressions
never leak into the head pose. Also here: the identity modes (ways faces differ at rest,
for a first look at a portrait), the rig built on the template (`load_rig`), and each
face's own basis (`basis_for`). The irises are gaze's (gaze.py); the basis never moves them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from vasa_core import schema
from vasa_core.curves import smoothstep
from vasa_core.face import topology as top
from vasa_core.face.template import load_template

LINEAR = tuple(n for n in schema.DYNAMICS_NAMES if not n.startswith("gaze_"))
IRIS = np.array(top.RIGHT_IRIS + top.LEFT_IRIS)


@dataclass(frozen=True)
class Rig:
    """The template's rest shape and the deformation modes built on it."""

    neutral: np.ndarray  # [478, 3] template with the mouth closed
    basis: np.ndarray  # [len(LINEAR), 478, 3] displacement at coefficient 1
    identity_modes: np.ndarray  # [5, 478, 3] rest-shape differences between people


# ---------------------------------------------------------------- fields of anatomy


def near(points: np.ndarray, indices: Sequence[int], sigma: float) -> np.ndarray:
    """Gaussian falloff with distance to the nearest of the given landmarks."""
    d2 = ((points[:, None, :] - points[list(indices)][None, :, :]) ** 2).sum(-1).min(axis=1)
    return np.exp(-d2 / (2 * sigma**2))


def _curve_y(points: np.ndarray, indices, x: np.ndarray) -> np.ndarray:
    """Height of a landmark curve (e.g. an eyelid) at horizontal positions x."""
    curve = points[list(indices)]
    order = np.argsort(curve[:, 0])
    return np.interp(x, curve[order, 0], curve[order, 1])


def _mouth_line(p: np.ndarray) -> np.ndarray:
    """Height where the lips meet, for every point's x (flat beyond the corners)."""
    return 0.5 * (
        _curve_y(p, top.LIPS_INNER_UPPER, p[:, 0]) + _curve_y(p, top.LIPS_INNER_LOWER, p[:, 0])
    )


def _lower_face_weight(p: np.ndarray) -> np.ndarray:
    """1 on the lower lip and below it, 0 above (what the jaw carries).

    Geometry alone cannot tell the inner lips apart when the mouth is closed (they
    coincide), so they are assigned by their indices; the mouth corners get one half.
    """
    weight = smoothstep((_mouth_line(p) - p[:, 1]) / 0.015 + 0.5)
    weight[list(top.LIPS_INNER_LOWER[1:-1])] = 1.0
    weight[list(top.LIPS_INNER_UPPER[1:-1])] = 0.0
    return weight


def _jaw_weight(p: np.ndarray) -> np.ndarray:
    """How far each point goes with the jaw: the lower face all the way, the upper not at
    all, and along the lips an ellipse between the two.

    The lips are joined at the corners, so a dropping jaw parts them most in the middle
    and not at all where they meet; there both lips go half way. Without this taper the
    mouth opened as a box with straight sides, which no mouth does.
    """
    below = _lower_face_weight(p)
    inner_corners = [top.LIPS_INNER_UPPER[0], top.LIPS_INNER_UPPER[-1]]
    parted = np.sqrt(np.clip(1 - (p[:, 0] / np.abs(p[inner_corners, 0]).mean()) ** 2, 0, 1))
    pinched = 0.5 + (below - 0.5) * parted
    half_lips = 0.5 * _lip_height(p)
    beyond_lips = np.clip(np.abs(p[:, 1] - _mouth_line(p)) - half_lips, 0, None)
    on_lips = np.exp(-(beyond_lips**2) / (2 * half_lips**2))
    return below + on_lips * (pinched - below)


def _jaw(p: np.ndarray, degrees: float = 16.0) -> np.ndarray:
    hinge = np.array([0.0, p[list(top.FACE_SIDES), 1].mean() - 0.05, 0.1])
    a = np.radians(degrees)
    turn = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    return ((p - hinge) @ turn.T + hinge - p) * _jaw_weight(p)[:, None]


def _corners(p: np.ndarray, move: tuple[float, float, float], sigma: float) -> np.ndarray:
    """Pull both mouth corners by `move` (x outward), mirrored, with a Gaussian falloff."""
    out = np.zeros_like(p)
    for corner, side in zip(top.MOUTH_CORNERS, (-1.0, 1.0), strict=True):
        weight = near(p, [corner], sigma)
        out += weight[:, None] * np.array([side * move[0], move[1], move[2]])
    return out


def _lip_height(p: np.ndarray) -> float:
    """Top of the upper lip to the bottom of the lower one, in the middle."""
    return float(np.abs(p[top.LIPS_OUTER_UPPER[5], 1] - p[top.LIPS_OUTER_LOWER[5], 1]))


def _lips(p: np.ndarray) -> np.ndarray:
    """1 on the lips, falling off past the mouth corners and away from the lip line."""
    corner_x = p[top.MOUTH_CORNERS[1], 0]
    across = smoothstep((corner_x + 0.03 - np.abs(p[:, 0])) / 0.06)
    along = np.exp(-((p[:, 1] - _mouth_line(p)) ** 2) / (2 * (0.6 * _lip_height(p)) ** 2))
    return across * along


def _blinks(p: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "blink_left": _lid(p, top.LEFT_UPPER_LID, top.LEFT_LOWER_LID, top.LEFT_EYE_CORNERS),
        "blink_right": _lid(p, top.RIGHT_UPPER_LID, top.RIGHT_LOWER_LID, top.RIGHT_EYE_CORNERS),
    }


def _lid(p: np.ndarray, upper, lower, corners) -> np.ndarray:
    """A blink of one eye: the upper lid falls to the lower one, the skin above follows."""
    x = p[:, 0]
    inside = smoothstep(
        (0.6 * np.abs(p[corners[0], 0] - p[corners[1], 0]) - np.abs(x - p[list(corners), 0].mean()))
        / 0.03
    )
    y_up, y_low = _curve_y(p, upper, x), _curve_y(p, lower, x)
    gap = np.clip(y_up - y_low, 0, None)
    above = np.where(p[:, 1] >= y_up - 1e-6, np.exp(-((p[:, 1] - y_up) ** 2) / (2 * 0.02**2)), 0)
    below = np.where(p[:, 1] <= y_low + 1e-6, np.exp(-((p[:, 1] - y_low) ** 2) / (2 * 0.01**2)), 0)
    dy = inside * gap * (-0.88 * above + 0.12 * below)
    out = np.zeros_like(p)
    out[:, 1] = dy
    return out


def _brows(p: np.ndarray, indices, move: tuple[float, float, float], sigma: float) -> np.ndarray:
    """Move brow points (x towards the midline for move[0] < 0), skin following."""
    out = np.zeros_like(p)
    for side in (-1.0, 1.0):
        chosen = [i for i in indices if np.sign(p[i, 0]) == side]
        weight = near(p, chosen, sigma)
        out += weight[:, None] * np.array([-side * move[0], move[1], move[2]])
    return out


def _close_mouth(p: np.ndarray) -> np.ndarray:
    """The template's median mouth is a little open; raise the jaw until the lips meet."""
    gap = p[top.LIPS_INNER_UPPER[5], 1] - p[top.LIPS_INNER_LOWER[5], 1]
    jaw = _jaw(p)
    per_unit = jaw[top.LIPS_INNER_UPPER[5], 1] - jaw[top.LIPS_INNER_LOWER[5], 1]
    return p - (gap / per_unit) * jaw


def _stable_mask(p: np.ndarray) -> np.ndarray:
    """0 on the stable points, 1 a little way from them: expressions never move them."""
    return 1.0 - near(p, top.STABLE, 0.015)


# ---------------------------------------------------------------- the channels


def _basis(p: np.ndarray) -> np.ndarray:
    """The displacement of each linear channel at coefficient 1, in the order of LINEAR."""
    lips = _lips(p)
    below = _lower_face_weight(p)
    centre = 1.0 - np.clip(np.abs(p[:, 0]) / p[top.MOUTH_CORNERS[1], 0], 0, 1) ** 2
    upper_lip, lower_lip = lips * (1 - below) * centre, lips * below * centre
    mouth_centre = p[list(top.LIPS_INNER_UPPER + top.LIPS_INNER_LOWER)].mean(axis=0)
    pucker = np.zeros_like(p)
    pucker[:, 0] = -0.4 * (p[:, 0] - mouth_centre[0])
    pucker[:, 2] = 0.05
    press = np.zeros_like(p)
    press[:, 1] = -0.4 * (p[:, 1] - _mouth_line(p)) * lips * centre
    cheeks = near(p, (50, 280), 0.07)[:, None] * np.array([0.0, 0.02, 0.005])
    inner_brows = top.RIGHT_BROW_INNER + top.LEFT_BROW_INNER
    fields = {
        "jaw_open": _jaw(p),
        "mouth_round": pucker * near(p, top.LIPS_OUTER_UPPER + top.LIPS_OUTER_LOWER, 0.05)[:, None],
        "mouth_wide": _corners(p, (0.05, 0.0, -0.01), 0.07),
        "lip_press": press,
        "lower_lip_tuck": lower_lip[:, None] * np.array([0.0, 0.03, -0.03]),
        "smile": _corners(p, (0.06, 0.06, -0.025), 0.07) + cheeks,
        "frown": _corners(p, (0.01, -0.035, 0.0), 0.06),
        "upper_lip_raise": upper_lip[:, None] * np.array([0.0, 0.03, 0.0]),
        "lower_lip_depress": lower_lip[:, None] * np.array([0.0, -0.03, 0.0]),
        **_blinks(p),
        "brow_raise": _brows(p, top.RIGHT_BROW + top.LEFT_BROW, (0.0, 0.045, 0.0), 0.05),
        "brow_frown": _brows(p, inner_brows, (-0.015, -0.025, 0.0), 0.035),
        "brow_inner_up": _brows(p, inner_brows, (0.0, 0.035, 0.0), 0.035),
    }
    mask = _stable_mask(p)[:, None]
    stack = np.stack([fields[name] * mask for name in LINEAR])
    stack[:, IRIS] = 0.0  # irises move only with gaze
    return stack


def _identity_modes(p: np.ndarray) -> np.ndarray:
    """Ways faces differ at rest that would otherwise pass for expressions.

    On a first look at a portrait (no known identity) these are fitted alongside the
    dynamics, unbounded and unreported, so that a long philtrum is not read as an open
    jaw nor full lips as a pout. They end up in the identity.
    """
    lips = _lips(p)
    below = _lower_face_weight(p)
    nose_base, upper_edge = p[2, 1], p[top.LIPS_OUTER_UPPER[5], 1]
    lower_edge, chin = p[top.LIPS_OUTER_LOWER[5], 1], p[top.CHIN, 1]
    line = _mouth_line(p)
    modes = np.zeros((5, *p.shape))
    modes[0, :, 1] = smoothstep((nose_base - p[:, 1]) / (nose_base - upper_edge))  # philtrum
    modes[1, :, 1] = smoothstep((lower_edge - p[:, 1]) / (lower_edge - chin))  # chin length
    modes[2, :, 0] = p[:, 0] * lips  # mouth width
    modes[3, :, 1] = (p[:, 1] - line) * lips * (1 - below)  # upper lip fullness
    modes[4, :, 1] = (p[:, 1] - line) * lips * below  # lower lip fullness
    modes *= _stable_mask(p)[None, :, None]
    modes[:, IRIS] = 0.0
    return modes


@lru_cache(maxsize=1)
def load_rig() -> Rig:
    """The rig built on the shipped template (deterministic, a few milliseconds)."""
    neutral = _close_mouth(load_template().points)
    return Rig(neutral=neutral, basis=_basis(neutral), identity_modes=_identity_modes(neutral))


# Lips count as closed below this inner-lip gap: about 2.5 px of the face in a 512 px frame,
# an eighth of a typical open vowel's gap (~0.09 face widths in the corpus).
CLOSED_GAP = 0.012


def gap_per_channel() -> np.ndarray:
    """[len(LINEAR)] how far each linear channel at 1 parts the neutral face's inner lips
    in the middle (upper minus lower, face widths): `mouth_opening` is a weighted sum."""
    basis = load_rig().basis
    return basis[:, 13, 1] - basis[:, 14, 1]


def mouth_opening(motion: np.ndarray) -> np.ndarray:
    """Inner-lip gap [T] of the neutral face under each frame's dynamics (face widths), for
    motion [T, schema.DIM]: how open the mouth is, the same for every face."""
    linear = motion[:, schema.DYNAMICS][:, : len(LINEAR)]
    return np.clip(linear @ gap_per_channel(), 0, None)


# ---------------------------------------------------------------- each face's own basis

_BASES: dict[bytes, np.ndarray] = {}


def basis_for(identity: np.ndarray | None) -> np.ndarray:
    """The basis for one face: the template's, except that a blink of 1 closes this face's
    own eyes. An eye opened wider than the template's needs a longer lid travel; with the
    template's, a wide eye stayed a third open at blink 1."""
    if identity is None:
        return load_rig().basis
    identity = np.asarray(identity, dtype=np.float64)
    key = hashlib.blake2b(identity.tobytes(), digest_size=16).digest()
    if key not in _BASES:
        if len(_BASES) > 32:  # a few faces at a time; forget the oldest
            _BASES.pop(next(iter(_BASES)))
        _BASES[key] = own_basis(identity)
    return _BASES[key]


def own_basis(identity: np.ndarray) -> np.ndarray:
    """The template's basis with the blinks rebuilt on `identity`'s own eyelids."""
    rig = load_rig()
    basis = rig.basis.copy()
    mask = _stable_mask(rig.neutral)[:, None]
    for name, field in _blinks(identity).items():
        basis[LINEAR.index(name)] = field * mask
    basis[:, IRIS] = 0.0
    return basis
