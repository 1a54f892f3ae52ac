"""Example portraits that need no download: two photos shipped inside our dependencies,
and a drawn face made here, so the kit shows that drawings work too.

    astronaut     Eileen Collins, NASA portrait (scikit-image's `data.astronaut`)
    grace_hopper  Grace Hopper (matplotlib's sample data `grace_hopper.jpg`)
    drawn         a cartoon face drawn by `draw_face_portrait` below
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from vasa_core.errors import VasaError

NAMES = ("astronaut", "grace_hopper", "drawn")
PREFIX = "example:"


def astronaut() -> np.ndarray:
    import skimage.data

    return np.ascontiguousarray(skimage.data.astronaut())


def grace_hopper() -> np.ndarray:
    import matplotlib.cbook

    with Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg")) as image:
        return np.asarray(image.convert("RGB"))


def drawn() -> np.ndarray:
    return _drawn().copy()


def load(name: str) -> np.ndarray:
    """An example portrait by name (with or without the `example:` prefix)."""
    key = name.removeprefix(PREFIX)
    if key not in NAMES:
        raise VasaError(f"unknown example {name!r}; choose one of: {', '.join(NAMES)}")
    return {"astronaut": astronaut, "grace_hopper": grace_hopper, "drawn": drawn}[key]()


@lru_cache(maxsize=1)
def _drawn() -> np.ndarray:
    return draw_face_portrait()


def draw_face_portrait(size: int = 512) -> np.ndarray:
    """A flat-shaded cartoon portrait, drawn at 4x and downsampled for smooth edges."""
    k = 4 * size / 512  # all coordinates below are for a 512 px canvas

    def box(cx: float, cy: float, rx: float, ry: float) -> list[float]:
        return [k * (cx - rx), k * (cy - ry), k * (cx + rx), k * (cy + ry)]

    def pts(*xy: float) -> list[tuple[float, float]]:
        return [(k * xy[i], k * xy[i + 1]) for i in range(0, len(xy), 2)]

    canvas = Image.new("RGB", (round(512 * k), round(512 * k)))
    top_colour, bottom_colour = np.array([196, 220, 236]), np.array([150, 180, 210])
    ramp = np.linspace(0, 1, canvas.height)[:, None, None]
    sky = (top_colour * (1 - ramp) + bottom_colour * ramp).astype(np.uint8)
    canvas = Image.fromarray(np.broadcast_to(sky, (canvas.height, canvas.width, 3)).copy())
    d = ImageDraw.Draw(canvas)

    skin, shade, hair = (236, 190, 160), (214, 160, 130), (72, 46, 34)
    d.ellipse(box(256, 215, 160, 170), fill=hair)  # hair behind the head
    d.rectangle(box(256, 440, 52, 70), fill=shade)  # neck
    d.ellipse(box(256, 560, 210, 120), fill=(60, 90, 140))  # shoulders
    d.polygon(pts(220, 452, 256, 500, 292, 452), fill=shade)  # collar shadow
    for side in (-1, 1):
        d.ellipse(box(256 + side * 122, 270, 18, 32), fill=shade)  # ears
    d.ellipse(box(256, 262, 120, 152), fill=skin)  # face
    d.chord(box(256, 178, 128, 90), 180, 360, fill=hair)  # fringe

    for side in (-1, 1):
        # An almond eye, about three times as wide as it is open, the iris tucked under
        # both lids as in a real eye (Face Mesh fits its lids to such an eye).
        cx = 256 + side * 48
        eye = Image.new("RGB", canvas.size, (248, 246, 242))
        e = ImageDraw.Draw(eye)
        e.ellipse(box(cx, 246, 10.5, 10.5), fill=(92, 120, 70))  # iris
        e.ellipse(box(cx, 246, 4.5, 4.5), fill=(20, 16, 14))  # pupil
        e.ellipse(box(cx + 3, 242, 1.8, 1.8), fill=(255, 255, 255))
        shape = Image.new("L", canvas.size, 0)
        ImageDraw.Draw(shape).chord(box(cx, 252, 27, 15), 180, 360, fill=255)
        ImageDraw.Draw(shape).chord(box(cx, 244, 27, 7), 0, 180, fill=255)
        canvas.paste(eye, (0, 0), shape)
        d.arc(box(cx, 252, 27, 15), 190, 350, fill=(40, 28, 24), width=round(2.5 * k))  # lashes
        d.arc(box(cx, 244, 27, 7), 15, 165, fill=(170, 120, 100), width=round(k))  # lower lid
        d.arc(box(cx, 216, 32, 14), 200, 340, fill=hair, width=round(6 * k))  # brow

    d.line(pts(256, 250, 250, 300), fill=shade, width=round(3 * k))  # nose ridge
    d.arc(box(256, 300, 18, 10), 20, 160, fill=(190, 130, 105), width=round(3 * k))
    d.ellipse(box(246, 304, 4, 3), fill=(150, 95, 80))  # nostrils
    d.ellipse(box(266, 304, 4, 3), fill=(150, 95, 80))

    d.chord(box(256, 340, 38, 11), 180, 360, fill=(190, 90, 90))  # upper lip
    d.chord(box(256, 340, 34, 14), 0, 180, fill=(214, 112, 110))  # lower lip
    d.line(pts(218, 340, 294, 340), fill=(120, 50, 50), width=round(2 * k))
    for side in (-1, 1):
        d.ellipse(box(256 + side * 70, 318, 22, 13), fill=(240, 168, 150))  # cheeks

    canvas = canvas.filter(ImageFilter.GaussianBlur(radius=k * 0.8))
    return np.asarray(canvas.resize((size, size), Image.LANCZOS))
