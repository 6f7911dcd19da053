"""The dispatchers choose what their documented rules say (Hypothesis, Helsinki network).

The property tests in ``test_properties.py`` only bound results from below (nothing arrives
sooner than possible), so a dispatcher that picks a *slower* unit or depot, ignores
mobilisation or opens a tier too early or too late passes them. Here every choice in the
records is checked against a brute-force enumeration of the alternatives with the travel-time
engine, on random small scenarios with non-zero mobilisation and load/unload times:

* **Rescue** (先近后远): each incident gets, among the free units that can serve it, the one
  with the earliest arrival — mobilisation + travel under the current road state (ties by unit
  name); the work served first is the first in the policy's order (``plan``: most urgent, then
  first called; ``fcfs``: first called) or, under ``nearest_idle``, the (work, unit) pair with
  the earliest arrival of all; and no unit that could serve waiting work sits idle.
* **Relief** (小事不出村、大事不出镇, then 先近后远): a request may use a tier only after
  escalating to it — each step after the delay of the tier it opens, and only when the stock
  left in the tiers it may already use cannot cover what it still needs; among the depots of its
  allowed tiers with an idle truck and stock, the one whose truck arrives first (loading +
  drive under the current road state, ties by depot id) serves it; requests are served in the
  policy's order; a depot's idle trucks leave in the order they became idle (first truck first).

The state at the moment of each dispatch (stock levels, idle trucks, open requests) is rebuilt
from the records (stock, deliveries, trips tables). Where several things happen at the same
instant and their order cannot be told from the records, the alternative is left out, so every
assertion is one the documented rule implies.

Relief choices are checked with random, non-zero loading times per depot, so a nearer depot
with a slow loading crew must lose to a farther, quicker one; ``test_relief_prefers_the_depot_
that_delivers_first`` pins that case, and ``test_stock_no_truck_can_carry_does_not_hold_back_
escalation`` that stock no truck can carry does not hold back escalation.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import simpy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sim.model import simulate
from sim.model.incidents import Incident, sample_incidents
from sim.model.policies import make_policy
from sim.model.records import Records
from sim.model.relief import EPS, SAME_TIME_H, Relief, Request
from sim.model.roads import RoadState
from sim.network import edges_near, haversine_m
from sim.scenario import TIERS, IncidentType, load_scenario, parse_scenario
from sim.validation import SCENARIOS_DIR
from sim.world import World, build_world

TOL = 1e-7  # for times the model and the brute force compute along different float paths
LEVEL_EPS = 1e-6  # "has stock" / "still needs something" with margin over the model's 1e-9
RIVER_DETOUR = 1.4  # README: without a waterway graph, river distance = straight line × 1.4

CHOICE_SETTINGS = settings(max_examples=500, deadline=None, derandomize=True, database=None,
                           suppress_health_check=[HealthCheck.too_slow,
                                                  HealthCheck.filter_too_much])


def lex_less(a: tuple[float, str], b: tuple[float, str]) -> bool:
    """(time, name) ordering with a float tolerance on the time."""
    if a[0] < b[0] - 1e-9:
        return True
    return abs(a[0] - b[0]) <= 1e-9 and a[1] < b[1]


def slowdown_edges(world: World, spec: dict[str, Any] | None) -> dict[int, float]:
    if spec is None:
        return {}
    edges = edges_near(world.road, np.asarray(spec["near"], dtype=float), spec["radius_m"])
    return {int(e): float(spec["factor"]) for e in edges}


def travel_rows(world: World, slow: dict[int, float], origins: set[int]
                ) -> dict[int, np.ndarray]:
    """Drive times (h) from each origin under the road state the scenario has all along."""
    engine = world.roads
    engine.set_state((), slow)
    try:
        return {n: np.array(engine.from_node(n)) for n in origins}
    finally:
        engine.set_state()


@st.composite
def slowdowns(draw: st.DrawFn, n_nodes: int) -> dict[str, Any] | None:
    """Optionally, a slow-down around a node for the whole run (so choices must use it)."""
    if draw(st.integers(0, 3)) == 0:
        return None
    return {"node": draw(st.integers(0, n_nodes - 1)),
            "radius_m": draw(st.sampled_from([120.0, 250.0, 400.0])),
            "factor": draw(st.sampled_from([3.0, 8.0]))}


def disruptions_of(spec: dict[str, Any] | None, nodes: list[list[float]]) -> list[dict]:
    if spec is None:
        return []
    return [{"id": "slow", "window": {"start_h": 0.0}, "near": nodes[spec["node"]],
             "radius_m": spec["radius_m"], "factor": spec["factor"]}]


# == rescue ===================================================================================

MOBILISATION = [0.05, 0.08, 0.1, 0.15, 0.2, 0.35, 0.5]


@st.composite
def rescue_specs(draw: st.DrawFn, n_nodes: int) -> dict[str, Any]:
    """Team bases, harbours/river stations and helipads with non-zero mobilisation, and
    scripted incidents that each need one unit (so every trip serves exactly one incident;
    random work times tell the incidents apart)."""
    node = st.integers(0, n_nodes - 1)
    bases = []
    for _ in range(draw(st.integers(1, 3))):
        types = ["fire", "medical"][:draw(st.integers(1, 2))] if draw(st.integers(0, 4)) else [
            "medical"]
        bases.append({"node": draw(node), "teams": [
            {"type": t, "count": draw(st.integers(1, 2)),
             "mobilisation_h": draw(st.sampled_from(MOBILISATION))} for t in types]})
    stations = [{"node": draw(node), "sea": draw(st.booleans()),
                 "boats": {"count": draw(st.integers(1, 2)),
                           "speed_kmh": draw(st.sampled_from([15.0, 30.0, 50.0])),
                           "mobilisation_h": draw(st.sampled_from(MOBILISATION))}}
                for _ in range(draw(st.integers(0, 2)))]
    pads = [{"node": draw(node),
             "helicopters": {"count": draw(st.integers(1, 2)),
                             "speed_kmh": draw(st.sampled_from([120.0, 250.0])),
                             "mobilisation_h": draw(st.sampled_from(MOBILISATION))}}
            for _ in range(draw(st.integers(0, 1)))]
    teams = {g["type"] for b in bases for g in b["teams"]}
    types = []  # (id, mode, team)
    if "fire" in teams:
        types += [("blaze", "road", "fire"), ("crash", "road", "fire")]
    if "medical" in teams:
        types.append(("sick", "road", "medical"))
    if pads:  # helicopters fly to any scene, at sea too
        types += [("medevac", "road", "helicopter"), ("airlift", "sea", "helicopter")]
    if any(s["sea"] for s in stations):
        types.append(("ship", "sea", "boat"))
    if any(not s["sea"] for s in stations):
        types.append(("canal", "river", "boat"))
    incident_types = [{"id": i, "mode": mode, "needs": [{"team": team}],
                       "urgency": draw(st.integers(1, 5)),
                       "work_h": draw(st.sampled_from([0.1, 0.4, 1.0])), "work_cv": 0.5}
                      for i, mode, team in types]
    n_incidents = draw(st.integers(2, 7))
    places = draw(st.lists(node, min_size=n_incidents, max_size=n_incidents, unique=True))
    incidents = [{"id": f"i{k:02d}", "type": draw(st.sampled_from([t[0] for t in types])),
                  "node": places[k], "time_h": draw(st.integers(1, 40)) * 0.05}
                 for k in range(n_incidents)]
    return {"bases": bases, "stations": stations, "pads": pads, "types": incident_types,
            "incidents": incidents, "slow": draw(slowdowns(n_nodes)),
            "policy": draw(st.sampled_from(["plan", "fcfs", "nearest_idle"]))}


def build_rescue(world: World, nodes: list[list[float]], spec: dict[str, Any]) -> World:
    data = {
        "name": "rescue choices", "seed": 5, "horizon_h": 200.0,
        "network": {"source": "builtin:helsinki"},
        "commodities": [{"id": "kit"}],
        "team_bases": [{"id": f"b{i}", "location": nodes[b["node"]], "teams": b["teams"]}
                       for i, b in enumerate(spec["bases"])],
        "water_stations": [{"id": f"w{i}", "location": nodes[s["node"]], "sea": s["sea"],
                            "boats": s["boats"]} for i, s in enumerate(spec["stations"])],
        "helipads": [{"id": f"h{i}", "location": nodes[p["node"]],
                      "helicopters": p["helicopters"]} for i, p in enumerate(spec["pads"])],
        "incident_types": spec["types"],
        "incidents": [{"id": i["id"], "type": i["type"], "location": nodes[i["node"]],
                       "time_h": i["time_h"]} for i in spec["incidents"]],
        "disruptions": disruptions_of(spec["slow"], nodes),
        "dispatch": {"policy": spec["policy"]},
    }
    return world.with_scenario(parse_scenario(data))


@dataclass(frozen=True)
class Unit:
    name: str
    team: str
    mode: str  # road | river | sea | air
    node: int
    lon: float
    lat: float
    speed_kmh: float
    mobilisation_h: float


def units_of(variant: World) -> list[Unit]:
    """Every unit of the scenario, named as the trips table names them."""
    sc, units = variant.scenario, []
    for base in sc.team_bases:
        site = variant.sites[base.id]
        for group in base.teams:
            units += [Unit(f"{base.id}/{group.type}{i + 1}", group.type, "road", site.node,
                           site.lon, site.lat, math.nan, group.mobilisation_h)
                      for i in range(group.count)]
    for station in sc.water_stations:
        site = variant.sites[station.id]
        units += [Unit(f"{station.id}/boat{i + 1}", "boat", "sea" if station.sea else "river",
                       site.node, site.lon, site.lat, station.boats.speed_kmh,
                       station.boats.mobilisation_h) for i in range(station.boats.count)]
    for pad in sc.helipads:
        site = variant.sites[pad.id]
        units += [Unit(f"{pad.id}/helicopter{i + 1}", "helicopter", "air", site.node, site.lon,
                       site.lat, pad.helicopters.speed_kmh, pad.helicopters.mobilisation_h)
                  for i in range(pad.helicopters.count)]
    return units


@dataclass(eq=False)
class Mission:
    unit: Unit
    incident: Incident
    start_h: float
    end_h: float


class RescueOracle:
    """Brute-force arrival times of every unit at every incident."""

    def __init__(self, variant: World, incidents: list[Incident], slow: dict[int, float]):
        self.kinds: dict[str, IncidentType] = {
            i.id: variant.scenario.incident_type(i.type) for i in incidents}
        self.units = units_of(variant)
        origins = {u.node for u in self.units} | {i.road_node for i in incidents}
        self.rows = travel_rows(variant, slow, origins)

    def eligible(self, unit: Unit, incident: Incident) -> bool:
        """Right team type; boats at sea only for sea work, river boats never at sea."""
        kind = self.kinds[incident.id]
        if unit.team != kind.needs[0].team:
            return False
        return unit.mode in ("road", "air") or (unit.mode == "sea") == (kind.mode == "sea")

    def _leg_h(self, unit: Unit, incident: Incident) -> float:
        if unit.mode == "road":
            return float(self.rows[unit.node][incident.road_node])
        km = float(haversine_m(unit.lon, unit.lat, incident.lon, incident.lat)) / 1000.0
        if unit.mode == "river":
            km *= RIVER_DETOUR
        return km / unit.speed_kmh

    def arrival_h(self, unit: Unit, incident: Incident) -> float:
        """Hours from dispatch to arrival: mobilisation + travel."""
        return unit.mobilisation_h + self._leg_h(unit, incident)

    def back_h(self, unit: Unit, incident: Incident) -> float:
        if unit.mode == "road":
            return float(self.rows[incident.road_node][unit.node])
        return self._leg_h(unit, incident)


def check_rescue_choices(variant: World, records: Records, replication: int,
                         slow: dict[int, float]) -> None:
    sc = variant.scenario
    policy = sc.dispatch.policy
    incidents = sample_incidents(variant, seed=sc.seed, replication=replication)
    seq = {inc.id: k for k, inc in enumerate(incidents)}  # needs are raised in this order
    oracle = RescueOracle(variant, incidents, slow)
    units = {u.name: u for u in oracle.units}
    table = records.table("incidents").set_index("incident")
    assert sorted(table.index) == sorted(seq)
    assert np.isfinite(table.done_h).all(), "every incident is served within the horizon"

    # Which incident each trip served: its arrival and its return both fit.
    missions: dict[str, Mission] = {}
    by_unit: dict[str, list[Mission]] = defaultdict(list)
    for trip in records.trips:
        unit = units[trip.vehicle]
        fits = [inc for inc in incidents if oracle.eligible(unit, inc)
                and abs(trip.start_h + oracle.arrival_h(unit, inc)
                        - table.first_arrival_h[inc.id]) < TOL
                and abs(trip.end_h - oracle.back_h(unit, inc) - table.done_h[inc.id]) < TOL]
        assert len(fits) == 1, f"trip {trip} fits incidents {[i.id for i in fits]}"
        (inc,) = fits
        assert inc.id not in missions
        assert trip.start_h >= inc.call_h - TOL
        missions[inc.id] = Mission(unit, inc, trip.start_h, trip.end_h)
        by_unit[unit.name].append(missions[inc.id])
    assert set(missions) == set(seq), "each incident got exactly one unit"

    def work_key(inc: Incident) -> tuple[Any, ...]:
        if policy == "plan":
            return (-oracle.kinds[inc.id].urgency, inc.call_h, seq[inc.id])
        return (inc.call_h, seq[inc.id])

    def choice_key(m: Mission) -> tuple[float, str]:
        return (oracle.arrival_h(m.unit, m.incident), m.unit.name)

    def instant_order(m: Mission) -> tuple[Any, ...]:
        """Order of the dispatches made at one instant (one dispatcher pass)."""
        if policy == "nearest_idle":  # the best pair left only gets worse within a pass
            return (*choice_key(m), work_key(m.incident))
        return work_key(m.incident)

    def surely_free(unit: Unit, m: Mission) -> bool:
        """Whether ``unit`` was free when ``m`` was dispatched (False when unsure)."""
        if unit is m.unit:
            return True
        t = m.start_h
        for other in by_unit[unit.name]:
            if abs(other.end_h - t) < TOL:
                return False  # came back at that instant: order unknown
            if other.start_h < t - TOL and other.end_h > t + TOL:
                return False
            if abs(other.start_h - t) < TOL and instant_order(other) < instant_order(m):
                return False
        return True

    def waiting(inc: Incident, m: Mission) -> bool:
        """Whether ``inc`` was waiting for a unit when ``m`` was dispatched."""
        other = missions[inc.id]
        if other is m or inc.call_h > m.start_h + TOL:
            return False
        return other.start_h > m.start_h + TOL or (
            abs(other.start_h - m.start_h) < TOL and instant_order(other) > instant_order(m))

    for m in missions.values():
        inc, chosen = m.incident, choice_key(m)
        # the earliest arrival among the free units that can serve (先近后远)
        for unit in oracle.units:
            if unit is not m.unit and oracle.eligible(unit, inc) and surely_free(unit, m):
                alt = (oracle.arrival_h(unit, inc), unit.name)
                assert not lex_less(alt, chosen), (
                    f"{inc.id} at {m.start_h:.4f} h got {m.unit.name} (arrives after "
                    f"{chosen[0]:.4f} h) while {unit.name} was free (arrives after {alt[0]:.4f} h)")
        # the work served first is the one the policy puts first
        for other in incidents:
            if not waiting(other, m):
                continue
            if policy == "nearest_idle":
                for unit in oracle.units:
                    if oracle.eligible(unit, other) and surely_free(unit, m):
                        alt = (oracle.arrival_h(unit, other), unit.name)
                        assert not lex_less(alt, chosen), (
                            f"nearest_idle sent {m.unit.name} to {inc.id} ({chosen[0]:.4f} h) "
                            f"while {unit.name} could reach {other.id} in {alt[0]:.4f} h")
            elif oracle.eligible(m.unit, other):
                assert work_key(inc) < work_key(other), (
                    f"{policy}: {m.unit.name} went to {inc.id} while {other.id}, first in "
                    "the policy's order, waited")
    # work conserving: a unit that could serve waiting work is never idle meanwhile
    for inc in incidents:
        m = missions[inc.id]
        if m.start_h <= inc.call_h + TOL:
            continue
        for unit in oracle.units:
            if not oracle.eligible(unit, inc):
                continue
            cursor = inc.call_h
            for other in sorted(by_unit[unit.name], key=lambda o: o.start_h):
                if other.start_h <= cursor + TOL and other.end_h > cursor:
                    cursor = other.end_h
            assert cursor >= m.start_h - TOL, (
                f"{unit.name} was idle at {cursor:.4f} h while {inc.id} (called "
                f"{inc.call_h:.2f} h) waited until {m.start_h:.4f} h")


@CHOICE_SETTINGS
@given(data=st.data())
def test_rescue_sends_the_free_unit_that_arrives_first(world: World, nodes: list[list[float]],
                                                       data: st.DataObject) -> None:
    spec = data.draw(rescue_specs(len(nodes)))
    variant = build_rescue(world, nodes, spec)
    replication = data.draw(st.integers(0, 2), label="replication")
    records = simulate(variant, replication=replication)
    slow = slowdown_edges(variant, variant.scenario.disruptions[0].model_dump()
                          if spec["slow"] else None)
    check_rescue_choices(variant, records, replication, slow)


def test_equally_near_bases_send_the_unit_first_by_name(world: World,
                                                       nodes: list[list[float]]) -> None:
    """Two bases at one place, listed against the order of their names: the unit whose name
    comes first goes (the stable tie-break), whatever the order of the scenario's list."""
    team = {"type": "fire", "count": 1, "mobilisation_h": 0.1}
    spec = {"bases": [{"node": 10, "teams": [team]}, {"node": 10, "teams": [team]}],
            "stations": [], "pads": [],
            "types": [{"id": "blaze", "mode": "road", "needs": [{"team": "fire"}],
                       "work_h": 0.5, "work_cv": 0.0}],
            "incidents": [{"id": "i1", "type": "blaze", "node": 200, "time_h": 1.0}],
            "slow": None, "policy": "plan"}
    variant = build_rescue(world, nodes, spec)
    reversed_bases = list(reversed(variant.scenario.team_bases))  # b1 listed before b0
    variant = variant.with_scenario(
        variant.scenario.model_copy(update={"team_bases": reversed_bases}))
    records = simulate(variant, replication=0)
    assert [t.vehicle for t in records.trips] == ["b0/fire1"]


@pytest.mark.parametrize("ratio", [0.75, 1.25])
def test_rescue_counts_mobilisation_once(world: World, nodes: list[list[float]],
                                         ratio: float) -> None:
    """A scripted instance of the rule: the nearer base takes longer to mobilise by ``ratio`` ×
    the extra drive from the farther base. At 0.75 the nearer team still arrives first, at
    1.25 the farther one does (ignoring mobilisation, or counting it twice, gets one wrong)."""
    incident_node = 100
    rows = travel_rows(world, {}, set(range(len(nodes))))
    to_scene = np.array([rows[n][incident_node] for n in range(len(nodes))])
    near, far = (int(i) for i in np.argsort(to_scene)[[3, -20]])
    gap = to_scene[far] - to_scene[near]
    assert gap > 0.02
    mobilise = {near: 0.05 + ratio * gap, far: 0.05}
    spec = {"bases": [{"node": n, "teams": [{"type": "fire", "count": 1,
                                             "mobilisation_h": mobilise[n]}]}
                      for n in (near, far)],
            "stations": [], "pads": [], "slow": None, "policy": "plan",
            "types": [{"id": "crash", "needs": [{"team": "fire"}], "work_h": 1.0}],
            "incidents": [{"id": "i00", "type": "crash", "node": incident_node, "time_h": 1.0}]}
    variant = build_rescue(world, nodes, spec)
    records = simulate(variant)
    chosen = near if ratio < 1 else far
    assert [t.vehicle for t in records.trips] == [f"b{int(chosen == far)}/fire1"]
    (incident,) = records.incidents
    assert incident.first_arrival_h == pytest.approx(
        1.0 + mobilise[chosen] + to_scene[chosen], abs=1e-12)
    check_rescue_choices(variant, records, 0, {})


@dataclass(frozen=True)
class SlowedPair:
    """A place X, a node A nearer X on open roads and a node B that is nearer X once a
    slow-down around A is on."""

    x: int
    a: int
    b: int
    slow: dict[str, Any]  # the slow-down, as slowdowns() draws it
    a_h: float  # A → X under the slow-down
    b_h: float  # B → X under the slow-down


def slowed_pair(world: World, nodes: list[list[float]]) -> SlowedPair:
    everywhere = set(range(len(nodes)))
    open_rows = travel_rows(world, {}, everywhere)
    x = 100
    by_time = sorted(everywhere - {x}, key=lambda n: open_rows[n][x])
    for a in by_time[2:30]:
        spec = {"node": a, "near": nodes[a], "radius_m": 300.0, "factor": 40.0}
        slowed = travel_rows(world, slowdown_edges(world, spec), everywhere)
        for b in by_time[by_time.index(a) + 1:]:
            if (slowed[b][x] < slowed[a][x] - 2 * SAME_TIME_H
                    and open_rows[b][x] > open_rows[a][x] + 0.01):
                return SlowedPair(x, a, b, spec, float(slowed[a][x]), float(slowed[b][x]))
    raise AssertionError("no node pair whose order a slow-down swaps")


def test_choices_use_the_road_state_of_the_moment(world: World, nodes: list[list[float]]
                                                  ) -> None:
    """With a slow-down around A, B is quicker although A is nearer on open roads: the rescue
    team and the relief truck both come from B."""
    pair = slowed_pair(world, nodes)
    slow = {k: pair.slow[k] for k in ("node", "radius_m", "factor")}
    team = [{"type": "fire", "count": 1, "mobilisation_h": 0.1}]
    spec = {"bases": [{"node": pair.a, "teams": team}, {"node": pair.b, "teams": team}],
            "stations": [], "pads": [], "slow": slow, "policy": "plan",
            "types": [{"id": "crash", "needs": [{"team": "fire"}], "work_h": 1.0}],
            "incidents": [{"id": "i00", "type": "crash", "node": pair.x, "time_h": 1.0}]}
    records = simulate(build_rescue(world, nodes, spec))
    assert [t.vehicle for t in records.trips] == ["b1/fire1"]
    assert records.incidents[0].first_arrival_h == pytest.approx(1.0 + 0.1 + pair.b_h, abs=1e-12)

    depot = {"tier": "county", "stock": {"kit": 500},
             "trucks": {"count": 1, "capacity_kg": 5000}}
    relief = {"commodities": [COMMODITIES[0]],
              "depots": [{**depot, "node": pair.a}, {**depot, "node": pair.b}],
              "settlements": [{"node": pair.x, "people": 100, "onset_h": 1.0, "urgency": 3}],
              "load_h": 0.3, "unload_h": 0.2, "escalation": {}, "slow": slow, "policy": "plan"}
    records = simulate(build_relief(world, nodes, relief))
    first = records.deliveries[0]
    assert first.depot == "d1"
    assert first.time_h == pytest.approx(1.0 + 0.3 + pair.b_h + 0.2, abs=1e-12)


# == relief ===================================================================================

RELIEF_TIERS = ["village", "town", "county", "enterprise", "city"]
KIT = {"id": "kit", "unit_kg": 6, "per_person": 1, "main": True}
TENT = {"id": "tent", "unit_kg": 20, "per_person": 0.25, "main": False}
COMMODITIES = [KIT, TENT]
# Onsets, tier openings (onset + sums of escalation delays) and contract activations lie on
# disjoint grids, so no activation coincides with an escalation check.
ONSETS = [0.25, 1.0, 2.5]
ESCALATION = [0.0, 0.5, 2.0]
ACTIVATION = [0.7, 1.3, 3.1]


@st.composite
def relief_specs(draw: st.DrawFn, n_nodes: int, *, settlements: tuple[int, int] = (1, 3),
                 commodities: tuple[int, int] = (1, 2)) -> dict[str, Any]:
    # with two, the secondary one is listed first, so main-before-secondary is a real choice
    used = [KIT] if draw(st.integers(*commodities)) == 1 else [TENT, KIT]
    depots = []
    for _ in range(draw(st.integers(2, 4))):
        depot: dict[str, Any] = {
            "tier": draw(st.sampled_from(RELIEF_TIERS)),
            "node": draw(st.integers(0, n_nodes - 1)),
            "stock": {c["id"]: draw(st.sampled_from([0, 10, 60, 200, 800])) for c in used},
            "trucks": {"count": draw(st.integers(1, 3)),
                       "capacity_kg": draw(st.sampled_from([300, 1000, 5000]))},
        }
        if draw(st.booleans()):
            depot.update(kind="contract", activation_delay_h=draw(st.sampled_from(ACTIVATION)),
                         no_show_prob=draw(st.sampled_from([0.0, 0.5])))
        depots.append(depot)
    return {
        "commodities": used,
        "depots": depots,
        "settlements": [{"node": draw(st.integers(0, n_nodes - 1)),
                         "people": draw(st.integers(1, 300)),
                         "onset_h": draw(st.sampled_from(ONSETS)),
                         "urgency": draw(st.integers(1, 5))}
                        for _ in range(draw(st.integers(*settlements)))],
        "load_h": [draw(st.sampled_from([0.1, 0.3, 0.6, 1.2])) for _ in depots],
        "unload_h": draw(st.sampled_from([0.05, 0.2, 0.4])),
        "escalation": {t: draw(st.sampled_from(ESCALATION)) for t in TIERS[1:]},
        "slow": draw(slowdowns(n_nodes)),
        "policy": draw(st.sampled_from(["plan", "fcfs", "nearest_idle"])),
    }


def build_relief(world: World, nodes: list[list[float]], spec: dict[str, Any]) -> World:
    depots = []
    for i, d in enumerate(spec["depots"]):
        d = {k: v for k, v in d.items() if k != "node"}
        load_h = spec["load_h"][i] if isinstance(spec["load_h"], list) else spec["load_h"]
        d["trucks"] = {**d["trucks"], "load_h": load_h, "unload_h": spec["unload_h"]}
        depots.append({"id": f"d{i}", "location": nodes[spec["depots"][i]["node"]], **d})
    data = {
        "name": "relief choices", "seed": 7, "horizon_h": 60.0,
        "network": {"source": "builtin:helsinki"},
        "commodities": spec["commodities"],
        "depots": depots,
        "settlements": [{"id": f"s{i}", "location": nodes[s["node"]],
                         **{k: v for k, v in s.items() if k != "node"}}
                        for i, s in enumerate(spec["settlements"])],
        "disruptions": disruptions_of(spec["slow"], nodes),
        # every depot of an open tier may serve every settlement (support with no delay) and
        # only stock short of the need escalates: the old rules, whose oracle is below; the
        # jurisdiction and lateness rules have their own tests (test_dispatch.py)
        "dispatch": {"policy": spec["policy"], "escalation_delay_h": spec["escalation"],
                     "support": "after_delay", "support_delay_h": 0.0,
                     "escalate_if_late": False, **spec.get("dispatch", {})},
        "handout": {"people_per_h_per_point": None},
    }
    return world.with_scenario(parse_scenario(data))


@dataclass(eq=False)
class Load:
    """One truck dispatch as the deliveries and trips tables show it."""

    depot: str
    truck: str
    settlement: str
    start_h: float
    end_h: float
    primary: str  # the request the depot was chosen for: the truck's first commodity
    qty: dict[str, float] = field(default_factory=dict)


class ReliefState:
    """What the records say about the relief state at any moment (conservatively)."""

    def __init__(self, variant: World, records: Records, slow: dict[int, float]) -> None:
        sc = variant.scenario
        self.sc = sc
        self.depots = {d.id: d for d in sc.depots}
        self.settlements = {s.id: s for s in sc.settlements}
        self.rank = {d.id: TIERS.index(d.tier) for d in sc.depots}
        self.chain = sorted(set(self.rank.values()))  # the tiers present, lowest first
        self.base = self.chain[0]
        self.need = {(s.id, c.id): s.people * c.per_person
                     for s in sc.settlements for c in sc.commodities}
        self.node = {k: variant.node(k) for k in [*self.depots, *self.settlements]}
        rows = travel_rows(variant, slow, {self.node[d] for d in self.depots})
        # when a truck sent now would arrive: loading + drive under the road state
        self.reach = {(d, s): self.depots[d].trucks.load_h
                      + float(rows[self.node[d]][self.node[s]])
                      for d in self.depots for s in self.settlements}
        ledger = records.table("ledger")
        self.activated = ledger.groupby("depot").activated.all().to_dict()
        self.stock: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
        for r in records.stock:
            self.stock[(r.depot, r.commodity)].append((r.time_h, r.level))
        ends = {(t.vehicle, t.start_h): t.end_h for t in records.trips}
        loads: dict[tuple[str, float], Load] = {}
        for d in records.deliveries:
            key = (d.truck, d.dispatched_h)
            if key not in loads:
                loads[key] = Load(d.depot, d.truck, d.settlement, d.dispatched_h,
                                  ends.get(key, math.inf), d.commodity)
            assert loads[key].settlement == d.settlement and loads[key].depot == d.depot
            loads[key].qty[d.commodity] = loads[key].qty.get(d.commodity, 0.0) + d.qty
        self.loads = list(loads.values())

    def open_h(self, rank: int, onset_h: float) -> float:
        """The earliest a request raised at ``onset_h`` can use ``rank``: every escalation step
        waits for the delay of the tier it opens."""
        delays = self.sc.dispatch.escalation_delay_h
        steps = [r for r in self.chain if self.base < r <= rank]
        return onset_h + sum(delays.get(TIERS[r], 0.0) for r in steps)

    def level_before(self, depot: str, commodity: str, t: float) -> float:
        spec = self.depots[depot]
        level = spec.stock.get(commodity, 0.0) if spec.kind == "physical" else 0.0
        for time_h, value in self.stock.get((depot, commodity), []):
            if time_h < t - TOL:
                level = value
        return level

    def active_before(self, depot: str, t: float) -> bool:
        spec = self.depots[depot]
        return spec.kind == "physical" or (
            self.activated[depot] and spec.activation_delay_h < t - TOL)

    def idle_trucks_before(self, depot: str, t: float) -> int:
        busy = {x.truck for x in self.loads
                if x.depot == depot and x.start_h < t - TOL and x.end_h >= t - TOL}
        return self.depots[depot].trucks.count - len(busy)

    def surely_available(self, depot: str, commodity: str, t: float) -> bool:
        """An idle truck and stock at the moment of a dispatch at ``t``, whatever the order of
        the events at that instant (the depot sends nothing at ``t`` itself)."""
        return (self.active_before(depot, t) and self.idle_trucks_before(depot, t) >= 1
                and not any(x.depot == depot and abs(x.start_h - t) < TOL for x in self.loads)
                and self.level_before(depot, commodity, t) > LEVEL_EPS)

    def available_for_others(self, depot: str, commodity: str, x: Load) -> bool:
        """Whether ``depot`` could have served another request instead of ``x``: surely
        available, or the very depot of ``x`` when ``x`` is its only dispatch at that instant
        and it held that commodity."""
        if depot != x.depot:
            return self.surely_available(depot, commodity, x.start_h)
        alone = sum(1 for y in self.loads
                    if y.depot == depot and abs(y.start_h - x.start_h) < TOL) == 1
        return alone and self.level_before(depot, commodity, x.start_h) > LEVEL_EPS

    def loaded(self, settlement: str, commodity: str, until_h: float) -> float:
        return sum(x.qty.get(commodity, 0.0) for x in self.loads
                   if x.settlement == settlement and x.start_h <= until_h + TOL)

    def surely_open(self, settlement: str, commodity: str, t: float) -> bool:
        return (self.settlements[settlement].onset_h <= t + TOL
                and self.need[(settlement, commodity)] - self.loaded(settlement, commodity, t)
                > LEVEL_EPS)

    def surely_allowed(self, settlement: str, commodity: str, t: float) -> int:
        """A rank the request may surely use at ``t``: its base, or a tier that already sent it
        something (ranks only grow)."""
        used = [self.rank[x.depot] for x in self.loads if x.settlement == settlement
                and commodity in x.qty and x.start_h < t - TOL]
        return max([self.base, *used])


def check_relief_choices(variant: World, records: Records, slow: dict[int, float]) -> None:
    state = ReliefState(variant, records, slow)
    sc = variant.scenario
    policy = sc.dispatch.policy
    commodity_index = {c.id: k for k, c in enumerate(sc.commodities)}
    settlement_index = {s.id: k for k, s in enumerate(sc.settlements)}
    main = {c.id: c.main for c in sc.commodities}

    def key(settlement: str, commodity: str) -> tuple[Any, ...]:
        s = state.settlements[settlement]
        order = (s.onset_h, settlement_index[settlement], commodity_index[commodity])
        if policy == "plan":
            return (-s.urgency, not main[commodity], *order)
        return order

    for x in state.loads:
        t, d, s = x.start_h, x.depot, x.settlement
        rank = state.rank[d]
        for c in x.qty:
            # tier escalation: only after each step's delay ...
            assert t >= state.open_h(rank, state.settlements[s].onset_h) - TOL, (
                f"{d} ({TIERS[rank]}) sent {c} to {s} at {t:.3f} h, before that tier opened")
            # ... and only when the tiers below could not cover the need (小事不出村)
            if rank > state.base:
                below = state.chain[state.chain.index(rank) - 1]
                held = sum(dep.stock.get(c, 0.0) for dep in sc.depots
                           if dep.kind == "physical" and state.rank[dep.id] <= below)
                to_others = sum(y.qty.get(c, 0.0) for y in state.loads
                                if y.settlement != s and state.rank[y.depot] <= below
                                and y.start_h <= t + TOL)
                assert held - to_others < state.need[(s, c)] + LEVEL_EPS, (
                    f"{s} escalated {c} to {TIERS[rank]} although the tiers up to "
                    f"{TIERS[below]} held {held - to_others:g} for a need of "
                    f"{state.need[(s, c)]:g}")
        # the depot of the request's tiers with an idle truck and stock whose truck arrives
        # first, loading included (先近后远); plan and fcfs count arrivals within the same
        # SAME_TIME_H as equally soon and then take the depot with more stock left
        nearest = (state.reach[(d, s)], d)
        for e in state.depots:
            if (e != d and state.rank[e] <= rank
                    and state.surely_available(e, x.primary, t)):
                alt, chosen = (state.reach[(e, s)], e), nearest
                if policy != "nearest_idle":
                    arrive = [t + r + sc.depots[0].trucks.unload_h for r in (alt[0], chosen[0])]
                    if any(abs(a / SAME_TIME_H - round(a / SAME_TIME_H)) < 1e-7 for a in arrive):
                        continue  # on a bucket's edge: rounding decides
                    alone = sum(1 for y in state.loads
                                if y.depot == d and abs(y.start_h - t) < TOL) == 1
                    levels = [state.level_before(e, x.primary, t),
                              state.level_before(d, x.primary, t) if alone else math.inf]
                    alt = (math.floor(arrive[0] / SAME_TIME_H), -levels[0], e)
                    chosen = (math.floor(arrive[1] / SAME_TIME_H), -levels[1], d)
                    assert not alt < chosen, (
                        f"{x.primary} for {s} at {t:.3f} h came from {d} {chosen} although "
                        f"{e} {alt} had an idle truck and stock")
                    continue
                assert not lex_less(alt, chosen), (
                    f"{x.primary} for {s} at {t:.3f} h came from {d} ({chosen[0]:.4f} h away) "
                    f"although {e} ({alt[0]:.4f} h away, tier {TIERS[state.rank[e]]}) had an "
                    "idle truck and stock")
        # the request served is the one the policy puts first
        for s2 in state.settlements:
            for c2 in commodity_index:
                if (s2, c2) == (s, x.primary) or not state.surely_open(s2, c2, t):
                    continue
                if policy != "nearest_idle" and key(s2, c2) > key(s, x.primary):
                    continue
                allowed = state.surely_allowed(s2, c2, t)
                if policy != "nearest_idle" and any(
                        state.rank[e] <= allowed and state.level_before(e, c2, t) > LEVEL_EPS
                        and not state.surely_available(e, c2, t) for e in state.depots):
                    continue  # it may be waiting for a busy depot that delivers sooner
                for e in state.depots:
                    if state.rank[e] <= allowed and state.available_for_others(e, c2, x):
                        alt = (state.reach[(e, s2)], e)
                        assert policy == "nearest_idle" and not lex_less(alt, nearest), (
                            f"{policy}: at {t:.3f} h {d} served {x.primary} for {s} while "
                            f"{c2} for {s2} (first in order or nearer: {alt}) could be served "
                            f"from {e}")
    check_trucks(state)


def check_trucks(state: ReliefState) -> None:
    """A truck is on one trip at a time; idle trucks leave first-idle-first (truck1 first)."""
    by_truck: dict[str, list[Load]] = defaultdict(list)
    for x in state.loads:
        by_truck[x.truck].append(x)
    for trips in by_truck.values():
        trips.sort(key=lambda x: x.start_h)
        for a, b in pairwise(trips):
            assert b.start_h >= a.end_h - TOL, f"{a.truck} sent again before it came back"
    starts = sorted({(x.depot, x.start_h) for x in state.loads})
    for depot, t in starts:
        if any(x.depot == depot and abs(x.end_h - t) < TOL for x in state.loads):
            continue  # a truck came back at that instant: order unknown
        count = state.depots[depot].trucks.count
        idle_since: list[tuple[float, int, str]] = []
        for i in range(count):
            name = f"{depot}/truck{i + 1}"
            before = [x for x in by_truck.get(name, []) if x.start_h < t - TOL]
            if any(x.end_h >= t - TOL for x in before):
                continue
            idle_since.append((max((x.end_h for x in before), default=-math.inf), i, name))
        idle_since.sort()
        sent = {x.truck for x in state.loads if x.depot == depot and abs(x.start_h - t) < TOL}
        m = len(sent)
        assert m <= len(idle_since)
        if m < len(idle_since) and idle_since[m - 1][0] == idle_since[m][0] > -math.inf:
            continue  # came back at the same time: their order is the processes'
        assert sent == {name for _, _, name in idle_since[:m]}, (
            f"{depot} at {t:.3f} h sent {sorted(sent)}; idle longest: {idle_since}")


def check_escalation_exact(variant: World, records: Records, slow: dict[int, float]) -> None:
    """One settlement, one commodity: the only request escalates exactly when the stock its
    tiers can ever use (physical stock, contract stock once active) falls short of its need,
    and each tier it opens sends a truck at the very moment it opens."""
    state = ReliefState(variant, records, slow)
    sc = variant.scenario
    (s,), (c,) = sc.settlements, sc.commodities
    need = s.people * c.per_person
    delays = sc.dispatch.escalation_delay_h

    def held(rank: int, t: float) -> float:
        return sum(d.stock.get(c.id, 0.0) for d in sc.depots if state.rank[d.id] <= rank and (
            d.kind == "physical" or (state.activated[d.id] and d.activation_delay_h < t)))

    opened = {state.base: s.onset_h}
    rank, t = state.base, s.onset_h
    while held(rank, t) + 1e-9 < need and rank != state.chain[-1]:
        rank = state.chain[state.chain.index(rank) + 1]
        t += delays.get(TIERS[rank], 0.0)
        opened[rank] = t
    for x in state.loads:
        assert state.rank[x.depot] <= rank, (
            f"{x.depot} ({TIERS[state.rank[x.depot]]}) sent {c.id} although the tiers up to "
            f"{TIERS[rank]} could cover {need:g}")
    for r, t in opened.items():
        ready = [d.id for d in sc.depots if state.rank[d.id] == r
                 and (d.kind == "physical" or (state.activated[d.id] and d.activation_delay_h < t))
                 and d.stock.get(c.id, 0.0) > 0]
        if ready and state.need[(s.id, c.id)] - state.loaded(s.id, c.id, t - 2 * TOL) > LEVEL_EPS:
            assert any(abs(x.start_h - t) < TOL for x in state.loads), (
                f"tier {TIERS[r]} opened at {t:.3f} h with stock at {ready}, but no truck left "
                "then")


def _relief(world: World, nodes: list[list[float]], spec: dict[str, Any]
            ) -> tuple[World, Records, dict[int, float]]:
    variant = build_relief(world, nodes, spec)
    records = simulate(variant)
    # every dispatch must show in the records: nothing still on its way out at the horizon
    assume(records.table("ledger").in_transit.abs().max() < LEVEL_EPS)
    slow = slowdown_edges(variant, variant.scenario.disruptions[0].model_dump()
                          if spec["slow"] else None)
    return variant, records, slow


@CHOICE_SETTINGS
@given(data=st.data())
def test_relief_escalates_tiers_then_sends_the_nearest_stocked_depot(
        world: World, nodes: list[list[float]], data: st.DataObject) -> None:
    variant, records, slow = _relief(world, nodes, data.draw(relief_specs(len(nodes))))
    check_relief_choices(variant, records, slow)


@CHOICE_SETTINGS
@given(data=st.data())
def test_one_request_escalates_exactly_when_its_tiers_fall_short(
        world: World, nodes: list[list[float]], data: st.DataObject) -> None:
    spec = data.draw(relief_specs(len(nodes), settlements=(1, 1), commodities=(1, 1)))
    variant, records, slow = _relief(world, nodes, spec)
    check_relief_choices(variant, records, slow)
    check_escalation_exact(variant, records, slow)


def test_relief_prefers_the_depot_that_delivers_first(world: World,
                                                      nodes: list[list[float]]) -> None:
    """Two county depots with stock: A is nearer but takes 2 h to load, B is a few minutes
    farther and loads in 0.1 h. B's truck delivers first, so B should be sent."""
    settlement = 100
    rows = travel_rows(world, {}, set(range(len(nodes))))
    to_site = np.array([rows[n][settlement] for n in range(len(nodes))])
    near, far = (int(i) for i in np.argsort(to_site)[[3, -20]])
    assert to_site[far] - to_site[near] < 1.9
    depots = [{"id": "A", "location": nodes[near], "stock": {"kit": 500},
               "trucks": {"count": 1, "capacity_kg": 5000, "load_h": 2.0, "unload_h": 0.2}},
              {"id": "B", "location": nodes[far], "stock": {"kit": 500},
               "trucks": {"count": 1, "capacity_kg": 5000, "load_h": 0.1, "unload_h": 0.2}}]
    data = {"name": "load time", "horizon_h": 24, "network": {"source": "builtin:helsinki"},
            "commodities": [COMMODITIES[0]], "depots": depots,
            "settlements": [{"id": "s", "location": nodes[settlement], "people": 100,
                             "onset_h": 1.0}]}
    records = simulate(world.with_scenario(parse_scenario(data)))
    first = records.deliveries[0]
    assert first.depot == "B"
    assert first.time_h == pytest.approx(1.0 + 0.1 + to_site[far] + 0.2, abs=1e-12)


def test_stock_no_truck_can_carry_does_not_hold_back_escalation(
        world: World, nodes: list[list[float]]) -> None:
    """A town point with 1,000 kits but no truck, a city warehouse with kits and trucks: the
    town tier cannot serve, so the request escalates at onset and the city sends a truck when
    its tier opens (2 h)."""
    depots = [{"id": "town", "tier": "town", "location": nodes[10], "stock": {"kit": 1000},
               "trucks": {"count": 0}},
              {"id": "city", "tier": "city", "location": nodes[200], "stock": {"kit": 1000},
               "trucks": {"count": 2, "load_h": 0.5, "unload_h": 0.25}}]
    data = {"name": "no trucks", "horizon_h": 24, "network": {"source": "builtin:helsinki"},
            "commodities": [KIT], "depots": depots,
            "settlements": [{"id": "s", "location": nodes[100], "people": 100}],
            "dispatch": {"escalation_delay_h": {"city": 2.0}}}
    variant = world.with_scenario(parse_scenario(data))
    records = simulate(variant)
    assert records.deliveries, "nobody relieved"
    first = records.deliveries[0]
    drive = travel_rows(world, {}, {variant.node("city")})[variant.node("city")][
        variant.node("s")]
    assert (first.depot, first.dispatched_h) == ("city", 2.0)
    assert first.time_h == pytest.approx(2.0 + 0.5 + drive + 0.25, abs=1e-12)

# == the escalation screen ====================================================================
# The vectorised screen (sim.model.escalation) must agree with relief's own check: relief only
# checks one by one the requests the screen flags, so a request it cleared wrongly would miss
# an escalation. At every batch relief screens, in real and random scenarios and random states
# with ties on purpose, the screen's answer must equal the scalar check's
# (Relief._short_or_late over Relief.estimate): never clearing one that must escalate, and not
# flagging everything either (that would be correct and slow).


class ScreenChecked(Relief):
    """Relief that compares, at every screening, the screen with the scalar check."""

    seen: ClassVar[list[tuple[bool, bool]]] = []

    def _escalate_where(self, requests: list, commodities: Any,
                        free_at: dict[int, float] | None = None) -> None:
        candidates = [r for r in requests if r.commodity in commodities
                      and self._may_escalate(r)]
        if candidates:
            screen = self._screened(candidates, free_at)
            scalar = [self._short_or_late(r, self.estimate(r, dict(free_at or {})))
                      for r in candidates]
            assert screen == scalar, (self.env.now, [r.settlement for r in candidates])
            ScreenChecked.seen += zip(screen, scalar, strict=True)
        super()._escalate_where(requests, commodities, free_at)


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bool, bool]]:
    monkeypatch.setattr("sim.model.simulation.Relief", ScreenChecked)
    ScreenChecked.seen = []
    return ScreenChecked.seen


SHIPPED = ["helsinki_storm.yaml", "nanjing_xuanwu_flood.yaml", "nanjing_evacuation.yaml"]


@pytest.mark.parametrize("name", SHIPPED)
def test_screen_equals_the_scalar_check_on_shipped_scenarios(
        name: str, checked: list[tuple[bool, bool]], tmp_path_factory: pytest.TempPathFactory,
        shared_data: Path) -> None:
    world = build_world(load_scenario(SCENARIOS_DIR / name),
                        cache_dir=tmp_path_factory.mktemp("esc"))
    for policy in ("plan", "fcfs", "nearest_idle"):
        for replication in range(2):
            simulate(world, replication=replication, policy=policy)
    flags = {screen for screen, _ in checked}
    assert flags == {True, False}, f"{len(checked)} screenings, all {flags}"


RULES = st.fixed_dictionaries({
    "support": st.sampled_from(["never", "after_delay", "if_earlier"]),
    "support_delay_h": st.sampled_from([0.0, 0.5, 3.0]),
    "support_margin_h": st.sampled_from([0.0, 0.25]),
    "escalate_if_late": st.booleans(),
})


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(data=st.data())
def test_screen_equals_the_scalar_check_on_random_scenarios(
        world: World, nodes: list[list[float]], data: st.DataObject) -> None:
    spec = data.draw(relief_specs(len(nodes)))
    spec["dispatch"] = data.draw(RULES)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sim.model.simulation.Relief", ScreenChecked)
        simulate(build_relief(world, nodes, spec))  # ScreenChecked asserts at each screening


# -- the screen against the scalar check on random states, ties on purpose ---------------------

GRID = [0.0, 0.5, 1.0, 2.0]  # hours, so that etas, deadlines and delays tie
AMOUNTS = [0.0, EPS, 2 * EPS, 3 * EPS, 10.0, 60.0, 200.0]
DEADLINES = [*GRID, 0.3, 0.8, 8.0]  # 0.3 and 0.8: loading and unloading sum to them, ± an ulp
ROUNDS = 4


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(data=st.data())
def test_screen_equals_the_scalar_check_on_random_states(
        world: World, nodes: list[list[float]], data: st.DataObject) -> None:
    """Depots active or not, with stock on a grid (EPS included), trucks idle, out until a
    time on the grid or overdue, none at all; requests of every rank, with needs, deadlines and
    raised times on grids; every support rule: each request's screen equals its check."""
    spec = data.draw(relief_specs(len(nodes), settlements=(1, 4)))
    pool = data.draw(st.lists(st.integers(0, len(nodes) - 1), min_size=1, max_size=3))
    for site in [*spec["depots"], *spec["settlements"]]:  # often the same places: drives tie
        site["node"] = data.draw(st.sampled_from(pool))
    for depot in spec["depots"]:
        depot["trucks"]["count"] = data.draw(st.sampled_from([0, 1, 2, 3]))
    spec["dispatch"] = data.draw(RULES)
    spec["dispatch"]["support_delay_h"] = data.draw(st.sampled_from(GRID))
    spec["dispatch"]["support_margin_h"] = data.draw(st.sampled_from(GRID))
    variant = build_relief(world, nodes, spec)
    for _ in range(ROUNDS):  # several states of one placement (placing costs the most)
        check_a_state(variant, data)


def relief_at(variant: World, now: float) -> Relief:
    """Relief of ``variant`` with its clock at ``now``, nothing run yet."""
    env = simpy.Environment(initial_time=now)
    return Relief(env, variant, RoadState(env, variant.roads, variant.route_cache),
                  make_policy("plan"), Records(horizon_h=60.0), seed=1, replication=0)


def check_a_state(variant: World, data: st.DataObject) -> None:
    now = data.draw(st.sampled_from([1.0, 2.0, 3.0]))
    relief = relief_at(variant, now)
    for d in relief.depots:
        d.active = data.draw(st.booleans())
        for c in d.stock:
            d.stock[c] = simpy.Container(relief.env, init=data.draw(st.sampled_from(AMOUNTS)))
        for truck in list(d.trucks.items):
            if data.draw(st.booleans()):
                d.trucks.items.remove(truck)
                d.back_h[truck] = now + data.draw(st.sampled_from([-1.0, *GRID]))
    ranks = sorted({d.rank for d in relief.depots})
    sites = [s.id for s in variant.scenario.settlements]
    requests = [Request(seq=i + 1, settlement=(site := data.draw(st.sampled_from(sites))),
                        node=variant.node(site), commodity=data.draw(st.sampled_from(
                            list(relief.commodities))), main=True, urgency=1,
                        raised_h=now - data.draw(st.sampled_from(GRID)),
                        remaining=data.draw(st.sampled_from([*AMOUNTS[1:], 600.0])),
                        rank=data.draw(st.sampled_from(ranks)),
                        deadline_h=now + data.draw(st.sampled_from(DEADLINES)))
                for i in range(data.draw(st.integers(1, 12)))]
    screen = relief._screened(requests)
    assert screen == [relief._short_or_late(r, relief.estimate(r)) for r in requests]


def tie_relief(world: World, nodes: list[list[float]], *, support: str = "if_earlier",
               margin_h: float = 0.0, load_h: list[float] | None = None) -> Relief:
    """Two village depots and a settlement on one road node (no drive), trucks idle at 1 h:
    goods arrive after loading and unloading alone, so times tie to the last bit."""
    spec = {"commodities": [KIT], "settlements": [{"node": 0, "people": 100, "onset_h": 0.25,
                                                   "urgency": 1}],
            "depots": [{"tier": "village", "node": 0, "stock": {"kit": 200},
                        "trucks": {"count": 1, "capacity_kg": 5000}} for _ in range(2)],
            "load_h": load_h or [0.1, 0.1], "unload_h": 0.2, "escalation": {}, "slow": None,
            "policy": "plan",
            "dispatch": {"support": support, "support_margin_h": margin_h,
                         "escalate_if_late": True}}
    return relief_at(build_relief(world, [nodes[0]], spec), 1.0)


SEQ = itertools.count(1)  # a request's seq is its identity (the screen keeps its data by it)


def screen_and_check(relief: Relief, **request: Any) -> tuple[bool, bool]:
    fields = {"seq": next(SEQ), "settlement": "s0", "node": relief.world.node("s0"),
              "commodity": "kit", "main": True, "urgency": 1, "raised_h": 1.0,
              "remaining": 100.0, "rank": relief.depots[0].rank, "deadline_h": 8.0, **request}
    r = Request(**fields)
    (screen,) = relief._screened([r])
    return screen, relief._short_or_late(r, relief.estimate(r))


def stocked(relief: Relief, *levels: float) -> Relief:
    for depot, level in zip(relief.depots, levels, strict=True):
        depot.stock["kit"] = simpy.Container(relief.env, init=level)
    return relief


def test_screen_on_ties_at_the_deadline_and_the_support_margin(
        world: World, nodes: list[list[float]]) -> None:
    relief = tie_relief(world, nodes)
    arrive = 1.0 + (0.1 + 0.2)  # loading and unloading, no drive
    # within EPS after the deadline is on time; a whole EPS more is late
    assert screen_and_check(relief, deadline_h=arrive - EPS / 2) == (False, False)
    assert screen_and_check(relief, deadline_h=arrive - 2 * EPS) == (True, True)
    # the need less the stock leaves exactly EPS: covered; a bit more: short
    tiny = stocked(tie_relief(world, nodes), 1.5e-9, 0.0)
    assert EPS == 2.5e-9 - 1.5e-9
    assert screen_and_check(tiny, remaining=2.5e-9) == (False, False)
    assert screen_and_check(tiny, remaining=2.6e-9) == (True, True)
    # a supporting depot exactly the margin sooner is used, a bit later it is not: only the
    # settlement's own depot is then a source, and its stock alone falls short
    (own,) = relief.own["s0"]
    for margin, used in ((0.5, True), (0.5 + 1e-12, False)):
        tied = tie_relief(world, nodes, margin_h=margin,
                          load_h=[0.6, 0.1] if own == "d0" else [0.1, 0.6])
        assert screen_and_check(tied, remaining=300.0) == (not used, not used)


def same_records(a: Records, b: Records) -> bool:
    return all(repr(getattr(a, name)) == repr(getattr(b, name))
               for name in a.__dataclass_fields__)


def screened_and_scalar(variant: World, **run: Any) -> tuple[Records, Records]:
    """One replication with every escalation batch screened, and with none."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sim.model.relief.SCREEN_FROM", 1)
        screened = simulate(variant, **run)
        patch.setattr("sim.model.relief.SCREEN_FROM", math.inf)
        return screened, simulate(variant, **run)


@pytest.mark.parametrize("name", SHIPPED)
def test_the_screen_changes_no_record_on_shipped_scenarios(
        name: str, tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> None:
    world = build_world(load_scenario(SCENARIOS_DIR / name),
                        cache_dir=tmp_path_factory.mktemp("esc"))
    for policy in ("plan", "fcfs", "nearest_idle"):
        screened, scalar = screened_and_scalar(world, policy=policy)
        assert same_records(screened, scalar), policy


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(data=st.data())
def test_the_screen_changes_no_record_on_random_scenarios(
        world: World, nodes: list[list[float]], data: st.DataObject) -> None:
    spec = data.draw(relief_specs(len(nodes), settlements=(2, 6)))
    spec["dispatch"] = data.draw(RULES)
    assert same_records(*screened_and_scalar(build_relief(world, nodes, spec)))
