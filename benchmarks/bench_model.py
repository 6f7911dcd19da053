"""Model throughput: events per second of a replication vs bare SimPy on the same event count.

Run: ``python benchmarks/bench_model.py``. Prints, side by side and best of ``ROUNDS``, for
the embedded default (whole, relief only and rescue only) and the Nanjing scenario:

- the model's events per second over whole replications (set-up included);
- SimPy alone processing the model's own event mix (the same numbers of processes,
  interrupts, container and store operations, plain events and timeouts, with no model
  logic): the model within 2× of it is #20's goal (item 3);
- bare SimPy processing the same number of timeouts (#3's retired measure), which splits the
  overhead into what SimPy's richer events cost and what the model's own Python work adds.

Then the relief dispatcher of issue #15 against the one before it (a frozen copy in
``baseline_relief.py``), time per replication on every shipped scenario; goal ≤ 1.5×.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections import Counter
from collections.abc import Generator
from pathlib import Path
from typing import Any

import simpy

from sim.model import simulate
from sim.scenario import load_scenario
from sim.world import World, build_world

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 10
MIX_GOAL = 2.0
"""The model's time over SimPy alone processing the same mix of events (#20, item 3; it
replaces #3's cost per event over bare timeouts, which penalised needing fewer events)."""
REPLICATIONS = 20
CONCURRENT = 25
"""Processes alive at once in the event-mix replay (a replication has a few dozen)."""


class CountingEnvironment(simpy.Environment):
    """A SimPy environment that counts the events it schedules, by kind."""

    def __init__(self) -> None:
        super().__init__()
        self.kinds: Counter[str] = Counter()

    def schedule(self, event: simpy.Event, priority: int = 1, delay: float = 0) -> None:
        self.kinds[type(event).__name__] += 1
        super().schedule(event, priority, delay)


def bare_simpy(n_events: int) -> float:
    """Seconds for bare SimPy to process ``n_events`` timeouts (plus process bookkeeping)."""
    env = simpy.Environment()

    def ticker(count: int) -> Generator[simpy.Event, Any, None]:
        for _ in range(count):
            yield env.timeout(0.001)

    per_process = 1000
    for _ in range(max(n_events // per_process, 1)):
        env.process(ticker(per_process))
    start = time.perf_counter()
    env.run()
    return time.perf_counter() - start


def event_mix(kinds: Counter[str]) -> float:
    """Seconds for SimPy alone to process the model's event mix (no model logic)."""
    env = simpy.Environment()
    box = simpy.Container(env, init=1e12)
    store = simpy.Store(env)
    store.items.extend(range(kinds["StoreGet"]))
    ops = (["timeout"] * max(kinds["Timeout"] - kinds["Condition"], 0)
           + ["condition"] * kinds["Condition"] + ["put"] * kinds["ContainerPut"]
           + ["get"] * kinds["ContainerGet"] + ["store_put"] * kinds["StorePut"]
           + ["store_get"] * kinds["StoreGet"] + ["event"] * kinds["Event"]
           + ["interrupt"] * kinds["Interruption"])
    random.Random(0).shuffle(ops)
    n_processes = max(kinds["Initialize"], 1)
    parts = [ops[k::n_processes] for k in range(n_processes)]

    def sleeper() -> Generator[simpy.Event, Any, None]:
        while True:  # parked, as a vehicle cut off by a closure, until interrupted
            with contextlib.suppress(simpy.Interrupt):
                yield env.event()

    parked = env.process(sleeper())

    def worker(k: int) -> Generator[simpy.Event, Any, None]:
        for op in parts[k]:
            if op == "timeout":
                yield env.timeout(0.01)
            elif op == "condition":
                yield env.timeout(0.01) | env.event()  # as driving: arrival or a change
            elif op == "put":
                yield box.put(1.0)
            elif op == "get":
                yield box.get(1.0)
            elif op == "store_put":
                yield store.put(0)
            elif op == "store_get":
                yield store.get()
            elif op == "interrupt":
                parked.interrupt()  # as a road change interrupts the vehicles on the road
            else:
                event = env.event()
                event.succeed()
                yield event
        if k + CONCURRENT < n_processes:  # processes come and go, as in a replication
            env.process(worker(k + CONCURRENT))

    start = time.perf_counter()
    for k in range(min(CONCURRENT, n_processes)):
        env.process(worker(k))
    env.run()  # ends when only the parked process is left
    return time.perf_counter() - start


def count_events(world: World, replications: int) -> Counter[str]:
    """Events the replications schedule, by kind (a separate pass: counting costs time)."""
    kinds: Counter[str] = Counter()
    for r in range(replications):
        env = CountingEnvironment()
        simulate(world, replication=r, env=env)
        kinds += env.kinds
    return kinds


def run_model(world: World, replications: int) -> float:
    """Seconds taken by ``replications`` replications, set-up included."""
    start = time.perf_counter()
    for r in range(replications):
        simulate(world, replication=r)
    return time.perf_counter() - start


def measure(label: str, world: World) -> None:
    """Print the model's events/s against bare SimPy and against SimPy on the model's mix."""
    kinds = count_events(world, REPLICATIONS)  # also warms the travel-time caches
    events = sum(kinds.values())
    # Side by side, best of ROUNDS each (this machine's timings vary between runs).
    model_s = bare_s = mix_s = float("inf")
    for _ in range(ROUNDS):
        model_s = min(model_s, run_model(world, REPLICATIONS))
        bare_s = min(bare_s, bare_simpy(events))
        mix_s = min(mix_s, event_mix(kinds))
    model_rate, bare_rate, mix_rate = events / model_s, events / bare_s, events / mix_s
    print(f"{label}: {REPLICATIONS} replications, {events:,} events, best of {ROUNDS}")
    print(f"  model               {model_rate:10,.0f} events/s  ({model_s:.3f} s, "
          f"{model_s / REPLICATIONS * 1e3:.1f} ms per replication)")
    print(f"  bare SimPy timeouts {bare_rate:10,.0f} events/s  ({bare_s:.3f} s)")
    print(f"  SimPy, model's mix  {mix_rate:10,.0f} events/s  ({mix_s:.3f} s)")
    print(f"  model over SimPy replaying its own event mix {mix_rate / model_rate:.2f}× "
          f"(goal ≤ {MIX_GOAL:g}×, #20 item 3); over bare timeouts {bare_rate / model_rate:.2f}× "
          f"= {bare_rate / mix_rate:.2f}× SimPy's own events × the model's logic")


DISPATCH_GOAL = 1.5


def dispatch_cost(name: str, world: World) -> None:
    """Time per replication with the new relief dispatcher vs the one before #15."""
    import baseline_relief as old  # benchmarks/ is on sys.path (the script's folder)

    import sim.model.simulation as simulation

    class Before(old.Relief):  # type: ignore[misc]
        def __init__(self, *args: Any, at_home: Any = None, **kwargs: Any) -> None:
            assert not at_home  # it predates evacuation: only scenarios without it
            super().__init__(*args, **kwargs)

        def share_aircraft(self, rescue: Any) -> None:
            """Helicopters carried no goods before #15."""

    new = simulation.Relief
    times = {"new": float("inf"), "before #15": float("inf")}
    for _ in range(ROUNDS):
        for label, relief in (("new", new), ("before #15", Before)):
            simulation.Relief = relief  # type: ignore[misc]
            try:
                times[label] = min(times[label], run_model(world, REPLICATIONS) / REPLICATIONS)
            finally:
                simulation.Relief = new  # type: ignore[misc]
    ratio = times["new"] / times["before #15"]
    print(f"{name}: relief dispatch {times['new'] * 1e3:.1f} ms vs {times['before #15'] * 1e3:.1f}"
          f" ms per replication before #15 = {ratio:.2f}× (goal ≤ {DISPATCH_GOAL}×)")


def main() -> None:
    for name in ("helsinki_storm", "nanjing_xuanwu_flood"):
        path = ROOT / "scenarios" / f"{name}.yaml"
        try:
            world = build_world(load_scenario(path), cache_dir=ROOT / "networks" / "cache")
        except Exception as exc:
            print(f"{name}: skipped ({exc})")
            continue
        measure(name, world)
        if name == "helsinki_storm":  # each half of the model on its own
            scenario = world.scenario
            measure(f"{name}, relief only (no incidents)", world.with_scenario(
                scenario.model_copy(update={"incidents": [], "generators": []})))
            measure(f"{name}, rescue only (no depots)", world.with_scenario(
                scenario.model_copy(update={"depots": []})))
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        try:
            world = build_world(load_scenario(path), cache_dir=ROOT / "networks" / "cache")
        except Exception as exc:
            print(f"{path.stem}: skipped ({exc})")
            continue
        if any(s.evacuation is not None for s in world.scenario.settlements):
            print(f"{path.stem}: skipped (the dispatcher before #15 predates evacuation)")
            continue
        dispatch_cost(path.stem, world)


if __name__ == "__main__":
    main()
