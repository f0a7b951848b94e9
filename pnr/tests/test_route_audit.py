"""The router's self-audit (:mod:`pnr.engine.route_audit`) and the rip-up transaction bug it
was written for.

Job s45r (``small`` at 890e479) failed signoff on two met1.2 errors that the route step had
made: n_2847's mcon pad at node (673, 235) and n_2838's at (673, 234), 0.121 um apart.  Both
pads had passed ``route_core.pad_fits``, but never against each other: a rip-up transaction
of round 2 (n_2847 failed, n_2838 in its way) ping-ponged the two nets through its chain, and
the undo put back n_2838's route from chain step 2 and n_2847's from step 1 -- n_2847 had been
*unrouted* before the transaction, but once it became a victim its in-transaction route was
recorded as "the old route" (``saved[v]`` was overwritten whenever a net was ripped up again).
The undo thus reported a failed net as routed, with geometry never checked against its
neighbour.  The same slip made job s45's LVS short (n_2265 and w_q0_2_ drawn on the same
pads; the audit finds 12 shorts and 14 spacing errors in that route output).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pnr.engine import library, route_audit, tech
from pnr.engine.floorplan import build_floorplan
from pnr.engine.layout import Layout
from pnr.engine.route import Router

P = library.PREFIX


def _route(*vias: list) -> dict:
    return {"segs": [], "vias": [list(v) for v in vias], "patches": []}


def test_audit_finds_the_s45r_pads() -> None:
    """The two mcons of job s45r, as the route step wrote them: one met1 error of 0.121 um.
    Moved one node apart, or on one net, they are clean; drawn on the same node they short."""
    routes = {"n_2838": _route(["L1M1", 673, 234, 230]),
              "n_2847": _route(["L1M1", 673, 235, -110])}
    (v,) = route_audit.audit(routes)
    assert v.layer == "met1" and {v.net_a, v.net_b} == {"n_2838", "n_2847"}
    assert round(v.gap) == 121  # hypot(50, 110) nm, as KLayout measured
    assert {v.rect_a, v.rect_b} == {(309895, 79615, 310185, 79845),
                                    (309555, 79955, 309845, 80185)}
    assert route_audit.audit({"n_2838": routes["n_2838"],
                              "n_2847": _route(["L1M1", 673, 236, -110])}) == []
    assert route_audit.audit({"n": _route(["L1M1", 673, 234, 230], ["L1M1", 673, 235, -110])}) \
        == []
    (short,) = route_audit.audit({"a": _route(["M1M2", 10, 10]), "b": _route(["M1M2", 10, 10])}
                                 )[:1]
    assert short.gap == 0 and "short" in short.line()
    # wires: met2 on adjacent tracks (0.46 um pitch) are legal; a met3 wire beside a met3 pad
    # on the next odd row (0.34 um) is not
    assert route_audit.audit({"a": {"segs": [["met2", 5, 0, 5, 9]], "vias": []},
                              "b": {"segs": [["met2", 6, 0, 6, 9]], "vias": []}}) == []
    bad = route_audit.audit({"a": {"segs": [["met3", 0, 2, 8, 2]], "vias": []},
                             "b": {"segs": [], "vias": [["M2M3", 4, 3]]}})
    assert {v.layer for v in bad} == {"met3"}


def _small_layout(tmp_path: Path) -> Layout:
    """Two gates in one row, every pin on its own net (nets to the ports)."""
    text = f"""module duo(a, b, c, d, x, y);
input a; input b; input c; input d; output x; output y;
{P}nand2_1 u1 (.A(a), .B(b), .Y(x));
{P}nor2_1 u2 (.A(c), .B(d), .Y(y));
endmodule
"""
    (tmp_path / "duo.vg").write_text(text)
    layout = build_floorplan("duo", tmp_path / "duo.vg", {"core_utilization": 0.1,
                                                          "core_margin_um": 10})
    y, orient = layout.rows[1]
    x = layout.core[0] + 4 * tech.SITE_W
    for c in layout.components:
        if c.name in ("u1", "u2"):
            c.x, c.y, c.orient, c.placed = x, y, orient, True
            x += library.cells()[c.cell].width + 2 * tech.SITE_W
    return layout


def _state(router: Router) -> tuple:
    s = router.s
    return (s.owner.copy(), s.pads_net.copy(), s.pads_rect.copy(), s.mcon_x.copy(),
            s.mcon.copy(), {n: [list(p) for p in ps] for n, ps in router.paths.items()},
            {n: dict(a) for n, a in router.access.items()})


def test_undone_transaction_puts_back_the_state_before_it(tmp_path: Path) -> None:
    """The s45r chain, scripted: failed net `a` and routed net `b` are each other's only
    obstacle; every reroute of the victim fails, so the chain ping-pongs a -> b -> a for its
    three steps and ends with `b` failed.  `b` has the larger bounding box, so the transaction
    is undone, and the router must then hold exactly what it held before it: `a` unrouted,
    `b` on its old route.  (Before the fix `a` came back routed, on the route of chain step 1,
    next to `b`'s route of step 2.)"""
    router = Router(_small_layout(tmp_path))
    assert router.run() == []
    ids = sorted(router.paths, key=lambda n: (router._hpwl(n), n))
    a, b = ids[0], ids[-1]          # (hpwl, id) of a < that of b: moving the failure onto b
    assert (router._hpwl(a), a) < (router._hpwl(b), b)  # ... does not count as progress
    router.rip_up(a)
    before = _state(router)
    spot = {a: router.paths[b][0][0], b: router.paths[b][0][0]}
    calls = []
    real_route = Router.route_net

    def probe(n: int) -> dict[int, set[int]]:
        return {spot[n]: {b if n == a else a}}

    def route_net(n: int) -> bool:
        calls.append(n)
        if len(calls) % 2 == 0:       # every victim's reroute fails
            router.paths[n], router.access[n] = [], {}
            router.rip_up(n)
            router.unreached = []
            return False
        return real_route(router, n)

    router._probe = probe
    router.route_net = route_net
    lost, ripped = router._negotiate(a, 0)
    assert calls == [a, b, b, a, a, b]           # three chain steps, as in job s45r
    assert ripped == 3 and lost == [a]           # undone: a is still the failed net
    after = _state(router)
    assert a not in router.paths and b in router.paths
    for x, y in zip(before[:5], after[:5], strict=True):
        assert np.array_equal(x, y)
    assert before[5:] == after[5:]


def test_routed_pair_passes_the_audit(tmp_path: Path) -> None:
    router = Router(_small_layout(tmp_path))
    assert router.run() == []
    routes = router.geometry()
    assert routes and route_audit.audit(routes) == []
    assert route_audit.report([]).startswith("different-net spacing violations 0")
