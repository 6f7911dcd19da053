"""KPIs by hand: exact expectations for quantiles, censoring, targets and per-person relief.

Every expected number below is worked out by hand from the definitions in ``sim/metrics.py``
(inverted-CDF quantiles, ``<= target + EPS`` counts as within, ``mean`` over the served only,
``never`` counts the unserved, a share equal to the required share passes).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from sim.metrics import EPS, _time_kpi, kpis, person_relief, resource_summary, weighted_quantile
from sim.model.records import (
    DeliveryRecord,
    EvacuationRecord,
    EvacueeRecord,
    IncidentRecord,
    LedgerRecord,
    Records,
    SettlementRecord,
    ShelterNeedRecord,
    TripRecord,
)
from sim.scenario import Scenario, parse_scenario

INF = math.inf


def scenario(**extra: object) -> Scenario:
    """Water (main, 2 per person), food (main, 0.5) and blankets (not main, 3 per person)."""
    data: dict[str, object] = {
        "name": "hand", "horizon_h": 10,
        "network": {"source": "builtin:helsinki"},
        "handout": {"people_per_h_per_point": None},  # arrival = receipt (tested apart)
        "commodities": [
            {"id": "water", "per_person": 2, "main": True},
            {"id": "food", "per_person": 0.5, "main": True},
            {"id": "blanket", "per_person": 3, "main": False},
        ],
        "depots": [
            {"id": "d1", "location": [24.94, 60.17], "trucks": {"count": 2}},
            {"id": "d2", "kind": "contract", "location": [24.95, 60.17],
             "trucks": {"count": 1}},
        ],
    }
    data.update(extra)
    return parse_scenario(data)


def delivery(t: float, settlement: str, commodity: str, qty: float) -> DeliveryRecord:
    return DeliveryRecord(t, 0.0, "d1", "county", settlement, commodity, qty, "d1/truck1")


def incident(name: str, type_: str, mode: str, call: float, arrival: float,
             done: float) -> IncidentRecord:
    return IncidentRecord(name, type_, mode, 24.94, 60.17, call, arrival, arrival, done, 1, 0.0)


def groups(table) -> list[tuple[str, float, float, int]]:  # type: ignore[no-untyped-def]
    return [(r.settlement, r.initial_h, r.effective_h, r.people) for r in table.itertuples()]


# -- weighted_quantile ------------------------------------------------------------------------


def test_quantile_of_two_values_is_the_lower_one_at_the_median() -> None:
    # inverted CDF: the smallest v with F(v) >= q; F(1) = 0.5 exactly, so p50 = 1, not 1.5
    assert weighted_quantile(np.array([2.0, 1.0]), np.ones(2), 0.5) == 1.0
    assert weighted_quantile(np.array([2.0, 1.0]), np.ones(2), 0.51) == 2.0


def test_p95_of_twenty_values_is_the_nineteenth() -> None:
    values = np.arange(20, 0, -1, dtype=float)  # 20 … 1, unsorted on purpose
    # 0.95 × 20 = 19 → the 19th smallest (not 20 = side="right", not 19.05 = interpolated)
    assert weighted_quantile(values, np.ones(20), 0.95) == 19.0
    assert weighted_quantile(values, np.ones(20), 0.5) == 10.0
    assert np.quantile(values, 0.95, method="inverted_cdf") == 19.0  # same convention


def test_quantile_weights_travel_with_their_values() -> None:
    values, weights = np.array([3.0, 1.0, 2.0]), np.array([1.0, 5.0, 4.0])
    # sorted: 1 (w 5), 2 (w 4), 3 (w 1); cumulative 5, 9, 10
    assert weighted_quantile(values, weights, 0.5) == 1.0  # 5 of 10 reached at 1
    assert weighted_quantile(values, weights, 0.6) == 2.0
    assert weighted_quantile(values, weights, 0.9) == 2.0  # 9 of 10 reached at 2
    assert weighted_quantile(values, weights, 0.95) == 3.0


def test_quantile_ties_single_value_zero_weights_and_empty() -> None:
    assert weighted_quantile(np.array([5.0, 2.0, 5.0, 2.0]), np.ones(4), 0.5) == 2.0
    assert weighted_quantile(np.array([5.0, 2.0, 5.0, 2.0]), np.ones(4), 0.75) == 5.0
    for q in (0.0, 0.5, 0.95, 1.0):
        assert weighted_quantile(np.array([7.5]), np.array([3.0]), q) == 7.5
    # a value of zero weight is nobody: never a quantile
    assert weighted_quantile(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 0.0]), 1.0) == 2.0
    assert math.isnan(weighted_quantile(np.array([]), np.array([]), 0.5))
    assert math.isnan(weighted_quantile(np.array([1.0, 2.0]), np.zeros(2), 0.5))


def test_quantile_reaches_inf_only_when_the_unserved_are_above_the_share() -> None:
    values = np.array([1.0, INF, 3.0, INF])
    assert weighted_quantile(values, np.ones(4), 0.5) == 3.0
    assert weighted_quantile(values, np.ones(4), 0.51) == INF


# -- _time_kpi --------------------------------------------------------------------------------


def test_value_exactly_at_target_is_within_and_just_above_is_not() -> None:
    at = _time_kpi("k", "k", 8.0, 1.0, np.array([8.0]))
    assert at.share_within == 1.0 and at.passed is True
    noisy = _time_kpi("k", "k", 1.0, 1.0, np.array([2.2 - 1.2]))  # 1.0000000000000002
    assert noisy.share_within == 1.0 and noisy.passed is True
    above = _time_kpi("k", "k", 8.0, 1.0, np.array([8.0, 8.001]))
    assert above.share_within == 0.5 and above.passed is False
    assert above.mean == pytest.approx(8.0005, abs=1e-12) and above.max == 8.001


def test_censoring_never_mean_quantiles_and_max() -> None:
    k = _time_kpi("k", "k", 2.0, 0.25, np.array([1.0, 3.0, INF, INF]))
    assert (k.n, k.never) == (4.0, 2.0)
    assert k.mean == 2.0  # over the two served only
    assert (k.p50, k.p95, k.max) == (3.0, INF, INF)
    assert k.share_within == 0.25  # inf is not within
    assert k.passed is True  # 0.25 ≥ 0.25: exactly the required share passes
    assert _time_kpi("k", "k", 2.0, 0.26, np.array([1.0, 3.0, INF, INF])).passed is False


def test_weights_count_people_in_share_mean_and_never() -> None:
    k = _time_kpi("k", "k", 4.0, 0.6, np.array([5.0, 1.0, INF]), np.array([1.0, 3.0, 1.0]))
    assert (k.n, k.never) == (5.0, 1.0)
    assert k.mean == 2.0  # (3 × 1 + 1 × 5) / 4
    assert k.share_within == 0.6 and k.passed is True  # 3 of 5 people
    assert (k.p50, k.p95, k.max) == (1.0, INF, INF)
    assert _time_kpi("k", "k", 4.0, 0.61, np.array([5.0, 1.0, INF]),
                     np.array([1.0, 3.0, 1.0])).passed is False


def test_nobody_served_and_nobody_at_all() -> None:
    none_served = _time_kpi("k", "k", 2.0, 0.5, np.array([INF, INF]), np.array([2.0, 3.0]))
    assert (none_served.n, none_served.never, none_served.share_within) == (5.0, 5.0, 0.0)
    assert math.isnan(none_served.mean)
    assert (none_served.p50, none_served.max) == (INF, INF) and none_served.passed is False
    empty = _time_kpi("k", "k", 2.0, 0.5, np.array([]))
    assert (empty.n, empty.never, empty.target, empty.share_required) == (0, 0, 2.0, 0.5)
    assert all(math.isnan(v) for v in (empty.mean, empty.p50, empty.p95, empty.max,
                                       empty.share_within))
    assert empty.passed is None
    zero_weight = _time_kpi("k", "k", 2.0, 0.5, np.array([1.0]), np.array([0.0]))
    assert zero_weight.n == 0 and zero_weight.passed is None


# -- person_relief ----------------------------------------------------------------------------


def test_person_relief_by_hand_with_per_person_onset_and_partial_cover() -> None:
    records = Records(horizon_h=10, settlements=[
        SettlementRecord("a", 4, 2.0, 3), SettlementRecord("b", 2, 0.0, 3)])
    records.deliveries = [
        delivery(5.0, "a", "water", 5),   # listed out of time order on purpose
        delivery(3.0, "a", "water", 3),   # needs 2 per person: person 1 at 3, 2-4 at 5
        delivery(4.0, "a", "food", 1),    # 0.5 per person: persons 1-2 at 4
        delivery(6.0, "a", "food", 0.9),  # cum 1.9: person 3 (1.5) at 6, person 4 (2.0) never
        delivery(2.5, "a", "blanket", 7),  # 3 per person, not main: persons 1-2 at 2.5
        delivery(10.0, "a", "blanket", 2),  # cum 9: person 3 at 10, person 4 (12) never
        delivery(1.0, "b", "water", 100), delivery(1.0, "b", "food", 100),  # b: no blankets
    ]
    got = groups(person_relief(records, scenario()))
    # initial = max over main (water, food) − onset 2; effective adds the blanket
    assert got == [("a", 2.0, 2.0, 1), ("a", 3.0, 3.0, 1), ("a", 4.0, 8.0, 1),
                   ("a", INF, INF, 1), ("b", 1.0, INF, 2)]


def test_person_relief_float_noise_and_no_deliveries() -> None:
    sc = scenario(commodities=[{"id": "kit", "per_person": 0.1}])
    records = Records(horizon_h=10, settlements=[
        SettlementRecord("a", 3, 8.1, 3), SettlementRecord("none", 5, 1.0, 3)])
    # 3 × 0.1 = 0.30000000000000004 > 0.3 delivered: still covers person 3 (EPS)
    records.deliveries = [delivery(16.1, "a", "kit", 0.3)]
    table = person_relief(records, sc)
    assert groups(table) == [("a", 16.1 - 8.1, 16.1 - 8.1, 3), ("none", INF, INF, 5)]
    assert table.people.dtype.kind == "i"
    # 16.1 − 8.1 = 8.000000000000002: within an 8 h target
    initial = next(k for k in kpis(records, sc, table) if k.kpi == "initial_relief")
    assert (initial.n, initial.never, initial.share_within) == (8.0, 5.0, 3 / 8)


def test_person_relief_groups_equal_times_into_runs() -> None:
    sc = scenario(commodities=[{"id": "kit", "per_person": 1}])
    records = Records(horizon_h=10, settlements=[SettlementRecord("a", 1000, 0.0, 3)])
    records.deliveries = [delivery(2.0, "a", "kit", 600), delivery(2.0, "a", "kit", 150),
                          delivery(3.0, "a", "kit", 250)]
    assert groups(person_relief(records, sc)) == [("a", 2.0, 2.0, 750), ("a", 3.0, 3.0, 250)]


# -- kpis -------------------------------------------------------------------------------------


def test_kpis_by_hand_from_relief_and_incidents() -> None:
    sc = scenario(incident_types=[{"id": "landslide", "needs": [{"team": "fire"}],
                                   "target_h": 0.5}],
                  targets={"initial_relief_h": 3, "effective_relief_h": 8,
                           "time_share_required": 0.5})
    records = Records(horizon_h=30, settlements=[SettlementRecord("a", 4, 2.0, 3)])
    records.deliveries = [
        delivery(3.0, "a", "water", 3), delivery(5.0, "a", "water", 5),
        delivery(4.0, "a", "food", 1), delivery(6.0, "a", "food", 0.9),
        delivery(2.5, "a", "blanket", 7), delivery(10.0, "a", "blanket", 2),
    ]  # initial [2, 3, 4, inf], effective [2, 3, 8, inf]
    records.incidents = [
        incident("r1", "inland_river", "river", 1.2, 2.2, 3.0),  # 1.0000000000000002 h: within
        incident("r2", "inland_river", "river", 0.0, 1.01, 2.0),  # just above 1 h
        incident("s1", "sea", "sea", 1.0, INF, INF),  # never reached
        incident("s2", "sea", "sea", 1.0, 2.5, 4.0),
        incident("f1", "forest_fire", "road", 1.0, 1.5, 25.0),  # out in exactly 24 h
        incident("f2", "forest_fire", "road", 2.0, 2.5, 26.5),  # 24.5 h
        incident("l1", "landslide", "road", 3.0, 3.5, 4.0),  # exactly its 0.5 h target
        incident("l2", "landslide", "road", 3.0, 3.75, 4.0),
        incident("l3", "landslide", "road", 3.0, 3.25, 4.0),
    ]
    got = {k.kpi: k for k in kpis(records, sc)}
    assert list(got) == ["initial_relief", "effective_relief", "inland_river_arrival",
                         "sea_arrival", "fires_out_24h", "landslide_arrival"]

    initial = got["initial_relief"]
    assert (initial.target, initial.n, initial.never, initial.mean) == (3.0, 4.0, 1.0, 3.0)
    assert (initial.p50, initial.p95, initial.max) == (3.0, INF, INF)
    assert initial.share_within == 0.5 and initial.passed is True
    effective = got["effective_relief"]
    assert (effective.target, effective.mean, effective.p50) == (8.0, 13 / 3, 3.0)
    assert effective.share_within == 0.75 and effective.passed is True

    river = got["inland_river_arrival"]
    assert (river.n, river.never, river.share_within, river.max) == (2.0, 0.0, 0.5, 1.01)
    assert river.passed is True  # 0.5 ≥ time_share_required 0.5
    sea = got["sea_arrival"]
    assert (sea.n, sea.never, sea.mean, sea.share_within, sea.max) == (2.0, 1.0, 1.5, 0.5, INF)

    fires = got["fires_out_24h"]
    assert (fires.target, fires.share_required, fires.n) == (24.0, 0.95, 2.0)
    assert (fires.share_within, fires.mean, fires.max) == (0.5, 24.25, 24.5)
    assert fires.passed is False  # 0.5 < fire_out_share 0.95

    slide = got["landslide_arrival"]
    assert (slide.target, slide.n, slide.mean) == (0.5, 3.0, 0.5)
    assert slide.share_within == pytest.approx(2 / 3, abs=1e-15) and slide.passed is True
    assert (slide.p50, slide.max) == (0.5, 0.75)


def test_kpis_without_incidents_report_n_zero_and_no_verdict() -> None:
    records = Records(horizon_h=10, settlements=[SettlementRecord("a", 2, 0.0, 3)])
    got = {k.kpi: k for k in kpis(records, scenario())}
    for name in ("inland_river_arrival", "sea_arrival", "fires_out_24h"):
        assert got[name].n == 0 and got[name].passed is None and math.isnan(got[name].mean)
    initial = got["initial_relief"]
    assert (initial.n, initial.never, initial.share_within, initial.passed) == (
        2.0, 2.0, 0.0, False)


# -- resource_summary -------------------------------------------------------------------------


def test_resource_summary_by_hand() -> None:
    sc = scenario()  # trucks: d1 2 + d2 1 = 3; horizon 10 h
    records = Records(horizon_h=10, settlements=[
        SettlementRecord("a", 4, 0.0, 3), SettlementRecord("b", 2, 1.0, 3)])
    records.deliveries = [delivery(1.0, "a", "water", 8), delivery(2.0, "b", "water", 5),
                          delivery(2.0, "a", "food", 1.9), delivery(3.0, "b", "blanket", 9)]
    records.ledger = [
        LedgerRecord("d1", "water", 10, 0, 10, 0, 0.0, True),  # ran out: a stock-out
        LedgerRecord("d1", "food", 0, 0, 0, 0, 0.0, True),  # never held any: not one
        LedgerRecord("d2", "water", 0, 5, 3, 2, 1e-12, True),  # produced, then ran out
        LedgerRecord("d2", "food", 5, 0, 1.9, 2.6, 0.5, True),  # stock left
    ]
    records.trips = [
        TripRecord("d1/truck1", "truck", "d1", 1.0, 3.0, 10.0),
        TripRecord("d1/truck1", "truck", "d1", 4.0, 5.0, 4.0),
        TripRecord("base/fire1", "fire", "base", 2.0, 2.5, 3.0),
        TripRecord("base/fire1", "fire", "base", 6.0, 7.0, 3.0),
        TripRecord("base/medical1", "medical", "base", 0.0, 1.0, 1.0),
    ]
    got = resource_summary(records, sc)
    assert got == {
        "people_affected": 6.0, "stockouts": 2.0, "vehicle_km": 21.0,
        "truck_utilisation": 3.0 / (3 * 10), "team_busy_h": 2.5, "teams_used": 2.0,
        # need: water 6 × 2 = 12, food 6 × 0.5 = 3, blanket 6 × 3 = 18
        "unmet_water": 0.0, "unmet_food": pytest.approx(1.1, abs=1e-12), "unmet_blanket": 9.0,
    }


def test_resource_summary_without_trucks_or_trips() -> None:
    sc = scenario(depots=[])
    records = Records(horizon_h=10, settlements=[SettlementRecord("a", 3, 0.0, 3)])
    got = resource_summary(records, sc)
    assert math.isnan(got.pop("truck_utilisation"))
    assert got == {"people_affected": 3.0, "stockouts": 0.0, "vehicle_km": 0.0,
                   "team_busy_h": 0.0, "teams_used": 0.0, "unmet_water": 6.0,
                   "unmet_food": 1.5, "unmet_blanket": 9.0}


# -- edge cases found by mutation testing -----------------------------------------------------


def test_single_person_weight_has_quantiles() -> None:
    # total weight 1 (one person) is somebody: the quantile is that person's time
    for q in (0.0, 0.5, 1.0):
        assert weighted_quantile(np.array([7.5]), np.array([1.0]), q) == 7.5
    assert weighted_quantile(np.array([4.0, 2.0]), np.array([0.5, 0.5]), 0.5) == 2.0


def test_time_kpi_reports_hours_and_its_name() -> None:
    k = _time_kpi("k", "某时间", 2.0, 0.5, np.array([1.0]))
    assert (k.kpi, k.name_zh, k.unit) == ("k", "某时间", "h")
    empty = _time_kpi("k", "某时间", 2.0, 0.5, np.array([]))
    assert (empty.kpi, empty.name_zh, empty.unit) == ("k", "某时间", "h")


def test_time_kpi_tolerances_at_their_edges() -> None:
    # a value of exactly target + EPS still counts as within (the tolerance is inclusive)
    edge = _time_kpi("k", "k", 8.0, 1.0, np.array([8.0 + EPS, 7.0]))
    assert edge.share_within == 1.0 and edge.passed is True
    # a share short of the required one by exactly EPS passes; (0.25 + EPS) − EPS is 0.25
    # exactly in floating point
    assert (0.25 + EPS) - EPS == 0.25
    k = _time_kpi("k", "k", 2.0, 0.25 + EPS, np.array([1.0, 3.0, INF, INF]))
    assert k.share_within == 0.25 and k.passed is True


def test_time_kpi_accepts_object_arrays_of_numbers() -> None:
    """pandas hands out object arrays for columns built from Python objects; the numbers in
    them are still hours."""
    values = pd.Series([1.0, 3.0, INF], dtype=object).to_numpy()
    k = _time_kpi("k", "k", 2.0, 0.3, values)
    assert (k.n, k.never, k.mean, k.share_within, k.max) == (3.0, 1.0, 2.0, 1 / 3, INF)
    assert k.passed is True


def test_kpi_names_follow_the_plan() -> None:
    """The Chinese names of the plan's targets; an incident type's own target is named after
    the type's name, or its id when it has none."""
    sc = scenario(incident_types=[
        {"id": "landslide", "name": "山体滑坡", "needs": [{"team": "fire"}], "target_h": 0.5},
        {"id": "flood", "needs": [{"team": "fire"}], "target_h": 1.0}])
    records = Records(horizon_h=10, settlements=[SettlementRecord("a", 2, 0.0, 3)])
    records.incidents = [incident("l1", "landslide", "road", 1.0, 1.25, 2.0),
                         incident("w1", "flood", "river", 1.0, 1.5, 2.0)]
    names = {k.kpi: k.name_zh for k in kpis(records, sc)}
    assert names == {
        "initial_relief": "受灾群众基本生活初步救助时间",
        "effective_relief": "受灾人员基本生活得到有效救助时间",
        "inland_river_arrival": "内河应急处置现场到达时间",
        "sea_arrival": "海域(12海里以内)应急处置现场到达时间",
        "fires_out_24h": "24小时森林火灾扑灭率",
        "landslide_arrival": "山体滑坡现场到达时间",
        "flood_arrival": "flood现场到达时间",
    }
    assert {k.unit for k in kpis(records, sc)} == {"h"}


def test_kpis_use_the_given_relief_weighted_by_people() -> None:
    """A relief table passed in is used as is (the records here have no deliveries, so a
    recomputed one would be all 'never'). Groups weigh by their people: effective times
    2 h (3 people) and 9 h (1 person) against 8 h give 3 of 4 within, mean (3·2 + 9)/4."""
    sc = scenario(targets={"initial_relief_h": 3, "effective_relief_h": 8,
                           "time_share_required": 0.7})
    records = Records(horizon_h=10, settlements=[SettlementRecord("a", 4, 0.0, 3)])
    relief = pd.DataFrame({"settlement": ["a", "a"], "initial_h": [1.0, 2.0],
                           "effective_h": [2.0, 9.0], "people": [3, 1]})
    got = {k.kpi: k for k in kpis(records, sc, relief)}
    initial, effective = got["initial_relief"], got["effective_relief"]
    assert (initial.n, initial.never, initial.mean, initial.share_within) == (
        4.0, 0.0, 1.25, 1.0)
    assert (effective.n, effective.never, effective.mean) == (4.0, 0.0, 3.75)
    assert (effective.share_within, effective.p50, effective.max) == (0.75, 2.0, 9.0)
    assert effective.passed is True  # 0.75 ≥ 0.7


def test_stockout_edges_and_quiet_without_trucks() -> None:
    sc = scenario()
    records = Records(horizon_h=10, settlements=[SettlementRecord("a", 1, 0.0, 3)])
    records.ledger = [
        LedgerRecord("d1", "water", 0.5, 0, 0.5, 0, 0.0, True),  # held half a unit: ran out
        LedgerRecord("d1", "food", 2, 0, 2 - EPS, 0, EPS, True),  # EPS left counts as empty
        LedgerRecord("d2", "water", 2, 0, 1, 0, 1.0, True),  # stock left
    ]
    assert resource_summary(records, sc)["stockouts"] == 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 0/0 for a scenario without trucks
        got = resource_summary(records, scenario(depots=[]))
    assert math.isnan(got["truck_utilisation"])


def test_resource_summary_counts_evacuees_needs_by_day_and_commodity() -> None:
    """Evacuees need at their shelter: everyone sheltered on day 0 (those not yet arrived
    too), and the later days' needs of daily goods only (a blanket lasts the stay)."""
    commodities = [{"id": "water", "per_person": 2, "main": True},
                   {"id": "food", "per_person": 0.5, "main": True},
                   {"id": "blanket", "per_person": 3, "main": False, "daily": False}]
    sc = scenario(commodities=commodities, depots=[])
    records = Records(horizon_h=72, settlements=[SettlementRecord("a", 2, 0.0, 3)])
    inf = math.inf
    records.evacuation = [EvacuationRecord("a", "h1", "walk", 4, 0.0, 0.5, 0.0, 0.1, 0.5,
                                           0.6, 0.5, 0.6, 4),
                          EvacuationRecord("a", "", "walk", 1, 0.0, inf, inf, inf, inf, inf,
                                           inf, inf, 0)]  # no place: not sheltered
    records.shelter_needs = [ShelterNeedRecord(0.5, "h1", "a", 0, 3),  # 1 not arrived yet
                             ShelterNeedRecord(24.5, "h1", "a", 1, 2),
                             ShelterNeedRecord(48.5, "h1", "a", 2, 2)]
    got = resource_summary(records, sc)
    assert got["people_affected"] == 6.0  # 2 at home + 4 sheltered
    # at home 2 × per person; sheltered: 1 not arrived × per person + needs (day 0 for all,
    # days 1 and 2 for daily goods)
    assert (got["unmet_water"], got["unmet_food"], got["unmet_blanket"]) == (
        4 + 2 + (3 + 2 + 2) * 2, 1 + 0.5 + (3 + 2 + 2) * 0.5, 6 + 3 + 3 * 3)


def _evacuated(records: Records, settlement: str, shelter: str, admitted_h: float) -> None:
    """One evacuee of ``settlement`` placed at ``shelter`` (admitted then; inf: never)."""
    inf = math.inf
    records.evacuation.append(EvacuationRecord(settlement, shelter, "walk", 1, 0.0, 0.5, 0.0,
                                               0.0, 0.5, 0.5, admitted_h, admitted_h,
                                               int(admitted_h < inf)))
    if admitted_h < inf:
        records.evacuees.append(EvacueeRecord(settlement, shelter, 1, 0.0, admitted_h))


def test_shelter_goods_meet_needs_in_the_order_they_arose() -> None:
    """Two evacuees' needs arise at one shelter at the same hour, b's recorded first: the
    first kit is b's, the second a's (not sorted by name); times count from each home's
    onset (a at 0 h, b at 1 h). A shelter whose evacuees never arrived relieves nobody."""
    home = [{"id": "a", "location": [24.94, 60.17], "people": 1, "onset_h": 0.0},
            {"id": "b", "location": [24.941, 60.17], "people": 1, "onset_h": 1.0}]
    sc = scenario(commodities=[{"id": "kit", "per_person": 1, "main": True}],
                  settlements=home)
    records = Records(horizon_h=10)
    _evacuated(records, "b", "h1", 1.0)
    _evacuated(records, "a", "h1", 1.0)
    _evacuated(records, "a", "h2", math.inf)  # placed at h2, never got there
    records.shelter_needs = [ShelterNeedRecord(1.0, "h1", "b", 0, 1),
                             ShelterNeedRecord(1.0, "h1", "a", 0, 1)]
    records.deliveries = [delivery(2.0, "h1", "kit", 1), delivery(5.0, "h1", "kit", 1)]
    relief = person_relief(records, sc)
    h1 = relief[relief.settlement == "h1"]
    assert sorted(h1.initial_h) == [2.0 - 1.0, 5.0 - 0.0] and h1.people.sum() == 2
    h2 = relief[relief.settlement == "h2"]
    assert h2.people.sum() == 1 and (h2.initial_h == math.inf).all()
