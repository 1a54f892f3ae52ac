"""The verbs that make a talking-face video: `generate` (a portrait and a voice), `render`
(a portrait and a motion file) and `reenact` (a portrait and a driving video)."""

from __future__ import annotations

import argparse

from vasa_core.cli.common import (
    Verbs,
    add_device_option,
    add_knob_option,
    add_max_minutes_option,
    add_output_options,
    add_size_option,
    check_knob,
    check_knob_options,
    chosen_device,
    max_seconds,
    output_size,
    read_portrait,
)
from vasa_core.errors import TooLong, VasaError
from vasa_core.motion.controls import EMOTIONS
from vasa_core.schema import check_seed


def add_generate(verbs: Verbs) -> None:
    verb = verbs.add_parser("generate", help="a portrait and a voice in, a talking face out")
    verb.add_argument("--image", required=True, help="portrait, or example:NAME")
    voice_in = verb.add_mutually_exclusive_group(required=True)
    voice_in.add_argument("--audio", help="speech or song: wav, mp3, m4a, or a video's sound")
    voice_in.add_argument("--text", help="text to speak (espeak-ng)")
    verb.add_argument("--voice", default="en-us", help="voice for --text")
    verb.add_argument("--out", required=True, metavar="V.mp4")
    verb.add_argument("--emotion", default="neutral", choices=list(EMOTIONS))
    add_knob_option(verb, "--intensity", "intensity")
    add_knob_option(verb, "--gaze-yaw", "gaze_yaw")
    add_knob_option(verb, "--gaze-pitch", "gaze_pitch")
    add_knob_option(verb, "--distance", "distance")
    add_knob_option(verb, "--motion", "motion")
    verb.add_argument("--seed", type=int, default=0)
    add_knob_option(verb, "--steps", "steps", int)
    verb.add_argument(
        "--checkpoint",
        metavar="CKPT.safetensors",
        help="a motion generator trained by vasa train (default: the shipped one)",
    )
    add_knob_option(verb, "--guidance", "audio_guidance")
    add_knob_option(verb, "--fps", "fps")
    add_max_minutes_option(verb)
    add_output_options(verb)
    add_device_option(verb)
    verb.set_defaults(run=run_generate)


def run_generate(args: argparse.Namespace) -> None:
    from vasa_core.files import check_input
    from vasa_core.media import check_writable
    from vasa_core.motion.controls import Controls
    from vasa_core.pipeline import Pipeline
    from vasa_core.settings import Sampling

    # Every mistake the user can make is refused before the models load.
    check_knob_options(args)
    check_seed(args.seed)
    limit = max_seconds(args)
    check_writable(args.out)
    if args.audio is not None:
        check_input(args.audio, "an audio file")
    device = chosen_device(args)
    controls = Controls(
        gaze_yaw=args.gaze_yaw,
        gaze_pitch=args.gaze_pitch,
        distance=args.distance,
        emotion=args.emotion,
        intensity=args.intensity if args.emotion != "neutral" else 0.0,
        motion=args.motion,
    )
    sampling = Sampling(steps=args.steps, audio_guidance=args.guidance)
    image, _ = read_portrait(args.image)
    try:
        out = Pipeline(args.checkpoint, device=device).generate(
            image,
            args.out,
            audio=args.audio,
            text=args.text,
            voice=args.voice,
            controls=controls,
            seed=args.seed,
            sampling=sampling,
            size=output_size(args),
            fps=args.fps,
            mark=not args.no_mark,
            progress=not args.quiet,
            max_seconds=limit,
        )
    except TooLong as error:
        raise VasaError(f"{error}; --max-minutes raises it") from None
    print(f"{out}: written")


def add_render(verbs: Verbs) -> None:
    verb = verbs.add_parser("render", help="decode a motion file onto a portrait (MP4)")
    verb.add_argument("--image", required=True, help="portrait, or example:NAME")
    verb.add_argument("--motion", required=True, metavar="M.npz", help="motion file")
    verb.add_argument("--out", required=True, metavar="V.mp4", help="video to write")
    add_size_option(verb, help="square crop around the head, or the whole portrait")
    verb.add_argument("--fps", type=float, help="frame rate (default: the file's, or 25)")
    verb.add_argument("--audio", help="audio file to mux into the video")
    verb.add_argument(
        "--no-mark",
        action="store_true",
        help="leave out the visible AI-generated mark (keep the consent)",
    )
    verb.add_argument("--quiet", action="store_true", help="no progress bar")
    add_device_option(verb)
    verb.set_defaults(run=run_render)


def run_render(args: argparse.Namespace) -> None:
    from vasa_core.media import check_audio, check_writable, write_talking_video
    from vasa_core.motion.io import load_motion

    # The user's mistakes first, before torch and Face Mesh load.
    out = check_writable(args.out)
    if args.fps is not None:  # 0 is a value to refuse, not "unset"
        check_knob("--fps", "fps", args.fps)
    if args.audio is not None:  # before the frames are rendered, not after
        check_audio(args.audio)
    device = chosen_device(args)
    motion, file_fps = load_motion(args.motion)
    fps = args.fps if args.fps is not None else file_fps or 25.0
    image, name = read_portrait(args.image)

    from vasa_core.face import analyze
    from vasa_core.render import Renderer

    latents = analyze(image, name=name)
    renderer = Renderer(latents, size=output_size(args), device=device)
    # The mark and the metadata tag as `vasa generate` writes them (--no-mark leaves them out).
    pairs = zip(motion, renderer.stream(motion), strict=True)
    write_talking_video(
        out,
        pairs,
        len(motion),
        fps,
        args.audio,
        mark=not args.no_mark,
        progress=not args.quiet,
        desc="rendering",
        how=" (rendered from a motion file)",
    )
    height, width = renderer.frame_shape
    print(f"{out}: {len(motion)} frames, {width}x{height} at {fps:g} fps")


def add_reenact(verbs: Verbs) -> None:
    verb = verbs.add_parser(
        "reenact", help="drive a portrait with the head motion and expressions of a video"
    )
    verb.add_argument("--image", required=True, help="portrait, or example:NAME")
    verb.add_argument("--video", required=True, help="a video of a face talking")
    verb.add_argument("--out", required=True, metavar="V.mp4")
    add_output_options(verb)
    add_device_option(verb)
    verb.set_defaults(run=run_reenact)


def run_reenact(args: argparse.Namespace) -> None:
    from vasa_core.files import check_input
    from vasa_core.media import check_video, check_writable
    from vasa_core.reenact import reenact

    check_writable(args.out)
    device = chosen_device(args)
    # A driver that is no video is refused before Face Mesh starts on the portrait.
    check_video(check_input(args.video, "a video", missing="video"))
    image, _ = read_portrait(args.image)
    out = reenact(
        image,
        args.video,
        args.out,
        size=output_size(args),
        mark=not args.no_mark,
        progress=not args.quiet,
        device=device,
    )
    print(f"{out}: written")
