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

from vasa_core import schema
from vasa_core.audio import RATE, compute_features, load_audio
from vasa_core.audio.condition import condition
from vasa_core.data.corpus import Clip, finish_folder, shipped_encoder, start_folder, write_shard
from vasa_core.errors import VasaError
from vasa_core.face.track import track_video
from vasa_core.motion import controls as ctl


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
    heard = np.pad(condition(features, shipped_encoder()), ((0, pad), (0, 0)))[:count]
    speech = np.pad(features.speech, (0, pad))[:count]
    gaze = motion[valid][:, [schema.index("gaze_yaw"), schema.index("gaze_pitch")]].mean(axis=0)
    controls = ctl.Controls(
        gaze_yaw=schema.knob("gaze_yaw").clip(gaze[0]),
        gaze_pitch=schema.knob("gaze_pitch").clip(gaze[1]),
        distance=schema.knob("distance").clip(motion[valid, schema.index("scale")].mean()),
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
    return Clip(heard, schema.check(motion), speech, controls, info, valid=valid)


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
