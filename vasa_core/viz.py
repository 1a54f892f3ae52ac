"""Pictures of what the stages compute: landmark and mesh overlays on a portrait.

Pure functions from arrays to RGB arrays (PIL drawing), so the CLI, the app and the
notebooks show the same thing.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from vasa_core.face import topology as top

MESH_COLOUR = (0, 255, 170)
FIT_COLOUR = (255, 60, 200)
KEY_COLOUR = (255, 220, 0)
KEY_POINTS = (
    top.LIPS_INNER_UPPER
    + top.LIPS_INNER_LOWER
    + top.RIGHT_UPPER_LID
    + top.RIGHT_LOWER_LID
    + top.LEFT_UPPER_LID
    + top.LEFT_LOWER_LID
    + top.RIGHT_BROW
    + top.LEFT_BROW
)


def draw_face(
    image: np.ndarray,
    landmarks: np.ndarray,
    fitted: np.ndarray | None = None,
    crop: bool = True,
    crop_around: np.ndarray | None = None,
) -> np.ndarray:
    """The portrait with its Face Mesh (green), key points (yellow), irises, and optionally
    the rig's fitted landmarks (magenta dots). Cropped around the face when `crop` (around
    `crop_around` landmarks if given, so that several pictures share one frame)."""
    base = Image.fromarray(image).convert("RGB")
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    fit = None if fitted is None else np.asarray(fitted, dtype=np.float64)[:, :2]
    if crop:
        frame = points if crop_around is None else np.asarray(crop_around)[:, :2]
        x0, y0 = frame.min(axis=0)
        x1, y1 = frame.max(axis=0)
        margin = 0.25 * max(x1 - x0, y1 - y0)
        box = [
            int(max(0, x0 - margin)),
            int(max(0, y0 - margin)),
            int(min(base.width, x1 + margin)),
            int(min(base.height, y1 + margin)),
        ]
        base = base.crop(box)
        points = points - box[:2]
        fit = None if fit is None else fit - box[:2]
    zoom = 768 / max(base.size)
    base = base.resize((round(base.width * zoom), round(base.height * zoom)), Image.LANCZOS)
    points, fit = points * zoom, None if fit is None else fit * zoom
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for a, b in top.mesh_edges():
        draw.line([tuple(points[a]), tuple(points[b])], fill=MESH_COLOUR + (110,), width=1)
    for i in KEY_POINTS:
        _dot(draw, points[i], 2.0, KEY_COLOUR + (255,))
    for iris in (top.RIGHT_IRIS, top.LEFT_IRIS):
        ring = points[list(iris[1:])]
        radius = float(np.linalg.norm(ring - points[iris[0]], axis=1).mean())
        _circle(draw, points[iris[0]], radius, (80, 160, 255, 255))
    if fit is not None:
        for p in fit:
            _dot(draw, p, 1.6, FIT_COLOUR + (230,))
    return np.asarray(Image.alpha_composite(base.convert("RGBA"), layer).convert("RGB"))


def _dot(draw: ImageDraw.ImageDraw, p: np.ndarray, r: float, colour) -> None:
    draw.ellipse([p[0] - r, p[1] - r, p[0] + r, p[1] + r], fill=colour)


def _circle(draw: ImageDraw.ImageDraw, p: np.ndarray, r: float, colour) -> None:
    draw.ellipse([p[0] - r, p[1] - r, p[0] + r, p[1] + r], outline=colour, width=2)


def label(image: np.ndarray, text: str) -> np.ndarray:
    """A copy of an image with a caption in its top-left corner, on a dark band."""
    picture = Image.fromarray(image).convert("RGB")
    draw = ImageDraw.Draw(picture)
    size = max(12, picture.height // 22)
    try:
        font = ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has one fixed-size default font
        font = ImageFont.load_default()
    box = draw.textbbox((0, 0), text, font=font)
    draw.rectangle([0, 0, box[2] + 2 * size // 3, box[3] + size // 2], fill=(0, 0, 0))
    draw.text((size // 3, size // 4), text, fill=(255, 255, 255), font=font)
    return np.asarray(picture)


def plot_clip(
    samples: np.ndarray,
    rate: int,
    phonemes,
    motion: np.ndarray,
    fps: float,
    title: str = "",
    *,
    narrow: bool = False,
):
    """A corpus clip on one page: waveform and phonemes, mouth, head pose, eyes.

    `narrow`: a figure that stays readable when shown 360 px wide (a phone; the app's): its
    type is large for its width and the legends sit above their panels, not over the curves.
    Returns a matplotlib Figure (save it with `fig.savefig(path)`).
    """
    from matplotlib.figure import Figure  # not pyplot: no backend switch, nothing kept open

    from vasa_core import schema

    t_audio = np.arange(len(samples)) / rate
    t = (np.arange(len(motion)) + 0.5) / fps
    # Readable at a width W px when the type is >= 11 px there: pt * W / (72 * inches) >= 11.
    if narrow:
        fig = Figure(figsize=(4.0, 6.2), dpi=120, layout="constrained")
        small = 9
        legend = {"loc": "lower left", "bbox_to_anchor": (0, 1, 1, 0.1), "mode": "expand"}
        legend |= {"frameon": False, "handlelength": 1.2, "columnspacing": 0.8}
    else:
        fig = Figure(figsize=(12, 9))
        small, legend = 7, {"loc": "upper right"}
    axes = fig.subplots(4, 1, sharex=True, gridspec_kw={"height_ratios": [1.2, 1.4, 1, 0.8]})
    if narrow:
        for ax in axes:
            ax.tick_params(labelsize=10)
            ax.xaxis.label.set_size(10)
            ax.yaxis.label.set_size(10)
        peak = float(np.abs(samples).max()) or 1.0
        axes[0].set_ylim(-peak, 2.0 * peak)  # headroom for the two rows of phonemes
        axes[0].set_yticks([])  # an amplitude scale says nothing here
    axes[0].plot(t_audio, samples, color="0.4", linewidth=0.5)
    spoken = [p for p in phonemes if p[0] != "_"]
    for i, (symbol, start, end) in enumerate(spoken):
        axes[0].axvspan(start, end, color="tab:blue", alpha=0.06)
        # Narrow: every other symbol a row lower, so neighbours do not print over each other.
        axes[0].text(
            (start + end) / 2,
            (0.8 if i % 2 else 0.97) if narrow else 0.95,
            symbol,
            transform=axes[0].get_xaxis_transform(),
            ha="center",
            va="top",
            fontsize=small,
        )
    axes[0].set_ylabel("audio")
    axes[0].set_title(title, fontsize=11 if narrow else 10)
    for name in ("jaw_open", "mouth_round", "lip_press", "lower_lip_tuck", "smile"):
        axes[1].plot(t, motion[:, schema.index(name)], label=name)
    axes[1].set_ylabel("mouth")
    axes[1].legend(fontsize=small, ncol=3 if narrow else 5, **legend)
    for name in ("yaw", "pitch", "roll"):
        axes[2].plot(t, motion[:, schema.index(name)], label=name)
    axes[2].set_ylabel("head (deg)")
    axes[2].legend(fontsize=small, ncol=3, **legend)
    axes[3].plot(t, motion[:, schema.index("blink_left")], label="blink", color="k")
    axes[3].plot(t, motion[:, schema.index("gaze_yaw")] / 30, label="gaze yaw / 30")
    axes[3].set_ylabel("eyes")
    axes[3].set_xlabel("seconds")
    axes[3].legend(fontsize=small, ncol=2, **legend)
    if not narrow:
        fig.tight_layout()
    return fig
