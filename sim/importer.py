"""Planner data in: tables (CSV, Excel) and GIS layers (GeoJSON, Shapefile, GeoPackage) of
settlements, depots, shelters, team bases and water stations, merged into a scenario YAML.

Headers may be Chinese or English (:data:`HEADERS`; a depot's stock columns are named by
commodity id or name, a team base's team columns by team type or its Chinese name). Points
come from longitude/latitude columns or from the layer's geometry (a polygon, such as a census
unit, gives a point inside it). Coordinates are converted to WGS84 from ``crs`` (or the layer's
own CRS). Every row is validated before anything is written; an error names the file, sheet,
row and column. Items are merged by id: new ones are appended, an existing one is replaced
only with ``force``; the YAML keeps its comments and order.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from sim.crs import check_crs, to_wgs84
from sim.errors import ScenarioError
from sim.scenario import (
    DEFAULT_INCIDENT_TYPES,
    Depot,
    HazardZone,
    Settlement,
    Shelter,
    TeamBase,
    WaterStation,
    format_validation_error,
    parse_scenario,
    read_yaml,
)

__all__ = ["HEADERS", "KINDS", "MOBILISATION", "PRODUCTION", "ImportResult", "flow_item",
           "import_into", "read_rows"]

KINDS: dict[str, type[BaseModel]] = {"settlements": Settlement, "depots": Depot,
                                     "shelters": Shelter, "team_bases": TeamBase,
                                     "water_stations": WaterStation,
                                     "hazard_zones": HazardZone}
AREAS = ("hazard_zones",)
"""Kinds read as polygons (a GIS layer's outline) rather than points."""

HEADERS: dict[str, str] = {
    # identity and place
    "id": "id", "编号": "id", "代码": "id", "编码": "id",
    "name": "name", "名称": "name", "名字": "name", "单位名称": "name", "村(社区)": "name",
    "村（社区）": "name", "储备库名称": "name", "避难场所名称": "name",
    "lon": "lon", "lng": "lon", "longitude": "lon", "经度": "lon", "x": "lon",
    "lat": "lat", "latitude": "lat", "纬度": "lat", "y": "lat",
    "area": "area", "行政区": "area", "行政区划": "area", "所属区域": "area",
    # settlements
    "people": "people", "人口": "people", "人数": "people", "受灾人口": "people",
    "受灾人数": "people", "常住人口": "people", "户籍人口": "people",
    "onset_h": "onset_h", "受灾时间(h)": "onset_h", "受灾时间（小时）": "onset_h",
    "urgency": "urgency", "紧急程度": "urgency", "优先级": "urgency",
    # depots
    "tier": "tier", "级别": "tier", "储备库级别": "tier", "层级": "tier",
    "kind": "kind", "储备类型": "kind", "类型": "kind",
    "trucks": "trucks.count", "车辆数": "trucks.count", "运输车辆": "trucks.count",
    "车辆(辆)": "trucks.count", "capacity_kg": "trucks.capacity_kg",
    "载重(kg)": "trucks.capacity_kg", "载重（kg）": "trucks.capacity_kg",
    "load_h": "trucks.load_h", "装车时间(h)": "trucks.load_h",
    "unload_h": "trucks.unload_h", "卸车时间(h)": "trucks.unload_h",
    "activation_delay_h": "activation_delay_h", "启动时间(h)": "activation_delay_h",
    "响应时间(h)": "activation_delay_h", "no_show_prob": "no_show_prob",
    "未到位概率": "no_show_prob",
    # shelters
    "capacity_people": "capacity_people", "容纳人数": "capacity_people",
    "可容纳人数": "capacity_people", "area_m2": "area_m2", "面积(m2)": "area_m2",
    "面积(㎡)": "area_m2", "有效面积(m2)": "area_m2", "有效面积(㎡)": "area_m2",
    "m2_per_person": "m2_per_person", "人均面积(㎡)": "m2_per_person",
    "人均面积(m2)": "m2_per_person", "category": "category", "类别": "category",
    "场所类别": "category", "opening_delay_h": "opening_delay_h", "开放时间(h)": "opening_delay_h",
    "intake_per_h": "intake_per_h", "入场能力(人/h)": "intake_per_h",
    # water stations
    "boats": "boats.count", "船只数": "boats.count", "船艇数": "boats.count",
    "sea": "sea", "海上": "sea", "speed_kmh": "boats.speed_kmh", "航速(km/h)": "boats.speed_kmh",
    "mobilisation_h": "boats.mobilisation_h", "出动时间(h)": "boats.mobilisation_h",
    "osm_node": "osm_node", "osm节点": "osm_node",
}
"""Column headers (compared without spaces, case-insensitive) and the field each fills."""

TIER_NAMES = {"村（社区）级": "village", "乡镇（街道）级": "town", "县（区）级": "county",
              "市级储备库": "city", "省级储备库": "province", "相邻地区": "neighbour",
              "村": "village", "村级": "village", "社区": "village", "村（社区）": "village",
              "村(社区)": "village", "乡镇": "town", "镇": "town", "乡": "town", "街道": "town",
              "乡镇（街道）": "town", "乡镇(街道)": "town", "县": "county", "县级": "county",
              "区": "county", "县（区）": "county", "县(区)": "county", "企业": "enterprise",
              "协议": "enterprise", "协议储备": "enterprise", "产能储备": "enterprise",
              "市": "city", "市级": "city", "省": "province", "省级": "province"}
"""Chinese stockpile tiers (储备库级别) and the scenario's tier names."""

KIND_NAMES = {"实物": "physical", "实物储备": "physical", "协议": "contract",
              "协议储备": "contract", "产能": "capacity", "产能储备": "capacity"}
TEAM_NAMES = {"消防": "fire", "消防救援": "fire", "医疗": "medical", "急救": "medical",
              "抢险": "flood", "防汛": "flood", "水上救援": "flood", "森林消防": "forest_fire",
              "危化": "hazmat", "危化品": "hazmat"}
TRUE_WORDS = {"是", "true", "yes", "1", "y"}
FALSE_WORDS = {"否", "false", "no", "0", "n", ""}
GIS_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip")


@dataclass(frozen=True)
class Row:
    """One data row: where it came from (for messages) and its cells by header."""

    where: str
    cells: dict[str, Any]
    point: tuple[float, float] | None = None  # from a GIS layer's geometry, in WGS84
    outline: list[list[float]] | None = None  # a polygon's exterior ring, in WGS84
    part: int = 0  # which part of a multi-polygon (1, 2, …; 0 for a single one)


@dataclass(frozen=True)
class ImportResult:
    kind: str
    added: list[str]
    replaced: list[str]


def _key(header: Any) -> str:
    return re.sub(r"\s+", "", str(header)).lower()


def read_rows(path: Path, *, sheet: str | None = None, crs: str | None = None,
              parts: bool = False) -> list[Row]:
    """The rows of a CSV, Excel sheet or GIS layer; GIS geometry becomes a WGS84 point (and
    outline); with ``parts``, each part of a multi-polygon is a row of its own."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return list(_csv_rows(path))
    if suffix in (".xlsx", ".xlsm"):
        return list(_excel_rows(path, sheet))
    if suffix in GIS_SUFFIXES:
        return list(_gis_rows(path, sheet, crs, parts))
    raise ScenarioError(f"{path}: unknown file type; expected .csv, .xlsx, .geojson, .gpkg or "
                        ".shp")


def _csv_rows(path: Path) -> Iterator[Row]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte sequence
        raise ScenarioError(f"{path}: cannot decode as UTF-8 or GBK")
    reader = csv.DictReader(io.StringIO(text))
    for number, cells in enumerate(reader, start=2):
        if any(str(v or "").strip() for v in cells.values()):  # Excel/WPS pad with ",,,"
            yield Row(f"{path}: row {number}", dict(cells))


def _excel_rows(path: Path, sheet: str | None) -> Iterator[Row]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, data_only=True)  # the values Excel computed
        formulas = load_workbook(path)  # to tell a formula without a value from an empty cell
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise ScenarioError(f"{path}: cannot read as Excel ({exc})") from None
    if sheet is not None and sheet not in book.sheetnames:
        raise ScenarioError(f"{path}: sheet {sheet!r} not found; sheets: {book.sheetnames}")
    ws = book[sheet] if sheet is not None else book.worksheets[0]
    fs = formulas[ws.title]
    grid = [list(row) for row in ws.iter_rows(values_only=True)]
    for merged in ws.merged_cells.ranges:  # a merged 级别/乡镇 cell holds for all its rows
        top = grid[merged.min_row - 1][merged.min_col - 1]
        for r in range(merged.min_row, merged.max_row + 1):
            for c in range(merged.min_col, merged.max_col + 1):
                grid[r - 1][c - 1] = top
    header = [str(h).strip() if h is not None else "" for h in (grid[0] if grid else [])]
    for number, values in enumerate(grid[1:], start=2):
        if all(v is None or str(v).strip() == "" for v in values):
            continue
        where = f"{path}: sheet {ws.title!r}, row {number}"
        for col, value in enumerate(values, start=1):
            source = fs.cell(row=number, column=col).value
            if value is None and isinstance(source, str) and source.startswith("="):
                raise ScenarioError(f"{where}, column {header[col - 1]!r}: {source!r} — a "
                                    "formula without a computed value; open and save the "
                                    "workbook in Excel/WPS, or type the value")
        yield Row(where, dict(zip(header, values, strict=False)))


def _gis_rows(path: Path, layer: str | None, crs: str | None, parts: bool) -> Iterator[Row]:
    import geopandas as gpd

    try:
        frame = gpd.read_file(path, layer=layer) if layer else gpd.read_file(path)
    except Exception as exc:  # pyogrio raises DataSourceError, DataLayerError, …
        raise ScenarioError(f"{path}: cannot read as a GIS layer ({exc})") from None
    convert = None
    if crs is not None:
        convert = to_wgs84(crs)
    elif frame.crs is not None:
        frame = frame.to_crs("EPSG:4326")
    for number, (cells, geom) in enumerate(zip(frame.drop(columns="geometry").to_dict(
            orient="records"), frame.geometry, strict=True), start=1):
        where = f"{path}: feature {number}"
        if geom is None or geom.is_empty:
            yield Row(where, cells)
            continue
        pieces = list(getattr(geom, "geoms", [geom]))
        if not (parts and geom.geom_type == "MultiPolygon" and len(pieces) > 1):
            pieces, numbered = [geom], False
        else:
            numbered = True
        for k, piece in enumerate(pieces, start=1):
            inside = piece if piece.geom_type == "Point" else piece.representative_point()
            point = (float(inside.x), float(inside.y))
            outline = None
            if piece.geom_type in ("Polygon", "MultiPolygon"):
                ring = max(getattr(piece, "geoms", [piece]), key=lambda g: g.area).exterior
                outline = [[float(x), float(y)] for x, y in ring.coords[:-1]]
            if convert is not None:
                point = convert(*point)
                outline = [list(convert(x, y)) for x, y in outline] if outline else None
            yield Row(f"{where}, part {k}" if numbered else where, cells, point, outline,
                      k if numbered else 0)


# -- rows to scenario items --------------------------------------------------------------------


def _number(value: Any, where: str, column: str) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        raise ScenarioError(f"{where}, column {column!r}: {value!r} — expected a number")
    if isinstance(value, int | float):
        return value
    text = str(value).strip().replace(",", "").replace("，", "")
    if text == "":
        return None
    try:
        number = float(text)
    except ValueError:
        raise ScenarioError(f"{where}, column {column!r}: {value!r} — expected a number"
                            ) from None
    return int(number) if number.is_integer() else number


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _set(item: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for key in parents:
        item = item.setdefault(key, {})
    item[leaf] = value


NUMERIC = {"people", "onset_h", "urgency", "trucks.count", "trucks.capacity_kg",
           "trucks.load_h", "trucks.unload_h", "activation_delay_h", "no_show_prob",
           "capacity_people", "area_m2", "boats.count", "boats.speed_kmh",
           "boats.mobilisation_h", "lon", "lat", "osm_node"}
PRODUCTION = "产能(/h)"
"""Suffix of a depot's production column: ``<commodity>产能(/h)``."""
MOBILISATION = "出动时间(h)"
"""Suffix of a team base's mobilisation column: ``<team>出动时间(h)``."""


@dataclass(frozen=True)
class Vocabulary:
    """What a scenario calls its commodities and team types, by header key."""

    commodities: dict[str, str]
    teams: dict[str, str]

    @classmethod
    def of(cls, data: dict[str, Any]) -> Vocabulary:
        """From a scenario's raw YAML (it need not be complete or valid yet)."""
        commodities: dict[str, str] = {}
        for c in data.get("commodities") or []:
            if isinstance(c, dict) and c.get("id") is not None:
                commodities[_key(c["id"])] = str(c["id"])
                if c.get("name"):
                    commodities.setdefault(_key(c["name"]), str(c["id"]))
        teams = {_key(n.team): n.team for t in DEFAULT_INCIDENT_TYPES for n in t.needs}
        for t in data.get("incident_types") or []:
            for n in (t.get("needs") or []) if isinstance(t, dict) else []:
                if isinstance(n, dict) and n.get("team"):
                    teams[_key(n["team"])] = str(n["team"])
        teams.update({_key(k): v for k, v in TEAM_NAMES.items()})
        return cls(commodities, teams)


def to_item(kind: str, row: Row, words: Vocabulary, convert: Any
            ) -> tuple[dict[str, Any], dict[str, str]]:
    """One scenario item (a plain mapping) from a row, before validation, and the column each
    of its fields came from."""
    item: dict[str, Any] = {}
    columns: dict[str, str] = {}
    mobilisation: dict[str, float] = {}
    commodities, teams = words.commodities, words.teams
    ours = {*KINDS[kind].model_fields, "lon", "lat", "osm_node"}  # fields this kind has
    lonlat: dict[str, float] = {}
    for header, value in row.cells.items():
        key = _key(header)
        field = HEADERS.get(key)
        if kind == "depots" and field is None and key.endswith(_key(PRODUCTION)) and \
                key.removesuffix(_key(PRODUCTION)) in commodities:
            rate = _number(value, row.where, str(header))
            if rate is not None:
                c = commodities[key.removesuffix(_key(PRODUCTION))]
                item.setdefault("production_per_h", {})[c] = rate
                columns["production_per_h"] = str(header)
            continue
        if kind == "team_bases" and field is None and key.endswith(_key(MOBILISATION)) and \
                key.removesuffix(_key(MOBILISATION)) in teams:
            hours = _number(value, row.where, str(header))
            if hours is not None:
                mobilisation[teams[key.removesuffix(_key(MOBILISATION))]] = hours
            continue
        if kind == "depots" and field is None and key in commodities:
            qty = _number(value, row.where, str(header))
            if qty is not None:
                item.setdefault("stock", {})[commodities[key]] = qty
                columns["stock"] = columns[f"stock.{commodities[key]}"] = str(header)
            continue
        if kind == "team_bases" and field is None and key in teams:
            count = _number(value, row.where, str(header))
            if count:
                item.setdefault("teams", []).append({"type": teams[key], "count": count})
                columns[f"teams[{len(item['teams']) - 1}]"] = str(header)
            continue
        if field is None or field.split(".")[0] not in ours:
            continue  # other columns (notes, contacts, another kind's fields) are not ours
        columns[field] = str(header)
        if field in NUMERIC:
            number = _number(value, row.where, str(header))
            if number is None:
                continue
            if field in ("lon", "lat"):
                lonlat[field] = float(number)
            elif field == "osm_node":
                item["location"] = int(number)
            else:
                _set(item, field, number)
            continue
        text = _text(value)
        if text is None:
            continue
        if field == "tier":
            text = TIER_NAMES.get(text, text)
        elif field == "kind":
            text = KIND_NAMES.get(text, text)
        elif field == "sea":
            word = text.lower()
            if word not in TRUE_WORDS | FALSE_WORDS:
                raise ScenarioError(f"{row.where}, column {header!r}: {value!r} — expected "
                                    "是/否 or true/false")
            _set(item, field, word in TRUE_WORDS)
            continue
        _set(item, field, text)
    for group in item.get("teams", []):
        if group["type"] in mobilisation:
            group["mobilisation_h"] = mobilisation[group["type"]]
    if kind == "settlements" and row.outline is not None and "area" not in item \
            and item.get("name"):
        item["area"] = item["name"]  # a census unit's name is the settlement's area
        columns["area"] = columns.get("name", "name")
    if kind in AREAS:
        if row.outline is None:
            raise ScenarioError(f"{row.where}: no polygon — {kind} come from a polygon layer "
                                "(GeoJSON, GeoPackage, Shapefile)")
        item["polygon"] = row.outline
        columns["polygon"] = "geometry"
    elif "location" in item:
        columns["location"] = columns.get("osm_node", "osm_node")
    elif row.point is not None:
        item["location"] = list(row.point)
        columns["location"] = "geometry"
    elif "lon" in lonlat and "lat" in lonlat:
        item["location"] = list(convert(lonlat["lon"], lonlat["lat"]))
        columns["location"] = f"{columns.get('lon')}, {columns.get('lat')}"
    item.setdefault("id", item.get("name") or f"{kind[:-1]}_{row.where.rsplit(' ', 1)[-1]}")
    item["id"] = str(item["id"]) + (f"-{row.part}" if row.part else "")
    return item, columns


def _validated(kind: str, item: dict[str, Any], columns: dict[str, str], row: Row
               ) -> dict[str, Any]:
    """The item as the schema reads it; errors name the row and the column."""
    model = KINDS[kind]
    try:
        return model.model_validate(item).model_dump(mode="json", exclude_defaults=True)
    except ValidationError as exc:
        lines = []
        for line in format_validation_error(kind, exc, model).splitlines():
            _, path, rest = [*line.split(": ", 2), "", ""][:3]
            column = next((columns[p] for p in (path, path.split("[")[0], path.split(".")[0])
                           if p in columns), None)
            where = f"{row.where}, column {column!r}" if column else row.where
            lines.append(f"{where} ({kind}.{path}): {rest}")
        raise ScenarioError("\n".join(lines)) from None


# -- merging into the YAML ---------------------------------------------------------------------


def import_into(kind: str, source: Path, scenario_path: Path, *, sheet: str | None = None,
                crs: str | None = None, force: bool = False) -> ImportResult:
    """Read ``source`` as ``kind`` items and merge them into ``scenario_path`` (comments and
    order kept). A row matches an entry by id (or, without an id column, by its unique name):
    it fills in an entry that still needs review (a draft), and replaces any other only with
    ``force``; a row without a location updates the matched entry's other fields. All or
    nothing: every row and the merged whole are validated before the file is replaced."""
    from ruamel.yaml import YAML

    from sim.files import atomic_write_bytes

    if kind not in KINDS:
        raise ScenarioError(f"KIND: {kind!r} — expected one of {list(KINDS)}")
    try:
        canonical = check_crs(crs) if crs is not None else None
    except ValueError as exc:
        raise ScenarioError(f"--crs: {crs!r} — {exc}") from None
    raw = read_yaml(scenario_path)
    if not isinstance(raw, dict):
        raise ScenarioError(f"{scenario_path}: expected a mapping of scenario fields")
    if str(raw.get("crs", "wgs84")).strip().lower() not in ("wgs84", "epsg:4326"):
        raise ScenarioError(f"{scenario_path}: declares crs: {raw['crs']} for its hand-typed "
                            "locations, but imported locations are written in WGS84; import "
                            "into a WGS84 scenario (remove 'crs:' after converting) instead")
    rows = read_rows(source, sheet=sheet, crs=canonical, parts=kind in AREAS)
    if not rows:
        raise ScenarioError(f"{source}: no data rows")
    convert = to_wgs84(canonical or "wgs84")
    words = Vocabulary.of(raw)
    parsed = [(*to_item(kind, row, words, convert), row) for row in rows]
    yaml = YAML()  # round trip: comments, order and quoting survive
    yaml.preserve_quotes = True
    yaml.width = 100
    document = yaml.load(scenario_path.read_text(encoding="utf-8"))
    section = document.get(kind)
    if section is None:
        from ruamel.yaml.comments import CommentedSeq

        document[kind] = section = CommentedSeq()
    by_id = {entry.get("id"): i for i, entry in enumerate(section)}
    names = [entry.get("name") for entry in section]
    by_name = {n: i for i, n in enumerate(names) if n and names.count(n) == 1}
    added, replaced, seen = [], [], {}
    for item, columns, row in parsed:
        position = by_id.get(item["id"])
        if position is None and "id" not in columns and item.get("name") in by_name:
            position = by_name[item["name"]]  # a table keyed by name fills in a draft
            item["id"] = str(section[position].get("id"))
        if "location" not in item and kind not in AREAS:  # fills in an entry already there
            if position is None:
                raise ScenarioError(f"{row.where}: no location — expected longitude and "
                                    "latitude columns (经度, 纬度 or lon, lat), a geometry, or "
                                    f"the id or name of a {kind[:-1]} already in the scenario")
            existing = json.loads(json.dumps(section[position]))
            item = {**existing, **{k: v for k, v in item.items() if k != "id"}}
            item.pop("review", None)  # filled in
        item = _validated(kind, item, columns, row)
        if item["id"] in seen:
            raise ScenarioError(f"{row.where}: id {item['id']!r} repeats {seen[item['id']]}")
        seen[item["id"]] = row.where
        if position is None:
            section.append(flow_item(item))
            added.append(item["id"])
            continue
        if not (force or section[position].get("review")):
            raise ScenarioError(f"{scenario_path}: {kind} already has {item['id']!r} (from "
                                f"{row.where}); add --force to replace it")
        section[position] = flow_item(item)
        replaced.append(item["id"])
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    text = buffer.getvalue()
    parse_scenario(json.loads(json.dumps(YAML(typ="safe").load(text))), origin=str(scenario_path),
                   base_dir=scenario_path.parent)  # the merged whole must validate
    atomic_write_bytes(scenario_path, text.encode("utf-8"))
    return ImportResult(kind, added, replaced)


def flow_item(item: dict[str, Any]) -> Any:
    """An item as YAML writes it by hand: nested mappings and lists on one line."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    def inline(value: Any) -> Any:
        if isinstance(value, dict):
            mapping = CommentedMap((k, inline(v)) for k, v in value.items())
            mapping.fa.set_flow_style()
            return mapping
        if isinstance(value, list):
            seq = CommentedSeq(inline(v) for v in value)
            seq.fa.set_flow_style()
            return seq
        return value

    return CommentedMap((k, inline(v)) for k, v in item.items())
