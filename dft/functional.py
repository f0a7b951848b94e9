"""Functional mode of a scan-inserted netlist: the design's own DV on it, scan enable tied off.

Scan insertion must not change what the design does when ``scan_en = 0``. The proof is the
accelerator's own cocotb/pyuvm testbench (``dv.tb_gqmv``) run on the scan netlist with the
sky130 cell models, exactly as on the RTL. Two things stand between that testbench and the
netlist, and :func:`write_functional_wrapper` bridges both in a generated Verilog wrapper that
takes the RTL top's name and ports:

* the netlist has one port per bit (``csr__awaddr_3_`` from ``splitnets -format __``, or the
  escaped ``\\csr__awaddr[3]`` of the stand-in synthesis) where the RTL has vectors;
* the scan ports: ``scan_en`` is tied to ``1'b0`` (functional mode, as on the chip), the
  scan-in ports to ``1'b0``, the scan-out ports are left open.

The netlist's module is renamed ``<top>_scan`` in a copy so the wrapper can take ``<top>``.
Everything is built in its own folder (``out_dir``): the DV's own build folders are untouched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dft.scan import ChainInfo
from dft.sky130 import CELL_DEFINES, cell_models
from gptnano.paths import sky130hd_dir


class FunctionalError(ValueError):
    """The scan netlist does not match the RTL's ports (file and port named)."""


@dataclass(frozen=True)
class Port:
    name: str
    direction: str  # "input" / "output"
    width: int
    offset: int = 0  # index of the lowest bit


def rtl_ports(rtl: list[Path], top: str) -> list[Port]:
    """Ports of the RTL top module, read by yosys (no synthesis: parse + hierarchy only)."""
    from pyosys import libyosys as ys

    design = ys.Design()
    for f in rtl:
        ys.run_pass(f"tee -q read_verilog -sv {f}", design)
    ys.run_pass(f"tee -q hierarchy -top {top}", design)
    module = design.top_module()
    if module is None:
        raise FunctionalError(f"{', '.join(map(str, rtl))}: top module {top} not found")
    ports = []
    for wire in module.wires_.values():
        if not (wire.port_input or wire.port_output):
            continue
        direction = "input" if wire.port_input else "output"
        ports.append(Port(wire.name.str().lstrip("\\"), direction, wire.width,
                          wire.start_offset))
    return sorted(ports, key=lambda p: p.name)


def netlist_ports(netlist: Path, top: str) -> set[str]:
    """Port names declared in the gate netlist's ``module <top>(...)`` header."""
    text = netlist.read_text()
    m = re.search(r"\bmodule\s+" + re.escape(top) + r"\s*\((.*?)\)\s*;", text, re.S)
    if not m:
        raise FunctionalError(f"{netlist}: module {top} not found")
    names = set()
    for token in m.group(1).split(","):
        token = token.strip()
        names.add(token[1:] if token.startswith("\\") else token)
    return names


def _esc(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", name) else f"\\{name} "


def bit_port(port: Port, bit: int, available: set[str], netlist: Path) -> str:
    """The netlist port carrying bit ``bit`` (absolute index) of RTL port ``port``."""
    candidates = [f"{port.name}_{bit}_", f"{port.name}[{bit}]"]
    if port.width == 1:
        candidates.insert(0, port.name)
    for name in candidates:
        if name in available:
            return name
    raise FunctionalError(f"{netlist}: no port for {port.name}[{bit}] (tried {candidates})")


def write_functional_wrapper(netlist: Path, chains: ChainInfo, ports: list[Port],
                             out_dir: Path) -> tuple[Path, Path]:
    """(renamed netlist copy, wrapper) in ``out_dir``; the wrapper is module ``<top>`` with the
    RTL's ports around ``<top>_scan`` in functional mode."""
    top = chains.top
    available = netlist_ports(netlist, top)
    scan_ports = {chains.scan_enable} | {c["scan_in"] for c in chains.chains} | {
        c["scan_out"] for c in chains.chains}
    missing = sorted(p for p in scan_ports if p not in available)
    if missing:
        raise FunctionalError(f"{netlist}: scan ports {missing} missing (not a scan netlist?)")
    conns: list[str] = []
    used: set[str] = set()
    for port in ports:
        for i in range(port.width):
            bit = port.offset + i
            name = bit_port(port, bit, available, netlist)
            used.add(name)
            conns.append(f".{_esc(name)}({port.name}" + (f"[{bit}])" if port.width > 1 else ")"))
    conns.append(f".{_esc(chains.scan_enable)}(1'b0)")  # functional mode: scan shifting off
    conns += [f".{_esc(c['scan_in'])}(1'b0)" for c in chains.chains]
    conns += [f".{_esc(c['scan_out'])}()" for c in chains.chains]
    extra = sorted(available - used - scan_ports)
    if extra:
        raise FunctionalError(f"{netlist}: ports {extra} are neither RTL ports nor scan ports")

    out_dir.mkdir(parents=True, exist_ok=True)
    text = netlist.read_text()
    renamed, n = re.subn(r"\bmodule\s+" + re.escape(top) + r"\b", f"module {top}_scan", text,
                         count=1)
    if n != 1:
        raise FunctionalError(f"{netlist}: module {top} not found")
    scan_copy = out_dir / f"{top}_scan.vg"
    scan_copy.write_text(renamed)

    def decl(p: Port) -> str:
        rng = f"[{p.offset + p.width - 1}:{p.offset}] " if p.width > 1 else ""
        return f"  {p.direction} {rng}{p.name}"

    sep = ",\n    "
    wrapper = out_dir / f"{top}_functional.v"
    wrapper.write_text(f"""`timescale 1ns/1ps
// Generated by dft.functional: {top} in functional mode (scan_en = 0) around the scan netlist
module {top} (
{(',' + chr(10)).join(decl(p) for p in ports)}
);
  {top}_scan scan_netlist (
    {sep.join(conns)}
  );
endmodule
""")
    return scan_copy, wrapper


def run_functional_dv(netlist: Path, scan_json: Path, rtl: list[Path], params: dict,
                      testcase: str, out_dir: Path, **knobs: object) -> tuple[int, int, Path]:
    """Run the DV testcase ``testcase`` of ``dv.tb_gqmv`` on the scan netlist in functional
    mode; ``params`` is the accelerator configuration (``GqmvConfig.params()``) the testbench
    checks against. Returns (tests, failed, results.xml)."""
    from cocotb_tools.runner import Verilog, get_runner

    from dv.knobs import Knobs
    from dv.sim import run_testcase

    chains = ChainInfo.read(scan_json)
    ports = rtl_ports(rtl, chains.top)
    scan_copy, wrapper = write_functional_wrapper(netlist, chains, ports, out_dir / "src")
    build_dir = out_dir / "sim_build"
    runner = get_runner("icarus")
    defines = dict(d.split("=", 1) if "=" in d else (d, 1) for d in CELL_DEFINES)
    runner.build(sources=[Verilog(p) for p in (*cell_models(sky130hd_dir()), scan_copy, wrapper)],
                 hdl_toplevel=chains.top, defines=defines, build_dir=build_dir,
                 timescale=("1ns", "1ps"), always=True, log_file=out_dir / "build.log")
    run_dir = out_dir / testcase
    knob_set = Knobs(params=params, out_dir=str(run_dir), **knobs)  # type: ignore[arg-type]
    try:
        tests, failed = run_testcase(runner, chains.top, testcase, build_dir, knob_set, run_dir)
    except RuntimeError as exc:
        raise FunctionalError(str(exc)) from exc
    return tests, failed, run_dir / "results.xml"
