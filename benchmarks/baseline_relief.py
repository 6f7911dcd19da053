"""FROZEN COPY, for benchmarks/bench_model.py only: the relief dispatcher as it was before
issue #15 (lowest tier first, escalation on stock only; commit 9e3ff72), so that the new
dispatcher's cost is measured side by side with the old one in one run. Not used by the model.
"""

from __future__ import annotations  # noqa: I001
# ruff: noqa

import math
from collections.abc import Collection, Generator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import simpy

from sim.model.policies import Option, Policy
from sim.model.records import (
    CutoffRecord,
    DeliveryRecord,
    LedgerRecord,
    Records,
    SettlementRecord,
    StockRecord,
    TripRecord,
)
from sim.model.roads import RoadState
from sim.model.streams import stream
from sim.scenario import TIERS, Depot, Settlement
from sim.world import World

__all__ = ["Relief"]

EPS = 1e-9
_NO_TIER = len(TIERS)
"""A rank above every tier: no depot can serve."""
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
    escalating: bool = False


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

    def level(self, commodity: str) -> float:
        box = self.stock.get(commodity)
        return box.level if box is not None and self.active else 0.0


class Relief:
    """The relief-logistics part of one replication."""

    def __init__(self, env: simpy.Environment, world: World, roads: RoadState, policy: Policy,
                 records: Records, *, seed: int, replication: int) -> None:
        self.env, self.world, self.roads, self.policy, self.records = (
            env, world, roads, policy, records)
        scenario = world.scenario
        self.commodities = {c.id: c for c in scenario.commodities}
        self.delay_h = {TIERS.index(t): d for t, d in scenario.dispatch.escalation_delay_h.items()}
        self.depots = [self._depot(d, seed, replication) for d in scenario.depots]
        self.ranks = sorted({d.rank for d in self.depots})
        self._next_rank = dict(zip(self.ranks, self.ranks[1:], strict=False))
        self.requests: list[Request] = []
        self._stale: set[str] = set()  # commodities whose requests need an escalation check
        self.cut_since: dict[str, float] = {}
        self.open_settlements: dict[str, int] = {}
        self._seq = 0
        self._wakeup = env.event()
        env.process(self._dispatcher())
        for settlement in scenario.settlements:
            env.process(self._onset(settlement))

    # -- set-up ---------------------------------------------------------------------------------

    def _depot(self, spec: Depot, seed: int, replication: int) -> DepotState:
        env = self.env
        contract = spec.kind == "contract"
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

    def _activate(self, depot: DepotState) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(depot.spec.activation_delay_h)
        depot.active = True
        for c, qty in depot.spec.stock.items():
            if qty > 0:
                yield depot.stock[c].put(qty)
                depot.initial[c] += qty
                self._log_stock(depot, c)
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
        self.records.settlements.append(
            SettlementRecord(spec.id, spec.people, spec.onset_h, spec.urgency))
        base_rank = self.ranks[0] if self.ranks else 0
        node = self.world.node(spec.id)
        for c in self.commodities.values():
            self._seq += 1
            self.policy.add(self.requests, Request(
                seq=self._seq, settlement=spec.id, node=node, commodity=c.id, main=c.main,
                urgency=spec.urgency, raised_h=self.env.now, remaining=spec.people * c.per_person,
                rank=base_rank))
        self._stale.update(self.commodities)
        self.open_settlements[spec.id] = node
        self._check_cutoff(spec.id, node)
        self.poke()

    # -- dispatching ----------------------------------------------------------------------------

    def poke(self) -> None:
        """Ask the dispatcher to look for new assignments at the current time."""
        if not self._wakeup.triggered:
            self._wakeup.succeed()

    def _poke_if_useful(self, depot: DepotState, commodities: Collection[str]) -> None:
        """Poke after new stock or a truck back at ``depot``, when that can create an
        assignment: from this depot only, so it needs an idle truck here and an open request
        allowed to use this tier for one of ``commodities`` that the depot holds. (After every
        pass no assignment is possible, so nothing else can have changed.)"""
        if depot.trucks.items and any(
                r.rank >= depot.rank and r.commodity in commodities
                and depot.level(r.commodity) > EPS for r in self.requests):
            self.poke()

    def _dispatcher(self) -> Generator[simpy.Event, Any, None]:
        while True:
            yield self._wakeup
            self._wakeup = self.env.event()
            self._assign()

    def _assign(self) -> None:
        """Assign trucks until no idle truck can serve any open request.

        Only events that can create an assignment poke the dispatcher (a new request, a tier
        opening, a road change, or a truck back or new stock where both meet a request that may
        use them), and escalation is re-checked only for commodities whose usable stock or need
        changed.
        """
        while True:
            if self._stale:
                self._escalate_stale()
            if not self.requests:
                return
            supply: dict[str, list[DepotState]] = {}  # idle, stocked depots by commodity
            lowest: dict[str, int] = {}  # and the lowest tier among them
            for d in self.depots:
                if d.active and d.trucks.items:
                    for c, box in d.stock.items():
                        if box.level > EPS:
                            supply.setdefault(c, []).append(d)
                            lowest[c] = min(lowest.get(c, _NO_TIER), d.rank)
            candidates = [r for r in self.requests if r.rank >= lowest.get(r.commodity, _NO_TIER)]
            if not candidates:
                return
            choice = self.policy.choose(candidates, partial(self._options, supply=supply))
            if choice is None:
                return
            request, option = choice
            self._dispatch(request, option.resource)

    def _usable(self, depot: DepotState, request: Request) -> bool:
        return depot.rank <= request.rank and depot.level(request.commodity) > EPS

    def _options(self, request: Request, supply: dict[str, list[DepotState]]) -> list[Option]:
        """Depots of the request's tiers with an idle truck, stock of its commodity and a road
        to it, with the time until their truck arrives (loading + drive), as rescue counts
        mobilisation."""
        found = []
        for depot in supply[request.commodity]:
            if depot.rank <= request.rank:
                t = float(self.roads.times_from(depot.node)[request.node])
                if t < math.inf:
                    found.append(Option(depot, depot.spec.trucks.load_h + t, depot.spec.id))
        return found

    def _escalate_stale(self) -> None:
        """Open the next tier for requests whose usable, reachable stock cannot cover them
        (stock at a depot without trucks is not usable: it can never be delivered)."""
        stale, self._stale = self._stale, set()
        open_roads = self.roads.engine.state_key == "open"  # one strongly connected network
        held: dict[str, list[tuple[int, float, int]]] = {}  # (rank, level, node) by commodity
        for r in self.requests:
            if r.commodity not in stale or r.escalating or r.rank not in self._next_rank:
                continue
            c = r.commodity
            if c not in held:
                held[c] = [(d.rank, level, d.node) for d in self.depots
                           if d.spec.trucks.count and (level := d.level(c)) > EPS]
            stock = 0.0
            for rank, level, node in held[c]:
                if rank <= r.rank and (open_roads or self.roads.time_h(node, r.node) < math.inf):
                    stock += level
            if stock + EPS < r.remaining:
                nxt = self._next_rank[r.rank]
                r.escalating = True
                self.env.process(self._open_tier(r, nxt, self.delay_h.get(nxt, 0.0)))

    def _open_tier(self, request: Request, rank: int, delay_h: float
                   ) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(delay_h)
        request.rank, request.escalating = rank, False
        self._stale.add(request.commodity)  # the next tier may still not be enough
        self.poke()

    def _dispatch(self, request: Request, depot: DepotState) -> None:
        """Load one truck at ``depot`` for the request's settlement (main needs first)."""
        truck = depot.trucks.get().value  # an idle truck exists, so the get succeeds now
        cap_kg = depot.spec.trucks.capacity_kg
        same_place = [r for r in self.requests  # in the policy's order
                      if r.settlement == request.settlement and r is not request]
        load: dict[str, float] = {}
        for r in [request, *same_place]:
            unit_kg = self.commodities[r.commodity].unit_kg
            if not self._usable(depot, r) or cap_kg < unit_kg * EPS:
                continue
            qty = min(r.remaining, depot.level(r.commodity), cap_kg / unit_kg)
            if qty <= EPS:
                continue
            depot.stock[r.commodity].get(qty)
            depot.in_transit[r.commodity] = depot.in_transit.get(r.commodity, 0.0) + qty
            r.remaining -= qty
            cap_kg -= qty * unit_kg
            load[r.commodity] = load.get(r.commodity, 0.0) + qty
            self._log_stock(depot, r.commodity)
        self._stale.update(load)  # less stock left in the tiers that hold it
        self.requests = [r for r in self.requests if r.remaining > EPS]
        self.env.process(self._trip(depot, truck, request.settlement, request.node, load))

    def _trip(self, depot: DepotState, truck: str, settlement: str, node: int,
              load: dict[str, float]) -> Generator[simpy.Event, Any, None]:
        start = self.env.now
        spec = depot.spec.trucks
        yield self.env.timeout(spec.load_h)
        km = yield from self.roads.drive(depot.node, node)
        yield self.env.timeout(spec.unload_h)
        for c, qty in load.items():
            depot.in_transit[c] -= qty
            depot.delivered[c] = depot.delivered.get(c, 0.0) + qty
            self.records.deliveries.append(DeliveryRecord(
                time_h=self.env.now, dispatched_h=start, depot=depot.spec.id,
                tier=depot.spec.tier, settlement=settlement, commodity=c, qty=qty, truck=truck))
        km += yield from self.roads.drive(node, depot.node)
        self.records.trips.append(TripRecord(truck, "truck", depot.spec.id, start, self.env.now,
                                             km))
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
