"""The app (`vasa_core.app`, started by app.py), launched for real on a local port and driven
through gradio_client, its handlers called directly, and `python app.py` run as a user would."""

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
import torch
from PIL import Image

gradio_client = pytest.importorskip("gradio_client")

import app as vasa_app  # noqa: E402  (the entry point: what `make demo` runs)
from vasa_core import examples, schema  # noqa: E402
from vasa_core.app import edit, generate, shared  # noqa: E402
from vasa_core.app import reenact as reenact_tab  # noqa: E402
from vasa_core.media import MARK  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def probe(path) -> str:
    """ffmpeg's description of a media file (its metadata tags included)."""
    import imageio_ffmpeg

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    return subprocess.run(
        [ffmpeg, "-hide_banner", "-i", str(path)], capture_output=True, text=True
    ).stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def demo():
    return vasa_app.build_app()


@pytest.fixture(scope="module")
def client(demo):
    port = free_port()
    demo.queue().launch(
        server_name="127.0.0.1",
        server_port=port,
        prevent_thread_lock=True,
        quiet=True,
        ssr_mode=False,
    )
    yield gradio_client.Client(f"http://127.0.0.1:{port}/", verbose=False)
    demo.close()


def work_is_empty() -> bool:
    """No request left its folder behind."""
    return not any(shared.WORK.iterdir())


def test_analyze_an_example_through_the_api(client, tmp_path):
    path = tmp_path / "grace.png"
    Image.fromarray(examples.load("grace_hopper")).save(path)
    result = client.predict(gradio_client.handle_file(str(path)), api_name="/analyze")
    overlay, numbers = result[0], result[1]
    assert Image.open(overlay).size[0] >= 512
    assert numbers["faces_found"] == 1
    assert numbers["dynamics"]["jaw_open"] < 0.15
    assert Image.open(result[2]).size == (512, 512)  # the portrait, rendered for the Edit tab
    sliders = result[3:]  # the session state is not part of the API's answer
    assert len(sliders) == schema.DIM
    assert sliders[0]["value"] == pytest.approx(numbers["pose"]["yaw"], abs=1e-3)


def test_no_face_is_a_visible_error_not_a_crash(client, tmp_path):
    import skimage.data

    path = tmp_path / "coffee.png"
    Image.fromarray(skimage.data.coffee()).save(path)
    with pytest.raises(Exception, match="no face found"):
        client.predict(gradio_client.handle_file(str(path)), api_name="/analyze")


def test_edit_sliders_re_render_the_portrait(latents):
    face = latents["drawn"]
    motion = face.motion.copy()
    rest = edit.run_motion(face, *motion)
    motion[schema.index("jaw_open")] = 1.0
    open_mouth = edit.run_motion(face, *motion)
    assert rest.shape == open_mouth.shape == (512, 512, 3)
    changed = np.abs(rest.astype(int) - open_mouth).max(axis=2) > 30
    ys, xs = np.nonzero(changed)
    mouth = shared.renderer(face).landmarks(motion[None])[0][[13, 14]].mean(axis=0)
    assert changed.sum() > 200  # the mouth opened...
    assert np.hypot(xs.mean() - mouth[0], ys.mean() - mouth[1]) < 60  # ...around the mouth


def test_test_video_renders_an_mp4_and_its_folder_goes_afterwards(latents):
    from vasa_core.media import read_video

    class NoProgress:
        def tqdm(self, iterable, **_):
            return iterable

    answers = edit.run_test_video(latents["drawn"], progress=NoProgress())
    video = next(answers)
    frames, fps = read_video(video)
    assert frames.shape == (100, 512, 512, 3) and fps == 25
    assert MARK in probe(video)  # the metadata tag, as on every video the app makes
    corner = frames[:, -20:, -80:].astype(int).max(axis=3)
    assert (corner > 200).any() and (corner < 40).any()  # the visible mark: white on black
    assert list(answers) == [] and work_is_empty()


def test_the_test_motion_moves_around_the_slider_values(latents):
    row = latents["drawn"].motion.copy()
    row[schema.index("yaw")], row[schema.index("smile")] = 20.0, 0.6
    motion = edit.test_motion(row)
    assert motion.shape == (edit.TEST_FRAMES, schema.DIM)
    assert np.all(motion >= schema.LOW) and np.all(motion <= schema.HIGH)
    assert abs(motion[:, schema.index("yaw")].mean() - 20.0) < 3  # about the slider's pose
    assert abs(motion[:, schema.index("smile")].mean() - 0.6) < 0.05  # and its smile
    assert np.ptp(motion[:, schema.index("jaw_open")]) > 0.2  # while it talks
    other = edit.test_motion(latents["drawn"].motion)
    assert abs(other[:, schema.index("yaw")].mean() - 20.0) > 10  # not the portrait's own


GENERATE = dict(
    text="Hello there.",
    recording=None,
    voice="en-us",
    emotion="happy",
    intensity=0.5,
    gaze_yaw=0,
    gaze_pitch=0,
    distance=1.0,
    head_motion=1.0,
    guidance=2.5,
    steps=10,
    seed=0,
    size="256",
    fps=25,
)


def test_generate_shows_frames_live_then_the_video_and_its_curves(latents):
    from vasa_core.media import read_video

    answers = generate.run_generate(latents["drawn"], *GENERATE.values())
    seen = []
    for preview, status, video, figure in answers:
        seen.append((preview is not None, video is not None, figure is not None, status))
        if video is not None:
            frames, fps = read_video(video)
            width, _ = figure.get_size_inches()  # narrow: readable at a phone's 360 px
    assert width <= 5
    # The finished answer: the video and its curves, the preview cleared (the result alone).
    assert seen[-1][:3] == (False, True, True) and seen[-1][3].startswith("done")
    assert any(p and not v for p, v, _, _ in seen)  # a preview came before the video
    assert fps == 25 and len(frames) > 15 and frames.shape[1:] == (256, 256, 3)
    assert work_is_empty()  # the request's folder is gone


def test_a_recording_wins_over_the_text_and_the_page_says_so(latents, tmp_path):
    import soundfile

    from vasa_core.audio import tts

    speech = tts.synthesize("One two.")
    wav = tmp_path / "one-two.wav"
    soundfile.write(wav, speech.samples, speech.rate)
    answers = generate.run_generate(
        latents["drawn"], *{**GENERATE, "text": "Hello there.", "recording": str(wav)}.values()
    )
    assert next(answers)[1] == "reading the recording..."  # not "speaking..."
    answers.close()
    assert work_is_empty()
    assert "the recording" in generate.used_input("Hello there.", str(wav))
    assert "the text" in generate.used_input("Hello there.", None)
    assert "needs a text or a recording" in generate.used_input("  ", None)


def test_examples_fill_portrait_sentence_voice_and_emotion(demo):
    (dataset,) = [b for b in blocks(demo, gr.Dataset) if b.elem_id == "generate-examples"]
    rows = dataset.samples
    assert len(rows) == len(generate.EXAMPLES) >= 3 and all(len(row) == 4 for row in rows)
    assert generate.EXAMPLES[0][0] == "grace_hopper"  # the most convincing first
    voices = [voice for _, _, voice, _ in generate.EXAMPLES]
    emotions = [emotion for _, _, _, emotion in generate.EXAMPLES]
    assert any(not v.startswith("en") for v in voices)  # one not in English
    assert any(e != "neutral" for e in emotions)  # and one with an emotion
    assert all(voice in generate.VOICES for voice in voices)


def test_an_example_keeps_its_video_for_the_cache(latents):
    from vasa_core.media import read_video

    status, video = generate.run_example(latents["drawn"], "Hi.", "en-us", "happy")
    assert status.startswith("done")
    frames, fps = read_video(video)  # still there after the request's folder went
    assert fps == 25 and len(frames) > 5 and MARK in probe(video)
    assert work_is_empty()


def test_reenact_has_a_driving_clip_made_by_the_kit(latents):
    from vasa_core.media import read_video

    clip = reenact_tab.driving_clip()
    assert reenact_tab.driving_clip() == clip  # made once
    frames, fps = read_video(clip)
    assert frames.shape == (reenact_tab.DRIVING_FRAMES, 256, 256, 3) and fps == 25
    assert MARK in probe(clip) and np.ptp(frames.astype(float), axis=0).mean() > 2  # it moves


def generate_error(face, **changes) -> str:
    with pytest.raises(Exception) as caught:
        list(generate.run_generate(face, *{**GENERATE, **changes}.values()))
    assert type(caught.value).__name__ == "Error"  # gr.Error: shown in the page
    assert work_is_empty()  # nothing left behind
    return str(caught.value)


def test_bad_generate_requests_are_shown_as_messages(latents, tmp_path):
    import soundfile

    face = latents["drawn"]
    assert "type something" in generate_error(face, text="  ")
    assert "voice" in generate_error(face, voice="klingon")
    silent, long = tmp_path / "silent.wav", tmp_path / "long.wav"
    soundfile.write(silent, np.zeros(32000, np.float32), 16000)
    soundfile.write(long, np.zeros(16000 * 20 * 60, np.int16), 16000)  # 20 minutes
    assert "no voice" in generate_error(face, text="", recording=str(silent))
    assert "longer" in generate_error(face, text="", recording=str(long))
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF not really a wave file")
    assert str(broken) in generate_error(face, text="", recording=str(broken))
    assert "portrait" in generate_error(None)


def test_generate_through_the_api_gives_a_playable_video(client, tmp_path):
    path = tmp_path / "drawn.png"
    Image.fromarray(examples.load("drawn")).save(path)
    job = client.submit(
        gradio_client.handle_file(str(path)), *GENERATE.values(), api_name="/generate"
    )
    preview, status, video, _ = job.result(timeout=300)
    assert status.startswith("done") and preview is None  # cleared: the video is the result
    video = video["video"] if isinstance(video, dict) else video
    from vasa_core.media import read_video

    frames, fps = read_video(video)
    assert fps == 25 and len(frames) > 15
    assert len(job.outputs()) > 2  # intermediate previews were streamed
    assert work_is_empty()


def test_reenact_drives_the_portrait_with_a_video(latents, tmp_path):
    from vasa_core.media import read_video, write_video

    motion = np.tile(latents["drawn"].motion, (20, 1))
    motion[:, schema.index("jaw_open")] = np.linspace(0, 1, 20)
    driver = write_video(
        tmp_path / "driver.mp4", shared.renderer(latents["drawn"]).stream(motion), fps=25
    )
    statuses = []
    for _, status, video in reenact_tab.run_reenact(latents["grace_hopper"], str(driver), "256"):
        statuses.append(status)
        if video is not None:
            frames, fps = read_video(video)
    assert statuses[-1].startswith("done") and frames.shape == (20, 256, 256, 3) and fps == 25
    with pytest.raises(Exception, match="upload or record a video"):
        list(reenact_tab.run_reenact(latents["grace_hopper"], None, "256"))
    assert work_is_empty()


def test_edit_through_the_api_re_renders_the_portrait(client, tmp_path):
    path = tmp_path / "drawn.png"
    Image.fromarray(examples.load("drawn")).save(path)
    values = [float(v) for v in schema.neutral()]
    rest = client.predict(gradio_client.handle_file(str(path)), *values, api_name="/render")
    values[schema.index("jaw_open")] = 1.0
    opened = client.predict(gradio_client.handle_file(str(path)), *values, api_name="/render")
    a, b = (np.asarray(Image.open(p).convert("RGB"), dtype=int) for p in (rest, opened))
    assert a.shape == b.shape == (512, 512, 3)
    assert (np.abs(a - b).max(axis=2) > 30).sum() > 200  # the mouth opened


def blocks(demo, kind) -> list:
    return [b for b in demo.blocks.values() if isinstance(b, kind)]


# What a user calls, by name; the Live tab's endpoints (/live...) are its own.
ENDPOINTS = {"/analyze", "/generate", "/render", "/test_motion", "/reenact"}
INTERNAL = {"/load_example", "/run_motion", "/run_test_video", "/stop_live", "/started"}


def test_the_api_names_what_a_user_calls_and_hides_the_rest(client):
    named = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {name for name in named if not name.startswith("/live")} == ENDPOINTS, named
    assert not [name for name in named if re.search(r"_\d+$", name)]  # no copy per slider
    assert not named & INTERNAL and not any("set_live_controls" in name for name in named)
    callable_ = {e.api_name for e in client.endpoints.values() if e.is_valid}
    assert not callable_ & INTERNAL, callable_  # hidden, and not callable from a client


def test_generate_sliders_span_the_knob_table(demo):
    by_label = {s.label: s for s in blocks(demo, gr.Slider)}
    for name, label in generate.SLIDERS.items():
        k, slider = schema.knob(name), by_label[label]
        assert (slider.minimum, slider.maximum, slider.value, slider.step) == (
            k.low,
            k.high,
            k.default,
            k.step,
        ), name
    assert len(by_label) == len(generate.SLIDERS) + schema.DIM  # and Edit's, one a channel


def test_the_page_says_which_device_computes(demo):
    (line,) = [b for b in blocks(demo, gr.Markdown) if b.elem_id == "device"]
    assert f"**{shared.device().type}**" in line.value and "VASA_DEVICE" in line.value


def test_every_stage_computes_on_the_apps_device(latents):
    assert shared.renderer(latents["drawn"]).device == shared.device()


@pytest.mark.parametrize(
    "changes, named",
    [
        (dict(gaze_yaw=90), "gaze_yaw = 90.0 is outside -30..30"),
        (dict(gaze_pitch=-21), "gaze_pitch"),
        (dict(distance=3), "distance"),
        (dict(intensity="lots"), "intensity = 'lots' is not a number"),
        (dict(head_motion=None), "motion"),
        (dict(guidance=-1), "audio_guidance"),
        (dict(steps=500), "steps"),
        (dict(steps=2.5), "whole number"),
        (dict(fps=1000), "fps"),
        (dict(seed=float("nan")), "seed"),
        (dict(size="huge"), "output size"),
        (dict(emotion="bored"), "unknown emotion"),
    ],
)
def test_out_of_range_values_reach_the_handler_as_a_message(latents, changes, named):
    assert named in generate_error(latents["drawn"], **changes)


def test_out_of_range_edit_values_are_a_message(latents):
    values = list(latents["drawn"].motion)
    values[schema.index("jaw_open")] = 2.0
    with pytest.raises(gr.Error, match="jaw_open = 2.0 is outside 0..1"):
        edit.run_motion(latents["drawn"], *values)
    with pytest.raises(gr.Error, match="slider values"):
        edit.run_motion(latents["drawn"], *values[:3])


def test_out_of_range_through_the_api_is_a_message_not_a_crash(client, tmp_path):
    path = tmp_path / "drawn.png"
    Image.fromarray(examples.load("drawn")).save(path)
    values = {**GENERATE, "gaze_yaw": 90}
    with pytest.raises(Exception, match="90"):
        client.predict(gradio_client.handle_file(str(path)), *values.values(), api_name="/generate")
    assert work_is_empty()


def start_app(device: str) -> subprocess.CompletedProcess:
    """`python app.py` as a user starts it, with VASA_DEVICE set."""
    env = {**os.environ, "VASA_DEVICE": device, "VASA_PORT": str(free_port())}
    return subprocess.run(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=90,  # it stops before loading anything; a started server would run on
    )


@pytest.mark.parametrize("device", ["cuda", "gpu"])
def test_a_device_it_cannot_use_stops_the_app_with_one_line(device):
    if device == "cuda" and torch.cuda.is_available():
        pytest.skip("this machine has a GPU, so VASA_DEVICE=cuda starts the app")
    answer = start_app(device)
    assert answer.returncode != 0
    said = answer.stderr.strip().splitlines()
    assert len(said) == 1 and "Traceback" not in answer.stderr, answer.stderr
    assert said[0].startswith("vasa-kit app: VASA_DEVICE") and device in said[0]
    assert "open http" not in answer.stdout  # it never got as far as starting


def test_the_edit_pose_sliders_span_what_the_portrait_can_show(latents):
    """Analysing a portrait sets each Edit slider to its own value and its ends to the
    reach about it (schema.reach), so no slider leads past what the renderer can show."""
    from vasa_core.app.portrait import run_analyze

    face = latents["astronaut"]
    updates = run_analyze(face.image)[3:]
    low, high = schema.reach(face.motion)
    yaw = schema.index("yaw")
    assert updates[yaw]["minimum"] == pytest.approx(low[yaw], abs=0.01)
    assert updates[yaw]["maximum"] == pytest.approx(high[yaw], abs=0.01)
    assert updates[yaw]["maximum"] - updates[yaw]["minimum"] < schema.HIGH[yaw] - schema.LOW[yaw]
