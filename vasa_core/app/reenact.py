"""The Reenact tab: the portrait driven by the head motion and expressions of an uploaded
(or webcam) video, measured by Face Mesh on every frame and rendered on the app's device,
with the video's sound.
"""

from __future__ import annotations

from collections.abc import Iterator

import gradio as gr

from vasa_core.app.shared import (
    MAX_DRIVER_SECONDS,
    SIZES,
    analysed,
    device,
    live,
    request_folder,
    shown_errors,
    size_choice,
)
from vasa_core.errors import VasaError
from vasa_core.reenact import reenact


def reenact_tab(portrait: gr.Image) -> None:
    """Lay out the Reenact tab and wire its button (inside a `gr.Tab`)."""
    gr.Markdown(
        "Drive the portrait with a video of a face: its head motion and expressions "
        "are measured by Face Mesh and rendered on the portrait, with its sound "
        f"(up to {MAX_DRIVER_SECONDS:g} s)."
    )
    with gr.Row():
        with gr.Column():
            driver = gr.Video(label="Driving video", sources=["upload", "webcam"])
            size = gr.Radio(SIZES, value="512", label="Output size")
            drive = gr.Button("Reenact", variant="primary")
        with gr.Column():
            preview = gr.Image(label="Live preview", height=320)
            status = gr.Markdown()
            driven = gr.Video(label="Reenacted portrait")
    drive.click(
        run_reenact, [portrait, driver, size], [preview, status, driven], api_name="reenact"
    )


def run_reenact(image, driver, size) -> Iterator[tuple]:
    """Reenact tab: the portrait moving as the face in the uploaded video does.

    Yields (preview, status, video)."""
    with shown_errors(), request_folder() as folder:
        if driver is None:
            raise VasaError("upload or record a video of a face first")
        latents, size = analysed(image), size_choice(size)

        def work(on_frame):
            return reenact(
                latents,
                driver,
                folder / "reenacted.mp4",
                size=size,
                max_seconds=MAX_DRIVER_SECONDS,
                on_frame=on_frame,
                device=device(),
            )

        yield None, "tracking the face in the video (Face Mesh on every frame)...", None
        for preview, status, video, _ in live(work, "rendered"):
            yield preview, status, video
