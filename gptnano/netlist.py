"""The project's gate-netlist reader: structural Verilog (``<top>.vg``) as ports and instances.

One module reads gate netlists for every step library, in two views:

* :func:`read_netlist` / :func:`write_netlist` -- the flow's P&R-ready netlist (what synthesis
  writes and CTS/timing repair rewrite): yosys' ``write_verilog -noattr -noexpr`` output of a
  flattened design, a single module of port/wire declarations and cell instances with named
  connections; that is all it accepts. Constant or bit-select connections, bus ports and
  ``assign`` statements are rejected with the file and statement, since the synthesis script
  (``hilomap``, ``splitnets``, ``insbuf``, :func:`gptnano.synth.check_netlist`) removes them.
  The physical engine (floorplan, CTS, timing repair) and LVS's schematic read it here; the
  instance and port order is the file's, which placement's determinism relies on.
* :func:`yosys_json` -- any Verilog gate netlist at bit level, parsed by yosys itself (cells as
  Liberty black boxes with their pin directions, assigns resolved): what DFT's ATPG needs for
  Fault's cut netlist (escaped names, buses, constants). DFT builds its circuit graph on it
  (:mod:`dft.netlist`).
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from gptnano.toolargs import yosys_word


class NetlistError(ValueError):
    """The gate netlist cannot be read, or uses a construct the flow cannot place (file and
    reason named)."""


@dataclass
class Instance:
    name: str
    cell: str
    conns: dict[str, str]


@dataclass
class Netlist:
    top: str
    ports: dict[str, str] = field(default_factory=dict)  # name -> input/output/inout
    instances: list[Instance] = field(default_factory=list)

    def nets(self) -> dict[str, list[tuple[str, str]]]:
        """Net name -> [(instance, pin)], with ports as ('PIN', port)."""
        out: dict[str, list[tuple[str, str]]] = {}
        for p in self.ports:
            out.setdefault(p, []).append(("PIN", p))
        for inst in self.instances:
            for pin, net in inst.conns.items():
                out.setdefault(net, []).append((inst.name, pin))
        return out


_ID = r"(\\\S+|[A-Za-z_][A-Za-z0-9_$]*)"


def read_netlist(path: Path) -> Netlist:
    """The top module of the flow's gate netlist ``path`` (see the module docstring)."""
    text = re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    mod = re.search(r"\bmodule\s+" + _ID + r"\s*\((.*?)\)\s*;(.*?)\bendmodule", text, re.S)
    if not mod:
        raise NetlistError(f"{path}: no module found")
    nl = Netlist(top=mod.group(1))
    body = mod.group(3)
    for stmt in body.split(";"):
        s = " ".join(stmt.split())
        if not s:
            continue
        head = s.split()[0]
        if head in ("input", "output", "inout"):
            if "[" in s:
                raise NetlistError(f"{path}: bus port '{s}' (run splitnets -ports in synthesis)")
            for name in s.split(None, 1)[1].split(","):
                nl.ports[name.strip()] = head
        elif head == "wire":
            continue
        elif head == "assign":
            raise NetlistError(f"{path}: 'assign' statement '{s}' (synthesis must buffer it)")
        else:
            m = re.match(_ID + r"\s+" + _ID + r"\s*\((.*)\)$", s)
            if not m:
                raise NetlistError(f"{path}: cannot read statement '{s[:80]}'")
            conns: dict[str, str] = {}
            for pm in re.finditer(r"\.(\w+)\s*\(\s*([^()]*?)\s*\)", m.group(3)):
                net = pm.group(2)
                if not net:
                    continue
                if not re.fullmatch(_ID, net):
                    raise NetlistError(f"{path}: instance {m.group(2)} pin {pm.group(1)} "
                                       f"connects to '{net}' (only plain nets are supported)")
                conns[pm.group(1)] = net
            nl.instances.append(Instance(m.group(2), m.group(1), conns))
    if not nl.instances:
        raise NetlistError(f"{path}: module {nl.top} has no cell instances")
    return nl


def write_netlist(nl: Netlist, path: Path) -> None:
    """Write ``nl`` in the same plain structural form :func:`read_netlist` accepts (one port
    or wire per declaration, named connections), e.g. after CTS added buffers: STA and DFT read
    the result like synthesis' own ``write_verilog`` output."""
    lines = [f"module {nl.top}({', '.join(nl.ports)});"]
    lines += [f"  {direction} {name};" for name, direction in nl.ports.items()]
    wires = sorted({net for inst in nl.instances for net in inst.conns.values()} - set(nl.ports))
    lines += [f"  wire {w};" for w in wires]
    for inst in nl.instances:
        conns = ",\n".join(f"    .{pin}({net})" for pin, net in inst.conns.items())
        lines.append(f"  {inst.cell} {inst.name} (\n{conns}\n  );")
    lines.append("endmodule")
    path.write_text("\n".join(lines) + "\n")


def yosys_json(netlist: Path, liberty: Path, top: str, workdir: Path | None = None) -> dict:
    """Yosys' JSON view of the gate netlist ``netlist`` (top module ``top``): cells are Liberty
    black boxes (``read_liberty -lib``, so every pin has its direction), bits are net ids."""
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        out = Path(tmp) / "netlist.json"
        script = (
            f"read_liberty -lib {yosys_word(liberty)}; "
            f"read_verilog -noautowire {yosys_word(netlist)}; "
            f"hierarchy -top {top}; opt_clean; write_json {yosys_word(out)}"
        )
        proc = subprocess.run(["yosys", "-q", "-p", script], capture_output=True, text=True)
        if proc.returncode != 0:
            raise NetlistError(
                f"{netlist}: yosys could not read the netlist:\n{proc.stderr[-2000:]}")
        return json.loads(out.read_text())
