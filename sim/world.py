"""The prepared world: a scenario placed on its road (and waterway, walking) network.

Built once per scenario and shared by every replication: networks are loaded (from the cache
when possible), every site is snapped to its nearest node and checked to lie inside the
network's area, and travel-time engines are ready. The model never reads files; this is
where files end.

The walking network (:func:`sim.network.load_network` ``kind="walk"``) is loaded when the
scenario needs it — it has shelters or evacuation orders — or the caller asks
(``build_world(..., walk=True)``, :func:`attach_walk`). An extract without footways (nothing
walkable beyond the roads) leaves ``world.walk`` None with a warning: people then walk on
the drivable roads at :data:`sim.walking.WALK_KMH` (:func:`sim.walking.walk_basis`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from sim.errors import NetworkError, ScenarioError
from sim.jurisdiction import ServiceAreas, service_areas
from sim.network import (
    Network,
    haversine_m,
    load_network,
    lonlat_inside,
    snap,
)
from sim.osm import PEDESTRIAN_WAYS
from sim.routing import TravelTimes
from sim.scenario import SITE_FIELDS, Scenario, pre_run_warnings
from sim.screening import screen

__all__ = ["NO_FOOTWAYS", "Site", "World", "attach_walk", "build_world", "needs_walk",
           "service_table"]

SCREENED = ("depot", "shelter", "team_base", "helipad")
"""Site kinds that should lie outside hazard zones and closure areas (water stations belong
by the water)."""

OFF_ROAD_MODES = ("sea", "air")
"""Incidents served in a straight line need not lie on or near the road network."""

OUTSIDE_MARGIN_M = 2000.0
"""How far outside the network's bounding box a site may lie before it is an error."""

NO_FOOTWAYS = "walking on the drivable network at 4.5 km/h: the extract has no footways"
"""The warning of a world whose extract has nothing walkable beyond the roads."""


@dataclass(frozen=True)
class Site:
    """One placed site: where it is and which road node serves it."""

    id: str
    kind: str
    path: str
    lon: float
    lat: float
    node: int
    snap_m: float
    reachable_in: bool = True
    reachable_out: bool = True


@dataclass
class World:
    """A scenario with its prepared networks, snapped sites and travel-time engines."""

    scenario: Scenario
    road: Network
    roads: TravelTimes
    sites: dict[str, Site]
    water: Network | None = None
    waters: TravelTimes | None = None
    water_nodes: dict[str, int] = field(default_factory=dict)
    walk: Network | None = None
    """The pedestrian network (None: not needed, or the extract has no footways)."""
    walks: TravelTimes | None = None
    walk_nodes: dict[str, int] = field(default_factory=dict)
    """Each site's nearest node of ``walk`` (node index)."""
    warnings: list[str] = field(default_factory=list)
    service: ServiceAreas = field(default_factory=lambda: ServiceAreas({}, {}))
    """Which depot of each tier serves each settlement (属地)."""
    route_cache: dict[str, Any] = field(default_factory=dict, repr=False)
    memo: dict[Any, Any] = field(default_factory=dict, repr=False)
    """Derived data every replication shares (candidate incident points, disruption edges),
    keyed by the inputs that determine it."""
    cache_dir: Path | None = field(default=None, repr=False)
    """Where the networks were cached (a walking network loaded later goes there too)."""

    def node(self, site_id: str) -> int:
        return self.sites[site_id].node

    def with_scenario(self, scenario: Scenario, *, origin: str = "<scenario>") -> World:
        """Another scenario (placement, variant) on the same networks, engines and caches."""
        world = _place(scenario, self.road, self.water, origin=origin, roads=self.roads,
                       waters=self.waters, route_cache=self.route_cache, memo=self.memo,
                       walk=self.walk, walks=self.walks, cache_dir=self.cache_dir)
        if self.walk is None and _WALK_MEMO in self.memo:  # tried before: no footways
            world.warnings.append(self.memo[_WALK_MEMO])
        elif self.walk is None and needs_walk(scenario):
            attach_walk(world)
        return world


_WALK_MEMO = "walk:fallback"
"""``World.memo`` key: why the walking network could not be used (tried once per world)."""


def needs_walk(scenario: Scenario) -> bool:
    """Whether people walk in this scenario: it has shelters or evacuation orders."""
    return bool(scenario.shelters or getattr(scenario, "evacuation", None)
                or any(getattr(s, "evacuation", None) for s in scenario.settlements))


def build_world(scenario: Scenario, *, cache_dir: Path | None = None,
                origin: str = "<scenario>", walk: bool = False) -> World:
    """Load the scenario's networks and place its sites; errors name the field path.
    The walking network is loaded when the scenario has shelters or evacuation orders, or
    when ``walk`` asks for it."""
    spec = scenario.network
    with _naming(origin, "network.source"):
        road = load_network(spec.source, speeds_kmh=dict(spec.speeds_kmh), cache_dir=cache_dir)
    water = None
    if spec.waterways:
        source = spec.source if spec.waterways == "same" else spec.waterways
        with _naming(origin, "network.waterways"):
            water = load_network(source, cache_dir=cache_dir, kind="water")
    world = _place(scenario, road, water, origin=origin, cache_dir=cache_dir)
    if walk or needs_walk(scenario):
        attach_walk(world)
    return world


def attach_walk(world: World) -> World:
    """Load the scenario's walking network into ``world`` (once; in place) and snap every site
    to it; an extract without footways leaves ``world.walk`` None with the warning
    :data:`NO_FOOTWAYS`. Returns ``world``."""
    if world.walk is not None:
        return world
    if _WALK_MEMO in world.memo:
        if world.memo[_WALK_MEMO] not in world.warnings:
            world.warnings.append(world.memo[_WALK_MEMO])
        return world
    why = None
    try:
        walk = load_network(world.scenario.network.source, cache_dir=world.cache_dir,
                            kind="walk")
    except NetworkError as exc:  # nothing walkable, or no download of it (offline)
        walk, why = None, (NO_FOOTWAYS if "no walkable" in str(exc) else
                           f"walking on the drivable network at 4.5 km/h: the walking network "
                           f"could not be loaded ({exc})")
    if walk is not None and not set(walk.edge_highway.tolist()) & PEDESTRIAN_WAYS:
        walk, why = None, NO_FOOTWAYS
    if walk is None:
        world.memo[_WALK_MEMO] = why
        world.warnings.append(str(why))
        return world
    _snap_walk(world, walk, TravelTimes(walk))
    return world


def _snap_walk(world: World, walk: Network, walks: TravelTimes) -> None:
    """Each site to its nearest walking node; a warning for people's sites far from it."""
    world.walk, world.walks = walk, walks
    sites = list(world.sites.values())
    if not sites:
        return
    nodes, dist = snap(walk, np.array([(s.lon, s.lat) for s in sites]))
    limit = world.scenario.network.snap_warn_m
    for site, node, d in zip(sites, nodes, dist, strict=True):
        world.walk_nodes[site.id] = int(node)
        if d > limit and site.kind in ("settlement", "shelter", "depot"):
            world.warnings.append(f"{site.path} ({site.id}) is {d:.0f} m from the nearest "
                                  f"walkable way (limit network.snap_warn_m = {limit:.0f} m)")


@contextmanager
def _naming(origin: str, field_path: str) -> Iterator[None]:
    """A network error names the scenario file and the field that pointed to the network."""
    try:
        yield
    except NetworkError as exc:
        raise type(exc)(f"{origin}: {field_path}: {exc}") from None


def _place(scenario: Scenario, road: Network, water: Network | None, *, origin: str,
           roads: TravelTimes | None = None, waters: TravelTimes | None = None,
           route_cache: dict[str, Any] | None = None,
           memo: dict[Any, Any] | None = None, walk: Network | None = None,
           walks: TravelTimes | None = None, cache_dir: Path | None = None) -> World:
    located = _located_items(scenario)
    problems: list[str] = []
    warnings: list[str] = pre_run_warnings(scenario)
    node_index = {int(n): i for i, n in enumerate(road.node_ids)}
    coords = np.array([loc if not isinstance(loc, int) else (np.nan, np.nan)
                       for _, _, _, loc in located], dtype=float).reshape(-1, 2)
    by_coord = ~np.isnan(coords[:, 0])
    inside = np.ones(len(located), dtype=bool)
    if by_coord.any():
        inside[by_coord] = lonlat_inside(road, coords[by_coord], margin_m=OUTSIDE_MARGIN_M)
        snapped, dist = snap(road, np.where(by_coord[:, None], coords, 0.0))
    else:
        snapped, dist = np.zeros(len(located), dtype=int), np.zeros(len(located))
    west, south, east, north = road.report.bbox
    sites: dict[str, Site] = {}
    for i, (path, kind, item_id, loc) in enumerate(located):
        if isinstance(loc, int):
            if loc not in node_index:
                problems.append(f"{origin}: {path}.location: {loc} — OSM node id is not in the "
                                f"prepared network ({road.report.source})")
                continue
            node, snap_m = node_index[loc], 0.0
            lon, lat = float(road.lon[node]), float(road.lat[node])
        else:
            if not inside[i]:
                problems.append(
                    f"{origin}: {path}.location: {list(loc)} — outside the network's area "
                    f"(W {west:.4f}, S {south:.4f}, E {east:.4f}, N {north:.4f}); expected "
                    "[lon, lat] inside it")
                continue
            node, snap_m = int(snapped[i]), float(dist[i])
            lon, lat = loc
            if snap_m > scenario.network.snap_warn_m:
                warnings.append(f"{path} ({item_id}) is {snap_m:.0f} m from the nearest road "
                                f"node (limit network.snap_warn_m = "
                                f"{scenario.network.snap_warn_m:.0f} m)")
        if kind == "incident":
            continue
        sites[item_id] = Site(id=item_id, kind=kind, path=path, lon=lon, lat=lat, node=node,
                              snap_m=snap_m)
    if problems:
        raise ScenarioError("\n".join(problems))
    roads = roads or TravelTimes(road)
    roads.set_state()
    sites = _with_reachability(scenario, sites, roads)
    placed = [site for site in sites.values() if site.kind in SCREENED]
    if placed and (scenario.hazard_zones or scenario.disruptions):
        reasons = screen(np.array([(site.lon, site.lat) for site in placed]),
                         np.zeros(len(placed)), scenario)  # road distance is warned above
        warnings += [f"{site.path} ({site.id}) lies inside the {why}: it may be cut off or "
                     "unusable" for site, why in zip(placed, reasons, strict=True) if why]
    for site in sites.values():
        if not (site.reachable_in and site.reachable_out):
            warnings.append(f"{site.path} ({site.id}) cannot be reached from every depot or "
                            "base, or cannot reach them (one-way or isolated road)")
    service = _service(scenario, sites, roads)
    for d in scenario.depots:
        if not service.served_by(d.id) and scenario.settlements:
            warnings.append(f"depot {d.id} ({d.tier}) serves no settlement as its own: it only "
                            "supports others (dispatch.support)")
    world = World(scenario=scenario, road=road, roads=roads, sites=sites, warnings=warnings,
                  service=service, route_cache={} if route_cache is None else route_cache,
                  memo={} if memo is None else memo, cache_dir=cache_dir)
    if water is not None:
        world.water, world.waters = water, waters or TravelTimes(water)
        stations = [s for s in scenario.water_stations if not s.sea]
        if stations:
            lonlat = np.array([(sites[s.id].lon, sites[s.id].lat) for s in stations])
            nodes, dist = snap(water, lonlat)
            for station, node, d in zip(stations, nodes, dist, strict=True):
                world.water_nodes[station.id] = int(node)
                if d > scenario.network.snap_warn_m:
                    warnings.append(f"water station {station.id} is {d:.0f} m from the nearest "
                                    "river/canal node")
    if walk is not None:
        _snap_walk(world, walk, walks or TravelTimes(walk))
    _check_generator_areas(world, origin)
    return world


class ServiceRow(NamedTuple):
    """One depot's service area (a row of :func:`service_table`)."""

    depot: str
    name: str
    tier: str
    area: str
    basis: str
    settlements: list[str]
    people: int


def service_table(world: World) -> list[ServiceRow]:
    """Each depot's service area: tier, how it was found, the settlements it serves as their
    own and their people (reported by ``validate`` and ``run``, drawn on the map; plain rows,
    so that ``validate`` does not load pandas)."""
    people = {s.id: s.people for s in world.scenario.settlements}
    rows = []
    for d in world.scenario.depots:
        served = world.service.served_by(d.id)
        rows.append(ServiceRow(d.id, d.name, d.tier, d.area, world.service.basis.get(d.id, ""),
                               served, sum(people[s] for s in served)))
    return rows


def _service(scenario: Scenario, sites: dict[str, Site], roads: TravelTimes) -> ServiceAreas:
    times = roads.times([sites[d.id].node for d in scenario.depots],
                        [sites[s.id].node for s in scenario.settlements])
    return service_areas(scenario, times)


def _check_generator_areas(world: World, origin: str) -> None:
    """A generator limited to ``near`` + ``radius_m`` must have a road (or river) node there."""
    for i, gen in enumerate(world.scenario.generators):
        if gen.near is None or gen.radius_m is None or gen.locate_on not in ("roads", "rivers"):
            continue
        net = world.road if gen.locate_on == "roads" else world.water
        if net is not None and not (haversine_m(gen.near[0], gen.near[1], net.lon, net.lat)
                                    <= gen.radius_m).any():
            raise ScenarioError(f"{origin}: generators[{i}].near: {list(gen.near)} — no "
                                f"{gen.locate_on} node within radius_m {gen.radius_m:g} m; "
                                "expected a point nearer the network (or a larger radius)")


def _located_items(scenario: Scenario) -> list[tuple[str, str, str, Any]]:
    items = []
    for field_name, kind in SITE_FIELDS:
        for i, item in enumerate(getattr(scenario, field_name)):
            items.append((f"{field_name}[{i}]", kind, item.id, item.location))
    for i, inc in enumerate(scenario.incidents):
        if scenario.incident_type(inc.type).mode not in OFF_ROAD_MODES:
            items.append((f"incidents[{i}]", "incident", inc.id or f"incident{i}", inc.location))
    return items


def _with_reachability(scenario: Scenario, sites: dict[str, Site],
                       roads: TravelTimes) -> dict[str, Site]:
    """Mark sites that some depot or base cannot reach (or return from) on an open network."""
    sources = [s for s in sites.values() if s.kind in ("depot", "team_base")]
    if not sources:
        return sites
    nodes = np.array([s.node for s in sites.values()])
    src = np.array([s.node for s in sources])
    out_times = roads.times(src, nodes)
    in_times = roads.times(nodes, src)
    result = {}
    for j, site in enumerate(sites.values()):
        result[site.id] = Site(**{**site.__dict__,
                                  "reachable_in": bool(np.isfinite(out_times[:, j]).all()),
                                  "reachable_out": bool(np.isfinite(in_times[j, :]).all())})
    return result
