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
        to_pixels = torch.tensor([(self.width - 1) / 2, (self.height - 1) / 2], device=grid.device)
        for b, points in enumerate(target):
            for eye, (corners, upper, lower, iris) in enumerate(EYES):
                self._iris(frames[b], points, grid[b], to_pixels, eye, corners, upper, lower, iris)
                if float(closure[b, eye]) > 0.3:
                    self._lashes(frames[b], points, corners, upper, float(closure[b, eye]))
        return frames

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

    def _iris(self, frame, points, grid, to_pixels, eye, corners, upper, lower, iris) -> None:
        box = self._box(points, corners)
        if box is None:
            return
        rows, cols, width = box
        src_c, tgt_c = self.source[list(corners)], points[list(corners)]
        src_axis, tgt_axis = src_c[1] - src_c[0], tgt_c[1] - tgt_c[0]
        ratio = torch.linalg.norm(tgt_axis) / torch.linalg.norm(src_axis).clamp(min=1e-3)
        angle = torch.atan2(tgt_axis[1], tgt_axis[0]) - torch.atan2(src_axis[1], src_axis[0])
        c, s = torch.cos(angle), torch.sin(angle)
        back = torch.stack([c, s, -s, c]).reshape(2, 2)  # target offsets -> portrait offsets
        rigid = tgt_c.mean(0) + ratio * (back.T @ (self.source[iris[0]] - src_c.mean(0)))
        if float(torch.linalg.norm(points[iris[0]] - rigid)) < 0.25:
            return  # the warp already shows the iris where it belongs
        # The eye opening at the target, anti-aliased, in this small box.
        opening = np.zeros((rows.stop - rows.start, cols.stop - cols.start), np.uint8)
        outline = points[_contour(corners, upper, lower)].cpu().numpy()
        shift = np.array([cols.start, rows.start])
        cv2.fillPoly(
            opening,
            [np.round((outline - shift) * 16).astype(np.int32)],
            255,
            lineType=cv2.LINE_AA,
            shift=4,
        )
        ys, xs = np.nonzero(opening)
        if len(ys) == 0:
            return
        ys_t = torch.as_tensor(ys + rows.start, device=frame.device)
        xs_t = torch.as_tensor(xs + cols.start, device=frame.device)
        inside = torch.as_tensor(opening[ys, xs], device=frame.device).float() / 255
        q = torch.stack([xs_t, ys_t], dim=-1).float()
        radius_src = self.iris_radius[eye]
        radius = radius_src * ratio
        # The iris disc at its new place, looked up rigidly in the portrait's iris.
        offset = q - points[iris[0]]
        iris_weight = smoothstep((radius - torch.linalg.norm(offset, dim=-1)) / 1.5 + 0.5)
        iris_colour = sample_pixels(self.image, self.source[iris[0]] + (offset @ back.T) / ratio)
        # Where the warp would still show the old iris, the white of the eye instead.
        seen = (grid[ys_t, xs_t] + 1) * to_pixels
        old = smoothstep(
            (1.25 * radius_src - torch.linalg.norm(seen - self.source[iris[0]], dim=-1)) / 1.5 + 0.5
        )
        sclera_weight = old * (1 - iris_weight)
        sclera = self._white_across(seen, eye, iris[0], radius_src)
        here = frame[:, ys_t, xs_t]
        painted = here * (1 - sclera_weight) + sclera * sclera_weight
        painted = painted * (1 - iris_weight) + iris_colour * iris_weight
        frame[:, ys_t, xs_t] = here * (1 - inside) + painted * inside

    def _white_across(self, seen: torch.Tensor, eye: int, centre: int, radius) -> torch.Tensor:
        """The white of the eye where the old iris was: on each row, blended between the
        portrait's sclera just left and just right of the iris, so its shading carries on."""
        c = self.source[centre]
        reach = 1.4 * radius
        left = torch.stack([c[0] - reach + 0 * seen[:, 0], seen[:, 1]], dim=-1)
        right = torch.stack([c[0] + reach + 0 * seen[:, 0], seen[:, 1]], dim=-1)
        t = ((seen[:, 0] - left[:, 0]) / (2 * reach)).clamp(0, 1)
        across = sample_pixels(self.image, left) * (1 - t) + sample_pixels(self.image, right) * t
        # Rows above or below the eye would pick up lid or lashes: keep them no darker
        # than the eye's own white.
        return torch.maximum(across, 0.85 * self.sclera[eye][:, None])

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
