"""Reenactment: a portrait driven by the head motion and expressions of a video.

    vasa reenact --image me.jpg --video driver.mp4 --out me_driven.mp4

The driver video is tracked with Face Mesh, the same measurement `vasa ingest` makes. Its
head motion, taken relative to the driver's own typical pose, goes on top of the portrait's
pose; its dynamics (mouth, blinks, brows, gaze) are used as they are, since every face
shares the rig's units. No diffusion model is involved: this is stage 1 run on a video and
stage 4 run on the portrait. The driver's sound, if it has any, is muxed in.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from vasa_core import schema
from vasa_core.errors import VasaError

ADDED = ("yaw", "pitch", "roll", "tx", "ty")  # driver's change from its median, added
SCALED = ("scale",)  # driver's ratio to its median, multiplied


def retarget(
    portrait: np.ndarray, driver: np.ndarray, valid: np.ndarray | None = None
) -> np.ndarray:
    """Motion [T, DIM] for the portrait (motion [DIM]) from a driver's measured motion."""
    driver = schema.check(driver)
    usable = driver if valid is None or not np.any(valid) else driver[np.asarray(valid, bool)]
    typical = np.median(usable, axis=0)
    motion = driver.copy()
    for name in ADDED:
        i = schema.index(name)
        motion[:, i] = driver[:, i] - typical[i] + portrait[i]
    for name in SCALED:
        i = schema.index(name)
        motion[:, i] = driver[:, i] / typical[i] * portrait[i]
    return np.clip(motion, schema.LOW, schema.HIGH)


def reenact(
    image,
    video: str | os.PathLike,
    out: str | os.PathLike,
    size: int | None = 512,
    mark: bool = True,
    progress: bool = False,
    max_seconds: float | None = None,
    on_frame: Callable[[int, np.ndarray, np.ndarray], None] | None = None,
    device=None,
) -> Path:
    """Write the portrait (image or FaceLatents) moving as the face in `video` does,
    rendered on `device` ("auto", "cpu" or "cuda")."""
    from vasa_core.face import analyze
    from vasa_core.face.track import track_video
    from vasa_core.media import check_audio, check_writable, write_talking_video
    from vasa_core.render import Renderer

    out = check_writable(out)
    latents = analyze(image) if not hasattr(image, "identity") else image
    driver, valid, fps = track_video(video, max_seconds)
    if not 1 <= fps <= 60:
        raise VasaError(f"{video}: frame rate {fps:g} is outside 1-60")
    try:
        check_audio(video)
        sound = video
    except VasaError:
        sound = None  # a silent driver gives a silent video
    motion = retarget(latents.motion, driver, valid)
    renderer = Renderer(latents, size=size, device=device)

    pairs = zip(motion, renderer.stream(motion), strict=True)
    return write_talking_video(
        out, pairs, len(motion), fps, sound, mark, progress, on_frame, "reenacting", " (reenacted)"
    )
