"""Experiment throughput: replications per second on 1 vs 2 local workers, and the one-off
preparation cost (network, engines) against the per-replication cost.

Run: ``python benchmarks/bench_experiment.py`` (goal: ≥ 1.7× on 2 cores).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from sim.batch import run_experiment
from sim.experiment import load_experiment

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENT = ROOT / "experiments" / "helsinki_depot_sites.yaml"


def main() -> None:
    experiment, base = load_experiment(EXPERIMENT)
    experiment = experiment.model_copy(update={"replications": 40, "chunk_size": 5})
    cache = ROOT / "networks" / "cache"
    rates = {}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            run = run_experiment(experiment, base, Path(tmp) / "out", workers=workers,
                                 cache_dir=cache)
            total = time.perf_counter() - start
        reps = run.timings["replications_simulated"]
        rates[workers] = reps / run.timings["simulate_s"]
        print(f"{workers} worker(s): {reps} replications in {run.timings['simulate_s']:.2f} s "
              f"→ {rates[workers]:.1f} replications/s (total {total:.2f} s)")
        if workers == 1:
            per_rep = run.timings["simulate_s"] / reps
            print(f"  preparation (network + engines, once): {run.timings['prepare_s']:.3f} s "
                  f"= {run.timings['prepare_s'] / per_rep:.1f} replications' worth; "
                  f"per replication {per_rep * 1000:.1f} ms")
    print(f"speed-up on 2 workers: {rates[2] / rates[1]:.2f}× (goal ≥ 1.7×)")


if __name__ == "__main__":
    main()
