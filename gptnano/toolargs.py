"""Quoting of values spliced into tool scripts (Tcl for OpenSTA/Magic/Netgen, yosys scripts).

Paths and names reach these scripts from design configs, ``GPTNANO_BUILD``/``GPTNANO_SHARED``
and job names. ``gptnano.design_config`` already refuses values with spaces, ``$``, brackets
or ``..``; quoting here is the second line: a value is always one word of the script, never
a command or a variable reference, whatever folder the repository was cloned into.
"""

from __future__ import annotations

from pathlib import Path


class ToolArgumentError(ValueError):
    """A value that cannot be made one word of a tool script."""


def tcl_word(value: str | Path) -> str:
    """``value`` as one Tcl word: inside braces nothing is substituted ($, [ ], spaces)."""
    text = str(value)
    depth = 0
    for ch in text:
        depth += (ch == "{") - (ch == "}")
        if depth < 0:
            break
    if depth != 0 or "\\" in text or "\n" in text:
        raise ToolArgumentError(f"cannot pass {text!r} to a Tcl tool as one word "
                                "(unbalanced braces, a backslash or a newline)")
    return "{" + text + "}"


def yosys_word(value: str | Path) -> str:
    """``value`` as one argument of a yosys script command (double-quoted)."""
    text = str(value)
    if '"' in text or "\n" in text or ";" in text:
        raise ToolArgumentError(f"cannot pass {text!r} to yosys as one argument "
                                "(a double quote, a newline or a semicolon)")
    return f'"{text}"'
