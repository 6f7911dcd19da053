"""Benchmark: cold preparation of a county-sized network (#20, item 5).

Writes the synthetic county of ``benchmarks/osm_county.py`` (≈ 108,000 OSM nodes, 49,000
prepared nodes, ≈ 179,000 edges) and prepares it, each in a fresh process (best of N, wall
seconds and the process's peak resident memory), two ways side by side:

* reliefsim: ``load_network`` on an empty cache (read the XML, build the segments, simplify,
  keep the largest strongly connected part, write the cache);
* osmnx itself: ``osmnx.graph_from_xml`` (its reader and simplification, the largest
  strongly connected part; no speeds, no cache) — the reference the goal is set against.

Goals: ≤ 12 s and ≤ 600 MB on the county — about twice as fast as osmnx, at half its memory.
Imports are not timed. Run: ``python benchmarks/bench_prepare.py [--nodes 49000] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
GOAL_S, GOAL_MB = 12.0, 600.0

_CHILD = r"""
import json, sys, tempfile, time, warnings
mode, source = sys.argv[1:3]
warnings.simplefilter("ignore")
if mode == "reliefsim":
    from sim.network import load_network
    with tempfile.TemporaryDirectory() as cache:
        t0 = time.perf_counter()
        net = load_network(source, cache_dir=cache)
        seconds = time.perf_counter() - t0
    nodes, edges = net.n_nodes, net.n_edges
else:
    import osmnx as ox
    t0 = time.perf_counter()
    graph = ox.graph_from_xml(source, bidirectional=False, simplify=True, retain_all=False)
    seconds = time.perf_counter() - t0
    nodes, edges = graph.number_of_nodes(), graph.number_of_edges()
print(json.dumps({"s": seconds, "mb": peak_mb(), "nodes": nodes, "edges": edges}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=49_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import fresh_process
    from osm_county import write_county

    with tempfile.TemporaryDirectory() as tmp:
        source = str(Path(tmp) / "county.osm")
        write_county(source, nodes=args.nodes, seed=1)
        rows = {}
        for mode in ("reliefsim", "osmnx"):
            runs = [fresh_process.run(_CHILD, mode, source) for _ in range(args.repeats)]
            best = min(runs, key=lambda r: r["s"])
            rows[mode] = (best["s"], min(r["mb"] for r in runs), best["nodes"], best["edges"])
    print(f"cold preparation of the county, best of {args.repeats} fresh processes:")
    for mode, (seconds, mb, nodes, edges) in rows.items():
        print(f"  {mode:10s} {seconds:6.2f} s  {mb:5.0f} MB peak  ({nodes:,} nodes, "
              f"{edges:,} edges)")
    (ours_s, ours_mb, *_), (ox_s, ox_mb, *_) = rows["reliefsim"], rows["osmnx"]
    met = ours_s <= GOAL_S and ours_mb <= GOAL_MB
    print(f"reliefsim: {ours_s:.1f} s = {ours_s / ox_s:.2f}× osmnx's time, {ours_mb:.0f} MB = "
          f"{ours_mb / ox_mb:.2f}× its memory   goal ≤ {GOAL_S:g} s and ≤ {GOAL_MB:g} MB "
          f"(≈ 0.5× osmnx on both) — {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
