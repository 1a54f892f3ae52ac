"""How far the head moves on its neck, and how much of a pose is the camera's.

A mesh warp can move a face a little against a body that stays: the neck stretches or
folds over a few percent of the face's size and nobody sees it. Asked for more (head
distance 1.4, a shift of half a face), the face floats off the collar or drags a long
neck. A person who comes closer brings their shoulders with them, so the part of the
scale and shift that a neck cannot take becomes a camera move of the whole picture: a zoom
and a pan of head, body and background together, as a camera operator would make.

`split` divides each frame's scale and shift into the two. Small motions (the scale and
sway of natural talking) stay on the neck exactly, with the background still; beyond a
dead zone the camera takes over smoothly (the split is continuous with its slope), and the
neck's share stops growing at DEAD + RAMP / 2. Rotation is always the head's.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from vasa_core import schema
from vasa_core.device import on_device

# (dead zone, ramp) of log scale and of shift (face widths): inside the dead zone the
# camera does nothing; across the ramp it takes over; the neck keeps at most DEAD + RAMP/2
# (scale 0.94..1.06, a shift of 0.075 face widths).
SCALE_SPLIT = (0.04, 0.04)
SHIFT_SPLIT = (0.05, 0.05)

_SCALE, _TX, _TY = (schema.index(n) for n in ("scale", "tx", "ty"))


def _camera_share(x: np.ndarray, dead: float, ramp: float) -> np.ndarray:
    """The camera's part of a value: 0 in the dead zone, then a quadratic ramp into a
    slope of 1, so the neck's part x - share is smooth and bounded."""
    over = np.abs(x) - dead
    share = np.where(over < ramp, np.clip(over, 0, None) ** 2 / (2 * ramp), over - ramp / 2)
    return np.sign(x) * share


def split(motion: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A motion [T, DIM] as the head's motion on its neck and the camera [T, 3]: zoom and
    the pan (x right, y up) in face widths, such that the camera applied to the head's
    landmarks gives the landmarks of the motion asked for."""
    motion = np.atleast_2d(np.asarray(motion, dtype=np.float64))
    log_scale = np.log(motion[:, _SCALE])
    zoom = np.exp(_camera_share(log_scale, *SCALE_SPLIT))
    head = motion.copy()
    head[:, _SCALE] = motion[:, _SCALE] / zoom
    shift = motion[:, [_TX, _TY]]
    # The head's shift is zoomed with it, so the pan is what remains of the shift asked for.
    head_shift = shift - _camera_share(shift, *SHIFT_SPLIT)
    head[:, [_TX, _TY]] = head_shift
    pan = shift - zoom[:, None] * head_shift
    return head, np.column_stack([zoom, pan])


def is_still(camera: np.ndarray) -> bool:
    """Whether no frame of `camera` [T, 3] moves the picture (the common case)."""
    return bool(np.all(camera[:, 0] == 1) and np.all(camera[:, 1:] == 0))


def inverse_maps(camera: np.ndarray, centre: np.ndarray, face_width: float) -> np.ndarray:
    """Per frame, the affine map [T, 2, 3] from an output pixel to where it was before the
    camera moved: the camera zooms about `centre` (the head's origin, in output pixels) and
    pans by face widths of `face_width` pixels (y up, so image rows go the other way)."""
    zoom, pan_x, pan_y = np.asarray(camera, dtype=np.float64).T
    pan = np.column_stack([pan_x, -pan_y]) * face_width
    out = np.zeros((len(zoom), 2, 3))
    out[:, 0, 0] = out[:, 1, 1] = 1 / zoom
    out[:, :, 2] = centre[None, :2] * (1 - 1 / zoom)[:, None] - pan / zoom[:, None]
    return out


def move(canvas: torch.Tensor, margin: int, inverse: np.ndarray, shape: tuple[int, int]):
    """Frames [B, C, H, W] (H, W = `shape`) seen through the camera: bilinear lookups in
    `canvas` [B, C, H + 2 margin, W + 2 margin], the picture before the move with `margin`
    pixels more of the portrait around it, at the `inverse` maps [B, 2, 3]."""
    height, width = shape
    maps = torch.as_tensor(inverse, dtype=torch.float32, device=canvas.device)
    ys, xs = torch.meshgrid(
        torch.arange(height, device=canvas.device, dtype=torch.float32),
        torch.arange(width, device=canvas.device, dtype=torch.float32),
        indexing="ij",
    )
    pixels = torch.stack([xs, ys], dim=-1)  # [H, W, 2]
    seen = torch.einsum("bij,hwj->bhwi", maps[:, :, :2], pixels) + maps[:, None, None, :, 2]
    to_unit = tuple(2 / (side - 1) for side in canvas.shape[:1:-1])  # x, then y
    grid = (seen + margin) * on_device(to_unit, canvas.device) - 1
    return F.grid_sample(canvas, grid, mode="bilinear", padding_mode="border", align_corners=True)


def move_bytes(
    frame: np.ndarray, surround: np.ndarray, margin: int, inverse: np.ndarray
) -> np.ndarray:
    """`move` for one whole-portrait frame [H, W, 3] uint8 on the CPU, where a large
    picture's canvas in floats would not fit: `surround` is the portrait with `margin`
    pixels more around it, `inverse` one frame's map [2, 3]."""
    canvas = surround.copy()
    height, width = frame.shape[:2]
    canvas[margin : margin + height, margin : margin + width] = frame
    to_canvas = inverse.copy()
    to_canvas[:, 2] += margin
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    return cv2.warpAffine(
        canvas, to_canvas, (width, height), flags=flags, borderMode=cv2.BORDER_REPLICATE
    )
