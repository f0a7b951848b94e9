"""A step the OS kills says how (issue 16: the placer killed at 22 GB left its node "running"
and the console said only "due to errors in: place/0"). The synthesis step is replaced by one
that takes memory and dies by SIGKILL, as under the OOM killer; the flow runs only syn."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from flow import cli


def _oom(ctx: Any, abc_mode: str | None = None) -> dict[str, Any]:
    block = bytearray(96 * 1024 * 1024)
    block[::4096] = b"x" * len(block[::4096])  # touched: counts in the resident size
    os.kill(os.getpid(), signal.SIGKILL)
    return {}


def test_killed_step_records_signal_and_memory(tmp_path: Path, monkeypatch: Any,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    import gptnano.synth

    monkeypatch.setenv("GPTNANO_BUILD", str(tmp_path))
    monkeypatch.setattr(gptnano.synth, "run", _oom)  # SC forks its nodes: they see it
    assert cli.main(["--design", "probe", "--to", "syn", "--quiet"]) == cli.EXIT_FAILED
    body = json.loads((tmp_path / "probe/job0/syn/0/reports/metrics.json").read_text())
    assert body["status"] == "error"
    assert body["error"].startswith("syn/0 was killed by signal 9 (SIGKILL) after using up to ")
    assert "out-of-memory" in body["error"] and "--jobs 1" in body["error"]
    mb = int(body["error"].split("up to ")[1].split(" MB")[0].replace(",", ""))
    assert mb >= 96
    record = json.loads((tmp_path / "probe/job0/signoff.json").read_text())
    assert any(f.startswith("syn: syn/0 was killed by signal 9") for f in record["failures"])
