"""Travel-time engine: matrices and paths against networkx, closures, slow-downs, caching."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest

from sim.network import load_network
from sim.routing import TravelTimes

REAL = ["nanjing_xuanwu", "wuhan_optics_valley", "helsinki"]
N_SITES = 12


def _sites(net, k=N_SITES, seed=7):
    return np.random.default_rng(seed).choice(net.n_nodes, size=k, replace=False)


def _nx_time_h(graph, net, a, b):
    try:
        return nx.shortest_path_length(
            graph, int(net.node_ids[a]), int(net.node_ids[b]), weight="travel_time") / 3600.0
    except nx.NetworkXNoPath:
        return np.inf


def _fastest_edge(graph, u, v):
    return min(graph[u][v].values(), key=lambda d: d["travel_time"])


def _graph_path_km(net, nodes):
    ids = net.node_ids[nodes]
    return sum(_fastest_edge(net.graph, int(a), int(b))["length"]
               for a, b in itertools.pairwise(ids)) / 1000.0


@pytest.fixture(params=REAL)
def net(request, load_test_network):
    return load_test_network(request.param)


def test_matrix_matches_networkx(net):
    tt = TravelTimes(net)
    sites = _sites(net)
    time_h, dist_km = tt.matrix(sites, sites)
    assert time_h.shape == dist_km.shape == (N_SITES, N_SITES)
    assert tt.stats["dijkstra_calls"] == 1 and tt.stats["sources_solved"] == N_SITES
    for i, a in enumerate(sites):
        for j, b in enumerate(sites):
            assert time_h[i, j] == pytest.approx(_nx_time_h(net.graph, net, a, b), rel=1e-9,
                                                 abs=1e-9)
            path = tt.path(int(a), int(b))
            assert path[0] == a and path[-1] == b
            assert dist_km[i, j] == pytest.approx(_graph_path_km(net, path), rel=1e-9, abs=1e-9)
    np.testing.assert_array_equal(np.diag(time_h), 0.0)
    assert np.all(np.isfinite(time_h))  # the largest SCC is strongly connected


def test_distance_equals_networkx_path_when_unique(net):
    tt = TravelTimes(net)
    sites = _sites(net, k=6, seed=3)
    _, dist_km = tt.matrix(sites, sites)
    checked = 0
    for i, a in enumerate(sites):
        for j, b in enumerate(sites):
            if a == b:
                continue
            ua, ub = int(net.node_ids[a]), int(net.node_ids[b])
            paths = list(nx.all_shortest_paths(net.graph, ua, ub, weight="travel_time"))
            if len(paths) == 1:
                km = sum(_fastest_edge(net.graph, u, v)["length"]
                         for u, v in itertools.pairwise(paths[0])) / 1000.0
                assert dist_km[i, j] == pytest.approx(km, rel=1e-9)
                checked += 1
    assert checked > 0


def test_path_edges_sum_to_matrix(net):
    tt = TravelTimes(net)
    sites = _sites(net, k=5, seed=11)
    time_h, dist_km = tt.matrix(sites, sites)
    for i, a in enumerate(sites):
        for j, b in enumerate(sites):
            nodes = tt.path(int(a), int(b))
            edges, times = tt.path_edges(int(a), int(b))
            assert edges.size == len(nodes) - 1
            np.testing.assert_array_equal(net.edge_u[edges], nodes[:-1])
            np.testing.assert_array_equal(net.edge_v[edges], nodes[1:])
            assert times.sum() == pytest.approx(time_h[i, j], rel=1e-9, abs=1e-9)
            assert net.edge_length_m[edges].sum() / 1000 == pytest.approx(dist_km[i, j],
                                                                          rel=1e-9, abs=1e-9)


def test_paths_toward_a_destination_are_fastest(net):
    """Origins with no solved tree route along the destination's reversed tree: one Dijkstra
    per destination, and every such path is a fastest path under the current closure state."""
    sites = _sites(net, k=6, seed=5)
    base = int(sites[0])
    for closed in ([], [int(e) for e in range(0, net.n_edges, 7)]):
        tt = TravelTimes(net)
        tt.set_state(closed=closed)
        for a in sites[1:]:
            nodes = tt.path(int(a), base)
            expected = _nx_time_h(_without(net, closed), net, int(a), base)
            if not np.isfinite(expected):
                assert nodes == []
                continue
            edges, times = tt.edges_of_path(nodes)
            assert nodes[0] == a and nodes[-1] == base
            assert not np.isin(edges, closed).any()
            assert times.sum() == pytest.approx(expected, rel=1e-9, abs=1e-9)
        assert tt.stats["dijkstra_calls"] == 1 and tt.stats["sources_solved"] == 1


def _without(net, closed):
    graph = net.graph.copy()
    for e in closed:
        graph.remove_edge(int(net.node_ids[net.edge_u[e]]), int(net.node_ids[net.edge_v[e]]),
                          int(net.edge_key[e]))
    return graph


def test_from_node_matches_matrix_row(net):
    tt = TravelTimes(net)
    sites = _sites(net, k=4)
    time_h, dist_km = tt.matrix(sites[:1], np.arange(net.n_nodes))
    np.testing.assert_array_equal(tt.from_node(int(sites[0])), time_h[0])
    np.testing.assert_array_equal(tt.dist_from_node(int(sites[0])), dist_km[0])
    assert tt.stats["dijkstra_calls"] == 1
    row = tt.from_node(int(sites[1]))
    assert row.shape == (net.n_nodes,) and not row.flags.writeable
    assert tt.stats["dijkstra_calls"] == 2


def test_times_are_the_matrix_without_distances(net):
    """``times`` gives the matrix's hours (repeated and unordered origins included, under
    a closure state too) and never computes a distance."""
    sites = _sites(net, k=6)
    origins = np.array([sites[3], sites[0], sites[3], sites[5]])
    for closed in ((), [int(e) for e in np.flatnonzero(net.edge_highway != "residential")[:40]]):
        tt = TravelTimes(net)
        tt.set_state(closed=closed)
        times = tt.times(origins, sites)
        assert not tt._state.dist_km  # no distance solved
        np.testing.assert_array_equal(times, tt.matrix(origins, sites)[0])
    assert TravelTimes(net).times([], sites).shape == (0, len(sites))


def test_close_all_edges_into_node(net):
    tt = TravelTimes(net)
    sites = _sites(net, k=6)
    target = int(sites[0])
    tt.set_state(closed=np.flatnonzero(net.edge_v == target))
    time_h, dist_km = tt.matrix(sites[1:], [target])
    assert np.all(np.isinf(time_h)) and np.all(np.isinf(dist_km))
    assert tt.path(int(sites[1]), target) == []
    # leaving the node still works when only its in-edges are closed
    assert np.all(np.isfinite(tt.matrix([target], sites[1:])[0]))


def test_closing_an_edge_on_the_path(net):
    tt = TravelTimes(net)
    sites = _sites(net, k=8, seed=5)
    before, _ = tt.matrix(sites, sites)
    a, b = int(sites[0]), int(sites[-1])
    edges, _ = tt.path_edges(a, b)
    assert edges.size > 0
    cut = int(edges[edges.size // 2])
    tt.set_state(closed=[cut])
    after, _ = tt.matrix(sites, sites)
    assert np.all(after >= before - 1e-12)
    reduced = net.graph.copy()
    reduced.remove_edge(int(net.node_ids[net.edge_u[cut]]), int(net.node_ids[net.edge_v[cut]]),
                        key=int(net.edge_key[cut]))
    assert after[0, -1] == pytest.approx(_nx_time_h(reduced, net, a, b), rel=1e-9)
    assert cut not in tt.path_edges(a, b)[0]


def test_slowdown_and_restore(net):
    tt = TravelTimes(net)
    sites = _sites(net)
    base, base_km = tt.matrix(sites, sites)
    calls = tt.stats["dijkstra_calls"]
    assert tt.state_key == "open"
    key = tt.set_state(slow={e: 2.0 for e in range(net.n_edges)})
    assert key == tt.state_key != "open"
    slow, _ = tt.matrix(sites, sites)
    np.testing.assert_allclose(slow, 2 * base, rtol=1e-9)
    assert tt.stats["dijkstra_calls"] == calls + 1
    tt.set_state()
    again, again_km = tt.matrix(sites, sites)
    np.testing.assert_array_equal(again, base)
    np.testing.assert_array_equal(again_km, base_km)
    assert tt.stats["dijkstra_calls"] == calls + 1  # served from the state cache
    tt.set_state(slow={e: 2.0 for e in range(net.n_edges)})
    np.testing.assert_array_equal(tt.matrix(sites, sites)[0], slow)
    assert tt.stats["dijkstra_calls"] == calls + 1


def test_state_key_is_canonical(net):
    tt = TravelTimes(net)
    k1 = tt.set_state(closed=[3, 1, 1], slow={5: 1.5, 2: 3.0, 7: 1.0})
    k2 = tt.set_state(closed=(1, 3), slow={2: 3.0, 5: 1.5})
    assert k1 == k2
    k3 = tt.set_state(closed=[1], slow={3: np.inf, 2: 3.0, 5: 1.5})  # inf factor = closed
    assert k3 == k1
    np.testing.assert_array_equal(tt.closed_edges, [1, 3])
    assert tt.set_state(slow={0: 1.0}) == "open"


def test_parallel_edges_take_the_minimum(write_osm, tmp_path):
    nodes = {1: (118.0, 32.0), 2: (118.01, 32.0), 3: (118.02, 32.0)}
    ways = [(1, [1, 2], {"highway": "primary"}), (2, [1, 2], {"highway": "residential"}),
            (3, [2, 3], {"highway": "residential"})]
    net = load_network(write_osm(nodes, ways), cache_dir=tmp_path)
    assert net.graph.number_of_edges(1, 2) == 2
    tt = TravelTimes(net)
    fast = min(d["travel_time"] for d in net.graph[1][2].values()) / 3600
    slow_e = max(net.graph[1][2].values(), key=lambda d: d["travel_time"])
    i1, i2, i3 = net.node_index([1, 2, 3])
    time_h, dist_km = tt.matrix([i1], [i2, i3])
    assert time_h[0, 0] == pytest.approx(fast)
    assert dist_km[0, 0] == pytest.approx(net.graph[1][2][0]["length"] / 1000)
    # close the fast parallel edge: the slow one takes over
    primary = int(np.flatnonzero((net.edge_u == i1) & (net.edge_v == i2)
                                 & (net.edge_highway == "primary"))[0])
    tt.set_state(closed=[primary])
    assert tt.matrix([i1], [i2])[0][0, 0] == pytest.approx(slow_e["travel_time"] / 3600)
    edges, _ = tt.path_edges(int(i1), int(i2))
    assert net.edge_highway[edges[0]] == "residential"


def test_edges_of_path_with_closed_hop(net):
    tt = TravelTimes(net)
    a, b = (int(x) for x in _sites(net, k=2, seed=1))
    nodes = tt.path(a, b)
    edges, _ = tt.path_edges(a, b)
    tt.set_state(closed=[int(edges[0])])
    still, times = tt.edges_of_path(nodes)
    assert still.size == len(nodes) - 1
    if net.graph.number_of_edges(int(net.node_ids[nodes[0]]), int(net.node_ids[nodes[1]])) == 1:
        assert still[0] == -1 and np.isinf(times[0])
    else:  # a parallel edge takes over
        assert still[0] not in (-1, edges[0]) and np.isfinite(times[0])
    np.testing.assert_array_equal(still[1:], edges[1:])


def test_input_validation(net):
    tt = TravelTimes(net)
    with pytest.raises(ValueError, match="node indices"):
        tt.matrix([net.n_nodes], [0])
    with pytest.raises(ValueError, match="integer"):
        tt.matrix([0.5], [0])
    with pytest.raises(ValueError, match="edge indices"):
        tt.set_state(closed=[net.n_edges])
    with pytest.raises(ValueError, match="positive"):
        tt.set_state(slow={0: 0.0})
    t, d = tt.matrix([], [0, 1])
    assert t.shape == d.shape == (0, 2)


def test_water_boat_times(load_test_network):
    water = load_test_network("nanjing_xuanwu", kind="water")
    tt = TravelTimes(water)
    nodes = np.arange(water.n_nodes)
    time_h, dist_km = tt.matrix(nodes, nodes)
    off = ~np.eye(water.n_nodes, dtype=bool)
    assert np.all(np.isfinite(time_h)) and np.all(time_h[off] > 0)
    # every waterway here is a river: 30 km/h
    np.testing.assert_allclose(time_h[off], dist_km[off] / 30.0, rtol=1e-9)
