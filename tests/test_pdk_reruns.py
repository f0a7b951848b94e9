"""The PDK files the flow reads are SiliconCompiler library filesets, and SC's own file check
decides what re-runs when one changes (flow.tasks.inputs.PDK_FILES, flow.project).

A private copy of the PDK (symbolic links to the shared one, the Liberty files copied) lets a
test change a Liberty file without touching the shared PDK.
"""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from flow.project import base_project, declare_step_inputs
from flow.tasks import inputs
from flow.tasks.base import TOOL, EngineTask
from gptnano import paths, pdk
from gptnano.design_config import load_design
from siliconcompiler import Flowgraph

COUNTER_ENV = "GPTNANO_PDKTEST_COUNTER"


def run(ctx: Any) -> dict[str, Any]:
    """The step of :class:`PdkProbeTask`: counts its runs, reads nothing."""
    with open(os.environ[COUNTER_ENV], "a") as out:
        out.write("ran\n")
    return {}


class PdkProbeTask(EngineTask):
    """An embedded task (the flow's own base class and setup) whose step only counts runs."""

    NAME = "pdkprobe"
    MODULE = __name__


@pytest.fixture()
def private_pdk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``$GPTNANO_SHARED`` with the PDK linked file by file from the shared one, except the
    sky130hd Liberty folder (``nldm``), which is copied; returns that folder."""
    real = paths.pdk_root()
    shared = tmp_path / "shared"
    nldm = Path("lambdapdk/lambdapdk/sky130/libs/sky130hd/nldm")
    for src in real.rglob("*"):
        rel = src.relative_to(real)
        dst = shared / "pdk" / rel
        if src.is_dir() or src.parent.name.startswith("."):
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        if rel.parent == nldm:
            shutil.copy2(src, dst)
        else:
            dst.symlink_to(src)
    monkeypatch.setenv(paths.SHARED_ENV, str(shared))
    monkeypatch.setenv("GPTNANO_BUILD", str(tmp_path / "build"))
    return shared / "pdk" / nldm


def _edit_liberty(path: Path) -> None:
    """Rewrite a ``.lib.gz`` with one comment added (same cells, different bytes)."""
    with gzip.open(path, "rt") as fin:
        text = fin.read()
    with gzip.open(path, "wt") as fout:
        fout.write("/* edited by tests/test_pdk_reruns.py */\n" + text)


def test_declared_pdk_files_are_the_ones_the_engine_reads() -> None:
    """Every file of PDK_FILES, as SC resolves it, is a file the engine's accessors name, and
    every accessor's file is declared (a file read but not declared would never re-run)."""
    from dft.sky130 import cell_models
    from pnr.engine import rcx

    project = base_project(load_design("probe"), jobname="keys", quiet=True)
    declared = {Path(f) for lib, key in inputs.pdk_file_keys(project)
                for f in lib.find_files(*key)}
    engine = {pdk.liberty_gz(c) for c in pdk.CORNERS} | {
        pdk.cell_lef(), pdk.cell_gds(), pdk.cell_cdl(), pdk.tech_lef(), pdk.magic_tech(),
        pdk.klayout_tech(), *cell_models(paths.sky130hd_dir()),
        *(rcx.rules_dir() / f for f in rcx.CORNER_FILES.values()),
        pdk.netgen_setup(), pdk.klayout_drc_deck()}
    assert {p.resolve() for p in declared} == {p.resolve() for p in engine}


def test_a_missing_pdk_fileset_is_named() -> None:
    project = base_project(load_design("probe"), jobname="keys", quiet=True)
    lib = project.get_library(project.get("asic", "mainlib"))
    lib.unset("fileset", "models.lvs", "file", "cdl")
    with pytest.raises(inputs.PdkSchemaError, match=r"sky130hd has no \[fileset,models.lvs"):
        inputs.pdk_file_keys(project)


def test_a_changed_liberty_is_unpacked_anew(private_pdk: Path) -> None:
    first = pdk.corner_liberty("tt")
    assert first.read_text().startswith("library")
    _edit_liberty(private_pdk / f"{pdk.CORNERS['tt'].liberty}.lib.gz")
    second = pdk.corner_liberty("tt")
    assert second != first and second.read_text().startswith("/* edited")
    assert second.name == first.name  # same file name, other cache folder


@pytest.mark.slow
def test_sc_reruns_a_step_when_a_liberty_file_changes(private_pdk: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Three SC runs of a one-node flow: the second (nothing changed, a Liberty file only
    touched) reuses the node, the third (a Liberty file's bytes changed) runs it again."""
    counter = tmp_path / "runs.txt"
    monkeypatch.setenv(COUNTER_ENV, str(counter))
    design = load_design("probe")

    def run_flow() -> int:
        project = base_project(design, jobname="pdk", jobs=1, quiet=True)
        flow = Flowgraph("pdkprobe")
        flow.node(PdkProbeTask.NAME, PdkProbeTask())
        project.set_flow(flow)
        project.set("tool", TOOL, "task", PdkProbeTask.NAME, "var", "design_config",
                    str(design.config_file))
        declare_step_inputs(project, design, PdkProbeTask.NAME)
        assert project.run()
        return len(counter.read_text().splitlines())

    assert run_flow() == 1
    liberty = private_pdk / f"{pdk.CORNERS['ss'].liberty}.lib.gz"
    os.utime(liberty)                              # newer time stamp, same bytes
    assert run_flow() == 1
    _edit_liberty(liberty)
    assert run_flow() == 2


def test_a_project_without_the_asic_schema_declares_no_pdk() -> None:
    from siliconcompiler import Design, Project

    assert inputs.pdk_file_keys(Project(Design("x"))) == []
