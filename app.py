"""The vasa-kit app (Gradio): `make demo`, or `python app.py`, then http://127.0.0.1:7860.

What it shows today, stage by stage as they land:
- Analyze: a portrait split into face latents, with the mesh and the rig's fit drawn on it.
- Motion latent: a slider for every channel of the motion schema; the face's landmarks
  follow, drawn over the dimmed portrait (pixels follow once the renderer, stage 4, lands).
- Learn: the four stages of VASA-1 and where each lives in the kit.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # the app makes no outside calls

import gradio as gr  # noqa: E402
import numpy as np  # noqa: E402

from vasa_core import examples  # noqa: E402
from vasa_core.errors import VasaError  # noqa: E402
from vasa_core.face import FaceLatents, analyze, rig  # noqa: E402
from vasa_core.face.image import as_rgb_array  # noqa: E402
from vasa_core.motion import schema  # noqa: E402
from vasa_core.viz import draw_face  # noqa: E402

MAX_SIDE = 4096  # larger uploads are refused with a reason, not silently shrunk
CONSENT = (
    "Use portraits of yourself or of people who agreed. Talking-face synthesis can be "
    "misused to impersonate people; label what you make as AI-generated."
)
LEARN = """
### VASA-1 in four stages
1. **Face latents** (`vasa_core.face`, notebook 01): Face Mesh landmarks, a canonical frame
   and head pose from a rigid fit, and an expression rig whose named coefficients are the
   facial dynamics. *Ready: the Analyze and Motion latent tabs.*
2. **Audio features** (`vasa_core.audio`, notebook 02): log-mel, loudness, pitch, voicing per
   video frame; speech with phoneme timings. *Planned.*
3. **Motion diffusion** (`vasa_core.motion`, notebook 03): a transformer that samples pose
   and dynamics from audio, steerable by gaze, distance and emotion. *Schema ready.*
4. **Decoding** (`vasa_core.render`, notebook 04): warp the portrait to follow the motion.
   *Planned.*

The motion latent every stage shares:

```
{schema}
```
"""


def _portrait(image: np.ndarray | None) -> np.ndarray:
    if image is None:
        raise VasaError("upload a portrait or pick an example first")
    rgb = as_rgb_array(image)
    if max(rgb.shape[:2]) > MAX_SIDE:
        raise VasaError(f"the image is {rgb.shape[1]}x{rgb.shape[0]}; up to {MAX_SIDE} px a side")
    return rgb


def _explained(latents: FaceLatents, motion: np.ndarray) -> np.ndarray:
    """The neutral template under a motion: what the rig itself accounts for."""
    m = schema.check(motion)
    return rig.decode(rig.load_rig().neutral, m[schema.POSE], m[schema.DYNAMICS], latents.anchor)


def run_analyze(image: np.ndarray | None):
    """Analyze tab: overlay, numbers, the latents for the other tab, and slider values."""
    try:
        latents = analyze(_portrait(image), name="portrait")
    except VasaError as error:
        raise gr.Error(str(error)) from None
    overlay = draw_face(latents.image, latents.landmarks, _explained(latents, latents.motion))
    sliders = [gr.update(value=round(float(v), 3)) for v in latents.motion]
    return overlay, latents.summary(), latents, *sliders


def run_motion(latents: FaceLatents | None, *values: float) -> np.ndarray:
    """Motion latent tab: the face's landmarks under the slider values, on a dimmed portrait."""
    if latents is None:
        raise gr.Error("analyze a portrait first (Analyze tab)")
    motion = np.array(values, dtype=np.float32)
    dimmed = (latents.image.astype(np.float32) * 0.45).astype(np.uint8)
    return draw_face(dimmed, latents.decode(motion), crop_around=latents.landmarks)


def build_app() -> gr.Blocks:
    example_dir = _write_examples()
    with gr.Blocks(title="vasa-kit") as demo:
        gr.Markdown(
            "# vasa-kit\nAudio-driven talking faces, in the style of VASA-1, to learn from."
        )
        gr.Markdown(f"*{CONSENT}*")
        latents = gr.State(None)
        sliders = []
        with gr.Tab("Analyze"):
            with gr.Row():
                with gr.Column():
                    portrait = gr.Image(
                        label="Portrait (photo, painting or drawing)",
                        sources=["upload", "webcam", "clipboard"],
                        type="numpy",
                    )
                    go = gr.Button("Analyze", variant="primary")
                    gr.Examples(
                        [[str(example_dir / f"{n}.png")] for n in examples.NAMES],
                        inputs=[portrait],
                        label="Examples",
                    )
                with gr.Column():
                    overlay = gr.Image(label="Face Mesh (green) and the rig's fit (magenta)")
                    numbers = gr.JSON(label="Face latents")
        with gr.Tab("Motion latent"):
            gr.Markdown(
                "Move a slider and release it: the landmarks follow. Pose is relative to the "
                "portrait (tx, ty, scale = 0, 0, 1 is where it stands)."
            )
            with gr.Row():
                with gr.Column():
                    for group in ("pose", "dynamics"):
                        with gr.Accordion(group.capitalize(), open=True):
                            for c in (c for c in schema.CHANNELS if c.group == group):
                                step = 0.5 if c.unit == "deg" else 0.01
                                sliders.append(
                                    gr.Slider(
                                        c.low,
                                        c.high,
                                        value=c.default,
                                        step=step,
                                        label=f"{c.name} ({c.unit}): {c.doc}",
                                    )
                                )
                moved = gr.Image(label="Landmarks under this motion")
        with gr.Tab("Learn"):
            gr.Markdown(LEARN.format(schema=schema.describe()))

        go.click(run_analyze, [portrait], [overlay, numbers, latents, *sliders])
        for slider in sliders:
            slider.release(run_motion, [latents, *sliders], [moved])
    return demo


def _write_examples():
    """The example portraits as files, since Gradio's examples are file paths."""
    import tempfile
    from pathlib import Path

    from PIL import Image

    folder = Path(tempfile.gettempdir()) / "vasa-kit-examples"
    folder.mkdir(exist_ok=True)
    for name in examples.NAMES:
        if not (folder / f"{name}.png").exists():
            Image.fromarray(examples.load(name)).save(folder / f"{name}.png")
    return folder


def main() -> None:
    host = os.environ.get("VASA_HOST", "127.0.0.1")
    port = int(os.environ.get("VASA_PORT", "7860"))
    print(f"vasa-kit app: open http://{host}:{port} (Ctrl+C stops it)")
    build_app().queue().launch(server_name=host, server_port=port, ssr_mode=False)


if __name__ == "__main__":
    main()
