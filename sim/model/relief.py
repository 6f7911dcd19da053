"""Relief logistics: depots with stock (SimPy containers) and trucks deliver to settlements.

Settlements raise one request per commodity at their onset. Each depot serves its own
administrative unit (属地, :mod:`sim.jurisdiction`); a request starts at the lowest tier that
serves its settlement and escalates to the next tier (after that tier's delay) when the tiers
open to it lack the stock, or cannot deliver the whole need by the target
(小事不出村、大事不出镇). Depots of other units support as ``dispatch.support`` says
(跨区域支援). A central dispatcher chooses, under the scenario's policy, the source with the
earliest estimated arrival (:meth:`Relief.estimate`: truck free, loading, travel under the
current closures, unloading) and waits for it when its trucks are out. A truck loads, drives
the current fastest path, unloads and returns; cut off on the way, it waits up to
``dispatch.stranded_wait_h`` and then brings its goods back for other requests. Contract
reserves activate after their delay, may fail to show up, and produce at a rate.

Shelters are demand points too (:meth:`Relief.add_point`, :meth:`Relief.need`): evacuees'
needs arise there as they arrive (:mod:`sim.model.evacuation`), are met from the shelter's own
stock first and otherwise go through the same rules; a settlement then needs only for the
people who stay.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Collection, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import simpy

from sim.model.escalation import SCREEN_FROM, EscalationScreen
from sim.model.policies import Option, Policy
from sim.model.records import (
    CutoffRecord,
    DeliveryRecord,
    LedgerRecord,
    Records,
    ReturnRecord,
    SettlementRecord,
    StockRecord,
    TripRecord,
)
from sim.model.roads import RoadState, Stranded
from sim.model.streams import stream
from sim.network import haversine_m
from sim.scenario import TIERS, Depot, Settlement
from sim.world import World

__all__ = ["Relief"]

EPS = 1e-9
SAME_TIME_H = 0.1
"""Planned loads arriving within the same SAME_TIME_H (6 minutes) count as equally soon."""
PRODUCTION_STEP_H = 0.5
"""Contract production is added to stock in batches of this many hours of output."""


@dataclass(eq=False)
class Request:
    """What one settlement still needs of one commodity (a unit of relief work)."""

    seq: int
    settlement: str
    node: int
    commodity: str
    main: bool
    urgency: int
    raised_h: float
    remaining: float
    rank: int
    deadline_h: float
    """When the target for this commodity falls due (onset + initial or effective target)."""
    escalating: bool = False
    pool: list[tuple[Any, bool, float]] | None = None
    """Depots of the open tiers this request may ever use here (depot, its own, load +
    unload hours); rebuilt when a tier opens."""


@dataclass(eq=False)
class DepotState:
    """A depot during one replication: its stock, idle trucks and ledger."""

    spec: Depot
    node: int
    rank: int
    stock: dict[str, simpy.Container]
    trucks: simpy.Store
    active: bool
    initial: dict[str, float] = field(default_factory=dict)
    produced: dict[str, float] = field(default_factory=dict)
    delivered: dict[str, float] = field(default_factory=dict)
    in_transit: dict[str, float] = field(default_factory=dict)
    back_h: dict[str, float] = field(default_factory=dict)
    """Estimated return of each truck that is out."""

    def level(self, commodity: str) -> float:
        box = self.stock.get(commodity)
        return box.level if box is not None and self.active else 0.0

    def free_h(self, now: float) -> float:
        """When a truck is next expected free here (inf when every truck out is overdue or
        there are none)."""
        if self.trucks.items:
            return now
        return min((t for t in self.back_h.values() if t >= now - EPS), default=math.inf)


class Source(NamedTuple):
    """A depot that may serve a request now, and when its goods would arrive."""

    eta_h: float
    depot: DepotState
    idle: bool
    drive_h: float


class Relief:
    """The relief-logistics part of one replication."""

    def __init__(self, env: simpy.Environment, world: World, roads: RoadState, policy: Policy,
                 records: Records, *, seed: int, replication: int,
                 at_home: Mapping[str, int] | None = None) -> None:
        self.env, self.world, self.roads, self.policy, self.records = (
            env, world, roads, policy, records)
        self.at_home = dict(at_home or {})
        """People who stay at a settlement when an evacuation order sends others away."""
        self.first_rank: dict[str, int] = {}  # demand points other than settlements (shelters)
        self.local: dict[str, dict[str, list[float]]] = {}  # a shelter's own stock: [initial, left]
        self._open_at: dict[tuple[str, str, int], Request] = {}  # open request per point
        scenario = world.scenario
        self.rules = scenario.dispatch
        self.targets = scenario.targets
        self.commodities = {c.id: c for c in scenario.commodities}
        self.delay_h = {TIERS.index(t): d for t, d in scenario.dispatch.escalation_delay_h.items()}
        self.depots = [self._depot(d, seed, replication) for d in scenario.depots]
        self.ranks = sorted({d.rank for d in self.depots})
        self._next_rank = dict(zip(self.ranks, self.ranks[1:], strict=False))
        self._reach = {rank: self._reachable(rank) for rank in range(len(TIERS))}
        """The highest rank a request of each rank may reach at once (tiers without delay)."""
        service = world.service
        self.own = {s.id: {d.spec.id for d in self.depots
                           if service.serves(d.spec.id, d.spec.tier, s.id)}
                    for s in scenario.settlements}
        self.requests: list[Request] = []
        self._screen = EscalationScreen(
            self.depots, {c.id: c.unit_kg for c in scenario.commodities}, self.own, self.rules,
            EPS)
        self._stale: set[str] = set()  # commodities whose requests need an escalation check
        self.cut_since: dict[str, float] = {}
        self.open_settlements: dict[str, int] = {}
        self._seq = 0
        self.aircraft: list[tuple[Any, Any]] = []  # (rescue unit, its helicopters' spec)
        self._rescue: Any = None
        self._wakeup = env.event()
        env.process(self._dispatcher())
        for settlement in scenario.settlements:
            env.process(self._onset(settlement))

    # -- set-up ---------------------------------------------------------------------------------

    def _depot(self, spec: Depot, seed: int, replication: int) -> DepotState:
        env = self.env
        contract = spec.kind != "physical"  # contract or capacity: nothing until activated
        stock = {c: simpy.Container(env, init=0.0 if contract else spec.stock.get(c, 0.0))
                 for c in self.commodities}
        trucks = simpy.Store(env)
        trucks.items.extend(f"{spec.id}/truck{i + 1}" for i in range(spec.trucks.count))
        depot = DepotState(spec=spec, node=self.world.node(spec.id), rank=TIERS.index(spec.tier),
                           stock=stock, trucks=trucks, active=not contract,
                           initial={c: box.level for c, box in stock.items()})
        if contract:
            shows_up = stream(seed, replication, "contracts", spec.id).random() >= spec.no_show_prob
            if shows_up:
                env.process(self._activate(depot))
        return depot

    def _reachable(self, rank: int) -> int:
        while (nxt := self._next_rank.get(rank)) is not None and self.delay_h.get(nxt, 0.0) <= 0:
            rank = nxt
        return rank

    def _activate(self, depot: DepotState) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(depot.spec.activation_delay_h)
        depot.active = True
        for c, qty in depot.spec.stock.items():
            if qty > 0:
                yield depot.stock[c].put(qty)
                depot.initial[c] += qty
                self._log_stock(depot, c)
        self._stale.update(self.commodities)
        self.poke()
        if any(rate > 0 for rate in depot.spec.production_per_h.values()):
            self.env.process(self._produce(depot))

    def _produce(self, depot: DepotState) -> Generator[simpy.Event, Any, None]:
        made = [c for c, rate in depot.spec.production_per_h.items() if rate > 0]
        while True:
            yield self.env.timeout(PRODUCTION_STEP_H)
            for c in made:
                qty = depot.spec.production_per_h[c] * PRODUCTION_STEP_H
                yield depot.stock[c].put(qty)
                depot.produced[c] = depot.produced.get(c, 0.0) + qty
                self._log_stock(depot, c)
            self._poke_if_useful(depot, made)

    def _onset(self, spec: Settlement) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(spec.onset_h)
        people = self.at_home.get(spec.id, spec.people)
        if people <= 0:
            return  # everyone is in a shelter (supplied there)
        self.records.settlements.append(
            SettlementRecord(spec.id, people, spec.onset_h, spec.urgency))
        first = self.world.service.first_tier(spec.id)
        base_rank = (TIERS.index(first) if first is not None
                     else self.ranks[0] if self.ranks else 0)
        node = self.world.node(spec.id)
        for c in self.commodities.values():
            self._seq += 1
            target = self.targets.initial_relief_h if c.main else self.targets.effective_relief_h
            self.policy.add(self.requests, Request(
                seq=self._seq, settlement=spec.id, node=node, commodity=c.id, main=c.main,
                urgency=spec.urgency, raised_h=self.env.now, remaining=people * c.per_person,
                rank=base_rank, deadline_h=self.env.now + target))
        self._stale.update(self.commodities)
        self.open_settlements[spec.id] = node
        self._check_cutoff(spec.id, node)
        self.poke()
        if self.rules.support == "after_delay":
            yield self.env.timeout(self.rules.support_delay_h)
            self._stale.update(self.commodities)  # other units' depots may now serve
            self.poke()

    # -- shelters as demand points --------------------------------------------------------------

    def add_point(self, point: str, homes: Collection[str], stock: Mapping[str, float]) -> None:
        """Make site ``point`` (a shelter) a demand point for the people of settlements
        ``homes``: it is sourced like them (their own depots; requests start at the lowest of
        their first tiers) and its own ``stock`` serves its needs before anything is sent."""
        self.own[point] = set().union(*(self.own.get(h, set()) for h in homes))
        firsts = [self.world.service.first_tier(h) for h in homes]
        ranks = [TIERS.index(t) for t in firsts if t is not None]
        self.first_rank[point] = min(ranks) if ranks else self.ranks[0] if self.ranks else 0
        self.local[point] = {c: [qty, qty] for c, qty in stock.items()
                             if c in self.commodities and qty > 0}

    def need(self, point: str, quantities: Mapping[str, float], urgency: int) -> None:
        """Needs arise now at demand point ``point`` (registered with :meth:`add_point`): its
        own stock is handed over first (a delivery from the point itself), the rest goes to
        the dispatcher as requests, each commodity's by its target. A need that arises while
        an earlier one of the same commodity and urgency is still open there joins it (one
        open request per shelter and commodity, however many loads of evacuees arrive)."""
        now, node = self.env.now, self.world.node(point)
        local = self.local.get(point, {})
        for c in self.commodities.values():
            qty = quantities.get(c.id, 0.0)
            own = local.get(c.id)
            if own is not None and own[1] > EPS and qty > EPS:
                take = min(qty, own[1])
                own[1] -= take
                qty -= take
                self.records.deliveries.append(DeliveryRecord(
                    time_h=now, dispatched_h=now, depot=point, tier="shelter",
                    settlement=point, commodity=c.id, qty=take, truck=""))
            if qty <= EPS:
                continue
            key = (point, c.id, urgency)
            joined = self._open_at.get(key)
            if joined is not None and joined.remaining > EPS:  # still open: the need joins it
                joined.remaining += qty
                continue
            self._seq += 1
            target = self.targets.initial_relief_h if c.main else self.targets.effective_relief_h
            self._open_at[key] = Request(
                seq=self._seq, settlement=point, node=node, commodity=c.id, main=c.main,
                urgency=urgency, raised_h=now, remaining=qty, rank=self.first_rank[point],
                deadline_h=now + target)
            self.policy.add(self.requests, self._open_at[key])
        self._stale.update(self.commodities)
        if point not in self.open_settlements:
            self.open_settlements[point] = node
            self._check_cutoff(point, node)
        self.poke()
        if self.rules.support == "after_delay":
            self.env.process(self._support_later())

    def _support_later(self) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(self.rules.support_delay_h)
        self._stale.update(self.commodities)  # other units' depots may now serve
        self.poke()

    # -- dispatching ----------------------------------------------------------------------------

    def poke(self) -> None:
        """Ask the dispatcher to look for new assignments at the current time."""
        if not self._wakeup.triggered:
            self._wakeup.succeed()

    def _poke_if_useful(self, depot: DepotState, commodities: Collection[str]) -> None:
        """Poke after new stock or a truck back at ``depot``, when that can create an
        assignment: it needs an idle truck here and an open request allowed to use this tier
        for one of ``commodities`` that the depot holds."""
        if depot.trucks.items and any(
                r.rank >= depot.rank and r.commodity in commodities
                and depot.level(r.commodity) > EPS for r in self.requests):
            self._stale.update(commodities)
            self.poke()

    def _dispatcher(self) -> Generator[simpy.Event, Any, None]:
        while True:
            yield self._wakeup
            self._wakeup = self.env.event()
            self._assign()

    def _assign(self) -> None:
        """Send every load that the plans send now (plan, fcfs), or idle trucks to the nearest
        work (nearest_idle).

        Only events that can create an assignment poke the dispatcher (a new request, a tier
        opening, a road change, or a truck back or new stock where both meet a request that may
        use them); escalation is re-checked for the commodities whose sources changed.
        """
        if self.policy.waits_for_busy:
            if any(d.trucks.items for d in self.depots if d.active) or any(
                    u.free for u, _ in self.aircraft):
                self._sweep()
            elif self._stale:  # nothing can leave now: only check escalation
                self._escalate_stale()
            return
        if self._stale:
            self._escalate_stale()
        while self.requests:
            found = self.policy.choose(self.requests, self._idle)
            if found is None:
                return
            self._dispatch(found[0], found[1].resource)

    def _sweep(self) -> None:
        """Plan each request in the policy's order and send its loads that go now.

        Each request's remaining need is planned in truckloads over its sources, each load on
        the truck (idle now, or back at its estimated return) that brings it soonest — list
        scheduling, so a request too big for one depot's trucks is split over several. Loads
        planned on trucks that are out are reserved: later requests plan around them (truck
        queues) and around the stock they take. Loads planned on idle trucks are sent; a
        request whose loads all wait for trucks that are out waits for them. One pass suffices:
        sending a load never makes an earlier request's plan send one. Once no depot has an
        idle truck and stock and no helicopter is free, nothing more can leave: the rest of
        the requests are only checked for escalation (the pass's cost follows the loads it
        sends, not the requests waiting).
        """
        now = self.env.now
        free: dict[int, list[float]] = {}  # per depot: when each truck is free (reservations)
        left: dict[tuple[int, str], float] = {}  # stock not yet reserved
        stale, self._stale = self._stale, set()
        free_at: dict[int, float] = {}  # when each depot's first truck is free
        ready = {id(d) for d in self.depots if _can_load(d)}
        pending = list(self.requests)
        last = self._last_use(pending, ready)
        for i, r in enumerate(pending):
            if (all(last.get(d, -1) < i for d in ready)
                    and not any(u.free for u, _ in self.aircraft)):
                self._escalate_where(pending[i:], stale | self._stale, free_at)
                return
            while r.remaining > EPS:
                sources = self.estimate(r, free_at)
                if r.commodity in stale or r.commodity in self._stale:
                    while self._escalate(r, sources):  # tiers without delay open now
                        sources = self.estimate(r, free_at)
                depot = self._plan(r, sources, now, free, left)
                if depot is None:
                    if not (self.aircraft and r.settlement in self.cut_since and self._fly(r)):
                        break
                    ready = {id(d) for d in self.depots if _can_load(d)}
                    continue
                truck, load = self._dispatch(r, depot)
                if not _can_load(depot):
                    ready.discard(id(depot))
                free_at.pop(id(depot), None)
                heapq.heappush(free[id(depot)], depot.back_h[truck])
                for loaded, qty in load:
                    key = (id(depot), loaded.commodity)
                    if key in left:
                        left[key] -= qty

    def _last_use(self, pending: list[Request], ready: set[int]) -> dict[int, int]:
        """For each ready depot (by id), the position in ``pending`` of the last request that
        may load there in this sweep: its rank, or a tier it may open at once, reaches the
        depot's, and the depot holds its commodity. Past it the depot's idle trucks can take
        nothing (stock only falls and ranks only rise by escalation within a sweep)."""
        depots = [d for d in self.depots if id(d) in ready]
        last: dict[int, int] = {}
        seen: set[tuple[int, str]] = set()
        for i in range(len(pending) - 1, -1, -1):
            r = pending[i]
            key = (self._reach[r.rank], r.commodity)
            if key in seen:
                continue
            seen.add(key)
            for d in depots:
                if id(d) not in last and d.rank <= key[0] and d.level(r.commodity) > EPS:
                    last[id(d)] = i
            if len(last) == len(depots):
                break
        return last

    def _plan(self, r: Request, sources: list[Source], now: float,
              free: dict[int, list[float]], left: dict[tuple[int, str], float]
              ) -> DepotState | None:
        """The depot whose idle truck the plan of ``r`` over ``sources`` sends now, if any (the
        plan's loads on trucks that are out are reserved in ``free`` and ``left``)."""
        if not sources:
            return None
        unit_kg = self.commodities[r.commodity].unit_kg
        need = r.remaining
        slots: list[tuple[float, float, str, int, DepotState, float]] = []
        budget = 0  # one round of every truck of every source
        for s in sources:
            d = s.depot
            times = free.get(id(d))
            if times is None:
                times = free[id(d)] = self._truck_free(d, now)
            budget += len(times)
            key = (id(d), r.commodity)
            if key not in left:
                left[key] = d.level(r.commodity)
            if times and left[key] > EPS:
                heapq.heappush(slots, self._slot(d, times[0], s.drive_h, left[key], 0))
        while slots and need > EPS and budget > 0:
            *_, d, drive = heapq.heappop(slots)
            budget -= 1
            times = free[id(d)]
            start = heapq.heappop(times)
            if start <= now + EPS and d.trucks.items:
                return d
            trucks = d.spec.trucks
            key = (id(d), r.commodity)
            qty = min(need, left[key], trucks.capacity_kg / unit_kg)
            need -= qty
            left[key] -= qty
            heapq.heappush(times, start + trucks.load_h + 2 * drive + trucks.unload_h)
            if left[key] > EPS:
                heapq.heappush(slots, self._slot(d, times[0], drive, left[key], budget))
        return None

    @staticmethod
    def _slot(depot: DepotState, start: float, drive: float, left: float, k: int
              ) -> tuple[float, float, str, int, DepotState, float]:
        """A planned load, in the order loads are planned: by arrival, to within
        SAME_TIME_H; then from the depot with more stock left (scarce stock near other
        settlements is kept for them); then by depot id."""
        trucks = depot.spec.trucks
        arrival = start + trucks.load_h + drive + trucks.unload_h
        return (math.floor(arrival / SAME_TIME_H), -left, depot.spec.id, k, depot, drive)

    @staticmethod
    def _truck_free(depot: DepotState, now: float) -> list[float]:
        """When each of the depot's trucks is free, as a heap: idle ones now, the others at
        their estimated return (overdue ones, held up by closures, are left out)."""
        times = [now] * len(depot.trucks.items) + [t for t in depot.back_h.values()
                                                   if t >= now - EPS]
        heapq.heapify(times)
        return times

    def estimate(self, request: Request, free_at: dict[int, float] | None = None
                 ) -> list[Source]:
        """Every depot that may serve ``request`` now (its tiers, its unit or support as the
        rules allow, stock on hand, a road there), with the estimated arrival of its goods:
        first truck free, loading, driving under the current closures, unloading.
        ``free_at`` caches when each depot's first truck is free (within one pass)."""
        now, commodity, node = self.env.now, request.commodity, request.node
        if request.pool is None:
            own = self.own.get(request.settlement, ())
            others = self.rules.support != "never"
            request.pool = [(d, d.spec.id in own, d.spec.trucks.load_h + d.spec.trucks.unload_h)
                            for d in self.depots if d.rank <= request.rank
                            and (others or d.spec.id in own)]
        times_from = self.roads.times_from
        found: list[Source] = []
        support: list[Source] = []
        for depot, mine, handling in request.pool:
            if not depot.active or depot.stock[commodity].level <= EPS:
                continue
            drive = float(times_from(depot.node)[node])
            if drive == math.inf:
                continue
            if free_at is None:
                free = depot.free_h(now)
            elif (free := free_at.get(id(depot), -1.0)) < 0:
                free = free_at[id(depot)] = depot.free_h(now)
            source = Source(free + handling + drive, depot, free <= now, drive)
            (found if mine else support).append(source)
        if support:
            rule = self.rules.support
            if rule == "after_delay" and now >= request.raised_h + self.rules.support_delay_h:
                found += support
            elif rule == "if_earlier":
                best = min((s.eta_h for s in found), default=math.inf)
                found += [s for s in support if s.eta_h + self.rules.support_margin_h <= best]
        return found

    def _idle(self, request: Request) -> list[Option]:
        """Sources with a truck free now, by their time to arrive (nearest_idle)."""
        return [Option(s.depot, s.eta_h, s.depot.spec.id)
                for s in self.estimate(request) if s.idle]

    def _escalate_stale(self) -> None:
        """Check escalation for the open requests whose commodity's sources changed."""
        stale, self._stale = self._stale, set()
        self._escalate_where(self.requests, stale)

    def _escalate_where(self, requests: list[Request], commodities: Collection[str],
                        free_at: dict[int, float] | None = None) -> None:
        """Open every tier each of ``requests`` of ``commodities`` needs now (see
        :meth:`_escalate`; ``free_at`` as :meth:`estimate` takes it)."""
        candidates = [r for r in requests if r.commodity in commodities
                      and self._may_escalate(r)]
        checks = (self._screened(candidates, free_at) if len(candidates) >= SCREEN_FROM
                  else [True] * len(candidates))
        for r, check in zip(candidates, checks, strict=True):
            if check:  # the others surely stay (see sim.model.escalation)
                while self._escalate(r, self.estimate(r, free_at)):
                    pass

    def _screened(self, requests: list[Request], free_at: dict[int, float] | None = None
                  ) -> list[bool]:
        """For each of ``requests``, whether the escalation screen leaves it to
        :meth:`_escalate` (False: it surely stays); ``free_at`` as :meth:`estimate` takes
        it."""
        now, cached = self.env.now, free_at or {}
        free = {id(d): cached[id(d)] if id(d) in cached else d.free_h(now) for d in self.depots}
        return self._screen.may_escalate(requests, now, self.roads.times_from, free).tolist()

    def _may_escalate(self, r: Request) -> bool:
        """Whether ``r`` has a next tier to open and is not already waiting for it."""
        return not r.escalating and r.rank in self._next_rank

    def _escalate(self, r: Request, sources: list[Source]) -> bool:
        """Open the next tier for ``r`` when the open tiers cannot serve it: their usable,
        reachable stock cannot cover the need (stock at a depot without trucks is never
        usable), or — with ``dispatch.escalate_if_late`` — they would deliver it after the
        deadline. A tier without delay opens at once (True: ``r`` may now use it)."""
        if not self._may_escalate(r):
            return False
        if self._short_or_late(r, sources):
            nxt = self._next_rank[r.rank]
            delay = self.delay_h.get(nxt, 0.0)
            if delay <= 0.0:
                r.rank, r.pool = nxt, None
                return True
            r.escalating = True
            self.env.process(self._open_tier(r, nxt, delay))
        return False

    def _short_or_late(self, r: Request, sources: list[Source]) -> bool:
        """Whether ``sources`` cannot serve ``r``: their usable stock (at depots with trucks)
        falls short, or (``escalate_if_late``) they would finish after its deadline."""
        usable = [s for s in sources if s.depot.spec.trucks.count]
        stock = sum(s.depot.level(r.commodity) for s in usable)
        return stock + EPS < r.remaining or (
            self.rules.escalate_if_late and self._finish_h(r, usable) > r.deadline_h + EPS)

    def _finish_h(self, request: Request, sources: list[Source]) -> float:
        """When ``sources`` would have delivered the whole need, earliest first: each source
        sends its stock in truckloads, its trucks cycling (load, out, unload, back)."""
        unit_kg = self.commodities[request.commodity].unit_kg
        left, finish = request.remaining, -math.inf
        for s in sorted(sources, key=_earliest):
            trucks = s.depot.spec.trucks
            qty = min(left, s.depot.level(request.commodity))
            loads = math.ceil(qty * unit_kg / max(trucks.capacity_kg, EPS) - EPS)
            rounds = math.ceil(max(loads, 1) / trucks.count)
            cycle = trucks.load_h + 2 * s.drive_h + trucks.unload_h
            finish = max(finish, s.eta_h + (rounds - 1) * cycle)
            left -= qty
            if left <= EPS:
                return finish
        return math.inf

    def _open_tier(self, request: Request, rank: int, delay_h: float
                   ) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(delay_h)
        request.rank, request.escalating, request.pool = rank, False, None
        self._stale.add(request.commodity)  # the next tier may still not be enough
        self.poke()

    def _dispatch(self, request: Request, depot: DepotState
                  ) -> tuple[str, list[tuple[Request, float]]]:
        """Load one truck at ``depot`` for the request's settlement (main needs first); the
        truck and what it carries."""
        truck = depot.trucks.get().value  # an idle truck exists, so the get succeeds now
        load = self._load(request, depot, depot.spec.trucks.capacity_kg)
        spec = depot.spec.trucks
        drive = self.roads.time_h(depot.node, request.node)
        depot.back_h[truck] = self.env.now + spec.load_h + 2 * drive + spec.unload_h
        self.env.process(self._trip(depot, truck, request.settlement, request.node, load))
        return truck, load

    def _load(self, request: Request, depot: DepotState, cap_kg: float
              ) -> list[tuple[Request, float]]:
        """Take from ``depot`` up to ``cap_kg`` for the request's settlement: the request
        first, then the settlement's other needs in the policy's order."""
        same_place = [r for r in self.requests
                      if r.settlement == request.settlement and r is not request]
        load: list[tuple[Request, float]] = []
        for r in [request, *same_place]:
            unit_kg = self.commodities[r.commodity].unit_kg
            if (depot.rank > r.rank or depot.level(r.commodity) <= EPS
                    or cap_kg < unit_kg * EPS):
                continue
            qty = min(r.remaining, depot.level(r.commodity), cap_kg / unit_kg)
            if qty <= EPS:
                continue
            depot.stock[r.commodity].get(qty)
            depot.in_transit[r.commodity] = depot.in_transit.get(r.commodity, 0.0) + qty
            r.remaining -= qty
            cap_kg -= qty * unit_kg
            load.append((r, qty))
            self._log_stock(depot, r.commodity)
        self._stale.update(r.commodity for r, _ in load)  # less stock, a vehicle less
        self.requests = [r for r in self.requests if r.remaining > EPS]
        return load

    # -- helicopters ----------------------------------------------------------------------------

    def share_aircraft(self, rescue: Any) -> None:
        """Use rescue's helicopters that have a payload for goods to cut-off settlements, when
        rescue does not need them (it keeps first call: a helicopter out on relief is busy)."""
        cargo = {p.id: p.helicopters for p in self.world.scenario.helipads
                 if p.helicopters.payload_kg > 0}
        self.aircraft = [(u, cargo[u.base]) for u in rescue.units
                         if u.mode == "air" and u.base in cargo]
        self._rescue = rescue
        if self.aircraft:
            rescue.on_aircraft_free.append(self._helicopter_free)

    def _helicopter_free(self) -> None:
        if self.cut_since:
            self._stale.update(self.commodities)
            self.poke()

    def _fly(self, request: Request) -> bool:
        """Send a free helicopter with goods to the (cut-off) settlement of ``request``: the
        helicopter and depot (of the tiers open to it, with stock) whose goods arrive
        soonest (mobilise, fly to the depot, load, fly to the settlement, unload)."""
        site = self.world.sites[request.settlement]
        own = self.own.get(request.settlement, ())
        best: tuple[float, str, str, Any, Any, DepotState] | None = None
        for unit, spec in self.aircraft:
            if not unit.free:
                continue
            for d in self.depots:
                if (d.rank > request.rank or d.level(request.commodity) <= EPS
                        or (self.rules.support == "never" and d.spec.id not in own)):
                    continue
                at = self.world.sites[d.spec.id]
                arrive = (unit.mobilisation_h + _fly_h(unit, unit, at) + spec.load_h
                          + _fly_h(unit, at, site) + spec.unload_h)
                if best is None or (arrive, unit.name, d.spec.id) < best[:3]:
                    best = (arrive, unit.name, d.spec.id, unit, spec, d)
        if best is None:
            return False
        *_, unit, spec, depot = best
        unit.free = False
        load = self._load(request, depot, spec.payload_kg)
        self.env.process(self._air_trip(unit, spec, depot, request.settlement, load))
        return True

    def _air_trip(self, unit: Any, spec: Any, depot: DepotState, settlement: str,
                  load: list[tuple[Request, float]]) -> Generator[simpy.Event, Any, None]:
        start = self.env.now
        at, site = self.world.sites[depot.spec.id], self.world.sites[settlement]
        legs = (_fly_h(unit, unit, at), _fly_h(unit, at, site), _fly_h(unit, site, unit))
        yield self.env.timeout(unit.mobilisation_h + legs[0] + spec.load_h + legs[1]
                               + spec.unload_h)
        self._delivered(depot, settlement, load, start, unit.name)
        yield self.env.timeout(legs[2])
        self.records.trips.append(TripRecord(unit.name, "helicopter", unit.base, start,
                                             self.env.now, sum(legs) * unit.speed_kmh))
        unit.free = True
        self._rescue.poke()
        self._helicopter_free()

    def _trip(self, depot: DepotState, truck: str, settlement: str, node: int,
              load: list[tuple[Request, float]]) -> Generator[simpy.Event, Any, None]:
        start = self.env.now
        spec = depot.spec.trucks
        yield self.env.timeout(spec.load_h)
        try:
            km = yield from self.roads.drive(depot.node, node, self.rules.stranded_wait_h)
        except Stranded as cut:
            yield from self._bring_back(depot, truck, settlement, load, start, cut)
            return
        yield self.env.timeout(spec.unload_h)
        self._delivered(depot, settlement, load, start, truck)
        km += yield from self.roads.drive(node, depot.node)
        yield from self._truck_back(depot, truck, start, km)

    def _delivered(self, depot: DepotState, settlement: str, load: list[tuple[Request, float]],
                   start: float, vehicle: str) -> None:
        for r, qty in load:
            c = r.commodity
            depot.in_transit[c] -= qty
            depot.delivered[c] = depot.delivered.get(c, 0.0) + qty
            self.records.deliveries.append(DeliveryRecord(
                time_h=self.env.now, dispatched_h=start, depot=depot.spec.id,
                tier=depot.spec.tier, settlement=settlement, commodity=c, qty=qty,
                truck=vehicle))

    def _bring_back(self, depot: DepotState, truck: str, settlement: str,
                    load: list[tuple[Request, float]], start: float, cut: Stranded
                    ) -> Generator[simpy.Event, Any, None]:
        """The settlement stayed cut off: re-open its need and take the goods back to stock,
        where other requests (or this one, once a road opens) can use them."""
        stranded = self.env.now
        for r, qty in load:
            self._reopen(r, qty)
        km = cut.km + (yield from self.roads.drive(cut.node, depot.node))
        for r, qty in load:
            c = r.commodity
            depot.in_transit[c] -= qty
            yield depot.stock[c].put(qty)
            self._log_stock(depot, c)
            self.records.returns.append(ReturnRecord(truck, depot.spec.id, settlement, c, qty,
                                                     stranded, self.env.now))
        yield from self._truck_back(depot, truck, start, km)

    def _reopen(self, request: Request, qty: float) -> None:
        """Add ``qty`` back to a request, putting it back in the open work if it had left."""
        request.remaining += qty
        if request not in self.requests:
            self.policy.add(self.requests, request)

    def _truck_back(self, depot: DepotState, truck: str, start: float, km: float
                    ) -> Generator[simpy.Event, Any, None]:
        self.records.trips.append(TripRecord(truck, "truck", depot.spec.id, start, self.env.now,
                                             km))
        depot.back_h.pop(truck, None)
        yield depot.trucks.put(truck)
        self._poke_if_useful(depot, self.commodities)

    # -- disruptions ----------------------------------------------------------------------------

    def roads_changed(self) -> None:
        """Re-check which settlements no depot can reach, and look for new assignments."""
        for settlement, node in self.open_settlements.items():
            self._check_cutoff(settlement, node)
        self._stale.update(self.commodities)  # reachable stock may have changed
        self.poke()

    def _check_cutoff(self, settlement: str, node: int) -> None:
        reachable = any(math.isfinite(self.roads.time_h(d.node, node)) for d in self.depots)
        if not reachable and settlement not in self.cut_since:
            self.cut_since[settlement] = self.env.now
        elif reachable and settlement in self.cut_since:
            self.records.cutoffs.append(
                CutoffRecord(settlement, self.cut_since.pop(settlement), self.env.now))

    # -- end of run -----------------------------------------------------------------------------

    def _log_stock(self, depot: DepotState, commodity: str) -> None:
        self.records.stock.append(StockRecord(self.env.now, depot.spec.id, commodity,
                                              depot.stock[commodity].level))

    def finish(self) -> None:
        """Close open cut-offs and write the stock ledger (conservation is checked on it)."""
        for settlement, since in self.cut_since.items():
            self.records.cutoffs.append(CutoffRecord(settlement, since, math.inf))
        for depot in self.depots:
            for c in self.commodities:
                self.records.ledger.append(LedgerRecord(
                    depot=depot.spec.id, commodity=c,
                    initial=depot.initial[c],
                    produced=depot.produced.get(c, 0.0), delivered=depot.delivered.get(c, 0.0),
                    in_transit=depot.in_transit.get(c, 0.0), remaining=depot.stock[c].level,
                    activated=depot.active))
        for point, local in self.local.items():  # shelters' own stock
            for c, (initial, left) in local.items():
                self.records.ledger.append(LedgerRecord(
                    depot=point, commodity=c, initial=initial, produced=0.0,
                    delivered=initial - left, in_transit=0.0, remaining=left, activated=True))


def _can_load(depot: DepotState) -> bool:
    """Whether a truck could leave ``depot`` now: an idle one, and stock to load."""
    return bool(depot.trucks.items) and depot.active and any(
        box.level > EPS for box in depot.stock.values())


def _earliest(source: Source) -> tuple[float, str]:
    """Sources compare by estimated arrival, then depot id (a stable tie-break)."""
    return source.eta_h, source.depot.spec.id


def _fly_h(unit: Any, a: Any, b: Any) -> float:
    """Hours of flight from ``a`` to ``b`` (anything with lon/lat) in a straight line."""
    return float(haversine_m(a.lon, a.lat, b.lon, b.lat)) / 1000.0 / unit.speed_kmh
