"""Motion that goes with speech: the synthetic half of every corpus pair.

Given timed phonemes, the audio's features and the controls, make a motion [T, DIM]:
- mouth: phonemes -> visemes -> coarticulated mouth channels (visemes.py);
- head: smooth random motion whose energy follows the voice (louder, more motion; slower
  in pauses), with a nod on each stressed syllable, scaled by the motion control;
- eyes: blinks at 10-25 a minute, of natural lengths, likelier in pauses; fixations and
  quick saccades around the main gaze direction;
- controls: distance sets the head's scale; the emotion shifts its named dynamics (happy:
  smile and raised brows; sad: inner brows up, corners down, head lowered; angry: brows
  down and together, lips pressed; surprised: brows up, jaw a little open) and the energy.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from vasa_core import schema
from vasa_core.audio.features import AudioFeatures
from vasa_core.data import visemes
from vasa_core.motion.baseline import blinks
from vasa_core.motion.controls import Controls

EMOTION_SHIFT = {  # dynamics offsets at intensity 1
    "neutral": {},
    "happy": {"smile": 0.6, "brow_raise": 0.15},
    "sad": {"brow_inner_up": 0.5, "frown": 0.4},
    "angry": {"brow_frown": 0.6, "lip_press": 0.3},
    "surprised": {"brow_raise": 0.7, "jaw_open": 0.1},
}
EMOTION_ENERGY = {"neutral": 0.0, "happy": 0.3, "sad": -0.4, "angry": 0.2, "surprised": 0.2}
HEAD_STD = {"yaw": 3.5, "pitch": 2.0, "roll": 1.5, "tx": 0.012, "ty": 0.008}


def _smooth_noise(rng, frames: int, fps: float, seconds: float) -> np.ndarray:
    """Unit-variance noise, low-passed with a Gaussian of `seconds` standard deviation."""
    noise = gaussian_filter1d(rng.standard_normal(frames + 200), sigma=seconds * fps)[100:-100]
    return noise / (noise.std() + 1e-9)


def energy(features: AudioFeatures) -> np.ndarray:
    """How lively the head is, frame by frame: 0.3 in silence up to about 1.3 when loud."""
    loud = np.clip((features.loudness + 45.0) / 30.0, 0, 1) * features.speech
    return 0.3 + gaussian_filter1d(loud.astype(np.float64), sigma=0.25 * features.fps)


def synthesize_motion(
    phonemes: list[tuple[str, float, float]],
    features: AudioFeatures,
    controls: Controls,
    rng: np.random.Generator,
) -> np.ndarray:
    fps, frames = features.fps, features.frames
    times = (np.arange(frames) + 0.5) / fps
    motion = schema.neutral(frames).astype(np.float64)
    col = schema.index

    for name, track in zip(visemes.MOUTH, visemes.mouth_track(phonemes, times).T, strict=True):
        motion[:, col(name)] = track

    shift = EMOTION_SHIFT[controls.emotion]
    # One random stream per part, so that one part drawing more (a clip a frame longer)
    # does not shift what the others draw.
    drift_rng, nod_rng, scale_rng, blink_rng, gaze_rng, *head_rngs = rng.spawn(5 + len(HEAD_STD))
    drift = 1 + 0.15 * _smooth_noise(drift_rng, frames, fps, 1.5)  # expressions breathe a little
    free = visemes.lips_free(phonemes, times)
    opening = {visemes.MOUTH[c] for c in visemes.OPENING}
    for name, amount in shift.items():
        held = free if name in opening else 1.0  # a surprised "b" still closes the lips
        motion[:, col(name)] += amount * controls.intensity * drift * held

    lively = energy(features) * controls.motion
    lively *= 1 + EMOTION_ENERGY[controls.emotion] * controls.intensity
    for name, std in HEAD_STD.items():
        head_rng = head_rngs[list(HEAD_STD).index(name)]
        motion[:, col(name)] = std * lively * _smooth_noise(head_rng, frames, fps, 0.35)
    motion[:, col("pitch")] += _nods(phonemes, features, times, nod_rng) * controls.motion
    if controls.emotion == "sad":
        motion[:, col("pitch")] -= 4.0 * controls.intensity
    motion[:, col("scale")] = controls.distance * (
        1 + 0.01 * lively * _smooth_noise(scale_rng, frames, fps, 1.0)
    )

    blink = blinks(features, blink_rng)
    motion[:, col("blink_left")] = blink
    motion[:, col("blink_right")] = blink
    gaze_yaw, gaze_pitch = _gaze(frames, fps, controls, gaze_rng)
    motion[:, col("gaze_yaw")] = gaze_yaw
    motion[:, col("gaze_pitch")] = gaze_pitch
    return np.clip(motion, schema.LOW, schema.HIGH).astype(np.float32)


def _nods(phonemes, features: AudioFeatures, times: np.ndarray, rng) -> np.ndarray:
    """A small downward nod (2-4 degrees) peaking 150 ms after each stressed syllable."""
    out = np.zeros(len(times))
    for symbol, start, _ in phonemes:
        if "ˈ" not in symbol:
            continue
        frame = min(int(start * features.fps), features.frames - 1)
        size = (2.0 + 2.0 * rng.random()) * np.clip((features.loudness[frame] + 45) / 30, 0.3, 1)
        lag = times - start - 0.15
        out -= size * np.exp(-0.5 * (lag / 0.12) ** 2)
    return out


def _gaze(frames: int, fps: float, controls: Controls, rng) -> tuple[np.ndarray, np.ndarray]:
    """Fixations of 0.5-2.5 s around the main direction, joined by quick saccades."""
    yaw, pitch = np.zeros(frames), np.zeros(frames)
    t = 0
    here = np.array([controls.gaze_yaw, controls.gaze_pitch])
    while t < frames:
        hold = int(rng.uniform(0.5, 2.5) * fps)
        nxt = np.array([controls.gaze_yaw, controls.gaze_pitch]) + rng.normal(0, [4.0, 2.5])
        yaw[t : t + hold], pitch[t : t + hold] = nxt
        if t > 0:  # a saccade takes about one frame: it is half-way there at the first
            yaw[t], pitch[t] = (here + nxt) / 2
        here = nxt
        t += hold
    return yaw, pitch
