"""Planner data in (#16 item 1): tables and GIS layers with Chinese headers merged into a
scenario YAML that then validates and runs, comments kept, errors naming row and column."""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import yaml
from openpyxl import Workbook
from shapely import Point, box
from typer.testing import CliRunner

from sim.cli import app
from sim.network import load_network
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "scenarios" / "helsinki_storm.yaml"


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text("# 赫尔辛基 — the planner's own notes stay\n"
                    + DEFAULT.read_text(encoding="utf-8"), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def nodes() -> np.ndarray:
    net = load_network("builtin:helsinki")
    return np.column_stack([net.lon, net.lat])


def invoke(*args: str) -> object:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def write_csv(path: Path, header: list[str], rows: list[list[object]], encoding: str) -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk"])
def test_a_census_table_with_chinese_headers(tmp_path: Path, scenario: Path,
                                             nodes: np.ndarray, encoding: str) -> None:
    rows = [["新村", 1200, nodes[10][0], nodes[10][1], 2.0, "备注", "开平市/赤水镇/新村"],
            ["河口社区", 3400, nodes[20][0], nodes[20][1], "", "", ""]]
    table = write_csv(tmp_path / "census.csv", ["名称", "受灾人口", "经度", "纬度",
                                                "受灾时间(h)", "联系人", "行政区"], rows, encoding)
    before = load_scenario(scenario)
    result = invoke("import", "settlements", str(table), "--into", str(scenario))
    assert result.exit_code == 0, result.output
    assert "imported 2 new and 0 replaced settlements" in result.output
    after = load_scenario(scenario)
    assert len(after.settlements) == len(before.settlements) + 2
    new = {s.id: s for s in after.settlements[-2:]}
    assert new["新村"].people == 1200 and new["新村"].onset_h == 2.0
    assert (new["新村"].area, new["河口社区"].area) == ("开平市/赤水镇/新村", "")
    assert new["河口社区"].location == pytest.approx(tuple(nodes[20]))
    text = scenario.read_text(encoding="utf-8")
    assert text.startswith("# 赫尔辛基 — the planner's own notes stay\n")
    comments = [line.strip() for line in DEFAULT.read_text("utf-8").splitlines()
                if line.strip().startswith("#")]
    assert comments and all(c in text for c in comments)  # every comment of the file survives
    assert "联系人" not in text  # columns the model has no use for are left out


def test_a_depot_ledger_in_excel_with_stock_by_commodity_name(
        tmp_path: Path, scenario: Path, nodes: np.ndarray) -> None:
    book = Workbook()
    book.active.title = "说明"
    sheet = book.create_sheet("储备库")
    sheet.append(["编号", "储备库名称", "储备库级别", "经度", "纬度", "食品饮用水包", "棉被",
                  "车辆数", "载重(kg)"])
    sheet.append(["d_new", "新街道储备点", "乡镇（街道）", nodes[5][0], nodes[5][1], 800,
                  "1,200", 2, 3000])
    path = tmp_path / "台账.xlsx"
    book.save(path)
    result = invoke("import", "depots", str(path), "--into", str(scenario),
                    "--sheet", "储备库")
    assert result.exit_code == 0, result.output
    depot = load_scenario(scenario).depots[-1]
    assert (depot.id, depot.name, depot.tier) == ("d_new", "新街道储备点", "town")
    assert depot.stock == {"kit": 800, "quilt": 1200}
    assert (depot.trucks.count, depot.trucks.capacity_kg) == (2, 3000)


def test_census_polygons_become_points_inside_them(
        tmp_path: Path, scenario: Path, nodes: np.ndarray) -> None:
    units = []
    for i, (lon, lat) in enumerate(nodes[[30, 40, 50]]):
        units.append({"名称": f"单元{i}", "人口": 100 * (i + 1),
                      "geometry": box(lon - 0.002, lat - 0.001, lon + 0.002, lat + 0.001)})
    layer = gpd.GeoDataFrame(units, crs="EPSG:4326")
    path = tmp_path / "units.geojson"
    layer.to_file(path, driver="GeoJSON")
    assert invoke("import", "settlements", str(path), "--into", str(scenario)).exit_code == 0
    imported = load_scenario(scenario).settlements[-3:]
    for unit, settlement in zip(units, imported, strict=True):
        assert unit["geometry"].contains(Point(settlement.location))
        assert settlement.people == unit["人口"]
        assert settlement.area == unit["名称"]  # the census unit's name is its area
    # a table typed in a projected CRS (x, y in metres; --crs) lands where the WGS84 point is
    lon, lat = nodes[60]
    x, y = gpd.GeoSeries([Point(lon, lat)], crs="EPSG:4326").to_crs("EPSG:3067").iloc[0].coords[0]
    table = write_csv(tmp_path / "grid.csv", ["名称", "人口", "x", "y"],
                      [["网格点", 50, x, y]], "utf-8")
    assert invoke("import", "settlements", str(table), "--into", str(scenario), "--crs",
                  "EPSG:3067").exit_code == 0
    assert load_scenario(scenario).settlements[-1].location == pytest.approx((lon, lat),
                                                                            abs=1e-7)


def test_a_geopackage_of_shelters_in_a_projected_crs(tmp_path: Path, scenario: Path,
                                                     nodes: np.ndarray) -> None:
    points = gpd.GeoDataFrame({"名称": ["体育馆", "学校"], "容纳人数": [800, 300],
                               "有效面积(㎡)": [1200.0, 450.0]},
                              geometry=gpd.points_from_xy(nodes[[70, 80], 0], nodes[[70, 80], 1]),
                              crs="EPSG:4326").to_crs("EPSG:3067")
    path = tmp_path / "shelters.gpkg"
    points.to_file(path, layer="避难场所", driver="GPKG")
    assert invoke("import", "shelters", str(path), "--into", str(scenario)).exit_code == 0
    shelters = load_scenario(scenario).shelters[-2:]
    assert [s.capacity_people for s in shelters] == [800, 300]
    assert shelters[0].location == pytest.approx(tuple(nodes[70]), abs=1e-7)


def test_errors_name_file_row_and_column_and_write_nothing(tmp_path: Path, scenario: Path,
                                                           nodes: np.ndarray) -> None:
    before = scenario.read_bytes()
    table = write_csv(tmp_path / "bad.csv", ["名称", "人口", "经度", "纬度"],
                      [["甲", 10, nodes[1][0], nodes[1][1]], ["乙", "很多", nodes[2][0],
                                                                nodes[2][1]]], "utf-8")
    result = invoke("import", "settlements", str(table), "--into", str(scenario))
    assert result.exit_code == 2
    assert f"{table}: row 3, column '人口': '很多' — expected a number" in \
        result.output.replace("\n", "")
    negative = write_csv(tmp_path / "neg.csv", ["名称", "人口", "经度", "纬度"],
                         [["丙", -5, nodes[1][0], nodes[1][1]]], "utf-8")
    result = invoke("import", "settlements", str(negative), "--into", str(scenario))
    assert result.exit_code == 2
    assert f"{negative}: row 2, column '人口' (settlements.people): -5 — expected greater " \
        "than or equal to 1" in result.output.replace("\n", "")
    assert scenario.read_bytes() == before


def test_existing_ids_are_replaced_only_with_force(tmp_path: Path, scenario: Path,
                                                   nodes: np.ndarray) -> None:
    existing = load_scenario(scenario).settlements[0]
    table = write_csv(tmp_path / "again.csv", ["编号", "名称", "人口", "经度", "纬度"],
                      [[existing.id, "更新", 999, nodes[3][0], nodes[3][1]]], "utf-8")
    before = scenario.read_bytes()
    result = invoke("import", "settlements", str(table), "--into", str(scenario))
    assert result.exit_code == 2 and "add --force to replace it" in result.output
    assert scenario.read_bytes() == before
    result = invoke("import", "settlements", str(table), "--into", str(scenario), "--force")
    assert result.exit_code == 0 and "0 new and 1 replaced" in result.output
    after = load_scenario(scenario).settlements
    assert (after[0].id, after[0].people) == (existing.id, 999)
    assert len(after) == len(load_scenario(DEFAULT).settlements)


def test_300_settlements_and_20_depots_import_and_run_without_hand_edits(
        tmp_path: Path, scenario: Path, nodes: np.ndarray) -> None:
    rng = np.random.default_rng(3)
    picks = rng.choice(len(nodes), size=320)  # the network has 249 nodes: some share one
    settlements = write_csv(tmp_path / "villages.csv", ["名称", "人口", "经度", "纬度"],
                            [[f"村{i}", int(rng.integers(50, 500)), *nodes[k]]
                             for i, k in enumerate(picks[:300])], "utf-8")
    book = Workbook()
    book.active.append(["名称", "级别", "经度", "纬度", "食品饮用水包", "棉被", "帐篷", "车辆数"])
    for i, k in enumerate(picks[300:]):
        book.active.append([f"储备点{i}", "村级", *nodes[k], 2000, 1000, 300, 1])
    depots = tmp_path / "depots.xlsx"
    book.save(depots)
    assert invoke("import", "settlements", str(settlements), "--into",
                  str(scenario)).exit_code == 0
    assert invoke("import", "depots", str(depots), "--into", str(scenario)).exit_code == 0
    data = yaml.safe_load(scenario.read_text(encoding="utf-8"))
    assert len(data["settlements"]) == 300 + len(load_scenario(DEFAULT).settlements)
    assert len(data["depots"]) == 20 + len(load_scenario(DEFAULT).depots)
    out = tmp_path / "run"
    result = invoke("run", str(scenario), "--out", str(out), "--cache-dir",
                    str(tmp_path / "cache"))
    assert result.exit_code == 0, result.output
    assert (out / "summary.json").exists()




@pytest.mark.parametrize("name", ["helsinki_storm.yaml", "nanjing_xuanwu_flood.yaml"])
def test_the_ledger_round_trip_gives_the_identical_scenario(tmp_path: Path, name: str,
                                                            rebuilt_from: object) -> None:
    """export-ledger, then import every sheet into the scenario stripped of those sections:
    the identical scenario comes back (administrative areas included)."""
    from sim.ledger import SHEETS

    original = yaml.safe_load((ROOT / "scenarios" / name).read_text(encoding="utf-8"))
    original["settlements"][0]["area"] = "市/街道/社区"
    original["depots"][0]["area"] = "市/街道"
    source = tmp_path / "original.yaml"
    source.write_text(yaml.safe_dump(original, allow_unicode=True), encoding="utf-8")
    ledger = tmp_path / "台账.xlsx"
    result = invoke("export-ledger", str(source), "--out", str(ledger))
    assert result.exit_code == 0, result.output
    back, before = rebuilt_from(original, ledger, SHEETS)  # type: ignore[operator]
    assert back == before


def test_a_county_scenario_offline_from_init_and_import(tmp_path: Path,
                                                        shared_data: Path) -> None:
    """The README's offline workflow on the Nanjing extract: draft the scenario from OSM, fill
    the people of the drafted settlements from a census table by name, validate, run."""
    osm = shared_data / "osm" / "nanjing_xuanwu.osm"
    scenario = tmp_path / "county.yaml"
    cache = str(tmp_path / "cache")
    result = invoke("init", "--network", str(osm), "--out", str(scenario), "--cache-dir", cache)
    assert result.exit_code == 0, result.output
    draft = yaml.safe_load(scenario.read_text(encoding="utf-8"))
    assert draft["settlements"] and draft["shelters"] and draft["team_bases"]
    assert all(s["review"] for s in draft["settlements"])
    named = [s for s in draft["settlements"] if not s["name"].startswith(("place=", "landuse="))]
    assert named, "the extract has named places (五老村)"
    result = invoke("validate", str(scenario), "--cache-dir", cache)
    assert result.exit_code == 0
    assert f"settlements[0] ({draft['settlements'][0]['id']}) needs review: 人口待填" in \
        result.output.replace("\n", "")
    census = write_csv(tmp_path / "census.csv", ["名称", "人口"],
                       [[s["name"], 1000 + i] for i, s in enumerate(named)], "utf-8")
    result = invoke("import", "settlements", str(census), "--into", str(scenario))
    assert result.exit_code == 0, result.output
    assert f"0 new and {len(named)} replaced" in result.output
    filled = {s.id: s for s in load_scenario(scenario).settlements}
    for i, s in enumerate(named):
        assert (filled[s["id"]].people, filled[s["id"]].review) == (1000 + i, "")
        assert filled[s["id"]].location == tuple(s["location"])
    data = yaml.safe_load(scenario.read_text(encoding="utf-8"))
    data["depots"] = [{"id": "county", "tier": "county", "location": named[0]["location"],
                       "stock": {"kit": 50_000, "quilt": 50_000, "tent": 20_000}}]
    scenario.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = invoke("run", str(scenario), "--out", str(tmp_path / "run"), "--cache-dir", cache)
    assert result.exit_code == 0, result.output


def test_init_never_overwrites_a_file(tmp_path: Path) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text("name: mine\n", encoding="utf-8")
    result = invoke("init", "--network", "builtin:helsinki", "--out", str(mine), "--cache-dir",
                    str(tmp_path / "cache"))
    assert result.exit_code == 2 and "exists" in result.output
    assert mine.read_text(encoding="utf-8") == "name: mine\n"


def test_a_shapefile_of_villages(tmp_path: Path, scenario: Path, nodes: np.ndarray) -> None:
    villages = gpd.GeoDataFrame({"名称": ["东村", "西村"], "人口": [300, 450]},
                                geometry=gpd.points_from_xy(nodes[[90, 95], 0], nodes[[90, 95], 1]),
                                crs="EPSG:4326")
    path = tmp_path / "villages.shp"
    villages.to_file(path, encoding="utf-8")
    assert invoke("import", "settlements", str(path), "--into", str(scenario)).exit_code == 0
    imported = load_scenario(scenario).settlements[-2:]
    assert [(s.id, s.people) for s in imported] == [("东村", 300), ("西村", 450)]
    assert imported[1].location == pytest.approx(tuple(nodes[95]))


def test_a_flood_zone_layer_becomes_hazard_zones(tmp_path: Path, scenario: Path) -> None:
    """A polygon layer (e.g. a 50-year flood zone from the water authority, in a projected
    CRS) imports as hazard_zones with its outline; validate then flags sites inside."""
    zone = box(24.9320, 60.1690, 24.9340, 60.1710)
    layer = gpd.GeoDataFrame({"名称": ["五十年一遇淹没区"], "类型": ["flood"]},
                             geometry=[zone], crs="EPSG:4326").to_crs("EPSG:3067")
    path = tmp_path / "zones.gpkg"
    layer.to_file(path, layer="淹没区", driver="GPKG")
    result = invoke("import", "hazard_zones", str(path), "--into", str(scenario))
    assert result.exit_code == 0, result.output
    imported = load_scenario(scenario).hazard_zones[0]
    assert (imported.id, imported.kind) == ("五十年一遇淹没区", "flood")
    from shapely import Polygon

    assert Polygon(imported.polygon).symmetric_difference(zone).area < 1e-12
    data = yaml.safe_load(scenario.read_text(encoding="utf-8"))
    data["shelters"] = [{"id": "gym", "location": [24.9330, 60.1700], "capacity_people": 10}]
    scenario.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = invoke("validate", str(scenario), "--cache-dir", str(tmp_path / "cache"))
    assert "shelters[0] (gym) lies inside the flood zone '五十年一遇淹没区'" in \
        result.output.replace("\n", "")


def test_a_table_of_amap_points_in_nanjing(tmp_path: Path) -> None:
    """GCJ-02 (Amap/高德) points pasted into a table land on the WGS84 place with --crs gcj02
    (< 1 m); read as WGS84 they would be hundreds of metres off."""
    import prcoords

    from sim.network import haversine_m

    scenario = tmp_path / "nanjing.yaml"
    scenario.write_text((ROOT / "scenarios" / "nanjing_xuanwu_flood.yaml").read_text("utf-8"),
                        encoding="utf-8")
    net = load_network("builtin:nanjing")
    picks = [5, 50, 150]
    rows = []
    for i, k in enumerate(picks):
        gcj = prcoords.wgs_gcj(prcoords.Coords(float(net.lat[k]), float(net.lon[k])))
        rows.append([f"高德点{i}", 100, gcj.lon, gcj.lat])
    table = write_csv(tmp_path / "amap.csv", ["名称", "人口", "经度", "纬度"], rows, "utf-8")
    assert invoke("import", "settlements", str(table), "--into", str(scenario), "--crs",
                  "gcj02").exit_code == 0
    for settlement, k, row in zip(load_scenario(scenario).settlements[-3:], picks, rows,
                                  strict=True):
        lon, lat = settlement.location
        assert float(haversine_m(lon, lat, net.lon[k], net.lat[k])) < 1.0
        assert float(haversine_m(row[2], row[3], net.lon[k], net.lat[k])) > 300


# -- review findings: what real ledgers look like ----------------------------------------------


def test_real_world_tables(tmp_path: Path, scenario: Path, nodes: np.ndarray) -> None:
    """Trailing ',,,' rows, merged 级别 cells, columns meant for other kinds."""
    padded = tmp_path / "padded.csv"
    padded.write_bytes(("\ufeff名称,人口,经度,纬度,,\r\n"
                        f"村3,500,{nodes[3][0]},{nodes[3][1]},,\r\n,,,,,\r\n,,,,,\r\n"
                        ).encode())
    assert invoke("import", "settlements", str(padded), "--into", str(scenario)).exit_code == 0
    book = Workbook()
    ws = book.active
    ws.append(["编号", "名称", "级别", "经度", "纬度", "食品饮用水包"])
    ws.append(["m1", "甲", "乡镇", *nodes[6], 100])
    ws.append(["m2", "乙", None, *nodes[7], 200])
    ws.merge_cells("C2:C3")  # one 级别 cell over both rows, as ledgers are typed
    merged = tmp_path / "merged.xlsx"
    book.save(merged)
    assert invoke("import", "depots", str(merged), "--into", str(scenario)).exit_code == 0
    assert [d.tier for d in load_scenario(scenario).depots[-2:]] == ["town", "town"]
    shelters = write_csv(tmp_path / "sh.csv",
                         ["名称", "类型", "级别", "可容纳人数", "经度", "纬度"],
                         [["小学", "室内", "Ⅱ类", 800, *nodes[8]]], "utf-8")
    assert invoke("import", "shelters", str(shelters), "--into", str(scenario)).exit_code == 0
    assert load_scenario(scenario).shelters[-1].capacity_people == 800


def test_a_formula_without_a_value_is_an_error(tmp_path: Path, scenario: Path,
                                               nodes: np.ndarray) -> None:
    book = Workbook()
    book.active.append(["编号", "名称", "经度", "纬度", "食品饮用水包", "棉被"])
    book.active.append(["f1", "公式", *nodes[9], "=200*2", 300])  # openpyxl stores no value
    path = tmp_path / "formula.xlsx"
    book.save(path)
    before = scenario.read_bytes()
    result = invoke("import", "depots", str(path), "--into", str(scenario))
    assert result.exit_code == 2
    assert "row 2, column '食品饮用水包': '=200*2' — a formula without a computed value" in \
        result.output.replace("\n", "")
    assert scenario.read_bytes() == before


def test_each_part_of_a_multipolygon_zone_is_a_zone(tmp_path: Path, scenario: Path) -> None:
    from shapely import MultiPolygon

    parts = MultiPolygon([box(24.930, 60.160, 24.932, 60.162), box(24.950, 60.170, 24.951,
                                                                   60.171)])
    path = tmp_path / "zones.geojson"
    gpd.GeoDataFrame({"名称": ["低洼区"]}, geometry=[parts], crs="EPSG:4326").to_file(path)
    assert invoke("import", "hazard_zones", str(path), "--into", str(scenario)).exit_code == 0
    assert [z.id for z in load_scenario(scenario).hazard_zones] == ["低洼区-1", "低洼区-2"]


def test_import_keeps_links_and_permissions_and_refuses_a_crs_file(
        tmp_path: Path, scenario: Path, nodes: np.ndarray) -> None:
    import os
    import stat

    scenario.chmod(0o600)
    link = tmp_path / "linked.yaml"
    link.symlink_to(scenario)
    table = write_csv(tmp_path / "one.csv", ["名称", "人口", "经度", "纬度"],
                      [["链接村", 5, *nodes[11]]], "utf-8")
    assert invoke("import", "settlements", str(table), "--into", str(link)).exit_code == 0
    assert link.is_symlink() and load_scenario(scenario).settlements[-1].id == "链接村"
    assert stat.S_IMODE(os.stat(scenario).st_mode) == 0o600
    gcj = tmp_path / "gcj.yaml"
    gcj.write_text("crs: gcj02\n" + scenario.read_text(encoding="utf-8"), encoding="utf-8")
    result = invoke("import", "settlements", str(table), "--into", str(gcj))
    assert result.exit_code == 2 and "declares crs: gcj02" in result.output


def test_init_writes_a_network_path_the_scenario_can_find(
        tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "nj.osm").write_bytes(
        (shared_data / "osm" / "nanjing_xuanwu.osm").read_bytes())
    monkeypatch.chdir(tmp_path)
    cache = str(tmp_path / "cache")
    assert invoke("init", "--network", "maps/nj.osm", "--out", "drafts/d.yaml", "--cache-dir",
                  cache).exit_code == 0
    monkeypatch.chdir(tmp_path / "maps")
    assert invoke("validate", "../drafts/d.yaml", "--cache-dir", cache).exit_code == 0


def test_shelter_class_opening_and_intake_go_through_the_ledger(tmp_path: Path) -> None:
    """The shelters sheet carries 类别, 开放时间, 入场能力 and 人均面积 and imports back."""
    from sim.ledger import SHEETS

    source = ROOT / "scenarios" / "nanjing_evacuation.yaml"
    ledger = tmp_path / "台账.xlsx"
    assert invoke("export-ledger", str(source), "--out", str(ledger)).exit_code == 0
    base = yaml.safe_load(source.read_text(encoding="utf-8"))
    original = base["shelters"]
    base["shelters"] = []
    target = tmp_path / "back.yaml"
    target.write_text(yaml.safe_dump(base, allow_unicode=True), encoding="utf-8")
    result = invoke("import", "shelters", str(ledger), "--sheet", SHEETS["shelters"],
                    "--into", str(target), "--force")
    assert result.exit_code == 0, result.output
    back = {s.id: s for s in load_scenario(target).shelters}
    for want in load_scenario(source).shelters:
        got = back[want.id]
        assert (got.category, got.capacity, got.opening_delay_h, got.intake_per_h,
                got.m2_per_person) == (want.category, want.capacity, want.opening_delay_h,
                                       want.intake_per_h, want.m2_per_person)
    assert len(back) == len(original)
