"""Evacuation and shelters (issue #19) on the real Nanjing extract: walking times and the
shelter door against an independent calculation (networkx and the queue by hand), capacity
and overflow, people without a place, invalid orders, relief at shelters through the
dispatcher, buses, and the shipped scenario."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest
import simpy
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim.cli import app
from sim.errors import ScenarioError
from sim.metrics import evacuation_summary, kpis, person_relief, resource_summary
from sim.model import simulate
from sim.model.evacuation import RUN_STEP_H, door_times, evacuation_plan
from sim.run import run_replication, save_run
from sim.scenario import (
    M2_PER_PERSON,
    load_scenario,
    parse_scenario,
    pre_run_warnings,
)
from sim.uncertainty import draw, number_at
from sim.walking import WALK_KMH, walk_basis, walk_times_h
from sim.world import World, build_world

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "scenarios" / "nanjing_evacuation.yaml"
KIT = {"id": "kit", "name": "食品饮用水包", "unit_kg": 6, "per_person": 1, "main": True}
QUILT = {"id": "quilt", "name": "棉被", "unit_kg": 2.5, "per_person": 1, "main": False,
         "daily": False}
# places on the Nanjing extract (builtin:nanjing; from the shipped scenarios)
WULAOCUN = [118.7948, 32.0388]
SANTIAOXIANG = [118.7953, 32.0367]
HANZHONGMEN = [118.7686, 32.0403]
JIUZHONG = [118.7875, 32.0449]
NO9_SCHOOL = [118.7875, 32.0449]
JINLING_SCHOOL = [118.7768, 32.0503]
CHAOTIANGONG = [118.7745, 32.0395]
DISTRICT = [118.7841, 32.0498]
NOW = {"people_per_h_per_point": None}  # receipt = availability


def scenario(shelters: list[dict], settlements: list[dict], **extra: Any) -> dict[str, Any]:
    return {"name": "evacuation", "horizon_h": 48, "network": {"source": "builtin:nanjing"},
            "commodities": [KIT], "shelters": shelters, "settlements": settlements,
            "handout": NOW, **extra}


@pytest.fixture(scope="module")
def nanjing(tmp_path_factory: pytest.TempPathFactory) -> World:
    """The shipped evacuation scenario on builtin:nanjing (its walking network when the
    extract has one); tests place their own scenarios on it."""
    return build_world(load_scenario(SHIPPED), cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def place(nanjing: World):  # type: ignore[no-untyped-def]
    def placed(data: dict[str, Any]) -> World:
        return nanjing.with_scenario(parse_scenario(data))
    return placed


def walked_graph(world: World) -> tuple[nx.MultiGraph, Any]:
    """The network the model walked (``world.walk``, else the roads), undirected."""
    network = world.walk if world.walk is not None else world.road
    return network.graph.to_undirected(as_view=False), network


def walk_node(world: World, site: str) -> int:
    """OSM id of the site's node on the walked network (its snapping is the world's)."""
    if world.walk is not None:
        return int(world.walk.node_ids[world.walk_nodes[site]])
    return int(world.road.node_ids[world.node(site)])


def door_by_hand(arrivals: list[float], open_h: float, per_h: float) -> list[float]:
    """Person k admitted at max(arrival_k, open, previous + 1/rate), arrivals in order."""
    out: list[float] = []
    for a in arrivals:
        out.append(max(a, open_h, out[-1] + 1 / per_h) if out else max(a, open_h))
    return out


# == walking and the door against an independent calculation ==================================


def test_walking_times_and_the_door_equal_networkx_and_the_queue_by_hand(place) -> None:
    """Two settlements walk to two shelters; the nearer one is too small, so 五老村 overflows
    to the next. Every group's arrivals and admissions equal the networkx shortest walking
    path / 4.5 km/h plus the door queue worked person by person."""
    shelters = [
        {"id": "no9", "location": NO9_SCHOOL, "capacity_people": 30, "opening_delay_h": 0.6,
         "intake_per_h": 40},
        {"id": "jinling", "location": JINLING_SCHOOL, "capacity_people": 100,
         "opening_delay_h": 0.0, "intake_per_h": 50},
    ]
    settlements = [
        {"id": "wulaocun", "location": WULAOCUN, "people": 60, "urgency": 4,
         "evacuation": {"order_h": 0.2, "share": 0.75, "depart_over_h": 0.5}},
        {"id": "jiuzhong", "location": JIUZHONG, "people": 20,
         "evacuation": {"order_h": 0.4, "share": 1.0, "depart_over_h": 0.0}},
    ]
    world = place(scenario(shelters, settlements))
    records = simulate(world)
    graph, _ = walked_graph(world)
    walk = {(s, h): nx.shortest_path_length(graph, walk_node(world, s), walk_node(world, h),
                                            weight="length") / 1000 / WALK_KMH
            for s in ("wulaocun", "jiuzhong") for h in ("no9", "jinling")}
    # Assignment by hand: 五老村 first (earlier order), nearest shelter with room first.
    room = {"no9": 30, "jinling": 100}
    arrivals: dict[str, list[tuple[float, str]]] = {"no9": [], "jinling": []}
    expected_groups = []
    for s, n, order, spread in (("wulaocun", 45, 0.2, 0.5), ("jiuzhong", 20, 0.4, 0.0)):
        person = 0
        for h in sorted(room, key=lambda h: walk[(s, h)]):
            take = min(n - person, room[h])
            if take == 0:
                continue
            room[h] -= take
            times = [order + spread * (person + i) / n + walk[(s, h)] for i in range(1, take + 1)]
            arrivals[h] += [(t, s) for t in times]
            expected_groups.append((s, h, take, times))
            person += take
    assert [(g[0], g[1], g[2]) for g in expected_groups] == [
        ("wulaocun", "no9", 30), ("wulaocun", "jinling", 15), ("jiuzhong", "jinling", 20)]
    admitted: dict[tuple[str, str], list[float]] = {}
    for h, spec in (("no9", shelters[0]), ("jinling", shelters[1])):
        order = sorted(arrivals[h], key=lambda a: a[0])  # stable: assignment order on ties
        times = door_by_hand([t for t, _ in order], spec["opening_delay_h"], spec["intake_per_h"])
        for (_, s), t in zip(order, times, strict=True):
            admitted.setdefault((s, h), []).append(t)
    table = records.table("evacuation").set_index(["settlement", "shelter"])
    for s, h, take, times in expected_groups:
        row = table.loc[(s, h)]
        assert row.people == take and row.admitted == take
        assert row.travel_h == pytest.approx(walk[(s, h)], abs=1e-9)
        assert row.arrive_first_h == pytest.approx(times[0], abs=1e-9)
        assert row.arrive_last_h == pytest.approx(times[-1], abs=1e-9)
        assert row.admitted_first_h == pytest.approx(admitted[(s, h)][0], abs=1e-9)
        assert row.admitted_last_h == pytest.approx(admitted[(s, h)][-1], abs=1e-9)
        # every recorded batch: its last person's admission, spanning at most RUN_STEP_H
        runs = records.table("evacuees").query("settlement == @s and shelter == @h")
        ends = np.cumsum(runs.people.to_numpy())
        assert ends[-1] == take
        starts = np.r_[0, ends[:-1]]
        hand = np.array(admitted[(s, h)])
        np.testing.assert_allclose(runs.admitted_h, hand[ends - 1], atol=1e-9)
        assert (runs.admitted_h.to_numpy() - hand[starts] <= RUN_STEP_H + 1e-9).all()
    summary = evacuation_summary(records, world.scenario)
    assert summary is not None
    last = max(t for times in admitted.values() for t in times)
    assert summary["evacuation_complete_h"] == pytest.approx(last - 0.2, abs=1e-9)
    waits = [t - (0.2 if s == "wulaocun" else 0.4)
             for (s, _), times in admitted.items() for t in times]
    target = world.scenario.targets.evacuation_h
    assert summary["evacuation_within"] == pytest.approx(
        sum(w <= target + 1e-9 for w in waits) / 65)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(arrive=st.lists(st.floats(0, 10, allow_nan=False), min_size=1, max_size=40),
       open_h=st.floats(0, 5), per_h=st.floats(0.5, 100))
def test_door_closed_form_equals_the_recursion(arrive: list[float], open_h: float,
                                               per_h: float) -> None:
    arrive = sorted(arrive)
    got = door_times(np.array(arrive), np.ones(len(arrive), dtype=int), open_h, per_h)
    np.testing.assert_allclose(got, door_by_hand(arrive, open_h, per_h), atol=1e-9)


# == capacity and overflow ====================================================================


SITES = [WULAOCUN, SANTIAOXIANG, HANZHONGMEN, JIUZHONG, JINLING_SCHOOL, CHAOTIANGONG]


@settings(max_examples=120, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.data())
def test_capacity_is_never_exceeded_and_overflow_goes_to_the_next_nearest(place, data) -> None:
    n_shelters = data.draw(st.integers(1, 3), label="shelters")
    shelters = [{"id": f"h{k}", "location": data.draw(st.sampled_from(SITES)),
                 "capacity_people": data.draw(st.integers(0, 400)),
                 "opening_delay_h": data.draw(st.sampled_from([0.0, 0.5, 2.0])),
                 "intake_per_h": data.draw(st.sampled_from([None, 50.0, 600.0]))}
                for k in range(n_shelters)]
    settlements = []
    for k in range(data.draw(st.integers(1, 4), label="settlements")):
        order = {"order_h": data.draw(st.sampled_from([0.0, 0.5, 1.0, 3.0])),
                 "share": data.draw(st.sampled_from([0.0, 0.3, 0.5, 1.0])),
                 "depart_over_h": data.draw(st.sampled_from([0.0, 1.0])),
                 "stay_days": data.draw(st.integers(1, 2))}
        if data.draw(st.booleans(), label="restricted"):
            order["shelters"] = data.draw(st.lists(
                st.sampled_from([f"h{j}" for j in range(n_shelters)]), min_size=1, max_size=3))
        settlements.append({"id": f"s{k}", "location": data.draw(st.sampled_from(SITES)),
                            "people": data.draw(st.integers(1, 500)),
                            "urgency": data.draw(st.integers(1, 5)), "evacuation": order})
    world = place(scenario(shelters, settlements, horizon_h=30))
    spec = world.scenario
    records = simulate(world)
    groups = records.table("evacuation")
    capacity = {h.id: h.capacity for h in spec.shelters}
    for row in records.shelters:
        assert row.assigned <= capacity[row.shelter]
        assert row.admitted <= row.assigned and row.peak <= capacity[row.shelter]
    # The rule replayed: in order of orders (urgent first, then name), nearest with room first.
    walk = walk_times_h(world, [s.id for s in spec.settlements], list(capacity))
    room = dict(capacity)
    expected = []
    for s in sorted(spec.settlements, key=lambda s: (s.evacuation.order_h, -s.urgency, s.id)):
        left = math.floor(s.people * s.evacuation.share + 0.5)
        row = walk[[x.id for x in spec.settlements].index(s.id)]
        allowed = s.evacuation.shelters if s.evacuation.shelters is not None else list(capacity)
        for k in sorted(range(len(capacity)), key=lambda k: (row[k], k)):
            h = f"h{k}"
            if h not in allowed or not math.isfinite(row[k]) or left == 0:
                continue
            take = min(left, room[h])
            if take:
                expected.append((s.id, h, take))
                room[h] -= take
                left -= take
        if left:
            expected.append((s.id, "", left))
    assert list(zip(groups.settlement, groups.shelter, groups.people, strict=True)) == expected
    # people stay home only when every allowed, reachable shelter is full
    placed = groups[groups.shelter != ""].groupby("shelter").people.sum()
    for s, h, _ in expected:
        if h == "":
            allowed = [h for h in (next(x for x in spec.settlements if x.id == s)
                                   .evacuation.shelters or list(capacity))]
            assert all(placed.get(a, 0) == capacity[a] for a in allowed
                       if math.isfinite(walk[int(s[1:]), int(a[1:])]))


# == 5,000 people and one 10-person shelter ===================================================


def crowded() -> dict[str, Any]:
    return scenario([{"id": "gym", "name": "体育馆", "location": NO9_SCHOOL,
                      "capacity_people": 10}],
                    [{"id": "wulaocun", "name": "五老村", "location": WULAOCUN, "people": 5000,
                      "evacuation": {"order_h": 0.5}}])


def test_a_10_person_shelter_for_5000_people_warns_and_leaves_4990_without_a_place(
        place, tmp_path: Path) -> None:
    data = crowded()
    message = ("shelters: 5,000 people are ordered to evacuate to shelters that hold 10 "
               "(体育馆 (gym) 10); at least 4,990 will be without a place")
    assert any(w.startswith(message) for w in pre_run_warnings(parse_scenario(data)))
    path = tmp_path / "crowded.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    cache = ["--cache-dir", str(tmp_path / "cache")]
    result = CliRunner().invoke(app, ["validate", str(path), *cache, "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "4,990 will be without a place" in " ".join(result.output.split())
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "out"), *cache])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    evacuation = summary["evacuation"]
    assert evacuation["people_without_place"] == 4990
    assert evacuation["people_sheltered"] == 10
    assert evacuation["shelters"][0] | {"peak_h": None} == {
        "shelter": "gym", "name": "体育馆", "category": None, "capacity": 10, "assigned": 10,
        "admitted": 10, "peak": 10, "peak_h": None, "peak_share": 1.0}
    assert evacuation["walk_basis"] in ("walk", "road")
    kpi = next(k for k in summary["kpis"] if k["kpi"] == "evacuation")
    assert kpi["n"] == 5000 and kpi["never"] == 4990 and kpi["share_within"] == 10 / 5000
    # the 4,990 stay home and are supplied there; the 10 at the shelter
    records = simulate(place(data))
    assert [(s.settlement, s.people) for s in records.settlements] == [("wulaocun", 4990)]
    # those without a place have no shelter and no travel time (a number: NaN, not None)
    (home,) = [g for g in records.evacuation if not g.shelter]
    assert home.people == 4990 and math.isnan(home.travel_h)
    relief = person_relief(records, place(data).scenario)
    assert relief.groupby("settlement").people.sum().to_dict() == {"gym": 10, "wulaocun": 4990}


# == invalid inputs: one precise message each =================================================


def error_of(data: dict, tmp_path: Path) -> str:
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return str(info.value).removeprefix(f"{path}: ")


def order(**fields: Any) -> dict[str, Any]:
    data = crowded()
    data["settlements"][0]["evacuation"].update(fields)
    return data


@pytest.mark.parametrize(("data", "expected"), [
    (order(shelters=["gmy"]), "settlements[0].evacuation.shelters[0]: 'gmy' — unknown shelter; "
     "expected one of ['gym']; did you mean 'gym'?"),
    (order(share=1.5), "settlements[0].evacuation.share: 1.5 — expected less than or equal to 1"),
    (order(share=-0.1), "settlements[0].evacuation.share: -0.1 — expected greater than or "
     "equal to 0"),
    (order(order_h=48), "settlements[0].evacuation.order_h: 48.0 — not before horizon_h (48 h): "
     "nobody could move; expected an order within the simulated time"),
    (order(mode="bus"), "settlements[0].evacuation.mode: 'bus' — no bus fleet to carry them; "
     "add evacuation.buses (a depot or team base with its count and seats) or use mode: walk"),
    ({**order(mode="bus"), "evacuation": {"buses": [{"base": "depot9", "count": 2}]}},
     "evacuation.buses[0].base: 'depot9' — unknown depot or team base; expected one of []"),
    (order(mode="car"), "settlements[0].evacuation.mode: 'car' — expected 'walk' or 'bus'"),
    (order(stay_days=0), "settlements[0].evacuation.stay_days: 0 — expected greater than or "
     "equal to 1"),
    (order(share={"dist": "uniform", "low": 0.5, "high": 1.2}),
     "settlements[id=wulaocun].evacuation.share: its high value 1.2 is not a valid value here"),
])
def test_each_invalid_evacuation_input_gets_one_precise_message(data: dict, expected: str,
                                                                 tmp_path: Path) -> None:
    message = error_of(data, tmp_path)
    assert message.startswith(expected), message
    if "its high value" not in expected:
        assert "\n" not in message


def test_shelter_capacity_from_area_class_and_stock(tmp_path: Path) -> None:
    data = crowded()
    data["shelters"][0] = {"id": "gym", "location": NO9_SCHOOL, "area_m2": 1500,
                           "category": "Ⅱ类", "stock": {"kit": 5}}
    gym = parse_scenario(data).shelters[0]
    assert gym.capacity == 1500 / M2_PER_PERSON == 1000 and gym.category == "II"
    data["shelters"][0].update(m2_per_person=2.0, category="中心避难场所")
    gym = parse_scenario(data).shelters[0]
    assert gym.capacity == 750 and gym.category == "中心"
    data["shelters"][0]["stock"] = {"kitt": 5}
    assert error_of(data, tmp_path).startswith(
        "shelters[0].stock.kitt: 'kitt' — unknown commodity; expected one of ['kit']; "
        "did you mean 'kit'?")
    data["shelters"][0] = {"id": "gym", "location": NO9_SCHOOL}
    assert "shelters[0] (gym): neither capacity_people nor area_m2: it takes nobody" in (
        pre_run_warnings(parse_scenario(data)))


def test_an_uncertain_share_is_drawn_by_its_path(place) -> None:
    data = crowded()
    data["shelters"][0]["capacity_people"] = 5000
    data["settlements"][0]["evacuation"]["share"] = {"dist": "uniform", "low": 0.2, "high": 0.6}
    spec = parse_scenario(data)
    path = "settlements[id=wulaocun].evacuation.share"
    assert list(spec.uncertain) == [path]
    assert number_at(spec.model_dump(mode="json"), path) == pytest.approx(0.4)
    shares = set()
    for r in range(5):
        drawn = draw(spec, 1, r)
        share = drawn.settlements[0].evacuation.share
        assert 0.2 <= share <= 0.6
        plan = evacuation_plan(place(drawn.model_dump(mode="json")))
        assert plan.groups[0].people == math.floor(5000 * share + 0.5)
        shares.add(share)
    assert len(shares) == 5


# == relief to shelters =======================================================================


def test_sheltered_people_are_supplied_at_the_shelter_own_stock_first(place) -> None:
    """Half of 100 people walk to a shelter holding 30 kits; they stay two days. Their kits
    for day 0 (30 from the shelter, 20 by truck) and day 1 (50 by truck, 24 h after they
    arrived) and their quilts (once) reach the shelter through the dispatcher; the 50 who
    stay get 50 kits and quilts at home. Stock is conserved, the shelter's included."""
    data = scenario(
        [{"id": "school", "location": JINLING_SCHOOL, "capacity_people": 200,
          "stock": {"kit": 30}, "intake_per_h": None}],
        [{"id": "wulaocun", "location": WULAOCUN, "people": 100,
          "evacuation": {"order_h": 1.0, "share": 0.5, "depart_over_h": 0.0, "stay_days": 2}}],
        commodities=[KIT, QUILT],
        depots=[{"id": "district", "tier": "county", "location": DISTRICT,
                 "stock": {"kit": 1000, "quilt": 1000},
                 "trucks": {"count": 1, "capacity_kg": 2000, "load_h": 0.5, "unload_h": 0.25}}])
    world = place(data)
    records = simulate(world)
    arrival = records.evacuation[0].arrive_first_h
    assert [(n.time_h, n.day, n.people) for n in records.shelter_needs] == [
        (arrival, 0, 50), (pytest.approx(arrival + 24), 1, 50)]
    deliveries = records.table("deliveries")
    at_school = deliveries[deliveries.settlement == "school"]
    own = at_school[at_school.depot == "school"]
    assert own[["time_h", "dispatched_h", "commodity", "qty", "tier", "truck"]].values.tolist() \
        == [[arrival, arrival, "kit", 30.0, "shelter", ""]]  # handed over, no vehicle
    trucked = at_school[at_school.depot == "district"]
    assert (trucked.dispatched_h >= arrival - 1e-9).all()
    assert trucked.groupby("commodity").qty.sum().to_dict() == pytest.approx(
        {"kit": 20 + 50, "quilt": 50})
    day1 = trucked[trucked.dispatched_h >= arrival + 24 - 1e-9]
    assert day1.groupby("commodity").qty.sum().to_dict() == pytest.approx({"kit": 50})
    at_home = deliveries[deliveries.settlement == "wulaocun"]
    assert at_home.groupby("commodity").qty.sum().to_dict() == pytest.approx(
        {"kit": 50, "quilt": 50})
    ledger = records.table("ledger")
    np.testing.assert_allclose(ledger.initial + ledger.produced,
                               ledger.delivered + ledger.in_transit + ledger.remaining, atol=1e-6)
    assert ledger.delivered.sum() == pytest.approx(deliveries.qty.sum())
    school = ledger[ledger.depot == "school"].iloc[0]
    assert (school.initial, school.delivered, school.remaining) == (30, 30, 0)
    # person relief at the shelter: 30 on arrival (own stock), 20 when the truck unloads
    relief = person_relief(records, world.scenario)
    shelter = relief[relief.settlement == "school"]
    first_truck = trucked[trucked.commodity == "kit"].time_h.min()
    assert shelter.groupby("initial_h").people.sum().to_dict() == pytest.approx(
        {arrival - 0.0: 30, first_truck: 20})  # onset 0: hours since the start
    assert relief.people.sum() == 100
    resources = resource_summary(records, world.scenario)
    assert resources["people_affected"] == 100
    assert resources["unmet_kit"] == pytest.approx(0) and resources["unmet_quilt"] == 0


def test_evacuees_get_goods_only_once_admitted(place) -> None:
    """Goods waiting at a shelter that opens late reach nobody before it opens."""
    data = scenario(
        [{"id": "school", "location": JINLING_SCHOOL, "capacity_people": 200,
          "stock": {"kit": 100}, "opening_delay_h": 5.0, "intake_per_h": 60}],
        [{"id": "wulaocun", "location": WULAOCUN, "people": 30,
          "evacuation": {"order_h": 0.0, "depart_over_h": 0.0}}])
    world = place(data)
    records = simulate(world)
    relief = person_relief(records, world.scenario)
    admitted = [5.0 + k / 60 for k in range(30)]
    got = np.repeat(relief.initial_h.to_numpy(), relief.people.to_numpy())
    assert got.min() >= 5.0 - 1e-9
    assert (got >= np.array(admitted) - 1e-9).all() and (got <= np.array(admitted) + 0.1).all()
    # their needs arise at the shelter when the first of them gets there (ordered at 0, so
    # well within the first hour), not when it opens
    assert [n.time_h for n in records.shelter_needs] == [records.evacuation[0].arrive_first_h]
    assert records.shelter_needs[0].time_h < 1.0


def test_a_shelter_stock_of_one_kit_is_used_and_a_zero_stock_is_not_booked(place) -> None:
    data = scenario(
        [{"id": "school", "location": JINLING_SCHOOL, "capacity_people": 200,
          "stock": {"kit": 1, "quilt": 0}, "intake_per_h": None}],
        [{"id": "wulaocun", "location": WULAOCUN, "people": 10,
          "evacuation": {"order_h": 0.0, "depart_over_h": 0.0}}],
        commodities=[KIT, QUILT],
        depots=[{"id": "district", "tier": "county", "location": DISTRICT,
                 "stock": {"kit": 100, "quilt": 100}, "trucks": {"count": 1}}])
    records = simulate(place(data))
    deliveries = records.table("deliveries")
    own = deliveries[deliveries.depot == "school"]
    assert own[["commodity", "qty"]].values.tolist() == [["kit", 1.0]]
    ledger = records.table("ledger")
    assert ledger[ledger.depot == "school"][["commodity", "initial", "delivered"]
                                            ].values.tolist() == [["kit", 1.0, 1.0]]
    trucked = deliveries[deliveries.depot == "district"]
    assert trucked.groupby("commodity").qty.sum().to_dict() == pytest.approx(
        {"kit": 9, "quilt": 10})


def unowned(**dispatch: Any) -> dict[str, Any]:
    """Everyone of 五老村 walks to the school; the only depot (county tier) belongs to another
    district (with one person of its own, supplied at once), so no depot is 五老村's own (its
    first tier is unknown)."""
    return scenario(
        [{"id": "school", "location": JINLING_SCHOOL, "capacity_people": 200,
          "intake_per_h": None}],
        [{"id": "wulaocun", "location": WULAOCUN, "people": 10, "area": "玄武区",
          "evacuation": {"order_h": 3.0, "depart_over_h": 0.0}},
         {"id": "chaotiangong", "location": CHAOTIANGONG, "people": 1, "area": "秦淮区"}],
        depots=[{"id": "district", "tier": "county", "area": "秦淮区", "location": DISTRICT,
                 "stock": {"kit": 100}, "trucks": {"count": 1}}],
        dispatch=dispatch)


def test_a_shelter_whose_people_no_depot_owns_starts_at_the_lowest_tier_there_is(place) -> None:
    """The school's requests start at the county tier (the lowest with a depot), where the
    other district's depot supports them (if earlier than an own depot: there is none)."""
    world = place(unowned())
    assert world.service.first_tier("wulaocun") is None
    records = simulate(world)
    trucked = records.table("deliveries").query("settlement == 'school'")
    assert set(trucked.depot) == {"district"} and trucked.qty.sum() == pytest.approx(10)


def test_support_after_a_delay_reaches_a_shelter_when_the_delay_is_over(place) -> None:
    """With support only after 2 h of waiting, the other district's truck leaves for the
    school exactly 2 h after its needs arise (nothing else happens then to prompt it)."""
    world = place(unowned(support="after_delay", support_delay_h=2.0))
    records = simulate(world)
    arrival = records.shelter_needs[0].time_h
    assert arrival > 3.0
    trucked = records.table("deliveries").query("settlement == 'school'")
    assert trucked.dispatched_h.min() == pytest.approx(arrival + 2.0, abs=1e-9)
    assert trucked.qty.sum() == pytest.approx(10)


def test_a_shelters_secondary_need_keeps_its_later_target(place) -> None:
    """The village point loads for 8.5 h: too late for the kit's 8 h target, so the kit
    escalates to the town depot, but in time for the quilt's 10 h target, so the quilt stays
    with the village point."""
    data = scenario(
        [{"id": "school", "location": JINLING_SCHOOL, "capacity_people": 200,
          "intake_per_h": None}],
        [{"id": "wulaocun", "location": WULAOCUN, "people": 10, "area": "玄武区",
          "evacuation": {"order_h": 0.0, "depart_over_h": 0.0}}],
        commodities=[KIT, QUILT],
        depots=[{"id": "village_point", "tier": "village", "area": "玄武区",
                 "location": HANZHONGMEN, "stock": {"kit": 100, "quilt": 100},
                 "trucks": {"count": 1, "load_h": 8.5, "unload_h": 0.25}},
                {"id": "town_depot", "tier": "town", "area": "玄武区", "location": DISTRICT,
                 "stock": {"kit": 100, "quilt": 100},
                 "trucks": {"count": 1, "load_h": 0.1, "unload_h": 0.1}}])
    world = place(data)
    records = simulate(world)
    at_school = records.table("deliveries").query("settlement == 'school'")
    sources = at_school.groupby("commodity").depot.unique().to_dict()
    assert {c: list(d) for c, d in sources.items()} == {
        "kit": ["town_depot"], "quilt": ["village_point"]}
    quilt = at_school[at_school.commodity == "quilt"]
    assert (quilt.time_h - quilt.dispatched_h).max() < 10.0  # in time for its target


# == buses ====================================================================================


class CountingEnvironment(simpy.Environment):
    """Counts the processes started, by the name of their generator function."""

    def __init__(self) -> None:
        super().__init__()
        self.started: dict[str, int] = {}

    def process(self, generator):  # type: ignore[no-untyped-def,override]
        name = generator.__name__
        self.started[name] = self.started.get(name, 0) + 1
        return super().process(generator)


def test_buses_carry_at_most_their_seats_and_everyone_arrives(place) -> None:
    data = scenario(
        [{"id": "square", "location": CHAOTIANGONG, "capacity_people": 1000,
          "intake_per_h": None}],
        [{"id": "wulaocun", "location": WULAOCUN, "people": 200,
          "evacuation": {"order_h": 0.5, "share": 0.5, "mode": "bus", "depart_over_h": 0.5}}],
        depots=[{"id": "district", "tier": "county", "location": DISTRICT, "stock": {}}],
        evacuation={"buses": [{"base": "district", "count": 3, "seats": 7, "load_min": 6,
                               "unload_min": 3}]})
    world = place(data)
    env = CountingEnvironment()
    records = simulate(world, env=env)
    loads = records.table("bus_loads")
    assert (loads.people <= 7).all() and loads.people.sum() == 100
    assert env.started["_bus"] == 3  # one process per bus, none per person
    assert sum(env.started.values()) < 30
    assert set(loads.bus) == {f"district/bus{k}" for k in (1, 2, 3)}  # none holds two loads
    world.roads.set_state()
    nodes = [world.node(s) for s in ("district", "wulaocun", "square")]
    hours, km = world.roads.matrix(nodes, nodes)
    np.testing.assert_allclose(loads.arrive_h - loads.depart_h, hours[1, 2] + 3 / 60, atol=1e-9)
    for _, trips in loads.groupby("bus"):  # out from the depot, then from the shelter
        np.testing.assert_allclose(trips.km, [km[0, 1] + km[1, 2]]
                                   + [km[2, 1] + km[1, 2]] * (len(trips) - 1), rtol=1e-9)
    np.testing.assert_allclose(loads.depart_h - loads.board_h, 6 / 60, atol=1e-9)
    ready = 0.5 + 0.5 * loads.people.cumsum() / 100  # the load's last person is ready
    assert (loads.board_h >= ready - 1e-9).all()
    for _, trips in loads.groupby("bus"):  # a bus makes one trip at a time
        assert (trips.dispatched_h.to_numpy()[1:] >= trips.arrive_h.to_numpy()[:-1] - 1e-9).all()
    group = records.evacuation[0]
    assert (group.mode, group.admitted, group.arrive_last_h) == ("bus", 100, loads.arrive_h.max())
    # the group's needs arise at the shelter with its first load
    assert [(n.time_h, n.people) for n in records.shelter_needs] == [(loads.arrive_h.min(), 100)]


def test_bus_loads_go_through_the_door_person_by_person(place) -> None:
    """Bus loads (7 each) reach a shelter admitting 20 people an hour: every recorded batch
    of evacuees ends at its last person's admission worked out by hand, person by person."""
    data = scenario(
        [{"id": "square", "location": CHAOTIANGONG, "capacity_people": 1000,
          "intake_per_h": 20}],
        [{"id": "wulaocun", "location": WULAOCUN, "people": 40,
          "evacuation": {"order_h": 0.5, "share": 0.5, "mode": "bus", "depart_over_h": 0.0}}],
        depots=[{"id": "district", "tier": "county", "location": DISTRICT, "stock": {}}],
        evacuation={"buses": [{"base": "district", "count": 2, "seats": 7}]})
    records = simulate(place(data))
    loads = records.table("bus_loads")
    arrivals = sorted(t for t, n in zip(loads.arrive_h, loads.people, strict=True)
                      for _ in range(n))
    hand = np.array(door_by_hand(arrivals, 0.0, 20.0))
    runs = records.table("evacuees")
    ends = np.cumsum(runs.people.to_numpy())
    assert ends[-1] == 20
    np.testing.assert_allclose(runs.admitted_h, hand[ends - 1], atol=1e-9)
    starts = np.r_[0, ends[:-1]]
    assert (runs.admitted_h.to_numpy() - hand[starts] <= RUN_STEP_H + 1e-9).all()
    assert len(runs) > len(loads)  # a load of 7 takes 21 minutes to get in: several batches


# == the shipped scenario =====================================================================


def test_the_shipped_scenario_validates_and_runs(nanjing: World, tmp_path: Path) -> None:
    spec = nanjing.scenario
    assert {s.evacuation.mode for s in spec.settlements if s.evacuation} == {"walk", "bus"}
    assert any(h.capacity_people is None and h.area_m2 for h in spec.shelters)
    assert any(h.stock for h in spec.shelters) and spec.evacuation_settings.buses
    assert max(s.evacuation.stay_days for s in spec.settlements if s.evacuation) > 1
    assert not [w for w in nanjing.warnings if "without a place" in w]
    result = run_replication(nanjing)
    records = result.records
    summary = evacuation_summary(records, spec)
    assert summary is not None and summary["people_without_place"] == 0
    for row in summary["shelters"]:
        assert row["peak"] <= row["capacity"]
    groups = records.table("evacuation")
    assert (groups.admitted == groups.people).all()
    assert set(groups["mode"]) == {"walk", "bus"}
    assert len(groups[groups.settlement == "wulaocun"]) == 2  # the nearest school overflows
    assert "evacuation" in {k.kpi for k in result.kpis}
    assert result.relief.people.sum() == sum(s.people for s in spec.settlements)
    ledger = records.table("ledger")
    np.testing.assert_allclose(ledger.initial + ledger.produced,
                               ledger.delivered + ledger.in_transit + ledger.remaining, atol=1e-6)
    out = save_run(tmp_path / "run", nanjing, result)
    saved = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert saved["evacuation"]["walk_basis"] == walk_basis(nanjing)
    assert saved["evacuation"]["walk_kmh"] == WALK_KMH
    for table in ("evacuation", "evacuees", "shelters", "shelter_needs", "bus_loads"):
        assert (out / f"{table}.parquet").is_file()
    again = run_replication(nanjing)
    for table in ("evacuation", "evacuees", "bus_loads", "deliveries"):
        assert again.records.table(table).equals(records.table(table))


def test_a_scenario_without_orders_has_no_evacuation_outputs(place) -> None:
    data = copy.deepcopy(crowded())
    del data["settlements"][0]["evacuation"]
    world = place(data)
    records = simulate(world)
    assert not records.evacuation and not records.shelters and evacuation_plan(world).at_home == {}
    assert "evacuation" not in {k.kpi for k in kpis(records, world.scenario)}
    assert evacuation_summary(records, world.scenario) is None


def test_a_bus_skips_an_order_it_cannot_reach_for_the_next(place) -> None:
    """五老村 (urgency 5, ordered first) is cut off for the whole horizon; 汉中门's order
    comes second. The one bus cannot reach 五老村, so it goes for 汉中门 at once; 五老村's
    group is never picked up: no departure, no arrival (inf, as every never)."""
    lon, lat = WULAOCUN
    box = [[lon - 0.003, lat - 0.003], [lon + 0.003, lat - 0.003], [lon + 0.003, lat + 0.003],
           [lon - 0.003, lat + 0.003]]
    data = scenario(
        [{"id": "square", "location": CHAOTIANGONG, "capacity_people": 1000,
          "intake_per_h": None}],
        [{"id": "wulaocun", "location": WULAOCUN, "people": 20, "urgency": 5,
          "evacuation": {"order_h": 0.5, "share": 1.0, "mode": "bus", "depart_over_h": 0.0}},
         {"id": "hanzhongmen", "location": HANZHONGMEN, "people": 5, "urgency": 1,
          "evacuation": {"order_h": 0.5, "share": 1.0, "mode": "bus", "depart_over_h": 0.0}}],
        depots=[{"id": "district", "tier": "county", "location": DISTRICT, "stock": {}}],
        disruptions=[{"id": "flooded", "polygon": box, "window": {"start_h": 0.0}}],
        evacuation={"buses": [{"base": "district", "count": 1, "seats": 10}]})
    world = place(data)
    records = simulate(world)
    world.roads.set_state()
    loads = records.table("bus_loads")
    assert list(loads.settlement) == ["hanzhongmen"]
    hours, _ = world.roads.matrix([world.node("district")], [world.node("hanzhongmen")])
    assert loads.board_h.iloc[0] == pytest.approx(0.5 + float(hours[0, 0]), abs=1e-9)
    cut = next(g for g in records.evacuation if g.settlement == "wulaocun")
    assert (cut.depart_first_h, cut.arrive_first_h, cut.arrive_last_h) == (math.inf,) * 3
    assert cut.admitted == 0
