"""``python -m design.synth --config``: ad-hoc configurations for sizing (issue #14)."""

from __future__ import annotations

import pytest

from design.synth import main, parse_config


def test_parse_config_builds_the_configuration():
    cfg = parse_config("g2_ml16=1,2,16,1,16")
    assert (cfg.name, cfg.lanes, cfg.group, cfg.max_len, cfg.req_bits, cfg.scale_bits) == \
        ("g2_ml16", 1, 2, 16, 1, 16)


@pytest.mark.parametrize("text, message", [
    ("x=1,2,16", "five integers"), ("small=1,2,16,1,16", "not a shipped config"),
    ("x=1,3,16,1,16", "power of two"), ("x=1,2,15,1,16", "multiple of group")])
def test_bad_configs_are_one_line_errors(text, message, capsys):
    with pytest.raises(SystemExit):
        main(["--config", text])
    err = capsys.readouterr().err.strip().splitlines()
    assert message in err[-1] and "Traceback" not in "".join(err)
