"""Evacuation cost: a county-sized scenario (100,000 people) run with and without evacuation.

Run: ``python benchmarks/bench_evacuation.py``. The shipped ``nanjing_evacuation.yaml``
scaled up on its network (builtin:nanjing): 40 settlements of 2,500 people at road nodes spread
over the extract, 12 shelters sized at 1.5 m² per person for everyone (plus 5 %), every
settlement ordered out (four in five on foot, one in five by bus), and
stockpiles for all. The same scenario without the orders (and without the buses) is the
baseline. Each is prepared once (network, walking network, snapping); the benchmark then times
whole replications — the model and its KPIs (``run_replication``) — side by side, best of
``ROUNDS``, and prints the ratio next to its goal (≤ 2×) for evacuees staying one day (the
same relief work as at home), and, for information, staying three days (three days of food to
deliver).
"""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim.metrics import evacuation_summary
from sim.run import run_replication
from sim.scenario import M2_PER_PERSON, parse_scenario
from sim.world import World, build_world

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "nanjing_evacuation.yaml"
PEOPLE = 100_000
SETTLEMENTS = 40
SHELTERS = 12
ROUNDS = 5
GOAL = 2.0


def county(base: dict[str, Any], world: World, *, evacuate: bool, stay_days: int = 1
           ) -> dict[str, Any]:
    """The base scenario scaled to :data:`PEOPLE` people (with or without evacuation; the
    evacuees stay ``stay_days``)."""
    rng = np.random.default_rng(2026)
    net = world.road
    nodes = rng.choice(net.n_nodes, SETTLEMENTS + SHELTERS, replace=False)
    place = [[float(net.lon[k]), float(net.lat[k])] for k in nodes]
    data = copy.deepcopy(base)
    each = PEOPLE // SETTLEMENTS
    data["settlements"] = []
    for i in range(SETTLEMENTS):
        s: dict[str, Any] = {"id": f"s{i}", "location": place[i], "people": each,
                             "onset_h": float(i % 4), "urgency": 3 + i % 3}
        if evacuate:
            s["evacuation"] = {"order_h": 0.5 + (i % 6) * 0.5, "share": 1.0,
                               "mode": "bus" if i % 5 == 4 else "walk",
                               "depart_over_h": 1.0, "stay_days": stay_days}
        data["settlements"].append(s)
    area = PEOPLE * 1.05 * M2_PER_PERSON / SHELTERS
    data["shelters"] = [{"id": f"h{k}", "location": place[SETTLEMENTS + k], "area_m2": area,
                         "category": "固定", "opening_delay_h": 0.5, "intake_per_h": 2000,
                         "stock": {"kit": 2000}} for k in range(SHELTERS)]
    if evacuate:
        data["evacuation"]["buses"] = [{"base": "district_warehouse", "count": 20, "seats": 45},
                                       {"base": "city_warehouse", "count": 20, "seats": 45}]
    else:
        data.pop("evacuation", None)
    for depot in data["depots"]:  # stock and trucks for a county: 100,000 people, three days
        depot["stock"] = {c: q * 25 for c, q in depot["stock"].items()}
        depot["trucks"]["count"] *= 4
    data.pop("uncertain", None)
    return data


def best_of(world: World) -> float:
    times = []
    for r in range(ROUNDS):
        start = time.perf_counter()
        run_replication(world, replication=r)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    cache = ROOT / "networks" / "cache"
    base = yaml.safe_load(BASE.read_text(encoding="utf-8"))
    base["settlements"][3]["evacuation"]["share"] = 0.8  # no distribution: same draws in both
    first = build_world(parse_scenario(base), cache_dir=cache)
    cases = {"without evacuation": (False, 1), "with evacuation (1 day at the shelter)": (True, 1),
             "with evacuation (3 days: 3 days of food)": (True, 3)}
    worlds = {}
    for label, (evacuate, days) in cases.items():
        start = time.perf_counter()
        worlds[label] = build_world(parse_scenario(
            county(base, first, evacuate=evacuate, stay_days=days)), cache_dir=cache)
        result = run_replication(worlds[label])  # warm: walking times are memoised per world
        print(f"{label}: prepared in {time.perf_counter() - start:.2f} s")
        summary = evacuation_summary(result.records, worlds[label].scenario)
        if summary is not None:
            print(f"  {summary['people_sheltered']:,} of {PEOPLE:,} people sheltered in "
                  f"{SHELTERS} shelters, {summary['people_without_place']:,} without a place, "
                  f"complete after {summary['evacuation_complete_h']:.1f} h; "
                  f"{len(result.records.bus_loads):,} bus loads, "
                  f"{len(result.records.deliveries):,} deliveries")
    times = {label: best_of(world) for label, world in worlds.items()}
    baseline = times["without evacuation"]
    print(f"per replication (model + KPIs, best of {ROUNDS}; {PEOPLE:,} people in "
          f"{SETTLEMENTS} settlements):")
    for label, seconds in times.items():
        ratio = seconds / baseline
        goal = f" (goal ≤ {GOAL:g}×)" if label.endswith("1 day at the shelter)") else ""
        print(f"  {label}: {seconds * 1000:.0f} ms → {ratio:.2f}×{goal}")


if __name__ == "__main__":
    main()
