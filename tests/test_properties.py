"""Inventory properties over random small relief scenarios on the embedded Helsinki network
(Hypothesis): stock never negative, every commodity conserved per depot, nobody relieved
faster than the nearest stocked depot can drive there, nothing delivered before onset."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.metrics import person_relief
from sim.model import simulate
from sim.model.records import Records
from sim.scenario import parse_scenario
from sim.world import World

EPS = 1e-6
COMMODITIES = [
    {"id": "kit", "unit_kg": 6, "per_person": 1, "main": True},
    {"id": "water", "unit_kg": 10, "per_person": 0.5, "main": True},
    {"id": "tent", "unit_kg": 20, "per_person": 0.25, "main": False},
]
TIERS = ["village", "town", "county", "enterprise", "city", "province"]

PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                             database=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def depots(draw: st.DrawFn, n_nodes: int) -> dict[str, Any]:
    contract = draw(st.booleans())
    stock = {c["id"]: draw(st.sampled_from([0, 0, 5, 40, 150, 600])) for c in COMMODITIES}
    depot: dict[str, Any] = {
        "tier": draw(st.sampled_from(TIERS)),
        "node": draw(st.integers(0, n_nodes - 1)),
        "stock": stock,
        "trucks": {"count": draw(st.integers(0, 3)),
                   "capacity_kg": draw(st.sampled_from([60, 500, 3000, 20000])),
                   "load_h": draw(st.sampled_from([0.0, 0.2, 0.5])),
                   "unload_h": draw(st.sampled_from([0.0, 0.1, 0.3]))},
    }
    if contract:
        depot.update(kind="contract",
                     activation_delay_h=draw(st.sampled_from([0.0, 1.0, 4.0])),
                     no_show_prob=draw(st.sampled_from([0.0, 0.5, 1.0])),
                     production_per_h={c["id"]: draw(st.sampled_from([0, 0, 20]))
                                       for c in COMMODITIES})
    return depot


@st.composite
def scenarios(draw: st.DrawFn, n_nodes: int) -> dict[str, Any]:
    """A random relief scenario (no rescue), as node indices still to be placed."""
    settlements = [{"node": draw(st.integers(0, n_nodes - 1)),
                    "people": draw(st.integers(1, 400)),
                    "onset_h": draw(st.sampled_from([0.0, 0.5, 2.0, 7.5])),
                    "urgency": draw(st.integers(1, 5))}
                   for _ in range(draw(st.integers(1, 4)))]
    disruptions = []
    if draw(st.booleans()):
        start = draw(st.sampled_from([0.0, 1.0, 3.0]))
        disruptions.append({"id": "cut", "window": {"start_h": start,
                                                    "end_h": start + draw(st.sampled_from(
                                                        [0.5, 4.0, 30.0]))},
                            "node": draw(st.sampled_from([settlements[0]["node"],
                                                          draw(st.integers(0, n_nodes - 1))])),
                            "radius_m": draw(st.sampled_from([80, 250]))})
    return {
        "horizon_h": draw(st.sampled_from([3.0, 8.0, 30.0])),
        "depots": [draw(depots(n_nodes)) for _ in range(draw(st.integers(1, 3)))],
        "settlements": settlements,
        "disruptions": disruptions,
        "policy": draw(st.sampled_from(["plan", "fcfs", "nearest_idle"])),
        "escalation": {t: draw(st.sampled_from([0.0, 0.5, 2.0])) for t in TIERS[1:]},
    }


def build(world: World, nodes: list[list[float]], spec: dict[str, Any]) -> World:
    data = {
        "name": "property", "seed": 11, "horizon_h": spec["horizon_h"],
        "network": {"source": "builtin:helsinki"},
        "commodities": COMMODITIES,
        "depots": [{"id": f"d{i}", "location": nodes[d.pop("node")], **d}
                   for i, d in enumerate(dict(d) for d in spec["depots"])],
        "settlements": [{"id": f"s{i}", "location": nodes[s.pop("node")], **s}
                        for i, s in enumerate(dict(s) for s in spec["settlements"])],
        "disruptions": [{**{k: v for k, v in d.items() if k != "node"}, "near": nodes[d["node"]]}
                        for d in spec["disruptions"]],
        "dispatch": {"policy": spec["policy"], "escalation_delay_h": spec["escalation"]},
    }
    return world.with_scenario(parse_scenario(data))


def earliest_possible_h(variant: World) -> pd.DataFrame:
    """Per settlement and commodity: the fastest any depot that ever has the commodity could
    bring it after onset on the open network (load + drive + unload); inf when none has it."""
    scenario = variant.scenario
    rows = []
    for s in scenario.settlements:
        for c in scenario.commodities:
            best = math.inf
            for d in scenario.depots:
                if d.stock.get(c.id, 0) <= 0 and d.production_per_h.get(c.id, 0) <= 0:
                    continue
                drive_h = float(variant.roads.from_node(variant.node(d.id))[variant.node(s.id)])
                best = min(best, d.trucks.load_h + drive_h + d.trucks.unload_h)
            rows.append((s.id, c.id, best))
    return pd.DataFrame(rows, columns=["settlement", "commodity", "bound_h"])


def check_inventory(variant: World, records: Records) -> None:
    scenario = variant.scenario
    ledger, stock = records.table("ledger"), records.table("stock")
    deliveries = records.table("deliveries")
    # never negative
    assert (stock.level >= -EPS).all()
    assert (ledger[["remaining", "in_transit", "delivered", "produced"]] >= -EPS).all().all()
    # conserved per depot and commodity, and the ledger agrees with the deliveries
    np.testing.assert_allclose(ledger.initial + ledger.produced,
                               ledger.delivered + ledger.in_transit + ledger.remaining,
                               rtol=0, atol=EPS)
    shipped = deliveries.groupby(["depot", "commodity"]).qty.sum()
    booked = ledger.set_index(["depot", "commodity"]).delivered
    np.testing.assert_allclose(shipped.reindex(booked.index, fill_value=0.0), booked, atol=EPS)
    for d in scenario.depots:
        mine = ledger[ledger.depot == d.id].set_index("commodity")
        for c in scenario.commodities:
            expected = d.stock.get(c.id, 0.0) if mine.activated[c.id] else 0.0
            assert mine.initial[c.id] == pytest.approx(expected)
            if d.kind == "physical" or not d.production_per_h.get(c.id):
                assert mine.produced[c.id] == 0
    if deliveries.empty:
        return
    # nothing before onset; no truck over capacity; nobody gets more than they need
    onset = {s.id: s.onset_h for s in scenario.settlements}
    assert (deliveries.dispatched_h >= deliveries.settlement.map(onset) - EPS).all()
    unit_kg = {c.id: c.unit_kg for c in scenario.commodities}
    capacity = {d.id: d.trucks.capacity_kg for d in scenario.depots}
    loads = (deliveries.qty * deliveries.commodity.map(unit_kg)).groupby(
        [deliveries.depot, deliveries.truck, deliveries.dispatched_h]).sum()
    assert (loads <= loads.index.get_level_values("depot").map(capacity) + EPS).all()
    need = {(s.id, c.id): s.people * c.per_person for s in scenario.settlements
            for c in scenario.commodities}
    got = deliveries.groupby(["settlement", "commodity"]).qty.sum()
    assert all(qty <= need[key] + EPS for key, qty in got.items())
    # no delivery faster than its own depot can load, drive (open roads) and unload
    specs = {d.id: d for d in scenario.depots}
    for row in deliveries.itertuples():
        d = specs[row.depot]
        drive_h = float(variant.roads.from_node(variant.node(d.id))[variant.node(row.settlement)])
        assert row.time_h >= row.dispatched_h + d.trucks.load_h + drive_h + d.trucks.unload_h - EPS
    # per person: relief no sooner than the nearest depot that had each commodity allows
    bound = earliest_possible_h(variant).set_index(["settlement", "commodity"]).bound_h
    relief = person_relief(records, scenario)
    for settlement, group in relief.groupby("settlement"):
        initial = max(bound[(settlement, c.id)] for c in scenario.commodities if c.main)
        effective = max(bound[(settlement, c.id)] for c in scenario.commodities)
        assert (group.initial_h >= initial - EPS).all()
        assert (group.effective_h >= effective - EPS).all()


@PROPERTY_SETTINGS
@given(data=st.data())
def test_inventory_properties_hold_for_random_scenarios(world: World, nodes: list[list[float]],
                                                        data: st.DataObject) -> None:
    variant = build(world, nodes, data.draw(scenarios(len(nodes))))
    replication = data.draw(st.integers(0, 3), label="replication")
    check_inventory(variant, simulate(variant, replication=replication))
