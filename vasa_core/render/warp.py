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

from vasa_core.face import topology as top
from vasa_core.face.rig import smoothstep
from vasa_core.render.raster import rasterize

TRIANGLES = np.vstack([top.mesh_triangles(), top.eye_triangles()])
FALLOFF = 0.8  # face widths beyond the face outline where the warp fades to zero
FALLOFF_NECK = 0.35  # the same below the chin
COARSE = 64  # side of the grid the outside field is computed on
_SUBPIXEL = 4  # OpenCV fixed-point bits: 1/16 px vertex precision


@dataclass
class WarpFrame:
    """One output frame's sampling grid plus the masks the later stages need."""

    grid: torch.Tensor  # [B, H, W, 2] source coordinates in grid_sample units
    mouth: torch.Tensor  # [B, H, W] 1 inside the target mouth opening (feathered)


class MeshWarp:
    def __init__(self, source: np.ndarray, size: tuple[int, int], face_width: float, device):
        """`source`: [478, 2] landmarks in output pixels; `face_width` in pixels."""
        self.height, self.width = size
        self.device = device
        self.source = torch.as_tensor(source[:, :2], dtype=torch.float32, device=device)
        self.face_width = face_width
        # Which way round each triangle is when it faces the camera: from the frontal
        # template (canonical y is up, image y is down), not from the portrait, whose
        # silhouette triangles are often edge-on or folded.
        from vasa_core.face.rig import load_rig

        frontal = load_rig().neutral[:, :2] * np.array([1.0, -1.0])
        self.winding = torch.as_tensor(
            np.sign(_signed_area(frontal[TRIANGLES])), dtype=torch.float32, device=device
        )
        ys, xs = torch.meshgrid(
            torch.arange(self.height, dtype=torch.float32, device=device),
            torch.arange(self.width, dtype=torch.float32, device=device),
            indexing="ij",
        )
        self.pixels = torch.stack([xs, ys], dim=-1)  # [H, W, 2]
        # Pixels to grid_sample's [-1, 1] units (align_corners=True).
        self.to_unit = torch.tensor([2 / (self.width - 1), 2 / (self.height - 1)], device=device)
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
        """Normalised source coordinates [B, H, W, 2] of the smooth field outside the face."""
        oval = motion[:, list(top.FACE_OVAL)]  # [B, 36, 2]
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
        return full.permute(0, 2, 3, 1).contiguous()

    # ------------------------------------------------------------ the face itself

    def _triangles_seen(self, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The covered pixels (flat indices into [B, H, W]) and the triangle seen at each."""
        corners = target[:, TRIANGLES, :2]  # [B, T, 3, 2]
        # A triangle whose winding flipped has turned away from the camera (the far cheek in
        # a head turn), and a collapsed one (a closed eye) has no inside: draw neither. Where
        # the rest overlap, the nearer wins.
        visible = _signed_area(corners) * self.winding > 0.05
        far_first = torch.argsort(target[:, TRIANGLES, 2].mean(dim=-1), dim=1, descending=True)
        rank = torch.empty_like(far_first)
        rank.scatter_(
            1, far_first, torch.arange(len(TRIANGLES), device=self.device).expand_as(rank)
        )
        priority = torch.where(visible, rank, -1)
        return rasterize(corners, priority, self.height, self.width)

    def _mouth_opening(self, target: np.ndarray) -> np.ndarray:
        """The opening between the inner lips, anti-aliased, [B, H, W] uint8."""
        mouth = np.zeros((len(target), self.height, self.width), np.uint8)
        for frame, mask in zip(target, mouth, strict=True):
            ring = np.round(frame[MOUTH_RING, :2] * (1 << _SUBPIXEL)).astype(np.int32)
            cv2.fillPoly(mask, [ring], 255, lineType=cv2.LINE_AA, shift=_SUBPIXEL)
        return mouth

    def _affine(self, target: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
        """Per triangle, the 3x2 map from target pixel [x, y, 1] to source pixel."""
        tri = torch.as_tensor(TRIANGLES, device=self.device)
        t = target[:, tri]  # [B, T, 3, 2]
        s = source[:, tri]
        ones = torch.ones(*t.shape[:-1], 1, device=self.device)
        homogeneous = torch.cat([t, ones], dim=-1)  # [B, T, 3, 3]
        det = torch.linalg.det(homogeneous)
        tiny = (det.abs() < 1e-3)[..., None, None]  # collapsed: never rasterised, keep solvable
        homogeneous = homogeneous + tiny * 1e-2 * torch.eye(3, device=self.device)
        return torch.linalg.solve(homogeneous, s)  # rows: x, y, 1 -> source (x, y)

    def __call__(self, target: np.ndarray, lookup: torch.Tensor | None = None) -> WarpFrame:
        """Sampling grids for target landmarks [B, 478, 3] (output pixels, z = depth).

        `lookup` [B, 478, 2], if given, moves where the landmarks take their texture
        from in the portrait (a closing lid takes skin from above the lashes; eyes.py).
        """
        target_t = torch.as_tensor(target, dtype=torch.float32, device=self.device)
        pixel, triangle = self._triangles_seen(target_t)
        mouth = torch.from_numpy(self._mouth_opening(target)).to(self.device)
        target_t = target_t[..., :2]
        grid = self._outside(target_t - self.source[None])
        source = self.source[None].expand_as(target_t) if lookup is None else lookup
        # solve() leaves its result column-major; rows must be contiguous to gather fast.
        affine = self._affine(target_t, source).reshape(-1, 6).contiguous()  # [B * T, 6]
        frame, at = pixel // (self.height * self.width), pixel % (self.height * self.width)
        y, x = (at // self.width).float(), (at % self.width).float()
        maps = affine.index_select(0, frame * len(TRIANGLES) + triangle)
        mapped = x[:, None] * maps[:, 0:2] + y[:, None] * maps[:, 2:4] + maps[:, 4:6]
        grid.view(-1, 2).index_copy_(0, pixel, mapped * self.to_unit - 1)
        return WarpFrame(grid=grid, mouth=mouth.float() / 255.0)


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
    unit = torch.tensor([2 / (width - 1), 2 / (height - 1)], device=points.device)
    return sample(image[None], (points * unit - 1)[None, None])[0, :, 0]
