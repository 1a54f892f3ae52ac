"""Bad and awkward inputs to every verb and to the app, each refused as a user should see it.

Every CLI case runs `vasa` as a user would, in a fresh interpreter with a TMPDIR of its
own, and checks the house rules: exit status 1, exactly one line on stderr (`vasa: error:
...`, naming what was wrong), no traceback, no file at `--out` (nor a partial beside it),
nothing new in TMPDIR. The app's cases go through the running app (gradio_client), and
check that the page shows one line without a server path and that the terminal logs one
line, not a traceback. Then what is left behind when the disk is full, when the command is
stopped by SIGTERM, and the mode of what is written. Every input is made here.
"""

from __future__ import annotations

import errno
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
import soundfile
from PIL import Image

from vasa_core import examples, schema
from vasa_core.errors import VasaError

HUGE_SEED = str(2**70)
SHIPPED_MOTION = str(Path(__file__).parents[1] / "vasa_core" / "checkpoints" / "motion.safetensors")

# Inputs -------------------------------------------------------------------------------------


def _png_header(width: int, height: int) -> bytes:
    """A PNG that says it is width x height, with almost no pixel data: what a
    decompression bomb looks like to a reader that trusts the header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    idat = zlib.compress(b"\0" * 1000)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def _wav(path: Path, samples: np.ndarray, rate: int = 16000, subtype: str = "PCM_16") -> Path:
    soundfile.write(path, samples, rate, subtype=subtype)
    return path


def several_faces() -> dict[str, np.ndarray]:
    """Portraits that Face Mesh sees no face in as a whole: the example portrait twice side
    by side, four times in a 2 x 2 grid, once on a canvas five times its width, and a
    portrait shrunk to an eighth on a white canvas (its face 25 px wide)."""
    face = examples.load("astronaut")  # its face is 92 px wide, a fifth of the picture
    pair = np.concatenate([face, face], axis=1)
    height, width = face.shape[:2]
    small = np.asarray(Image.fromarray(examples.load("grace_hopper")).resize((64, 75)))
    return {
        "pair": pair,
        "grid": np.concatenate([pair, pair], axis=0),
        "wide": np.pad(face, ((0, 0), (2 * width, 2 * width), (0, 0)), constant_values=255),
        "small_face": np.pad(small, ((300, 300), (256, 256), (0, 0)), constant_values=255),
    }


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    """A folder of bad inputs (and a few good ones to pair them with)."""
    from vasa_core.media import write_video
    from vasa_core.motion.io import save_motion

    folder = tmp_path_factory.mktemp("inputs")
    rng = np.random.default_rng(19)
    drawn = examples.load("drawn")
    Image.fromarray(drawn).save(folder / "picture.jpg")
    Image.fromarray(drawn).save(folder / "picture.png")
    jpeg = (folder / "picture.jpg").read_bytes()
    files = {
        "text.png": b"hello, not a picture\n",
        "random.jpg": rng.bytes(5000),
        "random.mp4": rng.bytes(5000),
        "cut.jpg": jpeg[:3000],
        "huge.png": _png_header(20000, 20000),
        "short.txt": b"hello\n",
        "text.txt": b"This is a text file, and ffmpeg reads text as a video.\n" * 100,
        "text.npz": b"not an npz\n",
        "notes.json": b"not the phoneme JSON\n",
        "picture.wav": (folder / "picture.png").read_bytes(),  # a PNG named .wav
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    for name in ("empty.png", "empty.wav", "empty.mp4", "empty.npz"):
        (folder / name).write_bytes(b"")
    Image.new("RGB", (1, 1), "white").save(folder / "tiny.png")
    for name, picture in several_faces().items():
        Image.fromarray(picture).save(folder / f"{name}.png")
    speech = 0.3 * np.sin(np.linspace(0, 2000, 32000)).astype(np.float32)
    _wav(folder / "nan.wav", np.where(np.arange(32000) % 7, speech, np.nan), subtype="FLOAT")
    _wav(folder / "inf.wav", np.where(np.arange(32000) % 7, speech, np.inf), subtype="FLOAT")
    _wav(folder / "silent.wav", np.zeros(32000, np.float32))
    _wav(folder / "long.wav", np.zeros(601 * 8000, np.int16), rate=8000)  # 601 s
    (folder / "cut.wav").write_bytes(_wav(folder / "speech.wav", speech).read_bytes()[:30])
    frames = [rng.integers(0, 255, (64, 64, 3), dtype=np.uint8) for _ in range(12)]
    video = write_video(folder / "noise.mp4", frames, fps=25)
    (folder / "cut.mp4").write_bytes(video.read_bytes()[:600])
    save_motion(folder / "motion.npz", schema.neutral(10))
    np.savez(folder / "pickled.npz", motion=np.array([{"a": 1}], dtype=object))
    np.savez(folder / "nan_motion.npz", motion=np.full((10, schema.DIM), np.nan, np.float32))
    np.savez(folder / "narrow.npz", motion=np.zeros((10, 5), np.float32))
    (folder / "full").mkdir()
    (folder / "full" / "something").write_text("taken\n")
    (folder / "folder").mkdir()
    (folder / "folder.mp4").mkdir()  # a folder where a video would go
    return folder


# Running vasa -------------------------------------------------------------------------------


def vasa(*args: str, tmpdir: Path, **options) -> subprocess.CompletedProcess:
    """`vasa ARGS` in a fresh interpreter whose temporary files go to `tmpdir`."""
    tmpdir.mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "vasa_core", *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "TMPDIR": str(tmpdir)},
        **options,
    )


def assert_refused(result, out: Path | None, tmpdir: Path, *phrases: str) -> None:
    """The house rules for a user's mistake, and nothing left behind."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("vasa: error: "), lines[0]
    for phrase in phrases:
        assert phrase in lines[0], lines[0]
    assert result.returncode == 1, result.stderr
    if out is not None:
        assert not out.exists(), out
        if out.parent.is_dir() and os.access(out.parent, os.W_OK):
            assert not list(out.parent.glob(".vasa-*")) and not list(out.parent.glob("*.part"))
    assert list(tmpdir.iterdir()) == [], list(tmpdir.iterdir())


def case(name: str, args: list[str], out: str | None, *phrases: str):
    """One CLI case: its arguments ({i}: the inputs folder, {o}: the output path, in the
    test's own folder), the name of its output or None, the phrases its one line holds."""
    return pytest.param(args, out, phrases, id=name)


A = "example:drawn"  # a good portrait, for the cases about something else


def render(*extra: str, motion: str = "{i}/motion.npz", out: str = "{o}", image: str = A):
    return ["render", "--image", image, "--motion", motion, "--out", out, *extra]


def generate(*extra: str, out: str = "{o}", image: str = A):
    return ["generate", "--image", image, "--text", "hi", "--out", out, *extra]


def reenact(video: str, out: str = "{o}"):
    return ["reenact", "--image", A, "--video", video, "--out", out]


CASES = [
    # analyze: portraits that are not, and where the latents would go
    case("analyze-text-as-png", ["analyze", "{i}/text.png"], None, "text.png", "not an image"),
    case("analyze-random-bytes", ["analyze", "{i}/random.jpg"], None, "not an image"),
    case("analyze-zero-byte", ["analyze", "{i}/empty.png"], None, "empty"),
    case("analyze-truncated-jpeg", ["analyze", "{i}/cut.jpg"], None, "truncated"),
    case("analyze-20000x20000", ["analyze", "{i}/huge.png"], None, "too many pixels"),
    case("analyze-1x1", ["analyze", "{i}/tiny.png"], None, "1x1", "too small"),
    case("analyze-wav-as-image", ["analyze", "{i}/speech.wav"], None, "not an image"),
    case("analyze-missing", ["analyze", "{i}/nowhere.png"], None, "no such file"),
    case("analyze-directory", ["analyze", "{i}/folder"], None, "directory"),
    case("analyze-face-too-small", ["analyze", "{i}/small_face.png"], None, "face is too small"),
    case("analyze-unknown-example", ["analyze", "example:mona_lisa"], None, "unknown example"),
    case("analyze-save-txt", ["analyze", A, "--save", "{o}"], "l.txt", ".npz"),
    case("analyze-save-proc", ["analyze", A, "--save", "/proc/l.npz"], None, "cannot write"),
    case("analyze-save-no-folder", ["analyze", A, "--save", "{o}"], "no/l.npz", "cannot write"),
    case("analyze-draw-jpg", ["analyze", A, "--draw", "{o}"], "o.jpg", "PNG"),
    # render: frame rates, motion files, outputs, sound
    case("render-fps-0", render("--fps", "0"), "v.mp4", "--fps 0 is outside 10..60"),
    case("render-fps-negative", render("--fps", "-5"), "v.mp4", "--fps -5 is outside"),
    case("render-fps-nan", render("--fps", "nan"), "v.mp4", "--fps nan is outside"),
    case("render-pickled-npz", render(motion="{i}/pickled.npz"), "v.mp4", "not a motion"),
    case("render-nan-motion", render(motion="{i}/nan_motion.npz"), "v.mp4", "NaN"),
    case("render-wrong-shape", render(motion="{i}/narrow.npz"), "v.mp4", "shape"),
    case("render-text-as-npz", render(motion="{i}/text.npz"), "v.mp4", "not a motion"),
    case("render-zero-byte-npz", render(motion="{i}/empty.npz"), "v.mp4", "empty"),
    case("render-out-proc", render(out="/proc/v.mp4"), None, "cannot write"),
    case("render-out-avi", render(), "v.avi", ".mp4"),
    case("render-out-directory", render(out="{i}/folder.mp4"), None, "directory"),
    case("render-text-as-audio", render("--audio", "{i}/short.txt"), "v.mp4", "no audio"),
    case(
        "render-text-portrait",
        render(image="{i}/text.png"),
        "v.mp4",
        "not an image",
    ),
    # generate: each refused before the models load
    case("generate-seed-2**70", generate("--seed", HUGE_SEED), "v.mp4", HUGE_SEED, "2**63 - 1"),
    case("generate-seed-negative", generate("--seed", "-1"), "v.mp4", "seed -1 is outside"),
    case("generate-out-proc", generate(out="/proc/v.mp4"), None, "cannot write"),
    case("generate-out-mov", generate(), "v.mov", ".mp4"),
    case("generate-gaze-90", generate("--gaze-yaw", "90"), "v.mp4", "--gaze-yaw 90 is outside"),
    case("generate-steps-0", generate("--steps", "0"), "v.mp4", "--steps 0 is outside"),
    case("generate-fps-0", generate("--fps", "0"), "v.mp4", "--fps 0 is outside"),
    case("generate-intensity-nan", generate("--intensity", "nan"), "v.mp4", "--intensity nan"),
    case("generate-guidance-inf", generate("--guidance", "inf"), "v.mp4", "--guidance inf"),
    case("generate-max-minutes-0", generate("--max-minutes", "0"), "v.mp4", "above 0"),
    case("generate-max-minutes-inf", generate("--max-minutes", "inf"), "v.mp4", "inf must be"),
    case(
        "generate-audio-missing",
        ["generate", "--image", A, "--audio", "{i}/nowhere.wav", "--out", "{o}"],
        "v.mp4",
        "no such file",
    ),
    case(
        "generate-audio-zero-byte",
        ["generate", "--image", A, "--audio", "{i}/empty.wav", "--out", "{o}"],
        "v.mp4",
        "empty",
    ),
    case(
        "generate-text-as-portrait",
        generate(image="{i}/text.png"),
        "v.mp4",
        "not an image",
    ),
    case(
        "generate-huge-portrait",
        generate(image="{i}/huge.png"),
        "v.mp4",
        "too many pixels",
    ),
    # reenact: driving "videos" that are not
    case("reenact-text-as-video", reenact("{i}/text.txt"), "v.mp4", "a text file, not a video"),
    case("reenact-short-text", reenact("{i}/short.txt"), "v.mp4", "not a video file"),
    case("reenact-jpeg", reenact("{i}/picture.jpg"), "v.mp4", "a still picture, not a video"),
    case("reenact-random-mp4", reenact("{i}/random.mp4"), "v.mp4", "not a video file"),
    case("reenact-truncated-mp4", reenact("{i}/cut.mp4"), "v.mp4", "not a video file"),
    case("reenact-zero-byte", reenact("{i}/empty.mp4"), "v.mp4", "empty"),
    case("reenact-missing", reenact("{i}/nowhere.mp4"), "v.mp4", "no such video"),
    case(
        "reenact-out-proc",
        reenact("{i}/noise.mp4", out="/proc/v.mp4"),
        None,
        "cannot write",
    ),
    # bench
    case("bench-frames-0", ["bench", "--frames", "0"], None, "--frames 0", "at least 1"),
    case("bench-frames-negative", ["bench", "--frames", "-5"], None, "--frames -5", "at least 1"),
    # tts: the suffixes it writes, where, and what it is asked to say
    case("tts-mp3", ["tts", "hello", "--out", "{o}"], "a.mp3", ".wav"),
    case(
        "tts-phonemes-txt", ["tts", "hi", "--out", "{o}", "--phonemes", "{o}.txt"], "a.wav", ".json"
    ),
    case("tts-out-proc", ["tts", "hello", "--out", "/proc/a.wav"], None, "cannot write"),
    case("tts-out-no-folder", ["tts", "hello", "--out", "{o}"], "no/a.wav", "cannot write"),
    case("tts-empty-text", ["tts", "", "--out", "{o}"], "a.wav", "empty"),
    case(
        "tts-unknown-voice", ["tts", "hi", "--out", "{o}", "--voice", "klingon"], "a.wav", "klingon"
    ),
    case("tts-rate-5000", ["tts", "hello", "--out", "{o}", "--rate", "5000"], "a.wav", "5000"),
    case("tts-no-text", ["tts", "--out", "{o}"], "a.wav", "TEXT"),
    # features: sounds that are not, or too long
    case("features-nan-audio", ["features", "{i}/nan.wav"], None, "NaN"),
    case("features-inf-audio", ["features", "{i}/inf.wav"], None, "infinite"),
    case(
        "features-601-seconds",
        ["features", "{i}/long.wav"],
        None,
        "601.0 s is longer than the limit of 600 s",
    ),
    case("features-truncated-wav", ["features", "{i}/cut.wav"], None, "no audio that ffmpeg"),
    case("features-zero-byte", ["features", "{i}/empty.wav"], None, "empty"),
    case("features-text", ["features", "{i}/text.txt"], None, "no audio in a text file"),
    case("features-png-as-wav", ["features", "{i}/picture.wav"], None, "a still picture"),
    case("features-silent-video", ["features", "{i}/noise.mp4"], None, "no audio"),
    case("features-fps-0", ["features", "{i}/speech.wav", "--fps", "0"], None, "--fps 0"),
    case(
        "features-max-minutes-nan",
        ["features", "{i}/speech.wav", "--max-minutes", "nan"],
        None,
        "--max-minutes nan must be a number of minutes above 0",
    ),
    # corpus, ingest, train
    case(
        "corpus-seed-2**70",
        ["corpus", "--out", "{o}", "--minutes", "1", "--seed", HUGE_SEED],
        "corpus",
        "2**63 - 1",
    ),
    case("corpus-minutes-0", ["corpus", "--out", "{o}", "--minutes", "0"], "corpus", "--minutes"),
    case("corpus-not-empty", ["corpus", "--out", "{i}/full", "--minutes", "1"], None, "not empty"),
    case(
        "ingest-text-as-video", ["ingest", "{i}/text.txt", "--out", "{o}"], "corpus", "a text file"
    ),
    case("ingest-jpeg-as-video", ["ingest", "{i}/picture.jpg", "--out", "{o}"], "corpus", "still"),
    case(
        "train-seed-2**70",
        ["train", "--data", "{i}/full", "--out", "{o}", "--seed", HUGE_SEED],
        "m.safetensors",
        "2**63 - 1",
    ),
    case("train-out-pt", ["train", "--data", "{i}/full", "--out", "{o}"], "m.pt", ".safetensors"),
    case(
        "train-data-missing",
        ["train", "--data", "{i}/nowhere", "--out", "{o}"],
        "m.safetensors",
        "nowhere: no such corpus folder",
    ),
    case(
        "train-data-file",
        ["train", "--data", "{i}/short.txt", "--out", "{o}"],
        "m.safetensors",
        "a file, not a corpus folder",
    ),
    case(
        "train-data-no-manifest",
        ["train", "--data", "{i}/folder", "--out", "{o}"],
        "m.safetensors",
        "not a corpus (no manifest.json;",
    ),
    case(
        "train-closure-weight-negative",
        ["train", "--data", "{i}/full", "--out", "{o}", "--closure-weight", "-1"],
        "m.safetensors",
        "--closure-weight must be 0 or more",
    ),
    case(
        "train-init-and-resume",
        ["train", "--data", "{i}/full", "--out", "{o}", "--init", SHIPPED_MOTION, "--resume"],
        "m.safetensors",
        "--init starts a new run",
    ),
    case(
        "train-init-missing",
        ["train", "--data", "{i}/full", "--out", "{o}", "--init", "{i}/nowhere.safetensors"],
        "m.safetensors",
        "nowhere.safetensors: no such checkpoint",
    ),
    case(
        "train-init-other-shape",
        ["train", "--data", "{i}/full", "--out", "{o}", "--init", SHIPPED_MOTION, "--window", "1"],
        "m.safetensors",
        "not what this run asks for",
    ),
    # eval: "videos" that are not, and where its plot would go
    case("eval-text", ["eval", "{i}/text.txt"], None, "a text file, not a video"),
    case("eval-short-text", ["eval", "{i}/short.txt"], None, "not a video file"),
    case("eval-jpeg", ["eval", "{i}/picture.jpg"], None, "a still picture, not a video"),
    case("eval-random-mp4", ["eval", "{i}/random.mp4"], None, "not a video file"),
    case("eval-zero-byte", ["eval", "{i}/empty.mp4"], None, "empty"),
    case("eval-silent-video", ["eval", "{i}/noise.mp4"], None, "no sound track"),
    case("eval-plot-jpg", ["eval", "{i}/noise.mp4", "--plot", "{o}"], "p.jpg", ".png"),
    case(
        "eval-bad-phonemes",
        ["eval", "{i}/noise.mp4", "--phonemes", "{i}/notes.json"],
        None,
        "not a phoneme file",
    ),
]


@pytest.mark.parametrize("args, out_name, phrases", CASES)
def test_the_cli_refuses_with_one_line_and_leaves_nothing(made, tmp_path, args, out_name, phrases):
    out = tmp_path / out_name if out_name else None
    argv = [a.format(i=made, o=out) for a in args]
    tmpdir = tmp_path / "tmpdir"
    assert_refused(vasa(*argv, tmpdir=tmpdir), out, tmpdir, *phrases)


def test_every_verb_has_bad_input_cases():
    from vasa_core.cli import build_parser

    verbs = build_parser()._subparsers._group_actions[0].choices
    covered = {c.values[0][0] for c in CASES}
    # schema and doctor take no input to get wrong
    assert set(verbs) - covered == {"schema", "doctor"}


# Several faces ---------------------------------------------------------------------------


@pytest.mark.parametrize("name, count", [("pair", 2), ("grid", 4), ("wide", 1)])
def test_several_faces_take_the_largest_with_a_one_line_notice(made, tmp_path, name, count):
    import json

    result = vasa("analyze", str(made / f"{name}.png"), "--json", tmpdir=tmp_path / "tmp")
    assert result.returncode == 0, result.stderr
    said = [line for line in result.stderr.splitlines() if line.strip()]
    notice = f"vasa: warning: {made / name}.png: found {count} faces; using the largest"
    if count == 1:
        assert said == [], said
    else:  # one line, and not a refusal
        assert len(said) == 1 and said[0].startswith(notice), said
        assert said[0].endswith("(92 px wide)"), said
    summary = json.loads(result.stdout)
    assert summary["faces_found"] == count
    x0, y0, x1, y1 = summary["face_box"]
    assert 80 < x1 - x0 < 105  # the astronaut's own face, 92 px wide, not a blend of two
    if name == "wide":  # found on the canvas where it is, not where the tile was
        assert 2 * 512 < x0 < x1 < 3 * 512


def test_the_app_notices_several_faces_once(made, monkeypatch):
    from vasa_core.app import shared

    shown = []
    monkeypatch.setattr(shared.gr, "Warning", shown.append)
    grid = np.asarray(Image.open(made / "grid.png"))
    with pytest.warns(UserWarning, match="found 4 faces"):  # the terminal's one line
        latents = shared.analysed(grid)
    assert latents.n_faces == 4
    assert len(shown) == 1 and shown[0].startswith("portrait: found 4 faces; using the largest")
    shared.analysed(grid)  # kept analysed: not said again
    assert len(shown) == 1


# The motion generator ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generator():
    """Cases that need the motion generator loaded run only where it loads."""
    from vasa_core.motion.generator import MotionGenerator

    try:
        MotionGenerator(device="cpu")
    except VasaError as error:
        pytest.skip(f"the shipped motion generator does not load here: {error}")


def test_generate_with_silent_audio_says_there_is_no_voice(made, tmp_path, generator):
    out, tmpdir = tmp_path / "v.mp4", tmp_path / "tmpdir"
    args = ["generate", "--image", A, "--audio", str(made / "silent.wav"), "--out", str(out)]
    result = vasa(*args, tmpdir=tmpdir)
    assert_refused(result, out, tmpdir, "no voice")


@pytest.mark.parametrize(
    "audio, limit, phrase",
    [
        ("long.wav", [], "601.0 s is longer than the limit of 600 s (10 minutes); --max-minutes"),
        ("speech.wav", ["--max-minutes", "0.02"], "2.0 s is longer than the limit of 1.2 s;"),
        # Raised, the 601 s pass the limit and are read to the end: silence, no voice in it.
        ("long.wav", ["--max-minutes", "10.1"], "no voice"),
    ],
    ids=["default-10-minutes", "lowered", "raised"],
)
def test_generate_max_minutes_sets_the_audio_limit(made, tmp_path, generator, audio, limit, phrase):
    out, tmpdir = tmp_path / "v.mp4", tmp_path / "tmpdir"
    args = ["generate", "--image", A, "--audio", str(made / audio), "--out", str(out), *limit]
    assert_refused(vasa(*args, tmpdir=tmpdir), out, tmpdir, phrase)


# A full disk ---------------------------------------------------------------------------------


def test_a_disk_full_during_a_write_is_one_line_and_no_partial(tmp_path, monkeypatch):
    from vasa_core import files

    real = os.fdopen

    class Full:
        def __init__(self, handle, mode):
            self.file = real(handle, mode)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.file.close()

        def write(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "fdopen", Full)
    target = tmp_path / "latents.npz"
    with pytest.raises(VasaError, match="could not be written \\(no space left on device\\)"):
        with files.atomic_write(target) as f:
            np.savez(f, x=np.zeros(10))
    assert list(tmp_path.iterdir()) == []  # neither the file nor its .part


def test_a_disk_full_for_tts_is_one_line_in_process(tmp_path, monkeypatch, capsys):
    from vasa_core import files
    from vasa_core.cli import main

    def full(handle, mode):
        os.close(handle)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "fdopen", full)
    out = tmp_path / "a.wav"
    assert main(["tts", "hello", "--out", str(out), "--phonemes", str(tmp_path / "p.json")]) == 1
    said = capsys.readouterr().err.strip().splitlines()
    both = f"{out} and {tmp_path / 'p.json'}"
    assert said == [f"vasa: error: {both}: could not be written (no space left on device)"]
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def full_disk(tmp_path):
    """A folder on a tiny filesystem with 8 KiB left (a tmpfs: needs the right to mount)."""
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small filesystem here (needs root)")
    try:
        (folder / "filler").write_bytes(b"\0" * (120 * 1024))
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@pytest.mark.parametrize(
    "args, name",
    [
        (["analyze", A, "--save", "{o}"], "l.npz"),
        (["tts", "Hello there, this sentence fills a small disk.", "--out", "{o}"], "a.wav"),
        (
            ["render", "--image", A, "--motion", "{i}/motion.npz", "--out", "{o}", "--quiet"],
            "v.mp4",
        ),
    ],
    ids=["analyze-save", "tts", "render"],
)
def test_a_full_disk_is_one_line_with_its_cause(made, full_disk, tmp_path, args, name):
    out, tmpdir = full_disk / name, tmp_path / "tmpdir"
    result = vasa(*[a.format(i=made, o=out) for a in args], tmpdir=tmpdir)
    assert_refused(result, out, tmpdir, "no space left on device")
    assert [p.name for p in full_disk.iterdir()] == ["filler"]


def test_generate_on_a_full_disk_names_the_cause(full_disk, tmp_path, generator):
    out, tmpdir = full_disk / "v.mp4", tmp_path / "tmpdir"
    speech = "Hello there, this is a sentence long enough to fill a small disk."
    args = ["generate", "--image", A, "--text", speech, "--out", str(out), "--size", "256"]
    result = vasa(*args, "--quiet", tmpdir=tmpdir)
    assert_refused(result, out, tmpdir, "could not be written (no space left on device)")
    assert [p.name for p in full_disk.iterdir()] == ["filler"]


def _training_state(step: int):
    import torch

    from vasa_core.motion.model import Config, MotionDenoiser
    from vasa_core.training.checkpointing import TrainingState

    model = MotionDenoiser(Config(width=16, layers=1))
    optimizer = torch.optim.Adam(model.parameters())
    mean, std = np.zeros(schema.DIM, np.float32), np.ones(schema.DIM, np.float32)
    return TrainingState(model, optimizer, mean, std, step=step)


def test_a_full_disk_at_a_training_checkpoint_keeps_the_last_one_whole(tmp_path, monkeypatch):
    """In process (no mount needed): the disk refuses the second validation's checkpoint."""
    from vasa_core import files
    from vasa_core.training import checkpointing

    out = tmp_path / "m.safetensors"
    checkpointing.save(_training_state(1), out, {})
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert sorted(before) == ["m.safetensors", "m.train.pt"]

    def full(handle, mode):
        os.close(handle)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "fdopen", full)
    with pytest.raises(VasaError, match="could not be written \\(no space left on device\\)"):
        checkpointing.save(_training_state(2), out, {})
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # no partials


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("corpus") / "corpus"
    made = subprocess.run(
        [sys.executable, "-m", "vasa_core", "corpus", "--out", str(folder), "--minutes", "0.1"]
        + ["--quiet"],
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    return folder


def test_train_on_a_full_disk_is_one_line_and_no_partial_checkpoint(
    tiny_corpus, full_disk, tmp_path
):
    out, tmpdir = full_disk / "m.safetensors", tmp_path / "tmpdir"
    small = ["--steps", "2", "--val-every", "1", "--batch", "2", "--width", "16", "--layers", "1"]
    result = vasa(
        "train", "--data", str(tiny_corpus), "--out", str(out), *small, "--quiet", tmpdir=tmpdir
    )
    assert_refused(result, out, tmpdir, "could not be written (no space left on device)")
    assert [p.name for p in full_disk.iterdir()] == ["filler"]  # nor m.train.pt


# SIGTERM and file modes ------------------------------------------------------------------------


@pytest.mark.parametrize("verb", ["render", "generate"])
def test_sigterm_removes_the_partial_video_and_temporary_folders(tmp_path, verb, request):
    from vasa_core.motion.io import save_motion

    save_motion(tmp_path / "long.npz", schema.neutral(3000))
    if verb == "generate":
        request.getfixturevalue("generator")
        source = ["--text", "Hello there. This is long enough to be stopped halfway. " * 3]
    else:
        source = ["--motion", str(tmp_path / "long.npz")]
    out, tmpdir = tmp_path / "v.mp4", tmp_path / "tmpdir"
    tmpdir.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "vasa_core", verb, "--image", A, *source, "--out", str(out)]
        + ["--size", "256", "--quiet"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(tmpdir)},
    )
    deadline = time.monotonic() + 120
    while not any(p.stat().st_size for p in tmp_path.glob(".vasa-*.mp4")):  # frames going in
        assert process.poll() is None and time.monotonic() < deadline, "no frames written"
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143 and stderr.strip() == "vasa: terminated", stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.npz", "tmpdir"]
    assert list(tmpdir.iterdir()) == []  # generate's vasa-generate-* folder too


def test_outputs_are_made_with_the_users_umask(made, tmp_path):
    umask, mode = 0o027, 0o640  # neither mkstemp's 0600 nor a fixed 0644
    outputs = {
        "a.wav": ["tts", "hello", "--out", "{o}", "--phonemes", "{o}.json"],
        "l.npz": ["analyze", A, "--save", "{o}"],
        "v.mp4": ["render", "--image", A, "--motion", "{i}/motion.npz", "--out", "{o}", "--quiet"],
    }
    for name, args in outputs.items():
        out = tmp_path / name
        result = vasa(
            *[a.format(i=made, o=out) for a in args],
            tmpdir=tmp_path / "tmpdir",
            preexec_fn=lambda: os.umask(umask),
        )
        assert result.returncode == 0, result.stderr
    written = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir() if p.is_file()}
    assert written == {"a.wav": mode, "a.wav.json": mode, "l.npz": mode, "v.mp4": mode}


# The app ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app_client():
    gradio_client = pytest.importorskip("gradio_client")
    import app as vasa_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo = vasa_app.build_app()
    options = dict(prevent_thread_lock=True, quiet=True, ssr_mode=False)
    demo.queue().launch(server_name="127.0.0.1", server_port=port, **options)
    yield gradio_client.Client(f"http://127.0.0.1:{port}/", verbose=False)
    demo.close()


GENERATE = {
    "text": "Hello.",
    "recording": None,
    "voice": "en-us",
    "emotion": "neutral",
    "intensity": 0.7,
    "gaze_yaw": 0,
    "gaze_pitch": 0,
    "distance": 1,
    "head_motion": 1,
    "guidance": 2.5,
    "steps": 10,
    "seed": 0,
    "size": "256",
    "fps": 25,
}


def app_case(name: str, endpoint: str, portrait: str, changes: dict, *phrases: str):
    """One app case: the endpoint, the portrait file sent, what differs from GENERATE (a
    recording or a reenact driver by the name of an input file), the phrases shown."""
    return pytest.param(endpoint, portrait, changes, phrases, id=name)


P = "picture.png"  # a good portrait, for the cases about something else
APP_CASES = [
    app_case("portrait-text", "/analyze", "text.png", {}, "text.png", "not an image"),
    app_case("portrait-random-bytes", "/analyze", "random.jpg", {}, "not an image"),
    app_case("portrait-truncated", "/analyze", "cut.jpg", {}, "truncated"),
    app_case("portrait-20000x20000", "/analyze", "huge.png", {}, "too many pixels"),
    app_case("portrait-1x1", "/analyze", "tiny.png", {}, "too small"),
    app_case("seed-2**70", "/generate", P, {"seed": 2**70}, str(2**70), "2**63 - 1"),
    app_case("seed-2**63", "/generate", P, {"seed": 2**63}, str(2**63), "outside"),
    app_case("seed-negative", "/generate", P, {"seed": -1}, "seed -1 is outside"),
    app_case("steps-fraction", "/generate", P, {"steps": 2.5}, "whole number"),
    app_case("recording-nan", "/generate", P, {"text": "", "recording": "nan.wav"}, "NaN"),
    app_case(
        "recording-text", "/generate", P, {"text": "", "recording": "text.txt"}, "a text file"
    ),
    app_case(  # the CLI's limit, without its --max-minutes hint
        "recording-601-s",
        "/generate",
        P,
        {"text": "", "recording": "long.wav"},
        "601.0 s is longer than the limit of 600 s (10 minutes)",
    ),
    app_case("driver-text", "/reenact", P, {"driver": "text.txt"}, "a text file, not a video"),
    app_case("driver-jpeg", "/reenact", P, {"driver": "picture.jpg"}, "a still picture"),
]


def _app_arguments(endpoint: str, portrait, changes: dict, made: Path) -> list:
    from gradio_client import handle_file

    files = {
        k: handle_file(str(made / v)) if k in ("recording", "driver") else v
        for k, v in changes.items()
    }
    if endpoint == "/analyze":
        return [portrait]
    if endpoint == "/reenact":
        return [portrait, files["driver"], "256"]
    return [portrait, *{**GENERATE, **files}.values()]


@pytest.mark.parametrize("endpoint, portrait, changes, phrases", APP_CASES)
def test_the_app_shows_one_line_and_logs_one_line(
    app_client, made, capfd, endpoint, portrait, changes, phrases
):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    from vasa_core.app import shared

    capfd.readouterr()
    arguments = _app_arguments(endpoint, handle_file(str(made / portrait)), changes, made)
    with pytest.raises(AppError) as refused:
        app_client.predict(*arguments, api_name=endpoint)
    message = str(refused.value)
    assert len(message.splitlines()) == 1
    for phrase in phrases:
        assert phrase in message, message
    assert not re.search(r"(^|[\s(])/", message), message  # no server path: names only
    terminal = capfd.readouterr().err
    assert "Traceback" not in terminal, terminal
    logged = [line for line in terminal.splitlines() if line.startswith("vasa-kit app:")]
    assert logged == [f"vasa-kit app: refused: {message}"], terminal
    assert not any(shared.WORK.iterdir())  # the request's folder is gone


def test_the_app_keeps_its_files_in_one_folder_that_goes_on_exit():
    code = (
        "import vasa_core.app as a, gradio.utils as g; from vasa_core.app import folders as f; "
        "print(f.FOLDER); print(g.get_upload_folder()); print(*a.build_app().delete_cache)"
    )
    env = {k: v for k, v in os.environ.items() if k != "GRADIO_TEMP_DIR"}
    answer = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    said = [line for line in answer.stdout.splitlines() if line and not line.startswith("Will ")]
    folder, uploads, cache = said[-3:]  # Gradio announces its example cache in between
    assert uploads.startswith(folder)  # Gradio's uploads live in the app's folder ...
    assert cache == "600 3600"  # and Gradio's cache is cleaned while it runs
    assert not Path(folder).exists()  # ... which is gone once the app has exited


def test_a_bug_in_the_app_keeps_its_traceback():
    from vasa_core.app import shared

    with pytest.raises(KeyError):  # not turned into a message: Gradio prints its traceback
        with shared.shown_errors():
            {}["bug"]


def test_motion_eval_refuses_new_words_in_festival_with_one_line(tmp_path):
    # The benchmark is a front end too: a wrong pair of options is the user's mistake.
    script = Path(__file__).parents[1] / "benchmarks" / "motion_eval.py"
    result = subprocess.run(
        [sys.executable, str(script), "--words", "new", "--engines", "festival", "--clips", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(script.parents[1])},
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "motion_eval: error: new words are spoken by espeak-ng's English voices: --engines espeak"
    ]
    assert not any(tmp_path.iterdir())
