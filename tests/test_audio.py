"""Stage 2: audio in every common form, features on the video's clock, speech with timings."""

import subprocess

import imageio_ffmpeg
import numpy as np
import pytest
import soundfile

from tests.conftest import run_vasa
from tests.test_cli import assert_one_line_error
from vasa_core.audio import RATE, compute_features, load_audio, tts
from vasa_core.audio.features import mel_filterbank
from vasa_core.errors import VasaError

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def tone(seconds=1.0, rate=RATE, hz=220.0, channels=1):
    t = np.arange(int(seconds * rate)) / rate
    wave = (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)
    return np.repeat(wave[:, None], channels, axis=1) if channels > 1 else wave


def ffmpeg(*args):
    subprocess.run(
        [FFMPEG, "-hide_banner", "-v", "error", "-y", *args], check=True, stdin=subprocess.DEVNULL
    )


@pytest.fixture(scope="module")
def formats(tmp_path_factory):
    """The same 1 s, 220 Hz stereo tone at 44.1 kHz in every container we promise."""
    folder = tmp_path_factory.mktemp("formats")
    wav = folder / "tone.wav"
    soundfile.write(wav, tone(rate=44100, channels=2), 44100)
    paths = {"wav": wav}
    for ext in ("flac", "ogg"):
        paths[ext] = folder / f"tone.{ext}"
        soundfile.write(paths[ext], tone(rate=44100, channels=2), 44100)
    for ext, codec in (("mp3", "libmp3lame"), ("m4a", "aac")):
        paths[ext] = folder / f"tone.{ext}"
        ffmpeg("-i", str(wav), "-c:a", codec, str(paths[ext]))
    for ext, vcodec, acodec in (
        ("mp4", "libx264", "aac"),
        ("mov", "libx264", "aac"),
        ("webm", "libvpx", "libvorbis"),
    ):
        paths[ext] = folder / f"clip.{ext}"
        ffmpeg(
            "-f",
            "lavfi",
            "-i",
            "color=c=gray:s=64x64:d=1",
            "-i",
            str(wav),
            "-c:v",
            vcodec,
            "-c:a",
            acodec,
            "-shortest",
            str(paths[ext]),
        )
    return paths


@pytest.mark.parametrize("ext", ["wav", "flac", "ogg", "mp3", "m4a", "mp4", "mov", "webm"])
def test_every_format_loads_as_mono_16k_with_its_pitch(ext, formats):
    samples = load_audio(formats[ext])
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert abs(len(samples) / RATE - 1.0) < 0.1  # codecs pad a little
    spectrum = np.abs(np.fft.rfft(samples[: RATE // 2]))
    assert abs(np.argmax(spectrum) * 2 - 220) <= 4  # 0.5 s window: 2 Hz bins


def test_silence_is_valid_audio_and_reads_as_no_speech(tmp_path):
    path = tmp_path / "silence.wav"
    soundfile.write(path, np.zeros(RATE * 2, np.float32), RATE)
    features = compute_features(load_audio(path))
    assert features.frames == 50 and not features.speech.any() and (features.pitch == 0).all()


def test_bad_audio_files_fail_with_a_reason(tmp_path):
    soundfile.write(
        tmp_path / "nan.wav", np.array([0.1, np.nan, 0.2] * 1000, np.float32), RATE, subtype="FLOAT"
    )
    soundfile.write(tmp_path / "long.wav", np.zeros(RATE * 3, np.float32), RATE)
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "notes.mp3").write_text("this is text, not sound\n")
    good = tmp_path / "good.wav"
    soundfile.write(good, tone(), RATE)
    (tmp_path / "cut.wav").write_bytes(good.read_bytes()[:30])
    from PIL import Image

    Image.new("RGB", (40, 40)).save(tmp_path / "picture.png")
    (tmp_path / "folder").mkdir()
    cases = {
        "missing.wav": "no such file",
        "empty.wav": "empty",
        "notes.mp3": "no audio",
        "cut.wav": "no audio",
        "picture.png": "no audio",
        "folder": "directory",
        "nan.wav": "NaN",
    }
    for name, phrase in cases.items():
        with pytest.raises(VasaError, match=phrase):
            load_audio(tmp_path / name)
    with pytest.raises(VasaError, match="longer than the limit"):
        load_audio(tmp_path / "long.wav", max_seconds=2.0)
    for name, phrase in [("notes.mp3", "no audio"), ("nan.wav", "NaN"), ("empty.wav", "empty")]:
        assert_one_line_error(run_vasa("features", str(tmp_path / name)), phrase)
    assert_one_line_error(
        run_vasa("features", str(tmp_path / "long.wav"), "--max-minutes", "0.02"),
        "longer than the limit",
    )


@pytest.mark.parametrize("fps, frame", [(25, 25), (30, 30), (24, 24)])
def test_a_click_at_one_second_lands_in_the_frame_that_starts_there(fps, frame):
    samples = np.zeros(RATE * 2, np.float32)
    samples[RATE] = 1.0
    features = compute_features(samples, fps=fps)
    assert features.frames == 2 * fps
    assert int(np.argmax(features.loudness)) == frame
    assert features.loudness[frame - 1] == features.loudness.min()  # nothing leaks backwards
    assert int(np.argmax(features.mel.sum(axis=1))) == frame


def test_pitch_voicing_and_speech_on_a_tone_with_pauses():
    t = np.arange(RATE * 4) / RATE
    gate = (np.floor(t / 0.4) % 2 == 0).astype(np.float32)  # 0.4 s on, 0.4 s off
    samples = 0.3 * np.sin(2 * np.pi * 150 * t).astype(np.float32) * gate
    features = compute_features(samples)
    on = np.repeat(np.array([1, 0] * 5, bool), 10)
    inside = on & np.roll(on, 1) & np.roll(on, -1)  # away from the switching frames
    assert features.speech[inside].all() and not features.speech[~on & ~np.roll(on, 1)].any()
    assert np.allclose(features.pitch[inside], 150, rtol=0.03)
    assert (features.voicing[inside] > 0.9).all()


def test_mel_filterbank_matches_librosa():
    import librosa

    ours = mel_filterbank(16000)
    reference = librosa.filters.mel(sr=16000, n_fft=512, n_mels=80, htk=True, norm=None)
    assert np.allclose(ours, reference, atol=1e-5)


@pytest.mark.parametrize(
    "text, voice",
    [
        ("Hello there. How are you today?", "en-us"),
        ("Guten Tag! Wie geht es Ihnen?", "de"),
        ("Bonjour, comment allez-vous?", "fr+f3"),
    ],
)
def test_speech_phonemes_are_ordered_cover_the_audio_and_name_the_silences(text, voice):
    speech = tts.synthesize(text, voice=voice)
    starts = np.array([a for _, a, _ in speech.phonemes])
    ends = np.array([b for _, _, b in speech.phonemes])
    assert starts[0] == 0 and ends[-1] == pytest.approx(speech.seconds)
    assert (np.diff(starts) > 0).all() and np.allclose(starts[1:], ends[:-1])  # contiguous
    spoken = [s for s, _, _ in speech.phonemes if s != tts.SILENCE]
    assert len(spoken) >= 10
    level = 10 * np.log10(np.mean(speech.samples**2))
    pauses = [(a, b) for s, a, b in speech.phonemes if s == tts.SILENCE and b - a > 0.05]
    assert pauses  # sentence and comma pauses are named
    for a, b in pauses:
        segment = speech.samples[int(a * speech.rate) : int(b * speech.rate)]
        assert 10 * np.log10(np.mean(segment**2) + 1e-12) < level - 30


def test_rate_changes_the_length_and_bad_requests_are_refused():
    slow = tts.synthesize("This is a test of speaking rate.", rate=100)
    fast = tts.synthesize("This is a test of speaking rate.", rate=300)
    assert slow.seconds > 1.8 * fast.seconds
    assert "en-us" in tts.voices() and "f3" in tts.variants()
    for kwargs, phrase in [
        ({"text": "  "}, "empty"),
        ({"voice": "klingon"}, "unknown voice"),
        ({"voice": "en+zz"}, "variant"),
        ({"rate": 20}, "rate"),
        ({"pitch": 101}, "pitch"),
    ]:
        with pytest.raises(VasaError, match=phrase):
            tts.synthesize(**({"text": "Hi."} | kwargs))


def test_vasa_tts_writes_audio_and_phonemes(tmp_path):
    import json

    out, phonemes = tmp_path / "hi.wav", tmp_path / "hi.json"
    result = run_vasa(
        "tts",
        "Hello, students.",
        "--out",
        str(out),
        "--phonemes",
        str(phonemes),
        "--voice",
        "en-029",
        "--rate",
        "150",
        "--pitch",
        "60",
    )
    assert result.returncode == 0, result.stderr
    samples, rate = soundfile.read(out)
    rows = json.loads(phonemes.read_text())
    assert rows[-1]["end"] == pytest.approx(len(samples) / rate, abs=1e-3)
    assert {"symbol", "start", "end"} <= set(rows[0])
    assert_one_line_error(
        run_vasa("tts", "Hi", "--out", str(tmp_path / "x" / "a.wav")), "cannot write"
    )
    assert_one_line_error(
        run_vasa("tts", "Hi", "--out", str(tmp_path / "b.wav"), "--voice", "xx-yy"), "unknown voice"
    )
    assert not (tmp_path / "b.wav").exists()


@pytest.mark.parametrize("rate", [44100, 22050, 8000, 16000])
def test_audio_loaded_a_block_at_a_time_is_the_whole_file_resampled_at_once(
    tmp_path, monkeypatch, rate
):
    """Long audio is decoded, mixed and resampled in blocks (flat memory): the samples are
    bit for bit those of resample_poly on the whole clip, at every block size."""
    from math import gcd

    from scipy.signal import resample_poly

    from vasa_core import media

    rng = np.random.default_rng(rate)
    stereo = (0.2 * rng.standard_normal((rate * 3 + 17, 2))).astype(np.float32)
    path = tmp_path / "noise.wav"
    soundfile.write(path, stereo, rate, subtype="FLOAT")
    step = gcd(rate, RATE)
    whole = stereo.mean(axis=1)
    if rate != RATE:
        whole = resample_poly(whole, RATE // step, rate // step)
    for block in (1000, 4097, 1 << 18):  # many blocks, ragged ones, one block
        monkeypatch.setattr(media, "AUDIO_BLOCK", block)
        loaded = load_audio(path)
        assert loaded.dtype == np.float32 and np.array_equal(loaded, whole), block


def test_features_measured_in_chunks_are_those_of_one_pass(monkeypatch):
    from vasa_core.audio import features

    rng = np.random.default_rng(3)
    samples = np.concatenate([tone(2.3, hz=180), 0.01 * rng.standard_normal(RATE)])
    samples = samples.astype(np.float32)
    monkeypatch.setattr(features, "FRAMES_AT_ONCE", 10**6)
    one = compute_features(samples)
    monkeypatch.setattr(features, "FRAMES_AT_ONCE", 7)  # 83 frames: 12 chunks, one ragged
    chunked = compute_features(samples)
    for name in ("mel", "loudness", "pitch", "voicing", "speech"):
        assert np.array_equal(getattr(one, name), getattr(chunked, name)), name
