"""Independent check of the ATPG's fault simulation with Icarus and the sky130 cell models.

The ATPG evaluates cells from their Liberty functions; this module re-does the fault
simulation the way Fault does it (``force uut.<instance>.<pin> = v`` in a gate-level
testbench with a fault-free twin, outputs compared for every vector), so a modelling mistake in
:mod:`dft.atpg_engine` (a wrong function, a wrong fault site) shows up as a disagreement.

``force`` on a cell's *input* port: Icarus collapses a module input port into the net that
drives it, so forcing ``inst.A`` forces the whole net (a stem fault), not only that branch.
:func:`icarus_detects` reports what Icarus sees; callers compare with the engine's stem view
of the same net for those sites (see ``dft/tests``).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from dft.sky130 import CELL_DEFINES, cell_models
from dft.vectors import biguint_value, read_fault_json
from gptnano.paths import sky130hd_dir


def _esc(name: str) -> str:
    return name if name.isidentifier() else f"\\{name} "


def _site_ref(site: str) -> str:
    """Hierarchical reference of a Fault site name under ``uut``."""
    if "." in site and not site.endswith(".d"):
        inst, pin = site.rsplit(".", 1)
        return f"uut.{_esc(inst)}.{pin}"
    return f"uut.{_esc(site)}"


def icarus_detects(cut_netlist: Path, top: str, tv_json: Path, sites: list[tuple[str, int]],
                   held: dict[str, int], workdir: Path) -> dict[tuple[str, int], bool]:
    """For each (site, stuck value), whether any vector of ``tv_json`` makes a primary output
    of the faulty copy differ from the fault-free copy, simulated with the cell models."""
    data = read_fault_json(tv_json)
    ins = [p["name"].lstrip("\\") for p in data["inputs"]]
    outs = [p["name"].lstrip("\\") for p in data["outputs"]]
    vectors = [[biguint_value(v) & 1 for v in e["vector"]] for e in data["coverageList"]]
    workdir.mkdir(parents=True, exist_ok=True)
    mem = workdir / "vectors.mem"
    mem.write_text("".join("".join(str(b) for b in reversed(v)) + "\n" for v in vectors))
    n_in, n_out, n_vec = len(ins), len(outs), len(vectors)

    def hookup(out_bus: str) -> str:
        conns = [f".{_esc(n)}(vin[{i}])" for i, n in enumerate(ins)]
        conns += [f".{_esc(n)}({out_bus}[{i}])" for i, n in enumerate(outs)]
        conns += [f".{_esc(n)}(1'b{v})" for n, v in held.items()]
        return ", ".join(conns)

    body = []
    for k, (site, stuck) in enumerate(sites):
        ref = _site_ref(site)
        body.append(f"    force {ref} = 1'b{stuck}; det = 0;\n"
                    f"    for (v = 0; v < {n_vec}; v = v + 1) begin vin = mem[v]; #1;"
                    f" if (og !== of) det = 1; end\n"
                    f"    $display(\"F {k} %0d\", det); release {ref}; #1;")
    tb = workdir / "fault_tb.v"
    tb.write_text(f"""`timescale 1ns/1ps
module fault_tb;
  reg [{n_in - 1}:0] vin; wire [{n_out - 1}:0] og, of;
  reg [{n_in - 1}:0] mem [0:{n_vec - 1}];
  integer v, det;
  {top} gm({hookup('og')});
  {top} uut({hookup('of')});
  initial begin
    $readmemb("{mem}", mem);
{chr(10).join(body)}
    $finish;
  end
endmodule
""")
    sim = workdir / "fault_tb.vvp"
    defines = [f"-D{d}" for d in CELL_DEFINES]
    models = [str(m) for m in cell_models(sky130hd_dir())]
    subprocess.run(["iverilog", "-g2012", *defines, "-o", str(sim), "-s", "fault_tb", *models,
                    str(cut_netlist), str(tb)], check=True, capture_output=True, text=True)
    out = subprocess.run(["vvp", "-n", str(sim)], check=True, capture_output=True, text=True)
    result: dict[tuple[str, int], bool] = {}
    for line in out.stdout.splitlines():
        if line.startswith("F "):
            _f, k, det = line.split()
            result[sites[int(k)]] = det == "1"
    if len(result) != len(sites):
        raise RuntimeError(f"fault testbench reported {len(result)} of {len(sites)} faults; "
                           f"see {tb}")
    return result
