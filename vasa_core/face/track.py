"""Tracking a face through a video: Face Mesh on every frame, each frame encoded against one
identity, so the motion is exact up to Face Mesh's own error. Used by ingest (training
data), reenact (a driver video) and eval (any talking-face video)."""

from __future__ import annotations

import os

import numpy as np

from vasa_core import schema
from vasa_core.errors import VasaError
from vasa_core.face import landmarks as lm
from vasa_core.face import rig
from vasa_core.files import check_input
from vasa_core.media import video_frames


def track_video(
    path: str | os.PathLike, max_seconds: float | None = None
) -> tuple[np.ndarray, np.ndarray, float]:
    """(motion [T, DIM], valid [T] bool, fps): Face Mesh on every frame of a video, each
    encoded against one identity. Faceless frames take their nearest face's motion.
    A video longer than `max_seconds` is refused as soon as that is known."""
    path = check_input(path, "a video", missing="video")
    frames, fps = video_frames(path)
    if not 1 <= fps <= 240:
        raise VasaError(f"{path}: frame rate {fps} is not usable")
    landmarks: list[np.ndarray | None] = []
    for frame in frames:
        if max_seconds is not None and len(landmarks) >= max_seconds * fps:
            raise VasaError(f"{path}: longer than {max_seconds:g} s, the limit here")
        faces = lm.detect_all(frame)
        landmarks.append(faces[0] if faces else None)
    if not landmarks:
        raise VasaError(f"{path}: has no video frames")
    found = [i for i, p in enumerate(landmarks) if p is not None]
    if not found:
        raise VasaError(f"{path}: no face in any of its {len(landmarks)} frames")
    # The identity comes from the calmest frame (least expression on a first look), so a
    # video that starts mid-word does not bake an open mouth into the face.
    looks = [(i, rig.encode(landmarks[i])) for i in found[:: max(1, len(found) // 30)]]
    calm = min(looks, key=lambda look: np.abs(look[1].dynamics[: len(rig.LINEAR)]).sum())[1]
    identity, anchor = rig.identity_of(calm), calm.anchor
    motion = np.tile(schema.neutral(), (len(landmarks), 1))
    for i in found:
        fit = rig.encode(landmarks[i], identity=identity, anchor=anchor)
        motion[i] = np.concatenate([fit.pose, fit.dynamics])
    valid = np.array([p is not None for p in landmarks])
    return _fill_gaps(motion, valid), valid, fps


def _fill_gaps(motion: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Frames without a face take the motion of the nearest frame with one."""
    index = np.flatnonzero(valid)
    nearest = index[np.clip(np.searchsorted(index, np.arange(len(valid))), 0, len(index) - 1)]
    return motion[nearest]
