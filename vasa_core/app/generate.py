"""The Generate tab: the portrait says a text (espeak-ng, any voice) or a recording, steered
by every control; frames show live while the rest is made, then the video and its motion
curves.

Examples fill the portrait, the sentence, the voice and the emotion at once, and show their
finished video, made on first use and kept while the app runs (`run_example`). A recording,
when there is one, wins over the text; the line under the inputs says which will be used.

Every slider's range, default and step come from the knob table (`vasa_core.schema.KNOBS`),
the same table the CLI, `Controls` and `Sampling` check against, so the page cannot offer
what the generator would refuse. Values from the page are checked again in `run_generate`:
an API call is not held to a slider's range.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import gradio as gr
import numpy as np

from vasa_core import schema
from vasa_core.app.folders import KEPT
from vasa_core.app.portrait import example_path
from vasa_core.app.shared import (
    MAX_SECONDS,
    SIZES,
    analysed,
    knob_value,
    live,
    pipeline,
    request_folder,
    shown_errors,
    size_choice,
)
from vasa_core.errors import VasaError
from vasa_core.motion.controls import EMOTIONS, Controls
from vasa_core.settings import Sampling
from vasa_core.viz import plot_clip

# The examples, most convincing first: portrait, sentence, voice, emotion, and the label
# on the example's button. Grace Hopper's closed, neutral mouth shows speech best; the drawn
# face smiles on request; the astronaut speaks French.
EXAMPLES = [
    ("grace_hopper", "Hello, students. Today a photograph will talk to you.", "en-us", "neutral"),
    ("drawn", "I am only a drawing, and still I can smile while I speak.", "en-us+f3", "happy"),
    ("astronaut", "Bonjour à tous, je suis une photo qui parle.", "fr", "surprised"),
]
EXAMPLE_LABELS = [
    "Grace Hopper · English",
    "Drawn face · happy",
    "Astronaut · French, surprised",
]
DEFAULT_TEXT = EXAMPLES[0][1]

VOICES = ["en-us", "en", "en-us+f3", "en+m3", "de", "fr", "es", "it", "pt", "hi", "cmn"]

# Knob name -> the slider's label. The order is run_generate's argument order.
SLIDERS = {
    "intensity": "Emotion intensity",
    "gaze_yaw": "Gaze left-right (deg)",
    "gaze_pitch": "Gaze up-down (deg)",
    "distance": "Head distance (>1: closer)",
    "motion": "Head motion (0: still)",
    "audio_guidance": "Audio guidance",
    "steps": "Sampling steps",
    "fps": "Frames per second",
}


def knob_slider(name: str) -> gr.Slider:
    """A slider spanning knob `name`: its range, default and step from the table."""
    k = schema.knob(name)
    return gr.Slider(k.low, k.high, value=k.default, step=k.step, label=SLIDERS[name])


def control_widgets() -> list:
    """The motion controls in rows (emotion and intensity, gaze, distance and head motion),
    in the order `Controls` takes them; the Generate and Live tabs both show them."""
    with gr.Row():
        emotion = gr.Dropdown(list(EMOTIONS), value="neutral", label="Emotion")
        intensity = knob_slider("intensity")
    with gr.Row():
        gaze = [knob_slider("gaze_yaw"), knob_slider("gaze_pitch")]
    with gr.Row():
        head = [knob_slider("distance"), knob_slider("motion")]
    return [emotion, intensity, *gaze, *head]


def page_controls(emotion: str, v: dict[str, float]) -> Controls:
    """`Controls` from the page's emotion and its checked knob values `v` (intensity, gaze,
    distance, motion). Neutral has no strength, whatever the intensity slider says."""
    head = {name: v[name] for name in ("gaze_yaw", "gaze_pitch", "distance", "motion")}
    strength = v["intensity"] if emotion != "neutral" else 0.0
    return Controls(emotion=emotion, intensity=strength, **head)


def used_input(text: str | None, recording: str | None) -> str:
    """The line that says which input Generate will use: the recording wins."""
    if recording:
        return "**Generate will use: the recording** (clear it to use the text)."
    if (text or "").strip():
        return "**Generate will use: the text**, spoken by the voice below."
    return "**Generate needs a text or a recording.**"


def generate_tab(portrait: gr.Image) -> None:
    """Lay out the Generate tab and wire its button (inside a `gr.Tab`)."""
    with gr.Row(elem_id="generate-row"):
        with gr.Column(scale=1, min_width=300):
            text = gr.Textbox(
                label="Text to say",
                value=DEFAULT_TEXT,
                placeholder="Type a sentence in the voice's language",
                lines=2,
                max_lines=4,
                elem_id="generate-text",
            )
            with gr.Row(elem_id="generate-voice-row"):
                voice = gr.Dropdown(
                    VOICES,
                    value="en-us",
                    allow_custom_value=True,
                    label="Voice (espeak-ng name, e.g. fr, de+f3)",
                    elem_id="generate-voice",
                    min_width=160,
                )
                button = gr.Button(
                    "Generate", variant="primary", elem_id="generate-button", min_width=120
                )
            used = gr.Markdown(used_input(DEFAULT_TEXT, None), elem_id="generate-input-used")
            recording = gr.Audio(
                label=f"...or a voice recording, up to {MAX_SECONDS:g} s (wins over the text)",
                type="filepath",
                sources=["upload", "microphone"],
                elem_id="generate-recording",
            )
            with gr.Accordion("Controls: emotion, gaze, head", open=False, elem_id="controls"):
                controls = control_widgets()
            with gr.Accordion("Sampling and output", open=False):
                with gr.Row():
                    sampling = [knob_slider("audio_guidance"), knob_slider("steps")]
                    seed = gr.Number(value=0, precision=0, label="Seed")
                with gr.Row():
                    size = gr.Radio(SIZES, value="512", label="Output size")
                    fps = knob_slider("fps")
        with gr.Column(scale=1, min_width=300):
            with gr.Row(elem_id="generate-outputs"):
                preview = gr.Image(
                    label="Live preview", height=260, elem_id="preview", min_width=160
                )
                talking = gr.Video(
                    label="Talking face", elem_id="talking-video", height=260, min_width=160
                )
            status = gr.Markdown(elem_id="status")
            gr.Examples(
                [[example_path(n), said, spoken, feeling] for n, said, spoken, feeling in EXAMPLES],
                inputs=[portrait, text, voice, controls[0]],
                outputs=[status, talking],  # the preview is hidden beside a video (page.CSS)
                fn=run_example,
                cache_examples=True,
                cache_mode="lazy",  # made on first use, then shown at once, for every user
                label="Examples: portrait, sentence, voice and emotion (made on first use)",
                example_labels=EXAMPLE_LABELS,
                elem_id="generate-examples",
                api_visibility="private",  # it fills the inputs and shows a kept video
            )
    curves = gr.Plot(label="Generated motion curves", elem_id="curves")
    for box in (text, recording):
        box.change(used_input, [text, recording], [used], api_visibility="private")
    inputs = [portrait, text, recording, voice, *controls]
    button.click(
        run_generate,
        [*inputs, *sampling, seed, size, fps],
        [preview, status, talking, curves],
        api_name="generate",
    )
    # On a small screen the preview is below the button: bring it into view.
    button.click(None, js=SHOW_PREVIEW, api_visibility="private")


SHOW_PREVIEW = (
    "() => { const box = document.getElementById('generate-outputs');"
    " if (box) box.scrollIntoView({block: 'nearest', behavior: 'smooth'}); }"
)


def run_example(image, text, voice, emotion) -> tuple:
    """An example's finished video (at 256 px, the other controls at their defaults), kept in
    the app's folder so that Gradio's example cache can show it again at once.

    Returns (status, video): the cache cannot keep an empty preview, and the page hides the
    preview beside a video anyway."""
    defaults = [schema.knob(name).default for name in SLIDERS]
    (intensity, gaze_yaw, gaze_pitch, distance, head, guidance, steps, fps) = defaults
    answers = run_generate(
        image, text, None, voice, emotion, intensity, gaze_yaw, gaze_pitch, distance, head,
        guidance, steps, 0, "256", fps,
    )  # fmt: skip
    last = None
    for _, status, video, _ in answers:
        if video is not None:  # copied before the request's folder goes (the next step)
            KEPT.mkdir(exist_ok=True)
            kept = KEPT / f"example-{abs(hash((text, voice, emotion))):x}.mp4"
            shutil.copyfile(video, kept)
            last = (f"{status} (an example: Generate makes a new one)", str(kept))
    return last


def _options(emotion: str, v: dict[str, float], seed, size: str) -> dict:
    """`Pipeline.generate`'s settings from the page's values (`v`: the knobs, checked):
    controls, sampling, seed, size and fps, each refused here, before anything is made."""
    if not v["steps"].is_integer():
        raise VasaError(f"steps = {v['steps']:g} must be a whole number")
    return {
        "controls": page_controls(emotion, v),
        "sampling": Sampling(steps=int(v["steps"]), audio_guidance=v["audio_guidance"]),
        "seed": _seed(seed),
        "size": size_choice(size),
        "fps": v["fps"],
    }


def _seed(seed) -> int:
    """The seed as an int: the page's box sends one, an API call may send 1.5, None, text
    or a number too large for the generators."""
    if isinstance(seed, int) and not isinstance(seed, bool):
        return schema.check_seed(seed)  # exactly: a float would round 2**63 - 1 up
    try:
        number = float(seed)
    except (TypeError, ValueError):
        number = float("nan")
    if not number.is_integer():  # False for nan and inf too
        raise VasaError(f"seed = {seed!r} must be a whole number")
    return schema.check_seed(int(number))


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
) -> Iterator[tuple]:
    """Generate tab: the portrait says the text (or the recording), frames shown live.

    Yields (preview, status, video, motion-curves figure)."""
    from vasa_core.audio import RATE, load_audio
    from vasa_core.audio.features import frame_bounds
    from vasa_core.pipeline import speak

    text = (text or "").strip()
    if recording:  # the recording wins over the text (the page says so)
        text = ""
    with shown_errors(), request_folder() as folder:
        if not text and not recording:
            raise VasaError("type something to say, or record or upload a voice")
        # By knob name (SLIDERS lists them in this order), each checked on its knob.
        values = (intensity, gaze_yaw, gaze_pitch, distance, head_motion, guidance, steps, fps)
        v = {name: knob_value(name, value) for name, value in zip(SLIDERS, values, strict=True)}
        options, fps = _options(emotion, v, seed, size), v["fps"]
        latents = analysed(image)
        yield None, "speaking..." if text else "reading the recording...", None, None
        phonemes = []
        if text:
            spoken = speak(text, voice, folder)
            sound, phonemes = spoken.path, spoken.phonemes
        else:
            sound = Path(recording)
        samples = load_audio(sound, max_seconds=MAX_SECONDS)

        def work(on_frame):
            out = folder / "talking.mp4"
            return pipeline().generate(
                latents, out, audio=sound, max_seconds=MAX_SECONDS, on_frame=on_frame, **options
            )

        frames = len(frame_bounds(len(samples), RATE, fps)) - 1  # as the pipeline counts them
        for preview, status, video, motion in live(work, f"of {frames}"):
            figure = _curves(samples, RATE, phonemes, motion, fps)
            yield preview, status, video, figure


def _curves(samples: np.ndarray, rate: int, phonemes, motion: np.ndarray | None, fps: float):
    """The finished clip's motion curves under its audio (None while it is still made)."""
    if motion is None:
        return None
    return plot_clip(samples, rate, phonemes, motion, fps, "generated motion", narrow=True)
