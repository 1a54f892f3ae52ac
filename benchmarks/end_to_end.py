"""End-to-end speed of `vasa generate`: the real-time factor and where the time goes.

    PYTHONPATH=. python benchmarks/end_to_end.py [--size 512] [--device cuda] [--json]

Speaks about ten seconds of text, then times each stage as the pipeline runs it: analysis of
the portrait, speech synthesis, audio features, motion sampling, rendering, and video
encoding, and the whole `Pipeline.generate` call (which interleaves sampling, rendering and
encoding). Real-time factor = wall time / audio length (VASA-1: 40 fps at 512 px on an RTX
4090, i.e. faster than real time). First-frame latency = time from the audio being ready to
the first rendered frame, the delay a live stream would have.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from vasa_core import examples
from vasa_core.audio import RATE, compute_features, load_audio
from vasa_core.errors import VasaError
from vasa_core.face import analyze
from vasa_core.media import write_video
from vasa_core.motion.controls import Controls
from vasa_core.pipeline import Pipeline, speak
from vasa_core.render import Renderer

TEXT = (
    "Good morning, everyone. Today we will look at how a single photograph can be brought "
    "to life by a voice: the lips follow the sounds, the eyes blink, and the head moves "
    "as people's heads do when they speak."
)


def measure(size: int | None, device: str | None = None) -> dict:
    image = examples.load("astronaut")
    timings = {}
    t = time.perf_counter()
    pipe = Pipeline(device=device)
    timings["load_model_s"] = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        t = time.perf_counter()
        latents = analyze(image)
        timings["analyze_s"] = time.perf_counter() - t
        t = time.perf_counter()
        sound = speak(TEXT, "en-us", work).path
        timings["speech_s"] = time.perf_counter() - t
        samples = load_audio(sound)
        seconds = len(samples) / RATE
        t = time.perf_counter()
        features = compute_features(samples, fps=25)
        timings["features_s"] = time.perf_counter() - t
        t = time.perf_counter()
        motion = pipe.motion(latents, samples, Controls())
        timings["motion_s"] = time.perf_counter() - t
        renderer = Renderer(latents, size=size, device=pipe.device)  # the one it reports
        t = time.perf_counter()
        frames = renderer.render(motion)
        timings["render_s"] = time.perf_counter() - t
        t = time.perf_counter()
        write_video(work / "frames.mp4", frames, fps=25, audio=sound)
        timings["encode_s"] = time.perf_counter() - t

        first = {}
        t = time.perf_counter()
        stream = pipe.stream(latents, features, Controls(), size=size)
        next(stream)
        first["s"] = time.perf_counter() - t
        for _ in stream:
            pass

        t = time.perf_counter()
        pipe.generate(latents, work / "talking.mp4", audio=sound, size=size)
        timings["generate_s"] = time.perf_counter() - t
    return {
        "size": size or "full",
        "device": str(pipe.device),
        "audio_seconds": round(seconds, 2),
        "frames": len(motion),
        **{k: round(v, 3) for k, v in timings.items()},
        "first_frame_latency_ms": round(1000 * first["s"], 1),
        "generate_fps": round(len(motion) / timings["generate_s"], 1),
        "real_time_factor": round(timings["generate_s"] / seconds, 3),
        "real_time_factor_with_speech_and_analysis": round(
            (timings["generate_s"] + timings["speech_s"] + timings["analyze_s"]) / seconds, 3
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="512", choices=["256", "512", "full"])
    parser.add_argument("--device", default="auto", help="cpu, cuda or auto (cuda if present)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    np.random.seed(0)
    try:
        result = measure(None if args.size == "full" else int(args.size), args.device)
    except VasaError as error:
        raise SystemExit(f"end_to_end: error: {error}") from None
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>44}: {value}")


if __name__ == "__main__":
    main()
