"""Summaries of an experiment: per configuration and KPI, intervals, paired differences
against the baseline placement, and the probability of each placement being best."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from sim.batch import ExperimentRun, half_width, load_results
from sim.cost import pareto_front, scenario_cost
from sim.experiment import aep_weights, censored_mean, replication_values
from sim.files import register
from sim.results import write_examples, write_json, write_tables
from sim.run import run_outputs, run_replication
from sim.stats import bootstrap_ci, p_best, paired_difference, t_ci
from sim.world import build_world

__all__ = ["EXPECTED", "SUMMARY_COLUMNS", "finish_experiment", "summarise"]

SUMMARY_COLUMNS = (
    "config", "placement", "policy", "variant", "kpi", "target", "n", "mean", "ci_low",
    "ci_high", "share_within", "share_ci_low", "share_ci_high", "pass_rate", "diff_mean",
    "diff_ci_low", "diff_ci_high", "p_best", "same_as_best", "cost_wan", "cost_per_gain_wan",
    "pareto")
"""``same_as_best``: for the experiment's KPI, whether the configuration's paired difference
from the best of its policy × variant is not significant (its 95 % interval holds 0).
``cost_wan``: its depots' cost over the planning period; ``cost_per_gain_wan``: the extra
cost over the baseline per percentage point of share gained (or per hour of mean saved);
``pareto``: no other option of its policy × variant is as cheap and as good."""

EXPECTED = "expected"
"""The variant name of rows weighted over hazard variants by their annual exceedance."""


def summarise(run: ExperimentRun, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per configuration × KPI with intervals, paired differences and P(best)."""
    experiment = run.experiment
    kpis = tables["kpis"]
    meta = {c.id: c for c in run.configs}
    baseline = {(c.policy, c.variant): c.id for c in run.configs
                if c.placement == experiment.baseline_name}
    rows = []
    weights = aep_weights(experiment.variants)
    for kpi_name in dict.fromkeys(kpis.kpi):
        values = replication_values(kpis, experiment, kpi_name)
        by_config = {cid: v.set_index("replication").value for cid, v in values.groupby("config")}
        best = _p_best(run, by_config) if kpi_name == experiment.kpi else {}
        same = _same_as_best(run, by_config, best) if kpi_name == experiment.kpi else {}
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
                "p_best": best.get(cid, math.nan), "same_as_best": same.get(cid, False)})
        if weights:
            rows += _expected_rows(run, kpis, kpi_name, weights, target)
    return _with_costs(run, pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS)))


def _with_costs(run: ExperimentRun, summary: pd.DataFrame) -> pd.DataFrame:
    """Cost, cost per gain over the baseline and the Pareto front (of the experiment's KPI
    statistic vs cost, within each policy × variant)."""
    experiment = run.experiment
    cost = {c.placement: scenario_cost(c.scenario, experiment.cost_years) for c in run.configs}
    summary["cost_wan"] = summary.placement.map(cost).astype(float)
    share = experiment.statistic == "share_within"
    stat = "share_within" if share else "mean"
    summary["cost_per_gain_wan"] = np.nan
    summary["pareto"] = False
    base = cost.get(experiment.baseline_name, 0.0)
    gain = summary.diff_mean * (100.0 if share else -1.0)  # points gained / hours saved
    extra = summary.cost_wan - base
    summary.loc[gain > 0, "cost_per_gain_wan"] = (extra / gain)[gain > 0]
    chosen = summary.kpi == experiment.kpi
    for _, rows in summary[chosen].groupby(["policy", "variant"], sort=False):
        front = pareto_front(rows.cost_wan.tolist(), rows[stat].tolist(),
                             higher_is_better=share)
        summary.loc[rows.index, "pareto"] = front
    return summary


def _same_as_best(run: ExperimentRun, by_config: dict[str, pd.Series],
                  best: dict[str, float]) -> dict[str, bool]:
    """Per policy × variant, the configurations not significantly different from the one most
    often best (paired over common random numbers)."""
    out: dict[str, bool] = {}
    for ids in _groups(run, by_config):
        out.update(_ties(ids, by_config, best))
    return out


def _ties(ids: list[str], by_config: dict[str, pd.Series], best: dict[str, float]
          ) -> dict[str, bool]:
    """Which of ``ids`` are not significantly different from the one most often best (the
    first of them on a tie)."""
    top = max(ids, key=lambda i: (best.get(i, -1.0), -ids.index(i)))
    out = {}
    for i in ids:
        diff = _paired(by_config[i], by_config[top])
        out[i] = i == top or bool(diff.low <= 0.0 <= diff.high) or diff.n < 2 or bool(
            np.isclose(diff.low, 0.0) and np.isclose(diff.high, 0.0))
    return out


def _groups(run: ExperimentRun, by_config: dict[str, pd.Series]) -> list[list[str]]:
    """The configurations with values, by policy × variant (the options compared)."""
    groups: dict[tuple[str, str], list[str]] = {}
    for c in run.configs:
        if c.id in by_config:
            groups.setdefault((c.policy, c.variant), []).append(c.id)
    return list(groups.values())


def _expected_rows(run: ExperimentRun, kpis: pd.DataFrame, kpi_name: str,
                   weights: dict[str, float], target: float) -> list[dict]:
    """Rows weighted over the hazard variants (annual exceedance), per placement × policy:
    each replication's values combined with the weights (paired across variants by
    replication), then intervals, the paired difference from the baseline placement and
    P(best) as for one variant."""
    experiment = run.experiment
    sub = kpis[(kpis.kpi == kpi_name) & (kpis.n > 0)]
    meta = {c.id: c for c in run.configs}
    combined: dict[tuple[str, str], dict[str, pd.Series]] = {}
    for column in ("share_within", "mean", "passed", "value"):
        for cid, rows in sub.groupby("config"):
            c = meta[cid]
            series = rows.set_index("replication")
            value = (pd.Series(censored_mean(rows), index=series.index) if column == "mean"
                     else series[column].astype(float) if column != "value" else None)
            if column == "value":
                value = replication_values(rows, experiment, kpi_name).set_index(
                    "replication").value
            key = (c.placement, c.policy)
            part = value * weights[c.variant]
            got = combined.setdefault(key, {})
            got[column] = part if column not in got else got[column].add(part, fill_value=0)
    by_config = {f"{pl}__{po}__{EXPECTED}": parts["value"]
                 for (pl, po), parts in combined.items()}
    best = {}
    if kpi_name == experiment.kpi:
        for policy in {po for _, po in combined}:
            ids = [i for i in by_config if i.split("__")[1] == policy]
            best.update(p_best({i: by_config[i].to_numpy() for i in ids},
                               lower_is_better=experiment.lower_is_better))
    same: dict[str, bool] = {}
    for policy in {po for _, po in combined} if best else ():
        same.update(_ties([i for i in by_config if i.split("__")[1] == policy], by_config,
                          best))
    rows = []
    for (placement, policy), parts in combined.items():
        cid = f"{placement}__{policy}__{EXPECTED}"
        mean = t_ci(parts["mean"].to_numpy())
        share = bootstrap_ci(parts["share_within"].to_numpy())
        base = by_config.get(f"{experiment.baseline_name}__{policy}__{EXPECTED}")
        diff = _paired(by_config[cid], base)
        rows.append({
            "config": cid, "placement": placement, "policy": policy, "variant": EXPECTED,
            "kpi": kpi_name, "target": target, "n": mean.n, "mean": mean.mean,
            "ci_low": mean.low, "ci_high": mean.high, "share_within": share.mean,
            "share_ci_low": share.low, "share_ci_high": share.high,
            "pass_rate": float(parts["passed"].mean()), "diff_mean": diff.mean,
            "diff_ci_low": diff.low, "diff_ci_high": diff.high,
            "p_best": best.get(cid, math.nan), "same_as_best": same.get(cid, False)})
    return rows


def _paired(values: pd.Series | None, baseline: pd.Series | None):  # type: ignore[no-untyped-def]
    if values is None or baseline is None:
        return t_ci(np.array([]))
    joined = pd.concat([values, baseline], axis=1, join="inner").dropna()
    return paired_difference(joined.iloc[:, 0].to_numpy(), joined.iloc[:, 1].to_numpy())


def _p_best(run: ExperimentRun, by_config: dict[str, pd.Series]) -> dict[str, float]:
    """P(best) among placements, separately within each policy × variant."""
    out: dict[str, float] = {}
    for ids in _groups(run, by_config):
        joined = pd.concat([by_config[i] for i in ids], axis=1, join="inner").dropna()
        if joined.empty:
            continue
        out.update(p_best({i: joined.iloc[:, k].to_numpy() for k, i in enumerate(ids)},
                          lower_is_better=run.experiment.lower_is_better))
    return out


def finish_experiment(run: ExperimentRun, *, cache_dir: Path | None = None) -> pd.DataFrame:
    """Aggregate finished chunks into summary tables, one example run per configuration
    (replication 0, for maps and time lines), and mark the manifest complete."""
    tables = load_results(run.out, run.replications, tables=("kpis", "resources"))
    summary = summarise(run, tables)
    write_tables(run.out, {"summary": summary, "replications": tables["kpis"],
                           "resources": tables["resources"]}, kind="experiment")
    register(run.out, ["runs"], "experiment")
    world = build_world(run.base, cache_dir=cache_dir)
    examples = {}
    for config in run.configs:
        placed = world.with_scenario(config.scenario)
        result = run_replication(placed, seed=run.experiment.master_seed, replication=0)
        examples[config.id] = run_outputs(placed, result)
    write_examples(run.out / "runs", examples)
    manifest_path = run.out / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    seq = run.experiment.sequential
    manifest.update(complete=True, replications=run.replications,
                    kpi=run.experiment.kpi, statistic=run.experiment.statistic,
                    baseline=run.experiment.baseline_name,
                    precision={"half_width": half_width(run, run.replications),
                               "goal": seq.half_width if seq else None,
                               "max_replications": seq.max_replications if seq else None})
    write_json(manifest_path, manifest)
    return summary
