"""Fixtures: the DFT flow run once per session on the small test blocks in ``data/``."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from flow.run_dft import run_dft
from gptnano.design_config import DesignConfig, load_design

DATA = Path(__file__).parent / "data"


def make_design(tmp: Path, name: str, top: str, rtl: str, dft: dict) -> DesignConfig:
    """A design folder outside designs/ (tests must not touch the real ones)."""
    folder = tmp / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "constraint.sdc").write_text((DATA / "constraint.sdc").read_text())
    (folder / "config.yaml").write_text(yaml.safe_dump({
        "name": name, "top": top, "rtl": [str(DATA / rtl)],
        "clock": {"port": "clk", "period_ns": 20.0}, "dft": dft,
    }))
    return load_design(folder / "config.yaml")


@pytest.fixture(scope="session")
def blk_run(tmp_path_factory) -> tuple[DesignConfig, dict, Path]:
    """dft_blk with two chains: (design, dft.json summary, build root)."""
    root = tmp_path_factory.mktemp("dft_build")
    design = make_design(root, "dftblk", "dft_blk", "dft_blk.v",
                         {"enable": True, "chains": 2, "reset": "rst"})
    return design, run_dft(design, root, log=lambda *_: None), root
