"""What the app's tabs share: the compute device, the analysed-portrait cache, one renderer
per portrait, the motion generator, request folders, error display, page values checked
against the knob table, and the live preview loop.

State lives here and only here, as module state: the device is chosen once at start-up,
models load once, and a few analysed portraits are kept so that moving an Edit slider does
not run Face Mesh again.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import sys
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import gradio as gr
import numpy as np
import torch

import vasa_core
from vasa_core import schema
from vasa_core.app.folders import FOLDER, WORK
from vasa_core.audio import load as audio_load
from vasa_core.device import device_from_environment, pick_device
from vasa_core.errors import VasaError
from vasa_core.face import FaceLatents, analyze
from vasa_core.face.image import as_rgb_array
from vasa_core.face.landmarks import several_faces
from vasa_core.render import Renderer

# Gradio's cache of uploads and answers: every 10 minutes, files older than an hour are
# deleted, and all of this app's when it exits (`gr.Blocks(delete_cache=...)`), also where
# the user chose the folder Gradio keeps them in.
DELETE_CACHE = (600, 3600)
MAX_SIDE = 4096  # larger uploads are refused with a reason, not silently shrunk
MAX_UPLOAD = "25mb"  # Gradio refuses bigger files before they reach us
MAX_SECONDS = audio_load.MAX_SECONDS  # the one audio limit, the CLI's too (10 minutes)
MAX_DRIVER_SECONDS = 60.0  # a driving video: a CPU tracks its face about as long as it plays
PREVIEW_EVERY_S = 0.5  # how often the live preview shows the newest frame
SIZES = ["256", "512", "full portrait"]  # the output-size choices of Generate and Reenact
KEEP_ANALYSED = 8  # portraits kept analysed (each holds its renderer's tensors)

_DEVICE: torch.device | None = None
_ANALYSED: OrderedDict[str, FaceLatents] = OrderedDict()
_LOCK = threading.Lock()
_PIPELINE = None


# The device ------------------------------------------------------------------------------


def use_device(choice: str | torch.device | None) -> torch.device:
    """Choose the device every stage computes on; `main` calls it once, at start-up.

    Raises VasaError for a name that is not cpu, cuda or auto, or cuda without a GPU."""
    global _DEVICE, _PIPELINE
    _DEVICE = pick_device(choice)
    _PIPELINE = None  # a generator loaded on another device is not reused
    return _DEVICE


def device() -> torch.device:
    """The device chosen at start-up (`VASA_DEVICE`, read now if nobody chose one yet:
    tests and notebooks call the handlers without starting the app)."""
    return _DEVICE if _DEVICE is not None else use_device(device_from_environment())


def device_line() -> str:
    """One line for the page, so a lecturer sees whether the GPU does the work."""
    chosen = device()
    where = (
        f"the GPU ({torch.cuda.get_device_name(chosen)})" if chosen.type == "cuda" else "the CPU"
    )
    return (
        f"Computing on **{chosen.type}**: {where}. Set `VASA_DEVICE` (cpu, cuda, auto) to change."
    )


# Portraits and the models that work on them ------------------------------------------------


def _portrait(image: np.ndarray | None) -> np.ndarray:
    if image is None:
        raise VasaError("upload a portrait or pick an example first")
    rgb = as_rgb_array(image)
    if max(rgb.shape[:2]) > MAX_SIDE:
        raise VasaError(f"the image is {rgb.shape[1]}x{rgb.shape[0]}; up to {MAX_SIDE} px a side")
    return rgb


def analysed(image: np.ndarray | FaceLatents | None) -> FaceLatents:
    """The face latents of a portrait, analysed once per distinct image (a few kept)."""
    if isinstance(image, FaceLatents):
        return image
    rgb = _portrait(image)
    key = hashlib.sha1(rgb.tobytes() + str(rgb.shape).encode()).hexdigest()
    with _LOCK:
        if key in _ANALYSED:
            _ANALYSED.move_to_end(key)
            return _ANALYSED[key]
    latents = analyze(rgb, name="portrait")  # outside the lock: Face Mesh takes a while
    if latents.n_faces > 1:  # the notice the CLI prints as a warning, once per portrait
        width = float(np.ptp(latents.landmarks[:, 0]))
        gr.Warning(several_faces("portrait", latents.n_faces, width))
    with _LOCK:
        _ANALYSED[key] = latents
        while len(_ANALYSED) > KEEP_ANALYSED:
            _ANALYSED.popitem(last=False)
    return latents


def renderer(latents: FaceLatents) -> Renderer:
    """One 512-pixel renderer per analysed portrait, kept with it, on the app's device."""
    cached = getattr(latents, "_renderer", None)
    if cached is None or cached.device != device():
        cached = Renderer(latents, size=512, device=device())
        latents._renderer = cached
    return cached


def pipeline():
    """The motion generator, loaded once for the whole app, on the app's device."""
    global _PIPELINE
    if _PIPELINE is None:
        from vasa_core.pipeline import Pipeline  # lazy: the first Generate pays for it

        _PIPELINE = Pipeline(device=device())
    return _PIPELINE


def size_choice(choice: str) -> int | None:
    """The renderer's size for an output-size radio choice (None: the full portrait)."""
    if choice not in SIZES:
        raise VasaError(f"output size {choice!r} is not one of {', '.join(SIZES)}")
    return None if choice == "full portrait" else int(choice)


# Requests ----------------------------------------------------------------------------------


@contextmanager
def shown_errors() -> Iterator[None]:
    """Our errors (a user's mistake) become a message in the page, not a traceback."""
    try:
        yield
    except VasaError as error:
        raise user_error(error) from None


def user_error(error: VasaError) -> gr.Error:
    """A user's mistake as a message in the page, without the server's folders in it, and
    as one line in the terminal: Gradio prints a traceback only for what is not ours (a
    bug), which is what a traceback is for."""
    message = without_server_folders(str(error))
    print(f"vasa-kit app: refused: {message}", file=sys.stderr, flush=True)
    return gr.Error(message, print_exception=False)


def without_server_folders(message: str) -> str:
    """`message` with the folders this server keeps files in cut from its paths: an upload
    is named by its own file name, not by where Gradio put it, a shipped file by its name,
    not by where vasa-kit is installed."""
    from gradio.utils import get_upload_folder

    folders = (FOLDER, FOLDER.resolve(), get_upload_folder(), Path(vasa_core.__file__).parent)
    for folder in {str(f) for f in folders}:
        # The folder and any subfolders under it (Gradio's hash-named ones), up to the name.
        message = re.sub(re.escape(folder) + r"/(?:[^/\s]+/)*", "", message)
    return message


@contextmanager
def request_folder() -> Iterator[Path]:
    """A folder for one request, removed afterwards whatever happens."""
    folder = Path(tempfile.mkdtemp(dir=WORK))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def knob_value(name: str, value: object) -> float:
    """A value from the page, checked against the knob table.

    The page's sliders cannot leave their range, but an API call can send anything: a
    number outside the range, None, or text. Each becomes a VasaError naming the knob."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise VasaError(f"{name} = {value!r} is not a number") from None
    return schema.knob(name).check(number)


def live(work: Callable[[Callable], Path], total_hint: str) -> Iterator[tuple]:
    """Run `work(on_frame)` in a thread and yield (preview frame, status, None, None) while it
    runs, then (None, status, video path, motion [T, DIM]): the preview is cleared once the
    video is there, so that the page shows the result alone, not a stale frame beside it.

    A thread, since Gradio streams what a generator yields: the request's own thread wakes
    every PREVIEW_EVERY_S to show the newest frame while the work goes on."""
    latest: dict = {"frame": None, "count": 0}
    rows: list[np.ndarray] = []
    result: dict = {}

    def on_frame(index, row, frame):
        latest["frame"], latest["count"] = frame, index + 1
        rows.append(row)

    def target():
        try:
            result["video"] = work(on_frame)
        except BaseException as error:  # handed to the request's thread below
            result["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    shown = -1
    while thread.is_alive():
        thread.join(PREVIEW_EVERY_S)
        if latest["count"] != shown and latest["frame"] is not None:
            shown = latest["count"]
            yield latest["frame"], f"frame {shown} {total_hint}", None, None
    if "error" in result:
        error = result["error"]
        if isinstance(error, VasaError):
            raise user_error(error) from None
        raise error
    yield None, f"done: {latest['count']} frames", result["video"], np.stack(rows)
