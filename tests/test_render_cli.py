"""`vasa render` and `vasa bench` as a user runs them; videos that play, with sound."""

import json
import subprocess

import imageio_ffmpeg
import numpy as np
import pytest
import soundfile

from tests.conftest import run_vasa
from tests.test_cli import assert_one_line_error
from vasa_core import bench, schema
from vasa_core.errors import VasaError
from vasa_core.media import read_video, write_video
from vasa_core.motion.io import save_motion

FRAMES = 12


@pytest.fixture
def motion_file(tmp_path, latents):
    path = tmp_path / "talk.npz"
    save_motion(path, bench.talking_motion(latents["drawn"].motion, FRAMES), fps=25)
    return path


def render(image: str, motion, out, *extra: str):
    """`vasa render` as a user runs it."""
    return run_vasa("render", "--image", image, "--motion", str(motion), "--out", str(out), *extra)


def probe(path) -> str:
    result = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
        capture_output=True,
        text=True,
    )
    return result.stderr


def test_render_writes_an_h264_video_with_the_audio(tmp_path, motion_file):
    audio = tmp_path / "tone.wav"
    t = np.arange(int(16000 * FRAMES / 25)) / 16000
    soundfile.write(audio, 0.2 * np.sin(2 * np.pi * 220 * t), 16000)
    out = tmp_path / "talk.mp4"
    result = render(
        "example:drawn",
        str(motion_file),
        str(out),
        "--size",
        "256",
        "--audio",
        str(audio),
        "--quiet",
    )
    assert result.returncode == 0, result.stderr
    info = probe(out)
    assert "Video: h264" in info and "yuv420p" in info and "Audio: aac" in info
    frames, fps = read_video(out)
    assert frames.shape == (FRAMES, 256, 256, 3) and fps == 25
    assert list(tmp_path.glob(".vasa-*")) == []  # no temporary file left behind


def test_render_marks_its_video_as_generate_does_unless_no_mark(tmp_path, motion_file):
    from vasa_core.media import MARK

    marked, plain = tmp_path / "marked.mp4", tmp_path / "plain.mp4"
    for out, extra in ((marked, ()), (plain, ("--no-mark",))):
        result = render(
            "example:drawn", str(motion_file), str(out), "--size", "256", "--quiet", *extra
        )
        assert result.returncode == 0, result.stderr
    assert f"{MARK} by vasa-kit" in probe(marked)  # the metadata tag
    assert MARK not in probe(plain) and "vasa-kit" in probe(plain)
    (with_mark, _), (without, _) = read_video(marked), read_video(plain)
    corner = with_mark[:, -20:, -80:].astype(int).max(axis=3)
    assert (corner > 200).any() and (corner < 40).any()  # the visible mark: white on black
    assert np.abs(with_mark[:, -20:, -80:].astype(int) - without[:, -20:, -80:]).mean() > 10
    assert np.abs(with_mark[:, :128].astype(int) - without[:, :128]).mean() < 1  # only there


def test_full_portrait_keeps_its_own_size(tmp_path, motion_file):
    out = tmp_path / "full.mp4"
    result = render("example:grace_hopper", str(motion_file), str(out), "--size", "full", "--quiet")
    assert result.returncode == 0, result.stderr
    frames, _ = read_video(out)
    assert frames.shape[1:3] == (600, 512)


def _npz(path, **arrays):
    np.savez(path, **arrays)
    return path


def test_bad_motion_files_give_one_clear_line(tmp_path, motion_file):
    good = np.load(motion_file)["motion"]
    with_nan, with_inf = good.copy(), good.copy()
    with_nan[3, schema.index("smile")] = np.nan
    with_inf[5, schema.index("yaw")] = np.inf
    channels = {name: good[:, i] for i, name in enumerate(schema.NAMES) if name != "blink_left"}
    cases = {
        "wrong shape": (_npz(tmp_path / "shape.npz", motion=good[:, :5]), "shape"),
        "nan": (_npz(tmp_path / "nan.npz", motion=with_nan), "NaN"),
        "inf": (_npz(tmp_path / "inf.npz", motion=with_inf), "yaw"),
        "missing keys": (_npz(tmp_path / "keys.npz", **channels), "missing channels: blink_left"),
        "not npz": (tmp_path / "plain.txt", "not a motion"),
        "missing file": (tmp_path / "nowhere.npz", "no such motion file"),
    }
    (tmp_path / "plain.txt").write_text("yaw,pitch\n")
    for label, (path, phrase) in cases.items():
        out = tmp_path / f"{label.replace(' ', '_')}.mp4"
        result = render("example:drawn", str(path), str(out), "--quiet")
        assert_one_line_error(result, phrase)
        assert not out.exists(), label


def test_out_of_range_values_are_clipped_with_a_warning(tmp_path, motion_file):
    motion = np.load(motion_file)["motion"].copy()
    motion[:, schema.index("jaw_open")] = 1.8
    path = _npz(tmp_path / "loud.npz", motion=motion)
    out = tmp_path / "loud.mp4"
    result = render("example:drawn", str(path), str(out), "--size", "256", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "vasa: warning:" in result.stderr and "jaw_open" in result.stderr
    assert out.exists()


def test_unwritable_outputs_and_bad_audio_fail_before_any_work(tmp_path, motion_file):
    cases = [
        (tmp_path / "no-such-folder" / "out.mp4", [], "cannot write here"),
        (tmp_path / "out.avi", [], ".mp4"),
        (tmp_path / "out.mp4", ["--audio", str(tmp_path / "missing.wav")], "no such audio"),
    ]
    (tmp_path / "text.wav").write_text("not a sound\n")
    cases.append((tmp_path / "out.mp4", ["--audio", str(tmp_path / "text.wav")], "no audio"))
    for out, extra, phrase in cases:
        result = render("example:drawn", str(motion_file), str(out), "--quiet", *extra)
        assert_one_line_error(result, phrase)
        assert not out.exists()
    assert list(tmp_path.glob("*.mp4")) == [] and list(tmp_path.glob(".vasa-*")) == []


def test_an_interrupted_video_leaves_nothing_behind(tmp_path):
    def frames():
        for i in range(5):
            if i == 3:
                raise KeyboardInterrupt
            yield np.full((64, 64, 3), 40 * i, np.uint8)

    out = tmp_path / "cut.mp4"
    with pytest.raises(KeyboardInterrupt):
        write_video(out, frames())
    assert not out.exists() and list(tmp_path.iterdir()) == []
    with pytest.raises(VasaError, match="no frames"):
        write_video(out, iter([]))


def test_bench_reports_speed_against_the_grid_sample_floor():
    report = bench.run(frames=4, sizes=(256,))
    (row,) = report["results"]
    assert row["size"] == 256 and row["fps"] > 0 and row["ratio_to_grid_sample"] > 1
    assert "256" in bench.table(report) and report["audio_features_x_real_time"] > 1
    assert 0 < report["motion_seconds_per_10s_audio"] < 10
    assert "motion for 10 s of audio" in bench.table(report)


def test_vasa_bench_on_a_chosen_device_measures_that_one_alone():
    result = run_vasa("bench", "--frames", "2", "--device", "cpu", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {row["device"] for row in report["results"]} == {"cpu"}
    assert {row["size"] for row in report["results"]} == {256, 512}


def test_written_files_are_readable_by_others_as_plain_files_are(tmp_path):
    from vasa_core.files import atomic_write
    from vasa_core.media import write_video

    video = write_video(tmp_path / "v.mp4", [np.zeros((16, 16, 3), np.uint8)] * 3, fps=25)
    with atomic_write(tmp_path / "x.bin") as f:
        f.write(b"x")
    (tmp_path / "plain.bin").write_bytes(b"x")
    plain = (tmp_path / "plain.bin").stat().st_mode & 0o777
    assert video.stat().st_mode & 0o777 == plain  # was 0o600 (mkstemp's)
    assert (tmp_path / "x.bin").stat().st_mode & 0o777 == plain
