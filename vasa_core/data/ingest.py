"""Real talking-face videos to corpus shards: the same pairs, measured instead of made.

    vasa ingest talk1.mp4 talk2.mov --out DIR

For each video: its audio track becomes features on the video's own frame clock; its
frames go through Face Mesh; the first frame with a face gives the identity (a first
look), and every frame is then encoded against that identity, so the motion is exact up
to Face Mesh's own error. Frames without a face are kept in place but marked invalid in
`valid` (and reported), so the timing of everything else stays right. Controls are what
can be measured: the main gaze and the head distance; the emotion is unknown (neutral, 0).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

from vasa_core.audio import RATE, compute_features, load_audio
from vasa_core.data.corpus import Clip, finish_folder, start_folder, write_shard
from vasa_core.errors import VasaError
from vasa_core.face import landmarks as lm
from vasa_core.face import rig
from vasa_core.motion import controls as ctl
from vasa_core.motion import schema
from vasa_core.render.video import video_frames


def track_video(
    path: str | os.PathLike, max_seconds: float | None = None
) -> tuple[np.ndarray, np.ndarray, float]:
    """(motion [T, DIM], valid [T] bool, fps): Face Mesh on every frame of a video, each
    encoded against one identity. Faceless frames take their nearest face's motion.
    A video longer than `max_seconds` is refused as soon as that is known."""
    path = Path(path)
    if not path.is_file():
        raise VasaError(f"{path}: no such video")
    frames, fps = video_frames(path)
    if not 1 <= fps <= 240:
        raise VasaError(f"{path}: frame rate {fps} is not usable")
    landmarks: list[np.ndarray | None] = []
    for frame in frames:
        if max_seconds is not None and len(landmarks) >= max_seconds * fps:
            raise VasaError(f"{path}: longer than {max_seconds:g} s, the limit here")
        faces = lm.detect_all(frame)
        landmarks.append(faces[0] if faces else None)
    if not landmarks:
        raise VasaError(f"{path}: has no video frames")
    found = [i for i, p in enumerate(landmarks) if p is not None]
    if not found:
        raise VasaError(f"{path}: no face in any of its {len(landmarks)} frames")
    # The identity comes from the calmest frame (least expression on a first look), so a
    # video that starts mid-word does not bake an open mouth into the face.
    looks = [(i, rig.encode(landmarks[i])) for i in found[:: max(1, len(found) // 30)]]
    calm = min(looks, key=lambda look: np.abs(look[1].dynamics[: len(rig.LINEAR)]).sum())[1]
    identity, anchor = rig.identity_of(calm), calm.anchor
    motion = np.tile(schema.neutral(), (len(landmarks), 1))
    for i in found:
        fit = rig.encode(landmarks[i], identity=identity, anchor=anchor)
        motion[i] = np.concatenate([fit.pose, fit.dynamics])
    valid = np.array([p is not None for p in landmarks])
    return _fill_gaps(motion, valid), valid, fps


def ingest_video(path: str | os.PathLike) -> Clip:
    path = Path(path)
    if not path.is_file():
        raise VasaError(f"{path}: no such video")
    samples = load_audio(path)
    motion, valid, fps = track_video(path)
    count = len(motion)
    found = np.flatnonzero(valid)
    features = compute_features(samples, fps=fps)
    pad = max(0, count - features.frames)
    normalized = np.pad(features.normalized(), ((0, pad), (0, 0)))[:count]
    speech = np.pad(features.speech, (0, pad))[:count]
    gaze = motion[valid][:, [schema.index("gaze_yaw"), schema.index("gaze_pitch")]].mean(axis=0)
    distance = float(np.clip(motion[valid, schema.index("scale")].mean(), 0.6, 1.6))
    controls = ctl.Controls(
        gaze_yaw=float(np.clip(gaze[0], -35, 35)),
        gaze_pitch=float(np.clip(gaze[1], -25, 25)),
        distance=distance,
    )
    info = {
        "video": path.name,
        "fps": fps,
        "frames": count,
        "faceless_frames": count - len(found),
        "seconds": len(samples) / RATE,
        "controls": controls.as_dict(),
        "phonemes": [],
    }
    return Clip(normalized, schema.check(motion), speech, controls, info, valid=valid)


def _fill_gaps(motion: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Frames without a face take the motion of the nearest frame with one."""
    index = np.flatnonzero(valid)
    nearest = index[np.clip(np.searchsorted(index, np.arange(len(valid))), 0, len(index) - 1)]
    return motion[nearest]


def ingest(videos: list[str | os.PathLike], out: str | os.PathLike) -> tuple[Path, list[str]]:
    """Ingest videos into a corpus folder; returns the manifest and one report line each."""
    out = Path(out)
    if not videos:
        raise VasaError("no videos given")
    if out.exists() and any(out.iterdir()):
        raise VasaError(f"{out}: exists and is not empty; choose a new folder")
    clips = [ingest_video(v) for v in videos]  # everything checked before anything is written
    work = start_folder(out)
    try:
        rates = sorted({c.info["fps"] for c in clips})
        manifest = finish_folder(
            work,
            out,
            [write_shard(work, 0, clips)],
            source="ingested",
            seed=None,
            fps=rates[0] if len(rates) == 1 else rates,
            minutes=sum(len(c.motion) / c.info["fps"] for c in clips) / 60,
            frames=sum(len(c.motion) for c in clips),
            clips=len(clips),
            voices=[],
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report = [
        f"{c.info['video']}: {c.info['frames']} frames, "
        f"{c.info['faceless_frames']} without a face (kept, marked invalid)"
        for c in clips
    ]
    return manifest, report
