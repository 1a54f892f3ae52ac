"""`vasa eval`: lip-sync, offset, head motion and blinks measured on videos we render with
known motions, and bad inputs refused in one line with nothing left behind."""

import json
import re

import numpy as np
import pytest
import soundfile
from PIL import Image

from vasa_core import bench, schema
from vasa_core.audio import compute_features, load_audio, tts
from vasa_core.cli import main
from vasa_core.data import visemes
from vasa_core.media import write_video
from vasa_core.motion.baseline import baseline_motion
from vasa_core.render import Renderer

FPS = 25
SHIFT = 3  # frames the sound is delayed by in the shifted test
GAPS = slice(20, 25)  # frames without a face in the frozen-mouth video


@pytest.fixture(scope="module")
def videos(tmp_path_factory, latents):
    """Rendered videos of the drawn face saying one sentence (about 2 s):
    `talk.mp4` whose jaw follows the loudness, the same frames silent, `frozen.mp4` whose
    mouth never moves (and has five grey frames without a face), and the sound delayed."""
    folder = tmp_path_factory.mktemp("eval")
    speech = tts.synthesize("Hello students, watch my lips.", voice="en-us", rate=190)
    sound = folder / "voice.wav"
    soundfile.write(sound, speech.samples, speech.rate)
    delay = np.zeros(round(SHIFT / FPS * speech.rate), np.float32)
    delayed = folder / "delayed.wav"
    soundfile.write(delayed, np.concatenate([delay, speech.samples]), speech.rate)
    features = compute_features(load_audio(sound), fps=FPS)
    talking = bench.talking_motion(latents["drawn"].motion, features.frames, fps=FPS)
    jaw, smile = schema.index("jaw_open"), schema.index("smile")
    talking[:, jaw] = baseline_motion(features)[:, jaw]  # the jaw follows the loudness
    frozen = talking.copy()
    frozen[:, jaw], frozen[:, smile] = 0.05, 0.3  # nothing that moves the lips
    renderer = Renderer(latents["drawn"], size=256)
    frames = renderer.render(talking)
    out = {"folder": folder, "sound": sound, "delayed": delayed}
    out["talk"] = write_video(folder / "talk.mp4", frames, fps=FPS, audio=sound)
    out["silent"] = write_video(folder / "silent.mp4", frames, fps=FPS)
    still = renderer.render(frozen)
    still[GAPS] = 128
    out["frozen"] = write_video(folder / "frozen.mp4", still, fps=FPS, audio=sound)
    grey = np.full((12, 128, 128, 3), 128, np.uint8)
    out["grey"] = write_video(folder / "grey.mp4", grey, fps=FPS, audio=sound)
    return out


def vasa_eval(capsys, *args) -> tuple[int, str, str]:
    """`vasa eval ...` in this process (the interpreter's start-up costs seconds)."""
    code = main(["eval", *map(str, args)])  # a stray exception fails the test with its traceback
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_mouth_that_follows_the_voice_is_in_sync_and_plotted(videos, capsys, tmp_path):
    plot = tmp_path / "talk.png"
    code, out, err = vasa_eval(capsys, videos["talk"], "--json", "--plot", plot)
    assert code == 0, err
    report = json.loads(out)
    assert report["lip_sync_correlation"] > 0.5, report  # measured: 0.71
    assert abs(report["av_offset_frames"]) <= 1, report
    assert report["faceless_frames"] == 0 and report["notes"] == []
    assert report["speech_frames"] >= 20
    assert report["delta_p"] > 0.1 and report["pose_std"] > 1  # talking_motion nods and turns
    assert report["blinks_per_minute"] > 0  # talking_motion blinks at 1.5 s
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(plot) as picture:
        assert picture.size[0] >= 800 and picture.size[1] >= 600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["talk.png"]  # no temporary left


def test_a_delayed_sound_shows_as_a_negative_offset(videos, capsys):
    """The sound starts SHIFT frames late, so the mouth moves SHIFT frames before the
    voice: it leads, and the offset (> 0 when the mouth trails) is -SHIFT. The video is
    silent; --audio supplies the sound. The table is what a user reads."""
    code, out, err = vasa_eval(capsys, videos["silent"], "--audio", videos["delayed"])
    assert code == 0, err
    offset = re.search(r"audio-visual offset\s+([+-]\d+) frames", out)
    assert offset, out
    assert abs(int(offset.group(1)) - -SHIFT) <= 1, out
    assert f"sound from {videos['delayed']}" in out
    assert "mouth opening vs loudness" in out and "blinks per minute" in out


def test_a_frozen_mouth_is_not_in_sync_and_faceless_frames_are_skipped(videos, capsys):
    code, out, err = vasa_eval(capsys, videos["frozen"], "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["lip_sync_correlation"] < 0.3, report  # measured: -0.18
    skipped = GAPS.stop - GAPS.start
    assert report["faceless_frames"] == skipped
    assert any(f"{skipped} of {report['frames']} frames had no face" in n for n in report["notes"])


def test_bad_inputs_give_one_clear_line_and_no_plot(videos, capsys, tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n")
    cases = [
        ([tmp_path / "missing.mp4"], "no such video"),
        ([text], "not a video"),
        ([videos["silent"]], "no sound track"),
        ([videos["talk"], "--audio", tmp_path / "missing.wav"], "no such file"),
        ([videos["grey"]], "no face"),
    ]
    plot = tmp_path / "plot.png"
    for args, phrase in cases:
        code, out, err = vasa_eval(capsys, *args, "--plot", plot, "--json")
        assert code == 1 and out == "", (args, out)
        assert err.startswith("vasa: error: ") and err.count("\n") == 1, err
        assert phrase in err, err
        assert not plot.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.mp4"]
    code, _, err = vasa_eval(capsys, videos["talk"], "--plot", tmp_path / "plot.jpg")
    assert code == 1 and ".png" in err


def test_phoneme_times_show_which_mouth_articulates(videos, capsys, tmp_path, latents):
    """With the sound's phonemes, a mouth driven by the viseme rules closes at p/b/m and the
    loudness-driven one of `talk.mp4` does not; both are read back through Face Mesh."""
    speech = tts.synthesize("Bob, pay me back, maybe by a map.", voice="en-us", rate=150)
    sound, phonemes = tmp_path / "bob.wav", tmp_path / "bob.json"
    tts.save_speech(speech, sound, phonemes)
    frames = len(compute_features(load_audio(sound), fps=FPS).speech)
    motion = np.tile(latents["drawn"].motion, (frames, 1))
    track = visemes.mouth_track(speech.phonemes, (np.arange(frames) + 0.5) / FPS)
    for column, name in enumerate(schema.MOUTH):
        motion[:, schema.index(name)] = track[:, column]
    rendered = Renderer(latents["drawn"], size=256).render(motion)
    video = write_video(tmp_path / "bob.mp4", rendered, fps=FPS, audio=sound)
    code, out, err = vasa_eval(capsys, video, "--phonemes", phonemes, "--json")
    assert code == 0, err
    ruled = json.loads(out)
    code, out, err = vasa_eval(
        capsys, videos["silent"], "--audio", sound, "--phonemes", phonemes, "--json"
    )
    loud = json.loads(out)
    assert ruled["bilabials"] >= 6
    assert ruled["bilabial_closed"] >= 0.8, ruled  # measured: 1.0 of 10, ratio 0.008, r 0.96
    assert ruled["bilabial_vs_open"] < 0.25 and abs(ruled["phoneme_offset_frames"]) <= 1
    assert ruled["rule_correlation"] > loud["rule_correlation"] + 0.2, (ruled, loud)
    code, out, err = vasa_eval(capsys, video, "--phonemes", tmp_path / "bob.wav")
    assert code == 1 and "not a phoneme file" in err and out == ""
