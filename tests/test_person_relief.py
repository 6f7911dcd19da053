"""Person-level relief times from deliveries: the run-based metric equals a person-by-person
brute force, and its cost does not grow with the number of people."""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.metrics import EPS, HANDOUT_STEP_H, _people_covered, person_relief
from sim.model.records import DeliveryRecord, Records, SettlementRecord
from sim.scenario import parse_scenario


def brute_force(records: Records, scenario) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Every person one by one: person k has a commodity once the deliveries, in time order,
    add up to k · per_person (less the same rounding tolerance); groups of equal times.
    Hand-out is not modelled here (``scenario.handout.people_per_h_per_point`` is null)."""
    rows = []
    for s in records.settlements:
        times = {}
        for c in scenario.commodities:
            got = sorted((d.time_h, d.qty) for d in records.deliveries
                         if d.settlement == s.settlement and d.commodity == c.id)
            per_person = []
            for k in range(1, s.people + 1):
                total, when = 0.0, math.inf
                for t, q in got:
                    total += q
                    if total >= k * c.per_person - EPS * k:
                        when = t
                        break
                per_person.append(when - s.onset_h)
            times[c.id] = per_person
        pairs = [(max(times[c.id][k] for c in scenario.commodities if c.main),
                  max(times[c.id][k] for c in scenario.commodities)) for k in range(s.people)]
        for pair in pairs:
            if rows and rows[-1][0] == s.settlement and tuple(rows[-1][1:3]) == pair:
                rows[-1][3] += 1
            else:
                rows.append([s.settlement, *pair, 1])
    return pd.DataFrame(rows, columns=["settlement", "initial_h", "effective_h", "people"])


def scenario_with(per_person: list[float], main: list[bool],  # type: ignore[no-untyped-def]
                  rate: float | None = None, people_per_point: int = 500):
    return parse_scenario({
        "name": "t", "network": {"source": "builtin:helsinki"},
        "handout": {"people_per_h_per_point": rate, "people_per_point": people_per_point},
        "commodities": [{"id": f"c{i}", "per_person": p, "main": m}
                        for i, (p, m) in enumerate(zip(per_person, main, strict=True))]})


def per_person(table: pd.DataFrame, settlement: str, column: str) -> np.ndarray:
    rows = table[table.settlement == settlement]
    return np.repeat(rows[column].to_numpy(), rows.people.to_numpy())


def random_records(data: st.DataObject, n_com: int) -> Records:
    records = Records(horizon_h=48.0)
    for s in range(data.draw(st.integers(1, 3))):
        people = data.draw(st.integers(1, 40))
        onset = data.draw(st.sampled_from([0.0, 1.5]))
        records.settlements.append(SettlementRecord(f"s{s}", people, onset, 3))
        for c in range(n_com):
            for _ in range(data.draw(st.integers(0, 4))):
                qty = data.draw(st.sampled_from([0.1, 0.2, 0.3, 1.0, 2.5, 3.0, 7.0, 1 / 3]))
                qty *= data.draw(st.integers(1, 10))
                when = onset + data.draw(st.integers(0, 20)) / 4
                records.deliveries.append(DeliveryRecord(when, onset, "d", "county", f"s{s}",
                                                         f"c{c}", qty, "t"))
    return records


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.data())
def test_handout_follows_the_person_by_person_queue(data: st.DataObject) -> None:
    """With hand-out, person k receives at h_k = max(a_k, h_(k-1)) + 1/rate, a_k being when
    their goods are there: the metric's batches are never early and at most one batch
    (HANDOUT_STEP_H) late, and the count of people is kept."""
    n_com = data.draw(st.integers(1, 2))
    main = [True, *data.draw(st.lists(st.booleans(), min_size=n_com - 1, max_size=n_com - 1))]
    rate = data.draw(st.sampled_from([3.0, 10.0, 25.0, 400.0]))
    per_point = data.draw(st.integers(1, 30))
    instant = person_relief(records := random_records(data, n_com),
                            scenario_with([1.0] * n_com, main))
    handed = person_relief(records, scenario_with([1.0] * n_com, main, rate, per_point))
    for s in records.settlements:
        total = math.ceil(s.people / per_point) * rate
        for column in ("initial_h", "effective_h"):
            avail = per_person(instant, s.settlement, column)
            exact, last = np.empty(len(avail)), -math.inf
            for k, a in enumerate(avail):
                last = exact[k] = max(a, last) + 1 / total
            got = per_person(handed, s.settlement, column)
            assert len(got) == s.people
            finite = np.isfinite(exact)
            assert (np.isfinite(got) == finite).all()
            assert (got[finite] >= exact[finite] - 1e-9).all()
            assert (got[finite] <= exact[finite] + HANDOUT_STEP_H + 1e-9).all()


def test_handout_by_hand() -> None:
    """600 people, goods for all at 2 h, 2 points of 100 people/h: 3 h to hand out, in
    batches of 0.1 h (20 people), the last at 5 h; half the people have them by 3.5 h."""
    records = Records(horizon_h=48.0)
    records.settlements.append(SettlementRecord("s", 600, 0.0, 3))
    records.deliveries.append(DeliveryRecord(2.0, 0.0, "d", "county", "s", "c0", 600.0, "t"))
    table = person_relief(records, scenario_with([1.0], [True], 100.0, 300))
    assert table.people.tolist() == [20] * 30
    assert np.allclose(table.initial_h, 2.0 + np.arange(1, 31) * 0.1)
    assert float(np.interp(300, table.people.cumsum(), table.initial_h)) == pytest.approx(3.5)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.data())
def test_runs_equal_the_person_by_person_brute_force(data: st.DataObject) -> None:
    n_com = data.draw(st.integers(1, 3))
    per_person = data.draw(st.lists(st.sampled_from([1.0, 0.25, 0.1, 1 / 3, 2.0, 0.5, 0.001]),
                                    min_size=n_com, max_size=n_com))
    main = data.draw(st.lists(st.booleans(), min_size=n_com, max_size=n_com))
    main[0] = True
    scenario = scenario_with(per_person, main)
    records = random_records(data, n_com)
    pd.testing.assert_frame_equal(person_relief(records, scenario),
                                  brute_force(records, scenario), check_dtype=False)


def test_cost_does_not_grow_with_people() -> None:
    """10⁸ people in a settlement (the schema's maximum) cost what 100 do: no array per
    person (a per-person metric would need gigabytes)."""
    scenario = scenario_with([1.0, 0.25], [True, False])

    def timed(people: int) -> tuple[float, pd.DataFrame]:
        records = Records(horizon_h=48.0)
        records.settlements.append(SettlementRecord("s", people, 0.0, 3))
        for i in range(50):
            for c, qty in (("c0", people / 100), ("c1", people / 400)):
                records.deliveries.append(DeliveryRecord(1.0 + i, 0.0, "d", "county", "s", c,
                                                         qty, "t"))
        start = time.perf_counter()
        table = person_relief(records, scenario)
        return time.perf_counter() - start, table

    small_s, small = timed(100)
    big_s, big = timed(100_000_000)
    assert int(big.people.sum()) == 100_000_000
    assert list(big.initial_h) == list(small.initial_h) == [1.0 + i for i in range(50)] + [
        math.inf]
    assert np.array_equal(big.people.to_numpy()[:-1], np.full(50, 1_000_000))
    assert big.people.iloc[-1] == 50_000_000
    assert big_s < max(50 * small_s, 0.5)


# -- the covered-people count at its rounding edges (found by mutation testing) ----------------


def need(k: int, per_person: float) -> float:
    """What person k needs, less the tolerance: k · per_person − EPS · k (the definition)."""
    return k * per_person - EPS * max(1, k)


def covered_by_definition(cum: float, per_person: float, people: int) -> int:
    """The largest k in 0 … people with need(k) ≤ cum, by counting up."""
    return max([0] + [k for k in range(1, people + 1) if need(k, per_person) <= cum])


def test_quantity_exactly_at_the_tolerance_covers_that_person() -> None:
    """cum = 5 − 5·EPS is exactly what person 5 needs at 1 per person (≤ is inclusive). The
    first estimate cum / (1 − EPS) rounds to 4.999…, so it has to be raised by one."""
    assert need(5, 1.0) == 5 - 5 * EPS  # the same float
    cums = np.array([need(5, 1.0), need(1, 1.0), 1 - 1.5 * EPS, need(1000, 1.0)])
    assert covered_by_definition(cums[0], 1.0, 2000) == 5
    assert list(_people_covered(cums, 1.0, 2000)) == [5, 1, 0, 1000]
    # person 1000 is forgiven 1000 · EPS (not 1 · EPS): 1000 − 5e-7 still covers 1000 people
    assert list(_people_covered(np.array([1000 - 5e-7]), 1.0, 2000)) == [1000]


def test_quantity_one_ulp_short_of_a_person() -> None:
    """One ulp below person 71's need at 0.1 per person covers 70, though the first estimate
    cum / (0.1 − EPS) rounds up to exactly 71 and has to be lowered by one."""
    cum = float(np.nextafter(need(71, 0.1), 0.0))
    assert need(70, 0.1) <= cum < need(71, 0.1)
    assert covered_by_definition(cum, 0.1, 100) == 70
    assert list(_people_covered(np.array([cum]), 0.1, 100)) == [70]


def test_covered_counts_are_integers_within_zero_and_people() -> None:
    got = _people_covered(np.array([-10.0, 0.0, 2.5, 1e9]), 1.0, 7)
    assert list(got) == [0, 0, 2, 7]  # a negative total covers nobody; the rest cap at 7
    assert got.dtype == np.int64
    assert _people_covered(np.array([]), 1.0, 7).dtype == np.int64


def test_ten_million_people_at_a_gram_each() -> None:
    """10⁷ people at 0.001 per person, 10⁴ delivered at 2 h: 10⁴ / 0.001 = 10⁷, everybody."""
    scenario = scenario_with([0.001], [True])
    records = Records(horizon_h=48.0)
    records.settlements.append(SettlementRecord("s", 10_000_000, 0.0, 3))
    records.deliveries.append(DeliveryRecord(2.0, 0.0, "d", "county", "s", "c0", 1e4, "t"))
    table = person_relief(records, scenario)
    assert list(table.itertuples(index=False, name=None)) == [("s", 2.0, 2.0, 10_000_000)]
