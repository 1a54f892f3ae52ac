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
- mouth flicker: the mean change inside the mouth box between frames whose mouth channels
  barely change (< 0.02), in grey levels: the inside of the mouth should hold still then;
- control extremes: a contact sheet of every control's range limits (gaze, distance).
Contact sheets (PNG) go to --out (default /tmp/vasa-defects).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from vasa_core import examples, schema
from vasa_core.bench import talking_motion
from vasa_core.face import analyze
from vasa_core.face import landmarks as lm
from vasa_core.motion.blinks import blink_shape
from vasa_core.render import Renderer

SIZE = 512
BAND = 0.03  # of the frame side: the edge bands the streak score looks at (streaks start there)
FLOOR = 0.25  # grey levels: a smooth band (little change either way) is no streak
EYES = ((159, 145, 33, 133), (386, 374, 263, 362))  # upper, lower lid; corners (Face Mesh)
MOUTH = [schema.index(n) for n in schema.MOUTH]


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


def mouth_flicker(renderer: Renderer, rest: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean grey change inside the mouth box between frames whose mouth barely moves."""
    motion = talking_motion(rest, 100)
    frames = renderer.render(motion)
    points = renderer.landmarks(motion)
    steady = np.abs(np.diff(motion[:, MOUTH], axis=0)).max(axis=1) < 0.02
    changes = []
    for t in np.flatnonzero(steady):
        lips = points[t, [13, 14, 61, 291], :2]
        (x0, y0), (x1, y1) = lips.min(axis=0).astype(int), lips.max(axis=0).astype(int) + 1
        if x1 - x0 < 4 or y1 - y0 < 3:
            continue  # a closed mouth has no inside to flicker
        a, b = frames[t, y0:y1, x0:x1], frames[t + 1, y0:y1, x0:x1]
        changes.append(np.abs(a.astype(float) - b.astype(float)).mean())
    return (float(np.mean(changes)) if changes else 0.0), frames


def extremes(renderer: Renderer, rest: np.ndarray) -> np.ndarray:
    """Frames at every control's range limits: gaze, distance (and the rest frame)."""
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
    return renderer.render(np.stack(rows))


def sheet(frames, path: Path, scale: int = 4) -> None:
    row = np.concatenate(list(frames), axis=1)
    picture = Image.fromarray(row)
    picture.resize((row.shape[1] // scale, row.shape[0] // scale)).save(path)


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
        "mouth_flicker": round(flicker, 2),
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
