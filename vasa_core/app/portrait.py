"""The portrait column beside the tabs: the title, the one-line guide, the portrait input
with its examples, the Face Mesh fit and the face latents, the consent note and the device
line. On a phone it stacks above the tabs, the fit and the notes hidden (`page.CSS`).

A portrait is analysed as soon as it arrives (`run_analyze`); the answer also fills the
Edit tab (its rendering and one slider value per motion channel), which is why
`run_analyze` returns those too and `page.build_app` wires it to both.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import numpy as np

from vasa_core import examples, schema
from vasa_core.app.folders import EXAMPLES
from vasa_core.app.shared import (
    MAX_SIDE,
    analysed,
    device_line,
    renderer,
    shown_errors,
)
from vasa_core.face import FaceLatents, rig
from vasa_core.face.image import load_image
from vasa_core.viz import draw_face

GUIDE = (
    "**1** Pick a portrait or an example · **2** type a sentence or record a voice · "
    "**3** press **Generate**."
)
# Most convincing first: a closed, neutral mouth shows speech best.
ORDER = ("grace_hopper", "drawn", "astronaut")
CONSENT = (
    "Use portraits of yourself or of people who agreed. Talking-face synthesis can be "
    "misused to impersonate people; every video made here carries a visible *AI-generated* "
    "mark and a metadata tag."
)


@dataclass
class Header:
    """The header's components that handlers read or fill."""

    portrait: gr.Image
    overlay: gr.Image
    numbers: gr.JSON


def header() -> Header:
    """Lay out the portrait column (inside a `gr.Column` of the page)."""
    gr.Markdown("## vasa-kit\nAudio-driven talking faces in the style of VASA-1.", elem_id="title")
    gr.Markdown(GUIDE, elem_id="guide")
    portrait = portrait_input(
        label="Portrait (photo, painting or drawing)",
        sources=["upload", "webcam", "clipboard"],
        elem_id="portrait",
        height=230,
    )
    gr.Examples(
        [[example_path(n)] for n in ORDER],
        inputs=[portrait],
        label="Example portraits",
        example_labels=list(ORDER),
        elem_id="examples",
        api_visibility="private",  # it fills the portrait box: nothing to call
    )
    overlay = gr.Image(
        label="Face Mesh (green) and the rig's fit (magenta)",
        height=230,
        elem_id="overlay",
        interactive=False,
    )
    with gr.Accordion("Face latents (pose and dynamics)", open=False, elem_id="latents"):
        numbers = gr.JSON(label="Face latents", elem_id="latents-json")
    gr.Markdown(f"*{CONSENT}*", elem_id="consent")
    gr.Markdown(device_line(), elem_id="device")
    return Header(portrait, overlay, numbers)


def example_path(name: str) -> str:
    """An example portrait as a file (written once), since Gradio's examples are paths."""
    return str(_write_examples() / f"{name}.png")


def portrait_input(**options) -> gr.Image:
    """The portrait input: a gr.Image that reads an upload itself (`load_image`) instead of
    with Gradio's decoder. A text file, random bytes or a broken picture become one line in
    the page where Gradio's decoder fails unhandled, and a picture with too many pixels is
    refused from its header, before it is decoded (a 20000x20000 PNG is 1.2 GB of pixels).

    Set on the one component, not by subclassing gr.Image: Gradio writes a .pyi stub beside
    the source of every subclass it sees."""
    image = gr.Image(type="numpy", **options)
    gradio_decode = image.preprocess

    def preprocess(payload):
        if payload is None or payload.path is None:  # cleared, or a data URL (webcam)
            return gradio_decode(payload)
        with shown_errors():
            return load_image(payload.path, max_pixels=MAX_SIDE * MAX_SIDE)

    image.preprocess = preprocess  # Gradio calls it on each request's upload
    return image


def _write_examples() -> Path:
    """The example portraits as files, since Gradio's examples are file paths."""
    from PIL import Image

    EXAMPLES.mkdir(exist_ok=True)
    for name in examples.NAMES:
        if not (EXAMPLES / f"{name}.png").exists():
            Image.fromarray(examples.load(name)).save(EXAMPLES / f"{name}.png")
    return EXAMPLES


def _explained(latents: FaceLatents, motion: np.ndarray) -> np.ndarray:
    """The neutral template under a motion: what the rig itself accounts for."""
    m = schema.check(motion)
    return rig.decode(rig.load_rig().neutral, m[schema.POSE], m[schema.DYNAMICS], latents.anchor)


def run_analyze(image: np.ndarray | None) -> tuple:
    """The portrait's fit, its latents, and its rendering and slider values for Edit."""
    if image is None:  # the portrait was cleared
        return None, None, None, *[gr.update() for _ in schema.CHANNELS]
    with shown_errors():
        latents = analysed(image)
    overlay = draw_face(latents.image, latents.landmarks, _explained(latents, latents.motion))
    # The pose sliders span what the renderer can show of this portrait (schema.REACH).
    low, high = schema.reach(latents.motion)
    sliders = [
        gr.update(value=round(float(v), 3), minimum=round(float(a), 2), maximum=round(float(b), 2))
        for v, a, b in zip(latents.motion, low, high, strict=True)
    ]
    rendered = renderer(latents).render(latents.motion)[0]
    return overlay, latents.summary(), rendered, *sliders
