"""The vasa-kit app (Gradio): `make demo`, or `python app.py`, then http://127.0.0.1:7860.

What it shows today, stage by stage as they land:
- Analyze: a portrait split into face latents, with the mesh and the rig's fit drawn on it.
- Edit: a slider for every channel of the motion schema; the portrait is re-rendered
  (stage 4) on release, and a test motion can be rendered to a short video.
- Generate: the analysed portrait says a text (espeak-ng) or an uploaded recording.
- Learn: the four stages of VASA-1 and where each lives in the kit.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # the app makes no outside calls

import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import gradio as gr  # noqa: E402
import numpy as np  # noqa: E402

from vasa_core import examples  # noqa: E402
from vasa_core.bench import talking_motion  # noqa: E402
from vasa_core.errors import VasaError  # noqa: E402
from vasa_core.face import FaceLatents, analyze, rig  # noqa: E402
from vasa_core.face.image import as_rgb_array  # noqa: E402
from vasa_core.motion import schema  # noqa: E402
from vasa_core.render import Renderer  # noqa: E402
from vasa_core.render.video import write_video  # noqa: E402
from vasa_core.viz import draw_face  # noqa: E402

_WORK = tempfile.TemporaryDirectory(prefix="vasa-app-")
MAX_SIDE = 4096  # larger uploads are refused with a reason, not silently shrunk
CONSENT = (
    "Use portraits of yourself or of people who agreed. Talking-face synthesis can be "
    "misused to impersonate people; label what you make as AI-generated."
)
LEARN = """
### VASA-1 in four stages
1. **Face latents** (`vasa_core.face`, notebook 01): Face Mesh landmarks, a canonical frame
   and head pose from a rigid fit, and an expression rig whose named coefficients are the
   facial dynamics. *Ready: the Analyze tab.*
2. **Audio features** (`vasa_core.audio`, notebook 02): log-mel, loudness, pitch, voicing per
   video frame; speech with phoneme timings; a synthetic training corpus. *Ready (CLI).*
3. **Motion diffusion** (`vasa_core.motion`, notebook 03): a transformer that samples pose
   and dynamics from audio, steerable by gaze, distance and emotion. *Trained (Python API;
   the Generate tab comes with the pipeline).*
4. **Decoding** (`vasa_core.render`, notebook 04): warp the portrait to follow the motion:
   a mesh warp, the mouth's inside, eyes that blink and look around. *Ready: the Edit tab.*

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
    rendered = _renderer(latents).render(latents.motion)[0]
    return overlay, latents.summary(), latents, rendered, *sliders


def _renderer(latents: FaceLatents) -> Renderer:
    """One renderer per analysed portrait, kept with it for the session."""
    cached = getattr(latents, "_renderer", None)
    if cached is None:
        cached = Renderer(latents, size=512)
        latents._renderer = cached
    return cached


def run_motion(latents: FaceLatents | None, *values: float) -> np.ndarray:
    """Edit tab: the portrait rendered under the slider values."""
    if latents is None:
        raise gr.Error("analyze a portrait first (Analyze tab)")
    return _renderer(latents).render(np.array(values, dtype=np.float32))[0]


def run_test_video(latents: FaceLatents | None, progress=gr.Progress()) -> str:  # noqa: B008
    """Edit tab: four seconds of a made-up talking motion (no audio), as an MP4."""
    if latents is None:
        raise gr.Error("analyze a portrait first (Analyze tab)")
    motion = talking_motion(latents.motion, frames=100)
    renderer = _renderer(latents)
    folder = tempfile.mkdtemp(dir=_WORK.name)  # one folder per request, all removed at exit
    frames = progress.tqdm(renderer.stream(motion), total=len(motion), desc="rendering")
    return str(write_video(Path(folder) / "test-motion.mp4", frames, fps=25))


_PIPELINE = None


def _pipeline():
    """The motion generator, loaded once for the whole app."""
    global _PIPELINE
    if _PIPELINE is None:
        from vasa_core.pipeline import Pipeline

        _PIPELINE = Pipeline()
    return _PIPELINE


def run_generate(
    latents,
    text,
    audio,
    voice,
    emotion,
    intensity,
    motion,
    seed,
    progress=gr.Progress(),  # noqa: B008 (Gradio's way to ask for a progress bar)
):
    """Generate tab: the analysed portrait speaking the text (or the uploaded audio)."""
    from vasa_core.motion.controls import Controls

    if latents is None:
        raise gr.Error("analyze a portrait first (Analyze tab)")
    text = (text or "").strip()
    if not text and audio is None:
        raise gr.Error("type something to say, or upload a voice recording")
    try:
        controls = Controls(
            emotion=emotion,
            intensity=float(intensity) if emotion != "neutral" else 0.0,
            motion=float(motion),
        )
        folder = tempfile.mkdtemp(dir=_WORK.name)
        progress(0.1, desc="generating motion and rendering")
        out = _pipeline().generate(
            latents,
            Path(folder) / "talking.mp4",
            audio=None if text else audio,
            text=text or None,
            voice=voice,
            controls=controls,
            seed=int(seed),
        )
    except VasaError as error:
        raise gr.Error(str(error)) from None
    return str(out)


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
        with gr.Tab("Edit"):
            gr.Markdown(
                "Move a slider and release it: the portrait is re-rendered. Pose is relative "
                "to the portrait (tx, ty, scale = 0, 0, 1 is where it stands)."
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
                with gr.Column():
                    moved = gr.Image(label="The portrait under this motion")
                    test = gr.Button("Render a 4-second test motion")
                    video = gr.Video(label="Test motion (no audio yet)")
        with gr.Tab("Generate"):
            gr.Markdown(
                "The analysed portrait says your text (or your recording). "
                "Every video carries a visible *AI-generated* mark."
            )
            with gr.Row():
                with gr.Column():
                    text = gr.Textbox(label="Text to say", value="Hello! I am a talking face.")
                    recording = gr.Audio(
                        label="...or a voice recording",
                        type="filepath",
                        sources=["upload", "microphone"],
                    )
                    voice = gr.Dropdown(
                        ["en-us", "en", "en-us+f3", "en+m3", "de", "fr", "es", "it"],
                        value="en-us",
                        label="Voice (for text)",
                    )
                    emotion = gr.Dropdown(
                        ["neutral", "happy", "sad", "angry", "surprised"],
                        value="neutral",
                        label="Emotion",
                    )
                    intensity = gr.Slider(0, 1, value=0.7, label="Emotion intensity")
                    liveliness = gr.Slider(0, 2, value=1.0, label="Head motion")
                    seed = gr.Number(value=0, precision=0, label="Seed")
                    speak = gr.Button("Generate", variant="primary")
                talking = gr.Video(label="Talking face")
        with gr.Tab("Learn"):
            gr.Markdown(LEARN.format(schema=schema.describe()))

        go.click(run_analyze, [portrait], [overlay, numbers, latents, moved, *sliders])
        for slider in sliders:
            slider.release(run_motion, [latents, *sliders], [moved])
        test.click(run_test_video, [latents], [video])
        speak.click(
            run_generate,
            [latents, text, recording, voice, emotion, intensity, liveliness, seed],
            [talking],
        )
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
