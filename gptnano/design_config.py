"""Design configurations: one folder per design under ``designs/`` (ORFS style).

``designs/<name>/config.yaml`` sits beside the design's SDC (``constraint.sdc``) and its golden
metrics (``rules.json``). Every stage reads the design through :func:`load_design`, so a typo in
a config is reported once, with the file and the key, before any tool runs.

Example::

    name: probe
    top: probe_mac
    rtl: [designs/probe/probe_mac.v]      # repository-relative Verilog files
    sdc: constraint.sdc                   # relative to the design folder
    clock: {port: clk, period_ns: 10.0}
    floorplan: {core_utilization: 0.45, aspect_ratio: 1.0, core_margin_um: 12.0}
    placement: {density: 0.6}
    corners: [ss, tt, ff]
    dft: {enable: false, chains: 1}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gptnano import pdk
from gptnano.paths import REPO_ROOT

DESIGNS_DIR = REPO_ROOT / "designs"
# How a timing check counts: "signoff" (negative slack fails the flow, the default) or "report"
# (the slack is measured and shown but does not fail the run: benchmark designs run at another
# flow's clock, e.g. ORFS's, to compare slack). Hold is always signoff.
TIMING_MODES = ("signoff", "report")
CORNERS = tuple(pdk.CORNERS)  # every corner the PDK table characterises, in its order


class DesignConfigError(ValueError):
    """A design configuration is missing, malformed, or names files that do not exist."""


@dataclass(frozen=True)
class DesignConfig:
    name: str
    top: str
    rtl: tuple[Path, ...]
    sdc: Path
    folder: Path
    clock_port: str
    clock_period_ns: float
    floorplan: dict[str, Any] = field(default_factory=dict)
    placement: dict[str, Any] = field(default_factory=dict)
    corners: tuple[str, ...] = CORNERS
    dft: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    setup_mode: str = "signoff"

    @property
    def rules_file(self) -> Path:
        return self.folder / "rules.json"


def _timing_modes(data: dict[str, Any], where: Path) -> str:
    """``timing: {setup: signoff|report}`` -> the setup mode (hold is always signed off)."""
    timing = data.get("timing", {})
    if not isinstance(timing, dict):
        raise DesignConfigError(f"{where}: timing must be a mapping like {{setup: report}}")
    unknown = sorted(set(timing) - {"setup"})
    if unknown:
        raise DesignConfigError(f"{where}: timing: unknown keys {unknown} (known: setup; hold "
                                "is always a signoff check)")
    mode = timing.get("setup", "signoff")
    if mode not in TIMING_MODES:
        raise DesignConfigError(f"{where}: timing.setup must be one of {list(TIMING_MODES)}, "
                                f"got {mode!r}")
    return str(mode)


def _need(data: dict[str, Any], key: str, where: Path) -> Any:
    if key not in data:
        raise DesignConfigError(f"{where}: missing required key '{key}'")
    return data[key]


def design_names() -> list[str]:
    """Every design folder that has a config.yaml."""
    return sorted(p.parent.name for p in DESIGNS_DIR.glob("*/config.yaml"))


def load_design(name_or_path: str | Path) -> DesignConfig:
    """Load ``designs/<name>/config.yaml`` (or a config file path) and check it."""
    candidate = Path(name_or_path)
    is_file = candidate.suffix in (".yaml", ".yml")
    path = candidate if is_file else DESIGNS_DIR / str(name_or_path) / "config.yaml"
    if not path.is_file():
        known = ", ".join(design_names()) or "none"
        raise DesignConfigError(f"no design config at {path} (known designs: {known})")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise DesignConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise DesignConfigError(f"{path}: expected a mapping at the top level")
    folder = path.parent
    rtl_entries = _need(data, "rtl", path)
    if isinstance(rtl_entries, str):
        rtl_entries = [rtl_entries]
    rtl = tuple((REPO_ROOT / f).resolve() for f in rtl_entries)
    for f in rtl:
        if not f.is_file():
            raise DesignConfigError(f"{path}: rtl file {f} does not exist")
    sdc = folder / data.get("sdc", "constraint.sdc")
    if not sdc.is_file():
        raise DesignConfigError(f"{path}: SDC file {sdc} does not exist")
    clock = _need(data, "clock", path)
    try:
        period = float(clock["period_ns"])
        port = str(clock["port"])
    except (KeyError, TypeError, ValueError) as exc:
        raise DesignConfigError(f"{path}: clock needs 'port' and a numeric 'period_ns'") from exc
    if period <= 0:
        raise DesignConfigError(f"{path}: clock period_ns must be positive, got {period}")
    corners = tuple(data.get("corners", CORNERS))
    unknown = [c for c in corners if c not in CORNERS]
    if unknown:
        raise DesignConfigError(f"{path}: unknown corners {unknown}; known: {list(CORNERS)}")
    setup_mode = _timing_modes(data, path)
    known_keys = {"name", "top", "rtl", "sdc", "clock", "floorplan", "placement", "corners", "dft",
                  "timing"}
    return DesignConfig(
        name=str(data.get("name", folder.name)),
        top=str(_need(data, "top", path)),
        rtl=rtl,
        sdc=sdc,
        folder=folder,
        clock_port=port,
        clock_period_ns=period,
        floorplan=dict(data.get("floorplan", {})),
        placement=dict(data.get("placement", {})),
        corners=corners,
        dft=dict(data.get("dft", {})),
        extra={k: v for k, v in data.items() if k not in known_keys},
        setup_mode=setup_mode,
    )
