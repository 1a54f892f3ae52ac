"""`vasa bench --live`: a speech file fed to a live session as a microphone would feed it
(20 ms chunks, at real time), and what a viewer would see of it.

Latency of a frame: from the moment the last sample of its audio arrived (the frame's end,
on the microphone's clock) to the moment its image was ready. The session cannot beat the
look-ahead (the encoder's 120 ms and the features' 12.5 ms); everything above that is
compute. A frame is dropped when it is ready more than `LATE_S` after its audio ended: a
player showing it then would lag behind the voice for good.

Frames per second is the sustained rate: frames over the time from the first frame's image
to the last one's. Frames over the whole feed would count the look-ahead twice, once at the
start (no frame until 132 ms of audio have come) and once at the end (the last frames wait
for audio that never comes), and read 24.9 for a session that never falls behind.
"""

from __future__ import annotations

import time

import numpy as np

from vasa_core.audio import RATE

CHUNK_S = 0.02
LATE_S = 0.5


def speech(seconds: float) -> np.ndarray:
    """`seconds` of espeak-ng speech with pauses, made here (no file to ship)."""
    from vasa_core.audio.load import to_mono
    from vasa_core.audio.tts import synthesize

    spoken = synthesize(
        "Peter baked a big blue pie for Mum, and we ate it by the window. " * 2,
        voice="en-us",
        rate=160,
    )
    voice = to_mono(spoken.samples, spoken.rate)
    pause = np.zeros(int(0.8 * RATE), np.float32)
    return np.resize(np.concatenate([voice, pause]), int(seconds * RATE))


def measure(pipe, latents, samples: np.ndarray, size: int) -> dict:
    """Feed `samples` at real time to a live session of `pipe`; the figures of one run."""
    session = pipe.live(latents, size=size)
    session.push(np.zeros(int(0.2 * RATE), np.float32))  # warm-up, not timed
    session = pipe.live(latents, size=size)
    chunk = round(CHUNK_S * RATE)
    latencies, ready = [], []
    start = time.perf_counter()
    for at in range(0, len(samples), chunk):
        arrives = start + (at + chunk) / RATE  # the microphone's clock
        wait = arrives - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        for frame in session.push(samples[at : at + chunk]):
            now = time.perf_counter()
            ends = start + (frame.index + 1) / 25.0
            latencies.append(now - ends)
            ready.append(now)
    latencies = np.array(latencies)
    return {
        "size": size,
        "device": str(pipe.device),
        "latency_ms_p50": round(1000 * float(np.percentile(latencies, 50)), 1),
        "latency_ms_p95": round(1000 * float(np.percentile(latencies, 95)), 1),
        "fps": round(sustained_fps(np.array(ready)), 1),
        "dropped": int((latencies > LATE_S).sum()),
        "frames": len(latencies),
    }


def sustained_fps(ready: np.ndarray) -> float:
    """Frames per second between the first and the last frame's ready times (seconds)."""
    if len(ready) < 2 or ready[-1] <= ready[0]:
        return 0.0
    return (len(ready) - 1) / float(ready[-1] - ready[0])


def run(seconds: float = 60.0, sizes=(256, 512), device=None) -> dict:
    from vasa_core import examples
    from vasa_core.face import analyze
    from vasa_core.pipeline import Pipeline

    pipe = Pipeline(device=device)
    latents = analyze(examples.load("drawn"))
    samples = speech(seconds)
    return {"seconds": seconds, "live": [measure(pipe, latents, samples, s) for s in sizes]}


def table(report: dict) -> str:
    rows = [f"live, {report['seconds']:g} s of speech fed in 20 ms chunks at real time"]
    rows.append(f"{'device':<8} {'size':>5} {'p50 ms':>8} {'p95 ms':>8} {'fps':>6} {'dropped':>8}")
    for r in report["live"]:
        rows.append(
            f"{r['device']:<8} {r['size']:>5} {r['latency_ms_p50']:>8.1f} "
            f"{r['latency_ms_p95']:>8.1f} {r['fps']:>6.1f} {r['dropped']:>8}"
        )
    return "\n".join(rows)
