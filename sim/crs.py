"""Coordinate systems planners' data comes in: WGS84 (GPS, OpenStreetMap), GCJ-02 (Amap, Tencent),
BD-09 (Baidu), CGCS2000 and any EPSG code, all converted to WGS84 ``[lon, lat]``.

GCJ-02 and BD-09 use ``prcoords`` (its iterative inverses, ≈ 0.1 mm); EPSG codes use pyproj.
A scenario or experiment file may say ``crs: gcj02`` for its hand-typed locations; they are
converted when the file is read, so everything after that is WGS84.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

__all__ = ["NAMED", "check_crs", "convert_document", "to_wgs84"]

NAMED = {"wgs84": "EPSG:4326", "gcj02": "gcj02", "bd09": "bd09", "cgcs2000": "EPSG:4490"}
"""Names accepted besides ``EPSG:<code>``."""

Converter = Callable[[float, float], tuple[float, float]]


def check_crs(name: Any) -> str:
    """The canonical form of a coordinate system name, or ValueError saying what is allowed."""
    expected = f"one of {', '.join(NAMED)} or EPSG:<code>"
    if not isinstance(name, str):
        raise ValueError(f"expected {expected}")
    key = name.strip().lower().replace("-", "").replace("_", "")
    if key in NAMED:
        return key
    if key.startswith("epsg:"):
        _pyproj(f"EPSG:{key[5:]}")  # raises ValueError when unknown
        return f"EPSG:{key[5:]}"
    hint = difflib.get_close_matches(key, list(NAMED), n=1)
    raise ValueError(f"expected {expected}" + (f"; did you mean '{hint[0]}'?" if hint else ""))


def to_wgs84(crs: str) -> Converter:
    """A function (x, y) → (lon, lat) in WGS84 for the canonical ``crs`` (x = lon or easting)."""
    if crs == "wgs84":
        return lambda x, y: (x, y)
    if crs in ("gcj02", "bd09"):
        import prcoords

        def convert(x: float, y: float) -> tuple[float, float]:
            point = prcoords.Coords(y, x)
            if crs == "bd09":
                point = prcoords.bd_gcj_bored(point)
            if prcoords.sanity_in_china_p(point):  # GCJ-02 shifts only inside China
                point = prcoords.gcj_wgs_bored(point)
            return float(point.lon), float(point.lat)

        return convert
    transformer = _pyproj(NAMED.get(crs, crs))
    return lambda x, y: tuple(map(float, transformer.transform(x, y)))  # type: ignore[return-value]


@cache
def _pyproj(code: str) -> Any:
    from pyproj import Transformer
    from pyproj.exceptions import CRSError

    try:
        return Transformer.from_crs(code, "EPSG:4326", always_xy=True)
    except CRSError:
        raise ValueError(f"unknown coordinate system {code!r}") from None


# Where hand-typed locations live in scenario and experiment files.
SCENARIO_POINTS = (
    *((field, "location") for field in ("depots", "team_bases", "water_stations", "helipads",
                                        "shelters", "settlements", "incidents")),
    ("generators", "near"), ("disruptions", "near"))
SCENARIO_LISTS = (("generators", "points"), ("disruptions", "polygon"), ("hazard_zones", "polygon"))


def _pairs(document: dict[str, Any]) -> Iterator[tuple[list[Any], Any]]:
    """(container, key) of every [x, y] pair a scenario or experiment document holds."""
    def items(field: str) -> list[Any]:
        value = document.get(field)
        return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []

    for field, key in SCENARIO_POINTS:
        for item in items(field):
            yield item, key  # type: ignore[misc]
    for field, key in SCENARIO_LISTS:
        for item in items(field):
            if isinstance(item.get(key), list):
                item[key] = list(item[key])  # its own list: a YAML alias may share one
                yield from ((item[key], i) for i in range(len(item[key])))  # type: ignore[misc]
    for placement in items("placements"):
        for depot in placement.get("add") or []:
            if isinstance(depot, dict):
                yield depot, "location"  # type: ignore[misc]
        if isinstance(placement.get("move"), dict):
            yield from ((placement["move"], k) for k in placement["move"])  # type: ignore[misc]
    optimize = document.get("optimize")
    if isinstance(optimize, dict):
        if isinstance(optimize.get("new_depot"), dict):
            yield optimize["new_depot"], "location"  # type: ignore[misc]
        for candidate in optimize.get("candidates") or []:
            if isinstance(candidate, dict):
                yield candidate, "location"  # type: ignore[misc]


def convert_document(document: dict[str, Any], crs: str) -> dict[str, Any]:
    """A copy of a scenario or experiment document with every ``[x, y]`` pair in ``crs``
    converted to WGS84 ``[lon, lat]`` (OSM node ids and malformed values are left for the
    validation to judge)."""
    import copy

    converted = copy.deepcopy(document)
    convert = to_wgs84(crs)
    for container, key in _pairs(converted):
        try:
            value = container[key]
        except (KeyError, IndexError, TypeError):
            continue
        if (isinstance(value, list) and len(value) == 2
                and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)):
            container[key] = list(convert(float(value[0]), float(value[1])))
    return converted
