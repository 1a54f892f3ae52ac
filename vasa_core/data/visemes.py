"""Phonemes to mouth shapes, with coarticulation: how the lips and jaw move through speech.

Each phoneme (espeak-ng's IPA) gets a target for the mouth channels of the motion schema,
from its place of articulation: bilabials (p b m) close the lips, labiodentals (f v) tuck
the lower lip under the teeth, rounded vowels round the lips, and the jaw follows each
vowel's openness. Targets are blended over time Cohen-Massaro style: every phoneme pulls
the mouth towards its target with a dominance that decays with distance from its centre,
D(t) = a * exp(-|t - c| / tau). Rounding reaches about 100 ms ahead of a rounded vowel;
bilabials additionally force a full closure at their centre.
"""

from __future__ import annotations

import numpy as np

from vasa_core.schema import BILABIAL_PRESS, LIP_PARTING, MOUTH

_J, _R, _W, _P, _T, _U, _D = range(len(MOUTH))

BILABIAL = set("pbmɓʙ")
LABIODENTAL = set("fvʋɱ")
OPEN = set("aɑæɐɒ")
OPEN_MID = set("ɛɔœʌɜ")
MID = set("eəøoɘɵɤ")
CLOSE = set("iyɪʏuʊɯɨʉ")
ROUNDED = set("oɔuʊyʏøœɒɵʉw")
SPREAD = set("iɪeɛæ")
VOWELS = OPEN | OPEN_MID | MID | CLOSE
OPENNESS = ("open", "open-mid", "mid", "close")  # what `openness` names, widest first
_STRIP = "ˈˌːˑ̩̯̃̆̊ʲʷ"


def base(symbol: str) -> str:
    """The phoneme without stress, length and diacritic marks."""
    return "".join(ch for ch in symbol if ch not in _STRIP)


def kind(symbol: str) -> str:
    """'silence', 'bilabial', 'labiodental', 'vowel' or 'consonant'."""
    core = base(symbol)
    if not core or core == "_":
        return "silence"
    first = core[0]
    if first in BILABIAL:
        return "bilabial"
    if first in LABIODENTAL:
        return "labiodental"
    return "vowel" if first in VOWELS else "consonant"


def openness(symbol: str) -> str | None:
    """'open', 'open-mid', 'mid' or 'close' for vowels, else None."""
    first = next((ch for ch in base(symbol) if ch in VOWELS), None)
    for name, group in zip(OPENNESS, (OPEN, OPEN_MID, MID, CLOSE), strict=True):
        if first in group:
            return name
    return None


def target(symbol: str) -> np.ndarray:
    """Mouth channel targets [7] for one phoneme."""
    t = np.zeros(len(MOUTH), np.float32)
    core = base(symbol)
    kind_ = kind(symbol)
    if kind_ == "silence":
        return t
    if kind_ == "bilabial":
        t[_P] = BILABIAL_PRESS
        return t
    if kind_ == "labiodental":
        t[_T], t[_J] = 0.9, 0.08
        return t
    if kind_ == "vowel":
        jaw = {"open": 0.62, "open-mid": 0.45, "mid": 0.32, "close": 0.15}[openness(symbol)]
        t[_J] = jaw
        first = next(ch for ch in core if ch in VOWELS)
        if first in ROUNDED:
            t[_R] = 0.75 if first in "uʊyʏʉ" else 0.55
        if first in SPREAD:
            t[_W] = 0.4
        if first in OPEN:
            t[_D] = 0.25
        return t
    first = core[0]
    if first in "θð":
        t[_J], t[_W] = 0.12, 0.1
    elif core in ("tʃ", "dʒ") or first in "ʃʒ":
        t[_J], t[_R], t[_U] = 0.12, 0.5, 0.2
    elif first in "sz":
        t[_J], t[_W] = 0.08, 0.3
    elif first in "kgŋxɣqɢ":
        t[_J] = 0.2
    elif first == "w":
        t[_J], t[_R] = 0.1, 0.8
    elif first == "j":
        t[_J], t[_W] = 0.1, 0.3
    elif first in "hɦʔ":
        t[_J] = 0.22
    else:  # alveolars and the rest: t d n l r ɹ ɾ ...
        t[_J], t[_W] = 0.14, 0.1
    return t


def mouth_track(phonemes: list[tuple[str, float, float]], times: np.ndarray) -> np.ndarray:
    """Mouth channels [len(times), 7] at the given times (seconds) for timed phonemes."""
    if not phonemes:
        return np.zeros((len(times), len(MOUTH)), np.float32)
    symbols = [p[0] for p in phonemes]
    starts = np.array([p[1] for p in phonemes])
    ends = np.array([p[2] for p in phonemes])
    centres = (starts + ends) / 2
    targets = np.stack([target(s) for s in symbols])  # [K, 7]
    kinds = [kind(s) for s in symbols]
    strength = np.array([{"silence": 1.5, "vowel": 1.0}.get(k, 1.2) for k in kinds])
    # How far each phoneme's pull reaches (seconds): consonants are quick, vowels slower.
    reach = np.array([{"silence": 0.05, "vowel": 0.06}.get(k, 0.035) for k in kinds])
    dt = times[:, None] - centres[None, :]  # [T, K]: > 0 after the centre
    # A pause holds the mouth at rest all through, not just at its middle, and so does a
    # long vowel (a sung note) hold its shape: their pull is measured from their edges, 60 ms
    # in (so the mouth moves on as they end). Spoken vowels are too short for this to matter.
    held = np.isin(kinds, ("silence", "vowel"))
    hold = np.where(held, np.maximum(0.5 * (ends - starts) - 0.06, 0), 0)
    distance = np.maximum(np.abs(dt) - hold[None, :], 0)
    dominance = strength[None, :, None] * np.exp(-distance[..., None] / reach[None, :, None])
    dominance = np.repeat(dominance, len(MOUTH), axis=2)  # [T, K, 7]
    # Lips round ahead of a rounded vowel: its rounding pulls from 100 ms before its centre.
    early = np.exp(-np.abs(dt) / 0.1) * strength[None, :]
    rounded = targets[:, _R] > 0
    dominance[:, rounded, _R] = np.where(
        dt[:, rounded] < 0, early[:, rounded], dominance[:, rounded, _R]
    )
    mouth = (dominance * targets[None]).sum(axis=1) / dominance.sum(axis=1)
    # Bilabials close the lips fully at their centre, whatever their neighbours want.
    gate = lips_free(phonemes, times)
    for channel in OPENING:
        mouth[:, channel] *= gate
    mouth[:, _P] = np.maximum(mouth[:, _P], BILABIAL_PRESS * (1 - gate))
    return np.clip(mouth, 0, 1).astype(np.float32)


OPENING = tuple(MOUTH.index(name) for name in LIP_PARTING)  # channels that part the lips


def lips_free(phonemes: list[tuple[str, float, float]], times: np.ndarray) -> np.ndarray:
    """[len(times)] 0 where a bilabial holds the lips shut, 1 where they may move."""
    gate = np.ones(len(times))
    for symbol, start, end in phonemes:
        if kind(symbol) == "bilabial":
            closed = max(0.35 * (end - start), 0.025)  # covers the nearest video frame
            here = np.clip((np.abs(times - (start + end) / 2) - closed) / 0.03, 0, 1) ** 2
            gate = np.minimum(gate, here)
    return gate
