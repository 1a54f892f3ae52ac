"""The whole kit end to end on the CPU: a portrait and a voice in, a talking face out."""

import numpy as np
import pytest
import soundfile

from tests.conftest import run_vasa
from tests.test_cli import assert_one_line_error
from tests.test_render_cli import probe
from vasa_core.audio import tts
from vasa_core.errors import VasaError
from vasa_core.motion import schema
from vasa_core.motion.controls import Controls
from vasa_core.pipeline import MARK, Pipeline, combine
from vasa_core.render.video import read_video


@pytest.fixture(scope="module")
def pipeline():
    return Pipeline()


def test_two_seconds_of_speech_become_a_talking_video_with_sound_and_mark(
    tmp_path, pipeline, latents
):
    speech = tts.synthesize("Hello there, students.")
    wav = tmp_path / "hello.wav"
    soundfile.write(wav, speech.samples, speech.rate)
    out = pipeline.generate(latents["drawn"], tmp_path / "hello.mp4", audio=wav, size=256)
    frames, fps = read_video(out)
    assert fps == 25 and abs(len(frames) - speech.seconds * 25) <= 2
    info = probe(out)
    assert "Audio: aac" in info and MARK in info  # the metadata tag
    corner = frames[:, -20:, -80:].astype(int)
    assert (corner.max(axis=3) > 200).any() and (corner.max(axis=3) < 40).any()  # white on black
    mouth = frames[:, 150:200, 100:156].astype(float)  # the drawn face's mouth region at 256
    assert np.abs(np.diff(mouth, axis=0)).mean() > 1.0  # the mouth moves


def test_the_portraits_pose_and_smile_carry_into_the_motion(latents):
    face = latents["astronaut"]
    generated = schema.neutral(5)
    motion = combine(face.motion, generated)
    assert np.allclose(motion[:, 0], face.pose[0])
    smile = schema.index("smile")
    assert np.allclose(motion[:, smile], face.motion[smile])


def test_bad_requests_fail_clearly(tmp_path, pipeline, latents):
    with pytest.raises(VasaError, match="either an audio file or a text"):
        pipeline.generate(latents["drawn"], tmp_path / "x.mp4")
    with pytest.raises(VasaError, match="cannot write"):
        pipeline.generate(latents["drawn"], tmp_path / "no" / "x.mp4", text="Hi.")
    with pytest.raises(VasaError, match="emotion"):
        Controls(emotion="bored")
    result = run_vasa(
        "generate",
        "--image",
        "example:drawn",
        "--text",
        "Hi.",
        "--audio",
        "a.wav",
        "--out",
        str(tmp_path / "y.mp4"),
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert_one_line_error(
        run_vasa(
            "generate",
            "--image",
            "example:drawn",
            "--audio",
            str(tmp_path / "missing.wav"),
            "--out",
            str(tmp_path / "z.mp4"),
            "--quiet",
        ),
        "no such file",
    )
    assert not list(tmp_path.glob("*.mp4"))


def test_vasa_generate_from_text(tmp_path):
    out = tmp_path / "hi.mp4"
    result = run_vasa(
        "generate",
        "--image",
        "example:grace_hopper",
        "--text",
        "Good morning.",
        "--out",
        str(out),
        "--size",
        "256",
        "--emotion",
        "happy",
        "--quiet",
    )
    assert result.returncode == 0, result.stderr
    frames, _ = read_video(out)
    assert frames.shape[1:] == (256, 256, 3) and len(frames) > 12  # "Good morning." is short
