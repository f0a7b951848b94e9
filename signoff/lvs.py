"""LVS signoff: netgen compares Magic's extracted netlist with the powered gate netlist.

Reads ``<top>.spice`` (from the extract step) and ``<top>.layout.json`` (placed components,
including the physical-only tap/decap/fill cells); writes ``reports/<top>.powered.v`` (the
schematic side: every instance with VPWR/VGND/VPB/VNB tied to the supplies) and
``reports/lvs.rpt`` / ``reports/lvs.json`` from netgen.

The standard cells are compared as black boxes on the schematic side (the powered Verilog has
no cell bodies), the way OpenLane runs sky130 LVS; netgen's sky130 setup from lambdapdk is used
unchanged (it ignores tap/fill/decap classes on both sides).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

from gptnano.paths import require, sky130_base_dir
from gptnano.pdk import cell_cdl
from gptnano.step import StepContext, StepError
from pnr.engine.layout import Layout


def cdl_pins(cdl: Path) -> dict[str, list[str]]:
    """Sub-circuit name -> pin names from the library CDL (the LEF omits VPB/VNB)."""
    pins: dict[str, list[str]] = {}
    for line in cdl.read_text().splitlines():
        if line.upper().startswith(".SUBCKT"):
            parts = line.split()
            pins[parts[1]] = parts[2:]
    if not pins:
        raise StepError(f"{cdl}: no .SUBCKT found")
    return pins


SUPPLY = {"VPWR": "VPWR", "VPB": "VPWR", "VGND": "VGND", "VNB": "VGND"}
NO_CONNECT = "nc__"  # prefix of the one-pin net given to each open cell pin


def powered_verilog(layout: Layout, path: Path) -> Path:
    """The schematic for LVS: all placed instances with explicit supply connections."""
    lib = cdl_pins(cell_cdl())
    conns: dict[str, dict[str, str]] = {}
    for net, pins in layout.nets.items():
        for inst, pin in pins:
            if inst != "PIN":
                conns.setdefault(inst, {})[pin] = net
    ports = list(layout.ports)
    lines = [f"module {layout.top} ({', '.join(ports + ['VPWR', 'VGND'])});"]
    for p in layout.ports.values():
        lines.append(f"  {'input' if p.direction == 'input' else 'output'} {p.name};")
    lines.append("  inout VPWR;\n  inout VGND;")
    nets = {n for n in layout.nets if n not in layout.ports}
    lines += [f"  wire {n};" for n in sorted(nets)]
    open_nets: list[str] = []
    instances: list[str] = []
    for c in layout.components:
        pins = dict(conns.get(c.name, {}))
        if c.cell not in lib:
            raise StepError(f"LVS: cell {c.cell} not in {cell_cdl()}")
        for pin in lib[c.cell]:
            if pin in SUPPLY:
                pins[pin] = SUPPLY[pin]
            elif pin not in pins:  # an open pin: a one-pin net, like the layout side's
                pins[pin] = f"{NO_CONNECT}{c.name}_{pin}"
                open_nets.append(pins[pin])
        order = {p: k for k, p in enumerate(lib[c.cell])}
        body = ", ".join(f".{p}({n})" for p, n in sorted(pins.items(), key=lambda t: order[t[0]]))
        instances.append(f"  {c.cell} {c.name} ({body});")
    lines += [f"  wire {n};" for n in open_nets] + instances
    lines.append("endmodule")
    path.write_text("\n".join(lines) + "\n")
    return path


def _spice_lines(text: str) -> list[str]:
    out: list[str] = []
    for line in text.splitlines():
        if line.startswith("+") and out:
            out[-1] += " " + line[1:].strip()
        else:
            out.append(line)
    return out


def blackbox_layout(src: Path, dst: Path, top: str, pins: dict[str, list[str]]) -> Path:
    """The extracted netlist with library cells as black boxes in the CDL's pin order.

    netgen pairs the pins of black-box cells by position, and the schematic's cells are black
    boxes (the powered Verilog has no bodies), so both sides must list every cell's pins in
    one order: the library CDL's.  The cells' transistors are dropped here, which is the usual
    standard-cell LVS contract (the library cells are verified by the foundry); what is compared
    is every connection between them, the ports and the supplies.
    """
    lines = _spice_lines(src.read_text())
    headers: dict[str, list[str]] = {}
    out: list[str] = []
    cur = None
    for line in lines:
        tok = line.split()
        if not tok:
            continue
        if tok[0].lower() == ".subckt":
            cur = tok[1]
            headers[cur] = tok[2:]
            if cur != top and cur in pins:
                out.append(f".subckt {cur} {' '.join(pins[cur])}")
            else:
                out.append(line)
            continue
        if tok[0].lower() == ".ends":
            out.append(line)
            cur = None
            continue
        if cur != top and cur in pins:
            continue  # body of a library cell
        if cur == top and tok[0].startswith("X") and tok[-1] in pins and tok[-1] in headers:
            conn = dict(zip(headers[tok[-1]], tok[1:-1], strict=True))
            # Magic leaves a pin out of an extracted cell's port list when no instance
            # connects it (e.g. conb_1's HI when only LO is used): such a pin is open, so it
            # gets a net of its own, as the schematic's unconnected pins do.
            for p in pins[tok[-1]]:
                conn.setdefault(p, f"{NO_CONNECT}{tok[0]}_{p}")
            out.append(" ".join([tok[0]] + [conn[p] for p in pins[tok[-1]]] + [tok[-1]]))
            continue
        out.append(line)
    dst.write_text("\n".join(out) + "\n")
    return dst


def parse_netgen(report: Path) -> dict[str, object]:
    text = report.read_text(errors="replace")
    final = text.rstrip().splitlines()[-1] if text.strip() else ""
    # netgen still says "match" when top-level ports are swapped; it only marks those pins
    # "**Mismatch**" in the last "Subcircuit pins" table, so that table is checked too
    pins_table = text.rsplit("Subcircuit pins:", 1)[-1] if "Subcircuit pins:" in text else ""
    pin_mismatches = pins_table.count("**Mismatch**")
    match = (final.startswith("Netlists match uniquely") or
             final.startswith("Circuits match uniquely")) and pin_mismatches == 0
    m = re.search(r"Number of devices:\s*(\d+)\s*\|\s*Number of devices:\s*(\d+)", text)
    nets = re.findall(r"Number of nets:\s*(\d+)\s*\*?\*?\*?\s*\|\s*Number of nets:\s*(\d+)", text)
    return {"match": match, "final": " ".join(final.split())[:300],
            "pin_mismatches": pin_mismatches,
            "devices": [int(m.group(1)), int(m.group(2))] if m else None,
            "nets": [int(a) for a in nets[-1]] if nets else None}


def run_lvs(layout_spice: Path, layout: Layout, workdir: Path) -> dict[str, object]:
    setup = require(sky130_base_dir() / "setup" / "netgen" / "lvs_setup.tcl", "netgen LVS setup")
    schematic = powered_verilog(layout, workdir / f"{layout.top}.powered.v")
    layout_spice = blackbox_layout(layout_spice, workdir / f"{layout.top}.layout_bb.spice",
                                   layout.top, cdl_pins(cell_cdl()))
    report = workdir / "lvs.rpt"
    log = workdir / "netgen.log"
    with open(log, "w") as fh:
        proc = subprocess.run(
            ["netgen-lvs", "-batch", "lvs", f"{layout_spice} {layout.top}",
             f"{schematic} {layout.top}", str(setup), str(report)],
            stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=workdir)
    if proc.returncode != 0 or not report.is_file():
        raise StepError(f"netgen LVS failed (exit {proc.returncode}), see {log}")
    result = parse_netgen(report)
    (workdir / "lvs.json").write_text(json.dumps(result, indent=2))
    return result


def run(ctx: StepContext) -> dict[str, float | int | str]:
    t0 = time.monotonic()
    layout = Layout.load(ctx.input("layout.json"))
    result = run_lvs(ctx.input("spice").resolve(), layout, ctx.reports_dir.resolve())
    return {"lvs_match": int(bool(result["match"])), "lvs_result": str(result["final"])[:120],
            "runtime_s": round(time.monotonic() - t0, 2)}
