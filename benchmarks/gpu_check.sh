#!/usr/bin/env bash
# The GPU path's one-shot check (issue 22): on a CUDA machine, from the repo root,
#
#     bash benchmarks/gpu_check.sh                    # about 3-5 minutes on an H100/H200
#     DEVICE=cpu QUICK=1 bash benchmarks/gpu_check.sh  # the same steps, small, on a CPU
#
# runs every check of the device path once and writes ONE JSON of figures, to
# $OUT/gpu_check.json when OUT is set (the device tool's folder that comes back), else to
# ./gpu_check.json. Each step is timed and kept apart: a step that fails is recorded with
# the end of its error output and the next one still runs, so that one short lease on a GPU
# answers every question at once instead of stopping at the first.
#
# Steps: the device tests; `vasa bench` at 512 (batches 8 and 32); `vasa bench --live`;
# the first live frame's latency; a timed `vasa generate` of 60 s of speech at 512; the
# agreement of CPU and device frames; TF32 off against on (frames and motion); the host's
# waits inside a render batch; a 200-step `torchrun --nproc_per_node=1` training run.
#
# Settings (environment):
#   DEVICE    cuda (default) or cpu
#   QUICK     1: fewer frames, seconds and steps (for a CPU, or a first try)
#   PYTHON    the interpreter (default: the repo's .venv when there is one, else python3)
#   PREPARED  a folder with speech.wav and corpus/ made beforehand, for a machine without
#             speech synthesis: `bash benchmarks/gpu_check.sh prepare DIR` makes it here
#   OUT       where gpu_check.json goes
#
# Exit status: 0 when every step passed, 1 when any failed (the JSON says which).

set -uo pipefail # not -e: a failing step is recorded, and the script carries on
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0") # for its own `prepare`, below
cd "$(dirname "$0")/.."

DEVICE=${DEVICE:-cuda}
QUICK=${QUICK:-0}
if [ -n "${PYTHON:-}" ]; then
  PY=$PYTHON
elif [ -x .venv/bin/python ]; then
  PY=.venv/bin/python
else
  PY=python3 # a GPU machine's own python, which holds its CUDA build of torch
fi
# The repo itself, importable without an install (a GPU machine's python has none).
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1 # so that a step killed at its time limit still shows its output
VASA=("$PY" -m vasa_core)

# Sizes of the run: the full one is what the issue's goals are read on.
if [ "$QUICK" = 1 ]; then
  BENCH_FRAMES=8 BATCHES=4,8 LIVE_SECONDS=2 SPEECH_SECONDS=4 AGREE_FRAMES=4
  TRAIN_STEPS=10 STEP_LIMIT=300
  TRAIN_MODEL=(--width 32 --layers 1 --batch 8)
else
  BENCH_FRAMES=200 BATCHES=8,32 LIVE_SECONDS=20 SPEECH_SECONDS=60 AGREE_FRAMES=8
  TRAIN_STEPS=200 STEP_LIMIT=240
  TRAIN_MODEL=(--batch 64) # the shipped model's width and depth, a GPU-sized batch
fi

# Scratch files live in a temporary folder, gone when the script ends.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
JSON_PATH=${OUT:-.}/gpu_check.json
: >"$WORK/steps.tsv"

step() {
  # step NAME COMMAND...: run COMMAND (at most STEP_LIMIT seconds, so that a hang cannot eat
  # the lease), its stdout to NAME.out (a JSON of figures, where the step prints one) and its
  # stderr to NAME.err; then one line NAME, exit status, seconds in steps.tsv.
  local name=$1
  shift
  echo "== $name" >&2
  local start=$(date +%s%N)
  timeout --kill-after=10 "$STEP_LIMIT" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
  local rc=$?
  local ms=$((($(date +%s%N) - start) / 1000000))
  printf '%s\t%s\t%s\n' "$name" "$rc" "$ms" >>"$WORK/steps.tsv"
  if [ "$rc" != 0 ]; then # the kit's one-line error where it gave one, else the last line
    local why=$(grep -m 1 '^vasa: error' "$WORK/$name.err" || tail -n 1 "$WORK/$name.err")
    echo "   failed ($rc): $why" >&2
  fi
  return 0
}

make_inputs() {
  # make_inputs DIR SECONDS: the speech and the corpus the steps read, made with espeak-ng
  # (through the espeakng-loader wheel); a GPU machine without it is given them in PREPARED.
  local dir=$1 seconds=$2
  mkdir -p "$dir"
  # A long text at espeak's pace (~2.5 words/s), looped or cut to exactly SECONDS.
  local text="Good morning, everyone. Today we will look at how a single photograph can be \
brought to life by a voice: the lips follow the sounds, the eyes blink, and the head moves \
as people's heads do when they speak. Peter baked a big blue pie for Mum, and we ate it by \
the window while the rain fell on the old roof."
  "${VASA[@]}" tts "$text" --out "$dir/spoken.wav" >/dev/null || return 1
  "$PY" - "$dir/spoken.wav" "$dir/speech.wav" "$seconds" <<'EOF' || return 1
import sys

import numpy as np
import soundfile

voice, rate = soundfile.read(sys.argv[1], dtype="float32")
pause = np.zeros(int(0.6 * rate), np.float32)  # a breath between repeats, as speech has
looped = np.resize(np.concatenate([voice, pause]), int(float(sys.argv[3]) * rate))
soundfile.write(sys.argv[2], looped, rate)
EOF
  rm -f "$dir/spoken.wav"
  # Half a minute of corpus: enough windows for 200 steps, built in seconds.
  [ -d "$dir/corpus" ] || "${VASA[@]}" corpus --out "$dir/corpus" --minutes 0.5 --quiet >/dev/null
}

if [ "${1:-}" = prepare ]; then
  # Here, on a machine with speech synthesis: the inputs for a GPU machine without it.
  [ -n "${2:-}" ] || { echo "usage: bash benchmarks/gpu_check.sh prepare DIR" >&2; exit 2; }
  make_inputs "$2" "$SPEECH_SECONDS" && echo "inputs for PREPARED=$2 written to $2"
  exit
fi
case "$DEVICE" in
  cuda | cpu) ;;
  *) echo "DEVICE=$DEVICE: give cuda or cpu" >&2; exit 2 ;;
esac

# -- what this machine is (torch, GPU, which of the kit's dependencies import) ----------
step environment "$PY" - <<'EOF'
import importlib.util
import json
import platform

import torch

modules = ["mediapipe", "soundfile", "imageio_ffmpeg", "espeakng_loader", "librosa", "pytest"]
print(json.dumps({
    "python": platform.python_version(),
    "torch": torch.__version__,
    "cuda": torch.version.cuda,
    "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    "cpu_threads": torch.get_num_threads(),
    "missing_modules": [m for m in modules if importlib.util.find_spec(m) is None],
}))
EOF

# -- the tests that touch the device: on a GPU their CUDA cases run instead of skipping ---
# (DEVICE_TESTS adds files: the render's own device tests, say).
step device_tests "$PY" -m pytest -q -p no:cacheprovider --junitxml="$WORK/device_tests.xml" \
  tests/test_device.py tests/test_mark.py tests/test_render_device.py ${DEVICE_TESTS:-}

# -- render speed at 512, per batch size, against the grid_sample floor -----------------
step bench "${VASA[@]}" bench --device "$DEVICE" --json --sizes 512 --batch "$BATCHES" \
  --frames "$BENCH_FRAMES"

# -- a live session fed speech at real time: latency, frame rate, drops -----------------
step bench_live "${VASA[@]}" bench --live --device "$DEVICE" --json --seconds "$LIVE_SECONDS"

# -- the first live frame: from its audio's arrival to its image (goal ≤ 100 ms) ---------
export DEVICE
step live_first_frame "$PY" - <<'EOF'
import json
import os
import time

import numpy as np

from vasa_core import bench_live, examples
from vasa_core.audio import RATE
from vasa_core.face import analyze
from vasa_core.pipeline import Pipeline

pipe = Pipeline(device=os.environ["DEVICE"])
latents = analyze(examples.load("drawn"))
samples = bench_live.speech(2.0)
chunk = round(bench_live.CHUNK_S * RATE)
rows = []
for size in (256, 512):
    warm = pipe.live(latents, size=size)
    warm.push(np.zeros(int(0.2 * RATE), np.float32))  # first calls compile and allocate
    session = pipe.live(latents, size=size)
    start = time.perf_counter()
    for at in range(0, len(samples), chunk):  # at real time, as a microphone would
        time.sleep(max(0.0, start + (at + chunk) / RATE - time.perf_counter()))
        frames = list(session.push(samples[at : at + chunk]))
        if frames:
            ready = time.perf_counter()
            ends = start + (frames[0].index + 1) / 25.0  # its audio's end, on the mic's clock
            rows.append({
                "size": size,
                "first_frame_latency_ms": round(1000 * (ready - ends), 1),
                "first_frame_after_start_ms": round(1000 * (ready - start), 1),
            })
            break
print(json.dumps({"device": os.environ["DEVICE"], "live": rows}))
EOF

# -- end to end: `vasa generate` of SPEECH_SECONDS of speech at 512, timed ----------------
# A 2-second run first measures the fixed cost (start-up, the portrait, loading); the long
# run's frames per second is given with and without it.
if [ -n "${PREPARED:-}" ]; then
  INPUTS=$PREPARED
else
  INPUTS=$WORK/inputs
  step inputs bash "$SELF" prepare "$INPUTS" # as a script: `timeout` runs no shell function
fi
export INPUTS SPEECH_SECONDS WORK
step generate "$PY" - <<'EOF'
import json
import os
import subprocess
import sys
import time

import soundfile

inputs, work = os.environ["INPUTS"], os.environ["WORK"]  # PREPARED may be read-only
speech, rate = soundfile.read(f"{inputs}/speech.wav", dtype="float32")
soundfile.write(f"{work}/short.wav", speech[: 2 * rate], rate)


def generate(audio: str) -> float:
    """Wall seconds of one `vasa generate` at 512, as a user runs it."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "vasa_core", "generate", "--image", "example:drawn",
         "--audio", audio, "--out", f"{work}/talk.mp4", "--size", "512", "--quiet",
         "--device", os.environ["DEVICE"]],
        check=True, stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


short, long = generate(f"{work}/short.wav"), generate(f"{inputs}/speech.wav")
frames = round(len(speech) / rate * 25)
print(json.dumps({
    "audio_seconds": round(len(speech) / rate, 2),
    "frames": frames,
    "seconds": round(long, 2),
    "fps": round(frames / long, 1),
    "x_real_time": round(len(speech) / rate / long, 2),
    "fixed_seconds": round(short, 2),  # what a 2 s clip costs: start-up mostly
    "fps_without_fixed": round((frames - 50) / max(1e-6, long - short), 1),
}))
EOF

# -- the same motion rendered on the CPU and on the device: how far the frames differ ----
export AGREE_FRAMES
step agreement "$PY" - <<'EOF'
import json
import os

import numpy as np

from vasa_core import examples
from vasa_core.bench import talking_motion
from vasa_core.face import analyze
from vasa_core.render import Renderer

latents = analyze(examples.load("drawn"))
motion = talking_motion(latents.motion, int(os.environ["AGREE_FRAMES"]))
rows = []
for size in (256, 512):
    cpu = Renderer(latents, size=size, device="cpu").render(motion).astype(np.int16)
    other = Renderer(latents, size=size, device=os.environ["DEVICE"]).render(motion)
    difference = np.abs(cpu - other.astype(np.int16))
    rows.append({
        "size": size,
        "max_abs": int(difference.max()),
        "mean_abs": round(float(difference.mean()), 4),
        "share_over_1": round(float((difference > 1).mean()), 6),  # beyond 1/255
        "share_over_16": round(float((difference > 16).mean()), 6),  # edges that flipped
    })
print(json.dumps({"against": "cpu", "device": os.environ["DEVICE"], "frames": len(motion),
                  "sizes": rows}))
EOF

# -- TF32: the same frames and motion with it off and on, on the device; it may be turned on
# (VASA_TF32=1) where frames stay within 1/255. On a CPU it is a no-op: both runs are one.
step tf32 "$PY" - <<'EOF'
import json
import os
import time

import numpy as np
import torch

from vasa_core import examples
from vasa_core.audio import compute_features
from vasa_core.bench import talking_motion
from vasa_core.device import pick_device, set_tf32
from vasa_core.face import analyze
from vasa_core.motion.generator import MotionGenerator
from vasa_core.render import Renderer
from vasa_core.settings import Sampling

device = pick_device(os.environ["DEVICE"])
frames = int(os.environ["AGREE_FRAMES"]) * 4
latents = analyze(examples.load("drawn"))
motion = talking_motion(latents.motion, frames)
t = np.arange(2 * 16000) / 16000
features = compute_features((0.3 * np.sin(2 * np.pi * 140 * t)).astype(np.float32))
renderer = Renderer(latents, size=512, device=device)
generator = MotionGenerator(device=device)
runs = {}
for tf32 in (False, True):
    applies = set_tf32(device, tf32)
    renderer.render(motion[:8])  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    video = renderer.render(motion)
    seconds = time.perf_counter() - start
    moved = generator.generate(features, sampling=Sampling(steps=4), seed=0)
    runs[tf32] = (applies, video.astype(np.int16), moved, frames / seconds)
set_tf32(device, False)
difference = np.abs(runs[True][1] - runs[False][1])
print(json.dumps({
    "device": str(device),
    "applies": runs[True][0],  # False on a CPU: TF32 is a GPU format, nothing changed
    "frames": frames,
    "frame_max_abs": int(difference.max()),
    "frame_mean_abs": round(float(difference.mean()), 5),
    "frames_within_1_255": bool(difference.max() <= 1),
    "motion_max_abs": round(float(np.abs(runs[True][2] - runs[False][2]).max()), 6),
    "render_fps_off": round(runs[False][3], 1),
    "render_fps_on": round(runs[True][3], 1),
}))
EOF

# -- the host's waits inside a render batch, counted by torch's sync debug mode (CUDA only) -
step syncs "$PY" - <<'EOF'
import json
import os
import warnings

import torch

from vasa_core import examples
from vasa_core.bench import talking_motion
from vasa_core.device import pick_device
from vasa_core.face import analyze
from vasa_core.render import Renderer

device = pick_device(os.environ["DEVICE"])
if device.type != "cuda":
    print(json.dumps({"device": str(device), "counted": False}))  # only CUDA counts them
    raise SystemExit
latents = analyze(examples.load("drawn"))
renderer = Renderer(latents, size=512, device=device)
motion = talking_motion(latents.motion, 32)
renderer.render(motion)  # warm-up: the caches of constants and indices fill here
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    torch.cuda.set_sync_debug_mode("warn")
    renderer.render(motion, batch=32)  # one batch: its frames' read-back is the one wait
    torch.cuda.set_sync_debug_mode("default")
where = [str(w.message).splitlines()[0][:160] for w in seen]
print(json.dumps({"device": str(device), "counted": True, "batch": 32,
                  "syncs_per_batch": len(where), "first": where[:12]}))
EOF

# -- training: torchrun with one process, so that the process group and DDP are used -----
# `python -m torch.distributed.run` is torchrun, found through the same python; --standalone
# gives it a free port of its own.
step train "$PY" -m torch.distributed.run --standalone --nproc_per_node=1 -m vasa_core train \
  --data "$INPUTS/corpus" --out "$WORK/motion.safetensors" --steps "$TRAIN_STEPS" \
  --val-every $((TRAIN_STEPS / 2)) --device "$DEVICE" --quiet "${TRAIN_MODEL[@]}"
if [ -f "$WORK/motion.safetensors" ]; then
  # The run's own record of itself (steps, losses, seconds, backend) is its figures.
  "$PY" - "$WORK/motion.safetensors" >"$WORK/train.json" <<'EOF'
import json
import sys

from safetensors import safe_open

with safe_open(sys.argv[1], "pt") as f:
    training = json.loads(f.metadata()["training"])
last = training["history"][-1]
training["steps_per_second"] = round(last["step"] / max(last["seconds"], 1e-6), 1)
print(json.dumps(training))
EOF
fi

# -- one JSON of it all: each step's status, wall time, figures or error; the goals -------
export QUICK JSON_PATH
"$PY" - <<'EOF'
import json
import os
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

work = Path(os.environ["WORK"])


def figures(name: str):
    """The step's JSON: NAME.json where written apart, else its stdout; None if neither."""
    for path in (work / f"{name}.json", work / f"{name}.out"):
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            continue
    return None


def cause(lines: list[str]) -> str | None:
    """The line that names a failure: the kit's own one-line error, else the last exception
    raised, past the wrappers that only report a child's failure (torchrun, subprocess)."""
    for line in lines:
        if line.startswith("vasa: error:"):
            return line
    wrappers = ("ChildFailedError", "CalledProcessError")
    for line in reversed(lines):
        if re.match(r"[\w.]*(Error|Exception)\b", line) and not any(w in line for w in wrappers):
            return line
    return lines[-1] if lines else None


steps = {}
for line in (work / "steps.tsv").read_text().splitlines():
    name, rc, ms = line.split("\t")
    row = {"ok": rc == "0", "rc": int(rc), "seconds": round(int(ms) / 1000, 2),
           "figures": figures(name), "error": None}
    if rc != "0":
        lines = (work / f"{name}.err").read_text(errors="replace").strip().splitlines()
        row["error"] = cause(lines) or f"exit status {rc}"
        if rc in ("124", "137"):
            row["error"] = f"stopped at its time limit: {row['error']}"
        row["error_tail"] = lines[-15:]  # the context of it
    steps[name] = row

try:  # the test counts, from pytest's JUnit report
    suite = ET.parse(work / "device_tests.xml").getroot()
    suite = suite if suite.tag == "testsuite" else suite[0]
    steps["device_tests"]["figures"] = {
        k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")
    }
except (OSError, ET.ParseError, IndexError, KeyError):
    pass


def get(fn):
    try:
        return fn()
    except (TypeError, KeyError, IndexError, ValueError):
        return None  # its step failed: no figure, and the goal unknown


device = os.environ["DEVICE"]
render_fps = get(lambda: max(
    r["fps"] for r in steps["bench"]["figures"]["results"] if r["size"] == 512
))
generate_fps = get(lambda: steps["generate"]["figures"]["fps"])
first_frame = get(lambda: min(
    r["first_frame_latency_ms"] for r in steps["live_first_frame"]["figures"]["live"]
    if r["size"] == 512
))
goals = {  # the issue's, on an H100/H200; read on a CPU only to see that they are filled in
    "render_512_fps": {"goal": ">= 1000", "value": render_fps,
                       "met": None if render_fps is None else render_fps >= 1000},
    "generate_512_fps": {"goal": ">= 300", "value": generate_fps,
                         "met": None if generate_fps is None else generate_fps >= 300},
    "live_first_frame_ms": {"goal": "<= 100", "value": first_frame,
                            "met": None if first_frame is None else first_frame <= 100},
}
report = {
    "device": device,
    "quick": os.environ["QUICK"] == "1",
    "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    "seconds": round(sum(s["seconds"] for s in steps.values()), 1),
    "all_ok": all(s["ok"] for s in steps.values()),
    "goals": goals,
    "steps": steps,
}
path = Path(os.environ["JSON_PATH"])
path.parent.mkdir(parents=True, exist_ok=True)
path.write_text(json.dumps(report, indent=2) + "\n")
print(f"{path}: {sum(s['ok'] for s in steps.values())} of {len(steps)} steps passed "
      f"in {report['seconds']} s")
raise SystemExit(0 if report["all_ok"] else 1)
EOF
