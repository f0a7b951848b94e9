"""Scan-chain stitching on a sky130 gate netlist, with any number of chains.

Why not ``fault chain``: Fault 0.9.4 builds exactly one chain and wraps every primary input and
output in a boundary-scan register (a mux and a flop per pin, plus a ``test`` clock mux), which
multiplies the test time by the I/O count and adds a mux on the clock path. The sky130 library
has mux-D scan flip-flops (``sdfxtp``, ``sdfrtp``, ``sdfstp``: ``Q <= SCE ? SCD : D``), so the
standard, cheaper insertion is a type swap: each flop becomes its scan twin, ``SCE`` is the scan
enable, ``SCD`` takes the previous flop's ``Q``. Primary inputs and outputs stay directly
controllable and observable by the tester, exactly as the cut netlist ATPG assumes.

The netlist is edited through pyosys (the Yosys API, already a dependency of Fault's nl2bench):
cells keep their instance names, so the ATPG vectors (named after flop instances by
``fault cut``) map onto chain positions.

Functional mode: the scan enable must be tied low (``scan_en = 0``), then every scan flop loads
``D`` and the design behaves as before; the scan-in ports are don't-care and the scan-out ports
are copies of the last flop of each chain.

Each scan-out port is driven by a buffer cell (:data:`SCAN_OUT_BUFFER`) from the last flop's
``Q``, never by an ``assign``: the physical flow needs every connection to go through a cell
(the embedded floorplan step rejects ``assign`` statements, and a port aliased to an internal
net would give two names to one routed net). The buffer also isolates the scan-out pad load
from the functional fan-out of that flop.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from dft.liberty import Cell

SCAN_OUT_BUFFER = "sky130_fd_sc_hd__buf_2"  # same cell synthesis uses for port buffers (insbuf)
BUFFER_PINS = ("A", "X")


class ScanError(ValueError):
    """Scan insertion is impossible on this netlist (no flops, unknown flop types)."""


@dataclass
class ScanNames:
    scan_in: str = "scan_in"
    scan_out: str = "scan_out"
    scan_enable: str = "scan_en"


@dataclass
class ChainInfo:
    """What :mod:`dft.asm` and the tests need: per chain, its ports and flop order."""

    top: str
    scan_enable: str
    chains: list[dict]  # {"scan_in": port, "scan_out": port, "flops": [instance, ...]}
    clock: str

    @property
    def lengths(self) -> list[int]:
        return [len(c["flops"]) for c in self.chains]

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def read(cls, path: Path) -> ChainInfo:
        try:
            return cls(**json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError, TypeError) as exc:
            raise ScanError(f"{path}: not a scan-chain description: {exc}") from exc


def chain_bounds(n_flops: int, n_chains: int) -> list[int]:
    """Start offsets of balanced chains (plus the end): the first ``n_flops % n_chains`` chains
    get one flop more, so lengths differ by at most one (ceil(n/k) per chain left the last chain
    short by up to k-1 flops: 186/186/186/183 for 741 flops in 4 chains)."""
    base, extra = divmod(n_flops, n_chains)
    return [k * base + min(k, extra) for k in range(n_chains + 1)]


def scan_twin(cell: str, cells: dict[str, Cell]) -> str | None:
    """The mux-D scan version of a flop cell (``..__dfxtp_1`` -> ``..__sdfxtp_1``), if any."""
    lib, sep, base = cell.rpartition("__")
    twin = f"{lib}{sep}s{base}"
    info = cells.get(twin)
    if info is not None and {"SCD", "SCE"} <= set(info.inputs):
        return twin
    return None


def _port_name(base: str, index: int, n_chains: int) -> str:
    return base if n_chains == 1 else f"{base}_{index}"


def insert_scan(
    netlist: Path,
    liberty: Path,
    top: str,
    cells: dict[str, Cell],
    n_chains: int,
    names: ScanNames,
    clock: str,
    out: Path,
    buffer: str = SCAN_OUT_BUFFER,
) -> ChainInfo:
    """Swap every flop for its scan twin and stitch ``n_chains`` balanced chains; each
    scan-out port is driven through one ``buffer`` cell (input ``A``, output ``X``)."""
    from pyosys import libyosys as ys  # heavy import: only when inserting

    if n_chains < 1:
        raise ScanError(f"dft.chains must be >= 1, got {n_chains}")
    buf = cells.get(buffer)
    if buf is None or tuple(buf.inputs) != BUFFER_PINS[:1] or BUFFER_PINS[1] not in buf.outputs:
        raise ScanError(f"{liberty}: scan-out buffer cell '{buffer}' with pins A -> X not found")
    design = ys.Design()
    ys.run_pass(f"tee -q read_liberty -lib {liberty}", design)
    ys.run_pass(f"tee -q read_verilog -noautowire {netlist}", design)
    ys.run_pass(f"tee -q hierarchy -top {top}", design)
    module = design.top_module()
    if module is None:
        raise ScanError(f"{netlist}: top module {top} not found")
    existing = {str(w.name.str()).lstrip("\\") for w in module.wires_.values()}
    existing_cells = {str(c.name.str()).lstrip("\\") for c in module.cells_.values()}
    for base in (names.scan_in, names.scan_out, names.scan_enable):
        for k in range(n_chains):
            if _port_name(base, k, n_chains) in existing:
                raise ScanError(f"{netlist}: port/wire '{_port_name(base, k, n_chains)}' exists")

    flops = []
    for cell in module.cells_.values():
        ctype = cell.type.str().lstrip("\\")
        info = cells.get(ctype)
        if info is None or not info.sequential:
            continue
        twin = scan_twin(ctype, cells)
        if twin is None:
            raise ScanError(f"{netlist}: flop {cell.name.str()} ({ctype}) has no scan version "
                            "in the liberty; keep such cells out of synthesis")
        flops.append((cell.name.str().lstrip("\\"), cell, twin))
    if not flops:
        raise ScanError(f"{netlist}: no flip-flops to chain")
    if n_chains > len(flops):
        raise ScanError(f"{netlist}: {n_chains} chains requested for {len(flops)} flops")
    flops.sort(key=lambda f: _natural(f[0]))

    def add_port(name: str, is_input: bool):
        wire = module.addWire(ys.IdString("\\" + name), 1)
        wire.port_input = is_input
        wire.port_output = not is_input
        return wire

    scan_en = add_port(names.scan_enable, True)
    chains: list[dict] = []
    bounds = chain_bounds(len(flops), n_chains)
    for k in range(n_chains):
        members = flops[bounds[k]:bounds[k + 1]]
        sin = add_port(_port_name(names.scan_in, k, n_chains), True)
        sout_name = _port_name(names.scan_out, k, n_chains)
        sout = add_port(sout_name, False)
        previous = ys.SigSpec(sin)
        for _name, cell, twin in members:
            cell.type = ys.IdString("\\" + twin)
            cell.setPort(ys.IdString("\\SCD"), previous)
            cell.setPort(ys.IdString("\\SCE"), ys.SigSpec(scan_en))
            previous = cell.getPort(ys.IdString("\\Q"))
        buf_name = f"dft_{sout_name}_buf"
        if buf_name in existing_cells:
            raise ScanError(f"{netlist}: cell instance '{buf_name}' exists")
        out_buf = module.addCell(ys.IdString("\\" + buf_name), ys.IdString("\\" + buffer))
        out_buf.setPort(ys.IdString("\\A"), previous)
        out_buf.setPort(ys.IdString("\\X"), ys.SigSpec(sout))
        chains.append({
            "scan_in": _port_name(names.scan_in, k, n_chains),
            "scan_out": sout_name,
            "flops": [name for name, _c, _t in members],
        })
    module.fixup_ports()
    ys.run_pass(f"tee -q write_verilog -noattr -noexpr -nohex -nodec {out}", design)
    return ChainInfo(top=top, scan_enable=names.scan_enable, chains=chains, clock=clock)


def _natural(name: str) -> list:
    """Sort key that orders ``_9_`` before ``_10_``."""
    import re

    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]
