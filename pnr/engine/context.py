"""StepContext: what one engine step may read and where it must write (see ``pnr.engine``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pnr.design_config import DesignConfig


class StepError(RuntimeError):
    """An engine step failed; the message names the step, the tool and the log to read."""


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
