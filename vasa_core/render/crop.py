"""The square around the head that the renderer works in, and what fills it past the
portrait's edges.

The crop is 2.4 face boxes wide, room for hair, ears and neck to follow the head. Where the
portrait is big enough it is slid inside the picture, so every pixel is the portrait's own
(the face then sits a little off centre, as in many photos). Where the picture is smaller
than the crop, the missing part continues the colours at the picture's edge, blurred wide
along it: an out-of-focus continuation of the background, never rows repeated into streaks
(nor a mirror, which folds hair cut by the edge into a second crown). A margin around the
crop gives the camera (camera.py) something to show when it zooms out or pans.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

CROP = 2.4  # crop side in face-box sizes
BLUR = 0.05  # of the crop side: how wide the continuation is blurred along the edge
FADE = 0.03  # of the crop side: how far past the edge the blur takes over


def head_region(box: tuple[float, float, float, float], shape: tuple[int, int]) -> tuple:
    """(left, top, side) in portrait pixels of the crop around a face box."""
    x0, y0, x1, y1 = box
    side = CROP * max(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 - 0.08 * (y1 - y0)
    left, top = int(round(cx - side / 2)), int(round(cy - side / 2))
    side = int(round(side))
    height, width = shape
    return _inside(left, side, width), _inside(top, side, height), side


def _inside(start: int, side: int, limit: int) -> int:
    """Slide a span of `side` to lie within 0..limit if it fits; else keep it centred where
    it was (both ends then need filling)."""
    return min(max(start, 0), limit - side) if side <= limit else start


def head_crop(
    image: np.ndarray, left: int, top: int, side: int, size: int, margin: int = 0
) -> np.ndarray:
    """The crop [size, size, 3], filled past the picture's edges by a blurred continuation;
    with `margin` > 0, that many output pixels more of the surroundings on every side
    ([size + 2 margin] square), at the same scale."""
    height, width = image.shape[:2]
    around = margin * side / size  # the margin in portrait pixels
    pad = int(np.ceil(max(0, -left, -top, left + side - width, top + side - height) + around))
    if pad:
        image = _extended(image, pad, side)
    x0, y0 = left + pad - around, top + pad - around
    box = (x0, y0, x0 + side + 2 * around, y0 + side + 2 * around)
    out = size + 2 * margin
    return np.asarray(Image.fromarray(image).resize((out, out), Image.LANCZOS, box=box))


def _extended(image: np.ndarray, pad: int, side: int) -> np.ndarray:
    """The picture with `pad` pixels more on every side: its edge carried outwards and
    blurred, taking over from the sharp edge within a few pixels."""
    height, width = image.shape[:2]
    carried = np.pad(image, ((pad, pad), (pad, pad), (0, 0)), mode="edge")
    sigma = max(1.0, BLUR * side)
    blurred = cv2.GaussianBlur(carried, (0, 0), sigma)
    blurred = cv2.GaussianBlur(blurred, (0, 0), sigma)  # twice: wide and smooth, still fast
    ys, xs = np.arange(carried.shape[0]) - pad, np.arange(carried.shape[1]) - pad
    away_y = np.maximum(np.maximum(-ys, ys - (height - 1)), 0)[:, None]
    away_x = np.maximum(np.maximum(-xs, xs - (width - 1)), 0)[None, :]
    weight = np.clip(np.hypot(away_y, away_x) / max(FADE * side, 1.0), 0, 1)[..., None]
    out = carried * (1 - weight) + blurred * weight
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
