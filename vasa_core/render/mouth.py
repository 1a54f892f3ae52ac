"""The inside of the mouth, painted into the opening between the parted lips.

Everything is placed in a frame that moves with the mouth: u runs from one inner corner
to the other (0..1), t from the upper inner lip (0) to the lower one (1). A smooth motion
of the lips gives a smooth motion of everything inside, so nothing flickers.

If the portrait's mouth is open, its own interior is reused: the band under the upper lip
(upper teeth) stays with the upper lip, the band over the lower lip (lower teeth) with the
lower lip, and a wider opening stretches only the dark middle. Otherwise the interior is
drawn: a dark cavity, upper teeth, lower teeth at wide openings, the tongue, lit to match
the face's own brightness.
"""

from __future__ import annotations

import torch

from vasa_core.curves import smoothstep
from vasa_core.face import topology as top
from vasa_core.render.warp import sample_pixels

UPPER, LOWER = list(top.LIPS_INNER_UPPER), list(top.LIPS_INNER_LOWER)
OPEN_PORTRAIT = 0.02  # face widths of lip gap above which the portrait's interior is reused
TOOTH = 0.045  # visible height of the upper incisors, face widths
TOOTH_SPACING = 0.14  # width of one upper incisor, as a fraction of the mouth's width


def _sorted(xp: torch.Tensor, fp: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows of sample points [B, K] and their values, each row sorted by xp."""
    order = torch.argsort(xp, dim=-1)
    return xp.gather(-1, order).contiguous(), fp.gather(-1, order)


def _interp(x: torch.Tensor, xp: torch.Tensor, fp: torch.Tensor) -> torch.Tensor:
    """Piecewise-linear interpolation, clamped at the ends (np.interp), one sorted row of
    samples xp, fp [N, K] per query x [N]."""
    i = torch.searchsorted(xp, x[:, None].contiguous()).clamp(1, xp.shape[1] - 1)
    x0, x1 = xp.gather(1, i - 1)[:, 0], xp.gather(1, i)[:, 0]
    f0, f1 = fp.gather(1, i - 1)[:, 0], fp.gather(1, i)[:, 0]
    w = torch.clamp((x - x0) / torch.clamp(x1 - x0, min=1e-6), 0, 1)
    return f0 + w * (f1 - f0)


class MouthFrame:
    """u/t coordinates of pixels relative to the inner-lip landmarks of a batch of frames
    [B, 478, 2]; every query names the frame it belongs to."""

    def __init__(self, points: torch.Tensor):
        self.c0, c1 = points[:, UPPER[0]], points[:, UPPER[-1]]
        self.length = torch.linalg.norm(c1 - self.c0, dim=-1).clamp(min=1e-3)
        self.u_dir = (c1 - self.c0) / self.length[:, None]
        self.v_dir = torch.stack([-self.u_dir[:, 1], self.u_dir[:, 0]], dim=-1)  # down
        frames = torch.arange(len(points), device=points.device)[:, None]
        self.upper = _sorted(*self.uv(points[:, UPPER], frames))
        self.lower = _sorted(*self.uv(points[:, LOWER], frames))

    def uv(self, q: torch.Tensor, frame: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """u (0..1 corner to corner) and v (pixels down) of points q [..., 2] of `frame`."""
        d = q - self.c0[frame]
        return (d * self.u_dir[frame]).sum(-1) / self.length[frame], (d * self.v_dir[frame]).sum(-1)

    def lips_at(self, u: torch.Tensor, frame: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Offsets (pixels, across the mouth) of the upper and lower inner lip at u [N]."""
        (up_u, up_v), (low_u, low_v) = self.upper, self.lower
        return (
            _interp(u, up_u[frame], up_v[frame]),
            _interp(u, low_u[frame], low_v[frame]),
        )

    def point(self, u: torch.Tensor, v: torch.Tensor, frame: torch.Tensor) -> torch.Tensor:
        along = (u * self.length[frame])[..., None] * self.u_dir[frame]
        return self.c0[frame] + along + v[..., None] * self.v_dir[frame]


class Mouth:
    def __init__(self, image: torch.Tensor, source: torch.Tensor, face_width: float):
        """`image` [3, H, W] in 0..1, `source` [478, 2] landmarks in its pixels."""
        self.image = image
        self.face_width = face_width
        self.source = MouthFrame(source[None])
        u = torch.linspace(0.3, 0.7, 5, device=source.device)
        upper, lower = self.source.lips_at(u, torch.zeros_like(u, dtype=torch.long))
        self.source_gap = float((lower - upper).mean())
        self.reuse = self.source_gap > OPEN_PORTRAIT * face_width
        cheeks = source[[50, 280, 205, 425]].round().long()
        skin = image[
            :, cheeks[:, 1].clamp(0, image.shape[1] - 1), cheeks[:, 0].clamp(0, image.shape[2] - 1)
        ]
        self.light = float(torch.clamp(skin.mean() / 0.6, 0.45, 1.25))

    def paint(self, frames: torch.Tensor, target: torch.Tensor, opening: tuple) -> None:
        """Fill the openings of frames [B, 3, H, W] in place: `opening` lists their pixels
        as (frame, y, x, coverage), `target` [B, 478, 2] are the frames' landmarks."""
        frame, ys, xs, coverage = opening
        if len(ys) == 0:
            return
        here = MouthFrame(target)
        u, v = here.uv(torch.stack([xs, ys], dim=-1).float(), frame)
        top_v, bottom_v = here.lips_at(u, frame)
        gap = torch.clamp(bottom_v - top_v, min=1e-3)
        from_top = torch.clamp(v - top_v, min=0)
        colour = self._reused(u, from_top, gap) if self.reuse else self._drawn(u, from_top, gap)
        alpha = coverage * torch.clamp(gap / 2.0, 0, 1)  # closed lips: nothing to paint
        before = frames[frame, :, ys, xs].T
        frames[frame, :, ys, xs] = (before * (1 - alpha) + colour * alpha).T

    def _reused(self, u, from_top, gap):
        portrait = torch.zeros_like(u, dtype=torch.long)  # the source is a batch of one
        src_top, src_bottom = self.source.lips_at(u, portrait)
        src_gap = torch.clamp(src_bottom - src_top, min=1e-3)
        half = src_gap / 2
        from_bottom = gap - from_top
        # Bands next to each lip keep their size (upper teeth with the upper lip, lower
        # teeth with the lower one); a wider opening shows dark cavity in the middle.
        depth = torch.where(from_top <= half, from_top, src_gap - from_bottom)
        squeeze = gap < src_gap
        depth = torch.where(squeeze, from_top / gap * src_gap, depth)
        colour = sample_pixels(self.image, self.source.point(u, src_top + depth, portrait))
        into_middle = torch.minimum(from_top - half, from_bottom - half)
        middle = torch.clamp(into_middle / 2.0, 0, 1) * (~squeeze)
        cavity = self._cavity(u, from_top / gap)
        return colour * (1 - middle) + cavity * middle

    def _cavity(self, u, t):
        """The dark inside of the mouth with the tongue low in it, before any teeth."""
        across = torch.clamp(1 - (2 * u - 1).abs() ** 2, 0, 1)
        cavity = torch.tensor([0.30, 0.09, 0.09], device=u.device)[:, None]
        colour = cavity * (0.5 + 0.5 * (2 * t - 1).abs()) * (0.5 + 0.5 * across)
        tongue = torch.tensor([0.66, 0.30, 0.30], device=u.device)[:, None]
        weight = torch.clamp((t - 0.55) / 0.3, 0, 1) * across**0.7
        colour = colour * (1 - weight) + tongue * weight * (0.6 + 0.4 * across)
        return torch.clamp(colour * self.light, 0, 1)

    def _drawn(self, u, from_top, gap):
        fw = self.face_width
        across = torch.clamp(1 - (2 * u - 1).abs() ** 2, 0, 1)  # 1 mid-mouth, 0 at corners
        colour = self._cavity(u, from_top / gap)
        # Teeth show in the middle of the mouth and fade into the dark corners; each incisor
        # has a slightly rounded edge. All of it is fixed in the mouth's own (u, t) frame.
        corridor = smoothstep((across - 0.12) / 0.4)
        phase = torch.cos(2 * torch.pi * (u - 0.5) / TOOTH_SPACING)
        edge = 1 - 0.08 * (1 - phase) / 2
        upper_h = TOOTH * fw * (0.7 + 0.3 * across) * edge
        lower_h = torch.clamp((gap - 0.1 * fw) * 0.5, 0, 0.03 * fw) * (0.5 + 0.5 * across) * edge
        from_bottom = gap - from_top
        upper_band = smoothstep((upper_h - from_top) / 1.5 + 0.5) * corridor
        lower_band = smoothstep((lower_h - from_bottom) / 1.5 + 0.5) * smoothstep(
            (across - 0.3) / 0.4
        )
        gaps = 1 - 0.22 * torch.exp(-(((1 + phase) / 0.015) ** 2))  # between two teeth
        shade = (0.5 + 0.5 * across) * gaps
        teeth = torch.tensor([0.90, 0.87, 0.80], device=u.device)[:, None] * min(self.light, 1.0)
        lip_shadow = 0.7 + 0.3 * torch.clamp(from_top / (0.015 * fw), 0, 1)
        upper_teeth = teeth * shade * lip_shadow
        lower_teeth = teeth * shade * 0.8
        colour = colour * (1 - upper_band) + upper_teeth * upper_band
        return colour * (1 - lower_band) + lower_teeth * lower_band
