"""Shared plumbing of the DFT steps: the Liberty, the cell table, pass-through views."""

from __future__ import annotations

import shutil
from functools import lru_cache
from pathlib import Path

from dft.liberty import Cell, read_liberty
from gptnano.pdk import corner_liberty
from gptnano.step import StepContext

PASSTHROUGH = ("vg", "sdc", "cut.v", "tv.json", "scan.json")


DFT_CORNER = "tt"


def liberty() -> Path:
    """The Liberty the DFT steps read (cell functions only, so one corner: typical)."""
    return corner_liberty(DFT_CORNER)


@lru_cache(maxsize=4)
def _cells(path: str, mtime: float) -> dict[str, Cell]:
    return read_liberty(Path(path))


def cells(lib: Path) -> dict[str, Cell]:
    return _cells(str(lib), lib.stat().st_mtime)


def pass_through(ctx: StepContext, produced: tuple[str, ...]) -> list[str]:
    """Copy input views this step does not produce to outputs; return their extensions."""
    copied = []
    for ext in PASSTHROUGH:
        src = ctx.inputs_dir / f"{ctx.top}.{ext}"
        if ext not in produced and src.is_file():
            shutil.copyfile(src, ctx.output(ext))
            copied.append(ext)
    return copied
