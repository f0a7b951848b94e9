"""bench_spef's reading of Magic's hierarchical .ext: what a net's "Magic total" sums.

Why: the comparison with our SPEF is only fair when Magic's figure holds the wire load alone.
The cells' own pin capacitance (their .ext files, which Liberty's pin capacitance covers) is
not read; the top cell's node C, its ``cap`` entries (negative ones included: Magic's
flat-minus-cells correction where wires overlap cells) and the ``merge`` lines' substrate
adjustments are."""

from __future__ import annotations

from pathlib import Path

import pytest

from pnr.engine import bench_spef

EXT = """scale 1000 1 5
node "n1" 10 2000 100 200 m1 0 0
node "n2" 10 500 300 200 m1 0 0
node "VGND" 10 9000 0 0 m1 0 0
merge "u1/A" "n1" -300.5 0 0
merge "u2/Y" "u1/A"
merge "u3/A" "n2" -100 0 0
cap "u1/A" "VGND" 700
cap "n1" "u3/A" 250
cap "u1/A" "u2/Y" 99
cap "n1" "u4/a_1_2#" -50
"""


def test_magic_total_is_parent_level_with_merge_adjustments(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.setattr(bench_spef, "run_magic", lambda *a, **k: None)
    (tmp_path / "top.ext").write_text(EXT)
    nodes = bench_spef.magic_nodes(tmp_path / "top.gds", "top", tmp_path)
    # fF: n1 = 2000 substrate - 300.5 merge + 700 (rail, via its pin u1/A) + 250 (n2) - 50
    # (a cell's internal node, the parent's correction); u1/A-u2/Y is inside one node: left out
    assert nodes["n1"][1] == pytest.approx(2.0)
    assert nodes["n1"][5] == pytest.approx((2000 - 300.5 + 700 + 250 - 50) / 1000)
    assert nodes["n2"][5] == pytest.approx((500 - 100 + 250) / 1000)
    assert (nodes["n1"][2], nodes["n1"][3], nodes["n1"][4]) == (500, 1000, "m1")
