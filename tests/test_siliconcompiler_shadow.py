"""siliconcompiler.py at the repository root must not hide the real siliconcompiler package.

Both ways of starting Python from the root are checked in fresh interpreters, because the
shadowing depends on sys.path at start-up, which an in-process test cannot reproduce.
"""

from __future__ import annotations

import subprocess
import sys

from gptnano.paths import REPO_ROOT

PROBE = (
    "import siliconcompiler, os; "
    "print(os.path.dirname(os.path.abspath(siliconcompiler.__file__))); "
    "print(hasattr(siliconcompiler, 'ASIC'), hasattr(siliconcompiler, 'Design'))"
)


def run_python(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=300)


def test_import_from_repository_root_gets_the_real_package() -> None:
    result = run_python("-c", PROBE)
    assert result.returncode == 0, result.stderr
    package_dir, flags = result.stdout.strip().splitlines()[-2:]
    assert package_dir != str(REPO_ROOT)
    assert package_dir.endswith("siliconcompiler")
    assert flags == "True True"


def test_import_through_the_script_path_gets_the_real_package() -> None:
    """Code run with the repository root first on sys.path (as the script itself is)."""
    result = run_python("-c", f"import sys; sys.path.insert(0, {str(REPO_ROOT)!r}); {PROBE}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "True True"


def test_flow_script_runs_as_a_script() -> None:
    result = run_python("siliconcompiler.py", "--help")
    assert result.returncode == 0, result.stderr
    assert "--design" in result.stdout
