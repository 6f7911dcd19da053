"""Relief dispatch a planner would sign off (issue #15): jurisdictions, support across units,
escalation on lateness, stranded goods, and the reasons a target fails — each on the real
Helsinki network with values worked out by hand from the travel-time engine."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.errors import ScenarioError
from sim.jurisdiction import ServiceAreas
from sim.metrics import kpis
from sim.model import simulate
from sim.model.records import (
    ClosureRecord,
    CutoffRecord,
    DeliveryRecord,
    LedgerRecord,
    Records,
    SettlementRecord,
    StockRecord,
)
from sim.network import snap
from sim.scenario import parse_scenario, pre_run_warnings
from sim.shortfalls import shortfalls
from sim.world import World, service_table

ROOT = Path(__file__).resolve().parents[1]
KIT = {"id": "kit", "name": "食品饮用水包", "unit_kg": 6, "per_person": 1, "main": True}
# places on the Helsinki network (see test_realistic.py)
TOWN_POINT = [24.9472, 60.1652]
SUPPLIER = [24.9358, 60.1694]
CITY_WAREHOUSE = [24.9515, 60.1787]
KESKUSTA = [24.9409, 60.1687]
PUNAVUORI = [24.9388, 60.1660]
KLUUVI = [24.9473, 60.1708]
NOW = {"people_per_h_per_point": None}  # receipt = arrival, so times are the trucks'


def scenario(depots: list[dict], settlements: list[dict], **extra: Any) -> dict[str, Any]:
    return {"name": "dispatch", "horizon_h": 24, "network": {"source": "builtin:helsinki"},
            "commodities": [KIT], "depots": depots, "settlements": settlements,
            "handout": NOW, **extra}


def trucks(count: int = 1, capacity_kg: float = 6000, load_h: float = 0.5) -> dict[str, Any]:
    return {"count": count, "capacity_kg": capacity_kg, "load_h": load_h, "unload_h": 0.25}


def drive(world: World, a: list[float], b: list[float]) -> float:
    """Open-road drive time between two places, from the travel-time engine."""
    nodes = snap(world.road, np.array([a, b]))[0]
    world.roads.set_state()
    times, _ = world.roads.matrix([int(nodes[0])], [int(nodes[1])])
    return float(times[0, 0])


@pytest.fixture(scope="module")
def place(world: World):  # type: ignore[no-untyped-def]
    def placed(data: dict[str, Any]) -> World:
        return world.with_scenario(parse_scenario(data))
    return placed


# == jurisdictions ===========================================================================


def test_service_areas_follow_units_and_else_travel_time(place, world: World) -> None:
    """A village point serves its own community, the town point its town; two county depots
    without units split the settlements by road travel time."""
    variant = place(scenario(
        [{"id": "v1", "tier": "village", "area": "H/t1/v1", "location": TOWN_POINT,
          "stock": {"kit": 10}, "trucks": trucks()},
         {"id": "t1", "tier": "town", "area": "H/t1", "location": TOWN_POINT,
          "stock": {"kit": 10}, "trucks": trucks()},
         {"id": "cA", "tier": "county", "location": SUPPLIER, "stock": {"kit": 10},
          "trucks": trucks()},
         {"id": "cB", "tier": "county", "location": CITY_WAREHOUSE, "stock": {"kit": 10},
          "trucks": trucks()}],
        [{"id": "s1", "area": "H/t1/v1", "location": KESKUSTA, "people": 10},
         {"id": "s2", "area": "H/t1/v2", "location": PUNAVUORI, "people": 10},
         {"id": "s3", "area": "H/t2/v3", "location": CITY_WAREHOUSE, "people": 10}]))
    owners = variant.service.owners
    assert owners["s1"]["village"] == ("v1",) and "village" not in owners["s2"]
    assert owners["s1"]["town"] == owners["s2"]["town"] == ("t1",)
    assert "town" not in owners["s3"] and variant.service.first_tier("s3") == "county"
    for s, site in (("s1", KESKUSTA), ("s2", PUNAVUORI), ("s3", CITY_WAREHOUSE)):
        nearest = min(("cA", "cB"), key=lambda d: (drive(
            variant, SUPPLIER if d == "cA" else CITY_WAREHOUSE, site), d))
        assert owners[s]["county"] == (nearest,)
    table = {row.depot: row for row in service_table(variant)}
    assert table["v1"].basis == "area" and table["cA"].basis == "travel time"
    assert table["t1"].settlements == ["s1", "s2"]
    assert sum(row.people for row in table.values()) == 10 + 20 + 30  # each once per tier


def support_case(rule: str, **rules: Any) -> dict[str, Any]:
    """A village point in v1 with plenty; a settlement of v2 whose own depot is the county's
    far away; the village point is another unit's."""
    return scenario(
        [{"id": "v1", "tier": "village", "area": "H/t1/v1", "location": KESKUSTA,
          "stock": {"kit": 500}, "trucks": trucks(2)},
         {"id": "county", "tier": "county", "location": CITY_WAREHOUSE, "stock": {"kit": 500},
          "trucks": trucks(load_h=1.5)},
         {"id": "other", "tier": "village", "area": "H/t1/v2x", "location": CITY_WAREHOUSE,
          "stock": {"kit": 0}, "trucks": trucks(0)}],
        [{"id": "home", "area": "H/t1/v1", "location": KESKUSTA, "people": 10},
         {"id": "s2", "area": "H/t1/v2", "location": PUNAVUORI, "people": 100},
         {"id": "s3", "area": "H/t1/v2x", "location": CITY_WAREHOUSE, "people": 1}],
        dispatch={"support": rule, "escalation_delay_h": {"county": 0.5}, **rules})


def sources_of(records: Records, settlement: str) -> list[tuple[str, float]]:
    return [(d.depot, d.dispatched_h) for d in records.deliveries if d.settlement == settlement]


def test_support_never_after_a_delay_or_when_sooner(place) -> None:
    """s2 (unit v2) has no village point of its own: it starts at the county tier, whose
    warehouse takes 1.5 h to load; the village point of v1 next door may help only as the
    rule says."""
    never = simulate(place(support_case("never")))
    assert {d for d, _ in sources_of(never, "s2")} == {"county"}
    late = simulate(place(support_case("after_delay", support_delay_h=1.5)))
    assert all(d == "county" or t >= 1.5 - 1e-9 for d, t in sources_of(late, "s2"))
    sooner = simulate(place(support_case("if_earlier", support_margin_h=0.1)))
    first = sources_of(sooner, "s2")[0]
    assert first == ("v1", 0.0)  # next door, much sooner than the county warehouse
    wide = simulate(place(support_case("if_earlier", support_margin_h=5.0)))
    assert sources_of(wide, "s2")[0][0] == "county"  # not sooner by five hours


# == escalation on lateness (the district example) ====================================


def lateness_case(late: bool) -> dict[str, Any]:
    """A village point next to 市中心 with plenty of kits but one small truck (100 kits a
    trip); the county warehouse with six big trucks; 3,000 people in 市中心."""
    return scenario(
        [{"id": "point", "tier": "village", "location": KESKUSTA, "stock": {"kit": 5000},
          "trucks": trucks(1, 600, 0.3)},
         {"id": "county", "tier": "county", "location": CITY_WAREHOUSE, "stock": {"kit": 5000},
          "trucks": trucks(6, 8000, 0.5)}],
        [{"id": "centre", "location": KESKUSTA, "people": 3000}],
        dispatch={"escalate_if_late": late, "escalation_delay_h": {"county": 0.5}})


def test_a_slow_lower_tier_escalates_when_it_would_be_late(place) -> None:
    old = simulate(place(lateness_case(False)))
    new = simulate(place(lateness_case(True)))
    # stock alone never escalates: the point's truck makes all 30 trips
    assert {d.depot for d in old.deliveries} == {"point"} and len(old.deliveries) == 30
    # 30 trips of ~0.6 h are far beyond 8 h: the county opens at 0.5 h and its trucks go
    county = [d for d in new.deliveries if d.depot == "county"]
    assert county and min(d.dispatched_h for d in county) == pytest.approx(0.5)
    share = {name: next(k for k in kpis(r, place(lateness_case(flag)).scenario)
                        if k.kpi == "initial_relief").share_within
             for name, r, flag in (("old", old, False), ("new", new, True))}
    assert share["old"] < 0.5 and share["new"] == 1.0


# == stranded goods ==========================================================================


def test_a_cut_off_truck_waits_then_brings_its_goods_back(place, world: World) -> None:
    """The settlement is closed off 0.1 h after the truck sets off, for 10 h: the truck waits
    stranded_wait_h (1 h), drives back, and its kits go back into stock for later."""
    closes = 0.5 + drive(world, CITY_WAREHOUSE, PUNAVUORI) / 2  # half way there
    data = scenario(
        [{"id": "county", "tier": "county", "location": CITY_WAREHOUSE, "stock": {"kit": 100},
          "trucks": trucks(1, 6000, 0.5)}],
        [{"id": "s", "location": PUNAVUORI, "people": 50}],
        disruptions=[{"id": "flooded", "near": PUNAVUORI, "radius_m": 150,
                      "window": {"start_h": closes, "end_h": closes + 10}}],
        dispatch={"stranded_wait_h": 1.0})
    records = simulate(place(data))
    (back,) = records.returns
    assert back.qty == 50 and back.settlement == "s"
    assert (back.depot, back.commodity) == ("county", "kit")
    # it finishes the edge it is on, then waits 1 h
    assert closes + 1.0 - 1e-9 <= back.stranded_h <= closes + 1.0 + 0.05
    assert back.back_h > back.stranded_h
    stock_when_back = [r.level for r in records.stock if r.time_h == back.back_h]
    assert stock_when_back and stock_when_back[-1] == pytest.approx(100)
    (delivered,) = records.deliveries  # once the road is open again
    assert delivered.dispatched_h >= closes + 10 - 1e-9 and delivered.qty == 50
    for row in records.ledger:
        assert row.initial == pytest.approx(row.delivered + row.in_transit + row.remaining)
    assert back.truck == "county/truck1"
    trips = [t for t in records.trips if t.start_h == 0.0]
    assert [t.vehicle for t in records.trips] == ["county/truck1"] * 2
    (first,) = trips
    assert first.end_h == back.back_h and first.km > 0.3  # out part-way, and back


# == escalation on lateness, at the deadline ==================================================


@pytest.mark.parametrize(("loads", "trucks_n", "margin", "escalates"), [
    (2, 1, +0.01, False), (2, 1, -0.01, True),   # exactly two truckloads, one truck: 2 rounds
    (3, 1, +0.01, False), (3, 1, -0.01, True),   # three rounds
    (1, 1, +0.01, False), (1, 1, -0.01, True),   # one load
    (3, 2, +0.01, False), (3, 2, -0.01, True),   # three loads on two trucks: two rounds
])
def test_a_need_escalates_exactly_when_its_tier_would_finish_late(
        place, world: World, loads: int, trucks_n: int, margin: float, escalates: bool) -> None:
    """The village point would deliver the whole need (``loads`` truckloads of 100 kits on
    ``trucks_n`` trucks) at ETA + (rounds − 1) × cycle, with ETA = load + drive + unload and
    cycle = load + 2 × drive + unload. With the target just after that, the county is never
    called; just before, it is (after its 0 h delay) and sends goods."""
    drive_h = drive(world, SUPPLIER, PUNAVUORI)
    rounds = -(-loads // trucks_n)
    finish = 0.4 + drive_h + 0.25 + (rounds - 1) * (0.4 + 2 * drive_h + 0.25)
    data = scenario(
        [{"id": "point", "tier": "village", "location": SUPPLIER, "stock": {"kit": 1000},
          "trucks": {"count": trucks_n, "capacity_kg": 600, "load_h": 0.4, "unload_h": 0.25}},
         {"id": "county", "tier": "county", "location": CITY_WAREHOUSE, "stock": {"kit": 1000},
          "trucks": trucks(2, 6000, 0.1)}],
        [{"id": "s", "location": PUNAVUORI, "people": 100 * loads}],
        targets={"initial_relief_h": finish + margin},
        dispatch={"escalation_delay_h": {"county": 0.0}})
    records = simulate(place(data))
    county = [d.dispatched_h for d in records.deliveries if d.depot == "county"]
    assert bool(county) == escalates
    if escalates:  # called at the onset, on the estimate — not later, once visibly late
        assert min(county) == 0.0


# == contract reserves and production in small amounts ========================================


def test_fractional_contract_stock_and_slow_production_arrive(place) -> None:
    """Half a unit of contract stock and 0.5 units per hour of production are goods too."""
    data = scenario(
        [{"id": "supplier", "tier": "county", "kind": "contract", "location": SUPPLIER,
          "stock": {"kit": 0.5}, "activation_delay_h": 1.0, "production_per_h": {"kit": 0.5},
          "trucks": trucks(1, 6000, 0.1)}],
        [{"id": "s", "location": KESKUSTA, "people": 2}])
    records = simulate(place(data))
    (ledger,) = [r for r in records.ledger if r.commodity == "kit"]
    assert ledger.initial == 0.5 and ledger.produced > 0
    assert sum(d.qty for d in records.deliveries) == pytest.approx(2.0)


def test_a_capacity_reserve_produces_from_activation_and_holds_no_stock(place) -> None:
    """产能储备: nothing before activation, then production_per_h; stock of its own or no
    production is one clear error."""
    depot = {"id": "factory", "tier": "county", "kind": "capacity", "location": SUPPLIER,
             "activation_delay_h": 2.0, "production_per_h": {"kit": 10.0},
             "trucks": trucks(1, 6000, 0.1)}
    records = simulate(place(scenario([depot], [{"id": "s", "location": KESKUSTA,
                                                 "people": 20}])))
    (ledger,) = [r for r in records.ledger if r.commodity == "kit"]
    assert ledger.initial == 0.0 and ledger.produced > 0
    first = min(d.dispatched_h for d in records.deliveries)
    assert first >= 2.0  # not before activation
    assert sum(d.qty for d in records.deliveries) == pytest.approx(20.0)
    for bad, match in (({"stock": {"kit": 5}}, "holds no stock"),
                       ({"production_per_h": {}}, "produces production_per_h")):
        with pytest.raises(ScenarioError, match=match):
            parse_scenario(scenario([{**depot, **bad}], [{"id": "s", "location": KESKUSTA,
                                                          "people": 20}]))


def test_nearest_idle_breaks_ties_by_depot_name(place) -> None:
    """Two depots at the same place, both the settlement's own (its unit's): nearest_idle
    takes the one whose name sorts first, whatever their order."""
    same = {"tier": "county", "area": "H", "location": SUPPLIER, "stock": {"kit": 100},
            "trucks": trucks()}
    data = scenario([{"id": "b_depot", **same}, {"id": "a_depot", **same}],
                    [{"id": "s", "area": "H/t1", "location": KESKUSTA, "people": 50}],
                    dispatch={"policy": "nearest_idle"})
    records = simulate(place(data))
    assert {d.depot for d in records.deliveries} == {"a_depot"}


# == bad input: one precise message ===========================================================


def test_unknown_and_inverted_units_and_dangling_rules(place) -> None:
    bad = support_case("never")
    bad["depots"][0]["area"] = "H/t1/v9"
    with pytest.raises(ScenarioError, match=r"depots\[0\]\.area.*no settlement lies in"):
        parse_scenario(bad)
    typo = support_case("never")
    typo["depots"][0]["area"] = "H/t1/v1 "
    assert parse_scenario(typo).depots[0].area == "H/t1/v1"  # spaces around parts forgiven
    near = support_case("never")
    near["depots"][0]["area"] = "H/tl/v1"
    with pytest.raises(ScenarioError, match="did you mean 'H/t1/v1'"):
        parse_scenario(near)
    inverted = support_case("never")
    inverted["depots"][1].update(tier="town", area="H/t1/v1")
    inverted["depots"][0].update(tier="village", area="H/t1")
    with pytest.raises(ScenarioError, match="village-tier depot's unit contains the town-tier"):
        parse_scenario(inverted)
    with pytest.raises(ScenarioError, match="support"):
        parse_scenario(support_case("sometimes"))
    dangling = support_case("never")
    dangling["dispatch"]["escalation_delay_h"] = {"city": 1.0}
    assert any("escalation_delay_h.city: no depot has tier 'city'" in w
               for w in pre_run_warnings(parse_scenario(dangling)))


# == why a target fails =======================================================================


def why_scenario(**extra: Any):  # type: ignore[no-untyped-def]
    return parse_scenario(scenario(
        [{"id": "v", "tier": "village", "location": KESKUSTA, "stock": {"kit": 100},
          "trucks": trucks()},
         {"id": "c", "name": "县库", "tier": "county", "location": CITY_WAREHOUSE,
          "stock": {"kit": 1000}, "trucks": trucks()}],
        [{"id": "s", "location": KESKUSTA, "people": 100}], **extra))


def records_with(*deliveries: DeliveryRecord, cutoffs: tuple[CutoffRecord, ...] = (),
                 stock: tuple[StockRecord, ...] = ()) -> Records:
    r = Records(horizon_h=24.0, settlements=[SettlementRecord("s", 100, 0.0, 3)],
                deliveries=list(deliveries), cutoffs=list(cutoffs), stock=list(stock),
                closures=[ClosureRecord("underpass", 1.0, 9.0, math.inf, 12)])
    r.ledger = [LedgerRecord("v", "kit", 100, 0, 0, 0, 100, True),
                LedgerRecord("c", "kit", 1000, 0, 0, 0, 1000, True)]
    return r


def delivery(t: float, sent: float, qty: float, depot: str = "c") -> DeliveryRecord:
    return DeliveryRecord(t, sent, depot, "county", "s", "kit", qty, "x")


def cause(records: Records, **extra: Any) -> dict[str, Any]:
    own = ServiceAreas({"s": {"village": ("v",), "county": ("c",)}}, {})
    rows = shortfalls(records, why_scenario(**extra), own)
    assert len(rows) == 1
    return rows.iloc[0].to_dict()


def test_each_binding_cause_by_hand() -> None:
    # on time: no row
    assert shortfalls(records_with(delivery(2.0, 1.0, 100)), why_scenario()).empty
    # waited 9 h for a truck while the village point still had kits
    row = cause(records_with(delivery(10.0, 9.0, 100)))
    assert (row["cause"], row["late"], row["wait_h"], row["travel_h"]) == (
        "trucks_busy", 100, 9.0, 1.0)
    assert row["detail_zh"] == "等待空闲车辆9.0小时（县库）"
    # the same wait, the village point empty since 0.5 h: stock is the cause
    row = cause(records_with(delivery(10.0, 9.0, 100), stock=(StockRecord(0.5, "v", "kit", 0),)))
    assert row["cause"] == "no_stock" and row["cause_zh"].startswith("储备不足")
    # cut off 1 h … 9 h by the underpass closure: 8 h of the 9.5 h wait
    row = cause(records_with(delivery(9.5, 9.0, 100),
                             cutoffs=(CutoffRecord("s", 1.0, 9.0),)))
    assert (row["cause"], row["cut_h"]) == ("cut_off", 8.0)
    assert row["detail_en"] == "cut off 8.0 h by underpass (until 9.0 h)"
    # a 9 h trip (say a far depot on slow roads)
    assert cause(records_with(delivery(9.5, 0.5, 100)))["cause"] == "travel"
    # goods at 1 h, but 100 people at 10 per hour take 10 h to hand out: 70 by 8 h
    row = cause(records_with(delivery(1.0, 0.5, 100)),
                handout={"people_per_h_per_point": 10.0, "people_per_point": 500})
    assert (row["cause"], row["late"]) == ("handout", 30)
    assert row["handout_h"] == pytest.approx(7.1)  # the 71st person: 1 h + 71 / 10 per h
    # never delivered, road open: stock left, so trucks; cut off to the end: the closure
    assert cause(records_with())["cause"] == "trucks_busy"
    row = cause(records_with(cutoffs=(CutoffRecord("s", 1.0, math.inf),)))
    assert row["cause"] == "cut_off" and "until the end" in row["detail_en"]
    # half on time: the first late person (51st) binds, their goods came at 12 h
    row = cause(records_with(delivery(3.0, 1.0, 50), delivery(12.0, 11.0, 50)))
    assert (row["late"], row["wait_h"]) == (50, 11.0)


def test_run_reports_service_areas_and_why(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", str(ROOT / "scenarios" / "nanjing_xuanwu_flood.yaml"),
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "未达标原因" in result.output and "服务范围" in result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    areas = {a["depot"]: a for a in summary["service_areas"]}
    assert areas["wulaocun_point"]["settlements"] == ["wulaocun"]
    assert areas["hanzhongmen_street"]["settlements"] == ["hanzhongmen", "shigulu"]
    failed = [k for k in summary["kpis"] if k["passed"] is False]
    assert failed and summary["shortfalls"]
    assert {s["cause"] for s in summary["shortfalls"]} <= {
        "no_stock", "trucks_busy", "cut_off", "travel", "handout"}
    cut = [s for s in summary["shortfalls"] if s["settlement"] == "hanzhongmen"]
    assert cut and all(s["cause"] == "cut_off" for s in cut)  # the underpass, 1 h … 9 h
    # and the report says the same, in Chinese and in English (its text; figures elsewhere)
    from sim.report import Heading, Paragraph, Table, build_blocks

    def text(lang: str) -> str:
        parts: list[str] = []
        for block in build_blocks(out, [], lang=lang, cache_dir=None, live=False):
            if isinstance(block, Heading):
                parts.append(block.text)
            elif isinstance(block, Paragraph):
                parts += block.lines
            elif isinstance(block, Table):
                parts += [block.caption, *block.header,
                          *(c for row in block.rows for c in row if isinstance(c, str))]
        return "\n".join(parts)

    zh = text("zh")
    assert "未达标原因" in zh and "储备库服务范围（属地）" in zh and "交通中断" in zh
    en = text("en")
    assert "Why targets fail" in en and "cut off" in en and "by administrative unit" in en


# == helicopters carry goods to cut-off settlements ============================================


def test_helicopters_fly_goods_to_cut_off_settlements(nanjing_scenario, tmp_path: Path) -> None:
    """汉中门 and 石鼓路 are cut off by the underpass closure from 1 h to 9 h. A helipad with
    a 1.5 t payload flies kits in meanwhile, from the depot whose goods arrive soonest; each
    flight takes mobilisation + legs at the helicopter's speed + loading + unloading."""
    from sim.network import haversine_m
    from sim.world import build_world

    data = nanjing_scenario.model_dump(mode="json", exclude_defaults=True)
    data["helipads"] = [{"id": "pad", "name": "停机坪", "location": [118.7800, 32.0450],
                         "helicopters": {"count": 1, "speed_kmh": 180, "mobilisation_h": 0.3,
                                         "payload_kg": 1500, "load_h": 0.4,
                                         "unload_h": 0.2}}]
    world = build_world(parse_scenario(data), cache_dir=tmp_path)
    records = simulate(world)
    flown = [d for d in records.deliveries if d.truck.startswith("pad/")]
    assert flown and {d.settlement for d in flown} <= {"hanzhongmen", "shigulu"}
    assert all(1.0 <= d.dispatched_h < 9.0 for d in flown)
    site = world.sites
    pad = site["pad"]
    for d in flown:
        legs = [haversine_m(a.lon, a.lat, b.lon, b.lat) / 1000 / 180
                for a, b in ((pad, site[d.depot]), (site[d.depot], site[d.settlement]))]
        assert d.time_h == pytest.approx(d.dispatched_h + 0.3 + legs[0] + 0.4 + legs[1] + 0.2)
        assert d.qty * 6 <= 1500 + 1e-6 or d.commodity != "kit"
    trips = [t for t in records.trips if t.vehicle.startswith("pad/")]
    assert trips and all(t.kind == "helicopter" and t.base == "pad" for t in trips)
    for t in trips:  # every flight carried goods; km = the three legs in a straight line
        carried = [d for d in flown if d.truck == t.vehicle and d.dispatched_h == t.start_h]
        assert carried
        d = carried[0]
        km = sum(haversine_m(a.lon, a.lat, b.lon, b.lat) / 1000 for a, b in (
            (pad, site[d.depot]), (site[d.depot], site[d.settlement]), (site[d.settlement], pad)))
        assert t.km == pytest.approx(km)
    # under support: never, only the settlement's own depots' stock is flown
    data["dispatch"] = {**data.get("dispatch", {}), "support": "never"}
    own = build_world(parse_scenario(data), cache_dir=tmp_path)
    strict = simulate(own)
    for d in strict.deliveries:
        if d.truck.startswith("pad/"):
            assert own.service.serves(d.depot, d.tier, d.settlement)
    for row in records.ledger:
        assert row.initial + row.produced == pytest.approx(
            row.delivered + row.in_transit + row.remaining)
    # without a payload the helicopters only rescue
    data["helipads"][0]["helicopters"]["payload_kg"] = 0
    plain = simulate(world.with_scenario(parse_scenario(data)))
    assert not [d for d in plain.deliveries if d.truck.startswith("pad/")]
    # payloads beyond any helicopter, or too small for one unit, get one precise message
    data["helipads"][0]["helicopters"]["payload_kg"] = 30000
    with pytest.raises(ScenarioError, match=r"helipads\[0\]\.helicopters\.payload_kg"):
        parse_scenario(data)
    data["helipads"][0]["helicopters"]["payload_kg"] = 5
    assert any("payload_kg: 5 kg cannot lift one unit of" in w
               for w in pre_run_warnings(parse_scenario(data)))


def air_case(support: str) -> dict[str, Any]:
    """红山边缘 (300 people) is closed off from the start; two helipads with 600 kg
    helicopters; an empty village point and two county depots with kits (the county opens at
    once)."""
    heli = {"count": 1, "speed_kmh": 180, "payload_kg": 600}
    return scenario(
        [{"id": "c_point", "tier": "village", "location": KESKUSTA, "stock": {"kit": 0},
          "trucks": trucks()},  # listed first, and empty: passed over, not the end of the list
         {"id": "a_county", "tier": "county", "location": SUPPLIER, "stock": {"kit": 100},
          "trucks": trucks()},  # one helicopter load only
         {"id": "b_county", "tier": "county", "location": CITY_WAREHOUSE, "stock": {"kit": 500},
          "trucks": trucks()}],
        [{"id": "s", "location": PUNAVUORI, "people": 300}],
        helipads=[{"id": "h1", "location": CITY_WAREHOUSE,
                   "helicopters": {**heli, "mobilisation_h": 0.3, "load_h": 0.4,
                                   "unload_h": 0.2}},
                  {"id": "h2", "location": TOWN_POINT,
                   "helicopters": {**heli, "mobilisation_h": 0.5, "load_h": 0.1,
                                   "unload_h": 0.35}}],
        disruptions=[{"id": "flood", "near": PUNAVUORI, "radius_m": 250,
                      "window": {"start_h": 0.0}}],
        dispatch={"support": support, "escalation_delay_h": {"county": 0.0}})


@pytest.mark.parametrize("support", ["if_earlier", "never"])
def test_each_flight_takes_the_helicopter_and_depot_whose_goods_arrive_first(
        place, support: str) -> None:
    """Every (free helicopter, depot allowed) pair by hand: mobilise + fly to the depot +
    load + fly on + unload; the first flight takes the soonest pair, the second helicopter
    flies at once too (1,800 kg of kits need three 600 kg loads). Under support: never the
    county depot that is not the settlement's own is left out."""
    from sim.network import haversine_m

    variant = place(air_case(support))
    records = simulate(variant)
    flights = sorted((d for d in records.deliveries if d.truck.startswith("h")),
                     key=lambda d: (d.dispatched_h, d.truck))
    sites = variant.sites
    own = {d for tiers in variant.service.owners["s"].values() for d in tiers}
    allowed = [d.id for d in variant.scenario.depots  # with stock, and own under never
               if d.stock.get("kit", 0) > 0 and (support != "never" or d.id in own)]

    def arrive(unit: str, depot: str) -> float:
        pad = sites[unit.split("/")[0]]
        mobilise, load, unload = (0.3, 0.4, 0.2) if unit.startswith("h1") else (0.5, 0.1, 0.35)
        legs = [haversine_m(a.lon, a.lat, b.lon, b.lat) / 1000 / 180
                for a, b in ((pad, sites[depot]), (sites[depot], sites["s"]))]
        return mobilise + legs[0] + load + legs[1] + unload

    units = ["h1/helicopter1", "h2/helicopter1"]
    best = min((arrive(u, d), u, d) for u in units for d in allowed)
    first = next(d for d in flights if d.truck == best[1])
    assert (first.truck, first.depot) == best[1:]
    assert first.time_h == pytest.approx(best[0])
    # the other helicopter then takes the soonest pair left (a_county holds one load only)
    left = [d for d in allowed if d != "a_county" or best[2] != "a_county"]
    if support == "never":  # its own depots hold that one load only: one flight in all
        assert not left and len(flights) == 1
        return
    other = min((arrive(u, d), u, d) for u in units if u != best[1] for d in left)
    second = next(d for d in flights if d.truck == other[1])
    assert (second.dispatched_h, second.depot) == (0.0, other[2])
    assert all(d.depot in allowed for d in flights)
    # a helicopter flies again once back (the third load)
    trips = [t for t in records.trips if t.kind == "helicopter"]
    assert max(sum(t.vehicle == u for t in trips)
               for u in ("h1/helicopter1", "h2/helicopter1")) >= 2
    for t in trips:  # the trip ends when it is back at its pad: out, the two legs, home
        d = next(x for x in flights if x.truck == t.vehicle and x.dispatched_h == t.start_h)
        back = haversine_m(sites["s"].lon, sites["s"].lat, sites[t.base].lon,
                           sites[t.base].lat) / 1000 / 180
        assert t.end_h == pytest.approx(d.time_h + back)


def test_a_plan_looks_past_every_truck_that_is_out_to_an_idle_one(place, world: World) -> None:
    """The county point's two trucks are out for 200 people in 红山边缘 when 市中心 (500
    people, five truckloads) calls at 0.1 h. Its plan gives the first two loads to those trucks
    (back at ≈ 0.6 h, arriving ≈ 1.17 h) and the third to the supplier's idle truck, slower to
    load (0.9 h) but arriving at ≈ 1.28 h, before either point truck could make a second trip
    (≈ 1.78 h): so the supplier's truck leaves at once — one look at every truck, out or idle."""
    data = scenario(
        [{"id": "point", "tier": "county", "location": TOWN_POINT, "stock": {"kit": 5000},
          "trucks": trucks(2, 600, 0.3)},
         {"id": "supplier", "tier": "county", "location": SUPPLIER, "stock": {"kit": 5000},
          "trucks": trucks(1, 600, 0.9)}],
        [{"id": "edge", "location": PUNAVUORI, "people": 200},
         {"id": "centre", "location": KESKUSTA, "people": 500, "onset_h": 0.1}],
        dispatch={"escalate_if_late": False, "support": "after_delay", "support_delay_h": 0.0})
    records = simulate(place(data))
    out = [d for d in records.deliveries if d.settlement == "edge"]
    assert [d.depot for d in out] == ["point", "point"]
    back = 0.3 + drive(world, TOWN_POINT, PUNAVUORI) + 0.25 + drive(world, PUNAVUORI, TOWN_POINT)
    first_round = back + 0.3 + drive(world, TOWN_POINT, KESKUSTA) + 0.25
    supplier = 0.1 + 0.9 + drive(world, SUPPLIER, KESKUSTA) + 0.25
    second_round = first_round + drive(world, KESKUSTA, TOWN_POINT) + 0.3 + \
        drive(world, TOWN_POINT, KESKUSTA) + 0.25
    assert first_round < supplier < second_round
    (sent,) = [d for d in records.deliveries if d.depot == "supplier"][:1]
    assert sent.settlement == "centre"
    assert sent.dispatched_h == pytest.approx(0.1, abs=1e-9)
    assert sent.time_h == pytest.approx(supplier, abs=1e-6)


def test_stock_sent_in_a_sweep_is_not_planned_again(place, world: World) -> None:
    """One unit (城区), two county depots. The point (220 kits) sends 100 to 红山边缘 at 0;
    at 0.1 h 市中心 (urgency 5) and 克卢维 (urgency 3) call for 100 each. 市中心 takes the
    point's idle truck and 100 kits, leaving 20: 克卢维's plan may count only those 20 on the
    point's returning truck, so the supplier's idle truck goes for the rest at once (counting
    the 100 just sent as still there would wait for the point's truck and its phantom stock)."""
    unit = {"area": "城区"}
    data = scenario(
        [{"id": "point", "tier": "county", "location": TOWN_POINT, "stock": {"kit": 220},
          "trucks": trucks(2, 600, 0.3), **unit},
         {"id": "supplier", "tier": "county", "location": SUPPLIER, "stock": {"kit": 5000},
          "trucks": trucks(1, 600, 0.9), **unit}],
        [{"id": "edge", "location": PUNAVUORI, "people": 100, **unit},
         {"id": "centre", "location": KESKUSTA, "people": 100, "onset_h": 0.1, "urgency": 5,
          **unit},
         {"id": "kluuvi", "location": KLUUVI, "people": 100, "onset_h": 0.1, "urgency": 3,
          **unit}],
        dispatch={"escalate_if_late": False, "support": "never"})
    records = simulate(place(data))
    sent = [(d.depot, d.settlement, d.qty) for d in records.deliveries]
    assert sent == [("point", "edge", 100), ("point", "centre", 100),
                    ("supplier", "kluuvi", 100)]
    last = records.deliveries[-1]
    assert last.dispatched_h == pytest.approx(0.1, abs=1e-9)
    assert last.time_h == pytest.approx(0.1 + 0.9 + drive(world, SUPPLIER, KLUUVI) + 0.25,
                                        abs=1e-6)
