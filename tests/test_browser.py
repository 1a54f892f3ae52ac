"""The app in a real browser: `python app.py` as a user starts it, driven in Debian's Chromium
by tests/browser/generate.mjs (Playwright) from an example portrait to a playing video, then
by tests/browser/lecturer.mjs: at 1366x768 and 390x844, Generate and (after it) the live
frames on the first screen, the lecturer's path at 256 px timed, the preview gone once the
video is there, one clear error for an empty text, the Edit picture in view at the last
slider, the Reenact example, and axe-core on every tab at both sizes (any contrast or
missing-name violation fails, listed one line a node); its screenshots, the motion curves
included, go to tests/browser/out/lecturer/.

Needs Chromium and Node's playwright-core and axe-core, which `.ci/run` installs. Without
them the test is skipped, except in CI (`CI` set), where that is a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BROWSER = ROOT / "tests" / "browser"
SCRIPT = BROWSER / "generate.mjs"
LECTURER = BROWSER / "lecturer.mjs"
SCREENSHOT = BROWSER / "out" / "generate.png"  # git-ignored, kept for a person to look at
SHOTS = BROWSER / "out" / "lecturer"  # the lecturer's screens, at both sizes
CHROMIUM = os.environ.get("VASA_CHROMIUM", "/usr/bin/chromium")
START_S = 180  # the app imports torch and MediaPipe before it answers
NODE_S = 420  # the script's own limit for Generate is 300 s
INSTALL = (
    "sudo apt-get install -y chromium nodejs npm && npm ci --prefix tests/browser "
    "(Debian/Ubuntu; .ci/run does both; elsewhere point VASA_CHROMIUM at a Chromium)"
)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no", "off"}


def _missing() -> list[str]:
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append(f"Chromium ({CHROMIUM})")
    if shutil.which("node") is None:
        missing.append("Node.js (node)")
    for package in ("playwright-core", "axe-core"):
        if not (BROWSER / "node_modules" / package).is_dir():
            missing.append(f"{package} (tests/browser/node_modules)")
    return missing


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, lines: int = 40) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:]) or "(nothing)"


def _wait_until_up(url: str, app: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        if app.poll() is not None:
            pytest.fail(f"the app exited with {app.returncode} before answering:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    pytest.fail(f"the app did not answer on {url} within {START_S} s:\n{_tail(log)}")


def needs_browser() -> None:
    """Skip without Chromium, Node, playwright-core and axe-core; in CI, where .ci/run installs
    them, a gap is a broken set-up and fails."""
    missing = _missing()
    if missing:
        reason = f"browser test needs {', '.join(missing)}: {INSTALL}"
        if _in_ci():
            pytest.fail(reason)
        pytest.skip(reason)


@contextmanager
def running_app(log: Path, **settings: str) -> Iterator[tuple[str, dict]]:
    """`python app.py` as a user starts it, on a free port, its output in `log` (a file,
    not a pipe, so a chatty app never blocks); yields its URL and environment, with
    `settings` added to it, and stops it after."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {
        **os.environ,
        "VASA_HOST": "127.0.0.1",
        "VASA_PORT": str(port),
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "PYTHONUNBUFFERED": "1",
        **settings,
    }
    started = time.monotonic()
    with open(log, "w") as out:
        app = subprocess.Popen(
            [sys.executable, "app.py"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_up(url, app, log)
        print(f"\napp answered on {url} after {time.monotonic() - started:.0f} s")
        yield url, env
    finally:
        app.terminate()
        try:
            app.wait(timeout=15)
        except subprocess.TimeoutExpired:
            app.kill()
            app.wait()


def node(
    script: Path, url: str, out: Path, log: Path, *args: str, env=None, timeout: float = NODE_S
) -> str:
    """Run one browser script against the app; what it said, or the test fails with it."""
    try:
        run = subprocess.run(
            ["node", str(script), url, str(out), *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # one stream, in the order the script wrote it
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as error:
        said = error.stdout or b""  # bytes here even with text=True
        said = said.decode(errors="replace") if isinstance(said, bytes) else said
        pytest.fail(f"{script.name} ran past {timeout} s:\n{said}\n{_tail(log)}")
    if run.returncode != 0:
        pytest.fail(
            f"{script.name} failed ({run.returncode}); output in {out}\n"
            f"--- node ---\n{run.stdout}\n--- app (last lines) ---\n{_tail(log)}"
        )
    return run.stdout


def test_generate_a_talking_face_in_chromium(tmp_path):
    needs_browser()
    SCREENSHOT.unlink(missing_ok=True)
    log = tmp_path / "app.log"
    with running_app(log) as (url, env):
        print(node(SCRIPT, url, SCREENSHOT, log, env=env))
        assert SCREENSHOT.exists() and SCREENSHOT.stat().st_size > 10_000, "no screenshot"
        print(f"screenshot of the generated video: {SCREENSHOT}")
        print(node(LECTURER, url, SHOTS, log, env=env))
        shots = ("desktop-first-screen", "desktop-generating", "phone-first-screen", "phone-curves")
        for name in shots:
            assert (SHOTS / f"{name}.png").exists(), f"no screenshot {name}"
        print(f"the lecturer's screens: {SHOTS}")
