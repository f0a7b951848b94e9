"""StepContext: what one step may read and where it must write; StepError: why it failed.

Every step library (the physical engine ``pnr.engine``, the signoff checks, DFT) runs its steps
on the same folder contract, so the contract lives in the core: a step reads its input views
``inputs/<top>.<ext>``, writes its output views to ``outputs/`` and its reports to ``reports/``,
and returns the metrics it measured (see ``pnr.engine`` for the view names). SiliconCompiler
nodes have exactly this layout; ``StepContext.standalone`` makes one anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only a type here: the config module needs gptnano.pdk, which needs StepError
    from gptnano.design_config import DesignConfig


class StepError(RuntimeError):
    """A step failed; the message names the step, the tool and the log to read."""


@dataclass(frozen=True)
class StepContext:
    design: DesignConfig
    workdir: Path
    threads: int = 2

    @property
    def top(self) -> str:
        return self.design.top

    @property
    def inputs_dir(self) -> Path:
        return self.workdir / "inputs"

    @property
    def outputs_dir(self) -> Path:
        return self.workdir / "outputs"

    @property
    def reports_dir(self) -> Path:
        return self.workdir / "reports"

    def input(self, ext: str) -> Path:
        """The input view ``<top>.<ext>``; a clear error if the previous step did not write it."""
        path = self.inputs_dir / f"{self.top}.{ext}"
        if not path.is_file():
            raise StepError(f"missing input view {path} (did the previous step run?)")
        return path

    def output(self, ext: str) -> Path:
        return self.outputs_dir / f"{self.top}.{ext}"

    @classmethod
    def standalone(cls, design: DesignConfig, workdir: Path, threads: int = 2) -> StepContext:
        """A context outside SiliconCompiler (tests, debugging): creates the three folders."""
        for sub in ("inputs", "outputs", "reports"):
            (workdir / sub).mkdir(parents=True, exist_ok=True)
        return cls(design=design, workdir=workdir, threads=threads)
