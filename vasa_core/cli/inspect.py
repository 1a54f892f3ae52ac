"""The verbs that look and report without making a video: `analyze` (a portrait's face
latents), `schema` (the channels of the motion latent), `features` (a sound's audio
features), `eval` (the metrics of any talking-face video) and `bench` (this machine's
render speed)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from vasa_core.cli.common import (
    Verbs,
    add_device_option,
    add_max_minutes_option,
    check_knob,
    chosen_device,
    max_seconds,
    read_portrait,
)
from vasa_core.errors import VasaError


def add_analyze(verbs: Verbs) -> None:
    verb = verbs.add_parser("analyze", help="face latents of a portrait")
    verb.add_argument("image", help="image file, or example:astronaut|grace_hopper|drawn")
    verb.add_argument("--json", action="store_true", help="print JSON instead of a table")
    verb.add_argument("--save", metavar="LATENTS.npz", help="also save the latents")
    verb.add_argument("--draw", metavar="OVERLAY.png", help="also draw mesh and fit")
    verb.set_defaults(run=run_analyze)


def run_analyze(args: argparse.Namespace) -> None:
    from vasa_core.face import analyze
    from vasa_core.face.latents import to_json
    from vasa_core.files import check_output

    # Where the answers go is checked before the work that makes them.
    if args.save:
        check_output(args.save, ".npz", "latents")
    if args.draw:
        _check_overlay_path(Path(args.draw))
    image, name = read_portrait(args.image)
    latents = analyze(image, name=name)
    if args.save:
        latents.save(args.save)
    if args.draw:
        _save_overlay(latents, Path(args.draw))
    if args.json:
        print(to_json(latents))
        return
    summary = latents.summary()
    x0, y0, x1, y1 = summary["face_box"]
    print(f"{name}: {summary['faces_found']} face(s) found; using the largest")
    print(f"face box   x {x0:.0f}..{x1:.0f}, y {y0:.0f}..{y1:.0f} px")
    yaw, pitch, roll = (summary["pose"][k] for k in ("yaw", "pitch", "roll"))
    print(f"head pose  yaw {yaw:+.1f}°  pitch {pitch:+.1f}°  roll {roll:+.1f}°")
    print("dynamics")
    for key, value in summary["dynamics"].items():
        # Gaze is in degrees, not 0-1: a bar of it would mean nothing.
        bar = "" if key.startswith("gaze_") else "#" * round(20 * value)
        unit = "°" if key.startswith("gaze_") else ""
        print(f"  {key:<18} {value:+6.2f}{unit}  {bar}")
    if args.save:
        print(f"latents saved to {args.save}")
    if args.draw:
        print(f"overlay saved to {args.draw}")


def _check_overlay_path(path: Path) -> None:
    """Fail before the work unless a PNG can be written at `path`."""
    from vasa_core.files import check_output

    if path.suffix.lower() != ".png":
        raise VasaError(f"{path}: the overlay is written as PNG; give a .png path")
    check_output(path, ".png", "overlay")


def _save_overlay(latents, path: Path) -> None:
    """The portrait with its landmarks and the rig's fit of them drawn on, as PNG."""
    from PIL import Image

    from vasa_core.face import rig
    from vasa_core.files import atomic_write
    from vasa_core.viz import draw_face

    explained = rig.decode(rig.load_rig().neutral, latents.pose, latents.dynamics, latents.anchor)
    picture = Image.fromarray(draw_face(latents.image, latents.landmarks, explained))
    with atomic_write(path) as f:
        picture.save(f, format="PNG")


def add_schema(verbs: Verbs) -> None:
    verb = verbs.add_parser("schema", help="the channels of the motion latent")
    verb.add_argument("--json", action="store_true")
    verb.set_defaults(run=run_schema)


def run_schema(args: argparse.Namespace) -> None:
    from vasa_core import schema

    if args.json:
        rows = [vars(c) for c in schema.CHANNELS]
        print(json.dumps({"version": schema.SCHEMA_VERSION, "channels": rows}, indent=2))
    else:
        print(schema.describe())


def add_features(verbs: Verbs) -> None:
    verb = verbs.add_parser("features", help="audio features of a sound or video file")
    verb.add_argument("audio", help="wav, flac, ogg, mp3, m4a, or a video with sound")
    verb.add_argument("--fps", type=float, default=25.0, help="video frames per second")
    add_max_minutes_option(verb)
    verb.add_argument("--json", action="store_true")
    verb.set_defaults(run=run_features)


def run_features(args: argparse.Namespace) -> None:
    import numpy as np

    from vasa_core.audio import RATE, compute_features, load_audio

    check_knob("--fps", "fps", args.fps)
    samples = load_audio(args.audio, max_seconds=max_seconds(args))
    features = compute_features(samples, fps=args.fps)
    voiced = features.pitch[features.pitch > 0]
    summary = {
        "seconds": round(len(samples) / RATE, 3),
        "frames": features.frames,
        "fps": args.fps,
        "speech_fraction": round(float(features.speech.mean()), 3),
        "median_pitch_hz": round(float(np.median(voiced)), 1) if len(voiced) else None,
        "loudness_db": {
            "min": round(float(features.loudness.min()), 1),
            "max": round(float(features.loudness.max()), 1),
        },
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    for key, value in summary.items():
        print(f"{key:<16} {value}")


def add_eval(verbs: Verbs) -> None:
    verb = verbs.add_parser(
        "eval", help="lip-sync, head motion, blinks and gaze of any talking-face video"
    )
    verb.add_argument("video", help="mp4, mov, webm, ... with a face (ours or anyone's)")
    verb.add_argument("--audio", help="sound to measure against instead of the video's own")
    verb.add_argument("--json", action="store_true", help="print JSON instead of a table")
    verb.add_argument(
        "--plot", metavar="P.png", help="also plot mouth vs loudness, pose, blinks, gaze"
    )
    verb.add_argument(
        "--phonemes",
        metavar="P.json",
        help="the sound's timed phonemes (vasa tts --phonemes): adds closures at p/b/m, "
        "openness at vowels and the offset to them",
    )
    verb.set_defaults(run=run_eval)


def run_eval(args: argparse.Namespace) -> None:
    from vasa_core.eval.articulation import read_phonemes
    from vasa_core.eval.video import check_plot_path, evaluate_video, save_plot

    plot = check_plot_path(args.plot) if args.plot else None  # before the work, not after
    phonemes = read_phonemes(args.phonemes) if args.phonemes else None
    result = evaluate_video(
        args.video, audio=args.audio, announce=sys.stderr.isatty(), phonemes=phonemes
    )
    if plot:
        save_plot(result, plot)
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
        return
    print(result.table())
    if plot:
        print(f"plot saved to {plot}")


def add_doctor(verbs: Verbs) -> None:
    verb = verbs.add_parser(
        "doctor", help="check this install in seconds: every part the kit needs, tried"
    )
    verb.set_defaults(run=run_doctor)


def run_doctor(args: argparse.Namespace) -> None:
    from vasa_core import doctor

    results = doctor.run()
    print(doctor.table(results))
    if any(c.required and not c.ok for c in results):
        raise SystemExit(1)


def add_bench(verbs: Verbs) -> None:
    verb = verbs.add_parser("bench", help="render speed of this machine")
    verb.add_argument("--json", action="store_true")
    verb.add_argument("--frames", type=int, default=100, help="frames per measurement")
    verb.add_argument(
        "--sizes",
        metavar="N[,N...]",
        help="output sizes to measure, comma-separated (default 256,512)",
    )
    verb.add_argument(
        "--batch",
        metavar="N[,N...]",
        help="frames rendered at once (default: the renderer's own); several, "
        "comma-separated, are each measured: 8,32",
    )
    verb.add_argument(
        "--live",
        action="store_true",
        help="a live session instead: latency and frame rate on speech fed at real time",
    )
    verb.add_argument(
        "--seconds", type=float, default=60.0, help="with --live: seconds of speech to feed"
    )
    add_device_option(
        verb, help="what to measure: auto (the CPU, and CUDA when there is one), cpu or cuda"
    )
    verb.set_defaults(run=run_bench)


def run_bench(args: argparse.Namespace) -> None:
    from vasa_core import bench

    if args.frames < 1:
        raise VasaError(f"--frames {args.frames} must be at least 1 (frames per measurement)")
    if args.live:
        from vasa_core import bench_live

        if args.sizes is not None or args.batch is not None:  # not silently ignored
            raise VasaError("--sizes and --batch measure rendering; --live measures a session")
        if not 1 <= args.seconds <= 600:
            raise VasaError(f"--seconds {args.seconds} must be between 1 and 600")
        report = bench_live.run(args.seconds, device=chosen_device(args))
        print(json.dumps(report, indent=2) if args.json else bench_live.table(report))
        return
    from vasa_core.render.renderer import SIZES

    sizes = _numbers("--sizes", args.sizes) if args.sizes is not None else [256, 512]
    if bad := [n for n in sizes if n not in SIZES]:
        raise VasaError(
            f"--sizes {args.sizes}: {bad[0]} is not one of {', '.join(map(str, SIZES))}"
        )
    batches: list[int | None] = [None]  # the renderer's own batch, unless asked for
    if args.batch is not None:
        batches = _numbers("--batch", args.batch)
        if bad := [n for n in batches if not 1 <= n <= MAX_BATCH]:
            raise VasaError(f"--batch {args.batch}: {bad[0]} must be between 1 and {MAX_BATCH}")
    # `auto` compares the devices this machine has (bench's own choice when given None);
    # a named device is measured alone.
    devices = None if args.device == "auto" else [chosen_device(args)]
    report = bench.run(frames=args.frames, sizes=sizes, devices=devices, batches=batches)
    print(json.dumps(report, indent=2) if args.json else bench.table(report))


# Frames at once: a bound against typos, since a thousand 512-px frames in floats already
# take gigabytes of device memory.
MAX_BATCH = 1024


def _numbers(flag: str, text: str) -> list[int]:
    """The whole numbers of a comma-separated option; one clear error naming it if not."""
    try:
        numbers = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise VasaError(f"{flag} {text}: give whole numbers, comma-separated (8,32)") from None
    if not numbers:
        raise VasaError(f"{flag} {text!r}: give at least one number")
    return list(dict.fromkeys(numbers))  # each measured once, in the order given
