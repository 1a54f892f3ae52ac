"""Eyes: lids that close over the eye, and irises that look around inside it.

Blink. The rig brings the upper lid's landmarks down to the lower lid and the mesh warp
stretches the lid skin after them. Face Mesh puts the lid landmarks on the lash line, so
the skin just above them would drag lashes and eye down with it; as the eye closes, the
lid therefore takes its texture from higher up (`lookup`), and a darker lash line is drawn
along the closing margin.

Gaze. The iris is moved as a rigid disc to where the motion puts it, drawn only inside the
eye opening (so the lids cover it as they would), and where it used to be the white of the
eye is painted in its colour from the portrait. The lids do not move.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from vasa_core.face import topology as top
from vasa_core.face.rig import smoothstep
from vasa_core.render.raster import polygon_pixels
from vasa_core.render.warp import sample_pixels

EYES = (
    (top.RIGHT_EYE_CORNERS, top.RIGHT_UPPER_LID, top.RIGHT_LOWER_LID, top.RIGHT_IRIS),
    (top.LEFT_EYE_CORNERS, top.LEFT_UPPER_LID, top.LEFT_LOWER_LID, top.LEFT_IRIS),
)
LIFT = 0.6  # how far above the lash line (in eye heights) a closed lid takes its skin from


def _contour(corners, upper, lower) -> list[int]:
    return [corners[0], *upper, corners[1], *reversed(lower)]


def _distance_to_polyline(q: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Distance of pixels q [N, 2] to the polyline through points [K, 2]."""
    a, b = points[:-1], points[1:]
    ab = b - a
    t = ((q[:, None] - a[None]) * ab[None]).sum(-1) / (ab * ab).sum(-1).clamp(min=1e-6)
    closest = a[None] + t.clamp(0, 1)[..., None] * ab[None]
    return torch.linalg.norm(q[:, None] - closest, dim=-1).min(dim=1).values


class Eyes:
    def __init__(self, image: torch.Tensor, source: torch.Tensor):
        """`image` [3, H, W] in 0..1; `source` [478, 2] landmarks in its pixels."""
        self.image = image
        self.source = source
        self.height, self.width = image.shape[-2:]
        self.rest, self.iris_radius, self.sclera = [], [], []
        for corners, upper, lower, iris in EYES:
            gap = (source[list(lower), 1] - source[list(upper), 1]).mean().clamp(min=1e-3)
            self.rest.append(gap)
            ring = source[list(iris[1:])]
            self.iris_radius.append(torch.linalg.norm(ring - source[iris[0]], dim=-1).mean())
            self.sclera.append(self._sclera_colour(corners, upper, lower, iris))
        self.iris_radius = torch.stack(self.iris_radius)  # [2]
        self.sclera = torch.stack(self.sclera, dim=1)  # [3, 2]
        self.corner_ids = torch.tensor([e[0] for e in EYES], device=source.device)  # [2, 2]
        self.centre_ids = torch.tensor([e[3][0] for e in EYES], device=source.device)  # [2]

    def _sclera_colour(self, corners, upper, lower, iris) -> torch.Tensor:
        """The white of one eye in the portrait: a bright, low-saturation median."""
        outline = self.source[_contour(corners, upper, lower)].cpu().numpy()
        mask = np.zeros((self.height, self.width), np.uint8)
        cv2.fillPoly(mask, [np.round(outline).astype(np.int32)], 1)
        ys, xs = np.nonzero(mask)
        centre = self.source[iris[0]].cpu().numpy()
        radius = float(self.iris_radius[-1]) if self.iris_radius else 0.0
        keep = np.hypot(xs - centre[0], ys - centre[1]) > 1.3 * radius
        if keep.sum() >= 4:
            colours = self.image[:, torch.as_tensor(ys[keep]), torch.as_tensor(xs[keep])]
            return colours.median(dim=1).values
        return torch.tensor([0.85, 0.82, 0.80], device=self.image.device)

    def closure(self, target: torch.Tensor) -> torch.Tensor:
        """How closed each eye is, [B, 2] in 0..1, against the portrait's own eyes."""
        out = []
        for (_, upper, lower, _), rest in zip(EYES, self.rest, strict=True):
            gap = (target[:, list(lower), 1] - target[:, list(upper), 1]).mean(dim=1)
            out.append((1 - gap / rest).clamp(0, 1))
        return torch.stack(out, dim=1)

    def lookup(self, closure: torch.Tensor) -> torch.Tensor | None:
        """Where landmarks take their texture from, [B, 478, 2]; None when eyes are open."""
        if float(closure.max()) <= 0:
            return None
        lookup = self.source[None].repeat(len(closure), 1, 1)
        for eye, ((_, upper, _, _), rest) in enumerate(zip(EYES, self.rest, strict=True)):
            lookup[:, list(upper), 1] -= (LIFT * rest * closure[:, eye])[:, None]
        return lookup

    def paint(
        self, frames: torch.Tensor, target: torch.Tensor, grid: torch.Tensor, closure: torch.Tensor
    ) -> torch.Tensor:
        """Irises to their target places and lash lines on closing lids (in place)."""
        self._irises(frames, target, grid)
        for b, points in enumerate(target):
            for eye, (corners, upper, _, _) in enumerate(EYES):
                if float(closure[b, eye]) > 0.3:
                    self._lashes(frames[b], points, corners, upper, float(closure[b, eye]))
        return frames

    def _irises(self, frames: torch.Tensor, target: torch.Tensor, grid: torch.Tensor) -> None:
        """Every eye of every frame at once: the iris disc where the motion puts it."""
        # Each eye's rigid frame from its corners: the rotation and scale that take the
        # portrait's eye to the target's, and where its iris would be without gaze.
        src_c, tgt_c = self.source[self.corner_ids], target[:, self.corner_ids]  # [(B,) 2, 2, 2]
        src_axis, tgt_axis = src_c[:, 1] - src_c[:, 0], tgt_c[:, :, 1] - tgt_c[:, :, 0]
        width = torch.linalg.norm(tgt_axis, dim=-1)  # [B, 2]
        ratio = width / torch.linalg.norm(src_axis, dim=-1).clamp(min=1e-3)
        angle = torch.atan2(tgt_axis[..., 1], tgt_axis[..., 0]) - torch.atan2(
            src_axis[:, 1], src_axis[:, 0]
        )
        c, s = torch.cos(angle), torch.sin(angle)
        back = torch.stack([c, s, -s, c], dim=-1).reshape(*angle.shape, 2, 2)  # target->portrait
        iris_src = self.source[self.centre_ids]  # [2, 2]
        from_middle = (iris_src - src_c.mean(dim=1))[None].expand_as(tgt_axis)
        rigid = tgt_c.mean(dim=2) + ratio[..., None] * torch.einsum(
            "bekj,bek->bej", back, from_middle
        )
        centre = target[:, self.centre_ids]  # [B, 2, 2]
        # Where the warp already shows the iris where it belongs, nothing to do.
        moves = (torch.linalg.norm(centre - rigid, dim=-1) >= 0.25) & (width >= 3)
        if not bool(moves.any()):
            return
        # The openings of the eyes whose iris moves, pixel by pixel.
        moving = moves.nonzero()  # [M, 2]: frame, eye
        outlines = target.cpu().numpy()
        rings = np.stack([outlines[b, _contour(*EYES[eye][:3])] for b, eye in moving.tolist()])
        which, ys, xs, inside = polygon_pixels(rings, self.height, self.width, target.device)
        if len(ys) == 0:
            return
        frame, eye = moving[which, 0], moving[which, 1]
        q = torch.stack([xs, ys], dim=-1).float()
        pair = frame * 2 + eye  # index into [B * 2] per-eye values
        radius_src = self.iris_radius[eye]
        ratio = ratio.reshape(-1)[pair]
        offset = q - centre.reshape(-1, 2)[pair]
        iris_weight = smoothstep(
            (radius_src * ratio - torch.linalg.norm(offset, dim=-1)) / 1.5 + 0.5
        )
        looked_up = (
            iris_src[eye]
            + torch.einsum("nkj,nj->nk", back.reshape(-1, 2, 2)[pair], offset) / ratio[:, None]
        )
        # Where the warp would still show the old iris, the white of the eye instead.
        to_pixels = torch.tensor([(self.width - 1) / 2, (self.height - 1) / 2], device=grid.device)
        seen = (grid[frame, ys, xs] + 1) * to_pixels
        old = smoothstep(
            (1.25 * radius_src - torch.linalg.norm(seen - iris_src[eye], dim=-1)) / 1.5 + 0.5
        )
        sclera_weight = old * (1 - iris_weight)
        # The white across the old iris: on each row, blended between the portrait's
        # sclera just left and just right of it, so its shading carries on.
        reach = 1.4 * radius_src
        left = torch.stack([iris_src[eye, 0] - reach, seen[:, 1]], dim=-1)
        right = torch.stack([iris_src[eye, 0] + reach, seen[:, 1]], dim=-1)
        colours = sample_pixels(self.image, torch.cat([looked_up, left, right]))
        iris_colour, left_colour, right_colour = colours.split(len(q), dim=1)
        t = ((seen[:, 0] - left[:, 0]) / (2 * reach)).clamp(0, 1)
        # Rows above or below the eye would pick up lid or lashes: keep them no darker
        # than the eye's own white.
        sclera = torch.maximum(left_colour * (1 - t) + right_colour * t, 0.85 * self.sclera[:, eye])
        here = frames[frame, :, ys, xs].T  # [3, N]
        painted = here * (1 - sclera_weight) + sclera * sclera_weight
        painted = painted * (1 - iris_weight) + iris_colour * iris_weight
        frames[frame, :, ys, xs] = (here * (1 - inside) + painted * inside).T

    def _box(self, points: torch.Tensor, corners) -> tuple[slice, slice, float] | None:
        width = float(torch.linalg.norm(points[corners[0]] - points[corners[1]]))
        if width < 3:
            return None
        centre = points[list(corners)].mean(dim=0)
        reach = 0.75 * width
        x0, x1 = int(max(0, centre[0] - reach)), int(min(self.width, centre[0] + reach + 1))
        y0, y1 = int(max(0, centre[1] - reach)), int(min(self.height, centre[1] + reach + 1))
        if x1 <= x0 or y1 <= y0:
            return None
        return slice(y0, y1), slice(x0, x1), width

    def _lashes(self, frame, points, corners, upper, closure: float) -> None:
        box = self._box(points, corners)
        if box is None:
            return
        rows, cols, width = box
        ys, xs = torch.meshgrid(
            torch.arange(rows.start, rows.stop, device=frame.device),
            torch.arange(cols.start, cols.stop, device=frame.device),
            indexing="ij",
        )
        q = torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=-1).float()
        lid = points[[corners[0], *upper, corners[1]]]
        d = _distance_to_polyline(q, lid)
        strength = min(1.0, (closure - 0.3) / 0.6)
        line = torch.exp(-((d / (0.04 * width)) ** 2)) * strength
        patch = frame[:, rows, cols]
        frame[:, rows, cols] = patch * (1 - 0.6 * line.reshape(patch.shape[1:]))
