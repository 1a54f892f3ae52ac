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
