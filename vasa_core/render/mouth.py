"""The inside of the mouth, painted into the opening between the parted lips.

What shows between the lips is anatomy, not a picture stretched to fit the gap: the upper
teeth are fixed to the skull, the lower teeth and the tongue to the jaw, and the lips only
uncover them. So every frame places them from two extra decodings of its motion (`anatomy`):
the skull's lips (the frame's head pose, the portrait's own mouth) and the jaw's lips (the
same, with the frame's jaw opening). A pixel of the opening is looked up in the frame of
those lips; it lands on the same tooth whatever the lips do, so nothing flickers or slides.

Coordinates: u runs from one inner lip corner to the other (0..1), v across the mouth,
downwards, in pixels of the portrait's own mouth (the skull's and jaw's lips are scaled to it).

If the portrait's mouth is open, its own interior is reused: what lies above the middle of
its opening (upper teeth) is read through the skull, what lies below (lower teeth, tongue)
through the jaw, and a jaw opened wider than in the portrait shows dark cavity between them.
Otherwise teeth, tongue and cavity are drawn, in the portrait's style: toned, shaded and
softened to the face's light for a photo, flat colours with crisp edges for a drawing.
"""

from __future__ import annotations

import numpy as np
import torch

from vasa_core import schema
from vasa_core.curves import smoothstep
from vasa_core.device import index, on_device
from vasa_core.face import topology as top
from vasa_core.face.basis import CLOSED_GAP, gap_per_channel, mouth_opening
from vasa_core.render.warp import sample_pixels

UPPER, LOWER = list(top.LIPS_INNER_UPPER), list(top.LIPS_INNER_LOWER)
LOWER_MIDDLE = 14  # the lower inner lip's middle point (Face Mesh)
OPEN_PORTRAIT = 0.02  # face widths of lip gap above which the portrait's interior is reused
# The channels that move the lips; the teeth follow none of them, the lower teeth the jaw.
LIP_CHANNELS = [schema.index(n) for n in (*schema.MOUTH, "smile", "frown")]
JAW = schema.index("jaw_open")
# Drawn teeth, in face widths: how far the upper incisors reach below the line where the
# closed lips meet, and how far the lower incisors rise above the lower lip.
UPPER_EDGE = 0.03
LOWER_SHOW = 0.012
OVERBITE = 0.012  # face widths of lower teeth hidden behind the upper ones in a bite
TOOTH_SPACING = 0.14  # width of one incisor, as a fraction of the mouth's width
# The inner edge of a lip that was parted in the portrait is half lip, half tooth or shadow
# (its pixels straddle the border): as the lips close, their inner edges take their texture
# this far (face widths) into the lips instead, so a shut mouth shows no white or dark slit.
SEAM_INSET = 0.006


def anatomy(motion: np.ndarray, own: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Motions [T, DIM] of the skull and of the jaw for the frames of `motion`: its head pose
    and eyes with the portrait's own mouth (`own` [DIM]), and that plus its jaw opening."""
    skull = np.array(motion, dtype=np.float32, copy=True)
    skull[:, LIP_CHANNELS] = own[LIP_CHANNELS]
    jaw = skull.copy()
    jaw[:, JAW] = motion[:, JAW]
    return skull, jaw


def lip_seal(identity: np.ndarray, own: np.ndarray) -> np.ndarray | None:
    """Offsets [478, 3] that bring the inner lips of `identity` (canonical shape) together
    where they are apart, or None where they meet already (within a tenth of CLOSED_GAP)
    or where the portrait's own expression (`own` [DIM]) has its lips shut, whose gap is
    then the person's, not a smile's.

    Fitting a portrait whose lips are parted (a smile showing teeth) leaves part of the gap
    in the identity, which the expression channels could not explain: the astronaut's
    inner lips stay up to 0.007 face widths apart with every mouth channel at 0, so a mouth
    the motion shut was drawn with a dark slit that Face Mesh read as parted lips. The
    renderer adds these offsets as the motion's mouth closes (`Seal`)."""
    gap = np.clip(identity[UPPER, 1] - identity[LOWER, 1], 0, None)  # canonical y is up
    if gap.max() < 0.1 * CLOSED_GAP or mouth_opening(own[None])[0] < CLOSED_GAP:
        return None
    seal = np.zeros_like(identity)
    seal[UPPER, 1] -= gap / 2
    seal[LOWER, 1] += gap / 2
    return seal


class Seal:
    """One face's lip seal on the device: `offsets` [478, 3] (`lip_seal`, None where there
    is nothing to seal), and, called on motion [T, DIM], how far each frame applies them
    [T] 0..1: none for a mouth as open as the portrait's (`own` [DIM]) or more, all of it
    for a shut one. Computed from the motion already there (`mouth_opening`'s weighted
    sum), so a batch sends nothing more than its motion."""

    def __init__(self, identity: np.ndarray, own: np.ndarray, device):
        offsets = lip_seal(identity, own)
        as_tensor = {"dtype": torch.float64, "device": device}
        self.offsets = None if offsets is None else torch.as_tensor(offsets, **as_tensor)
        self.gap = torch.as_tensor(gap_per_channel(), **as_tensor)
        self.portrait = max(float(mouth_opening(own[None])[0]), 1e-6)

    def __call__(self, motion: torch.Tensor) -> torch.Tensor:
        """[T] 0..1 for motion [T, DIM]."""
        linear = motion[:, schema.DYNAMICS][:, : len(self.gap)].to(self.gap.dtype)
        opening = torch.clamp(linear @ self.gap, min=0)
        return torch.clamp(1 - opening / self.portrait, 0, 1)


def _across(u: torch.Tensor) -> torch.Tensor:
    """1 in the middle of the mouth (u = 0.5), falling to 0 at its corners (u = 0, 1)."""
    return torch.clamp(1 - (2 * u - 1).abs() ** 2, 0, 1)


def _sorted(xp: torch.Tensor, fp: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows of sample points [B, K] and their values, each row sorted by xp."""
    order = torch.argsort(xp, dim=-1)
    return xp.gather(-1, order).contiguous(), fp.gather(-1, order)


def _interp(x: torch.Tensor, xp: torch.Tensor, fp: torch.Tensor) -> torch.Tensor:
    """Piecewise-linear interpolation, clamped at the ends (np.interp), of queries x [N] in
    sorted samples xp, fp: one row [N, K] per query, or one row [K] for all of them."""
    if xp.dim() == 1:
        i = torch.searchsorted(xp, x).clamp(1, len(xp) - 1)
        x0, x1, f0, f1 = xp[i - 1], xp[i], fp[i - 1], fp[i]
    else:
        i = torch.searchsorted(xp, x[:, None].contiguous()).clamp(1, xp.shape[1] - 1)
        x0, x1 = xp.gather(1, i - 1)[:, 0], xp.gather(1, i)[:, 0]
        f0, f1 = fp.gather(1, i - 1)[:, 0], fp.gather(1, i)[:, 0]
    w = torch.clamp((x - x0) / torch.clamp(x1 - x0, min=1e-6), 0, 1)
    return f0 + w * (f1 - f0)


class MouthFrame:
    """u/v coordinates of pixels relative to the inner-lip landmarks of a batch of frames
    [B, 478, 2]; every query names the frame it belongs to. v is in pixels times `unit`
    over the mouth's length (unit None: plain pixels). A batch of one (the portrait's own
    mouth) serves every query from its one frame, with no copy of it per query."""

    def __init__(self, points: torch.Tensor, unit: float | None = None):
        self.c0, c1 = points[:, UPPER[0]], points[:, UPPER[-1]]
        self.length = torch.linalg.norm(c1 - self.c0, dim=-1).clamp(min=1e-3)
        self.unit = self.length if unit is None else torch.full_like(self.length, unit)
        self.u_dir = (c1 - self.c0) / self.length[:, None]
        self.v_dir = torch.stack([-self.u_dir[:, 1], self.u_dir[:, 0]], dim=-1)  # down
        frames = torch.arange(len(points), device=points.device)[:, None]
        self.upper = _sorted(*self.uv(points[:, index(UPPER, points.device)], frames))
        self.lower = _sorted(*self.uv(points[:, index(LOWER, points.device)], frames))

    def _of(self, values: torch.Tensor, frame: torch.Tensor) -> torch.Tensor:
        """Per-frame `values` [B, ...] for queries of `frame`; a batch of one's as they are,
        to broadcast (the same numbers, without gathering them per query)."""
        return values if len(values) == 1 else values[frame]

    def uv(self, q: torch.Tensor, frame: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """u (0..1 corner to corner) and v (down) of points q [..., 2] of `frame`."""
        d = q - self._of(self.c0, frame)
        length = self._of(self.length, frame)
        v = (d * self._of(self.v_dir, frame)).sum(-1) * (self._of(self.unit, frame) / length)
        return (d * self._of(self.u_dir, frame)).sum(-1) / length, v

    def lips_at(self, u: torch.Tensor, frame: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """v of the upper and of the lower inner lip at u [N]."""
        (up_u, up_v), (low_u, low_v) = self.upper, self.lower
        if len(up_u) == 1:  # one row of lips for every query
            return _interp(u, up_u[0], up_v[0]), _interp(u, low_u[0], low_v[0])
        return (
            _interp(u, up_u[frame], up_v[frame]),
            _interp(u, low_u[frame], low_v[frame]),
        )

    def point(self, u: torch.Tensor, v: torch.Tensor, frame: torch.Tensor) -> torch.Tensor:
        """Pixels of the points at (u, v) of `frame`: the inverse of `uv`."""
        length = self._of(self.length, frame)
        along = (u * length)[..., None] * self._of(self.u_dir, frame)
        across = (v * length / self._of(self.unit, frame))[..., None] * self._of(self.v_dir, frame)
        return self._of(self.c0, frame) + along + across


class Mouth:
    def __init__(self, image: torch.Tensor, source: torch.Tensor, face_width: float, drawing: bool):
        """`image` [3, H, W] in 0..1, `source` [478, 2] landmarks in its pixels; `drawing`:
        the portrait is flat-shaded (style.py)."""
        self.image = image
        self.face_width = face_width
        self.source = MouthFrame(source[None])
        self.unit = float(self.source.length[0])  # every v is in the portrait mouth's pixels
        u = torch.linspace(0.3, 0.7, 5, device=source.device)
        upper, lower = self.source.lips_at(u, torch.zeros_like(u, dtype=torch.long))
        self.source_gap = float((lower - upper).mean())
        self.reuse = self.source_gap > OPEN_PORTRAIT * face_width
        cheeks = source[[50, 280, 205, 425]].round().long()
        skin = image[
            :, cheeks[:, 1].clamp(0, image.shape[1] - 1), cheeks[:, 0].clamp(0, image.shape[2] - 1)
        ]
        self.light = float(torch.clamp(skin.mean() / 0.6, 0.45, 1.25))
        self.drawing = drawing
        # Per inner lip, its points and how far their texture moves into the lip at a full
        # seal (`lookup`): up for the upper lip, down for the lower, none at the corners.
        self.insets = []
        for points, side in ((UPPER, -1.0), (LOWER, 1.0)):
            at = index(points, source.device)
            u = self.source.uv(source[at], torch.zeros_like(at))[0]
            reach = side * SEAM_INSET * face_width * _across(u)
            self.insets.append((at, reach[:, None] * self.source.v_dir))

    def lookup(self, lookup: torch.Tensor, seal: torch.Tensor) -> torch.Tensor:
        """Where the warp takes the lips' texture from [B, 478, 2] (`lookup`, moved in place):
        on a portrait with parted lips, the inner lip edges read up to SEAM_INSET inside the
        lips, as far as each frame closes its lips (`seal` [B], 0..1), none at the corners."""
        if not self.reuse:
            return lookup
        for at, inset in self.insets:
            lookup[:, at] += seal[:, None, None] * inset[None]
        return lookup

    def paint(
        self,
        frames: torch.Tensor,
        target: torch.Tensor,
        skull: torch.Tensor,
        jaw: torch.Tensor,
        opening: tuple,
    ) -> None:
        """Fill the openings of frames [B, 3, H, W] in place: `opening` lists their pixels
        as (frame, y, x, coverage); `target`, `skull` and `jaw` [B, 478, 2] are the frames'
        landmarks and those of their skull and jaw (`anatomy`), in output pixels."""
        frame, ys, xs, coverage = opening
        if len(ys) == 0:
            return
        q = torch.stack([xs, ys], dim=-1).float()
        here = MouthFrame(target)
        u, v = here.uv(q, frame)
        top_v, bottom_v = here.lips_at(u, frame)
        gap = torch.clamp(bottom_v - top_v, min=1e-3)
        t = torch.clamp((v - top_v) / gap, 0, 1)  # 0 at the upper lip, 1 at the lower
        cavity = self._cavity(u, t)
        # The lower teeth ride on the jaw: the skull's mouth frame, moved as far as the jaw
        # moved the middle of the lower lip (the frame's corners come in as the jaw drops,
        # so the jaw's own lips would squeeze the teeth).
        skull_frame = MouthFrame(skull, self.unit)
        on_skull = skull_frame.uv(q, frame)
        drop = (jaw[:, LOWER_MIDDLE] - skull[:, LOWER_MIDDLE])[frame]
        on_jaw = skull_frame.uv(q - drop, frame)
        if self.reuse:
            colour = self._reused(cavity, on_skull, on_jaw)
        else:
            below_lip = (v - top_v) * self.unit / here.length[frame]
            colour = self._drawn(cavity, on_skull, on_jaw, below_lip)
        # A slit of a pixel or two is the shadowed crease between the lips: no light
        # reaches the teeth behind it.
        crease = torch.clamp((gap - 1.0) / 2.0, 0, 1)[None]
        colour = torch.lerp(cavity, colour, crease)
        meeting = torch.clamp(gap / 2.0, 0, 1)
        if self.reuse:
            # Where the lips meet, the warp has no triangle and would show the portrait's
            # teeth behind them: the lips' own edges are painted there instead.
            colour = torch.lerp(self._lip_edges(u, t), colour, meeting[None])
            alpha = coverage
        else:
            alpha = coverage * meeting  # closed lips: nothing to paint
        before = frames[frame, :, ys, xs].T
        frames[frame, :, ys, xs] = (before * (1 - alpha) + colour * alpha).T

    def _lip_edges(self, u: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The portrait's lip colours [3, N] SEAM_INSET inside its inner lip edges at u, the
        upper lip's above the middle of a slit (t < 0.5), the lower's below."""
        portrait = torch.zeros_like(u, dtype=torch.long)
        top, bottom = self.source.lips_at(u, portrait)
        inset = SEAM_INSET * self.face_width
        v = torch.where(t < 0.5, top - inset, bottom + inset)
        return sample_pixels(self.image, self.source.point(u, v, portrait))

    def _edge(self, distance: torch.Tensor) -> torch.Tensor:
        """0..1 across an edge at distance 0 (portrait pixels, > 0 inside): crisp on a
        drawing, softened on a photo as its camera would."""
        width = 0.6 if self.drawing else 1.6
        return smoothstep(distance / width + 0.5)

    def _reused(self, cavity, on_skull, on_jaw):
        (us, vs), (uj, vj) = on_skull, on_jaw
        portrait = torch.zeros_like(us, dtype=torch.long)  # the source is a batch of one

        def middle(at):
            src_top, src_bottom = self.source.lips_at(at, portrait)
            return src_top, (src_top + src_bottom) / 2, src_bottom

        top_s, mid_s, _ = middle(us)
        _, mid_j, bottom_j = middle(uj)
        upper = sample_pixels(
            self.image, self.source.point(us, torch.clamp(vs, top_s + 0.5, mid_s), portrait)
        )
        # The portrait hides the top of the lower teeth behind the upper ones; a jaw opened
        # a little further shows it, stretched from the visible part, before any gap.
        bite = OVERBITE * self.face_width
        hidden = torch.clamp((vj - mid_j + bite) / (2 * bite), 0, 1)
        lower_v = torch.where(vj < mid_j + bite, mid_j + hidden * bite, vj)
        lower = sample_pixels(
            self.image, self.source.point(uj, torch.clamp(lower_v, mid_j, bottom_j - 0.5), portrait)
        )
        colour = self._tongue(cavity, uj, vj, vs - vj, mid_j - bite)
        colour = torch.lerp(colour, lower, self._edge(vj - mid_j + bite)[None])
        return torch.lerp(colour, upper, self._edge(mid_s - vs)[None])

    def _cavity(self, u, t):
        """The dark inside of the mouth, before any teeth or tongue."""
        across = _across(u)
        if self.drawing:
            return on_device((0.36, 0.12, 0.14), u.device)[:, None].expand(3, len(u))
        cavity = on_device((0.30, 0.09, 0.09), u.device)[:, None]
        colour = cavity * (0.5 + 0.5 * (2 * t - 1).abs()) * (0.5 + 0.5 * across)
        return torch.clamp(colour * self.light, 0, 1)

    def _tongue(self, colour, uj, vj, drop, teeth_top):
        """The tongue over `colour`: low in the mouth with the jaw, hidden behind the lower
        teeth (`teeth_top`, the v of their edges) until the jaw has dropped (`drop`, v
        below the portrait's jaw) far enough to see its top bulge over them."""
        fw = self.face_width
        across = _across(uj)
        rise = smoothstep((drop - 0.03 * fw) / (0.08 * fw))
        tongue_top = teeth_top + 0.005 * fw - 0.035 * fw * across * rise
        weight = self._edge(vj - tongue_top) * smoothstep((across - 0.2) / 0.5)
        if self.drawing:
            tongue = on_device((0.80, 0.42, 0.45), uj.device)[:, None]
        else:
            depth = torch.clamp((vj - tongue_top) / (0.02 * fw), 0, 1)
            tongue = on_device((0.70, 0.34, 0.34), uj.device)[:, None]
            tongue = tongue * (0.6 + 0.4 * depth) * (0.6 + 0.4 * across) * self.light
        return torch.lerp(colour, tongue, weight[None])

    def _drawn(self, cavity, on_skull, on_jaw, below_lip):
        fw = self.face_width  # in portrait pixels, as every v here
        (us, vs), (uj, vj) = on_skull, on_jaw
        portrait = torch.zeros_like(us, dtype=torch.long)
        src_top, src_bottom = self.source.lips_at(us, portrait)
        line = (src_top + src_bottom) / 2  # where the portrait's lips meet
        colour = cavity

        def teeth_shape(at):
            """Corridor (teeth fade into the dark corners), scallop of the incisal edges and
            the dark seams between teeth, all fixed to the bone they sit in."""
            across = _across(at)
            phase = torch.cos(2 * torch.pi * (at - 0.5) / TOOTH_SPACING)
            scallop = 0.004 * fw * (1 - phase) / 2
            seam = torch.exp(-(((1 + phase) / 0.05) ** 2))
            roundness = 0.88 + 0.12 * (1 + phase) / 2  # each tooth darker at its sides
            return across, scallop, seam, roundness

        across_j, scallop_j, seam_j, round_j = teeth_shape(uj)
        lower_edge = self.source.lips_at(uj, portrait)[1]
        lower_edge = lower_edge - LOWER_SHOW * fw * (0.4 + 0.6 * across_j) + scallop_j
        colour = self._tongue(colour, uj, vj, vs - vj, lower_edge)

        across_s, scallop_s, seam_s, round_s = teeth_shape(us)
        upper_edge = line + UPPER_EDGE * fw * (0.6 + 0.4 * across_s) - scallop_s
        lower_weight = self._edge(vj - lower_edge) * smoothstep((across_j - 0.45) / 0.35)
        upper_weight = self._edge(upper_edge - vs) * smoothstep((across_s - 0.3) / 0.35)
        white = on_device((0.94, 0.93, 0.89), us.device)[:, None]
        if self.drawing:
            upper_teeth = lower_teeth = white.expand(3, len(us))
        else:
            white = white * min(self.light, 1.0)
            lip_shadow = 0.72 + 0.28 * torch.clamp(below_lip / (0.015 * fw), 0, 1)
            upper_teeth = white * (0.55 + 0.45 * across_s) * (1 - 0.35 * seam_s) * round_s
            upper_teeth = upper_teeth * lip_shadow
            lower_teeth = white * (0.5 + 0.4 * across_j) * (1 - 0.35 * seam_j) * round_j * 0.85
        colour = torch.lerp(colour, lower_teeth, lower_weight[None])
        return torch.lerp(colour, upper_teeth, upper_weight[None])
