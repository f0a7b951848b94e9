"""Design configs are checked once, with errors that name the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from gptnano.design_config import DesignConfigError, design_names, load_design


def write_config(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "constraint.sdc").write_text("create_clock -period 10 [get_ports clk]\n")
    path = folder / "config.yaml"
    path.write_text(body)
    return path


def test_unknown_design_lists_known_ones() -> None:
    with pytest.raises(DesignConfigError, match="known designs"):
        load_design("no_such_design")


def test_missing_key_is_named(tmp_path: Path) -> None:
    path = write_config(tmp_path / "d", "rtl: []\nclock: {port: clk, period_ns: 5}\n")
    with pytest.raises(DesignConfigError, match="'top'"):
        load_design(path)


def test_missing_rtl_file_is_named(tmp_path: Path) -> None:
    body = "top: t\nrtl: [nowhere/x.v]\nclock: {port: clk, period_ns: 5}\n"
    path = write_config(tmp_path / "d", body)
    with pytest.raises(DesignConfigError, match="nowhere/x.v"):
        load_design(path)


def test_bad_period_and_corner(tmp_path: Path) -> None:
    rtl = tmp_path / "t.v"
    rtl.write_text("module t(input clk); endmodule\n")
    base = f"top: t\nrtl: [{rtl}]\n"
    with pytest.raises(DesignConfigError, match="period_ns"):
        load_design(write_config(tmp_path / "a", base + "clock: {port: clk, period_ns: -1}\n"))
    with pytest.raises(DesignConfigError, match="corners entry .hot.: must be one of"):
        body = base + "clock: {port: clk, period_ns: 5}\ncorners: [hot]\n"
        load_design(write_config(tmp_path / "b", body))


def test_every_shipped_design_loads() -> None:
    for name in design_names():
        cfg = load_design(name)
        assert cfg.top and cfg.rtl and cfg.clock_period_ns > 0


def test_timing_setup_mode_is_checked(tmp_path: Path) -> None:
    rtl = tmp_path / "t.v"
    rtl.write_text("module t(input clk); endmodule\n")
    base = f"top: t\nrtl: [{rtl}]\nclock: {{port: clk, period_ns: 5}}\n"
    assert load_design(write_config(tmp_path / "a", base)).setup_mode == "signoff"
    report = load_design(write_config(tmp_path / "b", base + "timing: {setup: report}\n"))
    assert report.setup_mode == "report" and "timing" not in report.extra
    with pytest.raises(DesignConfigError, match="timing.setup must be one of"):
        load_design(write_config(tmp_path / "c", base + "timing: {setup: waive}\n"))
    with pytest.raises(DesignConfigError, match=r"timing: unknown keys \['hold'\]"):
        load_design(write_config(tmp_path / "d", base + "timing: {hold: report}\n"))


def test_setup_report_mode_keeps_hold_as_a_signoff_check() -> None:
    from flow.tasks.steps import timing_violations

    bad_setup = {"setup_slack_ns": -1.5, "hold_slack_ns": 0.1}
    bad_hold = {"setup_slack_ns": 0.5, "hold_slack_ns": -0.2}
    assert timing_violations(bad_setup, "tt", "signoff") == ["setup slack -1.5 ns < 0 at corner tt"]
    assert timing_violations(bad_setup, "tt", "report") == []
    assert timing_violations(bad_hold, "ss", "report") == ["hold slack -0.2 ns < 0 at corner ss"]
    assert timing_violations({}, "ff", "report") == ["no setup slack reported",
                                                     "no hold slack reported"]


def _base(tmp_path: Path) -> str:
    rtl = tmp_path / "t.v"
    rtl.write_text("module t(input clk); endmodule\n")
    return f"top: t\nrtl: [{rtl}]\nclock: {{port: clk, period_ns: 5}}\n"


@pytest.mark.parametrize(("extra", "message"), [
    ("placement: {densty: 0.5}\n",
     r"placement: unknown keys \['densty'\] \(known: cell_pad_sites, density, io_placement, "
     r"routability_driven, timing_driven\)"),
    ("route: {max_rounds: 2.5}\n", "route.max_rounds must be a whole number, got 2.5"),
    ("route: {time_guard_s: 0}\n", "route.time_guard_s must be > 0"),
    ("cts: {clock_max_fanout: 1}\n", "cts.clock_max_fanout must be >= 2"),
    ("floorplan: {core_utilization: 1.5}\n", "floorplan.core_utilization must be <= 1"),
    ("dft: {enable: yes please}\n", "dft.enable must be true or false"),
    ("dft: {atpg: {seeds: 3}}\n", r"dft.atpg: unknown keys \['seeds'\]"),
    ("synth: {abc: turbo}\n", "synth.abc must be one of"),
    ("floorplan: 0.5\n", "floorplan must be a mapping"),
    ("routing: {max_rounds: 3}\n", r"top level: unknown keys \['routing'\]"),
])
def test_typed_keys_name_file_and_key(tmp_path: Path, extra: str, message: str) -> None:
    path = write_config(tmp_path / "d", _base(tmp_path) + extra)
    with pytest.raises(DesignConfigError, match=message) as info:
        load_design(path)
    assert str(info.value).startswith(f"{path}: ") and "\n" not in str(info.value)


@pytest.mark.parametrize("name", ["../../../x", "/", "a/b", "my design", "x<y", "..", "a;b"])
def test_unsafe_names_are_refused(tmp_path: Path, name: str) -> None:
    """The name becomes build/<name>/ and part of yosys/Tcl arguments: issue 16 measured
    '../../../x' writing outside build/ and a space reaching yosys unquoted."""
    path = write_config(tmp_path / "d", _base(tmp_path) + f"name: {name!r}\n")
    with pytest.raises(DesignConfigError, match="name") as info:
        load_design(path)
    assert str(path) in str(info.value)
    with pytest.raises(DesignConfigError, match="not a design folder name"):
        load_design(name)


@pytest.mark.parametrize("value", ["'t m'", "'t<x'", "'[exec rm]'"])
def test_unsafe_tool_arguments_are_refused(tmp_path: Path, value: str) -> None:
    body = _base(tmp_path).replace("top: t", f"top: {value}")
    with pytest.raises(DesignConfigError, match="top .* is not a Verilog identifier"):
        load_design(write_config(tmp_path / "a", body))
    with pytest.raises(DesignConfigError, match="sdc .* is not a safe path"):
        load_design(write_config(tmp_path / "b", _base(tmp_path) + f"sdc: {value}\n"))
    spaced = tmp_path / "my dir"
    with pytest.raises(DesignConfigError, match="characters tools would split"):
        load_design(write_config(spaced, _base(tmp_path) + "name: d\n"))


def test_defaults_are_the_ones_the_modules_apply() -> None:
    """The table declares each key with the default of the module that reads it; a module that
    changes a default without the table (or the reverse) fails here."""
    from dft.atpg_engine import run_atpg
    from dft.config import DftSettings
    from gptnano import synth
    from gptnano.design_config import BY_KEY, VARIABLES
    from pnr.engine import cts, gpl, place, route, rsz
    from signoff import power

    assert BY_KEY["route.max_rounds"].default == route.MAX_ROUNDS
    assert BY_KEY["route.time_guard_s"].default == route.TIME_GUARD_S
    for mod, section in ((cts, "cts"), (rsz, "rsz")):
        assert {k: v.default for k, v in BY_KEY.items()
                if k.startswith(section + ".")} == {f"{section}.{k}": v
                                                   for k, v in mod.DEFAULTS.items()}
    assert BY_KEY["placement.density"].default == gpl.DEFAULT_DENSITY
    assert BY_KEY["placement.cell_pad_sites"].default == place.DEFAULT_PAD_SITES
    assert BY_KEY["synth.abc"].default == synth.DEFAULT_ABC_MODE
    assert set(BY_KEY["synth.abc"].choices) == set(synth.ABC_MODES)
    assert BY_KEY["synth.yosys"].default == synth.DEFAULT_YOSYS
    assert set(BY_KEY["synth.yosys"].choices) == set(synth.YOSYS_IMPLS)
    assert BY_KEY["power.activity"].default == power.DEFAULT_ACTIVITY
    dft = DftSettings()
    for key in ("enable", "chains", "scan_in", "scan_out", "scan_enable", "reset",
                "reset_active_low"):
        assert BY_KEY[f"dft.{key}"].default == getattr(dft, key), key
    import inspect
    atpg = inspect.signature(run_atpg).parameters
    for key in ("seed", "conflict_budget", "max_random_batches", "solver"):
        assert BY_KEY[f"dft.atpg.{key}"].default == atpg[key].default, key
    assert all(v.help for v in VARIABLES)


def test_setting_falls_back_to_the_declared_default(tmp_path: Path) -> None:
    cfg = load_design(write_config(tmp_path / "d", _base(tmp_path) + "route: {max_rounds: 3}\n"))
    assert cfg.setting("route.max_rounds") == 3
    assert cfg.setting("route.time_guard_s") == 3600.0
    assert cfg.setting("placement.density") == 0.7
    assert cfg.extra["route"] == {"max_rounds": 3} and cfg.name == "d"


def test_every_section_key_the_engine_reads_is_declared() -> None:
    """The floorplan/placement mappings are passed to the engine whole; each key it reads with
    ``.get("key")`` must be in the table, or a config using it would be rejected."""
    import re

    from gptnano.design_config import BY_KEY
    from gptnano.paths import REPO_ROOT

    pattern = re.compile(r"\b(placement|fp|floorplan)\.get\(\s*\"(\w+)\"")
    read = set()
    for path in (REPO_ROOT / "pnr" / "engine").glob("*.py"):
        for var, key in pattern.findall(path.read_text()):
            read.add(f"{'placement' if var == 'placement' else 'floorplan'}.{key}")
    assert {"placement.cell_pad_sites", "floorplan.core_utilization"} <= read
    assert sorted(read - set(BY_KEY)) == []
