"""Model throughput: events per second of a replication vs bare SimPy on the same event count.

Run: ``python benchmarks/bench_model.py``. Prints both rates and the overhead ratio (goal: the
model keeps throughput within 3× of bare SimPy processing the same number of events).
"""

from __future__ import annotations

import time
from pathlib import Path

import simpy

from sim.model import simulate
from sim.scenario import load_scenario
from sim.world import World, build_world

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 10


class CountingEnvironment(simpy.Environment):
    """A SimPy environment that counts the events it schedules."""

    def __init__(self) -> None:
        super().__init__()
        self.scheduled = 0

    def schedule(self, event: simpy.Event, priority: int = 1, delay: float = 0) -> None:
        self.scheduled += 1
        super().schedule(event, priority, delay)


def bare_simpy(n_events: int) -> float:
    """Seconds for bare SimPy to process ``n_events`` timeouts (plus process bookkeeping)."""
    env = simpy.Environment()

    def ticker(count: int):  # type: ignore[no-untyped-def]
        for _ in range(count):
            yield env.timeout(0.001)

    per_process = 1000
    for _ in range(max(n_events // per_process, 1)):
        env.process(ticker(per_process))
    start = time.perf_counter()
    env.run()
    return time.perf_counter() - start


def count_events(world: World, replications: int) -> int:
    """Events the replications schedule (counted in a separate pass: counting costs time)."""
    events = 0
    for r in range(replications):
        env = CountingEnvironment()
        simulate(world, replication=r, env=env)
        events += env.scheduled
    return events


def run_model(world: World, replications: int) -> float:
    """Seconds taken by ``replications`` replications, set-up included."""
    start = time.perf_counter()
    for r in range(replications):
        simulate(world, replication=r)
    return time.perf_counter() - start


def main() -> None:
    for name in ("helsinki_storm", "nanjing_xuanwu_flood"):
        path = ROOT / "scenarios" / f"{name}.yaml"
        try:
            world = build_world(load_scenario(path), cache_dir=ROOT / "networks" / "cache")
        except Exception as exc:
            print(f"{name}: skipped ({exc})")
            continue
        replications = 20
        events = count_events(world, replications)  # also warms the travel-time caches
        # Side by side, best of ROUNDS each (this machine's timings vary between runs).
        model_s = bare_s = float("inf")
        for _ in range(ROUNDS):
            model_s = min(model_s, run_model(world, replications))
            bare_s = min(bare_s, bare_simpy(events))
        model_rate, bare_rate = events / model_s, events / bare_s
        print(f"{name}: {replications} replications, {events:,} events, best of {ROUNDS}")
        print(f"  model      {model_rate:12,.0f} events/s  ({model_s:.3f} s)")
        print(f"  bare SimPy {bare_rate:12,.0f} events/s  ({bare_s:.3f} s)")
        print(f"  overhead   {bare_rate / model_rate:.2f}× (goal ≤ 3×)")


if __name__ == "__main__":
    main()
