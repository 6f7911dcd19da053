"""Benchmark: the travel-time engine's all-pairs matrix vs per-pair networkx Dijkstra.

Run: ``python benchmarks/bench_routing.py``.  Uses the Nanjing extract from ../shared
(falls back to the embedded ``builtin:helsinki``), ~40 site nodes.  Prints times and the
speed-up (goal ≥ 20×), and first-load vs cached-load time of ``load_network``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import networkx as nx
import numpy as np

from sim.network import load_network
from sim.routing import TravelTimes

N_SITES = 40
REPEATS = 5


def main() -> None:
    shared = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "osm"
    source: str | Path = shared / "nanjing_xuanwu.osm"
    if not Path(source).is_file():
        source = "builtin:helsinki"
    with tempfile.TemporaryDirectory() as cache_dir:
        import osmnx  # noqa: F401  (import cost is not part of the load timing)

        t0 = time.perf_counter()
        net = load_network(source, cache_dir=cache_dir)
        first_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        cached = load_network(source, cache_dir=cache_dir)
        cached_s = time.perf_counter() - t0
    assert cached.report.cache_hit

    sites = np.random.default_rng(42).choice(net.n_nodes, size=min(N_SITES, net.n_nodes),
                                            replace=False)
    k = sites.size

    engine_s = []
    for _ in range(REPEATS):
        tt = TravelTimes(net)  # fresh engine: CSR build + one Dijkstra over all origins
        t0 = time.perf_counter()
        time_h, dist_km = tt.matrix(sites, sites)
        engine_s.append(time.perf_counter() - t0)
    engine = min(engine_s)
    t0 = time.perf_counter()
    tt.matrix(sites, sites)
    cached_matrix = time.perf_counter() - t0

    graph, ids = net.graph, net.node_ids[sites]
    t0 = time.perf_counter()
    ref = np.empty((k, k))
    for i, a in enumerate(ids.tolist()):
        for j, b in enumerate(ids.tolist()):
            ref[i, j] = nx.shortest_path_length(graph, a, b, weight="travel_time") / 3600.0
    per_pair = time.perf_counter() - t0
    max_diff = float(np.max(np.abs(ref - time_h)))

    out = sys.stdout.write
    out(f"network: {net.report.source}  nodes={net.n_nodes} edges={net.n_edges}  "
        f"sites={k} ({k * k} pairs)\n")
    out(f"load_network first (prepare): {first_s * 1000:9.1f} ms\n")
    out(f"load_network cached:          {cached_s * 1000:9.1f} ms   "
        f"speed-up {first_s / cached_s:6.1f}x\n")
    out(f"engine matrix (fresh, best of {REPEATS}): {engine * 1000:9.2f} ms\n")
    out(f"engine matrix (state cache hit):  {cached_matrix * 1000:9.3f} ms\n")
    out(f"networkx per-pair Dijkstra:       {per_pair * 1000:9.1f} ms\n")
    out(f"speed-up engine vs networkx: {per_pair / engine:8.1f}x  (goal >= 20x)\n")
    out(f"max |engine - networkx| time: {max_diff:.2e} h; mean trip "
        f"{np.mean(time_h[~np.eye(k, dtype=bool)]) * 60:.1f} min, "
        f"{np.mean(dist_km[~np.eye(k, dtype=bool)]):.2f} km\n")


if __name__ == "__main__":
    main()
