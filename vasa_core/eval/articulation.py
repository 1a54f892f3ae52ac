"""Lip-sync judged by articulation at known phoneme times, not by loudness.

A mouth that only follows loudness scores highest on the mouth-loudness correlation while
closing for few p, b and m; so, given the phonemes of the audio and their times (from the
synthesiser, `vasa tts --phonemes`, or a festival segment file), we ask what a viewer sees:
- `bilabial_closed`: the share of p/b/m centres where the lips are closed;
- `bilabial_vs_open`: the mouth opening at p/b/m centres over that at open vowels
  (0: shut at every closure; 1: no difference, the mouth ignores the consonants);
- `rule_correlation`: correlation with the mouth the corpus's viseme rules make from the
  same phonemes (`data.visemes`), over speech;
- `offset_frames`: the lag (> 0: the mouth trails) at which that correlation peaks;
- `stray_closures_per_minute`: how often the lips shut away from every p/b/m and pause
  (the other error of a mouth told to close: a lip-sync that closes at every consonant
  scores well on the first two).
They take a mouth-opening series (face widths, `metrics.mouth_opening`), so they work the
same on generated motion and on motion read back from a video through Face Mesh.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from vasa_core import schema
from vasa_core.data import visemes
from vasa_core.errors import VasaError
from vasa_core.eval.metrics import face_frames, mouth_opening, runs_of
from vasa_core.face.basis import CLOSED_GAP as CLOSED_GAP  # re-exported for eval

Phonemes = list[tuple[str, float, float]]
MAX_LAG = 5
# A closure this near a p/b/m or a pause (frames) is theirs: the lips may shut a little
# early or open a little late.
STRAY_REACH = 1.5


def centre_frames(phonemes: Phonemes, fps: float, frames: int, kind: str) -> list[list[int]]:
    """For each phoneme of `kind` ("bilabial", or an openness such as "open"), the video
    frames that show its centre: the frame holding the centre and, where the phoneme spans
    them, its neighbours (a 25 fps frame is 40 ms, about half a consonant)."""
    out = []
    for symbol, start, end in phonemes:
        if kind not in (visemes.kind(symbol), visemes.openness(symbol)):
            continue
        centre = int((start + end) / 2 * fps)
        near = [f for f in (centre - 1, centre, centre + 1) if start * fps - 1 < f < end * fps]
        near = [f for f in near or [centre] if 0 <= f < frames]
        if near:
            out.append(near)
    return out


def rule_opening(phonemes: Phonemes, fps: float, frames: int) -> np.ndarray:
    """The mouth opening [frames] the corpus's viseme rules give these phonemes."""
    motion = schema.neutral(frames)
    times = (np.arange(frames) + 0.5) / fps
    track = visemes.mouth_track(phonemes, times)
    for column, name in enumerate(schema.MOUTH):
        motion[:, schema.index(name)] = track[:, column]
    return mouth_opening(motion)


def articulation(
    opening: np.ndarray, phonemes: Phonemes, fps: float, valid: np.ndarray | None = None
) -> dict:
    """The articulation figures of a mouth-opening series [T] (see the module doc), and
    the counts behind them for pooling over clips (`vowels_shut` of `vowels`: vowel
    centres of every openness with the lips shut, the counterpart of a p/b/m left open)."""
    frames = len(opening)
    face = face_frames(valid, frames)
    bilabials = [f for f in centre_frames(phonemes, fps, frames, "bilabial") if face[f].all()]
    vowels = [f for f in centre_frames(phonemes, fps, frames, "open") if face[f].all()]
    at_bilabials = np.array([opening[f].min() for f in bilabials])
    at_vowels = np.array([opening[f].max() for f in vowels])
    out = {
        "bilabials": len(bilabials),
        "open_vowels": len(vowels),
        "bilabial_closed": float(np.mean(at_bilabials < CLOSED_GAP)) if len(bilabials) else np.nan,
        "bilabial_vs_open": (
            float(at_bilabials.mean() / at_vowels.mean())
            if len(bilabials) and len(vowels) and at_vowels.mean() > 0
            else np.nan
        ),
    }
    every_vowel = [
        f
        for kind in visemes.OPENNESS
        for f in centre_frames(phonemes, fps, frames, kind)
        if face[f].all()
    ]
    out["vowels"] = len(every_vowel)
    out["vowels_shut"] = int(sum(opening[f].max() < CLOSED_GAP for f in every_vowel))
    out |= stray_closures(opening, phonemes, fps, face)
    return out | _rule_agreement(opening, rule_opening(phonemes, fps, frames), phonemes, fps, face)


def stray_frames(opening: np.ndarray, phonemes: Phonemes, fps: float, face=None) -> np.ndarray:
    """[frames] bool: the lips shut farther than STRAY_REACH frames from every p/b/m and
    pause, on frames with a face."""
    frames = len(opening)
    face = face_frames(face, frames)
    theirs = _frames_in(phonemes, fps, frames, lambda k: k in ("bilabial", "silence"), STRAY_REACH)
    return (opening < CLOSED_GAP) & ~theirs & face


def stray_closures(opening: np.ndarray, phonemes: Phonemes, fps: float, face=None) -> dict:
    """Runs of `stray_frames` over the seconds of speech (frames with a face):
    `stray_closures` (how many), `speech_seconds`, and `stray_closures_per_minute` (NaN
    without speech)."""
    frames = len(opening)
    face = face_frames(face, frames)
    speech = _frames_in(phonemes, fps, frames, _spoken)
    runs = len(runs_of(stray_frames(opening, phonemes, fps, face)))
    seconds = float(np.count_nonzero(speech & face) / fps)
    return {
        "stray_closures": runs,
        "speech_seconds": seconds,
        "stray_closures_per_minute": 60 * runs / seconds if seconds else np.nan,
    }


def _spoken(kind: str) -> bool:
    return kind != "silence"


def _frames_in(
    phonemes: Phonemes, fps: float, frames: int, kinds: Callable[[str], bool], reach: float = 0
) -> np.ndarray:
    """[frames] bool: the frames whose centre lies in a phoneme whose `visemes.kind` passes
    `kinds`, each phoneme widened by `reach` frames either side."""
    times = (np.arange(frames) + 0.5) / fps
    inside = np.zeros(frames, bool)
    for symbol, start, end in phonemes:
        if kinds(visemes.kind(symbol)):
            inside |= (times >= start - reach / fps) & (times < end + reach / fps)
    return inside


def _rule_agreement(opening, rule, phonemes: Phonemes, fps: float, face) -> dict:
    """Correlation with the rule mouth over speech, and the lag where it peaks."""
    used = _frames_in(phonemes, fps, len(opening), _spoken) & face
    if used.sum() < 10 or opening[used].std() < 1e-9:
        return {"rule_correlation": np.nan, "offset_frames": 0}
    scores = {}
    for lag in range(-MAX_LAG, MAX_LAG + 1):
        moved = np.roll(opening, -lag)  # moved[t] = opening[t + lag]: the mouth `lag` later
        ok = (
            used
            & (np.arange(len(opening)) + lag >= 0)
            & (np.arange(len(opening)) + lag < len(opening))
        )
        scores[lag] = float(np.corrcoef(moved[ok], rule[ok])[0, 1]) if ok.sum() > 2 else -np.inf
    return {
        "rule_correlation": scores[0],
        "offset_frames": max(scores, key=scores.get),
    }


def pooled_strays(rows: list[dict]) -> float:
    """Stray closures per minute of speech over the `articulation` rows of many clips."""
    seconds = sum(row["speech_seconds"] for row in rows)
    return 60 * sum(row["stray_closures"] for row in rows) / seconds if seconds else np.nan


def pooled_closure(rows: list[dict]) -> tuple[float, int]:
    """(share of p/b/m centres with the lips closed, how many centres) over the
    `articulation` rows of many clips, each centre counting once (a clip with none adds
    nothing, rather than a NaN)."""
    count = np.array([row["bilabials"] for row in rows], dtype=float)
    closed = (count * np.nan_to_num([row["bilabial_closed"] for row in rows])).sum()
    return float(closed / max(count.sum(), 1)), int(count.sum())


HELD_NOTE_S = 0.5  # notes at least this long count as held
NOTE_ONSET_S = 0.08  # the opening a note starts with is read this far into it


def held_notes(opening: np.ndarray, notes: list, fps: float) -> dict:
    """Does the mouth stay open through held notes? For each note of at least HELD_NOTE_S
    ([start_s, end_s, midi], as a sung corpus clip records them), the opening at its middle
    over that NOTE_ONSET_S in: `held` is the share of notes where it is at least 0.6."""
    ratios = []
    for start, end, _ in notes:
        if end - start < HELD_NOTE_S:
            continue
        onset = min(int((start + NOTE_ONSET_S) * fps), len(opening) - 1)
        middle = min(int((start + end) / 2 * fps), len(opening) - 1)
        if opening[onset] > 1e-3:
            ratios.append(opening[middle] / opening[onset])
    ratios = np.array(ratios)
    return {
        "held_notes": len(ratios),
        "held": float((ratios >= 0.6).mean()) if len(ratios) else np.nan,
    }


def read_phonemes(path: str | os.PathLike) -> Phonemes:
    """Timed phonemes from `vasa tts --phonemes` JSON ([{symbol, start, end}, ...])."""
    path = Path(path)
    if not path.is_file():
        raise VasaError(f"{path}: no such phoneme file")
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
        phonemes = [(str(r["symbol"]), float(r["start"]), float(r["end"])) for r in rows]
    except (ValueError, KeyError, TypeError):
        raise VasaError(
            f"{path}: not a phoneme file (expected the JSON of vasa tts --phonemes)"
        ) from None
    if not phonemes or any(not (0 <= a <= b) for _, a, b in phonemes):
        raise VasaError(f"{path}: phoneme times must be 0 <= start <= end, and there must be some")
    return phonemes
