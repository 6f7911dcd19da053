"""Walking (#19): the pedestrian network, walking times, the 15-minute life-support circle
(KPI, map) and siting stockpile points or shelters by walking time — each checked against
an independent computation (networkx shortest paths, brute force over every subset)."""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import networkx as nx
import numpy as np
import pytest

from sim.experiment import Experiment, OptimizeSpec, _apply_placement
from sim.location import LocationSolution
from sim.network import cache_path_for, load_network
from sim.optimize import candidate_sites, solve_static, static_costs, verification_experiment
from sim.osm import DRIVABLE_HIGHWAYS, PEDESTRIAN_WAYS, _walk_class
from sim.walking import (
    LIFE_CIRCLE_KPI,
    WALK_KMH,
    life_circle,
    life_circle_kpis,
    life_circle_share,
    walk_basis,
    walk_matrix_h,
    walk_times_h,
)
from sim.world import NO_FOOTWAYS, attach_walk, build_world

SHARED_OSM = Path(__file__).resolve().parents[2] / "shared" / "data" / "osm"
SOURCES = ["builtin:nanjing", "nanjing_xuanwu.osm"]


def _source(name: str) -> str:
    if name.startswith("builtin:"):
        return name
    path = SHARED_OSM / name
    if not path.is_file():
        pytest.skip(f"reference OSM extract not found: {path}")
    return str(path)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("walk-cache")


@pytest.fixture(scope="module")
def worlds(nanjing_scenario: Any, cache: Path) -> Callable[[str], Any]:
    """The shipped Nanjing scenario (it has shelters: the walking network loads) on a
    source, built once per source."""
    built: dict[str, Any] = {}

    def get(name: str) -> Any:
        if name not in built:
            source = _source(name)
            scenario = nanjing_scenario.model_copy(update={
                "network": nanjing_scenario.network.model_copy(update={"source": source})})
            built[name] = build_world(scenario, cache_dir=cache)
        return built[name]

    return get


def _undirected(network: Any) -> nx.MultiGraph:
    return network.graph.to_undirected()


# --------------------------------------------------------------------------- the network


@pytest.mark.parametrize("name", SOURCES)
def test_walk_network_has_footways_the_roads_lack(name: str, cache: Path) -> None:
    source = _source(name)
    road = load_network(source, cache_dir=cache)
    walk = load_network(source, cache_dir=cache, kind="walk")
    assert walk.kind == "walk" and walk.report.kind == "walk"
    assert walk.n_nodes > road.n_nodes and walk.n_edges > road.n_edges
    classes = set(walk.edge_highway.tolist())
    assert {"footway", "pedestrian"} <= classes
    assert not classes & {"motorway", "motorway_link", "trunk", "trunk_link"}
    assert not set(road.edge_highway.tolist()) & PEDESTRIAN_WAYS
    # every edge two-way, time = length at 4.5 km/h
    pairs = set(zip(walk.edge_u.tolist(), walk.edge_v.tolist(), strict=True))
    assert all((v, u) in pairs for u, v in pairs)
    np.testing.assert_allclose(walk.edge_time_h, walk.edge_length_m / 1000.0 / WALK_KMH,
                               rtol=1e-12)
    # the cache key includes the kind; a second load is a hit
    assert cache_path_for(source, cache_dir=cache, kind="walk") != cache_path_for(
        source, cache_dir=cache)
    again = load_network(source, cache_dir=cache, kind="walk")
    assert again.report.cache_hit and again.n_edges == walk.n_edges


def test_walk_tag_rules() -> None:
    ok = {"highway": "footway"}
    assert _walk_class(ok) == "footway"
    for cls in ("path", "pedestrian", "steps", "living_street", "residential", "service",
                "unclassified", "tertiary_link", "secondary", "primary_link", "track",
                "cycleway", "corridor", "bridleway"):
        assert _walk_class({"highway": cls}) == cls
    for cls in ("motorway", "motorway_link", "trunk", "trunk_link", "construction",
                "platform", "proposed"):
        assert _walk_class({"highway": cls}) is None, cls
    assert _walk_class({"highway": "trunk", "foot": "yes"}) == "trunk"  # explicitly open
    assert _walk_class({"highway": "motorway", "foot": "yes"}) is None
    assert _walk_class({"highway": "residential", "foot": "no"}) is None
    assert _walk_class({"highway": "footway", "foot": "private"}) is None
    for access in ("private", "no", "private;delivery"):
        assert _walk_class({"highway": "service", "access": access}) is None
        for foot in ("yes", "designated", "permissive"):
            assert _walk_class({"highway": "service", "access": access, "foot": foot}) \
                == "service"
    assert _walk_class({"highway": "pedestrian", "area": "yes"}) is None
    assert _walk_class({"highway": "primary", "oneway": "yes"}) == "primary"
    assert _walk_class({"building": "yes"}) is None


def test_one_way_streets_are_two_way_on_foot(write_osm: Callable[..., Path],
                                            tmp_path: Path) -> None:
    nodes = {1: (118.780, 32.040), 2: (118.781, 32.040), 3: (118.782, 32.040),
             4: (118.782, 32.041), 5: (118.783, 32.041)}
    path = write_osm(nodes, [(10, [1, 2, 3], {"highway": "primary", "oneway": "yes"}),
                             (11, [3, 4], {"highway": "footway"}),
                             (12, [4, 5], {"highway": "motorway"})])
    walk = load_network(path, cache_dir=tmp_path / "c", kind="walk")
    assert walk.n_nodes == 3  # 1, 3, 4 (2 simplified away; 5 only on the motorway)
    pairs = set(zip(walk.node_ids[walk.edge_u].tolist(), walk.node_ids[walk.edge_v].tolist(),
                    strict=True))
    assert pairs == {(1, 3), (3, 1), (3, 4), (4, 3)}


def test_walk_network_from_graphml_equals_osm_xml(shared_data: Path, tmp_path: Path) -> None:
    """A GraphML source (as osmnx saves one; here one direction of each way only) gives the
    same walking network as the OSM XML it came from: filtered alike, made two-way."""
    import osmnx as ox

    from sim.network_prep import raw_from_ways
    from sim.osm import _merged_speeds, _read_osm_xml

    osm = shared_data / "osm" / "nanjing_xuanwu.osm"
    full = raw_from_ways(_read_osm_xml(osm, "walk"), "walk",
                         _merged_speeds("walk", None)).to_networkx()
    one_way = nx.MultiDiGraph(**full.graph)
    one_way.add_nodes_from(full.nodes(data=True))
    one_way.add_edges_from((u, v, d) for u, v, d in full.edges(data=True) if not d["reversed"])
    ox.save_graphml(one_way, tmp_path / "walk.graphml")
    from_graphml = load_network(tmp_path / "walk.graphml", cache_dir=tmp_path, kind="walk")
    from_xml = load_network(osm, cache_dir=tmp_path, kind="walk")
    assert (from_graphml.n_nodes, from_graphml.n_edges) == (from_xml.n_nodes, from_xml.n_edges)
    assert from_graphml.edge_length_m.sum() == pytest.approx(from_xml.edge_length_m.sum())


@pytest.mark.slow
def test_walk_network_from_pbf(tmp_path: Path) -> None:
    walk = load_network("builtin:helsinki", cache_dir=tmp_path, kind="walk")
    road = load_network("builtin:helsinki", cache_dir=tmp_path)
    classes = set(walk.edge_highway.tolist())
    assert {"footway", "steps", "cycleway"} <= classes
    assert walk.n_nodes > 4 * road.n_nodes
    pairs = set(zip(walk.edge_u.tolist(), walk.edge_v.tolist(), strict=True))
    assert all((v, u) in pairs for u, v in pairs)


# --------------------------------------------------------------------------- walking times


@pytest.mark.parametrize("name", SOURCES)
def test_walk_times_equal_networkx(name: str, worlds: Callable[[str], Any]) -> None:
    world = worlds(name)
    assert walk_basis(world) == "walk" and world.walks is not None
    assert set(world.walk_nodes) == set(world.sites)
    graph = _undirected(world.walk)
    ids = sorted(world.sites)
    rng = np.random.default_rng(19)
    pairs = [tuple(rng.choice(ids, 2, replace=False)) for _ in range(12)]
    for a, b in pairs:
        got = walk_times_h(world, [a], [b])[0, 0]
        u, v = (int(world.walk.node_ids[world.walk_nodes[s]]) for s in (a, b))
        want = nx.dijkstra_path_length(graph, u, v, weight="length") / 1000.0 / WALK_KMH
        assert got == pytest.approx(want, abs=1e-9, rel=1e-12), (a, b)
    # the whole matrix at once agrees with the pairs, and a site is 0 h from itself
    matrix = walk_times_h(world, ids, ids)
    assert np.allclose(np.diag(matrix), 0.0)
    assert np.allclose(matrix, matrix.T, rtol=1e-12)
    for a, b in pairs:
        assert matrix[ids.index(a), ids.index(b)] == walk_times_h(world, [a], [b])[0, 0]
    # random node pairs of the walking network too
    nodes = rng.choice(world.walk.n_nodes, size=(6, 2))
    got = walk_matrix_h(world, nodes[:, 0], nodes[:, 1])
    for k, (i, j) in enumerate(nodes):
        want = nx.dijkstra_path_length(graph, int(world.walk.node_ids[i]),
                                       int(world.walk.node_ids[j]), weight="length")
        assert got[k, k] == pytest.approx(want / 1000.0 / WALK_KMH, abs=1e-9, rel=1e-12)
    assert walk_times_h(world, ids[:2], ids[:3], kmh=9.0) == pytest.approx(
        walk_times_h(world, ids[:2], ids[:3]) / 2.0)


def test_unreachable_is_inf(worlds: Callable[[str], Any]) -> None:
    world = worlds("builtin:nanjing")
    site = "wulaocun"
    node = world.walk_nodes[site]
    keep = (world.walk.edge_u != node) & (world.walk.edge_v != node)
    cut = dataclasses.replace(world.walk, edge_u=world.walk.edge_u[keep],
                              edge_v=world.walk.edge_v[keep], edge_key=world.walk.edge_key[keep],
                              edge_length_m=world.walk.edge_length_m[keep],
                              edge_time_h=world.walk.edge_time_h[keep],
                              edge_highway=world.walk.edge_highway[keep])
    island = SimpleNamespace(scenario=world.scenario, walk=cut, walk_nodes=world.walk_nodes,
                             memo={})
    times = walk_times_h(island, [site, "santiaoxiang"], ["hanzhongmen", site])
    assert np.isinf(times[0, 0]) and np.isinf(times[1, 1])
    assert times[0, 1] == 0.0 and np.isfinite(times[1, 0])
    frame = life_circle(island, minutes=15)
    row = frame.set_index("settlement").loc[site]
    assert row.stockpile_min == 0.0  # its own stockpile point stands at its node
    assert frame.set_index("settlement").loc["hanzhongmen"].stockpile != "wulaocun_point"


# --------------------------------------------------------------------------- the world


def test_world_loads_walk_only_when_needed(nanjing_scenario: Any, cache: Path,
                                           worlds: Callable[[str], Any]) -> None:
    none = nanjing_scenario.model_copy(update={"shelters": []})
    world = build_world(none, cache_dir=cache)
    assert world.walk is None and walk_basis(world) == "road" and not world.walk_nodes
    asked = build_world(none, cache_dir=cache, walk=True)
    assert walk_basis(asked) == "walk"
    assert attach_walk(world) is world and walk_basis(world) == "walk"
    # another scenario on the same world keeps the walking network and its engine
    full = worlds("builtin:nanjing")
    other = full.with_scenario(none)
    assert other.walk is full.walk and other.walks is full.walks
    assert other.walk_nodes == {k: v for k, v in full.walk_nodes.items() if k in other.sites}
    # … and one that needs it gets it on a world built without
    again = build_world(none, cache_dir=cache).with_scenario(nanjing_scenario)
    assert walk_basis(again) == "walk"


def test_no_footways_falls_back_to_roads(nanjing_scenario: Any, tmp_path: Path,
                                         shared_data: Path) -> None:
    tree = ET.parse(shared_data / "osm" / "nanjing_xuanwu.osm")
    root = tree.getroot()
    for way in list(root.iter("way")):
        tags = {t.get("k"): t.get("v") for t in way.iter("tag")}
        if tags.get("highway") in PEDESTRIAN_WAYS or (
                "highway" in tags and tags["highway"] not in DRIVABLE_HIGHWAYS):
            root.remove(way)
    path = tmp_path / "roads_only.osm"
    tree.write(path, encoding="utf-8")
    scenario = nanjing_scenario.model_copy(update={
        "network": nanjing_scenario.network.model_copy(update={"source": str(path)})})
    world = build_world(scenario, cache_dir=tmp_path / "cache")
    assert world.walk is None and walk_basis(world) == "road"
    assert NO_FOOTWAYS in world.warnings
    assert NO_FOOTWAYS == ("walking on the drivable network at 4.5 km/h: the extract has no "
                           "footways")
    assert world.with_scenario(scenario).warnings.count(NO_FOOTWAYS) == 1
    ids = sorted(world.sites)[:5]
    graph = _undirected(world.road)
    times = walk_times_h(world, ids, ids)
    for i, a in enumerate(ids):
        for j, b in enumerate(ids):
            want = nx.dijkstra_path_length(graph, int(world.road.node_ids[world.node(a)]),
                                           int(world.road.node_ids[world.node(b)]),
                                           weight="length")
            assert times[i, j] == pytest.approx(want / 1000.0 / WALK_KMH, abs=1e-9)
    assert life_circle(world, minutes=15).attrs["basis"] == "road"


# --------------------------------------------------------------------------- life circle


def _brute_minutes(world: Any, origin: str, targets: list[str]) -> float:
    graph = _undirected(world.walk)
    node = int(world.walk.node_ids[world.walk_nodes[origin]])
    dist = nx.single_source_dijkstra_path_length(graph, node, weight="length")
    best = min((dist.get(int(world.walk.node_ids[world.walk_nodes[t]]), math.inf)
                for t in targets), default=math.inf)
    return best / 1000.0 / WALK_KMH * 60.0


@pytest.mark.parametrize("minutes", [3.0, 7.0, 15.0])
def test_life_circle_equals_brute_force(worlds: Callable[[str], Any], minutes: float) -> None:
    world = worlds("builtin:nanjing")
    scenario = world.scenario
    frame = life_circle(world, minutes=minutes)
    assert list(frame.settlement) == [s.id for s in scenario.settlements]
    stockpiles = [d.id for d in scenario.depots if d.kind == "physical"]
    shelters = [s.id for s in scenario.shelters if s.capacity_people > 0]
    within = people = 0.0
    for s, row in zip(scenario.settlements, frame.itertuples(), strict=True):
        to_stock = _brute_minutes(world, s.id, stockpiles)
        to_shelter = _brute_minutes(world, s.id, shelters)
        assert row.stockpile_min == pytest.approx(to_stock, abs=1e-7)
        assert row.shelter_min == pytest.approx(to_shelter, abs=1e-7)
        assert row.stockpile_within == (to_stock <= minutes)
        assert row.shelter_within == (to_shelter <= minutes)
        within += s.people * (to_stock <= minutes)
        people += s.people
    assert life_circle_share(frame) == pytest.approx(within / people, abs=1e-12)
    assert life_circle_share(frame, {s.id: s.people for s in scenario.settlements}) == \
        life_circle_share(frame)
    assert life_circle_share(frame, np.ones(len(frame))) == pytest.approx(
        frame.stockpile_within.mean())
    if minutes == 7.0:  # a limit some settlements miss: the share is strictly inside (0, 1)
        assert 0 < life_circle_share(frame) < 1
        assert life_circle_share(frame, of="shelter") > 0
    # contract reserves are no stockpile points by default; asked for, they count
    every = life_circle(world, minutes=minutes, kinds=("physical", "contract"))
    assert (every.stockpile_min <= frame.stockpile_min + 1e-12).all()


def test_life_circle_kpi(worlds: Callable[[str], Any]) -> None:
    world = worlds("builtin:nanjing")
    (kpi,) = life_circle_kpis(world)
    frame = life_circle(world, minutes=world.scenario.targets.life_circle_min)
    assert kpi.kpi == LIFE_CIRCLE_KPI == "life_circle_15min" and kpi.unit == "min"
    assert kpi.target == 15.0 and kpi.share_required == 1.0
    assert kpi.share_within == life_circle_share(frame) == 1.0 and kpi.passed is True
    assert kpi.n == frame.people.sum() and kpi.never == 0
    assert kpi.max == frame.stockpile_min.max()
    strict = world.with_scenario(world.scenario.model_copy(update={
        "targets": world.scenario.targets.model_copy(update={"life_circle_min": 7.0,
                                                            "life_circle_share": 0.9})}))
    (tight,) = life_circle_kpis(strict)
    assert tight.share_within == pytest.approx(life_circle_share(life_circle(strict, minutes=7)))
    assert tight.passed is (tight.share_within >= 0.9)
    assert not tight.passed


# --------------------------------------------------------------------------- optimise


def _open(world: Any) -> Any:
    """The scenario without closures and hazard zones: no candidate is screened out."""
    return world.with_scenario(world.scenario.model_copy(update={"disruptions": [],
                                                                 "hazard_zones": []}))


def _spec(world: Any, **extra: Any) -> OptimizeSpec:
    """Candidates at every settlement (each covers itself) and at four other street points."""
    scenario = world.scenario
    points = [(s.id, world.sites[s.id]) for s in scenario.settlements]
    candidates = [{"name": f"at_{sid}", "location": [site.lon + 1e-5, site.lat]}
                  for sid, site in points]
    candidates += [{"name": f"street_{k}", "location": [float(world.walk.lon[i]),
                                                         float(world.walk.lat[i])]}
                   for k, i in enumerate((10, 120, 240, 400))]
    return OptimizeSpec.model_validate({
        "new_depot": {"id": "new_point", "location": [0, 0], "tier": "village"},
        "candidates": candidates, "keep_existing": False, "travel": "walk", **extra})


@pytest.mark.parametrize("standard_min", [5.0, 15.0])
def test_walk_lscp_and_mclp_equal_brute_force(worlds: Callable[[str], Any],
                                              standard_min: float) -> None:
    world = _open(worlds("builtin:nanjing"))
    candidates = candidate_sites(world, _spec(world))
    assert candidates.travel == "walk" and not candidates.fixed and not candidates.excluded
    assert len(candidates.names) == len(world.scenario.settlements) + 4
    cost = static_costs(world, candidates)
    settlements = [s.id for s in world.scenario.settlements]
    np.testing.assert_allclose(
        cost, walk_matrix_h(world, candidates.nodes,
                            [world.walk_nodes[s] for s in settlements]))
    people = np.array([s.people for s in world.scenario.settlements], dtype=float)
    cover = cost <= standard_min / 60.0
    n = len(candidates.names)
    standard_h = standard_min / 60.0

    lscp = solve_static(world, candidates, model="lscp", p=1, top=1, standard_h=standard_h)[0]
    fewest = next(k for k in range(1, n + 1) for subset in itertools.combinations(range(n), k)
                  if cover[list(subset)].any(axis=0).all())
    assert len(lscp.open_sites) == fewest and lscp.objective == fewest
    assert cover[list(lscp.open_sites)].any(axis=0).all()  # every settlement covered
    assert lscp.covered_weight == people.sum() and not lscp.uncoverable

    for p in (1, 2):
        best = max(float(people[cover[list(subset)].any(axis=0)].sum())
                   for subset in itertools.combinations(range(n), p))
        mclp: LocationSolution = solve_static(world, candidates, model="mclp", p=p, top=1,
                                              standard_h=standard_h)[0]
        assert mclp.objective == pytest.approx(best)
        assert float(people[cover[list(mclp.open_sites)].any(axis=0)].sum()) == \
            pytest.approx(best)


def test_optimize_shelters_by_walking(worlds: Callable[[str], Any]) -> None:
    world = _open(worlds("builtin:nanjing"))
    base_spec = _spec(world)
    spec = OptimizeSpec.model_validate({
        **base_spec.model_dump(exclude={"new_depot"}), "keep_existing": True,
        "sites": "shelters",
        "new_shelter": {"id": "new_shelter", "location": [0, 0], "capacity_people": 800}})
    candidates = candidate_sites(world, spec)
    existing = [s.id for s in world.scenario.shelters if s.capacity_people > 0]
    assert [candidates.names[i] for i in candidates.fixed] == [f"existing:{s}" for s in existing]
    (solution,) = solve_static(world, candidates, model="mclp", p=1, top=1, standard_h=0.1)
    cost = static_costs(world, candidates)
    people = np.array([s.people for s in world.scenario.settlements], dtype=float)
    fixed = list(candidates.fixed)
    best = max(float(people[(cost[[*fixed, i]] <= 0.1).any(axis=0)].sum())
               for i in range(len(candidates.names)) if i not in fixed)
    assert solution.objective == pytest.approx(best)
    experiment = Experiment.model_validate({
        "name": "shelters", "base": "x", "placements": [{"name": "current"}],
        "optimize": spec.model_dump()})
    verify = verification_experiment(experiment, world.scenario, candidates, [solution])
    placed = _apply_placement(world.scenario, verify.placements[1], "p")
    assert [s.id for s in placed.shelters] == [*(s.id for s in world.scenario.shelters),
                                                "new_shelter"]
    assert [d.id for d in placed.depots] == [d.id for d in world.scenario.depots]
    with pytest.raises(ValueError, match="new_shelter"):
        OptimizeSpec.model_validate({**spec.model_dump(exclude={"new_shelter"})})
    with pytest.raises(ValueError, match="new_depot"):
        OptimizeSpec.model_validate({**base_spec.model_dump(exclude={"new_depot"})})


# --------------------------------------------------------------------------- words, map


def _ids(world: Any) -> set[str]:
    scenario = world.scenario
    fields = ("depots", "shelters", "settlements", "team_bases", "water_stations", "helipads")
    return {item.id for field in fields for item in getattr(scenario, field)}


def test_walk_labels_have_no_ids() -> None:
    from sim.glossary import CAPTIONS, KPI_LABELS, WALK_LABELS, kpi_label

    assert set(WALK_LABELS["zh"]) == set(WALK_LABELS["en"])
    for lang, words in WALK_LABELS.items():
        for text in words.values():
            assert not re.search(r"[a-z]+_[a-z]+", text), (lang, text)
            assert LIFE_CIRCLE_KPI not in text
    assert "15分钟" in CAPTIONS["life_circle"][0]
    assert kpi_label(LIFE_CIRCLE_KPI, "zh", share=True, target_h=15) == \
        "15分钟步行范围内有储备点的人口比例"
    assert LIFE_CIRCLE_KPI in KPI_LABELS


@pytest.mark.slow
def test_life_circle_map_names_not_ids(worlds: Callable[[str], Any]) -> None:
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    from sim.glossary import WALK_LABELS
    from sim.maps import life_circle_map

    world = worlds("builtin:nanjing")
    frame = life_circle(world, minutes=7.0)
    fig = life_circle_map(world, frame, "zh")
    fig.canvas.draw()
    text = "\n".join(t.get_text() for t in fig.findobj(Text))
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))
    assert not words & _ids(world)
    assert WALK_LABELS["zh"]["stockpile_circle"].format(m="7") in text
    assert WALK_LABELS["zh"]["shelter_within"].format(m="7") in text
    gids = {a.get_gid() for a in fig.axes[0].get_children()}
    assert {"footways", "stockpile_circle", "shelter_circle", "shelters"} <= gids
    for s in world.scenario.settlements:
        assert (s.name or s.id) in text
    plt.close(fig)
