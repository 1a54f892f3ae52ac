"""The expression rig: each dynamics channel of the motion schema as a deformation.

decode(identity, pose, dynamics) -> 478 landmarks, and encode(landmarks) -> pose and
dynamics by fitting. This is our explicit stand-in for VASA-1's learned face latents:
  shape    = identity + sum_k dynamics_k * basis_k        (the 14 linear channels)
  irises   = rotated about each eyeball centre by the gaze angles
  pixels   = anchor.scale * scale * R(yaw, pitch, roll) @ shape + anchor.offset + shift

Every basis is a smooth displacement field on the neutral template, shaped by anatomy
(the jaw turns about a hinge below the ears, smiles pull the mouth corners up and out,
blinks bring the upper lid down to the lower one), and exactly zero on the stable points
that the rigid fit uses, so that expressions never leak into the head pose.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.optimize import lsq_linear

from vasa_core import schema
from vasa_core.face import topology as top
from vasa_core.face.pose import angles, fit_similarity, pixels_to_view, rotation, view_to_pixels
from vasa_core.face.template import load_template

LINEAR = tuple(n for n in schema.DYNAMICS_NAMES if not n.startswith("gaze_"))
EYEBALL_RADIUS = 0.45  # eyeball radius as a fraction of the eye's corner-to-corner width
# Against the template, part of what differs is the person, not the expression (thin lips,
# low brows). A small ridge prior keeps such differences in the identity rather than
# reading them as expressions; against a known identity there is nothing to absorb.
TEMPLATE_PRIOR = 0.01
# Face Mesh guesses depth from a single view (on a drawing, entirely): trust it little, and
# on a first look not at all, where a flat face would otherwise read as a dropped jaw.
# Every channel moves points across the picture too, so x and y carry the fit. At 0.2,
# Face Mesh's depth (which does not follow a dropped jaw back) blurred jaw_open into the
# lower lip channels: on a rendered talking video, jaw_open read back with a correlation
# of 0.64, against 0.73 at 0.05.
DEPTH_WEIGHT = 0.05
IRIS = np.array(top.RIGHT_IRIS + top.LEFT_IRIS)
_EYES = (  # (corners, iris) for the subject's right and left eye
    (top.RIGHT_EYE_CORNERS, top.RIGHT_IRIS),
    (top.LEFT_EYE_CORNERS, top.LEFT_IRIS),
)


@dataclass(frozen=True)
class Anchor:
    """Where the portrait's head sits: pixels per canonical unit and the origin's place."""

    scale: float
    offset: np.ndarray  # [3], viewer's frame, pixels


@dataclass(frozen=True)
class Rig:
    neutral: np.ndarray  # [478, 3] template with the mouth closed
    basis: np.ndarray  # [len(LINEAR), 478, 3] displacement at coefficient 1
    identity_modes: np.ndarray  # [5, 478, 3] rest-shape differences between people
    weights: np.ndarray  # [478] how much each point counts when fitting dynamics


@dataclass(frozen=True)
class Encoding:
    pose: np.ndarray  # [6] schema pose channels
    dynamics: np.ndarray  # [16] schema dynamics channels
    anchor: Anchor
    canonical: np.ndarray  # [478, 3] the landmarks with the head pose taken out


# ---------------------------------------------------------------- building the basis


def smoothstep(x):
    """0 below 0, 1 above 1, a smooth S between (NumPy arrays and torch tensors alike)."""
    x = x.clip(0.0, 1.0)
    return x * x * (3 - 2 * x)


def _near(points: np.ndarray, indices, sigma: float) -> np.ndarray:
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
        weight = _near(p, [corner], sigma)
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
        weight = _near(p, chosen, sigma)
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
    return 1.0 - _near(p, top.STABLE, 0.015)


def _basis(p: np.ndarray) -> np.ndarray:
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
    cheeks = _near(p, (50, 280), 0.07)[:, None] * np.array([0.0, 0.02, 0.005])
    inner_brows = top.RIGHT_BROW_INNER + top.LEFT_BROW_INNER
    fields = {
        "jaw_open": _jaw(p),
        "mouth_round": pucker
        * _near(p, top.LIPS_OUTER_UPPER + top.LIPS_OUTER_LOWER, 0.05)[:, None],
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
    return Rig(
        neutral=neutral,
        basis=_basis(neutral),
        identity_modes=_identity_modes(neutral),
        weights=_fit_weights(neutral),
    )


def _fit_weights(p: np.ndarray) -> np.ndarray:
    """How much each landmark counts when fitting dynamics.

    Lips, lids and brows carry the expression; the chin, jaw line, cheeks and forehead
    mostly carry the person (a long chin is not an open jaw), so they count little.
    """
    lids = top.RIGHT_UPPER_LID + top.RIGHT_LOWER_LID + top.LEFT_UPPER_LID + top.LEFT_LOWER_LID
    lips = top.LIPS_INNER_UPPER + top.LIPS_INNER_LOWER + top.LIPS_OUTER_UPPER + top.LIPS_OUTER_LOWER
    features = np.maximum.reduce(
        [_near(p, lips, 0.03), _near(p, lids, 0.02), _near(p, top.RIGHT_BROW + top.LEFT_BROW, 0.03)]
    )
    weights = 0.1 + 0.9 * features
    weights[list(top.LIPS_INNER_UPPER + top.LIPS_INNER_LOWER)] = 4.0
    weights[list(top.LIPS_OUTER_UPPER + top.LIPS_OUTER_LOWER)] = 3.0
    weights[list(lids)] = 3.0
    weights[list(top.RIGHT_BROW + top.LEFT_BROW)] = 2.0
    weights[IRIS] = 0.0
    return weights


# ---------------------------------------------------------------- eyes and gaze


def _eyeballs(shape: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(centre, radius) of each eyeball, placed from the eye corners of `shape` [..., 478, 3].

    The template's iris at rest marks the front of its eyeball; the centre lies one radius
    behind it. Carried over to any face by its eye corners, which are stable points, so a
    face's eyeballs stay put whatever its expression.
    """
    template = load_rig().neutral
    balls = []
    for corners, iris in _EYES:
        width = np.linalg.norm(shape[..., corners[0], :] - shape[..., corners[1], :], axis=-1)
        ratio = width / np.linalg.norm(template[corners[0]] - template[corners[1]])
        radius = EYEBALL_RADIUS * width
        front = template[iris[0]] - template[list(corners)].mean(axis=0)
        behind = np.stack([0 * radius, 0 * radius, radius], axis=-1)
        centre = shape[..., list(corners), :].mean(axis=-2) + ratio[..., None] * front - behind
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


def _measure_gaze(shape: np.ndarray, reference: np.ndarray, known: bool) -> tuple[float, float]:
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


def _turn_irises(shape: np.ndarray, gaze_yaw, gaze_pitch, back: bool = False):
    """Irises of `shape` [..., 478, 3] turned about their eyeballs by the gaze angles (or
    back from them); angles are numbers or arrays of the shape's leading dimensions."""
    out = shape.copy()
    turn = _gaze_rotation(gaze_yaw, gaze_pitch)
    # Points are rows, so they are multiplied by the transpose; turning back is the inverse.
    on_rows = turn if back else np.swapaxes(turn, -1, -2)
    for (centre, _), (_, iris) in zip(_eyeballs(shape), _EYES, strict=True):
        centre = centre[..., None, :]
        out[..., list(iris), :] = (shape[..., list(iris), :] - centre) @ on_rows + centre
    return out


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
        _BASES[key] = _own_basis(identity)
    return _BASES[key]


def _own_basis(identity: np.ndarray) -> np.ndarray:
    rig = load_rig()
    basis = rig.basis.copy()
    mask = _stable_mask(rig.neutral)[:, None]
    for name, field in _blinks(identity).items():
        basis[LINEAR.index(name)] = field * mask
    basis[:, IRIS] = 0.0
    return basis


# ---------------------------------------------------------------- decode and encode


def deform(identity: np.ndarray, dynamics: np.ndarray) -> np.ndarray:
    """The canonical shape [478, 3] of `identity` making the expression `dynamics`
    (or shapes [T, 478, 3] for a sequence [T, 16])."""
    dynamics = np.asarray(dynamics, dtype=np.float64)
    linear = dynamics[..., : len(LINEAR)]
    # einsum, not tensordot: this sum is tiny, and BLAS waking its threads for it while
    # PyTorch's own threads are busy rendering took 1.4 ms a frame instead of 0.02 ms.
    shape = identity + np.einsum("...k,kij->...ij", linear, basis_for(identity))
    return _turn_irises(shape, dynamics[..., -2], dynamics[..., -1])


def decode(
    identity: np.ndarray, pose: np.ndarray, dynamics: np.ndarray, anchor: Anchor
) -> np.ndarray:
    """Landmarks [478, 3] in pixels for an identity in a pose making an expression (or
    [T, 478, 3] for sequences of poses [T, 6] and dynamics [T, 16])."""
    yaw, pitch, roll, tx, ty, scale = np.moveaxis(np.asarray(pose, dtype=np.float64), -1, 0)
    shape = deform(identity, dynamics)
    turn = np.swapaxes(rotation(yaw, pitch, roll), -1, -2)
    view = anchor.scale * np.asarray(scale)[..., None, None] * shape @ turn
    shift = np.stack([tx, ty, 0 * tx], axis=-1)[..., None, :]
    view += anchor.offset + anchor.scale * shift
    return view_to_pixels(view).astype(np.float32)


def encode(
    landmarks: np.ndarray, identity: np.ndarray | None = None, anchor: Anchor | None = None
) -> Encoding:
    """Fit pose and dynamics to Face Mesh landmarks (pixels).

    Against `identity` when the face is known (frames of a video of that face), else
    against the neutral template (a first look at a portrait). Without an `anchor`, the
    landmarks define it: tx = ty = 0 and scale = 1.
    """
    rig = load_rig()
    reference = rig.neutral if identity is None else np.asarray(identity, dtype=np.float64)
    view = pixels_to_view(landmarks)
    stable = list(top.STABLE)
    s, r, t = fit_similarity(reference[stable], view[stable])
    canonical = (view - t) @ r / s
    if anchor is None:
        anchor = Anchor(scale=s, offset=t)
    shift = (t - anchor.offset)[:2] / anchor.scale
    pose = np.array([*angles(r), shift[0], shift[1], s / anchor.scale])

    depth = 0.0 if identity is None else DEPTH_WEIGHT
    w = np.sqrt(rig.weights[:, None] * np.array([1.0, 1.0, depth])).reshape(-1)
    design = basis_for(identity).reshape(len(LINEAR), -1).T * w[:, None]
    target = (canonical - reference).reshape(-1) * w
    low = np.array([schema.LOW[schema.index(n)] for n in LINEAR])
    high = np.array([schema.HIGH[schema.index(n)] for n in LINEAR])
    if identity is None:
        n_modes = len(rig.identity_modes)
        modes = rig.identity_modes.reshape(n_modes, -1).T * w[:, None]
        prior = np.sqrt(TEMPLATE_PRIOR) * np.eye(len(LINEAR), len(LINEAR) + n_modes)
        design = np.vstack([np.hstack([design, modes]), prior])
        target = np.concatenate([target, np.zeros(len(LINEAR))])
        low = np.concatenate([low, np.full(n_modes, -np.inf)])
        high = np.concatenate([high, np.full(n_modes, np.inf)])
    linear = lsq_linear(design, target, bounds=(low, high), method="bvls").x[: len(LINEAR)]
    gaze = _measure_gaze(canonical, reference, known=identity is not None)
    dynamics = np.clip(
        np.array([*linear, *gaze]), schema.LOW[schema.DYNAMICS], schema.HIGH[schema.DYNAMICS]
    )
    return Encoding(pose=pose, dynamics=dynamics, anchor=anchor, canonical=canonical)


def identity_of(encoding: Encoding) -> np.ndarray:
    """The neutral shape behind an encoding: its expression removed, its eyes at rest."""
    linear = encoding.dynamics[: len(LINEAR)]
    shape = encoding.canonical - np.tensordot(linear, load_rig().basis, axes=1)
    # The identity's own blink field depends on the identity (its eye opening): find the
    # shape that, deformed by its own basis, gives the encoding back (a few rounds; each
    # shrinks the error by about the blink value).
    for _ in range(30):
        previous = shape
        shape = encoding.canonical - np.tensordot(linear, _own_basis(shape), axes=1)
        if np.abs(shape - previous).max() < 1e-10:
            break
    return _turn_irises(shape, encoding.dynamics[-2], encoding.dynamics[-1], back=True)
