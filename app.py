"""The vasa-kit app (Gradio): `make demo`, or `python app.py`, then http://127.0.0.1:7860.

One portrait at the top (upload, webcam, or an example), analysed as soon as it arrives:
its Face Mesh fit and face latents are shown beside it. Then, in tabs:
- Generate: the portrait says a text (espeak-ng, any voice) or a recording, steered by every
  control; frames show live while the rest is made, then the video and its motion curves.
- Edit: a slider for every channel of the motion latent, re-rendered on release.
- Reenact: the portrait driven by the head motion and expressions of an uploaded video.
- Learn: the four stages of VASA-1 and where each lives in the kit.

Models load once; requests are queued one at a time (a CPU does one well); each request
works in a temporary folder of its own, removed when its answer has been sent.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # the app makes no outside calls

import hashlib  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
from collections import OrderedDict  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402

import gradio as gr  # noqa: E402
import numpy as np  # noqa: E402

from vasa_core import (
    examples,  # noqa: E402
    schema,  # noqa: E402
)
from vasa_core.bench import talking_motion  # noqa: E402
from vasa_core.errors import VasaError  # noqa: E402
from vasa_core.face import FaceLatents, analyze, rig  # noqa: E402
from vasa_core.face.image import as_rgb_array  # noqa: E402
from vasa_core.media import write_video  # noqa: E402
from vasa_core.motion.controls import EMOTIONS, Controls  # noqa: E402
from vasa_core.render import Renderer  # noqa: E402
from vasa_core.settings import Sampling  # noqa: E402
from vasa_core.viz import draw_face, plot_clip  # noqa: E402

_WORK = Path(tempfile.mkdtemp(prefix="vasa-app-"))  # request folders live (briefly) here
MAX_SIDE = 4096  # larger uploads are refused with a reason, not silently shrunk
MAX_UPLOAD = "25mb"  # Gradio refuses bigger files before they reach us
MAX_SECONDS = 60.0  # audio or driver video; a CPU takes about as long to make it
VOICES = ["en-us", "en", "en-us+f3", "en+m3", "de", "fr", "es", "it", "pt", "hi", "cmn"]
PREVIEW_EVERY_S = 0.5  # how often the live preview shows the newest frame
CONSENT = (
    "Use portraits of yourself or of people who agreed. Talking-face synthesis can be "
    "misused to impersonate people; every video made here carries a visible *AI-generated* "
    "mark and a metadata tag."
)
LEARN = """
### VASA-1 in four stages
1. **Face latents** (`vasa_core.face`, notebook 01): Face Mesh landmarks, a canonical frame
   and head pose from a rigid fit, and an expression rig whose named coefficients are the
   facial dynamics. *Shown beside the portrait; move them in Edit.*
2. **Audio features** (`vasa_core.audio`, notebook 02): log-mel, loudness, pitch, voicing per
   video frame; speech with phoneme timings; a synthetic training corpus.
3. **Motion diffusion** (`vasa_core.motion`, notebook 03): a transformer that samples pose
   and dynamics from audio, steerable by gaze, distance and emotion. *Generate.*
4. **Decoding** (`vasa_core.render`, notebook 04): warp the portrait to follow the motion:
   a mesh warp, the mouth's inside, eyes that blink and look around. *Edit and Reenact.*

Notebook 05 runs them end to end. Open the notebooks with `make lab`
(folder `notebooks/`); the tutorials are in `tutorials/`.

The motion latent every stage shares:

```
{schema}
```
"""

_ANALYSED: OrderedDict[str, FaceLatents] = OrderedDict()
_LOCK = threading.Lock()


def _portrait(image: np.ndarray | None) -> np.ndarray:
    if image is None:
        raise VasaError("upload a portrait or pick an example first")
    rgb = as_rgb_array(image)
    if max(rgb.shape[:2]) > MAX_SIDE:
        raise VasaError(f"the image is {rgb.shape[1]}x{rgb.shape[0]}; up to {MAX_SIDE} px a side")
    return rgb


def analysed(image: np.ndarray | FaceLatents | None) -> FaceLatents:
    """The face latents of a portrait, analysed once per distinct image (a few kept)."""
    if isinstance(image, FaceLatents):
        return image
    rgb = _portrait(image)
    key = hashlib.sha1(rgb.tobytes() + str(rgb.shape).encode()).hexdigest()
    with _LOCK:
        if key in _ANALYSED:
            _ANALYSED.move_to_end(key)
            return _ANALYSED[key]
    latents = analyze(rgb, name="portrait")
    with _LOCK:
        _ANALYSED[key] = latents
        while len(_ANALYSED) > 8:
            _ANALYSED.popitem(last=False)
    return latents


@contextmanager
def _shown_errors():
    """Our errors (a user's mistake) become a message in the page, not a traceback."""
    try:
        yield
    except VasaError as error:
        raise gr.Error(str(error)) from None


@contextmanager
def _request_folder() -> Iterator[Path]:
    """A folder for one request, removed afterwards whatever happens."""
    folder = Path(tempfile.mkdtemp(dir=_WORK))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _explained(latents: FaceLatents, motion: np.ndarray) -> np.ndarray:
    """The neutral template under a motion: what the rig itself accounts for."""
    m = schema.check(motion)
    return rig.decode(rig.load_rig().neutral, m[schema.POSE], m[schema.DYNAMICS], latents.anchor)


def _renderer(latents: FaceLatents) -> Renderer:
    """One renderer per analysed portrait, kept with it."""
    cached = getattr(latents, "_renderer", None)
    if cached is None:
        cached = Renderer(latents, size=512)
        latents._renderer = cached
    return cached


def run_analyze(image: np.ndarray | None):
    """The portrait's fit, its latents, and its rendering and slider values for Edit."""
    if image is None:  # the portrait was cleared
        return None, None, None, *[gr.update() for _ in schema.CHANNELS]
    with _shown_errors():
        latents = analysed(image)
    overlay = draw_face(latents.image, latents.landmarks, _explained(latents, latents.motion))
    sliders = [gr.update(value=round(float(v), 3)) for v in latents.motion]
    rendered = _renderer(latents).render(latents.motion)[0]
    return overlay, latents.summary(), rendered, *sliders


def run_motion(image, *values: float) -> np.ndarray:
    """Edit tab: the portrait rendered under the slider values."""
    with _shown_errors():
        latents = analysed(image)
    return _renderer(latents).render(np.array(values, dtype=np.float32))[0]


def run_test_video(image, progress=gr.Progress()):  # noqa: B008 (Gradio's progress bar)
    """Edit tab: four seconds of a made-up talking motion (no audio), as an MP4."""
    with _shown_errors():
        latents = analysed(image)
    motion = talking_motion(latents.motion, frames=100)
    with _request_folder() as folder:
        frames = progress.tqdm(
            _renderer(latents).stream(motion), total=len(motion), desc="rendering"
        )
        yield str(write_video(folder / "test-motion.mp4", frames, fps=25))


_PIPELINE = None


def _pipeline():
    """The motion generator, loaded once for the whole app."""
    global _PIPELINE
    if _PIPELINE is None:
        from vasa_core.pipeline import Pipeline

        _PIPELINE = Pipeline()
    return _PIPELINE


def _live(work: Callable[[Callable], Path], total_hint: str):
    """Run `work(on_frame)` in a thread and yield (preview frame, status, None, None) while it
    runs, then (last frame, status, video path, motion [T, DIM])."""
    latest: dict = {"frame": None, "count": 0}
    rows: list[np.ndarray] = []
    result: dict = {}

    def on_frame(index, row, frame):
        latest["frame"], latest["count"] = frame, index + 1
        rows.append(row)

    def target():
        try:
            result["video"] = work(on_frame)
        except BaseException as error:  # handed to the request's thread below
            result["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    shown = -1
    while thread.is_alive():
        thread.join(PREVIEW_EVERY_S)
        if latest["count"] != shown and latest["frame"] is not None:
            shown = latest["count"]
            yield latest["frame"], f"frame {shown} {total_hint}", None, None
    if "error" in result:
        error = result["error"]
        if isinstance(error, VasaError):
            raise gr.Error(str(error)) from None
        raise error
    yield latest["frame"], f"done: {latest['count']} frames", result["video"], np.stack(rows)


def _size(choice: str) -> int | None:
    return None if choice == "full portrait" else int(choice)


def run_generate(
    image,
    text,
    recording,
    voice,
    emotion,
    intensity,
    gaze_yaw,
    gaze_pitch,
    distance,
    head_motion,
    guidance,
    steps,
    seed,
    size,
    fps,
):
    """Generate tab: the portrait says the text (or the recording), frames shown live.

    Yields (preview, status, video, motion-curves figure)."""
    from vasa_core.audio import RATE, load_audio
    from vasa_core.pipeline import speak

    text = (text or "").strip()
    if not text and recording is None:
        raise gr.Error("type something to say, or record or upload a voice")
    with _shown_errors(), _request_folder() as folder:
        latents = analysed(image)
        controls = Controls(
            gaze_yaw=float(gaze_yaw),
            gaze_pitch=float(gaze_pitch),
            distance=float(distance),
            emotion=emotion,
            intensity=float(intensity) if emotion != "neutral" else 0.0,
            motion=float(head_motion),
        )
        sampling = Sampling(steps=int(steps), audio_guidance=float(guidance))
        yield None, "speaking..." if text else "reading the recording...", None, None
        phonemes = []
        if text:
            spoken = speak(text, voice, folder)
            sound, phonemes = spoken.path, spoken.phonemes
        else:
            sound = Path(recording)
        samples = load_audio(sound, max_seconds=MAX_SECONDS)
        seconds = len(samples) / RATE

        def work(on_frame):
            return _pipeline().generate(
                latents,
                folder / "talking.mp4",
                audio=sound,
                controls=controls,
                seed=int(seed),
                sampling=sampling,
                size=_size(size),
                fps=float(fps),
                max_seconds=MAX_SECONDS,
                on_frame=on_frame,
            )

        for preview, status, video, motion in _live(work, f"of {round(seconds * float(fps))}"):
            figure = None
            if motion is not None:
                figure = plot_clip(samples, RATE, phonemes, motion, float(fps), "generated motion")
            yield preview, status, video, figure


def run_reenact(image, driver, size):
    """Reenact tab: the portrait moving as the face in the uploaded video does."""
    from vasa_core.reenact import reenact

    if driver is None:
        raise gr.Error("upload or record a video of a face first")
    with _shown_errors(), _request_folder() as folder:
        latents = analysed(image)

        def work(on_frame):
            return reenact(
                latents,
                driver,
                folder / "reenacted.mp4",
                size=_size(size),
                max_seconds=MAX_SECONDS,
                on_frame=on_frame,
            )

        yield None, "tracking the face in the video (Face Mesh on every frame)...", None
        for preview, status, video, _ in _live(work, "rendered"):
            yield preview, status, video


def build_app() -> gr.Blocks:
    example_dir = _write_examples()
    with gr.Blocks(title="vasa-kit") as demo:
        gr.Markdown(
            "# vasa-kit\nAudio-driven talking faces, in the style of VASA-1, to learn from."
        )
        gr.Markdown(f"*{CONSENT}*")
        with gr.Row():
            with gr.Column():
                portrait = gr.Image(
                    label="Portrait (photo, painting or drawing)",
                    sources=["upload", "webcam", "clipboard"],
                    type="numpy",
                    elem_id="portrait",
                    height=360,
                )
                gr.Examples(
                    [[str(example_dir / f"{n}.png")] for n in examples.NAMES],
                    inputs=[portrait],
                    label="Examples",
                    example_labels=list(examples.NAMES),
                    elem_id="examples",
                )
            with gr.Column():
                overlay = gr.Image(
                    label="Face Mesh (green) and the rig's fit (magenta)",
                    height=360,
                    elem_id="overlay",
                )
                with gr.Accordion("Face latents (pose and dynamics)", open=False):
                    numbers = gr.JSON(label="Face latents", elem_id="latents-json")
        sliders = []
        with gr.Tab("Generate", elem_id="tab-generate"):
            with gr.Row():
                with gr.Column():
                    text = gr.Textbox(
                        label="Text to say",
                        value="Hello! I am a talking face.",
                        elem_id="generate-text",
                    )
                    recording = gr.Audio(
                        label="...or a voice recording (used when the text is empty)",
                        type="filepath",
                        sources=["upload", "microphone"],
                    )
                    voice = gr.Dropdown(
                        VOICES,
                        value="en-us",
                        allow_custom_value=True,
                        label="Voice for the text (espeak-ng name, e.g. fr, de+f3)",
                    )
                    with gr.Accordion("Controls", open=True):
                        with gr.Row():
                            emotion = gr.Dropdown(list(EMOTIONS), value="neutral", label="Emotion")
                            intensity = gr.Slider(0, 1, value=0.7, label="Emotion intensity")
                        with gr.Row():
                            gaze_yaw = gr.Slider(
                                -30, 30, value=0, step=1, label="Gaze left-right (deg)"
                            )
                            gaze_pitch = gr.Slider(
                                -20, 20, value=0, step=1, label="Gaze up-down (deg)"
                            )
                        with gr.Row():
                            distance = gr.Slider(
                                0.7, 1.4, value=1.0, step=0.05, label="Head distance (>1: closer)"
                            )
                            head_motion = gr.Slider(
                                0, 2, value=1.0, step=0.1, label="Head motion (0: still)"
                            )
                    with gr.Accordion("Sampling and output", open=False):
                        with gr.Row():
                            guidance = gr.Slider(0, 6, value=2.5, step=0.5, label="Audio guidance")
                            steps = gr.Slider(1, 30, value=10, step=1, label="Sampling steps")
                            seed = gr.Number(value=0, precision=0, label="Seed")
                        with gr.Row():
                            size = gr.Radio(
                                ["256", "512", "full portrait"], value="512", label="Output size"
                            )
                            fps = gr.Slider(10, 40, value=25, step=1, label="Frames per second")
                    speak_button = gr.Button(
                        "Generate", variant="primary", elem_id="generate-button"
                    )
                with gr.Column():
                    preview = gr.Image(label="Live preview", height=320, elem_id="preview")
                    status = gr.Markdown(elem_id="status")
                    talking = gr.Video(label="Talking face", elem_id="talking-video", height=420)
                    curves = gr.Plot(label="Generated motion curves")
        with gr.Tab("Edit", elem_id="tab-edit"):
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
                    video = gr.Video(label="Test motion (no audio)")
        with gr.Tab("Reenact", elem_id="tab-reenact"):
            gr.Markdown(
                "Drive the portrait with a video of a face: its head motion and expressions "
                f"are measured by Face Mesh and rendered on the portrait, with its sound "
                f"(up to {MAX_SECONDS:g} s)."
            )
            with gr.Row():
                with gr.Column():
                    driver = gr.Video(label="Driving video", sources=["upload", "webcam"])
                    driver_size = gr.Radio(
                        ["256", "512", "full portrait"], value="512", label="Output size"
                    )
                    drive = gr.Button("Reenact", variant="primary")
                with gr.Column():
                    driven_preview = gr.Image(label="Live preview", height=320)
                    driven_status = gr.Markdown()
                    driven = gr.Video(label="Reenacted portrait")
        with gr.Tab("Learn"):
            gr.Markdown(LEARN.format(schema=schema.describe()))

        portrait.change(run_analyze, [portrait], [overlay, numbers, moved, *sliders])
        for slider in sliders:
            slider.release(run_motion, [portrait, *sliders], [moved])
        test.click(run_test_video, [portrait], [video])
        speak_button.click(
            run_generate,
            [
                portrait, text, recording, voice, emotion, intensity, gaze_yaw, gaze_pitch,
                distance, head_motion, guidance, steps, seed, size, fps,
            ],
            [preview, status, talking, curves],
        )  # fmt: skip
        drive.click(
            run_reenact, [portrait, driver, driver_size], [driven_preview, driven_status, driven]
        )
    return demo


def _write_examples():
    """The example portraits as files, since Gradio's examples are file paths."""
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
    build_app().queue(default_concurrency_limit=1).launch(
        server_name=host, server_port=port, ssr_mode=False, max_file_size=MAX_UPLOAD
    )


if __name__ == "__main__":
    main()
