"""Fitting the rig: Face Mesh landmarks to pose and dynamics, and the identity behind them.

`encode` takes the head pose from the stable points (a similarity fit, pose.py), the linear
channels from the rest by bounded least squares against the face's basis, with lips, lids
and brows counting most (`fit_weights`), and the gaze from the irises (gaze.py).
`identity_of` takes an encoding's expression back out, leaving the face at rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.optimize import lsq_linear

from vasa_core import schema
from vasa_core.face import topology as top
from vasa_core.face.basis import IRIS, LINEAR, basis_for, load_rig, near, own_basis
from vasa_core.face.gaze import measure_gaze, turn_irises
from vasa_core.face.pose import Anchor, angles, fit_similarity, pixels_to_view

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


@dataclass(frozen=True)
class Encoding:
    """What a fit found in one set of landmarks."""

    pose: np.ndarray  # [6] schema pose channels
    dynamics: np.ndarray  # [16] schema dynamics channels
    anchor: Anchor
    canonical: np.ndarray  # [478, 3] the landmarks with the head pose taken out


@lru_cache(maxsize=1)
def fit_weights() -> np.ndarray:
    """How much each landmark of the rig's neutral face counts when fitting dynamics [478].

    Lips, lids and brows carry the expression; the chin, jaw line, cheeks and forehead
    mostly carry the person (a long chin is not an open jaw), so they count little.
    """
    p = load_rig().neutral
    lids = top.RIGHT_UPPER_LID + top.RIGHT_LOWER_LID + top.LEFT_UPPER_LID + top.LEFT_LOWER_LID
    lips = top.LIPS_INNER_UPPER + top.LIPS_INNER_LOWER + top.LIPS_OUTER_UPPER + top.LIPS_OUTER_LOWER
    features = np.maximum.reduce(
        [near(p, lips, 0.03), near(p, lids, 0.02), near(p, top.RIGHT_BROW + top.LEFT_BROW, 0.03)]
    )
    weights = 0.1 + 0.9 * features
    weights[list(top.LIPS_INNER_UPPER + top.LIPS_INNER_LOWER)] = 4.0
    weights[list(top.LIPS_OUTER_UPPER + top.LIPS_OUTER_LOWER)] = 3.0
    weights[list(lids)] = 3.0
    weights[list(top.RIGHT_BROW + top.LEFT_BROW)] = 2.0
    weights[IRIS] = 0.0
    return weights


def encode(
    landmarks: np.ndarray, identity: np.ndarray | None = None, anchor: Anchor | None = None
) -> Encoding:
    """Fit pose and dynamics to Face Mesh landmarks (pixels).

    Against `identity` when the face is known (frames of a video of that face), else
    against the neutral template (a first look at a portrait). Without an `anchor`, the
    landmarks define it: tx = ty = 0 and scale = 1.
    """
    reference = load_rig().neutral if identity is None else np.asarray(identity, dtype=np.float64)
    view = pixels_to_view(landmarks)
    stable = list(top.STABLE)
    s, r, t = fit_similarity(reference[stable], view[stable])
    canonical = (view - t) @ r / s
    if anchor is None:
        anchor = Anchor(scale=s, offset=t)
    shift = (t - anchor.offset)[:2] / anchor.scale
    pose = np.array([*angles(r), shift[0], shift[1], s / anchor.scale])

    linear = _fit_linear(canonical, reference, identity)
    gaze = measure_gaze(canonical, reference, known=identity is not None)
    dynamics = np.clip(
        np.array([*linear, *gaze]), schema.LOW[schema.DYNAMICS], schema.HIGH[schema.DYNAMICS]
    )
    return Encoding(pose=pose, dynamics=dynamics, anchor=anchor, canonical=canonical)


def _fit_linear(
    canonical: np.ndarray, reference: np.ndarray, identity: np.ndarray | None
) -> np.ndarray:
    """The linear channels that deform `reference` closest to `canonical`, within bounds.

    On a first look (no `identity`) the identity modes are fitted alongside, unbounded,
    and the prior pulls the expressions towards zero.
    """
    rig = load_rig()
    depth = 0.0 if identity is None else DEPTH_WEIGHT
    w = np.sqrt(fit_weights()[:, None] * np.array([1.0, 1.0, depth])).reshape(-1)
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
    return lsq_linear(design, target, bounds=(low, high), method="bvls").x[: len(LINEAR)]


def identity_of(encoding: Encoding) -> np.ndarray:
    """The neutral shape behind an encoding: its expression removed, its eyes at rest."""
    linear = encoding.dynamics[: len(LINEAR)]
    shape = encoding.canonical - np.tensordot(linear, load_rig().basis, axes=1)
    # The identity's own blink field depends on the identity (its eye opening): find the
    # shape that, deformed by its own basis, gives the encoding back (a few rounds; each
    # shrinks the error by about the blink value).
    for _ in range(30):
        previous = shape
        shape = encoding.canonical - np.tensordot(linear, own_basis(shape), axes=1)
        if np.abs(shape - previous).max() < 1e-10:
            break
    return turn_irises(shape, encoding.dynamics[-2], encoding.dynamics[-1], back=True)
