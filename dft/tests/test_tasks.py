"""The SiliconCompiler task layer: the four DFT nodes run in a real SC 0.38 flow."""

from __future__ import annotations

import json

from dft.tasks import TASKS, add_dft_nodes, configure_dft


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
