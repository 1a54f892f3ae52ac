"""What the motion generator hears (audio/condition.py): the phonetic encoder's posteriors
and prosody that reads alike whatever the voice's level and pitch, the same live and whole."""

import numpy as np
import pytest

from vasa_core.audio import compute_features, condition
from vasa_core.audio.encoder import CLASSES, load_encoder
from vasa_core.data import corpus
from vasa_core.errors import VasaError


@pytest.fixture(scope="module")
def encoder():
    return load_encoder(device="cpu")


@pytest.fixture(scope="module")
def speech():
    """Four utterances of one seed back to back: some 10-20 s of speech."""
    clips = [corpus.make_clip(4, i, keep_audio=True).samples for i in range(4)]
    return np.concatenate(clips).astype(np.float32)


def test_rows_pushed_in_chunks_are_the_rows_of_the_whole_clip(encoder, speech):
    features = compute_features(speech)
    whole = condition.condition(features, encoder)
    assert whole.shape == (features.frames, condition.DIM)
    listener = condition.Listener(encoder)
    parts = [listener.push(features.cut(a, a + 5)) for a in range(0, features.frames, 5)]
    chunked = np.concatenate([*parts, listener.finish()])
    assert np.allclose(chunked, whole, atol=1e-5)
    # Rows come out `lookahead` frames behind what was pushed, never ahead of it.
    assert len(parts[0]) == 5 - encoder.config.lookahead
    assert np.allclose(whole[:, : len(CLASSES)].sum(axis=1), 1, atol=1e-5)


def test_level_and_pitch_are_relative_to_the_voice(encoder, speech):
    """10 dB quieter, or an octave lower, the prosody columns read the same: the running
    references follow the voice from its first word."""
    level, pitch = condition.COLUMNS.index("level"), condition.COLUMNS.index("pitch")
    features, quieter = compute_features(speech), compute_features(speech * 10 ** (-10 / 20))
    loud = condition.condition(features, encoder)
    quiet = condition.condition(quieter, encoder)
    both = features.speech & quieter.speech  # the voice-activity flag is tested elsewhere
    assert both.sum() > 0.95 * features.speech.sum()
    # 10 dB is one unit of the level column: all but a few hundredths of it are gone.
    assert np.abs(loud[both, level] - quiet[both, level]).mean() < 0.05
    lower = compute_features(speech)
    lower.pitch = features.pitch / 2  # an octave down, everything else the same
    a = condition.condition(features, encoder)[:, pitch]
    b = condition.condition(lower, encoder)[:, pitch]
    voiced = features.pitch > 0
    assert np.abs(a[voiced] - b[voiced]).max() < 1e-4  # an octave is 3 units: none left
    assert np.all(a[~voiced] == 0) and np.abs(a[voiced]).mean() > 0.1


def test_a_frame_rate_the_encoder_was_not_trained_on_is_refused(encoder, speech):
    with pytest.raises(VasaError, match="25 fps, not 30"):
        condition.condition(compute_features(speech, fps=30.0), encoder)
