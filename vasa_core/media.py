"""Media files in and out, all through one module: probing what a file holds, reading audio
and video frames, and writing frames as an H.264 MP4 (yuv420p, plays in browsers) with the
sound muxed in.

WAV, FLAC and OGG are read by libsndfile (soundfile); everything else, MP3, M4A/AAC and the
sound of MP4/WebM/MOV videos, and every video, by the ffmpeg that imageio-ffmpeg ships.
A video is written under a temporary name next to the target and moved into place only
when complete, so a failed or interrupted run never leaves a half-written video behind.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vasa_core.errors import TooLong, VasaError
from vasa_core.files import (
    DISK_ERRORS,
    check_output,
    temporary_beside,
    usual_permissions,
    write_failed,
)
from vasa_core.native import quiet_stderr

if TYPE_CHECKING:
    import torch

MARK = "AI-generated"  # drawn into every frame a talking-face video is made of


def check_writable(path: str | os.PathLike) -> Path:
    """Fail early, before any work, if the video cannot be written at `path`."""
    return check_output(path, ".mp4", "video")


def describe_media(path: str | os.PathLike) -> str:
    """ffmpeg's description of a media file: its streams, duration, or why it cannot read it
    (what `ffmpeg -i` prints)."""
    import imageio_ffmpeg

    result = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
        capture_output=True,
        text=True,
        errors="replace",
        stdin=subprocess.DEVNULL,
    )
    return result.stderr


def check_audio(path: str | os.PathLike) -> None:
    """Fail clearly unless ffmpeg finds an audio stream in `path`."""
    if not Path(path).is_file():
        raise VasaError(f"{path}: no such audio file")
    if "Audio:" not in describe_media(path):
        raise VasaError(f"{path}: no audio that ffmpeg can read in this file")


@dataclass(frozen=True)
class VideoInfo:
    """What ffmpeg finds in a video file besides its pictures."""

    has_audio: bool
    seconds: float | None  # None where the container does not say


# ffmpeg's demuxers for a single picture (whose one frame it calls a video stream), and for
# text (which it renders as a video).
_PICTURE_DEMUXER = re.compile(r"^(image2|\w+_pipe)$")
_TEXT_DEMUXER = "tty"


def _not_media(description: str) -> str | None:
    """What a file that ffmpeg opened is if it is no sound or video ("a text file", "a still
    picture"), from ffmpeg's description of it; None for anything else."""
    demuxer = re.search(r"^Input #0, ([^,]+)", description, re.MULTILINE)
    name = demuxer.group(1) if demuxer else None
    if name == _TEXT_DEMUXER:
        return "a text file"
    if name and _PICTURE_DEMUXER.match(name):
        return "a still picture"
    return None


def check_video(path: str | os.PathLike) -> VideoInfo:
    """What a video file holds, or one clear error if it is not a video: text, a still
    picture, or something ffmpeg cannot read (with ffmpeg's reason, not its whole log)."""
    text = describe_media(path)
    if kind := _not_media(text):
        raise VasaError(f"{path}: {kind}, not a video")
    # A sound file's cover art is a video stream to ffmpeg, but not a video.
    has_video = re.search(r"Stream #\S+.*: Video:(?!.*attached pic)", text) is not None
    if not has_video:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        reason = lines[-1] if lines else "no video stream"
        reason = reason.replace(str(path), "").lstrip(": ") or "no video stream"
        if "At least one output file" in reason:  # ffmpeg read it but found no video in it
            reason = "no video stream"
        raise VasaError(f"{path}: not a video file ffmpeg can read ({reason})")
    has_audio = re.search(r"Stream #\S+.*: Audio:", text) is not None
    return VideoInfo(has_audio, _duration(text))


def _duration(description: str) -> float | None:
    """Seconds from ffmpeg's "Duration: 00:01:02.50" (None for "Duration: N/A")."""
    found = re.search(r"Duration: (\d+):(\d+):([\d.]+)", description)
    if not found:
        return None
    hours, minutes, seconds = found.groups()
    return 3600 * int(hours) + 60 * int(minutes) + float(seconds)


def too_long(what: object, seconds: float, limit: float) -> TooLong:
    """The one wording of a length limit, in seconds, exact enough to show the excess."""
    shown = f"{seconds:.1f}"
    if float(shown) <= limit:  # 600.04 s is not "600.0 s is longer than 600 s"
        shown = f"{seconds:.3f}"
    minutes = f" ({limit / 60:g} minutes)" if limit >= 60 else ""
    return TooLong(f"{what}: {shown} s is longer than the limit of {limit:g} s{minutes}")


def write_video(
    path: str | os.PathLike,
    frames: Iterable[np.ndarray],
    fps: float = 25.0,
    audio: str | os.PathLike | None = None,
    metadata: dict[str, str] | None = None,
) -> Path:
    """Write frames ([H, W, 3] uint8, any iterable) to `path`; returns the path.

    `metadata` becomes container tags (e.g. {"comment": "AI-generated by vasa-kit"}).
    """
    path = check_writable(path)
    if audio is not None:
        check_audio(audio)
    handle, temporary = temporary_beside(path, suffix=".mp4")
    os.close(handle)
    encoder = None
    try:
        for frame in frames:
            frame = _even(np.ascontiguousarray(frame, dtype=np.uint8))
            if encoder is None:
                encoder = _H264(temporary, frame.shape[:2], fps, audio, metadata)
            encoder.send(frame)
        if encoder is None:
            raise VasaError(f"{path}: no frames to write")
        encoder.finish()
        usual_permissions(temporary)
        os.replace(temporary, path)
        return path
    except _FfmpegFailed as failed:
        raise _video_error(path, audio, failed.log) from None
    finally:
        if encoder is not None:
            encoder.stop()
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)


def _video_error(path: Path, audio, log: str) -> VasaError:
    """One line for ffmpeg's failure: the disk's refusal if that was it (ffmpeg's own lines
    say it four ways), else ffmpeg's last line."""
    for code in DISK_ERRORS:
        if os.strerror(code) in log:
            return write_failed([path], OSError(code, os.strerror(code)))
    lines = [re.sub(r"^\[[^]]*\]\s*", "", line).strip() for line in log.splitlines()]
    last = next((line for line in reversed(lines) if line), "ffmpeg stopped")
    what = f" with audio {audio}" if audio is not None else ""
    return VasaError(f"{path}: ffmpeg could not write the video{what} ({last})")


class _FfmpegFailed(Exception):
    def __init__(self, log: str):
        self.log = log


class _H264:
    """An ffmpeg encoding raw RGB frames from its stdin into an MP4 that browsers play
    (H.264, yuv420p, AAC sound). What ffmpeg says goes to an unnamed temporary file, read
    back only to explain a failure: a user sees one line, not ffmpeg's."""

    def __init__(self, path: str, shape: tuple[int, int], fps: float, audio, metadata) -> None:
        import imageio_ffmpeg

        height, width = shape
        rate = str(Fraction(fps).limit_denominator())  # 29.97 stays 30000/1001
        raw = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", rate]
        sound = ["-an"] if audio is None else ["-i", str(audio)]
        mapping = [] if audio is None else ["-map", "0:v:0", "-map", "1:a:0", "-c:a", "aac"]
        tags = [arg for k, v in (metadata or {}).items() for arg in ("-metadata", f"{k}={v}")]
        command = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error", *raw, "-i", "-"]
        command += [*sound, "-c:v", "libx264", "-pix_fmt", "yuv420p", *mapping]
        command += ["-crf", "18", "-preset", "veryfast", "-movflags", "+faststart"]
        command += (["-shortest"] if audio is not None else []) + tags + [path]
        self.log = tempfile.TemporaryFile()
        # A session of its own: Ctrl-C reaches us, and we stop ffmpeg, rather than ffmpeg
        # dying first and a broken pipe passing for an ffmpeg error.
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            start_new_session=True,
        )

    def send(self, frame: np.ndarray) -> None:
        try:
            self.process.stdin.write(memoryview(frame).cast("B"))
        except BrokenPipeError:  # ffmpeg stopped: its log says why
            self.finish()
            raise _FfmpegFailed("ffmpeg stopped reading frames") from None

    def finish(self) -> None:
        """Let ffmpeg write the file's end; _FfmpegFailed with its log unless it did."""
        with contextlib.suppress(BrokenPipeError):
            self.process.stdin.close()
        if self.process.wait() != 0:
            self.log.seek(0)
            raise _FfmpegFailed(self.log.read().decode(errors="replace"))

    def stop(self) -> None:
        """Make sure ffmpeg is gone (interrupted, or the frames failed), and its log."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        with contextlib.suppress(BrokenPipeError, ValueError):
            self.process.stdin.close()
        self.log.close()


def _even(frame: np.ndarray) -> np.ndarray:
    """H.264 in yuv420p needs even sides: repeat the last row or column if needed."""
    height, width = frame.shape[:2]
    if height % 2:
        frame = np.concatenate([frame, frame[-1:]], axis=0)
    if width % 2:
        frame = np.concatenate([frame, frame[:, -1:]], axis=1)
    return frame


def video_frames(path: str | os.PathLike):
    """(frames as an iterator of [H, W, 3] uint8, fps) of a video file, read lazily."""
    import imageio_ffmpeg

    check_video(path)
    try:
        reader = imageio_ffmpeg.read_frames(str(path))
        meta = next(reader)
    except (OSError, RuntimeError, StopIteration) as error:
        # imageio's message holds ffmpeg's whole log: its last line says why.
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        raise VasaError(
            f"{path}: not a video file ffmpeg can read ({lines[-1] if lines else '?'})"
        ) from None
    width, height = meta["size"]
    return (np.frombuffer(f, np.uint8).reshape(height, width, 3) for f in reader), float(
        meta["fps"]
    )


def read_video(path: str | os.PathLike) -> tuple[np.ndarray, float]:
    """All frames [T, H, W, 3] uint8 and the frame rate of a video file."""
    frames, fps = video_frames(path)
    return np.stack(list(frames)), fps


AUDIO_BLOCK = 1 << 18  # samples decoded at a time (5 to 16 s): memory stays flat with length


def audio_blocks(
    path: Path, rate: int, max_seconds: float | None
) -> tuple[Iterator[np.ndarray], int]:
    """(float32 blocks of samples [n, channels] or [n], their rate) of a sound or video
    file, decoded as they are taken, never the whole file at once. Files that libsndfile
    cannot read come from ffmpeg, already mono at `rate`."""
    import soundfile

    try:
        with quiet_stderr():  # libsndfile's mp3 decoder prints notes on bad data
            info = soundfile.info(str(path))
    except (RuntimeError, soundfile.LibsndfileError, TypeError):
        return _ffmpeg_blocks(path, rate, max_seconds), rate
    if max_seconds is not None and info.duration > max_seconds:
        raise too_long(path, info.duration, max_seconds)
    return _soundfile_blocks(path), info.samplerate


def _soundfile_blocks(path: Path) -> Iterator[np.ndarray]:
    import soundfile

    try:
        with soundfile.SoundFile(str(path)) as sound:
            while True:
                with quiet_stderr():
                    block = sound.read(AUDIO_BLOCK, dtype="float32", always_2d=True)
                if not len(block):
                    return
                yield block
    except (RuntimeError, soundfile.LibsndfileError) as error:
        raise VasaError(f"{path}: the audio is truncated or corrupt ({error})") from None


def _ffmpeg_blocks(path: Path, rate: int, max_seconds: float | None) -> Iterator[np.ndarray]:
    """Decode with ffmpeg straight to mono float32 at `rate`, a block at a time."""
    import imageio_ffmpeg

    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error"]
    command += ["-i", str(path), "-vn", "-ac", "1", "-ar", str(rate), "-f", "f32le"]
    if max_seconds is not None:
        command += ["-t", str(max_seconds + 1.0)]  # enough to tell that it is too long
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command + ["-"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log
        )
        received = 0
        try:
            # A pipe read returns the whole block asked for, short only at the end.
            while chunk := process.stdout.read(4 * AUDIO_BLOCK):
                received += len(chunk)
                yield np.frombuffer(chunk[: len(chunk) - len(chunk) % 4], dtype=np.float32)
            failed = process.wait() != 0
        finally:
            if process.poll() is None:  # the caller stopped early (too long, NaN, Ctrl-C)
                process.kill()
                process.wait()
            process.stdout.close()
        if failed or not received:
            log.seek(0)
            _no_ffmpeg_audio(path, log.read().decode(errors="replace"))


def _no_ffmpeg_audio(path: Path, log: str) -> None:
    """Raise the one line for a file whose sound ffmpeg could not decode."""
    if kind := _not_media(describe_media(path)):
        raise VasaError(f"{path}: no audio in {kind}; give a sound, or a video with sound")
    detail = log.strip().splitlines()
    reason = detail[-1] if detail else "no audio stream"
    if "output file" in reason:  # ffmpeg read the file, but found no sound to output
        reason = "no audio stream"
    raise VasaError(f"{path}: no audio that ffmpeg can read ({reason})")


def codec_round_trip(
    samples: np.ndarray, rate: int, encoder: str, suffix: str, kbps: int
) -> np.ndarray:
    """Mono float32 `samples` encoded by ffmpeg's `encoder` into a `.suffix` file at `kbps`
    kbit/s and decoded again. Through a file, not a pipe: the container then records the
    encoder's priming samples and the decoder drops them, so the audio stays aligned."""
    import imageio_ffmpeg

    raw = ["-f", "f32le", "-ar", str(rate), "-ac", "1"]
    with tempfile.TemporaryDirectory(prefix="vasa-codec-") as folder:
        path = os.path.join(folder, f"clip.{suffix}")
        command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-v", "error", "-y"]
        steps = [
            ([*raw, "-i", "pipe:0", "-c:a", encoder, "-b:a", f"{kbps}k", path], samples),
            (["-i", path, *raw, "pipe:1"], None),
        ]
        for arguments, audio in steps:
            stdin = b"" if audio is None else np.asarray(audio, dtype="<f4").tobytes()
            result = subprocess.run(command + arguments, input=stdin, capture_output=True)
            if result.returncode != 0:
                lines = result.stderr.decode(errors="replace").strip().splitlines()
                raise VasaError(f"ffmpeg codec round trip failed: {lines[-1] if lines else '?'}")
    return np.frombuffer(result.stdout, dtype="<f4").copy()


def _draw_mark(frame: np.ndarray) -> np.ndarray:
    """The mark as Pillow draws it: small white text on a dark band, bottom right. It
    defines how the mark looks; `stamp` only replays it, from an overlay made with it."""
    from PIL import Image, ImageDraw, ImageFont

    picture = Image.fromarray(frame)
    draw = ImageDraw.Draw(picture)
    size = max(10, picture.height // 36)
    try:
        font = ImageFont.load_default(size=size)
    except TypeError:
        font = ImageFont.load_default()
    left, top, right, bottom = draw.textbbox((0, 0), MARK, font=font)
    x = picture.width - (right - left) - size
    y = picture.height - (bottom - top) - size
    draw.rectangle(
        [x - size // 3, y - size // 4, picture.width - size // 2, y + bottom + size // 4],
        fill=(0, 0, 0),
    )
    draw.text((x, y - top), MARK, fill=(255, 255, 255), font=font)
    return np.asarray(picture)


@dataclass(frozen=True)
class MarkOverlay:
    """The mark of one frame size as an overlay on the corner it covers: a marked pixel is
    `over + keep * pixel / 255`, where `over` is what the mark puts there on black (its
    colour times its opacity) and `keep` what is left of a white frame's 255 (the
    transparency, 255 off the mark, 0 on its band)."""

    rows: slice
    cols: slice
    over: np.ndarray  # [h, w, 3] uint16
    keep: np.ndarray  # [h, w, 3] uint16


@functools.lru_cache(maxsize=8)  # a run makes one or two frame sizes; the app a few
def mark_overlay(height: int, width: int) -> MarkOverlay:
    """The overlay of the mark on `height` x `width` frames, read off Pillow's drawing of it
    on a black and on a white frame (its text is blended, so it has partial opacities)."""
    if height < 1 or width < 1:
        raise VasaError(f"the mark needs a frame of at least 1 x 1 pixels, not {height} x {width}")
    black = _draw_mark(np.zeros((height, width, 3), np.uint8)).astype(np.uint16)
    white = _draw_mark(np.full((height, width, 3), 255, np.uint8)).astype(np.uint16)
    keep = white - black  # 255 where the mark lets the frame through, 0 where it covers it
    covered = (keep < 255).any(axis=2)
    if not covered.any():  # a frame too small to show any of it
        return MarkOverlay(slice(0, 0), slice(0, 0), black[:0, :0], keep[:0, :0])
    ys, xs = np.nonzero(covered)
    rows, cols = slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1)
    return MarkOverlay(rows, cols, black[rows, cols].copy(), keep[rows, cols].copy())


def _check_frame(shape: tuple[int, ...], dtype: object) -> None:
    """One clear error for what is not a frame the mark can go on."""
    if len(shape) < 3 or shape[-1] != 3 or str(dtype).rsplit(".", 1)[-1] != "uint8":
        raise VasaError(
            f"the mark goes on RGB frames of uint8 [H, W, 3], not {str(dtype)} {list(shape)}"
        )


def stamp(frame: np.ndarray) -> np.ndarray:
    """`frame` (uint8 [H, W, 3]) with the visible mark: small white text on a dark band,
    bottom right. A copy; the frame itself is left as it is.

    The mark is the same for every frame of a size, so it is drawn once (`mark_overlay`)
    and blended onto the corner it covers with integer arithmetic: within one grey level of
    drawing it each time by construction, and in fact equal (the band is opaque and the
    text is blended over the band, not over the frame), for ~0.1 ms a 512-px frame instead
    of a full Pillow round trip's 2-7 ms."""
    frame = np.asarray(frame)
    _check_frame(frame.shape, frame.dtype)
    if frame.ndim != 3:
        raise VasaError(
            f"stamp marks one frame [H, W, 3], not {list(frame.shape)}: see stamp_frames"
        )
    overlay = mark_overlay(*frame.shape[:2])
    out = frame.copy()
    corner = out[overlay.rows, overlay.cols].astype(np.uint16)
    # (keep * pixel + 127) // 255 rounds keep * pixel / 255; it is at most 65152, so uint16
    # holds it, and a pixel the mark does not touch (keep 255) comes back unchanged.
    out[overlay.rows, overlay.cols] = overlay.over + (overlay.keep * corner + 127) // 255
    return out


_DEVICE_OVERLAYS: dict[tuple[int, int, str], tuple] = {}


def stamp_frames(frames: torch.Tensor) -> torch.Tensor:
    """A batch of frames (uint8 [N, H, W, 3], on any device) with the mark, as `stamp` puts
    it on each (the same integers): for frames that are still on the GPU, so that marking
    them is no reason to bring them to the host one by one. A new tensor."""
    import torch

    if not isinstance(frames, torch.Tensor):
        raise VasaError(f"stamp_frames marks a torch tensor of frames, not {type(frames).__name__}")
    _check_frame(tuple(frames.shape), frames.dtype)
    if frames.ndim != 4:
        raise VasaError(f"stamp_frames marks frames [N, H, W, 3], not {list(frames.shape)}")
    height, width = frames.shape[1:3]
    key = (height, width, str(frames.device))
    if key not in _DEVICE_OVERLAYS:  # uploaded once per size and device, not per batch
        overlay = mark_overlay(height, width)
        on = [
            torch.from_numpy(a.astype(np.int32)).to(frames.device)
            for a in (overlay.over, overlay.keep)
        ]
        _DEVICE_OVERLAYS[key] = (overlay.rows, overlay.cols, *on)
    rows, cols, over, keep = _DEVICE_OVERLAYS[key]
    out = frames.clone()
    corner = out[:, rows, cols].to(torch.int32)
    out[:, rows, cols] = (over + torch.div(keep * corner + 127, 255, rounding_mode="floor")).to(
        torch.uint8
    )
    return out


def write_talking_video(
    out: str | os.PathLike,
    pairs: Iterable[tuple[np.ndarray, np.ndarray]],
    total: int,
    fps: float,
    audio: str | os.PathLike | None,
    mark: bool = True,
    progress: bool = False,
    on_frame: Callable[[int, np.ndarray, np.ndarray], None] | None = None,
    desc: str = "generating",
    how: str = "",
    made_with: dict | None = None,
) -> Path:
    """Write (motion row, frame) pairs as a video with its sound, each frame marked (with
    the metadata tag, `how` added to it) unless `mark` is False, and handed to
    `on_frame(index, motion_row, frame)` as it is written. `made_with` (seed, checkpoint,
    settings) is recorded as JSON in the video's `description` tag."""
    from tqdm import tqdm

    def frames():
        for index, (row, frame) in enumerate(pairs):
            frame = stamp(frame) if mark else frame
            if on_frame is not None:
                on_frame(index, row, frame)
            yield frame

    return write_video(
        out,
        tqdm(frames(), total=total, unit="frame", desc=desc, disable=not progress),
        fps=fps,
        audio=audio,
        metadata={
            "comment": f"{MARK} by vasa-kit{how}" if mark else "vasa-kit",
            **({"description": json.dumps(made_with)} if made_with else {}),
        },
    )
