"""Incident streams, sampled up front from their own random streams (common random numbers).

Scripted incidents are taken as given; generators are Poisson processes in time located on
road nodes, waterway nodes, settlements or listed points. Each generator draws its times,
places and then its incidents' work-time factors from its own stream (scripted incidents'
factors come from one more), so that the same replication sees the same incidents whatever
the depots, teams or policy. Candidate points and their snapped nodes are computed once per
world.
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


@dataclass(frozen=True)
class Points:
    """Places incidents can happen, with the road and waterway nodes that serve them."""

    lonlat: np.ndarray
    road_node: np.ndarray
    water_node: np.ndarray


def sample_incidents(world: World, *, seed: int, replication: int) -> list[Incident]:
    """All incidents of one replication, ordered by call time (ties by id)."""
    scenario = world.scenario
    incidents: list[Incident] = []
    if scenario.incidents:
        points = _scripted_points(world)
        work = stream(seed, replication, "work", "scripted")
        for i, inc in enumerate(scenario.incidents):
            factor = _work_factors(work, scenario.incident_type(inc.type).work_cv, 1)[0]
            incidents.append(_incident(inc.id or f"s{i + 1}", inc.type, inc.time_h, points, i,
                                       factor))
    for g, gen in enumerate(scenario.generators):
        rng = stream(seed, replication, "incidents", f"generator{g}")
        times = _poisson_times(rng, gen, scenario.horizon_h)
        points = _candidate_points(world, gen, f"generators[{g}]")
        picks = rng.integers(0, len(points.lonlat), size=len(times))
        factors = _work_factors(rng, scenario.incident_type(gen.type).work_cv, len(times))
        for k, (t, p, f) in enumerate(zip(times.tolist(), picks.tolist(), factors, strict=True)):
            incidents.append(_incident(f"g{g + 1}-{k + 1}", gen.type, t, points, p, f))
    incidents.sort(key=lambda inc: (inc.call_h, inc.id))
    return incidents


def _incident(id_: str, type_: str, call_h: float, points: Points, i: int,
              factor: float) -> Incident:
    lon, lat = points.lonlat[i].tolist()
    return Incident(id_, type_, float(call_h), lon, lat, int(points.road_node[i]),
                    int(points.water_node[i]), factor)


def _poisson_times(rng: np.random.Generator, gen: IncidentGenerator, horizon_h: float
                   ) -> np.ndarray:
    start = gen.window.start_h
    end = min(gen.window.end_h if gen.window.end_h is not None else horizon_h, horizon_h)
    if end <= start:
        return np.empty(0)
    count = rng.poisson(gen.rate_per_h * (end - start))
    return np.sort(rng.uniform(start, end, size=count))


def _scripted_points(world: World) -> Points:
    locations = tuple(inc.location if isinstance(inc.location, int) else tuple(inc.location)
                      for inc in world.scenario.incidents)
    key = ("scripted incident points", locations)
    if key not in world.memo:
        road, lonlat = world.road, []
        for loc in locations:
            if isinstance(loc, int):  # an OSM node id (checked when the world was built)
                node = road.node_ids.tolist().index(loc)
                loc = (float(road.lon[node]), float(road.lat[node]))
            lonlat.append(loc)
        world.memo[key] = _snapped(world, np.asarray(lonlat, dtype=float))
    return world.memo[key]


def _candidate_points(world: World, gen: IncidentGenerator, path: str) -> Points:
    settlements = (tuple((world.sites[s.id].lon, world.sites[s.id].lat)
                         for s in world.scenario.settlements)
                   if gen.locate_on == "settlements" else ())
    key = ("generator points", gen.model_dump_json(), settlements)
    if key not in world.memo:
        world.memo[key] = _points(world, gen, path, settlements)
    return world.memo[key]


def _points(world: World, gen: IncidentGenerator, path: str,
            settlements: tuple[tuple[float, float], ...]) -> Points:
    if gen.locate_on == "points":
        return _snapped(world, np.asarray(gen.points, dtype=float))
    if gen.locate_on == "settlements":
        if not settlements:
            raise ScenarioError(f"{path}.locate_on: 'settlements' but the scenario has none")
        return _snapped(world, np.asarray(settlements, dtype=float))
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
    return _snapped(world, pts)


def _snapped(world: World, lonlat: np.ndarray) -> Points:
    road_nodes, _ = snap(world.road, lonlat)
    water_nodes = (snap(world.water, lonlat)[0] if world.water is not None
                   else -np.ones(len(lonlat), dtype=np.int64))
    return Points(lonlat, np.asarray(road_nodes), np.asarray(water_nodes))


def _work_factors(rng: np.random.Generator, cv: float, n: int) -> list[float]:
    """``n`` mean-1 gamma factors with coefficient of variation ``cv`` (cv=1: exponential)."""
    if cv == 0:
        return [1.0] * n
    shape = 1.0 / cv**2
    return rng.gamma(shape, 1.0 / shape, size=n).tolist()
