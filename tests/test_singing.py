"""Singing: exact times, held notes on their pitch, no clicks, the mouth open through a
held vowel, and a corpus without singing exactly as it was."""

from __future__ import annotations

import numpy as np
import pytest

from vasa_core import schema
from vasa_core.audio import festival, tts
from vasa_core.data import corpus, singing, visemes
from vasa_core.errors import VasaError

STOPS = set("ptkbdgcɟqɢ")


@pytest.fixture(scope="module")
def spoken() -> tts.Speech:
    return tts.synthesize("Maria, open the window, the garden is lovely.", "en-us+f3", 150, 55)


@pytest.fixture(scope="module")
def sung(spoken) -> singing.Sung:
    return singing.sing(spoken, np.random.default_rng(4))


def test_phoneme_times_are_exact_and_cover_the_song(spoken, sung):
    rate, phonemes = sung.rate, sung.phonemes
    assert phonemes[0][1] == 0 and phonemes[-1][2] == len(sung.samples) / rate
    for (_, _, end), (_, start, _) in zip(phonemes, phonemes[1:], strict=False):
        assert start == end  # in order, touching, never overlapping
    for _, start, end in phonemes:
        assert end > start and abs(start * rate - round(start * rate)) < 1e-6  # whole samples
    assert [p[0] for p in phonemes] == [p[0] for p in spoken.phonemes]
    # Consonants and pauses keep their spoken length (to the sample); nuclei carry notes.
    nuclei = [(a, b) for s, a, b in phonemes if singing.is_nucleus(s)]
    assert nuclei == [(n.start, n.end) for n in sung.notes]
    for (symbol, a, b), (_, c, d) in zip(phonemes, spoken.phonemes, strict=True):
        if not singing.is_nucleus(symbol):
            assert abs((b - a) - (d - c)) * rate <= 1.01, symbol


def test_notes_are_held_on_a_melody_around_the_voice(spoken, sung):
    lengths = np.array([n.end - n.start for n in sung.notes])
    assert lengths.min() >= 0.3 - 1e-9 and lengths.max() <= 1.2 + 1e-9
    assert (lengths >= 0.5).sum() >= 3
    home = singing._median_pitch(
        singing.measure_pitch(spoken.samples.astype(float), spoken.rate),
        [(s, round(a * spoken.rate), round(b * spoken.rate)) for s, a, b in spoken.phonemes],
    )
    midis = np.array([n.midi for n in sung.notes])
    assert np.abs(midis - home).max() <= 6.5 and len(set(midis)) >= 3
    assert np.abs(np.diff(midis)).max() <= 5  # a walk of small steps, no leaps


def test_a_held_note_holds_its_pitch(sung):
    import librosa

    hop = 256
    hz, voiced, _ = librosa.pyin(
        sung.samples, fmin=55, fmax=600, sr=sung.rate, frame_length=2048, hop_length=hop
    )
    times = librosa.times_like(hz, sr=sung.rate, hop_length=hop)
    held = [n for n in sung.notes if n.end - n.start >= singing.HELD_S]
    for note in held:
        middle = (note.start + note.end) / 2
        near = (np.abs(times - middle) < 0.03) & voiced
        assert abs(np.median(singing.hz_to_midi(hz[near])) - note.midi) <= 1, note
        # All through the note, bar its first and last 60 ms: on the note, give or take
        # the vibrato's 30-50 cents.
        inside = (times > note.start + 0.06) & (times < note.end - 0.06) & voiced
        off = np.abs(singing.hz_to_midi(hz[inside]) - note.midi)
        assert inside.sum() >= 10 and np.mean(off <= 1) >= 0.95, note


def test_stops_stay_quiet_and_the_joins_do_not_click(spoken, sung):
    x, rate = sung.samples, sung.rate

    def loudness(a: float, b: float) -> float:  # dB over the middle half of a span
        part = x[round((0.75 * a + 0.25 * b) * rate) : round((0.25 * a + 0.75 * b) * rate)]
        return 10 * np.log10(np.mean(part**2) + 1e-12)

    notes = [loudness(n.start, n.end) for n in sung.notes]
    stops = [(a, b) for s, a, b in sung.phonemes if visemes.base(s)[:1] in STOPS]
    assert len(stops) >= 3
    for a, b in stops:  # where the times say a stop is, the sound dips
        assert loudness(a, b) < np.median(notes) - 6
    # No step at any join bigger than the largest the spoken voice itself makes.
    bound = np.abs(np.diff(spoken.samples)).max()
    steps = np.abs(np.diff(x))
    for _, start, _ in sung.phonemes[1:]:
        j = round(start * rate)
        assert steps[max(j - 44, 0) : j + 44].max() <= bound


def test_the_same_rng_state_sings_the_same_song(spoken, sung):
    again = singing.sing(spoken, np.random.default_rng(4))
    assert np.array_equal(again.samples, sung.samples)
    assert again.phonemes == sung.phonemes and again.notes == sung.notes
    other = singing.sing(spoken, np.random.default_rng(5))
    assert other.notes != sung.notes
    with pytest.raises(VasaError, match="no vowel"):
        singing.sing(tts.Speech(np.zeros(800, np.float32), 16000, [("s", 0, 0.05)]), rng())


def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def test_a_sung_corpus_clip_holds_the_mouth_open_through_a_held_vowel():
    jaw = schema.index("jaw_open")
    checked = 0
    for index in range(4):
        clip = corpus.make_clip(11, index, singing=1.0)
        assert clip.info["sung"] and clip.info["notes"]
        for start, end, _ in clip.info["notes"]:
            symbol = next(s for s, a, b in clip.info["phonemes"] if abs(a - start) < 1e-3)
            if end - start < singing.HELD_S or visemes.openness(symbol) not in ("open", "open-mid"):
                continue
            first, middle = int(start * 25), int((start + end) / 2 * 25)
            assert clip.motion[middle, jaw] >= 0.6 * clip.motion[first, jaw], symbol
            # and at the middle, as open as the vowel opens the jaw at all
            assert clip.motion[middle, jaw] >= 0.9 * visemes.target(symbol)[0], symbol
            checked += 1
    assert checked >= 2


def test_without_singing_the_corpus_is_as_it_was(tmp_path):
    # Festival is bit-for-bit deterministic, so where it is here a clip can be compared
    # whole; espeak-ng jitters, so its clips are compared on what it draws.
    voices = festival.installed_voices() if festival.installed() else []
    for index in range(3):
        if voices:
            a, b, c = (
                corpus.make_clip(2, index, engines=("festival",), festival_voices=voices, **kw)
                for kw in ({}, {"singing": 0.0}, {"singing": 0.5})
            )
            assert np.array_equal(a.motion, b.motion) and a.info == b.info
            if not c.info.get("sung"):  # a clip left spoken is the same whatever the share
                assert np.array_equal(a.motion, c.motion) and a.info == c.info
        a, b = corpus.make_clip(2, index), corpus.make_clip(2, index, singing=0.0)
        for key in ("text", "voice", "rate", "pitch", "speed", "controls"):
            assert a.info[key] == b.info[key]
        assert "sung" not in b.info and "notes" not in b.info
    manifest = corpus.build(tmp_path / "c", 0.2, seed=1, progress=False)
    assert "singing" not in corpus.load(manifest.parent)[0]
    with pytest.raises(VasaError, match="share"):
        corpus.build(tmp_path / "bad", 0.2, singing=1.5)
    assert not (tmp_path / "bad").exists()


def test_sung_evaluation_clips_sing_the_spoken_ones():
    spoken = next(corpus.evaluation_clips(1))
    sung = next(corpus.evaluation_clips(1, singing=1.0))
    assert "sung" not in spoken.info and sung.info["sung"]
    assert (sung.info["text"], sung.info["voice"]) == (spoken.info["text"], spoken.info["voice"])
    assert sung.info["seconds"] > 1.5 * spoken.info["seconds"]


def test_a_sung_festival_clip_is_the_same_for_the_same_seed():
    if not festival.installed() or not festival.installed_voices():
        pytest.skip("festival is not here; espeak-ng's jitter keeps its clips from matching")
    voices = festival.installed_voices()
    a, b = (
        corpus.make_clip(3, 1, engines=("festival",), festival_voices=voices, singing=1.0)
        for _ in "ab"
    )
    assert a.info["sung"] and a.info == b.info
    assert np.array_equal(a.motion, b.motion) and np.array_equal(a.features, b.features)
