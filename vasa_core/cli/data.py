"""The verbs of speech and training data: `tts` (speech with phoneme timings), `corpus` (a
synthetic training corpus), `ingest` (a corpus from real videos) and `train` (the motion
generator on a corpus)."""

from __future__ import annotations

import argparse
import json

from vasa_core.cli.common import Verbs, add_device_option, chosen_device
from vasa_core.errors import VasaError
from vasa_core.files import check_output
from vasa_core.schema import check_seed


def add_tts(verbs: Verbs) -> None:
    verb = verbs.add_parser("tts", help="speech with phoneme timings (espeak-ng)")
    verb.add_argument("text", nargs="?", help="what to say")
    verb.add_argument("--out", metavar="A.wav", help="audio file to write")
    verb.add_argument("--voice", default="en-us", help="espeak-ng voice, e.g. en-us, fr, de+f3")
    verb.add_argument("--rate", type=int, default=165, help="words per minute (80-450)")
    verb.add_argument("--pitch", type=int, default=50, help="0-100")
    verb.add_argument("--phonemes", metavar="P.json", help="also write phoneme timings")
    verb.add_argument("--list-voices", action="store_true", help="list the voices and stop")
    verb.set_defaults(run=run_tts)


def run_tts(args: argparse.Namespace) -> None:
    from vasa_core.audio import tts

    if args.list_voices:
        print("\n".join(tts.voices()))
        return
    # TEXT is optional for argparse only so that `--list-voices` can stand alone.
    if args.text is None or args.out is None:
        raise VasaError("give the TEXT to speak and --out A.wav (or --list-voices)")
    check_output(args.out, ".wav", "speech")  # WAV only: an .mp3 path would get WAV bytes
    if args.phonemes:
        check_output(args.phonemes, ".json", "phoneme timings")
    speech = tts.synthesize(args.text, voice=args.voice, rate=args.rate, pitch=args.pitch)
    tts.save_speech(speech, args.out, args.phonemes)
    spoken = sum(1 for s, _, _ in speech.phonemes if s != tts.SILENCE)
    print(f"{args.out}: {speech.seconds:.2f} s, {spoken} phonemes, voice {args.voice}")
    if args.phonemes:
        print(f"phoneme timings saved to {args.phonemes}")


def add_corpus(verbs: Verbs) -> None:
    verb = verbs.add_parser("corpus", help="synthetic training corpus (speech + motion)")
    verb.add_argument("--out", required=True, metavar="DIR", help="a new or empty folder")
    verb.add_argument("--minutes", type=float, required=True, help="minutes of audio")
    verb.add_argument("--seed", type=int, default=0, help="the same seed, the same corpus")
    verb.add_argument("--fps", type=float, default=25.0)
    verb.add_argument(
        "--engines",
        default="espeak",
        help="speech engines, comma-separated: espeak, festival (Debian's festival voices)",
    )
    verb.add_argument(
        "--singing",
        type=float,
        default=0.0,
        help="share of clips sung (held notes on a melody, exact times), 0-1",
    )
    verb.add_argument("--quiet", action="store_true", help="no progress bar")
    verb.set_defaults(run=run_corpus)


def run_corpus(args: argparse.Namespace) -> None:
    from vasa_core.data import corpus

    check_seed(args.seed)
    engines = tuple(name.strip() for name in args.engines.split(",") if name.strip())
    manifest = corpus.build(
        args.out,
        minutes=args.minutes,
        seed=args.seed,
        fps=args.fps,
        progress=not args.quiet,
        engines=engines,
        singing=args.singing,
    )
    info = json.loads(manifest.read_text())
    print(
        f"{args.out}: {info['minutes']:.1f} minutes, {info['clips']} clips, "
        f"{len(info['shards'])} shards, {len(info['voices'])} voices "
        f"({info['build_seconds']:.0f} s)"
    )


def add_ingest(verbs: Verbs) -> None:
    verb = verbs.add_parser("ingest", help="training data from real talking-face videos")
    verb.add_argument("videos", nargs="+", help="mp4, mov or webm files with sound")
    verb.add_argument("--out", required=True, metavar="DIR", help="a new or empty folder")
    verb.set_defaults(run=run_ingest)


def run_ingest(args: argparse.Namespace) -> None:
    from vasa_core.data.ingest import ingest

    manifest, report = ingest(args.videos, args.out)
    print("\n".join(report))
    print(f"corpus written to {manifest.parent}")


def add_train(verbs: Verbs) -> None:
    verb = verbs.add_parser("train", help="train the motion generator on a corpus")
    verb.add_argument("--data", required=True, metavar="DIR", help="a corpus folder")
    verb.add_argument("--out", required=True, metavar="CKPT.safetensors")
    verb.add_argument("--steps", type=int, default=6000)
    verb.add_argument("--batch", type=int, default=32)
    verb.add_argument("--lr", type=float, default=1e-3)
    verb.add_argument("--width", type=int, default=128)
    verb.add_argument("--layers", type=int, default=3)
    verb.add_argument(
        "--window", type=int, default=50, help="frames made at once (1 for the live model)"
    )
    verb.add_argument("--context", type=int, default=10, help="frames of context it sees")
    verb.add_argument("--seed", type=int, default=0)
    verb.add_argument("--val-every", type=int, default=250)
    verb.add_argument("--resume", action="store_true", help="continue from CKPT.train.pt")
    verb.add_argument(
        "--init",
        metavar="CKPT",
        help="start from this motion checkpoint's weights and normalisation (fine-tuning)",
    )
    verb.add_argument(
        "--closure-weight",
        type=float,
        default=0.0,
        help="weight of the mouth's error again at brief lip closures (p, b, m)",
    )
    verb.add_argument("--quiet", action="store_true", help="no progress bar")
    add_device_option(verb)
    verb.set_defaults(run=run_train)


def run_train(args: argparse.Namespace) -> None:
    from vasa_core.motion.model import Config
    from vasa_core.training import train

    check_seed(args.seed)
    device = chosen_device(args)
    if args.window < 1 or args.context < 1:
        raise VasaError(
            f"--window and --context must be at least 1, not {args.window}, {args.context}"
        )
    if args.closure_weight < 0:
        raise VasaError(f"--closure-weight must be 0 or more, not {args.closure_weight}")
    if args.init and args.resume:
        raise VasaError("--init starts a new run from a checkpoint; --resume continues one")
    config = Config(window=args.window, context=args.context, width=args.width, layers=args.layers)
    out = train(
        args.data,
        args.out,
        steps=args.steps,
        batch_size=args.batch,
        lr=args.lr,
        seed=args.seed,
        resume=args.resume,
        config=config,
        init=args.init,
        closure_weight=args.closure_weight,
        val_every=args.val_every,
        progress=not args.quiet,
        device=device,
    )
    print(f"checkpoint written to {out}")
