"""What several verbs share: reading a portrait (a path or `example:NAME`), the options of
a video they write (`--size`, `--no-mark`, `--quiet`), `--device`, and options whose
default and range come from the table of knobs in `vasa_core.schema`.

Nothing here imports torch or the face models at module level: `vasa --help` builds every
verb's parser, and it should answer at once.
"""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING

from vasa_core.device import CHOICES
from vasa_core.errors import VasaError
from vasa_core.schema import Knob, knob
from vasa_core.settings import Sampling

if TYPE_CHECKING:  # only for the hints: importing torch here would slow down `vasa --help`
    import numpy as np
    import torch

# What `add_parser` is called on; argparse keeps the type's name private.
Verbs = argparse._SubParsersAction

SIZES = ("256", "512", "full")


def read_portrait(spec: str) -> tuple[np.ndarray, str]:
    """The portrait at a path, or `example:NAME` for a bundled one, and its name."""
    from vasa_core import examples
    from vasa_core.face.image import load_image

    if spec.startswith(examples.PREFIX):
        return examples.load(spec), spec
    return load_image(spec), spec


def add_size_option(verb: argparse.ArgumentParser, help: str | None = None) -> None:
    verb.add_argument("--size", choices=list(SIZES), default="512", help=help)


def add_output_options(verb: argparse.ArgumentParser) -> None:
    """What every verb that makes a talking-face video shares."""
    add_size_option(verb)
    verb.add_argument(
        "--no-mark",
        action="store_true",
        help="leave out the visible AI-generated mark (keep the consent)",
    )
    verb.add_argument("--quiet", action="store_true", help="no progress bar")


def output_size(args: argparse.Namespace) -> int | None:
    """`--size` as the renderer takes it: pixels, or None for the whole portrait."""
    return None if args.size == "full" else int(args.size)


def add_device_option(verb: argparse.ArgumentParser, help: str | None = None) -> None:
    verb.add_argument(
        "--device",
        choices=list(CHOICES),
        default="auto",
        help=help or "where to compute: auto (CUDA when there is one), cpu or cuda",
    )


def chosen_device(args: argparse.Namespace) -> torch.device:
    """The torch device `--device` names; one clear error if it is not on this machine."""
    from vasa_core.device import pick_device

    return pick_device(args.device)


def _range(k: Knob) -> str:
    """`low..high unit`; a unit that only restates the range (`0-1`) is left out."""
    unit = "" if k.unit == f"{k.low:g}-{k.high:g}" else f" {k.unit}"
    return f"{k.low:g}..{k.high:g}{unit}"


def add_knob_option(
    verb: argparse.ArgumentParser, flag: str, name: str, kind: type = float
) -> None:
    """An option whose default and the range in its help are those of knob `name`; the
    runner checks the value with `check_knob_options` before any work."""
    k = knob(name)
    verb.add_argument(
        flag,
        type=kind,
        default=kind(k.default),
        help=f"{k.doc} ({_range(k)}; default {k.default:g})",
    )
    # Remember which knob bounds which option, for the check.
    knobs = verb.get_default("knob_options") or {}
    verb.set_defaults(knob_options={**knobs, flag: name})


def check_knob_options(args: argparse.Namespace) -> None:
    """One clear error, naming the option as the user typed it, for the first value given
    outside its knob's range."""
    for flag, name in args.knob_options.items():
        check_knob(flag, name, getattr(args, flag.lstrip("-").replace("-", "_")))


def check_knob(flag: str, name: str, value: float) -> float:
    """`value`, given as `flag`, checked on knob `name`: one clear error naming the option
    if it is outside the range."""
    k = knob(name)
    try:
        return k.check(value)  # the range test itself lives in one place, `Knob.check`
    except VasaError:
        raise VasaError(f"{flag} {value:g} is outside {_range(k)} ({k.doc})") from None


def add_max_minutes_option(verb: argparse.ArgumentParser) -> None:
    """`--max-minutes`: the audio length limit (the app's too), raised for one run."""
    from vasa_core.audio.load import MAX_SECONDS

    verb.add_argument(
        "--max-minutes",
        type=float,
        default=MAX_SECONDS / 60,
        help=f"refuse longer audio (default {MAX_SECONDS / 60:g}, i.e. {MAX_SECONDS:g} s)",
    )


def max_seconds(args: argparse.Namespace) -> float:
    """`--max-minutes` in seconds, refused unless a finite number above 0."""
    if not 0 < args.max_minutes < math.inf:  # False for NaN too
        raise VasaError(f"--max-minutes {args.max_minutes:g} must be a number of minutes above 0")
    return args.max_minutes * 60


def number_pair(text: str) -> tuple[float, float]:
    """An option's value A,B as two numbers (an argparse type)."""
    try:
        first, second = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give two numbers, A,B") from None
    return first, second


def add_lip_options(parser: argparse.ArgumentParser) -> None:
    """--lip-audio-guidance, --closure-guidance and --closure-ramp, defaulting to `Sampling`'s
    (for the benchmarks that choose them; `lip_sampling` reads them back)."""
    defaults = Sampling()
    parser.add_argument(
        "--lip-audio-guidance",
        type=float,
        default=defaults.lip_audio_guidance,
        help="the lips' audio guidance, times the face's",
    )
    parser.add_argument(
        "--closure-guidance",
        type=float,
        default=defaults.closure_guidance,
        help="the lips' pull towards shut where the encoder hears p/b/m, 0-1",
    )
    parser.add_argument(
        "--closure-ramp",
        type=number_pair,
        default=defaults.closure_ramp,
        metavar="START,FULL",
        help="bilabial posteriors where that pull starts and where it is whole",
    )


def lip_sampling(parser: argparse.ArgumentParser, args: argparse.Namespace, **others) -> Sampling:
    """The `Sampling` of `add_lip_options`' values and `others`; a bad one ends the run with
    the parser's one-line error."""
    try:
        return Sampling(
            lip_audio_guidance=args.lip_audio_guidance,
            closure_guidance=args.closure_guidance,
            closure_ramp=args.closure_ramp,
            **others,
        )
    except VasaError as error:
        parser.error(str(error))
