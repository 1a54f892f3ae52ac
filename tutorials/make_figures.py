"""Regenerate the tutorial figures: `.venv/bin/python tutorials/make_figures.py`."""

from pathlib import Path

import numpy as np
from PIL import Image

from vasa_core import examples, schema
from vasa_core.face import analyze, rig
from vasa_core.render import Renderer
from vasa_core.viz import draw_face, label

HERE = Path(__file__).parent / "images"
TILE = 400


def face_latents_sheet() -> Image.Image:
    """Face Mesh and the rig's fit on each example portrait, side by side."""
    tiles = []
    for name in examples.NAMES:
        face = analyze(examples.load(name), name=name)
        explained = rig.decode(rig.load_rig().neutral, face.pose, face.dynamics, face.anchor)
        picture = draw_face(face.image, face.landmarks, explained)
        tiles.append(Image.fromarray(picture).resize((TILE, TILE), Image.LANCZOS))
    gap = 10
    sheet = Image.new("RGB", (len(tiles) * (TILE + gap) - gap, TILE), "white")
    for i, tile in enumerate(tiles):
        sheet.paste(tile, (i * (TILE + gap), 0))
    return sheet


CONTACT = {
    "neutral": {},
    "jaw open": {"jaw_open": 0.7},
    '"oo"': {"mouth_round": 1.0, "jaw_open": 0.25},
    "smile": {"smile": 0.9, "jaw_open": 0.15},
    "blink": {"blink_left": 1.0, "blink_right": 1.0},
    "yaw +20": {"yaw": 20.0},
    "yaw -20": {"yaw": -20.0},
    "pitch +12": {"pitch": 12.0},  # the reach upwards (schema.REACH)
    "pitch -15": {"pitch": -15.0},
    "gaze left": {"gaze_yaw": -20.0},
    "gaze right": {"gaze_yaw": 20.0},
    "gaze up": {"gaze_pitch": 15.0},
}


def contact_sheet(name: str, tile: int = 220) -> Image.Image:
    """One example portrait rendered under each of a dozen motions, labelled."""
    face = analyze(examples.load(name), name=name)
    motions = []
    for change in CONTACT.values():
        motion = face.motion.copy()
        for key, value in change.items():
            relative = key in ("yaw", "pitch")
            motion[schema.index(key)] = value + (motion[schema.index(key)] if relative else 0)
        motions.append(motion)
    frames = Renderer(face, size=512).render(np.stack(motions))
    columns = 6
    rows = -(-len(frames) // columns)
    sheet = Image.new("RGB", (columns * tile, rows * tile), "white")
    for i, (text, frame) in enumerate(zip(CONTACT, frames, strict=True)):
        picture = Image.fromarray(label(frame, text)).resize((tile, tile), Image.LANCZOS)
        sheet.paste(picture, ((i % columns) * tile, (i // columns) * tile))
    return sheet


def corpus_clip_figure(seed: int = 5):
    """One synthetic corpus clip: waveform and phonemes, mouth, head, eyes."""
    from vasa_core.audio import RATE
    from vasa_core.data.corpus import make_clip
    from vasa_core.viz import plot_clip

    clip = make_clip(seed, keep_audio=True)
    title = f"{clip.info['text']}  ({clip.info['voice']}, {clip.controls.emotion})"
    return plot_clip(clip.samples, RATE, clip.info["phonemes"], clip.motion, 25.0, title)


if __name__ == "__main__":
    HERE.mkdir(exist_ok=True)
    face_latents_sheet().save(HERE / "face_latents_examples.png", optimize=True)
    for name in examples.NAMES:
        contact_sheet(name).save(HERE / f"contact_{name}.png", optimize=True)
    corpus_clip_figure().savefig(HERE / "corpus_clip.png", dpi=90)
    print(f"figures written to {HERE}")
