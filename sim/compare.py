"""Summaries of an experiment: per configuration and KPI, intervals, paired differences
against the baseline placement, and the probability of each placement being best."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from sim.batch import ExperimentRun, load_results
from sim.experiment import censored_mean, replication_values
from sim.files import atomic_write_bytes, register
from sim.results import write_json, write_tables
from sim.run import run_replication, save_run
from sim.stats import bootstrap_ci, p_best, paired_difference, t_ci
from sim.world import build_world

__all__ = ["SUMMARY_COLUMNS", "finish_experiment", "summarise"]

SUMMARY_COLUMNS = (
    "config", "placement", "policy", "variant", "kpi", "target", "n", "mean", "ci_low",
    "ci_high", "share_within", "share_ci_low", "share_ci_high", "pass_rate", "diff_mean",
    "diff_ci_low", "diff_ci_high", "p_best")


def summarise(run: ExperimentRun, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per configuration × KPI with intervals, paired differences and P(best)."""
    experiment = run.experiment
    kpis = tables["kpis"]
    meta = {c.id: c for c in run.configs}
    baseline = {(c.policy, c.variant): c.id for c in run.configs
                if c.placement == experiment.baseline_name}
    rows = []
    for kpi_name in dict.fromkeys(kpis.kpi):
        values = replication_values(kpis, experiment, kpi_name)
        by_config = {cid: v.set_index("replication").value for cid, v in values.groupby("config")}
        best = _p_best(run, by_config) if kpi_name == experiment.kpi else {}
        target = float(kpis[kpis.kpi == kpi_name].target.iloc[0])
        for cid, config in meta.items():
            sub = kpis[(kpis.config == cid) & (kpis.kpi == kpi_name) & (kpis.n > 0)]
            mean = t_ci(censored_mean(sub))
            share = bootstrap_ci(sub.share_within.to_numpy())
            base_id = baseline.get((config.policy, config.variant))
            diff = _paired(by_config.get(cid), by_config.get(base_id))
            rows.append({
                "config": cid, "placement": config.placement, "policy": config.policy,
                "variant": config.variant, "kpi": kpi_name, "target": target, "n": mean.n,
                "mean": mean.mean, "ci_low": mean.low, "ci_high": mean.high,
                "share_within": share.mean, "share_ci_low": share.low,
                "share_ci_high": share.high,
                "pass_rate": float(sub.passed.astype(float).mean()) if len(sub) else math.nan,
                "diff_mean": diff.mean, "diff_ci_low": diff.low, "diff_ci_high": diff.high,
                "p_best": best.get(cid, math.nan)})
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def _paired(values: pd.Series | None, baseline: pd.Series | None):  # type: ignore[no-untyped-def]
    if values is None or baseline is None:
        return t_ci(np.array([]))
    joined = pd.concat([values, baseline], axis=1, join="inner").dropna()
    return paired_difference(joined.iloc[:, 0].to_numpy(), joined.iloc[:, 1].to_numpy())


def _p_best(run: ExperimentRun, by_config: dict[str, pd.Series]) -> dict[str, float]:
    """P(best) among placements, separately within each policy × variant."""
    out: dict[str, float] = {}
    groups: dict[tuple[str, str], list[str]] = {}
    for c in run.configs:
        if c.id in by_config:
            groups.setdefault((c.policy, c.variant), []).append(c.id)
    for ids in groups.values():
        joined = pd.concat([by_config[i] for i in ids], axis=1, join="inner").dropna()
        if joined.empty:
            continue
        out.update(p_best({i: joined.iloc[:, k].to_numpy() for k, i in enumerate(ids)},
                          lower_is_better=run.experiment.lower_is_better))
    return out


def finish_experiment(run: ExperimentRun, *, cache_dir: Path | None = None) -> pd.DataFrame:
    """Aggregate finished chunks into summary tables, one example run per configuration
    (replication 0, for maps and time lines), and mark the manifest complete."""
    tables = load_results(run.out, run.replications)
    summary = summarise(run, tables)
    write_tables(run.out, {"summary": summary, "replications": tables["kpis"],
                           "resources": tables["resources"]}, kind="experiment")
    for name in ("relief", "incidents"):
        atomic_write_bytes(run.out / f"{name}.parquet", tables[name].to_parquet(index=False))
    register(run.out, ["relief.parquet", "incidents.parquet", "runs"], "experiment")
    world = build_world(run.base, cache_dir=cache_dir)
    for config in run.configs:
        placed = world.with_scenario(config.scenario)
        result = run_replication(placed, seed=run.experiment.master_seed, replication=0)
        save_run(run.out / "runs" / config.id, placed, result)
    manifest_path = run.out / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest.update(complete=True, replications=run.replications,
                    kpi=run.experiment.kpi, statistic=run.experiment.statistic,
                    baseline=run.experiment.baseline_name)
    write_json(manifest_path, manifest)
    return summary
