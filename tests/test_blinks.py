"""Blinks as events: full closures of natural length and rate, not driven by the voice."""

import numpy as np
import pytest

from vasa_core import schema
from vasa_core.audio import compute_features
from vasa_core.data import corpus
from vasa_core.eval import metrics
from vasa_core.motion.blinks import Blinker, blink_shape
from vasa_core.motion.generator import MotionGenerator
from vasa_core.settings import Sampling

FPS = 25.0
BLINK = schema.index("blink_left")


def events(curve: np.ndarray) -> list[np.ndarray]:
    """The runs of frames where the eyes are not fully open."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], (curve > 0).astype(int), [0]])))
    return [curve[a:b] for a, b in zip(edges[::2], edges[1::2], strict=True)]


@pytest.mark.parametrize("fps", [10.0, 25.0, 60.0])
def test_every_blink_shuts_the_eye_for_100_to_300_ms(fps):
    rng = np.random.default_rng(0)
    for _ in range(200):
        shape = blink_shape(fps, rng)
        assert shape.max() == 1.0
        assert 0.1 <= (shape >= 0.5).sum() / fps <= 0.3
    if fps == 25.0:  # two or more frames show the eye shut at the usual frame rate
        assert min((blink_shape(fps, rng) >= 0.9).sum() for _ in range(200)) >= 2


@pytest.mark.parametrize("speech_share", [0.0, 0.5, 0.9])
def test_the_rate_is_human_in_speech_and_in_silence(speech_share):
    flags = np.random.default_rng(1).random(int(FPS * 600)) < speech_share
    curve = Blinker(FPS, np.random.default_rng(2)).curve(flags)
    per_minute = len(events(curve)) / 10
    assert 10 <= per_minute <= 30, per_minute


@pytest.fixture(scope="module")
def generator():
    return MotionGenerator(device="cpu")


def test_generated_blinks_close_fully_and_do_not_hear_the_timbre(generator):
    clip = next(corpus.evaluation_clips(1))
    features = compute_features(clip.samples)
    motion = generator.generate(features, clip.controls, seed=5)
    # Another voice saying it: different spectrum and pitch, the same speech and pauses.
    other = compute_features(clip.samples)
    other.mel = other.mel[:, ::-1].copy()
    other.pitch = other.pitch * 1.5
    again = generator.generate(other, clip.controls, seed=5)
    assert not np.allclose(motion[:, schema.index("jaw_open")], again[:, schema.index("jaw_open")])
    assert np.array_equal(motion[:, BLINK], again[:, BLINK])
    assert np.array_equal(motion[:, BLINK], motion[:, schema.index("blink_right")])
    blinks = events(motion[:, BLINK])
    assert blinks and all(b.max() == 1.0 for b in blinks)
    own = generator.generate(features, clip.controls, seed=5, sampling=Sampling(model_blinks=True))
    assert not np.array_equal(own[:, BLINK], motion[:, BLINK])  # the network's own blinks


def test_no_seed_stares_through_a_short_clip():
    """Intervals are drawn from a span, not by chance per frame: with per-frame chance, the
    default seed 0 left clips under 6 s without a blink."""
    for seed in range(50):
        curve = Blinker(FPS, np.random.default_rng(seed)).curve(np.ones(int(3 * FPS), bool))
        assert (curve > 0.5).any(), seed


def test_blink_shapes_reads_each_whole_blink_and_leaves_out_those_cut_by_the_clip():
    motion = np.zeros((60, len(schema.CHANNELS)), np.float32)
    lids = [BLINK, schema.index("blink_right")]
    motion[:3, lids] = 1.0  # shut when the clip starts: cut
    shape = blink_shape(FPS, np.random.default_rng(3))
    motion[10 : 10 + len(shape), lids] = shape[:, None]
    motion[30:34, lids] = [[0.6], [0.8], [0.8], [0.55]]  # a partial blink, 4 frames
    motion[57:, lids] = 1.0  # still shut at the end: cut
    shapes = metrics.blink_shapes(motion, FPS)
    assert shapes.shape == (2, 2)
    assert shapes[0, 0] == 1.0 and 0.1 <= shapes[0, 1] <= 0.3
    assert np.allclose(shapes[1], [0.8, 4 / FPS])
    one_eye = motion.copy()
    one_eye[30:34, lids[1]] = 0.0  # the two lids' mean: 0.4 at most, under half closed
    assert len(metrics.blink_shapes(one_eye, FPS)) == 1


def test_blinker_curves_measure_as_human_blinks():
    curve = Blinker(FPS, np.random.default_rng(4)).curve(np.ones(int(FPS * 120), bool))
    motion = np.zeros((len(curve), len(schema.CHANNELS)), np.float32)
    motion[:, [BLINK, schema.index("blink_right")]] = curve[:, None]
    peak, seconds = metrics.blink_shapes(motion, FPS).T
    assert 20 <= len(peak) <= 60
    assert peak.min() == 1.0 and 0.1 <= seconds.min() and seconds.max() <= 0.3
