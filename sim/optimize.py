"""Depot placement: static location models on the travel-time matrix, verified by simulation.

Candidate sites (listed, or OSM features of the extract) and existing depots are rows, the
affected settlements (weighted by people) columns of the open-network travel-time matrix —
driving time, or walking time with ``optimize.travel: walk`` (:mod:`sim.walking`: stockpile
points of the 15-minute life-support circle); ``optimize.sites: shelters`` sites shelters
instead of depots (existing shelters with room stay open).
The K best solutions of the chosen model become placements of an experiment, which the full
simulation then ranks with replications and common random numbers — queues, stock and
closures can change the static ranking, so both are reported side by side.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from sim.errors import ScenarioError
from sim.experiment import Experiment, OptimizeSpec, Placement
from sim.files import publish_file
from sim.location import LocationSolution, k_best, lscp, mclp, p_center, p_median
from sim.network import osm_features
from sim.scenario import Scenario
from sim.screening import screen
from sim.walking import shelter_room, walk_matrix_h, walk_network, walk_nodes
from sim.world import World, attach_walk

__all__ = ["MODELS", "Candidates", "candidate_sites", "solve_static", "static_costs",
           "verification_experiment", "write_sites_geojson"]

Model = Literal["p_median", "mclp", "lscp", "p_center"]
MODELS: tuple[str, ...] = ("p_median", "mclp", "lscp", "p_center")


@dataclass(frozen=True)
class Candidates:
    """Rows of the location problem: existing depots (fixed open) then candidate sites."""

    names: list[str]
    lon: np.ndarray
    lat: np.ndarray
    nodes: np.ndarray
    fixed: tuple[int, ...]
    excluded: tuple[tuple[str, str], ...] = ()
    """Candidate sites left out of the model, with the reason (hazard or closure area, far
    from the road network)."""
    costs: dict[str, Any] = field(default_factory=dict)
    """Listed candidates' own costs (by name; the others cost what ``new_depot`` does)."""
    travel: str = "drive"
    """``drive``: ``nodes`` are road nodes, costs driving times; ``walk``: ``nodes`` are nodes
    of the walking network (:func:`sim.walking.walk_network`), costs walking times."""
    sites: str = "depots"


def _existing(world: World, spec: OptimizeSpec) -> list[str]:
    """Ids of the existing sites that stay open: depots not replaced, or shelters with room."""
    if spec.sites == "shelters":
        return [s.id for s in world.scenario.shelters if shelter_room(s) > 0]
    return [d.id for d in world.scenario.depots if d.id not in spec.replaces]


def candidate_sites(world: World, spec: OptimizeSpec) -> Candidates:
    """Existing depots (kept open when ``keep_existing``; with ``sites: shelters`` the
    shelters with room), listed candidates and OSM features; every site snapped to the road
    network (the walking network with ``travel: walk``, loaded into ``world`` when missing),
    duplicates by node dropped, and candidates inside a hazard zone or closure area or far
    from the network left out with their reason."""
    from sim.network import lonlat_inside, snap

    names: list[str] = []
    points: list[tuple[float, float]] = []
    fixed: list[int] = []
    unknown = set(spec.replaces) - {d.id for d in world.scenario.depots}
    if unknown:
        raise ScenarioError(f"optimize.replaces: unknown depot(s) {sorted(unknown)}")
    if spec.travel == "walk":
        attach_walk(world)
    network = walk_network(world) if spec.travel == "walk" else world.road
    if spec.keep_existing:
        for site_id in _existing(world, spec):
            site = world.sites[site_id]
            fixed.append(len(names))
            names.append(f"existing:{site_id}")
            points.append((site.lon, site.lat))
    for c in spec.candidates:
        if isinstance(c.location, int):
            raise ScenarioError(f"optimize.candidates.{c.name}: give [lon, lat]")
        names.append(c.name)
        points.append(c.location)
    if spec.osm is not None:
        features = osm_features(world.scenario.network.source, spec.osm.tags)
        for f in features[: spec.osm.limit]:
            names.append(f"osm:{f.name or f.tag}:{f.osm_id}")
            points.append((f.lon, f.lat))
    lonlat = np.array(points, dtype=float).reshape(-1, 2)
    inside = lonlat_inside(network, lonlat, margin_m=500.0)
    nodes, snap_m = snap(network, lonlat)
    reasons = screen(lonlat, snap_m, world.scenario)
    keep, seen, excluded = [], set(), []
    for i in range(len(names)):
        if i not in fixed and inside[i] and reasons[i]:
            excluded.append((names[i], reasons[i]))
            continue
        if (inside[i] or i in fixed) and (int(nodes[i]) not in seen or i in fixed):
            keep.append(i)
            seen.add(int(nodes[i]))
    if len(keep) == len(fixed):
        raise ScenarioError("optimize: no candidate site lies on the network")
    index = {old: new for new, old in enumerate(keep)}
    return Candidates([names[i] for i in keep], lonlat[keep, 0], lonlat[keep, 1], nodes[keep],
                      tuple(index[i] for i in fixed), tuple(excluded),
                      {c.name: c.cost for c in spec.candidates if c.cost is not None},
                      travel=spec.travel, sites=spec.sites)


def solve_static(world: World, candidates: Candidates, *, model: Model, p: int, top: int,
                 standard_h: float, time_limit_s: float = 60.0) -> list[LocationSolution]:
    """The ``top`` best solutions opening ``p`` new sites (existing sites stay open)."""
    settlements = world.scenario.settlements
    if not settlements:
        raise ScenarioError("optimize: the scenario has no settlements to serve")
    weights = np.array([s.people for s in settlements], dtype=float)
    cost = static_costs(world, candidates)
    fixed = candidates.fixed
    total = len(fixed) + p
    if model == "lscp":
        return k_best(lscp, top, cost, weights, standard_h, fixed_open=fixed,
                      time_limit_s=time_limit_s)
    if total > len(candidates.names):
        raise ScenarioError(f"optimize: --p {p} needs {total} sites but only "
                            f"{len(candidates.names)} are available")
    if model == "mclp":
        return k_best(mclp, top, cost, weights, total, standard_h, fixed_open=fixed,
                      time_limit_s=time_limit_s)
    fn = p_median if model == "p_median" else p_center
    return k_best(fn, top, cost, weights, total, fixed_open=fixed, time_limit_s=time_limit_s)


def static_costs(world: World, candidates: Candidates) -> np.ndarray:
    """Hours from each candidate row to each settlement: driving on the open road network, or
    walking (``candidates.travel == "walk"``, :func:`sim.walking.walk_matrix_h`)."""
    settlements = [s.id for s in world.scenario.settlements]
    if candidates.travel == "walk":
        return walk_matrix_h(world, candidates.nodes, walk_nodes(world, settlements))
    world.roads.set_state()
    return world.roads.times(candidates.nodes, np.array([world.node(s) for s in settlements]))


def new_sites(solution: LocationSolution, candidates: Candidates) -> list[int]:
    return [i for i in solution.open_sites if i not in candidates.fixed]


def verification_experiment(experiment: Experiment, base: Scenario, candidates: Candidates,
                            solutions: list[LocationSolution]) -> Experiment:
    """An experiment comparing the current layout with each static solution (rank order)."""
    spec = experiment.optimize
    assert spec is not None
    if spec.sites == "shelters":
        return _shelter_experiment(experiment, candidates, solutions)
    assert spec.new_depot is not None
    placements = [Placement(name="current", description="existing depots only")]
    for rank, solution in enumerate(solutions, start=1):
        added = []
        for k, i in enumerate(new_sites(solution, candidates), start=1):
            depot = spec.new_depot.model_copy(update={
                "id": f"{spec.new_depot.id}_{k}" if k > 1 else spec.new_depot.id,
                "location": (float(candidates.lon[i]), float(candidates.lat[i])),
                "cost": candidates.costs.get(candidates.names[i], spec.new_depot.cost)})
            added.append(depot)
        placements.append(Placement(
            name=f"static_rank{rank}",
            description=", ".join(candidates.names[i] for i in new_sites(solution, candidates)),
            add=added, remove=list(spec.replaces) if spec.keep_existing
            else [d.id for d in base.depots]))
    return experiment.model_copy(update={"placements": placements, "baseline": "current"})


def _shelter_experiment(experiment: Experiment, candidates: Candidates,
                        solutions: list[LocationSolution]) -> Experiment:
    """Current shelters vs each static solution's shelters added (``sites: shelters``)."""
    spec = experiment.optimize
    assert spec is not None and spec.new_shelter is not None
    placements = [Placement(name="current", description="existing shelters only")]
    for rank, solution in enumerate(solutions, start=1):
        added = []
        for k, i in enumerate(new_sites(solution, candidates), start=1):
            added.append(spec.new_shelter.model_copy(update={
                "id": f"{spec.new_shelter.id}_{k}" if k > 1 else spec.new_shelter.id,
                "location": (float(candidates.lon[i]), float(candidates.lat[i]))}))
        placements.append(Placement(
            name=f"static_rank{rank}",
            description=", ".join(candidates.names[i] for i in new_sites(solution, candidates)),
            add_shelters=added))
    return experiment.model_copy(update={"placements": placements, "baseline": "current"})


def static_table(solutions: list[LocationSolution], candidates: Candidates) -> pd.DataFrame:
    return pd.DataFrame([{
        "placement": f"static_rank{rank}", "static_rank": rank,
        "sites": "; ".join(candidates.names[i] for i in new_sites(s, candidates)),
        "objective": s.objective, "gap": s.gap, "status": s.status,
        "covered_people": s.covered_weight, "solve_time_s": s.solve_time_s,
    } for rank, s in enumerate(solutions, start=1)])


def write_sites_geojson(path: Path, solutions: list[LocationSolution], candidates: Candidates
                        ) -> Path:
    """Chosen new sites (and existing depots) as GeoJSON points, EPSG:4326."""
    features = []
    for i, name in enumerate(candidates.names):
        ranks = [r for r, s in enumerate(solutions, start=1) if i in s.open_sites]
        if not ranks:
            continue
        features.append({"type": "Feature",
                         "geometry": {"type": "Point",
                                      "coordinates": [float(candidates.lon[i]),
                                                      float(candidates.lat[i])]},
                         "properties": {"name": name, "existing": i in candidates.fixed,
                                        "in_solutions": ranks}})
    with publish_file(path, "optimize") as tmp:
        tmp.write_text(json.dumps({"type": "FeatureCollection", "features": features},
                                  ensure_ascii=False, indent=1), encoding="utf-8")
    return path
