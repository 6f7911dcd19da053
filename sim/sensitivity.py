"""Which assumption matters: global sensitivity of the plan targets to an experiment's factors.

The factors (each a path with a range ``low``–``high``) span the space; SALib samples it —
Morris trajectories (elementary effects: μ*, σ) or a Saltelli/Sobol' sample (first-order and
total indices) — and every sample point is simulated for the baseline placement over
``replications`` replications with common random numbers (the same replications at every
point, so only the factors move the result). The output per KPI is its share of people
(incidents) within the target, averaged over the replications; the indices come with 95 %
confidence intervals (SALib's bootstrap).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import ReliefsimError, ScenarioError
from sim.experiment import Experiment, _apply_placement, check_factors
from sim.metrics import kpis as kpis_of
from sim.run import run_replication
from sim.scenario import Scenario, parse_scenario
from sim.uncertainty import rounded, set_path
from sim.world import build_world

__all__ = ["METHODS", "Sensitivity", "sensitivity"]

METHODS = ("morris", "sobol")
MORRIS_LEVELS = 4
"""Grid levels of a Morris trajectory (SALib's default)."""
RESAMPLES = 1000
"""Bootstrap resamples of SALib's confidence intervals."""


@dataclass
class Sensitivity:
    """Indices (long table: kpi, factor, index, value, conf) and the sample with its outputs."""

    method: str
    indices: pd.DataFrame
    sample: pd.DataFrame


def sensitivity(experiment: Experiment, base: Scenario, *, method: str = "morris",
                samples: int = 10, replications: int = 5, cache_dir: Path | None = None,
                origin: str = "<experiment>",
                progress: Callable[[int, int], None] | None = None) -> Sensitivity:
    """Simulate the sample of ``method`` over the experiment's factors and analyse it."""
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    if method not in METHODS:
        raise ReliefsimError(f"--method: {method!r} — expected one of {list(METHODS)}")
    factors = experiment.factors
    if not factors:
        raise ScenarioError(f"{origin}: factors: none; sensitivity needs factors with a range "
                            "(path, low, high)")
    for i, f in enumerate(factors):
        if f.low is None or f.high is None:
            raise ScenarioError(f"{origin}: factors[{i}] ({f.label}): a range low–high is "
                                "needed for sensitivity (values are grid levels)")
    problem = {"num_vars": len(factors), "names": [f.label for f in factors],
               "bounds": [[float(f.low or 0), float(f.high or 0)] for f in factors]}
    seed = int(experiment.master_seed % 2**32)
    if method == "morris":
        x = morris_sample.sample(problem, N=samples, num_levels=MORRIS_LEVELS, seed=seed)
    else:
        x = sobol_sample.sample(problem, N=_power_of_two(samples), calc_second_order=False,
                                seed=seed)
    placement = next(p for p in experiment.placements if p.name == experiment.baseline_name)
    placed = _apply_placement(base, placement, f"{origin}: placements")
    check_factors(factors, placed, origin)
    world = build_world(base, cache_dir=cache_dir)
    outputs = _simulate(world, placed, factors, x, replications, experiment.master_seed,
                        origin, progress)
    rows = []
    for kpi, y in outputs.items():
        if np.ptp(y) == 0:  # nothing moves it: every index is zero
            for f in factors:
                for index in (("mu_star", "sigma") if method == "morris" else ("S1", "ST")):
                    rows.append((kpi, f.label, index, 0.0, 0.0))
            continue
        if method == "morris":
            got = morris_analyze.analyze(problem, x, y, conf_level=0.95,
                                         num_resamples=RESAMPLES, num_levels=MORRIS_LEVELS,
                                         seed=seed)
            for k, f in enumerate(factors):
                rows.append((kpi, f.label, "mu_star", float(got["mu_star"][k]),
                             float(got["mu_star_conf"][k])))
                rows.append((kpi, f.label, "sigma", float(got["sigma"][k]), np.nan))
        else:
            got = sobol_analyze.analyze(problem, y, calc_second_order=False, conf_level=0.95,
                                        num_resamples=RESAMPLES, seed=seed)
            for k, f in enumerate(factors):
                rows.append((kpi, f.label, "S1", float(got["S1"][k]), float(got["S1_conf"][k])))
                rows.append((kpi, f.label, "ST", float(got["ST"][k]), float(got["ST_conf"][k])))
    indices = pd.DataFrame(rows, columns=["kpi", "factor", "index", "value", "conf"])
    sample = pd.DataFrame(x, columns=[f.label for f in factors]).assign(
        **{f"{kpi}_share_within": y for kpi, y in outputs.items()})
    return Sensitivity(method, indices, sample)


def _power_of_two(n: int) -> int:
    return 1 << max(0, int(n - 1).bit_length())


def _simulate(world: Any, placed: Scenario, factors: list[Any], x: np.ndarray,
              replications: int, seed: int, origin: str,
              progress: Callable[[int, int], None] | None) -> dict[str, np.ndarray]:
    """Per KPI, the share within target at each sample point (mean over replications)."""
    data = placed.model_dump(mode="json")
    out: dict[str, list[float]] = {}
    total = len(x) * replications
    for i, row in enumerate(x):
        point = _with(data, factors, row)
        try:
            scenario = parse_scenario(point, origin=f"{origin}: sample point {i + 1}")
        except ScenarioError as exc:
            raise ScenarioError(f"{exc}\n(the factors' ranges reach values the scenario "
                                "cannot take)") from None
        variant = world.with_scenario(scenario)
        shares: dict[str, list[float]] = {}
        for r in range(replications):
            result = run_replication(variant, seed=seed, replication=r)
            for k in kpis_of(result.records, variant.scenario):
                if k.n > 0:
                    shares.setdefault(k.kpi, []).append(k.share_within)
            if progress is not None:
                progress(i * replications + r + 1, total)
        for kpi, values in shares.items():
            out.setdefault(kpi, []).append(float(np.mean(values)))
    n = len(x)
    return {kpi: np.asarray(v) for kpi, v in out.items() if len(v) == n}


def _with(data: dict[str, Any], factors: list[Any], row: np.ndarray) -> dict[str, Any]:
    point = copy.deepcopy(data)
    for f, value in zip(factors, row, strict=True):
        set_path(point, f.path, rounded(f.path, float(value)))
        point.get("uncertain", {}).pop(f.path, None)  # the factor fixes it at this point
    return point
