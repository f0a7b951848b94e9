# gpt-nano-asic: one target per stage; every stage reads what the previous one wrote.
# Variables: DESIGN (flow design folder under designs/), PY (the virtualenv's python).
PY ?= .venv/bin/python
DESIGN ?= probe
export PYTHONDONTWRITEBYTECODE=1
# torch with OpenMP spin-waiting runs 4-20x slower when another process holds a core.
export OMP_WAIT_POLICY=PASSIVE

.PHONY: help setup model rtl dv dft gds signoff report nightly test test-slow lint bench bench-scale clean
.DEFAULT_GOAL := help

help:             ## this list (every target, with what it does)
	@echo "gpt-nano-asic: make <target> [DESIGN=<name>]   (DESIGN defaults to $(DESIGN))"
	@grep -E '^[a-z][a-z-]*:.*## ' $(firstword $(MAKEFILE_LIST)) | \
	  sed -E 's/^([a-z-]+):[^#]*## (.*)/  \1\t\2/' | expand -t 14

setup:            ## system packages, .venv, Python packages, text corpus
	bash scripts/setup.sh

model:            ## tokenizer, training, evaluation, compression variants, exports
	$(PY) -m model.build

rtl:              ## regenerate rtl/ from design/ (Amaranth)
	$(PY) -m design.generate

dv:               ## full cocotb/pyuvm regression with coverage (Icarus + Verilator)
	$(PY) -m pytest dv -m "not slow or slow" -v

dft:              ## scan insertion + ATPG with Fault on the synthesized netlist
	$(PY) -m dft.run --design $(DESIGN)

gds:              ## RTL to signoff-checked GDSII for DESIGN, then the dashboard (paths printed)
	@$(PY) siliconcompiler.py --design $(DESIGN); status=$$?; \
	  $(PY) -m reports.dashboard; exit $$status

signoff:          ## signoff checks on an existing run of DESIGN
	$(PY) -m signoff.check --design $(DESIGN)

report:           ## PPA dashboard from the runs under build/ (cycle model table first)
	$(PY) -m design.perf
	$(PY) -m reports.dashboard

nightly:          ## every regression design, goldens compared, history appended, dashboard
	$(PY) -m signoff.nightly

bench:            ## benchmarks (training tokens/s, simulator transactions/s, flow cost vs cells)
	$(PY) -m model.bench
	$(PY) -m dv.bench
	-$(PY) -m reports.scaling

SCALE_DESIGNS ?= orfs_gcd small orfs_riscv32i orfs_aes
bench-scale:      ## run the flow on SCALE_DESIGNS (job scale; hours) and tabulate runtime/memory vs cells
	-@for d in $(SCALE_DESIGNS); do $(PY) siliconcompiler.py --design $$d --jobname scale; done
	$(PY) -m reports.scaling --job scale --designs $(SCALE_DESIGNS)

test:             ## the fast test suite (CI)
	$(PY) -m pytest -m "not slow" -q

test-slow:        ## the slow tests (full flows, gate-level simulation)
	$(PY) -m pytest -m slow -q

lint:             ## ruff over the tree
	$(PY) -m ruff check .

clean:            ## remove runs, simulator builds and the dashboard output
	rm -rf build/runs sim_build reports/out
