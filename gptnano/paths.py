"""Where things are: the repository, the build tree and the shared data (PDK, corpora).

One setting locates everything outside the repository: the environment variable
``GPTNANO_SHARED`` (default: ``../shared`` next to the repository root). The sky130 PDK is
``$GPTNANO_SHARED/pdk``. No machine-specific path is written anywhere else in the code.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_ENV = "GPTNANO_SHARED"


class MissingDataError(FileNotFoundError):
    """A file the project needs is not where the settings say it is."""


def shared_root() -> Path:
    """The shared data folder: ``$GPTNANO_SHARED`` or ``<repo>/../shared``."""
    value = os.environ.get(SHARED_ENV)
    root = Path(value).expanduser() if value else REPO_ROOT.parent / "shared"
    return root.resolve()


def pdk_root() -> Path:
    """The sky130 PDK data (lambdapdk + open_pdks layout) inside the shared folder."""
    return shared_root() / "pdk"


def build_root() -> Path:
    """Where runs write their results (``GPTNANO_BUILD`` or ``<repo>/build``)."""
    value = os.environ.get("GPTNANO_BUILD")
    return Path(value).expanduser().resolve() if value else REPO_ROOT / "build"


def require(path: Path, what: str) -> Path:
    """Return ``path`` if it exists, else raise an error that names it and the setting to fix."""
    if not path.exists():
        raise MissingDataError(
            f"{what} not found at {path}. Set {SHARED_ENV} to the folder that holds 'pdk/' "
            f"(currently {shared_root()})."
        )
    return path


def lambdapdk_root() -> Path:
    """The folder SiliconCompiler's ``lambdapdk`` data root points at.

    It holds ``lambdapdk/sky130``.
    """
    return require(pdk_root() / "lambdapdk", "lambdapdk data root")


def sky130hd_dir() -> Path:
    """The sky130_fd_sc_hd standard-cell library folder (lambdapdk layout)."""
    hd = lambdapdk_root() / "lambdapdk" / "sky130" / "libs" / "sky130hd"
    return require(hd, "sky130hd library")


def sky130_base_dir() -> Path:
    """The sky130 technology folder (tech LEF, Magic/Netgen/KLayout setup; lambdapdk layout)."""
    return require(lambdapdk_root() / "lambdapdk" / "sky130" / "base", "sky130 base PDK")


def open_pdks_dir() -> Path:
    """open_pdks' sky130 sources (KLayout DRC deck, Magic tech, Netgen setup, qflow templates)."""
    return require(pdk_root() / "open_pdks" / "sky130", "open_pdks sky130 data")
