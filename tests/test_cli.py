"""`vasa analyze` and `vasa schema` as a user runs them, bad inputs included; `--device`
and the ranges of `vasa generate`'s controls, refused before any work."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from tests.conftest import run_vasa


def assert_one_line_error(result, *phrases):
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("vasa: error: ")
    for phrase in phrases:
        assert phrase in lines[0]


def test_analyze_an_example_as_json_with_latents_and_overlay(tmp_path):
    latents, overlay = tmp_path / "astro.npz", tmp_path / "astro.png"
    result = run_vasa(
        "analyze", "example:astronaut", "--json", "--save", str(latents), "--draw", str(overlay)
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["faces_found"] == 1
    assert report["dynamics"]["smile"] > 0.3
    assert set(report["pose"]) == {"yaw", "pitch", "roll", "tx", "ty", "scale"}
    assert latents.stat().st_size > 0
    assert Image.open(overlay).size[0] > 256
    assert result.stderr == ""  # MediaPipe's native start-up chatter is kept off the terminal


def test_analyze_prints_a_readable_table(portraits, tmp_path):
    path = tmp_path / "grace.jpg"
    Image.fromarray(portraits["grace_hopper"]).save(path)
    result = run_vasa("analyze", str(path))
    assert result.returncode == 0
    assert "head pose" in result.stdout and "jaw_open" in result.stdout


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


@pytest.fixture
def bad_inputs(tmp_path, portraits):
    jpeg = tmp_path / "full.jpg"
    Image.fromarray(portraits["grace_hopper"]).save(jpeg)
    coffee = tmp_path / "coffee.png"
    import skimage.data

    Image.fromarray(skimage.data.coffee()).save(coffee)
    huge = tmp_path / "huge.png"
    with open(huge, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.truncate(100 * 2**20)
    tiny = tmp_path / "tiny.png"
    Image.new("RGB", (1, 1), "white").save(tiny)
    folder = tmp_path / "folder"
    folder.mkdir()
    return {
        "no face": (coffee, ["no face found"]),
        "empty": (_write(tmp_path / "empty.png", b""), ["empty"]),
        "text named png": (
            _write(tmp_path / "notes.png", b"hello, not a picture\n"),
            ["not an image"],
        ),
        "truncated jpeg": (_write(tmp_path / "cut.jpg", jpeg.read_bytes()[:3000]), ["truncated"]),
        "1x1": (tiny, ["1x1", "too small"]),
        "100 MB": (huge, ["100 MB", "too large"]),
        "missing": (tmp_path / "nowhere.jpg", ["no such file"]),
        "directory": (folder, ["directory"]),
    }


CASES = [
    "no face",
    "empty",
    "text named png",
    "truncated jpeg",
    "1x1",
    "100 MB",
    "missing",
    "directory",
]


@pytest.mark.parametrize("case", CASES)
def test_bad_inputs_give_one_clear_line(case, bad_inputs):
    path, phrases = bad_inputs[case]
    assert_one_line_error(run_vasa("analyze", str(path)), str(path), *phrases)


def test_unknown_example_and_unwritable_outputs_fail_cleanly(tmp_path):
    assert_one_line_error(run_vasa("analyze", "example:mona_lisa"), "unknown example")
    locked = tmp_path / "locked"
    locked.mkdir()
    os.chmod(locked, 0o500)
    try:
        if os.access(locked, os.W_OK):  # root ignores permissions: use a missing folder
            target = tmp_path / "no-such-folder" / "out.npz"
        else:
            target = locked / "out.npz"
        result = run_vasa("analyze", "example:drawn", "--save", str(target))
        assert_one_line_error(result, "cannot write")
        assert not target.exists()
        assert not list(target.parent.glob("*")) if target.parent.exists() else True
    finally:
        os.chmod(locked, 0o700)


def test_overlay_must_be_png(tmp_path):
    result = run_vasa("analyze", "example:drawn", "--draw", str(tmp_path / "x.jpg"))
    assert_one_line_error(result, "PNG")


def test_schema_lists_every_channel():
    result = run_vasa("schema", "--json")
    assert result.returncode == 0
    channels = json.loads(result.stdout)["channels"]
    assert [c["name"] for c in channels][:3] == ["yaw", "pitch", "roll"]
    assert np.all([c["low"] <= c["default"] <= c["high"] for c in channels])


def test_usage_errors_exit_2_without_traceback():
    result = run_vasa("analyze")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_the_help_does_not_wait_for_torch():
    code = "import sys; from vasa_core.cli import build_parser; build_parser(); "
    code += "sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")


@NO_CUDA
@pytest.mark.parametrize(
    "verb",
    [
        ["generate", "--image", "example:drawn", "--text", "Hi.", "--quiet"],
        ["render", "--image", "example:drawn", "--motion", "talk.npz", "--quiet"],
        ["reenact", "--image", "example:drawn", "--video", "driver.mp4", "--quiet"],
        ["train", "--data", "corpus", "--quiet"],
        ["bench", "--frames", "2"],
    ],
    ids=lambda verb: verb[0],
)
def test_cuda_on_a_machine_without_it_is_one_clear_line(verb, tmp_path):
    out = ["--out", str(tmp_path / "out.mp4")] if verb[0] != "bench" else []
    result = run_vasa(*verb, *out, "--device", "cuda")
    assert_one_line_error(result, "'cuda'", "no CUDA GPU")
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_device_is_a_usage_error():
    result = run_vasa("bench", "--device", "tpu")
    assert result.returncode == 2 and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "option, value, phrase",
    [
        ("--distance", "3", "--distance 3 is outside 0.7..1.4"),
        ("--gaze-yaw", "-90", "--gaze-yaw -90 is outside -30..30 deg"),
        ("--intensity", "nan", "--intensity nan is outside 0..1"),
        ("--guidance", "7", "--guidance 7 is outside 0..6"),
        ("--steps", "0", "--steps 0 is outside 1..50"),
        ("--fps", "120", "--fps 120 is outside 10..60"),
    ],
)
def test_generate_refuses_a_value_out_of_range_before_any_work(option, value, phrase, tmp_path):
    out = tmp_path / "x.mp4"
    result = run_vasa(
        "generate", "--image", "example:drawn", "--text", "Hi.", "--quiet", "--out", str(out),
        option, value,
    )  # fmt: skip
    assert_one_line_error(result, phrase)
    assert list(tmp_path.iterdir()) == []


def test_generate_help_gives_the_ranges_and_defaults_of_the_knobs():
    from vasa_core.schema import knob

    result = run_vasa("generate", "--help")
    assert result.returncode == 0
    help_text = " ".join(result.stdout.split())  # argparse wraps lines
    for name in ("distance", "audio_guidance", "steps"):
        k = knob(name)
        assert f"{k.low:g}..{k.high:g}" in help_text and f"default {k.default:g}" in help_text
