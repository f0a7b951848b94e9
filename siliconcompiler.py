"""gpt-nano-asic flow script: ``python siliconcompiler.py --design probe`` runs RTL to GDSII.

This file shares its name with the ``siliconcompiler`` package, and Python puts the script's
folder (or the current folder) first on ``sys.path``. So whenever this file is imported under the
name ``siliconcompiler`` -- by ``python siliconcompiler.py`` itself or by any code started from
the repository root -- it replaces itself in ``sys.modules`` with the real package, found on the
path without the repository root. Run as a script, it then hands over to ``flow.cli.main``.
"""

from __future__ import annotations

import importlib
import os
import sys


def _load_real_package() -> object:
    here = os.path.dirname(os.path.abspath(__file__))

    def is_here(entry: str) -> bool:
        return os.path.abspath(entry or os.getcwd()) == here

    saved_path = sys.path[:]
    shadow = sys.modules.pop(__name__, None)
    try:
        sys.path[:] = [p for p in sys.path if not is_here(p)]
        real = importlib.import_module("siliconcompiler")
    except ImportError:
        if shadow is not None:
            sys.modules[__name__] = shadow
        raise
    finally:
        sys.path[:] = saved_path
    return real


if __name__ == "siliconcompiler":
    sys.modules[__name__] = _load_real_package()
elif __name__ == "__main__":
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.getcwd())
                   != os.path.dirname(os.path.abspath(__file__))]
    sys.path.append(os.path.dirname(os.path.abspath(__file__)))  # the project's own packages
    from flow.cli import main

    sys.exit(main())
