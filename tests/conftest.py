"""Shared fixtures: the example portraits analysed once per test session."""

from __future__ import annotations

import subprocess
import sys

import pytest

from vasa_core import examples
from vasa_core.face import analyze


@pytest.fixture(scope="session")
def portraits():
    return {name: examples.load(name) for name in examples.NAMES}


@pytest.fixture(scope="session")
def latents(portraits):
    return {name: analyze(image, name=name) for name, image in portraits.items()}


def run_vasa(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the `vasa` command as a user would, in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "vasa_core", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
