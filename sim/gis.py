"""GIS export for QGIS: every layer a planner edits or checks, as GeoPackage layers (WGS84):
settlements (with relief times), depots (with deliveries), shelters, team bases and water
stations — with the ledger's Chinese columns, so that a layer edited in QGIS imports back
with ``reliefsim import`` — helipads, incidents (arrival times), roads (class, speed, the
run's closures and slow-downs with their windows), rivers, the closure and slow-down areas,
and each depot's service area (属地)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from sim.figures import baseline_run, read_run
from sim.files import publish_file
from sim.ledger import SHEETS, ledger_rows
from sim.network import Network
from sim.scenario import Scenario
from sim.screening import circle
from sim.world import World

__all__ = ["export_gis"]

CRS = "EPSG:4326"


def export_gis(results_dir: str | Path, out_path: str | Path | None = None, *,
               cache_dir: Path | None = None) -> Path:
    """Write the run's layers (WGS84) to a GeoPackage.

    An experiment directory exports its baseline run (replication 0)."""
    import geopandas as gpd

    from sim.world import build_world

    results_dir = Path(results_dir)
    run_dir = baseline_run(results_dir)
    summary, scenario, tables = read_run(run_dir)
    world = build_world(scenario, cache_dir=cache_dir)
    relief = tables["relief"]
    worst = relief.groupby("settlement").agg(initial_max_h=("initial_h", "max"),
                                             effective_max_h=("effective_h", "max"))
    within = relief.assign(ok=relief.initial_h <= scenario.targets.initial_relief_h)
    share = within.groupby("settlement").apply(
        lambda g: (g.people * g.ok).sum() / g.people.sum(), include_groups=False)
    sites = {section: pd.DataFrame(ledger_rows(scenario, section)) for section in SHEETS}
    for frame in sites.values():  # the site as placed (an OSM node id has its node's place)
        frame["lon"] = [world.sites[i].lon for i in frame.get("编号", [])]
        frame["lat"] = [world.sites[i].lat for i in frame.get("编号", [])]
    ids = sites["settlements"].get("编号", pd.Series(dtype=str))
    sites["settlements"]["initial_max_h"] = [worst.initial_max_h.get(i, float("inf")) for i in ids]
    sites["settlements"]["effective_max_h"] = [worst.effective_max_h.get(i, float("inf"))
                                               for i in ids]
    sites["settlements"]["share_initial_within_target"] = [share.get(i, 0.0) for i in ids]
    delivered = tables["deliveries"].groupby("depot").qty.sum()
    sites["depots"]["delivered_units"] = [float(delivered.get(i, 0.0))
                                          for i in sites["depots"].get("编号", [])]
    occupancy = {s["shelter"]: s for s in (summary.get("evacuation") or {}).get("shelters", [])}
    shelter_ids = sites["shelters"].get("编号", [])
    for column in ("capacity", "assigned", "peak", "peak_h", "peak_share"):
        sites["shelters"][column] = [occupancy.get(i, {}).get(column, float("nan"))
                                     for i in shelter_ids]
    incidents = tables["incidents"].assign(
        arrival_h=lambda f: f.first_arrival_h - f.call_h, duration_h=lambda f: f.done_h - f.call_h)
    points = {**sites, "helipads": _helipads(world), "incidents": incidents}
    lines = {"roads": _edges(world.road, _road_states(world, summary)),
             **({"rivers": _edges(world.water, {})} if world.water is not None else {})}
    out = Path(out_path) if out_path else results_dir / "results.gpkg"
    with publish_file(out) as tmp:
        for layer, frame in points.items():
            frame = frame.replace([float("inf")], float("nan"))
            gdf = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame.lon, frame.lat),
                                   crs=CRS)
            gdf.to_file(tmp, layer=layer, driver="GPKG", geometry_type="Point")  # even if empty
        for layer, gdf in lines.items():
            gdf.to_file(tmp, layer=layer, driver="GPKG", geometry_type="LineString")
        areas = _disruption_areas(scenario)
        if len(areas):
            areas.to_file(tmp, layer="disruption_areas", driver="GPKG")
        served = _service_areas(world)
        if len(served):
            served.to_file(tmp, layer="service_areas", driver="GPKG")
    return out


SERVICE_MARGIN_DEG = 0.002
"""Service-area outlines are drawn this far (about 200 m) around the depot and settlements."""


def _service_areas(world: World) -> Any:
    """Each depot's service area (属地): the outline around it and the settlements it serves
    as their own, with its tier, how it was found and the people in it."""
    import geopandas as gpd
    from shapely import MultiPoint

    from sim.world import service_table

    rows, geoms = [], []
    for r in service_table(world):
        points = [world.sites[i] for i in (r.depot, *r.settlements)]
        geoms.append(MultiPoint([(p.lon, p.lat) for p in points]).convex_hull.buffer(
            SERVICE_MARGIN_DEG))
        rows.append({"depot": r.depot, "name": r.name, "tier": r.tier, "area": r.area,
                     "basis": r.basis, "settlements": ",".join(r.settlements),
                     "people": int(r.people)})
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs=CRS)


def _helipads(world: World) -> pd.DataFrame:
    rows = [{"id": h.id, "name": h.name, "lon": world.sites[h.id].lon,
             "lat": world.sites[h.id].lat, "helicopters": h.helicopters.count,
             "speed_kmh": h.helicopters.speed_kmh} for h in world.scenario.helipads]
    return pd.DataFrame(rows, columns=["id", "name", "lon", "lat", "helicopters", "speed_kmh"])


def _road_states(world: World, summary: dict[str, Any]) -> dict[int, list[tuple[str, Any]]]:
    """Per road edge, the disruptions that act on it in this run: (id, disruption)."""
    from sim.model.disruptions import disruption_edges

    acting: dict[int, list[tuple[str, Any]]] = {}
    for d in world.scenario.disruptions:
        for edge in disruption_edges(world, d, summary["seed"], summary["replication"]):
            acting.setdefault(int(edge), []).append((d.id, d))
    return acting


def _edges(net: Network, acting: dict[int, list[tuple[str, Any]]]) -> Any:
    """One line per directed edge with its class, speed and (roads) closure windows."""
    import geopandas as gpd
    from shapely import LineString

    rows, geoms = [], []
    for i in range(net.n_edges):
        u, v = int(net.edge_u[i]), int(net.edge_v[i])
        data = net.graph.get_edge_data(int(net.node_ids[u]), int(net.node_ids[v]),
                                       int(net.edge_key[i])) or {}
        geoms.append(data.get("geometry") or LineString(
            [(net.lon[u], net.lat[u]), (net.lon[v], net.lat[v])]))
        osmid = data.get("osmid")
        on = acting.get(i, [])
        closures = [d for _, d in on if d.factor is None]
        slows = [d for _, d in on if d.factor is not None]
        rows.append({
            "u": int(net.node_ids[u]), "v": int(net.node_ids[v]),
            "osmid": ",".join(map(str, osmid)) if isinstance(osmid, list) else str(osmid or ""),
            "highway": str(net.edge_highway[i]), "length_m": float(net.edge_length_m[i]),
            "time_h": float(net.edge_time_h[i]),
            "speed_kmh": float(net.edge_length_m[i] / 1000 / net.edge_time_h[i])
            if net.edge_time_h[i] > 0 else float("nan"),
            "disruptions": ",".join(name for name, _ in on),
            "closed": "; ".join(_window(d) for d in closures),
            "slowed": "; ".join(f"×{d.factor:g} {_window(d)}" for d in slows),
        })
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs=CRS)


def _window(d: Any) -> str:
    end = "end" if d.window.end_h is None else f"{d.window.end_h:g} h"
    return f"{d.window.start_h:g} h–{end}"


def _disruption_areas(scenario: Scenario) -> Any:
    """Closure and slow-down areas as polygons: the drawn polygon, or the circle of ``near`` +
    ``radius_m`` (geodesic, so its radius is true)."""
    import geopandas as gpd
    from shapely import Polygon

    rows, geoms = [], []
    for d in scenario.disruptions:
        if d.polygon is not None:
            geom = Polygon(d.polygon)
        elif d.near is not None and d.radius_m is not None:
            geom = circle(d.near[0], d.near[1], d.radius_m)
        else:
            continue
        rows.append({"id": d.id, "kind": "closure" if d.factor is None else "slow-down",
                     "factor": d.factor, "start_h": d.window.start_h, "end_h": d.window.end_h,
                     "share": d.share})
        geoms.append(geom)
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs=CRS)
