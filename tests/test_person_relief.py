"""Person-level relief times from deliveries: the run-based metric equals a person-by-person
brute force, and its cost does not grow with the number of people."""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.metrics import EPS, person_relief
from sim.model.records import DeliveryRecord, Records, SettlementRecord
from sim.scenario import parse_scenario


def brute_force(records: Records, scenario) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Every person one by one: person k has a commodity once the deliveries, in time order,
    add up to k · per_person (less the same rounding tolerance); groups of equal times."""
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


def scenario_with(per_person: list[float], main: list[bool]):  # type: ignore[no-untyped-def]
    return parse_scenario({
        "name": "t", "network": {"source": "builtin:helsinki"},
        "commodities": [{"id": f"c{i}", "per_person": p, "main": m}
                        for i, (p, m) in enumerate(zip(per_person, main, strict=True))]})


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.data())
def test_runs_equal_the_person_by_person_brute_force(data: st.DataObject) -> None:
    n_com = data.draw(st.integers(1, 3))
    per_person = data.draw(st.lists(st.sampled_from([1.0, 0.25, 0.1, 1 / 3, 2.0, 0.5, 0.001]),
                                    min_size=n_com, max_size=n_com))
    main = data.draw(st.lists(st.booleans(), min_size=n_com, max_size=n_com))
    main[0] = True
    scenario = scenario_with(per_person, main)
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
