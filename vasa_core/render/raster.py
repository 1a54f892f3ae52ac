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

The few anti-aliased shapes (the mouth and eye openings) are drawn by OpenCV instead, each in
a small box around it, and handed on as lists of pixels with their coverage.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

_SUBPIXEL = 4  # OpenCV fixed-point bits for polygon corners: 1/16 px


def rasterize(
    corners: torch.Tensor, priority: torch.Tensor, height: int, width: int
) -> tuple[torch.Tensor, ...]:
    """Which triangle covers each covered pixel.

    `corners` [B, T, 3, 2]: triangle corners in pixels (x, y), per frame. `priority`
    [B, T] integers: -1 leaves a triangle out; where triangles overlap the highest one
    wins (ties go to the higher triangle index).
    Returns four [N] tensors listing each covered pixel once: its frame, row y, column x,
    and the index in T of the triangle seen there. Uncovered pixels are not listed.
    """
    batch, count = priority.shape
    frame, tri = torch.nonzero(priority >= 0, as_tuple=True)
    if len(tri) == 0:
        return frame, frame, frame, frame
    chosen = frame * count + tri
    points = corners.reshape(batch * count, 3, 2).index_select(0, chosen)
    top = torch.ceil(points[..., 1].amin(dim=1)).clamp(min=0).long()
    bottom = torch.floor(points[..., 1].amax(dim=1)).clamp(max=height - 1).long()
    edges = _edges(points)

    # One entry per (triangle, pixel row).
    owner, y = _expand(top, (bottom - top + 1).clamp(min=0))
    left, right = _span(edges.index_select(0, owner), y.to(points.dtype))
    first = torch.ceil(left).clamp(min=0).long()
    length = (torch.floor(right).clamp(max=width - 1).long() - first + 1).clamp(min=0)

    # One entry per (triangle, pixel): its flat index into the rows any triangle reaches,
    # and the (priority, triangle) pair packed into one integer, largest wins.
    first_row = int(top.min())
    band = max(int(bottom.max()) - first_row + 1, 0) * width
    if band == 0:  # every triangle is off the picture
        nothing = frame[:0]
        return nothing, nothing, nothing, nothing
    key = priority.reshape(-1).index_select(0, chosen).long() * count + tri
    wide = (int(priority.max()) + 1) * count >= 2**31  # 32 bits scatter faster when enough
    key = key.to(torch.long if wide else torch.int32).index_select(0, owner)
    row_start = frame.index_select(0, owner) * band + (y - first_row) * width + first
    row, pixel = _expand(row_start, length)
    key = key.index_select(0, row)
    best = torch.full((len(priority) * band,), -1, dtype=key.dtype, device=corners.device)
    best.scatter_reduce_(0, pixel, key, reduce="amax")
    won = torch.nonzero(best.take(pixel) == key).squeeze(1)
    pixel, key = pixel.index_select(0, won), key.index_select(0, won).long()
    frame, at = pixel // band, pixel % band
    return frame, at // width + first_row, at % width, key % count


def _expand(start: torch.Tensor, counts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For each i, counts[i] entries: (i, start[i]), (i, start[i] + 1), ..."""
    owner = torch.repeat_interleave(counts)
    offset = torch.cumsum(counts, 0) - counts
    ramp = torch.arange(len(owner), device=counts.device) - offset.index_select(0, owner)
    return owner, start.index_select(0, owner) + ramp


def _edges(points: torch.Tensor) -> torch.Tensor:
    """Per triangle [N, 3, 2], its three edges as [N, 3, 4]: lower end's y and x, upper
    end's y, and dx/dy. Each edge is described from its lower end, whichever triangle it
    belongs to, so two triangles sharing it compute the same crossings."""
    a = points
    b = points.roll(-1, dims=1)  # edges 0-1, 1-2, 2-0
    a_low = a[..., 1] <= b[..., 1]
    low_x = torch.where(a_low, a[..., 0], b[..., 0])
    low_y = torch.minimum(a[..., 1], b[..., 1])
    high_x = torch.where(a_low, b[..., 0], a[..., 0])
    high_y = torch.maximum(a[..., 1], b[..., 1])
    rise = high_y - low_y
    # A flat edge (rise 0) is never crossed: the other two edges meet its ends.
    slope = (high_x - low_x) / torch.where(rise > 0, rise, torch.ones_like(rise))
    high_y = torch.where(rise > 0, high_y, torch.full_like(high_y, -float("inf")))
    return torch.stack([low_y, low_x, high_y, slope], dim=-1)


def _span(edges: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Leftmost and rightmost x on the horizontal lines y [M] of triangles given by their
    edges [M, 3, 4] (see `_edges`)."""
    low_y, low_x, high_y, slope = edges.unbind(dim=-1)
    y = y[:, None]
    crosses = (low_y <= y) & (y <= high_y)
    x = low_x + (y - low_y) * slope
    inf = torch.full_like(x, float("inf"))
    return torch.where(crosses, x, inf).amin(dim=1), torch.where(crosses, x, -inf).amax(dim=1)


def polygon_pixels(
    polygons: np.ndarray, height: int, width: int, device=None
) -> tuple[torch.Tensor, ...]:
    """Anti-aliased coverage of a few polygons (mouth and eye openings), pixel by pixel.

    Each polygon of `polygons` [P, K, 2] (pixels) is drawn by OpenCV into a box just around
    it, so the cost follows the polygon's size, not the frame's. Returns four [N] tensors:
    which polygon, row y, column x, and coverage in (0, 1].
    """
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
