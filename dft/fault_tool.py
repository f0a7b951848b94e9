"""Running the Fault binary (PyPI ``fault-dft``) reliably.

``fault`` is a Swift executable that embeds Python (PythonKit) to import Pyverilog. The embedded
interpreter does not see the virtualenv's site-packages, so it fails with "No module named
'pyverilog'" unless ``PYTHONPATH`` names them; :func:`fault_env` adds them. Every run writes its
full log next to the outputs, and a failure raises with the log's tail and path.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from gptnano.step import StepError


def fault_executable() -> str:
    """The ``fault`` entry point of this interpreter's environment (or PATH)."""
    candidate = Path(sys.executable).parent / "fault"
    if candidate.is_file():
        return str(candidate)
    found = shutil.which("fault")
    if found is None:
        raise StepError("the Fault binary is not installed (pip install fault-dft)")
    return found


def fault_env() -> dict[str, str]:
    env = dict(os.environ)
    site = sysconfig.get_paths()["purelib"]
    env["PYTHONPATH"] = os.pathsep.join(p for p in (site, env.get("PYTHONPATH", "")) if p)
    return env


def run_fault(args: list[str], log: Path, cwd: Path) -> str:
    """Run ``fault <args>``; return its output, raise :class:`StepError` on failure."""
    cmd = [fault_executable(), *args]
    proc = subprocess.run(cmd, cwd=cwd, env=fault_env(), capture_output=True, text=True)
    output = proc.stdout + proc.stderr
    log.write_text(f"$ {' '.join(cmd)}\n{output}")
    # Fault sometimes reports errors with exit code 0; its messages start with these words.
    failed = proc.returncode != 0 or any(
        line.startswith(("Error", "Internal error", "[Error]", "Python exception"))
        for line in output.splitlines()
    )
    if failed:
        tail = "\n".join(output.splitlines()[-15:])
        raise StepError(f"fault {args[0]} failed (exit {proc.returncode}); log: {log}\n{tail}")
    return output
