"""Face Mesh landmarks (478 points with the irises) of the largest face in a portrait.

MediaPipe 0.10.21 bundles the Face Mesh model, so nothing is downloaded. Landmarks are
returned in the portrait's own pixels as [478, 3] float32: x right, y down, z depth in
the same pixel units (smaller z is closer to the camera), as Face Mesh gives them.
Huge portraits are analysed on a downscaled copy; coordinates are mapped back. Where the
whole picture shows no face, tiles of it are searched (two faces side by side, a grid, one
face on a wide canvas); of several faces the largest is taken, with a one-line notice.
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
MIN_TILE = 128  # px of the analysis copy: the smallest tile searched for faces
MIN_FACE_PX = 40  # narrower faces (landmark span, portrait pixels) are refused as too small

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


def _run(image: np.ndarray, quiet: bool = False) -> list[np.ndarray]:
    """Face Mesh on an RGB array; landmarks normalised to [0, 1] of that array. `quiet`:
    its C++ log silenced, as for the first call (it notes every change of picture shape)."""
    global _warmed_up
    with _lock:
        if _warmed_up and not quiet:
            result = _mesh().process(image)
        else:
            with quiet_stderr():
                result = _mesh().process(image)
            _warmed_up = True
    faces = result.multi_face_landmarks or []
    return [np.array([(p.x, p.y, p.z) for p in face.landmark], dtype=np.float32) for face in faces]


def detect_all(image: np.ndarray, tiles: bool = True) -> list[np.ndarray]:
    """Landmarks [478, 3] in pixels for every face found, largest first. `tiles`: search
    tiles of the picture where the whole shows no face (off for the template's faces, a
    set fixed when the shipped template was built)."""
    small = _analysis_copy(image)
    faces = _run(small) or _run_padded(small) or (_run_tiles(small) if tiles else [])
    height, width = image.shape[:2]
    to_pixels = np.array([width, height, width], dtype=np.float32)
    faces = [(f * to_pixels).astype(np.float32) for f in faces]
    return sorted(faces, key=lambda f: -np.ptp(f[:, 0]) * np.ptp(f[:, 1]))


def _run_padded(small: np.ndarray) -> list[np.ndarray]:
    """The detector misses faces that fill the whole frame; a margin gives it context."""
    pad = max(small.shape[:2]) // 4
    padded = np.pad(small, ((pad, pad), (pad, pad), (0, 0)), mode="edge")
    return [_placed(f, padded.shape, (-pad, -pad), small.shape) for f in _run(padded, True)]


def _run_tiles(small: np.ndarray) -> list[np.ndarray]:
    """Faces in overlapping square tiles, halving their side until some are found.

    Face Mesh's detector sees the whole picture at 128 x 128 pixels: two faces side by
    side, a 2 x 2 grid or one face on a wide canvas become too small there to be found,
    though each fills a tile of the picture well."""
    height, width = small.shape[:2]
    side = min(height, width)
    smallest = max(MIN_TILE, side // 4)  # at most three sizes: a face-less picture costs
    if side >= max(height, width):  # the whole picture was searched already
        side //= 2
    while side >= smallest:
        step = side // 2
        found = []
        for top in _starts(height, side, step):
            for left in _starts(width, side, step):
                tile = np.ascontiguousarray(small[top : top + side, left : left + side])
                faces = _run(tile, quiet=True)
                found += [_placed(f, tile.shape, (left, top), small.shape) for f in faces]
        if found:
            return _distinct(found)
        side //= 2
    return []


def _starts(length: int, side: int, step: int) -> list[int]:
    """Tile offsets along one side: every `step`, the last tile flush with the end."""
    if side >= length:
        return [0]
    return sorted({*range(0, length - side, step), length - side})


def _placed(face: np.ndarray, tile: tuple, corner: tuple[int, int], whole: tuple) -> np.ndarray:
    """Landmarks normalised to a tile (or padded copy) whose top-left corner is at `corner`
    in the whole picture, normalised to the whole picture instead."""
    tile_px = np.array([tile[1], tile[0], tile[1]], np.float32)
    whole_px = np.array([whole[1], whole[0], whole[1]], np.float32)
    return (face * tile_px + np.array([*corner, 0], np.float32)) / whole_px


def _distinct(faces: list[np.ndarray]) -> list[np.ndarray]:
    """One of each face that overlapping tiles found more than once: the largest view."""
    kept: list[np.ndarray] = []
    for face in sorted(faces, key=lambda f: -np.ptp(f[:, 0]) * np.ptp(f[:, 1])):
        centre = face[:, :2].mean(axis=0)
        if not any(_inside(centre, other) for other in kept):
            kept.append(face)
    return kept


def _inside(point: np.ndarray, face: np.ndarray) -> bool:
    low, high = face[:, :2].min(axis=0), face[:, :2].max(axis=0)
    return bool(np.all(point >= low) and np.all(point <= high))


def several_faces(name: str, count: int, width: float) -> str:
    """The one-line notice that a portrait holds several faces (the CLI's and the app's)."""
    return f"{name}: found {count} faces; using the largest ({width:.0f} px wide)"


def detect(image: np.ndarray, name: str = "image") -> Detection:
    """The largest face; warns when there are several and fails clearly when none, or
    when the largest is too small to animate."""
    faces = detect_all(image)
    if not faces:
        raise VasaError(f"{name}: no face found (try a clearer, frontal portrait)")
    points = faces[0]
    width = float(np.ptp(points[:, 0]))
    if width < MIN_FACE_PX:
        raise VasaError(
            f"{name}: the face is too small, {width:.0f} px wide; at least {MIN_FACE_PX} px "
            "are needed (a larger or closer portrait)"
        )
    if len(faces) > 1:
        warnings.warn(several_faces(name, len(faces), width), stacklevel=2)
    box = (
        float(points[:, 0].min()),
        float(points[:, 1].min()),
        float(points[:, 0].max()),
        float(points[:, 1].max()),
    )
    return Detection(landmarks=points, n_faces=len(faces), box=box)
