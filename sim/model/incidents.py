"""Incident streams, sampled up front from their own random streams (common random numbers).

Scripted incidents are taken as given; generators are Poisson processes in time located on
road nodes, waterway nodes, settlements or listed points. Every incident carries its own
work-time factor, drawn from a stream keyed by the incident's id, so that the same
replication sees the same incidents whatever the depots, teams or policy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.errors import ScenarioError
from sim.model.streams import stream
from sim.network import haversine_m, snap
from sim.scenario import IncidentGenerator
from sim.world import World

__all__ = ["Incident", "sample_incidents"]

@dataclass(frozen=True)
class Incident:
    """One incident: where and when it happens, and how long its work takes relative to mean."""

    id: str
    type: str
    call_h: float
    lon: float
    lat: float
    road_node: int
    water_node: int
    work_factor: float


def sample_incidents(world: World, *, seed: int, replication: int) -> list[Incident]:
    """All incidents of one replication, ordered by call time (ties by id)."""
    scenario = world.scenario
    raw: list[tuple[str, str, float, float, float]] = []
    for i, inc in enumerate(scenario.incidents):
        if isinstance(inc.location, int):
            site = world.road.node_ids.tolist().index(inc.location)
            lon, lat = float(world.road.lon[site]), float(world.road.lat[site])
        else:
            lon, lat = inc.location
        raw.append((inc.id or f"s{i + 1}", inc.type, inc.time_h, lon, lat))
    for g, gen in enumerate(scenario.generators):
        rng = stream(seed, replication, "incidents", f"generator{g}")
        times = _poisson_times(rng, gen, scenario.horizon_h)
        points = _candidate_points(world, gen, f"generators[{g}]")
        picks = rng.integers(0, len(points), size=len(times))
        for k, (t, p) in enumerate(zip(times, picks, strict=True)):
            raw.append((f"g{g + 1}-{k + 1}", gen.type, float(t), *points[p]))
    raw.sort(key=lambda r: (r[2], r[0]))
    if not raw:
        return []
    lonlat = np.array([(r[3], r[4]) for r in raw])
    road_nodes, _ = snap(world.road, lonlat)
    water_nodes = snap(world.water, lonlat)[0] if world.water is not None else -np.ones(len(raw))
    incidents = []
    for r, road_node, water_node in zip(raw, road_nodes, water_nodes, strict=True):
        kind = scenario.incident_type(r[1])
        factor = _work_factor(stream(seed, replication, "work", r[0]), kind.work_cv)
        incidents.append(Incident(r[0], r[1], r[2], r[3], r[4], int(road_node), int(water_node),
                                  factor))
    return incidents


def _poisson_times(rng: np.random.Generator, gen: IncidentGenerator, horizon_h: float
                   ) -> np.ndarray:
    start = gen.window.start_h
    end = min(gen.window.end_h if gen.window.end_h is not None else horizon_h, horizon_h)
    if end <= start:
        return np.empty(0)
    count = rng.poisson(gen.rate_per_h * (end - start))
    return np.sort(rng.uniform(start, end, size=count))


def _candidate_points(world: World, gen: IncidentGenerator, path: str) -> np.ndarray:
    if gen.locate_on == "points":
        return np.asarray(gen.points, dtype=float)
    if gen.locate_on == "settlements":
        pts = np.array([(world.sites[s.id].lon, world.sites[s.id].lat)
                        for s in world.scenario.settlements])
        if not len(pts):
            raise ScenarioError(f"{path}.locate_on: 'settlements' but the scenario has none")
        return pts
    net = world.road if gen.locate_on == "roads" else world.water
    if net is None:
        raise ScenarioError(f"{path}.locate_on: 'rivers' needs network.waterways "
                            "(a waterway graph) in the scenario")
    pts = np.column_stack([net.lon, net.lat])
    if gen.near is not None and gen.radius_m is not None:
        pts = pts[haversine_m(gen.near[0], gen.near[1], pts[:, 0], pts[:, 1]) <= gen.radius_m]
        if not len(pts):
            raise ScenarioError(f"{path}.near: no {gen.locate_on} node within "
                                f"{gen.radius_m:.0f} m of {list(gen.near)}")
    return pts


def _work_factor(rng: np.random.Generator, cv: float) -> float:
    """Mean-1 gamma factor with coefficient of variation ``cv`` (cv=1: exponential)."""
    if cv == 0:
        return 1.0
    shape = 1.0 / cv**2
    return float(rng.gamma(shape, 1.0 / shape))
