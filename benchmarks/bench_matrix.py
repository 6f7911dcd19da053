"""Benchmark: travel-time matrices on a county-sized network vs bare csgraph (#20, item 5).

On the synthetic county of ``benchmarks/osm_county.py`` (49,000 nodes, 179,000 edges), times
a 50 × 2,000 matrix (seeded random nodes; new origins every round, so nothing is cached) three
ways side by side, best of N rounds:

* ``TravelTimes.times`` — hours only (what dispatch, service areas and location models use);
* ``TravelTimes.matrix`` — hours and the km along those paths;
* bare ``scipy.sparse.csgraph.dijkstra`` on the same sparse matrix (the floor).

Goal: hours within 1.3× of bare csgraph (km only when asked).
Run: ``python benchmarks/bench_matrix.py [--rounds 5] [--origins 50] [--destinations 2000]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
GOAL = 1.3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--origins", type=int, default=50)
    parser.add_argument("--destinations", type=int, default=2000)
    args = parser.parse_args()

    from osm_county import write_county
    from scipy.sparse.csgraph import dijkstra

    from sim.network import load_network
    from sim.routing import TravelTimes

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "county.osm"
        write_county(source, nodes=49_000, seed=1)
        net = load_network(source, cache_dir=tmp)
    rng = np.random.default_rng(1)
    tt = TravelTimes(net)
    tt.times([0], [0])  # the open state's sparse matrix, built once
    csr = tt._state.csr
    best = {"times": np.inf, "matrix": np.inf, "csgraph": np.inf}
    for _ in range(args.rounds):
        dest = rng.choice(net.n_nodes, args.destinations, replace=False)
        for what in ("times", "matrix", "csgraph"):
            origins = rng.choice(net.n_nodes, args.origins, replace=False)  # never solved yet
            start = time.perf_counter()
            if what == "times":
                tt.times(origins, dest)
            elif what == "matrix":
                tt.matrix(origins, dest)
            else:
                dijkstra(csr, directed=True, indices=origins)[:, dest]
            best[what] = min(best[what], time.perf_counter() - start)
    floor = best["csgraph"]
    print(f"{args.origins} × {args.destinations} matrix on the county ({net.n_nodes:,} nodes, "
          f"{net.n_edges:,} edges), best of {args.rounds} rounds:")
    print(f"  bare csgraph dijkstra   {floor * 1000:7.1f} ms")
    print(f"  TravelTimes.matrix      {best['matrix'] * 1000:7.1f} ms  "
          f"({best['matrix'] / floor:.2f}×: hours and km)")
    ratio = best["times"] / floor
    print(f"  TravelTimes.times       {best['times'] * 1000:7.1f} ms  ({ratio:.2f}×)   "
          f"goal ≤ {GOAL}× — {'met' if ratio <= GOAL else 'NOT met'}")


if __name__ == "__main__":
    main()
