"""The SimPy model on real networks: conservation, feasibility, policies, closures, determinism."""

from __future__ import annotations

import copy
import math
from collections.abc import Generator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pytest
import simpy
import yaml

from sim.metrics import kpis, person_relief
from sim.model import simulate
from sim.model.records import DeliveryRecord, Records, SettlementRecord
from sim.model.roads import Closures, RoadState
from sim.routing import TravelTimes
from sim.run import run_replication
from sim.scenario import Handout, Scenario, load_scenario, parse_scenario
from sim.world import World, build_world

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(scope="session")
def default_world(cache_dir: Path) -> World:
    return build_world(load_scenario(SCENARIOS / "helsinki_storm.yaml"), cache_dir=cache_dir)


@pytest.fixture(scope="session")
def nanjing_world(cache_dir: Path, nanjing_scenario: Scenario) -> World:
    return build_world(nanjing_scenario, cache_dir=cache_dir)


@pytest.fixture(scope="session")
def default_data() -> dict:
    return yaml.safe_load((SCENARIOS / "helsinki_storm.yaml").read_text(encoding="utf-8"))


def variant(world: World, data: dict) -> World:
    """The same network with another scenario (no reload)."""
    return world.with_scenario(parse_scenario(data))


def mean_initial(world: World, seed: int = 1) -> float:
    return next(k.mean for k in run_replication(world, seed=seed).kpis
                if k.kpi == "initial_relief")


# -- conservation and feasibility -------------------------------------------------------------


@pytest.mark.parametrize("which", ["default_world", "nanjing_world"])
def test_stock_is_conserved_and_never_negative(which: str, request: pytest.FixtureRequest
                                               ) -> None:
    world: World = request.getfixturevalue(which)
    for replication in range(3):
        records = simulate(world, replication=replication)
        ledger = records.table("ledger")
        np.testing.assert_allclose(ledger.initial + ledger.produced,
                                   ledger.delivered + ledger.in_transit + ledger.remaining,
                                   rtol=0, atol=1e-6)
        assert (ledger.remaining >= -1e-9).all() and (ledger.in_transit >= -1e-9).all()
        assert (records.table("stock").level >= -1e-9).all()
        deliveries = records.table("deliveries")
        assert (deliveries.qty > 0).all()
        onset = {s.settlement: s.onset_h for s in records.settlements}
        assert (deliveries.time_h >= deliveries.settlement.map(onset)).all()
        assert ledger.delivered.sum() == pytest.approx(deliveries.qty.sum())


def test_contract_reserve_produces_and_no_show_removes_it(default_world: World,
                                                           default_data: dict) -> None:
    data = copy.deepcopy(default_data)
    data["depots"][4]["no_show_prob"] = 0.0  # it shows up: 3 h delay, then 150 kit/h
    ledger = simulate(variant(default_world, data), seed=20261122).table("ledger")
    supplier = ledger[ledger.depot == "narinkka_supplier"].set_index("commodity")
    assert supplier.activated.all()
    # batches of 0.5 h of output from 3.5 h on; the last one before the 48 h horizon at 47.5 h
    batches = int((48 - 3) / 0.5) - 1
    assert supplier.produced["kit"] == pytest.approx(150 * 0.5 * batches, abs=1e-9)
    assert supplier.initial["kit"] == 1500
    data["depots"][4]["no_show_prob"] = 1.0
    failed = simulate(variant(default_world, data)).table("ledger")
    failed_supplier = failed[failed.depot == "narinkka_supplier"]
    assert not failed_supplier.activated.any()
    assert failed_supplier[["initial", "produced", "delivered"]].to_numpy().sum() == 0


def test_every_trip_follows_an_open_path(default_world: World, nanjing_world: World,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    planned: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    original = TravelTimes.edges_of_path

    def spy(self: TravelTimes, nodes: list[int]) -> tuple[np.ndarray, np.ndarray]:
        edges, times = original(self, nodes)
        planned.append((edges, times, self.closed_edges))
        return edges, times

    monkeypatch.setattr(TravelTimes, "edges_of_path", spy)
    for world in (default_world, nanjing_world):
        world.route_cache.clear()  # plan every route afresh so the spy sees it
        records = simulate(world)
        assert records.closures
    assert planned
    closed_seen = 0
    for edges, times, closed in planned:
        assert (edges >= 0).all() and np.isfinite(times).all()
        assert not np.isin(edges, closed).any()
        closed_seen += bool(len(closed))
    assert closed_seen > 0, "no route was planned while a closure was active"


# -- closures ---------------------------------------------------------------------------------


def _one_depot_one_settlement(default_data: dict, *, close_until: float | None) -> dict:
    data = copy.deepcopy(default_data)
    data["depots"] = [{"id": "d", "tier": "county", "location": [24.9515, 60.1787],
                       "stock": {"kit": 500, "quilt": 500, "tent": 200},
                       "trucks": {"count": 1, "capacity_kg": 20000, "load_h": 0.5,
                                  "unload_h": 0.25}}]
    data["settlements"] = [{"id": "s", "location": [24.9388, 60.1660], "people": 100}]
    data["incidents"], data["generators"] = [], []
    data["disruptions"] = [] if close_until is None else [
        {"id": "cut", "window": {"start_h": 0, "end_h": close_until},
         "near": [24.9388, 60.1660], "radius_m": 120}]
    return data


def test_a_closure_that_cuts_off_a_settlement_delays_relief_exactly_until_it_reopens(
        default_world: World, default_data: dict) -> None:
    open_world = variant(default_world, _one_depot_one_settlement(default_data, close_until=None))
    free = simulate(open_world)
    d, s = open_world.node("d"), open_world.node("s")
    travel_h = float(open_world.roads.from_node(d)[s])
    assert free.deliveries[0].time_h == pytest.approx(0.5 + travel_h + 0.25, abs=1e-12)

    cut_world = variant(default_world, _one_depot_one_settlement(default_data, close_until=5.0))
    cut = simulate(cut_world)
    assert [(c.settlement, c.cut_h, c.reopened_h) for c in cut.cutoffs] == [("s", 0.0, 5.0)]
    # no truck is sent to an unreachable place: the whole operation starts when it reopens
    assert cut.deliveries[0].time_h == pytest.approx(5.0 + free.deliveries[0].time_h, abs=1e-12)


def test_a_closure_that_never_ends_is_reported_as_never(default_world: World,
                                                         default_data: dict) -> None:
    data = _one_depot_one_settlement(default_data, close_until=None)
    data["disruptions"] = [{"id": "cut", "window": {"start_h": 0}, "near": [24.9388, 60.1660],
                            "radius_m": 120}]
    records = simulate(variant(default_world, data))
    assert [(c.settlement, c.reopened_h) for c in records.cutoffs] == [("s", math.inf)]
    assert not records.deliveries
    initial = next(k for k in kpis(records, variant(default_world, data).scenario)
                   if k.kpi == "initial_relief")
    assert initial.share_within == 0 and initial.passed is False


def _drive_with_change(world: World, origin: int, destination: int, change_h: float,
                       state: Closures, reopen_h: float | None = None) -> tuple[float, float]:
    """Drive ``origin`` → ``destination`` in a bare environment, switching the road state to
    ``state`` at ``change_h`` (and back to open at ``reopen_h``); arrival time and km."""
    env = simpy.Environment()
    roads = RoadState(env, world.roads, {})
    arrived: list[tuple[float, float]] = []

    def vehicle() -> Generator[simpy.Event, Any, None]:
        km = yield from roads.drive(origin, destination)
        arrived.append((env.now, km))

    def switch() -> Generator[simpy.Event, Any, None]:
        yield env.timeout(change_h)
        roads.set(state)
        if reopen_h is not None:
            yield env.timeout(reopen_h - change_h)
            roads.set(Closures())

    env.process(vehicle())
    env.process(switch())
    env.run()
    world.roads.set_state()
    (result,) = arrived
    return result


class Halfway(NamedTuple):
    """A trip across the default city and where a vehicle is on it half-way through."""

    origin: int
    destination: int
    change_h: float  # half the open travel time
    nodes: list[int]  # the open fastest path
    edges: np.ndarray
    cum_h: np.ndarray  # hours from the origin to each node
    k: int  # the node that ends the edge in progress at change_h


def _halfway(world: World) -> Halfway:
    origin, destination = world.node("hakaniemi_city"), world.node("punavuori_edge")
    world.roads.set_state()
    nodes = world.roads.path(origin, destination)
    edges, hop_h = world.roads.edges_of_path(nodes)
    cum_h = np.concatenate(([0.0], np.cumsum(hop_h)))
    change_h = float(cum_h[-1]) / 2
    k = int(np.searchsorted(cum_h, change_h))
    assert 0 < k < len(nodes) - 1
    return Halfway(origin, destination, change_h, nodes, edges, cum_h, k)


def test_a_vehicle_en_route_finishes_its_edge_and_replans_when_roads_change(
        default_world: World) -> None:
    world, trip = default_world, _halfway(default_world)
    node = trip.nodes[trip.k]
    cum_km = np.cumsum(world.road.edge_length_m[trip.edges] / 1000.0)[trip.k - 1]
    # Close the edge after the one in progress: the vehicle reaches that edge's start as
    # planned, then takes the fastest path from there under the new state.
    closed = Closures(closed=frozenset({int(trip.edges[trip.k])}))
    world.roads.set_state(closed.closed)
    rest_h = float(world.roads.from_node(node)[trip.destination])
    rest_km = float(world.roads.dist_from_node(node)[trip.destination])
    world.roads.set_state()
    assert rest_h > trip.cum_h[-1] - trip.cum_h[trip.k]  # the closure costs time
    arrival_h, km = _drive_with_change(world, trip.origin, trip.destination, trip.change_h,
                                       closed)
    assert arrival_h == pytest.approx(trip.cum_h[trip.k] + rest_h, abs=1e-9)
    assert km == pytest.approx(cum_km + rest_km, abs=1e-9)


def test_a_vehicle_cut_off_en_route_waits_at_its_next_node_until_the_road_reopens(
        default_world: World) -> None:
    world, trip = default_world, _halfway(default_world)
    node = trip.nodes[trip.k]
    into_destination = np.flatnonzero(world.road.edge_v == trip.destination).tolist()
    cut = Closures(closed=frozenset(into_destination))
    world.roads.set_state(cut.closed)
    assert not np.isfinite(world.roads.from_node(node)[trip.destination])
    world.roads.set_state()
    reopen_h = 3.0
    arrival_h, _ = _drive_with_change(world, trip.origin, trip.destination, trip.change_h, cut,
                                      reopen_h)
    rest_h = float(world.roads.from_node(node)[trip.destination])
    assert arrival_h == pytest.approx(reopen_h + rest_h, abs=1e-9)


# -- policies ---------------------------------------------------------------------------------


def _three_settlements(default_data: dict, policy: str) -> dict:
    """One truck that carries one settlement's load; Z listed first, Y nearest, X most urgent."""
    data = copy.deepcopy(default_data)
    data["depots"] = [{"id": "d", "tier": "county", "location": [24.9515, 60.1787],
                       "stock": {"kit": 5000, "quilt": 5000, "tent": 5000},
                       "trucks": {"count": 1, "capacity_kg": 600, "load_h": 0.1,
                                  "unload_h": 0.1}}]
    data["settlements"] = [
        {"id": "Z", "location": [24.9409, 60.1687], "people": 100, "urgency": 3},
        {"id": "Y", "location": [24.9464, 60.1732], "people": 100, "urgency": 3},
        {"id": "X", "location": [24.9388, 60.1660], "people": 100, "urgency": 5},
    ]
    data["incidents"], data["generators"], data["disruptions"] = [], [], []
    data["dispatch"] = {"policy": policy}
    return data


@pytest.mark.parametrize(("policy", "first"), [("plan", "X"), ("fcfs", "Z"),
                                               ("nearest_idle", "Y")])
def test_policies_order_relief_as_specified(default_world: World, default_data: dict,
                                            policy: str, first: str) -> None:
    world = variant(default_world, _three_settlements(default_data, policy))
    times = world.roads.from_node(world.node("d"))
    assert times[world.node("Y")] < min(times[world.node("Z")], times[world.node("X")])
    deliveries = simulate(world).deliveries
    assert deliveries[0].settlement == first


def test_policies_keep_open_work_in_their_order_as_it_arises() -> None:
    """Work added in any order is kept in the policy's order; the first item that can be served
    is served from its nearest option (ties by name)."""
    from types import SimpleNamespace

    from sim.model.policies import Option, make_policy

    def work(seq: int, urgency: int, main: bool, raised_h: float) -> SimpleNamespace:
        return SimpleNamespace(seq=seq, urgency=urgency, main=main, raised_h=raised_h)

    arrivals = [work(1, 3, True, 0.0), work(2, 5, False, 1.0), work(3, 5, True, 2.0),
                work(4, 3, True, 0.0)]
    expected = {"plan": [3, 2, 1, 4], "fcfs": [1, 4, 2, 3], "nearest_idle": [1, 4, 2, 3]}
    for name, order in expected.items():
        policy, items = make_policy(name), []
        for item in arrivals:
            policy.add(items, item)
        assert [w.seq for w in items] == order, name

    plan, items = make_policy("plan"), []
    for item in arrivals:
        plan.add(items, item)
    options = {2: [Option("far", 2.0, "b"), Option("tie", 1.0, "z"), Option("near", 1.0, "a")],
               1: [Option("closest", 0.1, "c")]}
    chosen = plan.choose(items, lambda w: options.get(w.seq, []))
    assert chosen is not None and chosen[0].seq == 2 and chosen[1].resource == "near"
    nearest = make_policy("nearest_idle").choose(items, lambda w: options.get(w.seq, []))
    assert nearest is not None and nearest[0].seq == 1 and nearest[1].resource == "closest"


def test_main_commodities_go_first(default_world: World, default_data: dict) -> None:
    """先主后次: the first truck to a settlement carries kits (main) before quilts and tents."""
    world = variant(default_world, _three_settlements(default_data, "plan"))
    deliveries = simulate(world).deliveries
    first_x = [d for d in deliveries if d.settlement == "X"]
    assert first_x[0].commodity == "kit"
    kit_done = max(d.time_h for d in first_x if d.commodity == "kit")
    assert all(d.time_h >= kit_done for d in first_x if d.commodity != "kit")


def test_lower_tiers_serve_first_and_escalation_waits_its_delay(default_world: World,
                                                                default_data: dict) -> None:
    data = _one_depot_one_settlement(default_data, close_until=None)
    data["depots"][0].update(tier="town", stock={"kit": 40, "quilt": 100, "tent": 25})
    data["depots"].append({"id": "city", "tier": "city", "location": [24.9472, 60.1652],
                           "stock": {"kit": 1000, "quilt": 1000, "tent": 1000},
                           "trucks": {"count": 1, "capacity_kg": 20000, "load_h": 0.5,
                                      "unload_h": 0.25}})
    data["dispatch"] = {"escalation_delay_h": {"city": 3.0}}
    records = simulate(variant(default_world, data))
    by_depot = pd.DataFrame(records.table("deliveries")).groupby("depot").dispatched_h.min()
    assert by_depot["d"] == 0.0
    assert by_depot["city"] == pytest.approx(3.0)  # town cannot cover 100 kits: escalate at 0


def _rescue_case(default_data: dict, incidents: list[dict]) -> dict:
    data = copy.deepcopy(default_data)
    data["depots"], data["settlements"], data["generators"], data["disruptions"] = [], [], [], []
    data["team_bases"] = [
        {"id": "near", "location": [24.9424, 60.1678],
         "teams": [{"type": "fire", "count": 1, "mobilisation_h": 0}]},
        {"id": "far", "location": [24.9515, 60.1787],
         "teams": [{"type": "fire", "count": 1, "mobilisation_h": 0}]},
        {"id": "ems", "location": [24.9356, 60.1704],
         "teams": [{"type": "medical", "count": 2, "mobilisation_h": 0}]},
    ]
    data["water_stations"], data["helipads"] = [], []
    data["incidents"] = incidents
    return data


def test_rescue_sends_the_nearest_free_team(default_world: World, default_data: dict) -> None:
    """先近后远: one accident needing one fire team gets the team from the nearer base."""
    data = _rescue_case(default_data, [{"id": "traffic", "type": "road_traffic",
                                        "location": [24.9420, 60.1675], "time_h": 1}])
    world = variant(default_world, data)
    records = simulate(world)
    fire = records.table("trips").query("kind == 'fire'")
    assert list(fire.vehicle) == ["near/fire1"]
    arrival = records.table("incidents").set_index("incident").loc["traffic", "on_scene_h"]
    accident = world.scenario.incidents[0]
    from sim.network import snap

    node = int(snap(world.road, np.array([accident.location]))[0][0])
    assert arrival == pytest.approx(1 + world.roads.from_node(world.node("near"))[node])


def test_an_incident_at_an_osm_node_is_served_at_that_node(default_world: World,
                                                           default_data: dict) -> None:
    """A scripted incident located by OSM node id happens at that node's coordinates, and the
    team's arrival is its drive time to exactly that node."""
    data = _rescue_case(default_data, [])
    world = variant(default_world, data)
    node = int(np.argsort(world.roads.from_node(world.node("near")))[40])
    osm_id = int(world.road.node_ids[node])
    data["incidents"] = [{"id": "at_node", "type": "road_traffic", "location": osm_id,
                          "time_h": 1}]
    world = variant(default_world, data)
    incident = simulate(world).table("incidents").set_index("incident").loc["at_node"]
    assert (incident.lon, incident.lat) == (float(world.road.lon[node]),
                                            float(world.road.lat[node]))
    assert incident.on_scene_h == pytest.approx(1 + world.roads.from_node(world.node("near"))[node])


def test_rescue_serves_the_most_urgent_incident_first(default_world: World,
                                                      default_data: dict) -> None:
    """满足急需: a collapse (urgency 5, two fire teams) is served before a traffic accident
    called at the same moment, which waits for a fire team to come free."""
    data = _rescue_case(default_data, [
        {"id": "a_traffic", "type": "road_traffic", "location": [24.9420, 60.1675], "time_h": 1},
        {"id": "b_collapse", "type": "building_collapse", "location": [24.9426, 60.1680],
         "time_h": 1},
    ])
    records = simulate(variant(default_world, data))
    incidents = records.table("incidents").set_index("incident")
    assert incidents.loc["a_traffic", "on_scene_h"] > incidents.loc["b_collapse", "done_h"]
    fire = records.table("trips").query("kind == 'fire'")
    assert set(fire.vehicle) == {"near/fire1", "far/fire1"}

    data["dispatch"] = {"policy": "fcfs"}  # FCFS: same call time, the accident was logged first
    fcfs = simulate(variant(default_world, data)).table("incidents").set_index("incident")
    assert fcfs.loc["a_traffic", "on_scene_h"] < fcfs.loc["b_collapse", "on_scene_h"]


# -- determinism ------------------------------------------------------------------------------


def test_same_seed_same_records_different_seed_different_incidents(default_world: World
                                                                    ) -> None:
    a, b = simulate(default_world, seed=3), simulate(default_world, seed=3)
    for name, table in a.tables().items():
        pd.testing.assert_frame_equal(table, b.tables()[name], obj=name)
    c = simulate(default_world, seed=4)
    assert not a.table("incidents").equals(c.table("incidents"))


# -- metrics ----------------------------------------------------------------------------------


def test_person_relief_counts_people_covered_by_each_delivery(default_world: World) -> None:
    scenario = default_world.scenario.model_copy(  # kit main 1/person, quilt 1, tent 0.25
        update={"handout": Handout(people_per_h_per_point=None)})  # receipt = arrival here
    records = Records(horizon_h=48, settlements=[SettlementRecord("s", 10, 1.0, 3)])
    records.deliveries = [
        DeliveryRecord(3.0, 0, "d", "town", "s", "kit", 4, "t"),
        DeliveryRecord(5.0, 0, "d", "town", "s", "kit", 6, "t"),
        DeliveryRecord(6.0, 0, "d", "town", "s", "quilt", 10, "t"),
        DeliveryRecord(9.0, 0, "d", "town", "s", "tent", 2, "t"),  # covers 8 people
    ]
    table = person_relief(records, scenario)
    got = table.groupby(["initial_h", "effective_h"]).people.sum().to_dict()
    assert got == {(2.0, 8.0): 4, (4.0, 8.0): 4, (4.0, math.inf): 2}


# -- outcomes move the right way --------------------------------------------------------------


def test_outcomes_move_in_the_expected_direction(default_world: World, default_data: dict
                                                 ) -> None:
    base = mean_initial(default_world)

    closer = copy.deepcopy(default_data)
    closer["depots"][3]["location"] = [24.9409, 60.1687]  # city warehouse moves to the centre
    assert mean_initial(variant(default_world, closer)) < base

    cut = copy.deepcopy(default_data)
    for depot in cut["depots"]:
        depot["stock"]["kit"] = depot["stock"].get("kit", 0) // 3
    assert mean_initial(variant(default_world, cut)) > base

    closed = copy.deepcopy(default_data)
    closed["disruptions"].append({"id": "bridge", "window": {"start_h": 0},
                                  "road_classes": ["secondary"], "factor": 4.0})
    assert mean_initial(variant(default_world, closed)) > base

    failed = copy.deepcopy(default_data)
    failed["depots"][4]["no_show_prob"] = 1.0
    assert mean_initial(variant(default_world, failed)) > base


def test_helicopters_fly_straight_and_boats_sail_from_harbours(default_world: World,
                                                               default_data: dict) -> None:
    """Air and sea trips take great-circle distance at the vessel's speed plus mobilisation."""
    from sim.network import haversine_m

    data = copy.deepcopy(default_data)
    data["depots"], data["settlements"], data["generators"], data["disruptions"] = [], [], [], []
    data["helipads"] = [{"id": "pad", "location": [24.9515, 60.1787],
                         "helicopters": {"count": 1, "speed_kmh": 200, "mobilisation_h": 0.5}}]
    data["incident_types"] = [{"id": "medevac", "needs": [{"team": "helicopter"}],
                               "work_h": 0.5, "work_cv": 0}]
    data["incidents"] = [
        {"id": "evac", "type": "medevac", "location": [24.9388, 60.1660], "time_h": 2},
        {"id": "ferry", "type": "sea", "location": [24.9700, 60.1590], "time_h": 3},
    ]
    records = simulate(variant(default_world, data))
    got = records.table("incidents").set_index("incident")
    air_km = float(haversine_m(24.9515, 60.1787, 24.9388, 60.1660)) / 1000
    assert got.loc["evac", "first_arrival_h"] == pytest.approx(2 + 0.5 + air_km / 200)
    harbour = default_data["water_stations"][0]
    boats = harbour["boats"]
    sea_km = float(haversine_m(*harbour["location"], 24.9700, 60.1590)) / 1000
    assert got.loc["ferry", "first_arrival_h"] == pytest.approx(
        3 + boats["mobilisation_h"] + sea_km / boats["speed_kmh"])


def test_route_cache_stays_bounded_with_random_closures(default_world: World,
                                                        default_data: dict) -> None:
    from sim.model.roads import MAX_CACHED_STATES

    data = copy.deepcopy(default_data)
    data["disruptions"] = [{"id": "random", "window": {"start_h": 1, "end_h": 5},
                            "near": [24.945, 60.170], "radius_m": 600, "share": 0.5}]
    world = variant(default_world, data)
    world.route_cache.clear()
    for replication in range(MAX_CACHED_STATES + 5):
        simulate(world, replication=replication)
    assert len(world.route_cache) <= MAX_CACHED_STATES


def test_generated_incidents_keep_to_their_window_and_their_circle(
        default_world: World, default_data: dict) -> None:
    """A generator's calls fall inside its time window (never after ``end_h``, however long
    the horizon) and, with ``near`` and ``radius_m``, its incidents lie within that circle."""
    from sim.model.incidents import sample_incidents
    from sim.network import haversine_m

    centre = [24.9388, 60.1660]
    data = copy.deepcopy(default_data)
    data["incidents"] = []
    data["generators"] = [
        {"type": "flood_rescue", "rate_per_h": 2.0, "locate_on": "settlements",
         "window": {"start_h": 3, "end_h": 9}},
        {"type": "road_traffic", "rate_per_h": 2.0, "locate_on": "roads", "near": centre,
         "radius_m": 300}]
    world = variant(default_world, data)
    assert world.scenario.horizon_h > 20
    found = sample_incidents(world, seed=5, replication=0)
    windowed = [i.call_h for i in found if i.type == "flood_rescue"]
    near = np.array([(i.lon, i.lat) for i in found if i.type == "road_traffic"])
    assert len(windowed) >= 5 and all(3 <= t <= 9 for t in windowed)
    assert len(near) >= 20
    assert haversine_m(centre[0], centre[1], near[:, 0], near[:, 1]).max() <= 300


def test_every_trip_names_the_base_it_left(default_world: World) -> None:
    """Trucks, teams, boats and helicopters: each trip record names the depot or base the
    vehicle belongs to (its name begins with it)."""
    records = simulate(default_world, replication=0)
    kinds = {t.kind for t in records.trips}
    assert "truck" in kinds and len(kinds) > 1
    assert all(t.base == t.vehicle.split("/")[0] for t in records.trips)
