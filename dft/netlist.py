"""The cut (flop-free) gate netlist as a graph ATPG can work on.

Fault's ``cut`` turns every scan flip-flop into a pseudo input (its Q, named after the instance)
and a pseudo output (``<instance>.d``). This module reads that netlist through the core's
gate-netlist reader (:func:`gptnano.netlist.yosys_json`: yosys with ``read_liberty -lib`` gives
every cell's pin directions, ``write_json`` bit-level connectivity with assigns resolved) and
attaches each cell's Boolean function from the Liberty file, so the simulator and the SAT
encoder see plain single-output nodes.

Fault sites follow Fault's own definition (``fault atpg``): every bit of every non-bypassed port,
and every pin of every cell instance; stuck-at-0 and stuck-at-1 on each. A port or output-pin
site is a *stem* fault on its net; an input-pin site is a *branch* fault seen only by that cell;
an output-port site is a branch fault seen only by that port.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dft.liberty import Cell, Expr
from gptnano.netlist import NetlistError

CONST0, CONST1 = -1, -2  # net ids of the constant drivers


@dataclass
class Port:
    name: str
    direction: str  # "input" | "output"
    nets: list[int]  # LSB first
    offset: int = 0  # index of nets[0] in the port's declared range
    upto: bool = False
    ordinal: int = 0  # position among all module ports (bypassed ones included), as Fault counts


@dataclass
class Node:
    """One output of one cell instance: ``net = function(inputs)``."""

    instance: str
    cell: str
    pin: str
    net: int
    inputs: dict[str, int]  # cell input pin -> net
    function: Expr
    level: int = 0


@dataclass
class Fault:
    site: str  # Fault's name: "port", "port [i]" or "instance.PIN"
    stuck: int  # 0 or 1
    kind: str  # "stem" | "branch" | "po"
    net: int
    nodes: tuple[int, ...] = ()  # branch: indices of the nodes of the reading instance
    pin: str = ""  # branch: the cell pin


@dataclass
class Netlist:
    top: str
    ports: list[Port]
    nodes: list[Node]
    net_names: dict[int, str]
    held: dict[int, int] = field(default_factory=dict)  # bypassed input nets -> held value
    # instance -> (input pins, output pins) with their nets (None: unconnected output)
    instances: dict[str, tuple[dict[str, int], dict[str, int | None]]] = field(
        default_factory=dict
    )

    @property
    def inputs(self) -> list[Port]:
        return [p for p in self.ports if p.direction == "input"]

    @property
    def outputs(self) -> list[Port]:
        return [p for p in self.ports if p.direction == "output"]


def build_netlist(
    data: dict, top: str, cells: dict[str, Cell], bypass: dict[str, int] | None = None
) -> Netlist:
    """Turn Yosys JSON into a levelized :class:`Netlist`.

    ``bypass`` maps input port names (clock, reset) to the value they are held at during test,
    as Fault's ``--clock``/``--reset`` do; they are not fault sites and not test inputs.
    """
    bypass = bypass or {}
    module = data["modules"].get(top)
    if module is None:
        raise NetlistError(f"top module '{top}' not in netlist (have {list(data['modules'])})")

    def net(bit: int | str) -> int:
        if bit == "0":
            return CONST0
        if bit == "1":
            return CONST1
        if isinstance(bit, str):
            raise NetlistError(f"{top}: undriven/unknown bit '{bit}' in netlist")
        return int(bit)

    ports: list[Port] = []
    held: dict[int, int] = {}
    for ordinal, (name, info) in enumerate(module["ports"].items()):
        nets = [net(b) for b in info["bits"]]
        if name in bypass:
            if info["direction"] != "input":
                raise NetlistError(f"{top}: bypassed port '{name}' is not an input")
            for n in nets:
                held[n] = bypass[name]
            continue
        ports.append(
            Port(name, info["direction"], nets, int(info.get("offset", 0)), bool(info.get("upto")),
                 ordinal)
        )

    net_names: dict[int, str] = {}
    for name, info in module["netnames"].items():
        for i, b in enumerate(info["bits"]):
            if isinstance(b, int) and (b not in net_names or not info.get("hide_name")):
                net_names[b] = name if len(info["bits"]) == 1 else f"{name}[{i}]"

    nodes: list[Node] = []
    instances: dict[str, tuple[dict[str, int], dict[str, int | None]]] = {}
    for inst, info in module["cells"].items():
        cell = cells.get(info["type"])
        if cell is None:
            raise NetlistError(f"{top}: cell type '{info['type']}' ({inst}) is not in the liberty")
        if cell.sequential:
            raise NetlistError(
                f"{top}: sequential cell {inst} ({info['type']}) left in the cut netlist; "
                "add it to the flip-flop matches of the SCL config"
            )
        conns = info["connections"]
        inputs = {pin: net(conns[pin][0]) for pin in cell.inputs if pin in conns}
        for pin in cell.inputs:
            if pin not in conns:
                raise NetlistError(f"{top}: {inst}.{pin} is unconnected")
        outs: dict[str, int | None] = {}
        for pin, function in cell.functions.items():
            bit = conns[pin][0] if conns.get(pin) else None
            outs[pin] = bit if isinstance(bit, int) else None
            if isinstance(bit, int):
                nodes.append(Node(inst, info["type"], pin, bit, inputs, function))
        instances[inst] = (inputs, outs)
    netlist = Netlist(top, ports, nodes, net_names, held, instances)
    _levelize(netlist)
    return netlist


def _levelize(netlist: Netlist) -> None:
    """Sort nodes topologically (level = longest path from inputs); reject loops, multi-drivers."""
    driver: dict[int, int] = {}
    for i, node in enumerate(netlist.nodes):
        if node.net in driver:
            other = netlist.nodes[driver[node.net]]
            raise NetlistError(
                f"{netlist.top}: net {netlist.net_names.get(node.net, node.net)} driven by "
                f"{other.instance}.{other.pin} and {node.instance}.{node.pin}"
            )
        driver[node.net] = i
    sources = {n for p in netlist.inputs for n in p.nets} | set(netlist.held) | {CONST0, CONST1}
    level: dict[int, int] = {n: 0 for n in sources}
    state: dict[int, int] = {}
    order: list[int] = []

    for start in range(len(netlist.nodes)):
        if start in state:
            continue
        stack: list[tuple[int, bool]] = [(start, False)]
        while stack:
            idx, done = stack.pop()
            if done:
                node = netlist.nodes[idx]
                node.level = 1 + max((level.get(n, 0) for n in node.inputs.values()), default=0)
                level[node.net] = node.level
                state[idx] = 2
                order.append(idx)
                continue
            if state.get(idx) == 2:
                continue
            if state.get(idx) == 1:
                raise NetlistError(f"{netlist.top}: combinational loop through "
                                   f"{netlist.nodes[idx].instance}")
            state[idx] = 1
            stack.append((idx, True))
            for n in netlist.nodes[idx].inputs.values():
                if n in driver and state.get(driver[n]) != 2:
                    if state.get(driver[n]) == 1:
                        raise NetlistError(f"{netlist.top}: combinational loop through "
                                           f"{netlist.nodes[driver[n]].instance}")
                    stack.append((driver[n], False))
                elif n not in driver and n not in sources:
                    raise NetlistError(
                        f"{netlist.top}: net {netlist.net_names.get(n, n)} read by "
                        f"{netlist.nodes[idx].instance} has no driver"
                    )
    netlist.nodes = [netlist.nodes[i] for i in order]
    netlist.nodes.sort(key=lambda nd: nd.level)


def fault_list(netlist: Netlist) -> list[Fault]:
    """Fault's fault universe (see module docstring), both polarities, in a stable order."""
    faults: list[Fault] = []

    def both(site: str, kind: str, net: int, nodes: tuple[int, ...] = (), pin: str = "") -> None:
        for v in (0, 1):
            faults.append(Fault(site, v, kind, net, nodes, pin))

    for port in netlist.ports:
        for i, n in enumerate(port.nets):
            site = port.name if len(port.nets) == 1 else f"{port.name} [{port.offset + i}]"
            both(site, "stem" if port.direction == "input" else "po", n)
    by_instance: dict[str, list[int]] = {}
    for idx, node in enumerate(netlist.nodes):
        by_instance.setdefault(node.instance, []).append(idx)
    for inst, (inputs, outputs) in netlist.instances.items():
        readers = tuple(by_instance.get(inst, ()))
        for pin, n in inputs.items():
            both(f"{inst}.{pin}", "branch", n, readers, pin)
        for pin, n in outputs.items():
            # An unconnected output is a site Fault counts but nothing can observe.
            both(f"{inst}.{pin}", "stem" if n is not None else "dead", n if n is not None else 0)
    return faults


def async_controls(data: dict, top: str, cells: dict[str, Cell]) -> dict[str, int]:
    """Input ports that reach an asynchronous set/reset pin of a flop in an *uncut* netlist,
    mapped to the value that keeps the pin inactive.

    Why: after ``fault cut`` those pins are gone, so the ATPG would treat the reset as a free
    test input and pulse it during capture, which on silicon clears the flops instead of
    capturing. The trace walks back through single-input cells (buffers, inverters), counting
    inversions; pins ending in ``_B`` are active low (sky130 ``RESET_B``/``SET_B``).
    """
    module = data["modules"][top]
    driver: dict[int, tuple[str, str]] = {}  # net -> (cell type, its single input net pin)
    inputs_of: dict[str, dict] = {}
    for inst, info in module["cells"].items():
        cell = cells.get(info["type"])
        if cell is None:
            continue
        inputs_of[inst] = info["connections"]
        for pin in cell.outputs:
            for bit in info["connections"].get(pin, []):
                if isinstance(bit, int):
                    driver[bit] = (inst, info["type"])
    port_of = {b: name for name, p in module["ports"].items() if p["direction"] == "input"
               for b in p["bits"] if isinstance(b, int)}
    found: dict[str, int] = {}
    for _inst, info in module["cells"].items():
        cell = cells.get(info["type"])
        if cell is None or not cell.sequential:
            continue
        for pin in set(cell.inputs) - {"CLK", "D", "SCD", "SCE", "DE", "GATE", "GATE_N"}:
            bits = info["connections"].get(pin, [])
            if not bits or not isinstance(bits[0], int):
                continue
            net, inverted = bits[0], 0
            for _ in range(64):  # bounded walk back through buffers/inverters
                if net in port_of:
                    inactive = 1 if pin.endswith("_B") else 0
                    found[port_of[net]] = inactive ^ inverted
                    break
                if net not in driver:
                    break
                inst, ctype = driver[net]
                drv = cells[ctype]
                if len(drv.inputs) != 1 or len(drv.outputs) != 1:
                    break
                function = next(iter(drv.outputs.values()))
                inverted ^= int("!" in function or "'" in function)
                src = inputs_of[inst].get(drv.inputs[0], [None])[0]
                if not isinstance(src, int):
                    break
                net = src
    return found
