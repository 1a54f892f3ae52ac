"""Augmenting training speech without losing its phoneme times.

A phonetic audio encoder trained on synthetic voices learns whatever tells its training
clips apart, and synthetic clips are all clean, close-miked and in a few voices. Here
each clip is changed the ways real recordings differ, so that only the phonemes stay
constant: the speaker (pitch and vocal-tract length, speaking rate), the room (reverb),
the surroundings (noise), the channel (telephone band, level, lossy codec).

    samples, phonemes = augment_speech(samples, rate, phonemes, rng)

Each transform below is a plain function on a float array, with the random draws made by
the caller, so each can be tested for what it promises. All but `change_tempo` keep every
sample where it was: the phoneme times [(symbol, start_s, end_s), ...] stay true as they
are. `change_tempo` scales the time axis and the times with it, by the same factor.

`augment_speech` draws a `Plan` (which transforms, with which settings) from the random
generator and applies it; the same generator state gives the same audio and times.
On a 2-core CPU it costs under 0.01 s per second of audio on average, 0.035 s with every
transform on a 1.4 s clip: the codec round trip, two ffmpeg runs of some 50 ms whatever
the length, is the dearest step, so it is among the rarest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, fftconvolve, sosfiltfilt

from vasa_core import media
from vasa_core.errors import VasaError

Phonemes = list[tuple[str, float, float]]

# How often each transform is applied, and the ranges they draw from.
CHANCES = {
    "pitch": 0.5,
    "tempo": 0.5,
    "reverb": 0.3,
    "noise": 0.5,
    "telephone": 0.1,
    "codec": 0.2,
    "level": 0.7,
}
SEMITONES = (-4.0, 4.0)
TEMPO = (0.85, 1.15)  # speaking rate: 1.15 is 15% faster, times shrink by 1 / 1.15
RT60_S = (0.15, 0.8)  # from a furnished office to a bare hall
DIRECT_TO_REVERB_DB = (-3.0, 10.0)  # far from the microphone to close to it
SNR_DB = (10.0, 30.0)
NOISE_COLOURS = ("white", "pink", "brown")
GAIN_DB = (-20.0, 6.0)
TELEPHONE_HZ = (300.0, 3400.0)
# codec: (ffmpeg encoder, file suffix, bit rates in kbit/s to draw from)
CODECS = {
    "mp3": ("libmp3lame", "mp3", (32, 64)),
    "aac": ("aac", "m4a", (32, 64)),
    "opus": ("libopus", "opus", (12, 32)),
}
CEILING = 0.99  # peak level the level change never exceeds


def stft_size(rate: int) -> tuple[int, int]:
    """(n_fft, hop) of the phase vocoder: a window near 50 ms, a power of two.

    Long enough to resolve the harmonics of a low voice (a 100 Hz voice puts 5 periods in
    it), short enough not to smear consonants. Hop a quarter window, the usual overlap."""
    n_fft = 2 ** round(np.log2(0.05 * rate))
    return n_fft, n_fft // 4


def shift_pitch_and_tempo(
    samples: np.ndarray, rate: int, semitones: float = 0.0, tempo: float = 1.0
) -> np.ndarray:
    """Another speaker, speaking at another rate: pitch and formants moved by `semitones`,
    duration divided by `tempo`, in one pass of the phase vocoder.

    Resampling by a ratio r moves every frequency by r, the fundamental and the formants
    (the resonances of the vocal tract) alike, as a shorter or longer vocal tract with a
    higher or lower voice would; it also changes the duration by 1 / r, which the phase
    vocoder (a time stretch that keeps frequencies) corrects beforehand, together with
    the tempo asked. Time t of the input lands at t / tempo of the output, and the output
    has round(len(samples) / tempo) samples."""
    import librosa  # slow to import; only augmentation needs it

    x = np.asarray(samples, dtype=np.float32)
    ratio = 2.0 ** (semitones / 12.0)
    n_out = int(round(len(x) / tempo))
    n_fft, hop = stft_size(rate)
    if semitones == 0.0 and tempo == 1.0:
        return x.copy()
    if len(x) < n_fft:  # under 50 ms, too short for the vocoder: only the length changes
        return np.interp(np.arange(n_out) * tempo, np.arange(len(x)), x).astype(np.float32)
    # Stretch to len * ratio / tempo at the same rate, then read it as if sampled at
    # rate * ratio and resample to `rate`: len / tempo samples, every frequency * ratio.
    y = librosa.effects.time_stretch(x, rate=tempo / ratio, n_fft=n_fft, hop_length=hop)
    if semitones != 0.0:
        y = librosa.resample(y, orig_sr=rate * ratio, target_sr=rate, res_type="soxr_hq")
    return fit_length(y, n_out)


def shift_pitch(samples: np.ndarray, rate: int, semitones: float) -> np.ndarray:
    """Pitch and vocal-tract length of another speaker, same duration: see
    `shift_pitch_and_tempo`. +4 semitones raises the fundamental by 26%, as from a low
    male voice to a high one; the formants rise with it, as in a shorter vocal tract."""
    return shift_pitch_and_tempo(samples, rate, semitones=semitones)


def change_tempo(
    samples: np.ndarray, rate: int, phonemes: Sequence, tempo: float
) -> tuple[np.ndarray, Phonemes]:
    """The same speaker talking faster (`tempo` > 1) or slower, pitch unchanged: a
    phoneme at [start, end] comes out at [start / tempo, end / tempo]."""
    y = shift_pitch_and_tempo(samples, rate, tempo=tempo)
    return y, scale_times(phonemes, 1.0 / tempo, len(y) / rate)


def scale_times(phonemes: Sequence, factor: float, seconds: float) -> Phonemes:
    """Phoneme times multiplied by `factor`, the last end set to `seconds`, the new length
    of the audio (it differs from end * factor by under a sample: the length is rounded
    to whole samples), so the phonemes still cover the audio end to end."""
    scaled = [(str(s), float(a) * factor, float(b) * factor) for s, a, b in phonemes]
    if scaled:
        symbol, start, _ = scaled[-1]
        scaled[-1] = (symbol, start, float(seconds))
    return scaled


def room_response(
    rate: int, rt60: float, rng: np.random.Generator, direct_to_reverb_db: float = 3.0
) -> np.ndarray:
    """A synthetic room impulse response: the direct sound, then a diffuse tail.

    In a room, reflections soon arrive so densely that the tail is well modelled by noise
    whose energy decays exponentially; RT60 is the time it takes to fall by 60 dB, so the
    amplitude goes as 10 ** (-3 t / RT60). `direct_to_reverb_db` is the energy of the
    direct sound over that of the tail: high close to the microphone, low across a room.
    The first reflections come after about 3 ms (a metre of extra path)."""
    n = max(int(rt60 * rate), 2)  # by RT60 the tail is 60 dB down: nothing audible is cut
    t = np.arange(n) / rate
    tail = rng.standard_normal(n) * 10.0 ** (-3.0 * t / rt60)
    tail[: int(0.003 * rate) + 1] = 0.0  # the gap before the first reflection
    tail *= np.sqrt(10.0 ** (-direct_to_reverb_db / 10.0) / np.sum(tail**2))
    tail[0] = 1.0  # the direct sound, at time zero: the phonemes keep their times
    return tail


def reverberate(samples: np.ndarray, response: np.ndarray) -> np.ndarray:
    """The speech as heard in the room of `response` (see `room_response`), cut to its
    original length and brought back to its original loudness (RMS): the level is a
    transform of its own. The direct sound comes first, so nothing moves in time."""
    x = np.asarray(samples, dtype=np.float64)
    wet = fftconvolve(x, response)[: len(x)]
    dry_rms, wet_rms = np.sqrt(np.mean(x**2)), np.sqrt(np.mean(wet**2))
    return (wet * (dry_rms / wet_rms if wet_rms > 0 else 0.0)).astype(np.float32)


def coloured_noise(n: int, rate: int, colour: str, rng: np.random.Generator) -> np.ndarray:
    """`n` samples of noise of power 1: "white" (flat: hiss, fans), "pink" (power falling
    3 dB an octave, equal in every octave: rain, crowds, most natural noise) or "brown"
    (6 dB an octave: rumble, traffic, air conditioning).

    Shaped in the frequency domain: the amplitude spectrum of white noise times
    f ** -slope. Below 50 Hz nothing is kept, as microphones keep little there: otherwise
    brown noise would put its power in inaudible rumble and its SNR would be on paper."""
    slope = {"white": 0.0, "pink": 0.5, "brown": 1.0}[colour]
    spectrum = np.fft.rfft(rng.standard_normal(n))
    hz = np.fft.rfftfreq(n, d=1.0 / rate)
    spectrum *= np.where(hz >= 50.0, np.maximum(hz, 50.0) ** -slope, 0.0)
    noise = np.fft.irfft(spectrum, n)
    return noise / np.sqrt(np.mean(noise**2) + 1e-30)


def add_noise(samples: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """Speech plus `noise` scaled so that the signal-to-noise ratio, mean power of the
    speech over the whole clip against mean power of the added noise, is `snr_db`."""
    x = np.asarray(samples, dtype=np.float64)
    signal_power = np.mean(x**2)
    noise_power = np.mean(np.asarray(noise, dtype=np.float64) ** 2)
    if noise_power == 0.0:
        return x.astype(np.float32)
    scale = np.sqrt(signal_power / noise_power / 10.0 ** (snr_db / 10.0))
    return (x + scale * noise).astype(np.float32)


def telephone(
    samples: np.ndarray, rate: int, band_hz: tuple[float, float] = TELEPHONE_HZ
) -> np.ndarray:
    """The speech as a telephone line carries it: only 300-3400 Hz, the band of the
    narrowband telephone network, without the low voice fundamental and the high
    fricative energy. A Butterworth band-pass of order 6 at each edge, run forward and
    backward: twice the slope (72 dB an octave) and zero phase. A causal filter would
    delay the speech by its group delay, milliseconds near the band edges, and move it
    off its phoneme times."""
    low, high = band_hz
    high = min(high, 0.45 * rate)  # a low sampling rate may already be narrower
    sos = butter(6, [low, high], btype="bandpass", fs=rate, output="sos")
    return sosfiltfilt(sos, np.asarray(samples, dtype=np.float64)).astype(np.float32)


def change_level(samples: np.ndarray, gain_db: float, ceiling: float = CEILING) -> np.ndarray:
    """A quieter or louder recording: `gain_db` applied, but never over `ceiling` at the
    peak. Where the gain would clip, the whole clip is turned down instead to peak at the
    ceiling (as a careful recordist would): clipping adds distortion that changes with
    the level, which the encoder would otherwise have to learn about too."""
    y = np.asarray(samples, dtype=np.float64) * 10.0 ** (gain_db / 20.0)
    peak = np.max(np.abs(y)) if y.size else 0.0
    if peak > ceiling:
        y *= ceiling / peak
    return y.astype(np.float32)


def codec_round_trip(
    samples: np.ndarray, rate: int, codec: str = "mp3", kbps: int = 48
) -> np.ndarray:
    """The speech after a lossy codec, as in a streamed or downloaded video: encoded and
    decoded by the ffmpeg of imageio-ffmpeg ("mp3", "aac" or "opus", at `kbps` kbit/s).

    Encoders start with priming samples that delay the audio (LAME's 1105, AAC's 1024,
    Opus's 312 at 48 kHz). Written to a file, each container records them (the LAME tag
    of an MP3, the edit list of an MP4, the pre-skip of Ogg Opus) and ffmpeg's decoder
    drops them, so the speech comes back where it was. (Through a pipe, which cannot be
    rewound to fill in the LAME tag once the encoder is done, an MP3 comes back 1105
    samples late.) The result is cut or padded to the input's length: a codec rounds it
    to whole frames."""
    encoder, suffix, _ = CODECS[codec]
    decoded = media.codec_round_trip(samples, rate, encoder, suffix, kbps)
    return fit_length(decoded, len(samples))


def fit_length(samples: np.ndarray, n: int) -> np.ndarray:
    """`samples` cut, or padded with zeros at the end, to exactly `n` samples (float32)."""
    y = np.zeros(n, dtype=np.float32)
    y[: min(n, len(samples))] = samples[:n]
    return y


@dataclass(frozen=True)
class Plan:
    """What `augment_speech` does to one clip; None: that transform is skipped. Printed,
    it says what a training clip went through."""

    semitones: float | None = None
    tempo: float | None = None
    rt60: float | None = None
    direct_to_reverb_db: float | None = None
    snr_db: float | None = None
    noise_colour: str | None = None
    telephone: bool = False
    codec: str | None = None
    kbps: int | None = None
    gain_db: float | None = None


def draw_plan(rng: np.random.Generator) -> Plan:
    """A random chain of transforms, each with its chance in CHANCES. Every draw is made
    whether or not its transform is chosen, so one choice never shifts the others."""

    def chosen(name: str) -> bool:
        return bool(rng.random() < CHANCES[name])

    def pick(name: str, low: float, high: float) -> float | None:
        on, value = chosen(name), float(rng.uniform(low, high))
        return value if on else None

    semitones, tempo = pick("pitch", *SEMITONES), pick("tempo", *TEMPO)
    rt60, drr = pick("reverb", *RT60_S), float(rng.uniform(*DIRECT_TO_REVERB_DB))
    snr_db, colour = pick("noise", *SNR_DB), str(rng.choice(NOISE_COLOURS))
    phone = chosen("telephone")
    with_codec, codec = chosen("codec"), str(rng.choice(sorted(CODECS)))
    low, high = CODECS[codec][2]
    kbps = int(rng.integers(low, high + 1))
    return Plan(
        semitones=semitones,
        tempo=tempo,
        rt60=rt60,
        direct_to_reverb_db=drr if rt60 is not None else None,
        snr_db=snr_db,
        noise_colour=colour if snr_db is not None else None,
        telephone=phone,
        codec=codec if with_codec else None,
        kbps=kbps if with_codec else None,
        gain_db=pick("level", *GAIN_DB),
    )


def apply_plan(
    samples: np.ndarray, rate: int, phonemes: Sequence, plan: Plan, rng: np.random.Generator
) -> tuple[np.ndarray, Phonemes]:
    """`plan` applied in the order sound travels: the speaker (pitch, tempo), the room,
    the noise in the room, the channel (telephone band, codec), the recording level.
    `rng` draws the noise and the room's tail."""
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim != 1:
        raise VasaError(f"augmentation expects mono samples [n], got shape {x.shape}")
    times = scale_times(phonemes, 1.0, len(x) / rate)
    if plan.semitones is not None or plan.tempo is not None:
        tempo = plan.tempo or 1.0
        x = shift_pitch_and_tempo(x, rate, semitones=plan.semitones or 0.0, tempo=tempo)
        times = scale_times(times, 1.0 / tempo, len(x) / rate)
    if plan.rt60 is not None:
        x = reverberate(x, room_response(rate, plan.rt60, rng, plan.direct_to_reverb_db))
    if plan.snr_db is not None:
        x = add_noise(x, coloured_noise(len(x), rate, plan.noise_colour, rng), plan.snr_db)
    if plan.telephone:
        x = telephone(x, rate)
    if plan.codec is not None:
        x = codec_round_trip(x, rate, plan.codec, plan.kbps)
    # Always through the level change, at 0 dB if none was drawn: its ceiling keeps
    # reverb, noise and codec overshoot from pushing the peak past full scale.
    x = change_level(x, plan.gain_db or 0.0)
    return x, times


def augment_speech(
    samples: np.ndarray, rate: int, phonemes: Sequence, rng: np.random.Generator
) -> tuple[np.ndarray, Phonemes]:
    """(augmented samples, phonemes): a random chain of the transforms above applied to
    mono `samples` at `rate`; float32 mono at the same rate comes back, with the phoneme
    times [(symbol, start_s, end_s), ...] scaled where the tempo changed and still
    covering the audio end to end. The same `rng` state gives the same result."""
    return apply_plan(samples, rate, phonemes, draw_plan(rng), rng)
