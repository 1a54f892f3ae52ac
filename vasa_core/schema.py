"""The shared vocabulary, at the bottom of the package: the motion latent (one vector per
video frame, defined once, read by every stage) and the ranges of every user control.

A motion is a float array of shape [T, DIM] (or [DIM] for one frame). Its channels are
listed in `CHANNELS`, in order: first the head pose, then the facial dynamics. VASA-1
learns this space; vasa-kit writes it down by name, so that a student can move one
slider and see one thing change, and so that every stage can be checked against numbers.

Pose is relative to the portrait: yaw/pitch/roll are absolute head angles, but tx, ty and
scale say how far the head moved from where it sits in the portrait (0, 0, 1 = in place).
Conventions, all in the viewer's frame (x right, y up, z towards the viewer):
- yaw > 0: the face turns towards the viewer's right (the subject's left);
- pitch > 0: the face looks up; roll > 0: the head tilts counter-clockwise on screen;
- gaze_yaw > 0: the eyes look towards the viewer's right; gaze_pitch > 0: they look up.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from vasa_core.errors import VasaError

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Channel:
    name: str
    group: str  # "pose" or "dynamics"
    unit: str
    low: float
    high: float
    default: float
    doc: str


CHANNELS: tuple[Channel, ...] = (
    Channel("yaw", "pose", "deg", -45, 45, 0, "head turn; > 0 towards the viewer's right"),
    Channel("pitch", "pose", "deg", -30, 30, 0, "head nod; > 0 looks up"),
    Channel("roll", "pose", "deg", -30, 30, 0, "head tilt; > 0 counter-clockwise on screen"),
    Channel("tx", "pose", "face widths", -0.5, 0.5, 0, "shift right from the portrait's place"),
    Channel("ty", "pose", "face widths", -0.5, 0.5, 0, "shift up from the portrait's place"),
    Channel("scale", "pose", "ratio", 0.6, 1.6, 1, "head size vs the portrait (distance)"),
    Channel("jaw_open", "dynamics", "0-1", 0, 1, 0, "jaw drops, lips part"),
    Channel("mouth_round", "dynamics", "0-1", 0, 1, 0, "lips pucker forward (oo, w)"),
    Channel("mouth_wide", "dynamics", "0-1", 0, 1, 0, "mouth corners stretch sideways (ee)"),
    Channel("lip_press", "dynamics", "0-1", 0, 1, 0, "lips pressed together, thinned"),
    Channel("lower_lip_tuck", "dynamics", "0-1", 0, 1, 0, "lower lip up and in (f, v)"),
    Channel("smile", "dynamics", "0-1", 0, 1, 0, "corners up and out, cheeks raised"),
    Channel("frown", "dynamics", "0-1", 0, 1, 0, "mouth corners down"),
    Channel("upper_lip_raise", "dynamics", "0-1", 0, 1, 0, "upper lip lifts"),
    Channel("lower_lip_depress", "dynamics", "0-1", 0, 1, 0, "lower lip drops, jaw still"),
    Channel("blink_left", "dynamics", "0-1", 0, 1, 0, "subject's left eye closes"),
    Channel("blink_right", "dynamics", "0-1", 0, 1, 0, "subject's right eye closes"),
    Channel("brow_raise", "dynamics", "0-1", 0, 1, 0, "both brows lift"),
    Channel("brow_frown", "dynamics", "0-1", 0, 1, 0, "inner brows down and together"),
    Channel("brow_inner_up", "dynamics", "0-1", 0, 1, 0, "inner brows lift (sadness, worry)"),
    Channel("gaze_yaw", "dynamics", "deg", -35, 35, 0, "eyes turn; > 0 towards viewer's right"),
    Channel("gaze_pitch", "dynamics", "deg", -25, 25, 0, "eyes turn; > 0 up"),
)

NAMES: tuple[str, ...] = tuple(c.name for c in CHANNELS)
DIM = len(CHANNELS)
POSE_NAMES: tuple[str, ...] = tuple(c.name for c in CHANNELS if c.group == "pose")
DYNAMICS_NAMES: tuple[str, ...] = tuple(c.name for c in CHANNELS if c.group == "dynamics")
POSE = slice(0, len(POSE_NAMES))
DYNAMICS = slice(len(POSE_NAMES), DIM)
# The mouth channels: what the viseme rules drive and what lip-sync is judged on.
MOUTH: tuple[str, ...] = (
    "jaw_open",
    "mouth_round",
    "mouth_wide",
    "lip_press",
    "lower_lip_tuck",
    "upper_lip_raise",
    "lower_lip_depress",
)
# A bilabial closure (p, b, m) is these mouth channels at 0 and the lips pressed: what the
# corpus's viseme rules force at a bilabial's centre, and what the generator pulls towards
# where the phonetic encoder hears one.
LIP_PARTING: tuple[str, ...] = (
    "jaw_open",
    "mouth_round",
    "lower_lip_tuck",
    "upper_lip_raise",
    "lower_lip_depress",
)
BILABIAL_PRESS = 0.6  # lip_press at a closure
LOW = np.array([c.low for c in CHANNELS], dtype=np.float32)
HIGH = np.array([c.high for c in CHANNELS], dtype=np.float32)
DEFAULT = np.array([c.default for c in CHANNELS], dtype=np.float32)
_INDEX = {name: i for i, name in enumerate(NAMES)}


def index(name: str) -> int:
    """Column of a channel in a motion array."""
    try:
        return _INDEX[name]
    except KeyError:
        raise VasaError(f"unknown motion channel {name!r}; known: {', '.join(NAMES)}") from None


# How far a head can be taken from the portrait's own pose and still look like a person on
# its body, as the renderer (a 2D warp of one picture) shows it: beyond these a turn
# stretches the far cheek and the glasses into smears and a raised chin drags the throat
# (looked at on the examples and the defects benchmark's portraits). Angles in degrees
# and shifts in face widths are added to the portrait's own; the scale is a ratio of it
# (the distance control's range). The renderer keeps every frame inside, the Edit
# sliders span it, and the generator's natural motion stays well within.
REACH: dict[str, tuple[float, float]] = {
    "yaw": (-20, 20),
    "pitch": (-20, 12),
    "roll": (-20, 20),
    "tx": (-0.3, 0.3),
    "ty": (-0.3, 0.3),
    "scale": (0.7, 1.4),
}


def reach(own: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (low, high) motion [DIM] a renderer of a portrait whose own motion is `own` can
    show: the channels' ranges, narrowed about the portrait's own pose by `REACH`."""
    low, high = LOW.copy(), HIGH.copy()
    for name, (below, above) in REACH.items():
        j = index(name)
        if name == "scale":
            below, above = own[j] * below, own[j] * above
        else:
            below, above = own[j] + below, own[j] + above
        low[j], high[j] = max(low[j], below), min(high[j], above)
    return low, high


def neutral(frames: int | None = None) -> np.ndarray:
    """The resting motion: head as in the portrait, face relaxed, eyes open and ahead."""
    return DEFAULT.copy() if frames is None else np.tile(DEFAULT, (frames, 1))


def check(motion: np.ndarray, what: str = "motion") -> np.ndarray:
    """Validate a motion array and clip it to the schema's ranges.

    Wrong shapes and non-finite values are errors (they mean a broken file); values out of
    range are clipped with one warning that names the channels, since generators and
    hand-edited files overshoot a little.
    """
    array = np.asarray(motion, dtype=np.float32)
    if array.ndim not in (1, 2) or array.shape[-1] != DIM:
        raise VasaError(f"{what} has shape {array.shape}; expected [frames, {DIM}] or [{DIM}]")
    if not np.isfinite(array).all():
        bad = sorted({NAMES[j] for j in np.nonzero(~np.isfinite(array))[-1]})
        raise VasaError(f"{what} has NaN or infinite values in: {', '.join(bad)}")
    clipped = np.clip(array, LOW, HIGH)
    changed = np.nonzero((clipped != array).reshape(-1, DIM).any(axis=0))[0]
    if len(changed):
        names = ", ".join(NAMES[j] for j in changed)
        warnings.warn(f"{what}: clipped out-of-range values in {names}", stacklevel=2)
    return clipped


def to_dict(motion: np.ndarray) -> dict[str, np.ndarray | float]:
    """Channels by name: floats for one frame, arrays for a sequence."""
    array = np.asarray(motion)
    if array.ndim == 1:
        return {name: float(array[i]) for i, name in enumerate(NAMES)}
    return {name: array[..., i] for i, name in enumerate(NAMES)}


def from_dict(channels: Mapping[str, object], what: str = "motion") -> np.ndarray:
    """Build a motion array from channels by name; every channel must be present."""
    missing = [name for name in NAMES if name not in channels]
    if missing:
        raise VasaError(f"{what} is missing channels: {', '.join(missing)}")
    unknown = sorted(set(channels) - set(NAMES))
    if unknown:
        raise VasaError(f"{what} has unknown channels: {', '.join(unknown)}")
    columns = [np.asarray(channels[name], dtype=np.float32) for name in NAMES]
    if len({c.shape for c in columns}) != 1 or columns[0].ndim > 1:
        raise VasaError(f"{what}: every channel must be one number or one series of one length")
    return np.stack(columns, axis=-1)


def describe() -> str:
    """A table of the schema, for the CLI and the notebooks."""
    rows = [f"{'channel':<18} {'group':<9} {'unit':<12} {'range':<14} default"]
    for c in CHANNELS:
        rows.append(
            f"{c.name:<18} {c.group:<9} {c.unit:<12} {f'{c.low:g}..{c.high:g}':<14} {c.default:g}"
        )
    return "\n".join(rows)


@dataclass(frozen=True)
class Knob:
    """The range of one user control: the CLI checks it, the app's slider spans it, and
    `Controls` and the sampling settings refuse values outside it."""

    name: str
    low: float
    high: float
    default: float
    step: float
    unit: str
    doc: str

    def check(self, value: float) -> float:
        """`value` as a float, or one clear error if it is outside the range."""
        if not (np.isfinite(value) and self.low <= value <= self.high):
            raise VasaError(f"{self.name} = {value} is outside {self.low:g}..{self.high:g}")
        return float(value)

    def clip(self, value: float) -> float:
        """A measured value brought inside the range (what a user could have asked for)."""
        return float(np.clip(value, self.low, self.high))


# One table for the CLI, the app, `Controls`, the sampling settings and ingest. The app's
# sliders used to stop short of what the CLI accepted (gaze 30 vs 35, distance 0.7-1.4 vs
# 0.6-1.6, guidance 6 vs 10); the narrower ranges are kept, since they are where the
# renderer and the generator were looked at.
KNOBS: tuple[Knob, ...] = (
    Knob("gaze_yaw", -30, 30, 0, 1, "deg", "main gaze; > 0 towards the viewer's right"),
    Knob("gaze_pitch", -20, 20, 0, 1, "deg", "main gaze; > 0 up"),
    Knob("distance", 0.7, 1.4, 1, 0.05, "ratio", "head size: > 1 is closer"),
    Knob("intensity", 0, 1, 0.7, 0.05, "0-1", "strength of the chosen emotion"),
    Knob("motion", 0, 2, 1, 0.1, "ratio", "head motion: 0 still, 1 natural, 2 lively"),
    Knob("audio_guidance", 0, 6, 2.5, 0.5, "weight", "how strongly the voice drives the face"),
    Knob("steps", 1, 50, 10, 1, "steps", "diffusion sampling steps"),
    Knob("fps", 10, 60, 25, 1, "frames/s", "video frame rate"),
)
_KNOB = {k.name: k for k in KNOBS}


def knob(name: str) -> Knob:
    """The range of a control by name."""
    return _KNOB[name]


# Seeds are not a knob: a float cannot hold every one of them. The largest is the largest
# torch's generators take (2**70 overflowed inside them; numpy refuses negative ones).
MAX_SEED = 2**63 - 1


def check_seed(value: int) -> int:
    """`value` as a seed, or one clear error if it is outside 0..2**63 - 1."""
    if not 0 <= value <= MAX_SEED:
        raise VasaError(f"seed {value} is outside 0..{MAX_SEED} (0..2**63 - 1)")
    return int(value)
