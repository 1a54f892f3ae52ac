"""Reenactment: a portrait follows the head and mouth of a driver video."""

import numpy as np
import pytest
import soundfile

from tests.conftest import run_vasa
from tests.test_cli import assert_one_line_error
from tests.test_render_cli import probe
from vasa_core import schema
from vasa_core.errors import VasaError
from vasa_core.face.track import track_video
from vasa_core.media import write_video
from vasa_core.reenact import reenact, retarget
from vasa_core.render import Renderer

FRAMES = 50
YAW, JAW = schema.index("yaw"), schema.index("jaw_open")


@pytest.fixture(scope="module")
def driver(tmp_path_factory, latents):
    """The drawn face turning its head and opening its mouth, as a video with a tone."""
    folder = tmp_path_factory.mktemp("driver")
    t = np.arange(FRAMES) / 25
    motion = np.tile(latents["drawn"].motion, (FRAMES, 1))
    motion[:, YAW] += 15 * np.sin(2 * np.pi * t / 2)
    motion[:, JAW] = 0.7 * (np.sin(2 * np.pi * t * 1.5) > 0)
    tone = folder / "tone.wav"
    soundfile.write(tone, 0.1 * np.sin(2 * np.pi * 220 * np.arange(32000) / 16000), 16000)
    frames = Renderer(latents["drawn"], size=256).stream(motion)
    video = write_video(folder / "driver.mp4", frames, fps=25, audio=tone)
    return video, motion


def test_retarget_moves_the_drivers_changes_onto_the_portraits_pose(latents):
    portrait = latents["astronaut"].motion
    driver = schema.neutral(4)
    driver[:, YAW] = [30, 32, 28, 30]  # the driver looks aside throughout
    driver[:, JAW] = [0, 0.5, 1, 0]
    motion = retarget(portrait, driver)
    assert np.allclose(motion[:, YAW], portrait[YAW] + np.array([0, 2, -2, 0]))
    assert np.allclose(motion[:, JAW], driver[:, JAW])


def test_a_portrait_follows_the_drivers_head_and_mouth(tmp_path, latents, driver):
    video, truth = driver
    out = reenact(latents["astronaut"], video, tmp_path / "driven.mp4", size=256, mark=False)
    measured, valid, fps = track_video(out)
    assert fps == 25 and abs(len(measured) - FRAMES) <= 1 and valid.all()
    n = min(len(measured), FRAMES)
    assert np.corrcoef(measured[:n, YAW], truth[:n, YAW])[0, 1] > 0.9
    assert np.corrcoef(measured[:n, JAW], truth[:n, JAW])[0, 1] > 0.7
    assert "Audio: aac" in probe(out)  # the driver's sound came along


def test_a_faceless_driver_is_refused_and_nothing_is_written(tmp_path, latents):
    gray = write_video(tmp_path / "gray.mp4", [np.full((64, 64, 3), 128, np.uint8)] * 10, fps=25)
    with pytest.raises(VasaError, match="no face"):
        reenact(latents["drawn"], gray, tmp_path / "out.mp4", size=256)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gray.mp4"]
    result = run_vasa(
        "reenact", "--image", "example:drawn", "--video", str(tmp_path / "missing.mp4"),
        "--out", str(tmp_path / "x.mp4"), "--quiet",
    )  # fmt: skip
    assert_one_line_error(result, "no such video")
