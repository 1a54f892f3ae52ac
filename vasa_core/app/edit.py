"""The Edit tab: a slider for every channel of the motion latent (`vasa_core.schema.CHANNELS`
gives each its range and default), the portrait re-rendered on release (mouse) and on every
change made with the keyboard, and a four-second made-up test motion around the slider
values, rendered as a marked video. The picture stays beside the sliders (above them on a
phone) while they move: its column sticks to the top of the screen (`page.CSS`).

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
from vasa_core.media import write_talking_video

INTRO = (
    "Move a slider and release it (or use the arrow keys on it): the portrait is re-rendered. "
    "Pose is relative to the portrait (tx, ty, scale = 0, 0, 1 is where it stands). "
    "The test motion talks, nods and blinks around the slider values."
)
TEST_FRAMES = 100  # four seconds at 25 fps


@dataclass
class Edit:
    """The tab's components the portrait header fills when a portrait arrives."""

    moved: gr.Image
    sliders: list[gr.Slider]


def edit_tab(portrait: gr.Image) -> Edit:
    """Lay out the Edit tab and wire its sliders and button (inside a `gr.Tab`)."""
    gr.Markdown(INTRO)
    sliders = []
    with gr.Row(elem_id="edit-row"):
        with gr.Column(elem_id="edit-picture", scale=1, min_width=280):
            moved = gr.Image(
                label="The portrait under this motion",
                height=300,
                elem_id="edit-image",
                buttons=[],
            )
            test = gr.Button("Render a 4-second test motion", elem_id="test-motion-button")
            video = gr.Video(label="Test motion (no audio)", height=300, elem_id="test-video")
        with gr.Column(elem_id="edit-sliders", scale=1, min_width=280):
            for group in ("pose", "dynamics"):
                with gr.Accordion(group.capitalize(), open=True):
                    for c in (c for c in schema.CHANNELS if c.group == group):
                        step = 0.5 if c.unit == "deg" else 0.01
                        label = f"{c.name} ({c.unit}): {c.doc}"
                        sliders.append(
                            gr.Slider(c.low, c.high, value=c.default, step=step, label=label)
                        )
    # One event for all the sliders: one `/render` endpoint, not one copy per slider. A
    # mouse drag ends in `release`; the arrow keys change the value without one, so a key
    # press on a slider (`input` fires for those too) re-renders as well: `trigger_mode`
    # "always_last" keeps a held key from queueing a rendering per step.
    triggers = [slider.release for slider in sliders] + [slider.input for slider in sliders]
    gr.on(
        triggers,
        run_motion,
        [portrait, *sliders],
        [moved],
        api_name="render",
        trigger_mode="always_last",
        show_progress="hidden",
    )
    test.click(run_test_video, [portrait, *sliders], [video], api_name="test_motion")
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


def test_motion(row: np.ndarray, frames: int = TEST_FRAMES) -> np.ndarray:
    """A made-up talking motion around the slider values `row` [DIM]: the head nods and turns
    about the slider pose, the jaw talks from the slider's opening up, the smile and gaze
    sway about theirs, the eyes blink; every channel stays inside its range."""
    swing = talking_motion(schema.neutral(), frames) - schema.neutral()  # offsets only
    for name in ("jaw_open", "smile", "blink_left", "blink_right", "gaze_yaw"):
        j = schema.index(name)  # talking_motion sets these outright: their swing about 0
        swing[:, j] -= swing[:, j].mean() if name in ("smile", "gaze_yaw") else 0.0
    return np.clip(row[None] + swing, schema.LOW, schema.HIGH).astype(np.float32)


def run_test_video(image, *values: float, progress=gr.Progress()) -> Iterator[str]:  # noqa: B008
    """Edit tab: four seconds of a made-up talking motion around the slider values (no
    audio), as an MP4 with the visible mark and the metadata tag, like every video made."""
    with shown_errors():
        latents = analysed(image)
        row = _motion(values) if values else latents.motion
    motion = test_motion(row)
    with request_folder() as folder:
        pairs = zip(motion, renderer(latents).stream(motion), strict=True)
        pairs = progress.tqdm(pairs, total=len(motion), desc="rendering")
        out = folder / "test-motion.mp4"
        yield str(write_talking_video(out, pairs, len(motion), 25, None, how=" (test motion)"))
