"""Linear model cost (#20, item 1): time per SimPy event as a scenario grows ×1, ×4, ×16, ×64.

Run: ``python benchmarks/bench_scaling.py [--cache DIR] [--rounds N]``. The embedded default
(``scenarios/helsinki_storm.yaml``) is moved onto a county-sized network (``osm_county.py``,
49,000 nodes, written to a temporary directory): its depots, team bases and boat station at
random road nodes of the county (fixed seed, the same at every scale). Scaled by ×k as the
issue scales it: k copies of each settlement and scripted incident (at random road nodes),
k times each depot's stock, production and trucks, each base's teams and boats, and each
generator's incident rate. Disruptions keep the storm's slowdown of main roads (by road
class); shelters are dropped (no walking network needed). (k copies of the depots too would
make relief's dispatcher, which weighs every depot for every request, the cost: not this
benchmark's subject.)

For each scale it counts the events one replication schedules, times the replication (best
of ``--rounds``, set-up included) and, in the same round, bare SimPy processing the same
number of timeouts. The cost per event is the model's time over bare SimPy's (so a slower or
busier machine cancels out), and is printed relative to ×1 next to the goal (≤ 1.3× at ×64).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_model import CountingEnvironment, bare_simpy
from osm_county import write_county

from sim.model import simulate
from sim.scenario import Scenario, load_scenario
from sim.world import World, build_world

ROOT = Path(__file__).resolve().parents[1]
SCALES = (1, 4, 16, 64)
GOAL = 1.3
"""Time per event at ×64 relative to ×1 (normalised by bare SimPy)."""
COUNTY_NODES = 49_000
SEED = 7


def _places(world: World, n: int, rng: np.random.Generator) -> list[tuple[float, float]]:
    nodes = rng.integers(0, len(world.road.lon), size=n)
    return [(round(float(world.road.lon[i]), 6), round(float(world.road.lat[i]), 6))
            for i in nodes]


def _moved(items: list, world: World, rng: np.random.Generator) -> list:
    """The sites moved to random road nodes of the county."""
    places = _places(world, len(items), rng)
    return [item.model_copy(update={"location": place})
            for item, place in zip(items, places, strict=True)]


def _copies(items: list, k: int, world: World, rng: np.random.Generator) -> list:
    """k copies of each item with a location, renamed and moved to random road nodes."""
    places = _places(world, len(items) * k, rng)
    return [item.model_copy(update={"id": f"{item.id}_{c + 1}",
                                    "location": places[c * len(items) + j]})
            for c in range(k) for j, item in enumerate(items)]


def scaled(base: Scenario, world: World, k: int) -> Scenario:
    """The default scaled by ``k`` on the county (see the module docstring)."""
    sites = np.random.default_rng(SEED)  # the depots and bases: the same places at every k
    depots = [d.model_copy(update={
        "stock": {c: q * k for c, q in d.stock.items()},
        "production_per_h": {c: q * k for c, q in d.production_per_h.items()},
        "trucks": d.trucks.model_copy(update={"count": d.trucks.count * k})})
        for d in _moved(base.depots, world, sites)]
    bases = [b.model_copy(update={"teams": [g.model_copy(update={"count": g.count * k})
                                            for g in b.teams]})
             for b in _moved(base.team_bases, world, sites)]
    stations = [w.model_copy(update={"boats": w.boats.model_copy(
        update={"count": w.boats.count * k})}) for w in _moved(base.water_stations, world, sites)]
    rng = np.random.default_rng(SEED + k)
    generators = []
    for gen in base.generators:
        update: dict = {"rate_per_h": gen.rate_per_h * k}
        if gen.locate_on == "points":
            update["points"] = _places(world, len(gen.points) * k, rng)
        generators.append(gen.model_copy(update=update))
    return base.model_copy(update={
        "settlements": _copies(base.settlements, k, world, rng),
        "depots": depots,
        "team_bases": bases,
        "water_stations": stations,
        "shelters": [],
        "incidents": _copies(base.incidents, k, world, rng),
        "generators": generators,
        "disruptions": [d for d in base.disruptions if d.road_classes],
    })


def county_world(cache: Path) -> tuple[Scenario, World]:
    osm = cache / "county.osm"
    if not osm.exists():
        write_county(osm, nodes=COUNTY_NODES, seed=1)
    base = load_scenario(ROOT / "scenarios" / "helsinki_storm.yaml")
    network = base.network.model_copy(update={"source": str(osm), "snap_warn_m": 2000.0})
    base = base.model_copy(update={"network": network})
    start = time.perf_counter()
    # Built with the default's sites first (far off: only warnings), then re-placed per scale.
    world = build_world(scaled_placeholder(base), cache_dir=cache / "networks")
    print(f"county network: {world.road.report.n_nodes:,} nodes, "
          f"{world.road.report.n_edges:,} edges (loaded in {time.perf_counter() - start:.1f} s)")
    return base, world


def scaled_placeholder(base: Scenario) -> Scenario:
    """The base with no sites or incidents, only to load the network."""
    return base.model_copy(update={"settlements": [], "depots": [], "team_bases": [],
                                   "water_stations": [], "shelters": [], "incidents": [],
                                   "generators": [], "disruptions": []})


def count_events(world: World) -> int:
    env = CountingEnvironment()
    simulate(world, replication=0, env=env)
    return sum(env.kinds.values())


def run_once(world: World) -> float:
    start = time.perf_counter()
    simulate(world, replication=0)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, default=None,
                        help="keep the county and its prepared network here (default: a "
                        "temporary directory)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scales", type=int, nargs="+", default=list(SCALES))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache or Path(tmp)
        cache.mkdir(parents=True, exist_ok=True)
        base, world = county_world(cache)
        per_event: dict[int, float] = {}
        for k in args.scales:
            w = world.with_scenario(scaled(base, world, k))
            events = count_events(w)  # also warms the travel-time caches
            model_s = bare_s = float("inf")
            for _ in range(args.rounds):
                model_s = min(model_s, run_once(w))
                bare_s = min(bare_s, bare_simpy(events))
            per_event[k] = model_s / bare_s
            s = w.scenario
            units = sum(g.count for b in s.team_bases for g in b.teams)
            rel = per_event[k] / per_event[min(per_event)]
            goal = f" (goal ≤ {GOAL}×)" if k == max(SCALES) else ""
            us, bare_us = model_s / events * 1e6, bare_s / events * 1e6
            print(f"×{k:<3} {len(s.settlements):4d} settlements, {len(s.depots):4d} depots, "
                  f"{units:5d} teams, {events:9,d} events: {model_s:7.3f} s ({us:5.1f} µs/event,"
                  f" bare SimPy {bare_us:4.2f} µs/event, best of {args.rounds}) → per event "
                  f"{rel:.2f}× ×1{goal}", flush=True)


if __name__ == "__main__":
    main()
