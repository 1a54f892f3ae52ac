"""The Live tab (vasa_core/app/live.py): its handlers fed microphone-like chunks directly,
as the streaming `gr.Audio` would, and the page built with the tab."""

import base64
import io
import json
import time
from math import gcd

import gradio as gr
import numpy as np
import pytest
from PIL import Image
from scipy.signal import resample_poly

from vasa_core import examples
from vasa_core.app import live
from vasa_core.audio.tts import synthesize

BROWSER_RATE = 48000


@pytest.fixture(scope="module")
def portrait():
    return examples.load("grace_hopper")


@pytest.fixture(scope="module")
def chunks():
    """'Hello there Bob' as a browser sends it: int16 at 48 kHz, in STREAM_EVERY_S pieces."""
    speech = synthesize("Hello there Bob", voice="en-us")
    step = gcd(BROWSER_RATE, speech.rate)
    samples = resample_poly(speech.samples, BROWSER_RATE // step, speech.rate // step)
    pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
    size = int(BROWSER_RATE * live.STREAM_EVERY_S)
    return [(BROWSER_RATE, pcm[i : i + size]) for i in range(0, len(pcm), size)]


CONTROLS = ("neutral", 0.8, 0.0, 0.0, 1.0, 1.0)  # emotion, intensity, gaze x2, distance, motion


def _frames(face) -> list[dict]:
    """The frames of one batch for the page's player (none for a skip)."""
    return json.loads(face)["frames"] if isinstance(face, str) else []


def _image(item: dict) -> np.ndarray:
    jpeg = base64.b64decode(item["jpeg"].split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(jpeg)))


def test_chunks_give_frames_of_the_right_size_and_stop_clears(portrait, chunks):
    state, shown = None, []
    for chunk in chunks:
        face, status, state = live.run_live_chunk(chunk, state, portrait, *CONTROLS)
        assert isinstance(state, live.LiveState)
        assert isinstance(status, str) and status
        shown += _frames(face)
        time.sleep(live.STREAM_EVERY_S)  # as the browser sends: the worker makes frames
    seconds = sum(len(c[1]) for c in chunks) / BROWSER_RATE
    assert abs(state.seconds - seconds) < 0.01
    worker = state.worker
    face, status, cleared = live.stop_live(state)
    shown += _frames(face)
    assert cleared is None
    assert status.startswith("Stopped.") and "ms" in status and "frames/s" in status
    assert worker.frames == pytest.approx(seconds * 25, abs=2)  # finish gave those owed
    indices = [f["index"] for f in shown]
    assert indices == sorted(set(indices)), "frames repeated or out of order"
    assert len(shown) + worker.skipped == worker.frames
    assert shown, "no frame came out of the speech"
    image = _image(shown[-1])
    assert image.shape == (live.LIVE_SIZE, live.LIVE_SIZE, 3) and image.dtype == np.uint8
    assert all(0 <= f["mouth"] <= 1 and f["latency_ms"] >= 0 for f in shown)
    assert max(f["mouth"] for f in shown) > 0.1  # the speech opened the jaw


def test_a_slow_page_gets_the_newest_frames_and_the_rest_are_counted(portrait, chunks):
    """Nobody collects while all the speech goes in: only the newest BACKLOG are kept."""
    _, _, state = live.run_live_chunk(chunks[0], None, portrait, *CONTROLS)
    for chunk in chunks[1:]:
        state.worker.feed(live._samples(chunk))
    worker = state.worker
    face, _, _ = live.stop_live(state)
    kept = _frames(face)
    assert len(kept) <= live.BACKLOG
    assert kept[-1]["index"] == worker.frames - 1  # the newest frame is the last shown
    assert worker.skipped == worker.frames - len(kept) > 0


def test_a_control_moved_mid_stream_reaches_the_session(portrait, chunks):
    _, _, state = live.run_live_chunk(chunks[0], None, portrait, *CONTROLS)
    _, _, state = live.run_live_chunk(chunks[1], state, portrait, *CONTROLS)
    motion = state.session.motion
    neutral = motion.target_vector.copy()
    live.set_live_controls(state, "happy", 1.0, 10.0, -5.0, 1.0, 0.5)
    assert not np.allclose(motion.target_vector, neutral)
    expected = live.live_controls("happy", 1.0, 10.0, -5.0, 1.0, 0.5).vector()
    assert np.allclose(motion.target_vector, expected)
    _, _, state = live.run_live_chunk(chunks[2], state, portrait, *CONTROLS)
    face, _, _ = live.stop_live(state)
    assert _frames(face)


def test_controls_without_a_session_and_out_of_range_values():
    live.set_live_controls(None, "sad", 0.5, 0.0, 0.0, 1.0, 1.0)  # not recording: nothing
    with pytest.raises(gr.Error):
        live.set_live_controls(None, "happy", 1e6, 0.0, 0.0, 1.0, 1.0)
    with pytest.raises(gr.Error):
        live.set_live_controls(None, "bored", 0.5, 0.0, 0.0, 1.0, 1.0)


@pytest.mark.parametrize(
    "chunk", [None, (BROWSER_RATE, np.zeros(0, np.int16)), (BROWSER_RATE, np.zeros((0, 2)))]
)
def test_an_empty_chunk_gives_a_message_not_a_traceback(portrait, chunk):
    face, status, state = live.run_live_chunk(chunk, None, portrait, *CONTROLS)
    assert status == live.NO_AUDIO
    assert state.session is None and state.empty == 1 and state.warned
    face, status, state = live.stop_live(state)
    assert status == live.NO_AUDIO and state is None


def test_no_portrait_is_a_message(chunks):
    with pytest.raises(gr.Error, match="portrait"):
        live.run_live_chunk(chunks[0], None, None, *CONTROLS)


def test_stereo_chunks_at_another_rate(portrait):
    rng = np.random.default_rng(0)
    stereo = (rng.normal(0, 3000, (11025, 2))).astype(np.int16)  # 0.25 s at 44.1 kHz
    _, _, state = live.run_live_chunk((44100, stereo), None, portrait, *CONTROLS)
    assert state.seconds == pytest.approx(0.25, abs=1e-3)
    live.stop_live(state)


def test_the_page_has_the_live_tab():
    from vasa_core.app.page import build_app

    demo = build_app()
    config = demo.get_config_file()
    ids = {c.get("props", {}).get("elem_id") for c in config["components"]}
    assert {"tab-live", "live-microphone", "live-face", "live-status"} <= ids
    microphone = next(
        c for c in config["components"] if c.get("props", {}).get("elem_id") == "live-microphone"
    )
    assert microphone["props"]["streaming"] is True
    streams = [
        d
        for d in config["dependencies"]
        if any(t[0] == microphone["id"] and t[1] == "stream" for t in d["targets"])
    ]
    assert len(streams) == 1
    assert streams[0]["stream_every"] == live.STREAM_EVERY_S
    assert streams[0]["time_limit"] == live.TIME_LIMIT_S
    events = {
        t[1] for d in config["dependencies"] for t in d["targets"] if t[0] == microphone["id"]
    }
    assert {"stream", "start_recording", "stop_recording"} <= events
    assert streams[0]["api_name"] == "live"
    api = demo.get_api_info()["named_endpoints"]
    assert "/live" in api
    assert not {"/started", "/stop_live", "/set_live_controls"} & set(api), sorted(api)


def test_no_microphone_in_the_browser_is_a_message():
    assert live.started("ok").startswith("Listening")
    for found in ("none", "denied"):
        assert live.started(found) == live.NO_MICROPHONE
