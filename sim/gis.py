"""GIS export for QGIS: settlements, depots and incidents of a run as GeoPackage layers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.errors import ReliefsimError
from sim.figures import read_run
from sim.files import publish_file

__all__ = ["export_gis"]

CRS = "EPSG:4326"


def export_gis(results_dir: str | Path, out_path: str | Path | None = None, *,
               cache_dir: Path | None = None) -> Path:
    """Write ``settlements``, ``depots`` and ``incidents`` layers (WGS84) to a GeoPackage.

    An experiment directory exports its baseline run (replication 0)."""
    import geopandas as gpd

    from sim.world import build_world

    results_dir = Path(results_dir)
    run_dir = results_dir
    if (results_dir / "manifest.json").exists():
        runs = sorted((results_dir / "runs").glob("*"))
        if not runs:
            raise ReliefsimError(f"{results_dir}: the experiment has no finished runs")
        run_dir = runs[0]
    _, scenario, tables = read_run(run_dir)
    world = build_world(scenario, cache_dir=cache_dir)
    relief = tables["relief"]
    worst = relief.groupby("settlement").agg(initial_max_h=("initial_h", "max"),
                                             effective_max_h=("effective_h", "max"))
    within = relief.assign(ok=relief.initial_h <= scenario.targets.initial_relief_h)
    share = within.groupby("settlement").apply(
        lambda g: (g.people * g.ok).sum() / g.people.sum(), include_groups=False)
    settlements = pd.DataFrame([{
        "id": s.id, "name": s.name, "people": s.people, "onset_h": s.onset_h,
        "lon": world.sites[s.id].lon, "lat": world.sites[s.id].lat,
        "initial_max_h": worst.initial_max_h.get(s.id, float("inf")),
        "effective_max_h": worst.effective_max_h.get(s.id, float("inf")),
        "share_initial_within_target": share.get(s.id, 0.0),
    } for s in scenario.settlements])
    delivered = tables["deliveries"].groupby("depot").qty.sum()
    depots = pd.DataFrame([{
        "id": d.id, "name": d.name, "tier": d.tier, "kind": d.kind, "trucks": d.trucks.count,
        "lon": world.sites[d.id].lon, "lat": world.sites[d.id].lat,
        "delivered_units": float(delivered.get(d.id, 0.0)),
    } for d in scenario.depots])
    incidents = tables["incidents"].assign(
        arrival_h=lambda f: f.first_arrival_h - f.call_h, duration_h=lambda f: f.done_h - f.call_h)
    out = Path(out_path) if out_path else results_dir / "results.gpkg"
    with publish_file(out) as tmp:
        for layer, frame in (("settlements", settlements), ("depots", depots),
                             ("incidents", incidents)):
            frame = frame.replace([float("inf")], float("nan"))
            gdf = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame.lon, frame.lat),
                                   crs=CRS)
            gdf.to_file(tmp, layer=layer, driver="GPKG")
    return out
