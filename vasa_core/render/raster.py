"""Triangle rasterisation in torch, all frames of a batch at once.

The mesh warp needs, for every output pixel, the triangle that covers it. Drawing ~880
triangles one at a time costs a Python call each (OpenCV's `fillConvexPoly`: 1.6 ms a
frame at 256 px, more than the whole warp's lookup), so instead every triangle is cut into
its pixel rows, every row into its pixels, and one `scatter_reduce` keeps, per pixel, the
triangle drawn last: a few tensor operations per batch, whatever the number of triangles.

A pixel (x, y) belongs to a triangle when its centre, the integer point, lies inside or on
an edge. Each edge is evaluated from its lower end to its upper end whichever triangle it
belongs to, so two triangles sharing an edge agree on it exactly and leave no gap.
"""

from __future__ import annotations

import torch


def rasterize(
    corners: torch.Tensor, priority: torch.Tensor, height: int, width: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Which triangle covers each covered pixel.

    `corners` [B, T, 3, 2]: triangle corners in pixels (x, y), per frame. `priority`
    [B, T] integers: -1 leaves a triangle out; where triangles overlap the highest one
    wins (ties go to the higher triangle index).
    Returns `pixel`, each covered pixel once as a flat index into [B, H, W], and `triangle`,
    the index in T of the triangle seen there; uncovered pixels are not listed.
    """
    batch, count = priority.shape
    frame, tri = torch.nonzero(priority >= 0, as_tuple=True)
    chosen = frame * count + tri
    # Double precision keeps the two triangles of a shared edge in exact agreement.
    points = corners.reshape(batch * count, 3, 2).index_select(0, chosen).double()
    top = torch.ceil(points[..., 1].amin(dim=1)).clamp(min=0).long()
    bottom = torch.floor(points[..., 1].amax(dim=1)).clamp(max=height - 1).long()

    # One entry per (triangle, pixel row), then one per (triangle, pixel).
    owner, y = _expand(top, (bottom - top + 1).clamp(min=0))
    left, right = _span(points.index_select(0, owner), y.double())
    first = torch.ceil(left).clamp(min=0).long()
    row, x = _expand(
        first, (torch.floor(right).clamp(max=width - 1).long() - first + 1).clamp(min=0)
    )
    owner = owner.index_select(0, row)
    pixel = (frame.index_select(0, owner) * height + y.index_select(0, row)) * width + x

    # Per pixel the largest (priority, triangle) pair, packed into one integer; each
    # pixel's winner is the one entry that holds it.
    key = priority.reshape(-1).index_select(0, chosen).long() * count + tri
    key = key.index_select(0, owner)
    best = torch.full((batch * height * width,), -1, dtype=torch.long, device=corners.device)
    best.scatter_reduce_(0, pixel, key, reduce="amax")
    won = best.take(pixel) == key
    return pixel[won], tri.index_select(0, owner)[won]


def _expand(start: torch.Tensor, counts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For each i, counts[i] entries: (i, start[i]), (i, start[i] + 1), ..."""
    owner = torch.repeat_interleave(counts)
    offset = torch.cumsum(counts, 0) - counts
    ramp = torch.arange(len(owner), device=counts.device) - offset.index_select(0, owner)
    return owner, start.index_select(0, owner) + ramp


def _span(points: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Leftmost and rightmost x of triangles [N, 3, 2] on the horizontal lines y [N]."""
    a = points
    b = points.roll(-1, dims=1)  # edges 0-1, 1-2, 2-0
    low = torch.where((a[..., 1] <= b[..., 1])[..., None], a, b)
    high = torch.where((a[..., 1] <= b[..., 1])[..., None], b, a)
    rise = high[..., 1] - low[..., 1]
    crosses = (low[..., 1] <= y[:, None]) & (y[:, None] <= high[..., 1]) & (rise > 0)
    t = (y[:, None] - low[..., 1]) / torch.where(rise > 0, rise, torch.ones_like(rise))
    x = low[..., 0] + t * (high[..., 0] - low[..., 0])
    # A row through a flat edge meets the other two edges at its ends, so flat edges
    # (rise 0) can be skipped.
    inf = torch.full_like(x, float("inf"))
    return torch.where(crosses, x, inf).amin(dim=1), torch.where(crosses, x, -inf).amax(dim=1)
