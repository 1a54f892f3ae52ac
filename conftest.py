"""Adds each notebook's run time to the test summary, and keeps what the notebooks write.

CI runs every notebook through nbval in fast mode, and the notebooks together have a budget
(10 minutes on the CI machine); nbval reports cells, not notebooks, so this sums the cells'
set-up, run and tear-down times per notebook and prints the totals at the end.

A notebook writes its audio and videos into a folder of its own under the temporary
directory, and leaves it for the student to open. Under pytest the kernels get a temporary
directory of the session's (TMPDIR, which the kernels inherit), removed when it ends, and
so does everything else the tests write there.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import defaultdict

_seconds: defaultdict[str, float] = defaultdict(float)
_kernel_tmp: str | None = None


def pytest_configure(config) -> None:
    global _kernel_tmp
    _kernel_tmp = tempfile.mkdtemp(prefix="vasa-pytest-")
    # This process too: the app's folders and Gradio's check of where a file may come from
    # must agree on the temporary directory (Gradio reads TMPDIR afresh, tempfile caches it).
    os.environ["TMPDIR"] = tempfile.tempdir = _kernel_tmp


def pytest_unconfigure(config) -> None:
    if _kernel_tmp:
        shutil.rmtree(_kernel_tmp, ignore_errors=True)


def pytest_runtest_logreport(report) -> None:
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _seconds[path] += report.duration


def pytest_terminal_summary(terminalreporter) -> None:
    if not _seconds:
        return
    terminalreporter.section("notebook run times")
    for path, seconds in sorted(_seconds.items()):
        terminalreporter.write_line(f"{seconds:7.1f} s  {path}")
    terminalreporter.write_line(f"{sum(_seconds.values()):7.1f} s  all notebooks together")
