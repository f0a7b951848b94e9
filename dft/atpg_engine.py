"""Deterministic stuck-at ATPG on Fault's cut netlist: random phase + SAT-based test generation.

Why this exists: Fault 0.9.4 only ships a pseudo-random generator; its external generators
(Atalanta, PODEM, Quaigh) are not installable from the registries this project may use, and
random vectors stall around 90 % on datapaths behind enables. SAT-based ATPG (Larrabee, 1992)
is complete: for every fault it either returns a test or *proves* the fault untestable. The
SAT solver is PySAT's CaDiCaL/Glucose (a maintained library); this module only builds the
circuit CNF and runs the classic flow:

1. random patterns, bit-parallel fault simulation, fault dropping, until a batch of 64 detects
   under 1 % of the remaining faults;
2. for each remaining fault, a SAT miter (good cone vs. faulty cone, activation + an observed
   difference at some output), solved with a conflict budget; each test found is fault-simulated
   against all remaining faults (with random fill of don't-care inputs);
3. static compaction: a full fault simulation of all vectors, then a greedy set cover keeps the
   vector detecting most still-undetected faults until every detected fault is covered.

Faults are Fault's own universe (:func:`dft.netlist.fault_list`), so the coverage is comparable
with ``fault atpg`` on the same vectors (``dft.steps.atpg`` can cross-check with Fault itself).
"""

from __future__ import annotations

import heapq
import random
import time
from dataclasses import dataclass, field

from pysat.solvers import Solver

from dft.liberty import Expr, expr_vars
from dft.netlist import CONST0, CONST1, Fault, Netlist

WORD = 64  # patterns per bit-parallel simulation word


# --- compilation of cell functions -------------------------------------------------------------

def _py(expr: Expr, names: dict[str, str]) -> str:
    op = expr[0]
    if op == "var":
        return names[expr[1]]
    if op == "const":
        return "M" if expr[1] else "0"
    if op == "not":
        return f"(M ^ {_py(expr[1], names)})"
    sym = {"and": "&", "or": "|", "xor": "^"}[op]
    return f"({_py(expr[1], names)} {sym} {_py(expr[2], names)})"


def _tseitin(expr: Expr, lits: dict[str, int], new: list[int], clauses: list[list[int]]) -> int:
    """Encode ``expr`` and return its literal; ``new[0]`` is the next free variable."""
    op = expr[0]
    if op == "var":
        return lits[expr[1]]
    if op == "const":
        return lits["__1__"] if expr[1] else -lits["__1__"]
    if op == "not":
        return -_tseitin(expr[1], lits, new, clauses)
    a = _tseitin(expr[1], lits, new, clauses)
    b = _tseitin(expr[2], lits, new, clauses)
    y = new[0]
    new[0] += 1
    if op == "and":
        clauses += [[-y, a], [-y, b], [y, -a, -b]]
    elif op == "or":
        clauses += [[y, -a], [y, -b], [-y, a, b]]
    else:
        clauses += [[-y, a, b], [-y, -a, -b], [y, -a, b], [y, a, -b]]
    return y


@dataclass
class _Template:
    """A cell output function compiled once: Python evaluator and CNF clause template."""

    pins: tuple[str, ...]
    evaluate: object  # callable(M, *inputs) -> int
    clauses: list[list[int]]  # literals: 1..k inputs, k+1 output, k+2 constant-1, then aux
    n_vars: int


def _template(expr: Expr) -> _Template:
    pins = tuple(sorted(expr_vars(expr)))
    names = {p: f"i{n}" for n, p in enumerate(pins)}
    src = f"lambda M{''.join(', ' + names[p] for p in pins)}: {_py(expr, names)}"
    k = len(pins)
    lits = {p: n + 1 for n, p in enumerate(pins)}
    lits["__1__"] = k + 2
    clauses: list[list[int]] = []
    new = [k + 3]
    out = _tseitin(expr, lits, new, clauses)
    y = k + 1
    clauses += [[-y, out], [y, -out]]
    return _Template(pins, eval(src), clauses, new[0] - 1)  # noqa: S307 - generated above


# --- the engine --------------------------------------------------------------------------------

@dataclass
class AtpgResult:
    vectors: list[list[int]]  # one bit per test input (order: Circuit.input_nets)
    detected_by: list[list[Fault]]  # per kept vector, the faults it is credited with
    total_faults: int
    detected: int
    untestable: int  # proven redundant / unobservable
    aborted: int  # SAT budget exhausted
    random_vectors: int
    sat_vectors: int
    runtime_s: dict[str, float] = field(default_factory=dict)

    @property
    def coverage(self) -> float:
        """Fault coverage in percent: detected / all faults (Fault's definition)."""
        return 100.0 * self.detected / max(self.total_faults, 1)

    @property
    def test_coverage(self) -> float:
        """Detected / (all - proven untestable), in percent."""
        return 100.0 * self.detected / max(self.total_faults - self.untestable, 1)


class Circuit:
    """Bit-parallel simulator and fault simulator of a :class:`Netlist`."""

    def __init__(self, netlist: Netlist, faults: list[Fault]):
        self.netlist = netlist
        self.faults = faults
        self.input_nets = [n for p in netlist.inputs for n in p.nets]
        self.output_nets = [n for p in netlist.outputs for n in p.nets]
        self.po_set = set(self.output_nets)
        nets = {CONST0, CONST1, *self.input_nets, *netlist.held, *self.output_nets}
        for node in netlist.nodes:
            nets.add(node.net)
            nets.update(node.inputs.values())
        self.index = {n: i for i, n in enumerate(sorted(nets))}
        templates: dict[tuple[str, str], _Template] = {}
        self.node_tpl: list[_Template] = []
        self.node_in: list[list[int]] = []
        self.node_out: list[int] = []
        for node in netlist.nodes:
            key = (node.cell, node.pin)
            if key not in templates:
                templates[key] = _template(node.function)
            tpl = templates[key]
            self.node_tpl.append(tpl)
            self.node_in.append([self.index[node.inputs[p]] for p in tpl.pins])
            self.node_out.append(self.index[node.net])
        self.fanout: dict[int, list[int]] = {}
        for i, ins in enumerate(self.node_in):
            for n in set(ins):
                self.fanout.setdefault(n, []).append(i)
        self.driver = {out: i for i, out in enumerate(self.node_out)}
        self._po_idx = {self.index[n] for n in self.output_nets}
        self.node_pin_pos = [
            {p: k for k, p in enumerate(tpl.pins)} for tpl in self.node_tpl
        ]
        self._sim = self._compile()

    def _compile(self):
        lines = ["def sim(v, M):"]
        for i in range(len(self.node_tpl)):
            args = "".join(f", v[{n}]" for n in self.node_in[i])
            lines.append(f"    v[{self.node_out[i]}] = T[{i}](M{args})")
        lines.append("    return v")
        scope: dict = {"T": [t.evaluate for t in self.node_tpl]}
        exec("\n".join(lines) if len(lines) > 2 else "def sim(v, M):\n    return v", scope)  # noqa: S102
        return scope["sim"]

    def simulate(self, patterns: list[int], width: int) -> list[int]:
        """Good-machine values of every net; ``patterns[k]`` holds input k's bit for each
        of ``width`` patterns."""
        mask = (1 << width) - 1
        v = [0] * len(self.index)
        v[self.index[CONST1]] = mask
        for net, val in self.netlist.held.items():
            v[self.index[net]] = mask if val else 0
        for net, bits in zip(self.input_nets, patterns, strict=True):
            v[self.index[net]] = bits & mask
        return self._sim(v, mask)

    def detect(self, fault: Fault, good: list[int], mask: int) -> int:
        """Bit mask of the patterns (of this simulated word) that detect ``fault``."""
        stuck = mask if fault.stuck else 0
        if fault.kind == "dead":
            return 0
        site = self.index.get(fault.net)
        if site is None:
            return 0
        if fault.kind == "po":
            return good[site] ^ stuck
        overlay: dict[int, int] = {}
        heap: list[int] = []
        if fault.kind == "stem":
            if good[site] == stuck:
                return 0
            overlay[site] = stuck
            heap.extend(self.fanout.get(site, ()))
        else:  # branch: only the reading cell sees the stuck value
            if good[site] == stuck:
                return 0
            for ni in fault.nodes:
                pos = self.node_pin_pos[ni][fault.pin]
                args = [good[n] for n in self.node_in[ni]]
                args[pos] = stuck
                val = self.node_tpl[ni].evaluate(mask, *args)
                out = self.node_out[ni]
                if val != good[out]:
                    overlay[out] = val
                    heap.extend(self.fanout.get(out, ()))
        heapq.heapify(heap)
        seen: set[int] = set()
        while heap:
            ni = heapq.heappop(heap)
            if ni in seen:
                continue
            seen.add(ni)
            args = [overlay.get(n, good[n]) for n in self.node_in[ni]]
            val = self.node_tpl[ni].evaluate(mask, *args)
            out = self.node_out[ni]
            if val != good[out]:
                overlay[out] = val
                for nxt in self.fanout.get(out, ()):
                    heapq.heappush(heap, nxt)
        det = 0
        for net, val in overlay.items():
            if net in self._po_idx:
                det |= val ^ good[net]
        return det & mask

    # --- SAT ----------------------------------------------------------------------------------

    def _fanin(self, roots: set[int]) -> set[int]:
        """Node indices in the transitive fan-in of the given net indices."""
        out: set[int] = set()
        stack = [self.driver[r] for r in roots if r in self.driver]
        while stack:
            ni = stack.pop()
            if ni in out:
                continue
            out.add(ni)
            stack.extend(self.driver[n] for n in self.node_in[ni] if n in self.driver)
        return out

    def _fanout_nodes(self, start_nodes: list[int]) -> set[int]:
        out: set[int] = set()
        stack = list(start_nodes)
        while stack:
            ni = stack.pop()
            if ni in out:
                continue
            out.add(ni)
            stack.extend(self.fanout.get(self.node_out[ni], ()))
        return out

    def sat_test(self, fault: Fault, budget: int, solver: str) -> tuple[str, dict[int, int]]:
        """("test", {input index: bit}) | ("untestable", {}) | ("aborted", {})."""
        site = self.index.get(fault.net)
        if fault.kind == "dead" or site is None:
            return "untestable", {}
        # Nodes whose value the fault can change, and the outputs where it can be seen.
        if fault.kind == "po":
            start: list[int] = []
            observed = {site}
        elif fault.kind == "stem":
            start = list(self.fanout.get(site, ()))
            cone = self._fanout_nodes(start)
            observed = {self.node_out[n] for n in cone} & self._po_idx
            if site in self._po_idx:
                observed.add(site)
        else:
            start = list(fault.nodes)
            cone = self._fanout_nodes(start)
            observed = {self.node_out[n] for n in cone} & self._po_idx
        if not observed:
            return "untestable", {}
        good_nodes = self._fanin(observed | {site})
        faulty_nodes = sorted(self._fanout_nodes(start) & good_nodes) if start else []

        nvar = [0]

        def new() -> int:
            nvar[0] += 1
            return nvar[0]

        gvar: dict[int, int] = {}

        def gv(n: int) -> int:
            if n not in gvar:
                gvar[n] = new()
            return gvar[n]

        clauses: list[list[int]] = []
        one = gv(self.index[CONST1])
        clauses.append([one])
        clauses.append([-gv(self.index[CONST0])])
        for net, val in self.netlist.held.items():
            clauses.append([gv(self.index[net]) if val else -gv(self.index[net])])

        def emit(ni: int, in_lits: list[int], out_lit: int) -> None:
            tpl = self.node_tpl[ni]
            k = len(tpl.pins)
            base = nvar[0]
            nvar[0] += max(tpl.n_vars - (k + 2), 0)

            def m(lit: int) -> int:
                a = abs(lit)
                if a <= k:
                    r = in_lits[a - 1]
                elif a == k + 1:
                    r = out_lit
                elif a == k + 2:
                    r = one
                else:
                    r = base + (a - (k + 2))
                return r if lit > 0 else -r

            for cl in tpl.clauses:
                clauses.append([m(lit) for lit in cl])

        for ni in sorted(good_nodes):
            emit(ni, [gv(n) for n in self.node_in[ni]], gv(self.node_out[ni]))

        fvar: dict[int, int] = {}
        stuck_lit = one if fault.stuck else -one
        if fault.kind == "stem":
            fvar[site] = stuck_lit
        for ni in faulty_nodes:
            ins = [fvar[n] if n in fvar else gv(n) for n in self.node_in[ni]]
            if fault.kind == "branch" and ni in fault.nodes:
                ins[self.node_pin_pos[ni][fault.pin]] = stuck_lit
            out = new()
            fvar[self.node_out[ni]] = out
            emit(ni, ins, out)
        # activation: the good value at the site differs from the stuck value
        clauses.append([-gv(site)] if fault.stuck else [gv(site)])
        diffs = []
        for po in observed:
            g = gv(po)
            f = fvar.get(po, stuck_lit if fault.kind == "po" else g)
            if f == g:
                continue
            d = new()
            clauses += [[-d, g, f], [-d, -g, -f]]
            diffs.append(d)
        if not diffs:
            return "untestable", {}
        clauses.append(diffs)
        with Solver(name=solver, bootstrap_with=clauses) as sat:
            if budget > 0:
                sat.conf_budget(budget)
                status = sat.solve_limited()
            else:
                status = sat.solve()
            if status is None:
                return "aborted", {}
            if not status:
                return "untestable", {}
            model = sat.get_model()
        truth = {abs(v): v > 0 for v in model}
        result: dict[int, int] = {}
        for k, net in enumerate(self.input_nets):
            var = gvar.get(self.index[net])
            if var is not None:
                result[k] = int(truth.get(var, False))
        return "test", result


def _pack(vectors: list[list[int]], n_inputs: int) -> list[int]:
    """Transpose up to WORD vectors into one bit-parallel word per input."""
    words = [0] * n_inputs
    for bit, vec in enumerate(vectors):
        for k, val in enumerate(vec):
            if val:
                words[k] |= 1 << bit
    return words


def run_atpg(
    circuit: Circuit,
    *,
    seed: int = 1,
    max_random_batches: int = 32,
    min_gain_fraction: float = 0.01,
    conflict_budget: int = 20000,
    solver: str = "cadical153",
    drop_every: int = WORD,
    log=print,
) -> AtpgResult:
    """Random phase, SAT phase, compaction (see module docstring)."""
    rng = random.Random(seed)
    n_in = len(circuit.input_nets)
    faults = circuit.faults
    remaining = set(range(len(faults)))
    vectors: list[list[int]] = []
    times: dict[str, float] = {}

    def fault_sim(batch: list[list[int]]) -> int:
        good = circuit.simulate(_pack(batch, n_in), len(batch))
        mask = (1 << len(batch)) - 1
        hit = [fi for fi in remaining if circuit.detect(faults[fi], good, mask)]
        remaining.difference_update(hit)
        return len(hit)

    t0 = time.monotonic()
    for batch_no in range(max_random_batches):
        batch = [[rng.getrandbits(1) for _ in range(n_in)] for _ in range(WORD)]
        gained = fault_sim(batch)
        vectors.extend(batch)
        log(f"random batch {batch_no}: +{gained} detected, {len(remaining)} faults left")
        # Stop once a batch detects under 1 % of what is left: from there SAT is cheaper per
        # fault than random vectors (each costs a compaction and tester time).
        if gained <= min_gain_fraction * len(remaining):
            break
    random_count = len(vectors)
    times["random_s"] = time.monotonic() - t0

    t0 = time.monotonic()
    untestable: set[int] = set()
    aborted: set[int] = set()
    pending: list[list[int]] = []
    sat_count = 0
    for fi in sorted(remaining):
        if fi not in remaining:
            continue
        status, assignment = circuit.sat_test(faults[fi], conflict_budget, solver)
        if status == "untestable":
            untestable.add(fi)
            remaining.discard(fi)
            continue
        if status == "aborted":
            aborted.add(fi)
            continue
        vec = [assignment.get(k, rng.getrandbits(1)) for k in range(n_in)]
        pending.append(vec)
        sat_count += 1
        remaining.discard(fi)  # the SAT model detects it by construction (checked below)
        if len(pending) >= drop_every:
            fault_sim(pending)
            vectors.extend(pending)
            pending = []
    if pending:
        fault_sim(pending)
        vectors.extend(pending)
    times["sat_s"] = time.monotonic() - t0
    log(f"SAT phase: {sat_count} tests, {len(untestable)} untestable, {len(aborted)} aborted")

    t0 = time.monotonic()
    kept, credited = compact(circuit, vectors, set(range(len(faults))) - untestable)
    times["compact_s"] = time.monotonic() - t0
    detected = sum(len(c) for c in credited)
    log(f"compaction: {len(vectors)} -> {len(kept)} vectors, {detected} faults detected")
    return AtpgResult(
        vectors=kept,
        detected_by=[[faults[i] for i in c] for c in credited],
        total_faults=len(faults),
        detected=detected,
        untestable=len(untestable),
        aborted=len(aborted),
        random_vectors=random_count,
        sat_vectors=sat_count,
        runtime_s=times,
    )


def compact(
    circuit: Circuit, vectors: list[list[int]], targets: set[int]
) -> tuple[list[list[int]], list[list[int]]]:
    """Static compaction: reverse-order fault simulation with fault dropping (cheap, removes
    most random vectors), then a greedy set cover over the survivors. Returns the kept vectors
    and the faults each one is credited with."""
    survivors, _credit = reverse_order(circuit, vectors, targets)
    return set_cover(circuit, survivors, targets)


def reverse_order(
    circuit: Circuit, vectors: list[list[int]], targets: set[int]
) -> tuple[list[list[int]], list[list[int]]]:
    """Keep a vector only if it is the first, in reverse order, to detect some fault."""
    n_in = len(circuit.input_nets)
    remaining = set(targets)
    credit: dict[int, list[int]] = {}
    rev = list(range(len(vectors)))[::-1]
    for start in range(0, len(rev), WORD):
        chunk = rev[start:start + WORD]
        good = circuit.simulate(_pack([vectors[i] for i in chunk], n_in), len(chunk))
        mask = (1 << len(chunk)) - 1
        for fi in list(remaining):
            det = circuit.detect(circuit.faults[fi], good, mask)
            if det:
                first = (det & -det).bit_length() - 1  # lowest bit = earliest in reverse order
                credit.setdefault(chunk[first], []).append(fi)
                remaining.discard(fi)
    order = sorted(credit)
    return [vectors[i] for i in order], [credit[i] for i in order]


def set_cover(
    circuit: Circuit, vectors: list[list[int]], targets: set[int]
) -> tuple[list[list[int]], list[list[int]]]:
    """Fault-simulate every vector without dropping, then repeatedly keep the vector that
    detects the most still-undetected faults (greedy set cover)."""
    n_in = len(circuit.input_nets)
    detects: list[int] = [0] * len(vectors)  # per vector: bitset over fault indices
    target_list = sorted(targets)
    for start in range(0, len(vectors), WORD):
        chunk = vectors[start:start + WORD]
        good = circuit.simulate(_pack(chunk, n_in), len(chunk))
        mask = (1 << len(chunk)) - 1
        for fi in target_list:
            det = circuit.detect(circuit.faults[fi], good, mask)
            while det:
                low = det & -det
                detects[start + low.bit_length() - 1] |= 1 << fi
                det ^= low
    remaining = 0
    for fi in target_list:
        remaining |= 1 << fi
    remaining &= _union(detects)
    kept: list[int] = []
    credit: list[list[int]] = []
    while remaining:
        best = max(range(len(vectors)), key=lambda v: (detects[v] & remaining).bit_count())
        new = detects[best] & remaining
        kept.append(best)
        credit.append([fi for fi in target_list if (new >> fi) & 1])
        remaining &= ~new
    return [vectors[i] for i in kept], credit


def _union(bitsets: list[int]) -> int:
    out = 0
    for b in bitsets:
        out |= b
    return out


def detected_set(circuit: Circuit, vectors: list[list[int]], faults: list[Fault]) -> set[int]:
    """Indices (into ``faults``) of the faults some vector detects (no compaction)."""
    n_in = len(circuit.input_nets)
    found: set[int] = set()
    for start in range(0, len(vectors), WORD):
        chunk = vectors[start:start + WORD]
        good = circuit.simulate(_pack(chunk, n_in), len(chunk))
        mask = (1 << len(chunk)) - 1
        for i, fault in enumerate(faults):
            if i not in found and circuit.detect(fault, good, mask):
                found.add(i)
    return found


def as_fault_tool_sees(fault: Fault) -> Fault:
    """The fault Fault's simulator actually injects for a site: ``force uut.inst.PIN`` on an
    input pin forces the whole net in Icarus (ports are collapsed), i.e. a stem fault."""
    if fault.kind != "branch":
        return fault
    return Fault(fault.site, fault.stuck, "stem", fault.net)


def verify(circuit: Circuit, vectors: list[list[int]]) -> int:
    """Number of faults the vectors detect (independent re-simulation, for tests/reports)."""
    return sum(len(c) for c in compact(circuit, vectors, set(range(len(circuit.faults))))[1])
