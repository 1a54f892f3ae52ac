"""The app under load: concurrent users through `gradio_client`, then its memory over many
generates.

    PYTHONPATH=. python benchmarks/app_load.py [--users 8] [--sequential 20] [--json]

Starts the app as `python app.py` does (one request at a time, the others queued), on a
free local port, in a process of its own so that its memory is its own. Then:
1. `--users` clients each submit a short sentence to `/generate` at once (256 px); every
   one must succeed, and each reports the queue positions it was shown while it waited;
2. `--sequential` generates one after the other; the app's resident memory (VmRSS) is read
   after each. Flat: the last reading within `--tolerance-mib` of the one after the first
   few (models, caches and allocator pools fill up on the first requests), and within a
   fifth of that of the reading halfway.
Exits 1 if a user failed, a waiting user was never shown its position, or memory grew.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
TEXT = "Hello there, nice to meet you."
WARM_UP = 3  # sequential generates before the memory reading that later ones are held to


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid: int) -> float:
    """Resident memory of process `pid` now, in MiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def start_app(port: int) -> subprocess.Popen:
    """`python app.py` on `port`, on the CPU unless VASA_DEVICE says otherwise."""
    env = {**os.environ, "VASA_HOST": "127.0.0.1", "VASA_PORT": str(port)}
    env.setdefault("VASA_DEVICE", "cpu")
    return subprocess.Popen(
        [sys.executable, str(ROOT / "app.py")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def connect(port: int, app: subprocess.Popen, timeout: float = 300.0):
    """A client of the app once it answers."""
    from gradio_client import Client

    deadline = time.monotonic() + timeout
    while True:
        if app.poll() is not None:
            raise RuntimeError(f"the app exited with status {app.returncode}")
        try:
            return Client(f"http://127.0.0.1:{port}/", verbose=False)
        except Exception:  # not listening yet: any connection error
            if time.monotonic() > deadline:
                raise
            time.sleep(1.0)


def arguments(portrait: Path) -> list:
    """`/generate`'s inputs in the Generate tab's order: a short sentence at 256 px."""
    from gradio_client import handle_file

    return [
        handle_file(str(portrait)),
        TEXT,
        None,  # no recording
        "en-us",
        "neutral",
        0.7,  # intensity
        0.0,  # gaze yaw
        0.0,  # gaze pitch
        1.0,  # distance
        1.0,  # head motion
        2.5,  # audio guidance
        10,  # steps
        0,  # seed
        "256",
        25,  # fps
    ]


def one_user(port: int, app, args: list, start: threading.Barrier, report: dict) -> None:
    """Submit once, together with the others; record the queue positions shown and how it
    ended."""
    from gradio_client.utils import Status

    client = connect(port, app)
    start.wait()
    began = time.perf_counter()
    job = client.submit(*args, api_name="/generate")
    ranks = []
    while not job.done():
        status = job.status()
        if status.code == Status.IN_QUEUE and status.rank is not None:
            if not ranks or ranks[-1] != status.rank:
                ranks.append(status.rank)
        time.sleep(0.05)
    try:
        video = job.result()[2]
        report.update(ok=bool(video), error=None)
    except Exception as error:  # the failure to report, whatever gradio_client raised
        report.update(ok=False, error=f"{type(error).__name__}: {error}")
    report.update(ranks=ranks, seconds=round(time.perf_counter() - began, 1))


def concurrent(port: int, app, args: list, users: int) -> list[dict]:
    reports = [{} for _ in range(users)]
    start = threading.Barrier(users)
    threads = [threading.Thread(target=one_user, args=(port, app, args, start, r)) for r in reports]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return reports


def sequential(client, app: subprocess.Popen, args: list, count: int) -> list[float]:
    """The app's RSS (MiB) after each of `count` generates, one after the other."""
    readings = []
    for _ in range(count):
        client.predict(*args, api_name="/generate")
        readings.append(round(rss_mib(app.pid), 1))
    return readings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--sequential", type=int, default=20)
    parser.add_argument("--tolerance-mib", type=float, default=50.0)
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()

    port = free_port()
    app = start_app(port)
    try:
        with tempfile.TemporaryDirectory(prefix="vasa-load-") as folder:
            from vasa_core import examples

            portrait = Path(folder) / "drawn.png"
            Image.fromarray(examples.load("drawn")).save(portrait)
            args = arguments(portrait)
            client = connect(port, app)
            client.predict(*args, api_name="/generate")  # models load on the first request
            idle = rss_mib(app.pid)
            began = time.perf_counter()
            users = concurrent(port, app, args, options.users)
            together = time.perf_counter() - began
            after_users = rss_mib(app.pid)
            readings = sequential(client, app, args, options.sequential)
    finally:
        app.terminate()  # SIGTERM: the app cleans up as on Ctrl+C
        app.wait(timeout=60)

    failed = [u for u in users if not u.get("ok")]
    # Everyone but the one served first waited in the queue, and was told where.
    unseen = sum(1 for u in users if not u.get("ranks"))
    reference = readings[min(WARM_UP, len(readings)) - 1]
    growth = readings[-1] - reference
    # The second half's growth: what a long-running app would keep adding per request.
    late_growth = readings[-1] - readings[len(readings) // 2 - 1] if len(readings) > 1 else 0.0
    summary = {
        "users": options.users,
        "failures": len(failed),
        "errors": [u["error"] for u in failed],
        "queue_positions_seen": [u.get("ranks", []) for u in users],
        "users_never_shown_a_position": unseen,
        "user_seconds": [u.get("seconds") for u in users],
        "concurrent_wall_s": round(together, 1),
        "rss_mib_after_first_generate": round(idle, 1),
        "rss_mib_after_users": round(after_users, 1),
        "rss_mib_sequential": readings,
        "rss_growth_mib_after_warm_up": round(growth, 1),
        "rss_growth_mib_second_half": round(late_growth, 1),
    }
    flat = growth <= options.tolerance_mib and late_growth <= options.tolerance_mib / 5
    ok = not failed and unseen <= 1 and flat
    if options.json:
        print(json.dumps({**summary, "ok": ok}, indent=2))
    else:
        print(f"{options.users} concurrent users: {len(failed)} failed, done in {together:.1f} s")
        for n, user in enumerate(users):
            print(f"  user {n}: {user.get('seconds')} s, queue positions shown {user.get('ranks')}")
        for error in summary["errors"]:
            print(f"  failure: {error}")
        print(f"app RSS: {idle:.0f} MiB after one generate, {after_users:.0f} after the users")
        print(f"app RSS over {len(readings)} sequential generates (MiB): {readings}")
        verdict = "flat" if flat else "GROWING"
        print(
            f"growth after {WARM_UP} warm-up generates: {growth:+.1f} MiB, over the second "
            f"half: {late_growth:+.1f} MiB ({verdict}: tolerance {options.tolerance_mib:g} "
            f"and {options.tolerance_mib / 5:g} MiB)"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
