"""Named landmark indices on the Face Mesh topology, and its edges.

All indices refer to MediaPipe Face Mesh with refine_landmarks=True (478 points: 468 mesh
vertices, then two irises of five points each). "Left" and "right" are the subject's.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

N_MESH = 468

LIPS_INNER_UPPER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LIPS_INNER_LOWER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
LIPS_OUTER_UPPER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
LIPS_OUTER_LOWER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
MOUTH_CORNERS = (61, 291)  # outer corners: subject's right, left

# Eye corners (outer, inner) and lids, each lid ordered from the outer to the inner corner.
RIGHT_EYE_CORNERS = (33, 133)
LEFT_EYE_CORNERS = (263, 362)
RIGHT_UPPER_LID = (246, 161, 160, 159, 158, 157, 173)
RIGHT_LOWER_LID = (7, 163, 144, 145, 153, 154, 155)
LEFT_UPPER_LID = (466, 388, 387, 386, 385, 384, 398)
LEFT_LOWER_LID = (249, 390, 373, 374, 380, 381, 382)

RIGHT_IRIS = (468, 469, 470, 471, 472)  # centre first
LEFT_IRIS = (473, 474, 475, 476, 477)

# Brows ordered from the outer end to the inner end: upper edge, then lower edge.
RIGHT_BROW = (70, 63, 105, 66, 107, 46, 53, 52, 65, 55)
LEFT_BROW = (300, 293, 334, 296, 336, 276, 283, 282, 295, 285)
RIGHT_BROW_INNER = (107, 66, 55, 65)
LEFT_BROW_INNER = (336, 296, 285, 295)

NOSE_TIP = 4
CHIN = 152
FOREHEAD = 10
FACE_SIDES = (234, 454)  # widest points of the face oval, near the ears; width = 1 unit

# Points that move with the skull, not with expressions: a rigid fit on them gives the
# head pose. The rig never moves them (see rig.py), so pose and dynamics stay apart.
STABLE = (6, 168, 197, 195, 5, 4, 129, 358, 33, 133, 263, 362)


@lru_cache(maxsize=1)
def mesh_edges() -> np.ndarray:
    """The 1322 edges of the Face Mesh tessellation as an [E, 2] int array."""
    from mediapipe.python.solutions.face_mesh_connections import FACEMESH_TESSELATION

    return np.unique(np.sort(np.array(list(FACEMESH_TESSELATION), dtype=np.int64), axis=1), axis=0)


@lru_cache(maxsize=1)
def mesh_triangles() -> np.ndarray:
    """The 852 triangles of the tessellation, recovered from its edges, as [852, 3] indices.

    MediaPipe ships the tessellation as edges only. Its triangles are the 3-cycles of the
    edge graph, except "separating" 3-cycles that are not faces: those have every edge
    shared by three triangles. The eye openings and the mouth opening are holes, not
    faces (the canonical mesh's 898 = 852 + 2 x 14 eye + 18 mouth triangles).
    """
    neighbours: dict[int, set[int]] = {}
    for a, b in mesh_edges().tolist():
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    cycles = sorted(
        {
            tuple(sorted((a, b, c)))
            for a, b in mesh_edges().tolist()
            for c in neighbours[a] & neighbours[b]
        }
    )
    uses: dict[tuple[int, int], int] = {}
    for a, b, c in cycles:
        for edge in ((a, b), (a, c), (b, c)):
            uses[edge] = uses.get(edge, 0) + 1
    faces = [
        t
        for t in cycles
        if not all(uses[e] > 2 for e in ((t[0], t[1]), (t[0], t[2]), (t[1], t[2])))
    ]
    return np.array(faces, dtype=np.int64)


def eye_triangles() -> np.ndarray:
    """Triangles covering both eye openings, a strip between the lids: [28, 3]."""
    triangles = []
    for corners, upper, lower in (
        (RIGHT_EYE_CORNERS, RIGHT_UPPER_LID, RIGHT_LOWER_LID),
        (LEFT_EYE_CORNERS, LEFT_UPPER_LID, LEFT_LOWER_LID),
    ):
        triangles.append((corners[0], upper[0], lower[0]))
        for i in range(len(upper) - 1):
            triangles.append((upper[i], lower[i], upper[i + 1]))
            triangles.append((upper[i + 1], lower[i], lower[i + 1]))
        triangles.append((upper[-1], corners[1], lower[-1]))
    return np.array(triangles, dtype=np.int64)


FACE_OVAL = (
    10,
    338,
    297,
    332,
    284,
    251,
    389,
    356,
    454,
    323,
    361,
    288,
    397,
    365,
    379,
    378,
    400,
    377,
    152,
    148,
    176,
    149,
    150,
    136,
    172,
    58,
    132,
    93,
    234,
    127,
    162,
    21,
    54,
    103,
    67,
    109,
)
