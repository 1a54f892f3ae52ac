"""The Live tab: the portrait talks as you speak into the microphone, steered by controls
that take effect during the session, with the measured latency on screen.

The microphone is a streaming `gr.Audio`: while it records, the browser sends a chunk every
STREAM_EVERY_S over the page's own connection (no WebRTC, no TURN server: it works on
127.0.0.1 without the internet). Each chunk goes through `run_live_chunk`: int16 at the
browser's rate becomes float32 mono at 16 kHz, is pushed into the `LiveSession`
(vasa_core/live.py) and the newest frame it completed is shown; the older ones of the same
chunk are dropped, since the display only needs the latest. The session is kept in a
`gr.State`, one per browser session: made at the first chunk, with the portrait and the
controls of that moment, and ended (its last frames shown) when the recording stops.

A control moved while recording reaches the running session (`set_live_controls`), and
the session eases into it over a few frames rather than jumping.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import gradio as gr
import numpy as np

from vasa_core.app.generate import control_widgets, page_controls
from vasa_core.app.shared import analysed, knob_value, pipeline, shown_errors
from vasa_core.errors import VasaError
from vasa_core.motion.controls import Controls

STREAM_EVERY_S = 0.25  # how often the browser sends the microphone's newest samples
TIME_LIMIT_S = 300  # one live session at most this long, so one user cannot hold the queue
LIVE_SIZE = 256  # rendered frame size: small enough to keep up
RECENT = 50  # frames (2 s at 25 fps) the latency line is measured over

NO_AUDIO = (
    "No audio arrived from the microphone. Check that the browser may use it (the address "
    "bar's microphone icon) and that a microphone is connected, then record again."
)
CONTROL_NAMES = ("intensity", "gaze_yaw", "gaze_pitch", "distance", "motion")


@dataclass
class LiveState:
    """What one browser session's live stream keeps between chunks."""

    session: object | None = None  # vasa_core.live.LiveSession, made at the first audio
    chunks: int = 0  # chunks that carried audio
    empty: int = 0  # chunks that carried nothing
    warned: bool = False  # the no-audio warning was shown
    frames: int = 0
    seconds: float = 0.0  # audio received, seconds
    waited: list[float] = field(default_factory=list)  # recent frames' look-ahead, s
    compute: list[float] = field(default_factory=list)  # recent chunks' compute time, s
    compute_total: float = 0.0  # seconds spent computing, all chunks
    last: np.ndarray | None = None  # the newest frame shown


def live_tab(portrait: gr.Image) -> None:
    """Lay out the Live tab and wire its events (inside a `gr.Tab`)."""
    gr.Markdown(
        "Press **Record** and speak: the portrait talks along, a fraction of a second "
        "behind. The controls act while you speak. The browser asks to use the microphone "
        "(allowed on 127.0.0.1 without HTTPS)."
    )
    state = gr.State(None)
    with gr.Row():
        with gr.Column():
            microphone = gr.Audio(
                label="Microphone",
                sources=["microphone"],
                streaming=True,
                type="numpy",
                elem_id="live-microphone",
            )
            controls = control_widgets()
        with gr.Column():
            face = gr.Image(label="Live face", height=320, elem_id="live-face")
            status = gr.Markdown("Not recording.", elem_id="live-status")
    microphone.start_recording(started, None, [status])
    microphone.stream(
        run_live_chunk,
        [microphone, state, portrait, *controls],
        [face, status, state],
        stream_every=STREAM_EVERY_S,
        time_limit=TIME_LIMIT_S,
    )
    microphone.stop_recording(stop_live, [state], [face, status, state])
    for control in controls:
        # One listener per control; kept out of the API page (six copies of one endpoint).
        control.change(set_live_controls, [state, *controls], None, api_visibility="undocumented")


def live_controls(emotion, intensity, gaze_yaw, gaze_pitch, distance, head_motion) -> Controls:
    """The page's control values as `Controls`, each checked on its knob (an API call is not
    held to a slider's range). Neutral has no strength, as in the Generate tab."""
    values = (intensity, gaze_yaw, gaze_pitch, distance, head_motion)
    v = {name: knob_value(name, value) for name, value in zip(CONTROL_NAMES, values, strict=True)}
    return page_controls(emotion, v)


def started() -> str:
    return "Listening... the face appears as soon as the first audio arrives."


def _samples(chunk) -> np.ndarray | None:
    """A streamed (rate, int16 samples) chunk as float32 mono at 16 kHz; None if empty."""
    from vasa_core.audio.load import to_mono

    if chunk is None:
        return None
    try:
        rate, data = chunk
    except (TypeError, ValueError):
        raise VasaError("microphone: expected (sample rate, samples)") from None
    data = np.asarray(data)
    if data.size == 0:
        return None
    if not rate or int(rate) <= 0:
        raise VasaError(f"microphone: sample rate {rate!r} is not a positive number")
    return to_mono(data, int(rate), max_seconds=None, what="microphone")


def run_live_chunk(chunk, state, image, *controls) -> tuple:
    """One streamed chunk: push it, show the newest frame. Returns (face, status, state)."""
    state = state if isinstance(state, LiveState) else LiveState()
    with shown_errors():
        samples = _samples(chunk)
        if samples is None:
            state.empty += 1
            if state.chunks == 0 and not state.warned:
                state.warned = True
                gr.Warning(NO_AUDIO)
            message = NO_AUDIO if state.chunks == 0 else status_line(state)
            return gr.skip(), message, state
        if state.session is None:
            state.session = pipeline().live(
                analysed(image), live_controls(*controls), size=LIVE_SIZE
            )
        begun = time.perf_counter()
        frames = state.session.push(samples)
        _count(state, frames, time.perf_counter() - begun, len(samples))
        face = gr.skip() if not frames else state.last
        return face, status_line(state), state


def _count(state: LiveState, frames: list, spent: float, samples: int) -> None:
    from vasa_core.audio.load import RATE

    state.chunks += 1
    state.seconds += samples / RATE
    state.frames += len(frames)
    state.compute = [*state.compute, spent][-RECENT:]
    state.compute_total += spent
    state.waited = [*state.waited, *(f.waited for f in frames)][-RECENT:]
    if frames:
        state.last = frames[-1].image


def status_line(state: LiveState) -> str:
    """The measured latency and frame rate, in one line for the page."""
    if not state.frames:
        return f"Listening: {state.seconds:.1f} s of audio, no frame yet."
    waited = 1000 * float(np.median(state.waited)) if state.waited else 0.0
    compute = 1000 * float(np.median(state.compute))
    rate = state.frames / state.compute_total if state.compute_total > 0 else float("inf")
    return (
        f"**Latency** ≈ {waited + compute:.0f} ms: waiting for audio {waited:.0f} ms (the "
        f"model's look-ahead and the {1000 * STREAM_EVERY_S:.0f} ms chunks) + compute "
        f"{compute:.0f} ms per chunk, medians of the last {RECENT}. "
        f"**{rate:.1f} frames/s** made (25 keep up); {state.frames} frames from "
        f"{state.seconds:.1f} s of audio."
    )


def set_live_controls(state, *controls) -> None:
    """A control moved: the running session eases to the new controls."""
    with shown_errors():
        new = live_controls(*controls)
        if isinstance(state, LiveState) and state.session is not None:
            state.session.set_controls(new)


def stop_live(state) -> tuple:
    """The recording stopped: the session's last frames, a summary, and the state cleared.
    Returns (face, status, None)."""
    if not isinstance(state, LiveState) or state.chunks == 0:
        gr.Warning(NO_AUDIO)  # recorded, yet no chunk with audio ever arrived
        return gr.skip(), NO_AUDIO, None
    with shown_errors():
        if state.session is not None:
            begun = time.perf_counter()
            frames = state.session.finish()
            _count(state, frames, time.perf_counter() - begun, 0)
            state.chunks -= 1  # the finish is not a chunk
    face = state.last if state.last is not None else gr.skip()
    return face, "Stopped. " + status_line(state), None
