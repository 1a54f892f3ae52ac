"""Eyes: lids that close over the eye, and irises that look around inside it.

Blink. The rig brings the upper lid's landmarks down to the lower lid and the mesh warp
stretches the lid skin after them. Face Mesh puts the lid landmarks on the lash line, so
the skin just above them would drag lashes and eye down with it; as the eye closes, the
lid therefore takes its texture from higher up (`lookup`), and a darker lash line is drawn
along the closing margin.

Gaze. The iris is moved as a rigid disc to where the motion puts it, drawn only inside the
eye opening (so the lids cover it as they would), over the eye as it would look without
an iris (painted out once per portrait from the white, lids and shadow around it). What
the lids hid of the iris in the portrait is filled with the colour of its visible part at
the same radius, so an iris looking up shows no skin. The upper lids follow the gaze a
little (`lids_follow_gaze`), as real ones do: lower looking down, higher looking up.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from vasa_core import schema
from vasa_core.curves import smoothstep
from vasa_core.device import index, on_device
from vasa_core.face import topology as top
from vasa_core.render.raster import exact_sizes, polygon_pixels, put_pixels
from vasa_core.render.warp import sample_pixels

EYES = (
    (top.RIGHT_EYE_CORNERS, top.RIGHT_UPPER_LID, top.RIGHT_LOWER_LID, top.RIGHT_IRIS),
    (top.LEFT_EYE_CORNERS, top.LEFT_UPPER_LID, top.LEFT_LOWER_LID, top.LEFT_IRIS),
)
LIFT = 0.6  # how far above the lash line (in eye heights) a closed lid takes its skin from
# However far the gaze turns, the iris centre stays this many iris radii clear of the
# lids and the corners: the lids may hide the iris's rim, never roll it out of sight.
CLEAR_OF_LIDS = 0.35
CLEAR_OF_CORNERS = 0.85
# Pixels beyond the iris radius painted out with it, its soft edge on a photo. A drawing
# outlines its iris crisply a pixel further out: at 1.5 its moved iris left that outline
# behind as a thin line across the white. (At 2.5 on photos, Face Mesh found less of the
# moved iris inside the eye, benchmarks/defects.py: astronaut 0.83 -> 0.76.)
RIM = {"photo": 1.5, "drawing": 2.5}


# How much the lids close per degree of gaze down, and open per degree up, in blink units
# (1 = shut): a real upper lid keeps about the same margin over the iris as the eye turns
# down, and lifts less looking up; at 25 degrees down the lid comes a quarter of the way.
FOLLOW_DOWN = 0.25 / 25
FOLLOW_UP = 0.12 / 25
_BLINKS = [schema.index(n) for n in ("blink_left", "blink_right")]
_GAZE_PITCH = schema.index("gaze_pitch")


def lids_follow_gaze(motion: np.ndarray, own: np.ndarray) -> np.ndarray:
    """The motion [T, DIM] with the lids moved after the vertical gaze, for drawing only:
    the blink channels may then go a little below 0 (lids raised) or past where the
    motion put them; the motion latent itself keeps blink and gaze apart. The portrait's
    own lids already sit where its own gaze (`own` motion [DIM]) has them."""

    def follow(pitch):
        return np.where(pitch < 0, -pitch * FOLLOW_DOWN, -pitch * FOLLOW_UP)

    out = np.array(motion, dtype=np.float64)
    moved = follow(out[..., _GAZE_PITCH]) - follow(np.float64(own[_GAZE_PITCH]))
    out[..., _BLINKS] = np.minimum(out[..., _BLINKS] + moved[..., None], 1.0)
    return out


def _contour(corners, upper, lower) -> list[int]:
    return [corners[0], *upper, corners[1], *reversed(lower)]


def _between(x: torch.Tensor, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """x clamped to [low, high], or their middle where the interval is empty."""
    middle = (low + high) / 2
    return torch.where(low <= high, torch.minimum(torch.maximum(x, low), high), middle)


def _y_at(polyline: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """y of polylines [B, K, 2] at x [B] (linear, clamped at the ends)."""
    order = torch.argsort(polyline[..., 0], dim=1)
    xs = polyline[..., 0].gather(1, order).contiguous()
    ys = polyline[..., 1].gather(1, order)
    i = torch.searchsorted(xs, x[:, None].contiguous()).clamp(1, xs.shape[1] - 1)
    x0, x1 = xs.gather(1, i - 1)[:, 0], xs.gather(1, i)[:, 0]
    y0, y1 = ys.gather(1, i - 1)[:, 0], ys.gather(1, i)[:, 0]
    return y0 + torch.clamp((x - x0) / (x1 - x0).clamp(min=1e-6), 0, 1) * (y1 - y0)


def _limbus_radius(picture: np.ndarray, opening: np.ndarray, centre, ring: float) -> float:
    """The iris radius seen in the picture: where the dark iris meets the white, along
    rays to either side (the lids cover it above and below).

    Face Mesh's iris ring is a guess of the same size for every eye; on a drawn eye it
    fell a pixel or two inside the drawn iris, so a moved iris left its rim behind.
    Falls back on the ring where no white is seen (a squint, dark glasses).
    """
    brightness = picture.mean(axis=2)
    radius = np.arange(0.5 * ring, 2.0 * ring, 0.25)
    found = []
    for degrees in (*range(-30, 31, 10), *range(150, 211, 10)):
        a = np.radians(degrees)
        xs = np.round(centre[0] + radius * np.cos(a)).astype(int)
        ys = np.round(centre[1] + radius * np.sin(a)).astype(int)
        seen = (xs >= 0) & (xs < picture.shape[1]) & (ys >= 0) & (ys < picture.shape[0])
        seen[seen] &= opening[ys[seen], xs[seen]] > 0
        if seen.sum() < 4:
            continue
        profile = np.where(
            seen,
            brightness[ys.clip(0, picture.shape[0] - 1), xs.clip(0, picture.shape[1] - 1)],
            np.nan,
        )
        dark, light = np.nanmin(profile[: len(profile) // 3 + 1]), np.nanmax(profile)
        if not np.isfinite(dark) or light - dark < 0.15:
            continue
        crossed = np.nonzero(profile > (dark + light) / 2)[0]
        if len(crossed):
            found.append(radius[crossed[0]])
    if len(found) < 3:
        return ring
    return float(np.clip(np.median(found), 0.8 * ring, 1.5 * ring))


def eye_colours(
    picture: np.ndarray, polygon: np.ndarray, centre, radius: float
) -> tuple[np.ndarray, list[np.ndarray]] | None:
    """(the skin just around the eye outline, [the iris, the white]) as RGB in 0..1, from a
    picture [H, W, 3] and the filled outline `polygon` [H, W]; None where too little of
    either shows. A colour nearer the skin than the eye's colours is lid."""
    inside = polygon > 0
    ring = (cv2.dilate(polygon, np.ones((9, 9), np.uint8)) > 0) & ~(
        cv2.dilate(polygon, np.ones((3, 3), np.uint8)) > 0
    )
    ys, xs = np.nonzero(inside)
    near = np.hypot(xs - centre[0], ys - centre[1])
    if ring.sum() < 4 or (near < 0.6 * radius).sum() < 4:
        return None
    skin = np.median(picture[ring], axis=0)
    eye = [np.median(picture[ys[near < 0.6 * radius], xs[near < 0.6 * radius]], axis=0)]
    around = picture[ys[near > 1.2 * radius], xs[near > 1.2 * radius]]
    if len(around) >= 4:  # the brighter half of what lies around the iris: the white
        light = around.mean(axis=1)
        eye.append(np.median(around[light >= np.median(light)], axis=0))
    return skin, eye


def _open_eye(picture: np.ndarray, polygon: np.ndarray, colours) -> np.ndarray:
    """Where the portrait shows the open eye (white or iris), not lid skin: [H, W] in 0..1.

    Face Mesh draws the eye outline along the lid margins, a pixel or two into the skin on
    a photo and more on some drawings, so an iris moved within that outline slid over the
    lower lid. Near the outline, a pixel whose colour is nearer the skin around the eye
    than the iris or the white is lid; in each column the open eye then runs from its
    top-most to its bottom-most remaining pixel (pupils and highlights are eye).
    `colours`: the eye's `eye_colours`; without them, the outline itself.
    """
    height = polygon.shape[0]
    inside = polygon > 0
    if colours is None:
        return polygon.astype(np.float32)
    skin, eye = colours
    to_skin = np.linalg.norm(picture - skin, axis=2)
    to_eye = np.min([np.linalg.norm(picture - c, axis=2) for c in eye], axis=0)
    margin = inside & ~(cv2.erode(polygon, np.ones((5, 5), np.uint8)) > 0)
    eye = inside & ~(margin & (to_skin < to_eye))
    rows = np.arange(height)[:, None]
    top = np.where(eye.any(axis=0), eye.argmax(axis=0), height)
    bottom = height - 1 - eye[::-1].argmax(axis=0)
    return cv2.blur(((rows >= top) & (rows <= bottom)).astype(np.float32), (3, 3))


def _without_iris(
    picture: np.ndarray, opening: np.ndarray, centre: np.ndarray, radius: float, rim: float
) -> tuple[np.ndarray, np.ndarray]:
    """Two copies of the picture [H, W, 3] around one eye, for moving its iris.

    `bare`: the iris painted out, what a moved iris uncovers. Row by row, the white from
    just left of the iris to just right of it, so the shading of the white (darker under
    the lid, towards the corners) carries on. `texture`: the iris whole, its parts hidden
    under the lids filled with the colour of the visible iris at the same radius, what a
    moved iris shows of itself.
    """
    ys, xs = np.mgrid[: picture.shape[0], : picture.shape[1]]
    bare, texture = picture.copy(), picture.copy()
    distance = np.hypot(xs - centre[0], ys - centre[1])
    disc = distance <= radius + rim
    eye = (opening > 0.5).astype(np.uint8)
    grown = cv2.dilate(eye, np.ones((5, 5), np.uint8)) > 0
    _paint_out(bare, disc & grown, grown, centre[0], radius + rim)
    visible = disc & (cv2.erode(eye, np.ones((3, 3), np.uint8)) > 0)
    hidden = disc & ~visible
    if visible.sum() < 4 or not hidden.any():
        return bare, texture
    rings = np.round(distance * 2).astype(int)  # half-pixel rings
    count = np.bincount(rings[visible], minlength=rings[disc].max() + 1)
    profile = np.stack(
        [np.bincount(rings[visible], picture[..., c][visible], len(count)) for c in range(3)],
        axis=-1,
    )
    known = np.nonzero(count)[0]
    nearest = known[np.abs(np.arange(len(count))[:, None] - known[None]).argmin(axis=1)]
    texture[hidden] = (profile[nearest] / count[nearest][:, None])[rings[hidden]]
    return bare, texture


def _paint_out(picture: np.ndarray, hole: np.ndarray, eye: np.ndarray, x: float, radius: float):
    """Fill `hole` row by row between the eye's colours just left and right of the iris
    (in place); a row that sees the white on one side only takes that side's."""
    reach = int(np.ceil(radius + 0.5))
    for y in np.nonzero(hole.any(axis=1))[0]:
        cols = np.nonzero(hole[y])[0]
        sides = []
        for edge in (int(np.floor(x)) - reach, int(np.ceil(x)) + reach):
            span = picture[y, max(edge - 1, 0) : edge + 2][eye[y, max(edge - 1, 0) : edge + 2]]
            sides.append(span.mean(axis=0) if len(span) else None)
        left, right = sides
        if left is None and right is None:
            left = right = picture[max(y - 1, 0), cols].mean(axis=0)  # carry the row above
        left = right if left is None else left
        right = left if right is None else right
        t = np.clip((cols - (x - reach)) / (2 * reach), 0, 1)[:, None]
        picture[y, cols] = left * (1 - t) + right * t


class Eyes:
    def __init__(self, image: torch.Tensor, source: torch.Tensor, drawing: bool = False):
        """`image` [3, H, W] in 0..1; `source` [478, 2] landmarks in its pixels; `drawing`:
        the portrait is flat-shaded (style.py)."""
        self.image = image
        self.source = source
        self.height, self.width = image.shape[-2:]
        picture = image.permute(1, 2, 0).cpu().numpy()  # [H, W, 3]
        bare, texture = picture.copy(), picture.copy()
        opening = np.zeros((self.height, self.width), np.float32)
        rim = RIM["drawing" if drawing else "photo"]
        self.rest, radii = [], []
        colours = []  # per eye, `eye_colours` (None where the eye shows too little)
        for corners, upper, lower, iris in EYES:
            gap = (source[list(lower), 1] - source[list(upper), 1]).mean().clamp(min=1e-3)
            self.rest.append(gap)
            ring = float(torch.linalg.norm(source[list(iris[1:])] - source[iris[0]], dim=-1).mean())
            # Each eye's work is done in a box around it, whatever the portrait's size.
            outline = source[_contour(corners, upper, lower)].cpu().numpy()
            pad = int(2 * ring) + 8
            x0, y0 = np.maximum(np.floor(outline.min(axis=0)).astype(int) - pad, 0)
            x1, y1 = np.ceil(outline.max(axis=0)).astype(int) + pad
            box = slice(y0, min(y1, self.height)), slice(x0, min(x1, self.width))
            polygon = np.zeros(picture[box].shape[:2], np.uint8)
            cv2.fillPoly(polygon, [np.round(outline - [x0, y0]).astype(np.int32)], 1)
            centre = source[iris[0]].cpu().numpy() - [x0, y0]
            radii.append(_limbus_radius(picture[box], polygon, centre, ring))
            colours.append(eye_colours(picture[box], polygon, centre, radii[-1]))
            seen = _open_eye(picture[box], polygon, colours[-1])
            opening[box] = np.maximum(opening[box], seen)
            # The two boxes may overlap between the eyes (small crops): keep only what this
            # eye changed, so it cannot undo the other eye's work there.
            for done, mine in zip(
                (bare, texture),
                _without_iris(picture[box], seen, centre, radii[-1], rim),
                strict=True,
            ):
                changed = (mine != picture[box]).any(axis=-1)
                done[box][changed] = mine[changed]
        self.iris_radius = torch.tensor(radii, dtype=image.dtype, device=image.device)  # [2]
        # Per eye (skin colour, iris colour, iris centre, radius) for the lids, or None.
        self.irises = [
            None
            if found is None
            else (
                torch.as_tensor(found[0], dtype=image.dtype, device=image.device),
                torch.as_tensor(found[1][0], dtype=image.dtype, device=image.device),
                source[eye[3][0]],
                radius,
            )
            for eye, found, radius in zip(EYES, colours, radii, strict=True)
        ]
        # Where the portrait shows the eye itself (white or iris) rather than lid skin:
        # a moved iris is drawn only where the warp shows these pixels.
        self.opening = torch.from_numpy(opening[None]).to(image)
        self.bare = torch.from_numpy(bare).permute(2, 0, 1).to(image)  # the whites behind
        self.iris_texture = torch.from_numpy(texture).permute(2, 0, 1).to(image)
        self.corner_ids = torch.tensor([e[0] for e in EYES], device=source.device)  # [2, 2]
        self.centre_ids = torch.tensor([e[3][0] for e in EYES], device=source.device)  # [2]
        device = source.device
        self.upper_ids = [index(upper, device) for _, upper, _, _ in EYES]
        self.lower_ids = [index(lower, device) for _, _, lower, _ in EYES]
        self.upper_lines = [index([c[0], *u, c[1]], device) for c, u, _, _ in EYES]
        self.lower_lines = [index([c[0], *lo, c[1]], device) for c, _, lo, _ in EYES]
        self.contours = torch.stack([index(_contour(*eye[:3]), device) for eye in EYES])  # [2, K]
        # Off the CPU an eye's opening is drawn in a box of a size fixed beforehand: twice
        # the portrait's longer eye holds it, nearer the camera or turned towards it.
        longest = max(float(torch.linalg.norm(source[c[1]] - source[c[0]])) for c, *_ in EYES)
        self.box = int(np.ceil(2 * longest)) + 8

    def closure(self, target: torch.Tensor) -> torch.Tensor:
        """How closed each eye is, [B, 2] in 0..1, against the portrait's own eyes."""
        out = []
        for upper, lower, rest in zip(self.upper_ids, self.lower_ids, self.rest, strict=True):
            gap = (target[:, lower, 1] - target[:, upper, 1]).mean(dim=1)
            out.append((1 - gap / rest).clamp(0, 1))
        return torch.stack(out, dim=1)

    def lookup(self, closure: torch.Tensor) -> torch.Tensor:
        """Where landmarks take their texture from, [B, 478, 2]: the portrait's own
        landmarks where the eyes are open (made for every batch: asking whether any eye
        closes would read the answer back from the device)."""
        lookup = self.source[None].repeat(len(closure), 1, 1)
        for eye, (upper, rest) in enumerate(zip(self.upper_ids, self.rest, strict=True)):
            lookup[:, upper, 1] -= (LIFT * rest * closure[:, eye])[:, None]
        return lookup

    def paint(self, frames: torch.Tensor, target: torch.Tensor, grid: torch.Tensor) -> None:
        """Irises to their target places (in place); lids.py paints closing lids."""
        self._irises(frames, target, grid)

    def _contained(self, target: torch.Tensor, radius: torch.Tensor) -> torch.Tensor:
        """Iris centres [B, 2, 2] of the target, moved inside their eye openings where
        the gaze put them too near a lid or a corner; `radius` [B, 2] in pixels."""
        centre = target[:, self.centre_ids].clone()
        for eye in range(len(EYES)):
            up = target[:, self.upper_lines[eye]]  # [B, K, 2]
            low = target[:, self.lower_lines[eye]]
            r = radius[:, eye]
            ends = target[:, self.corner_ids[eye], 0]
            x = _between(
                centre[:, eye, 0],
                ends.amin(dim=1) + CLEAR_OF_CORNERS * r,
                ends.amax(dim=1) - CLEAR_OF_CORNERS * r,
            )
            top_y, bottom_y = _y_at(up, x), _y_at(low, x)
            centre[:, eye, 0] = x
            centre[:, eye, 1] = _between(
                centre[:, eye, 1], top_y + CLEAR_OF_LIDS * r, bottom_y - CLEAR_OF_LIDS * r
            )
        return centre

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
        centre = self._contained(target, self.iris_radius[None] * ratio)  # [B, 2, 2]
        # Where the warp already shows the iris where it belongs, nothing to do.
        moves = (torch.linalg.norm(centre - rigid, dim=-1) >= 0.25) & (width >= 3)
        if exact_sizes(target.device):  # only the eyes whose iris moves
            if not bool(moves.any()):
                return
            moving = moves.nonzero()  # [M, 2]: frame, eye
        else:  # every eye, those whose iris stays weighted 0: no count to read back
            pairs = torch.arange(moves.numel(), device=moves.device)
            moving = torch.stack([pairs // 2, pairs % 2], dim=1)
        # The openings of those eyes, pixel by pixel.
        rings = target[moving[:, 0, None], self.contours[moving[:, 1]]]  # [M, K, 2]
        which, ys, xs, inside = polygon_pixels(rings, self.height, self.width, box=self.box)
        if len(ys) == 0:
            return
        frame, eye = moving[which, 0], moving[which, 1]
        if not exact_sizes(target.device):
            inside = inside * moves[frame, eye]
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
            + torch.einsum("nkj,nj->nk", back.reshape(-1, 2, 2)[pair], offset)
            / ratio.clamp(min=1e-3)[:, None]  # (an eye seen edge-on, weighted 0 off the CPU)
        )
        # Behind the moved iris, the eye as it would look without one, where the warp
        # takes this pixel from.
        to_pixels = on_device(((self.width - 1) / 2, (self.height - 1) / 2), grid.device)
        seen = (grid[frame, ys, xs] + 1) * to_pixels
        behind = sample_pixels(self.bare, seen)
        iris_colour = sample_pixels(self.iris_texture, looked_up)
        iris_weight = iris_weight * sample_pixels(self.opening, seen)[0]
        painted = behind * (1 - iris_weight) + iris_colour * iris_weight
        here = frames[frame, :, ys, xs].T  # [3, N]
        put_pixels(frames, frame, ys, xs, here, here * (1 - inside) + painted * inside)
