"""Stand-in synthesis for DFT runs when ``pnr.engine.synth`` is not available.

A plain Yosys flow onto sky130_fd_sc_hd with the DFT keep-out cells removed from the Liberty
(Yosys 0.23 has no dont_use option): generic ``synth``, ``dfflibmap``, ``abc``, tie cells, ports
split to bits (Fault and the ATPG see one fault site per bit). The flow's real synthesis step
replaces this in the SiliconCompiler flow.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from gptnano.step import StepError
from gptnano.toolargs import yosys_word


def synthesize(rtl: list[Path], top: str, liberty: Path, out: Path, log: Path) -> None:
    """Synthesize ``rtl`` to a flat sky130 gate netlist ``out`` (Yosys log in ``log``)."""
    reads = "\n".join(f"read_verilog -sv {yosys_word(f)}" for f in rtl)
    lib = yosys_word(liberty)
    script = f"""{reads}
synth -top {top} -flatten
dfflibmap -liberty {lib}
abc -liberty {lib}
opt_clean -purge
hilomap -hicell sky130_fd_sc_hd__conb_1 HI -locell sky130_fd_sc_hd__conb_1 LO
setundef -zero
splitnets -ports
opt_clean -purge
stat -liberty {lib}
write_verilog -noattr -noexpr -nohex -nodec {yosys_word(out)}
"""
    ys = out.with_suffix(".ys")
    ys.write_text(script)
    proc = subprocess.run(["yosys", "-q", "-l", str(log), str(ys)], capture_output=True, text=True)
    if proc.returncode != 0 or not out.is_file():
        raise StepError(f"yosys synthesis of {top} failed; log: {log}\n{proc.stderr[-1500:]}")
