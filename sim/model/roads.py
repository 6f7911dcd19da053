"""Time-varying road state inside one replication, and driving along it.

Vehicles drive the fastest path under the current closure state (cached per state across
replications). When the state changes, every vehicle on the road is interrupted: it finishes
the edge it is on and re-plans from there; when its destination cannot be reached it waits at
that node until the state changes again.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from sim.routing import TravelTimes

__all__ = ["Closures", "RoadState", "Route", "Stranded"]

Route = tuple[list[int], np.ndarray, np.ndarray]
"""Path nodes, cumulative hours and cumulative km from its first node."""

MAX_CACHED_STATES = 32
"""Closure states whose rows and routes are kept (random closures make new states each
replication; the oldest are dropped so memory stays bounded)."""

StateCache = tuple[dict[int, np.ndarray], dict[tuple[int, int], Route | None]]
"""Per closure state: time rows by origin and routes by (origin, destination). Shared by the
replications that run on one world, since a state's routes never change."""


@dataclass(eq=False)
class Closures:
    """A combined road state: closed edges and slowed edges with their factors. ``key`` is
    the travel-time engine's key for it once applied, so reapplying it costs nothing."""

    closed: frozenset[int] = frozenset()
    slow: dict[int, float] = field(default_factory=dict)
    key: str | None = None


class RoadState:
    """The closure state of one replication and the vehicles driving under it."""

    def __init__(self, env: simpy.Environment, engine: TravelTimes,
                 cache: dict[str, StateCache] | None = None) -> None:
        self.env = env
        self.engine = engine
        self.cache = {} if cache is None else cache
        self._driving: dict[simpy.Process, None] = {}  # in the order they set off (determinism)
        self._use(self.engine.set_state())

    def _use(self, state_key: str) -> None:
        entry = self.cache.pop(state_key, None) or ({}, {})
        self.cache[state_key] = entry  # most recently used last
        while len(self.cache) > MAX_CACHED_STATES:
            self.cache.pop(next(iter(self.cache)))
        self._rows, self._routes = entry

    def set(self, state: Closures) -> None:
        """Switch to a new closure state and interrupt every vehicle on the road, so it
        re-plans."""
        if state.key is None or not self.engine.use_state(state.key):
            state.key = self.engine.set_state(state.closed, state.slow)
        self._use(state.key)
        driving, self._driving = self._driving, {}
        for process in driving:
            process.interrupt("road state changed")

    def times_from(self, origin: int) -> np.ndarray:
        """Times (h) from ``origin`` to every node under the current state."""
        row = self._rows.get(origin)
        if row is None:
            row = self._rows[origin] = self.engine.from_node(origin)
        return row

    def time_h(self, origin: int, destination: int) -> float:
        """Travel time under the current state (inf when unreachable)."""
        return float(self.times_from(origin)[destination])

    def route(self, origin: int, destination: int) -> Route | None:
        """Nodes of the fastest path with cumulative hours and km (None when cut off)."""
        key = (origin, destination)
        if key not in self._routes:
            nodes = self.engine.path(origin, destination)
            if not nodes:
                self._routes[key] = None
            else:
                edges, hop_h = self.engine.edges_of_path(nodes)
                km = self.engine.network.edge_length_m[edges] / 1000.0
                self._routes[key] = (nodes, np.concatenate(([0.0], np.cumsum(hop_h))),
                                     np.concatenate(([0.0], np.cumsum(km))))
        return self._routes[key]

    def drive(self, origin: int, destination: int, patience_h: float | None = None
              ) -> Generator[simpy.Event, Any, float]:
        """SimPy process body: drive from ``origin`` to ``destination``; returns km driven.

        Cut off, the vehicle waits where it is for the state to change; with ``patience_h`` it
        waits at most that long in all (raising :class:`Stranded` where it stands)."""
        env, node, km, waited = self.env, origin, 0.0, 0.0
        while node != destination:
            route = self.route(node, destination)
            start, me = env.now, env.active_process
            self._driving[me] = None
            try:
                if route is None:
                    if patience_h is None:
                        yield env.event()  # cut off: wait here until the state changes
                    else:
                        yield env.timeout(max(patience_h - waited, 0.0))
                        self._driving.pop(me, None)
                        raise Stranded(km, node)
                else:
                    yield env.timeout(float(route[1][-1]))
                    del self._driving[me]
                    return km + float(route[2][-1])
            except simpy.Interrupt:  # the state changed (set() took us off the list)
                pass
            elapsed = env.now - start
            if route is None:
                waited += elapsed
                continue  # re-plan from here
            if elapsed <= 0.0:
                continue
            # Finish the current edge, then re-plan from its end.
            nodes, cum_h, cum_km = route
            k = min(int(np.searchsorted(cum_h, elapsed, side="left")), len(nodes) - 1)
            yield env.timeout(max(float(cum_h[k]) - elapsed, 0.0))
            km += float(cum_km[k])
            node = int(nodes[k])
        return km


class Stranded(Exception):
    """A vehicle gave up waiting for a closed road: where it stands and the km it drove."""

    def __init__(self, km: float, node: int) -> None:
        super().__init__(f"stranded at node {node}")
        self.km, self.node = km, node
