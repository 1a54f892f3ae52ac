"""The batched rasteriser: exactly the pixels whose centres lie in a triangle, nearest wins."""

import cv2
import numpy as np
import torch

from vasa_core.render.raster import polygon_pixels, rasterize


def inside(triangle: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Brute force: is each point [N, 2] inside or on the edge of `triangle` [3, 2]?"""
    sides = []
    for k in range(3):
        a, b = triangle[k], triangle[(k + 1) % 3]
        sides.append((b[0] - a[0]) * (points[:, 1] - a[1]) - (b[1] - a[1]) * (points[:, 0] - a[0]))
    sides = np.stack(sides)
    return (sides >= -1e-9).all(axis=0) | (sides <= 1e-9).all(axis=0)


def as_image(covered, frames, height, width) -> np.ndarray:
    frame, y, x, triangle = (t.numpy() for t in covered)
    ids = np.full((frames, height, width), -1)
    ids[frame, y, x] = triangle
    return ids


def test_overlapping_triangles_match_a_brute_force_painter():
    rng = np.random.default_rng(0)
    frames, count, height, width = 3, 40, 48, 64
    corners = rng.uniform(-8, 70, (frames, count, 3, 2))
    priority = torch.as_tensor(np.stack([rng.permutation(count) for _ in range(frames)]))
    priority[0, :10] = -1  # left out
    covered = rasterize(torch.as_tensor(corners), priority, height, width)
    frame, y, x, _ = (t.numpy() for t in covered)
    assert len(np.unique((frame * height + y) * width + x)) == len(x)  # each pixel once
    got = as_image(covered, frames, height, width)
    ys, xs = np.mgrid[0:height, 0:width]
    centres = np.stack([xs.ravel(), ys.ravel()], axis=-1).astype(float)
    for f in range(frames):
        expected = np.full(height * width, -1)
        for i in np.argsort(priority[f].numpy()):  # painter's order: highest last
            if priority[f, i] >= 0:
                expected[inside(corners[f, i], centres)] = i
        np.testing.assert_array_equal(got[f].ravel(), expected)


def test_a_mesh_of_shared_edges_has_no_holes():
    rng = np.random.default_rng(1)
    n = 9
    grid = np.stack(np.meshgrid(np.linspace(3, 60, n), np.linspace(3, 60, n)), axis=-1)
    grid = grid + rng.normal(0, 1.5, grid.shape)
    triangles = []
    for i in range(n - 1):
        for j in range(n - 1):
            triangles.append([grid[i, j], grid[i, j + 1], grid[i + 1, j + 1]])
            triangles.append([grid[i, j], grid[i + 1, j + 1], grid[i + 1, j]])
    corners = torch.as_tensor(np.array(triangles), dtype=torch.float32)[None]
    covered = rasterize(corners, torch.arange(corners.shape[1])[None], 64, 64)
    got = as_image(covered, 1, 64, 64)[0]
    # Pixels well inside the mesh's outline: inside the inner 7x7 cells of the grid.
    inner = got[int(grid[1, :, 1].max()) + 1 : int(grid[-2, :, 1].min()), :]
    inner = inner[:, int(grid[:, 1, 0].max()) + 1 : int(grid[:, -2, 0].min())]
    assert inner.size > 1000 and (inner >= 0).all()


def test_nothing_to_draw_covers_nothing():
    corners = torch.rand(2, 5, 3, 2) * 10
    covered = rasterize(corners, torch.full((2, 5), -1), 16, 16)
    assert all(len(t) == 0 for t in covered)
    off_screen = rasterize(corners - 100, torch.zeros(2, 5, dtype=torch.long), 16, 16)
    assert all(len(t) == 0 for t in off_screen)


def test_polygons_drawn_in_boxes_match_drawing_them_on_the_whole_picture():
    rng = np.random.default_rng(2)
    height, width = 40, 50
    polygons = rng.uniform(-10, 55, (5, 7, 2))  # some reach off the picture
    polygons[4] += 200  # entirely off it
    which, y, x, coverage = polygon_pixels(polygons, height, width)
    assert 4 not in which.tolist() and coverage.min() > 0 and coverage.max() <= 1
    for index, points in enumerate(polygons[:4]):
        whole = np.zeros((height, width), np.uint8)
        corners = np.round(points * 16).astype(np.int32)
        cv2.fillPoly(whole, [corners], 255, lineType=cv2.LINE_AA, shift=4)
        mine = np.zeros((height, width))
        pick = which == index
        mine[y[pick].numpy(), x[pick].numpy()] = coverage[pick].numpy()
        np.testing.assert_allclose(mine, whole / 255, atol=1e-6)
