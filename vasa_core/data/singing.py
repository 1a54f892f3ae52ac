"""Singing: spoken speech turned into a sung phrase, with exact phoneme times.

A face that lip-syncs to song holds its mouth open through a long vowel and still closes
it for the "m" that follows. To teach that, the corpus sings some of its clips:

    sung = sing(speech, rng)   # speech: tts.Speech from espeak-ng or festival
    sung.samples, sung.phonemes, sung.notes  # notes: [Note(start_s, end_s, midi), ...]

Each syllable nucleus (a vowel, or a syllabic consonant) becomes a note held for a drawn
length (0.3-1.2 s, on a beat so the phrase has a rhythm); consonants and pauses keep
their spoken length. The notes follow a melody, a random walk on a scale within an octave
around the voice's own median pitch, and held notes get a little vibrato (5-6 Hz, 30-50
cents) that starts a moment after the note, as a singer's does.

How: TD-PSOLA (pitch-synchronous overlap-add). The spoken audio is cut into grains two
pitch periods long, centred on its glottal pulses; the sung audio is built by adding
grains back at the spacing of the *new* pitch, each taken from where a time map says
the output is in the input. A held vowel repeats its grains (longer, same timbre); a
higher note packs them closer. Unvoiced sounds are copied through unchanged. Grains
overlap with windows that sum to one, so every join, between phonemes or grains, is a
cross-fade of a pitch period: there is nothing to click.

The time map is piecewise linear, one piece per phoneme (three for a note: its first
and last 30 ms keep their spoken pace, so the consonant transitions stay crisp, and the
middle stretches). Phoneme times are exact by construction: each phoneme's new start and
end are the sample counts the layout placed it at, divided by the rate.

Cost: about 13 ms per second of sung output on a 2-core CPU (30 corpus phrases, 477 s
sung; the pitch analysis of the spoken input and the overlap-add loop), plus about a
second of librosa's warm-up on a process's first call. A phrase sings about three times
as long as it was spoken.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from scipy.ndimage import median_filter, uniform_filter1d

from vasa_core.audio.tts import Speech
from vasa_core.data import visemes
from vasa_core.errors import VasaError

FMIN, FMAX = 55.0, 450.0  # the pitch range searched: low male to high female voices
HOP_S = 0.005  # pitch analysis frame step
OCTAVE_GATE = 1.8  # a spoken pitch this many times off the speaker's median is an error
UNVOICED_HOP_S = 0.005  # grain spacing where there is no pitch to follow
EDGE_S = 0.03  # a note's first and last 30 ms keep their spoken pace
HELD_S = 0.5  # a note at least this long is "held": it gets vibrato
SYLLABIC = "\u0329"  # IPA's syllabic mark (festival's "n̩"): a consonant that is a nucleus
SCALES = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "pentatonic": (0, 2, 4, 7, 9),
}
# Note lengths in beats, and how often each is drawn: mostly one or two beats.
BEATS, BEAT_CHANCES = (1.0, 1.5, 2.0, 3.0), (0.45, 0.2, 0.25, 0.1)


class Note(NamedTuple):
    start: float  # seconds
    end: float
    midi: int  # MIDI note number: 60 is middle C, 69 is A 440 Hz


@dataclass
class Sung(Speech):
    """A `tts.Speech` that was sung: the same fields, and the notes it sang."""

    notes: list[Note] = field(default_factory=list)


@dataclass
class Pitch:
    """The spoken input's pitch, frame by frame (frame i is centred on sample i * hop)."""

    hop: int
    hz: np.ndarray  # [F] fundamental frequency; where unvoiced, a neighbour's value
    voiced: np.ndarray  # [F] bool

    def frame(self, sample: int) -> int:
        return min(max(sample, 0) // self.hop, len(self.hz) - 1)


def hz_to_midi(hz: np.ndarray | float) -> np.ndarray | float:
    return 69 + 12 * np.log2(np.asarray(hz) / 440.0)


def midi_to_hz(midi: np.ndarray | float) -> np.ndarray | float:
    return 440.0 * 2 ** ((np.asarray(midi) - 69) / 12)


def is_nucleus(symbol: str) -> bool:
    """Does this phoneme carry a syllable, and so a note?"""
    return visemes.kind(symbol) == "vowel" or SYLLABIC in symbol


def sing(
    speech: Speech,
    rng: np.random.Generator,
    lengths: tuple[float, float] = (0.3, 1.2),
    span: int = 12,
) -> Sung:
    """`speech` sung: each nucleus a note `lengths` seconds long, the melody within `span`
    semitones around the voice's median pitch. The same `rng` state gives the same song."""
    rate = speech.rate
    x = np.asarray(speech.samples, np.float64)
    segments = _segments(speech)
    nuclei = [i for i, (symbol, _, _) in enumerate(segments) if is_nucleus(symbol)]
    if not nuclei:
        raise VasaError("nothing to sing: the speech has no vowel")
    pitch = measure_pitch(x, rate)
    home = _median_pitch(pitch, [segments[i] for i in nuclei])
    held = note_lengths(len(nuclei), rng, lengths)
    midis = melody(len(nuclei), home, rng, span)
    vibrato = (float(rng.uniform(5.0, 6.0)), float(rng.uniform(30.0, 50.0)))
    # Inside a nucleus the voice is voiced whatever the detector says: a held vowel must
    # repeat pitch-synchronous grains, or it would buzz at the unvoiced grain rate.
    for i in nuclei:
        _force_voiced(pitch, segments[i][1], segments[i][2])
    new_lengths = {i: round(held[n] * rate) for n, i in enumerate(nuclei)}
    placed, out_knots, in_knots = layout(segments, new_lengths, rate)
    notes = [Note(placed[i][1] / rate, placed[i][2] / rate, midis[n]) for n, i in enumerate(nuclei)]
    total = placed[-1][2]
    target = target_midi(notes, total, rate, *vibrato)
    marks, voiced = pitch_marks(x, rate, pitch)
    y = overlap_add(x, marks, voiced, target, rate, out_knots, in_knots)
    peak = np.abs(y).max()
    if peak > 0.99:  # closer grains add up: keep the song as loud as it can be unclipped
        y *= 0.99 / peak
    phonemes = [(symbol, a / rate, b / rate) for symbol, a, b in placed]
    return Sung(y.astype(np.float32), rate, phonemes, speech.voice, notes)


def _segments(speech: Speech) -> list[tuple[str, int, int]]:
    """The phonemes as contiguous (symbol, start, end) sample ranges covering the audio.

    Rounding a time to samples can leave a phoneme empty; it is dropped, as it has no
    sound to place."""
    n = len(speech.samples)
    if not speech.phonemes:
        raise VasaError("nothing to sing: the speech has no phoneme times")
    starts = [min(max(round(a * speech.rate), 0), n) for _, a, _ in speech.phonemes]
    starts[0] = 0
    ends = starts[1:] + [n]
    return [
        (s, a, b) for (s, _, _), a, b in zip(speech.phonemes, starts, ends, strict=True) if b > a
    ]


def measure_pitch(x: np.ndarray, rate: int) -> Pitch:
    """The pitch of `x` every 5 ms: YIN for the period, then a frame is voiced if the
    signal one period later looks like itself (normalised autocorrelation above 0.5) and
    is not near silence. Cheaper than pYIN by a factor of about 50, and enough here."""
    import librosa

    hop = max(1, round(HOP_S * rate))
    frame = 2 ** int(np.ceil(np.log2(2.5 * rate / FMIN)))
    padded = np.pad(x, (0, max(0, frame - len(x))))
    hz = librosa.yin(padded, fmin=FMIN, fmax=FMAX, sr=rate, frame_length=frame, hop_length=hop)
    hz = hz[: len(x) // hop + 1]
    loud = uniform_filter1d(x**2, size=hop * 4)[np.minimum(np.arange(len(hz)) * hop, len(x) - 1)]
    quiet = 1e-4 * loud.max()  # 40 dB below the loudest: silence, or nearly
    voiced = np.zeros(len(hz), bool)
    for i in np.flatnonzero(loud >= quiet):
        period = int(rate / hz[i])
        once, twice = (
            _likeness(x, i * hop, period, period),
            _likeness(x, i * hop, period, 2 * period),
        )
        # A low voice with a strong second harmonic fools YIN into half its period; the
        # true period shows as the signal looking more like itself two "periods" on.
        if twice > once + 0.1 and hz[i] / 2 >= FMIN:
            hz[i], once = hz[i] / 2, twice
        voiced[i] = once > 0.5
    # A smooth vowel (an "u" with its first formant near 300 Hz) can look periodic at its
    # formant's period. Speech stays within about an octave of the speaker's median, so a
    # frame far outside it is a wrong period: it takes its neighbours' pitch instead.
    if voiced.any():
        median = np.median(hz[voiced])
        voiced &= (hz > median / OCTAVE_GATE) & (hz < median * OCTAVE_GATE)
    if voiced.any():
        # Unvoiced frames take their voiced neighbours' pitch (a held vowel the detector
        # missed still has one), and a median over 25 ms undoes YIN's odd octave jump.
        hz = np.interp(np.arange(len(hz)), np.flatnonzero(voiced), hz[voiced])
        hz = median_filter(hz, size=5, mode="nearest")
    return Pitch(hop, hz, voiced)


def _likeness(x: np.ndarray, centre: int, width: int, lag: int) -> float:
    """How alike (normalised correlation, -1 to 1) `x` around `centre` and `lag` samples
    later are, over 2 * `width` samples; 0 where the signal runs out."""
    a, b = centre - width, centre + width
    if a < 0 or b + lag > len(x):
        return 0.0
    one, two = x[a:b], x[a + lag : b + lag]
    scale = np.sqrt((one @ one) * (two @ two))
    return float(one @ two / scale) if scale > 0 else 0.0


def _median_pitch(pitch: Pitch, nuclei: list[tuple[str, int, int]]) -> float:
    """The voice's own median pitch (MIDI) over its voiced vowels, the melody's centre."""
    frames = np.zeros(len(pitch.hz), bool)
    for _, a, b in nuclei:
        frames[pitch.frame(a) : pitch.frame(b) + 1] = True
    for chosen in (frames & pitch.voiced, pitch.voiced):
        if chosen.any():
            return float(hz_to_midi(np.median(pitch.hz[chosen])))
    return float(hz_to_midi(120.0))  # a whisper: sing around a middling voice


def _force_voiced(pitch: Pitch, start: int, end: int) -> None:
    pitch.voiced[pitch.frame(start) : pitch.frame(end) + 1] = True


def note_lengths(count: int, rng: np.random.Generator, lengths: tuple[float, float]) -> np.ndarray:
    """`count` note lengths (seconds) on a beat of 0.3-0.42 s, clipped to `lengths`.

    The phrase's last note is long (a singer lingers on it), and at least three notes
    (or all, in a shorter phrase) are held, half a second or more."""
    beat = rng.uniform(0.3, 0.42)
    held = beat * rng.choice(BEATS, size=count, p=BEAT_CHANCES)
    held[-1] = max(held[-1], 2 * beat)
    short = np.flatnonzero(held < HELD_S)
    missing = min(3, count) - (count - len(short))
    if missing > 0:
        held[rng.choice(short, size=missing, replace=False)] = 2 * beat
    return np.clip(held, *lengths)


def melody(count: int, home: float, rng: np.random.Generator, span: int = 12) -> list[int]:
    """`count` MIDI notes: a random walk of small steps on a scale, within `span`
    semitones centred on `home`, ending on the scale's tonic (nearest `home`)."""
    tonic = round(home)
    scale = SCALES[str(rng.choice(list(SCALES)))]
    pitches = [
        tonic + 12 * octave + degree
        for octave in (-1, 0, 1)
        for degree in scale
        if abs(tonic + 12 * octave + degree - home) <= span / 2
    ]
    here = pitches.index(tonic)
    walk = []
    for _ in range(count):
        walk.append(pitches[here])
        step = int(rng.choice([-2, -1, 0, 1, 2], p=[0.15, 0.3, 0.1, 0.3, 0.15]))
        if not 0 <= here + step < len(pitches):
            step = -step  # at the edge of the range, the walk bounces back
        here = int(np.clip(here + step, 0, len(pitches) - 1))
    walk[-1] = tonic  # the phrase comes home
    return walk


def layout(
    segments: list[tuple[str, int, int]], new_lengths: dict[int, int], rate: int
) -> tuple[list[tuple[str, int, int]], np.ndarray, np.ndarray]:
    """Place each phoneme in the output: nuclei at their new lengths (samples), the rest
    as spoken. Returns the placed (symbol, start, end) ranges and the time map's knots
    (output sample -> input sample), piecewise linear and increasing."""
    edge = round(EDGE_S * rate)
    placed, out_knots, in_knots = [], [0.0], [0.0]
    cursor = 0
    for i, (symbol, a, b) in enumerate(segments):
        spoken = b - a
        length = new_lengths.get(i, spoken)
        if i in new_lengths:
            # Keep the transitions at the edges at spoken pace; stretch the middle.
            keep = min(edge, spoken // 4, length // 4)
            out_knots += [cursor + keep, cursor + length - keep]
            in_knots += [a + keep, b - keep]
        placed.append((symbol, cursor, cursor + length))
        cursor += length
        out_knots.append(cursor)
        in_knots.append(b)
    return placed, np.array(out_knots, float), np.array(in_knots, float)


def target_midi(
    notes: list[Note], samples: int, rate: int, vibrato_hz: float, vibrato_cents: float
) -> np.ndarray:
    """The sung pitch (MIDI, fractional) at every output sample.

    On a note, its pitch; between notes (over the consonants) a straight glide from one
    to the next. A held note's vibrato fades in from 0.15 to 0.35 s after its start and
    out over its last 80 ms, as a singer settles on the note before it waves."""
    t = np.arange(samples) / rate
    knots = [(time, note.midi) for note in notes for time in (note.start, note.end)]
    midi = np.interp(t, [k[0] for k in knots], [k[1] for k in knots])
    for note in notes:
        if note.end - note.start < HELD_S:
            continue
        a, b = round(note.start * rate), round(note.end * rate)
        since = t[a:b] - note.start
        fade = np.clip((since - 0.15) / 0.2, 0, 1) * np.clip((note.end - t[a:b]) / 0.08, 0, 1)
        wave = np.sin(2 * np.pi * vibrato_hz * np.maximum(since - 0.15, 0))
        midi[a:b] += vibrato_cents / 100 * fade * wave
    return midi


def pitch_marks(x: np.ndarray, rate: int, pitch: Pitch) -> tuple[np.ndarray, np.ndarray]:
    """Grain centres in the input, and which are voiced.

    Where voiced, one mark per pitch period, each snapped to the highest peak (the glottal
    pulse) within 20% of where the period says the next is: a grain centred on its pulse
    keeps that pulse whole when grains are moved. Elsewhere, marks every 5 ms."""
    n = len(x)
    # A voice's pulses point one way (the skew of its waveform says which): snapping to the
    # peaks of that sign keeps every mark at the same point of its period.
    sign = 1.0 if np.sum(x**3) >= 0 else -1.0
    peaks = sign * uniform_filter1d(x, size=max(1, rate // 2000))  # 0.5 ms: past the hiss
    hop = max(1, round(UNVOICED_HOP_S * rate))
    marks, voiced = [0], [False]
    while True:
        last = marks[-1]
        frame = pitch.frame(last)
        if pitch.voiced[frame]:
            period = rate / pitch.hz[frame]
            # Entering a voiced stretch, find its first pulse anywhere in one period.
            low, high = (0.8, 1.2) if voiced[-1] else (0.5, 1.5)
            a, b = last + max(1, int(low * period)), last + int(high * period) + 1
            if b >= n:
                break
            marks.append(a + int(np.argmax(peaks[a:b])))
            voiced.append(True)
        else:
            if last + hop >= n:
                break
            marks.append(last + hop)
            voiced.append(False)
    if marks[-1] < n - 1:
        marks.append(n - 1)
        voiced.append(False)
    return np.array(marks), np.array(voiced)


def overlap_add(
    x: np.ndarray,
    marks: np.ndarray,
    voiced: np.ndarray,
    target: np.ndarray,
    rate: int,
    out_knots: np.ndarray,
    in_knots: np.ndarray,
) -> np.ndarray:
    """TD-PSOLA: grains of `x` (centred on `marks`) added at output marks spaced by the
    `target` pitch (MIDI per output sample) where voiced, and at the time-mapped input
    spacing where not, so unvoiced sound at its spoken pace is copied exactly.

    Where the output falls between two voiced marks, it adds both grains, weighted by how
    near each is: a vowel stretched tenfold repeats each grain ten times, and without the
    blend its loudness would step from grain to grain (a 20 Hz flutter)."""
    samples = len(target)
    pad = int(np.max(np.diff(marks))) + 1
    y = np.zeros(samples + 2 * pad)
    period = rate / midi_to_hz(target)
    t = 0
    while t < samples:
        u = np.interp(t, out_knots, in_knots)  # where the output is in the input
        k = int(np.clip(np.searchsorted(marks, u, side="right") - 1, 1, len(marks) - 3))
        share = float(np.clip((u - marks[k]) / (marks[k + 1] - marks[k]), 0, 1))
        blend = voiced[k] and voiced[k + 1]
        weights = {k: 1 - share, k + 1: share} if blend else {k + (share >= 0.5): 1.0}
        for index, weight in weights.items():
            grain, before = _grain(x, marks, index)
            y[pad + t - before : pad + t - before + len(grain)] += weight * grain
        near = max(weights, key=weights.get)
        spacing = marks[near + 1] - marks[near]
        if voiced[near]:
            step = period[t]
        else:  # the output mark where the next input mark falls, unless stretched
            step = np.interp(marks[near + 1], in_knots, out_knots) - t
            step = step if 1 <= step <= 2 * spacing else spacing
        t += max(1, round(step))
    return y[pad : pad + samples]


def _grain(x: np.ndarray, marks: np.ndarray, k: int) -> tuple[np.ndarray, int]:
    """Grain `k`: `x` from the mark before to the mark after, windowed to rise to one at
    its own mark; and how many samples it starts before that mark."""
    rise = _window(marks[k] - marks[k - 1])
    fall = 1 - _window(marks[k + 1] - marks[k])  # 1 at the mark, falling to the next
    return x[marks[k - 1] : marks[k + 1]] * np.concatenate([rise, fall]), len(rise)


def _window(length: int) -> np.ndarray:
    """A rising half Hann of `length` samples. The grain before falls as 1 minus this, so
    the two sum to one at every sample: grains at their spoken spacing rebuild the input."""
    return 0.5 - 0.5 * np.cos(np.pi * np.arange(length) / max(length, 1))
