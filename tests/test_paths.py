"""The one setting that locates shared data, and its error messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from gptnano import paths


def test_default_shared_is_beside_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(paths.SHARED_ENV, raising=False)
    assert paths.shared_root() == (paths.REPO_ROOT.parent / "shared").resolve()
    assert paths.pdk_root() == paths.shared_root() / "pdk"


def test_environment_variable_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(paths.SHARED_ENV, str(tmp_path))
    assert paths.shared_root() == tmp_path.resolve()


def test_missing_pdk_names_the_path_and_the_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(paths.SHARED_ENV, str(tmp_path))
    with pytest.raises(paths.MissingDataError) as err:
        paths.sky130hd_dir()
    assert str(tmp_path) in str(err.value)
    assert paths.SHARED_ENV in str(err.value)


def test_shared_pdk_is_complete() -> None:
    """The files every stage needs are where the settings say (default ../shared)."""
    hd = paths.sky130hd_dir()
    for rel in ("lef/sky130_fd_sc_hd_merged.lef", "gds/sky130_fd_sc_hd.gds",
                "cdl/sky130_fd_sc_hd.cdl", "verilog/sky130_fd_sc_hd.v",
                "nldm/sky130_fd_sc_hd__tt_025C_1v80.lib.gz"):
        assert (hd / rel).is_file(), rel
    assert (paths.sky130_base_dir() / "apr" / "sky130_fd_sc.tlef").is_file()
    assert (paths.open_pdks_dir() / "klayout" / "sky130.lydrc").is_file()
