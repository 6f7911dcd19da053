"""Why a relief target fails: for every settlement × commodity that misses its target, the
binding cause, read from the records.

The first person who misses the target binds (everyone after them is later still). If their
goods had arrived in time, hand-out is the cause. Otherwise the delivery that brought their
goods splits their wait into time cut off by a closure, time before a truck left (waiting for
stock in the tiers allowed, or for a truck) and the trip (loading, driving, unloading); the
largest part is the cause. Goods that never came are blamed on a closure still on, on stock
(none left in the tiers allowed), or on busy trucks.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pandas as pd

from sim.glossary import CAUSE_DETAILS, label
from sim.jurisdiction import ServiceAreas
from sim.metrics import EPS, handout_rate, person_relief
from sim.model.records import Records
from sim.scenario import Commodity, Handout, Scenario

__all__ = ["COLUMNS", "shortfalls"]

COLUMNS = ["settlement", "commodity", "kpi", "people", "late", "cause", "cause_zh", "cause_en",
           "detail_zh", "detail_en", "depot", "wait_h", "travel_h", "cut_h", "handout_h"]

Interval = tuple[float, float]


def shortfalls(records: Records, scenario: Scenario, service: ServiceAreas | None = None
               ) -> pd.DataFrame:
    """One row per settlement × commodity whose people miss the target (initial relief for
    main commodities, effective relief for the others) beyond ``time_share_required``."""
    t = scenario.targets
    deliveries: dict[tuple[str, str], list] = defaultdict(list)
    for d in records.deliveries:
        deliveries[(d.settlement, d.commodity)].append(d)
    cuts: dict[str, list[Interval]] = defaultdict(list)
    for c in records.cutoffs:
        cuts[c.settlement].append((c.cut_h, c.reopened_h))
    points = {x.id: x.distribution_points for x in scenario.settlements}
    names = {d.id: d.name or d.id for d in scenario.depots}
    closures = {d.id: d.name or d.id for d in scenario.disruptions}
    rows = []
    for c in scenario.commodities:
        kpi, target = (("initial_relief", t.initial_relief_h) if c.main
                       else ("effective_relief", t.effective_relief_h))
        handed = _one(records, scenario, c, scenario.handout)
        arrived = _one(records, scenario, c, Handout(people_per_h_per_point=None))
        for s in records.settlements:
            times, people = handed[s.settlement]
            on_time = int(people[times <= target + EPS].sum())
            late = s.people - on_time
            if late <= (1 - t.time_share_required) * s.people + EPS:
                continue
            first = on_time + 1  # the binding person (1-based)
            received = _at(handed[s.settlement], first)
            facts = _cause(records, service, closures, s.settlement, s.onset_h, c, first,
                           received - _at(arrived[s.settlement], first),
                           deliveries[(s.settlement, c.id)], cuts[s.settlement])
            facts["rate"] = handout_rate(scenario.handout, s.people, points.get(s.settlement))
            cause, key = facts.pop("cause"), facts.pop("detail")
            facts["depot"] = names.get(facts["depot"], facts["depot"])
            rows.append({
                "settlement": s.settlement, "commodity": c.id, "kpi": kpi, "people": s.people,
                "late": late, "cause": cause, "cause_zh": label("cause", cause, "zh"),
                "cause_en": label("cause", cause, "en"),
                "detail_zh": CAUSE_DETAILS[key][0].format(**facts),
                "detail_en": CAUSE_DETAILS[key][1].format(**facts),
                "depot": facts["depot"],
                **{k: facts[k] for k in ("wait_h", "travel_h", "cut_h", "handout_h")}})
    return pd.DataFrame(rows, columns=COLUMNS)


def _at(runs: tuple[np.ndarray, np.ndarray], person: int) -> float:
    """The time of the ``person``-th person (1-based) in (times, people) runs."""
    times, people = runs
    return float(times[np.searchsorted(np.cumsum(people), person)])


def _one(records: Records, scenario: Scenario, commodity: Commodity, handout: Handout
         ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per settlement, (times after onset, people) of receiving ``commodity`` alone."""
    alone = scenario.model_copy(update={
        "commodities": [commodity.model_copy(update={"main": True})], "handout": handout})
    table = person_relief(records, alone)
    return {s: (g.initial_h.to_numpy(), g.people.to_numpy())
            for s, g in table.groupby("settlement", sort=False)}


def _cause(records: Records, service: ServiceAreas | None, names: dict[str, str],
           settlement: str, onset: float,
           commodity: Commodity, person: int, handout: float, got: list, cuts: list[Interval]
           ) -> dict:
    """The largest part of the binding person's time, with the facts its sentence needs."""
    need = person * commodity.per_person - EPS * person
    total, delivery = 0.0, None
    for d in sorted(got, key=lambda d: d.time_h):
        total += d.qty
        if total >= need:
            delivery = d
            break
    end = delivery.time_h if delivery is not None else records.horizon_h
    facts: dict = {"depot": "", "wait_h": 0.0, "travel_h": 0.0,
                   "cut_h": _overlap(cuts, onset, end),
                   "handout_h": handout if math.isfinite(handout) else 0.0,
                   "closures": "", "until": math.inf}
    if facts["cut_h"] > 0:
        last = max((ab for ab in cuts if ab[1] > onset and ab[0] < end), key=lambda ab: ab[1])
        facts.update(closures=_closures(records, last[0], names), until=last[1])
    if delivery is None:
        if cuts and not math.isfinite(cuts[-1][1]):
            return _named({**facts, "cause": "cut_off", "detail": "cut_off_end"})
        short = _ran_short(records, service, settlement, commodity, math.inf)
        return _named({**facts, "cause": "no_stock" if short else "trucks_busy",
                       "detail": "no_stock_never" if short else "trucks_busy_never"})
    facts.update(
        depot=delivery.depot,
        wait_h=delivery.dispatched_h - onset - _overlap(cuts, onset, delivery.dispatched_h),
        travel_h=delivery.time_h - delivery.dispatched_h - _overlap(
            cuts, delivery.dispatched_h, delivery.time_h))
    parts = {"cut_off": facts["cut_h"], "queue": facts["wait_h"], "travel": facts["travel_h"],
             "handout": facts["handout_h"]}
    cause = max(parts, key=lambda k: parts[k])
    if cause == "queue":
        cause = ("no_stock" if _ran_short(records, service, settlement, commodity,
                                          delivery.dispatched_h) else "trucks_busy")
    detail = "cut_off_end" if cause == "cut_off" and not math.isfinite(facts["until"]) else cause
    return _named({**facts, "cause": cause, "detail": detail})


def _named(facts: dict) -> dict:
    """The facts under the names the sentences use."""
    return {**facts, "wait": facts["wait_h"], "trip": facts["travel_h"], "cut": facts["cut_h"],
            "handout": facts["handout_h"]}


def _overlap(intervals: list[Interval], start: float, end: float) -> float:
    return sum(max(0.0, min(b, end) - max(a, start)) for a, b in intervals)


def _closures(records: Records, at: float, names: dict[str, str]) -> str:
    """The closures in force at ``at``, by name."""
    found = [names.get(c.disruption, c.disruption) for c in records.closures
             if c.factor == math.inf and c.start_h <= at + EPS and at < c.end_h]
    return "、".join(found) or "?"


def _ran_short(records: Records, service: ServiceAreas | None, settlement: str,
               commodity: Commodity, at: float) -> bool:
    """Whether the depots of the settlement's own lowest tier (every depot when service areas
    are unknown) had none of ``commodity`` left just before ``at``."""
    first = service.first_tier(settlement) if service is not None else None
    own = (set(service.owners[settlement][first]) if first is not None and service is not None
           else {r.depot for r in records.ledger})
    level = {r.depot: r.initial for r in records.ledger
             if r.depot in own and r.commodity == commodity.id}
    for r in records.stock:
        if r.depot in level and r.commodity == commodity.id and r.time_h < at - EPS:
            level[r.depot] = r.level
    return sum(level.values()) <= EPS
