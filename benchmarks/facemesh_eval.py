"""Lip-sync through Face Mesh: held-out clips rendered to video, then read back as a viewer's
camera would, against the motion the video was rendered from.

    .venv/bin/python benchmarks/facemesh_eval.py [--clips 12] [--portraits astronaut,drawn]
        [--checkpoint CKPT] [--engines espeak,festival] [--json]

Each clip (a sentence and voice never trained on, `corpus.evaluation_clips`, the same clips
as `motion_eval.py`) is written as a wav, turned into a 512 px video by `Pipeline.generate`
for each portrait, and measured by `evaluate_video` with the clip's phoneme times, as
`vasa eval V.mp4 --phonemes P.json` does. The motion the video was rendered from is
measured with the same articulation function, so the two columns differ only by what the
renderer and Face Mesh make of it.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import soundfile

from vasa_core import examples
from vasa_core.audio import RATE
from vasa_core.data import corpus
from vasa_core.eval import metrics
from vasa_core.eval.articulation import articulation, pooled_closure
from vasa_core.eval.video import evaluate_video
from vasa_core.face import analyze
from vasa_core.pipeline import Pipeline

FPS = 25.0


def measure_clip(pipe: Pipeline, latents, clip, wav: Path) -> tuple[dict, dict]:
    """(articulation of the rendered video through Face Mesh, of the motion it shows), for
    the clip whose sound is in `wav`."""
    phonemes = clip.info["phonemes"]
    rows = []
    video = pipe.generate(
        latents,
        wav.with_suffix(".mp4"),
        audio=wav,
        fps=FPS,
        on_frame=lambda i, m, f: rows.append(m),
    )
    seen = evaluate_video(video, phonemes=phonemes)
    read = articulation(metrics.mouth_opening(seen.motion), phonemes, seen.fps, seen.valid)
    asked = articulation(metrics.mouth_opening(np.stack(rows)), phonemes, FPS)
    return read, asked


def summarise(rows: list[dict]) -> dict:
    """Pooled closure and mean opening ratio and |offset| of many clips' articulation."""
    closed, count = pooled_closure(rows)
    return {
        "bilabial_closed": round(closed, 3),
        "bilabials": count,
        "bilabial_vs_open": round(float(np.nanmean([r["bilabial_vs_open"] for r in rows])), 3),
        "abs_offset_frames": round(float(np.mean([abs(r["offset_frames"]) for r in rows])), 2),
    }


def run(clips: int, portraits: list[str], checkpoint=None, engines=("espeak", "festival")):
    pipe = Pipeline(checkpoint)
    faces = {name: analyze(examples.load(name), name=name) for name in portraits}
    found: dict[str, dict[str, list]] = {n: {"video": [], "motion": []} for n in portraits}
    by_voice: dict[str, dict[str, list]] = {}
    with tempfile.TemporaryDirectory(prefix="vasa-facemesh-eval-") as work:
        for clip in corpus.evaluation_clips(clips, "held-out", engines=engines):
            voice = by_voice.setdefault(clip.info["voice"], {"video": [], "motion": []})
            wav = Path(work) / "speech.wav"
            soundfile.write(wav, clip.samples, RATE)  # once a clip, for every portrait
            for name, latents in faces.items():
                read, asked = measure_clip(pipe, latents, clip, wav)
                found[name]["video"].append(read)
                found[name]["motion"].append(asked)
                voice["video"].append(read)
                voice["motion"].append(asked)
    return {
        "clips": clips,
        "portraits": {n: {k: summarise(v) for k, v in rows.items()} for n, rows in found.items()},
        "by_voice": {v: {k: summarise(r) for k, r in rows.items()} for v, rows in by_voice.items()},
    }


def table(report: dict) -> str:
    lines = [f"{'':<22}{'video closed':>13}{'motion closed':>14}{'video ratio':>12}"]
    for group in ("portraits", "by_voice"):
        for name, row in report[group].items():
            video, motion = row["video"], row["motion"]
            if not video["bilabials"]:  # a voice whose clips had no p, b or m
                lines.append(f"{name:<22}{'-':>12} {'-':>13}{'-':>12}   (0 p/b/m)")
                continue
            lines.append(
                f"{name:<22}{video['bilabial_closed']:>12.1%} {motion['bilabial_closed']:>13.1%}"
                f"{video['bilabial_vs_open']:>12.2f}   ({video['bilabials']} p/b/m)"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=12)
    parser.add_argument("--portraits", default=",".join(examples.NAMES))
    parser.add_argument("--checkpoint")
    parser.add_argument("--engines", default="espeak,festival")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = run(
        args.clips, args.portraits.split(","), args.checkpoint, tuple(args.engines.split(","))
    )
    print(json.dumps(report, indent=1) if args.json else table(report))


if __name__ == "__main__":
    main()
