"""Closing lids: the upper lid's skin drawn over the eye it covers, with its lash line.

The mesh warp brings the upper lid's landmarks down to the lower lid, but the skin it has
to stretch over the eye is a thin band of the portrait, so a shut eye came out as vertical
streaks (or, behind glasses, as the frames smeared down). Here the part of the eye the lid
now covers is painted as lid: for each point along the eye, the colour of the portrait's
own lid skin just above the lashes there, smoothed along the lid, shaded darker towards
the lashes and, on a photo, given back the grain of that skin. The lash line then follows
the closing margin: softened and translucent on a photo, a crisp outline on a drawing.

Coordinates: in each eye's frame, s runs from its outer corner to its inner one (0..1)
and v points down the face, in pixels.
"""

from __future__ import annotations

import torch

from vasa_core.curves import smoothstep
from vasa_core.device import index
from vasa_core.face import topology as top
from vasa_core.render.raster import exact_sizes, put_pixels
from vasa_core.render.style import blur
from vasa_core.render.warp import sample_pixels

EYES = (
    (top.RIGHT_EYE_CORNERS, top.RIGHT_UPPER_LID, top.RIGHT_LOWER_LID),
    (top.LEFT_EYE_CORNERS, top.LEFT_UPPER_LID, top.LEFT_LOWER_LID),
)
SAMPLES = 33  # points along each lid where its colour and the eye's opening are kept
BAND = (0.2, 0.6)  # lid skin grain sampled this far above the lashes, in eye heights
# A photo's lid colour leaves out samples this much darker than its skin (`_skin_colour`).
DARKER = 0.8
# A drawing's lash line is a thick outline: its lid colour is read further up.
DRAWING_BAND = (0.8, 1.6)
# How far above the open lid's margin the painted lid reaches, in eye heights: past Face
# Mesh's lid points on a photo, past the whole thick outline on a drawing (else the top of
# the old outline shows above a lid half lowered, as when looking down).
ABOVE = 0.3
DRAWING_ABOVE = 0.6
# How far above Face Mesh's upper lid points the open eye may be found (eye heights): on a
# small or bespectacled eye Face Mesh puts them across the iris, and the lid must cover
# what shows above them too.
HIDDEN_REACH = 0.8


def _lid_ids(corners, lid) -> list[int]:
    return [corners[0], *lid, corners[1]]


class EyeFrame:
    """s/v coordinates of one eye in a batch of frames, from its corners [B, 2, 2]."""

    def __init__(self, corners: torch.Tensor):
        self.c0 = corners[:, 0]
        axis = corners[:, 1] - corners[:, 0]
        self.length = torch.linalg.norm(axis, dim=-1).clamp(min=1e-3)
        self.s_dir = axis / self.length[:, None]
        down = torch.stack([-self.s_dir[:, 1], self.s_dir[:, 0]], dim=-1)
        self.v_dir = down * torch.sign(down[:, 1:2] + 1e-9)  # down the face on screen

    def sv(self, q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """s and v of points q [B, N, 2]."""
        d = q - self.c0[:, None]
        s = (d * self.s_dir[:, None]).sum(-1) / self.length[:, None]
        return s, (d * self.v_dir[:, None]).sum(-1)

    def point(self, s: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Pixels [B, N, 2] of the points at (s, v)."""
        along = (s * self.length[:, None])[..., None] * self.s_dir[:, None]
        return self.c0[:, None] + along + v[..., None] * self.v_dir[:, None]


def _profile(frame: EyeFrame, lid: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """v of the lid polyline `lid` [B, K, 2] at each s [B, N] (clamped at the corners)."""
    ls, lv = frame.sv(lid)
    order = torch.argsort(ls, dim=-1)
    ls, lv = ls.gather(-1, order).contiguous(), lv.gather(-1, order)
    i = torch.searchsorted(ls, s.contiguous()).clamp(1, ls.shape[1] - 1)
    s0, s1 = ls.gather(1, i - 1), ls.gather(1, i)
    v0, v1 = lv.gather(1, i - 1), lv.gather(1, i)
    w = torch.clamp((s - s0) / (s1 - s0).clamp(min=1e-6), 0, 1)
    return v0 + w * (v1 - v0)


def _hidden_above(
    image: torch.Tensor, frame: EyeFrame, top_v: torch.Tensor, height: float, iris
) -> tuple[torch.Tensor, torch.Tensor]:
    """Where the portrait's iris shows above Face Mesh's upper lid `top_v` [SAMPLES]:
    (the lid's real margin over Face Mesh's, the same narrowed to the iris itself), each
    [SAMPLES] pixels; zeros where Face Mesh's lid is about right.

    `iris`: (skin colour, iris colour, iris centre, iris radius), in the portrait's pixels.
    Only the iris disc counts (the lashes beside it are as dark), and only an iris shown
    above the lid points by more than a third of the eye's height: less than that is the
    lash line, which the lid's margin covers anyway (ABOVE). The margin is one smooth arch
    a little wider than the iris (a lid's edge has no dents); the lid's skin is read above
    the narrow one, since beside the iris the band may reach the brow or a glasses frame."""
    none = torch.zeros_like(top_v)
    if iris is None:
        return none, none
    skin, colour, centre, radius = iris
    steps = torch.arange(0.0, HIDDEN_REACH * height, 0.5, device=image.device)  # [K]
    s = torch.linspace(0, 1, SAMPLES, device=image.device)
    v = top_v[None, :] - steps[:, None]  # [K, S]
    points = frame.point(s.expand(len(steps), -1).reshape(1, -1), v.reshape(1, -1))[0]
    seen = sample_pixels(image, points).T  # [K * S, 3]
    in_disc = torch.linalg.norm(points - centre, dim=-1) < radius
    nearer_iris = torch.linalg.norm(seen - colour, dim=-1) < torch.linalg.norm(seen - skin, dim=-1)
    is_iris = (in_disc & nearer_iris).reshape(len(steps), SAMPLES)
    # A lone sample of another colour (a glint) does not end the run.
    bridged = is_iris.clone()
    bridged[1:-1] |= is_iris[:-2] & is_iris[2:]
    shown = float(torch.cumprod(bridged.to(image.dtype), dim=0).sum(dim=0).max()) * 0.5
    if shown < height / 3:
        return none, none
    off = (s - frame.sv(centre[None, None])[0][0, 0]).abs() * frame.length[0] / radius
    return shown * smoothstep(2.0 - off), shown * smoothstep((1.5 - off) / 1.5)


def _skin_colour(skin: torch.Tensor, near: torch.Tensor) -> torch.Tensor:
    """[3, S] lid colour from [3, rows, S] samples above the lashes, `near` [rows] marking
    the rows of `BAND`: at each s, the median of those rows, leaving out samples darker than
    `DARKER` times the samples' median brightness (lashes, the top of an iris, a glasses
    frame: a plain median painted them as a dark patch wherever they filled half the band);
    where none is left there, of the rows further up; where none at all, the typical skin."""
    brightness = skin.mean(dim=0)  # [rows, S]
    skin_like = brightness >= DARKER * brightness.median()
    typical = skin.reshape(3, -1)[:, skin_like.reshape(-1)].median(dim=1).values  # [3]

    def median_of(mask: torch.Tensor) -> torch.Tensor:  # [rows, S] -> [3, S], NaN if none
        return torch.where(mask[None], skin, torch.nan).nanmedian(dim=1).values

    near_skin = skin_like & near[:, None]
    colour = torch.where(near_skin.any(dim=0), median_of(near_skin), median_of(skin_like))
    return torch.where(skin_like.any(dim=0), colour, typical[:, None])


class Lids:
    def __init__(
        self, image: torch.Tensor, source: torch.Tensor, drawing: bool, irises=(None, None)
    ):
        """`image` [3, H, W] in 0..1; `source` [478, 2] landmarks in its pixels;
        `drawing`: the portrait is flat-shaded (style.py); `irises`: per eye, (skin colour,
        iris colour, iris centre, iris radius) or None (`Eyes.irises`), for a photo's iris
        shown above Face Mesh's lid points (a drawing's lid outline is kept as it is)."""
        self.height, self.width = image.shape[-2:]
        self.drawing = drawing
        grain = image - blur(image, 1.5)
        s = torch.linspace(0, 1, SAMPLES, device=image.device)[None]
        self.colour, self.gap, self.hidden, self.portrait_eyes, self.lash = [], [], [], [], []
        for (corners, upper, lower), iris in zip(EYES, irises, strict=True):
            frame = EyeFrame(source[list(corners)][None])
            top_v = _profile(frame, source[_lid_ids(corners, upper)][None], s)
            bottom_v = _profile(frame, source[_lid_ids(corners, lower)][None], s)
            gap = (bottom_v - top_v).clamp(min=0)[0]
            self.gap.append(gap)
            height = float(gap.max().clamp(min=1.0))
            hidden = lift = torch.zeros_like(gap)
            if not drawing:
                hidden, lift = _hidden_above(image, frame, top_v[0], height, iris)
            self.hidden.append(hidden)
            top_v = top_v - lift  # the lid's skin is read above the iris it hid
            # The skin above the lashes, rows of it at every s.
            rows = torch.linspace(*(DRAWING_BAND if drawing else BAND), 6, device=image.device)
            band_rows = len(rows)
            if not drawing:  # and further up, in the same steps, where the band is not skin
                step = float(rows[1] - rows[0])
                rows = torch.cat([rows, rows[-1] + step * torch.arange(1, 11, device=rows.device)])
            v = top_v[0][None, :] - rows[:, None] * height  # [rows, S]
            points = frame.point(s.expand(len(rows), -1).reshape(1, -1), v.reshape(1, -1))[0]
            skin = sample_pixels(image, points).reshape(3, len(rows), SAMPLES)
            if drawing:
                flat = skin.reshape(3, -1).median(dim=1, keepdim=True).values
                colour = flat.expand(-1, SAMPLES)
            else:
                near = torch.arange(len(rows), device=rows.device) < band_rows
                colour = blur(_skin_colour(skin, near)[:, None], 2.0)[:, 0]  # smooth along it
            self.colour.append(colour.contiguous())
            # Where the eye sits in the portrait: the scale of a frame's eye, and the band
            # whose grain is laid over the painted lid.
            self.portrait_eyes.append((frame, top_v[0], height))
            # The lash line's colour: its darkest point (by brightness, not channel by
            # channel), in a few rows above the margin towards the corners, where no iris
            # lies under the lid points (a drawing's outline came out green).
            ends = torch.cat([s[:, 3:11], s[:, -11:-3]], dim=1)
            ends_v = _profile(frame, source[_lid_ids(corners, upper)][None], ends)
            rows = [frame.point(ends, ends_v - k)[0] for k in (1.0, 0.15 * height, 0.3 * height)]
            margin = sample_pixels(image, torch.cat(rows))
            self.lash.append(margin[:, margin.mean(dim=0).argmin()])
        self.grain_image = grain
        device = image.device
        self.ids = [
            (index(c, device), index(_lid_ids(c, u), device), index(_lid_ids(c, lo), device))
            for c, u, lo in EYES
        ]
        # Off the CPU every frame's eye is painted in a box of a size fixed beforehand: the
        # box an eye twice the portrait's longer one would need.
        longest = max(float(eye[0].length.max()) for eye in self.portrait_eyes)
        self.box = int(2 * 0.75 * 2 * longest) + 2

    def paint(self, frames: torch.Tensor, target: torch.Tensor, closure: torch.Tensor) -> None:
        """Lid skin over the covered part of each closing eye, then its lash line, in place:
        frames [B, 3, H, W], target landmarks [B, 478, 2], closure [B, 2] (0 open .. 1 shut)."""
        exact = exact_sizes(target.device)
        for eye, (corner_ids, upper_ids, lower_ids) in enumerate(self.ids):
            if exact:  # only the frames whose eye closes, in a box just large enough
                closing = (closure[:, eye] > self._starts).nonzero()[:, 0]
                if len(closing) == 0:
                    continue
            else:  # every frame, in a box of a size known beforehand; open eyes weigh 0
                closing = torch.arange(len(target), device=target.device)
            points = target[closing]
            frame = EyeFrame(points[:, corner_ids])
            ratio = frame.length / self.portrait_eyes[eye][0].length
            # Every pixel of a box around each eye (they are all the same size).
            centre = points[:, corner_ids].mean(dim=1)
            side = int(2 * float((0.75 * frame.length).max())) + 2 if exact else self.box
            offsets = torch.arange(side, device=target.device, dtype=target.dtype) - side / 2
            oy, ox = torch.meshgrid(offsets, offsets, indexing="ij")
            q = centre[:, None] + torch.stack([ox.reshape(-1), oy.reshape(-1)], dim=-1)[None]
            q = q.round()
            xs, ys = q[..., 0].long(), q[..., 1].long()
            valid = (xs >= 0) & (xs < self.width) & (ys >= 0) & (ys < self.height)
            s, v = frame.sv(q)
            lid_v = _profile(frame, points[:, upper_ids], s)
            low_v = _profile(frame, points[:, lower_ids], s)
            marked_gap = self._at(self.gap[eye][None], s)[0] * ratio[:, None]
            hidden = self._at(self.hidden[eye][None], s)[0] * ratio[:, None]
            # Where Face Mesh's lid points sit below the real margin, the lid's edge is
            # that much higher, less so as it comes down: shut, it meets the lower lid.
            lowered = ((lid_v - (low_v - marked_gap)) / marked_gap.clamp(min=1)).clamp(0, 1)
            lid_v = lid_v - hidden * (1 - lowered)
            rest_gap = marked_gap + hidden
            rest_v = low_v - rest_gap  # where the open lid's margin would be
            # Nearly shut is shut: the rig leaves a sliver of eye that reads as a twitch.
            # The rig's blink closes to about 0.88; a pixel past the lower lid line covers
            # the sclera Face Mesh's lid points leave at the corners.
            shut = smoothstep((closure[closing, eye] - 0.5) / 0.25)[:, None]
            lid_v = lid_v + ((low_v - lid_v).clamp(min=0) + 1.0) * shut
            along = smoothstep((s + 0.02) / 0.05) * smoothstep((1.02 - s) / 0.05)
            # Face Mesh's lid points sit a little inside the lashes, and behind glasses
            # lower still: the lid covers a margin above them, so no eye is left above it.
            height = rest_gap.amax(dim=1, keepdim=True)
            feather = (0.2 * height).clamp(min=1.2)
            top = rest_v - (DRAWING_ABOVE if self.drawing else ABOVE) * height
            covered = smoothstep((lid_v - v) / 1.0 + 0.5) * smoothstep((v - top) / feather + 0.5)
            weight = covered * along * self._fade_in(closure[closing, eye])[:, None]
            colour = self._at(self.colour[eye], s)  # [3, B, N]
            depth = ((lid_v - v) / (0.5 * rest_gap).clamp(min=1)).clamp(0, 1)
            if not self.drawing:
                colour = colour * (0.75 + 0.25 * depth)[None] + self._grain(eye, s, lid_v - v)
            lash = self._lash_weight(closure[closing, eye], v - lid_v, frame.length) * along
            lash_colour = self.lash[eye][:, None]
            b = closing[:, None].expand_as(xs)
            if exact:  # the box's pixels inside the frame
                b, xs, ys = b[valid], xs[valid], ys[valid]
                weight, lash, colour = weight[valid], lash[valid], colour[:, valid]
            else:  # all of them, those outside (clamped to the edge) and open eyes weighing 0
                kept = valid & (closure[closing, eye] > self._starts)[:, None]
                weight, lash = weight * kept, lash * kept
                b, colour = b.reshape(-1), colour.reshape(len(colour), -1)
                xs = xs.clamp(0, self.width - 1).reshape(-1)
                ys = ys.clamp(0, self.height - 1).reshape(-1)
                weight, lash = weight.reshape(-1), lash.reshape(-1)
            here = frames[b, :, ys, xs].T
            painted = torch.lerp(here, colour, weight[None])
            if self.drawing:
                painted = torch.lerp(painted, lash_colour.expand_as(painted), lash[None])
            else:
                painted = painted * (1 - 0.8 * lash[None])
            put_pixels(frames, b, ys, xs, here, painted)

    def _at(self, values: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """Samples [C, SAMPLES] along the lid, linearly at s [B, N]: [C, B, N]."""
        x = (s.clamp(0, 1) * (SAMPLES - 1)).reshape(-1)
        i = x.floor().long().clamp(0, SAMPLES - 2)
        w = x - i
        out = values[:, i] * (1 - w) + values[:, i + 1] * w
        return out.reshape(len(values), *s.shape)

    def _grain(self, eye: int, s: torch.Tensor, above: torch.Tensor) -> torch.Tensor:
        """The portrait's lid skin grain, [3, B, N]: rows of the band above its lashes,
        mirrored back and forth so that any height of lid is covered without stretching."""
        frame, top_v, height = self.portrait_eyes[eye]
        low, high = BAND[0] * height, BAND[1] * height
        span = high - low
        phase = torch.remainder(above.clamp(min=0), 2 * span)
        depth = low + torch.where(phase < span, phase, 2 * span - phase)
        v = self._at(top_v[None], s)[0] - depth
        points = frame.point(s.reshape(1, -1), v.reshape(1, -1))[0]
        return sample_pixels(self.grain_image, points).reshape(3, *s.shape)

    @property
    def _starts(self) -> float:
        """The closure from which a lid is painted. On a photo the warp's stretch of the lid
        skin looks right for the small moves of a lid following the gaze down, so painting
        (the renderer's costliest step, 1.5 ms a 512-px frame) waits for a blink."""
        return 0.02 if self.drawing else 0.1

    def _fade_in(self, closure: torch.Tensor) -> torch.Tensor:
        """How fully a lid closing by `closure` [B] is painted: gradually on a photo (its
        skin blends), at once on a drawing, where a half-painted lid shows the old outline
        and the new one together."""
        if self.drawing:
            return smoothstep(closure / 0.08)
        return smoothstep((closure - 0.1) / 0.25)

    def _lash_weight(self, closure, below, length) -> torch.Tensor:
        """The lash line along the margin as it closes: [B, N] in 0..1 for pixels `below`
        the margin (v, pixels) of eyes `length` wide."""
        if self.drawing:  # the outline moves with the lid: never two, never none
            strength = self._fade_in(closure)[:, None]
        else:
            strength = ((closure - 0.3) / 0.6).clamp(0, 1)[:, None]
        width = (0.035 if not self.drawing else 0.045) * length[:, None]
        d = below + 0.3 * width  # the line sits just above the margin, on the lid
        if self.drawing:
            return smoothstep(1.5 - d.abs() / width.clamp(min=0.6)) * strength
        return torch.exp(-((d / width) ** 2)) * strength
