"""`vasa doctor`: every part tried for real, one line each, and a failing exit when a needed
part is broken."""

import pytest

from vasa_core import doctor
from vasa_core.cli import main
from vasa_core.errors import VasaError


def test_a_working_install_is_ready(capsys):
    assert main(["doctor"]) in (0, None)
    out = capsys.readouterr().out
    assert out.strip().endswith("ready: every part the kit needs works")
    assert all(name in out for name, _, _ in doctor.CHECKS)


def _broken() -> str:
    raise VasaError("ffmpeg is missing")


def _crashing() -> str:
    raise ImportError("libGL.so.1: cannot open shared object file")


def test_a_broken_part_fails_with_its_reason_and_the_rest_still_run(monkeypatch, capsys):
    checks = (
        ("video", _broken, True),
        ("face mesh", _crashing, True),
        ("python", doctor._python, True),
    )
    monkeypatch.setattr(doctor, "CHECKS", checks)
    with pytest.raises(SystemExit) as stop:
        main(["doctor"])
    assert stop.value.code == 1
    out = capsys.readouterr().out
    assert "FAIL video" in out and "ffmpeg is missing" in out
    assert "ImportError: libGL.so.1" in out and "ok   python" in out
    assert "not ready: video, face mesh failed" in out


def test_an_optional_part_missing_is_no_failure(monkeypatch, capsys):
    monkeypatch.setattr(doctor, "CHECKS", (("festival", _broken, False),))
    assert main(["doctor"]) in (0, None)
    assert "ready" in capsys.readouterr().out
