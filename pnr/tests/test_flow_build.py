"""Flow construction (flow.project), engine selection and the CLI's error handling -- no tools run
except in the last test, which runs a real (short) SiliconCompiler flow: syn -> sta x3, power."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from flow import check, cli
from flow.project import (
    FlowError,
    FlowPlan,
    build_embedded_flow,
    build_project,
    import_step_modules,
    openroad_available,
    plan_embedded,
    select_engine,
    step_modules,
)
from flow.tasks.dft import TASKS as DFT_TASKS
from flow.tasks.metrics import sc_values
from flow.tasks.steps import CHECK_TASKS, LAYOUT_TASKS
from gptnano.design_config import load_design
from gptnano.paths import lambdapdk_root


def test_select_engine() -> None:
    yes = lambda: (True, "found")  # noqa: E731
    no = lambda: (False, "'openroad' not found on PATH")  # noqa: E731
    assert select_engine("embedded", yes) == ("embedded", "requested")
    assert select_engine("auto", yes)[0] == "openroad"
    assert select_engine("auto", no) == ("embedded", "auto: 'openroad' not found on PATH")
    with pytest.raises(FlowError, match="not available: 'openroad' not found"):
        select_engine("openroad", no)
    with pytest.raises(FlowError, match="unknown engine"):
        select_engine("magic", yes)


def test_openroad_available_checks_tools_and_yosys_version() -> None:
    def which(found: set[str]):
        return lambda exe: f"/usr/bin/{exe}" if exe in found else None

    all_tools = {"openroad", "yosys", "klayout"}
    assert openroad_available(which({"yosys", "klayout"}), lambda e: (0, 50))[0] is False
    ok, why = openroad_available(which(all_tools), lambda e: (0, 23))
    assert not ok and "0.23 is older than 0.48" in why
    assert openroad_available(which(all_tools), lambda e: (0, 52, 1))[0] is True


def test_auto_is_embedded_on_this_machine() -> None:
    # No OpenROAD is installable here: auto must choose the embedded engine and say why.
    engine, why = select_engine("auto")
    assert engine == "embedded" and why.startswith("auto: ")


def test_plan_is_always_the_whole_flow() -> None:
    design = load_design("probe")
    full = plan_embedded(design, dft=False)
    assert full.steps == ["syn", "floorplan", "place", "cts", "rsz", "ant", "route", "drc_repair",
                          "fill", "gds", "extract", "drc_klayout", "drc_magic", "antenna", "lvs",
                          "sta", "power"]
    assert ("sta", "ss") in full.nodes() and ("syn", "0") in full.nodes()
    modules = step_modules(plan_embedded(design, dft=True))
    assert modules["floorplan"] == "pnr.engine.floorplan" and modules["sta"] == "signoff.sta"
    assert modules["dft_atpg"] == "dft.steps.atpg" and len(modules) == 17 + len(DFT_TASKS)
    import_step_modules(plan_embedded(design, dft=True))   # every engine module imports


def broken_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str | None) -> str:
    """A step module on sys.path that fails to import (``body`` None: no file at all)."""
    name = "gptnano_test_broken_step"
    if body is not None:
        (tmp_path / f"{name}.py").write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    return name


@pytest.mark.parametrize("body, cause", [
    (None, "ModuleNotFoundError: No module named 'gptnano_test_broken_step'"),
    ("import gptnano_no_such_dependency\n",
     "ModuleNotFoundError: No module named 'gptnano_no_such_dependency'"),
    ("def run(ctx):\n    return (\n", "SyntaxError: "),
    ("raise RuntimeError('bad\\nsetup')\n", "RuntimeError: bad setup"),
])
def test_a_step_module_that_fails_to_import_is_a_one_line_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        body: str | None, cause: str) -> None:
    """No silently shorter flow: the CLI stops before running anything, exit 2, one line
    naming the step, the module and the cause."""
    floorplan = next(cls for cls in LAYOUT_TASKS if cls.NAME == "floorplan")
    module = broken_module(tmp_path, monkeypatch, body)
    monkeypatch.setattr(floorplan, "MODULE", module)
    monkeypatch.setenv("GPTNANO_BUILD", str(tmp_path / "build"))
    with pytest.raises(FlowError, match=f"step 'floorplan': engine module {module} cannot"):
        import_step_modules(plan_embedded(load_design("probe"), dft=False))
    assert cli.main(["--design", "probe", "--engine", "embedded", "--jobname", "b"]) == \
        cli.EXIT_USAGE
    out = capsys.readouterr()
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.err, out.err
    assert lines[0].startswith(f"error: step 'floorplan': engine module {module} cannot be "
                               f"imported: {cause}"), lines[0]
    assert not (tmp_path / "build" / "probe" / "b").exists()   # nothing ran


def test_flowgraph_edges_and_corners() -> None:
    design = load_design("probe")
    flow = build_embedded_flow(plan_embedded(design, dft=False))
    assert set(flow.getkeys("sta")) == {"ss", "tt", "ff"}
    for corner in ("ss", "tt", "ff"):
        assert flow.get("sta", corner, "input") == [("extract", "0")]
    assert flow.get("floorplan", "0", "input") == [("syn", "0")]
    assert flow.get("lvs", "0", "input") == [("extract", "0")]
    for cls in CHECK_TASKS:
        assert flow.get(cls.NAME, "0", "input") == [("extract", "0")]


def test_dft_nodes_between_syn_and_floorplan() -> None:
    design = load_design("probe")
    plan = plan_embedded(design, dft=True)
    flow = build_embedded_flow(plan)
    assert flow.get("dft_cut", "0", "input") == [("syn", "0")]
    assert flow.get("floorplan", "0", "input") == [("dft_asm", "0")]
    assert [s for s, _ in plan.nodes()][:6] == [
        "syn", "dft_cut", "dft_atpg", "dft_chain", "dft_asm", "floorplan"]


def test_project_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPTNANO_BUILD", str(tmp_path))
    design = load_design("probe")
    project, plan = build_project(design, "embedded", jobname="jx", jobs=3)
    assert project.option.get_builddir() == str(tmp_path)
    assert project.option.get_jobname() == "jx"
    assert project.option.scheduler.get_maxnodes() == 3
    assert project.get("tool", "gptnano", "task", "syn", "var", "design_config") == \
        str(design.folder / "config.yaml")
    lib = project.get_library("sky130hd")
    assert lib.get("dataroot", "lambdapdk", "path") == str(lambdapdk_root())
    assert project.constraint.area.get_density() == pytest.approx(40.0)
    with pytest.raises(FlowError, match="resolved engine"):
        build_project(design, "auto")


def test_openroad_project_uses_the_stock_asic_flow() -> None:
    project, plan = build_project(load_design("probe"), "openroad")
    steps = set(project.get_flow().getkeys())
    assert plan is None and {"synthesis", "floorplan.init", "route.detailed", "write.gds"} <= steps


def test_metric_mapping_units() -> None:
    values = {m: (v, u) for m, v, u in sc_values(
        {"timing__setup__ws__corner:ss": -0.5, "design__instance__utilization": 0.4,
         "timing__fmax__corner:ss": 80.0, "design__lvs__clean": True,
         "klayout__drc_error__count": 0})}
    assert values["setupslack"] == (-0.5, "ns")
    assert values["setupwns"] == (-0.5, "ns")
    assert values["utilization"] == (40.0, "%")
    assert values["fmax"] == (80.0, "MHz")
    assert values["errors"] == (0.0, None)
    assert values["drcs"] == (0, None)


def test_cli_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--design", "no_such_design"]) == cli.EXIT_USAGE
    assert "no design config" in capsys.readouterr().err
    assert cli.main([]) == cli.EXIT_USAGE
    assert "--design is required" in capsys.readouterr().err
    assert cli.main(["--design", "probe", "--engine", "embedded", "--from", "nowhere"]) == 2
    assert "unknown step 'nowhere'" in capsys.readouterr().err
    assert cli.main(["--design", "probe", "--engine", "openroad"]) == 2
    assert "not available" in capsys.readouterr().err
    assert cli.main(["--list"]) == 0
    assert "probe" in capsys.readouterr().out.split()
    assert cli.main(["--design", "probe", "--engine", "embedded", "--list"]) == 0
    out = capsys.readouterr().out.split()
    assert out[0] == "syn/0" and "sta/ss" in out


def short_plan(design: object, dft: bool) -> FlowPlan:
    """Test double for :func:`flow.project.plan_embedded`: syn -> sta per corner + power on
    syn's netlist, no layout steps (the flow code itself only ever plans the whole flow)."""
    return FlowPlan(steps=["syn", "sta", "power"], corners=tuple(design.corners))


def test_short_flow_runs_in_siliconcompiler(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """syn -> sta/{ss,tt,ff} + power as real SC nodes (:func:`short_plan`): checks the task
    wrapper, pass-through views, metrics in the manifest and signoff.json."""
    import flow.project as flow_mod

    monkeypatch.setenv("GPTNANO_BUILD", str(tmp_path))
    monkeypatch.setattr(flow_mod, "plan_embedded", short_plan)
    code = cli.main(["--design", "probe", "--engine", "embedded", "--jobname", "short",
                     "--quiet"])
    job = tmp_path / "probe" / "short"
    record = json.loads((job / "signoff.json").read_text())
    m = record["metrics"]  # every name from gptnano.metrics
    # every planned node ran: complete; passed (and exit 0) exactly when no node failed
    assert record["not_run"] == [] and m["flow__complete"] is True
    assert m["flow__passed"] is (record["failures"] == [])
    assert code == (cli.EXIT_OK if m["flow__passed"] else cli.EXIT_FAILED)
    assert "missing_steps" not in record
    assert m["design__instance__count"] == m["synth__design__instance__count"] > 100
    ws = [m[f"timing__setup__ws__corner:{c}"] for c in ("ss", "tt", "ff")]
    assert ws[0] < ws[1] < ws[2] and m["timing__setup__ws"] == ws[0]
    assert m["power__total"] > 0
    assert (tmp_path / "probe" / record["reports"]["timing__setup__ws__corner:tt"]).is_file()
    assert (job / "sta" / "tt" / "outputs" / "probe_mac.vg").is_file()  # passed through
    assert {n.split(":", 1)[1] for n in m if n.startswith("runtime__total__step:")} >= \
        {"syn", "sta/ss", "sta/tt", "sta/ff", "power"}
    manifest = json.loads((job / "probe.pkg.json").read_text())
    assert manifest["metric"]["cells"]["node"]["syn"]["0"]["value"] == \
        m["synth__design__instance__count"]

    # make signoff on the existing job: the signoff nodes re-run, synthesis is reused.
    netlist = job / "syn" / "0" / "outputs" / "probe_mac.vg"
    sta_log = job / "sta" / "tt" / "reports" / "sta_tt.log"
    before = (netlist.stat().st_mtime_ns, sta_log.stat().st_mtime_ns)
    assert check.main(["--design", "probe", "--jobname", "short"]) == code
    assert netlist.stat().st_mtime_ns == before[0]
    assert sta_log.stat().st_mtime_ns != before[1]


def test_route_fails_on_unrouted_nets_and_on_its_self_audit() -> None:
    from flow.tasks.steps import RouteTask

    route = RouteTask.__new__(RouteTask)   # violations() reads only the metrics
    assert route.violations({"failed_nets": 0, "drc_errors_self": 0}) == []
    assert route.violations({"failed_nets": 2}) == ["2 nets unrouted"]
    assert route.violations({"failed_nets": 0, "drc_errors_self": 1}) == [
        "1 different-net spacing violations in the routed metal (route self-audit, "
        "reports/route_audit.rpt)"]
    assert route.violations({}) == ["route reported no failed_nets count"]
