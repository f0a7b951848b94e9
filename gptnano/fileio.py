"""Atomic file writing: results other processes read while a run may still be writing them.

Several flow nodes, the nightly regression and the dashboard read files that another process
writes (cached Liberty views, ``metrics.json`` of a running node, ``signoff.json``,
``rules.json``). Writing to a temporary file in the same folder and renaming it over the target
(``os.replace``, atomic on POSIX within one file system) means a reader sees the old file or
the new one, never half of one; a crash leaves at most a stray ``.<name>.<pid>.tmp``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file + rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def atomic_write_json(path: Path, data: Any, indent: int = 2, newline: bool = True,
                      default: Any = None) -> None:
    """``data`` as JSON (``indent``, a final newline when ``newline``), written atomically."""
    atomic_write(path, json.dumps(data, indent=indent, default=default)
                 + ("\n" if newline else ""))


def read_json_object(path: Path, error: type[Exception]) -> dict[str, Any]:
    """A JSON file holding an object, or ``error`` with one line naming the file (bad JSON,
    or a list/number where an object belongs). Also for files written atomically above."""
    try:
        data = json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise error(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise error(f"{path}: expected a JSON object")
    return data
