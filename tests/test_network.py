"""Loading and preparing networks: filters, speeds, components, cache, errors, selectors."""

from __future__ import annotations

import math
import pickle
import re
import xml.etree.ElementTree as ET

import networkx as nx
import numpy as np
import pytest
import requests

from sim.errors import NetworkError, OfflineError
from sim.network import (
    cache_path_for,
    edges_by_osmid,
    edges_in_polygon,
    edges_near,
    edges_of_class,
    load_network,
    lonlat_inside,
    snap,
)
from sim.osm import (
    DEFAULT_BOAT_SPEEDS_KMH,
    DEFAULT_SPEEDS_KMH,
    DRIVABLE_HIGHWAYS,
    parse_maxspeed_kmh,
)

REAL = ["nanjing_xuanwu", "wuhan_optics_valley", "helsinki"]

# A tiny synthetic extract: a directed ring 1→2→3→4→1 (+ 1→4) with every direction rule.
NODES = {
    1: (118.000, 32.000), 2: (118.001, 32.000), 3: (118.001, 32.001), 4: (118.000, 32.001),
    5: (117.999, 32.000), 6: (118.000, 31.999), 7: (118.002, 32.002), 8: (118.003, 32.002),
    9: (118.003, 32.003), 11: (117.999, 31.999),
}
WAYS = [
    (10, [1, 2], {"highway": "primary", "oneway": "yes", "maxspeed": "30 mph"}),
    (11, [2, 3], {"highway": "secondary", "junction": "roundabout"}),
    (12, [4, 3], {"highway": "tertiary", "oneway": "-1"}),
    (13, [4, 1], {"highway": "residential", "oneway": "no", "name": "中山路"}),
    (14, [1, 5], {"highway": "residential", "access": "private"}),
    (15, [2, 5], {"waterway": "river", "name": "秦淮河"}),
    (16, [6, 1], {"highway": "living_street", "oneway": "yes"}),
    (17, [7, 8, 9, 7], {"building": "yes"}),
    (18, [3, 5], {"highway": "footway"}),
    (19, [1, 3], {"highway": "service", "area": "yes"}),
    (20, [5, 11], {"waterway": "canal"}),
]


@pytest.fixture
def ring(write_osm, tmp_path):
    path = write_osm(NODES, WAYS)
    return load_network(path, cache_dir=tmp_path / "cache")


# --------------------------------------------------------------------------- synthetic


def test_direction_and_filter_rules(ring):
    g = ring.graph
    pairs = {(u, v) for u, v in g.edges()}
    assert pairs == {(1, 2), (2, 3), (3, 4), (4, 1), (1, 4)}
    assert set(g.nodes) == {1, 2, 3, 4}
    assert ring.report.dropped_nodes == 1  # node 6: one-way in only
    assert ring.report.dropped_components == 1
    assert g[4][1][0]["name"] == "中山路"
    assert g.nodes[1]["x"] == pytest.approx(118.0) and g.nodes[1]["y"] == pytest.approx(32.0)


def test_speeds_and_times_synthetic(ring):
    g = ring.graph
    assert g[1][2][0]["speed_kph"] == pytest.approx(30 * 1.609344)
    assert g[2][3][0]["speed_kph"] == pytest.approx(DEFAULT_SPEEDS_KMH["secondary"])
    assert g[3][4][0]["speed_kph"] == pytest.approx(DEFAULT_SPEEDS_KMH["tertiary"])
    for _, _, d in g.edges(data=True):
        assert d["travel_time"] == pytest.approx(d["length"] / (d["speed_kph"] / 3.6))
    assert ring.report.maxspeed_share == pytest.approx(1 / 5)
    speeds = {row.highway: row for row in ring.report.speeds}
    assert speeds["residential"].edges == 2 and speeds["primary"].maxspeed_share == 1.0


def test_speed_overrides_merge(write_osm, tmp_path):
    path = write_osm(NODES, WAYS)
    net = load_network(path, cache_dir=tmp_path / "c", speeds_kmh={"secondary": 20})
    assert net.graph[2][3][0]["speed_kph"] == pytest.approx(20)
    assert net.graph[3][4][0]["speed_kph"] == pytest.approx(DEFAULT_SPEEDS_KMH["tertiary"])
    with pytest.raises(NetworkError, match="secondary"):
        load_network(path, cache_dir=tmp_path / "c", speeds_kmh={"secondary": -5})


def test_water_graph_synthetic(write_osm, tmp_path):
    path = write_osm(NODES, WAYS)
    water = load_network(path, kind="water", cache_dir=tmp_path / "c", speeds_kmh={"canal": 10})
    g = water.graph
    assert set(g.nodes) == {2, 5, 11}
    assert {(u, v) for u, v in g.edges()} == {(2, 5), (5, 2), (5, 11), (11, 5)}
    assert g[2][5][0]["speed_kph"] == pytest.approx(DEFAULT_BOAT_SPEEDS_KMH["river"])
    assert g[5][11][0]["speed_kph"] == pytest.approx(10)
    assert sorted(set(water.edge_highway.tolist())) == ["canal", "river"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("50", 50.0), ("50 km/h", 50.0), ("30 mph", 30 * 1.609344), ("60;80", 60.0),
     (["70", "50"], 50.0), ("CN:urban", None), ("none", None), ("signals", None), (None, None),
     ("10 knots", 18.52), (40, 40.0), ("0", None)],
)
def test_parse_maxspeed(value, expected):
    result = parse_maxspeed_kmh(value)
    assert result == (pytest.approx(expected) if expected is not None else None)


# --------------------------------------------------------------------------- real data


@pytest.mark.parametrize("name", REAL)
def test_real_network_structure(load_test_network, name):
    net = load_test_network(name)
    g, rep = net.graph, net.report
    assert isinstance(g, nx.MultiDiGraph)
    assert nx.is_strongly_connected(g)
    assert rep.n_nodes == len(g) == net.node_ids.size == net.lon.size == net.lat.size
    assert rep.n_edges == g.number_of_edges() == net.edge_u.size
    assert rep.dropped_nodes > 0 and rep.dropped_components > 0
    assert np.all(np.diff(net.node_ids) > 0) and net.node_ids.dtype == np.int64
    for _, _, d in g.edges(data=True):
        assert d["highway"] in DRIVABLE_HIGHWAYS
        assert "waterway" not in d and "building" not in d
        assert d["travel_time"] == pytest.approx(d["length"] / (d["speed_kph"] / 3.6))
    # arrays mirror the graph
    for i in range(net.n_edges):
        d = net.edge_data(i)
        assert d["length"] == pytest.approx(net.edge_length_m[i])
        assert d["travel_time"] / 3600 == pytest.approx(net.edge_time_h[i])
        assert d["highway"] == net.edge_highway[i]
    assert np.all(net.edge_time_h >= 0) and np.all(np.isfinite(net.edge_time_h))
    assert sum(s.edges for s in rep.speeds) == rep.n_edges
    assert sum(s.km for s in rep.speeds) == pytest.approx(rep.total_km, rel=1e-3)


@pytest.mark.parametrize("name", ["nanjing_xuanwu", "wuhan_optics_valley"])
def test_chinese_data_speeds_fall_back_to_defaults(load_test_network, name):
    net = load_test_network(name)
    assert net.report.maxspeed_share < 0.05  # Chinese OSM: few maxspeed tags
    no_max = [d for _, _, d in net.graph.edges(data=True) if "maxspeed" not in d]
    assert len(no_max) > 0.9 * net.n_edges
    for d in no_max:
        assert d["speed_kph"] == pytest.approx(DEFAULT_SPEEDS_KMH[d["highway"]])


def test_nanjing_only_highway_ways(load_test_network, shared_data):
    net = load_test_network("nanjing_xuanwu")
    drivable, other = set(), set()
    for way in ET.parse(shared_data / "osm" / "nanjing_xuanwu.osm").getroot().iter("way"):
        tags = {t.get("k"): t.get("v") for t in way.iter("tag")}
        (drivable if tags.get("highway") in DRIVABLE_HIGHWAYS else other).add(int(way.get("id")))
    used = {int(i) for i in np.unique(net._edge_osmids[1])}
    assert used <= drivable
    assert not used & other


@pytest.mark.parametrize(
    ("name", "lon", "lat"),
    [("nanjing_xuanwu", (118.7, 118.9), (32.0, 32.1)),
     ("wuhan_optics_valley", (114.4, 114.6), (30.4, 30.55)),
     ("helsinki", (24.9, 25.0), (60.1, 60.2))],
)
def test_bbox(load_test_network, name, lon, lat):
    west, south, east, north = load_test_network(name).report.bbox
    assert lon[0] <= west < east <= lon[1]
    assert lat[0] <= south < north <= lat[1]


def test_nanjing_water(load_test_network):
    water = load_test_network("nanjing_xuanwu", kind="water")
    assert water.report.kind == "water" and water.n_edges > 0
    for u, v, d in water.graph.edges(data=True):
        assert d["waterway"] in {"river", "canal"}
        assert water.graph.has_edge(v, u)
    assert np.all(np.isfinite(water.edge_time_h)) and np.all(water.edge_time_h > 0)


def test_helsinki_has_no_waterways(tmp_path):
    with pytest.raises(NetworkError, match=re.escape("no waterway=river|canal")):
        load_network("builtin:helsinki", kind="water", cache_dir=tmp_path)


# --------------------------------------------------------------------------- cache


def test_cache_miss_then_hit(write_osm, tmp_path):
    path = write_osm(NODES, WAYS)
    cache = tmp_path / "cache"
    first = load_network(path, cache_dir=cache)
    assert not first.report.cache_hit
    assert cache_path_for(path, cache_dir=cache).is_file()
    second = load_network(path, cache_dir=cache)
    assert second.report.cache_hit
    assert second.key == first.key
    for attr in ("node_ids", "lon", "lat", "edge_u", "edge_v", "edge_key", "edge_length_m",
                 "edge_time_h", "edge_highway"):
        np.testing.assert_array_equal(getattr(first, attr), getattr(second, attr))
    other = cache_path_for(path, cache_dir=cache, speeds_kmh={"primary": 70})
    assert other != cache_path_for(path, cache_dir=cache)
    third = load_network(path, cache_dir=cache, speeds_kmh={"primary": 70})
    assert not third.report.cache_hit and third.key != first.key
    assert not list(cache.glob("*.tmp"))


def test_cache_corrupt_file_is_rebuilt(write_osm, tmp_path):
    path = write_osm(NODES, WAYS)
    cache_file = cache_path_for(path, cache_dir=tmp_path)
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    cache_file.write_bytes(b"not a cache file")
    net = load_network(path, cache_dir=tmp_path)
    assert not net.report.cache_hit
    rebuilt = load_network(path, cache_dir=tmp_path)
    assert rebuilt.report.cache_hit
    assert np.array_equal(rebuilt.node_ids, net.node_ids) and rebuilt.key == net.key


def test_cache_holds_arrays_and_rebuilds_the_same_graph(write_osm, tmp_path):
    """The cache stores arrays (an uncompressed .npz, memory-mapped when read), no pickled
    graph; the graph a cache hit builds on demand equals the one preparation made, attribute
    for attribute and in the same order; the geometry helpers agree without it."""
    path = write_osm(NODES, WAYS)
    first = load_network(path, cache_dir=tmp_path)
    cache_file = cache_path_for(path, cache_dir=tmp_path)
    assert cache_file.suffix == ".npz"
    with np.load(cache_file, allow_pickle=False) as npz:  # no object arrays in it
        assert {"node_ids", "edge_u", "edge_time_h", "edge_highway"} <= set(npz.files)
    second = load_network(path, cache_dir=tmp_path)
    assert second.report.cache_hit and second.extras is not None
    assert second.extras.graph is None  # not built until asked for
    assert not second.node_ids.flags.writeable
    g1, g2 = first.graph, second.graph
    assert g2.graph == g1.graph
    assert list(g2.nodes(data=True)) == list(g1.nodes(data=True))
    e1, e2 = list(g1.edges(keys=True, data=True)), list(g2.edges(keys=True, data=True))
    assert [e[:3] for e in e2] == [e[:3] for e in e1]
    for (*_, d1), (*_, d2) in zip(e1, e2, strict=True):
        assert list(d2) == list(d1) and d2 == d1
    for a, b in zip(first._edge_osmids, second._edge_osmids, strict=True):
        np.testing.assert_array_equal(a, b)
    assert all(a.equals_exact(b, 0) for a, b in zip(first._edge_lines_m, second._edge_lines_m,
                                                       strict=True))
    again = pickle.loads(pickle.dumps(second))  # a cached network still pickles (workers)
    assert again.graph.number_of_edges() == g1.number_of_edges()


def test_old_pickled_cache_is_ignored(write_osm, tmp_path):
    path = write_osm(NODES, WAYS)
    net = load_network(path, cache_dir=tmp_path)
    stale = cache_path_for(path, cache_dir=tmp_path).with_suffix(".pkl")
    stale.write_bytes(pickle.dumps(net))
    assert load_network(path, cache_dir=tmp_path).report.cache_hit  # the .npz, not the .pkl


def test_cache_key_follows_content(write_osm, tmp_path):
    path = write_osm(NODES, WAYS)
    before = cache_path_for(path, cache_dir=tmp_path)
    write_osm(NODES, [*WAYS[:-1], (21, [3, 1], {"highway": "primary"})])
    assert cache_path_for(path, cache_dir=tmp_path) != before


# --------------------------------------------------------------------------- bad input


def test_missing_file(tmp_path):
    missing = tmp_path / "nowhere.osm"
    with pytest.raises(NetworkError, match="not found") as err:
        load_network(missing, cache_dir=tmp_path)
    assert str(missing) in str(err.value)


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [("notes.osm", "just some text\n", "malformed or non-OSM XML"),
     ("broken.osm", '<?xml version="1.0"?>\n<osm version="0.6"><node id="1" lat="3', "malformed"),
     ("page.osm.xml", "<html><body>hi</body></html>", "not an OSM XML file"),
     ("empty.osm", "", "empty file|malformed"),
     ("notes.txt", "hello", "unknown network file type"),
     ("fake.osm.pbf", "hello world\n", "cannot read OSM PBF"),
     ("fake.graphml", "hello", "cannot read GraphML")],
)
def test_bad_files(tmp_path, name, content, match):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(NetworkError, match=match) as err:
        load_network(path, cache_dir=tmp_path / "cache")
    assert str(path) in str(err.value)


def test_no_drivable_roads(write_osm, tmp_path):
    path = write_osm(NODES, [w for w in WAYS if "highway" not in w[2]])
    with pytest.raises(NetworkError, match="no drivable highway ways") as err:
        load_network(path, cache_dir=tmp_path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    ("source", "match"),
    [("builtin:atlantis", "unknown builtin"), ("bbox:1,2,3", "bbox:west,south,east,north"),
     ("bbox:10,5,9,6", "west < east"), ("place:  ", "empty place")],
)
def test_bad_source_strings(tmp_path, source, match):
    with pytest.raises(NetworkError, match=match):
        load_network(source, cache_dir=tmp_path)


def test_bad_kind(tmp_path):
    with pytest.raises(NetworkError, match="kind"):
        load_network("builtin:helsinki", kind="rail", cache_dir=tmp_path)  # type: ignore[arg-type]


def test_download_offline_raises_offline_error(monkeypatch, tmp_path):
    import osmnx as ox

    def offline(*args, **kwargs):
        raise requests.exceptions.ConnectionError("Failed to resolve 'nominatim'")

    monkeypatch.setattr(ox, "graph_from_place", offline)
    monkeypatch.setattr(ox, "graph_from_bbox", offline)
    for source in ("place:开平市, 江门市, 广东省, 中国", "bbox:112.5,22.2,112.8,22.5"):
        with pytest.raises(OfflineError) as err:
            load_network(source, cache_dir=tmp_path)
        msg = str(err.value)
        assert "internet" in msg and ".osm.pbf" in msg and source.split(":")[1][:3] in msg


def test_download_is_cached_as_graphml(monkeypatch, write_osm, tmp_path):
    import osmnx as ox

    raw = ox.graph_from_xml(write_osm(NODES, WAYS), simplify=False, retain_all=True)
    calls = []

    def fake_bbox(bbox, **kwargs):
        calls.append(bbox)
        return raw

    monkeypatch.setattr(ox, "graph_from_bbox", fake_bbox)
    source = "bbox:117.99,31.99,118.01,32.01"
    net = load_network(source, cache_dir=tmp_path)
    assert calls == [(117.99, 31.99, 118.01, 32.01)]
    assert {(u, v) for u, v in net.graph.edges()} >= {(1, 2), (2, 3), (4, 1)}
    assert list(tmp_path.glob("raw-road-*.graphml"))

    def offline(*args, **kwargs):
        raise requests.exceptions.ConnectionError("offline")

    monkeypatch.setattr(ox, "graph_from_bbox", offline)
    again = load_network(source, cache_dir=tmp_path, speeds_kmh={"primary": 90})  # cache miss
    assert not again.report.cache_hit and again.n_edges == net.n_edges


def test_graphml_source(load_test_network, tmp_path):
    import osmnx as ox

    net = load_test_network("wuhan_optics_valley")
    path = tmp_path / "wuhan.graphml"
    ox.save_graphml(net.graph, path)
    again = load_network(path, cache_dir=tmp_path / "cache")
    assert again.n_nodes == net.n_nodes and again.n_edges == net.n_edges
    np.testing.assert_allclose(np.sort(again.edge_time_h), np.sort(net.edge_time_h))


# --------------------------------------------------------------------------- spatial helpers


def test_snap_and_inside(load_test_network):
    net = load_test_network("nanjing_xuanwu")
    idx = np.arange(0, net.n_nodes, 7)
    got, dist = snap(net, np.column_stack([net.lon[idx], net.lat[idx]]))
    np.testing.assert_array_equal(got, idx)
    assert np.all(dist < 1e-6)
    # a point 50 m north of a node snaps to something at most 50 m away (brute force check)
    p = np.array([[net.lon[0], net.lat[0] + 50 / 111_195.0]])
    node, d = snap(net, p)
    brute = [math.hypot((net.lon[i] - p[0, 0]) * 111_195 * math.cos(math.radians(32.04)),
                        (net.lat[i] - p[0, 1]) * 111_195) for i in range(net.n_nodes)]
    assert d[0] <= 50.5 and d[0] == pytest.approx(min(brute), rel=1e-2, abs=0.5)
    assert node[0] == int(np.argmin(brute))
    west, south, east, north = net.report.bbox
    pts = [[(west + east) / 2, (south + north) / 2], [west - 0.005, south], [west - 0.5, south]]
    np.testing.assert_array_equal(lonlat_inside(net, pts, margin_m=1000), [True, True, False])
    np.testing.assert_array_equal(lonlat_inside(net, pts, margin_m=0), [True, False, False])


def test_edge_selectors(load_test_network):
    net = load_test_network("nanjing_xuanwu")
    prim = edges_of_class(net, ["primary", "primary_link"])
    assert prim.size > 0 and set(net.edge_highway[prim]) <= {"primary", "primary_link"}
    np.testing.assert_array_equal(edges_of_class(net, "primary"),
                                  np.flatnonzero(net.edge_highway == "primary"))
    osmid = net.edge_data(int(prim[0]))["osmid"]
    osmid = osmid[0] if isinstance(osmid, list) else osmid
    by_id = edges_by_osmid(net, [osmid])
    assert int(prim[0]) in by_id
    for e in by_id:
        ids = net.edge_data(int(e))["osmid"]
        assert osmid in (ids if isinstance(ids, list) else [ids])
    # edges touching a node: near (radius 1 m) and in a tiny polygon around it
    node = int(net.edge_u[0])
    incident = set(np.flatnonzero((net.edge_u == node) | (net.edge_v == node)).tolist())
    lon, lat = net.lon[node], net.lat[node]
    near = set(edges_near(net, [lon, lat], radius_m=1.0).tolist())
    assert incident <= near
    eps = 1e-5
    box = [(lon - eps, lat - eps), (lon + eps, lat - eps), (lon + eps, lat + eps),
           (lon - eps, lat + eps)]
    inside = set(edges_in_polygon(net, box).tolist())
    assert incident <= inside
    # the whole bbox contains every edge midpoint
    west, south, east, north = net.report.bbox
    whole = [(west - 0.01, south - 0.01), (east + 0.01, south - 0.01), (east + 0.01, north + 0.01),
             (west - 0.01, north + 0.01)]
    assert edges_in_polygon(net, whole, mode="midpoint").size == net.n_edges
    assert set(edges_in_polygon(net, box, mode="midpoint").tolist()) <= inside
    assert edges_near(net, [west - 1.0, south - 1.0], radius_m=100).size == 0


def test_fetch_place(monkeypatch, write_osm, tmp_path):
    import osmnx as ox

    from sim.network import fetch_place

    raw = ox.graph_from_xml(write_osm(NODES, WAYS), simplify=False, retain_all=True)
    monkeypatch.setattr(ox, "graph_from_place", lambda place, **kw: raw)
    out = fetch_place("开平市, 江门市, 广东省, 中国", tmp_path / "kaiping.graphml")
    net = load_network(out, cache_dir=tmp_path / "cache")
    assert {(u, v) for u, v in net.graph.edges()} == {(1, 2), (2, 3), (3, 4), (4, 1), (1, 4)}

    def offline(*args, **kwargs):
        raise requests.exceptions.ConnectionError("offline")

    monkeypatch.setattr(ox, "graph_from_place", offline)
    with pytest.raises(OfflineError):
        fetch_place("开平市", tmp_path / "again.graphml")
    with pytest.raises(NetworkError, match="graphml"):
        fetch_place("开平市", tmp_path / "again.osm")


def test_builtin_nanjing_ships_in_the_package_and_equals_the_reference_extract(
        tmp_path, shared_data):
    """builtin:nanjing is the ../shared extract, xz-compressed inside the package (ODbL
    attribution beside it): the same prepared network, roads and rivers."""
    from sim.network import PACKAGE_DATA

    assert "ODbL" in (PACKAGE_DATA / "ATTRIBUTION.md").read_text(encoding="utf-8")
    for kind in ("road", "water"):
        built_in = load_network("builtin:nanjing", cache_dir=tmp_path / "a", kind=kind)
        reference = load_network(shared_data / "osm" / "nanjing_xuanwu.osm",
                                 cache_dir=tmp_path / "b", kind=kind)
        assert np.array_equal(built_in.node_ids, reference.node_ids)
        assert np.array_equal(built_in.edge_time_h, reference.edge_time_h)
        assert built_in.report.source == "builtin:nanjing"


@pytest.mark.parametrize("suffix", [".osm.gz", ".osm.bz2", ".osm.xz"])
def test_compressed_osm_xml_is_read_as_it_streams(write_osm, tmp_path, suffix):
    import bz2
    import gzip
    import lzma

    plain = write_osm(NODES, WAYS)
    packed = tmp_path / f"packed{suffix}"
    opener = {".osm.gz": gzip.open, ".osm.bz2": bz2.open, ".osm.xz": lzma.open}[suffix]
    with opener(packed, "wb") as fh:
        fh.write(plain.read_bytes())
    a = load_network(plain, cache_dir=tmp_path / "a")
    b = load_network(packed, cache_dir=tmp_path / "b")
    assert np.array_equal(a.node_ids, b.node_ids) and np.array_equal(a.edge_u, b.edge_u)
    broken = tmp_path / f"broken{suffix}"
    broken.write_bytes(packed.read_bytes()[: len(packed.read_bytes()) // 2])
    with pytest.raises(NetworkError, match="broken"):
        load_network(broken, cache_dir=tmp_path / "c")
