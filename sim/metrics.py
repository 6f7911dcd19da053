"""Pure functions from records to KPIs judged against the plan targets.

Relief is measured per affected person: person k of a settlement has initial relief when every
*main* commodity delivered there covers k people and has been handed to them (distribution
points hand out in order at the settlement's rate), and effective relief when every commodity
has. Times are hours after the settlement's onset; never (within the horizon) = inf, which
counts as not within the target. Results are censored honestly: ``mean`` is over those served,
``never`` counts those who were not, and quantiles and ``max`` stay inf when they fall there.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.glossary import KPI_LABELS
from sim.model.records import Records
from sim.scenario import Handout, Scenario

__all__ = ["HANDOUT_STEP_H", "KPI_NAMES", "Kpi", "evacuation_summary", "handout_rate", "kpis",
           "person_relief", "resource_summary", "weighted_quantile"]

EPS = 1e-9
HANDOUT_STEP_H = 0.1
"""Hand-out is resolved in batches of this many hours (see :func:`_handed_out`)."""

KPI_NAMES = ("initial_relief", "effective_relief", "inland_river_arrival", "sea_arrival",
             "fires_out_24h", "evacuation")
"""The plan targets every run reports (plus ``<type>_arrival`` for types with a target_h;
``evacuation`` only when the scenario orders one)."""


def person_relief(records: Records, scenario: Scenario) -> pd.DataFrame:
    """Relief times per group of people: settlement, initial_h, effective_h, people.

    Person k (1-based) of a settlement has a commodity when the deliveries there, in time
    order, add up to ``k · per_person`` (less a rounding tolerance). Both times only grow with
    k, so people form runs of equal times; the runs are found from the deliveries alone (cost
    grows with deliveries, not people, so a settlement of 10⁸ people costs no more than 10).
    """
    delivered: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for d in records.deliveries:
        delivered.setdefault((d.settlement, d.commodity), []).append((d.time_h, d.qty))
    points = {s.id: s.distribution_points for s in scenario.settlements}
    parts = []
    for s in records.settlements:
        # Per commodity: covered[j] = people served once delivery j has arrived; times[j].
        steps = []
        for c in scenario.commodities:
            got = sorted(delivered.get((s.settlement, c.id), []))
            times = np.array([t for t, _ in got] + [math.inf]) - s.onset_h
            cum = np.cumsum([q for _, q in got])
            covered = np.append(_people_covered(cum, c.per_person, s.people), s.people)
            steps.append((c.main, np.maximum.accumulate(covered), times))
        bounds = np.unique(np.concatenate([covered for _, covered, _ in steps]))
        bounds = bounds[bounds > 0]  # runs (previous bound, bound]
        initial = np.zeros(len(bounds))
        effective = np.zeros(len(bounds))
        for main, covered, times in steps:
            reached = times[np.searchsorted(covered, bounds, side="left")]
            np.maximum(effective, reached, out=effective)
            if main:
                np.maximum(initial, reached, out=initial)
        keep = np.append((initial[1:] != initial[:-1]) | (effective[1:] != effective[:-1]), True)
        ends, times = _handed_out(bounds[keep], initial[keep], effective[keep],
                                  handout_rate(scenario.handout, s.people,
                                               points.get(s.settlement)))
        counts = np.diff(ends, prepend=0)
        parts.append((s.settlement, times, counts))
    parts += _shelter_relief(records, scenario, delivered)
    return pd.DataFrame({
        "settlement": [name for name, _, n in parts for _ in range(len(n))],
        "initial_h": np.concatenate([p[:, 0] for _, p, _ in parts]) if parts else [],
        "effective_h": np.concatenate([p[:, 1] for _, p, _ in parts]) if parts else [],
        "people": np.concatenate([n for _, _, n in parts]).astype(int) if parts else [],
    })


def _shelter_relief(records: Records, scenario: Scenario,
                    delivered: dict[tuple[str, str], list[tuple[float, float]]]
                    ) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Relief of evacuees at their shelters, as runs (shelter, times, people) with times
    after their home settlement's onset (never before it).

    A shelter's deliveries (its own stock included) meet its needs in the order they arose
    (each arrival's day-0 needs, later days' needs of daily goods); an evacuee's goods are
    there when the needs before theirs and theirs are covered, and they can receive them once
    admitted (the door). The shelter then hands out to its evacuees in order of availability
    at its distribution points' rate, as a settlement does. Evacuees who never arrived or were
    never admitted within the horizon are never relieved."""
    if not records.evacuation:
        return []
    onset = {s.id: s.onset_h for s in scenario.settlements}
    admitted: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for e in records.evacuees:
        admitted.setdefault((e.settlement, e.shelter), []).append((e.people, e.admitted_h))
    needs: dict[str, list] = {}
    for need in sorted(records.shelter_needs, key=lambda n: n.time_h):
        needs.setdefault(need.shelter, []).append(need)
    groups: dict[str, list] = {}
    for g in records.evacuation:
        if g.shelter:
            groups.setdefault(g.shelter, []).append(g)
    parts = []
    for shelter, members in groups.items():
        # Per commodity and group: (person bounds, times) of coverage, slices in order.
        steps: dict[str, list[tuple[bool, np.ndarray, np.ndarray]]] = {
            g.settlement: [] for g in members}
        for c in scenario.commodities:
            got = sorted(delivered.get((shelter, c.id), []))
            times = np.array([t for t, _ in got] + [math.inf])
            cum = np.cumsum([q for _, q in got])
            before, start = 0.0, dict.fromkeys(steps, 0)
            bounds: dict[str, list[np.ndarray]] = {k: [] for k in steps}
            stamps: dict[str, list[np.ndarray]] = {k: [] for k in steps}
            for need in needs.get(shelter, []):
                if need.day == 0:
                    covered = np.append(_people_covered(cum - before, c.per_person,
                                                        need.people), need.people)
                    bounds[need.settlement].append(
                        start[need.settlement] + np.maximum.accumulate(covered))
                    stamps[need.settlement].append(times)
                    start[need.settlement] += need.people
                if need.day == 0 or c.daily:
                    before += need.people * c.per_person
            for g in members:
                b, t = bounds[g.settlement], stamps[g.settlement]
                steps[g.settlement].append((c.main, np.concatenate([*b, [g.people]]),
                                            np.concatenate([*t, [math.inf]])))
        rows = []
        for g in members:
            runs = admitted.get((g.settlement, shelter), [(g.people, math.inf)])
            ends = np.cumsum([n for n, _ in runs])
            inside = np.array([t for _, t in runs])
            cuts = [ends] + [b for _, b, _ in steps[g.settlement]]
            k = np.unique(np.concatenate(cuts))
            k = k[(k > 0) & (k <= g.people)]
            door = inside[np.minimum(np.searchsorted(ends, k, side="left"), len(ends) - 1)]
            initial, effective = door.copy(), door.copy()
            for main, b, t in steps[g.settlement]:
                reached = t[np.searchsorted(b, k, side="left")]
                np.maximum(effective, reached, out=effective)
                if main:
                    np.maximum(initial, reached, out=initial)
            rows.append((np.diff(k, prepend=0), initial, effective,
                         np.full(len(k), onset.get(g.settlement, 0.0))))
        people, initial, effective, start_h = (np.concatenate(x) for x in zip(*rows, strict=True))
        order = np.lexsort((effective, initial))
        rate = handout_rate(scenario.handout, int(sum(g.people for g in members)))
        ends, times, run = _handout_batches(np.cumsum(people[order]), initial[order],
                                            effective[order], rate)
        times = np.maximum(times - start_h[order][run][:, None], 0.0)
        parts.append((shelter, times, np.diff(ends, prepend=0)))
    return parts


def handout_rate(rule: Handout, people: int, points: int | None = None) -> float:
    """People per hour a settlement's distribution points (``points``, by default one per
    ``rule.people_per_point``) hand goods to; inf when hand-out is not modelled."""
    if rule.people_per_h_per_point is None:
        return math.inf
    return (points or math.ceil(people / rule.people_per_point)) * rule.people_per_h_per_point


def _handed_out(ends: np.ndarray, initial: np.ndarray, effective: np.ndarray, rate: float
                ) -> tuple[np.ndarray, np.ndarray]:
    """Hand-out of goods as they become available: people in order, ``rate`` per hour, so
    person k receives at h_k = max(a_k, h_(k-1)) + 1/rate = max_(j≤k) a_j + (k − j + 1)/rate
    (once for main goods, once for all). Within a run of equal availability this is linear in
    k; runs are cut into hand-out batches of at most :data:`HANDOUT_STEP_H` and each batch gets
    its last person's time (so times err late by at most that much). Returns the batches' end
    people and (initial, effective) times."""
    cut, times, _ = _handout_batches(ends, initial, effective, rate)
    return cut, times


def _handout_batches(ends: np.ndarray, initial: np.ndarray, effective: np.ndarray, rate: float
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_handed_out`, also giving each batch's run (index into ``ends``)."""
    if rate == math.inf:
        return ends, np.column_stack([initial, effective]), np.arange(len(ends))
    starts = np.concatenate(([0], ends[:-1]))
    batch = max(1, math.ceil(rate * HANDOUT_STEP_H))
    pieces = np.maximum(1, np.ceil((ends - starts) / batch)).astype(np.int64)
    run = np.repeat(np.arange(len(ends)), pieces)
    within = np.arange(len(run)) - np.repeat(np.cumsum(pieces) - pieces, pieces) + 1
    cut = np.minimum(starts[run] + within * batch, ends[run])
    times = []
    for avail in (initial, effective):
        with np.errstate(invalid="ignore"):
            base = np.maximum.accumulate(avail - starts / rate)
        times.append(base[run] + cut / rate)
    return cut, np.column_stack(times), run


def _people_covered(cum: np.ndarray, per_person: float, people: int) -> np.ndarray:
    """For each cumulative quantity, how many people (0 … ``people``) it covers: the largest
    k with ``k · per_person − EPS · k ≤ cum`` (the tolerance forgives rounding in sums)."""
    if len(cum) == 0:
        return np.zeros(0, dtype=np.int64)
    need = lambda k: k * per_person - EPS * np.maximum(1.0, k)  # noqa: E731
    k = np.clip(np.floor(cum / (per_person - EPS)), 0, people)
    for _ in range(4):  # the estimate is off by at most one or two from rounding
        was = k
        k = np.where((k < people) & (need(k + 1) <= cum), k + 1, k)
        k = np.where((k > 0) & (need(k) > cum), k - 1, k)
        if np.array_equal(k, was):  # settled (mostly at once: this runs for every delivery)
            break
    return k.astype(np.int64)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The q-quantile of values with integer-like weights (inverted CDF, like numpy's default
    for repeated values)."""
    if len(values) == 0 or weights.sum() <= 0:
        return math.nan
    order = np.argsort(values, kind="stable")
    v, w = np.asarray(values, dtype=float)[order], np.asarray(weights, dtype=float)[order]
    cum = np.cumsum(w)
    return float(v[np.searchsorted(cum, q * cum[-1] - EPS, side="left")])


@dataclass(frozen=True)
class Kpi:
    """One target: what was measured, against which standard, and whether it passed."""

    kpi: str
    name_zh: str
    target: float
    unit: str
    n: float
    never: float
    """People (or incidents) not served within the horizon; excluded from ``mean``."""
    mean: float
    """Mean over those served within the horizon (NaN when nobody was)."""
    p50: float
    p95: float
    max: float
    share_within: float
    share_required: float
    passed: bool | None


def _time_kpi(kpi: str, name_zh: str, target_h: float, required: float,
              values: np.ndarray, weights: np.ndarray | None = None) -> Kpi:
    values = np.asarray(values, dtype=float)
    weights = np.ones(len(values)) if weights is None else np.asarray(weights, dtype=float)
    n = float(weights.sum())
    if n == 0:
        return Kpi(kpi, name_zh, target_h, "h", 0, 0, *([math.nan] * 5), required, None)
    finite = np.isfinite(values)
    served = float(weights[finite].sum())
    mean = (float(np.average(values[finite], weights=weights[finite])) if served > 0
            else math.nan)
    share = float(weights[values <= target_h + EPS].sum() / n)
    return Kpi(kpi, name_zh, target_h, "h", n, n - served, mean,
               weighted_quantile(values, weights, 0.5), weighted_quantile(values, weights, 0.95),
               float(values.max()), share, required, share >= required - EPS)


def kpis(records: Records, scenario: Scenario, relief: pd.DataFrame | None = None
         ) -> list[Kpi]:
    """The plan targets (and any incident type's own ``target_h``) judged on one replication;
    pass ``relief`` (from :func:`person_relief`) when it is already computed."""
    t = scenario.targets
    relief = person_relief(records, scenario) if relief is None else relief
    people = relief.people.to_numpy()
    out = [
        _time_kpi("initial_relief", "受灾群众基本生活初步救助时间", t.initial_relief_h,
                  t.time_share_required, relief.initial_h.to_numpy(), people),
        _time_kpi("effective_relief", "受灾人员基本生活得到有效救助时间", t.effective_relief_h,
                  t.time_share_required, relief.effective_h.to_numpy(), people),
    ]
    incidents = records.incidents  # arrays from the records (this runs every replication)
    call = np.array([i.call_h for i in incidents], dtype=float)
    arrival = np.array([i.first_arrival_h for i in incidents], dtype=float) - call
    mode = np.array([i.mode for i in incidents], dtype=object)
    kind = np.array([i.type for i in incidents], dtype=object)
    river, sea = mode == "river", mode == "sea"
    out.append(_time_kpi("inland_river_arrival", "内河应急处置现场到达时间",
                         t.inland_river_arrival_h, t.time_share_required, arrival[river]))
    out.append(_time_kpi("sea_arrival", "海域(12海里以内)应急处置现场到达时间",
                         t.sea_arrival_h, t.time_share_required, arrival[sea]))
    fire_types = {k.id for k in scenario.incident_types if k.fire is not None}
    fires = np.array([i.type in fire_types for i in incidents], dtype=bool)
    done = np.array([i.done_h for i in incidents], dtype=float) - call
    out.append(_time_kpi("fires_out_24h", "24小时森林火灾扑灭率", t.fire_out_h, t.fire_out_share,
                         done[fires]))
    for k in scenario.incident_types:
        if k.target_h is not None:
            out.append(_time_kpi(f"{k.id}_arrival", f"{k.name or k.id}现场到达时间",
                                 k.target_h, t.time_share_required, arrival[kind == k.id]))
    if records.evacuation:
        evacuees = records.table("evacuees")
        out.append(_time_kpi("evacuation", KPI_LABELS["evacuation"][0], t.evacuation_h,
                             t.time_share_required,
                             (evacuees.admitted_h - evacuees.order_h).to_numpy(),
                             evacuees.people.to_numpy()))
    return out


def evacuation_summary(records: Records, scenario: Scenario) -> dict[str, Any] | None:
    """The evacuation figures of one replication (None without evacuation orders):
    ``evacuation_complete_h`` (hours from the first order until the last evacuee with a
    place is admitted; inf when one is not within the horizon), ``evacuation_within`` (share
    of the people ordered out who are admitted within ``targets.evacuation_h`` of their
    order; those without a place count as not), ``people_without_place``, and per shelter its
    capacity, people assigned and admitted, and peak occupancy (with its time and share of
    capacity)."""
    if not records.evacuation:
        return None
    groups = records.table("evacuation")
    evacuees = records.table("evacuees")
    limit = scenario.targets.evacuation_h
    placed = groups[groups.shelter != ""]
    waited = (evacuees.admitted_h - evacuees.order_h).to_numpy()
    ordered = float(evacuees.people.sum())
    shelters = {h.id: h for h in scenario.shelters}
    return {
        "target_h": limit,
        "people_ordered": int(groups.people.sum()),
        "people_sheltered": int(groups.admitted.sum()),
        "people_without_place": int(groups.people[groups.shelter == ""].sum()),
        "evacuation_complete_h": (float(placed.admitted_last_h.max() - groups.order_h.min())
                                  if len(placed) else math.nan),
        "evacuation_within": (float(evacuees.people[waited <= limit + EPS].sum() / ordered)
                              if ordered else math.nan),
        "shelters": [{"shelter": r.shelter, "name": shelters[r.shelter].name or r.shelter,
                      "category": shelters[r.shelter].category, "capacity": r.capacity,
                      "assigned": r.assigned, "admitted": r.admitted, "peak": r.peak,
                      "peak_h": r.peak_h,
                      "peak_share": r.peak / r.capacity if r.capacity else math.nan}
                     for r in records.shelters],
    }


def kpi_table(items: list[Kpi]) -> pd.DataFrame:
    return pd.DataFrame([asdict(k) for k in items])


def resource_summary(records: Records, scenario: Scenario) -> dict[str, float]:
    """Unmet demand, stock-outs, vehicle-km and utilisation of one replication (on the record
    lists themselves: a replication's tables are small, and this runs for every one)."""
    needed = {c.id: sum(s.people for s in records.settlements) * c.per_person
              for c in scenario.commodities}
    sheltered = sum(g.people for g in records.evacuation if g.shelter)
    if sheltered:  # evacuees' needs at shelters: day 0 for all, later days as they arose
        arrived = sum(n.people for n in records.shelter_needs if n.day == 0)
        for c in scenario.commodities:
            needed[c.id] += (sheltered - arrived) * c.per_person + sum(
                n.people * c.per_person for n in records.shelter_needs if n.day == 0 or c.daily)
    loads: dict[str, list[float]] = {}
    for d in records.deliveries:
        loads.setdefault(d.commodity, []).append(d.qty)
    delivered = {c: math.fsum(qty) for c, qty in loads.items()}
    trucks = sum(d.trucks.count for d in scenario.depots)
    truck_h = math.fsum(t.end_h - t.start_h for t in records.trips if t.kind == "truck")
    team_trips = [t for t in records.trips if t.kind != "truck"]
    summary = {
        "people_affected": float(sum(s.people for s in records.settlements) + sheltered),
        "stockouts": float(sum(row.remaining <= EPS and row.initial + row.produced > 0
                               for row in records.ledger)),
        "vehicle_km": math.fsum(t.km for t in records.trips),
        "truck_utilisation": truck_h / (trucks * records.horizon_h) if trucks else math.nan,
        "team_busy_h": math.fsum(t.end_h - t.start_h for t in team_trips),
        "teams_used": float(len({t.vehicle for t in team_trips})),
    }
    for c, need in needed.items():
        summary[f"unmet_{c}"] = max(need - delivered.get(c, 0.0), 0.0)
    evacuation = evacuation_summary(records, scenario)
    if evacuation is not None:
        summary.update({k: float(evacuation[k]) for k in (
            "people_without_place", "evacuation_complete_h", "evacuation_within")})
    return summary
