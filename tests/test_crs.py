"""Chinese coordinate systems: GCJ-02 and BD-09 against published reference pairs, EPSG codes
against a geodetic value, and scenario/experiment files whose ``crs:`` converts every
hand-typed location to WGS84 before validation."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import prcoords
import pytest
import yaml
from typer.testing import CliRunner

from sim.cli import app
from sim.crs import check_crs, to_wgs84
from sim.experiment import load_experiment
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
EARTH_R = 6_371_000.0

# (WGS84 lon, lat, GCJ-02 lon, lat): eviltransform's test suite (googollee/eviltransform:
# Shanghai, Shenzhen, Beijing), the R package geoChina's (Tiananmen) and geotool's (Jiaxing).
GCJ_PAIRS = [
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),
    (116.39089, 39.90734, 116.39713094, 39.90874107),
    (121.0917077, 30.6107779, 121.09626935575027, 30.608604331756705),
]
# (WGS84 lon, lat, BD-09 lon, lat): geotool's test suite.
BD_PAIRS = [(121.0917077, 30.6107779, 121.10271732371203, 30.61484572185035)]


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_R * math.asin(math.sqrt(a))


@pytest.mark.parametrize(("crs", "pairs"), [("gcj02", GCJ_PAIRS), ("bd09", BD_PAIRS)])
def test_reference_pairs_within_a_metre(crs: str, pairs: list[tuple[float, ...]]) -> None:
    convert = to_wgs84(crs)
    for lon, lat, x, y in pairs:
        got = convert(x, y)
        assert metres(*got, lon, lat) < 1.0, (crs, got, (lon, lat))
        # and the difference it makes is real: hundreds of metres
        assert metres(x, y, lon, lat) > 300


def test_a_cgcs2000_gauss_kruger_point_on_its_central_meridian() -> None:
    """EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger CM 114E): on the central meridian x is the
    false easting 500 000 m and y the meridian arc from the equator, 3 320 113.4 m at 30°N on
    the GRS 80 ellipsoid."""
    lon, lat = to_wgs84(check_crs("EPSG:4547"))(500_000.0, 3_320_113.4)
    assert metres(lon, lat, 114.0, 30.0) < 1.0
    assert to_wgs84("cgcs2000")(118.8, 32.0) == pytest.approx((118.8, 32.0), abs=1e-7)


@pytest.mark.parametrize(("name", "canonical"), [("GCJ-02", "gcj02"), ("bd_09", "bd09"),
                                                 ("WGS84", "wgs84"), ("epsg:4490", "EPSG:4490")])
def test_names_are_forgiving(name: str, canonical: str) -> None:
    assert check_crs(name) == canonical


def nanjing() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "scenarios" / "nanjing_xuanwu_flood.yaml").read_text("utf-8"))


SITE_FIELDS = ("depots", "team_bases", "water_stations", "settlements")


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_a_scenario_typed_in_amap_or_baidu_coordinates(tmp_path: Path, crs: str) -> None:
    """The shipped Nanjing scenario with every site moved into GCJ-02 (or BD-09) by the
    forward transform, marked ``crs:``, loads with every site back where it was (< 1 m) and
    snaps to the same road nodes."""
    data = nanjing()
    forward = prcoords.wgs_gcj if crs == "gcj02" else prcoords.wgs_bd
    shifted = copy.deepcopy(data)
    shifted["crs"] = crs
    for field in SITE_FIELDS:
        for item in shifted.get(field, []):
            lon, lat = item["location"]
            moved = forward(prcoords.Coords(lat, lon))
            item["location"] = [moved.lon, moved.lat]
    path = tmp_path / "typed.yaml"
    path.write_text(yaml.safe_dump(shifted, allow_unicode=True), encoding="utf-8")
    original, typed = load_scenario(_write(tmp_path / "orig.yaml", data)), load_scenario(path)
    for field in SITE_FIELDS:
        for a, b in zip(getattr(original, field), getattr(typed, field), strict=True):
            assert metres(*a.location, *b.location) < 1.0, (field, a.id)
    cache = str(tmp_path / "cache")
    result = CliRunner().invoke(app, ["network", "info", str(path), "--cache-dir", cache])
    assert result.exit_code == 0, result.output
    # pasted as WGS84 instead, the same numbers land hundreds of metres off
    del shifted["crs"]
    wrong = load_scenario(_write(tmp_path / "wrong.yaml", shifted))
    offsets = [metres(*a.location, *b.location)
               for a, b in zip(original.settlements, wrong.settlements, strict=True)]
    assert min(offsets) > 300


def test_an_experiment_typed_in_gcj02(tmp_path: Path) -> None:
    base = (ROOT / "scenarios" / "helsinki_storm.yaml").read_text(encoding="utf-8")
    (tmp_path / "base.yaml").write_text(base, encoding="utf-8")
    # Helsinki lies outside China, where GCJ-02 is the identity: the locations stay put
    experiment = {"name": "e", "base": "base.yaml", "crs": "gcj02", "placements": [
        {"name": "current"},
        {"name": "new", "add": [{"id": "n", "location": [24.9409, 60.1687]}],
         "move": {"kaartinkaupunki_point": [24.9500, 60.1650]}}]}
    path = _write(tmp_path / "e.yaml", experiment)
    spec, _ = load_experiment(path)
    assert spec.placements[1].add[0].location == pytest.approx((24.9409, 60.1687))
    experiment["crs"] = "EPSG:3067"  # ETRS-TM35FIN, Finland's national grid (metres)
    experiment["placements"][1]["add"][0]["location"] = [385_800.0, 6_672_000.0]
    experiment["placements"][1]["move"] = {}
    spec, _ = load_experiment(_write(tmp_path / "e.yaml", experiment))
    lon, lat = spec.placements[1].add[0].location
    assert 24.8 < lon < 25.1 and 60.1 < lat < 60.25


def test_an_unknown_crs_is_one_message(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "scenarios" / "helsinki_storm.yaml").read_text("utf-8"))
    data["crs"] = "gcj"
    path = _write(tmp_path / "s.yaml", data)
    result = CliRunner().invoke(app, ["validate", str(path), "--schema-only"])
    assert result.exit_code == 2
    assert f"{path}: crs: 'gcj' — expected one of wgs84, gcj02, bd09, cgcs2000 or " \
        "EPSG:<code>; did you mean 'gcj02'?" in result.output.replace("\n", "")


def _write(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_a_yaml_alias_shared_by_two_polygons_is_converted_once(tmp_path: Path) -> None:
    text = (ROOT / "scenarios" / "nanjing_xuanwu_flood.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    ring = data["disruptions"][0].get("polygon") or [[118.76, 32.04], [118.77, 32.04],
                                                     [118.77, 32.05]]
    data["disruptions"][0].pop("near", None)
    data["disruptions"][0].pop("radius_m", None)
    data["disruptions"][0]["polygon"] = ring
    data["hazard_zones"] = [{"id": "z", "polygon": ring}]  # safe_dump writes an alias
    data["crs"] = "gcj02"
    path = _write(tmp_path / "alias.yaml", data)
    assert "&id" in path.read_text(encoding="utf-8")
    loaded = load_scenario(path)
    assert loaded.hazard_zones[0].polygon == loaded.disruptions[0].polygon
    once = to_wgs84("gcj02")(*ring[0])
    assert metres(*loaded.hazard_zones[0].polygon[0], *once) < 0.01
