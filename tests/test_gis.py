"""GIS out (#16 item 8): every layer a planner edits or checks in QGIS, reopened and checked
against the scenario and the run's own records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import yaml
from shapely import Polygon

from sim.gis import export_gis
from sim.run import run_replication, save_run
from sim.scenario import load_scenario
from sim.world import build_world

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("gis")
    world = build_world(load_scenario(ROOT / "scenarios" / "helsinki_storm.yaml"),
                        cache_dir=folder / "cache")
    run_dir = save_run(folder / "run", world, run_replication(world))
    return run_dir, export_gis(run_dir, folder / "layers.gpkg", cache_dir=folder / "cache")


def test_every_planner_layer_is_there_in_wgs84(exported: tuple[Path, Path]) -> None:
    run_dir, path = exported
    scenario = load_scenario(ROOT / "scenarios" / "helsinki_storm.yaml")
    layers = dict(pyogrio.list_layers(path).tolist())
    expected = {"settlements": len(scenario.settlements), "depots": len(scenario.depots),
                "team_bases": len(scenario.team_bases),
                "water_stations": len(scenario.water_stations),
                "helipads": len(scenario.helipads), "shelters": len(scenario.shelters),
                "incidents": len(pd.read_parquet(run_dir / "incidents.parquet"))}
    for layer, rows in expected.items():
        frame = gpd.read_file(path, layer=layer)
        assert len(frame) == rows, layer
        assert frame.crs.to_epsg() == 4326 and layers[layer] == "Point"
    bases = gpd.read_file(path, layer="team_bases").set_index("编号")
    assert bases.loc["central_fire_station", ["fire", "fire出动时间(h)"]].tolist() == [3, 0.05]


def test_site_layers_edited_in_qgis_import_back(exported: tuple[Path, Path],
                                                rebuilt_from: Any) -> None:
    """GIS out matches GIS in: each site layer of the GeoPackage, imported into the scenario
    stripped of that section, gives the scenario back (the run's result columns are ignored)."""
    from sim.ledger import SHEETS

    _, path = exported
    original = yaml.safe_load((ROOT / "scenarios" / "helsinki_storm.yaml").read_text("utf-8"))
    back, before = rebuilt_from(original, path, {section: section for section in SHEETS})
    assert back == before


def test_roads_carry_class_speed_and_the_runs_closures(exported: tuple[Path, Path]) -> None:
    run_dir, path = exported
    world = build_world(load_scenario(ROOT / "scenarios" / "helsinki_storm.yaml"))
    roads = gpd.read_file(path, layer="roads")
    assert len(roads) == world.road.n_edges and roads.crs.to_epsg() == 4326
    assert roads.speed_kmh.between(5, 130).all()
    assert (roads.length_m > 0).all()
    recorded = pd.read_parquet(run_dir / "closures.parquet").set_index("disruption")
    closed = roads[roads.closed != ""]
    slowed = roads[roads.slowed != ""]
    # as many edges as the model closed and slowed in this run
    assert len(closed) == recorded.edges["harbour_underpass_flooded"]
    assert len(slowed) == recorded.edges["storm_slowdown_main_roads"]
    # the polygon selector: every closed road touches the flooded area, with its window
    area = Polygon([[24.9480, 60.1640], [24.9535, 60.1640], [24.9535, 60.1675],
                    [24.9480, 60.1675]])
    assert closed.intersects(area).all()
    assert (closed.closed == "0.5 h–8 h").all()
    # the road-class selector: only primary and secondary roads slow down, ×1.6 for 0–12 h
    assert set(slowed.highway) <= {"primary", "secondary"}
    assert (slowed.slowed == "×1.6 0 h–12 h").all()


def test_disruption_areas_are_polygons_with_their_windows(exported: tuple[Path, Path]) -> None:
    _, path = exported
    areas = gpd.read_file(path, layer="disruption_areas")
    assert list(areas.id) == ["harbour_underpass_flooded"]  # the class selector has no area
    row = areas.iloc[0]
    assert (row.kind, row.start_h, row.end_h) == ("closure", 0.5, 8.0)
    assert row.geometry.bounds == pytest.approx((24.9480, 60.1640, 24.9535, 60.1675))


def test_service_areas_hold_their_depot_and_settlements(exported: tuple[Path, Path]) -> None:
    """One outline per depot around it and the settlements it serves as their own (属地)."""
    from shapely import Point

    _, path = exported
    scenario = load_scenario(ROOT / "scenarios" / "helsinki_storm.yaml")
    world = build_world(scenario, cache_dir=path.parent / "cache")
    areas = gpd.read_file(path, layer="service_areas").set_index("depot")
    assert sorted(areas.index) == sorted(d.id for d in scenario.depots)
    people = {s.id: s.people for s in scenario.settlements}
    for depot, row in areas.iterrows():
        served = [x for x in row.settlements.split(",") if x]
        assert served == world.service.served_by(depot)
        assert row.people == sum(people[s] for s in served)
        for site in (depot, *served):
            assert row.geometry.contains(Point(world.sites[site].lon, world.sites[site].lat))


def test_rivers_are_exported_where_the_scenario_has_waterways(
        tmp_path: Path, nanjing_scenario: object) -> None:
    world = build_world(nanjing_scenario, cache_dir=tmp_path / "cache")  # type: ignore[arg-type]
    assert world.water is not None
    run_dir = save_run(tmp_path / "run", world, run_replication(world))
    path = export_gis(run_dir, tmp_path / "nanjing.gpkg", cache_dir=tmp_path / "cache")
    rivers = gpd.read_file(path, layer="rivers")
    assert len(rivers) == world.water.n_edges and rivers.crs.to_epsg() == 4326
    assert set(rivers.highway) <= {"river", "canal", "stream", "drain", "ditch", "riverbank"}


def test_shelter_layer_carries_each_shelters_occupancy(tmp_path: Path) -> None:
    """Evacuation: the shelters layer holds capacity, people assigned and the peak with its
    time, as the run's summary has them."""
    import json

    world = build_world(load_scenario(ROOT / "scenarios" / "nanjing_evacuation.yaml"),
                        cache_dir=tmp_path / "cache")
    run_dir = save_run(tmp_path / "run", world, run_replication(world))
    path = export_gis(run_dir, tmp_path / "layers.gpkg", cache_dir=tmp_path / "cache")
    layer = gpd.read_file(path, layer="shelters").set_index("编号")
    summary = json.loads((run_dir / "summary.json").read_text("utf-8"))["evacuation"]
    assert len(layer) == len(summary["shelters"]) > 0
    for row in summary["shelters"]:
        got = layer.loc[row["shelter"]]
        assert (got.capacity, got.assigned, got.peak) == (row["capacity"], row["assigned"],
                                                          row["peak"])
        assert got.peak_h == pytest.approx(row["peak_h"])
