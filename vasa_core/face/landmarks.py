"""Face Mesh landmarks (478 points with the irises) of the largest face in a portrait.

MediaPipe 0.10.21 bundles the Face Mesh model, so nothing is downloaded. Landmarks are
returned in the portrait's own pixels as [478, 3] float32: x right, y down, z depth in
the same pixel units (smaller z is closer to the camera), as Face Mesh gives them.
Huge portraits are analysed on a downscaled copy; coordinates are mapped back.
"""

from __future__ import annotations

import os
import threading
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image

from vasa_core.errors import VasaError
from vasa_core.native import quiet_stderr

os.environ.setdefault("GLOG_minloglevel", "2")  # keep MediaPipe's C++ logging quiet
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

N_LANDMARKS = 478
ANALYSIS_SIDE = 1280  # long side of the copy Face Mesh sees; enough for any portrait
MAX_FACES = 8

_lock = threading.Lock()
_face_mesh = None
_warmed_up = False


@dataclass(frozen=True)
class Detection:
    landmarks: np.ndarray  # [478, 3] float32, pixels of the original image
    n_faces: int
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels


def _mesh():
    global _face_mesh
    if _face_mesh is None:
        with quiet_stderr():
            import mediapipe as mp

            _face_mesh = mp.solutions.face_mesh.FaceMesh(
                static_image_mode=True,
                max_num_faces=MAX_FACES,
                refine_landmarks=True,
                min_detection_confidence=0.5,
            )
    return _face_mesh


def _analysis_copy(image: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    factor = ANALYSIS_SIDE / max(height, width)
    if factor >= 1:
        return image
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.LANCZOS))


def _run(image: np.ndarray) -> list[np.ndarray]:
    """Face Mesh on an RGB array; landmarks normalised to [0, 1] of that array."""
    global _warmed_up
    with _lock:
        if _warmed_up:
            result = _mesh().process(image)
        else:
            with quiet_stderr():
                result = _mesh().process(image)
            _warmed_up = True
    faces = result.multi_face_landmarks or []
    return [np.array([(p.x, p.y, p.z) for p in face.landmark], dtype=np.float32) for face in faces]


def detect_all(image: np.ndarray) -> list[np.ndarray]:
    """Landmarks [478, 3] in pixels for every face found, largest first."""
    small = _analysis_copy(image)
    faces = _run(small)
    if not faces:
        # The detector misses faces that fill the whole frame; a margin gives it context.
        pad = max(small.shape[:2]) // 4
        padded = np.pad(small, ((pad, pad), (pad, pad), (0, 0)), mode="edge")
        scale = np.array([padded.shape[1], padded.shape[0], padded.shape[1]], np.float32)
        offset = np.array([pad, pad, 0], np.float32)
        faces = [
            (f * scale - offset) / np.array([small.shape[1], small.shape[0], small.shape[1]])
            for f in _run(padded)
        ]
    height, width = image.shape[:2]
    to_pixels = np.array([width, height, width], dtype=np.float32)
    faces = [(f * to_pixels).astype(np.float32) for f in faces]
    return sorted(faces, key=lambda f: -np.ptp(f[:, 0]) * np.ptp(f[:, 1]))


def detect(image: np.ndarray, name: str = "image") -> Detection:
    """The largest face; warns when there are several and fails clearly when none."""
    faces = detect_all(image)
    if not faces:
        raise VasaError(f"{name}: no face found (try a clearer, frontal portrait)")
    if len(faces) > 1:
        warnings.warn(f"{name}: found {len(faces)} faces; using the largest", stacklevel=2)
    points = faces[0]
    box = (
        float(points[:, 0].min()),
        float(points[:, 1].min()),
        float(points[:, 0].max()),
        float(points[:, 1].max()),
    )
    return Detection(landmarks=points, n_faces=len(faces), box=box)
