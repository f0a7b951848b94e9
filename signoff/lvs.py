"""LVS signoff: netgen compares Magic's extracted layout with the netlist STA signs off.

Reads ``<top>.spice`` (from the extract step) and ``<top>.vg`` (the gate netlist after CTS and
timing repair -- the very file the STA and power nodes read); writes ``reports/<top>.powered.v``
(the schematic side: every instance of the ``.vg`` with VPWR/VGND/VPB/VNB tied to the
supplies), ``reports/lvs_setup.tcl`` and ``reports/lvs.rpt`` / ``reports/lvs.json``.

Why the ``.vg`` and not the P&R database (``layout.json``): a schematic written from the layout
database agrees with the layout by construction whenever the database itself is wrong -- a
connectivity bug introduced by placement, CTS or routing after synthesis passes. Against the
signed-off netlist such a bug is a mismatch (``signoff/tests/test_lvs_signed_off.py`` swaps two
nets in ``layout.json`` after CTS and checks that LVS fails).

Physical-only cells (taps, fill, decap, diodes: :data:`gptnano.pdk.PHYSICAL_ONLY`) exist only in
the layout. As OpenLane does, netgen is told to ignore their classes: the setup file here
sources lambdapdk's sky130 netgen setup unchanged (it already ignores decap/fill/tap) and adds
``ignore class`` for every other physical-only master present on either side.

The standard cells are compared as black boxes on both sides (the powered Verilog has no cell
bodies; :func:`blackbox_layout` drops the extracted transistors), the usual standard-cell LVS
contract: what is compared is every connection between cells, the ports and the supplies.

The ``.vg`` is read by the project's one gate-netlist reader (:mod:`gptnano.netlist`), the
same the physical engine reads it with.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from gptnano.netlist import NetlistError, read_netlist
from gptnano.pdk import PHYSICAL_ONLY, cell_cdl, netgen_setup
from gptnano.step import StepContext, StepError


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


@dataclass
class GateNetlist:
    """The top module of a gate netlist: ports in order with directions, and instances as
    (name, cell, {pin: net})."""

    top: str
    ports: list[tuple[str, str]]
    instances: list[tuple[str, str, dict[str, str]]]


def read_gate_netlist(vg: Path, top: str, workdir: Path | None = None) -> GateNetlist:
    """The top module of ``vg`` through the project's gate-netlist reader
    (:func:`gptnano.netlist.read_netlist`, the same reader the physical engine uses), which
    refuses constants, bit-selects and bus ports: the flow's netlists have none
    (:func:`gptnano.synth.check_netlist`), and a tie would need a tie cell in the layout.
    ``workdir`` is not used (kept for callers of the yosys-JSON reader this replaced)."""
    try:
        netlist = read_netlist(vg)
    except (NetlistError, OSError) as exc:
        raise StepError(f"LVS: {exc}") from exc
    if netlist.top != top:
        raise StepError(f"{vg}: module {top} not found (the netlist's module is {netlist.top})")
    return GateNetlist(top, list(netlist.ports.items()),
                       [(i.name, i.cell, dict(i.conns)) for i in netlist.instances])


def powered_verilog(netlist: GateNetlist, path: Path) -> Path:
    """The schematic for LVS: every instance of the signed-off netlist, supplies tied."""
    lib = cdl_pins(cell_cdl())
    port_names = [p for p, _ in netlist.ports]
    if any(p in SUPPLY for p in port_names):
        raise StepError(f"{path.name}: the netlist already has a supply port")
    lines = [f"module {netlist.top} ({', '.join(port_names + ['VPWR', 'VGND'])});"]
    lines += [f"  {d} {p};" for p, d in netlist.ports]
    lines.append("  inout VPWR;\n  inout VGND;")
    nets = {n for _, _, conns in netlist.instances for n in conns.values()} - set(port_names)
    lines += [f"  wire {n};" for n in sorted(nets)]
    open_nets: list[str] = []
    instances: list[str] = []
    for name, cell, conns in netlist.instances:
        if cell not in lib:
            raise StepError(f"LVS: cell {cell} (instance {name}) not in {cell_cdl()}")
        pins = dict(conns)
        for pin in lib[cell]:
            if pin in SUPPLY:
                pins[pin] = SUPPLY[pin]
            elif pin not in pins:  # an open pin: a one-pin net, like the layout side's
                pins[pin] = f"{NO_CONNECT}{name}_{pin}"
                open_nets.append(pins[pin])
        order = {p: k for k, p in enumerate(lib[cell])}
        unknown = sorted(set(pins) - set(order))
        if unknown:
            raise StepError(f"LVS: instance {name} connects {cell} pins {unknown} the cell "
                            "does not have")
        body = ", ".join(f".{p}({n})" for p, n in sorted(pins.items(), key=lambda t: order[t[0]]))
        instances.append(f"  {cell} {name} ({body});")
    lines += [f"  wire {n};" for n in open_nets] + instances
    lines.append("endmodule")
    path.write_text("\n".join(lines) + "\n")
    return path


def setup_file(path: Path) -> Path:
    """netgen setup: lambdapdk's sky130 setup, then ``ignore class`` for each physical-only
    master (:data:`gptnano.pdk.PHYSICAL_ONLY`, glob patterns) on whichever side has it."""
    base = netgen_setup()
    patterns = " ".join(PHYSICAL_ONLY)
    path.write_text(f"""source {{{base}}}
# physical-only cells exist only in the layout (gptnano.pdk.PHYSICAL_ONLY)
foreach side {{1 2}} {{
    foreach cell [set cells$side] {{
        foreach pattern {{{patterns}}} {{
            if {{[string match $pattern $cell]}} {{
                ignore class "-circuit$side $cell"
                break
            }}
        }}
    }}
}}
""")
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


def run_lvs(layout_spice: Path, netlist: Path, top: str, workdir: Path) -> dict[str, object]:
    """netgen on the extracted layout (circuit 1) and the powered signed-off netlist
    (circuit 2); the verdict and counts from its report."""
    schematic = powered_verilog(read_gate_netlist(netlist, top, workdir),
                                workdir / f"{top}.powered.v")
    layout_spice = blackbox_layout(layout_spice, workdir / f"{top}.layout_bb.spice", top,
                                   cdl_pins(cell_cdl()))
    setup = setup_file(workdir / "lvs_setup.tcl")
    report = workdir / "lvs.rpt"
    log = workdir / "netgen.log"
    with open(log, "w") as fh:
        proc = subprocess.run(
            ["netgen-lvs", "-batch", "lvs", f"{layout_spice} {top}", f"{schematic} {top}",
             str(setup), str(report)],
            stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=workdir)
    if proc.returncode != 0 or not report.is_file():
        raise StepError(f"netgen LVS failed (exit {proc.returncode}), see {log}")
    result = parse_netgen(report)
    (workdir / "lvs.json").write_text(json.dumps(result, indent=2))
    return result


def run(ctx: StepContext) -> dict[str, float | int | str]:
    t0 = time.monotonic()
    result = run_lvs(ctx.input("spice").resolve(), ctx.input("vg").resolve(), ctx.top,
                     ctx.reports_dir.resolve())
    return {"lvs_match": int(bool(result["match"])), "lvs_result": str(result["final"])[:120],
            "runtime_s": round(time.monotonic() - t0, 2)}
