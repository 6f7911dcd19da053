"""Focused checks of the model's small contracts that mutation testing found untested (#14).

Random streams, the policies' factory and ties, how disruptions select, draw, record and
combine their edges, and how ``simulate`` reports progress and shares its route cache. The
expected values come from the scenario and the network (sim.network's selectors, the
documented stream keys), not from the model's own output.
"""

from __future__ import annotations

import math
import zlib
from typing import Any, ClassVar, NamedTuple

import numpy as np
import pandas as pd
import pytest
import simpy
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model import simulate
from sim.model.disruptions import Disruptions, disruption_edges
from sim.model.policies import POLICIES, NearestIdlePolicy, Option, make_policy
from sim.model.records import Records
from sim.model.relief import EPS, Relief, Request
from sim.model.rescue import _delay_to
from sim.model.roads import Closures, RoadState
from sim.model.streams import PURPOSES, stream
from sim.network import edges_near
from sim.scenario import Disruption, parse_scenario
from sim.validation import DEFAULT_SCENARIO, SCENARIOS_DIR, default_world
from sim.world import World


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return default_world(tmp_path_factory.mktemp("mutants-cache"))


@pytest.fixture(scope="module")
def base_data() -> dict[str, Any]:
    return yaml.safe_load((SCENARIOS_DIR / DEFAULT_SCENARIO).read_text(encoding="utf-8"))


def with_disruptions(world: World, data: dict[str, Any], disruptions: list[dict]) -> World:
    return world.with_scenario(parse_scenario({**data, "disruptions": disruptions}))


def node_lonlat(world: World, node: int) -> list[float]:
    return [float(world.road.lon[node]), float(world.road.lat[node])]


def way_edges(world: World, osmid: int) -> np.ndarray:
    """The edges a way id is part of, read straight from the network's (edge, way) pairs."""
    edge_idx, ids = world.road._edge_osmids
    return np.array(sorted({int(e) for e, w in zip(edge_idx, ids, strict=True) if w == osmid}),
                    dtype=np.int64)


def a_long_way(world: World) -> int:
    """An OSM way id that several edges are made of."""
    _, ids = world.road._edge_osmids
    values, counts = np.unique(ids, return_counts=True)
    return int(values[np.argmax(counts)])


class State(NamedTuple):
    time_h: float
    state: Closures


class SpyRoads:
    """Stands in for RoadState: records every state the disruptions switch to."""

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.states: list[State] = []

    def set(self, state: Closures) -> None:
        self.states.append(State(self.env.now, state))


def run_disruptions(variant: World, *, seed: int = 7, replication: int = 0,
                    until: float = 100.0) -> tuple[SpyRoads, Records, list[float]]:
    env = simpy.Environment()
    roads = SpyRoads(env)
    records = Records(horizon_h=until)
    calls: list[float] = []
    Disruptions(env, variant, roads, records, seed=seed, replication=replication,  # type: ignore[arg-type]
                on_change=[lambda: calls.append(env.now)])
    env.run(until=until)
    return roads, records, calls


# == streams ==================================================================================


def test_stream_without_item_is_the_stream_of_the_empty_item() -> None:
    for purpose in PURPOSES:
        a = stream(3, 1, purpose).random(8)
        b = stream(3, 1, purpose, "").random(8)
        np.testing.assert_array_equal(a, b)
    # and the documented key: (seed, replication, purpose index, crc32 of the item)
    expected = np.random.Generator(np.random.PCG64(np.random.SeedSequence(
        [3, 1, PURPOSES.index("work"), zlib.crc32(b"")]))).random(8)
    np.testing.assert_array_equal(stream(3, 1, "work").random(8), expected)


def test_unknown_stream_names_the_purpose_and_the_known_ones() -> None:
    with pytest.raises(ValueError) as info:
        stream(1, 0, "weather")
    message = str(info.value)
    assert "'weather'" in message
    for purpose in PURPOSES:
        assert purpose in message


# == policies =================================================================================


def test_unknown_policy_names_it_and_the_known_ones() -> None:
    with pytest.raises(ValueError) as info:
        make_policy("random")
    message = str(info.value)
    assert "'random'" in message
    for name in ("plan", "fcfs", "nearest_idle"):
        assert name in message
    assert set(POLICIES) == {"plan", "fcfs", "nearest_idle"}


class Item(NamedTuple):
    seq: int
    urgency: int
    main: bool
    raised_h: float


def test_nearest_idle_ties_go_to_the_earliest_work() -> None:
    """Two requests equally near the same truck: the one raised first is served (its order
    in the policy's list), as with every other policy."""
    policy = NearestIdlePolicy()
    items: list[Item] = []
    late, early, later = Item(2, 1, True, 3.0), Item(1, 1, True, 1.0), Item(3, 1, True, 5.0)
    for work in (late, early, later):
        policy.add(items, work)
    assert items == [early, late, later]
    truck = object()

    def options(work: Item) -> list[Option]:
        return [Option(truck, 0.5, "depot-a")]  # the same truck, as near to each

    chosen = policy.choose(items, options)
    assert chosen is not None and chosen[0] is early
    # a strictly nearer option later in the list still wins
    def options2(work: Item) -> list[Option]:
        return [Option(truck, 0.25 if work is later else 0.5, "depot-a")]

    chosen = policy.choose(items, options2)
    assert chosen is not None and chosen[0] is later


# == disruptions ==============================================================================


def test_edge_osmids_close_exactly_the_edges_of_those_ways(world: World,
                                                           base_data: dict[str, Any]) -> None:
    way = a_long_way(world)
    expected = way_edges(world, way)
    assert len(expected) >= 2
    variant = with_disruptions(world, base_data, [
        {"id": "way", "window": {"start_h": 1.0, "end_h": 4.0}, "edge_osmids": [way]}])
    d = variant.scenario.disruptions[0]
    np.testing.assert_array_equal(disruption_edges(variant, d, 7, 0), expected)
    roads, records, calls = run_disruptions(variant)
    assert [s.time_h for s in roads.states] == [1.0, 4.0]
    assert roads.states[0].state.closed == frozenset(expected.tolist())
    assert roads.states[0].state.slow == {}
    assert roads.states[1].state.closed == frozenset()
    assert calls == [1.0, 4.0]
    assert records.closures[0].edges == len(expected)


def test_a_whole_selection_is_shared_and_read_only(world: World,
                                                   base_data: dict[str, Any]) -> None:
    """share = 1: the selection is made once per world (one array for every replication and
    for every disruption selecting the same roads), and nobody can alter it."""
    near = node_lonlat(world, 10)
    variant = with_disruptions(world, base_data, [
        {"id": "closed", "window": {"start_h": 0.0, "end_h": 2.0}, "near": near,
         "radius_m": 300.0},
        {"id": "slowed", "window": {"start_h": 5.0}, "near": near, "radius_m": 300.0,
         "factor": 2.5}])
    closed, slowed = variant.scenario.disruptions
    first = disruption_edges(variant, closed, 7, 0)
    np.testing.assert_array_equal(first, np.sort(edges_near(variant.road, near, 300.0)))
    assert len(first) > 0
    assert disruption_edges(variant, closed, 8, 3) is first
    assert disruption_edges(variant, slowed, 7, 0) is first
    assert not first.flags.writeable
    with pytest.raises(ValueError):
        first[0] = 0


def test_a_share_keeps_the_edges_whose_draw_is_below_it(world: World,
                                                        base_data: dict[str, Any]) -> None:
    """share < 1: one uniform draw per selected edge (in edge order) from the replication's
    'disruptions' stream named by the disruption's id; an edge is affected when its draw is
    below the share, so the chance is exactly the share (a draw equal to it does not count)."""
    near, radius = node_lonlat(world, 20), 500.0
    selected = np.sort(edges_near(world.road, near, radius))
    assert len(selected) >= 5
    seed, replication = 11, 2
    u = stream(seed, replication, "disruptions", "part").random(len(selected))
    share = float(np.sort(u)[len(u) // 2])  # exactly one draw equals the share
    assert 0.0 < share < 1.0
    variant = with_disruptions(world, base_data, [
        {"id": "part", "window": {"start_h": 0.0}, "near": near, "radius_m": radius,
         "share": share}])
    d = variant.scenario.disruptions[0]
    got = disruption_edges(variant, d, seed, replication)
    expected = selected[u < share]
    np.testing.assert_array_equal(got, expected)
    assert int(selected[u == share][0]) not in set(got.tolist())
    # each replication draws its own share: states are not reused across replications
    other = stream(seed, replication + 1, "disruptions", "part").random(len(selected))
    roads_a, _, _ = run_disruptions(variant, seed=seed, replication=replication)
    roads_b, _, _ = run_disruptions(variant, seed=seed, replication=replication + 1)
    assert roads_a.states[0].state.closed == frozenset(expected.tolist())
    assert roads_b.states[0].state.closed == frozenset(selected[other < share].tolist())


def test_closure_records_carry_window_and_factor(world: World,
                                                 base_data: dict[str, Any]) -> None:
    near_a, near_b = node_lonlat(world, 30), node_lonlat(world, 120)
    variant = with_disruptions(world, base_data, [
        {"id": "closed", "window": {"start_h": 1.5}, "near": near_a, "radius_m": 250.0},
        {"id": "slowed", "window": {"start_h": 2.0, "end_h": 5.0}, "near": near_b,
         "radius_m": 250.0, "factor": 1.5}])
    _, records, _ = run_disruptions(variant)
    table = records.table("closures")
    expected = pd.DataFrame({
        "disruption": ["closed", "slowed"],
        "start_h": [1.5, 2.0],
        "end_h": [math.inf, 5.0],  # never reopens
        "factor": [math.inf, 1.5],  # a closure is an infinite slow-down
        "edges": [len(edges_near(world.road, near_a, 250.0)),
                  len(edges_near(world.road, near_b, 250.0))]})
    pd.testing.assert_frame_equal(table.reset_index(drop=True), expected, check_dtype=False)


def test_combined_state_over_time(world: World, base_data: dict[str, Any]) -> None:
    """The union of closures and, per edge, the largest factor of the slow-downs active then
    (a 1.5 slow-down is 1.5, two on one edge give the larger); a disruption that has not begun
    yet does not hide the ones listed after it."""
    net = world.road
    way = a_long_way(world)
    p, q = node_lonlat(world, 40), node_lonlat(world, 200)
    slow_pq = set(edges_near(net, p, 300.0).tolist())
    mild = set(edges_near(net, q, 300.0).tolist()) - slow_pq
    assert slow_pq and mild
    variant = with_disruptions(world, base_data, [
        {"id": "later", "window": {"start_h": 5.0}, "edge_osmids": [way]},
        {"id": "strong", "window": {"start_h": 0.0, "end_h": 10.0}, "near": p,
         "radius_m": 300.0, "factor": 3.0},
        {"id": "weak", "window": {"start_h": 0.0, "end_h": 10.0}, "near": p,
         "radius_m": 300.0, "factor": 2.0},
        {"id": "mild", "window": {"start_h": 1.0, "end_h": 10.0}, "near": q,
         "radius_m": 300.0, "factor": 1.5}])
    roads, _, calls = run_disruptions(variant)
    assert [s.time_h for s in roads.states] == [0.0, 1.0, 5.0, 10.0]
    assert calls == [0.0, 1.0, 5.0, 10.0]
    closed_way = frozenset(way_edges(world, way).tolist())
    strong = {e: 3.0 for e in slow_pq}
    with_mild = {**{e: 1.5 for e in mild}, **strong}
    expected = [(frozenset(), strong), (frozenset(), with_mild), (closed_way, with_mild),
                (closed_way, {})]
    for (closed, slow), got in zip(expected, roads.states, strict=True):
        assert got.state.closed == closed, got.time_h
        assert got.state.slow == slow, got.time_h


def test_fixed_road_states_are_planned_once_per_world(world: World,
                                                      base_data: dict[str, Any]) -> None:
    """Without random shares every replication goes through the very same road states (so the
    travel-time engine recognises them by their key instead of rebuilding them)."""
    variant = with_disruptions(world, base_data, [
        {"id": "closed", "window": {"start_h": 1.0, "end_h": 3.0}, "near": node_lonlat(world, 50),
         "radius_m": 200.0}])
    a, _, _ = run_disruptions(variant, replication=0)
    b, _, _ = run_disruptions(variant, replication=1)
    assert len(a.states) == len(b.states) == 2
    for x, y in zip(a.states, b.states, strict=True):
        assert x.state is y.state


# == simulate =================================================================================


def tables(records: Records) -> dict[str, pd.DataFrame]:
    return {name: records.table(name) for name in
            ("settlements", "deliveries", "trips", "incidents", "stock", "ledger", "closures",
             "cutoffs")}


def assert_same_records(a: Records, b: Records) -> None:
    ta, tb = tables(a), tables(b)
    for name in ta:
        pd.testing.assert_frame_equal(ta[name], tb[name], obj=name)


def test_default_replication_is_replication_zero(world: World) -> None:
    default = simulate(world)
    assert_same_records(default, simulate(world, replication=0))
    # and replication 1 is another draw (so the comparison above means something)
    ta, tb = tables(default), tables(simulate(world, replication=1))
    assert any(not ta[name].equals(tb[name]) for name in ta)


class HorizonGuard(simpy.Environment):
    """An environment that fails as soon as an event beyond the horizon would be processed
    (simulate runs to the horizon and no further, with or without progress reports)."""

    def __init__(self, horizon_h: float) -> None:
        super().__init__()
        self.horizon_h = horizon_h

    def step(self) -> None:
        assert self.peek() <= self.horizon_h, f"event at {self.peek()} h beyond the horizon"
        super().step()


def test_progress_reports_fifty_even_steps_and_changes_nothing(world: World) -> None:
    horizon = world.scenario.horizon_h
    seen: list[Any] = []
    with_progress = simulate(world, progress=seen.append, env=HorizonGuard(horizon))
    assert seen == pytest.approx([horizon * k / 50 for k in range(1, 51)], rel=1e-12, abs=0)
    assert all(isinstance(t, float | int) for t in seen)
    assert_same_records(with_progress, simulate(world))


@pytest.mark.parametrize("report", [False, True])
def test_simulate_stops_at_the_horizon(world: World, report: bool) -> None:
    horizon = world.scenario.horizon_h
    env = HorizonGuard(horizon)
    seen: list[float] = []
    records = simulate(world, env=env, progress=seen.append if report else None)
    assert env.now == pytest.approx(horizon, rel=1e-12)
    assert len(seen) == (50 if report else 0)
    assert_same_records(records, simulate(world))


def test_replications_share_the_worlds_route_cache(world: World) -> None:
    """Routes planned in one replication are kept in the world for the next ones."""
    world.route_cache.clear()
    simulate(world)
    assert world.route_cache
    routes = sum(len(entry[1]) for entry in world.route_cache.values())
    assert routes > 0


def test_disruption_schema_pairs_near_and_radius() -> None:
    """_selected_edges' last branch relies on this: a 'near' always has its radius."""
    with pytest.raises(ValueError):
        Disruption.model_validate({"id": "x", "window": {}, "near": [24.9, 60.2]})
    with pytest.raises(ValueError):
        Disruption.model_validate({"id": "x", "window": {}, "radius_m": 100.0})


# == relief: trucks out and the dispatcher's wake-ups ==========================================


class WatchedRelief(Relief):
    """Relief that checks, whenever it plans a depot's trucks, that each truck is counted once:
    idle at its depot or out with an estimated return, never both."""

    instances: ClassVar[list[WatchedRelief]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        WatchedRelief.instances.append(self)

    def _truck_free(self, depot: Any, now: float) -> list[float]:  # type: ignore[override]
        assert not set(depot.trucks.items) & depot.back_h.keys(), (depot.spec.id, now)
        times = Relief._truck_free(depot, now)
        assert len(times) <= depot.spec.trucks.count, (depot.spec.id, now, times)
        return times


def test_a_truck_back_at_its_depot_is_no_longer_expected_back(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A returned truck's estimated return is dropped: left behind, the planner would count
    the truck twice (idle now and free again at its old estimate) and hold loads for it that
    another depot's idle truck would carry now."""
    monkeypatch.setattr("sim.model.simulation.Relief", WatchedRelief)
    WatchedRelief.instances.clear()
    records = simulate(world)
    (relief,) = WatchedRelief.instances
    travelled = {trip.vehicle for trip in records.trips if trip.kind == "truck"}
    assert any(set(d.trucks.items) & travelled for d in relief.depots)  # trucks came back
    for depot in relief.depots:
        assert not set(depot.trucks.items) & depot.back_h.keys(), depot.spec.id


def bare_relief(world: World) -> Relief:
    env = simpy.Environment()
    return Relief(env, world, RoadState(env, world.roads, world.route_cache),
                  make_policy(world.scenario.dispatch.policy),
                  Records(horizon_h=world.scenario.horizon_h), seed=1, replication=0)


@pytest.mark.parametrize(("level", "pokes"), [(0.0, 0), (EPS, 0), (2 * EPS, 1), (1.0, 1)])
def test_new_stock_wakes_the_dispatcher_only_when_it_can_be_loaded(
        world: World, level: float, pokes: int) -> None:
    """Stock or a truck coming back wakes the dispatcher only when a load could leave: the
    same bound (more than EPS on hand) as loading and planning use."""
    relief = bare_relief(world)
    depot = relief.depots[0]
    commodity = next(iter(relief.commodities))
    relief.requests = [Request(seq=1, settlement="s", node=depot.node, commodity=commodity,
                               main=True, urgency=1, raised_h=0.0, remaining=10.0,
                               rank=depot.rank, deadline_h=8.0)]
    depot.stock[commodity] = simpy.Container(relief.env, init=level)
    assert depot.trucks.items and depot.level(commodity) == level
    woken: list[None] = []
    relief.poke = lambda: woken.append(None)  # type: ignore[method-assign]
    relief._poke_if_useful(depot, [commodity])
    assert len(woken) == pokes
    assert relief._stale == ({commodity} if pokes else set())


def test_trucks_out_count_from_their_estimated_return_unless_overdue(world: World) -> None:
    """Planning counts each idle truck free now and each truck out free at its estimated
    return — within EPS of now counts as now; an overdue one (held up by closures) is left
    out."""
    depot = bare_relief(world).depots[0]
    now, idle = 5.0, len(depot.trucks.items)
    depot.back_h.update({"due": now - EPS / 2, "soon": now + EPS / 2, "later": now + 1.0,
                         "overdue": now - 2 * EPS})
    assert sorted(Relief._truck_free(depot, now)) == sorted(
        [now] * idle + [now - EPS / 2, now + EPS / 2, now + 1.0])


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(now=st.floats(0, 1e4), ahead=st.floats(0, 1e4))
def test_a_call_lands_exactly_on_its_time(now: float, ahead: float) -> None:
    """SimPy's clock reaches a call at exactly its call time (now + delay == at), whichever
    way the plain difference would round."""
    at = now + ahead
    assert now + _delay_to(now, at) == at


def test_a_sweep_rechecks_escalation_only_for_commodities_whose_sources_changed(
        world: World) -> None:
    """Relief re-checks escalation for the commodities whose sources changed (new stock, a
    truck out or back, a road, a tier): a sweep woken by tents does not re-check a kit request,
    even one whose only depot's truck is overdue; when kits changed too, it does (and the kit
    request, late without a truck, asks for the county tier)."""
    for stale, asks in (({"tent"}, False), ({"tent", "kit"}, True)):
        relief = bare_relief(world)
        by_id = {d.spec.id: d for d in relief.depots}
        kits, tents = by_id["kaartinkaupunki_point"], by_id["kluuvi_point"]
        for d in relief.depots:
            for c in d.stock:
                d.stock[c] = simpy.Container(relief.env, init=0.0)
        kits.stock["kit"] = simpy.Container(relief.env, init=100.0)
        tents.stock["tent"] = simpy.Container(relief.env, init=100.0)
        for truck in list(kits.trucks.items):  # out, and overdue
            kits.trucks.items.remove(truck)
            kits.back_h[truck] = -1.0
        kit = Request(seq=1, settlement="kaartinkaupunki", node=world.node("kaartinkaupunki"),
                      commodity="kit", main=True, urgency=5, raised_h=0.0, remaining=10.0,
                      rank=kits.rank, deadline_h=8.0)
        tent = Request(seq=2, settlement="kluuvi", node=world.node("kluuvi"), commodity="tent",
                       main=False, urgency=1, raised_h=0.0, remaining=10.0, rank=tents.rank,
                       deadline_h=10.0)
        relief.requests = [kit, tent]
        relief._stale = set(stale)
        relief._sweep()
        assert kit.escalating is asks, stale
        assert tent.remaining == 0.0  # the tents' truck left (the sweep went past the kits)
