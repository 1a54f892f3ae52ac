"""The Reenact tab: the portrait driven by the head motion and expressions of an uploaded
(or webcam) video, measured by Face Mesh on every frame and rendered on the app's device,
with the video's sound.

A driving clip comes with the kit, made by the kit itself on first use (`driving_clip`): the
drawn example face nodding, blinking and talking, four seconds, rendered by the renderer the
app uses; no video file ships.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import gradio as gr

from vasa_core.app.folders import EXAMPLES
from vasa_core.app.shared import (
    MAX_DRIVER_SECONDS,
    SIZES,
    analysed,
    device,
    live,
    renderer,
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
            driver = gr.Video(
                label="Driving video", sources=["upload", "webcam"], height=260, elem_id="driver"
            )
            example = gr.Button(
                "Use the kit's own driving clip (made on first use)", elem_id="driver-example"
            )
            size = gr.Radio(SIZES, value="256", label="Output size")
            drive = gr.Button("Reenact", variant="primary", elem_id="reenact-button")
        with gr.Column():
            with gr.Row(elem_id="reenact-outputs"):
                preview = gr.Image(
                    label="Live preview", height=260, elem_id="reenact-preview", min_width=160
                )
                driven = gr.Video(
                    label="Reenacted portrait", height=260, elem_id="reenact-video", min_width=160
                )
            status = gr.Markdown(elem_id="reenact-status")
    example.click(driving_clip, None, [driver], api_visibility="private")
    drive.click(
        run_reenact, [portrait, driver, size], [preview, status, driven], api_name="reenact"
    )


DRIVING_FRAMES = 100  # four seconds at 25 fps


def driving_clip() -> str:
    """The kit's own driving clip: the drawn example face talking, nodding and blinking
    (`vasa_core.bench.talking_motion`), rendered once at 256 px and kept while the app runs;
    marked and tagged like every video the app makes."""
    from vasa_core import examples
    from vasa_core.bench import talking_motion
    from vasa_core.media import write_talking_video
    from vasa_core.render import Renderer

    path = EXAMPLES / "driving-clip.mp4"
    if not path.exists():
        EXAMPLES.mkdir(exist_ok=True)
        with shown_errors():
            latents = analysed(examples.load("drawn"))
            motion = talking_motion(latents.motion, DRIVING_FRAMES)
            small = Renderer(latents, size=256, device=renderer(latents).device)
            pairs = zip(motion, small.stream(motion), strict=True)
            partial = path.with_suffix(".partial.mp4")
            write_talking_video(partial, pairs, len(motion), 25, None, how=" (driving clip)")
            Path(partial).replace(path)
    return str(path)


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
