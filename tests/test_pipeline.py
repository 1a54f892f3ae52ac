"""The whole kit end to end on the CPU: a portrait and a voice in, a talking face out."""

import json
import subprocess

import imageio_ffmpeg
import numpy as np
import pytest
import soundfile

from tests.conftest import run_vasa
from tests.test_cli import assert_one_line_error
from tests.test_render_cli import probe
from vasa_core import schema
from vasa_core.audio import compute_features, load_audio, tts
from vasa_core.errors import VasaError
from vasa_core.media import MARK, read_video
from vasa_core.motion.controls import Controls
from vasa_core.pipeline import Pipeline, combine
from vasa_core.settings import Sampling


def description_tag(path) -> str:
    """The video's `description` tag whole (`ffmpeg -i` shows only its first 256 characters)."""
    tags = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "ffmetadata", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return next(line for line in tags.splitlines() if line.startswith("description="))[12:]


@pytest.fixture(scope="module")
def pipeline():
    return Pipeline()


def test_two_seconds_of_speech_become_a_talking_video_with_sound_and_mark(
    tmp_path, pipeline, latents
):
    speech = tts.synthesize("Hello there, students.")
    wav = tmp_path / "hello.wav"
    soundfile.write(wav, speech.samples, speech.rate)
    seen = []
    out = pipeline.generate(
        latents["drawn"],
        tmp_path / "hello.mp4",
        audio=wav,
        size=256,
        seed=7,
        sampling=Sampling(steps=4, audio_guidance=2.0),
        on_frame=lambda index, row, frame: seen.append((index, frame.shape)),
    )
    frames, fps = read_video(out)
    assert [i for i, _ in seen] == list(range(len(seen)))  # every frame, in order
    assert 0 <= len(seen) - len(frames) <= 1  # ffmpeg may end a frame early on the sound
    assert {shape for _, shape in seen} == {(256, 256, 3)}
    assert fps == 25 and abs(len(frames) - speech.seconds * 25) <= 2
    info = probe(out)
    assert "Audio: aac" in info and MARK in info  # the metadata tag
    made_with = json.loads(description_tag(out))
    assert made_with == {
        "seed": 7,
        "checkpoint": "shipped",
        "sampling": json.loads(json.dumps(Sampling(steps=4, audio_guidance=2.0).as_dict())),
    }
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


def test_streamed_frames_follow_the_same_motion_as_the_whole_clip(tmp_path, pipeline, latents):
    speech = tts.synthesize("One, two, three, four, five, six, seven.")
    wav = tmp_path / "count.wav"
    soundfile.write(wav, speech.samples, speech.rate)
    samples = load_audio(wav)
    face = latents["drawn"]
    whole = pipeline.motion(face, samples, Controls(), seed=3)
    features = compute_features(samples, fps=25)
    pairs = list(pipeline.stream(face, features, Controls(), seed=3, size=256, mark=False))
    assert (
        len(pairs) == features.frames == len(whole) > pipeline.generator.window
    )  # two windows or more
    assert np.allclose(np.stack([row for row, _ in pairs]), whole, atol=1e-4)
    assert np.array_equal(pairs[0][1], pipeline_frame(face, whole[0]))


def pipeline_frame(face, row):
    from vasa_core.render import Renderer

    return Renderer(face, size=256).render(row[None])[0]


def test_guidance_steps_and_fps_out_of_range_are_refused(tmp_path, pipeline, latents):
    with pytest.raises(VasaError, match="guidance"):
        Sampling(audio_guidance=-1)
    with pytest.raises(VasaError, match="steps"):
        Sampling(steps=0)
    with pytest.raises(VasaError, match="fps"):
        pipeline.generate(latents["drawn"], tmp_path / "x.mp4", text="Hi.", fps=0)
    assert not list(tmp_path.iterdir())


def test_a_missing_checkpoint_is_one_clear_line(tmp_path):
    result = run_vasa(
        "generate", "--image", "example:drawn", "--text", "Hi.", "--quiet",
        "--checkpoint", str(tmp_path / "nope.safetensors"), "--out", str(tmp_path / "x.mp4"),
    )  # fmt: skip
    assert_one_line_error(result, "no such checkpoint")
    assert not list(tmp_path.iterdir())


def test_head_motion_zero_is_a_still_head_while_lips_and_blinks_go_on(tmp_path, pipeline):
    from vasa_core.motion.generator import HEAD

    speech = tts.synthesize("We keep the head still and let the lips move along.")
    features = compute_features(speech.samples, rate=speech.rate, fps=25)
    still = pipeline.generator.generate(features, Controls(motion=0.0))
    moving = pipeline.generator.generate(features, Controls(motion=1.0))
    assert np.abs(still[:, HEAD]).max() == 0.0
    assert moving[:, HEAD].std(axis=0).max() > 0.1
    jaw = schema.index("jaw_open")
    assert still[:, jaw].std() > 0.05  # the mouth still talks
