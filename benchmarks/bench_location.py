"""Benchmark sim.location: OR-Library pmed1-10 vs published optima, and each model on 100x400.

Run: python benchmarks/bench_location.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from sim.location import k_best, lscp, mclp, p_center, p_median, read_pmed


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")


PMED_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "pmed"


def bench_pmed() -> None:
    opt_file = PMED_DIR / "pmedopt.txt"
    if not opt_file.exists():
        _say(f"skipping OR-Library benchmark: {PMED_DIR} not found")
        return
    optima = {}
    for line in opt_file.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].startswith("pmed"):
            optima[parts[0]] = float(parts[1])
    _say(
        f"{'instance':<9}{'n':>5}{'p':>4}{'objective':>11}{'optimum':>9}{'ok':>4}"
        f"{'status':>9}{'time_s':>8}"
    )
    total = 0.0
    for k in range(1, 11):
        name = f"pmed{k}"
        cost, p = read_pmed(PMED_DIR / f"{name}.txt")
        t0 = time.perf_counter()
        sol = p_median(cost, np.ones(cost.shape[1]), p, time_limit_s=300)
        dt = time.perf_counter() - t0
        total += dt
        ok = "yes" if sol.objective == optima[name] else "NO"
        _say(
            f"{name:<9}{cost.shape[0]:>5}{p:>4}{sol.objective:>11.0f}{optima[name]:>9.0f}"
            f"{ok:>4}{sol.status:>9}{dt:>8.2f}"
        )
    _say(f"total p-median time: {total:.2f} s\n")


def bench_random(n: int = 100, m: int = 400, p: int = 10, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    sites, demand = rng.random((n, 2)) * 100, rng.random((m, 2)) * 100
    cost = np.linalg.norm(sites[:, None, :] - demand[None, :, :], axis=2) / 40.0  # hours
    weights = rng.integers(1, 1000, size=m).astype(float)
    standard = float(np.quantile(cost.min(axis=0), 0.9)) * 2.0
    runs = {
        "p_median(auto)": lambda: p_median(cost, weights, p),
        "p_median(radius)": lambda: p_median(cost, weights, p, formulation="radius"),
        "p_median(standard)": lambda: p_median(cost, weights, p, formulation="standard"),
        "mclp": lambda: mclp(cost, weights, p, standard),
        "lscp": lambda: lscp(cost, weights, standard),
        "p_center": lambda: p_center(cost, weights, p),
        "k_best(p_median, 5)": lambda: k_best(p_median, 5, cost, weights, p, time_limit_s=300)[-1],
    }
    _say(f"random {n}x{m}, p={p}, standard={standard:.3f} h")
    _say(f"{'model':<22}{'objective':>14}{'sites':>7}{'status':>10}{'time_s':>8}")
    for name, run in runs.items():
        t0 = time.perf_counter()
        sol = run()
        dt = time.perf_counter() - t0
        _say(f"{name:<22}{sol.objective:>14.4f}{len(sol.open_sites):>7}{sol.status:>10}{dt:>8.2f}")


def main() -> int:
    bench_pmed()
    bench_random()
    return 0


if __name__ == "__main__":
    sys.exit(main())
