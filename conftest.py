"""Adds each notebook's run time to the test summary.

CI runs every notebook through nbval in fast mode, and the notebooks together have a budget
(10 minutes on the CI machine); nbval reports cells, not notebooks, so this sums the cells'
set-up, run and tear-down times per notebook and prints the totals at the end.
"""

from __future__ import annotations

from collections import defaultdict

_seconds: defaultdict[str, float] = defaultdict(float)


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
