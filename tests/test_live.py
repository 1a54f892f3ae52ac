"""The live path: features as samples arrive, motion a frame at a time, timed frames out."""

import numpy as np
import pytest

from vasa_core import examples, schema
from vasa_core.audio import RATE, compute_features
from vasa_core.audio.features import reach
from vasa_core.audio.stream import FeatureStream
from vasa_core.data import corpus
from vasa_core.eval import metrics
from vasa_core.face import analyze
from vasa_core.motion.controls import Controls
from vasa_core.pipeline import Pipeline


@pytest.fixture(scope="module")
def speech():
    clip = next(corpus.evaluation_clips(1))
    return clip.samples.astype(np.float32)


def chunks(samples, rng):
    """The samples in chunks of random size, as a microphone might deliver them."""
    start = 0
    while start < len(samples):
        size = int(rng.integers(1, 900))
        yield samples[start : start + size]
        start += size


def test_streamed_features_are_the_offline_ones(speech):
    stream = FeatureStream()
    parts = [stream.push(c) for c in chunks(speech, np.random.default_rng(0))]
    parts.append(stream.finish())
    offline = compute_features(speech)
    joined = {k: np.concatenate([getattr(p, k) for p in parts]) for k in ("mel", "loudness")}
    assert joined["mel"].shape == offline.mel.shape
    assert np.allclose(joined["mel"], offline.mel, atol=1e-4)
    assert np.allclose(joined["loudness"], offline.loudness, atol=1e-3)
    voicing = np.concatenate([p.voicing for p in parts])
    assert np.allclose(voicing, offline.voicing, atol=1e-5)
    # Voice activity is causal here: a word's end reads as speech up to 3 frames longer
    # (the hangover), and nothing is ever missed that the offline flag calls speech.
    live = np.concatenate([p.speech for p in parts])
    assert not (offline.speech & ~live).any()
    extra = live & ~offline.speech
    assert extra.sum() <= 3 * (np.diff(offline.speech.astype(int)) == -1).sum() + 3


def test_a_frame_is_given_once_its_windows_have_their_samples():
    stream = FeatureStream()
    hop = RATE // 25
    assert stream.push(np.zeros(hop + reach() - 1, np.float32)).frames == 0
    assert stream.push(np.zeros(1, np.float32)).frames == 1  # 12.5 ms past its end


@pytest.fixture(scope="module")
def pipe():
    return Pipeline(device="cpu")


@pytest.fixture(scope="module")
def face():
    return analyze(examples.load("drawn"))


def test_a_live_session_gives_every_frame_soon_after_its_audio(pipe, face, speech):
    session = pipe.live(face, size=256, mark=False)
    frames = []
    for chunk in chunks(speech, np.random.default_rng(1)):
        frames += session.push(chunk)
    assert frames, "no frame before the audio ended"
    frames += session.finish()
    assert [f.index for f in frames] == list(range(compute_features(speech).frames))
    assert frames[0].image.shape == (256, 256, 3) and frames[0].image.dtype == np.uint8
    # The look-ahead: the encoder's 3 frames plus the windows' 12.5 ms, and the chunk the
    # frame happened to finish in (here under 900 samples, 56 ms).
    waits = np.array([f.waited for f in frames[:-10]])
    assert waits.max() <= 3 / 25 + 0.0125 + 900 / RATE + 1e-6


def test_the_face_listens_in_silence_and_room_noise(pipe, face):
    """Quiet room noise at -45 dBFS: the mouth rests, the eyes still blink."""
    rng = np.random.default_rng(2)
    noise = (10 ** (-45 / 20) * rng.standard_normal(8 * RATE)).astype(np.float32)
    session = pipe.live(face, size=256, mark=False)
    frames = session.push(noise) + session.finish()
    motion = np.stack([f.motion for f in frames])
    assert metrics.mouth_opening(motion).max() < 0.02
    assert motion[:, schema.index("blink_left")].max() > 0.9


def test_controls_change_during_a_session_without_a_jump(pipe, face, speech):
    session = pipe.live(face, size=256, mark=False)
    half = len(speech) // 2
    before = session.push(speech[:half])
    session.set_controls(Controls(gaze_yaw=20.0))
    after = session.push(speech[half:]) + session.finish()
    gaze = np.array([f.motion[schema.index("gaze_yaw")] for f in before + after])
    assert np.abs(np.diff(gaze)).max() < 5.0  # degrees a frame
    assert gaze[-5:].mean() > gaze[: len(before)].mean() + 8.0  # and it got there


def test_sustained_fps_leaves_out_the_look_ahead_wait():
    from vasa_core.bench_live import sustained_fps

    # 25 frames a second for 10 s, the first one 0.15 s after the feed began: the
    # sustained rate is the frames' own rate, however late the first one came.
    ready = 0.15 + np.arange(250) / 25.0
    assert sustained_fps(ready) == pytest.approx(25.0)
    assert sustained_fps(0.15 + np.arange(250) / 20.0) == pytest.approx(20.0)
    assert sustained_fps(np.array([1.0])) == 0.0
