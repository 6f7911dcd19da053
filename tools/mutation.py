"""Mutation testing of the model, KPIs, statistics and experiments, in bounded time.

Runs mutmut (configured in pyproject.toml: ``sim/model/*``, ``sim/metrics.py``,
``sim/stats.py``, ``sim/experiment.py``, ``sim/batch.py``; the tests marked ``slow`` are left
out) for at most ``--minutes`` on ``--children`` processes, then prints the score per module
and every surviving mutant. mutmut keeps its results in ``mutants/``, so a run that hits the
time limit continues where it stopped the next time. Mutants judged equivalent (no test can
tell them apart, with the reason) are listed in ``tools/equivalent_mutants.txt`` and leave the
score's denominator.

    python tools/mutation.py --minutes 60 --children 2
    python tools/mutation.py stats metrics     # only these modules (sim.stats, sim.metrics)
    python tools/mutation.py --report          # score of what has run so far, no new runs
    python tools/mutation.py --retest-survivors model.relief   # after adding tests for them
    python tools/mutation.py --sample 0.2 model   # a seeded random fifth of each module

Model mutants cost 5–60 s each on 2 cores (a survivor runs every test of its function), so
the model's ~1,900 mutants take many hours; ``--sample F`` runs a seeded random share F of
each module's mutants (the same ones every time) and the report then also gives each
module's score on that sample with a 95 % (Wilson) interval: an unbiased estimate of the
whole module's score, where the mutants run so far in file order are not.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENT = ROOT / "tools" / "equivalent_mutants.txt"
GOAL = 0.90
KILLED = {"killed", "timeout", "segfault", "suspicious"}
"""Outcomes that count as caught (a timeout or crash is the test run noticing)."""
LINE = re.compile(r"^\s*(?P<name>[\w.]+__mutmut_\d+): (?P<status>[\w ]+?)\s*$")


SAMPLE_SEED = 20261126
TEST_TIMEOUT_S = 180
"""Seconds one test may take under a mutant (every test of the selection takes < 20 s alone;
a failure by this limit counts as a kill, so it leaves room for a busy machine)."""


def all_mutants() -> list[str]:
    """Every mutant mutmut generated (from its ``.meta`` files), sorted."""
    names = []
    for meta in (ROOT / "mutants" / "sim").rglob("*.py.meta"):
        names += json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {})
    return sorted(names)


def _wanted(name: str, modules: list[str]) -> bool:
    return not modules or any(module(name) == f"sim.{m.removeprefix('sim.')}"
                              or module(name).startswith(f"sim.{m.removeprefix('sim.')}.")
                              for m in modules)


def sample(fraction: float, modules: list[str] = ()) -> set[str]:
    """A seeded random share ``fraction`` of each module's mutants (at least one each)."""
    by_module: dict[str, list[str]] = defaultdict(list)
    for name in all_mutants():
        if _wanted(name, list(modules)):
            by_module[module(name)].append(name)
    chosen: set[str] = set()
    for mod, names in sorted(by_module.items()):
        rng = random.Random(f"{SAMPLE_SEED}:{mod}")
        chosen.update(rng.sample(names, max(1, math.ceil(fraction * len(names)))))
    return chosen


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion k / n."""
    if n == 0:
        return math.nan, math.nan
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def run(minutes: float, children: int, modules: list[str], fraction: float | None = None
        ) -> None:
    env = {**os.environ, "RELIEFSIM_SHARED_DATA": str(ROOT.parent / "shared" / "data"),
           # a mutant that hangs one test fails it within a minute (pytest-timeout), instead
           # of waiting out mutmut's budget for all the tests of its function
           "PYTEST_ADDOPTS": f"--timeout={TEST_TIMEOUT_S}"}
    deadline = time.monotonic() + minutes * 60
    for _ in range(2):  # a second pass when mutmut regenerated changed functions' mutants
        names = [f"sim.{m.removeprefix('sim.')}.*" for m in modules]
        if fraction is not None:
            done = results()
            names = sorted(n for n in sample(fraction, modules) if done.get(n, "not checked")
                           in ("not checked", "no result"))
            if not names:
                print("every sampled mutant has a result")
                return
        if not _mutmut(names, children, env, deadline - time.monotonic()) or fraction is None:
            return


def _mutmut(names: list[str], children: int, env: dict[str, str], seconds: float) -> bool:
    """Run mutmut on ``names`` for at most ``seconds``; whether it finished."""
    log = ROOT / "mutants" / "last_run.log"
    try:
        with log.open("w", encoding="utf-8") as out:
            done = subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children",
                                   str(children), *names], cwd=ROOT, env=env,
                                  timeout=max(seconds, 1), stdout=out,
                                  stderr=subprocess.STDOUT, check=False)
    except subprocess.TimeoutExpired:
        print("time limit reached; run again to continue")
        return False
    if done.returncode:
        tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
        print(f"mutmut stopped with exit code {done.returncode} (log: {log}):\n{tail}")
        return False
    return True


def results() -> dict[str, str]:
    out = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"],
                         cwd=ROOT, capture_output=True, text=True, check=False).stdout
    found = {}
    for line in out.splitlines():
        match = LINE.match(line)
        if match:
            found[match["name"]] = match["status"].strip()
    return found


def equivalent() -> dict[str, str]:
    if not EQUIVALENT.exists():
        return {}
    found = {}
    for line in EQUIVALENT.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, reason = line.partition(" ")
            found[name] = reason.strip()
    return found


def module(name: str) -> str:
    return name.split(".x_")[0].split(".xǁ")[0]


def report(fraction: float | None = None) -> float:
    outcome = results()
    skip = equivalent()
    tally: dict[str, Counter[str]] = defaultdict(Counter)
    survivors: dict[str, list[str]] = defaultdict(list)
    for name, status in outcome.items():
        mod = module(name)
        if name in skip:
            tally[mod]["equivalent"] += 1
        elif status in KILLED:
            tally[mod]["killed"] += 1
        elif status in ("survived", "no tests"):
            tally[mod]["survived"] += 1
            survivors[mod].append(f"{name} ({status})")
        else:
            tally[mod]["not run"] += 1
    total_killed = sum(t["killed"] for t in tally.values())
    total_judged = total_killed + sum(t["survived"] for t in tally.values())
    print(f"{'module':<28} {'killed':>7} {'survived':>9} {'equiv.':>7} {'not run':>8} "
          f"{'score':>7}")
    for mod in sorted(tally):
        t = tally[mod]
        judged = t["killed"] + t["survived"]
        score = t["killed"] / judged if judged else float("nan")
        print(f"{mod:<28} {t['killed']:>7} {t['survived']:>9} {t['equivalent']:>7} "
              f"{t['not run']:>8} {score:>7.1%}")
    score = total_killed / total_judged if total_judged else float("nan")
    print(f"{'all':<28} {total_killed:>7} {total_judged - total_killed:>9} "
          f"{len(skip):>7} {'':>8} {score:>7.1%}   goal ≥ {GOAL:.0%}")
    if fraction is not None:
        chosen = sample(fraction)
        print(f"\nseeded random sample of {fraction:.0%} of each module's mutants:")
        print(f"{'module':<28} {'sampled':>8} {'judged':>7} {'killed':>7} {'score':>7}  95% CI")
        for mod in sorted(tally):
            names = [n for n in chosen if module(n) == mod and n not in skip]
            judged = [n for n in names if outcome.get(n) in KILLED | {"survived", "no tests"}]
            killed = sum(outcome[n] in KILLED for n in judged)
            low, high = wilson(killed, len(judged))
            score = killed / len(judged) if judged else math.nan
            print(f"{mod:<28} {len(names):>8} {len(judged):>7} {killed:>7} {score:>7.1%}  "
                  f"{low:.0%}–{high:.0%}")
    for mod in sorted(survivors):
        print(f"\nsurvivors in {mod} (see: python -m mutmut show NAME):")
        for name in sorted(survivors[mod]):
            print(f"  {name}")
    return score


def _forget(which: Callable[[str, int | None], bool]) -> int:
    """Forget the result of every mutant ``which(name, exit code)`` selects (mutmut then
    tests it again); how many were forgotten."""
    reset = 0
    for meta in (ROOT / "mutants" / "sim").rglob("*.py.meta"):
        data = json.loads(meta.read_text(encoding="utf-8"))
        codes = data.get("exit_code_by_key", {})
        for name, code in codes.items():
            if code is not None and which(name, code):
                codes[name] = None
                reset += 1
        meta.write_text(json.dumps(data), encoding="utf-8")
    return reset


def retest_survivors(modules: list[str]) -> int:
    """Forget the survivors' results of ``modules`` (all when empty), so the next run tests
    them again against the tests added since (mutmut re-runs only mutants without a result
    or whose function changed), and forget which tests cover which function (mutmut maps
    tests once; new tests are only run for a mutant once it maps them again). Returns how
    many were reset."""
    (ROOT / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    wanted = {f"sim.{m.removeprefix('sim.')}" for m in modules}
    # 0: the tests passed; 5 and 33: no test covered it (new tests may now)
    return _forget(lambda name, code: code in (0, 5, 33)
                   and (not wanted or module(name) in wanted))


def retest_sample(fraction: float, modules: list[str]) -> int:
    """Forget the results of the sampled mutants of ``modules`` (all when empty), so that
    one run on a quiet machine judges them all again. Returns how many were reset."""
    chosen = sample(fraction, modules)
    return _forget(lambda name, _: name in chosen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--children", type=int, default=2)
    parser.add_argument("--report", action="store_true", help="only print the score")
    parser.add_argument("--retest-survivors", action="store_true",
                        help="test the surviving mutants again (after adding tests)")
    parser.add_argument("--retest-sample", action="store_true",
                        help="judge every sampled mutant again (with --sample)")
    parser.add_argument("--sample", type=float, default=None, metavar="F",
                        help="run (and score) a seeded random share F of each module's mutants")
    parser.add_argument("modules", nargs="*", help="e.g. stats metrics model.relief (all)")
    args = parser.parse_args()
    if args.sample is not None and not 0 < args.sample <= 1:
        parser.error("--sample: a share between 0 and 1")
    if args.retest_survivors:
        print(f"{retest_survivors(args.modules)} survivors will be tested again")
    if args.retest_sample:
        if args.sample is None:
            parser.error("--retest-sample needs --sample F")
        print(f"{retest_sample(args.sample, args.modules)} sampled mutants will be judged again")
    if not args.report:
        run(args.minutes, args.children, args.modules, args.sample)
    report(args.sample)


if __name__ == "__main__":
    main()
