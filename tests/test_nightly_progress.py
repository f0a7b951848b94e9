"""The nightly is not silent: a start and a finish line per design, then the summary."""

from __future__ import annotations

import json
import re

from signoff.tests.test_nightly import run, setup  # noqa: F401  (setup is a fixture)


def test_start_and_finish_line_per_design(setup, capsys) -> None:  # noqa: F811
    data = json.loads(setup["metrics"].read_text())
    setup["metrics"].write_text(json.dumps(dict(data, _crash=["beta"])))
    assert run(setup) == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert re.match(r"\[\d\d:\d\d:\d\d\] nightly \S+: 2 designs \(alpha, beta\), 1 at a time",
                    lines[0])
    starts = [i for i, line in enumerate(lines) if re.search(r"\] start  (alpha|beta) \(log: ",
                                                             line)]
    alpha_end = next(i for i, line in enumerate(lines) if "] finish alpha: PASS" in line)
    beta_end = next(i for i, line in enumerate(lines)
                    if "] finish beta: FLOW_ERROR" in line and "(2/2 done) -- flow exited with 3"
                    in line)
    assert len(starts) == 2 and starts[0] < alpha_end < starts[1] < beta_end
    assert "FAILED: 1/2 designs pass" in out
