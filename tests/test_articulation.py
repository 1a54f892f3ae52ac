"""Articulation at known phoneme times: closures at p/b/m, openness at vowels, offset."""

import json

import numpy as np
import pytest

from vasa_core.data import corpus
from vasa_core.errors import VasaError
from vasa_core.eval.articulation import CLOSED_GAP, articulation, read_phonemes, rule_opening

FPS = 25.0


@pytest.fixture(scope="module")
def clip():
    """A held-out evaluation clip with p/b/m in it (the corpus's own, rule-made mouth)."""
    for candidate in corpus.evaluation_clips(10):
        if sum(s[0] in "pbm" for s, _, _ in candidate.info["phonemes"]) >= 3:
            return candidate
    raise AssertionError("no evaluation clip with three bilabials")


def test_the_rule_mouth_closes_at_every_bilabial_and_agrees_with_itself(clip):
    phonemes = clip.info["phonemes"]
    opening = rule_opening(phonemes, FPS, len(clip.motion))
    figures = articulation(opening, phonemes, FPS)
    assert figures["bilabials"] >= 3 and figures["open_vowels"] >= 1
    assert figures["bilabial_closed"] == 1.0 and figures["bilabial_vs_open"] < 0.05
    assert figures["rule_correlation"] > 0.99 and figures["offset_frames"] == 0


def test_a_mouth_that_never_closes_fails_and_a_late_one_shows_its_lag(clip):
    phonemes = clip.info["phonemes"]
    opening = rule_opening(phonemes, FPS, len(clip.motion))
    ajar = articulation(opening + 2 * CLOSED_GAP, phonemes, FPS)
    assert ajar["bilabial_closed"] == 0.0 and ajar["bilabial_vs_open"] > 0.1
    late = np.concatenate([np.zeros(2), opening[:-2]])  # the mouth two frames behind
    assert articulation(late, phonemes, FPS)["offset_frames"] == 2
    early = np.concatenate([opening[3:], np.zeros(3)])
    assert articulation(early, phonemes, FPS)["offset_frames"] == -3


def test_frames_without_a_face_are_left_out(clip):
    phonemes = clip.info["phonemes"]
    opening = rule_opening(phonemes, FPS, len(clip.motion))
    figures = articulation(opening, phonemes, FPS, valid=np.zeros(len(opening), bool))
    assert figures["bilabials"] == 0 and np.isnan(figures["bilabial_closed"])


def test_phoneme_files_are_read_or_refused_clearly(tmp_path):
    good = tmp_path / "p.json"
    good.write_text(json.dumps([{"symbol": "b", "start": 0.1, "end": 0.2}]))
    assert read_phonemes(good) == [("b", 0.1, 0.2)]
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(VasaError, match="not a phoneme file"):
        read_phonemes(bad)
    backwards = tmp_path / "backwards.json"
    backwards.write_text(json.dumps([{"symbol": "b", "start": 0.3, "end": 0.2}]))
    with pytest.raises(VasaError, match="start <= end"):
        read_phonemes(backwards)
    with pytest.raises(VasaError, match="no such phoneme file"):
        read_phonemes(tmp_path / "missing.json")


def test_closures_pool_over_centres_and_a_clip_without_any_adds_nothing():
    from vasa_core.eval.articulation import pooled_closure

    rows = [
        {"bilabials": 3, "bilabial_closed": 1 / 3},
        {"bilabials": 0, "bilabial_closed": float("nan")},
        {"bilabials": 1, "bilabial_closed": 1.0},
    ]
    share, count = pooled_closure(rows)
    assert count == 4 and share == pytest.approx(0.5)  # 2 of 4, not the mean of the clips


def test_a_closure_away_from_every_bilabial_and_pause_counts_as_stray():
    phonemes = [("_", 0.0, 0.4), ("a", 0.4, 0.8), ("m", 0.8, 0.88), ("a", 0.88, 1.4)]
    phonemes += [("t", 1.4, 1.48), ("a", 1.48, 2.0), ("_", 2.0, 2.4)]
    times = (np.arange(60) + 0.5) / FPS
    opening = np.where((times >= 0.4) & (times < 2.0), 0.05, 0.0)  # shut in the pauses
    opening[(times >= 0.8) & (times < 0.88)] = 0.0  # shut at the m: its own closure
    clean = articulation(opening, phonemes, FPS)
    assert clean["stray_closures"] == 0 and clean["speech_seconds"] == pytest.approx(1.6)
    chattering = opening.copy()
    chattering[(times >= 1.4) & (times < 1.48)] = 0.0  # shut at the t
    chattering[int(1.1 * FPS)] = 0.0  # and for one frame in the middle of a vowel
    figures = articulation(chattering, phonemes, FPS)
    assert figures["stray_closures"] == 2
    assert figures["stray_closures_per_minute"] == pytest.approx(2 / 1.6 * 60)
    faceless = articulation(chattering, phonemes, FPS, valid=times < 1.3)
    assert faceless["stray_closures"] == 1  # the frames without a face are not read
    # The stray frames themselves: the t's two frames and the vowel's one, nothing else.
    from vasa_core.eval.articulation import stray_frames
    from vasa_core.eval.metrics import runs_of

    vowel, t = int(1.1 * FPS), int(1.4 * FPS)
    assert runs_of(stray_frames(chattering, phonemes, FPS)) == [(vowel, vowel + 1), (t, t + 2)]


def test_runs_of_finds_every_run_with_its_ends():
    from vasa_core.eval.metrics import runs_of

    assert runs_of(np.array([1, 1, 0, 1, 0, 0, 1], bool)) == [(0, 2), (3, 4), (6, 7)]
    assert runs_of(np.zeros(4, bool)) == [] and runs_of(np.zeros(0, bool)) == []
