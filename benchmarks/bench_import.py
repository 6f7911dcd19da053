"""Importing a 1,000-row Excel ledger of settlements into a scenario (#16: "in a few seconds").

Prints the time of `reliefsim import` (in-process, the YAML merge and validation included)
next to its goal. Run: python benchmarks/bench_import.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
from openpyxl import Workbook

from sim.importer import import_into
from sim.network import load_network

ROOT = Path(__file__).resolve().parents[1]
GOAL_S = 5.0


def main() -> None:
    net = load_network("builtin:helsinki")
    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        book = Workbook()
        book.active.append(["名称", "人口", "经度", "纬度", "受灾时间(h)"])
        for i in range(1000):
            k = int(rng.integers(len(net.lon)))
            book.active.append([f"村{i:04d}", int(rng.integers(50, 3000)), float(net.lon[k]),
                                float(net.lat[k]), float(rng.integers(0, 12))])
        ledger = folder / "台账.xlsx"
        book.save(ledger)
        best = float("inf")
        for _ in range(3):
            scenario = folder / "scenario.yaml"
            scenario.write_text((ROOT / "scenarios" / "helsinki_storm.yaml").read_text("utf-8"),
                                encoding="utf-8")
            start = time.perf_counter()
            result = import_into("settlements", ledger, scenario)
            best = min(best, time.perf_counter() - start)
        assert len(result.added) == 1000
    verdict = "met" if best <= GOAL_S else "NOT met"
    print(f"import of a 1,000-row Excel ledger: {best:.2f} s (best of 3)   goal ≤ {GOAL_S:g} s "
          f"— {verdict}")


if __name__ == "__main__":
    main()
