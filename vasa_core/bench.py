"""`vasa bench`: how fast this machine renders, against the floor of any warp decoder.

For each output size: frames per second of `Renderer.render` on the astronaut under a
smooth talking motion, and the time of one bare `grid_sample` of the same frame size
(the one lookup every warp-based decoder must do), measured in the same run, so the
ratio says how much our mesh, mouth and eyes cost on top of it.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from vasa_core import schema


def talking_motion(base: np.ndarray, frames: int, fps: float = 25.0) -> np.ndarray:
    """A smooth test motion: nods and turns, speech-like jaw, a blink, wandering gaze."""
    t = np.arange(frames) / fps
    motion = np.tile(base, (frames, 1))
    motion[:, schema.index("yaw")] += 12 * np.sin(2 * np.pi * 0.25 * t)
    motion[:, schema.index("pitch")] += 6 * np.sin(2 * np.pi * 0.4 * t + 1)
    motion[:, schema.index("roll")] += 3 * np.sin(2 * np.pi * 0.2 * t)
    motion[:, schema.index("jaw_open")] = 0.35 * (1 + np.sin(2 * np.pi * 3.1 * t)) / 2
    motion[:, schema.index("smile")] = 0.3 + 0.2 * np.sin(2 * np.pi * 0.3 * t)
    blink = np.exp(-((((t % 3.0) - 1.5) / 0.08) ** 2))
    motion[:, schema.index("blink_left")] = blink
    motion[:, schema.index("blink_right")] = blink
    motion[:, schema.index("gaze_yaw")] = 10 * np.sin(2 * np.pi * 0.15 * t)
    return schema.check(motion)


def _seconds(fn, repeats: int, device: torch.device, trials: int = 5) -> float:
    """Best-of-`trials` mean time of `repeats` calls: the least disturbed by other work."""
    fn()  # warm-up
    best = float("inf")
    for _ in range(trials):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(repeats):
            fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, (time.perf_counter() - start) / repeats)
    return best


def grid_sample_floor(size: int, device: torch.device, repeats: int = 20) -> float:
    """Seconds for one bilinear grid_sample of a [1, 3, size, size] frame through a smooth
    warp (what a warp decoder looks up: nearby pixels move together), in the faster of the
    two memory layouts, so the floor is a real floor."""
    image = torch.rand(1, 3, size, size, device=device)
    line = torch.linspace(-1, 1, size, device=device)
    identity = torch.stack(torch.meshgrid(line, line, indexing="xy"), dim=-1)[None]
    grid = identity + 0.05 * torch.sin(torch.pi * identity.flip(-1))
    times = []
    with torch.inference_mode():
        for layout in (torch.contiguous_format, torch.channels_last):
            source = image.contiguous(memory_format=layout)
            times.append(
                _seconds(
                    lambda s=source: F.grid_sample(s, grid, align_corners=True), repeats, device
                )
            )
    return min(times)


def run(
    frames: int = 100,
    sizes: Sequence[int] = (256, 512),
    devices: Sequence[torch.device] | None = None,
    batches: Sequence[int | None] = (None,),
) -> dict:
    """Render speed for every device, size and batch (frames rendered at once; None for
    the renderer's own default), and the audio and motion speeds, as one report."""
    from vasa_core import examples
    from vasa_core.face import analyze
    from vasa_core.render import Renderer

    if devices is None:
        devices = [torch.device("cpu")] + (
            [torch.device("cuda")] if torch.cuda.is_available() else []
        )
    latents = analyze(examples.load("astronaut"))
    motion = talking_motion(latents.motion, frames)
    results = []
    for device in devices:
        for size in sizes:
            renderer = Renderer(latents, size=size, device=device)
            floor = grid_sample_floor(size, device)
            for batch in batches:
                # Only a batch asked for is passed, so the default is the renderer's own.
                options = {} if batch is None else {"batch": batch}
                renderer.render(motion[: max(8, batch or 0)], **options)  # warm-up
                seconds = (
                    _seconds(lambda r=renderer, o=options: r.render(motion, **o), 1, device, 3)
                    / frames
                )
                results.append(
                    {
                        "device": str(device),
                        "size": size,
                        "batch": batch,
                        "fps": round(1 / seconds, 1),
                        "ms_per_frame": round(1000 * seconds, 2),
                        "grid_sample_ms": round(1000 * floor, 3),
                        "ratio_to_grid_sample": round(seconds / floor, 2),
                    }
                )
    audio = audio_speed()
    return {
        "audio_features_x_real_time": audio,
        "motion_seconds_per_10s_audio": motion_speed(devices[0]),
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "threads": torch.get_num_threads(),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        },
        "frames": frames,
        "results": results,
    }


def audio_speed(seconds: float = 30.0) -> float:
    """How many times faster than real time audio features are computed (best of 5)."""
    from vasa_core.audio import RATE, compute_features

    t = np.arange(int(seconds * RATE)) / RATE
    voice = (0.3 * np.sin(2 * np.pi * 140 * t) * (np.sin(2 * np.pi * 0.7 * t) > 0)).astype(
        np.float32
    )
    elapsed = _seconds(lambda: compute_features(voice), 1, torch.device("cpu"))
    return round(seconds / elapsed, 1)


def motion_speed(device: torch.device, seconds: float = 10.0) -> float:
    """Seconds to turn `seconds` of speech into motion: features, the phonetic encoder and
    the diffusion sampler with the default settings (best of 3, after a warm-up)."""
    from vasa_core.audio import RATE, compute_features
    from vasa_core.audio.load import to_mono
    from vasa_core.audio.tts import synthesize
    from vasa_core.motion.generator import MotionGenerator

    generator = MotionGenerator(device=device)
    speech = synthesize("Peter baked a big blue pie for Mum. " * 4, voice="en-us", rate=160)
    voice = np.resize(to_mono(speech.samples, speech.rate), int(seconds * RATE))

    def motion():
        return generator.generate(compute_features(voice))

    return round(_seconds(motion, 1, device, trials=3), 3)


def table(report: dict) -> str:
    rows = [
        f"{'device':<8} {'size':>5} {'batch':>5} {'fps':>8} {'ms/frame':>9} "
        f"{'grid_sample ms':>15} {'ratio':>6}"
    ]
    for r in report["results"]:
        batch = "-" if r.get("batch") is None else str(r["batch"])  # "-": the default
        rows.append(
            f"{r['device']:<8} {r['size']:>5} {batch:>5} {r['fps']:>8.1f} "
            f"{r['ms_per_frame']:>9.2f} {r['grid_sample_ms']:>15.3f} "
            f"{r['ratio_to_grid_sample']:>6.2f}"
        )
    m = report["machine"]
    rows.append(
        f"({report['frames']} frames; {m['threads']} CPU threads; GPU: {m['cuda'] or 'none'})"
    )
    rows.append(f"audio features: {report['audio_features_x_real_time']:.0f}x real time")
    rows.append(
        f"motion for 10 s of audio (features, encoder, sampler): "
        f"{report['motion_seconds_per_10s_audio']:.2f} s"
    )
    return "\n".join(rows)
