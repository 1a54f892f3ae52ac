"""Articulation of the live path against the offline one, on the same held-out clips.

    PYTHONPATH=. .venv/bin/python benchmarks/live_eval.py [--clips 20] [--closure-guidance G]
        [--lip-audio-guidance L] [--closure-ramp A,B]

Both generators hear the same condition rows; the live one makes them into motion a frame
at a time (motion/live.py), the offline one in 2-second windows. Clips: corpus seed 99,
held-out espeak-ng and festival voices. `still` is the silent-lip stability (face widths).
"""

from __future__ import annotations

import argparse

import numpy as np

from vasa_core.audio import compute_features
from vasa_core.cli.common import add_lip_options, lip_sampling
from vasa_core.data import corpus
from vasa_core.eval import metrics
from vasa_core.eval.articulation import articulation, pooled_closure, pooled_strays
from vasa_core.motion.generator import MotionGenerator
from vasa_core.motion.live import LiveMotion, live_path, live_sampling


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=20)
    add_lip_options(parser)  # both paths
    args = parser.parse_args()
    offline_sampling = lip_sampling(parser, args)
    live_settings = live_sampling(offline_sampling)
    offline, live = MotionGenerator(device="cpu"), MotionGenerator(live_path(), "cpu")
    rows = {"offline": [], "live": []}
    for clip in corpus.evaluation_clips(args.clips, engines=("espeak", "festival")):
        features = compute_features(clip.samples)
        session = LiveMotion(live, clip.controls, 0, live_settings)
        motions = {
            "offline": offline.generate(features, clip.controls, 0, offline_sampling),
            "live": np.stack([session.step(row) for row in live.listen(features)]),
        }
        for name, motion in motions.items():
            still = metrics.summary(motion, features)["silent_lip_stability"]
            opening = metrics.mouth_opening(motion)
            rows[name].append(articulation(opening, clip.info["phonemes"], 25) | {"still": still})
    for name, values in rows.items():
        closed, strays = pooled_closure(values)[0], pooled_strays(values)
        means = {
            key: round(float(np.nanmean([v[key] for v in values])), 3)
            for key in ("bilabial_vs_open", "rule_correlation", "offset_frames", "still")
        }
        print(f"{name:8} p/b/m closed {closed:.1%}  stray closures {strays:.1f}/min  {means}")


if __name__ == "__main__":
    main()
