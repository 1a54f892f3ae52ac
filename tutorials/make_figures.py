"""Regenerate the tutorial figures: `.venv/bin/python tutorials/make_figures.py`."""

from pathlib import Path

from PIL import Image

from vasa_core import examples
from vasa_core.face import analyze, rig
from vasa_core.viz import draw_face

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


if __name__ == "__main__":
    HERE.mkdir(exist_ok=True)
    face_latents_sheet().save(HERE / "face_latents_examples.png", optimize=True)
    print(f"figures written to {HERE}")
