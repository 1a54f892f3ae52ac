"""The `vasa` command (also `python -m vasa_core`).

Each verb is a small function over the package's public API. A user's mistake is one
line on stderr and exit status 1 (2 for a malformed command line), never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

from vasa_core.errors import VasaError
from vasa_core.motion.controls import EMOTIONS

EXIT_USER_ERROR = 1


def _read_portrait(spec: str):
    """A path, or `example:NAME` for a bundled example portrait."""
    from vasa_core import examples
    from vasa_core.face.image import load_image

    if spec.startswith(examples.PREFIX):
        return examples.load(spec), spec
    return load_image(spec), spec


def cmd_analyze(args: argparse.Namespace) -> None:
    from vasa_core.face import analyze
    from vasa_core.face.latents import to_json

    image, name = _read_portrait(args.image)
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
        bar = "" if key.startswith("gaze_") else "#" * round(20 * value)
        unit = "°" if key.startswith("gaze_") else ""
        print(f"  {key:<18} {value:+6.2f}{unit}  {bar}")
    if args.save:
        print(f"latents saved to {args.save}")
    if args.draw:
        print(f"overlay saved to {args.draw}")


def _save_overlay(latents, path: Path) -> None:
    from PIL import Image

    from vasa_core.face import rig
    from vasa_core.files import atomic_write
    from vasa_core.viz import draw_face

    if path.suffix.lower() != ".png":
        raise VasaError(f"{path}: the overlay is written as PNG; give a .png path")
    explained = rig.decode(rig.load_rig().neutral, latents.pose, latents.dynamics, latents.anchor)
    picture = Image.fromarray(draw_face(latents.image, latents.landmarks, explained))
    with atomic_write(path) as f:
        picture.save(f, format="PNG")


def cmd_render(args: argparse.Namespace) -> None:
    from tqdm import tqdm

    from vasa_core.face import analyze
    from vasa_core.media import check_writable, write_video
    from vasa_core.motion.io import load_motion
    from vasa_core.render import Renderer

    out = check_writable(args.out)
    motion, file_fps = load_motion(args.motion)
    fps = args.fps or file_fps or 25.0
    image, name = _read_portrait(args.image)
    latents = analyze(image, name=name)
    renderer = Renderer(latents, size=None if args.size == "full" else int(args.size))
    frames = tqdm(
        renderer.stream(motion),
        total=len(motion),
        unit="frame",
        desc="rendering",
        disable=args.quiet,
    )
    write_video(out, frames, fps=fps, audio=args.audio)
    height, width = renderer.frame_shape
    print(f"{out}: {len(motion)} frames, {width}x{height} at {fps:g} fps")


def cmd_generate(args: argparse.Namespace) -> None:
    from vasa_core.motion.controls import Controls
    from vasa_core.pipeline import Pipeline
    from vasa_core.settings import Sampling

    controls = Controls(
        gaze_yaw=args.gaze_yaw,
        gaze_pitch=args.gaze_pitch,
        distance=args.distance,
        emotion=args.emotion,
        intensity=args.intensity if args.emotion != "neutral" else 0.0,
        motion=args.motion,
    )
    image, _ = _read_portrait(args.image)
    out = Pipeline(args.checkpoint).generate(
        image,
        args.out,
        audio=args.audio,
        text=args.text,
        voice=args.voice,
        controls=controls,
        seed=args.seed,
        sampling=Sampling(steps=args.steps, audio_guidance=args.guidance),
        size=_output_size(args),
        fps=args.fps,
        mark=not args.no_mark,
        progress=not args.quiet,
    )
    print(f"{out}: written")


def cmd_reenact(args: argparse.Namespace) -> None:
    from vasa_core.reenact import reenact

    image, _ = _read_portrait(args.image)
    out = reenact(
        image,
        args.video,
        args.out,
        size=_output_size(args),
        mark=not args.no_mark,
        progress=not args.quiet,
    )
    print(f"{out}: written")


def cmd_bench(args: argparse.Namespace) -> None:
    from vasa_core import bench

    report = bench.run(frames=args.frames)
    print(json.dumps(report, indent=2) if args.json else bench.table(report))


def cmd_tts(args: argparse.Namespace) -> None:
    from vasa_core.audio import tts

    if args.list_voices:
        print("\n".join(tts.voices()))
        return
    if args.text is None or args.out is None:
        raise VasaError("give the TEXT to speak and --out A.wav (or --list-voices)")
    speech = tts.synthesize(args.text, voice=args.voice, rate=args.rate, pitch=args.pitch)
    tts.save_speech(speech, args.out, args.phonemes)
    spoken = sum(1 for s, _, _ in speech.phonemes if s != tts.SILENCE)
    print(f"{args.out}: {speech.seconds:.2f} s, {spoken} phonemes, voice {args.voice}")
    if args.phonemes:
        print(f"phoneme timings saved to {args.phonemes}")


def cmd_features(args: argparse.Namespace) -> None:
    import numpy as np

    from vasa_core.audio import RATE, compute_features, load_audio

    samples = load_audio(args.audio, max_seconds=args.max_minutes * 60)
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


def cmd_corpus(args: argparse.Namespace) -> None:
    from vasa_core.data import corpus

    manifest = corpus.build(
        args.out, minutes=args.minutes, seed=args.seed, fps=args.fps, progress=not args.quiet
    )
    info = json.loads(manifest.read_text())
    print(
        f"{args.out}: {info['minutes']:.1f} minutes, {info['clips']} clips, "
        f"{len(info['shards'])} shards, {len(info['voices'])} voices "
        f"({info['build_seconds']:.0f} s)"
    )


def cmd_ingest(args: argparse.Namespace) -> None:
    from vasa_core.data.ingest import ingest

    manifest, report = ingest(args.videos, args.out)
    print("\n".join(report))
    print(f"corpus written to {manifest.parent}")


def cmd_train(args: argparse.Namespace) -> None:
    from vasa_core.motion.model import Config
    from vasa_core.motion.train import train

    config = Config(width=args.width, layers=args.layers)
    out = train(
        args.data,
        args.out,
        steps=args.steps,
        batch_size=args.batch,
        lr=args.lr,
        seed=args.seed,
        resume=args.resume,
        config=config,
        val_every=args.val_every,
        progress=not args.quiet,
    )
    print(f"checkpoint written to {out}")


def cmd_eval(args: argparse.Namespace) -> None:
    from vasa_core.eval.video import check_plot_path, evaluate_video, save_plot

    plot = check_plot_path(args.plot) if args.plot else None  # before the work, not after
    result = evaluate_video(args.video, audio=args.audio, announce=sys.stderr.isatty())
    if plot:
        save_plot(result, plot)
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
        return
    print(result.table())
    if plot:
        print(f"plot saved to {plot}")


def cmd_schema(args: argparse.Namespace) -> None:
    from vasa_core import schema

    if args.json:
        rows = [vars(c) for c in schema.CHANNELS]
        print(json.dumps({"version": schema.SCHEMA_VERSION, "channels": rows}, indent=2))
    else:
        print(schema.describe())


def _add_output_options(verb: argparse.ArgumentParser) -> None:
    """What every verb that makes a talking-face video shares."""
    verb.add_argument("--size", choices=["256", "512", "full"], default="512")
    verb.add_argument(
        "--no-mark",
        action="store_true",
        help="leave out the visible AI-generated mark (keep the consent)",
    )
    verb.add_argument("--quiet", action="store_true")


def _output_size(args: argparse.Namespace) -> int | None:
    return None if args.size == "full" else int(args.size)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vasa", description="vasa-kit: audio-driven talking faces, to learn and demo."
    )
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    analyze = verbs.add_parser("analyze", help="face latents of a portrait")
    analyze.add_argument("image", help="image file, or example:astronaut|grace_hopper|drawn")
    analyze.add_argument("--json", action="store_true", help="print JSON instead of a table")
    analyze.add_argument("--save", metavar="LATENTS.npz", help="also save the latents")
    analyze.add_argument("--draw", metavar="OVERLAY.png", help="also draw mesh and fit")
    analyze.set_defaults(run=cmd_analyze)

    render = verbs.add_parser("render", help="decode a motion file onto a portrait (MP4)")
    render.add_argument("--image", required=True, help="portrait, or example:NAME")
    render.add_argument("--motion", required=True, metavar="M.npz", help="motion file")
    render.add_argument("--out", required=True, metavar="V.mp4", help="video to write")
    render.add_argument(
        "--size",
        choices=["256", "512", "full"],
        default="512",
        help="square crop around the head, or the whole portrait",
    )
    render.add_argument("--fps", type=float, help="frame rate (default: the file's, or 25)")
    render.add_argument("--audio", help="audio file to mux into the video")
    render.add_argument("--quiet", action="store_true", help="no progress bar")
    render.set_defaults(run=cmd_render)

    generate = verbs.add_parser("generate", help="a portrait and a voice in, a talking face out")
    generate.add_argument("--image", required=True, help="portrait, or example:NAME")
    voice_in = generate.add_mutually_exclusive_group(required=True)
    voice_in.add_argument("--audio", help="speech or song: wav, mp3, m4a, or a video's sound")
    voice_in.add_argument("--text", help="text to speak (espeak-ng)")
    generate.add_argument("--voice", default="en-us", help="voice for --text")
    generate.add_argument("--out", required=True, metavar="V.mp4")
    generate.add_argument("--emotion", default="neutral", choices=list(EMOTIONS))
    generate.add_argument("--intensity", type=float, default=0.7, help="emotion, 0-1")
    generate.add_argument("--gaze-yaw", type=float, default=0.0, help="main gaze, degrees")
    generate.add_argument("--gaze-pitch", type=float, default=0.0, help="main gaze, degrees")
    generate.add_argument("--distance", type=float, default=1.0, help="head size, 0.6-1.6")
    generate.add_argument("--motion", type=float, default=1.0, help="head motion, 0-2")
    generate.add_argument("--seed", type=int, default=0)
    generate.add_argument("--steps", type=int, default=10, help="diffusion steps, 1-100")
    generate.add_argument(
        "--checkpoint",
        metavar="CKPT.safetensors",
        help="a motion generator trained by vasa train (default: the shipped one)",
    )
    generate.add_argument(
        "--guidance", type=float, default=2.5, help="audio guidance scale, 0-10 (lip-sync)"
    )
    generate.add_argument("--fps", type=float, default=25.0)
    _add_output_options(generate)
    generate.set_defaults(run=cmd_generate)

    reenact = verbs.add_parser(
        "reenact", help="drive a portrait with the head motion and expressions of a video"
    )
    reenact.add_argument("--image", required=True, help="portrait, or example:NAME")
    reenact.add_argument("--video", required=True, help="a video of a face talking")
    reenact.add_argument("--out", required=True, metavar="V.mp4")
    _add_output_options(reenact)
    reenact.set_defaults(run=cmd_reenact)

    bench = verbs.add_parser("bench", help="render speed of this machine")
    bench.add_argument("--json", action="store_true")
    bench.add_argument("--frames", type=int, default=100, help="frames per measurement")
    bench.set_defaults(run=cmd_bench)

    tts = verbs.add_parser("tts", help="speech with phoneme timings (espeak-ng)")
    tts.add_argument("text", nargs="?", help="what to say")
    tts.add_argument("--out", metavar="A.wav", help="audio file to write")
    tts.add_argument("--voice", default="en-us", help="espeak-ng voice, e.g. en-us, fr, de+f3")
    tts.add_argument("--rate", type=int, default=165, help="words per minute (80-450)")
    tts.add_argument("--pitch", type=int, default=50, help="0-100")
    tts.add_argument("--phonemes", metavar="P.json", help="also write phoneme timings")
    tts.add_argument("--list-voices", action="store_true", help="list the voices and stop")
    tts.set_defaults(run=cmd_tts)

    features = verbs.add_parser("features", help="audio features of a sound or video file")
    features.add_argument("audio", help="wav, flac, ogg, mp3, m4a, or a video with sound")
    features.add_argument("--fps", type=float, default=25.0, help="video frames per second")
    features.add_argument("--max-minutes", type=float, default=10.0, help="length limit")
    features.add_argument("--json", action="store_true")
    features.set_defaults(run=cmd_features)

    corpus = verbs.add_parser("corpus", help="synthetic training corpus (speech + motion)")
    corpus.add_argument("--out", required=True, metavar="DIR", help="a new or empty folder")
    corpus.add_argument("--minutes", type=float, required=True, help="minutes of audio")
    corpus.add_argument("--seed", type=int, default=0, help="the same seed, the same corpus")
    corpus.add_argument("--fps", type=float, default=25.0)
    corpus.add_argument("--quiet", action="store_true", help="no progress bar")
    corpus.set_defaults(run=cmd_corpus)

    ingest = verbs.add_parser("ingest", help="training data from real talking-face videos")
    ingest.add_argument("videos", nargs="+", help="mp4, mov or webm files with sound")
    ingest.add_argument("--out", required=True, metavar="DIR", help="a new or empty folder")
    ingest.set_defaults(run=cmd_ingest)

    train = verbs.add_parser("train", help="train the motion generator on a corpus")
    train.add_argument("--data", required=True, metavar="DIR", help="a corpus folder")
    train.add_argument("--out", required=True, metavar="CKPT.safetensors")
    train.add_argument("--steps", type=int, default=6000)
    train.add_argument("--batch", type=int, default=32)
    train.add_argument("--lr", type=float, default=1e-3)
    train.add_argument("--width", type=int, default=128)
    train.add_argument("--layers", type=int, default=3)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--val-every", type=int, default=250)
    train.add_argument("--resume", action="store_true", help="continue from CKPT.train.pt")
    train.add_argument("--quiet", action="store_true")
    train.set_defaults(run=cmd_train)

    evaluate = verbs.add_parser(
        "eval", help="lip-sync, head motion, blinks and gaze of any talking-face video"
    )
    evaluate.add_argument("video", help="mp4, mov, webm, ... with a face (ours or anyone's)")
    evaluate.add_argument("--audio", help="sound to measure against instead of the video's own")
    evaluate.add_argument("--json", action="store_true", help="print JSON instead of a table")
    evaluate.add_argument(
        "--plot", metavar="P.png", help="also plot mouth vs loudness, pose, blinks, gaze"
    )
    evaluate.set_defaults(run=cmd_eval)

    schema = verbs.add_parser("schema", help="the channels of the motion latent")
    schema.add_argument("--json", action="store_true")
    schema.set_defaults(run=cmd_schema)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"vasa: warning: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    warnings.showwarning = _show_warning
    try:
        args.run(args)
    except VasaError as error:
        print(f"vasa: error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("vasa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away, e.g. `vasa tts --list-voices | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return 0
