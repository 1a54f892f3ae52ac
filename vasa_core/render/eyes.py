"""Eyes: a darker lash line where a closing lid comes down, and gaze that moves the iris.

The mesh warp already brings the upper lid's skin down over the eye in a blink. Here we
add the lash line along the moving lid margin, and, for gaze, a shift of the source
lookup inside the eye opening around the iris, fading to nothing at the lids so the lids
stay where the motion puts them.
"""

from __future__ import annotations

import torch

from vasa_core.face import topology as top

IRIS_DISC = 0.24  # eye widths from the iris centre that move rigidly with it
EYES = (
    (top.RIGHT_EYE_CORNERS, top.RIGHT_UPPER_LID, top.RIGHT_LOWER_LID, top.RIGHT_IRIS[0]),
    (top.LEFT_EYE_CORNERS, top.LEFT_UPPER_LID, top.LEFT_LOWER_LID, top.LEFT_IRIS[0]),
)


def _polyline(corners, lid) -> list[int]:
    return [corners[0], *lid, corners[1]]


def _distance_to_polyline(q: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Distance of pixels q [N, 2] to the polyline through points [K, 2]."""
    a, b = points[:-1], points[1:]
    ab = b - a
    t = ((q[:, None] - a[None]) * ab[None]).sum(-1) / (ab * ab).sum(-1).clamp(min=1e-6)
    closest = a[None] + t.clamp(0, 1)[..., None] * ab[None]
    return torch.linalg.norm(q[:, None] - closest, dim=-1).min(dim=1).values


def _openness(points: torch.Tensor, upper, lower) -> torch.Tensor:
    return (points[list(lower), 1] - points[list(upper), 1]).mean()


class Eyes:
    def __init__(self, source: torch.Tensor, size: tuple[int, int]):
        self.source = source
        self.height, self.width = size
        self.rest = [_openness(source, up, low).clamp(min=1e-3) for _, up, low, _ in EYES]
        ys, xs = torch.meshgrid(
            torch.arange(self.height, device=source.device),
            torch.arange(self.width, device=source.device),
            indexing="ij",
        )
        self.pixels = torch.stack([xs, ys], dim=-1).float()

    def _region(self, target: torch.Tensor, corners) -> tuple[slice, slice, float]:
        width = float(torch.linalg.norm(target[corners[0]] - target[corners[1]]))
        centre = target[list(corners)].mean(dim=0)
        r = 0.8 * width
        x0, x1 = int(max(0, centre[0] - r)), int(min(self.width, centre[0] + r + 1))
        y0, y1 = int(max(0, centre[1] - r)), int(min(self.height, centre[1] + r + 1))
        return slice(y0, y1), slice(x0, x1), width

    def iris_shift(self, target: torch.Tensor):
        """For a batch of target landmarks [B, 478, 2], a function (batch, pixels [N, 2]) ->
        source offsets [N, 2] that carry each iris to its target place inside the eye."""
        moves = []  # (batch, iris position, eye width, offset in portrait pixels, lids)
        for b, points in enumerate(target):
            for corners, upper, lower, iris in EYES:
                src_c, tgt_c = self.source[list(corners)], points[list(corners)]
                src_axis, tgt_axis = src_c[1] - src_c[0], tgt_c[1] - tgt_c[0]
                width = torch.linalg.norm(tgt_axis)
                ratio = width / torch.linalg.norm(src_axis).clamp(min=1e-3)
                angle = torch.atan2(tgt_axis[1], tgt_axis[0]) - torch.atan2(
                    src_axis[1], src_axis[0]
                )
                c, s = torch.cos(angle), torch.sin(angle)
                rot = torch.stack([c, -s, s, c]).reshape(2, 2)
                # Where the portrait's iris would sit if it moved rigidly with the corners.
                rigid = tgt_c.mean(0) + ratio * (rot @ (self.source[iris] - src_c.mean(0)))
                delta = points[iris] - rigid
                if float(torch.linalg.norm(delta)) >= 0.05 and float(width) >= 2:
                    lids = (points[_polyline(corners, upper)], points[_polyline(corners, lower)])
                    moves.append((b, points[iris], width, (rot.T @ delta) / ratio, lids))

        def shift(batch: torch.Tensor, pixels: torch.Tensor) -> torch.Tensor:
            out = torch.zeros_like(pixels)
            for b, centre, width, back, (upper, lower) in moves:
                near = (batch == b) & (torch.linalg.norm(pixels - centre, dim=-1) < 0.55 * width)
                q = pixels[near]
                # The whole iris moves as one disc; the white of the eye around it
                # stretches, and nothing moves at the lids.
                reach = torch.linalg.norm(q - centre, dim=-1) / width
                radial = torch.clamp((0.55 - reach) / (0.55 - IRIS_DISC), 0, 1)
                lids = torch.minimum(
                    _distance_to_polyline(q, upper), _distance_to_polyline(q, lower)
                )
                near_lid = torch.clamp(lids / (0.06 * width), 0, 1)
                weight = radial * radial * (3 - 2 * radial) * near_lid
                out[near] += weight[:, None] * back
            return out

        return shift

    def lash_lines(self, frames: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Darken the upper lid margin as the eye closes; frames [B, 3, H, W] in place."""
        for b, points in enumerate(target):
            for eye, (corners, upper, lower, _) in enumerate(EYES):
                closure = 1 - _openness(points, upper, lower) / self.rest[eye]
                strength = float(torch.clamp((closure - 0.3) / 0.6, 0, 1))
                if strength <= 0:
                    continue
                rows, cols, width = self._region(points, corners)
                q = self.pixels[rows, cols].reshape(-1, 2)
                d = _distance_to_polyline(q, points[_polyline(corners, upper)])
                line = torch.exp(-((d / (0.045 * width)) ** 2)) * strength
                patch = frames[b, :, rows, cols]
                frames[b, :, rows, cols] = patch * (1 - 0.55 * line.reshape(patch.shape[1:]))
        return frames
