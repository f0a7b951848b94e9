"""Stop-gap synthesis for the engine's own runner (``pnr.engine.run_all``).

The flow's real synthesis step is ``pnr.engine.synth`` (owned by another module); this function is
only used by ``run_all`` when that step is not importable, so the physical engine can be developed
and tested on a real gate netlist.  It runs Debian yosys with the classic ABC script against the
typical-corner liberty and writes ``<top>.vg`` with escaped-free names (``splitnets``, ``rename``)
so that every later tool (DEF, Magic, netgen) sees plain identifiers.
"""

from __future__ import annotations

import fnmatch
import gzip
import re
import subprocess
from pathlib import Path

from gptnano.design_config import DesignConfig
from gptnano.paths import sky130hd_dir
from gptnano.step import StepError

# Cells yosys' ABC may pick that the engine does not want: sky130 "probe"/low-power variants are
# not placeable standard logic.
_DONT_USE = ("sky130_fd_sc_hd__probe_p_8", "sky130_fd_sc_hd__probec_p_8",
             "sky130_fd_sc_hd__lpflow_*")


def _drop_cells(text: str, patterns: tuple[str, ...]) -> str:
    """Remove ``cell (...) { ... }`` groups whose name matches ``patterns`` (brace matched);
    yosys 0.23's ``abc``/``dfflibmap`` have no ``-dont_use``, so the library itself is filtered."""
    out: list[str] = []
    pos = 0
    for m in re.finditer(r'cell\s*\(\s*"?([A-Za-z0-9_]+)"?\s*\)\s*\{', text):
        if m.start() < pos or not any(fnmatch.fnmatch(m.group(1), p) for p in patterns):
            continue
        depth, i = 0, m.end() - 1
        while True:
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        out.append(text[pos:m.start()])
        pos = i + 1
    out.append(text[pos:])
    return "".join(out)


def tt_liberty(build: Path) -> Path:
    """Unpack the typical-corner liberty into ``build`` (yosys cannot read .gz), without the
    cells the engine must not use."""
    src = sky130hd_dir() / "nldm" / "sky130_fd_sc_hd__tt_025C_1v80.lib.gz"
    dst = build / "sky130_fd_sc_hd__tt_025C_1v80.synth.lib"
    if not dst.is_file():
        build.mkdir(parents=True, exist_ok=True)
        with gzip.open(src, "rt") as fin:
            dst.write_text(_drop_cells(fin.read(), _DONT_USE))
    return dst


def synthesize(design: DesignConfig, out_dir: Path) -> Path:
    """Synthesize ``design`` into ``out_dir/<top>.vg``; returns the netlist path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    lib = tt_liberty(out_dir)
    netlist = out_dir / f"{design.top}.vg"
    reads = "\n".join(f"read_verilog -sv {f}" for f in design.rtl)
    script = f"""{reads}
synth -top {design.top} -flatten
dfflibmap -liberty {lib}
abc -liberty {lib}
opt_clean -purge
hilomap -singleton -hicell sky130_fd_sc_hd__conb_1 HI -locell sky130_fd_sc_hd__conb_1 LO
insbuf -buf sky130_fd_sc_hd__buf_2 A X
splitnets -ports -format __
opt_clean -purge
rename -enumerate -pattern n_%
write_verilog -noattr -noexpr -nohex -nodec {netlist}
stat -liberty {lib}
"""
    (out_dir / "synth.ys").write_text(script)
    log = out_dir / "yosys.log"
    with open(log, "w") as fh:
        proc = subprocess.run(["yosys", "-q", "-l", str(log.with_suffix(".full.log")),
                               "-s", str(out_dir / "synth.ys")],
                              stdout=fh, stderr=subprocess.STDOUT)
    if proc.returncode != 0 or not netlist.is_file():
        raise StepError(f"probe synthesis: yosys failed, see {log}")
    return netlist
