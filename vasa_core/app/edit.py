"""The Edit tab: a slider for every channel of the motion latent (`vasa_core.schema.CHANNELS`
gives each its range and default), the portrait re-rendered on release, and a four-second
made-up test motion rendered as a video.

The sliders are set to the portrait's own motion when it is analysed (`portrait.run_analyze`
fills them), so the first rendering is the portrait as it stands.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import gradio as gr
import numpy as np

from vasa_core import schema
from vasa_core.app.shared import analysed, renderer, request_folder, shown_errors
from vasa_core.bench import talking_motion
from vasa_core.errors import VasaError
from vasa_core.media import write_video

INTRO = (
    "Move a slider and release it: the portrait is re-rendered. Pose is relative "
    "to the portrait (tx, ty, scale = 0, 0, 1 is where it stands)."
)


@dataclass
class Edit:
    """The tab's components the portrait header fills when a portrait arrives."""

    moved: gr.Image
    sliders: list[gr.Slider]


def edit_tab(portrait: gr.Image) -> Edit:
    """Lay out the Edit tab and wire its sliders and button (inside a `gr.Tab`)."""
    gr.Markdown(INTRO)
    sliders = []
    with gr.Row():
        with gr.Column():
            for group in ("pose", "dynamics"):
                with gr.Accordion(group.capitalize(), open=True):
                    for c in (c for c in schema.CHANNELS if c.group == group):
                        step = 0.5 if c.unit == "deg" else 0.01
                        label = f"{c.name} ({c.unit}): {c.doc}"
                        sliders.append(
                            gr.Slider(c.low, c.high, value=c.default, step=step, label=label)
                        )
        with gr.Column():
            moved = gr.Image(label="The portrait under this motion")
            test = gr.Button("Render a 4-second test motion")
            video = gr.Video(label="Test motion (no audio)")
    # One event for all the sliders: one `/render` endpoint, not one copy per slider.
    triggers = [slider.release for slider in sliders]
    gr.on(triggers, run_motion, [portrait, *sliders], [moved], api_name="render")
    test.click(run_test_video, [portrait], [video], api_name="test_motion")
    return Edit(moved, sliders)


def _motion(values: tuple) -> np.ndarray:
    """The slider values as one motion row [DIM], each inside its channel's range (an API
    call is not held to the sliders')."""
    if len(values) != schema.DIM:
        raise VasaError(f"{len(values)} slider values; the motion latent has {schema.DIM}")
    row = np.full(schema.DIM, np.nan, dtype=np.float32)
    for j, (c, value) in enumerate(zip(schema.CHANNELS, values, strict=True)):
        try:
            row[j] = float(value)
        except (TypeError, ValueError):
            pass  # stays NaN and is refused below, like any value out of range
        # Compared in float32, as schema.LOW and HIGH are: float32(1.6) is above 1.6.
        if not schema.LOW[j] <= row[j] <= schema.HIGH[j]:  # False for NaN too
            raise VasaError(f"{c.name} = {value!r} is outside {c.low:g}..{c.high:g}")
    return row


def run_motion(image, *values: float) -> np.ndarray:
    """Edit tab: the portrait rendered under the slider values."""
    with shown_errors():
        latents = analysed(image)
        motion = _motion(values)
    return renderer(latents).render(motion)[0]


def run_test_video(image, progress=gr.Progress()) -> Iterator[str]:  # noqa: B008 (Gradio's bar)
    """Edit tab: four seconds of a made-up talking motion (no audio), as an MP4."""
    with shown_errors():
        latents = analysed(image)
    motion = talking_motion(latents.motion, frames=100)
    with request_folder() as folder:
        frames = progress.tqdm(
            renderer(latents).stream(motion), total=len(motion), desc="rendering"
        )
        yield str(write_video(folder / "test-motion.mp4", frames, fps=25))
