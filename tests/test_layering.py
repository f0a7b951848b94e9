"""The import graph of the project's top-level packages: no cycles, and only downward imports.

Why a test: the packages are layers (issue #15). The core (``gptnano``: paths, design config,
step context, PDK/Liberty access, file writing) is at the bottom; the step libraries (the
physical engine ``pnr``, the signoff checks ``signoff``, ``dft``) depend on the core and only
downward on each other; ``reports`` reads result files and needs only the core; the flow layer
(``flow``: SiliconCompiler project, tasks, CLI, run summary, nightly regression) and the
``siliconcompiler.py`` script sit on top. An import that points upward makes the layers a
tangle again; this test names it.

How: every non-test ``.py`` file of the packages is parsed with :mod:`ast` (nothing is
imported). An edge is any ``import``/``from ... import`` (module level or inside a function,
so lazy imports count), any string constant that names a project module (the
``importlib.import_module`` targets and the task classes' ``MODULE = "signoff.sta"``) and in a
module that imports by name (``importlib.import_module`` ...), any f-string that starts with a
package prefix (``f"signoff.{step}"``).
``import siliconcompiler`` from package code is the installed SiliconCompiler package (the
script replaces itself, see ``tests/test_siliconcompiler_shadow.py``), so it is no edge.

Two declared exceptions, each checked to be still needed and to be what it claims:

* :data:`CLI_SHIMS`: modules kept at an old path so a documented command keeps working
  (``python -m signoff.check``, ``python -m pnr.engine.run_all`` ...). They contain nothing
  but the hand-over in an ``if __name__ == "__main__":`` block, so importing them runs no code
  of the upper layer.
* :data:`MODULE_EXCEPTIONS`: single module-to-module edges that break the table, with why.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

from gptnano.paths import REPO_ROOT

# package -> (layer, packages it may import). A package may only import lower layers.
LAYERS: dict[str, tuple[int, frozenset[str]]] = {
    "gptnano": (0, frozenset()),
    "model": (1, frozenset({"gptnano"})),
    "design": (2, frozenset({"gptnano", "model"})),
    "dv": (3, frozenset({"gptnano", "model", "design"})),
    "pnr": (4, frozenset({"gptnano"})),
    "signoff": (5, frozenset({"gptnano"})),
    # DFT times its scan shift with signoff's STA runner and proves the chains with dv's
    # simulator (it synthesizes through the core's gptnano.synth, so it needs no pnr).
    "dft": (6, frozenset({"gptnano", "model", "design", "dv", "signoff"})),
    "reports": (7, frozenset({"gptnano"})),
    "flow": (8, frozenset({"gptnano", "model", "design", "dv", "pnr", "signoff", "dft",
                           "reports"})),
    "siliconcompiler.py": (9, frozenset({"flow"})),
}

# old module path -> the module its ``__main__`` block hands over to
CLI_SHIMS: dict[str, str] = {
    "signoff.check": "flow.check",
    "signoff.nightly": "flow.nightly",
    "signoff.goldens": "flow.goldens",
    "pnr.engine.run_all": "flow.run_engine",
    "dft.run": "flow.run_dft",
}

# (importing module, imported module) -> why the edge is allowed for now
MODULE_EXCEPTIONS: dict[tuple[str, str], str] = {
}

MODULE_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_.")
DYNAMIC_IMPORTERS = {"import_module", "__import__", "run_module", "find_spec"}
PREFIX_RE = re.compile(r"[a-z_][a-z0-9_]*(\.[a-z0-9_]+)*\.")


def module_name(path: Path) -> str:
    rel = path.relative_to(REPO_ROOT)
    if rel.name == "siliconcompiler.py" and len(rel.parts) == 1:
        return "siliconcompiler.py"
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_of(module: str) -> str:
    return module if module == "siliconcompiler.py" else module.split(".")[0]


def source_files() -> list[Path]:
    files = [REPO_ROOT / "siliconcompiler.py"]
    for package in LAYERS:
        folder = REPO_ROOT / package
        if folder.is_dir():
            files += sorted(p for p in folder.rglob("*.py")
                            if "tests" not in p.relative_to(REPO_ROOT).parts)
    return files


def project_module(dotted: str, modules: set[str]) -> str | None:
    """The longest project module that ``dotted`` names or lies inside (``from a.b import c``
    where ``c`` is a function resolves to ``a.b``)."""
    parts = dotted.split(".")
    for n in range(len(parts), 0, -1):
        candidate = ".".join(parts[:n])
        if candidate in modules:
            return candidate
    return None


def is_main_block(node: ast.AST) -> bool:
    return (isinstance(node, ast.If) and isinstance(node.test, ast.Compare)
            and isinstance(node.test.left, ast.Name) and node.test.left.id == "__name__"
            and len(node.test.comparators) == 1
            and isinstance(node.test.comparators[0], ast.Constant)
            and node.test.comparators[0].value == "__main__")


def imported_names(tree: ast.AST, skip_main: bool) -> list[tuple[str, int, bool]]:
    """(dotted name, line, exact) of every import and dotted string constant in ``tree``;
    ``exact``: a string, which counts only if it is exactly a module's name (``"dft.json"``
    is a file name, not the package ``dft``)."""
    out: list[tuple[str, int, bool]] = []
    dynamic = any(isinstance(n, ast.Call) and DYNAMIC_IMPORTERS & {
        getattr(n.func, "attr", None), getattr(n.func, "id", None)} for n in ast.walk(tree))
    skipped: set[int] = set()
    if skip_main:
        for node in ast.walk(tree):
            if is_main_block(node):
                skipped |= {id(n) for n in ast.walk(node)}
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno, False) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.module, node.lineno, False))
            out += [(f"{node.module}.{alias.name}", node.lineno, False) for alias in node.names]
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and "." in node.value and set(node.value) <= MODULE_NAME_CHARS):
            out.append((node.value, node.lineno, True))
        elif (dynamic and isinstance(node, ast.JoinedStr) and node.values
              and isinstance(node.values[0], ast.Constant)
              and isinstance(node.values[0].value, str)
              and PREFIX_RE.fullmatch(node.values[0].value)):
            # f"signoff.{step}" in a module that imports by name: a module of that package
            out.append((node.values[0].value.rstrip("."), node.lineno, True))
    return out


def module_edges() -> dict[str, dict[str, list[str]]]:
    """importing module -> imported project module -> ["file:line", ...]."""
    files = source_files()
    modules = {module_name(f) for f in files}
    edges: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for f in files:
        me = module_name(f)
        tree = ast.parse(f.read_text(), filename=str(f))
        for dotted, line, exact in imported_names(tree, skip_main=me in CLI_SHIMS):
            if dotted.split(".")[0] == "siliconcompiler":
                continue  # the installed package, never the script (see module docstring)
            target = dotted if exact and dotted in modules else (
                None if exact else project_module(dotted, modules))
            if target is None or package_of(target) == package_of(me):
                continue
            where = f"{f.relative_to(REPO_ROOT)}:{line}"
            if where not in edges[me][target]:
                edges[me][target].append(where)
    return edges


def package_graph(edges: dict[str, dict[str, list[str]]]) -> dict[str, dict[str, list[str]]]:
    """package -> imported package -> evidence, without the declared module exceptions."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for source, targets in edges.items():
        for target, where in targets.items():
            if (source, target) in MODULE_EXCEPTIONS:
                continue
            graph[package_of(source)][package_of(target)] += [f"{w} ({target})" for w in where]
    return graph


def find_cycle(graph: dict[str, dict[str, list[str]]]) -> list[str] | None:
    """One cycle of ``graph`` as [a, b, ..., a], or None (depth-first search)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, {})):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


@pytest.fixture(scope="module")
def edges() -> dict[str, dict[str, list[str]]]:
    return module_edges()


def test_layer_table_points_downward() -> None:
    for package, (layer, allowed) in LAYERS.items():
        for dep in allowed:
            assert LAYERS[dep][0] < layer, f"{package} may import {dep}, which is not below it"


def test_no_cycles_between_packages(edges) -> None:
    graph = package_graph(edges)
    cycle = find_cycle(graph)
    if cycle:
        steps = [f"{a} -> {b}: {', '.join(graph[a][b][:3])}"
                 for a, b in zip(cycle, cycle[1:], strict=False)]
        pytest.fail("import cycle between packages:\n  " + "\n  ".join(steps))


def test_packages_import_only_lower_layers(edges) -> None:
    graph = package_graph(edges)
    upward = [f"{src} -> {dst}: {', '.join(where[:3])}"
              for src, targets in sorted(graph.items()) for dst, where in sorted(targets.items())
              if dst not in LAYERS[src][1]]
    assert not upward, "imports outside the layer table:\n  " + "\n  ".join(upward)


def test_declared_exceptions_are_still_needed(edges) -> None:
    stale = [f"{a} -> {b}" for a, b in MODULE_EXCEPTIONS if b not in edges.get(a, {})]
    assert not stale, f"remove these from MODULE_EXCEPTIONS, the edge is gone: {stale}"


def test_cli_shims_only_hand_over(edges) -> None:
    for old, new in CLI_SHIMS.items():
        path = REPO_ROOT / (old.replace(".", "/") + ".py")
        tree = ast.parse(path.read_text())
        body = [n for n in tree.body
                if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))
                and not (isinstance(n, ast.ImportFrom) and n.module == "__future__")]
        assert body and all(is_main_block(n) for n in body), \
            f"{path}: a CLI shim holds only an 'if __name__ == \"__main__\":' hand-over"
        targets = {name for name, _, _ in imported_names(tree, skip_main=False)}
        assert any(t == new or t.startswith(new + ".") for t in targets), \
            f"{path}: does not hand over to {new}"
        assert (REPO_ROOT / (new.replace(".", "/") + ".py")).is_file(), f"{new} is missing"


def test_graph_sees_function_level_and_string_imports(tmp_path) -> None:
    """The parser counts lazy imports and module-naming strings (else the test could not fail
    on the lazy ``from signoff.summary import ...`` it was written against)."""
    tree = ast.parse("def f():\n    from pnr.engine import synth\n"
                     "MODULE = 'signoff.sta'\nSTEPS = [f'signoff.{s}' for s in 'ab']\n"
                     "importlib.import_module(STEPS[0])\n"
                     "if __name__ == '__main__':\n    import flow.cli\n")
    names = {n for n, _, _ in imported_names(tree, skip_main=True)}
    assert {"pnr.engine", "pnr.engine.synth", "signoff.sta", "signoff"} <= names
    assert "flow.cli" not in names
    assert find_cycle({"a": {"b": []}, "b": {"a": []}}) == ["a", "b", "a"]
    assert find_cycle({"a": {"b": []}, "b": {}}) is None
