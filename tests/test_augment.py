"""Augmenting training speech (data/augment_speech.py): each transform keeps its promise,
measured on synthetic tones and on real synthesised speech, and the phoneme times stay
true to the audio."""

import pickle
import subprocess
import sys

import librosa
import numpy as np
import pytest
from scipy.signal import fftconvolve, welch

from vasa_core.audio import tts
from vasa_core.audio.load import to_mono
from vasa_core.data import augment_speech as aug
from vasa_core.errors import VasaError

RATE = 16000  # the kit's internal rate (audio/load.py)


SENTENCE = "She sells sea shells by the sea shore, and the shells are surely sea shells."


@pytest.fixture(scope="module")
def spoken(tmp_path_factory):
    """Real speech with espeak-ng's own phoneme times, at espeak-ng's 22050 Hz.

    Spoken by a fresh process: espeak-ng's samples depend on what the same process spoke
    before (the same sentence came out 91,070 to 91,300 samples long), so in one process
    this would be a different clip depending on which tests ran first."""
    path = tmp_path_factory.mktemp("speech") / "spoken.pkl"
    code = (
        "import pickle, sys; from vasa_core.audio import tts; "
        f"pickle.dump(tts.synthesize({SENTENCE!r}, voice='en-us'), open(sys.argv[1], 'wb'))"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], check=True)
    with open(path, "rb") as file:
        return pickle.load(file)


@pytest.fixture(scope="module")
def speech(spoken):
    """The same at 16 kHz: (samples, phonemes)."""
    return to_mono(spoken.samples, spoken.rate, RATE), spoken.phonemes


def vowel(f0: float, seconds: float = 1.0, formants=(700.0, 1200.0, 2600.0)) -> np.ndarray:
    """A vowel-like tone: harmonics of f0 weighted by resonances 100 Hz wide at
    `formants`, as a vocal tract shapes the glottal pulses."""
    t = np.arange(int(seconds * RATE)) / RATE
    x = np.zeros_like(t)
    for k in range(1, int(0.45 * RATE / f0)):
        gain = sum(1.0 / (1.0 + ((k * f0 - f) / 100.0) ** 2) for f in formants)
        x += gain * np.sin(2 * np.pi * k * f0 * t + 0.7 * k * k)
    return (0.5 * x / np.abs(x).max()).astype(np.float32)


def fundamental(samples: np.ndarray) -> float:
    """Median F0 in Hz by YIN, away from the edges."""
    f0 = librosa.yin(samples, fmin=60, fmax=500, sr=RATE, frame_length=1024)
    return float(np.median(f0[5:-5]))


def centroid(samples: np.ndarray) -> float:
    """The spectral centroid in Hz: it moves with the formants."""
    power = np.abs(np.fft.rfft(samples)) ** 2
    return float(np.sum(power * np.fft.rfftfreq(len(samples), 1 / RATE)) / np.sum(power))


def lag(a: np.ndarray, b: np.ndarray, most: int) -> int:
    """How many samples `a` lags behind `b`, by cross-correlation, within +-`most`."""
    n = min(len(a), len(b))
    c = fftconvolve(a[:n], b[:n][::-1])
    return int(np.argmax(c[n - 1 - most : n + most])) - most


def envelope(samples: np.ndarray, hop: int = RATE // 1000) -> np.ndarray:
    """Log RMS in 1 ms frames, mean removed: where the speech is loud and where quiet."""
    n = len(samples) // hop
    rms = np.sqrt(np.mean(samples[: n * hop].astype(np.float64).reshape(n, hop) ** 2, axis=1))
    log = np.log(rms + 1e-4)
    return log - log.mean()


def snr_db(clean: np.ndarray, noisy: np.ndarray) -> float:
    added = noisy.astype(np.float64) - clean
    return float(10 * np.log10(np.sum(clean.astype(np.float64) ** 2) / np.sum(added**2)))


def band_db(samples: np.ndarray, low: float, high: float) -> float:
    """Power in [low, high) Hz, in dB, from Welch's spectrum."""
    hz, power = welch(samples, RATE, nperseg=4096)
    return float(10 * np.log10(np.sum(power[(hz >= low) & (hz < high)])))


@pytest.mark.parametrize("semitones", [-4.0, -2.0, 2.0, 4.0])
def test_pitch_moves_the_fundamental_and_formants_by_the_semitones_asked(semitones):
    x = vowel(150.0)
    y = aug.shift_pitch(x, RATE, semitones)
    assert len(y) == len(x) and y.dtype == np.float32  # times unchanged
    assert 12 * np.log2(fundamental(y) / fundamental(x)) == pytest.approx(semitones, abs=0.1)
    # the resonances move with it, as with a shorter or longer vocal tract
    assert centroid(y) / centroid(x) == pytest.approx(2 ** (semitones / 12), rel=0.02)


def test_pitch_shift_keeps_speech_in_place(speech):
    x, _ = speech
    for semitones in (-4.0, 4.0):
        y = aug.shift_pitch(x, RATE, semitones)
        assert abs(lag(envelope(y), envelope(x), 40)) <= 3  # ms


@pytest.mark.parametrize("tempo", [0.85, 1.15])
def test_tempo_scales_the_length_and_the_phoneme_times_exactly(speech, tempo):
    x, phonemes = speech
    y, times = aug.change_tempo(x, RATE, phonemes, tempo)
    assert len(y) == round(len(x) / tempo)
    assert [s for s, _, _ in times] == [s for s, _, _ in phonemes]
    for (_, a, b), (_, a2, b2) in zip(phonemes[:-1], times[:-1], strict=True):
        assert (a2, b2) == pytest.approx((a / tempo, b / tempo), rel=1e-12)
    _, hop = aug.stft_size(RATE)
    assert times[-1][2] == len(y) / RATE
    assert abs(times[-1][2] - phonemes[-1][2] / tempo) < hop / RATE


@pytest.mark.parametrize("tempo, semitones", [(0.85, 0.0), (1.15, 0.0), (1.15, -4.0)])
def test_tempo_keeps_real_speech_on_its_scaled_times(speech, tempo, semitones):
    """The loudness contour of the output, against the input's read at t * tempo."""
    x, _ = speech
    y = aug.shift_pitch_and_tempo(x, RATE, semitones=semitones, tempo=tempo)
    before = envelope(x)
    after = envelope(y)
    expected = np.interp(np.arange(len(after)) * tempo, np.arange(len(before)), before)
    assert abs(lag(after, expected, 40)) <= 5  # ms, a third of the 16 ms hop


def test_a_clip_too_short_for_the_vocoder_still_gets_its_length():
    y = aug.shift_pitch_and_tempo(np.ones(400, np.float32), RATE, semitones=2.0, tempo=0.85)
    assert len(y) == round(400 / 0.85)


@pytest.mark.parametrize("rt60", [0.15, 0.4, 0.8])
def test_room_response_decays_in_the_reverberation_time_asked(rt60):
    response = aug.room_response(RATE, rt60, np.random.default_rng(0), direct_to_reverb_db=2.0)
    tail = response[1:]
    assert 10 * np.log10(response[0] ** 2 / np.sum(tail**2)) == pytest.approx(2.0)
    # Schroeder's backward integral, fitted from -5 to -35 dB and extended to -60 dB
    decay = np.cumsum(tail[::-1] ** 2)[::-1]
    decay_db = 10 * np.log10(decay / decay[0])
    fit = (decay_db < -5) & (decay_db > -35)
    slope = np.polyfit(np.flatnonzero(fit) / RATE, decay_db[fit], 1)[0]
    assert -60 / slope == pytest.approx(rt60, rel=0.05)


def test_reverb_keeps_length_loudness_and_alignment(speech):
    x, _ = speech
    response = aug.room_response(RATE, 0.8, np.random.default_rng(1), direct_to_reverb_db=-3.0)
    y = aug.reverberate(x, response)
    assert len(y) == len(x) and np.isfinite(y).all()
    assert np.sqrt(np.mean(y**2)) == pytest.approx(np.sqrt(np.mean(x**2)), rel=1e-4)
    assert lag(y, x, RATE // 20) == 0  # the direct sound is still the strongest path


@pytest.mark.parametrize("colour", aug.NOISE_COLOURS)
@pytest.mark.parametrize("snr", [10.0, 20.0, 30.0])
def test_noise_is_added_at_the_snr_asked(speech, colour, snr):
    x, _ = speech
    noise = aug.coloured_noise(len(x), RATE, colour, np.random.default_rng(2))
    y = aug.add_noise(x, noise, snr)
    assert abs(snr_db(x, y) - snr) < 0.5
    assert abs(snr_db(x, y) - snr) < 0.01  # in fact exactly, up to float32 rounding


@pytest.mark.parametrize("colour, octaves_db", [("white", 6.0), ("pink", 0.0), ("brown", -6.0)])
def test_noise_colours_have_their_slopes(colour, octaves_db):
    """Two octaves up, 1-2 kHz against 250-500 Hz: white noise has 4 times the power
    (the band is 4 times wider), pink the same, brown a quarter."""
    noise = aug.coloured_noise(8 * RATE, RATE, colour, np.random.default_rng(3))
    assert np.mean(noise**2) == pytest.approx(1.0)
    rise = band_db(noise, 1000, 2000) - band_db(noise, 250, 500)
    assert rise == pytest.approx(octaves_db, abs=1.0)


def test_telephone_band_removes_what_is_below_300_and_above_3400_hz():
    x = np.random.default_rng(4).standard_normal(4 * RATE).astype(np.float32)
    y = aug.telephone(x, RATE)
    assert len(y) == len(x)
    assert band_db(y, 0, 200) - band_db(x, 0, 200) < -40
    assert band_db(y, 0, 300) - band_db(x, 0, 300) < -15  # the slope's last 100 Hz
    assert band_db(y, 4000, 8000) - band_db(x, 4000, 8000) < -40
    assert band_db(y, 3400, 8000) - band_db(x, 3400, 8000) < -15
    assert band_db(y, 500, 3000) - band_db(x, 500, 3000) == pytest.approx(0.0, abs=0.5)


def test_telephone_band_keeps_speech_in_place(speech):
    x, _ = speech
    assert lag(aug.telephone(x, RATE), x, RATE // 20) == 0  # zero phase: no delay


def test_level_changes_by_the_gain_but_never_clips(speech):
    x, _ = speech
    quiet = aug.change_level(x, -20.0)
    assert np.abs(quiet).max() == pytest.approx(np.abs(x).max() * 0.1, rel=1e-5)
    loud = aug.change_level(x / np.abs(x).max() * 0.9, 6.0)
    assert np.abs(loud).max() == pytest.approx(aug.CEILING, rel=1e-6)
    shape = loud / np.where(x == 0, 1, x)  # turned down as a whole, not clipped
    assert np.ptp(shape[np.abs(x) > 1e-3]) < 1e-4


@pytest.mark.parametrize(
    "codec, kbps", [(c, k) for c, (_, _, rates) in aug.CODECS.items() for k in rates]
)
@pytest.mark.parametrize("rate", [RATE, 22050])
def test_codec_round_trip_stays_aligned_within_a_millisecond(codec, kbps, rate):
    spoken = tts.synthesize("The quick brown fox jumps over the lazy dog.", voice="en-us")
    x = to_mono(spoken.samples, spoken.rate, rate)
    y = aug.codec_round_trip(x, rate, codec, kbps)
    assert y.dtype == np.float32 and len(y) == len(x) and np.isfinite(y).all()
    assert lag(x, x, rate // 10) == 0  # before: the measure itself
    assert abs(lag(y, x, rate // 10)) <= rate // 1000  # after: the priming was removed
    assert np.corrcoef(x, y)[0, 1] > 0.9  # still the same speech


def test_augment_speech_is_deterministic_for_a_seed(speech):
    x, phonemes = speech
    for seed in range(6):
        a, times_a = aug.augment_speech(x, RATE, phonemes, np.random.default_rng(seed))
        b, times_b = aug.augment_speech(x, RATE, phonemes, np.random.default_rng(seed))
        assert np.array_equal(a, b) and times_a == times_b
    other, _ = aug.augment_speech(x, RATE, phonemes, np.random.default_rng(99))
    assert not (len(other) == len(a) and np.array_equal(other, a))


@pytest.mark.parametrize("rate", [RATE, 22050])
def test_augment_speech_keeps_times_covering_the_audio(spoken, rate):
    x, phonemes = to_mono(spoken.samples, spoken.rate, rate), spoken.phonemes
    symbols = [s for s, _, _ in phonemes]
    for seed in range(12):
        plan = aug.draw_plan(np.random.default_rng(seed))
        y, times = aug.augment_speech(x, rate, phonemes, np.random.default_rng(seed))
        assert y.dtype == np.float32 and y.ndim == 1 and np.isfinite(y).all()
        assert np.abs(y).max() <= aug.CEILING + 1e-6
        assert [s for s, _, _ in times] == symbols
        assert times[0][1] == 0.0 and times[-1][2] == len(y) / rate
        assert all(b1 == a2 for (_, _, b1), (_, a2, _) in zip(times[:-1], times[1:], strict=True))
        tempo = plan.tempo or 1.0
        assert len(y) == round(len(x) / tempo)
        factor = 1.0 / tempo
        assert times[5][2] == pytest.approx(phonemes[5][2] * factor, rel=1e-12)


def test_augment_speech_refuses_what_is_not_mono(speech):
    x, phonemes = speech
    with pytest.raises(VasaError, match="mono"):
        aug.augment_speech(np.stack([x, x], 1), RATE, phonemes, np.random.default_rng(0))


def test_plans_reach_every_transform_at_about_its_chance():
    plans = [aug.draw_plan(np.random.default_rng(seed)) for seed in range(400)]
    used = {
        "pitch": [p.semitones is not None for p in plans],
        "tempo": [p.tempo is not None for p in plans],
        "reverb": [p.rt60 is not None for p in plans],
        "noise": [p.snr_db is not None for p in plans],
        "telephone": [p.telephone for p in plans],
        "codec": [p.codec is not None for p in plans],
        "level": [p.gain_db is not None for p in plans],
    }
    for name, flags in used.items():
        assert np.mean(flags) == pytest.approx(aug.CHANCES[name], abs=0.07), name
    assert {p.codec for p in plans} == {None, *aug.CODECS}
    assert {p.noise_colour for p in plans} == {None, *aug.NOISE_COLOURS}
    for p in plans:
        assert p.tempo is None or aug.TEMPO[0] <= p.tempo <= aug.TEMPO[1]
        assert p.kbps is None or aug.CODECS[p.codec][2][0] <= p.kbps <= aug.CODECS[p.codec][2][1]
