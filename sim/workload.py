"""How much work a run or an experiment will be, estimated from the scenario before it starts.

A planner's typo (``rate_per_h: 1e5``, ``capacity_kg: 0.01``, ``replications: 50000``) can turn
a one-second run into hours or exhaust memory. :func:`estimate` counts the expected incidents,
truck trips and production steps of one replication and converts them to SimPy events, seconds
and memory with per-item costs measured on the embedded default (stated below); commands refuse
to start work above :data:`LIMITS` unless the user confirms with ``--yes``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.errors import ReliefsimError
from sim.scenario import Scenario

__all__ = ["LIMITS", "Workload", "check_workload", "estimate"]

EVENTS_PER_INCIDENT = 12
"""SimPy events of one incident: arrival, mobilise, travel, work, return (≈ 11 measured)."""
EVENTS_PER_TRIP = 8
"""SimPy events of one truck trip: get, load, drive, unload, drive back, put (≈ 7 measured)."""
SECONDS_PER_EVENT = 1e-5
"""Wall time per model event including records and KPIs (≈ 6–10 µs on a 2-core machine)."""
SECONDS_PER_SCAN = 6e-7
"""Rescue dispatch looks at every waiting need at each decision: when incidents outpace the
teams, the cost grows with incidents × backlog (measured on the Helsinki scenario at 100,
200 and 400 calls per hour: 7, 24 and 105 s)."""
TRIP_OVERHEAD_H = 0.5
"""Mobilisation and travel added to an incident's work time, for the teams' capacity."""
BYTES_PER_EVENT = 200
"""Records kept per event (trips, deliveries, ledger rows)."""
MIN_TRIP_H = 0.05
"""A truck trip takes at least this long (loading and unloading may be zero in a scenario)."""
PRODUCTION_STEP_H = 0.5
"""Contract production is added in batches of this many hours (as in the relief model)."""


@dataclass(frozen=True)
class Limits:
    """Above these a command asks for ``--yes``: about half an hour of computing or 4 GB of
    memory on the 2-core, 24 GB machines the project is built for."""

    seconds: float = 1800.0
    memory_bytes: float = 4e9


LIMITS = Limits()


@dataclass(frozen=True)
class Workload:
    """Expected work of ``runs`` replications of one scenario each."""

    incidents: float
    trips: float
    people: float
    runs: int = 1
    backlog: float = 0.0
    """Mean number of incidents waiting for teams (when they outpace the teams)."""

    @property
    def events(self) -> float:
        return self.runs * (self.incidents * EVENTS_PER_INCIDENT + self.trips * EVENTS_PER_TRIP)

    @property
    def seconds(self) -> float:
        scans = self.runs * self.incidents * self.backlog
        return self.events * SECONDS_PER_EVENT + scans * SECONDS_PER_SCAN

    @property
    def memory_bytes(self) -> float:
        """Peak memory of one replication (replications run one after another per worker;
        relief per person is kept as runs of people, not per person)."""
        return self.events / max(self.runs, 1) * BYTES_PER_EVENT

    def times(self, runs: int) -> Workload:
        return Workload(self.incidents, self.trips, self.people, runs, self.backlog)

    def describe(self) -> str:
        return (f"≈ {self.events:,.0f} simulation events ({_duration(self.seconds)} on one "
                f"core), ≈ {self.memory_bytes / 1e9:,.1f} GB of memory per replication")


def estimate(scenario: Scenario) -> Workload:
    """Expected incidents, truck trips and affected people of one replication."""
    horizon = scenario.horizon_h
    incidents = float(sum(inc.time_h < horizon for inc in scenario.incidents))
    for g in scenario.generators:
        end = horizon if g.window.end_h is None else min(g.window.end_h, horizon)
        incidents += g.rate_per_h * max(end - g.window.start_h, 0.0)
    people = float(sum(s.people for s in scenario.settlements if s.onset_h < horizon))
    need_kg = sum(people * c.per_person * c.unit_kg for c in scenario.commodities)
    fleets = [d.trucks for d in scenario.depots if d.trucks.count > 0]
    trips = 0.0
    if fleets and need_kg > 0:
        smallest = min(t.capacity_kg for t in fleets)
        most = sum(t.count * horizon / max(t.load_h + t.unload_h, MIN_TRIP_H) for t in fleets)
        trips = min(need_kg / smallest, most)
    producing = sum(1 for d in scenario.depots if d.production_per_h)
    trips += producing * horizon / PRODUCTION_STEP_H / 2  # a production step ≈ half a trip
    return Workload(incidents=incidents, trips=trips, people=people,
                    backlog=_backlog(scenario, incidents))


def _backlog(scenario: Scenario, incidents: float) -> float:
    """Mean incidents waiting when calls outpace what the teams can serve over the horizon
    (half the excess, as it grows from none to all of it)."""
    units = (sum(g.count for b in scenario.team_bases for g in b.teams)
             + sum(w.boats.count for w in scenario.water_stations)
             + sum(h.helicopters.count for h in scenario.helipads))
    kinds = {t.id: t for t in scenario.incident_types}
    used = [kinds[g.type] for g in scenario.generators if g.type in kinds]
    if not used:
        return 0.0
    need = sum(sum(n.count for n in t.needs) for t in used) / len(used)
    busy_h = sum(t.work_h for t in used) / len(used) + TRIP_OVERHEAD_H
    servable = units / need * scenario.horizon_h / busy_h
    return max(incidents - servable, 0.0) / 2


def check_workload(work: Workload, *, yes: bool, what: str = "this run") -> None:
    """Refuse work above :data:`LIMITS` unless ``yes``; the message says what and why."""
    over = []
    if work.seconds > LIMITS.seconds:
        over.append(f"more than {_duration(LIMITS.seconds)}")
    if work.memory_bytes > LIMITS.memory_bytes:
        over.append(f"more than {LIMITS.memory_bytes / 1e9:.0f} GB")
    if over and not yes:
        raise ReliefsimError(
            f"{what} is estimated at {work.describe()} — {' and '.join(over)}. Check the "
            "scenario's rates, people, truck capacities, horizon and replications; add --yes "
            "to run it anyway")


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "forever"
    if seconds < 120:
        return f"{seconds:,.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:,.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:,.1f} h"
    return f"{seconds / 86400:,.0f} days"
