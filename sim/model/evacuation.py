"""Evacuation to shelters (转移安置): who goes where, when they get in, and supplying them there.

**Assignment** (before the run, :func:`evacuation_plan`). Settlements with an evacuation order
are taken in order of their order time (ties: the more urgent first, then by name). Each sends
``share`` of its people (rounded) to the nearest shelter, among those its order allows, that
still has room — nearest by walking time (:func:`sim.walking.walk_times_h`: the extract's
pedestrian network when the world has one, else the drivable roads at walking speed;
:func:`sim.walking.walk_basis` says which), or by open-road driving time for ``mode: bus``.
What does not fit goes to the next-nearest shelter with room, and so on; the rest have no
place: they stay home and are supplied there like everyone who stays. A place is held for the
whole run (a shelter's capacity is never reused), so no shelter is ever over capacity.

**Movement**, as flows — never one SimPy process per person:

- on foot, person i (1 … n) of a settlement's n evacuees leaves at
  ``order_h + depart_over_h · i/n`` and arrives its walking time later (the first to leave
  fill the nearest shelter, the next the next-nearest);
- by bus, people are ready at the pick-up point at that pace; one SimPy process per bus
  shuttles seat-full loads from its fleet's depot or team base: the free bus that reaches the
  pick-up soonest takes the next load (up to its seats), waits until those people are ready,
  boards them, drives the current fastest path to the shelter and unloads;
- at the door a shelter admits nobody before it opens (``opening_delay_h`` after the start),
  then one person every 1/``intake_per_h`` hours, first come first served: the k-th person to
  arrive is admitted at h_k = max(a_k, open, h_(k−1) + 1/intake) — in closed form
  h_k = max_(j≤k) (max(a_j, open) + (k − j)/intake) (:func:`door_times`), over all arrivals,
  once the run is over.

**Relief at the shelter.** A group's needs arise at its shelter when its first people get
there (on foot: its first person; by bus: its first load) — day 0's for the whole group, and
day k's (of the daily commodities) k × 24 h later, for ``stay_days`` days. The shelter's own
stock serves first, the rest goes to the relief dispatcher (:class:`sim.model.relief.Relief`)
as the needs of a demand point at the shelter, sourced like the evacuees' home settlements;
each evacuee can receive their goods once admitted (:func:`sim.metrics.person_relief`). The
people who stay home need only their own share there.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from sim.model.records import (
    BusLoadRecord,
    EvacuationRecord,
    EvacueeRecord,
    Records,
    ShelterNeedRecord,
    ShelterRecord,
)
from sim.model.relief import Relief
from sim.model.roads import RoadState
from sim.scenario import Scenario, evacuees
from sim.walking import walk_basis, walk_times_h
from sim.world import World

__all__ = ["EXACT_PEOPLE", "RUN_STEP_H", "Evacuation", "Group", "Plan", "door_times",
           "evacuation_plan"]

EPS = 1e-9
DAY_H = 24.0
RUN_STEP_H = 0.1
"""Evacuees are recorded in batches admitted within this many hours (each batch gets its last
person's time; batches never straddle the evacuation target), like the hand-out metric."""
EXACT_PEOPLE = 1_000_000
"""Up to this many evacuees at one shelter, the door is resolved person by person; beyond,
in equal units of ⌈people / EXACT_PEOPLE⌉ people (each unit arrives with its last person, so
times err late by at most a unit's arrival spread plus its admission)."""


@dataclass(frozen=True)
class Group:
    """People of one settlement sent to one shelter ('' = without a place)."""

    settlement: str
    shelter: str
    mode: str
    people: int
    order_h: float
    depart_over_h: float
    stay_days: int
    urgency: int
    travel_h: float
    """Walking time (walk) or open-road driving time (bus) to the shelter; nan without one."""
    rank: int
    """Position in the assignment order."""
    offset: int = 0
    """People of the same settlement sent before this group (to nearer shelters): their
    departure pace is the settlement's, so person i of this group is person offset + i
    there."""
    total: int = 0
    """All evacuees of the settlement (the pace of departure is total / depart_over_h)."""

    def ready_h(self, i: np.ndarray | int) -> Any:
        """When person ``i`` (1-based, within this group) leaves home (or is ready for the
        bus)."""
        return self.order_h + self.depart_over_h * (self.offset + i) / max(self.total, 1)


@dataclass(frozen=True)
class Plan:
    """The assignment of one replication: groups in order, and the people left at home."""

    groups: tuple[Group, ...]
    at_home: dict[str, int]

    @property
    def sheltered(self) -> tuple[Group, ...]:
        return tuple(g for g in self.groups if g.shelter)


def evacuation_plan(world: World) -> Plan:
    """Assign evacuees to shelters (the rule in the module docstring)."""
    scenario = world.scenario
    kmh = scenario.evacuation_settings.walk_kmh
    orders = sorted((s for s in scenario.settlements if s.evacuation is not None),
                    key=lambda s: (s.evacuation.order_h, -s.urgency,  # type: ignore[union-attr]
                                   s.name or s.id, s.id))
    if not orders:
        return Plan((), {})
    shelters = [h.id for h in scenario.shelters]
    walkers = [s.id for s in orders if s.evacuation.mode == "walk"]  # type: ignore[union-attr]
    riders = [s.id for s in orders if s.evacuation.mode == "bus"]  # type: ignore[union-attr]
    times = {**_matrix(world, "walk", walkers, shelters, kmh),
             **_matrix(world, "drive", riders, shelters, kmh)}
    room = {h.id: h.capacity for h in scenario.shelters}
    index = {h: k for k, h in enumerate(shelters)}
    groups: list[Group] = []
    at_home: dict[str, int] = {}
    for s in orders:
        order = s.evacuation
        assert order is not None
        total = left = evacuees(s)
        row = times[s.id]
        allowed = [h for h in dict.fromkeys(order.shelters or shelters)
                   if math.isfinite(row[index[h]])]
        allowed.sort(key=lambda h: (row[index[h]], index[h]))

        def group(shelter: str, people: int, travel: float, offset: int,
                  s: Any = s, order: Any = order, total: int = total) -> Group:
            return Group(s.id, shelter, order.mode, people, order.order_h, order.depart_over_h,
                         order.stay_days, s.urgency, travel, len(groups), offset, total)

        for h in allowed:
            take = min(left, room[h])
            if take <= 0:
                continue
            groups.append(group(h, take, float(row[index[h]]), total - left))
            room[h] -= take
            left -= take
            if left == 0:
                break
        if left:
            groups.append(group("", left, math.nan, total - left))
        at_home[s.id] = s.people - (total - left)
    return Plan(tuple(groups), at_home)


def _matrix(world: World, how: str, origins: list[str], shelters: list[str], kmh: float
            ) -> dict[str, np.ndarray]:
    """Walking or open-road driving times (h) from each origin to every shelter, by origin;
    memoised in the world (the same for every replication)."""
    if not origins:
        return {}

    def nodes(ids: list[str]) -> tuple[tuple[int, int | None], ...]:
        return tuple((world.node(i), world.walk_nodes.get(i) if how == "walk" else None)
                     for i in ids)

    key = ("evacuation", how, nodes(origins), nodes(shelters),
           kmh if how == "walk" else None, walk_basis(world) if how == "walk" else None)
    if key not in world.memo:
        if not shelters:
            found = np.zeros((len(origins), 0))
        elif how == "walk":
            found = walk_times_h(world, origins, shelters, kmh=kmh)
        else:
            world.roads.set_state()
            found, _ = world.roads.matrix([world.node(s) for s in origins],
                                          [world.node(h) for h in shelters])
        world.memo[key] = np.asarray(found, dtype=float)
    return {s: world.memo[key][i] for i, s in enumerate(origins)}


def door_times(arrive_h: np.ndarray, sizes: np.ndarray, open_h: float,
               per_h: float | None) -> np.ndarray:
    """When the first person of each arriving unit (in order of arrival; ``sizes`` people
    each, admitted one after another) gets in: nobody before ``open_h``, one person per
    1/``per_h`` hours, first come first served (``per_h`` None: no limit). With units of one
    person this is h_k = max(a_k, open, h_(k−1) + 1/per_h), in closed form."""
    start = np.maximum(np.asarray(arrive_h, dtype=float), open_h)
    if per_h is None or not len(start):
        return start
    before = (np.cumsum(sizes) - sizes) / per_h  # hours of admitting everyone ahead
    return before + np.maximum.accumulate(start - before)


@dataclass(eq=False)
class _Bus:
    name: str
    base: str
    node: int
    seats: int
    load_h: float
    unload_h: float
    inbox: simpy.Store
    free: bool = True


@dataclass(eq=False)
class _Job:
    group: Group
    node: int
    dest: int
    claimed: int = 0
    open: bool = False


class Evacuation:
    """The evacuation part of one replication: walking groups, buses, and needs at shelters."""

    def __init__(self, env: simpy.Environment, world: World, roads: RoadState, relief: Relief,
                 records: Records, plan: Plan) -> None:
        self.env, self.world, self.roads, self.relief, self.records, self.plan = (
            env, world, roads, relief, records, plan)
        scenario: Scenario = world.scenario
        self.shelters = {h.id: h for h in scenario.shelters}
        self.commodities = scenario.commodities
        self.daily = any(c.daily for c in self.commodities)
        self.loads: dict[int, list[tuple[float, int]]] = {g.rank: [] for g in plan.groups}
        """Arrivals of each group at its shelter: (time, people)."""
        self.trips: dict[int, list[BusLoadRecord]] = {g.rank: [] for g in plan.groups}
        homes: dict[str, list[str]] = {}
        for g in plan.sheltered:
            homes.setdefault(g.shelter, [])
            if g.settlement not in homes[g.shelter]:
                homes[g.shelter].append(g.settlement)
        for shelter, people in homes.items():
            relief.add_point(shelter, people, self.shelters[shelter].stock)
        for g in plan.sheltered:
            if g.mode == "walk":
                env.process(self._walk(g))
        self.jobs = [_Job(g, world.node(g.settlement), world.node(g.shelter))
                     for g in plan.sheltered if g.mode == "bus"]
        self.buses: list[_Bus] = []
        if self.jobs:
            for fleet in scenario.evacuation_settings.buses:
                for k in range(fleet.count):
                    self.buses.append(_Bus(f"{fleet.base}/bus{k + 1}", fleet.base,
                                           world.node(fleet.base), fleet.seats,
                                           fleet.load_min / 60.0, fleet.unload_min / 60.0,
                                           simpy.Store(env)))
            for bus in self.buses:
                env.process(self._bus(bus))
            env.process(self._orders())

    # -- arrivals and needs ---------------------------------------------------------------------

    def _walk(self, g: Group) -> Generator[simpy.Event, Any, None]:
        first = float(g.ready_h(1)) + g.travel_h
        yield self.env.timeout(max(first - self.env.now, 0.0))
        self.loads[g.rank].append((self.env.now, g.people))
        self._arrived(g, g.people)

    def _arrived(self, g: Group, people: int) -> None:
        """``g`` starts arriving at its shelter: day 0's needs now, the next days' later."""
        self._need(g, people, 0)
        if g.stay_days > 1 and self.daily:
            self.env.process(self._stay(g, people, self.env.now))

    def _stay(self, g: Group, people: int, start: float) -> Generator[simpy.Event, Any, None]:
        for day in range(1, g.stay_days):
            yield self.env.timeout(max(start + day * DAY_H - self.env.now, 0.0))
            self._need(g, people, day)

    def _need(self, g: Group, people: int, day: int) -> None:
        self.records.shelter_needs.append(
            ShelterNeedRecord(self.env.now, g.shelter, g.settlement, day, people))
        self.relief.need(g.shelter, {c.id: people * c.per_person for c in self.commodities
                                     if day == 0 or c.daily}, g.urgency)

    # -- buses ----------------------------------------------------------------------------------

    def _orders(self) -> Generator[simpy.Event, Any, None]:
        for t in sorted({j.group.order_h for j in self.jobs}):
            yield self.env.timeout(max(t - self.env.now, 0.0))
            for job in self.jobs:
                if job.group.order_h <= t:
                    job.open = True
            self._dispatch()

    def poke(self) -> None:
        """Roads changed: a bus may now reach a pick-up it could not."""
        if self.jobs:
            self._dispatch()

    def _dispatch(self) -> None:
        """Give each open load, in the assignment order, to the free bus that reaches its
        pick-up soonest now (ties: by name); a bus takes up to its seats."""
        for job in self.jobs:
            while job.open and job.claimed < job.group.people:
                free = [b for b in self.buses if b.free]
                if not free:
                    return
                eta, _, bus = min((self.roads.time_h(b.node, job.node), b.name, b) for b in free)
                if not math.isfinite(eta):
                    break  # no free bus can get there now; the next order may be reachable
                take = min(bus.seats, job.group.people - job.claimed)
                bus.free = False
                bus.inbox.put((job, job.claimed, job.claimed + take))
                job.claimed += take

    def _bus(self, bus: _Bus) -> Generator[simpy.Event, Any, None]:
        env = self.env
        while True:
            job, first, last = yield bus.inbox.get()
            g = job.group
            sent = env.now
            km = yield from self.roads.drive(bus.node, job.node)
            bus.node = job.node
            ready = float(g.ready_h(last))
            if ready > env.now:
                yield env.timeout(ready - env.now)
            board = env.now
            yield env.timeout(bus.load_h)
            leave = env.now
            km += yield from self.roads.drive(job.node, job.dest)
            bus.node = job.dest
            yield env.timeout(bus.unload_h)
            people = last - first
            trip = BusLoadRecord(bus.name, bus.base, g.settlement, g.shelter, people, sent, board,
                                 leave, env.now, km)
            self.records.bus_loads.append(trip)
            self.trips[g.rank].append(trip)
            self.loads[g.rank].append((env.now, people))
            if len(self.loads[g.rank]) == 1:  # the group's first load
                self._arrived(g, g.people)
            bus.free = True
            self._dispatch()

    # -- end of run: the doors ------------------------------------------------------------------

    def finish(self) -> None:
        """Admit everyone who arrived (closed form per shelter) and write the evacuation,
        evacuees and shelters tables."""
        horizon = self.records.horizon_h
        target = self.world.scenario.targets.evacuation_h
        admitted: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # per group: times, weights
        for shelter in self.world.scenario.shelters:
            groups = [g for g in self.plan.sheltered if g.shelter == shelter.id]
            items = self._door(shelter, groups, horizon)
            peak, peak_h = _peak(items, {g.rank: g.stay_days for g in groups}, horizon)
            for g in groups:
                mine = items[0] == g.rank
                admitted[g.rank] = (items[2][mine], items[1][mine])
            self.records.shelters.append(ShelterRecord(
                shelter.id, shelter.capacity, sum(g.people for g in groups),
                int(items[1][np.isfinite(items[2])].sum()), peak, peak_h))
        for g in self.plan.groups:
            times, weights = admitted.get(g.rank, (np.zeros(0), np.zeros(0, dtype=np.int64)))
            self._group_record(g, times, weights)
            self._runs(g, times, weights, target)

    def _door(self, shelter: Any, groups: Sequence[Group], horizon: float
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Everyone who arrived at ``shelter`` within the horizon, in units (one person each
        up to :data:`EXACT_PEOPLE`): (group rank, people, admission of the unit's last
        person, inf when not within the horizon), in order of admission."""
        total = sum(g.people for g in groups)
        unit = max(1, math.ceil(total / EXACT_PEOPLE))
        ranks, sizes, arrive, order = [], [], [], []
        for g in groups:
            if g.mode == "walk":
                if not self.loads[g.rank]:
                    continue  # the first of them had not arrived by the horizon
                last = np.minimum(np.arange(1, math.ceil(g.people / unit) + 1) * unit, g.people)
                size = np.diff(np.r_[0, last])
                times = g.ready_h(last) + g.travel_h
            else:
                loads = self.loads[g.rank]
                times = np.array([t for t, _ in loads], dtype=float)
                size = np.array([n for _, n in loads], dtype=np.int64)
                if unit == 1 and len(size):  # one person per unit, all at the unload time
                    times, size = np.repeat(times, size), np.ones(int(size.sum()), np.int64)
            ranks.append(np.full(len(size), g.rank))
            sizes.append(size)
            arrive.append(times)
            order.append(np.arange(len(size)))
        if not sizes:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
        rank, size, when, seq = (np.concatenate(x) for x in (ranks, sizes, arrive, order))
        keep = when <= horizon + EPS
        rank, size, when, seq = rank[keep], size[keep], when[keep], seq[keep]
        first = np.lexsort((seq, rank, when))  # by arrival; ties: assignment order
        rank, size, when = rank[first], size[first], when[first]
        per_h = shelter.intake_per_h
        start = door_times(when, size, shelter.opening_delay_h, per_h)
        last = start + (size - 1) / per_h if per_h is not None else start
        last = np.where(last <= horizon + EPS, last, math.inf)
        return rank, size, last

    def _group_record(self, g: Group, times: np.ndarray, weights: np.ndarray) -> None:
        inf = math.inf
        n_in = int(weights[np.isfinite(times)].sum())
        first_in = float(times.min()) if n_in else inf
        last_in = float(times.max()) if n_in == g.people else inf
        if not g.shelter:
            depart = arrive = (inf, inf)
        elif g.mode == "walk":
            depart = (float(g.ready_h(1)), float(g.ready_h(g.people)))
            arrive = (depart[0] + g.travel_h, depart[1] + g.travel_h)
            arrive = tuple(t if t <= self.records.horizon_h + EPS else inf for t in arrive)
        else:
            loads = self.trips[g.rank]
            done = sum(r.people for r in loads) == g.people
            depart = (min((r.depart_h for r in loads), default=inf),
                      max(r.depart_h for r in loads) if done else inf)
            arrive = (min((r.arrive_h for r in loads), default=inf),
                      max(r.arrive_h for r in loads) if done else inf)
        self.records.evacuation.append(EvacuationRecord(
            g.settlement, g.shelter, g.mode, g.people, g.order_h, g.travel_h, *depart, *arrive,
            first_in, last_in, n_in))

    def _runs(self, g: Group, times: np.ndarray, weights: np.ndarray, target: float) -> None:
        """The group's people in batches admitted within :data:`RUN_STEP_H` of the batch's
        first, split at the evacuation target; those never admitted in one batch (inf)."""
        finite = np.isfinite(times)
        t, w = times[finite], weights[finite]
        if len(t):
            late = t > g.order_h + target + EPS
            step = np.floor((t - t[0]) / RUN_STEP_H + EPS)
            cut = np.r_[(np.diff(step) != 0) | (np.diff(late) != 0), True]
            ends = np.flatnonzero(cut)
            people = np.add.reduceat(w, np.r_[0, ends[:-1] + 1])
            for n, at in zip(people.tolist(), t[ends].tolist(), strict=True):
                self.records.evacuees.append(EvacueeRecord(g.settlement, g.shelter, int(n),
                                                           g.order_h, float(at)))
        never = g.people - int(w.sum())
        if never:
            self.records.evacuees.append(EvacueeRecord(g.settlement, g.shelter, never,
                                                       g.order_h, math.inf))


def _peak(items: tuple[np.ndarray, np.ndarray, np.ndarray], stay_days: dict[int, int],
          horizon: float) -> tuple[int, float]:
    """Most people in the shelter at once (they leave ``stay_days`` after admission), and
    when it was first reached (nan when nobody came)."""
    rank, size, admitted = items
    finite = np.isfinite(admitted)
    if not finite.any():
        return 0, math.nan
    into = admitted[finite]
    out = into + np.array([stay_days[int(r)] for r in rank[finite]]) * DAY_H
    leaving = out <= horizon + EPS
    when = np.r_[into, out[leaving]]
    delta = np.r_[size[finite], -size[finite][leaving]]
    order = np.lexsort((delta, when))  # at the same time, leaving before arriving
    level = np.cumsum(delta[order])
    k = int(np.argmax(level))
    return int(level[k]), float(when[order][k])
