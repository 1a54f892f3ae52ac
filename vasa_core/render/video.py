"""Writing frames to an H.264 MP4 (yuv420p, plays in browsers) with the audio muxed in.

Uses the ffmpeg binary that imageio-ffmpeg ships. The file is written under a temporary
name next to the target and moved into place only when complete, so a failed or
interrupted run never leaves a half-written video behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from vasa_core.errors import VasaError


def check_writable(path: str | os.PathLike) -> Path:
    """Fail early, before any work, if `path` cannot be written."""
    path = Path(path)
    if path.suffix.lower() != ".mp4":
        raise VasaError(f"{path}: videos are written as .mp4")
    if path.is_dir():
        raise VasaError(f"{path}: is a directory")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise VasaError(f"{path}: cannot write here (no folder {folder})")
    if not os.access(folder, os.W_OK):
        raise VasaError(f"{path}: cannot write here (permission denied)")
    return path


def check_audio(path: str | os.PathLike) -> None:
    """Fail clearly unless ffmpeg finds an audio stream in `path`."""
    import subprocess

    import imageio_ffmpeg

    if not Path(path).is_file():
        raise VasaError(f"{path}: no such audio file")
    probe = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if "Audio:" not in probe.stderr:
        raise VasaError(f"{path}: no audio that ffmpeg can read in this file")


def write_video(
    path: str | os.PathLike,
    frames: Iterable[np.ndarray],
    fps: float = 25.0,
    audio: str | os.PathLike | None = None,
) -> Path:
    """Write frames ([H, W, 3] uint8, any iterable) to `path`; returns the path."""
    import imageio_ffmpeg

    path = check_writable(path)
    if audio is not None:
        check_audio(audio)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".vasa-", suffix=".mp4")
    os.close(handle)
    writer = None
    try:
        count = 0
        for frame in frames:
            frame = _even(np.ascontiguousarray(frame, dtype=np.uint8))
            if writer is None:
                height, width = frame.shape[:2]
                writer = imageio_ffmpeg.write_frames(
                    temporary,
                    (width, height),
                    fps=fps,
                    codec="libx264",
                    pix_fmt_out="yuv420p",
                    macro_block_size=2,
                    quality=None,
                    output_params=["-crf", "18", "-preset", "veryfast", "-movflags", "+faststart"]
                    + (["-shortest"] if audio is not None else []),
                    audio_path=None if audio is None else str(audio),
                    audio_codec=None if audio is None else "aac",
                    ffmpeg_log_level="error",
                )
                writer.send(None)
            writer.send(frame)
            count += 1
        if writer is None:
            raise VasaError(f"{path}: no frames to write")
        writer.close()
        writer = None
        os.replace(temporary, path)
        return path
    except (OSError, RuntimeError) as error:  # ffmpeg refused (e.g. an unreadable audio file)
        last = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
        what = f" with audio {audio}" if audio is not None else ""
        raise VasaError(f"{path}: ffmpeg could not write the video{what} ({last})") from None
    finally:
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.close()
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)


def _even(frame: np.ndarray) -> np.ndarray:
    """H.264 in yuv420p needs even sides: repeat the last row or column if needed."""
    height, width = frame.shape[:2]
    if height % 2:
        frame = np.concatenate([frame, frame[-1:]], axis=0)
    if width % 2:
        frame = np.concatenate([frame, frame[:, -1:]], axis=1)
    return frame


def read_video(path: str | os.PathLike) -> tuple[np.ndarray, float]:
    """All frames [T, H, W, 3] uint8 and the frame rate of a video file."""
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    width, height = meta["size"]
    frames = [np.frombuffer(f, np.uint8).reshape(height, width, 3) for f in reader]
    return np.stack(frames), float(meta["fps"])
