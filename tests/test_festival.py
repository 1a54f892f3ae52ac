"""Festival, the corpus's second synthesiser: its timings, its phones, its errors, its clips.

Needs the `festival` program and its English voice (festvox-kdlpc16k), which `.ci/run`
installs. Without festival these tests skip, except in CI (`CI` set), where that is a
failure; a voice other than the English one that is not installed skips its own checks.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_browser import _in_ci
from vasa_core.audio import festival
from vasa_core.data import corpus, visemes
from vasa_core.errors import VasaError
from vasa_core.motion.checkpoint import load_checkpoint

ENGLISH = "en-ked"
SYLLABIC = "\u0329"  # IPA's syllabic mark: a consonant at the heart of a syllable


def need(voice: str = ENGLISH) -> None:
    """Skip without festival or this voice; in CI, festival and its English voice must be
    there (.ci/run installs them), so their absence fails."""
    if not festival.installed():
        reason = "festival is not on PATH: apt-get install festival festvox-kdlpc16k"
        if _in_ci():
            pytest.fail(f"{reason} (.ci/run installs it)")
        pytest.skip(reason)
    if voice not in festival.installed_voices():
        reason = f"festival voice {voice} missing: apt-get install {festival.VOICES[voice].package}"
        if _in_ci() and voice == ENGLISH:
            pytest.fail(reason)
        pytest.skip(reason)


def sample(voice: str) -> str:
    return festival.SAMPLES[festival.VOICES[voice].language]


@pytest.mark.parametrize("voice", festival.voices())
def test_phonemes_cover_the_audio_and_festival_times_match_its_length(voice):
    need(voice)
    samples, rate, segments = festival.speak(sample(voice), voice)
    assert samples.dtype == np.float32 and samples.ndim == 1 and rate >= 16000
    ends = [s.end for s in segments]
    assert ends == sorted(ends) and ends[0] > 0
    assert abs(ends[-1] - len(samples) / rate) < 0.05  # festival's own times fit its audio

    speech = festival.synthesize(sample(voice), voice)
    rows = speech.phonemes
    assert rows[0][1] == 0 and rows[-1][2] == pytest.approx(speech.seconds)
    assert all(a[2] == b[1] for a, b in zip(rows, rows[1:], strict=False))  # no gaps
    assert all(start < end for _, start, end in rows)
    assert rows[0][0] == rows[-1][0] == festival.SILENCE
    assert any(symbol.startswith(festival.STRESS) for symbol, _, _ in rows)  # for the nods


def test_a_bilabial_centre_is_a_quiet_lip_closure_in_the_english_voice():
    """At the middle of p, b and m the lips are shut: far quieter than the vowel beside it."""
    need()
    speech = festival.synthesize("Bob packed a map and a big pot of jam for Pam.", ENGLISH)
    samples, rate, rows = speech.samples, speech.rate, speech.phonemes

    def loudness(start: float, end: float) -> float:
        middle = int((start + end) / 2 * rate)
        window = samples[max(middle - rate // 100, 0) : middle + rate // 100]  # 20 ms
        return float(np.sqrt(np.mean(window**2)))

    ratios = {}
    for i, (symbol, start, end) in enumerate(rows):
        if visemes.kind(symbol) != "bilabial":
            continue
        beside = [rows[j] for j in (i - 1, i + 1) if visemes.kind(rows[j][0]) == "vowel"]
        if beside:
            vowel = max(loudness(s, e) for _, s, e in beside)
            ratios.setdefault(visemes.base(symbol), []).append(loudness(start, end) / vowel)
    assert len(sum(ratios.values(), [])) >= 8
    assert max(sum(ratios.values(), [])) < 0.7  # every one: an m hums, but through the nose
    assert np.median(ratios["p"] + ratios["b"]) < 0.15  # the stops: almost silent


@pytest.mark.parametrize("voice", festival.voices())
def test_every_voice_maps_all_its_phones(voice):
    """The table covers the phone set festival defines for the voice, festival's vowels are
    vowels for the mouth, and a sample sentence speaks only mapped phones."""
    need(voice)
    table = festival.PHONES[festival.VOICES[voice].phone_set]
    phones = festival.phone_set(voice)
    assert set(phones) == set(table)
    for phone, vowel in phones.items():
        kind = visemes.kind(table[phone])
        if vowel and SYLLABIC not in table[phone]:
            assert kind == "vowel", phone
        elif not vowel:
            assert kind != "vowel", phone
    heard = festival.inventory([sample(voice)], voice)
    assert set(heard) <= set(table) and len(heard) >= 20


def test_the_tables_put_lips_and_jaw_where_the_phones_do():
    english = festival.PHONES["radio"]
    kinds = {phone: visemes.kind(english[phone]) for phone in english}
    assert {kinds[p] for p in ("p", "b", "m", "em")} == {"bilabial"}
    assert {kinds[p] for p in ("f", "v")} == {"labiodental"}
    assert {visemes.openness(english[p]) for p in ("aa", "ae")} == {"open"}
    assert all(visemes.base(english[p])[0] in visemes.ROUNDED for p in ("uw", "ow", "w"))
    assert {kinds[p] for p in ("pau", "h#", "brth")} == {"silence"}
    assert visemes.kind(festival.PHONES["italian"]["nf"]) == "labiodental"  # "inferno"
    for name, table in festival.PHONES.items():
        for phone in ("p", "b", "m"):
            assert visemes.kind(table[phone]) == "bilabial", (name, phone)
        for phone in ("pp", "bb", "mm", "p:", "b:", "m:"):  # soft (Russian) or long (Finnish)
            assert phone not in table or visemes.kind(table[phone]) == "bilabial"
        assert {"#", "##", "pau"} & set(table)
        assert all(table[p] == festival.SILENCE for p in ("#", "##", "pau") if p in table)


@pytest.fixture
def fresh_voice_list():
    """festival.installed_voices asks festival once per process; these tests change it."""
    festival.installed_voices.cache_clear()
    yield
    festival.installed_voices.cache_clear()


def test_without_festival_one_clear_error(monkeypatch, tmp_path, fresh_voice_list):
    monkeypatch.setattr(festival, "installed", lambda: False)
    for call in (
        lambda: festival.synthesize("Hello.", ENGLISH),
        lambda: corpus.build(tmp_path / "c", 0.1, engines=("espeak", "festival")),
    ):
        with pytest.raises(VasaError) as error:
            call()
        message = str(error.value)
        assert message == "festival is not installed: apt-get install festival festvox-kdlpc16k"
    assert not (tmp_path / "c").exists()  # checked before any folder was made


def test_a_missing_or_unknown_voice_is_one_clear_error(monkeypatch):
    with pytest.raises(VasaError, match="unknown festival voice 'en-bob'; known: en-ked, "):
        festival.synthesize("Hello.", "en-bob")
    need()
    absent = festival.Voice(
        "en-gone", "voice_gone_diphone", "en", "iso-8859-1", "radio", "lexicon", "festvox-gone"
    )
    monkeypatch.setitem(festival.VOICES, absent.name, absent)
    with pytest.raises(VasaError) as error:
        festival.synthesize("Hello.", absent.name)
    assert str(error.value) == (
        "festival voice en-gone is not installed: apt-get install festvox-gone"
    )
    with pytest.raises(VasaError, match="reads iso-8859-1, which cannot write 'Привет'"):
        festival.synthesize("Привет", ENGLISH)


def test_festival_hold_outs_leave_their_language_in_training():
    """A held-out festival voice is a new speaker of a language the model was taught."""
    held = [v for v in festival.voices() if corpus.held_out(v)]
    assert len(held) >= 1
    for voice in held:
        language = festival.VOICES[voice].language
        taught = [
            v
            for v, info in festival.VOICES.items()
            if info.language == language and not corpus.held_out(v)
        ]
        assert taught, voice
    assert not corpus.held_out(ENGLISH)  # the only English voice, and the one CI has


def test_unknown_engines_are_refused_before_anything_is_written(tmp_path):
    with pytest.raises(VasaError, match="unknown engine flite"):
        corpus.build(tmp_path / "c", 0.1, engines=("espeak", "flite"))
    with pytest.raises(VasaError, match="unknown engine"):
        corpus.build(tmp_path / "c", 0.1, engines=())
    assert not (tmp_path / "c").exists()


def test_a_corpus_with_espeak_and_festival_holds_clips_of_both(tmp_path):
    need()
    engines = ("espeak", "festival")
    manifest_path = corpus.build(
        tmp_path / "c", minutes=0.3, seed=0, progress=False, engines=engines
    )
    manifest, shards = corpus.load(manifest_path.parent)
    assert manifest["engines"] == list(engines)
    assert ENGLISH in manifest["festival_voices"]
    clips = [info for shard in shards for info in shard["clips"]]
    assert {info["engine"] for info in clips} == set(engines)
    starts = np.concatenate([np.diff(shard["clip_start"]) for shard in shards])
    for index, (info, frames) in enumerate(zip(clips, starts, strict=True)):
        assert info["phonemes"][0][1] == 0
        assert info["phonemes"][-1][2] == pytest.approx(frames / 25, abs=0.04)
        if info["engine"] == "festival":
            assert info["voice"] in manifest["festival_voices"] and 0.8 <= info["stretch"] <= 1.3
        else:  # the very clip an espeak-only corpus has at this place
            alone = corpus.make_clip(0, index)
            assert {k: info[k] for k in ("text", "voice", "rate", "pitch")} == {
                k: alone.info[k] for k in ("text", "voice", "rate", "pitch")
            }


@pytest.mark.parametrize("engine", ["espeak", "festival"])
def test_the_generator_learns_from_a_tiny_corpus_of_each_engine(tmp_path, engine):
    """CI's check that the whole training path runs on each synthesiser's speech: a tiny
    corpus of one engine's clips, a few hundred steps, and the loss falls (the
    held-out loss too, if slowly: a corpus this small holds out a voice or two)."""
    if engine == "festival":
        need()
    from vasa_core.motion.model import Config
    from vasa_core.training import train

    corpus.build(tmp_path / "c", minutes=0.3, seed=2, progress=False, engines=(engine,))
    out = train(
        tmp_path / "c",
        tmp_path / "m.safetensors",
        steps=400,
        batch_size=16,
        lr=3e-3,
        config=Config(window=20, context=4, width=32, layers=1, heads=2),
        val_every=10,  # the first figures are those of a network hardly trained
        progress=False,
    )
    history = load_checkpoint(out)[3]["history"]
    assert history[-1]["train_loss"] < 0.6 * history[0]["train_loss"], history
    assert history[-1]["val_loss"] < history[0]["val_loss"], history


def test_the_same_seed_gives_the_same_festival_clip():
    need()
    one, two = (
        corpus.make_clip(5, 2, engines=("festival",), festival_voices=[ENGLISH]) for _ in "ab"
    )
    assert one.info == two.info and one.info["engine"] == "festival"
    assert np.array_equal(one.features, two.features) and np.array_equal(one.motion, two.motion)


def test_vasa_corpus_refuses_an_unknown_engine_before_making_anything(tmp_path):
    from tests.conftest import run_vasa
    from tests.test_cli import assert_one_line_error

    out = tmp_path / "corpus"
    result = run_vasa("corpus", "--out", str(out), "--minutes", "0.1", "--engines", "espeak,flite")
    assert_one_line_error(result, "unknown engine flite")
    assert not out.exists()
