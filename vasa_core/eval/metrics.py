"""Weight-free metrics of a talking motion, the kind VASA-1's evaluation and THEval use.

All take a motion [T, DIM] (the schema's channels) and, where needed, audio features of the
same frames. Mouth opening is the rig's inner-lip gap of the neutral template (face widths),
so every mouth channel that parts the lips counts, not jaw_open alone.
"""

from __future__ import annotations

import numpy as np

from vasa_core.audio.features import AudioFeatures
from vasa_core.motion import schema


def mouth_opening(motion: np.ndarray) -> np.ndarray:
    """Inner-lip gap [T] of the neutral face under each frame's dynamics (face widths)."""
    from vasa_core.face import rig

    r = rig.load_rig()
    linear = motion[:, schema.DYNAMICS][:, : len(rig.LINEAR)]
    gap_basis = r.basis[:, 13, 1] - r.basis[:, 14, 1]  # upper minus lower inner lip, per channel
    return np.clip(linear @ gap_basis, 0, None)


def lip_sync(motion: np.ndarray, features: AudioFeatures, max_lag: int = 5) -> dict:
    """Correlation of mouth opening with loudness over speech frames, and the lag (frames,
    > 0 when the mouth trails the audio) of their cross-correlation peak within ±max_lag."""
    opening = mouth_opening(motion)
    loud = features.loudness[: len(opening)]
    speech = features.speech[: len(opening)]
    if speech.sum() < 10:
        return {"correlation": float("nan"), "offset": 0}
    corr = float(np.corrcoef(opening[speech], loud[speech])[0, 1])
    a = (opening - opening[speech].mean()) / (opening[speech].std() + 1e-9)
    b = (loud - loud[speech].mean()) / (loud[speech].std() + 1e-9)
    lags = range(-max_lag, max_lag + 1)
    scores = [np.mean((a * np.roll(b, lag))[speech & np.roll(speech, lag)]) for lag in lags]
    return {"correlation": corr, "offset": int(list(lags)[int(np.argmax(scores))])}


def silent_lip_stability(motion: np.ndarray, speech: np.ndarray, fps: float) -> float:
    """Mean standard deviation of mouth opening in pauses of 300 ms or more (face widths)."""
    opening = mouth_opening(motion)
    spreads, run = [], []
    for i, talking in enumerate(list(speech[: len(opening)]) + [True]):
        if not talking and i < len(opening):
            run.append(opening[i])
        else:
            if len(run) >= 0.3 * fps:
                spreads.append(np.std(run))
            run = []
    return float(np.mean(spreads)) if spreads else 0.0


def head_motion(motion: np.ndarray) -> dict:
    """ΔP: mean absolute frame-to-frame change of yaw/pitch/roll (degrees); pose std."""
    pose = motion[:, :3]
    return {
        "delta_p": float(np.abs(np.diff(pose, axis=0)).mean()),
        "pose_std": float(pose.std(axis=0).mean()),
    }


def blink_rate(motion: np.ndarray, fps: float) -> float:
    """Blinks per minute (eyes passing half closed)."""
    shut = motion[:, schema.index("blink_left")] > 0.5
    return float(np.sum(shut[1:] & ~shut[:-1]) / (len(motion) / fps / 60))


def summary(motion: np.ndarray, features: AudioFeatures) -> dict:
    out = lip_sync(motion, features)
    out = {"lip_sync_correlation": out["correlation"], "av_offset_frames": out["offset"]}
    out["silent_lip_stability"] = silent_lip_stability(motion, features.speech, features.fps)
    out |= head_motion(motion)
    out["blinks_per_minute"] = blink_rate(motion, features.fps)
    return out
