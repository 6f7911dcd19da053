"""Experiments at scale (#20, item 4): a 1,000-replication experiment of the Nanjing scenario.

Run: ``python benchmarks/bench_experiment.py [--replications 1000] [--workers 1 2]``.

The experiment is ``experiments/nanjing_street_points.yaml`` (4 placements × 2 rainstorm
variants = 8 configurations) at ``--replications`` each, without its sequential stopping
rule, run as a planner runs ``reliefsim compare`` (simulation, the results store, then the
summary and one example run per configuration), each worker count in a fresh process.
Printed next to the goals, side by side in one run:

- replications per second on 2 workers over 1 (goal ≥ 1.8×);
- peak memory of the whole process tree (the command and its workers, polled every 20 ms;
  goal ≤ 300 MB) and the largest single process;
- files left in the results directory (goal ≤ 50), and how many of them are the example
  runs (a fixed set per configuration, whatever the number of replications);
- where a replication's time goes, measured in one process on the same replications: the
  simulation itself, drawing its uncertain inputs (a new validated scenario per replication),
  the KPIs (person relief, targets, resources), the chunk tables and writing them (goal:
  KPIs, tables and storage together ≤ the simulation).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENT = ROOT / "experiments" / "nanjing_street_points.yaml"
GOALS = {"speed_up": 1.8, "peak_mb": 300, "files": 50, "overhead": 1.0}


def _experiment(replications: int):  # type: ignore[no-untyped-def]
    from sim.experiment import load_experiment

    experiment, base = load_experiment(EXPERIMENT)
    return experiment.model_copy(update={"replications": replications, "sequential": None}), base


def child(replications: int, workers: int, out: Path, cache: Path) -> None:
    """Run the experiment as ``reliefsim compare`` does and print its timings as JSON."""
    from sim.batch import run_experiment
    from sim.compare import finish_experiment

    experiment, base = _experiment(replications)
    start = time.perf_counter()
    run = run_experiment(experiment, base, out, workers=workers, cache_dir=cache)
    simulated = time.perf_counter()
    finish_experiment(run, cache_dir=cache)
    print(json.dumps({**run.timings, "run_s": simulated - start,
                      "finish_s": time.perf_counter() - simulated}))


def measure(replications: int, workers: int, cache: Path) -> dict:
    """One worker count in a fresh process: its timings, peak memory and files."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child", str(replications), str(workers), str(out),
             str(cache)], stdout=subprocess.PIPE, text=True)
        root = psutil.Process(proc.pid)
        peak_tree = peak_one = 0
        while proc.poll() is None:
            try:
                rss = [p.memory_info().rss for p in [root, *root.children(recursive=True)]]
            except psutil.Error:
                rss = []
            peak_tree, peak_one = max(peak_tree, sum(rss)), max(peak_one, max(rss, default=0))
            time.sleep(0.02)
        stdout, _ = proc.communicate()
        if proc.returncode:
            raise SystemExit(f"the experiment failed (exit {proc.returncode})")
        files = [p for p in out.rglob("*") if p.is_file()]
        examples = [p for p in files if "runs" in p.relative_to(out).parts[:1]]
        return {**json.loads(stdout.splitlines()[-1]), "peak_tree_mb": peak_tree / 2**20,
                "peak_one_mb": peak_one / 2**20, "files": len(files),
                "example_files": len(examples)}


def _split_round(world, experiment, base, chunks, seed: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """One round of the cost split: seconds to draw the inputs, simulate, measure the KPIs
    (person relief, targets, resources), build the chunk tables and store them."""
    from sim.batch import ChunkTables, ExperimentRun, write_chunk
    from sim.metrics import kpis, person_relief, resource_summary
    from sim.model import simulate
    from sim.run import RunResult, drawn_world

    clock = time.perf_counter
    reps = range(chunks[0].start, chunks[-1].stop)
    start = clock()
    worlds = [drawn_world(world, seed, r) for r in reps]
    drawn = clock()
    records = [simulate(w, seed=seed, replication=r) for r, w in zip(reps, worlds, strict=True)]
    simulated = clock()
    results = []
    for r, w, rec in zip(reps, worlds, records, strict=True):
        relief = person_relief(rec, w.scenario)
        results.append(RunResult(seed, r, w.scenario.dispatch.policy, rec, relief,
                                 kpis(rec, w.scenario, relief), resource_summary(rec, w.scenario)))
    measured = clock()
    produced = []
    for chunk in chunks:
        tables = ChunkTables(chunk.config)
        for r in range(chunk.start, chunk.stop):
            tables.add(r, results[r])
        produced.append((chunk, tables.tables()))
    tabled = clock()
    with tempfile.TemporaryDirectory() as tmp:
        run = ExperimentRun(Path(tmp), experiment, base, [], "hash")
        run.chunk_dir.mkdir()
        for chunk, tables in produced:
            write_chunk(run.chunk_dir, chunk, tables)
        run.fold()
        stored = clock()
    return {"simulation": simulated - drawn, "inputs drawn": drawn - start,
            "kpis": measured - simulated, "tables": tabled - measured, "storage": stored - tabled}


def cost_split(replications: int, cache: Path, rounds: int = 3) -> dict[str, float]:
    """Seconds per replication of the simulation, the KPIs, the chunk tables and writing them,
    on the first configuration (in this process; each part the best of ``rounds``)."""
    from sim.batch import Chunk
    from sim.experiment import configurations
    from sim.world import build_world

    experiment, base = _experiment(replications)
    config = configurations(experiment, base)[0]
    world = build_world(base, cache_dir=cache).with_scenario(config.scenario)
    size = experiment.chunk_size
    chunks = [Chunk(config.id, a, min(a + size, replications))
              for a in range(0, replications, size)]
    best: dict[str, float] = {}
    for _ in range(rounds):
        times = _split_round(world, experiment, base, chunks, experiment.master_seed)
        best = {k: min(v, best.get(k, v)) for k, v in times.items()}
    return {k: v / replications for k, v in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replications", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--split", type=int, default=200,
                        help="replications for the cost split (0: skip it)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        reps, workers, out, cache = args.child
        child(int(reps), int(workers), Path(out), Path(cache))
        return
    cache = ROOT / "networks" / "cache"
    n = args.replications * 8
    print(f"{EXPERIMENT.name}: 8 configurations × {args.replications} replications = {n:,}")
    rates = {}
    for workers in args.workers:
        m = measure(args.replications, workers, cache)
        rates[workers] = m["replications_simulated"] / m["simulate_s"]
        print(f"{workers} worker(s): {m['replications_simulated']:,} replications in "
              f"{m['simulate_s']:.1f} s → {rates[workers]:.1f}/s; summary and example runs "
              f"{m['finish_s']:.1f} s; peak memory {m['peak_tree_mb']:.0f} MB in all "
              f"(goal ≤ {GOALS['peak_mb']} MB), largest process {m['peak_one_mb']:.0f} MB; "
              f"{m['files']} files (goal ≤ {GOALS['files']}), {m['example_files']} of them "
              f"the example runs")
    if 1 in rates and 2 in rates:
        print(f"speed-up on 2 workers: {rates[2] / rates[1]:.2f}× (goal ≥ {GOALS['speed_up']}×)")
    if args.split:
        split = cost_split(args.split, cache)
        rest = split["kpis"] + split["tables"] + split["storage"]  # drawing is model input
        print("per replication: " + ", ".join(f"{k} {v * 1000:.2f} ms" for k, v in split.items())
              + f" → KPIs, tables and storage = {rest / split['simulation']:.2f}× the simulation "
              f"(goal ≤ {GOALS['overhead']}×)")


if __name__ == "__main__":
    main()
