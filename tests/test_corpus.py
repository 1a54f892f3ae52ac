"""The synthetic corpus and video ingestion: timing, lips, blinks, head, emotions, files."""

import json
import re

import numpy as np
import pytest
import soundfile

from tests.conftest import run_vasa
from tests.test_audio import ffmpeg
from tests.test_cli import assert_one_line_error
from vasa_core import bench, schema
from vasa_core.audio import compute_features, condition, festival, load_audio, tts
from vasa_core.audio.load import to_mono
from vasa_core.data import corpus, text, visemes
from vasa_core.data.ingest import ingest, ingest_video
from vasa_core.errors import VasaError
from vasa_core.face import rig
from vasa_core.media import write_video
from vasa_core.motion.controls import EMOTIONS
from vasa_core.render import Renderer


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus") / "c"
    corpus.build(folder, minutes=6, seed=3, progress=False)
    return corpus.load(folder)


def clips(shards):
    for shard in shards:
        for i, info in enumerate(shard["clips"]):
            a, b = shard["clip_start"][i], shard["clip_start"][i + 1]
            yield info, shard["motion"][a:b], shard["speech"][a:b], shard["features"][a:b]


def test_manifest_and_shards_describe_each_other(built):
    manifest, shards = built
    assert manifest["minutes"] >= 6 and manifest["schema_version"] == schema.SCHEMA_VERSION
    assert manifest["frames"] == sum(len(s["motion"]) for s in shards)
    assert len(manifest["voices"]) >= 8
    for info, motion, speech, features in clips(shards):
        assert features.shape == (len(motion), condition.DIM) and np.isfinite(features).all()
        assert motion.shape[1] == schema.DIM and len(speech) == len(motion)
        assert info["phonemes"][-1][2] == pytest.approx(len(motion) / 25, abs=0.04)


def test_lips_close_on_bilabials_and_open_vowels_open_most(built):
    neutral = rig.load_rig().neutral
    closed = total = 0
    jaw = {}
    for info, motion, _, _ in clips(built[1]):
        for symbol, start, end in info["phonemes"]:
            frame = min(int((start + end) / 2 * 25), len(motion) - 1)
            if visemes.kind(symbol) == "bilabial":
                shape = rig.deform(neutral, motion[frame, schema.DYNAMICS])
                closed += shape[13, 1] - shape[14, 1] < 0.01  # inner lips together
                total += 1
            if visemes.openness(symbol):
                jaw.setdefault(visemes.openness(symbol), []).append(motion[frame, 6])
    assert total > 50 and closed / total >= 0.95
    means = [np.mean(jaw[k]) for k in ("open", "open-mid", "mid", "close")]
    assert means == sorted(means, reverse=True) and means[0] > means[-1] + 0.2


def test_blinks_head_motion_and_emotions(built):
    blinks = minutes = 0
    moving_speech, moving_pause, by_emotion = [], [], {e: [] for e in EMOTIONS}
    for info, motion, speech, _ in clips(built[1]):
        shut = motion[:, schema.index("blink_left")] > 0.5
        blinks += np.sum(shut[1:] & ~shut[:-1])
        minutes += len(motion) / 25 / 60
        step = np.abs(np.diff(motion[:, :3], axis=0)).mean(axis=1)
        moving_speech += list(step[speech[1:]])
        moving_pause += list(step[~speech[1:]])
        controls = info["controls"]
        by_emotion[controls["emotion"]].append(motion[:, schema.DYNAMICS].mean(axis=0))
    assert 10 <= blinks / minutes <= 25
    assert np.mean(moving_speech) > 1.3 * np.mean(moving_pause)
    base = np.mean(by_emotion["neutral"], axis=0)
    named = {
        "happy": "smile",
        "sad": "brow_inner_up",
        "angry": "brow_frown",
        "surprised": "brow_raise",
    }
    for emotion, channel in named.items():
        shift = np.mean(by_emotion[emotion], axis=0) - base
        assert shift[schema.DYNAMICS_NAMES.index(channel)] > 0.15, emotion


def _lip_words(sentences) -> set[str]:
    """The words spelt with p, b or m, lower case, without punctuation."""
    words = {w.strip(".,!?;:'\"").lower() for s in sentences for w in s.replace("'s", "").split()}
    return {w for w in words if set(w) & set("pbm")}


def test_new_words_are_in_no_training_text_and_their_parts_share_none():
    trained = [t for templates in text.TEMPLATES.values() for t in templates]
    trained += [s for sentences in text.SENTENCES.values() for s in sentences]
    trained += [" ".join(w) for words in text.WORDS.values() for w in words.values()]
    seen = _lip_words(trained)
    validation = _lip_words(text.NEW_WORDS["validation"])
    evaluation = _lip_words(text.NEW_WORDS["evaluation"])
    assert len(evaluation) >= 30 and len(validation) >= 30
    assert not (seen & evaluation) and not (seen & validation) and not (validation & evaluation)


@pytest.mark.skipif(
    not all(p.is_file() for p in festival.LEXICONS), reason="festival's lexicons not installed"
)
def test_the_vocabulary_is_thousands_of_real_words_none_of_them_a_new_word_or_its_stem():
    words = set(text.vocabulary())
    assert len(words) > 10_000 and {"table", "apple", "bottle", "number"} <= words
    kept_out = _lip_words(text.NEW_WORDS["validation"] + text.NEW_WORDS["evaluation"])
    assert not kept_out & words
    for new in kept_out:  # pumped is out, and so are pump and pumping
        for w in words:
            short, long = sorted((w, new), key=len)
            assert len(short) < 3 or not long.startswith(short), (w, new)
    assert {"pump", "pumping"} <= set(festival.english_words())
    said, language, voice = text.vocabulary_utterance(np.random.default_rng(0))
    assert language == "en" and voice.split("+")[0] in text.VOICES["en"]
    assert 4 <= len(said.split()) <= 10 and said[-1] in ".?!"


def test_without_festivals_lexicons_the_vocabulary_says_which_package_to_install(
    monkeypatch, tmp_path
):
    monkeypatch.setattr(festival, "LEXICONS", (tmp_path / "cmudict-0.4.out",))
    festival.english_words.cache_clear()
    try:
        with pytest.raises(VasaError, match="festlex-cmu"):
            festival.english_words()
    finally:
        festival.english_words.cache_clear()


def test_new_word_clips_are_english_espeak_ng_in_the_voices_asked_for():
    held = next(corpus.evaluation_clips(1, "held-out", words="new"))
    assert corpus.held_out(held.info["voice"]) and held.info["language"] == "en"
    assert all(s in text.NEW_WORDS["evaluation"] for s in _sentences(held.info["text"]))
    trained = next(corpus.evaluation_clips(1, "training", words="new"))
    assert not corpus.held_out(trained.info["voice"])
    assert all(s in text.NEW_WORDS["validation"] for s in _sentences(trained.info["text"]))
    assert held.info["phonemes"] and any(p[0] in ("p", "b", "m") for p in held.info["phonemes"])
    with pytest.raises(VasaError, match="espeak"):
        next(corpus.evaluation_clips(1, engines=("espeak", "festival"), words="new"))
    with pytest.raises(VasaError, match="new"):
        next(corpus.evaluation_clips(1, words="fresh"))


def _sentences(spoken: str) -> list[str]:
    """The sentences of an utterance (each ends with . ! or ?)."""
    return [s.strip() for s in re.findall(r"[^.!?]+[.!?]", spoken)]


def test_the_same_seed_gives_the_same_corpus(tmp_path):
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        corpus.build(tmp_path / name, minutes=0.3, seed=seed, progress=False)
    a, b, c = (corpus.load(tmp_path / n)[1][0] for n in "abc")
    for one, two in zip(a["clips"], b["clips"], strict=True):
        for key in ("text", "voice", "rate", "pitch", "controls"):
            assert one[key] == two[key]
        # The tempo change is read off the lengths, which espeak-ng's jitter moves a little.
        assert one["speed"] == pytest.approx(two["speed"], abs=1e-3)
        assert [p[0] for p in one["phonemes"]] == [p[0] for p in two["phonemes"]]
        # espeak-ng's timings jitter from call to call (a few ms, more on a loaded machine);
        # under half a video frame is the same corpus for training
        assert np.allclose(
            [p[1:] for p in one["phonemes"]], [p[1:] for p in two["phonemes"]], atol=0.02
        )
    assert np.array_equal(a["controls"], b["controls"])

    # The motion follows the (slightly jittered) audio's loudness, and a clip can come out a
    # frame longer or shorter, so clips are compared over their common frames.
    def clip_rows(shard):
        starts = shard["clip_start"]
        return [shard["motion"][starts[i] : starts[i + 1]] for i in range(len(starts) - 1)]

    pairs = [
        (x[: min(len(x), len(y))], y[: min(len(x), len(y))])
        for x, y in zip(clip_rows(a), clip_rows(b), strict=True)
    ]
    one, two = np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])
    blinks = [schema.index("blink_left"), schema.index("blink_right")]
    mouth = [schema.index(name) for name in visemes.MOUTH]
    for channel in range(schema.DIM):
        if one[:, channel].std() > 0 and channel not in blinks:
            least = 0.95 if channel in mouth else 0.9  # the head follows the loudness
            assert np.corrcoef(one[:, channel], two[:, channel])[0, 1] > least, schema.NAMES[
                channel
            ]
    # A voice-activity frame flipped by the jitter can move one blink, no more.
    count = [np.sum(np.diff((m[:, blinks[0]] > 0.5).astype(int)) == 1) for m in (one, two)]
    assert abs(count[0] - count[1]) <= 1
    assert a["clips"] != c["clips"]


def test_bad_corpus_requests_and_a_failed_build_leave_nothing(tmp_path, monkeypatch):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    assert_one_line_error(
        run_vasa("corpus", "--out", str(tmp_path / "full"), "--minutes", "1"), "not empty"
    )
    assert_one_line_error(
        run_vasa("corpus", "--out", str(tmp_path / "x"), "--minutes", "0"), "positive"
    )
    calls = {"n": 0}
    real = corpus.make_clip

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(corpus, "SHARD_MINUTES", 0.05)  # so shards were being written
    monkeypatch.setattr(corpus, "make_clip", failing)
    with pytest.raises(KeyboardInterrupt):
        corpus.build(tmp_path / "cut", minutes=5, progress=False)
    assert list((tmp_path / "cut").iterdir()) == []


def test_vasa_corpus_command(tmp_path):
    result = run_vasa("corpus", "--out", str(tmp_path / "c"), "--minutes", "0.2", "--quiet")
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert manifest["clips"] >= 1 and "minutes" in result.stdout


@pytest.fixture(scope="module")
def rendered_talk(tmp_path_factory, latents):
    """A known motion over the astronaut with a spoken sentence, written as an MP4."""
    folder = tmp_path_factory.mktemp("talk")
    speech = tts.synthesize("Hello students, today we animate a face with a voice.")
    soundfile.write(folder / "talk.wav", speech.samples, speech.rate)
    face = latents["astronaut"]
    motion = bench.talking_motion(face.motion, int(speech.seconds * 25))
    video = write_video(
        folder / "talk.mp4",
        Renderer(face, size=512).stream(motion),
        fps=25,
        audio=folder / "talk.wav",
    )
    return video, motion, to_mono(speech.samples, speech.rate)


def test_ingesting_a_rendered_video_gives_back_its_motion_and_audio(rendered_talk):
    video, motion, samples = rendered_talk
    got = ingest_video(video)
    n = min(len(got.motion), len(motion))
    assert got.valid.all() and n >= len(motion) - 2
    for name, least in [
        ("yaw", 0.95),
        ("pitch", 0.9),
        ("roll", 0.9),
        ("jaw_open", 0.7),
        ("blink_left", 0.8),
    ]:
        i = schema.index(name)
        assert np.corrcoef(motion[:n, i], got.motion[:n, i])[0, 1] > least, name
    original = compute_features(samples, fps=25)
    back = compute_features(load_audio(video), fps=25)
    k = min(original.frames, back.frames)
    assert np.median(np.abs(original.loudness[:k] - back.loudness[:k])) < 0.5  # dB
    assert np.corrcoef(original.mel[:k].ravel(), back.mel[:k].ravel())[0, 1] > 0.99


def test_vasa_ingest_writes_a_corpus_and_reports_faceless_frames(tmp_path, rendered_talk):
    video = rendered_talk[0]
    blank = tmp_path / "blank_start.mp4"  # one second of grey before the face
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "color=c=gray:s=512x512:d=1:r=25",
        "-i",
        str(video),
        "-filter_complex",
        "[0:v][1:v]concat=n=2:v=1[v]",
        "-map",
        "[v]",
        "-map",
        "1:a",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        str(blank),
    )
    result = run_vasa("ingest", str(video), str(blank), "--out", str(tmp_path / "c"))
    assert result.returncode == 0, result.stderr
    assert "25 without a face" in result.stdout
    manifest, shards = corpus.load(tmp_path / "c")
    assert manifest["clips"] == 2 and manifest["source"] == "ingested"
    assert (~shards[0]["valid"]).sum() == 25
    grey = tmp_path / "grey.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "color=c=gray:s=128x128:d=1:r=25",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=300:duration=1",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-shortest",
        str(grey),
    )
    with pytest.raises(VasaError, match="no face in any"):
        ingest([grey], tmp_path / "d")
    assert not (tmp_path / "d").exists()  # checked before anything was written
    assert_one_line_error(
        run_vasa("ingest", str(tmp_path / "none.mp4"), "--out", str(tmp_path / "e")),
        "no such video",
    )
