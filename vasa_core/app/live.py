"""The Live tab: the portrait talks as you speak into the microphone, steered by controls
that take effect during the session, with the measured latency on screen.

The microphone is a streaming `gr.Audio`: while it records, the browser sends its newest
samples every few tenths of a second over the page's own connection (no WebRTC, no TURN
server: it works on 127.0.0.1 without the internet); while the server is still busy with a
chunk the browser gathers the next ones and sends them together. Each chunk goes through
`run_live_chunk`: int16 at the browser's rate becomes float32 mono at 16 kHz, is pushed into
the `LiveSession` (vasa_core/live.py), and the frames it completed go to the page as one
batch of JPEGs. The page's player (PLAYER_JS) shows them at the video's 25 frames/s.

Keeping up: a chunk brings several frames, so showing only the newest of each would be a
slide show; playing every frame ever made would let the face fall further behind whenever
the server is slow. Both the server and the player therefore keep at most BACKLOG frames in
hand and skip the older ones: the server does not send them, the player drops them unshown;
the face jumps to the newest frame instead of lagging, and the page counts what was skipped,
beside the latency.

The session is kept in a `gr.State`, one per browser session: made at the first chunk, with
the portrait and the controls of that moment, and ended (its last frames shown) when the
recording stops. A control moved while recording reaches the running session
(`set_live_controls`), and the session eases into it over a few frames rather than jumping.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
import uuid
from dataclasses import dataclass, field

import gradio as gr
import numpy as np

from vasa_core.app.generate import control_widgets, page_controls
from vasa_core.app.shared import analysed, knob_value, pipeline, shown_errors
from vasa_core.errors import VasaError
from vasa_core.motion.controls import Controls
from vasa_core.schema import NAMES

STREAM_EVERY_S = 0.25  # how often the browser sends the microphone's newest samples
TIME_LIMIT_S = 300  # one live session at most this long, so one user cannot hold the queue
LIVE_SIZE = 256  # rendered frame size: small enough to keep up
FPS = 25  # the live session's frame rate, which the player shows
RECENT = 50  # frames (2 s at 25 fps) the latency line is measured over
BACKLOG = 8  # frames (320 ms) the server sends per chunk and the player holds, at most
JPEG_QUALITY = 85
JAW = NAMES.index("jaw_open")

NO_AUDIO = (
    "No audio arrived from the microphone. Check that the browser may use it (the address "
    "bar's microphone icon) and that a microphone is connected, then record again."
)
NO_MICROPHONE = (
    "No microphone: the browser reports none, or was not allowed to use it. Allow the "
    "microphone (the address bar's microphone icon), check one is connected, then record again."
)
CONTROL_NAMES = ("intensity", "gaze_yaw", "gaze_pitch", "distance", "motion")

# Runs in the browser before `started`: whether there is a microphone the page may use.
# Gradio's own toast says the same when getUserMedia fails; this keeps the status line from
# saying "Listening..." to nobody.
CHECK_MICROPHONE_JS = """
async () => {
  const md = navigator.mediaDevices;
  if (!md || !md.getUserMedia) return 'none';
  try {
    const p = await navigator.permissions.query({ name: 'microphone' });
    if (p.state === 'denied') return 'denied';
  } catch (e) {}
  try {
    const devices = await md.enumerateDevices();
    if (!devices.some((d) => d.kind === 'audioinput')) return 'none';
  } catch (e) {}
  return 'ok';
}
"""

PLAYER_HTML = """
<div class="vasa-live">
  <img class="vasa-live-face" alt="live face" width="256" height="256">
  <div class="vasa-live-stats">not recording</div>
</div>
"""
PLAYER_CSS = """
.vasa-live { display: flex; flex-direction: column; align-items: center; gap: 6px; }
.vasa-live-face { width: 320px; height: 320px; background: #222; object-fit: contain; }
.vasa-live-stats { font-size: 0.9em; font-variant-numeric: tabular-nums; }
"""
# The player: batches in (the component's value, JSON), one frame out every 1/FPS s. It keeps
# at most BACKLOG frames; older ones are dropped unshown and counted. What it showed is in
# window.vasaLive, for a person's console and for the browser test.
PLAYER_JS = """
const img = element.querySelector('.vasa-live-face');
const stats = element.querySelector('.vasa-live-stats');
const FPS = __FPS__, BACKLOG = __BACKLOG__;
const live = window.vasaLive = { shown: [], received: 0, skipped: 0, skipped_server: 0,
  batches: 0, latency_ms: null, fps: 0, last: null };
let queue = [], run = null, seq = -1, due = 0, recent = [], waits = [];
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? s[s.length >> 1] : 0;
};
function take(text) {
  if (!text) return;
  let batch;
  try { batch = JSON.parse(text); } catch (e) { return; }
  if (batch.run !== run) {  // a new recording: start afresh
    Object.assign(live, { shown: [], received: 0, skipped: 0, skipped_server: 0, batches: 0 });
    queue = []; recent = []; waits = []; run = batch.run; seq = -1;
  }
  if (batch.seq <= seq) return;  // the same value again
  seq = batch.seq;
  live.batches += 1;
  live.skipped_server = batch.skipped;
  const now = performance.now();
  batch.frames.forEach((f) => queue.push({ ...f, arrived: now }));
  live.received += batch.frames.length;
  if (queue.length > BACKLOG) {  // behind: drop the stale frames, show the newest
    live.skipped += queue.length - BACKLOG;
    queue = queue.slice(queue.length - BACKLOG);
  }
}
function tick() {
  const now = performance.now();
  if (!queue.length || now < due) return;
  due = Math.max(due + 1000 / FPS, now - 1000 / FPS);
  const f = queue.shift();
  img.src = f.jpeg;
  const waited = now - f.arrived;
  waits = [...waits, f.latency_ms + waited].slice(-50);
  recent = [...recent, now].slice(-FPS * 2);
  live.fps = recent.length > 1 ? 1000 * (recent.length - 1) / (now - recent[0]) : 0;
  live.latency_ms = median(waits);
  live.shown.push({ t: now, index: f.index, seconds: f.seconds, mouth: f.mouth });
  live.last = f.jpeg;
  stats.textContent = `${live.fps.toFixed(1)} frames/s shown · latency ≈ ` +
    `${live.latency_ms.toFixed(0)} ms · skipped ${live.skipped + live.skipped_server} ` +
    `(server ${live.skipped_server}, page ${live.skipped})`;
}
setInterval(tick, 5);
take(props.value);
watch('value', () => take(props.value));
""".replace("__FPS__", str(FPS)).replace("__BACKLOG__", str(BACKLOG))


@dataclass
class LiveState:
    """What one browser session's live stream keeps between chunks."""

    session: object | None = None  # vasa_core.live.LiveSession, made at the first audio
    chunks: int = 0  # chunks that carried audio
    empty: int = 0  # chunks that carried nothing
    warned: bool = False  # the no-audio warning was shown
    worker: Worker | None = None  # makes the session's frames on its own thread
    seconds: float = 0.0  # audio received, seconds
    seq: int = 0  # batches sent, so the player tells a new batch from a repeated value
    run: str = field(default_factory=lambda: uuid.uuid4().hex)  # tells the player a new recording


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
            face = gr.HTML(
                None,
                label="Live face",
                html_template=PLAYER_HTML,
                css_template=PLAYER_CSS,
                js_on_load=PLAYER_JS,
                elem_id="live-face",
            )
            status = gr.Markdown("Not recording.", elem_id="live-status")
    check = gr.Textbox(visible=False)  # what CHECK_MICROPHONE_JS found
    microphone.start_recording(
        started, [check], [status], js=CHECK_MICROPHONE_JS, api_visibility="private"
    )
    microphone.stream(
        run_live_chunk,
        [microphone, state, portrait, *controls],
        [face, status, state],
        stream_every=STREAM_EVERY_S,
        time_limit=TIME_LIMIT_S,
        api_name="live",
        show_progress="hidden",  # else the face and the status are greyed while it streams
    )
    microphone.stop_recording(stop_live, [state], [face, status, state], api_visibility="private")
    for control in controls:
        # One listener per control; kept out of the API page (six copies of one endpoint).
        control.change(set_live_controls, [state, *controls], None, api_visibility="private")


def live_controls(emotion, intensity, gaze_yaw, gaze_pitch, distance, head_motion) -> Controls:
    """The page's control values as `Controls`, each checked on its knob (an API call is not
    held to a slider's range). Neutral has no strength, as in the Generate tab."""
    values = (intensity, gaze_yaw, gaze_pitch, distance, head_motion)
    v = {name: knob_value(name, value) for name, value in zip(CONTROL_NAMES, values, strict=True)}
    return page_controls(emotion, v)


def started(check: str | None = "ok") -> str:
    """Recording began; `check` is CHECK_MICROPHONE_JS's finding ('ok', 'none', 'denied')."""
    if check in ("none", "denied"):
        gr.Warning(NO_MICROPHONE)
        return NO_MICROPHONE
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


class Worker:
    """Makes one session's frames on a thread of its own, so that a chunk's handler only
    hands over samples and collects what is ready: it returns at once, and Gradio, which keeps
    only the newest chunk of a stream while its handler runs, never drops audio. Behind by
    more than BACKLOG frames, it renders only the newest BACKLOG (the session still moves
    through the others) and counts the rest as skipped."""

    def __init__(self, session):
        self.session = session
        self.lock = threading.Condition()
        self.inbox: list[np.ndarray] = []
        self.outbox: list[dict] = []
        self.ending = False
        self.error: BaseException | None = None
        self.frames = self.skipped = 0
        self.compute_total = 0.0
        self.compute: list[float] = []  # recent batches: newest audio in to frames ready, s
        self.waited: list[float] = []  # recent frames' look-ahead, s
        self.last: np.ndarray | None = None
        self.fed = time.perf_counter()  # when the newest samples were handed over
        self.thread = threading.Thread(target=self._run, name="vasa-live", daemon=True)
        self.thread.start()

    def feed(self, samples: np.ndarray) -> None:
        with self.lock:
            self.inbox.append(samples)
            self.fed = time.perf_counter()
            self.lock.notify()

    def take(self) -> list[dict]:
        """The frames made since the last take (at most BACKLOG, newest last)."""
        with self.lock:
            if self.error is not None:
                raise self.error
            out, self.outbox = self.outbox, []
        return out

    def finish(self, timeout: float = 30.0) -> list[dict]:
        """End the audio: the frames still owed, once the thread has made them."""
        with self.lock:
            self.ending = True
            self.lock.notify()
        self.thread.join(timeout)
        return self.take()

    def _run(self) -> None:
        try:
            while True:
                with self.lock:
                    while not self.inbox and not self.ending:
                        self.lock.wait()
                    samples = np.concatenate(self.inbox) if self.inbox else None
                    self.inbox, ending = [], self.ending and not self.inbox
                    begun = self.fed
                if samples is not None:
                    frames = self.session.push(samples, keep=BACKLOG)
                else:
                    frames = self.session.finish(keep=BACKLOG)
                self._send(frames, begun)
                if ending:
                    return
        except BaseException as error:  # shown by the next take, in the page
            with self.lock:
                self.error = error

    def _send(self, frames: list, begun: float) -> None:
        from PIL import Image

        items = []
        for frame in frames:
            if frame.image is None:
                continue
            out = io.BytesIO()
            Image.fromarray(frame.image).save(out, "JPEG", quality=JPEG_QUALITY)
            jpeg = "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()
            items.append((frame, jpeg))
        spent = time.perf_counter() - begun
        with self.lock:
            self.frames += len(frames)
            self.compute = [*self.compute, spent][-RECENT:]
            self.compute_total += spent
            self.waited = [*self.waited, *(f.waited for f in frames)][-RECENT:]
            for frame, jpeg in items:
                self.last = frame.image
                self.outbox.append(
                    {
                        "index": frame.index,
                        "seconds": round(frame.seconds, 3),
                        "mouth": round(float(frame.motion[JAW]), 4),
                        "latency_ms": round(1000 * (frame.waited + spent), 1),
                        "jpeg": jpeg,
                    }
                )
            self.skipped += len(frames) - len(items)
            if len(self.outbox) > BACKLOG:  # not collected in time: keep the newest
                self.skipped += len(self.outbox) - BACKLOG
                self.outbox = self.outbox[-BACKLOG:]


def run_live_chunk(chunk, state, image, *controls) -> tuple:
    """One streamed chunk: hand it to the session's worker, send the frames it has made.
    Returns (face, status, state); face is the batch for the page's player (`batch`)."""
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
            state.worker = Worker(state.session)
        from vasa_core.audio.load import RATE

        state.chunks += 1
        state.seconds += len(samples) / RATE
        state.worker.feed(samples)
        return batch(state, state.worker.take()), status_line(state), state


def batch(state: LiveState, items: list[dict]) -> str | object:
    """Frames for the page's player, as JSON: which recording (`run`), the batch's number,
    the frames skipped so far, and each frame (index, start, jaw opening, latency at the
    server, JPEG data URL). A skip when there is no new frame."""
    if not items:
        return gr.skip()
    state.seq += 1
    skipped = state.worker.skipped if state.worker is not None else 0
    return json.dumps({"run": state.run, "seq": state.seq, "skipped": skipped, "frames": items})


def status_line(state: LiveState) -> str:
    """The measured latency and frame rate, in one line for the page."""
    w = state.worker
    if w is None or not w.frames:
        return f"Listening: {state.seconds:.1f} s of audio, no frame yet."
    with w.lock:
        waited = 1000 * float(np.median(w.waited)) if w.waited else 0.0
        compute = 1000 * float(np.median(w.compute)) if w.compute else 0.0
        rate = w.frames / w.compute_total if w.compute_total > 0 else float("inf")
        frames, skipped = w.frames, w.skipped
    return (
        f"**Latency** ≈ {waited + compute:.0f} ms at the server: waiting for audio "
        f"{waited:.0f} ms (the model's look-ahead and the chunk) + compute {compute:.0f} ms "
        f"per batch, medians of the last {RECENT}. **{rate:.1f} frames/s** made (25 keep "
        f"up); {frames} frames from {state.seconds:.1f} s of audio, "
        f"**{skipped} skipped** (the server fell behind)."
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
    face = gr.skip()
    with shown_errors():
        if state.worker is not None:
            face = batch(state, state.worker.finish())
    return face, "Stopped. " + status_line(state), None
