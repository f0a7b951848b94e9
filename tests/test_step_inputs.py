"""What re-runs a flow node: the inputs each step declares to SiliconCompiler
(flow.tasks.inputs) and the config guard that keeps the declaration honest."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flow.project import TASK_MODULES
from flow.tasks import inputs
from gptnano.design_config import (
    BY_KEY,
    SECTIONS,
    UndeclaredSettingError,
    load_design,
)
from gptnano.paths import REPO_ROOT

CODE = '''"""Module docstring."""

from pnr import helper


def area(w, h):
    """Area of a box."""
    return helper.scale(w * h)  # a comment
'''
HELPER = "def scale(x):\n    return x\n"


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for package in inputs.FLOW_PACKAGES:
        (root / package).mkdir(parents=True)
        (root / package / "__init__.py").write_text("")
    (root / "pnr" / "geometry.py").write_text(CODE)
    (root / "pnr" / "helper.py").write_text(HELPER)
    (root / "pnr" / "deck.tcl").write_text("proc x {} { return 1 }\n")
    (root / "pnr" / "README.md").write_text("notes\n")
    (root / "signoff" / "other.py").write_text("X = 1\n")
    return root


def test_code_digest_follows_imports_and_ignores_docstrings(tmp_path: Path) -> None:
    root = _repo(tmp_path)

    def digest() -> str:
        inputs.code_meaning.cache_clear()
        inputs._imports.cache_clear()
        return inputs.code_digest("pnr.geometry", root)

    first = digest()
    geometry = root / "pnr" / "geometry.py"
    geometry.write_text(CODE.replace("Area of a box.", "Area of a rectangle, in um^2.")
                        .replace("# a comment", "# another").replace('"""Module', '"""A'))
    assert digest() == first                      # docstrings and comments only
    (root / "pnr" / "README.md").write_text("other notes\n")
    assert digest() == first                      # documentation
    (root / "signoff" / "other.py").write_text("X = 2\n")
    assert digest() == first                      # a module the step does not import
    (root / "pnr" / "helper.py").write_text(HELPER.replace("return x", "return 2 * x"))
    second = digest()
    assert second != first                        # an imported module's code
    (root / "pnr" / "deck.tcl").write_text("proc x {} { return 2 }\n")
    assert digest() != second                     # a data file of a package reached


def test_settings_change_only_with_the_sections_a_step_reads(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    (tmp_path / "constraint.sdc").write_text("create_clock -period 10 [get_ports clk]\n")
    rtl = tmp_path / "t.v"
    rtl.write_text("module t(input clk); endmodule\n")
    base = f"top: t\nrtl: [{rtl}]\nclock: {{port: clk, period_ns: 10}}\n"
    config.write_text(base)
    before = {s: inputs.settings_json(load_design(config), s) for s in inputs.STEP_SECTIONS}
    config.write_text(base + "route: {max_rounds: 7}\n")
    after = {s: inputs.settings_json(load_design(config), s) for s in inputs.STEP_SECTIONS}
    assert {s for s in before if before[s] != after[s]} == {"route"}
    config.write_text(base + "route: {max_rounds: 60}\n")   # the default, made explicit
    assert inputs.settings_json(load_design(config), "route") == before["route"]
    config.write_text(base.replace("period_ns: 10", "period_ns: 12"))
    changed = {s for s in before if inputs.settings_json(load_design(config), s) != before[s]}
    assert changed == set(inputs.STEP_SECTIONS)             # the clock is everyone's


DFT_STEPS = ("cut", "atpg", "chain", "asm")


def test_dft_steps_declare_their_settings_and_code(tmp_path: Path) -> None:
    """The DFT tasks (flow.tasks.dft) are declared like the others: a route edit leaves their
    settings alone, a ``dft`` edit changes those of the steps that read ``dft`` (not ``asm``,
    which only reads views) and no other step's; their code digest covers their own module's
    imports, not every flow package (which re-ran them after any edit anywhere)."""
    from flow.tasks.dft import TASKS

    assert {cls.NAME for cls in TASKS} == set(DFT_STEPS)
    config = tmp_path / "config.yaml"
    (tmp_path / "constraint.sdc").write_text("create_clock -period 10 [get_ports clk]\n")
    rtl = tmp_path / "t.v"
    rtl.write_text("module t(input clk); endmodule\n")
    base = f"top: t\nrtl: [{rtl}]\nclock: {{port: clk, period_ns: 10}}\n"
    config.write_text(base + "dft: {enable: true}\n")
    before = {s: inputs.settings_json(load_design(config), s) for s in inputs.STEP_SECTIONS}
    config.write_text(base + "dft: {enable: true}\nroute: {max_rounds: 7}\n")
    after = {s: inputs.settings_json(load_design(config), s) for s in DFT_STEPS}
    assert after == {s: before[s] for s in DFT_STEPS}
    config.write_text(base + "dft: {enable: true, chains: 2}\n")
    changed = {s for s in before if inputs.settings_json(load_design(config), s) != before[s]}
    assert changed == {"cut", "atpg", "chain"}
    for step in DFT_STEPS:
        files = inputs.module_closure((TASK_MODULES[step],), REPO_ROOT)
        assert REPO_ROOT / "dft" / "steps" / f"{step}.py" in files
        assert not [f for f in files if f.relative_to(REPO_ROOT).parts[0] in ("pnr", "flow")]
        assert inputs.code_digest(TASK_MODULES[step]) != inputs.code_digest(None)


def test_a_step_reading_an_undeclared_section_fails_loudly() -> None:
    design = load_design("probe").for_step("route", inputs.sections_of("route"))
    assert design.setting("route.max_rounds") == design.extra.get("route", {}).get(
        "max_rounds", BY_KEY["route.max_rounds"].default)
    assert design.setting("clock.period_ns") == load_design("probe").clock_period_ns
    for read in (lambda: design.extra.get("cts"), lambda: design.floorplan.get("x"),
                 lambda: dict(design.placement), lambda: design.setting("drc.feol")):
        with pytest.raises(UndeclaredSettingError, match="step 'route'|this step"):
            read()
    everything = load_design("probe").for_step("new_step", inputs.sections_of("new_step"))
    assert everything.setting("drc.feol") is True and "x" not in everything.floorplan


# How step code reads the design config (ctx.design.<section>, .extra.get("<section>"),
# .setting("<key>")), so the declaration can be checked against the source.
READS = (re.compile(r"design\.(floorplan|placement|dft)\b"),
         re.compile(r"\.extra(?:\.get\(|\[)[\"'](\w+)[\"']"),
         re.compile(r"\.setting\([\"']([\w.]+)[\"']\)"))


@pytest.mark.parametrize("step", sorted(inputs.STEP_SECTIONS))
def test_declared_sections_cover_what_the_step_code_reads(step: str) -> None:
    files = [f for f in inputs.module_closure((TASK_MODULES[step],), REPO_ROOT)
             if f.suffix == ".py" and f.parts[-3:-1] != ("gptnano", "design_config.py")
             and f.name != "design_config.py"]
    design = load_design("probe").for_step(step, inputs.sections_of(step))
    module_file = inputs._module_file(TASK_MODULES[step], REPO_ROOT)
    for f in files:
        for pattern in READS:
            for name in pattern.findall(f.read_text()):
                assert name in SECTIONS or name in BY_KEY, (f, name)
                if f == module_file:
                    assert design.may_read(name), f"{f.name} reads '{name}', {step} does not " \
                                                  "declare it"


def test_siliconcompiler_reruns_only_the_nodes_whose_inputs_changed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A short flow (syn -> sta per corner + power, no layout steps: a test-double plan) on a
    copy of the probe: the same command again reuses every node; a setting only ``sta`` reads
    re-runs the sta nodes and keeps syn; an RTL edit re-runs syn."""
    import shutil

    import flow.project as flow_mod
    from flow import cli

    monkeypatch.setenv("GPTNANO_BUILD", str(tmp_path / "build"))
    monkeypatch.setattr(flow_mod, "plan_embedded", lambda design, dft: flow_mod.FlowPlan(
        steps=["syn", "sta", "power"], corners=tuple(design.corners)))
    folder = tmp_path / "probe_copy"
    shutil.copytree(REPO_ROOT / "designs" / "probe", folder)
    rtl = folder / "probe_mac.v"
    config = folder / "config.yaml"
    config.write_text(config.read_text().replace("name: probe", "name: probe_copy")
                      .replace("designs/probe/probe_mac.v", str(rtl)))
    job = tmp_path / "build" / "probe_copy" / "j"

    def run() -> dict[str, int]:
        cli.main(["--design", str(config), "--jobname", "j", "--quiet"])
        return {node: (job / node / "reports" / "metrics.json").stat().st_mtime_ns
                for node in ("syn/0", "sta/tt", "power/0")}

    first = run()
    assert run() == first                                       # nothing changed
    config.write_text(config.read_text() + "timing: {setup: report}\n")
    second = run()
    assert second["syn/0"] == first["syn/0"] and second["power/0"] == first["power/0"]
    assert second["sta/tt"] != first["sta/tt"]
    rtl.write_text(rtl.read_text() + "\n// edited\n")
    assert run()["syn/0"] != second["syn/0"]
