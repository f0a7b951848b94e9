"""`make help` lists every target of the Makefile with its description (nothing hidden)."""

from __future__ import annotations

import re
import subprocess

from gptnano.paths import REPO_ROOT


def test_make_help_lists_every_target() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text()
    targets = re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.M)
    out = subprocess.run(["make", "-s", "help"], cwd=REPO_ROOT, capture_output=True, text=True,
                         check=True).stdout
    listed = {line.split()[0] for line in out.splitlines()[1:] if line.strip()}
    assert set(targets) == listed, set(targets) ^ listed
    for line in out.splitlines()[1:]:
        assert len(line.split(None, 1)) == 2, f"target without a description: {line!r}"
