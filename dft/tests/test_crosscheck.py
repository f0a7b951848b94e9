"""Independent check: Icarus with the sky130 cell models, injecting faults the way Fault does,
must agree with the ATPG engine's fault simulation on the generated vectors."""

from __future__ import annotations

import json
import random

from dft.atpg_engine import Circuit, as_fault_tool_sees, detected_set
from dft.faultsim_check import icarus_detects
from dft.liberty import read_liberty
from dft.netlist import build_netlist, fault_list
from dft.steps.common import liberty
from dft.vectors import biguint_value, read_fault_json
from gptnano.netlist import yosys_json


def test_engine_agrees_with_icarus_cell_models(blk_run, tmp_path):
    design, _summary, root = blk_run
    atpg = root / design.name / "dft" / "atpg"
    lib = liberty()
    cut = atpg / "inputs" / f"{design.top}.cut.v"
    netlist = build_netlist(yosys_json(cut, lib, design.top), design.top, read_liberty(lib),
                            {"clk": 1})
    faults = fault_list(netlist)
    circuit = Circuit(netlist, faults)
    tv = atpg / "outputs" / f"{design.top}.tv.json"
    vectors = [[biguint_value(v) for v in e["vector"]]
               for e in read_fault_json(tv)["coverageList"]]
    # a random sample plus every fault the first vector alone misses (so both answers occur)
    rng = random.Random(3)
    sample = rng.sample(range(len(faults)), 250)
    first_only = detected_set(circuit, vectors[:1], [as_fault_tool_sees(faults[i])
                                                     for i in sample])
    sample_faults = [as_fault_tool_sees(faults[i]) for i in sample]
    engine_all = detected_set(circuit, vectors, sample_faults)
    # with only the first vector many faults stay undetected: the check can see misses
    tv_one = tmp_path / "one.json"
    data = read_fault_json(tv)
    data["coverageList"] = data["coverageList"][:1]
    tv_one.write_text(json.dumps(data))
    sites = [(f.site, f.stuck) for f in sample_faults]
    icarus_one = icarus_detects(cut, design.top, tv_one, sites, {"clk": 1}, tmp_path / "one")
    icarus_all = icarus_detects(cut, design.top, tv, sites, {"clk": 1}, tmp_path / "all")
    assert [icarus_one[s] for s in sites] == [i in first_only for i in range(len(sites))]
    assert [icarus_all[s] for s in sites] == [i in engine_all for i in range(len(sites))]
    assert 0 < len(first_only) < len(sites)
