"""Step ``chain``: scan-flop swap and stitching of ``dft.chains`` chains (see :mod:`dft.scan`).

Also ties the scan enable off for functional timing: ``set_case_analysis 0`` on the scan-enable
port is appended to ``<top>.sdc`` (when the flow passes an SDC), so STA times the functional
D paths, and the scan ports get the clock's I/O constraints by being ordinary ports.
"""

from __future__ import annotations

import time

from dft.config import dft_settings
from dft.scan import ScanNames, insert_scan
from dft.steps.common import cells, liberty, pass_through
from gptnano.step import StepContext

PRODUCES = ("vg", "scan.json", "sdc")


def tie_off_sdc(sdc_text: str, scan_enable: str) -> str:
    """The SDC with the functional-mode tie-off of the scan enable appended (idempotent)."""
    line = f"set_case_analysis 0 [get_ports {{{scan_enable}}}]"
    if line in sdc_text:
        return sdc_text
    return sdc_text.rstrip("\n") + f"\n# DFT: functional mode, scan shifting disabled\n{line}\n"


def run(ctx: StepContext) -> dict[str, float | int | str]:
    start = time.monotonic()
    settings = dft_settings(ctx.design)
    lib = liberty()
    names = ScanNames(settings.scan_in, settings.scan_out, settings.scan_enable)
    info = insert_scan(ctx.input("vg"), lib, ctx.top, cells(lib), settings.chains, names,
                       ctx.design.clock_port, ctx.output("vg"))
    info.write(ctx.output("scan.json"))
    sdc_in = ctx.inputs_dir / f"{ctx.top}.sdc"
    if sdc_in.is_file():
        ctx.output("sdc").write_text(tie_off_sdc(sdc_in.read_text(), settings.scan_enable))
    pass_through(ctx, PRODUCES)
    return {
        "dft_scan_flops": sum(info.lengths),
        "dft_chains": len(info.chains),
        "dft_max_chain_length": max(info.lengths),
        "dft_chain_runtime_s": round(time.monotonic() - start, 2),
    }
