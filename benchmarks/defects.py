"""Defects a viewer sees at once, measured on rendered frames, with contact sheets to look at.

    PYTHONPATH=. .venv/bin/python benchmarks/defects.py [--out DIR] [--json]

Portraits: the three examples and made ones that differ from them (a face near the top
edge, a small face in a large picture, a painting-like filtered photo). For each:
- border streaks: in bands along the four edges of the rest frame, how much the picture
  varies along the edge against outwards plus a quarter grey level (rows repeated outwards:
  large; a real or smoothly continued background: about 1); the worst side is reported;
- identity: PSNR of the rest frame against the crop it was rendered from (dB);
- blink: the Face Mesh lid gap at a blink's frames over the gap of the open eye, its
  minimum and the number of frames at or below 20% of open;
- iris containment: at the gaze control's limits, the share of the iris disc inside the
  eye opening (Face Mesh), the worst eye and limit;
- mouth flicker: talking with the head still, the mean change inside the mouth opening
  between open frames whose mouth channels barely change (< 0.02), in grey levels;
- teeth drift: the jaw held half open while the lips round, widen, smile and lift; the
  mean change inside the opening per frame: teeth sit on bone, so they should not move;
- control extremes: a contact sheet of every control's range limits (gaze, distance) and
  of every Edit pose slider's (yaw, pitch, roll, shifts; all at once last).
Contact sheets (PNG) go to --out (default /tmp/vasa-defects).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageFilter

from vasa_core import examples, schema
from vasa_core.bench import talking_motion
from vasa_core.face import analyze
from vasa_core.face import landmarks as lm
from vasa_core.face import topology as top
from vasa_core.motion.blinks import blink_shape
from vasa_core.render import Renderer

SIZE = 512
BAND = 0.03  # of the frame side: the edge bands the streak score looks at (streaks start there)
FLOOR = 0.25  # grey levels: a smooth band (little change either way) is no streak
EYES = ((159, 145, 33, 133), (386, 374, 263, 362))  # upper, lower lid; corners (Face Mesh)
MOUTH = [schema.index(n) for n in schema.MOUTH]
INNER_LIPS = [*top.LIPS_INNER_UPPER, *reversed(top.LIPS_INNER_LOWER[1:-1])]


def made_portraits() -> dict[str, np.ndarray]:
    """Portraits unlike the examples, made from them."""
    astronaut = examples.load("astronaut")
    grace = examples.load("grace_hopper")
    canvas = np.full((900, 900, 3), (200, 190, 170), np.uint8)
    canvas[500:800, 560:816] = np.asarray(Image.fromarray(grace).resize((256, 300)))
    painted = Image.fromarray(astronaut).filter(ImageFilter.ModeFilter(5))
    painted = painted.quantize(24).convert("RGB").filter(ImageFilter.SMOOTH_MORE)
    return {
        "near_top": np.ascontiguousarray(astronaut[30:250, 110:340]),
        "small_face": canvas,
        "painting": np.asarray(painted),
    }


def streak_score(frame: np.ndarray) -> float:
    """The worst edge band's variation along the edge over its variation outwards."""
    grey = frame.astype(float).mean(axis=2)
    band = max(4, int(BAND * grey.shape[0]))
    sides = [grey[:band], grey[-band:][::-1], grey[:, :band].T, grey[:, -band:][:, ::-1].T]
    scores = []
    for side in sides:  # rows: outwards from the picture's edge; columns: along it
        along = np.abs(np.diff(side, axis=1)).mean()
        outwards = np.abs(np.diff(side, axis=0)).mean()
        scores.append(along / (outwards + FLOOR))
    return float(max(scores))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(float) - b.astype(float)) ** 2)
    return float(10 * np.log10(255**2 / max(mse, 1e-9)))


def lid_gaps(frames: np.ndarray) -> np.ndarray:
    """Face Mesh's lid gap over eye width, both eyes averaged, per frame (NaN: no face)."""
    out = []
    for frame in frames:
        faces = lm.detect_all(frame)
        if not faces:
            out.append(np.nan)
            continue
        p = faces[0][:, :2]
        gaps = [np.linalg.norm(p[u] - p[d]) / np.linalg.norm(p[a] - p[b]) for u, d, a, b in EYES]
        out.append(float(np.mean(gaps)))
    return np.array(out)


def iris_in_sight(frame: np.ndarray) -> float:
    """Face Mesh's reading of a frame: the smaller share, of the two eyes, of the iris disc
    that lies inside the eye opening (NaN: no face)."""
    faces = lm.detect_all(frame)
    if not faces:
        return float("nan")
    p = faces[0][:, :2]
    shares = []
    for corners, upper, lower, iris in (
        (top.RIGHT_EYE_CORNERS, top.RIGHT_UPPER_LID, top.RIGHT_LOWER_LID, top.RIGHT_IRIS),
        (top.LEFT_EYE_CORNERS, top.LEFT_UPPER_LID, top.LEFT_LOWER_LID, top.LEFT_IRIS),
    ):
        opening = np.zeros(frame.shape[:2], np.uint8)
        ring = [corners[0], *upper, corners[1], *reversed(lower)]
        cv2.fillPoly(opening, [np.round(p[ring] * 4).astype(np.int32)], 1, shift=2)
        disc = np.zeros_like(opening)
        centre = p[iris[0]]
        radius = np.linalg.norm(p[list(iris[1:])] - centre, axis=1).mean()
        cv2.circle(disc, tuple(np.round(centre * 4).astype(int)), int(radius * 4), 1, -1, shift=2)
        shares.append((disc & opening).sum() / max(disc.sum(), 1))
    return float(min(shares))


def gaze_figures(renderer: Renderer, rest: np.ndarray) -> dict:
    """Iris containment at the gaze control's four limits: the worst share in sight."""
    rows = []
    for name in ("gaze_yaw", "gaze_pitch"):
        for value in (schema.knob(name).low, schema.knob(name).high):
            m = rest.copy()
            m[schema.index(name)] = value
            rows.append(m)
    shares = [iris_in_sight(frame) for frame in renderer.render(np.stack(rows))]
    return {"iris_in_sight": round(float(np.nanmin(shares)), 2)}


def blink_figures(renderer: Renderer, rest: np.ndarray) -> tuple[dict, np.ndarray]:
    """A blink of the kind the generator draws, rendered and read back through Face Mesh."""
    closure = np.concatenate([[0.0, 0.0], blink_shape(25.0, np.random.default_rng(0)), [0.0]])
    motion = np.tile(rest, (len(closure), 1))
    motion[:, schema.index("blink_left")] = closure
    motion[:, schema.index("blink_right")] = closure
    frames = renderer.render(motion)
    gaps = lid_gaps(frames)
    relative = gaps / gaps[0]
    figures = {
        "blink_min_gap": round(float(np.nanmin(relative)), 3),
        "blink_frames_shut": int(np.sum(relative <= 0.2)),
    }
    return figures, frames


def still_head(motion: np.ndarray, rest: np.ndarray) -> np.ndarray:
    """The motion with the head held where the portrait has it: what changes in the mouth
    is then the mouth's doing."""
    motion = motion.copy()
    motion[:, schema.POSE] = rest[schema.POSE]
    return motion


def openings(renderer: Renderer, motion: np.ndarray, erode: int = 2) -> np.ndarray:
    """Masks [T, H, W] of the mouth opening (inside the inner lips), shrunk by `erode` px
    so that the lips' own edges are not counted."""
    points = renderer.landmarks(motion)[..., :2]
    masks = np.zeros((len(motion), *renderer.frame_shape), np.uint8)
    kernel = np.ones((2 * erode + 1, 2 * erode + 1), np.uint8)
    for mask, p in zip(masks, points, strict=True):
        cv2.fillPoly(mask, [np.round(p[INNER_LIPS]).astype(np.int32)], 1)
        mask[:] = cv2.erode(mask, kernel)
    return masks.astype(bool)


def mouth_flicker(renderer: Renderer, rest: np.ndarray) -> tuple[float, np.ndarray]:
    """Talking with the head still: the mean grey change inside the opening between open
    frames whose mouth channels barely change (< 0.02). Little moves, so little should."""
    motion = still_head(talking_motion(rest, 100), rest)
    frames = renderer.render(motion).astype(np.float32)
    inside = openings(renderer, motion)
    steady = np.abs(np.diff(motion[:, MOUTH], axis=0)).max(axis=1) < 0.02
    changes = []
    for t in np.flatnonzero(steady):
        both = inside[t] & inside[t + 1]
        if both.sum() >= 20:  # a closed mouth has no inside to flicker
            changes.append(np.abs(frames[t] - frames[t + 1])[both].mean())
    return (float(np.mean(changes)) if changes else 0.0), frames.astype(np.uint8)


def teeth_drift(renderer: Renderer, rest: np.ndarray) -> float:
    """The jaw held half open and the head still while the lips round, widen, smile and
    lift: the teeth sit on bone, so what shows of them between the lips should not move.
    The mean grey change inside both frames' openings, per frame."""
    n = 40
    phase = np.linspace(0, 2 * np.pi, n)
    motion = np.tile(rest, (n, 1))
    motion[:, schema.index("jaw_open")] = 0.45
    for k, name in enumerate(("mouth_round", "mouth_wide", "smile", "upper_lip_raise")):
        motion[:, schema.index(name)] = 0.3 * (1 - np.cos(phase + k)) / 2
    frames = renderer.render(motion).astype(np.float32)
    inside = openings(renderer, motion)
    both = inside[1:] & inside[:-1]
    change = np.abs(np.diff(frames, axis=0)).mean(axis=-1)
    return float(change[both].mean())


def extremes(renderer: Renderer, rest: np.ndarray) -> np.ndarray:
    """Frames at every control's range limits (gaze, distance) and at the limits of every
    pose slider in Edit (the reach about the portrait's own pose), after the rest frame."""
    rows = [rest]
    for name, channel in (("gaze_yaw", "gaze_yaw"), ("gaze_pitch", "gaze_pitch")):
        knob = schema.knob(name)
        for value in (knob.low, knob.high):
            m = rest.copy()
            m[schema.index(channel)] = value
            rows.append(m)
    for value in (schema.knob("distance").low, schema.knob("distance").high):
        m = rest.copy()
        m[schema.index("scale")] = value
        rows.append(m)
    low, high = schema.reach(rest)
    for name in ("yaw", "pitch", "roll", "tx", "ty"):
        for bound in (low, high):
            m = rest.copy()
            m[schema.index(name)] = bound[schema.index(name)]
            rows.append(m)
    corner = rest.copy()  # every pose slider at its limit at once
    for name, bound in (("yaw", high), ("pitch", high), ("roll", low), ("scale", high)):
        corner[schema.index(name)] = bound[schema.index(name)]
    rows.append(corner)
    return renderer.render(np.stack(rows))


def sheet(frames, path: Path, scale: int = 4, columns: int = 8) -> None:
    """Frames side by side, `columns` to a row, shrunk by `scale`, as a PNG."""
    frames = list(frames)
    frames += [np.zeros_like(frames[0])] * (-len(frames) % columns)
    rows = [np.concatenate(frames[i : i + columns], axis=1) for i in range(0, len(frames), columns)]
    grid = np.concatenate(rows, axis=0)
    picture = Image.fromarray(grid)
    picture.resize((grid.shape[1] // scale, grid.shape[0] // scale)).save(path)


def measure(name: str, image: np.ndarray, out: Path) -> dict:
    latents = analyze(image, name=name)
    renderer = Renderer(latents, size=SIZE)
    rest = latents.motion
    frame = renderer.render(rest)[0]
    crop = (renderer.image.permute(1, 2, 0).cpu().numpy() * 255 + 0.5).astype(np.uint8)
    blink, blink_frames = blink_figures(renderer, rest)
    flicker, talk = mouth_flicker(renderer, rest)
    sheet(blink_frames, out / f"{name}_blink.png", scale=2)
    sheet(talk[::10], out / f"{name}_talk.png")
    sheet(extremes(renderer, rest), out / f"{name}_extremes.png")
    return {
        "portrait": name,
        "border_streaks": round(streak_score(frame), 2),
        "identity_psnr_db": round(psnr(frame, crop), 1),
        **blink,
        **gaze_figures(renderer, rest),
        "mouth_flicker": round(flicker, 2),
        "teeth_drift": round(teeth_drift(renderer, rest), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="/tmp/vasa-defects", help="folder for contact sheets")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    portraits = {name: examples.load(name) for name in examples.NAMES} | made_portraits()
    rows = [measure(name, image, out) for name, image in portraits.items()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    keys = list(rows[0])
    print("".join(f"{k:>18}" for k in keys))
    for row in rows:
        print("".join(f"{row[k]!s:>18}" for k in keys))
    print(f"contact sheets in {out}")


if __name__ == "__main__":
    main()
