"""The figure of `vasa eval --plot`: mouth opening against loudness with the
cross-correlation, head pose, blinks and gaze over time; frames without a face shaded grey.
One function a panel, all on one time axis."""

from __future__ import annotations

import math

import numpy as np

from vasa_core import schema
from vasa_core.audio.features import SILENCE_DB
from vasa_core.eval import metrics


def plot_evaluation(evaluation):
    """A matplotlib Figure of a `VideoEvaluation`."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 10), layout="constrained")
    grid = fig.add_gridspec(4, 2, width_ratios=[4, 1], height_ratios=[1.4, 1, 0.8, 0.8])
    mouth = fig.add_subplot(grid[0, 0])
    pose = fig.add_subplot(grid[1, 0], sharex=mouth)
    eyes = fig.add_subplot(grid[2, 0], sharex=mouth)
    look = fig.add_subplot(grid[3, 0], sharex=mouth)
    fig.suptitle(f"vasa eval: {evaluation.video} (sound: {evaluation.audio})", fontsize=12)
    for axis in (mouth, pose, eyes, look):
        _shade(axis, ~evaluation.valid, evaluation.fps, "0.5", 0.35, "no face")
    _mouth_panel(mouth, evaluation)
    _offset_panel(fig.add_subplot(grid[0, 1]), evaluation)
    _pose_panel(pose, evaluation)
    _eyes_panel(eyes, evaluation)
    _gaze_panel(look, evaluation)
    for axis in (mouth, pose, eyes):
        axis.tick_params(labelbottom=False)
    mouth.set_xlim(0, evaluation.frames / evaluation.fps)
    return fig


def _times(evaluation) -> np.ndarray:
    return (np.arange(evaluation.frames) + 0.5) / evaluation.fps


def _channel(evaluation, name: str) -> np.ndarray:
    """One motion channel, blank where there was no face."""
    return np.where(evaluation.valid, evaluation.motion[:, schema.index(name)], np.nan)


def _shade(axis, flags: np.ndarray, fps: float, colour, alpha: float, label=None) -> None:
    """Shade the runs of frames where `flags` is set."""
    for k, (start, end) in enumerate(metrics.runs_of(flags)):
        axis.axvspan(
            start / fps, end / fps, color=colour, alpha=alpha, lw=0, label=label if k == 0 else None
        )


def _mouth_panel(mouth, evaluation) -> None:
    t, face, features, f = (
        _times(evaluation),
        evaluation.valid,
        evaluation.features,
        evaluation.figures,
    )
    _shade(mouth, features.speech, evaluation.fps, "tab:blue", 0.08, "speech")
    opening = metrics.mouth_opening(evaluation.motion)
    mouth.plot(t, np.where(face, opening, np.nan), color="tab:red", label="mouth opening")
    mouth.set_ylim(0, 1.3 * max(float(opening[face].max(initial=0.0)), 0.02))  # room: legend
    mouth.set_ylabel("mouth opening (face widths)", color="tab:red")
    loud = mouth.twinx()
    loud.plot(t, features.loudness, color="tab:blue", lw=1, label="loudness")
    loud.set_ylabel("loudness (dBFS)", color="tab:blue")
    low = max(SILENCE_DB, float(features.loudness.min()) - 3)
    high = float(features.loudness.max())
    loud.set_ylim(low, high + 0.3 * (high - low) + 1)
    r = "n/a" if not math.isfinite(f["lip_sync_correlation"]) else (
        f"{f['lip_sync_correlation']:+.2f}"
    )  # fmt: skip
    mouth.set_title(
        f"lip-sync: mouth opening vs loudness, r = {r} over speech frames, "
        f"offset {f['av_offset_frames']:+d} frames ({f['av_offset_ms']:+.0f} ms)",
        fontsize=10,
    )
    handles = [h for a in (mouth, loud) for h in a.get_legend_handles_labels()[0]]
    mouth.legend(handles=handles, loc="upper right", fontsize=8, ncol=4)


def _offset_panel(lag_axis, evaluation) -> None:
    sync = evaluation.sync
    if sync["scores"] is not None:
        lag_axis.plot(sync["lags"], sync["scores"], "o-", color="tab:purple")
        lag_axis.axvline(evaluation.figures["av_offset_frames"], color="k", ls="--", lw=1)
    lag_axis.axvline(0, color="0.6", lw=0.8)
    lag_axis.set_title("audio-visual offset\n(> 0: the mouth trails)", fontsize=10)
    lag_axis.set_xlabel("lag (frames)")
    lag_axis.set_ylabel("cross-correlation")


def _pose_panel(pose, evaluation) -> None:
    f = evaluation.figures
    for name in ("yaw", "pitch", "roll"):
        pose.plot(_times(evaluation), _channel(evaluation, name), label=name)
    pose.set_ylabel("head pose (degrees)")
    pose.set_title(
        f"head: ΔP = {f['delta_p']:.2f}° per frame, pose std = {f['pose_std']:.2f}°",
        fontsize=10,
    )
    pose.legend(loc="upper right", fontsize=8, ncol=3)


def _eyes_panel(eyes, evaluation) -> None:
    for name, colour in (("blink_left", "k"), ("blink_right", "0.55")):
        eyes.plot(_times(evaluation), _channel(evaluation, name), color=colour, label=name)
    eyes.axhline(0.5, color="tab:orange", ls="--", lw=1, label="blink threshold")
    eyes.set_ylim(-0.05, 1.05)
    eyes.set_ylabel("eyelids (0 open, 1 shut)")
    per_minute = evaluation.figures["blinks_per_minute"]
    eyes.set_title(f"blinks: {per_minute:.1f} per minute", fontsize=10)
    eyes.legend(loc="upper right", fontsize=8, ncol=3)


def _gaze_panel(look, evaluation) -> None:
    f = evaluation.figures
    for name in ("gaze_yaw", "gaze_pitch"):
        look.plot(_times(evaluation), _channel(evaluation, name), label=name)
    look.set_ylabel("gaze (degrees)")
    look.set_title(
        f"gaze, relative to the head: mean yaw {f['gaze_yaw']:+.1f}°, "
        f"pitch {f['gaze_pitch']:+.1f}°, spread {f['gaze_std']:.1f}°",
        fontsize=10,
    )
    look.set_xlabel("time (seconds)")
    look.legend(loc="upper right", fontsize=8, ncol=2)
