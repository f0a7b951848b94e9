"""The SiliconCompiler task layer: the four DFT nodes run in a real SC 0.38 flow."""

from __future__ import annotations

import json

import pytest

from dft.shift_timing import ShiftTimingError, shift_sdc
from dft.summary import write_flow_summary
from flow.tasks.dft import SC_DFT_METRICS, TASKS, add_dft_nodes, configure_dft


def test_dft_nodes_in_a_siliconcompiler_flow(blk_run, tmp_path):
    from siliconcompiler.tools.builtin.importfiles import ImportFilesTask

    from siliconcompiler import Design, Flowgraph, Project

    design_cfg, summary, root = blk_run
    syn = root / design_cfg.name / "dft" / "syn" / "outputs"
    design = Design(design_cfg.top)
    with design.active_fileset("rtl"):
        design.set_topmodule(design_cfg.top)
    project = Project(design)
    project.add_fileset("rtl")
    flow = Flowgraph("dftflow")
    flow.node("import", ImportFilesTask())
    last = add_dft_nodes(flow, "import")
    assert last == "dft_asm"
    project.set_flow(flow)
    importer = ImportFilesTask.find_task(project)
    importer.add_import_file(str(syn / f"{design_cfg.top}.vg"))
    importer.add_import_file(str(syn / f"{design_cfg.top}.sdc"))
    configure_dft(project, design_cfg.folder / "config.yaml")
    for cls in TASKS:  # the flow's other task vars (re-run fingerprints): any value will do
        task = cls.find_task(project)
        for var in task.getkeys("var"):
            if task.get("var", var) in (None, ""):
                task.set("var", var, "test")
    project.set("option", "builddir", str(tmp_path / "sc"))
    project.set("option", "quiet", True)
    project.run()

    job = tmp_path / "sc" / design_cfg.top / "job0"
    outputs = job / "dft_asm" / "0" / "outputs"
    for ext in ("vg", "sdc", "patterns.json", "patterns.txt", "scan.json", "tv.json"):
        assert (outputs / f"{design_cfg.top}.{ext}").is_file(), ext
    metrics = json.loads((job / "dft_atpg" / "0" / "reports" / "dft_atpg_metrics.json")
                         .read_text())
    assert metrics["dft_stuck_at_coverage"] == summary["stuck_at_coverage"]
    assert "set_case_analysis 0" in (outputs / f"{design_cfg.top}.sdc").read_text()
    assert [cls.NAME for cls in TASKS] == ["cut", "atpg", "chain", "asm"]

    # the DFT metrics are in SC's job manifest, per node (metric/<name>/node/<step>/<index>)
    expected = {("dftcoverage", "dft_atpg"): summary["stuck_at_coverage"],
                ("dftvectors", "dft_atpg"): summary["vectors"],
                ("dftscanflops", "dft_chain"): summary["scan_flops"],
                ("dftchains", "dft_chain"): summary["chains"],
                ("dftchainlength", "dft_chain"): max(summary["chain_lengths"]),
                ("dfttestcycles", "dft_asm"): summary["test_cycles"]}
    manifest = json.loads((job / f"{design_cfg.top}.pkg.json").read_text())["metric"]
    assert {m for m, *_ in SC_DFT_METRICS.values()} <= set(manifest)
    if "registers" in manifest:  # SC's own metric, ASIC projects only
        expected["registers", "dft_chain"] = summary["scan_flops"]
    for (metric, step), value in expected.items():
        assert manifest[metric]["node"][step]["0"]["value"] == value, metric

    # the flow's dft.json is built from the nodes and agrees with flow.run_dft's
    flow_summary = json.loads(write_flow_summary(design_cfg, job).read_text())
    for key in ("scan_flops", "chains", "chain_lengths", "stuck_at_coverage", "vectors",
                "test_cycles"):
        assert flow_summary[key] == summary[key], key
    assert flow_summary["runtime_s"] > 0


def test_shift_mode_sdc():
    """Shift-mode STA turns the chain step's functional tie-off into scan_en = 1."""
    from dft.steps.chain import tie_off_sdc

    functional = tie_off_sdc("create_clock -period 10 [get_ports clk]\n", "scan_en")
    shift = shift_sdc(functional, "scan_en")
    assert "set_case_analysis 1 [get_ports {scan_en}]" in shift
    assert "set_case_analysis 0" not in shift and shift.startswith("create_clock")
    with pytest.raises(ShiftTimingError, match="set_case_analysis 0"):
        shift_sdc("create_clock -period 10 [get_ports clk]\n", "scan_en")
