"""Any talking-face video, ours or anyone's, measured: lip-sync, head motion, blinks, gaze.

    vasa eval talk.mp4 [--audio voice.wav] [--json] [--plot talk.png]

The frames go through `vasa_core.face.track.track_video` (Face Mesh on every frame, the
motion encoded against the calmest frame's identity, frames without a face marked invalid);
the sound, the video's own or `--audio`, becomes features on the video's own frame clock;
`metrics` then measures, over the frames with a face:

- lip-sync: correlation of mouth opening (inner-lip gap, face widths) with loudness (dBFS)
  over speech frames, and the audio-visual offset, the lag of their cross-correlation peak
  within ±5 frames (> 0: the mouth trails the voice);
- silent-lip stability: std of mouth opening in pauses of 0.3 s or more (0 = still lips);
- ΔP, the mean change of yaw/pitch/roll per frame, and the pose std (degrees);
- blinks per minute, and the gaze (mean direction relative to the head, and its spread).

Frame i covers [i / fps, (i + 1) / fps) of the sound, as in `vasa_core.audio.features`.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vasa_core.audio import RATE, AudioFeatures, compute_features, load_audio
from vasa_core.audio.features import SILENCE_DB
from vasa_core.errors import VasaError
from vasa_core.eval import metrics
from vasa_core.eval.articulation import articulation
from vasa_core.files import check_input, check_output
from vasa_core.media import check_video

MAX_LAG = 5  # frames searched either side for the audio-visual offset
MIN_FRAMES = 10  # fewer frames than this is a still picture, not a video to measure
ANNOUNCE_SECONDS = 30.0  # longer videos get a line saying that Face Mesh is at work

UNITS = {
    "lip_sync_correlation": "Pearson r, -1..1",
    "av_offset_frames": "frames, > 0: the mouth trails the voice",
    "av_offset_ms": "milliseconds",
    "silent_lip_stability": "face widths (std of mouth opening in pauses >= 0.3 s)",
    "delta_p": "degrees per frame (mean |change| of yaw, pitch, roll)",
    "pose_std": "degrees (mean over yaw, pitch, roll)",
    "blinks_per_minute": "blinks per minute",
    "gaze_yaw": "degrees, mean, relative to the head (> 0: towards the viewer's right)",
    "gaze_pitch": "degrees, mean, relative to the head (> 0: up)",
    "gaze_std": "degrees (mean over yaw and pitch)",
}
# Measured only when the phonemes of the sound and their times are given.
ARTICULATION_UNITS = {
    "bilabials": "p/b/m centres measured",
    "bilabial_closed": "share of p/b/m centres with the lips closed, 0..1",
    "bilabial_vs_open": "mouth opening at p/b/m over that at open vowels (0: shut)",
    "rule_correlation": "Pearson r with the viseme rules' mouth for the phonemes",
    "stray_closures_per_minute": "lips shut away from every p/b/m and pause, per minute of speech",
    "phoneme_offset_frames": "frames, > 0: the mouth trails the phonemes",
}


@dataclass
class VideoEvaluation:
    """What `evaluate_video` measured: the figures, and the curves behind them."""

    video: str
    audio: str
    fps: float
    motion: np.ndarray  # [T, DIM] measured by Face Mesh (faceless frames: nearest face)
    valid: np.ndarray  # [T] bool, a face was found
    features: AudioFeatures  # [T] on the video's frames (silence past the sound's end)
    sync: dict  # metrics.lip_sync: correlation, offset, lags, scores
    figures: dict
    notes: list[str] = field(default_factory=list)

    @property
    def frames(self) -> int:
        return len(self.motion)

    def as_dict(self) -> dict:
        """The report as JSON-ready values (a figure that cannot be measured is None)."""

        def clean(value):
            if isinstance(value, float):
                return None if not math.isfinite(value) else round(value, 4)
            return value

        return {
            "video": self.video,
            "audio": self.audio,
            "fps": self.fps,
            "frames": self.frames,
            "seconds": round(self.frames / self.fps, 3),
            "faceless_frames": int((~self.valid).sum()),
            "speech_frames": int((self.features.speech & self.valid).sum()),
            **{key: clean(value) for key, value in self.figures.items()},
            "units": UNITS | {k: v for k, v in ARTICULATION_UNITS.items() if k in self.figures},
            "notes": self.notes,
        }

    def table(self) -> str:
        """The report as a readable table."""
        d = self.as_dict()

        def number(key, fmt, unit=""):
            return "n/a" if d[key] is None else f"{d[key]:{fmt}}{unit}"

        rows = [
            ("lip-sync", "mouth opening vs loudness, r", number("lip_sync_correlation", "+.2f"),
             "speech frames; 1 = perfect, 0 = none"),
            ("", "audio-visual offset", f"{d['av_offset_frames']:+d} frames",
             f"{d['av_offset_ms']:+.0f} ms; > 0: the mouth trails the voice"),
            ("", "silent-lip stability", number("silent_lip_stability", ".4f"),
             "face widths, std in pauses >= 0.3 s; 0 = still"),
            ("head", "ΔP, pose change per frame", number("delta_p", ".2f", "°"),
             "mean |change| of yaw, pitch, roll"),
            ("", "pose std", number("pose_std", ".2f", "°"), "mean over yaw, pitch, roll"),
            ("eyes", "blinks per minute", number("blinks_per_minute", ".1f"),
             "people: about 10-20"),
            ("", "gaze yaw / pitch", f"{d['gaze_yaw']:+.1f}° / {d['gaze_pitch']:+.1f}°",
             "mean, relative to the head"),
            ("", "gaze spread", number("gaze_std", ".1f", "°"), "std, mean over yaw and pitch"),
        ]  # fmt: skip
        if "bilabial_closed" in d:
            rows += [
                ("phonemes", "p/b/m with the lips closed", number("bilabial_closed", ".0%"),
                 f"of {d['bilabials']} centres; people: all"),
                ("", "opening at p/b/m / open vowels", number("bilabial_vs_open", ".2f"),
                 "0 = shut at every closure"),
                ("", "like the viseme rules, r", number("rule_correlation", "+.2f"),
                 "mouth vs the phonemes' rule mouth, speech"),
                ("", "stray closures", number("stray_closures_per_minute", ".1f", "/min"),
                 "shut away from p/b/m and pauses; rules: few"),
                ("", "offset to the phonemes", f"{d['phoneme_offset_frames']:+d} frames",
                 "> 0: the mouth trails"),
            ]  # fmt: skip
        heading = (
            f"{d['video']}: {d['frames']} frames at {d['fps']:g} fps ({d['seconds']:.1f} s), "
            f"{d['speech_frames']} speech frames with a face; sound from {d['audio']}"
        )
        lines = [heading]
        for group, name, value, meaning in rows:
            lines.append(f"{group:<9}{name:<31}{value:>13}   {meaning}")
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)

    def plot(self):
        """A matplotlib Figure of the figures over time (see `eval.plot`)."""
        from vasa_core.eval.plot import plot_evaluation

        return plot_evaluation(self)


def check_plot_path(path: str | os.PathLike) -> Path:
    """Fail early, before any work, if the plot cannot be written at `path`."""
    return check_output(path, ".png", "plot")


def save_plot(evaluation: VideoEvaluation, path: str | os.PathLike) -> Path:
    """Write the plot as a PNG, whole or not at all."""
    from vasa_core.files import atomic_write

    path = check_plot_path(path)
    figure = evaluation.plot()
    with atomic_write(path) as f:
        figure.savefig(f, format="png", dpi=100)
    return path


def _on_frames(features: AudioFeatures, frames: int) -> AudioFeatures:
    """The features cut or padded (with silence) to exactly `frames` rows."""
    pad = max(0, frames - features.frames)

    def fit(values, fill):
        widths = ((0, pad),) + ((0, 0),) * (values.ndim - 1)
        return np.pad(values, widths, constant_values=fill)[:frames]

    return AudioFeatures(
        fps=features.fps,
        mel=fit(features.mel, float(features.mel.min(initial=0.0))),
        loudness=fit(features.loudness, SILENCE_DB),
        pitch=fit(features.pitch, 0.0),
        voicing=fit(features.voicing, 0.0),
        speech=fit(features.speech, False),
    )


def _notes(valid: np.ndarray, sound_seconds: float, video_seconds: float, fps: float) -> list:
    """What a reader of the figures should know: frames skipped, sound and video lengths."""
    notes = []
    faceless = int((~valid).sum())
    if faceless:
        notes.append(f"{faceless} of {len(valid)} frames had no face and were skipped")
    if abs(sound_seconds - video_seconds) > 2 / fps:
        rest = (
            "frames past the end of the sound count as silence"
            if sound_seconds < video_seconds
            else "the sound past the end of the video is not used"
        )
        notes.append(
            f"the sound lasts {sound_seconds:.2f} s and the video {video_seconds:.2f} s; {rest}"
        )
    return notes


def evaluate_video(
    path: str | os.PathLike,
    audio: str | os.PathLike | None = None,
    announce: bool = False,
    phonemes: list[tuple[str, float, float]] | None = None,
) -> VideoEvaluation:
    """Measure a talking-face video (see the module docstring).

    `audio` replaces the video's own sound (for a silent video or a separate recording);
    `announce` prints one line on stderr before Face Mesh starts on a long video;
    `phonemes` (symbol, start s, end s) of the sound add the articulation figures.
    """
    from vasa_core.face.track import track_video

    path = check_input(path, "a video", missing="video")
    video = check_video(path)  # text, a picture, or unreadable: said so here
    if audio is None and not video.has_audio:
        raise VasaError(f"{path}: has no sound track; give the voice with --audio A.wav")
    sound = str(path if audio is None else audio)
    samples = load_audio(sound)
    if announce and video.seconds and video.seconds > ANNOUNCE_SECONDS:
        print(f"measuring {video.seconds:.0f} s of video with Face Mesh ...", file=sys.stderr)
    motion, valid, fps = track_video(path)
    if len(motion) < MIN_FRAMES:
        raise VasaError(f"{path}: {len(motion)} frame(s) is too short to measure")
    features = _on_frames(compute_features(samples, fps=fps), len(motion))
    notes = _notes(valid, len(samples) / RATE, len(motion) / fps, fps)
    sync = metrics.lip_sync(motion, features, max_lag=MAX_LAG, valid=valid)
    if not math.isfinite(sync["correlation"]):
        notes.append(
            f"fewer than {metrics.MIN_SPEECH_FRAMES} speech frames with a face: no lip-sync figures"
        )
    figures = metrics.summary(motion, features, valid=valid)
    figures["av_offset_ms"] = 1000.0 * figures["av_offset_frames"] / fps
    figures |= metrics.gaze(motion, valid)
    figures = {key: figures[key] for key in UNITS}  # in the documented order
    if phonemes is not None:
        found = articulation(metrics.mouth_opening(motion), phonemes, fps, valid)
        found["phoneme_offset_frames"] = found.pop("offset_frames")
        figures |= {key: found[key] for key in ARTICULATION_UNITS}
    return VideoEvaluation(
        video=str(path),
        audio=sound,
        fps=fps,
        motion=motion,
        valid=valid,
        features=features,
        sync=sync,
        figures=figures,
        notes=notes,
    )
