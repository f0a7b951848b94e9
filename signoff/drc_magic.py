"""Magic DRC signoff on the sky130A rules (the same deck Magic uses interactively).

Reads ``<top>.gds``; writes ``reports/drc_magic.json`` (count per rule text) and
``reports/drc_magic.rpt`` (every error box).

The layout is flattened before checking, so the rules see the merged geometry exactly as
KLayout does: the team had seen Magic 8.3.105 report "subcell overlap" artefacts between
abutting cells in earlier (qflow) layouts.  On the engine's probe layout the hierarchical check
also reports 0, so flattening hides nothing there; it is kept as the conservative choice.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from gptnano.magic import run_magic
from gptnano.step import StepContext, StepError
from gptnano.toolargs import tcl_word


def drc_script(gds: Path, top: str, out_json: Path) -> str:
    return f"""
gds readonly true
gds read {tcl_word(gds)}
load {top}
select top cell
flatten {top}_flat
load {top}_flat
select top cell
drc euclidean on
drc style drc(full)
drc check
drc catchup
set counts [dict create]
set fh [open {tcl_word(out_json.with_suffix('.rpt'))} w]
foreach {{why boxes}} [drc listall why] {{
    dict set counts $why [llength $boxes]
    foreach b $boxes {{ puts $fh "$why\\t$b" }}
}}
close $fh
set jf [open {tcl_word(out_json)} w]
puts $jf "\\{{"
set first 1
dict for {{k v}} $counts {{
    if {{!$first}} {{ puts $jf "," }}
    set first 0
    set k2 [string map {{"\\"" "'" "\\\\" "/"}} $k]
    puts -nonewline $jf "  \\"$k2\\": $v"
}}
puts $jf "\\n\\}}"
close $jf
"""


def run_magic_drc(gds: Path, top: str, workdir: Path) -> dict[str, int]:
    out = workdir / "drc_magic.json"
    log = run_magic(drc_script(gds, top, out), workdir, "drc_magic")
    if not out.is_file():
        raise StepError(f"magic DRC wrote no result, see {log}")
    try:
        return json.loads(out.read_text())
    except json.JSONDecodeError as exc:
        raise StepError(f"{out}: unreadable Magic DRC summary: {exc}") from exc


def run(ctx: StepContext) -> dict[str, float | int | str]:
    t0 = time.monotonic()
    counts = run_magic_drc(ctx.input("gds").resolve(), ctx.top, ctx.reports_dir.resolve())
    return {"drc_magic_total": sum(counts.values()),
            "drc_magic_by_rule": ";".join(f"{k}:{v}" for k, v in counts.items()) or "none",
            "runtime_s": round(time.monotonic() - t0, 2)}
