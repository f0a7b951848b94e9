"""The project's one Liberty reader: yosys' own Liberty parser through its Python binding.

``libparse`` (installed with fault-dft) is the Python binding of yosys' ``libparse.cc``; it
turns a Liberty file into a tree of groups and attributes (``LibertyAst``: ``id``, ``args``,
``value``, ``children``) in ~0.6 s for a whole sky130_fd_sc_hd corner. Every consumer builds
its own view on this one tree: the engine's timing tables (``pnr.engine.liberty``), DFT's cell
functions (``dft.liberty``). The signoff power step does not read Liberty into a tree: it
rewrites the text in place (``signoff.power_liberty``, sharing :func:`gptnano.pdk.group_end`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gptnano.step import StepError


def unquote(text: str) -> str:
    """An attribute value or group argument without surrounding quotes and blanks."""
    return text.strip().strip('"')


def parse(path: Path) -> Any:
    """The ``library`` group of the Liberty file ``path`` (a ``libparse.LibertyAst``)."""
    from libparse import LibertyParser

    try:
        with open(path) as f:
            return LibertyParser(f).ast
    except OSError as exc:
        raise StepError(f"{path}: cannot read Liberty file: {exc}") from exc
    except RuntimeError as exc:
        raise StepError(f"{path}: cannot parse Liberty: {exc}") from exc


def groups(node: Any, kind: str) -> list[Any]:
    """The direct child groups of ``node`` of type ``kind`` (``cell``, ``pin``, ...)."""
    return [c for c in node.children if c.id == kind]


def attributes(node: Any) -> dict[str, str]:
    """The simple attributes of group ``node`` (unquoted), nested groups left out."""
    return {c.id: unquote(c.value) for c in node.children if not c.children and c.value}
