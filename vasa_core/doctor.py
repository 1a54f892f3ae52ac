"""`vasa doctor`: is this install ready for a class? Each part the kit needs, tried for real
in a few seconds, with one line per part and what to do when it fails.

A lecturer runs it before the lab (`make check` does), on every student machine: a missing
ffmpeg or a broken MediaPipe wheel is then found before the demo, not in it. The checks run
the kit's own code on the bundled drawn portrait and a one-word sentence, so a pass means
the parts that generate a video work, not only that they import.
"""

from __future__ import annotations

import platform
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vasa_core.errors import VasaError


@dataclass
class Check:
    name: str
    ok: bool
    detail: str  # what was found, or what to do about it
    seconds: float
    required: bool = True


def _python() -> str:
    version = sys.version_info
    if not (3, 10) <= version[:2] <= (3, 12):
        raise VasaError(f"Python {platform.python_version()}; vasa-kit needs 3.10-3.12")
    return f"Python {platform.python_version()} on {platform.system()} {platform.machine()}"


def _torch() -> str:
    import torch

    from vasa_core.device import pick_device

    device = pick_device()
    where = torch.cuda.get_device_name(0) if device.type == "cuda" else "CPU"
    return f"torch {torch.__version__}, computing on {where}"


def _face_mesh() -> str:
    from vasa_core import examples
    from vasa_core.face import analyze

    face = analyze(examples.load("drawn"), name="drawn")
    return f"MediaPipe Face Mesh found the drawn example ({len(face.landmarks)} landmarks)"


def _espeak() -> str:
    from vasa_core.audio import tts

    speech = tts.synthesize("Hello.", voice="en-us")
    seconds = len(speech.samples) / speech.rate
    return f"espeak-ng spoke {seconds:.2f} s, {len(speech.phonemes)} phonemes"


def _festival() -> str:
    from vasa_core.audio import festival

    if not festival.installed():
        raise VasaError("not installed (optional: apt install festival festvox-kdlpc16k)")
    return f"festival with {len(festival.installed_voices())} voice(s)"


def _checkpoints() -> str:
    from vasa_core.audio.encoder import load_encoder
    from vasa_core.motion.checkpoint import load_checkpoint

    load_encoder()
    load_checkpoint()
    return "the phonetic encoder and the motion generator load"


def _video() -> str:
    """A one-second video of the drawn face, written through ffmpeg: every stage at once."""
    from vasa_core import examples
    from vasa_core.media import check_video, read_video
    from vasa_core.motion.controls import Controls
    from vasa_core.pipeline import Pipeline
    from vasa_core.settings import Sampling

    with tempfile.TemporaryDirectory(prefix="vasa-doctor-") as folder:
        out = Path(folder) / "check.mp4"
        Pipeline().generate(
            examples.load("drawn"),
            out,
            text="Hello.",
            controls=Controls(),
            sampling=Sampling(steps=2),
            size=256,
        )
        info = check_video(out)
        frames, fps = read_video(out)
    if not info.has_audio:
        raise VasaError("the video was written without its sound track")
    size = f"{frames.shape[2]}x{frames.shape[1]}"
    return f"a {len(frames)}-frame video with sound at {fps:g} fps, {size} px, via ffmpeg"


def _app() -> str:
    import gradio

    return f"Gradio {gradio.__version__} (the app: make demo)"


CHECKS: tuple[tuple[str, Callable[[], str], bool], ...] = (
    ("python", _python, True),
    ("torch", _torch, True),
    ("face mesh", _face_mesh, True),
    ("speech", _espeak, True),
    ("festival", _festival, False),
    ("checkpoints", _checkpoints, True),
    ("app", _app, True),
    ("video", _video, True),
)


def run() -> list[Check]:
    """Every check, in order; a failing one does not stop the rest."""
    results = []
    for name, check, required in CHECKS:
        start = time.perf_counter()
        try:
            detail, ok = check(), True
        except VasaError as error:
            detail, ok = str(error), False
        except Exception as error:  # noqa: BLE001 (a broken install raises anything)
            detail, ok = f"{type(error).__name__}: {error}", False
        results.append(Check(name, ok, detail, time.perf_counter() - start, required))
    return results


def table(results: list[Check]) -> str:
    """One line per check, then the verdict."""
    lines = []
    for c in results:
        mark = "ok  " if c.ok else ("FAIL" if c.required else "--  ")
        lines.append(f"{mark} {c.name:<12} {c.seconds:5.1f} s  {c.detail}")
    failed = [c.name for c in results if c.required and not c.ok]
    lines.append(
        "ready: every part the kit needs works"
        if not failed
        else f"not ready: {', '.join(failed)} failed (see tutorials/troubleshooting.md)"
    )
    return "\n".join(lines)
