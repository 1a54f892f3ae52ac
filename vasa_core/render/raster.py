"""Triangle rasterisation in torch, all frames of a batch at once.

The mesh warp needs, for every output pixel, the triangle that covers it. Drawing ~880
triangles one at a time costs a Python call each (OpenCV's `fillConvexPoly`: 1.6 ms a
frame at 256 px, more than the whole warp's lookup), so instead every triangle is cut into
its pixel rows, every row into its pixels, and one `scatter_reduce` keeps, per pixel, the
triangle of highest priority (the nearest): a few tensor operations per batch, whatever the
number of triangles, on the CPU or the GPU alike.

A pixel (x, y) belongs to a triangle when its centre, the integer point, lies inside or on
an edge. Each edge is evaluated from its lower end to its upper end whichever triangle it
belongs to, so two triangles sharing an edge agree on it exactly and leave no gap.

The few anti-aliased shapes (the mouth and eye openings) are drawn each in a small box
around it and handed on as lists of pixels with their coverage: by OpenCV on the CPU (1 ms
for a batch, where torch took 65), in torch on a GPU (so that their corners never leave it).

Two ways to run the render loop, chosen in one place (`exact_sizes`): on the CPU, lists hold
exactly the pixels needed, their lengths read back as they are made (free there, and the
least work); on a GPU every shape is fixed in advance (boxes of a size known beforehand,
all frames' eyes, with weights of 0 where nothing is drawn), because each read-back makes
the host wait for the device to catch up before it can queue more work.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import cv2
import numpy as np
import torch

_SUBPIXEL = 4  # OpenCV fixed-point bits for polygon corners: 1/16 px
# Highest priority a triangle may have: keys (priority, triangle) then fit in 32 bits, whose
# scatter is faster, without reading the largest priority back (the nearness of a face's
# triangles in 1/16 px never comes near).
_MAX_PRIORITY = 2**31 // 4096 - 1


# OpenCV's anti-aliased fill also strokes the outline with an anti-aliased line, so its
# coverage reaches this much further out than the polygon's own edge (fitted on mouth and
# eye openings: the torch fill then covers as many pixels, within 0.05 per pixel on average).
_AA_REACH = 0.65
_FIXED_EVERYWHERE = False  # set by `fixed_shapes`


def exact_sizes(device: torch.device) -> bool:
    """Whether the render loop on `device` may read sizes back as it goes (the CPU) or keeps
    every shape fixed in advance (a GPU): the one switch between the loop's two ways."""
    return device.type == "cpu" and not _FIXED_EVERYWHERE


@contextmanager
def fixed_shapes() -> Iterator[None]:
    """Within it, the render loop runs the GPU's way on every device: how the tests run the
    GPU's code on a CPU, and compare it with the CPU's."""
    global _FIXED_EVERYWHERE
    before, _FIXED_EVERYWHERE = _FIXED_EVERYWHERE, True
    try:
        yield
    finally:
        _FIXED_EVERYWHERE = before


def put_pixels(
    frames: torch.Tensor,
    frame: torch.Tensor,
    ys: torch.Tensor,
    xs: torch.Tensor,
    before: torch.Tensor,
    after: torch.Tensor,
) -> None:
    """Pixels (frame, ys, xs) of frames [B, C, H, W] that were `before` [C, N] become
    `after` [C, N], in place. Exact lists name each pixel once: written. Fixed boxes may name
    one twice (boxes that overlap, or clamped at the border), all but one unchanged: there
    the change is added, so the unchanged ones change nothing."""
    if exact_sizes(frames.device):
        frames[frame, :, ys, xs] = after.T
    else:
        channels_last = frames.permute(0, 2, 3, 1)  # a view: writes reach `frames`
        channels_last.index_put_((frame, ys, xs), (after - before).T, accumulate=True)


class Capacity:
    """How many (triangle, row) and (triangle, pixel) entries one frame's rasterisation may
    take where list lengths are fixed beforehand (off the CPU). Set from the first batch
    (its one read-back of sizes), then checked once per batch after its frames came back:
    a batch that needed more is drawn again with twice the room (`grow`)."""

    def __init__(self) -> None:
        self.rows = 0
        self.pixels = 0
        self.needed: torch.Tensor | None = None  # [2]: the last batch's rows, pixels a frame

    def grow(self) -> bool:
        """Whether the last batch needed more room than it had (it is then to be drawn
        again, with twice the room). Reads two numbers back: call it after the frames."""
        if self.needed is None:
            return False
        rows, pixels = (int(n) for n in self.needed.tolist())
        self.needed = None
        if rows <= self.rows and pixels <= self.pixels:
            return False
        self.rows, self.pixels = max(rows, 2 * self.rows), max(pixels, 2 * self.pixels)
        return True


def rasterize(
    corners: torch.Tensor,
    priority: torch.Tensor,
    height: int,
    width: int,
    capacity: Capacity | None = None,
) -> tuple[torch.Tensor, ...]:
    """Which triangle covers each covered pixel.

    `corners` [B, T, 3, 2]: triangle corners in pixels (x, y), per frame. `priority`
    [B, T] integers: -1 leaves a triangle out; where triangles overlap the highest one
    wins (ties go to the higher triangle index).
    Returns four [N] tensors listing each covered pixel once: its frame, row y, column x,
    and the index in T of the triangle seen there. Uncovered pixels are not listed where
    sizes are exact (the CPU); off it every pixel of every frame is, in order, the
    uncovered ones with triangle -1, and `capacity` bounds the work (a fresh one if None).
    """
    if not exact_sizes(corners.device):
        return _rasterize_fixed(corners, priority, height, width, capacity or Capacity())
    batch, count = priority.shape
    frame, tri = torch.nonzero(priority >= 0, as_tuple=True)
    if len(tri) == 0:
        return frame, frame, frame, frame
    chosen = frame * count + tri
    points = corners.reshape(batch * count, 3, 2).index_select(0, chosen)
    top, bottom, edges = _extent(points, height)

    # One entry per (triangle, pixel row).
    owner, y = _expand(top, (bottom - top + 1).clamp(min=0))
    first, length = _row_spans(edges, owner, y, width)

    # One entry per (triangle, pixel): its flat index into the rows any triangle reaches,
    # and the (priority, triangle) pair packed into one integer, largest wins. Rows are
    # 2**shift apart (a power of two, at least the width), so a pixel's row and column come
    # back by a shift and a mask: integer division, slow on the CPU, is left to the frame.
    first_row = int(top.min())
    shift = (width - 1).bit_length()
    band = max(int(bottom.max()) - first_row + 1, 0) << shift
    if band == 0:  # every triangle is off the picture
        nothing = frame[:0]
        return nothing, nothing, nothing, nothing
    key = _keys(priority.reshape(-1).index_select(0, chosen), tri, count).index_select(0, owner)
    row_start = frame.index_select(0, owner) * band + ((y - first_row) << shift) + first
    row, pixel = _expand(row_start, length)
    key = key.index_select(0, row)
    best = torch.full((len(priority) * band,), -1, dtype=key.dtype, device=corners.device)
    best.scatter_reduce_(0, pixel, key, reduce="amax")
    won = torch.nonzero(best.take(pixel) == key).squeeze(1)
    pixel, key = pixel.index_select(0, won), key.index_select(0, won)
    frame = pixel // band
    at = pixel - frame * band
    return frame, (at >> shift) + first_row, at & ((1 << shift) - 1), _triangle(key, count)


def _rasterize_fixed(
    corners: torch.Tensor, priority: torch.Tensor, height: int, width: int, capacity: Capacity
) -> tuple[torch.Tensor, ...]:
    """`rasterize` with every length fixed beforehand: all triangles (those left out have no
    rows), lists of `capacity` entries a frame (the tail unused), the whole frame as the
    band, and the result a triangle per pixel (-1 uncovered). Nothing is read back but, on
    a capacity's first use, the sizes that set it."""
    batch, count = priority.shape
    device = corners.device
    points = corners.reshape(batch * count, 3, 2)
    frame = torch.arange(batch * count, device=device) // count
    tri = torch.arange(batch * count, device=device) % count
    top, bottom, edges = _extent(points, height)
    rows = torch.where(priority.reshape(-1) >= 0, (bottom - top + 1).clamp(min=0), 0)
    if capacity.rows == 0:  # first use: room for half as much again as this batch needs
        capacity.rows = int(rows.reshape(batch, count).sum(dim=1).max() * 1.5) + 64
    owner, y, used = _expand_fixed(top, rows, capacity.rows * batch)
    first, length = _row_spans(edges, owner, y, width)
    length = torch.where(used, length, 0)
    if capacity.pixels == 0:
        per_frame = torch.zeros(batch, dtype=length.dtype, device=device)
        per_frame.index_add_(0, frame.index_select(0, owner), length)
        capacity.pixels = int(per_frame.max() * 1.5) + 256
    band = height * width
    key = _keys(priority.reshape(-1), tri, count).index_select(0, owner)
    row_start = frame.index_select(0, owner) * band + y * width + first
    row, pixel, drawn = _expand_fixed(row_start, length, capacity.pixels * batch)
    spare = batch * band  # one slot past the frames, where unused entries go
    pixel = torch.where(drawn, pixel, spare)
    best = torch.full((spare + 1,), -1, dtype=key.dtype, device=device)
    best.scatter_reduce_(0, pixel, key.index_select(0, row), reduce="amax")
    # The largest need of any frame, for `Capacity.grow` to read after the frames.
    frame_rows = torch.zeros(batch, dtype=rows.dtype, device=device).index_add_(0, frame, rows)
    frame_pixels = torch.zeros(batch, dtype=length.dtype, device=device)
    frame_pixels.index_add_(0, frame.index_select(0, owner), length)
    capacity.needed = torch.stack([frame_rows.max(), frame_pixels.max()])
    seen = best[:spare]
    triangle = torch.where(seen >= 0, _triangle(seen, count), -1)
    at = torch.arange(spare, device=device)
    return at // band, at % band // width, at % width, triangle


def _extent(points: torch.Tensor, height: int) -> tuple[torch.Tensor, ...]:
    """First and last pixel row each triangle [N, 3, 2] reaches, and its edges."""
    top = torch.ceil(points[..., 1].amin(dim=1)).clamp(min=0).long()
    bottom = torch.floor(points[..., 1].amax(dim=1)).clamp(max=height - 1).long()
    return top, bottom, _edges(points)


def _row_spans(
    edges: torch.Tensor, owner: torch.Tensor, y: torch.Tensor, width: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """First pixel column and number of pixels of each (triangle `owner`, row y) entry."""
    # Gathered as 12 rows of fields: along the last of three dimensions it is 7x slower.
    fields = edges.flatten(0, 1).index_select(1, owner).unflatten(0, edges.shape[:2])
    left, right = _span(fields, y.to(edges.dtype))
    first = torch.ceil(left).clamp(min=0).long()
    length = (torch.floor(right).clamp(max=width - 1).long() - first + 1).clamp(min=0)
    return first, length


def _keys(priority: torch.Tensor, tri: torch.Tensor, count: int) -> torch.Tensor:
    """(priority, triangle) packed into one integer per triangle, the largest winning: the
    triangle in the low bits (as many as `count` needs), so a mask, not a division, gets
    it back (`_triangle`)."""
    bits = (count - 1).bit_length()
    key = (priority.long().clamp(max=_MAX_PRIORITY) << bits) + tri
    wide = (_MAX_PRIORITY + 1) << bits >= 2**31  # never, for a face's ~880 triangles
    return key.to(torch.long if wide else torch.int32)


def _triangle(key: torch.Tensor, count: int) -> torch.Tensor:
    """The triangle indices (long) of `_keys` made for `count` triangles."""
    return (key & ((1 << (count - 1).bit_length()) - 1)).long()


def _expand(start: torch.Tensor, counts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For each i, counts[i] entries: (i, start[i]), (i, start[i] + 1), ..."""
    owner = torch.repeat_interleave(counts)
    offset = torch.cumsum(counts, 0) - counts  # where each i's entries begin
    # start[i] + (entry - offset[i]), with one lookup per entry rather than two.
    return owner, (start - offset).index_select(0, owner) + torch.arange(
        len(owner), device=counts.device
    )


def _expand_fixed(
    start: torch.Tensor, counts: torch.Tensor, size: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """`_expand` into exactly `size` entries, and which of them are used: the entries past
    sum(counts) are not (nor, should it exceed `size`, the entries beyond it)."""
    ends = torch.cumsum(counts, 0)
    slot = torch.arange(size, device=counts.device)
    owner = torch.searchsorted(ends, slot, right=True)
    used = owner < len(counts)
    owner = owner.clamp(max=len(counts) - 1)
    return owner, (start - (ends - counts)).index_select(0, owner) + slot, used


def _edges(points: torch.Tensor) -> torch.Tensor:
    """Per triangle [N, 3, 2], its three edges as [3, 4, N]: lower end's y and x, upper
    end's y, and dx/dy. Each edge is described from its lower end, whichever triangle it
    belongs to, so two triangles sharing it compute the same crossings. Triangles come
    last, so each field of an edge is one contiguous row: `_span`'s many rows of pixels
    then run at full vector speed (with the triangles first, a third slower)."""
    a = points.permute(1, 2, 0)  # [3, 2, N]: corner, x or y, triangle
    b = a.roll(-1, dims=0)  # edges 0-1, 1-2, 2-0
    a_low = a[:, 1] <= b[:, 1]
    low_x = torch.where(a_low, a[:, 0], b[:, 0])
    low_y = torch.minimum(a[:, 1], b[:, 1])
    high_x = torch.where(a_low, b[:, 0], a[:, 0])
    high_y = torch.maximum(a[:, 1], b[:, 1])
    rise = high_y - low_y
    # A flat edge (rise 0) is never crossed: the other two edges meet its ends.
    slope = (high_x - low_x) / torch.where(rise > 0, rise, torch.ones_like(rise))
    high_y = torch.where(rise > 0, high_y, torch.full_like(high_y, -float("inf")))
    return torch.stack([low_y, low_x, high_y, slope], dim=1)


def _span(edges: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Leftmost and rightmost x on the horizontal lines y [M] of triangles given by their
    edges [3, 4, M] (see `_edges`)."""
    low_y, low_x, high_y, slope = edges.unbind(dim=1)  # each [3, M]
    crosses = (low_y <= y) & (y <= high_y)
    x = low_x + (y - low_y) * slope
    inf = float("inf")
    return torch.where(crosses, x, inf).amin(dim=0), torch.where(crosses, x, -inf).amax(dim=0)


def polygon_pixels(
    polygons: torch.Tensor | np.ndarray, height: int, width: int, device=None, box: int = 0
) -> tuple[torch.Tensor, ...]:
    """Anti-aliased coverage of a few polygons (mouth and eye openings), pixel by pixel.

    Each polygon of `polygons` [P, K, 2] (pixels; a tensor stays on its device) is drawn into
    a box just around it, so the cost follows the polygon's size, not the frame's. Returns
    four [N] tensors: which polygon, row y, column x, and coverage in (0, 1]. Where sizes
    are exact (`exact_sizes`: the CPU), OpenCV draws and only covered pixels are listed;
    elsewhere torch draws in boxes of `box` pixels a side (at least as large as any of the
    polygons, a bound known beforehand) and lists every pixel of them, coverage 0 included.
    """
    if isinstance(polygons, torch.Tensor):
        device = polygons.device
    device = torch.device("cpu") if device is None else torch.device(device)
    if not exact_sizes(device):
        points = torch.as_tensor(polygons, dtype=torch.float32, device=device)
        if box <= 0:
            raise ValueError("polygon_pixels: a fixed-size box is needed off the CPU")
        return _fill_boxes(points.reshape(-1, *points.shape[-2:]), height, width, box)
    if isinstance(polygons, torch.Tensor):
        polygons = polygons.detach().cpu().numpy()
    return _fill_opencv(polygons, height, width, device)


def _fill_opencv(
    polygons: np.ndarray, height: int, width: int, device: torch.device
) -> tuple[torch.Tensor, ...]:
    """`polygon_pixels` by OpenCV, each polygon in a box around it: covered pixels only."""
    polygons = np.asarray(polygons, dtype=np.float64).reshape(-1, *np.shape(polygons)[-2:])
    low = np.maximum(np.floor(polygons.min(axis=1)).astype(int) - 1, 0)
    high = np.minimum(np.ceil(polygons.max(axis=1)).astype(int) + 2, (width, height))
    corners = np.round((polygons - low[:, None]) * (1 << _SUBPIXEL))
    corners = np.ascontiguousarray(corners, dtype=np.int32)  # OpenCV wants C order
    which, ys, xs, cover = [], [], [], []
    for index, ((x0, y0), (x1, y1)) in enumerate(zip(low, high, strict=True)):
        if x1 <= x0 or y1 <= y0:
            continue
        box = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(box, [corners[index]], 255, lineType=cv2.LINE_AA, shift=_SUBPIXEL)
        y, x = np.nonzero(box)
        which.append(np.full(len(y), index))
        ys.append(y + y0)
        xs.append(x + x0)
        cover.append(box[y, x])
    if not which:
        empty = torch.zeros(0, dtype=torch.long, device=device)
        return empty, empty, empty, empty.float()
    longs = (torch.as_tensor(np.concatenate(a), device=device) for a in (which, ys, xs))
    coverage = torch.as_tensor(np.concatenate(cover), device=device).float() / 255
    return *longs, coverage


def _fill_boxes(
    polygons: torch.Tensor, height: int, width: int, box: int
) -> tuple[torch.Tensor, ...]:
    """`polygon_pixels` in torch, all of a box of `box` pixels a side per polygon [P, K, 2].

    A pixel's coverage is 0.5 plus its centre's signed distance to the outline (positive
    inside), clamped to 0..1 (a straight edge's share of the pixel), taken `_AA_REACH`
    further out as OpenCV's is. Inside is by the even-odd rule, as fillPoly's.
    Each box lies inside the frame (a polygon reaching past the frame's edge is cut there),
    so no pixel is listed twice for one polygon.
    """
    count, corners = polygons.shape[:2]
    device = polygons.device
    side_y, side_x = min(box, height), min(box, width)
    low = torch.floor(polygons.amin(dim=1)) - 1  # [P, 2]: the box's corner, x and y
    x0 = low[:, 0].clamp(0, width - side_x).long()
    y0 = low[:, 1].clamp(0, height - side_y).long()
    ys = (y0[:, None] + torch.arange(side_y, device=device))[:, :, None].expand(-1, -1, side_x)
    xs = (x0[:, None] + torch.arange(side_x, device=device))[:, None, :].expand(-1, side_y, -1)
    px, py = xs.float(), ys.float()
    inside = torch.zeros_like(px, dtype=torch.bool)
    nearest = torch.full_like(px, float("inf"))  # squared distance to the outline
    for k in range(corners):  # one edge at a time: the boxes' pixels are the many
        a, b = polygons[:, k], polygons[:, (k + 1) % corners]  # [P, 2]
        ax, ay = a[:, 0, None, None], a[:, 1, None, None]
        dx, dy = (b[:, 0] - a[:, 0])[:, None, None], (b[:, 1] - a[:, 1])[:, None, None]
        straddles = (ay > py) != ((ay + dy) > py)
        crossing = ax + (py - ay) * dx / torch.where(dy == 0, torch.ones_like(dy), dy)
        inside ^= straddles & (px < crossing)
        along = ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy).clamp(min=1e-12)
        along = along.clamp(0, 1)
        nearest = torch.minimum(nearest, (px - ax - along * dx) ** 2 + (py - ay - along * dy) ** 2)
    distance = nearest.sqrt()
    coverage = (0.5 + _AA_REACH + torch.where(inside, distance, -distance)).clamp(0, 1)
    which = torch.arange(count, device=device)[:, None, None].expand_as(ys)
    return which.reshape(-1), ys.reshape(-1), xs.reshape(-1), coverage.reshape(-1)
