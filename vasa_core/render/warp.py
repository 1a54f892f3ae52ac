"""The dense backward warp: where each output pixel takes its colour from in the portrait.

Inside the face the warp is exact and piecewise affine: the Face Mesh triangles at the
target landmarks are rasterised (raster.py, one triangle index per pixel), and each pixel is
mapped back through its triangle's affine map to the source triangle. The mouth opening
has no triangles, so the lips can part (mouth.py fills the gap); the eye openings do, so
lids can close over them.

Outside the face, hair, ears and neck follow the face's outline with a falloff that
reaches zero 0.8 face widths away and at the image border, so the background and the
torso stay still. That smooth field is built and inverted on a coarse grid, then upsampled.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from vasa_core.curves import smoothstep
from vasa_core.device import index, on_device
from vasa_core.face import topology as top
from vasa_core.render.raster import Capacity, exact_sizes, polygon_pixels, rasterize

TRIANGLES = np.vstack([top.mesh_triangles(), top.eye_triangles()])
FALLOFF = 0.8  # face widths beyond the face outline where the warp fades to zero
FALLOFF_NECK = 0.7  # the same below the chin: neck and collar follow a nod together
COARSE = 64  # side of the grid the outside field is computed on


@dataclass
class WarpFrame:
    """One batch's sampling grids plus the mouth opening the later stages paint."""

    grid: torch.Tensor  # [B, H, W, 2] source coordinates in grid_sample units
    mouth_pixels: tuple[torch.Tensor, ...]  # the opening: (frame, y, x, coverage 0..1)

    @property
    def mouth(self) -> torch.Tensor:
        """The mouth opening as a mask [B, H, W] in 0..1, for looking at."""
        mask = torch.zeros(self.grid.shape[:3], device=self.grid.device)
        frame, y, x, coverage = self.mouth_pixels
        mask[frame, y, x] = coverage
        return mask


class MeshWarp:
    def __init__(self, source: np.ndarray, size: tuple[int, int], face_width: float, device):
        """`source`: [478, 2] landmarks in output pixels; `face_width` in pixels."""
        self.height, self.width = size
        self.device = device
        self.source = torch.as_tensor(source[:, :2], dtype=torch.float32, device=device)
        self.triangles = torch.as_tensor(TRIANGLES, device=device)
        self.face_width = face_width
        # Which way round each triangle is when it faces the camera: from the frontal
        # template (canonical y is up, image y is down), not from the portrait, whose
        # silhouette triangles are often edge-on or folded.
        from vasa_core.face.rig import load_rig

        frontal = load_rig().neutral[:, :2] * np.array([1.0, -1.0])
        self.winding = torch.as_tensor(
            np.sign(_signed_area(frontal[TRIANGLES])), dtype=torch.float32, device=device
        )
        # Pixels to grid_sample's [-1, 1] units (align_corners=True).
        self.to_unit = torch.tensor([2 / (self.width - 1), 2 / (self.height - 1)], device=device)
        self.oval = index(top.FACE_OVAL, device)
        self.capacity = Capacity()  # the rasteriser's room, off the CPU
        self.mouth_ring = index(MOUTH_RING, device)
        # Off the CPU the mouth is drawn in a box of a size fixed beforehand: twice the
        # portrait's mouth, corner to corner, holds it however wide, open or near it comes.
        corners = source[[top.LIPS_INNER_UPPER[0], top.LIPS_INNER_UPPER[-1]], :2]
        self.mouth_box = int(np.ceil(2 * np.linalg.norm(corners[1] - corners[0]))) + 8
        self._coarse_setup(source)

    # ------------------------------------------------------------ outside the face

    def _coarse_setup(self, source: np.ndarray) -> None:
        """Static weights: each coarse grid point's blend of the outline's motion."""
        gx = np.linspace(0, self.width - 1, COARSE)
        gy = np.linspace(0, self.height - 1, COARSE)
        grid = np.stack(np.meshgrid(gx, gy), axis=-1).reshape(-1, 2)
        outline = source[list(top.FACE_OVAL), :2]
        distance = np.linalg.norm(grid[:, None] - outline[None], axis=-1)  # [G*G, 36]
        kernel = np.exp(-0.5 * (distance / (0.12 * self.face_width)) ** 2) + 1e-12
        kernel /= kernel.sum(axis=1, keepdims=True)
        inside = cv2.pointPolygonTest
        contour = outline.astype(np.float32).reshape(-1, 1, 2)
        beyond = np.array([max(0.0, -inside(contour, (float(x), float(y)), True)) for x, y in grid])
        # Hair and ears follow the head a long way; below the chin the neck soon gives
        # way to the still torso, so the fade is shorter there.
        chin = source[top.CHIN, 1]
        below = smoothstep((grid[:, 1] - chin + 0.1 * self.face_width) / (0.3 * self.face_width))
        reach = (FALLOFF * (1 - below) + FALLOFF_NECK * below) * self.face_width
        fade = 1.0 - smoothstep(beyond / reach)
        margin = 0.04 * max(self.width, self.height)
        border = np.minimum.reduce(
            [grid[:, 0], grid[:, 1], self.width - 1 - grid[:, 0], self.height - 1 - grid[:, 1]]
        )
        fade *= smoothstep(border / margin)
        weights = kernel * fade[:, None]
        self.coarse_weights = torch.as_tensor(weights, dtype=torch.float32, device=self.device)

    def _outside(self, motion: torch.Tensor) -> torch.Tensor:
        """Normalised source coordinates of the smooth field outside the face, as x and y
        planes [B, 2, H, W]."""
        oval = motion[:, self.oval]  # [B, 36, 2]
        forward = torch.einsum("gj,bjc->bgc", self.coarse_weights, oval)
        forward = forward.reshape(-1, COARSE, COARSE, 2).permute(0, 3, 1, 2)  # [B, 2, G, G]
        lin = torch.linspace(-1, 1, COARSE, device=self.device)
        base = torch.stack(torch.meshgrid(lin, lin, indexing="xy"), dim=-1)[None]
        # Invert x = s + D(s) by fixed-point steps s <- x - D(s); D is smooth and gentle here.
        where = base.expand(len(motion), -1, -1, -1)
        for _ in range(4):
            step = F.grid_sample(forward, where, align_corners=True).permute(0, 2, 3, 1)
            where = base - step * self.to_unit
        # Bilinear upsampling of positions is exact where the field is linear, and the
        # field is smooth here; the face, where it is not, is computed exactly below.
        full = F.interpolate(
            where.permute(0, 3, 1, 2).contiguous(),  # channels-last input is 4x slower here
            size=(self.height, self.width),
            mode="bilinear",
            align_corners=True,
        )
        return full

    # ------------------------------------------------------------ the face itself

    def _triangles_seen(self, corners: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The covered pixels (frame, y, x) and the triangle seen at each (raster.py), for
        the triangles' corners [B, T, 3, 3] at the target (x, y in pixels, z = depth)."""
        # A triangle whose winding flipped has turned away from the camera (the far cheek in
        # a head turn), and a collapsed one (a closed eye) has no inside: draw neither. Where
        # the rest overlap, the nearer wins.
        visible = _signed_area(corners[..., :2]) * self.winding > 0.05
        depth = corners[..., 2].mean(dim=-1)
        nearness = (depth.amax(dim=1, keepdim=True) - depth) * 16  # 1/16 px steps
        priority = torch.where(visible, nearness.long(), -1)
        return rasterize(corners[..., :2], priority, self.height, self.width, self.capacity)

    def _affine(self, t: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
        """Per triangle, the affine map from target pixel to source pixel, [6, B * T]
        (coefficients first, so that each pixel's look-up reads contiguous rows):
        source = x * [0:2] + y * [2:4] + [4:6], for triangle corners `t` [B, T, 3, 2] at the
        target and landmarks `source` [B, 478, 2]. Closed form, as a 2x2 inverse is."""
        s = source[:, self.triangles]  # [B, T, 3, 2]
        t1, t2 = t[:, :, 1] - t[:, :, 0], t[:, :, 2] - t[:, :, 0]
        s1, s2 = s[:, :, 1] - s[:, :, 0], s[:, :, 2] - s[:, :, 0]
        det = 2 * _signed_area(t)
        # A collapsed triangle is never rasterised; keep its map finite.
        det = torch.where(det.abs() < 1e-6, torch.full_like(det, 1e-6), det)[..., None]
        along_x = (s1 * t2[..., 1:2] - s2 * t1[..., 1:2]) / det  # d source / dx
        along_y = (s2 * t1[..., 0:1] - s1 * t2[..., 0:1]) / det  # d source / dy
        offset = s[:, :, 0] - t[:, :, 0, 0:1] * along_x - t[:, :, 0, 1:2] * along_y
        return torch.cat([along_x, along_y, offset], dim=-1).reshape(-1, 6).T.contiguous()

    def __call__(
        self, target: np.ndarray | torch.Tensor, lookup: torch.Tensor | None = None
    ) -> WarpFrame:
        """Sampling grids for target landmarks [B, 478, 3] (output pixels, z = depth; an
        array, or a tensor on the device, the renderer's float64 ones).

        `lookup` [B, 478, 2], if given, moves where the landmarks take their texture
        from in the portrait (a closing lid takes skin from above the lashes; eyes.py).
        """
        target = torch.as_tensor(target, device=self.device)
        target_t = target.float()
        corners = target_t[:, self.triangles]  # [B, T, 3, 3]
        frame, y, x, triangle = self._triangles_seen(corners)
        ring = target[:, self.mouth_ring, :2]
        mouth = polygon_pixels(ring, self.height, self.width, self.device, self.mouth_box)
        target_t = target_t[..., :2]
        planes = self._outside(target_t - self.source[None])  # [B, 2, H, W]
        source = self.source[None].expand_as(target_t) if lookup is None else lookup
        affine = self._affine(corners[..., :2], source)
        maps = affine.index_select(1, frame * len(TRIANGLES) + triangle.clamp(min=0))
        # Source x and y as two rows [2, N], as the planes hold them: whole rows of floats
        # run at vector speed (pairs of columns, with x and y made floats on the way, took
        # 1.6x as long).
        mapped = x.float() * maps[0:2] + y.float() * maps[2:4] + maps[4:6]
        inside = mapped * self.to_unit[:, None] - 1
        if exact_sizes(self.device):  # the covered pixels only
            at = (frame * 2 * self.height + y) * self.width + x  # in the x plane
            flat = planes.view(-1)
            flat.index_copy_(0, at, inside[0])
            flat.index_copy_(0, at + self.height * self.width, inside[1])  # the y plane
        else:  # every pixel in order: the uncovered (triangle -1) keep the field outside
            covered = (triangle >= 0).view(len(planes), 1, self.height, self.width)
            inside = inside.view(2, len(planes), self.height, self.width).transpose(0, 1)
            planes = torch.where(covered, inside, planes)
        # grid_sample reads the planes as fast as (x, y) pairs: no copy into pairs needed.
        return WarpFrame(grid=planes.permute(0, 2, 3, 1), mouth_pixels=mouth)


MOUTH_RING = list(top.LIPS_INNER_UPPER) + list(reversed(top.LIPS_INNER_LOWER[1:-1]))


def _signed_area(points):
    """Signed areas of triangles [..., 3, 2] (arrays or tensors); the sign is the winding."""
    e1, e2 = points[..., 1, :] - points[..., 0, :], points[..., 2, :] - points[..., 0, :]
    return 0.5 * (e1[..., 0] * e2[..., 1] - e1[..., 1] * e2[..., 0])


def sample(image: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """Bilinear lookup of `image` [B, C, H, W] at grid_sample units `grid` [B, H', W', 2]."""
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=True)


def sample_pixels(image: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Bilinear colours [C, N] of `image` [C, H, W] at pixel points [N, 2]."""
    height, width = image.shape[-2:]
    unit = on_device((2 / (width - 1), 2 / (height - 1)), points.device)
    return sample(image[None], (points * unit - 1)[None, None])[0, :, 0]
