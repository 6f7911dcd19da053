"""Start-up of the command line (#20, item 6): ``reliefsim validate`` of the default scenario.

Times, in fresh processes (best of N rounds, on a warm network cache), ``reliefsim validate
scenarios/nanjing_xuanwu_flood.yaml`` next to the import floor ``python -c "import typer,
rich, pydantic, numpy"`` (what any typer + rich + pydantic + numpy program pays), and prints
the ratio and the absolute time next to the goal (≤ 0.5 s).

Then where the rest goes, measured inside fresh processes (so two noisy process times are
never subtracted): what each library the validate path really uses on a cache hit costs on
top of the floor ("alone") and on top of the floor and all the others ("left out": what
dropping it alone would save) — the YAML reader, the network's graph and geometry, the k-d
tree for snapping, the sparse Dijkstra — the floor with
all of them (the floor of validate as the code stands), and reliefsim's own part once they
are loaded (importing its modules, then the command itself).

Wall time and CPU time (user + system of the child) of whole processes are both printed; on
a shared machine the CPU time is the steadier. Run:
python benchmarks/bench_startup.py [--repeats N]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "scenarios" / "nanjing_xuanwu_flood.yaml"
GOAL_S = 0.5
FLOOR = ["typer", "rich", "pydantic", "numpy"]
#: Libraries the validate path uses on a cache hit, and what for.
NEEDED = {
    "yaml": "reading the scenario",
    "shapely": "the graph's edge geometry",
    "scipy.spatial": "snapping sites (cKDTree)",
    "scipy.sparse.csgraph": "travel times (Dijkstra)",
}
#: Libraries that share most of their imports, also left out together.
GROUPS = {"scipy (both)": ("scipy.spatial", "scipy.sparse.csgraph")}
#: In a child: import ``before``, then time importing ``after`` (wall seconds on stdout).
TIME_IMPORT = """
import importlib, sys, time
for name in sys.argv[1].split(","):
    if name: importlib.import_module(name)
start = time.perf_counter()
for name in sys.argv[2].split(","):
    importlib.import_module(name)
print(time.perf_counter() - start)
"""
#: In a child: import the floor and every library, then time reliefsim's own part.
TIME_OWN = """
import importlib, sys, time
for name in sys.argv[1].split(","):
    importlib.import_module(name)
start = time.perf_counter()
from sim.cli import app
import sim.scenario, sim.world
modules = time.perf_counter()
sys.argv = ["reliefsim", "validate", *sys.argv[2:]]
try:
    app()
except SystemExit:
    pass
print(modules - start, time.perf_counter() - modules, file=sys.stderr)
"""


def run(args: list[str]) -> tuple[float, float, str]:
    """Wall and CPU seconds of one child process (from the repo root), and its stderr."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout + done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="rounds (best of)")
    repeats = parser.parse_args().repeats
    py = sys.executable
    floor, needed = ",".join(FLOOR), ",".join(FLOOR + list(NEEDED))

    with tempfile.TemporaryDirectory() as cache:
        target = [str(DEFAULT), "--cache-dir", cache]
        validate = [py, "-m", "sim", "validate", *target]
        run(validate)  # warm the network cache
        whole = {  # whole processes: wall / CPU
            "python -c pass": [py, "-c", "pass"],
            f"import floor ({', '.join(FLOOR)})": [py, "-c", f"import {floor}"],
            "import sim.cli": [py, "-c", "import sim.cli"],
            "reliefsim validate --schema-only": [*validate, "--schema-only"],
            "reliefsim validate (default)": validate,
            "the floor of validate (floor + libraries)": [py, "-c", f"import {needed}"],
        }
        inner = {  # seconds measured inside the child
            **{f"alone {name}": [py, "-c", TIME_IMPORT, floor, name] for name in NEEDED},
            **{f"left out {name}": [py, "-c", TIME_IMPORT,
                                    ",".join(n for n in needed.split(",") if n != name), name]
               for name in NEEDED},
            **{f"left out {group}": [py, "-c", TIME_IMPORT,
                                     ",".join(n for n in needed.split(",") if n not in names),
                                     ",".join(names)]
               for group, names in GROUPS.items()},
        }
        own = [py, "-c", TIME_OWN, needed, *target]
        best: dict[str, tuple[float, ...]] = {}
        for _ in range(repeats):  # rounds interleave the commands: a busy spell hits all alike
            for name, args in whole.items():
                wall, cpu, _out = run(args)
                best[name] = tuple(map(min, zip(best.get(name, (wall, cpu)), (wall, cpu),
                                                strict=True)))
            for name, args in inner.items():
                seconds = float(run(args)[2].split()[0])
                best[name] = (min(best.get(name, (seconds,))[0], seconds),)
            modules, command = map(float, run(own)[2].split()[-2:])
            best["own"] = tuple(map(min, zip(best.get("own", (modules, command)),
                                             (modules, command), strict=True)))

    print(f"start-up, best of {repeats} (wall / CPU seconds of the whole process)")
    for name in whole:
        print(f"  {name:44s} {best[name][0]:6.3f} / {best[name][1]:.3f}")
    print("libraries the validate path uses beyond the floor (seconds to import, in-process):")
    for name, why in NEEDED.items():
        print(f"  {name:22s} alone {best['alone ' + name][0]:.3f}   "
              f"left out saves {best['left out ' + name][0]:.3f}   ({why})")
    for group in GROUPS:
        print(f"  {group:22s} {'':11s}   left out saves {best['left out ' + group][0]:.3f}")
    modules, command = best["own"]
    print(f"reliefsim's own part, the libraries loaded: its modules {modules:.3f}, the command "
          f"{command:.3f} (reading the YAML, the cached network, snapping, service areas, "
          "printing)")
    result = best["reliefsim validate (default)"][0]
    floor_s = best[f"import floor ({', '.join(FLOOR)})"][0]
    needed_s = best["the floor of validate (floor + libraries)"][0]
    verdict = "met" if result <= GOAL_S else "NOT met"
    print(f"reliefsim validate of the default: {result:.2f} s = {result / floor_s:.1f}× the "
          f"import floor ({floor_s:.2f} s); the floor with the libraries it uses "
          f"{needed_s:.2f} s   goal ≤ {GOAL_S:g} s — {verdict}")


if __name__ == "__main__":
    main()
