"""Queueing baseline (#20, item 2): an M/M/2 at ρ = 0.8 as a scenario vs Ciw and bare SimPy.

Run: ``python benchmarks/bench_queue.py [--customers 200000] [--rounds 3]``.

The scenario is the one ``reliefsim validate-model`` checks against Erlang C
(``sim.validation.queue_scenario``): one base with two units, no mobilisation, Poisson calls
at the base itself (zero travel), exponential work, FCFS. reliefsim simulates it; the call
times and work durations it drew are then fed, in the same order, to Ciw (``Sequential``
inter-arrival and service distributions) and to a bare SimPy M/M/c (a ``Resource`` of two), so
all three serve identical customers. Printed, best of ``--rounds`` side by side: each one's
time, reliefsim over Ciw (goal ≤ 1×) and over bare SimPy, the mean wait of each (identical
draws give identical waits, to rounding) and Erlang C's with the 99 % interval of the
simulated mean (batch means over 20 batches).
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import ciw
import numpy as np
import simpy

from sim.model import simulate
from sim.scenario import dump_scenario, parse_scenario
from sim.stats import t_ci
from sim.validation import JOB, QueueCase, default_world, erlang_c, queue_scenario

ROOT = Path(__file__).resolve().parents[1]
LAM, MU, SERVERS = 160.0, 100.0, 2
"""Per hour: 200,000 calls fit in a scenario's horizon (≤ one year) at 160 calls and 36 s of
work each; the same queue as 1.6 and 1 per hour, in units of 1/100 h."""
GOAL = 1.0


def reliefsim_run(customers: int) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Seconds for one replication, and the calls' times, work and waits in call order."""
    world = default_world(ROOT / "networks" / "cache")
    base = world.scenario.team_bases[0]
    node = world.node(base.id)
    location = [float(world.road.lon[node]), float(world.road.lat[node])]
    case = QueueCase("M/M/2 rho=0.80", servers=SERVERS, lam=LAM, mu=MU, cv=1.0,
                     arrivals_h=customers / LAM, replications=1, max_rel_err=1.0,
                     max_abs_err_p=1.0, drain_h=1.0)
    data = queue_scenario(case, network=dump_scenario(world.scenario)["network"],
                          location=location)
    placed = world.with_scenario(parse_scenario(data))
    start = time.perf_counter()
    records = simulate(placed, replication=0)
    seconds = time.perf_counter() - start
    inc = records.table("incidents")
    inc = inc[inc.type == JOB].sort_values(["call_h", "incident"])
    call = inc.call_h.to_numpy()
    work = (inc.done_h - inc.on_scene_h).to_numpy()
    return seconds, call, work, inc.first_arrival_h.to_numpy() - call


def ciw_run(call: np.ndarray, work: np.ndarray) -> tuple[float, np.ndarray]:
    """Ciw on the same customers: seconds and waits in arrival order."""
    gaps = np.diff(call, prepend=0.0).tolist()
    network = ciw.create_network(arrival_distributions=[ciw.dists.Sequential([*gaps, 1e12])],
                                 service_distributions=[ciw.dists.Sequential(work.tolist())],
                                 number_of_servers=[SERVERS])
    start = time.perf_counter()
    q = ciw.Simulation(network)
    q.simulate_until_max_customers(len(call), method="Finish")
    seconds = time.perf_counter() - start
    done = sorted(q.get_all_records(), key=lambda r: r.arrival_date)
    return seconds, np.array([r.waiting_time for r in done])


def simpy_run(call: np.ndarray, work: np.ndarray) -> tuple[float, np.ndarray]:
    """Bare SimPy on the same customers: seconds and waits in arrival order."""
    env = simpy.Environment()
    units = simpy.Resource(env, capacity=SERVERS)
    waits = np.zeros(len(call))

    def customer(i: int):  # type: ignore[no-untyped-def]
        with units.request() as req:
            yield req
            waits[i] = env.now - call[i]
            yield env.timeout(work[i])

    def source():  # type: ignore[no-untyped-def]
        for i, t in enumerate(call):
            yield env.timeout(t - env.now)
            env.process(customer(i))

    start = time.perf_counter()
    env.process(source())
    env.run()
    return time.perf_counter() - start, waits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    best = {"reliefsim": math.inf, "Ciw": math.inf, "SimPy": math.inf}
    for _ in range(args.rounds):
        seconds, call, work, waits = reliefsim_run(args.customers)
        best["reliefsim"] = min(best["reliefsim"], seconds)
        ciw_s, ciw_waits = ciw_run(call, work)
        best["Ciw"] = min(best["Ciw"], ciw_s)
        simpy_s, simpy_waits = simpy_run(call, work)
        best["SimPy"] = min(best["SimPy"], simpy_s)
    theory = erlang_c(LAM, MU, SERVERS)[1]
    batches = np.array([b.mean() for b in np.array_split(waits, 20)])
    ci = t_ci(batches, level=0.99)
    print(f"M/M/{SERVERS} at ρ = {LAM / (SERVERS * MU):.2f}, {len(call):,} customers "
          f"(best of {args.rounds}):")
    for name, s in best.items():
        print(f"  {name:<9} {s:7.2f} s = {s / len(call) * 1e6:5.1f} µs per customer")
    print(f"  reliefsim / Ciw = {best['reliefsim'] / best['Ciw']:.2f}× (goal ≤ {GOAL:g}×); "
          f"reliefsim / bare SimPy = {best['reliefsim'] / best['SimPy']:.2f}×")
    s = 3600  # seconds per hour
    print(f"  mean wait (s): reliefsim {waits.mean() * s:.3f}, Ciw {ciw_waits.mean() * s:.3f}, "
          f"SimPy {simpy_waits.mean() * s:.3f}; largest difference per customer "
          f"{max(np.abs(waits - ciw_waits).max(), np.abs(waits - simpy_waits).max()) * s:.1e} s;"
          f" Erlang C {theory * s:.3f} (99 % interval of the simulated mean "
          f"[{ci.low * s:.3f}, {ci.high * s:.3f}]: "
          f"{'holds' if ci.low <= theory <= ci.high else 'misses'} it)")


if __name__ == "__main__":
    main()
