"""Reading OpenStreetMap: which ways a network keeps, their speeds and directions.

The tag rules (drivable, walkable, navigable classes; access; one-way; ``maxspeed``) and the
readers of OSM XML (streamed, also compressed) and ``.osm.pbf`` (pyrosm) into node
coordinates and the ways a network of one ``kind`` keeps (:class:`_RawOSM`), which
:mod:`sim.network_prep` turns into a network. The rules are set out in :mod:`sim.network`.
"""

from __future__ import annotations

import contextlib
import json
import lzma
import math
import re
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import NetworkError

__all__ = ["DEFAULT_BOAT_SPEEDS_KMH", "DEFAULT_SPEEDS_KMH", "DRIVABLE_HIGHWAYS",
           "PEDESTRIAN_WAYS", "WALKWAYS", "WATERWAYS", "parse_maxspeed_kmh"]

#: Chinese default speeds (km/h) by ``highway`` class, used when ``maxspeed`` is missing.
DEFAULT_SPEEDS_KMH: dict[str, float] = {
    "motorway": 100.0,
    "trunk": 80.0,
    "primary": 60.0,
    "secondary": 50.0,
    "tertiary": 40.0,
    "unclassified": 30.0,
    "residential": 25.0,
    "living_street": 10.0,
    "service": 15.0,
    "road": 30.0,
    "motorway_link": 60.0,
    "trunk_link": 50.0,
    "primary_link": 40.0,
    "secondary_link": 35.0,
    "tertiary_link": 30.0,
}

#: Default boat speeds (km/h) by ``waterway`` class.
DEFAULT_BOAT_SPEEDS_KMH: dict[str, float] = {"river": 30.0, "canal": 20.0}

DRIVABLE_HIGHWAYS = frozenset(DEFAULT_SPEEDS_KMH)
WATERWAYS = frozenset(DEFAULT_BOAT_SPEEDS_KMH)
PEDESTRIAN_WAYS = frozenset({"footway", "path", "pedestrian", "steps", "track", "cycleway",
                             "corridor", "bridleway"})
"""Walkable classes that no car uses: the ways a walking network has beyond the roads."""
WALKWAYS = PEDESTRIAN_WAYS | frozenset({
    "living_street", "residential", "service", "unclassified", "road", "tertiary",
    "tertiary_link", "secondary", "secondary_link", "primary", "primary_link"})
"""Classes a person may walk (``kind="walk"``); ``trunk``/``trunk_link`` only with an
explicit ``foot`` permission (:data:`_FOOT_OPEN`), motorways never."""
_FOOT_ONLY_IF_TAGGED = frozenset({"trunk", "trunk_link"})

COMPRESSED = {".xz": "lzma", ".gz": "gzip", ".bz2": "bz2"}
"""Compressed OSM XML (``.osm.xz``, ``.osm.gz``, ``.osm.bz2``) is read as it streams."""
_ONEWAY_FORWARD = frozenset({"yes", "true", "1"})
_ONEWAY_BACKWARD = frozenset({"-1", "reverse"})
_ONEWAY_TWO_WAY = frozenset({"no", "false", "0", "reversible", "alternating"})
_CLOSED_ACCESS = frozenset({"no", "private"})
_FOOT_OPEN = frozenset({"yes", "designated", "permissive"})
_ACCESS_KEYS = ("motorcar", "motor_vehicle", "vehicle", "access")
_EXCLUDED_SERVICE = frozenset({"parking", "parking_aisle", "driveway", "private"})
_MPH_TO_KMH = 1.609344
_KNOT_TO_KMH = 1.852



def _open_xml(path: Path) -> Any:
    """A binary stream of an OSM XML file, decompressed when its name says so."""
    module = COMPRESSED.get(path.suffix.lower())
    if module is None:
        return path.open("rb")
    import importlib

    return importlib.import_module(module).open(path, "rb")

# --------------------------------------------------------------------------- speeds


def parse_maxspeed_kmh(value: Any) -> float | None:
    """Parse an OSM ``maxspeed`` value to km/h, or ``None`` when it gives no number.

    Handles ``"50"``, ``"50 km/h"``, ``"30 mph"``, ``"10 knots"``, lists (``"50;60"`` or a
    Python list → the minimum) and symbolic values (``"CN:urban"``, ``"none"``, ``"walk"``
    → ``None``, so the class default applies).
    """
    if value is None:
        return None
    if isinstance(value, (list, tuple, set)):
        parts = [parse_maxspeed_kmh(v) for v in value]
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        parts = [float(value)] if math.isfinite(value) else []
    else:
        parts = []
        for raw in re.split(r"[;|,]", str(value)):
            match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(km/h|kmh|kph|mph|knots?)?\s*", raw)
            if match is None:
                continue
            speed = float(match.group(1))
            unit = match.group(2) or ""
            if unit == "mph":
                speed *= _MPH_TO_KMH
            elif unit.startswith("knot"):
                speed *= _KNOT_TO_KMH
            parts.append(speed)
    valid = [p for p in parts if p is not None and p > 0]
    return min(valid) if valid else None


def _default_speeds(kind: str) -> dict[str, float]:
    if kind == "walk":
        from sim.walking import WALK_KMH

        return dict.fromkeys(sorted(WALKWAYS | _FOOT_ONLY_IF_TAGGED), WALK_KMH)
    return dict(DEFAULT_SPEEDS_KMH if kind == "road" else DEFAULT_BOAT_SPEEDS_KMH)


def _merged_speeds(kind: str, speeds_kmh: Mapping[str, float] | None) -> dict[str, float]:
    base = _default_speeds(kind)
    for cls, kmh in (speeds_kmh or {}).items():
        try:
            value = float(kmh)
        except (TypeError, ValueError):
            value = float("nan")
        if not (math.isfinite(value) and value > 0):
            raise NetworkError(f"speeds_kmh[{cls!r}]: must be a positive number, got {kmh!r}")
        base[str(cls)] = value
    return base


# --------------------------------------------------------------------------- tag filters


def _first(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return value[0] if value else None
    return value


def _as_str(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value).strip().lower()


def _classes(value: Any) -> list[str]:
    values = value if isinstance(value, (list, tuple)) else [value]
    return [s for s in (_as_str(v) for v in values) if s]


def _road_class(tags: Mapping[str, Any]) -> str | None:
    """The drivable highway class of a way/edge, or ``None`` when not drivable."""
    if _as_str(_first(tags.get("area"))) == "yes":
        return None
    cls = next((c for c in _classes(tags.get("highway")) if c in DRIVABLE_HIGHWAYS), None)
    if cls is None:
        return None
    for key in _ACCESS_KEYS:
        value = _as_str(_first(tags.get(key)))
        if value is not None:
            if set(value.split(";")) & _CLOSED_ACCESS:
                return None
            break
    if cls == "service" and _as_str(_first(tags.get("service"))) in _EXCLUDED_SERVICE:
        return None
    return cls


def _walk_class(tags: Mapping[str, Any]) -> str | None:
    """The walkable highway class of a way/edge, or ``None`` (see the module docstring)."""
    if _as_str(_first(tags.get("area"))) == "yes":
        return None
    classes = _classes(tags.get("highway"))
    foot = _as_str(_first(tags.get("foot")))
    foot_values = set(foot.split(";")) if foot is not None else set()
    if foot_values & _CLOSED_ACCESS:
        return None
    foot_open = bool(foot_values & _FOOT_OPEN)
    cls = next((c for c in classes if c in WALKWAYS
                or (foot_open and c in _FOOT_ONLY_IF_TAGGED)), None)
    if cls is None:
        return None
    access = _as_str(_first(tags.get("access")))
    if not foot_open and access is not None and set(access.split(";")) & _CLOSED_ACCESS:
        return None
    return cls


def _water_class(tags: Mapping[str, Any]) -> str | None:
    return next((c for c in _classes(tags.get("waterway")) if c in WATERWAYS), None)


def _direction(tags: Mapping[str, Any]) -> int:
    """+1 one-way forward, -1 one-way backward, 0 two-way (see module docstring)."""
    oneway = _as_str(_first(tags.get("oneway")))
    if isinstance(tags.get("oneway"), bool):
        return 1 if tags["oneway"] else 0
    if oneway in _ONEWAY_FORWARD:
        return 1
    if oneway in _ONEWAY_BACKWARD:
        return -1
    if oneway in _ONEWAY_TWO_WAY:
        return 0
    if _as_str(_first(tags.get("junction"))) in {"roundabout", "circular"}:
        return 1
    return 0


# --------------------------------------------------------------------------- raw readers


@dataclass
class _RawOSM:
    coords: dict[int, tuple[float, float]] = field(default_factory=dict)
    ways: list[tuple[int, list[int], dict[str, str]]] = field(default_factory=list)


def _way_class(tags: Mapping[str, Any], kind: str) -> str | None:
    if kind == "walk":
        return _walk_class(tags)
    return _road_class(tags) if kind == "road" else _water_class(tags)


def _read_osm_xml(path: Path, kind: str) -> _RawOSM:
    """Stream an OSM XML file, keeping node coordinates and the ways relevant to ``kind``."""
    raw = _RawOSM()
    root_seen = False
    stream = None
    try:
        stream = _open_xml(path)
        context = ET.iterparse(stream, events=("start", "end"))
        for event, elem in context:
            if event == "start":
                if not root_seen:
                    root_seen = True
                    if elem.tag != "osm":
                        raise NetworkError(
                            f"{path}: not an OSM XML file (root element <{elem.tag}>, "
                            "expected <osm>)"
                        )
                continue
            tag = elem.tag
            if tag == "node":
                # a node without coordinates (e.g. a deleted one in a diff) is skipped
                with contextlib.suppress(ValueError):
                    raw.coords[int(elem.get("id", ""))] = (
                        float(elem.get("lon", "")),
                        float(elem.get("lat", "")),
                    )
                elem.clear()
            elif tag == "way":
                tags = {t.get("k", ""): t.get("v", "") for t in elem.iter("tag")}
                if _way_class(tags, kind) is not None:
                    refs = [int(nd.get("ref", "0")) for nd in elem.iter("nd")]
                    raw.ways.append((int(elem.get("id", "0")), refs, tags))
                elem.clear()
            elif tag == "relation":
                elem.clear()
    except ET.ParseError as exc:
        raise NetworkError(f"{path}: malformed or non-OSM XML ({exc})") from None
    except (OSError, ValueError, EOFError, lzma.LZMAError) as exc:
        if isinstance(exc, NetworkError):
            raise
        raise NetworkError(f"{path}: cannot read OSM XML ({exc})") from None
    finally:
        if stream is not None:
            stream.close()
    if not root_seen:
        raise NetworkError(f"{path}: empty file, not OSM XML")
    return raw


def _pyrosm(path: Path) -> Any:
    import pyrosm

    try:
        return pyrosm.OSM(str(path), keep_node_info=True, progress=False)
    except Exception as exc:
        raise NetworkError(f"{path}: cannot read OSM PBF ({exc})") from None


def _pbf_tags(row: Mapping[str, Any], columns: Iterable[str]) -> dict[str, Any]:
    tags: dict[str, Any] = {}
    extra = row.get("tags")
    if isinstance(extra, str) and extra:
        with contextlib.suppress(ValueError):
            tags.update(json.loads(extra))
    elif isinstance(extra, dict):
        tags.update(extra)
    skip = {"tags", "geometry", "nodes", "u", "v", "id", "length", "osm_type", "timestamp",
            "version", "visible", "changeset"}
    for col in columns:
        if col in skip:
            continue
        value = row.get(col)
        if value is not None and not (isinstance(value, float) and math.isnan(value)):
            tags[col] = value
    return tags


def _read_pbf(path: Path, kind: str) -> _RawOSM:
    """Read a ``.osm.pbf`` with pyrosm into node coordinates and ways."""
    osm = _pyrosm(path)
    raw = _RawOSM()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if kind in ("road", "walk"):  # walk: every way, filtered as OSM XML is
                result = osm.get_network(
                    network_type="driving+service" if kind == "road" else "all", nodes=True)
                nodes, edges = result if result is not None else (None, None)
            else:
                edges = osm.get_data_by_custom_criteria(
                    custom_filter={"waterway": sorted(WATERWAYS)},
                    keep_nodes=False,
                    keep_relations=False,
                )
                nodes = None
    except NetworkError:
        raise
    except Exception as exc:
        raise NetworkError(f"{path}: cannot read OSM PBF ({exc})") from None
    if edges is None or len(edges) == 0:
        return raw
    columns = list(edges.columns)
    if kind in ("road", "walk"):
        raw.coords.update(
            zip(nodes["id"].astype(np.int64).tolist(),
                zip(nodes["lon"].tolist(), nodes["lat"].tolist(), strict=True),
                strict=True)
        )
        for row in edges.to_dict("records"):
            raw.ways.append((int(row["id"]), [int(row["u"]), int(row["v"])],
                             _pbf_tags(row, columns)))
        return raw
    # water: node ids from the way's node list, coordinates from its geometry; where the
    # extract clipped a way (fewer coordinates than ids) reuse known ids by coordinate.
    by_coord: dict[tuple[float, float], int] = {}
    pending = []
    for row in edges.to_dict("records"):
        geom = row.get("geometry")
        if geom is None or geom.geom_type != "LineString":
            continue
        coords = [(float(x), float(y)) for x, y in geom.coords]
        ids = [int(n) for n in (row.get("nodes") or [])]
        if len(ids) == len(coords):
            raw.coords.update(zip(ids, coords, strict=True))
            by_coord.update(zip(coords, ids, strict=True))
            raw.ways.append((int(row["id"]), ids, _pbf_tags(row, columns)))
        else:
            pending.append((int(row["id"]), coords, _pbf_tags(row, columns)))
    synthetic = -1
    for way_id, coords, tags in pending:
        ids = []
        for c in coords:
            if c not in by_coord:
                by_coord[c] = synthetic
                raw.coords[synthetic] = c
                synthetic -= 1
            ids.append(by_coord[c])
        raw.ways.append((way_id, ids, tags))
    return raw
