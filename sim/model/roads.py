"""Time-varying road state inside one replication, and driving along it.

Vehicles drive the fastest path under the current closure state. When the state changes,
a vehicle finishes the edge it is on and re-plans from there; when its destination cannot be
reached it waits at that node until the state changes again.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

import numpy as np
import simpy

from sim.routing import TravelTimes

__all__ = ["RoadState"]


class RoadState:
    """The closure state of one replication and the event that fires when it changes."""

    def __init__(self, env: simpy.Environment, engine: TravelTimes) -> None:
        self.env = env
        self.engine = engine
        self.engine.set_state()
        self.changed: simpy.Event = env.event()
        self.version = 0

    def set(self, closed: frozenset[int], slow: Mapping[int, float]) -> None:
        """Switch to a new closure state and wake everything waiting on a change."""
        self.engine.set_state(closed, slow)
        self.version += 1
        fired, self.changed = self.changed, self.env.event()
        fired.succeed()

    def time_h(self, origin: int, destination: int) -> float:
        """Travel time under the current state (inf when unreachable)."""
        return float(self.engine.from_node(origin)[destination])

    def times_from(self, origin: int) -> np.ndarray:
        return self.engine.from_node(origin)

    def drive(self, origin: int, destination: int) -> Generator[simpy.Event, Any, float]:
        """SimPy process body: drive from ``origin`` to ``destination``; returns km driven."""
        node, km = origin, 0.0
        while node != destination:
            nodes = self.engine.path(node, destination)
            if not nodes:
                yield self.changed  # cut off: wait until the state changes
                continue
            edges, hop_h = self.engine.edges_of_path(nodes)
            cum_h = np.concatenate(([0.0], np.cumsum(hop_h)))
            cum_km = np.concatenate(([0.0], np.cumsum(self.engine.network.edge_length_m[edges])
                                     / 1000.0))
            start, changed = self.env.now, self.changed
            arrive = self.env.timeout(float(cum_h[-1]))
            fired = yield arrive | changed
            if arrive in fired:
                return km + float(cum_km[-1])
            # The state changed en route: finish the current edge, then re-plan from its end.
            elapsed = self.env.now - start
            if elapsed <= 0.0:
                continue  # changed as we set off: re-plan from here
            k = int(np.searchsorted(cum_h, elapsed, side="left"))
            yield self.env.timeout(max(float(cum_h[k]) - elapsed, 0.0))
            km += float(cum_km[k])
            node = int(nodes[k])
        return km
