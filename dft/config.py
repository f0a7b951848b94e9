"""DFT settings of a design: the ``dft:`` mapping of ``designs/<name>/config.yaml``.

Keys (all optional except ``enable`` for the flow)::

    dft:
      enable: true             # the SiliconCompiler flow inserts the DFT steps after syn
      chains: 2                # number of scan chains (balanced)
      scan_in: scan_in         # port names; with several chains a _<k> suffix is added
      scan_out: scan_out
      scan_enable: scan_en     # tie to 0 in functional mode (the chain step adds
                               # set_case_analysis 0 to the SDC)
      reset: rst               # reset port, if any; held inactive during ATPG only when it
      reset_active_low: false  # drives asynchronous flop pins (it then cannot be a test input)
      atpg: {seed: 1, conflict_budget: 20000, max_random_batches: 32}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gptnano.design_config import BY_KEY, DesignConfig, DesignConfigError

# The keys are declared (type, default, help) in the config table; load_design has checked them.
KNOWN = {k.split(".")[1] for k in BY_KEY if k.startswith("dft.")}
ATPG_KNOWN = {k.split(".")[2] for k in BY_KEY if k.startswith("dft.atpg.")}


@dataclass(frozen=True)
class DftSettings:
    enable: bool = False
    chains: int = 1
    scan_in: str = "scan_in"
    scan_out: str = "scan_out"
    scan_enable: str = "scan_en"
    reset: str | None = None
    reset_active_low: bool = False
    atpg: dict[str, Any] = field(default_factory=dict)


def dft_settings(design: DesignConfig) -> DftSettings:
    """Validated DFT settings; an unknown key or a bad value names the design folder."""
    raw = dict(design.dft or {})
    where = design.folder / "config.yaml"
    unknown = set(raw) - KNOWN
    if unknown:
        raise DesignConfigError(
            f"{where}: unknown dft keys {sorted(unknown)}; known {sorted(KNOWN)}")
    atpg = dict(raw.get("atpg") or {})
    if set(atpg) - ATPG_KNOWN:
        raise DesignConfigError(f"{where}: unknown dft.atpg keys {sorted(set(atpg) - ATPG_KNOWN)}")
    chains = raw.get("chains", 1)
    if not isinstance(chains, int) or chains < 1:
        raise DesignConfigError(f"{where}: dft.chains must be a positive integer, got {chains!r}")
    names = {k: str(raw.get(k, default)) for k, default in
             (("scan_in", "scan_in"), ("scan_out", "scan_out"), ("scan_enable", "scan_en"))}
    for key, value in names.items():
        if not value.isidentifier():
            raise DesignConfigError(f"{where}: dft.{key} '{value}' is not a Verilog identifier")
    return DftSettings(
        enable=bool(raw.get("enable", False)),
        chains=chains,
        reset=raw.get("reset"),
        reset_active_low=bool(raw.get("reset_active_low", False)),
        atpg=atpg,
        **names,
    )
