"""Road closures and slow-downs switching on and off at their times.

Each disruption's edges are resolved once per replication (a random share near a point is
drawn from the replication's own stream). At every switch the combined state — the union of
closed edges and, per edge, the largest slow-down factor — is applied to the roads.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import simpy

from sim.model.records import ClosureRecord, Records
from sim.model.roads import Closures, RoadState
from sim.model.streams import stream
from sim.network import edges_by_osmid, edges_in_polygon, edges_near, edges_of_class
from sim.scenario import Disruption
from sim.world import World

__all__ = ["Disruptions", "disruption_edges"]


MAX_SCHEDULES = 64
"""Road-state schedules kept per world (the most recently used)."""

SELECTORS = {"polygon", "road_classes", "edge_osmids", "near", "radius_m"}


def disruption_edges(world: World, disruption: Disruption, seed: int, replication: int
                     ) -> np.ndarray:
    """Edge indices a disruption affects (a random ``share`` of them when share < 1, drawn
    from the replication's stream for that disruption). The selection is made once per world.
    """
    key = ("disruption edges", disruption.model_dump_json(include=SELECTORS))
    if key not in world.memo:
        world.memo[key] = _selected_edges(world, disruption)
    edges = world.memo[key]
    if disruption.share < 1.0 and len(edges):
        rng = stream(seed, replication, "disruptions", disruption.id)
        edges = edges[rng.random(len(edges)) < disruption.share]
    return edges


def _selected_edges(world: World, disruption: Disruption) -> np.ndarray:
    net = world.road
    if disruption.polygon is not None:
        edges = edges_in_polygon(net, np.asarray(disruption.polygon, dtype=float))
    elif disruption.road_classes is not None:
        edges = edges_of_class(net, disruption.road_classes)
    elif disruption.edge_osmids is not None:
        edges = edges_by_osmid(net, disruption.edge_osmids)
    else:
        assert disruption.near is not None and disruption.radius_m is not None
        edges = edges_near(net, np.asarray(disruption.near, dtype=float), disruption.radius_m)
    edges = np.sort(np.asarray(edges, dtype=np.int64))
    edges.setflags(write=False)
    return edges


class Disruptions:
    """Applies the scenario's disruptions to the road state over time."""

    def __init__(self, env: simpy.Environment, world: World, roads: RoadState,
                 records: Records, *, seed: int, replication: int,
                 on_change: list[Callable[[], None]]) -> None:
        self.env, self.roads, self.on_change = env, roads, on_change
        self.items = [
            (d, disruption_edges(world, d, seed, replication))
            for d in world.scenario.disruptions
        ]
        for d, edges in self.items:
            records.closures.append(ClosureRecord(d.id, d.window.start_h, _end(d),
                                                  d.factor or math.inf, len(edges)))
        schedule = self._schedule(world)
        if schedule:
            env.process(self._switch(schedule))

    def _schedule(self, world: World) -> list[tuple[float, Closures]]:
        """The combined road state from each switch time on (shared by replications when no
        disruption draws a random share)."""
        memo = world.memo.setdefault("road states", OrderedDict())
        key = tuple(d.model_dump_json() for d, _ in self.items)
        if key in memo:
            memo.move_to_end(key)
            return memo[key]
        times = sorted({t for d, _ in self.items for t in (d.window.start_h, d.window.end_h)
                        if t is not None})
        schedule = [(t, self._combined(t)) for t in times]
        if all(d.share == 1.0 for d, _ in self.items):
            memo[key] = schedule
            if len(memo) > MAX_SCHEDULES:  # uncertain windows make one per replication
                memo.popitem(last=False)
        return schedule

    def _combined(self, t: float) -> Closures:
        closed: set[int] = set()
        slow: dict[int, float] = {}
        for d, edges in self.items:
            if not d.window.start_h <= t < _end(d):
                continue
            if d.factor is None:
                closed.update(edges.tolist())
            else:
                for e in edges.tolist():
                    slow[e] = max(slow.get(e, 1.0), d.factor)
        return Closures(frozenset(closed), slow)

    def _switch(self, schedule: list[tuple[float, Closures]]
                ) -> Generator[simpy.Event, Any, None]:
        for t, state in schedule:
            yield self.env.timeout(t - self.env.now)
            self.roads.set(state)
            for callback in self.on_change:
                callback()


def _end(d: Disruption) -> float:
    return d.window.end_h if d.window.end_h is not None else math.inf
