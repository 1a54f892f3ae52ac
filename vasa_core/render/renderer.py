"""Stage 4: motion to pixels. `Renderer(latents).render(motion)` gives the video frames.

For each frame: the face latents decode the motion into target landmarks; the mesh warp
turns them into a sampling grid over the portrait (warp.py); gaze shifts the irises
(eyes.py); one bilinear lookup makes the frame; the mouth opening is painted (mouth.py)
and lids drawn where they close (lids.py). Output is a square crop around the head at 256
or 512 px (fast), or the whole portrait at its own resolution with the crop pasted back
(the background stays exactly still: the warp is zero at the crop's border). Scale and
shift beyond what a neck can take are a camera move of the whole picture (camera.py),
made last from a margin of the portrait kept around the crop.

On the device. A batch's motion is prepared on the host (its clipping, the camera's share,
the skull's and jaw's motions: a few numbers a frame), sent once, decoded into landmarks
on the device (the rig's formulas in torch), and its frames come back once at the end; in
between, on a GPU, nothing waits for the host (raster.py's `exact_sizes`).
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Iterator

import cv2
import numpy as np
import torch

from vasa_core import schema
from vasa_core.device import pick_device
from vasa_core.errors import VasaError
from vasa_core.face import rig
from vasa_core.face.latents import FaceLatents
from vasa_core.face.pose import view_to_pixels
from vasa_core.render import camera
from vasa_core.render.crop import head_crop, head_region
from vasa_core.render.eyes import Eyes, lids_follow_gaze
from vasa_core.render.lids import Lids
from vasa_core.render.mouth import Mouth, Seal, anatomy
from vasa_core.render.style import is_drawing
from vasa_core.render.warp import MeshWarp, sample

SIZES = (256, 512)
MARGIN = 0.35  # of the crop side: the portrait kept around it for the camera to show
# Frames rendered at once when the caller does not say: on a GPU many (its cost is per
# batch, not per frame); on the CPU a few, which is as fast and shows the first ones early.
# A live session renders one at a time (live.py).
DEFAULT_BATCH = {"cpu": 8, "cuda": 32}
# Freed blocks below this many bytes stay with the process for reuse (`keep_freed_memory`).
KEEP_BELOW = 256 << 20


class Renderer:
    def __init__(
        self,
        latents: FaceLatents,
        size: int | None = 512,
        device: str | torch.device | None = None,
        batch: int | None = None,
    ):
        """`batch`: frames rendered at once when `render` or `stream` is not told
        (default: DEFAULT_BATCH for the device)."""
        if size is not None and size not in SIZES:
            raise VasaError(f"output size {size} is not one of {SIZES} (or the full portrait)")
        whole = isinstance(batch, int) and not isinstance(batch, bool)
        if batch is not None and (not whole or batch < 1):
            raise VasaError(f"render batch {batch!r} must be a whole number of frames, 1 or more")
        self.latents = latents
        self.reach = schema.reach(latents.motion)  # the poses this picture can show
        self.size = size
        self.device = pick_device(device)
        self.batch = batch or DEFAULT_BATCH.get(self.device.type, 8)
        if self.device.type == "cpu":
            keep_freed_memory()
        image = latents.image
        left, top, side = head_region(latents.box, image.shape[:2])
        if size is None:  # native resolution: the part of the crop inside the picture
            left, top = max(0, left), max(0, top)
            right, bottom = min(image.shape[1], left + side), min(image.shape[0], top + side)
            self.region = (left, top, right, bottom)
            crop = image[top:bottom, left:right]
            self.scale = 1.0
            # The camera moves the whole portrait here: its margin is kept as bytes, since
            # a large picture's margin in floats would take gigabytes.
            height, width = image.shape[:2]
            whole = max(height, width)
            self.margin = int(round(MARGIN * whole))
            surround = head_crop(image, 0, 0, whole, whole, self.margin)
            self.whole_surround = surround[: height + 2 * self.margin, : width + 2 * self.margin]
        else:
            self.margin = int(round(MARGIN * size))
            surround = head_crop(image, left, top, side, size, self.margin)
            crop = surround[self.margin : self.margin + size, self.margin : self.margin + size]
            self.region = (left, top, left + side, top + side)
            self.scale = size / side
        self.origin = np.array([self.region[0], self.region[1]], dtype=np.float64)
        # The rig on the device, in NumPy's precision (a face's landmarks are few numbers).
        rig_tensor = {"dtype": torch.float64, "device": self.device}
        self.rig_identity = torch.as_tensor(latents.identity, **rig_tensor)
        self.rig_basis = torch.as_tensor(rig.basis_for(latents.identity), **rig_tensor)
        self.seal = Seal(latents.identity, latents.motion, self.device)
        self.origin_t = torch.as_tensor(self.origin, **rig_tensor)
        self.crop_shape = crop.shape[:2]
        source = self._to_crop(latents.landmarks[None])[0]
        self.face_width = latents.anchor.scale * self.scale
        self.image = _tensor(crop, self.device)
        if size is not None:
            self.surround = _tensor(surround, self.device)  # what the camera can show
        self.centre = self._to_crop(view_to_pixels(latents.anchor.offset)[None])[0]
        source_t = torch.as_tensor(source[:, :2], dtype=torch.float32, device=self.device)
        self.warp = MeshWarp(source, self.crop_shape, self.face_width, self.device)
        self.drawing = is_drawing(self.image, source_t)
        self.mouth = Mouth(self.image, source_t, self.face_width, self.drawing)
        self.eyes = Eyes(self.image, source_t, self.drawing)
        self.lids = Lids(self.image, source_t, self.drawing, self.eyes.irises)

    @property
    def frame_shape(self) -> tuple[int, int]:
        return self.crop_shape if self.size is not None else self.latents.image.shape[:2]

    def _to_crop(self, points: np.ndarray) -> np.ndarray:
        """Portrait pixels to output pixels (x, y and the depth z alike)."""
        out = np.array(points, dtype=np.float64)
        out[..., :2] -= self.origin
        return out * self.scale

    def to_portrait(self, points: np.ndarray) -> np.ndarray:
        """Output pixels back to portrait pixels (the inverse of `_to_crop`)."""
        out = np.array(points, dtype=np.float64) / self.scale
        out[..., :2] += self.origin
        return out

    def landmarks(self, motion: np.ndarray) -> np.ndarray:
        """Target landmarks [T, 478, 3] in output pixels for a motion [T, DIM], with the
        lids after the gaze (eyes.py)."""
        motion = lids_follow_gaze(schema.check(np.atleast_2d(motion)), self.latents.motion)
        motion = torch.as_tensor(motion, dtype=torch.float64, device=self.device)
        return self._decode(motion, self.seal(motion)).cpu().numpy()

    def _decode(self, motion: torch.Tensor, seal: torch.Tensor) -> torch.Tensor:
        """Landmarks [T, 478, 3] in output pixels (float64, on the device) of a motion
        [T, DIM] already there: the rig's decoding, then `_to_crop`, as the NumPy path does
        them (landmarks rounded to float32 in between), so frames match it. `seal` [T]:
        how far each frame closes the identity's own lip gap (mouth.lip_seal)."""
        pose, dynamics = motion[:, schema.POSE], motion[:, schema.DYNAMICS]
        face = self.latents
        identity = self.rig_identity
        if self.seal.offsets is not None:
            identity = identity + seal[:, None, None].to(identity.dtype) * self.seal.offsets
        points = rig.decode(identity, pose, dynamics, face.anchor, self.rig_basis)
        points = points.double()
        shifted = torch.cat([points[..., :2] - self.origin_t, points[..., 2:]], dim=-1)
        return shifted * self.scale

    def _render_batch(self, motion: np.ndarray, out: np.ndarray) -> None:
        """Render a few frames into `out` [B, H, W, 3] uint8 (the output frames' shape);
        again, with more room, where the rasteriser's fixed lists were too short (off the
        CPU: raster.Capacity, checked once the frames are back)."""
        self._draw_batch(motion, out)
        while self.warp.capacity.grow():
            self._draw_batch(motion, out)

    @torch.inference_mode()
    def _draw_batch(self, motion: np.ndarray, out: np.ndarray) -> None:
        """`_render_batch`, once."""
        motion = np.clip(schema.check(np.atleast_2d(motion)), *self.reach)
        head, view = camera.split(motion)
        count = len(head)
        own = self.latents.motion
        drawn = [lids_follow_gaze(m, own) for m in (head, *anatomy(head, own))]
        still = camera.is_still(view)
        # What the device needs from the host, sent at the batch's start, when the last
        # batch's frames have just come back and its queue is empty: nothing waits.
        motions = torch.as_tensor(np.concatenate(drawn), dtype=torch.float64, device=self.device)
        # Only the face closes its lips' own gap; the skull and jaw carry the teeth.
        seal = self.seal(motions)
        seal[count:].zero_()
        decoded = self._decode(motions, seal)
        if not still and self.size is not None:
            maps = camera.inverse_maps(view, self.centre, self.face_width)
            maps = torch.as_tensor(maps, dtype=torch.float32, device=self.device)
        target, skull, jaw = decoded.split(count)
        target_t = target[..., :2].float()
        closure = self.eyes.closure(target_t)
        lookup = self.mouth.lookup(self.eyes.lookup(closure), seal[:count].float())
        warped = self.warp(target, lookup=lookup)
        frames = sample(self.image[None].expand(count, -1, -1, -1), warped.grid)
        skull_t, jaw_t = skull[..., :2].float(), jaw[..., :2].float()
        self.mouth.paint(frames, target_t, skull_t, jaw_t, warped.mouth_pixels)
        self.eyes.paint(frames, target_t, warped.grid)
        self.lids.paint(frames, target_t, closure)
        if not still and self.size is not None:
            canvas = self.surround[None].repeat(len(frames), 1, 1, 1)
            m = self.margin
            canvas[:, :, m:-m, m:-m] = frames
            frames = camera.move(canvas, m, maps, self.frame_shape)
        if self.size is None:
            left, top, right, bottom = self.region
            out[:] = self.latents.image
            to_bytes(frames, out[:, top:bottom, left:right])
            if not still:
                maps = camera.inverse_maps(view, self.centre[:2] + self.origin, self.face_width)
                for frame, inverse in zip(out, maps, strict=True):
                    frame[:] = camera.move_bytes(frame, self.whole_surround, self.margin, inverse)
        else:
            to_bytes(frames, out)  # the batch's one wait: its frames

    def stream(self, motion: np.ndarray, batch: int | None = None) -> Iterator[np.ndarray]:
        """Frames [H, W, 3] uint8 one at a time, rendered `batch` at a time (default: the
        renderer's own)."""
        motion = np.atleast_2d(motion)
        batch = batch or self.batch
        for start in range(0, len(motion), batch):
            chunk = motion[start : start + batch]
            out = np.empty((len(chunk), *self.frame_shape, 3), np.uint8)
            self._render_batch(chunk, out)
            yield from out

    def render(self, motion: np.ndarray, batch: int | None = None) -> np.ndarray:
        """All frames [T, H, W, 3] uint8 of a motion [T, DIM] (or one frame for [DIM]),
        `batch` at a time (default: the renderer's own)."""
        motion = np.atleast_2d(motion)
        batch = batch or self.batch
        out = np.empty((len(motion), *self.frame_shape, 3), np.uint8)
        for start in range(0, len(motion), batch):
            self._render_batch(motion[start : start + batch], out[start : start + batch])
        return out


@functools.cache
def keep_freed_memory() -> None:
    """Have the C allocator keep the memory a batch frees, for the next batch to reuse.

    glibc's malloc hands a freed block of more than a few MB back to the system (and trims
    its heap's free top), so every batch's frames, grids and pixel lists on the CPU were
    mapped afresh and their pages faulted in again, zeroed by the kernel: ~2000 page faults
    a frame at 512 px, a quarter of the frame's time. Once, for the whole process: it then
    holds on to what it freed (up to its peak, which rendering reaches every batch anyway).
    Nothing changes where the C library is not glibc."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError, TypeError):  # not glibc (or not a Unix)
        return
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's <malloc.h>
    mallopt(m_mmap_threshold, KEEP_BELOW)  # blocks this small come from the heap...
    mallopt(m_trim_threshold, 2 * KEEP_BELOW)  # ...which keeps this much free at its top


def to_bytes(frames: torch.Tensor, out: np.ndarray) -> None:
    """Frames [B, 3, H, W] in 0..1 (scaled in place) as bytes into `out` [B, H, W, 3], a
    view of the caller's array. On the CPU, NumPy's cast to bytes and OpenCV's interleave
    of the three planes take three quarters of the time of torch's cast and permuted copy
    (whose inner loop runs over 3 channels), a third on a busy core; they truncate alike,
    so the bytes match."""
    levels = frames.mul_(255).add_(0.5).clamp_(0, 255)
    if levels.device.type != "cpu":
        torch.from_numpy(out).copy_(levels.to(torch.uint8).permute(0, 2, 3, 1))
        return
    planes = levels.numpy().astype(np.uint8)
    for frame, (red, green, blue) in zip(out, planes, strict=True):
        cv2.merge((red, green, blue), dst=frame)  # writes into `frame`, even a strided view


def _tensor(image: np.ndarray, device) -> torch.Tensor:
    """An image [H, W, 3] uint8 as [3, H, W] floats in 0..1 on `device`."""
    return torch.as_tensor(np.array(image), device=device).permute(2, 0, 1).float() / 255
