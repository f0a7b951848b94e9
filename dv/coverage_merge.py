"""Merge the functional coverage of several runs into one report with the uncovered bins.

Each simulation run writes its own ``coverage.yml`` (cocotb-coverage's export); a regression is
many runs, so ``python -m dv.coverage_merge [prefix]`` sums the hits per bin over
``build/dv/runs/<prefix>*/coverage.yml`` and writes ``build/dv/coverage_<prefix>merged.txt``.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import yaml

from dv.sim import dv_root

HITS = "bins:_hits"


def merge(files: list[Path]) -> dict[str, dict[str, int]]:
    """{cover item: {bin: total hits}} over the given coverage.yml files."""
    if not files:
        raise FileNotFoundError("no coverage.yml files to merge")
    total: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for f in files:
        data = yaml.safe_load(f.read_text())
        if not isinstance(data, dict):
            raise ValueError(f"{f}: not a cocotb-coverage YAML export")
        for name, item in data.items():
            for label, hits in (item.get(HITS) or {}).items():
                total[name][str(label)] += int(hits)
    return total


def write_merged(prefix: str = "") -> tuple[Path, list[str]]:
    files = sorted((dv_root() / "runs").glob(f"{prefix}*/coverage.yml"))
    total = merge(files)
    lines = [f"merged coverage of {len(files)} runs ({prefix or 'all'}*)"]
    uncovered = []
    for name in sorted(total):
        bins = total[name]
        hit = sum(1 for h in bins.values() if h)
        lines.append(f"{name}: {hit}/{len(bins)} bins")
        for label, hits in bins.items():
            lines.append(f"    {label:<28} {hits}")
            if not hits:
                uncovered.append(f"{name}:{label}")
    lines += ["", f"uncovered bins ({len(uncovered)}):"] + [f"    {u}" for u in uncovered]
    out = dv_root() / f"coverage_{prefix}merged.txt"
    out.write_text("\n".join(lines) + "\n")
    return out, uncovered


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    out, uncovered = write_merged(args[0] if args else "")
    print(f"{out}: {len(uncovered)} uncovered bins")
    for u in uncovered:
        print(f"  {u}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
