"""Closed loop: render a motion, run Face Mesh on the frame, encode it, compare.

    .venv/bin/python benchmarks/closed_loop.py [--json]

Prints, per example portrait and test motion, what came back against what was rendered,
and marks each figure against the targets of the decoding issue: pose within 2 degrees,
jaw_open within 0.1, blinks detected (> 0.5), gaze within 3 degrees, and mean landmark
error within 3% of the eye distance. This measures the renderer through Face Mesh's eyes,
so Face Mesh's own habits are part of every number.

How far can that ruler be trusted? Each frame is also read in a mirror: Face Mesh runs on
the flipped frame, its points are put back on the original (`template.mirror_back`) and
encoded the same way. A symmetric detector would read the same motion twice; the columns
marked "mirror" say by how much the two readings of the one frame differ.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from vasa_core import examples, schema
from vasa_core.face import analyze, rig
from vasa_core.face import landmarks as lmk
from vasa_core.face.template import mirror_back
from vasa_core.render import Renderer

MOTIONS = {
    "rest": {},
    "yaw +20": {"yaw": 20.0},
    "yaw -20": {"yaw": -20.0},
    "pitch +15": {"pitch": 15.0},
    "pitch -15": {"pitch": -15.0},
    "jaw 0.5": {"jaw_open": 0.5},
    "jaw 1.0": {"jaw_open": 1.0},
    "smile": {"smile": 0.8},
    "blink": {"blink_left": 1.0, "blink_right": 1.0},
    "gaze +20": {"gaze_yaw": 20.0},
    "gaze -20": {"gaze_yaw": -20.0},
    "gaze up 15": {"gaze_pitch": 15.0},
}
RELATIVE = ("yaw", "pitch")


def _reading(face, landmarks: np.ndarray) -> np.ndarray:
    """The motion [DIM] that Face Mesh landmarks (portrait pixels) encode to."""
    fit = rig.encode(landmarks, identity=face.identity, anchor=face.anchor)
    return np.concatenate([fit.pose, fit.dynamics])


def measure() -> list[dict]:
    rows = []
    for name in examples.NAMES:
        face = analyze(examples.load(name), name=name)
        renderer = Renderer(face, size=512)
        motions = []
        for change in MOTIONS.values():
            motion = face.motion.copy()
            for key, value in change.items():
                motion[schema.index(key)] = value + (
                    motion[schema.index(key)] if key in RELATIVE else 0
                )
            motions.append(motion)
        for label, motion, frame in zip(
            MOTIONS, motions, renderer.render(np.stack(motions)), strict=True
        ):
            found = renderer.to_portrait(lmk.detect(frame).landmarks)
            flipped = lmk.detect(np.ascontiguousarray(frame[:, ::-1])).landmarks
            mirrored = renderer.to_portrait(mirror_back(flipped, frame.shape[1]))
            seen, seen_mirrored = (_reading(face, points) for points in (found, mirrored))
            spread = dict(zip(schema.NAMES, np.abs(seen - seen_mirrored), strict=True))
            target = face.decode(motion)
            eyes = np.linalg.norm(target[33, :2] - target[263, :2])
            error = np.linalg.norm(found[:, :2] - target[:, :2], axis=1).mean() / eyes
            d = dict(zip(schema.NAMES, seen - motion, strict=True))
            s = dict(zip(schema.NAMES, seen, strict=True))
            rows.append(
                {
                    "portrait": name,
                    "motion": label,
                    "pose_error_deg": round(float(np.abs(seen[:3] - motion[:3]).max()), 2),
                    "jaw_error": round(d["jaw_open"], 3),
                    "blink_seen": round(min(s["blink_left"], s["blink_right"]), 3),
                    "gaze_error_deg": round(
                        float(max(abs(d["gaze_yaw"]), abs(d["gaze_pitch"]))), 2
                    ),
                    "landmark_error_iod": round(float(error), 4),
                    "mirror_pose_deg": round(max(spread[k] for k in ("yaw", "pitch", "roll")), 2),
                    "mirror_jaw": round(spread["jaw_open"], 3),
                    "mirror_gaze_deg": round(max(spread["gaze_yaw"], spread["gaze_pitch"]), 2),
                }
            )
    return rows


def verdicts(row: dict) -> dict:
    motion = row["motion"]
    out = {"pose": row["pose_error_deg"] <= 2, "landmarks": row["landmark_error_iod"] <= 0.03}
    if motion.startswith("jaw"):
        out["jaw"] = abs(row["jaw_error"]) <= 0.1
    if motion == "blink":
        out["blink"] = row["blink_seen"] > 0.5
    if motion.startswith("gaze"):
        out["gaze"] = row["gaze_error_deg"] <= 3
    return {check: bool(ok) for check, ok in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    rows = measure()
    if parser.parse_args().json:
        print(json.dumps([r | {"pass": verdicts(r)} for r in rows], indent=2))
        return
    print(
        f"{'':<25} {'--------- error ----------':>27} {'':>8}  {'--- mirror ----':>15}\n"
        f"{'portrait':<13} {'motion':<11} {'pose°':>6} {'jaw':>7} {'blink':>6} {'gaze°':>6} "
        f"{'lmk/IOD':>8}  {'pose°':>5} {'jaw':>4} {'gaze°':>5}  failing"
    )
    passed = total = 0
    for r in rows:
        v = verdicts(r)
        passed += sum(v.values())
        total += len(v)
        failing = ", ".join(k for k, ok in v.items() if not ok)
        print(
            f"{r['portrait']:<13} {r['motion']:<11} {r['pose_error_deg']:>6.1f} "
            f"{r['jaw_error']:>+7.2f} {r['blink_seen']:>6.2f} {r['gaze_error_deg']:>6.1f} "
            f"{100 * r['landmark_error_iod']:>7.1f}%  {r['mirror_pose_deg']:>5.1f} "
            f"{r['mirror_jaw']:>4.2f} {r['mirror_gaze_deg']:>5.1f}  {failing}"
        )
    print(f"{passed}/{total} checks within the targets")
    print("Face Mesh's readings of a frame and of its mirror image differ by")
    for key, unit, target in (
        ("pose_deg", "° in pose", 2),
        ("jaw", " in jaw_open", 0.1),
        ("gaze_deg", "° in gaze", 3),
    ):
        spreads = [r[f"mirror_{key}"] for r in rows]
        wider = sum(spread > target for spread in spreads)
        print(
            f"  up to {max(spreads):.2f}{unit}, more than the target ({target}) "
            f"in {wider} of {len(rows)} frames"
        )


if __name__ == "__main__":
    main()
