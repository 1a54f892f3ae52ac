"""Weight-free metrics of a talking motion, the kind VASA-1's evaluation and THEval use.

All take a motion [T, DIM] (the schema's channels) and, where needed, audio features of the
same frames. Mouth opening is the rig's inner-lip gap of the neutral template (face widths),
so every mouth channel that parts the lips counts, not jaw_open alone.

A motion measured from a video (`vasa_core.eval.video`) may have frames without a face:
pass `valid` [T] (False there) and those frames are left out of every figure.
"""

from __future__ import annotations

import numpy as np

from vasa_core import schema
from vasa_core.audio.features import AudioFeatures
from vasa_core.face.basis import mouth_opening as mouth_opening  # re-exported for eval

MIN_SPEECH_FRAMES = 10  # fewer speech frames with a face: no lip-sync figures


def face_frames(valid: np.ndarray | None, frames: int) -> np.ndarray:
    """[frames] bool: the frames with a face, every one where `valid` is None."""
    if valid is None:
        return np.ones(frames, bool)
    return np.asarray(valid, bool)[:frames]


def runs_of(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, past-the-last) frame of each run of True in `mask`."""
    edges = np.diff(np.concatenate([[0], np.asarray(mask, np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()
    return list(zip(starts, ends, strict=True))


def _lagged(a: np.ndarray, b: np.ndarray, ok_a: np.ndarray, ok_b: np.ndarray, lag: int) -> float:
    """Mean of a[t] * b[t - lag] over the t where ok_a[t] and ok_b[t - lag] (no wrap-around)."""
    n = len(a)
    ia, ib = (slice(lag, n), slice(0, n - lag)) if lag >= 0 else (slice(0, n + lag), slice(-lag, n))
    both = ok_a[ia] & ok_b[ib]
    return float(np.mean(a[ia][both] * b[ib][both])) if both.any() else -np.inf


def lip_sync(
    motion: np.ndarray, features: AudioFeatures, max_lag: int = 5, valid: np.ndarray | None = None
) -> dict:
    """Correlation of mouth opening with loudness over speech frames, and the lag (frames,
    > 0 when the mouth trails the audio) of their cross-correlation peak within ±max_lag.

    Also `lags` and `scores`, the cross-correlation at each lag (for plots). With fewer than
    MIN_SPEECH_FRAMES speech frames the correlation is NaN; a mouth that does not move at
    all has correlation 0 and offset 0.
    """
    frames = min(len(motion), features.frames)
    opening = mouth_opening(motion[:frames])
    loud = features.loudness[:frames]
    speech = features.speech[:frames]
    face = face_frames(valid, frames)
    used = speech & face
    lags = list(range(-max_lag, max_lag + 1))
    if used.sum() < MIN_SPEECH_FRAMES:
        return {"correlation": float("nan"), "offset": 0, "lags": lags, "scores": None}
    if opening[used].std() < 1e-9 or loud[used].std() < 1e-9:
        return {"correlation": 0.0, "offset": 0, "lags": lags, "scores": [0.0] * len(lags)}
    corr = float(np.corrcoef(opening[used], loud[used])[0, 1])
    a = (opening - opening[used].mean()) / opening[used].std()
    b = (loud - loud[speech].mean()) / (loud[speech].std() + 1e-9)
    scores = [_lagged(a, b, used, speech, lag) for lag in lags]
    return {
        "correlation": corr,
        "offset": lags[int(np.argmax(scores))],
        "lags": lags,
        "scores": scores,
    }


def silent_lip_stability(
    motion: np.ndarray, speech: np.ndarray, fps: float, valid: np.ndarray | None = None
) -> float:
    """Mean standard deviation of mouth opening in pauses of 300 ms or more (face widths)."""
    frames = min(len(motion), len(speech))
    opening = mouth_opening(motion[:frames])
    quiet = ~np.asarray(speech[:frames], bool) & face_frames(valid, frames)
    spreads, run = [], []
    for i, still in enumerate(list(quiet) + [False]):
        if still:
            run.append(opening[i])
        else:
            if len(run) >= 0.3 * fps:
                spreads.append(np.std(run))
            run = []
    return float(np.mean(spreads)) if spreads else 0.0


def head_motion(motion: np.ndarray, valid: np.ndarray | None = None) -> dict:
    """ΔP: mean absolute frame-to-frame change of yaw/pitch/roll (degrees); pose std."""
    pose = motion[:, :3]
    face = face_frames(valid, len(pose))
    steps = np.abs(np.diff(pose, axis=0))[face[1:] & face[:-1]]
    return {
        "delta_p": float(steps.mean()) if len(steps) else 0.0,
        "pose_std": float(pose[face].std(axis=0).mean()) if face.any() else 0.0,
    }


HALF_SHUT = 0.5  # a blink is where the lid passes half closed, and lasts while it stays so


def blink_rate(motion: np.ndarray, fps: float, valid: np.ndarray | None = None) -> float:
    """Blinks per minute (eyes passing half closed)."""
    face = face_frames(valid, len(motion))
    shut = motion[:, schema.index("blink_left")] > HALF_SHUT
    onsets = shut[1:] & ~shut[:-1] & face[1:] & face[:-1]
    minutes = face.sum() / fps / 60
    return float(onsets.sum() / minutes) if minutes > 0 else 0.0


def blink_shapes(motion: np.ndarray, fps: float) -> np.ndarray:
    """[N, 2]: each whole blink's peak closure (the two lids' mean) and how long, in
    seconds, it stays past half closed (the full width at half maximum). A blink already
    shut at the first frame or still shut at the last is cut by the clip and left out."""
    lids = motion[:, [schema.index("blink_left"), schema.index("blink_right")]].mean(axis=1)
    whole = [(a, b) for a, b in runs_of(lids > HALF_SHUT) if a > 0 and b < len(lids)]
    return np.array([(lids[a:b].max(), (b - a) / fps) for a, b in whole]).reshape(-1, 2)


def gaze(motion: np.ndarray, valid: np.ndarray | None = None) -> dict:
    """Mean gaze direction (degrees, relative to the head) and its spread (degrees)."""
    face = face_frames(valid, len(motion))
    angles = motion[face][:, [schema.index("gaze_yaw"), schema.index("gaze_pitch")]]
    if not len(angles):
        return {"gaze_yaw": 0.0, "gaze_pitch": 0.0, "gaze_std": 0.0}
    return {
        "gaze_yaw": float(angles[:, 0].mean()),
        "gaze_pitch": float(angles[:, 1].mean()),
        "gaze_std": float(angles.std(axis=0).mean()),
    }


def summary(motion: np.ndarray, features: AudioFeatures, valid: np.ndarray | None = None) -> dict:
    out = lip_sync(motion, features, valid=valid)
    out = {"lip_sync_correlation": out["correlation"], "av_offset_frames": out["offset"]}
    out["silent_lip_stability"] = silent_lip_stability(motion, features.speech, features.fps, valid)
    out |= head_motion(motion, valid)
    out["blinks_per_minute"] = blink_rate(motion, features.fps, valid)
    return out
