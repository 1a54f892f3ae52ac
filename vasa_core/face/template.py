"""The neutral template face: the mean Face Mesh shape of many people, in canonical units.

MediaPipe 0.10.21 ships the Face Mesh model but not its canonical face mesh, so we measure
one: Face Mesh on the 100 face photos that scikit-image bundles (`lfw_subset`, from Labeled
Faces in the Wild), each shape aligned to the others by a similarity transform, the
per-point median taken, then made exactly left-right symmetric. A median of many people is
a better "neutral" than any one face: its expression is close to rest and its proportions
are nobody's in particular. The result ships as `assets/face_template.npz`; rebuild it with

    python -m vasa_core.face.template

Canonical frame: x to the viewer's right, y up, z towards the viewer; one unit is the face
width (landmarks 234 to 454); the origin is half-way between those two points, 0.25 units
behind them, near where the head turns.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.optimize import linear_sum_assignment

from vasa_core.face import landmarks, topology
from vasa_core.face.pose import fit_similarity, pixels_to_view

ASSET = "face_template.npz"
_FLIP_X = np.array([-1.0, 1.0, 1.0])


@dataclass(frozen=True)
class Template:
    points: np.ndarray  # [478, 3] canonical units
    mirror: np.ndarray  # [478] index of each point's left-right partner
    n_faces: int  # how many faces the median was taken over


def _lfw_faces() -> list[np.ndarray]:
    """Face Mesh landmarks (viewer's frame) of scikit-image's bundled LFW face crops."""
    import skimage

    crops = np.load(Path(skimage.__file__).parent / "data" / "lfw_subset.npy")[:100]
    shapes = []
    for crop in crops:
        gray = np.asarray(Image.fromarray((crop * 255).astype(np.uint8)).resize((256, 256)))
        rgb = np.pad(np.repeat(gray[..., None], 3, axis=2), ((128, 128), (128, 128), (0, 0)))
        found = landmarks.detect_all(rgb, tiles=False)
        if found:
            shapes.append(pixels_to_view(found[0]))
    return shapes


def _upright(points: np.ndarray) -> np.ndarray:
    """Rough canonical frame from anatomy: x along the eye corners, y chin to forehead."""
    x = points[263] - points[33]
    y = points[topology.FOREHEAD] - points[topology.CHIN]
    x /= np.linalg.norm(x)
    y -= (y @ x) * x
    y /= np.linalg.norm(y)
    axes = np.stack([x, y, np.cross(x, y)])
    centred = points - points[list(topology.STABLE)].mean(axis=0)
    return centred @ axes.T / np.linalg.norm(points[454] - points[234])


def _align_all(shapes: list[np.ndarray], rounds: int = 5) -> np.ndarray:
    """Generalised Procrustes: align every shape to the running median, then re-median."""
    stack = np.stack([_upright(s) for s in shapes])
    reference = np.median(stack, axis=0)
    for _ in range(rounds):
        for i, shape in enumerate(stack):
            s, r, t = fit_similarity(shape, reference)
            stack[i] = s * shape @ r.T + t
        reference = np.median(stack, axis=0)
    return reference


def _mirror_permutation(points: np.ndarray) -> np.ndarray:
    """Pair each point with the nearest point of the mirrored shape (an involution)."""
    mirrored = points * _FLIP_X
    cost = ((points[:, None, :] - mirrored[None, :, :]) ** 2).sum(-1)
    _, partner = linear_sum_assignment(cost)
    for i, j in enumerate(partner):  # make the pairing symmetric: i <-> j
        if partner[j] != i:
            partner[j] = i
    return partner


def _symmetrise(points: np.ndarray, rounds: int = 5) -> tuple[np.ndarray, np.ndarray]:
    for _ in range(rounds):
        partner = _mirror_permutation(points)
        symmetric = 0.5 * (points + (points * _FLIP_X)[partner])
        _, r, t = fit_similarity(points, symmetric)
        points = points @ r.T + t
    partner = _mirror_permutation(points)
    return 0.5 * (points + (points * _FLIP_X)[partner]), partner


def build_template() -> Template:
    """Measure the template from the bundled face photos (about two seconds)."""
    shapes = _lfw_faces()
    points, partner = _symmetrise(_align_all(shapes))
    width = points[topology.FACE_SIDES[1], 0] - points[topology.FACE_SIDES[0], 0]
    origin = points[list(topology.FACE_SIDES)].mean(axis=0) - np.array([0.0, 0.0, 0.25 * width])
    origin[0] = 0.0
    points = (points - origin) / width
    return Template(points=points, mirror=partner, n_faces=len(shapes))


@lru_cache(maxsize=1)
def load_template() -> Template:
    """The shipped template (see the module docstring for how it was made)."""
    with resources.files("vasa_core.assets").joinpath(ASSET).open("rb") as f, np.load(f) as data:
        return Template(
            points=data["points"].astype(np.float64),
            mirror=data["mirror"].astype(np.int64),
            n_faces=int(data["n_faces"]),
        )


def mirror_back(points: np.ndarray, width: float) -> np.ndarray:
    """Landmarks [..., 478, 3] found on a mirror image, put back on the original picture.

    x becomes width - x (Face Mesh's coordinates are continuous, so that is exact) and every
    point trades places with its left-right partner: the right eye's corner of the mirror
    image is the left eye's corner of the original. Face Mesh is not left-right symmetric,
    so reading a picture and its mirror image shows how far its reading can be trusted.
    """
    out = np.array(points, dtype=np.float64)[..., load_template().mirror, :]
    out[..., 0] = width - out[..., 0]
    return out


def save_template(template: Template, path: Path) -> None:
    np.savez(path, points=template.points, mirror=template.mirror, n_faces=template.n_faces)


if __name__ == "__main__":
    built = build_template()
    target = Path(__file__).resolve().parents[1] / "assets" / ASSET
    save_template(built, target)
    print(f"template from {built.n_faces} faces written to {target}")
